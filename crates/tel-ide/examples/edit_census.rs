//! Which queries one edit re-executes: the incremental benchmark's mid-chain edit, with
//! salsa's execution log summed by query, for the first edit of the file (which lowers its
//! durability, so more runs) and for the next, what every later keystroke costs.
//! `cargo run --release -p tel-ide --example edit_census`

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
    for (edit, (from, to)) in
        [("first", ("base % 2", "base % 3")), ("second", ("base % 3", "base % 2"))]
    {
        let text = host.analysis().file_text(file);
        let at = text.find("fn step_10_25(").unwrap();
        let at = at + text[at..].find(from).unwrap();
        let mut new = text.clone();
        new.replace_range(at..at + from.len(), to);
        host.set_file_text(file, new);
        check(&host);
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for e in host.take_executions() {
            let query = e.split('(').next().unwrap_or(&e).to_string();
            *counts.entry(query).or_default() += 1;
        }
        println!("{edit} edit:");
        for (q, n) in counts {
            println!("{n:>6} {q}");
        }
    }
}
