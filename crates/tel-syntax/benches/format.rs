//! Formatting time of the generated 1,000-function (about 20,000-line) file: the whole of
//! `format` (parse, layout, print, and the check that the output has the input's tokens),
//! and the part after parsing. Run with `cargo bench -p tel-syntax --bench format`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

// as the `tel` binary and the language server run
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn format_large_file(c: &mut Criterion) {
    let text = tel_testgen::generate_file(1_000);
    let formatted = tel_syntax::format::format(&text).expect("the generated file formats");
    let parse = tel_syntax::parse(&text);
    let mut group = c.benchmark_group("format");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("generated_1000_fns", |b| {
        b.iter(|| tel_syntax::format::format(black_box(&text)))
    });
    group.bench_function("generated_1000_fns_already_parsed", |b| {
        b.iter(|| tel_syntax::format::format_parsed(black_box(&text), black_box(&parse)))
    });
    // formatted input: the common case of `tel fmt --check` and format-on-save
    group.bench_function("generated_1000_fns_formatted", |b| {
        b.iter(|| tel_syntax::format::format(black_box(&formatted)))
    });
    group.finish();
}

criterion_group!(benches, format_large_file);
criterion_main!(benches);
