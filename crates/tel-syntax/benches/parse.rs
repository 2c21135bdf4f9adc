//! Parse time of a generated 1,000-function (about 20,000-line) file.
//! Run with `cargo bench -p tel-syntax --bench parse`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

// The `tel` binary and the IDE run on mimalloc; measure the parser with the allocator it
// ships with (the tree is many small allocations).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn parse_large_file(c: &mut Criterion) {
    let text = tel_testgen::generate_file(1_000);
    assert!(tel_syntax::parse(&text).errors.is_empty());
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(text.len() as u64));
    // Each iteration also frees the tree, so the allocator reuses its memory, as in an
    // editor that reparses; this is the figure to compare with the 20 ms target.
    group.bench_function("generated_1000_fns", |b| b.iter(|| tel_syntax::parse(black_box(&text))));
    group.bench_function("lex_only_1000_fns", |b| {
        b.iter(|| tel_syntax::lexer::lex(black_box(&text)))
    });
    group.finish();
}

criterion_group!(benches, parse_large_file);
criterion_main!(benches);
