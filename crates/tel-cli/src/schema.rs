//! `tel schema` (being built; see the open issue).

#[derive(clap::Args)]
pub struct SchemaArgs {}

pub fn run(_args: SchemaArgs) -> Result<u8, String> {
    Err("`tel schema` is not built yet".to_string())
}
