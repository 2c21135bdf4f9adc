//! fib(N) compiled and run on rv-emu, for profilers:
//! `cargo run --release -p tel-riscv --example fib -- [n]` (`FIB_DISASM=1` prints the code;
//! `FIB_VM=1` runs the VM instead).

use std::collections::HashMap;

use tel_hash::CodeHash;
use tel_vm::{Limits, StoredDef, TestHost, Value};

fn main() {
    let n: i64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    let src = "fn fib(n: Int) -> Int { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }";
    let project = tel_hir::project::Project::new([("fib.tel".to_string(), src.to_string())]);
    let defs: Vec<_> =
        project.core_defs().into_iter().map(|(n, d)| (n, d.expect("lowers"))).collect();
    let mut stored: HashMap<CodeHash, StoredDef> = HashMap::new();
    let mut fib = None;
    for c in tel_hash::hash_program_components(&defs, &|_| None).expect("hashes") {
        for m in c.members {
            if m.name.as_str() == "fib::fib" {
                fib = Some(m.hash);
            }
            let def = tel_hash::decode(&m.bytes).expect("decodes");
            stored.insert(
                m.hash,
                StoredDef { def, component: c.component, name: Some(m.name.clone()) },
            );
        }
    }
    let limits = Limits { fuel: u64::MAX, wall_ms: u64::MAX, ..Limits::default() };
    if std::env::var_os("FIB_VM").is_some() {
        // The VM on the same definition, for the same profiler.
        let program = tel_vm::Program::load(&stored, fib.expect("fib")).expect("loads");
        let start = std::time::Instant::now();
        let mut vm =
            tel_vm::Vm::with_args(&program, limits, 0, vec![Value::Int(n)]).expect("starts");
        let v = vm.run_to_end(&program, &mut TestHost::new(0)).expect("runs");
        println!("VM: fib({n}) = {v:?} in {:?}", start.elapsed());
        return;
    }
    let module = tel_riscv::compile(&stored, fib.expect("fib")).expect("compiles");
    if std::env::var_os("FIB_DISASM").is_some() {
        print!("{}", module.disassemble(|_, _| None));
    }
    let start = std::time::Instant::now();
    let mut m = tel_riscv::Machine::new(&module, &[Value::Int(n)], limits, 0).expect("starts");
    let v = m.run_to_end(&module, &mut TestHost::new(0)).expect("runs");
    let t = start.elapsed();
    println!(
        "fib({n}) = {v:?}: {} instructions in {t:?} ({:.0} MIPS)",
        m.usage.fuel,
        m.usage.fuel as f64 / t.as_secs_f64() / 1e6
    );
}
