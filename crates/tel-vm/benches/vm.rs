//! Interpreter throughput on pure recursion, closures through `map`/`fold`, and handlers.

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

fn bench(c: &mut Criterion) {
    for (name, src) in PROGRAMS {
        let program = support::load(src);
        let mut vm = Vm::new(&program, Limits::default(), 0);
        vm.run_to_end(&program, &mut TestHost::new(0)).expect("runs");
        eprintln!("{name}: {} instructions", vm.usage.fuel);
        c.bench_function(name, |b| {
            b.iter(|| {
                let mut vm = Vm::new(&program, Limits::default(), 0);
                black_box(vm.run_to_end(&program, &mut TestHost::new(0)).unwrap())
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
