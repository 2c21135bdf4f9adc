//! The figures: add 10,000 definitions into a fresh store (< 1 s), hash-prefix lookup
//! (< 1 ms), transitive dependents of a definition with 1,000 of them (< 10 ms), and the
//! file size per definition (printed).
//!
//!   CARGO_TARGET_DIR=… cargo bench -p tel-store --bench store

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use tel_store::hash_text::to_text;
use tel_store::{Store, synthetic};

const N: usize = 10_000;

fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("codebase.sqlite")).unwrap();
    (dir, store)
}

fn add(c: &mut Criterion) {
    let defs = synthetic::batch(1, N, 3);
    let mut group = c.benchmark_group("add");
    group.sample_size(10);
    group.bench_function("10k definitions into a fresh store", |b| {
        b.iter_batched(
            fresh,
            |(dir, mut store)| {
                let report = store.add_definitions(&defs, "bench").unwrap();
                assert_eq!(report.new, N);
                (dir, store)
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();

    let (_dir, mut store) = fresh();
    store.add_definitions(&defs, "bench").unwrap();
    let stats = store.stats().unwrap();
    println!(
        "size: {} definitions, {} edges, file {} bytes = {:.0} bytes/definition \
         (canonical {:.0} + source {:.0} bytes/definition of payload)",
        stats.definitions,
        stats.dependency_edges,
        stats.file_bytes,
        stats.bytes_per_definition(),
        stats.canonical_bytes as f64 / N as f64,
        stats.source_bytes as f64 / N as f64,
    );
}

fn lookup(c: &mut Criterion) {
    let defs = synthetic::batch(2, N, 3);
    let (_dir, mut store) = fresh();
    store.add_definitions(&defs, "bench").unwrap();
    let prefixes: Vec<String> =
        defs.iter().map(|d| format!("#{}", &to_text(&d.hash)[..8])).collect();
    let mut i = 0;
    c.bench_function("prefix lookup (8 chars, 10k definitions)", |b| {
        b.iter(|| {
            i = (i + 1) % prefixes.len();
            black_box(store.resolve_prefix(&prefixes[i]).unwrap())
        })
    });
    let mut i = 0;
    c.bench_function("load by name", |b| {
        b.iter(|| {
            i = (i + 1) % defs.len();
            black_box(store.get_by_name(&defs[i].name).unwrap())
        })
    });
}

fn dependents(c: &mut Criterion) {
    // Definition 0 of a synthetic batch is reached by all the others; next to 10k unrelated.
    let (_dir, mut store) = fresh();
    store.add_definitions(&synthetic::batch(3, N, 3), "bench").unwrap();
    let tree = synthetic::batch(4, 1001, 3);
    store.add_definitions(&tree, "bench").unwrap();
    let root = tree[0].hash;
    assert_eq!(store.transitive_dependents(&root).unwrap().len(), 1000);
    c.bench_function("transitive dependents (1,000)", |b| {
        b.iter(|| black_box(store.transitive_dependents(&root).unwrap()))
    });
    let top = tree[1000].hash;
    c.bench_function("load closure (transitive dependencies of the last of 1,001)", |b| {
        b.iter(|| black_box(store.load_closure(&top).unwrap()))
    });
}

criterion_group!(benches, add, lookup, dependents);
criterion_main!(benches);
