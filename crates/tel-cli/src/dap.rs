//! `tel dap` (being built; see the open issue).

#[derive(clap::Args)]
pub struct DapArgs {}

pub fn run(_args: DapArgs) -> Result<u8, String> {
    Err("`tel dap` is not built yet".to_string())
}
