//! Shared by the tests and the benchmarks: TEL source to loadable definitions, the way
//! `tel store add` produces them (tel-hir's project, tel-hash's components).

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::collections::HashMap;
use tel_hash::CodeHash;
use tel_vm::{Program, StoredDef};

/// Every definition of `src` and the prelude, by hash, as the store would hand them out;
/// and the hash of `main`.
pub fn stored(src: &str) -> (HashMap<CodeHash, StoredDef>, CodeHash) {
    let project = tel_hir::project::Project::new([("test.tel".to_string(), src.to_string())]);
    let errors: Vec<String> = project
        .diagnostics()
        .into_values()
        .flatten()
        .filter(|d| d.severity == tel_hir::diagnostics::Severity::Error)
        .map(|d| d.message)
        .collect();
    assert!(errors.is_empty(), "the test program has errors: {errors:?}");
    let defs: Vec<_> =
        project.core_defs().into_iter().map(|(n, d)| (n, d.expect("lowers"))).collect();
    let components = tel_hash::hash_program_components(&defs, &|_| None).expect("hashes");
    let mut out = HashMap::new();
    let mut main = None;
    for c in components {
        for m in c.members {
            let def = tel_hash::decode(&m.bytes).expect("decodes its own bytes");
            let short = m.name.rsplit("::").next().unwrap_or(&m.name).into();
            if m.name.ends_with("::main") && !m.name.starts_with("prelude") {
                main = Some(m.hash);
            }
            out.insert(m.hash, StoredDef { def, component: c.component, name: Some(short) });
        }
    }
    (out, main.expect("the program has a main"))
}

pub fn load(src: &str) -> Program {
    let (defs, main) = stored(src);
    Program::load(&defs, main).expect("loads")
}

/// Records `src`'s `main` under the host file `host` (JSON), snapshotting every
/// `snapshot_every` instructions: what the trace and replay tests start from.
#[allow(dead_code)] // each test binary compiles this module; only some record
pub fn recorded(src: &str, host: &str, snapshot_every: u64) -> (Program, tel_vm::Recording) {
    let program = load(src);
    let file = tel_vm::hostfile::HostFile::parse(host).unwrap();
    let mut meta = tel_vm::trace::RunMeta::new(&program);
    meta.clock_start = file.clock_start;
    meta.snapshot_every = snapshot_every;
    let mut host = file.host();
    meta.host = Some(file);
    let rec = tel_vm::trace::record(&program, meta, &mut host);
    (program, rec)
}
