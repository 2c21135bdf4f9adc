//! The TEL debug adapter: the Debug Adapter Protocol over stdio or TCP ([`server`]), and the
//! debugger it drives ([`debugger`]), which `tel debug` drives from a terminal
//! ([`terminal`]). Both are front ends on tel-vm's time-travel navigator: the run is
//! recorded once, then every position of it can be visited, forward or backward.
//! docs/debugging.md describes the protocol, the launch configuration and the commands.

pub mod client;
pub mod debugger;
pub mod eval;
pub mod protocol;
pub mod riscv;
pub mod server;
pub mod sources;
pub mod terminal;
pub mod transport;

pub use debugger::{Debugger, LaunchSpec};
pub use server::{serve, serve_tcp};

/// Serves one session on the process's stdin and stdout.
pub fn run_stdio() {
    serve(std::io::stdin(), std::io::stdout());
}
