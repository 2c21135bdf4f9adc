//! Running code in the sandbox while recording its trace, and keeping the trace and the memo
//! cache in the codebase.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rustc_hash::FxHashSet;
use tel_hash::CodeHash;
use tel_store::Store;
use tel_vm::memo::{MemoCache, MemoKey};
use tel_vm::trace::{ExportedRun, Recording, RunMeta, Trace};
use tel_vm::{HostFile, Limits, Program, RuntimeError, SecuritySandbox, Usage, Value};

use super::code::{Code, Stop};

/// Characters of a run id: 16 base32hex digits are 80 bits of the trace's head hash.
pub const RUN_ID_LEN: usize = 16;

/// A run's id: the start of the base32hex text of its trace's head hash (the last link of
/// the hash chain, which commits to the metadata and every event). Same run, same id.
pub fn run_id(trace: &Trace) -> String {
    let mut id = CodeHash(trace.head()).to_base32hex();
    id.truncate(RUN_ID_LEN);
    id
}

/// What runs the code: the VM, or the RISC-V emulator on the code compiled for it
/// (docs/riscv.md; the program must be in the compiled subset). A run's trace records it.
pub use tel_vm::trace::Backend;

/// The limits and permissions of a run; `None` takes the default.
#[derive(Clone, Debug, Default)]
pub struct RunSettings {
    /// At most this many instructions (the backend's: VM or RISC-V instructions).
    pub fuel: Option<u64>,
    /// At most this many bytes of values built.
    pub memory: Option<u64>,
    /// Wall-clock limit as TEL writes durations (`500ms`, `2s`), or `none`.
    pub timeout: Option<String>,
    /// The host effects the run may perform, separated by commas.
    pub allow: Option<String>,
    /// Answer calls of pure functions from the memo cache kept in the codebase.
    pub memo: bool,
    pub backend: Backend,
}

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

impl RunSettings {
    /// The sandbox these settings describe.
    pub fn sandbox(&self) -> Result<SecuritySandbox, String> {
        let mut sandbox = match &self.allow {
            Some(list) => SecuritySandbox::allowing(
                SecuritySandbox::parse_allow(list).map_err(|e| format!("--allow: {e}"))?,
            ),
            None => SecuritySandbox::default(),
        };
        let defaults = Limits::default();
        sandbox.timeout = match self.timeout.as_deref() {
            Some(text) => parse_timeout(text)?,
            None => Some(Duration::from_millis(defaults.wall_ms)),
        };
        sandbox.limits = Limits {
            fuel: self.fuel.unwrap_or(defaults.fuel),
            heap_bytes: self.memory.unwrap_or(defaults.heap_bytes),
            // The VM checks wall time itself; u64::MAX is no limit.
            wall_ms: sandbox.timeout.map_or(u64::MAX, |d| d.as_millis() as u64),
            ..defaults
        };
        Ok(sandbox)
    }
}

