//! `tel trace show|export|list`, `tel replay` and `tel memo`: recorded runs, read back from
//! the codebase (by run id) or from an exported file, always checked against their hash
//! chain first. docs/cli.md is the reference.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::{Value as Json, json};
use tel_store::Store;
use tel_vm::trace::{Backend, Event, ExportedRun, Trace, TraceError};
use tel_vm::{Program, StoredDef};

use crate::exit;
use crate::run::{Stop, codebase_for, stopped, value_json};

pub use tel_ide::run::run_id;

#[derive(Args)]
pub struct TraceArgs {
    /// The codebase holding the runs [default: $TEL_CODEBASE, else .tel/codebase.sqlite
    /// under the folder holding tel.toml].
    #[arg(long, global = true, alias = "store", value_name = "PATH")]
    codebase: Option<PathBuf>,
    #[command(subcommand)]
    cmd: TraceCommand,
}

#[derive(Subcommand)]
enum TraceCommand {
    /// A recorded run: its settings, outcome and events.
    Show {
        /// A run id (or a prefix of one, at least 4 characters) or a trace file.
        run: String,
        /// Also regenerate every call of a top-level definition, by replaying the run.
        #[arg(long)]
        calls: bool,
        #[arg(long)]
        json: bool,
    },
    /// Write a kept run, with the code it ran, to a self-contained file.
    Export { run: String, file: PathBuf },
    /// The runs kept in the codebase, newest first.
    List {
        #[arg(long, short = 'n', default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args)]
pub struct ReplayArgs {
    /// A run id (or a prefix of one) or a trace file.
    run: String,
    #[arg(long, alias = "store", value_name = "PATH")]
    codebase: Option<PathBuf>,
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
pub struct MemoArgs {
    #[arg(long, global = true, alias = "store", value_name = "PATH")]
    codebase: Option<PathBuf>,
    #[command(subcommand)]
    cmd: MemoCommand,
}

#[derive(Subcommand)]
enum MemoCommand {
    /// How many results the memo cache keeps, for how many functions.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Empty the memo cache.
    Clear,
}

/// A recorded run read back and checked: its trace, the code it ran and where it came from.
struct Loaded {
    run: ExportedRun,
    id: String,
    source: String,
}

/// Why a trace could not be used: `Bad` bytes (altered, truncated, not a trace) exit 2 like
/// any input that cannot be read.
fn bad_trace(source: &str, e: TraceError) -> Stop {
    Stop::Usage(format!("{source}: {e}"))
}

/// `RUN|FILE`: an existing file is read as a trace file; anything else is a run id.
fn load_run(spec: &str, codebase: Option<&Path>) -> Result<Loaded, Stop> {
    let path = Path::new(spec);
    if path.is_file() {
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {spec}: {e}"))?;
        let codebase = codebase_for(codebase, Path::new("."))?;
        let run = read_run(spec, &bytes, codebase.as_deref())?;
        return Ok(Loaded { id: run_id(&run.trace), run, source: spec.to_owned() });
    }
    let path = codebase_for(codebase, Path::new("."))?.ok_or_else(|| {
        Stop::Usage(format!(
            "{spec}: not a file, and there is no codebase to look a run id up in (run inside a \
             TEL project, or set TEL_CODEBASE)"
        ))
    })?;
    let store = Store::open_existing(&path).map_err(|e| e.to_string())?;
    let (info, bytes) = match store.trace(spec) {
        Ok(found) => found,
        Err(e @ (tel_store::Error::RunNotFound { .. } | tel_store::Error::AmbiguousRun { .. })) => {
            return Err(Stop::Refused(e.to_string()));
        }
        Err(e) => return Err(Stop::Usage(e.to_string())),
    };
    let source = format!("run {}", info.id);
    let run = read_run(&source, &bytes, Some(&path))?;
    // The id is the head of the chain: a trace whose chain was recomputed after an
    // alteration has another head.
    let id = run_id(&run.trace);
    if !id.eq_ignore_ascii_case(&info.id) {
        return Err(Stop::Usage(format!(
            "{source}: the trace was altered: its hash chain ends in {id}, not in its run id"
        )));
    }
    Ok(Loaded { run, id, source })
}

/// An exported run, or a bare trace whose code is taken from the codebase.
fn read_run(source: &str, bytes: &[u8], codebase: Option<&Path>) -> Result<ExportedRun, Stop> {
    if bytes.starts_with(&tel_vm::trace::EXPORT_MAGIC) {
        return ExportedRun::from_bytes(bytes).map_err(|e| bad_trace(source, e));
    }
    let trace = Trace::from_bytes(bytes).map_err(|e| bad_trace(source, e))?;
    let entry = trace.meta().entry;
    let missing = || {
        Stop::Refused(format!(
            "{source}: the trace does not carry its code, and no codebase holds its entry point \
             {entry} (`tel trace export` writes a trace with its code)"
        ))
    };
    let path = codebase.filter(|p| p.exists()).ok_or_else(missing)?;
    let store = Store::open_existing(path).map_err(|e| e.to_string())?;
    if store.get_by_hash(&entry).map_err(|e| e.to_string())?.is_none() {
        return Err(missing());
    }
    let mut defs = std::collections::HashMap::new();
    for stored in store.load_closure(&entry).map_err(|e| e.to_string())? {
        let def =
            tel_hash::decode(&stored.canonical).map_err(|e| format!("{}: {e}", stored.hash))?;
        let name = store
            .view(&format!("#{}", stored.hash.to_base32hex()))
            .map_err(|e| e.to_string())?
            .names
            .first()
            .map(|n| n.rsplit("::").next().unwrap_or(n).into());
        defs.insert(
            stored.hash,
            StoredDef { def, component: stored.component.map(|c| c.component), name },
        );
    }
    Ok(ExportedRun { trace, defs })
}

fn program_of(loaded: &Loaded) -> Result<Program, Stop> {
    let meta = loaded.run.trace.meta();
    Program::load(&loaded.run.defs, meta.entry)
        .map_err(|e| Stop::Usage(format!("{}: its code does not load: {e}", loaded.source)))
}

pub fn trace(args: TraceArgs) -> Result<u8, String> {
    let codebase = args.codebase.as_deref();
    let result = match args.cmd {
        TraceCommand::Show { run, calls, json } => show(&run, codebase, calls, json),
        TraceCommand::Export { run, file } => export(&run, codebase, &file),
        TraceCommand::List { limit, json } => list(codebase, limit, json),
    };
    Ok(result.unwrap_or_else(stopped))
}

fn show(spec: &str, codebase: Option<&Path>, calls: bool, json_out: bool) -> Result<u8, Stop> {
    let loaded = load_run(spec, codebase)?;
    let program = program_of(&loaded)?;
    let trace = &loaded.run.trace;
    let events: Vec<Event> = match calls {
        true => trace.events_full(&program).map_err(|d| {
            Stop::Refused(format!("{}: the calls cannot be regenerated: {d}", loaded.source))
        })?,
        false => trace.events().to_vec(),
    };
    let meta = trace.meta();
    let entry = meta.entry_name.as_deref().unwrap_or("?");
    if json_out {
        let out = json!({
            "run_id": loaded.id,
            "entry": meta.entry.to_base32hex(),
            "entry_name": meta.entry_name,
            "args": meta.args.iter().map(|v| value_json(&program, v)).collect::<Vec<_>>(),
            "host": meta.host,
            "clock_start": meta.clock_start,
            "limits": meta.limits,
            "allowed": meta.allowed.iter().map(|e| e.name()).collect::<Vec<_>>(),
            "memo": meta.memo,
            "vm_version": meta.vm_version,
            "backend": meta.backend.name(),
            "events": events.iter().enumerate().map(|(i, e)| event_json(&program, i, e)).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
        return Ok(exit::OK);
    }
    let allowed: Vec<&str> = meta.allowed.iter().map(|e| e.name()).collect();
    let args: Vec<String> = meta.args.iter().map(|v| tel_vm::show::show(&program, v)).collect();
    let mut out = String::new();
    out.push_str(&format!("run        {}\n", loaded.id));
    out.push_str(&format!("entry      {entry} {}\n", meta.entry));
    if meta.backend != Backend::Vm {
        out.push_str(&format!("backend    {}\n", meta.backend.name()));
    }
    if !args.is_empty() {
        out.push_str(&format!("args       {}\n", args.join(", ")));
    }
    let l = &meta.limits;
    let wall = match l.wall_ms {
        u64::MAX => "no wall time limit".to_owned(),
        ms => format!("wall time {ms}ms"),
    };
    out.push_str(&format!(
        "limits     fuel {}, heap bytes {}, effects {}, call depth {}, {wall}\n",
        l.fuel, l.heap_bytes, l.effects, l.call_depth
    ));
    out.push_str(&format!(
        "allowed    {}\n",
        if allowed.len() == tel_vm::HostEffect::ALL.len() {
            "all host effects".into()
        } else {
            allowed.join(", ")
        }
    ));
    out.push_str(&format!("clock      starts at {}ms\n", meta.clock_start));
    if meta.memo {
        out.push_str("memo       on\n");
    }
    out.push_str(&format!("events     {}\n", trace.events().len()));
    for (i, e) in events.iter().enumerate() {
        out.push_str(&format!("{i:>5}  {}\n", e.describe(&program)));
    }
    print!("{out}");
    Ok(exit::OK)
}

fn event_json(program: &Program, index: usize, e: &Event) -> Json {
    let values =
        |vs: &[tel_vm::Value]| vs.iter().map(|v| value_json(program, v)).collect::<Vec<_>>();
    let mut out = match e {
        Event::FunctionCall { hash, name, args } => json!({
            "kind": "call", "hash": hash.to_base32hex(), "name": name, "args": values(args),
        }),
        Event::FunctionReturn { hash, result } => json!({
            "kind": "return", "hash": hash.to_base32hex(), "result": value_json(program, result),
        }),
        Event::EffectApplied { effect, args, cost, now, result } => {
            let mut out = json!({
                "kind": "effect", "effect": effect.name(), "args": values(args), "at_ms": now,
                "cost_ms": cost,
            });
            match result {
                Ok(v) => out["result"] = value_json(program, v),
                Err(e) => out["refused"] = json!(e),
            }
            out
        }
        Event::EffectNotPerformed { effect, args, cost } => {
            let mut out =
                json!({"kind": "not_performed", "effect": effect.name(), "args": values(args)});
            match cost {
                Ok(c) => out["cost_ms"] = json!(c),
                Err(e) => out["refused"] = json!(e),
            }
            out
        }
        Event::Error { error } => json!({"kind": "error", "message": error.to_string()}),
        Event::Snapshot { steps, fuel, vm } => {
            json!({"kind": "snapshot", "steps": steps, "fuel": fuel, "bytes": vm.len()})
        }
        Event::Degraded(d) => json!({
            "kind": "degraded", "waited_ms": d.waited_ms, "timeout_ms": d.timeout_ms,
            "function": d.function.to_base32hex(), "abandoned": d.abandoned,
        }),
        Event::Upgraded { fuel, now, strategy, from, to } => json!({
            "kind": "upgraded", "fuel": fuel, "at_ms": now, "strategy": strategy,
            "from": from.to_base32hex(), "to": to.to_base32hex(),
        }),
    };
    out["index"] = json!(index);
    out
}

fn export(spec: &str, codebase: Option<&Path>, file: &Path) -> Result<u8, Stop> {
    if Path::new(spec).is_file() {
        return Err(Stop::Usage(format!(
            "{spec} is a file already: `tel trace export` writes a run kept in the codebase"
        )));
    }
    let loaded = load_run(spec, codebase)?;
    let bytes = loaded.run.to_bytes();
    std::fs::write(file, &bytes).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    eprintln!("run {} written to {} ({} bytes)", loaded.id, file.display(), bytes.len());
    Ok(exit::OK)
}

fn list(codebase: Option<&Path>, limit: usize, json_out: bool) -> Result<u8, Stop> {
    let path = codebase_for(codebase, Path::new("."))?.ok_or_else(|| {
        Stop::Usage("no codebase here: run inside a TEL project, or set TEL_CODEBASE".into())
    })?;
    let store = Store::open_existing(&path).map_err(|e| e.to_string())?;
    let runs = store.traces(limit).map_err(|e| e.to_string())?;
    if json_out {
        println!("{}", serde_json::to_string_pretty(&runs).map_err(|e| e.to_string())?);
    } else {
        if runs.traces.is_empty() {
            eprintln!("{} keeps no runs yet", path.display());
        }
        print!("{runs}");
    }
    Ok(exit::OK)
}

pub fn replay(args: ReplayArgs) -> Result<u8, String> {
    Ok(replay_inner(args).unwrap_or_else(stopped))
}

fn replay_inner(args: ReplayArgs) -> Result<u8, Stop> {
    let loaded = load_run(&args.run, args.codebase.as_deref())?;
    let program = program_of(&loaded)?;
    let trace = &loaded.run.trace;
    // On the backend that recorded the run: fuel counts that machine's instructions.
    let report = match trace.meta().backend {
        Backend::Vm => tel_vm::replay(trace, &program),
        Backend::Riscv => {
            let module = tel_riscv::compile(&loaded.run.defs, trace.meta().entry).map_err(|e| {
                Stop::Refused(format!(
                    "{}: its code does not compile to RISC-V: {e}",
                    loaded.source
                ))
            })?;
            tel_riscv::replay(&module, trace, &program)
        }
    };
    if args.json {
        let out = json!({
            "run_id": loaded.id,
            "events": report.events,
            "identical": report.identical(),
            "divergence": report.divergence,
        });
        println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
    } else {
        println!("{report}");
    }
    Ok(if report.identical() { exit::OK } else { exit::FAILED })
}

pub fn memo(args: MemoArgs) -> Result<u8, String> {
    let path = codebase_for(args.codebase.as_deref(), Path::new("."))?.ok_or_else(|| {
        "no codebase here: run inside a TEL project, or set TEL_CODEBASE".to_owned()
    })?;
    match args.cmd {
        MemoCommand::Stats { json } => {
            let store = Store::open_existing(&path).map_err(|e| e.to_string())?;
            let stats = store.memo_stats().map_err(|e| e.to_string())?;
            match json {
                true => {
                    println!("{}", serde_json::to_string_pretty(&stats).map_err(|e| e.to_string())?)
                }
                false => print!("{stats}"),
            }
        }
        MemoCommand::Clear => {
            let mut store = Store::open_existing(&path).map_err(|e| e.to_string())?;
            let n = store.memo_clear().map_err(|e| e.to_string())?;
            eprintln!("dropped {n} memo entries from {}", path.display());
        }
    }
    Ok(exit::OK)
}
