//! `tel dap`: the debug adapter (DAP) for editors, over stdin/stdout or, with `--port`, over
//! TCP. The protocol and its requests are tel-dap's (docs/debugging.md).

use crate::exit;

#[derive(clap::Args)]
pub struct DapArgs {
    /// Serve over TCP on 127.0.0.1:PORT instead of stdin/stdout (0: any free port). The
    /// address is printed on stderr as `tel dap: listening on 127.0.0.1:PORT`.
    #[arg(long, value_name = "PORT")]
    port: Option<u16>,
}

pub fn run(args: DapArgs) -> Result<u8, String> {
    match args.port {
        None => {
            tel_dap::run_stdio();
            Ok(exit::OK)
        }
        Some(port) => {
            tel_dap::serve_tcp(port, |addr| eprintln!("tel dap: listening on {addr}"))
                .map_err(|e| format!("tel dap --port {port}: {e}"))?;
            Ok(exit::OK)
        }
    }
}
