//! `tel fmt` (being built; see the open issue).

#[derive(clap::Args)]
pub struct FmtArgs {}

pub fn run(_args: FmtArgs) -> Result<u8, String> {
    Err("`tel fmt` is not built yet".to_string())
}
