//! `tel run`: load a definition and everything it needs (from source, as `tel check` and
//! `tel hash` see it, or from the codebase by hash), refuse what cannot run, run it in the
//! sandbox the flags describe while recording its trace, print the value, and keep the trace
//! (and the memo cache) in the codebase. The pipeline is `tel_ide::run`, shared with the
//! language server and the debug adapter; this module is its command line. docs/cli.md is
//! the reference.

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::{Value as Json, json};
use tel_ide::Analysis;
use tel_ide::run::report::{effects_json, error_json, stack_trace, usage_json};
use tel_ide::run::riscv::refusal;
use tel_ide::run::{Backend, Code, RunSettings};
use tel_vm::HostFile;

pub use tel_ide::run::report::value_json;
pub use tel_ide::run::{Stop, codebase_for};

use crate::{exit, load, render};

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
    /// At most N instructions (of the backend: VM or RISC-V) [default: 100000000].
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
    /// What runs the code: `vm`, or `riscv` (compiled to RV32IM and run on the embedded
    /// emulator; the program must be in the compiled subset, docs/riscv.md).
    #[arg(long, value_name = "vm|riscv", default_value = "vm")]
    backend: Backend,
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

/// Reports a stop on stderr (with the diagnostics it carries) and gives its exit status:
/// a refused program exits 1, a usage or environment problem 2.
pub fn stopped(stop: Stop) -> u8 {
    match stop {
        // The caller renders the diagnostics it has the sources for.
        Stop::Refused(e) | Stop::Diagnostics { message: e, .. } => {
            eprintln!("error: {e}");
            exit::FAILED
        }
        Stop::Usage(e) => {
            eprintln!("error: {e}");
            exit::USAGE
        }
        // Placed in the sources by the caller when it has them (see `refused_compile`).
        stop @ Stop::NotCompiled(_) => {
            eprintln!("error: {stop}");
            exit::FAILED
        }
    }
}

/// The code of a `.tel` file or project folder with `entry` as the entry point, and the
/// engine that loaded it (it places the frames of a stack trace in the sources).
fn code_from_source(
    path: &Path,
    entry: &str,
    codebase: Option<&Path>,
) -> Result<(Code, Analysis), Stop> {
    let loaded = load::load_with(vec![path.to_path_buf()], codebase)?;
    let what = path.display().to_string();
    match Code::from_analysis(&loaded.analysis, &loaded.reported, entry, codebase, &what) {
        Ok(code) => Ok((code, loaded.analysis)),
        Err(Stop::Diagnostics { message, diagnostics }) => {
            eprint!("{}", render::to_text(&loaded.analysis, &diagnostics));
            Err(Stop::Refused(message))
        }
        Err(stop) => Err(stop),
    }
}

/// The sources of the project holding the working directory, loaded to place the frames
/// of a stack trace of a run by hash: if they still define a frame's definition, its
/// position is known. Best effort: a project that cannot be loaded just gives no positions.
fn project_sources() -> Option<Analysis> {
    let cwd = std::env::current_dir().ok()?;
    let root = tel_store::location::find_project_root(&cwd)?;
    tel_ide::load::load(&[root], None).ok().map(|loaded| loaded.analysis)
}

pub fn run(a: RunArgs) -> Result<u8, String> {
    match run_inner(a) {
        Ok(code) => Ok(code),
        Err(stop) => Ok(stopped(stop)),
    }
}

fn run_inner(a: RunArgs) -> Result<u8, Stop> {
    // The flags first: a mistake there fails before any loading.
    let settings = RunSettings {
        fuel: a.fuel,
        memory: a.memory,
        timeout: a.timeout.clone(),
        allow: a.allow.clone(),
        memo: a.memo,
        backend: a.backend,
    };
    settings.sandbox()?;
    let host_file = a.host.as_deref().map(HostFile::load).transpose().map_err(|e| e.to_string())?;
    let by_hash = a.target.starts_with('#');
    let start = if by_hash { PathBuf::from(".") } else { PathBuf::from(&a.target) };
    let codebase = codebase_for(a.codebase.as_deref(), &start)?;

    let (code, mut sources) = if by_hash {
        if a.entry.is_some() {
            return Err(Stop::Usage(format!(
                "--entry names a function of a file or folder; {} already is the entry point",
                a.target
            )));
        }
        (Code::from_codebase(&a.target, codebase.as_deref())?, None)
    } else {
        if !start.exists() {
            return Err(Stop::Usage(format!("{}: no such file or folder", a.target)));
        }
        let entry = a.entry.as_deref().unwrap_or("main");
        let (code, analysis) = code_from_source(&start, entry, codebase.as_deref())?;
        (code, Some(analysis))
    };
    let args = code.decode_args(a.args.as_deref())?;
    let run = match tel_ide::run::execute(
        &code,
        args,
        &settings,
        host_file,
        codebase.as_deref(),
        a.trace.as_deref(),
    ) {
        Ok(run) => run,
        // A construct outside the RISC-V subset, placed in the sources.
        Err(Stop::NotCompiled(e)) => {
            let sources = sources.or_else(project_sources);
            return Err(Stop::Refused(refusal(sources.as_ref(), &code, &e)));
        }
        Err(stop) => return Err(stop),
    };

    let outcome = &run.outcome;
    if outcome.is_err() && sources.is_none() {
        sources = project_sources();
    }
    let usage = usage_json(&run);
    if a.json {
        let mut out = json!({
            "run_id": run.run_id,
            "kept": run.kept.as_ref().map(|p| p.display().to_string()),
            "steps": run.usage.fuel,
            "effects": effects_json(&run.program, run.exported.trace.events()),
            "usage": usage,
        });
        match outcome {
            Ok(v) => {
                out["value"] = value_json(&run.program, v);
                out["shown"] = Json::String(tel_vm::show::show(&run.program, v));
            }
            Err(e) => out["error"] = error_json(&code, sources.as_ref(), e),
        }
        println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
    } else if let Ok(v) = outcome {
        println!("{}", tel_vm::show::show(&run.program, v));
    }
    // stderr: what went wrong first, then what was kept.
    if let (Err(e), false) = (outcome, a.json) {
        eprint!("{}", stack_trace(&code, sources.as_ref(), e));
    }
    if let Some(m) = &run.memo {
        eprintln!("{m}");
    }
    for note in &run.notes {
        eprintln!("{note}");
    }
    Ok(if outcome.is_ok() { exit::OK } else { exit::RUNTIME })
}
