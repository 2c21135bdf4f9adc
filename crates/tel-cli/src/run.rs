//! `tel run`: load a definition and everything it needs (from source, as `tel check` and
//! `tel hash` see it, or from the codebase by hash), refuse what cannot run, run it in the
//! sandbox the flags describe while recording its trace, print the value, and keep the trace
//! (and the memo cache) in the codebase. docs/cli.md is the reference.

use std::collections::{HashMap, HashSet};

use rustc_hash::FxHashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use serde_json::{Value as Json, json};
use tel_hash::CodeHash;
use tel_hash::core::{CoreDef, Ref, Type};
use tel_ide::{Analysis, Definition, FileId, Severity};
use tel_store::Store;
use tel_vm::memo::{MemoCache, MemoKey};
use tel_vm::trace::{Event, ExportedRun, RunMeta};
use tel_vm::{
    HostEffect, HostFile, Limits, Location, Program, RuntimeError, SecuritySandbox, StoredDef,
    Value,
};

use crate::{exit, load, render, trace};

#[derive(Args)]
pub struct RunArgs {
    /// A `.tel` file, a project folder, or `#PREFIX` of a definition in the codebase.
    target: String,
    /// The function to run: a name of the file or folder (`main`), or `module::name`.
    #[arg(long, value_name = "NAME")]
    entry: Option<String>,
    /// The entry point's arguments, as a JSON array (docs/cli.md, "Values as JSON").
    #[arg(long, value_name = "JSON-ARRAY")]
    args: Option<String>,
    /// The host file: opening balances, price feeds, clock start, random seed.
    #[arg(long, value_name = "FILE")]
    host: Option<PathBuf>,
    /// At most N VM instructions [default: 100000000].
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// At most BYTES bytes of values built [default: 1073741824].
    #[arg(long, value_name = "BYTES")]
    memory: Option<u64>,
    /// At most this much wall-clock time (`500ms`, `2s`, `1min`, or `none`) [default: 1s].
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    /// The host effects the run may perform, separated by commas [default: all of them].
    #[arg(long, value_name = "E1,E2")]
    allow: Option<String>,
    /// Answer calls of pure functions from the memo cache kept in the codebase.
    #[arg(long)]
    memo: bool,
    /// Print `{"value", "run_id", "steps", "effects", "usage"}` instead of the value.
    #[arg(long)]
    json: bool,
    /// The codebase to read `#PREFIX` from and keep the trace in [default: $TEL_CODEBASE,
    /// else .tel/codebase.sqlite under the folder holding tel.toml].
    #[arg(long, alias = "store", value_name = "PATH")]
    codebase: Option<PathBuf>,
    /// Also write the trace, with the code it ran, to FILE (what `tel trace export` writes).
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
}

/// Why a command stopped before doing its job: `Refused` is about the program or the request
/// (exit 1), `Usage` about the command line or the environment (exit 2).
pub enum Stop {
    Refused(String),
    Usage(String),
}

impl From<String> for Stop {
    fn from(e: String) -> Stop {
        Stop::Usage(e)
    }
}

/// Reports a stop on stderr and gives its exit status.
pub fn stopped(stop: Stop) -> u8 {
    match stop {
        Stop::Refused(e) => {
            eprintln!("error: {e}");
            exit::FAILED
        }
        Stop::Usage(e) => {
            eprintln!("error: {e}");
            exit::USAGE
        }
    }
}

fn cancelled(_: tel_ide::Cancelled) -> String {
    "analysis was cancelled".to_owned()
}

// ------------------------------------------------------------------------ what to run

/// The code of a run: every definition it may need, by hash, and its entry point.
pub struct Code {
    pub defs: HashMap<CodeHash, StoredDef>,
    pub entry: CodeHash,
    /// Qualified names (`treasury::fee`), for messages and stack traces.
    pub names: HashMap<CodeHash, String>,
    /// The engine that loaded the sources, when they were: it maps a place of the running
    /// program (definition hash, expression id) back to a file and a range.
    pub analysis: Option<Analysis>,
}

