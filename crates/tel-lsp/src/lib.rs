//! The TEL language server: LSP over stdio, a thin protocol layer over `tel-ide`.
//!
//! See docs/lsp.md for the capabilities, settings and custom requests, and `server.rs` for
//! how edits, requests, cancellation and panics are handled.

pub mod client;
mod config;
mod convert;
pub mod custom;
mod diagnostics;
pub mod editing;
mod error;
mod handlers;
pub mod running;
mod server;
mod transport;
mod world;
mod writer;

pub use config::Config;
pub use server::Backend;

use tower_lsp_server::{LspService, Server};

/// How many requests may be in flight at once. Requests wait on the blocking pool, not here;
/// a small number would hold back the edits queued behind them.
const MAX_CONCURRENCY: usize = 64;

/// Serves one client over `input`/`output` until it sends `exit` (or closes the stream).
pub async fn serve<I, O>(input: I, output: O)
where
    I: tokio::io::AsyncRead + Unpin,
    O: tokio::io::AsyncWrite + Unpin,
{
    let (service, socket) = LspService::build(Backend::new)
        .custom_method("tel/hashOf", Backend::hash_of)
        .custom_method("tel/dependents", Backend::dependents)
        .custom_method("tel/history", Backend::history)
        .custom_method("tel/viewDefinition", Backend::view_definition)
        .finish();
    // The server reads and writes in-memory pipes; `transport` frames the real streams.
    let (server_in, to_server) = tokio::io::duplex(1 << 16);
    let (server_out, from_server) = tokio::io::duplex(1 << 16);
    let (frames, frames_rx) = tokio::sync::mpsc::unbounded_channel();
    let server = Server::new(server_in, server_out, socket).concurrency_level(MAX_CONCURRENCY);
    let server_frames = frames.clone();
    let session = async move {
        tokio::join!(
            server.serve(service),
            transport::pump_server(from_server, server_frames),
            transport::pump_output(frames_rx, output),
        );
    };
    tokio::pin!(session);
    // The session ends when the server does (after `exit`, or at the end of the input,
    // which the input pump passes on by closing the server's input).
    tokio::select! {
        _ = &mut session => {}
        _ = transport::pump_input(input, to_server, frames) => session.await,
    }
}

/// `tel lsp`: serves the client on standard input and output (logs go to standard error).
pub fn run_stdio() -> std::io::Result<()> {
    // Requests wait their turn rather than each growing the pool: every blocking thread
    // keeps its own allocator caches.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(16)
        .enable_all()
        .build()?;
    runtime.block_on(serve(tokio::io::stdin(), tokio::io::stdout()));
    // Requests still running on the blocking pool answer nobody now.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(())
}
