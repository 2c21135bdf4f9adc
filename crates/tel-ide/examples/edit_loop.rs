//! The incremental benchmark's workload as a plain loop, for profilers: a generated
//! 20-module project, then N one-character edits to one function (default `step_10_25` in
//! module 10, with about 500 dependents; `edit_loop 200 19 step_19_45` edits one with few),
//! each followed by every file's diagnostics and hashes.
//! `cargo build --release -p tel-ide --example edit_loop && perf record target/release/examples/edit_loop 200`

use std::path::PathBuf;
use tel_ide::AnalysisHost;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100);
    let module: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10);
    let function = format!("fn {}(", args.get(3).map_or("step_10_25", |f| f.as_str()));
    let project: Vec<_> = tel_testgen::generate_project(20, 50)
        .into_iter()
        .map(|(path, text)| (PathBuf::from("/bench").join(path), text))
        .collect();
    let mut host = AnalysisHost::default();
    let files = host.add_project(Some(PathBuf::from("/bench")), project);
    let check = |host: &AnalysisHost| {
        let analysis = host.analysis();
        let mut hashed = 0;
        for &file in &files {
            assert!(analysis.diagnostics(file).unwrap().is_empty());
            hashed +=
                analysis.definitions(file).unwrap().iter().filter(|d| d.hash.is_some()).count();
        }
        hashed
    };
    check(&host);
    let start = std::time::Instant::now();
    for i in 0..n {
        let file = files[module];
        let text = host.analysis().file_text(file);
        let at = text.find(&function).unwrap();
        let (from, to) =
            if i % 2 == 0 { ("base % 2", "base % 3") } else { ("base % 3", "base % 2") };
        let rel = text[at..].find(from).unwrap();
        let mut new = text.clone();
        new.replace_range(at + rel..at + rel + from.len(), to);
        host.set_file_text(file, new);
        check(&host);
    }
    println!("{n} edits: {:.2} ms each", start.elapsed().as_secs_f64() * 1e3 / n as f64);
}
