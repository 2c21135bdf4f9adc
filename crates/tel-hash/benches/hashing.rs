//! Hashing throughput: a whole 10,000-definition program (dependency graph, SCCs,
//! components), one definition's encode/decode, and SCCs of a 10,000-node graph.
//!
//!   CARGO_TARGET_DIR=… cargo bench -p tel-hash --bench hashing

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use criterion::{Criterion, criterion_group, criterion_main};
use smol_str::SmolStr;
use std::hint::black_box;
use tel_hash::core::*;
use tel_hash::{decode, encode, hash_program, sccs};

const N: usize = 10_000;

fn name(i: usize) -> String {
    format!("m::f{i}")
}

/// `f_i(x) = f_{i-1}(x) + f_{i/2}(x * i)`, and every 10th pair `f_i`, `f_{i+1}` also call
/// each other (a two-member component).
fn program() -> Vec<(SmolStr, CoreDef)> {
    (0..N)
        .map(|i| {
            let mut body = bin(BinOp::Mul, local(0), int(i as i64));
            if i > 0 {
                body = bin(
                    BinOp::Add,
                    call(def(&name(i - 1)), vec![local(0)]),
                    call(def(&name(i / 2)), vec![body]),
                );
            }
            if i % 10 == 0 && i + 1 < N {
                body = bin(BinOp::Sub, body, call(def(&name(i + 1)), vec![int(1)]));
            }
            let d = CoreDef::Fn { params: vec![Type::Int], ret: Type::Int, effects: vec![], body };
            (SmolStr::new(name(i)), d)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let prog = program();
    let mut g = c.benchmark_group("hash");
    g.sample_size(10);
    g.bench_function("hash_program 10k definitions", |b| {
        b.iter(|| hash_program(black_box(&prog), &|_| None).unwrap())
    });
    g.finish();

    let t = treasury();
    let resolved = tel_hash::hash_program(&t, &|_| None).unwrap();
    let lookup = |n: &SmolStr| {
        resolved.iter().find(|(m, _)| m == n).map(|(_, h)| tel_hash::ResolvedRef::Hash(*h))
    };
    let transfer = &t.iter().find(|(n, _)| n == "treasury::transfer").unwrap().1;
    let bytes = encode(transfer, &lookup).unwrap();
    c.bench_function("encode treasury::transfer", |b| {
        b.iter(|| encode(black_box(transfer), &lookup).unwrap())
    });
    c.bench_function("decode treasury::transfer", |b| {
        b.iter(|| decode(black_box(&bytes)).unwrap())
    });

    let graph: Vec<Vec<usize>> =
        (0..N).map(|i| if i > 0 { vec![i - 1, i / 2] } else { vec![] }).collect();
    c.bench_function("sccs 10k nodes", |b| b.iter(|| sccs(black_box(&graph))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
