//! Editing one function body must re-run inference and hashing for that function and its
//! transitive dependents only. Proven by counting salsa executions, never by timing.

use std::collections::BTreeMap;

use tel_ide::AnalysisHost;
use tel_ide::fixture::Fixture;

const PROJECT: &str = r#"
//- /tel.toml
[program]
name = "incremental"
//- /base.tel
module base

pub fn f(x: Int) -> Int { x + 1 }

pub fn h(x: Int) -> Int { x * 2 }

pub fn unrelated(x: Int) -> Int ! {Log} {
    perform Log("x");
    x
}
//- /main.tel
module main

use base::{f, h, unrelated}

fn g(x: Int) -> Int { f(x) + 10 }

fn k(x: Int) -> Int { g(x) * g(x) }

fn other(x: Int) -> Int { h(x) - 3 }

fn main() -> Int ! {Log} { k(1) + other(2) + unrelated(3) }
"#;

fn hashes(host: &AnalysisHost) -> BTreeMap<String, String> {
    let analysis = host.analysis();
    let mut out = BTreeMap::new();
    for file in analysis.files() {
        for d in analysis.definitions(file).unwrap() {
            out.insert(d.qualified(), d.hash.map(|h| h.short()).unwrap_or_default());
        }
    }
    out
}

/// Edits `file` once without changing its meaning (a trailing newline). Files start
/// MEDIUM-durable and drop to LOW on their first edit; salsa does not backdate a result
/// across that drop, so the first edit of a file recomputes its own items once. The
/// counts below are those of every later keystroke.
fn warm_up(host: &mut AnalysisHost, file: tel_ide::FileId) {
    let text = host.analysis().file_text(file) + "\n";
    host.set_file_text(file, text);
    hashes(host);
    host.take_executions();
}

fn count(log: &[String], query: &str) -> usize {
    log.iter().filter(|e| e.starts_with(&format!("{query}("))).count()
}

#[test]
fn editing_a_body_rehashes_only_it_and_its_dependents() {
    let (mut host, files, _) =
        Fixture::parse(PROJECT).into_host(AnalysisHost::with_execution_log());
    let before = hashes(&host);
    assert!(before.values().all(|h| !h.is_empty()), "fixture has errors: {before:?}");
    host.take_executions();
    let base = files[0];
    warm_up(&mut host, base);

    // Change the constant in `f`'s body: same signature, same calls, new meaning.
    let text = host.analysis().file_text(base).replace("x + 1", "x + 2");
    host.set_file_text(base, text);
    let after = hashes(&host);
    let log = host.take_executions();

    let changed: Vec<&str> =
        before.keys().filter(|k| before[*k] != after[*k]).map(|k| k.as_str()).collect();
    assert_eq!(changed, ["base::f", "main::g", "main::k", "main::main"]);

    // Inference ran for the edited function only: the others' bodies and every signature
    // compared equal and were backdated.
    assert_eq!(count(&log, "infer"), 1, "{log:#?}");
    assert_eq!(count(&log, "signature_with_diagnostics"), 0, "{log:#?}");
    // Hashing ran for `f` and its transitive dependents g, k and main, and nothing else:
    // each is alone in its component, hashed by one `def_hash` execution.
    assert_eq!(count(&log, "def_hash"), 4, "{log:#?}");
    assert_eq!(count(&log, "hashed_component"), 0, "{log:#?}");
    // Only `f` was serialized again; g, k and main filled the holes of the templates they
    // kept (`hash_plan`) with their dependencies' new hashes.
    assert_eq!(count(&log, "hash_plan"), 1, "{log:#?}");
    // Only the edited body was lowered again: the others are lowered from their own
    // syntax, which the reparse left as it was.
    assert_eq!(count(&log, "item_body"), 1, "{log:#?}");
    assert_eq!(count(&log, "body"), 1, "{log:#?}");
}

#[test]
fn editing_trivia_recomputes_nothing_semantic() {
    let (mut host, files, _) =
        Fixture::parse(PROJECT).into_host(AnalysisHost::with_execution_log());
    let before = hashes(&host);
    host.take_executions();
    let main = files[1];
    warm_up(&mut host, main);

    let text = host.analysis().file_text(main).replace("fn g(", "// a comment\nfn g(");
    host.set_file_text(main, text);
    let after = hashes(&host);
    let log = host.take_executions();

    assert_eq!(before, after);
    assert_eq!(count(&log, "infer"), 0, "{log:#?}");
    assert_eq!(count(&log, "def_hash"), 0, "{log:#?}");
    assert_eq!(count(&log, "hash_plan"), 0, "{log:#?}");
    assert_eq!(count(&log, "hashed_component"), 0, "{log:#?}");
}

const RECURSIVE: &str = r#"
//- /tel.toml
[program]
name = "recursive"
//- /main.tel
module main

fn f(x: Int) -> Int { x + 1 }

fn even(n: Int) -> Bool { if n == 0 { true } else { odd(n - 1) } }

fn odd(n: Int) -> Bool { if n == 0 { false } else { even(f(n) - 2) } }

fn top(n: Int) -> Bool { even(n) }

fn alone(n: Int) -> Int { n * 3 }
"#;

#[test]
fn editing_a_callee_of_a_recursive_component_rehashes_the_component() {
    let (mut host, files, _) =
        Fixture::parse(RECURSIVE).into_host(AnalysisHost::with_execution_log());
    let before = hashes(&host);
    assert!(before.values().all(|h| !h.is_empty()), "fixture has errors: {before:?}");
    let main = files[0];
    warm_up(&mut host, main);

    let text = host.analysis().file_text(main).replace("x + 1", "x + 2");
    host.set_file_text(main, text);
    let after = hashes(&host);
    let log = host.take_executions();

    let changed: Vec<&str> =
        before.keys().filter(|k| before[*k] != after[*k]).map(|k| k.as_str()).collect();
    assert_eq!(changed, ["main::even", "main::f", "main::odd", "main::top"]);
    // f, the two members and top; the component is hashed as a whole (once per member
    // asking for it), the others alone from their templates, of which only f's is new.
    assert_eq!(count(&log, "def_hash"), 4, "{log:#?}");
    assert_eq!(count(&log, "hashed_component"), 2, "{log:#?}");
    assert_eq!(count(&log, "hash_plan"), 1, "{log:#?}");
}
