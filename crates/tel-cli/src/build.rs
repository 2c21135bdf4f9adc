//! `tel build` (being built; see the open issue).

#[derive(clap::Args)]
pub struct BuildArgs {}

pub fn run(_args: BuildArgs) -> Result<u8, String> {
    Err("`tel build` is not built yet".to_string())
}
