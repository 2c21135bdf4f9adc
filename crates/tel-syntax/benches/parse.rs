//! Parse time of a generated 1,000-function (about 20,000-line) file.
//! Run with `cargo bench -p tel-syntax --bench parse`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

fn parse_large_file(c: &mut Criterion) {
    let text = tel_testgen::generate_file(1_000);
    assert!(tel_syntax::parse(&text).errors.is_empty());
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(text.len() as u64));
    // The tree outlives the parse in real use (the checker or an editor keeps it), so the
    // headline figure leaves freeing it out; `parse_and_drop` includes it.
    group.bench_function("generated_1000_fns", |b| {
        b.iter_with_large_drop(|| tel_syntax::parse(black_box(&text)))
    });
    group.bench_function("parse_and_drop_1000_fns", |b| {
        b.iter(|| tel_syntax::parse(black_box(&text)))
    });
    group.bench_function("lex_only_1000_fns", |b| {
        b.iter(|| tel_syntax::lexer::lex(black_box(&text)))
    });
    group.finish();
}

criterion_group!(benches, parse_large_file);
criterion_main!(benches);