/// What `--memo` did.
pub struct MemoReport {
    pub stats: tel_vm::MemoStats,
    /// Entries loaded from the codebase before the run.
    pub loaded: usize,
    /// Where the cache was kept and what changed there (`None`: no codebase).
    pub saved: Option<(PathBuf, tel_store::MemoSaved)>,
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

/// A run that happened (with a value or a runtime error).
pub struct Finished {
    /// The VM's view of the code (it names values and effects, whichever backend ran it).
    pub program: Program,
    pub backend: Backend,
    /// What the run used (fuel in the backend's instructions), under which limits, and the
    /// virtual clock at the end.
    pub usage: Usage,
    pub limits: Limits,
    pub clock: i64,
    /// The RISC-V compilation, for a RISC-V run.
    pub compiled: Option<super::riscv::CompileStats>,
    pub outcome: Result<Value, RuntimeError>,
    pub run_id: String,
    /// The trace with the code it ran: what `tel trace export` writes.
    pub exported: ExportedRun,
    pub bytes: Vec<u8>,
    /// The codebase the trace is kept in, when it was kept.
    pub kept: Option<PathBuf>,
    pub memo: Option<MemoReport>,
    /// Lines for the user: where the run was kept or why not, warnings.
    pub notes: Vec<String>,
}

/// What a run of `code` starts from: its entry, arguments, limits, allowed effects and host
/// file (the clock starts at the host file's). The debug adapter records from the same.
pub fn run_meta(
    code: &Code,
    program: &Program,
    args: Vec<Value>,
    sandbox: &SecuritySandbox,
    host_file: Option<HostFile>,
) -> RunMeta {
    let mut meta = RunMeta::new(program);
    meta.entry_name = Some(code.name(&code.entry).as_str().into());
    meta.args = args;
    meta.limits = sandbox.limits;
    meta.clock_start = host_file.as_ref().map_or(0, |h| h.clock_start);
    meta.allowed = sandbox.allowed();
    meta.host = host_file;
    meta
}

/// Runs `code` with `args` in the sandbox `settings` describe, answering host effects from
/// `host_file`, and keeps the trace (and the memo cache) in the codebase at `codebase` when
/// given. `trace_file` also receives the exported trace.
pub fn execute(
    code: &Code,
    args: Vec<Value>,
    settings: &RunSettings,
    host_file: Option<HostFile>,
    codebase: Option<&Path>,
    trace_file: Option<&Path>,
) -> Result<Finished, Stop> {
    let sandbox = settings.sandbox()?;
    let entry_name = code.name(&code.entry);
    let program =
        Program::load(&code.defs, code.entry).map_err(|e| Stop::Refused(e.to_string()))?;

    let base = host_file.clone().unwrap_or_default().host();
    let mut meta = run_meta(code, &program, args, &sandbox, host_file);
    meta.memo = settings.memo;

    // The codebase keeps the trace and the memo cache; a run outside any project keeps
    // neither (docs/cli.md, "Where runs are kept").
    let mut notes = Vec::new();
    let mut store = match codebase {
        Some(path) => match Store::open(path) {
            Ok(store) => Some(store),
            Err(e) => {
                notes.push(format!("warning: the run is not kept: {e}"));
                None
            }
        },
        None => None,
    };

    let mut memo = None;
    let mut compiled = None;
    let (trace, usage, clock, outcome) = match settings.backend {
        Backend::Riscv => {
            if settings.memo {
                return Err(Stop::Refused(
                    "--memo answers calls of the VM's functions; the RISC-V backend runs \
                     compiled code, whose calls it does not see (run without --memo)"
                        .into(),
                ));
            }
            let (module, stats) = super::riscv::compile_in(code, store.as_mut(), &mut notes)?;
            compiled = Some(stats);
            let mut host = sandbox.wrap(base);
            let rec = tel_riscv::record(&module, &meta, &mut host)
                .map_err(|e| Stop::Refused(format!("--args: {e}")))?;
            (rec.trace, rec.machine.usage, rec.machine.clock, rec.outcome)
        }
        Backend::Vm => {
            let Recording { trace, vm, outcome } = if settings.memo {
                let pure = tel_vm::memo::pure_functions(&code.defs);
                let cache = load_memo(store.as_ref(), &pure, &mut notes);
                let loaded = cache.len();
                let mut host = tel_vm::Memo::new(sandbox.wrap(base), pure, cache);
                let recording = tel_vm::trace::record(&program, meta, &mut host);
                let (_, cache) = host.into_parts();
                memo = Some(save_memo(store.as_mut(), &cache, loaded, &mut notes));
                recording
            } else {
                let mut host = sandbox.wrap(base);
                tel_vm::trace::record(&program, meta, &mut host)
            };
            (trace, vm.usage, vm.clock, outcome)
        }
    };
    let run_id = run_id(&trace);
    let exported = ExportedRun::new(trace, &code.defs);
    let bytes = exported.to_bytes();
    if let Some(path) = trace_file {
        std::fs::write(path, &bytes)
            .map_err(|e| format!("cannot write the trace to {}: {e}", path.display()))?;
        notes.push(format!("run {run_id} written to {}", path.display()));
    }
    let kept = keep(
        store.as_mut(),
        &run_id,
        &exported,
        &entry_name,
        &bytes,
        trace_file.is_some(),
        &mut notes,
    );
    let limits = sandbox.limits;
    let backend = settings.backend;
    Ok(Finished {
        program,
        backend,
        usage,
        limits,
        clock,
        compiled,
        outcome,
        run_id,
        exported,
        bytes,
        kept,
        memo,
        notes,
    })
}

/// Keeps the run in the codebase; returns the codebase's path when it is kept there.
fn keep(
    store: Option<&mut Store>,
    run_id: &str,
    exported: &ExportedRun,
    entry_name: &str,
    bytes: &[u8],
    written: bool,
    notes: &mut Vec<String>,
) -> Option<PathBuf> {
    let Some(store) = store else {
        if !written {
            notes.push(format!(
                "run {run_id}: not kept (no codebase here: run inside a TEL project, set \
                 TEL_CODEBASE, or pass --trace FILE)"
            ));
        }
        return None;
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
    let path = store.path().to_path_buf();
    match store.add_trace(&new) {
        Ok(new) => {
            let already = if new { "" } else { "already " };
            notes.push(format!("run {run_id} {already}kept in {}", path.display()));
            Some(path)
        }
        // The same run kept before with other display names for its code (a definition
        // renamed since): same events, same id; the first copy stays.
        Err(tel_store::Error::TraceConflict { .. }) if same_run_kept(store, run_id) => {
            notes.push(format!("run {run_id} already kept in {}", path.display()));
            Some(path)
        }
        Err(e) => {
            notes.push(format!("warning: run {run_id} was not kept: {e}"));
            None
        }
    }
}

/// Whether the trace kept under `run_id` is that run (its chain ends in that id).
fn same_run_kept(store: &Store, run_id: &str) -> bool {
    let Ok((_, bytes)) = store.trace(run_id) else { return false };
    ExportedRun::from_bytes(&bytes).is_ok_and(|run| self::run_id(&run.trace) == run_id)
}

/// The memo cache to start from: the codebase's entries for the pure functions of this
/// program. Entries that do not decode are skipped (a cache can always be recomputed).
fn load_memo(
    store: Option<&Store>,
    pure: &FxHashSet<CodeHash>,
    notes: &mut Vec<String>,
) -> MemoCache {
    let mut cache = MemoCache::default();
    let Some(store) = store else { return cache };
    let mut pure: Vec<CodeHash> = pure.iter().copied().collect();
    pure.sort();
    let rows = match store.memo_entries(&pure, cache.capacity() as u64) {
        Ok(rows) => rows,
        Err(e) => {
            notes.push(format!("warning: the memo cache could not be read: {e}"));
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
        notes.push(format!(
            "warning: {skipped} memo entries in {} do not decode; ignored",
            store.path().display()
        ));
    }
    cache
}

fn save_memo(
    store: Option<&mut Store>,
    cache: &MemoCache,
    loaded: usize,
    notes: &mut Vec<String>,
) -> MemoReport {
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
        Err(e) => notes.push(format!("warning: the memo cache was not kept: {e}")),
    }
    report
}