impl Code {
    pub fn name(&self, hash: &CodeHash) -> String {
        self.names.get(hash).cloned().unwrap_or_else(|| hash.to_string())
    }
}

/// The codebase a command run in `cwd` uses: `--codebase`, else `TEL_CODEBASE`, else the one
/// of the project holding `start` (the program's folder). `None` outside any project.
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

/// The code of a `.tel` file or project folder, with `entry` (a name of the named files, or
/// `module::name` anywhere in the project) as the entry point. A project with errors is
/// refused with its diagnostics.
fn code_from_source(path: &Path, entry: &str, codebase: Option<&Path>) -> Result<Code, Stop> {
    let loaded = load::load_with(vec![path.to_path_buf()], codebase)?;
    let analysis = &loaded.analysis;
    let mut errors = Vec::new();
    for file in analysis.files() {
        let diagnostics = analysis.diagnostics(file).map_err(cancelled)?;
        errors.extend(diagnostics.into_iter().filter(|d| d.severity == Severity::Error));
    }
    if !errors.is_empty() {
        eprint!("{}", render::to_text(analysis, &errors));
        let files: HashSet<FileId> = errors.iter().map(|d| d.file).collect();
        return Err(Stop::Refused(format!(
            "cannot run {}: {} error(s) in {} file(s) (see `tel check`)",
            path.display(),
            errors.len(),
            files.len()
        )));
    }

    // Every definition of the project by hash: the entry point's dependencies are looked up
    // here, and those no file defines (`#hash` references) in the codebase.
    let mut by_hash: HashMap<CodeHash, (FileId, Definition)> = HashMap::new();
    let mut candidates = Vec::new();
    let reported: HashSet<FileId> = loaded.reported.iter().copied().collect();
    for file in analysis.files() {
        for def in analysis.definitions(file).map_err(cancelled)? {
            let matches = match entry.contains("::") {
                true => def.qualified() == entry,
                false => reported.contains(&file) && def.name == entry,
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
                "no definition `{entry}` in {} (--entry names the function to run)",
                path.display()
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

    let mut code =
        Code { defs: HashMap::new(), entry: entry_hash, names: HashMap::new(), analysis: None };
    let mut queue = vec![entry_hash];
    let mut seen = HashSet::new();
    let mut from_codebase = Vec::new();
    while let Some(hash) = queue.pop() {
        if !seen.insert(hash) {
            continue;
        }
        let Some((file, def)) = by_hash.get(&hash) else {
            // Named by `#hash` in the sources: it is in the codebase (the checker resolved it
            // there), or it is a host effect the VM knows.
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
        code.defs.insert(hash, StoredDef { def: core, component, name: Some(def.name.clone()) });
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
            add_closure(&store, &hash, &mut code)?;
        }
    }
    code.analysis = Some(loaded.analysis);
    Ok(code)
}

/// Adds a stored definition and everything it needs, with their names, to `code`.
fn add_closure(store: &Store, hash: &CodeHash, code: &mut Code) -> Result<(), Stop> {
    let closure = store.load_closure(hash).map_err(|e| e.to_string())?;
    for stored in closure {
        if code.defs.contains_key(&stored.hash) {
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
            code.names.insert(stored.hash, name.clone());
        }
        code.defs.insert(
            stored.hash,
            StoredDef { def, component: stored.component.map(|c| c.component), name: short },
        );
    }
    Ok(())
}

/// The sources of the project holding the working directory, loaded to place the frames
/// of a stack trace of a run by hash: if they still define a frame's definition, its
/// position is known. Best effort: a project that cannot be loaded just gives no positions.
fn project_sources() -> Option<Analysis> {
    let cwd = std::env::current_dir().ok()?;
    let root = tel_store::location::find_project_root(&cwd)?;
    load::load(vec![root]).ok().map(|loaded| loaded.analysis)
}

/// The code of `#PREFIX` in the codebase.
fn code_from_codebase(prefix: &str, codebase: Option<&Path>) -> Result<Code, Stop> {
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
    let mut code = Code { defs: HashMap::new(), entry, names: HashMap::new(), analysis: None };
    add_closure(&store, &entry, &mut code)?;
    Ok(code)
}

/// What the entry point must be before anything runs: a function whose effect row holds
/// only host effects. Returns its parameter types.
fn check_entry(code: &Code) -> Result<Vec<Type>, Stop> {
    let name = code.name(&code.entry);
    let stored = code
        .defs
        .get(&code.entry)
        .ok_or_else(|| Stop::Usage(format!("{name}: its definition was not loaded")))?;
    let CoreDef::Fn { params, effects, .. } = &stored.def else {
        return Err(Stop::Refused(format!(
            "{name} is {} {}, not a function: only a function can be run",
            article(stored.def.kind().as_str()),
            stored.def.kind().as_str()
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
        let effect_name = match code.defs.get(&hash).map(|d| &d.def) {
            Some(CoreDef::Effect { name, .. }) => name.to_string(),
            _ => hash.to_string(),
        };
        let host: Vec<&str> = HostEffect::ALL.iter().map(|e| e.name()).collect();
        return Err(Stop::Refused(format!(
            "cannot run {name}: its effect row holds `{effect_name}`, which is not a host \
             effect; a program's own effects must be handled inside it (the host effects are {})",
            host.join(", ")
        )));
    }
    Ok(params.clone())
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}

// ------------------------------------------------------------------------ settings

/// `500ms`, `2s`, `1min`, `1h`: a TEL duration literal, positive; `none` for no limit.
pub fn parse_timeout(text: &str) -> Result<Option<Duration>, String> {
    match tel_vm::json::parse_duration(text.trim()) {
        Some(ms) if ms > 0 => Ok(Some(Duration::from_millis(ms as u64))),
        Some(_) => Err(format!("--timeout {text}: a timeout must be positive")),
        None if text.trim() == "none" => Ok(None),
        None => Err(format!(
            "--timeout {text}: expected a duration such as 500ms, 2s, 1min or 1h, or none"
        )),
    }
}

/// The sandbox the flags describe.
fn sandbox(a: &RunArgs) -> Result<SecuritySandbox, String> {
    let mut sandbox = match &a.allow {
        Some(list) => SecuritySandbox::allowing(
            SecuritySandbox::parse_allow(list).map_err(|e| format!("--allow: {e}"))?,
        ),
        None => SecuritySandbox::default(),
    };
    let defaults = Limits::default();
    sandbox.timeout = match a.timeout.as_deref() {
        Some(text) => parse_timeout(text)?,
        None => Some(Duration::from_millis(defaults.wall_ms)),
    };
    sandbox.limits = Limits {
        fuel: a.fuel.unwrap_or(defaults.fuel),
        heap_bytes: a.memory.unwrap_or(defaults.heap_bytes),
        // The VM checks wall time itself; u64::MAX is no limit.
        wall_ms: sandbox.timeout.map_or(u64::MAX, |d| d.as_millis() as u64),
        ..defaults
    };
    Ok(sandbox)
}

// ------------------------------------------------------------------------ running

pub fn run(a: RunArgs) -> Result<u8, String> {
    match run_inner(a) {
        Ok(code) => Ok(code),
        Err(stop) => Ok(stopped(stop)),
    }
}

fn run_inner(a: RunArgs) -> Result<u8, Stop> {
    // The flags first: a mistake there fails before any loading.
    let sandbox = sandbox(&a)?;
    let host_file = a.host.as_deref().map(HostFile::load).transpose().map_err(|e| e.to_string())?;
    let by_hash = a.target.starts_with('#');
    let start = if by_hash { PathBuf::from(".") } else { PathBuf::from(&a.target) };
    let codebase = codebase_for(a.codebase.as_deref(), &start)?;

    let mut code = if by_hash {
        if a.entry.is_some() {
            return Err(Stop::Usage(format!(
                "--entry names a function of a file or folder; {} already is the entry point",
                a.target
            )));
        }
        code_from_codebase(&a.target, codebase.as_deref())?
    } else {
        if !start.exists() {
            return Err(Stop::Usage(format!("{}: no such file or folder", a.target)));
        }
        code_from_source(&start, a.entry.as_deref().unwrap_or("main"), codebase.as_deref())?
    };
    let params = check_entry(&code)?;
    let entry_name = code.name(&code.entry);
    let args = match (&a.args, params.len()) {
        (None, 0) => Vec::new(),
        (None, n) => {
            return Err(Stop::Refused(format!(
                "{entry_name} takes {n} argument(s): pass them with --args '[…]' (a JSON array)"
            )));
        }
        (Some(text), _) => tel_vm::json::decode_args(&code.defs, &params, text)
            .map_err(|e| Stop::Refused(format!("--args: {e}")))?,
    };
    let program =
        Program::load(&code.defs, code.entry).map_err(|e| Stop::Refused(e.to_string()))?;

    let mut meta = RunMeta::new(&program);
    meta.entry_name = Some(entry_name.as_str().into());
    meta.args = args;
    meta.limits = sandbox.limits;
    meta.clock_start = host_file.as_ref().map_or(0, |h| h.clock_start);
    meta.allowed = sandbox.allowed();
    meta.memo = a.memo;
    let base = host_file.clone().unwrap_or_default().host();
    meta.host = host_file;

    // The codebase keeps the trace and the memo cache; a run outside any project keeps
    // neither (docs/cli.md, "Where runs are kept").
    let mut notes = Vec::new();
    let mut store = match &codebase {
        Some(path) => match Store::open(path) {
            Ok(store) => Some(store),
            Err(e) => {
                notes.push(format!("warning: the run is not kept: {e}"));
                None
            }
        },
        None => None,
    };

    let mut memo_report = None;
    let recording = if a.memo {
        let pure = tel_vm::memo::pure_functions(&code.defs);
        let cache = load_memo(store.as_ref(), &pure);
        let loaded = cache.len();
        let mut host = tel_vm::Memo::new(sandbox.wrap(base), pure, cache);
        let recording = tel_vm::trace::record(&program, meta, &mut host);
        let (_, cache) = host.into_parts();
        memo_report = Some(save_memo(store.as_mut(), &cache, loaded));
        recording
    } else {
        let mut host = sandbox.wrap(base);
        tel_vm::trace::record(&program, meta, &mut host)
    };

    let run_id = trace::run_id(&recording.trace);
    let exported = ExportedRun::new(recording.trace, &code.defs);
    let bytes = exported.to_bytes();
    if let Some(path) = &a.trace {
        std::fs::write(path, &bytes)
            .map_err(|e| format!("cannot write the trace to {}: {e}", path.display()))?;
        notes.push(format!("run {run_id} written to {}", path.display()));
    }
    let (kept, kept_note) =
        keep(store.as_mut(), &run_id, &exported, &entry_name, &bytes, a.trace.is_some());
    notes.extend(kept_note);

    let outcome = &recording.outcome;
    if outcome.is_err() && code.analysis.is_none() {
        code.analysis = project_sources();
    }
    let usage = usage_json(&recording.vm, memo_report.as_ref());
    if a.json {
        let mut out = json!({
            "run_id": run_id,
            "kept": kept,
            "steps": recording.vm.usage.fuel,
            "effects": effects_json(&program, exported.trace.events()),
            "usage": usage,
        });
        match outcome {
            Ok(v) => {
                out["value"] = value_json(&program, v);
                out["shown"] = Json::String(tel_vm::show::show(&program, v));
            }
            Err(e) => out["error"] = error_json(&code, e),
        }
        println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
    } else if let Ok(v) = outcome {
        println!("{}", tel_vm::show::show(&program, v));
    }
    // stderr: what went wrong first, then what was kept.
    if let (Err(e), false) = (outcome, a.json) {
        eprint!("{}", stack_trace(&code, e));
    }
    if let Some(m) = &memo_report {
        eprintln!("{m}");
    }
    for note in notes {
        eprintln!("{note}");
    }
    Ok(if outcome.is_ok() { exit::OK } else { exit::RUNTIME })
}

/// Keeps the run in the codebase. Returns where it is kept (for `--json`) and the line that
/// tells the user (or why it was not kept).
fn keep(
    store: Option<&mut Store>,
    run_id: &str,
    exported: &ExportedRun,
    entry_name: &str,
    bytes: &[u8],
    written: bool,
) -> (Json, Option<String>) {
    let Some(store) = store else {
        let note = (!written).then(|| {
            format!(
                "run {run_id}: not kept (no codebase here: run inside a TEL project, set \
                 TEL_CODEBASE, or pass --trace FILE)"
            )
        });
        return (Json::Null, note);
    };
    let trace = &exported.trace;
    let outcome = match trace.outcome() {
        Some(Ok(_)) => tel_store::RunOutcome::Value,
        _ => tel_store::RunOutcome::Error,
    };
    let new = tel_store::NewTrace {
        id: run_id,
        entry: trace.meta().entry,
        entry_name: Some(entry_name),
        events: trace.events().len() as u64,
        outcome,
        bytes,
    };
    match store.add_trace(&new) {
        Ok(new) => {
            let already = if new { "" } else { "already " };
            let path = store.path().display().to_string();
            (json!(path), Some(format!("run {run_id} {already}kept in {path}")))
        }
        // The same run kept before with other display names for its code (a definition
        // renamed since): same events, same id; the first copy stays.
        Err(tel_store::Error::TraceConflict { .. }) if same_run_kept(store, run_id) => {
            let path = store.path().display().to_string();
            (json!(path), Some(format!("run {run_id} already kept in {path}")))
        }
        Err(e) => (Json::Null, Some(format!("warning: run {run_id} was not kept: {e}"))),
    }
}

/// Whether the trace kept under `run_id` is that run (its chain ends in that id).
fn same_run_kept(store: &Store, run_id: &str) -> bool {
    let Ok((_, bytes)) = store.trace(run_id) else { return false };
    ExportedRun::from_bytes(&bytes).is_ok_and(|run| trace::run_id(&run.trace) == run_id)
}

// ------------------------------------------------------------------------ memo

/// The memo cache to start from: the codebase's entries for the pure functions of this
/// program. Entries that do not decode are skipped (a cache can always be recomputed).
fn load_memo(store: Option<&Store>, pure: &FxHashSet<CodeHash>) -> MemoCache {
    let mut cache = MemoCache::default();
    let Some(store) = store else { return cache };
    let mut pure: Vec<CodeHash> = pure.iter().copied().collect();
    pure.sort();
    let rows = match store.memo_entries(&pure, cache.capacity() as u64) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("warning: the memo cache could not be read: {e}");
            return cache;
        }
    };
    let mut skipped = 0;
    let entries = rows.into_iter().filter_map(|row| {
        let args: Option<[u8; 32]> = row.args.as_slice().try_into().ok();
        let result = postcard::from_bytes::<Value>(&row.result).ok();
        match (args, result) {
            (Some(args), Some(result)) => {
                Some(tel_vm::MemoEntry { key: MemoKey { def: row.function, args }, result })
            }
            _ => {
                skipped += 1;
                None
            }
        }
    });
    cache.load(entries.collect::<Vec<_>>());
    if skipped > 0 {
        eprintln!(
            "warning: {skipped} memo entries in {} do not decode; ignored",
            store.path().display()
        );
    }
    cache
}

/// What `--memo` did, for stderr and `--json`'s `usage.memo`.
struct MemoReport {
    stats: tel_vm::MemoStats,
    loaded: usize,
    saved: Option<(PathBuf, tel_store::MemoSaved)>,
}

impl std::fmt::Display for MemoReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.stats;
        write!(f, "memo: {} hits, {} misses, {} loaded", s.hits, s.misses, self.loaded)?;
        match &self.saved {
            Some((path, saved)) => write!(
                f,
                "; {} new entries kept in {} ({} evicted)",
                saved.added,
                path.display(),
                saved.evicted
            ),
            None => write!(f, "; not kept (no codebase)"),
        }
    }
}

fn save_memo(store: Option<&mut Store>, cache: &MemoCache, loaded: usize) -> MemoReport {
    let mut report = MemoReport { stats: cache.stats(), loaded, saved: None };
    let Some(store) = store else { return report };
    let entries: Vec<tel_store::MemoEntry> = cache
        .entries()
        .filter_map(|e| {
            Some(tel_store::MemoEntry {
                function: e.key.def,
                args: e.key.args.to_vec(),
                result: postcard::to_allocvec(&e.result).ok()?,
            })
        })
        .collect();
    match store.memo_save(&entries, &[], tel_store::memo::DEFAULT_MEMO_CAPACITY) {
        Ok(saved) => report.saved = Some((store.path().to_path_buf(), saved)),
        Err(e) => eprintln!("warning: the memo cache was not kept: {e}"),
    }
    report
}

// ------------------------------------------------------------------------ output

fn usage_json(vm: &tel_vm::Vm, memo: Option<&MemoReport>) -> Json {
    let mut usage = json!({
        "fuel": vm.usage.fuel,
        "heap_bytes": vm.usage.heap_bytes,
        "effects": vm.usage.effects,
        "clock_ms": vm.clock,
        "limits": {
            "fuel": vm.limits.fuel,
            "heap_bytes": vm.limits.heap_bytes,
            "effects": vm.limits.effects,
            "call_depth": vm.limits.call_depth,
            "wall_ms": (vm.limits.wall_ms != u64::MAX).then_some(vm.limits.wall_ms),
        },
    });
    if let Some(m) = memo {
        usage["memo"] = json!({
            "hits": m.stats.hits,
            "misses": m.stats.misses,
            "evictions": m.stats.evictions,
            "loaded": m.loaded,
            "added": m.saved.as_ref().map(|(_, s)| s.added),
        });
    }
    usage
}

/// A value in the documented JSON encoding, or its `show` text when it has none (a function).
pub fn value_json(program: &Program, v: &Value) -> Json {
    tel_vm::json::encode(program, v).unwrap_or_else(|_| json!(tel_vm::show::show(program, v)))
}

/// The host effects the run performed, in order.
fn effects_json(program: &Program, events: &[Event]) -> Json {
    let list = events.iter().filter_map(|e| match e {
        Event::EffectApplied { effect, args, now, result, .. } => {
            let args: Vec<Json> = args.iter().map(|v| value_json(program, v)).collect();
            Some(match result {
                Ok(v) => json!({"effect": effect.name(), "args": args, "at_ms": now,
                                "result": value_json(program, v)}),
                Err(e) => json!({"effect": effect.name(), "args": args, "at_ms": now,
                                 "refused": e}),
            })
        }
        _ => None,
    });
    Json::Array(list.collect())
}

/// The error without its place (the stack trace says where).
fn error_message(e: &RuntimeError) -> String {
    match e {
        RuntimeError::ResourceExhausted { resource, limit, .. } => {
            format!("{resource} exhausted (limit {limit})")
        }
        RuntimeError::Trap { message, .. } => message.clone(),
        RuntimeError::Host { effect, message, .. } => {
            format!("host effect {effect} failed: {message}")
        }
        RuntimeError::WrongProgram { .. } => e.to_string(),
    }
}

fn frame_name(code: &Code, l: &Location) -> String {
    let name = code
        .names
        .get(&l.def)
        .cloned()
        .or_else(|| l.name.as_ref().map(|n| n.to_string()))
        .unwrap_or_else(|| "?".into());
    if l.lambda { format!("{name}/lambda") } else { name }
}

/// Where a frame is in the sources, `(file, line, column)` 1-based, when they were loaded
/// and still define its definition.
fn position(code: &Code, l: &Location) -> Option<(String, u32, u32)> {
    let analysis = code.analysis.as_ref()?;
    let (file, range) = analysis.locate_expr(&l.def, l.expr).ok()??;
    let lc = analysis.line_index(file).line_col(range.start());
    let path = analysis.file_path(file);
    let cwd = std::env::current_dir().ok();
    let shown = cwd.as_deref().and_then(|cwd| path.strip_prefix(cwd).ok()).unwrap_or(path);
    Some((shown.display().to_string(), lc.line + 1, lc.col + 1))
}

/// Frames shown at each end of a long stack trace.
const STACK_ENDS: usize = 20;

/// A stack trace to show: runs of one frame repeated (a recursion) fold into one entry with
/// its count, and of a still longer stack only both ends are shown. Returns the entries
/// (a frame and how many times it repeats) and how many entries were left out, after the
/// first `STACK_ENDS`.
fn folded(stack: &[Location]) -> (Vec<(&Location, usize)>, usize) {
    let mut runs: Vec<(&Location, usize)> = Vec::new();
    for l in stack {
        match runs.last_mut() {
            Some((last, n)) if *last == l => *n += 1,
            _ => runs.push((l, 1)),
        }
    }
    if runs.len() <= 2 * STACK_ENDS + 1 {
        return (runs, 0);
    }
    let omitted = runs.len() - 2 * STACK_ENDS;
    runs.drain(STACK_ENDS..runs.len() - STACK_ENDS);
    (runs, omitted)
}

/// The TEL stack trace of a runtime error, innermost call first: each frame's name, short
/// hash and place (`file:line:col`, or the expression id when the sources are not at hand).
pub fn stack_trace(code: &Code, e: &RuntimeError) -> String {
    let mut out = format!("error: {}\n", error_message(e));
    let (runs, omitted) = folded(e.stack());
    for (i, (l, times)) in runs.iter().enumerate() {
        if i == STACK_ENDS && omitted > 0 {
            out.push_str(&format!("  … {omitted} more frames …\n"));
        }
        let place = match position(code, l) {
            Some((file, line, col)) => format!("{file}:{line}:{col}"),
            None => format!("(expression {})", l.expr),
        };
        out.push_str(&format!("  at {} #{} {place}\n", frame_name(code, l), l.def.short()));
        if *times > 1 {
            out.push_str(&format!("  … the frame above {} more times\n", times - 1));
        }
    }
    out
}

fn error_json(code: &Code, e: &RuntimeError) -> Json {
    let (runs, omitted) = folded(e.stack());
    let stack: Vec<Json> = runs
        .iter()
        .map(|(l, times)| {
            let mut frame = json!({
                "name": frame_name(code, l),
                "hash": l.def.to_base32hex(),
                "lambda": l.lambda,
                "expr": l.expr,
                "times": times,
            });
            if let Some((file, line, column)) = position(code, l) {
                frame["file"] = json!(file);
                frame["line"] = json!(line);
                frame["column"] = json!(column);
            }
            frame
        })
        .collect();
    let depth = e.stack().len();
    let mut out = json!({
        "message": error_message(e),
        "stack": stack,
        "depth": depth,
        "omitted": omitted,
    });
    match e {
        RuntimeError::ResourceExhausted { resource, limit, .. } => {
            out["kind"] = json!("resource");
            out["resource"] = json!(resource.name());
            out["limit"] = json!(limit);
        }
        RuntimeError::Trap { .. } => out["kind"] = json!("trap"),
        RuntimeError::Host { effect, .. } => {
            out["kind"] = json!("host");
            out["effect"] = json!(effect);
        }
        RuntimeError::WrongProgram { .. } => out["kind"] = json!("program"),
    }
    out
}
