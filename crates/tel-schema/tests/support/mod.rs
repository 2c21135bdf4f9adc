//! Loading TEL source into a [`Code`] through the engine (tel-ide), as `tel schema` does
//! for its own arguments.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tel_hash::CodeHash;
use tel_hash::core::DefKind;
use tel_ide::{AnalysisHost, Severity};
use tel_schema::{Code, Reads, SchemaVersion};
use tel_vm::StoredDef;

/// A checked, hashed program.
pub struct Program {
    pub code: Code,
    /// Every definition by simple name (`Vault`, `up`).
    pub by_name: BTreeMap<String, CodeHash>,
    /// The program's functions (what reads are looked for in).
    pub functions: Vec<CodeHash>,
}

impl Program {
    pub fn hash(&self, name: &str) -> CodeHash {
        *self.by_name.get(name).unwrap_or_else(|| panic!("no definition `{name}`"))
    }

    pub fn schema(&self, name: &str) -> SchemaVersion {
        self.code.schema(&self.hash(name)).unwrap()
    }
}

/// Checks and hashes `text` as one module; panics with the diagnostics if it has errors.
pub fn load(text: &str) -> Program {
    load_files(&[("test.tel", text)])
}

/// A project of several modules (`(path, text)`).
pub fn load_files(files: &[(&str, &str)]) -> Program {
    let mut host = AnalysisHost::default();
    let root = (files.len() > 1).then(|| PathBuf::from("/project"));
    let files: Vec<(PathBuf, String)> =
        files.iter().map(|(p, t)| (PathBuf::from(p), (*t).to_owned())).collect();
    let ids = host.add_project(root, files);
    let analysis = host.analysis();
    let mut errors = Vec::new();
    for &file in &ids {
        for d in analysis.diagnostics(file).unwrap() {
            if d.severity == Severity::Error {
                errors.push(format!("{}: {}", d.code, d.message));
            }
        }
    }
    assert!(errors.is_empty(), "the test program has errors:\n{}", errors.join("\n"));
    let mut program =
        Program { code: Code::default(), by_name: BTreeMap::new(), functions: Vec::new() };
    for file in analysis.files() {
        for def in analysis.definitions(file).unwrap() {
            let member = analysis.hashed(file, &def.name).unwrap().expect("hashed");
            let core = tel_hash::decode(&member.bytes).unwrap();
            let component = if member.hash == tel_hash::hash_bytes(&member.bytes) {
                None
            } else {
                analysis.component(file, &def.name).unwrap().and_then(|c| c.component)
            };
            if def.kind == DefKind::Fn && ids.contains(&file) {
                program.functions.push(member.hash);
            }
            program.by_name.insert(def.name.to_string(), member.hash);
            program.code.insert(
                member.hash,
                StoredDef { def: core, component, name: Some(def.name.clone()) },
                Some(def.qualified()),
            );
        }
    }
    program
}

/// Reads a file of the repository's fixtures.
pub fn fixture(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

pub fn fixture_json(rel: &str) -> serde_json::Value {
    serde_json::from_str(&fixture(rel)).unwrap()
}

/// Compares `old_name` of `old` with `new_name` of `new`, the reads taken from both
/// programs' functions (what `tel schema diff` does for two sources).
pub fn evolve(
    old: &Program,
    old_name: &str,
    new: &Program,
    new_name: &str,
) -> tel_schema::Evolution {
    let mut all = old.code.clone();
    all.extend(&new.code);
    let fns = old.functions.iter().chain(&new.functions).copied();
    let reads = Reads::of_functions(&all, fns);
    tel_schema::compare(&old.code, &old.schema(old_name), &new.code, &new.schema(new_name), &reads)
}
