//! `tel-lsp`: the language server as a binary of its own (the same server as `tel lsp`).

use std::process::ExitCode;

// The engine allocates many small trees and arenas (see tel-cli).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    match tel_lsp::run_stdio() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: tel-lsp: {e}");
            ExitCode::from(2)
        }
    }
}
