//! fib(30) compiled to RISC-V and run on rv-emu, against the VM running the same definition,
//! side by side (wall-clock and CPU time). Compilation is outside the measured loop (a
//! compiled module is cached by hash); so is the VM's loading.

#[path = "../../rv-emu/benches/cpu_time.rs"]
mod cpu_time;

use std::collections::HashMap;

use cpu_time::CpuTime;
use criterion::measurement::Measurement;
use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tel_hash::CodeHash;
use tel_vm::{Limits, Program, StoredDef, TestHost, Value, Vm};

const SRC: &str = "fn fib(n: Int) -> Int { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }
                   fn main() -> Int { fib(30) }";

fn stored(src: &str) -> (HashMap<CodeHash, StoredDef>, CodeHash) {
    let project = tel_hir::project::Project::new([("fib.tel".to_string(), src.to_string())]);
    let defs: Vec<_> =
        project.core_defs().into_iter().map(|(n, d)| (n, d.expect("lowers"))).collect();
    let components = tel_hash::hash_program_components(&defs, &|_| None).expect("hashes");
    let mut out = HashMap::new();
    let mut main = None;
    for c in components {
        for m in c.members {
            if m.name.as_str() == "fib::main" {
                main = Some(m.hash);
            }
            let def = tel_hash::decode(&m.bytes).expect("decodes");
            out.insert(
                m.hash,
                StoredDef { def, component: c.component, name: Some(m.name.clone()) },
            );
        }
    }
    (out, main.expect("main"))
}

fn limits() -> Limits {
    Limits { fuel: u64::MAX, wall_ms: u64::MAX, ..Limits::default() }
}

fn both<M: Measurement>(g: &mut BenchmarkGroup<'_, M>) {
    let (defs, main) = stored(SRC);
    let program = Program::load(&defs, main).unwrap();
    let module = tel_riscv::compile(&defs, main).unwrap();
    g.sample_size(10);
    g.bench_function("vm", |b| {
        b.iter(|| {
            let mut vm = Vm::new(&program, limits(), 0);
            black_box(vm.run_to_end(&program, &mut TestHost::new(0)).unwrap())
        })
    });
    g.bench_function("rv-emu", |b| {
        b.iter(|| {
            let mut m = tel_riscv::Machine::new(&module, &[], limits(), 0).unwrap();
            let v = m.run_to_end(&module, &mut TestHost::new(0)).unwrap();
            assert_eq!(v, Value::Int(832_040));
            black_box(v)
        })
    });
}

fn wall(c: &mut Criterion) {
    let mut g = c.benchmark_group("fib30");
    both(&mut g);
    g.finish();
}

fn cpu(c: &mut Criterion<CpuTime>) {
    let mut g = c.benchmark_group("fib30_cpu");
    both(&mut g);
    g.finish();
}

criterion_group!(wall_time, wall);
criterion_group! {
    name = cpu_time;
    config = Criterion::default().with_measurement(CpuTime);
    targets = cpu
}
criterion_main!(wall_time, cpu_time);
