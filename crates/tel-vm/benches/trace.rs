//! The cost of recording a trace: the same runs untraced and traced (issue 5 budget: traced
//! at most 1.5x untraced), on pure recursion (fib, where only snapshots are recorded) and on
//! an effect-heavy loop (every iteration asks the host three times). Also prints the trace
//! size per effect event, compressed and raw.
//!
//! `cargo bench -p tel-vm --bench trace`

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tel_vm::trace::Compression;
use tel_vm::{HostFile, Limits, Program, RunMeta, Vm, record};

const FIB: &str = "
    fn fib(n: Int) -> Int { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }
    fn main() -> Int { fib(25) }";

/// 1 000 iterations, each with an Observe, a Random and a Log: 3 000 effect events.
fn effects_src() -> String {
    let xs: Vec<String> = (1..=1000).map(|i| i.to_string()).collect();
    format!(
        r#"fn main() -> Int ! {{Observe, Random, Log}} {{
            fold([{}], 0, |acc: Int, x: Int| {{
                let p = perform Observe("ETH/USD");
                let r = perform Random(100);
                perform Log("tick " ++ show(x) ++ " at " ++ show(p));
                acc + p % 7 + r
            }})
        }}"#,
        xs.join(", ")
    )
}

const HOST: &str =
    r#"{"seed": 7, "feeds": {"ETH/USD": [[0, 3000], [100, 3010]]}, "costs": {"Observe": 1}}"#;

fn bench(c: &mut Criterion) {
    let file = HostFile::parse(HOST).unwrap();
    for (name, src) in [("fib_25", FIB.to_string()), ("effects_3000", effects_src())] {
        let program: Program = support::load(&src);
        let meta = || {
            let mut m = RunMeta::new(&program);
            m.host = Some(file.clone());
            m
        };
        let rec = record(&program, meta(), &mut file.host());
        let bytes = rec.trace.to_bytes();
        let raw = rec.trace.to_bytes_with(Compression::None);
        let effects = rec.trace.effect_count().max(1);
        eprintln!(
            "{name}: {} instructions, {} events ({} effects), trace {} bytes compressed / {} raw",
            rec.vm.usage.fuel,
            rec.trace.events().len(),
            rec.trace.effect_count(),
            bytes.len(),
            raw.len(),
        );
        if rec.trace.effect_count() > 0 {
            eprintln!(
                "{name}: {:.1} bytes per effect event compressed, {:.1} raw",
                bytes.len() as f64 / effects as f64,
                raw.len() as f64 / effects as f64,
            );
        }
        let mut g = c.benchmark_group(name);
        g.bench_function("untraced", |b| {
            b.iter(|| {
                let mut vm = Vm::new(&program, Limits::default(), 0);
                black_box(vm.run_to_end(&program, &mut file.host()).unwrap())
            })
        });
        g.bench_function("traced", |b| {
            b.iter(|| black_box(record(&program, meta(), &mut file.host()).outcome.unwrap()))
        });
        g.bench_function("traced_and_written", |b| {
            b.iter(|| black_box(record(&program, meta(), &mut file.host()).trace.to_bytes()))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
