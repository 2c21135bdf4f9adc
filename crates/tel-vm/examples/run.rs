//! Runs a TEL file's `main` on the VM and prints its value and the wall time of the run
//! (loading excluded): `cargo run --release -p tel-vm --example run -- FILE`. Until `tel run`
//! exists, benches/vm_compare.sh measures with this.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;
use tel_vm::{Limits, TestHost, Vm};

fn main() {
    let path = std::env::args().nth(1).expect("usage: run FILE.tel");
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let program = support::load(&src);
    let limits = Limits { fuel: u64::MAX, wall_ms: u64::MAX, ..Limits::default() };
    let mut vm = Vm::new(&program, limits, 0);
    let start = Instant::now();
    let result = vm.run_to_end(&program, &mut TestHost::new(0));
    let elapsed = start.elapsed();
    match result {
        Ok(v) => println!("{}", tel_vm::show::show(&program, &v)),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(3);
        }
    }
    eprintln!("{} instructions in {:.1} ms", vm.usage.fuel, elapsed.as_secs_f64() * 1e3);
}
