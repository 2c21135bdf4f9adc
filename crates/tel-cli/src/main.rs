//! `tel`: the TEL toolchain on the command line. Every subcommand is a thin layer over the
//! same engine the language server uses (`tel-ide`), so the CLI and the editor never disagree.

mod build;
mod check;
mod dap;
mod debug;
mod fmt;
mod hash;
mod load;
mod render;
mod riscv;
mod run;
mod schema;
mod store;
mod trace;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// The engine allocates many small trees and arenas; mimalloc is markedly faster at that than
// the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "tel", version, about = "The TEL (Temporal Effect Language) toolchain")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and check files or project folders; print every diagnostic.
    Check {
        /// `.tel` files or folders (default: the current folder).
        paths: Vec<PathBuf>,
        /// Print diagnostics as JSON instead of rendered text.
        #[arg(long)]
        json: bool,
    },
    /// Print the content hash of every definition.
    Hash {
        /// `.tel` files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Show all 52 characters of each hash.
        #[arg(long)]
        full: bool,
        /// Print `[{"name","kind","hash","short","file","range"}]`.
        #[arg(long)]
        json: bool,
    },
    /// Compare two definitions (`#hash` or `file.tel::name`) by their normalized forms.
    Equiv { a: String, b: String },
    /// The codebase: stored definitions by hash, names with history (docs/store.md).
    Store(store::StoreArgs),
    /// Run a function of a file, a project or the codebase, recording its trace (docs/cli.md).
    Run(run::RunArgs),
    /// Recorded runs: show one, export it to a file, list them.
    Trace(trace::TraceArgs),
    /// Re-run a recorded run with its effects answered from the trace, and compare.
    Replay(trace::ReplayArgs),
    /// The memo cache `tel run --memo` keeps in the codebase.
    Memo(trace::MemoArgs),
    /// The language server over stdin/stdout, for editors (docs/lsp.md).
    Lsp,
    /// Format files in the canonical layout (docs/formatting.md).
    Fmt(fmt::FmtArgs),
    /// The debug adapter (DAP) over stdin/stdout or TCP, for editors (docs/debugging.md).
    Dap(dap::DapArgs),
    /// Debug a run in the terminal: step forward and back, jump, compare (docs/debugging.md).
    Debug(debug::DebugArgs),
    /// Compile a function to RISC-V and run it on the embedded emulator (docs/riscv.md).
    Riscv(riscv::RiscvArgs),
    /// Schemas: diff two versions, migrate state, upgrade a paused run (docs/schema.md).
    Schema(schema::SchemaArgs),
    /// Write the program's content-addressed artifact into the codebase (docs/schema.md).
    Build(build::BuildArgs),
}

/// Exit statuses shared by every subcommand.
pub mod exit {
    pub const OK: u8 = 0;
    /// The input has errors (diagnostics, a failed comparison).
    pub const FAILED: u8 = 1;
    /// Usage or I/O error: the command could not do its job at all.
    pub const USAGE: u8 = 2;
    /// `tel run`: the program ran and stopped with a runtime error.
    pub const RUNTIME: u8 = 3;
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { exit::USAGE } else { exit::OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Check { paths, json } => check::run(paths, json),
        Command::Hash { paths, full, json } => hash::run(paths, full, json),
        Command::Equiv { a, b } => hash::equiv(&a, &b),
        Command::Store(args) => store::run(args),
        Command::Run(args) => run::run(args),
        Command::Trace(args) => trace::trace(args),
        Command::Replay(args) => trace::replay(args),
        Command::Memo(args) => trace::memo(args),
        Command::Lsp => {
            tel_lsp::run_stdio().map(|()| exit::OK).map_err(|e| format!("tel lsp: {e}"))
        }
        Command::Fmt(args) => fmt::run(args),
        Command::Dap(args) => dap::run(args),
        Command::Debug(args) => debug::run(args),
        Command::Riscv(args) => riscv::run(args),
        Command::Schema(args) => schema::run(args),
        Command::Build(args) => build::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(exit::USAGE)
        }
    }
}
