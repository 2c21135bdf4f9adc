//! `tel riscv` (being built; see the open issue).

#[derive(clap::Args)]
pub struct RiscvArgs {}

pub fn run(_args: RiscvArgs) -> Result<u8, String> {
    Err("`tel riscv` is not built yet".to_string())
}
