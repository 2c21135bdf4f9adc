//! What to run: the entry point and every definition it may need, by hash.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use tel_hash::CodeHash;
use tel_hash::core::{CoreDef, Ref, Type};
use tel_store::Store;
use tel_vm::{HostEffect, StoredDef, Value};

use crate::{Analysis, Definition, Diagnostic, FileId, Severity};

/// Why a run stopped before it started.
#[derive(Debug)]
pub enum Stop {
    /// The program or the request cannot run (an unknown entry, a non-host effect, bad
    /// arguments): the user's program or request is at fault.
    Refused(String),
    /// The sources have errors; `message` sums them up and `diagnostics` are the errors.
    Diagnostics { message: String, diagnostics: Vec<Diagnostic> },
    /// The environment or the invocation is at fault (no codebase, an unreadable file).
    Usage(String),
    /// The RISC-V backend cannot compile the program (a construct outside its subset):
    /// [`super::riscv::refusal`] places it in the sources.
    NotCompiled(tel_riscv::CompileError),
}

impl From<String> for Stop {
    fn from(e: String) -> Stop {
        Stop::Usage(e)
    }
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Refused(m) | Stop::Usage(m) | Stop::Diagnostics { message: m, .. } => {
                f.write_str(m)
            }
            Stop::NotCompiled(e) => write!(f, "cannot run on RISC-V: {e}"),
        }
    }
}

fn cancelled(_: crate::Cancelled) -> String {
    "analysis was cancelled".to_owned()
}

/// The code of a run: every definition it may need, by hash, and its entry point.
#[derive(Clone, Debug)]
pub struct Code {
    pub defs: HashMap<CodeHash, StoredDef>,
    pub entry: CodeHash,
    /// Qualified names (`treasury::fee`), for messages and stack traces.
    pub names: HashMap<CodeHash, String>,
}

/// The codebase a command uses: `explicit`, else `TEL_CODEBASE`, else the one of the project
/// holding `start` (the program's file or folder). `None` outside any project. Relative paths
/// are taken from the working directory.
pub fn codebase_for(explicit: Option<&Path>, start: &Path) -> Result<Option<PathBuf>, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the working directory: {e}"))?;
    // `cwd.join(".")` would show as `/proj/./.tel/…`.
    let join = |p: &Path| -> PathBuf {
        cwd.join(p).components().filter(|c| *c != std::path::Component::CurDir).collect()
    };
    if let Some(path) = explicit {
        return Ok(Some(join(path)));
    }
    if let Some(value) = std::env::var_os(tel_store::location::ENV_VAR).filter(|v| !v.is_empty()) {
        return Ok(Some(join(Path::new(&value))));
    }
    let start = join(start);
    let start = if start.is_dir() { start } else { start.parent().unwrap_or(&cwd).to_path_buf() };
    Ok(tel_store::location::find_project_root(&start)
        .map(|root| root.join(tel_store::location::DEFAULT_RELATIVE)))
}

impl Code {
    pub fn name(&self, hash: &CodeHash) -> String {
        self.names.get(hash).cloned().unwrap_or_else(|| hash.to_string())
    }

