//! Issue 3's figures: cold check + hash of a generated 20,000-line project (1,000 functions in
//! 20 modules), and re-check + re-hash after a one-character edit inside one function body.
//!
//! `cargo bench -p tel-ide --bench analysis`

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use tel_ide::{AnalysisHost, FileId};

// The `tel` binary uses mimalloc too: the engine allocates many small trees and arenas.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const MODULES: usize = 20;
const FUNCTIONS_PER_MODULE: usize = 50;

fn project() -> Vec<(PathBuf, String)> {
    tel_testgen::generate_project(MODULES, FUNCTIONS_PER_MODULE)
        .into_iter()
        .map(|(path, text)| (PathBuf::from("/bench").join(path), text))
        .collect()
}

/// What `tel check` + `tel hash` compute: every diagnostic and every definition's hash.
fn check_and_hash(host: &AnalysisHost, files: &[FileId]) -> usize {
    let analysis = host.analysis();
    let mut n = 0;
    for &file in files {
        let diagnostics = analysis.diagnostics(file).unwrap();
        assert!(diagnostics.is_empty(), "generated project has errors: {diagnostics:?}");
        n += analysis.definitions(file).unwrap().iter().filter(|d| d.hash.is_some()).count();
    }
    n
}

fn loaded() -> (AnalysisHost, Vec<FileId>) {
    let mut host = AnalysisHost::default();
    let files = host.add_project(Some(PathBuf::from("/bench")), project());
    (host, files)
}

/// Flips `base % 2` to `base % 3` (and back) in the function `name`: a one-character edit.
fn edit(host: &mut AnalysisHost, file: FileId, name: &str, flip: bool) {
    let text = host.analysis().file_text(file);
    let at = text.find(&format!("fn {name}(")).expect("function exists");
    let (from, to) = if flip { ("base % 2", "base % 3") } else { ("base % 3", "base % 2") };
    let rel = text[at..].find(from).expect("function body has the literal");
    let mut new = text.clone();
    new.replace_range(at + rel..at + rel + from.len(), to);
    host.set_file_text(file, new);
}

fn bench(c: &mut Criterion) {
    let lines: usize = project().iter().map(|(_, t)| t.lines().count()).sum();
    eprintln!("generated project: {MODULES} modules, {lines} lines");

    // From the files' texts: loading (which parses and builds the item trees) is part of it.
    c.bench_function("cold check + hash (20 modules, 1,000 fns)", |b| {
        b.iter_batched(
            project,
            |texts| {
                let mut host = AnalysisHost::default();
                let files = host.add_project(Some(PathBuf::from("/bench")), texts);
                black_box(check_and_hash(&host, &files))
            },
            BatchSize::PerIteration,
        )
    });

    for (label, module, function) in [
        // The chain's middle: about half of all functions depend on it.
        ("edit mid-chain fn (≈500 dependents)", 10, "step_10_25"),
        // Near the end of the chain: few dependents.
        ("edit last-module fn (few dependents)", 19, "step_19_45"),
    ] {
        let (mut host, files) = loaded();
        let defs = check_and_hash(&host, &files);
        assert!(defs > 1000);
        let mut flip = true;
        c.bench_function(&format!("re-check + re-hash after 1-char {label}"), |b| {
            b.iter(|| {
                edit(&mut host, files[module], function, flip);
                flip = !flip;
                black_box(check_and_hash(&host, &files))
            })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
