//! Checking cost: the whole pipeline (parse, item trees, def map, signatures, bodies,
//! inference, exhaustiveness, lowering to core IR) over every valid fixture, and over one
//! large synthetic module.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tel_hir::project::Project;

fn valid_fixtures() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/valid");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("fixtures/valid exists")
        .map(|e| {
            let p = e.expect("readable entry").path();
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// `n` functions, each calling the previous one, with a match, a lambda and a handler.
fn synthetic(n: usize) -> String {
    let mut s = String::from(
        "enum Outcome { Filled(Int), Rejected(String), Expired }\neffect Ask(k: Int) -> Int\n",
    );
    s.push_str("fn f0(x: Int) -> Int { x }\n");
    for i in 1..n {
        s.push_str(&format!(
            "fn f{i}(x: Int) -> Int ! {{Log}} {{\n    let o = if x > {i} {{ Filled(x) }} else {{ Expired }};\n    let ys = map([x, {i}], |y| y * 2);\n    perform Log(show(ys));\n    let a = handle {{ perform Ask(x) }} with {{ Ask(k) => k + 1 }};\n    match o {{ Filled(n) => f{prev}(n + a), Rejected(_) => 0, Expired => {i} }}\n}}\n",
            prev = i - 1
        ));
    }
    s
}

fn bench(c: &mut Criterion) {
    let fixtures = valid_fixtures();
    c.bench_function("check_and_lower_all_valid_fixtures", |b| {
        b.iter(|| {
            for (name, text) in &fixtures {
                let project = Project::new([(name.clone(), text.clone())]);
                black_box(project.diagnostics());
                black_box(project.core_defs());
            }
        })
    });
    let big = synthetic(500);
    let errors: Vec<_> = Project::new([("big.tel".to_string(), big.clone())])
        .diagnostics()
        .into_values()
        .flatten()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "the synthetic module must check cleanly: {errors:?}");
    c.bench_function("check_and_lower_500_fn_module", |b| {
        b.iter(|| {
            let project = Project::new([("big.tel".to_string(), big.clone())]);
            black_box(project.diagnostics());
            black_box(project.core_defs());
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
