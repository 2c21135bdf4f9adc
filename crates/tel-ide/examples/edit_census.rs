//! Which queries one edit re-executes: the incremental benchmark's mid-chain edit, with
//! salsa's execution log summed by query. `cargo run --release -p tel-ide --example edit_census`

use std::collections::BTreeMap;
use std::path::PathBuf;
use tel_ide::AnalysisHost;

fn main() {
    let project: Vec<_> = tel_testgen::generate_project(20, 50)
        .into_iter()
        .map(|(path, text)| (PathBuf::from("/bench").join(path), text))
        .collect();
    let mut host = AnalysisHost::with_execution_log();
    let files = host.add_project(Some(PathBuf::from("/bench")), project);
    let check = |host: &AnalysisHost| {
        let analysis = host.analysis();
        for &file in &files {
            assert!(analysis.diagnostics(file).unwrap().is_empty());
            analysis.definitions(file).unwrap();
        }
    };
    check(&host);
    host.take_executions();
    let file = files[10];
    let text = host.analysis().file_text(file);
    let at = text.find("fn step_10_25(").unwrap()
        + text[text.find("fn step_10_25(").unwrap()..].find("base % 2").unwrap();
    let mut new = text.clone();
    new.replace_range(at..at + "base % 2".len(), "base % 3");
    host.set_file_text(file, new);
    check(&host);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for e in host.take_executions() {
        let query = e.split('(').next().unwrap_or(&e).to_string();
        *counts.entry(query).or_default() += 1;
    }
    for (q, n) in counts {
        println!("{n:>6} {q}");
    }
}
