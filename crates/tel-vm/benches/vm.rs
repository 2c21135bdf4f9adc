//! Interpreter throughput on pure recursion, closures through `map`/`fold`, and handlers; and
//! the workloads benches/vm_compare.sh compares with CPython and Lua (benches/programs).

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tel_vm::{Limits, TestHost, Vm};

const PROGRAMS: [(&str, &str); 3] = [
    (
        "fib_20",
        "fn fib(n: Int) -> Int { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }
         fn main() -> Int { fib(20) }",
    ),
    (
        "map_fold_1000",
        "fn upto(n: Int, acc: List<Int>) -> List<Int> { if n == 0 { acc } else { upto(n - 1, [n] ++ acc) } }
         fn main() -> Int { let k = 3; fold(map(upto(1000, []), |x| x * k), 0, |a, x| a + x) }",
    ),
    (
        "handled_effects_1000",
        "effect Ask() -> Int
         fn ask(n: Int) -> Int ! {Ask} { if n == 0 { 0 } else { perform Ask() + ask(n - 1) } }
         fn main() -> Int { handle { ask(1000) } with { Ask() => 1 } }",
    ),
];

/// The cross-language workloads: fib(30), a 10^7-iteration tail-recursive loop, 100k records
/// through map/filter/fold.
const WORKLOADS: [&str; 3] = ["fib", "loop", "records"];

fn bench(c: &mut Criterion) {
    for (name, src) in PROGRAMS {
        run(c, name, src, 100);
    }
    for name in WORKLOADS {
        let path = format!("{}/../../benches/programs/{name}.tel", env!("CARGO_MANIFEST_DIR"));
        let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        run(c, name, &src, 10);
    }
}

fn run(c: &mut Criterion, name: &str, src: &str, samples: usize) {
    let mut group = c.benchmark_group("vm");
    group.sample_size(samples);
    {
        let program = support::load(src);
        let mut vm = Vm::new(&program, Limits::default(), 0);
        vm.run_to_end(&program, &mut TestHost::new(0)).expect("runs");
        eprintln!("{name}: {} instructions", vm.usage.fuel);
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut vm = Vm::new(&program, Limits::default(), 0);
                black_box(vm.run_to_end(&program, &mut TestHost::new(0)).unwrap())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
