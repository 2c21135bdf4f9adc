//! `tel debug`: a run in the terminal, forward and backward (tel-dap's terminal front end on
//! the time-travel navigator). Commands come from stdin, one a line, so a script can drive
//! it; docs/debugging.md lists them.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use tel_dap::LaunchSpec;

use crate::exit;

#[derive(Args)]
pub struct DebugArgs {
    /// A `.tel` file, a project folder, or `#PREFIX` of a definition in the codebase.
    #[arg(required_unless_present = "sessions")]
    target: Option<String>,
    /// The function to run: a name of the file or folder (`main`), or `module::name`.
    #[arg(long, value_name = "NAME")]
    entry: Option<String>,
    /// The entry point's arguments, as a JSON array.
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
    /// The host effects the run may perform, separated by commas [default: all of them].
    #[arg(long, value_name = "E1,E2")]
    allow: Option<String>,
    /// The codebase [default: $TEL_CODEBASE, else .tel/codebase.sqlite of the project].
    #[arg(long, alias = "store", value_name = "PATH")]
    codebase: Option<PathBuf>,
    /// Resume a session kept with `save` (its id, or a prefix of it).
    #[arg(long, value_name = "SESSION")]
    resume: Option<String>,
    /// List the sessions kept in the codebase, and exit.
    #[arg(long, conflicts_with = "resume")]
    sessions: bool,
}

pub fn run(a: DebugArgs) -> Result<u8, String> {
    if a.sessions {
        let start = PathBuf::from(a.target.as_deref().unwrap_or("."));
        let codebase = tel_ide::run::codebase_for(a.codebase.as_deref(), &start)?;
        let list = tel_dap::debugger::list_sessions(codebase.as_deref(), 100)?;
        if list.is_empty() {
            println!("no debug sessions kept");
        }
        for s in list {
            println!("{s}");
        }
        return Ok(exit::OK);
    }
    let spec = LaunchSpec {
        program: a.target.expect("clap requires a target without --sessions"),
        entry: a.entry,
        args: a.args,
        host: a.host,
        codebase: a.codebase,
        fuel: a.fuel,
        memory: a.memory,
        allow: a.allow,
        session: a.resume,
        cwd: None,
    };
    let debugger = match tel_dap::Debugger::launch(&spec) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(exit::FAILED);
        }
    };
    let stdin = std::io::stdin();
    let echo = !stdin.is_terminal();
    let stdout = std::io::stdout();
    tel_dap::terminal::run(debugger, stdin.lock(), stdout.lock(), echo)
        .map_err(|e| format!("tel debug: {e}"))
}