    /// The code of `entry` in the sources `analysis` holds: a name defined in one of `scope`
    /// (the files the user named), or `module::name` anywhere. Definitions the sources name
    /// only by `#hash` come from `codebase`. Sources with errors are refused with them;
    /// `what` names the program in messages (a path, a file name).
    pub fn from_analysis(
        analysis: &Analysis,
        scope: &[FileId],
        entry: &str,
        codebase: Option<&Path>,
        what: &str,
    ) -> Result<Code, Stop> {
        let mut errors = Vec::new();
        for file in analysis.files() {
            let diagnostics = analysis.diagnostics(file).map_err(cancelled)?;
            errors.extend(diagnostics.into_iter().filter(|d| d.severity == Severity::Error));
        }
        if !errors.is_empty() {
            let files: HashSet<FileId> = errors.iter().map(|d| d.file).collect();
            return Err(Stop::Diagnostics {
                message: format!(
                    "cannot run {what}: {} error(s) in {} file(s) (see `tel check`)",
                    errors.len(),
                    files.len()
                ),
                diagnostics: errors,
            });
        }

        // Every definition of the project by hash: the entry point's dependencies are looked
        // up here, and those no file defines (`#hash` references) in the codebase.
        let mut by_hash: HashMap<CodeHash, (FileId, Definition)> = HashMap::new();
        let mut candidates = Vec::new();
        let scope: HashSet<FileId> = scope.iter().copied().collect();
        for file in analysis.files() {
            for def in analysis.definitions(file).map_err(cancelled)? {
                let matches = match entry.contains("::") {
                    true => def.qualified() == entry,
                    false => scope.contains(&file) && def.name == entry,
                };
                if matches {
                    candidates.push(def.clone());
                }
                if let Some(h) = def.hash {
                    by_hash.entry(h).or_insert((file, def));
                }
            }
        }
        candidates.dedup_by(|a, b| a.qualified() == b.qualified());
        let entry_def = match candidates.as_slice() {
            [one] => one.clone(),
            [] => {
                return Err(Stop::Refused(format!(
                    "no definition `{entry}` in {what} (--entry names the function to run)"
                )));
            }
            several => {
                let names: Vec<String> = several.iter().map(Definition::qualified).collect();
                return Err(Stop::Refused(format!(
                    "`{entry}` is defined in several modules ({}): pick one with --entry {}",
                    names.join(", "),
                    names[0]
                )));
            }
        };
        let entry_hash = entry_def.hash.ok_or_else(|| {
            Stop::Refused(format!("{} has no hash (see `tel check`)", entry_def.qualified()))
        })?;

        let mut code = Code { defs: HashMap::new(), entry: entry_hash, names: HashMap::new() };
        let mut queue = vec![entry_hash];
        let mut seen = HashSet::new();
        let mut from_codebase = Vec::new();
        while let Some(hash) = queue.pop() {
            if !seen.insert(hash) {
                continue;
            }
            let Some((file, def)) = by_hash.get(&hash) else {
                // Named by `#hash` in the sources: it is in the codebase (the checker resolved
                // it there), or it is a host effect the VM knows.
                from_codebase.push(hash);
                continue;
            };
            let member = analysis
                .hashed(*file, &def.name)
                .map_err(cancelled)?
                .ok_or_else(|| format!("{}: the engine gave no hash", def.qualified()))?;
            let core =
                tel_hash::decode(&member.bytes).map_err(|e| format!("{}: {e}", def.qualified()))?;
            queue.extend(tel_hash::hash_deps(&core));
            let component = if member.hash == tel_hash::hash_bytes(&member.bytes) {
                None
            } else {
                let hashed = analysis
                    .component(*file, &def.name)
                    .map_err(cancelled)?
                    .ok_or_else(|| format!("{}: its component has no hash", def.qualified()))?;
                queue.extend(hashed.members.iter().map(|m| m.hash));
                hashed.component
            };
            code.names.insert(hash, def.qualified());
            code.defs
                .insert(hash, StoredDef { def: core, component, name: Some(def.name.clone()) });
        }
        let wanted: Vec<CodeHash> =
            from_codebase.into_iter().filter(|h| HostEffect::from_hash(h).is_none()).collect();
        if !wanted.is_empty() {
            let Some(path) = codebase.filter(|p| p.exists()) else {
                return Err(Stop::Refused(format!(
                    "{} refers to {} by hash, and there is no codebase to load it from",
                    entry_def.qualified(),
                    wanted[0]
                )));
            };
            let store = Store::open_existing(path).map_err(|e| e.to_string())?;
            for hash in wanted {
                code.add_closure(&store, &hash)?;
            }
        }
        Ok(code)
    }

