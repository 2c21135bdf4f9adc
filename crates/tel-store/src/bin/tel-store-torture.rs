//! Test support for tel-store's crash-safety and permission tests (not a user tool).
//!
//!   tel-store-torture add PATH COUNT SEED   add `synthetic::batch(SEED, COUNT, 3)` in one call
//!                                           (prints `adding` just before it starts)
//!   tel-store-torture open PATH             open (creating) the codebase, and nothing else
//!
//! Exits 0 on success; on an error prints it to stderr and exits 2.

use std::process::ExitCode;
use tel_store::{Store, synthetic};

fn run(args: &[String]) -> Result<String, String> {
    match args {
        [cmd, path, count, seed] if cmd == "add" => {
            let count: usize = count.parse().map_err(|e| format!("COUNT: {e}"))?;
            let seed: u64 = seed.parse().map_err(|e| format!("SEED: {e}"))?;
            let defs = synthetic::batch(seed, count, 3);
            let mut store = Store::open(path).map_err(|e| e.to_string())?;
            // Tells a watching test that the add is about to start, so its kill lands inside.
            println!("adding");
            std::io::Write::flush(&mut std::io::stdout()).map_err(|e| e.to_string())?;
            let report = store.add_definitions(&defs, "torture").map_err(|e| e.to_string())?;
            Ok(format!("added {} new", report.new))
        }
        [cmd, path] if cmd == "open" => {
            Store::open(path).map_err(|e| e.to_string())?;
            Ok("opened".into())
        }
        _ => Err("usage: tel-store-torture add PATH COUNT SEED | open PATH".into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("{msg}");
            ExitCode::from(2)
        }
    }
}
