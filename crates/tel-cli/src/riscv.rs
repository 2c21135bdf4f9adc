//! `tel riscv`: compile a function and everything it calls to RV32IM and run it on the
//! embedded emulator, with the host, sandbox and limits of `tel run` (fuel counts RISC-V
//! instructions); or print the machine code with the source line of each stretch of it
//! (`--disasm`). A program outside the compiled subset is refused with the construct and
//! its place. docs/riscv.md is the reference.

use std::path::PathBuf;

use serde_json::json;
use tel_ide::run::report::{effects_json, stack_trace, value_json};
use tel_ide::run::riscv::{disassembly, refusal};
use tel_ide::run::{Backend, Code, RunSettings, Stop, codebase_for};
use tel_vm::trace::RunMeta;
use tel_vm::{HostFile, Program};

use crate::{exit, load, render};

#[derive(clap::Args)]
pub struct RiscvArgs {
    /// A `.tel` file or a project folder.
    path: PathBuf,
    /// The function to compile and run: a name of the file or folder, or `module::name`.
    #[arg(long, value_name = "NAME", default_value = "main")]
    entry: String,
    /// The entry point's arguments, as a JSON array (docs/cli.md, "Values as JSON").
    #[arg(long, value_name = "JSON-ARRAY")]
    args: Option<String>,
    /// Print the machine code, with the source line of each stretch, instead of running it.
    #[arg(long)]
    disasm: bool,
    /// The host file: opening balances, price feeds, clock start, random seed.
    #[arg(long, value_name = "FILE")]
    host: Option<PathBuf>,
    /// At most N RISC-V instructions [default: 100000000].
    #[arg(long, value_name = "N")]
    fuel: Option<u64>,
    /// At most this much wall-clock time (`500ms`, `2s`, `1min`, or `none`) [default: 1s].
    #[arg(long, value_name = "DURATION")]
    timeout: Option<String>,
    /// The host effects the run may perform, separated by commas [default: all of them].
    #[arg(long, value_name = "E1,E2")]
    allow: Option<String>,
    /// Print `{"value", "shown", "steps", "effects", "usage"}` instead of the value.
    #[arg(long)]
    json: bool,
    /// The codebase `#hash` references are read from [default: as `tel run`].
    #[arg(long, alias = "store", value_name = "PATH")]
    codebase: Option<PathBuf>,
}

pub fn run(a: RiscvArgs) -> Result<u8, String> {
    match run_inner(a) {
        Ok(code) => Ok(code),
        Err(stop) => Ok(crate::run::stopped(stop)),
    }
}

fn run_inner(a: RiscvArgs) -> Result<u8, Stop> {
    // The flags first: a mistake there fails before any loading.
    let settings = RunSettings {
        fuel: a.fuel,
        memory: None,
        timeout: a.timeout.clone(),
        allow: a.allow.clone(),
        memo: false,
        backend: Backend::Riscv,
    };
    let sandbox = settings.sandbox()?;
    let host_file = a.host.as_deref().map(HostFile::load).transpose().map_err(|e| e.to_string())?;
    if !a.path.exists() {
        return Err(Stop::Usage(format!("{}: no such file or folder", a.path.display())));
    }
    let codebase = codebase_for(a.codebase.as_deref(), &a.path)?;
    let loaded = load::load_with(vec![a.path.clone()], codebase.as_deref())?;
    let analysis = &loaded.analysis;
    let what = a.path.display().to_string();
    let code =
        match Code::from_analysis(analysis, &loaded.reported, &a.entry, codebase.as_deref(), &what)
        {
            Ok(code) => code,
            Err(Stop::Diagnostics { message, diagnostics }) => {
                eprint!("{}", render::to_text(analysis, &diagnostics));
                return Err(Stop::Refused(message));
            }
            Err(stop) => return Err(stop),
        };
    code.check_entry()?;
    // The codebase's compiled functions serve here as in `tel run --backend riscv`.
    let mut notes = Vec::new();
    let compiled = tel_ide::run::riscv::compile_beside(&code, codebase.as_deref(), &mut notes);
    for note in &notes {
        eprintln!("{note}");
    }
    let (module, _) = compiled.map_err(|stop| match stop {
        Stop::NotCompiled(e) => Stop::Refused(refusal(Some(analysis), &code, &e)),
        stop => stop,
    })?;
    if a.disasm {
        print!("{}", disassembly(analysis, &module));
        return Ok(exit::OK);
    }
    let args = code.decode_args(a.args.as_deref())?;

    // The VM's view of the same code: it names values (`show`) and effects for the output.
    let program =
        Program::load(&code.defs, code.entry).map_err(|e| Stop::Refused(e.to_string()))?;
    let mut meta = RunMeta::new(&program);
    meta.entry_name = Some(code.name(&code.entry).into());
    meta.args = args;
    meta.limits = sandbox.limits;
    meta.clock_start = host_file.as_ref().map_or(0, |h| h.clock_start);
    let mut host = sandbox.wrap(host_file.unwrap_or_default().host());
    let rec = tel_riscv::record(&module, &meta, &mut host)
        .map_err(|e| Stop::Refused(format!("--args: {e}")))?;

    let m = &rec.machine;
    if a.json {
        let mut out = json!({
            "steps": m.usage.fuel,
            "effects": effects_json(&program, &rec.events),
            "usage": {
                "fuel": m.usage.fuel,
                "effects": m.usage.effects,
                "clock_ms": m.clock,
                "limits": {
                    "fuel": m.limits.fuel,
                    "effects": m.limits.effects,
                    "call_depth": m.limits.call_depth,
                    "wall_ms": (m.limits.wall_ms != u64::MAX).then_some(m.limits.wall_ms),
                },
            },
        });
        match &rec.outcome {
            Ok(v) => {
                out["value"] = value_json(&program, v);
                out["shown"] = json!(tel_vm::show::show(&program, v));
            }
            Err(e) => {
                out["error"] = tel_ide::run::report::error_json(&code, Some(analysis), e);
            }
        }
        println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
    } else {
        match &rec.outcome {
            Ok(v) => println!("{}", tel_vm::show::show(&program, v)),
            Err(e) => eprint!("{}", stack_trace(&code, Some(analysis), e)),
        }
    }
    Ok(if rec.outcome.is_ok() { exit::OK } else { exit::RUNTIME })
}