    /// The code of `#PREFIX` in the codebase at `codebase`.
    pub fn from_codebase(prefix: &str, codebase: Option<&Path>) -> Result<Code, Stop> {
        let Some(path) = codebase else {
            return Err(Stop::Usage(format!(
                "{prefix}: no codebase to look it up in: run inside a TEL project, or set \
                 TEL_CODEBASE (or --codebase) to the codebase file"
            )));
        };
        let store = Store::open_existing(path).map_err(|e| e.to_string())?;
        let entry = match store.resolve_prefix(prefix) {
            Ok(h) => h,
            Err(
                e @ (tel_store::Error::HashNotFound { .. }
                | tel_store::Error::AmbiguousHash { .. }
                | tel_store::Error::NoSuchMember { .. }),
            ) => return Err(Stop::Refused(e.to_string())),
            Err(e) => return Err(Stop::Usage(e.to_string())),
        };
        let mut code = Code { defs: HashMap::new(), entry, names: HashMap::new() };
        code.add_closure(&store, &entry)?;
        Ok(code)
    }

    /// Adds a stored definition and everything it needs, with their names.
    fn add_closure(&mut self, store: &Store, hash: &CodeHash) -> Result<(), Stop> {
        let closure = store.load_closure(hash).map_err(|e| e.to_string())?;
        for stored in closure {
            if self.defs.contains_key(&stored.hash) {
                continue;
            }
            let def = tel_hash::decode(&stored.canonical)
                .map_err(|e| format!("{} in {}: {e}", stored.hash, store.path().display()))?;
            let names = store
                .view(&format!("#{}", stored.hash.to_base32hex()))
                .map_err(|e| e.to_string())?
                .names;
            let short = names.first().map(|n| n.rsplit("::").next().unwrap_or(n).into());
            if let Some(name) = names.first() {
                self.names.insert(stored.hash, name.clone());
            }
            self.defs.insert(
                stored.hash,
                StoredDef { def, component: stored.component.map(|c| c.component), name: short },
            );
        }
        Ok(())
    }

    /// What the entry point must be before anything runs: a function whose effect row holds
    /// only host effects. Returns its parameter types.
    pub fn check_entry(&self) -> Result<Vec<Type>, Stop> {
        let name = self.name(&self.entry);
        let stored = self
            .defs
            .get(&self.entry)
            .ok_or_else(|| Stop::Usage(format!("{name}: its definition was not loaded")))?;
        let CoreDef::Fn { params, effects, .. } = &stored.def else {
            let kind = stored.def.kind().as_str();
            return Err(Stop::Refused(format!(
                "{name} is {} {kind}, not a function: only a function can be run",
                article(kind),
            )));
        };
        for effect in effects {
            let hash = match effect {
                Ref::Hash(h) => *h,
                Ref::Member(i) => match stored.component {
                    Some(c) => tel_hash::member_hash(&c, *i),
                    None => continue,
                },
                Ref::Def(_) | Ref::Builtin(_) => continue,
            };
            if HostEffect::from_hash(&hash).is_some() {
                continue;
            }
            let effect_name = match self.defs.get(&hash).map(|d| &d.def) {
                Some(CoreDef::Effect { name, .. }) => name.to_string(),
                _ => hash.to_string(),
            };
            let host: Vec<&str> = HostEffect::ALL.iter().map(|e| e.name()).collect();
            return Err(Stop::Refused(format!(
                "cannot run {name}: its effect row holds `{effect_name}`, which is not a host \
                 effect; a program's own effects must be handled inside it (the host effects \
                 are {})",
                host.join(", ")
            )));
        }
        Ok(params.clone())
    }

    /// Whether the entry point can run at all (what the Run lens asks before it offers).
    pub fn is_runnable(&self) -> bool {
        self.check_entry().is_ok()
    }

    /// The entry point's arguments from a JSON array (`None`: no arguments), checked against
    /// its parameter types.
    pub fn decode_args(&self, json: Option<&str>) -> Result<Vec<Value>, Stop> {
        let params = self.check_entry()?;
        match (json, params.len()) {
            (None, 0) => Ok(Vec::new()),
            (None, n) => Err(Stop::Refused(format!(
                "{} takes {n} argument(s): pass them with --args '[…]' (a JSON array)",
                self.name(&self.entry)
            ))),
            (Some(text), _) => tel_vm::json::decode_args(&self.defs, &params, text)
                .map_err(|e| Stop::Refused(format!("--args: {e}"))),
        }
    }
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}
