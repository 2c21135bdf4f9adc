//! `tel debug` (being built; see the open issue).

#[derive(clap::Args)]
pub struct DebugArgs {}

pub fn run(_args: DebugArgs) -> Result<u8, String> {
    Err("`tel debug` is not built yet".to_string())
}
