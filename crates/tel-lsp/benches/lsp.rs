//! The language server's figures, measured by driving the real binary over stdio on a
//! generated workspace of 20 modules × 50 functions (1,000 definitions, ~20,000 lines):
//!
//! - initial analysis: `initialize` until every file is checked and hashed (`tel/status`);
//! - a keystroke inside a body: `didChange` until the file's fresh diagnostics are published,
//!   and until the whole project is re-checked and re-hashed (`tel/status`);
//! - hover, inlay hints (a screenful), code lenses (the whole file) and completion (a name,
//!   a field, an effect): round trips, 50th and 99th percentile; and completion asked right
//!   after the keystroke that typed `quote.`, while the server is checking it;
//! - the server's resident memory at the end (and its peak).
//!
//! Run: `cargo bench -p tel-lsp --bench lsp` (the release binary is built first).
//! Timing a process over pipes is what an editor experiences, which is the point; criterion's
//! statistics add little to percentiles of round trips, so this is a plain bench binary.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tel_lsp::client::LspClient;

const MODULES: usize = 20;
const FUNCTIONS_PER_MODULE: usize = 50;
const SAMPLES: usize = 300;
const KEYSTROKES: usize = 40;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let i = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[i]
}

fn report(name: &str, samples: &mut [Duration]) {
    let p50 = percentile(samples, 0.50);
    let p99 = percentile(samples, 0.99);
    let max = *samples.iter().max().unwrap();
    println!(
        "{name:<34} p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms   (n={})",
        ms(p50),
        ms(p99),
        ms(max),
        samples.len()
    );
}

fn rss_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn pos(line: usize, character: usize) -> Value {
    json!({"line": line, "character": character})
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    tel_testgen::write_project(&root, MODULES, FUNCTIONS_PER_MODULE).unwrap();
    let lines: usize = (0..MODULES)
        .map(|k| {
            std::fs::read_to_string(root.join(format!("gen_m{k}.tel"))).unwrap().lines().count()
        })
        .sum();
    println!(
        "workspace: {MODULES} files, {} definitions, {lines} lines",
        MODULES * (FUNCTIONS_PER_MODULE + 3) + 1
    );

    // The engine alone, in this process, for comparison: what the server adds is the rest.
    let files: Vec<(std::path::PathBuf, String)> = (0..MODULES)
        .map(|k| {
            let p = root.join(format!("gen_m{k}.tel"));
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect();
    let (before, _) = rss_kib(std::process::id());
    let start = Instant::now();
    let mut host = tel_ide::AnalysisHost::default();
    host.add_project(Some(root.clone()), files);
    let analysis = host.analysis();
    for file in analysis.files().skip(1) {
        analysis.diagnostics(file).unwrap();
        analysis.definitions(file).unwrap();
    }
    let elapsed = start.elapsed();
    let (after, _) = rss_kib(std::process::id());
    println!(
        "{:<34} {:>7.1} ms, +{:.1} MiB resident",
        "engine alone: cold check+hash",
        ms(elapsed),
        (after.saturating_sub(before)) as f64 / 1024.0
    );
    drop((analysis, host));

    let mut client = LspClient::spawn(Command::new(env!("CARGO_BIN_EXE_tel-lsp")), json!({}));
    let root_uri = format!("file://{}", root.display());
    let start = Instant::now();
    client.initialize(&root_uri, false);
    client.wait_quiescent();
    let initial = start.elapsed();
    println!("{:<34} {:>7.1} ms", "initial analysis (all checked+hashed)", ms(initial));
    let (rss, _) = rss_kib(client.pid());
    println!("{:<34} {:>7.1} MiB", "resident after initial analysis", rss as f64 / 1024.0);

    // A module in the middle of the import chain: an edit there re-hashes the rest.
    let path = root.join("gen_m10.tel");
    let uri = format!("file://{}", path.display());
    let text = std::fs::read_to_string(&path).unwrap();
    client.open(&uri, &text);
    client.wait_quiescent();
    let doc = json!({"uri": uri});

    // Keystrokes inside one body: `let base = x * A + B;` of step 25 gets a digit typed
    // into B (valid: diagnostics stay empty, hashes change), then a stray `+` (an error),
    // then the `+` removed again.
    let marker = "pub fn step_10_25(";
    let fn_at = text.find(marker).unwrap();
    let base_at = fn_at + text[fn_at..].find("let base = ").unwrap();
    let line = text[..base_at].matches('\n').count();
    let line_text = text.lines().nth(line).unwrap().to_owned();
    let semi = line_text.find(';').unwrap();
    let mut version = 1;
    let mut to_diagnostics = Vec::new();
    let mut to_quiescent = Vec::new();
    for i in 0..KEYSTROKES {
        version += 1;
        let (edit_range, new_text, expect_error) = match i % 2 {
            // insert `+` before `;`: a syntax error
            0 => (json!({"start": pos(line, semi), "end": pos(line, semi)}), "+".to_owned(), true),
            // remove it again
            _ => (
                json!({"start": pos(line, semi), "end": pos(line, semi + 1)}),
                String::new(),
                false,
            ),
        };
        let start = Instant::now();
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"range": edit_range, "text": new_text}]}),
        );
        let diags = client.wait_diagnostics(&uri);
        to_diagnostics.push(start.elapsed());
        assert_eq!(!diags.is_empty(), expect_error, "{diags:?}");
        client.wait_quiescent();
        to_quiescent.push(start.elapsed());
    }
    // Valid keystrokes: a digit typed into the body's constant and removed (hashes change,
    // no diagnostics): until the project is re-checked and re-hashed.
    let mut valid_quiescent = Vec::new();
    for i in 0..KEYSTROKES {
        version += 1;
        let (edit_range, new_text) = match i % 2 {
            0 => (json!({"start": pos(line, semi), "end": pos(line, semi)}), "1"),
            _ => (json!({"start": pos(line, semi), "end": pos(line, semi + 1)}), ""),
        };
        let start = Instant::now();
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"range": edit_range, "text": new_text}]}),
        );
        client.wait_quiescent();
        valid_quiescent.push(start.elapsed());
    }
    report("keystroke → diagnostics published", &mut to_diagnostics);
    report("keystroke (error) → all re-checked", &mut to_quiescent);
    report("keystroke (valid) → all re-hashed", &mut valid_quiescent);

    // Hover at every definition name and call of the file, in turn.
    let mut targets = Vec::new();
    for (l, line_text) in text.lines().enumerate() {
        for marker in ["pub fn step_", "base_rate(", "Quote {", "perform Log", "previous("] {
            if let Some(c) = line_text.find(marker) {
                let c = if marker.starts_with("pub fn ") {
                    c + 7
                } else if marker.starts_with("perform ") {
                    c + 8
                } else {
                    c
                };
                targets.push((l, c));
            }
        }
    }
    let mut hovers = Vec::new();
    for i in 0..SAMPLES + 20 {
        let (l, c) = targets[i % targets.len()];
        let start = Instant::now();
        let r =
            client.call("textDocument/hover", json!({"textDocument": doc, "position": pos(l, c)}));
        if i >= 20 {
            hovers.push(start.elapsed());
        }
        assert!(!r.is_null(), "no hover at {l}:{c}");
    }
    report("hover", &mut hovers);

    let total_lines = text.lines().count();
    let mut hints = Vec::new();
    for i in 0..SAMPLES + 20 {
        let first = (i * 37) % total_lines.saturating_sub(60).max(1);
        let range = json!({"start": pos(first, 0), "end": pos(first + 60, 0)});
        let start = Instant::now();
        let r = client.call("textDocument/inlayHint", json!({"textDocument": doc, "range": range}));
        if i >= 20 {
            hints.push(start.elapsed());
        }
        assert!(r.is_array());
    }
    report("inlay hints (60 lines)", &mut hints);

    let mut lenses = Vec::new();
    for i in 0..SAMPLES + 20 {
        let start = Instant::now();
        let r = client.call("textDocument/codeLens", json!({"textDocument": doc}));
        if i >= 20 {
            lenses.push(start.elapsed());
        }
        assert!(r.as_array().is_some_and(|a| a.len() >= FUNCTIONS_PER_MODULE));
    }
    report("code lenses (whole file)", &mut lenses);

    // Completion in a quiet file, in turn: a name being typed in an expression (locals,
    // items, imports, builtins), a field after `quote.`, an effect after `perform `.
    let mut completion_targets = Vec::new();
    for (l, line_text) in text.lines().enumerate() {
        for (marker, skip) in [("total + previous", 2), ("quote.price", 6), ("perform Log", 8)] {
            if let Some(c) = line_text.find(marker) {
                completion_targets.push((l, c + skip, marker));
            }
        }
    }
    let mut completions = Vec::new();
    for i in 0..SAMPLES + 20 {
        let (l, c, marker) = completion_targets[i % completion_targets.len()];
        let start = Instant::now();
        let r = client
            .call("textDocument/completion", json!({"textDocument": doc, "position": pos(l, c)}));
        if i >= 20 {
            completions.push(start.elapsed());
        }
        let items = r["items"].as_array().map_or(0, Vec::len);
        assert!(items > 0, "no completion for {marker} at {l}:{c}");
    }
    report("completion", &mut completions);

    // Typing `quote.` on a new line of a body and asking at once, while the server checks the
    // edit: the text does not parse, and completion must not wait for the checking.
    let insert_line = text.lines().position(|l| l.contains("let bounded = ")).unwrap() + 1;
    let mut typed = Vec::new();
    for i in 0..KEYSTROKES * 2 {
        version += 1;
        let start = Instant::now();
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"range": {"start": pos(insert_line, 0), "end": pos(insert_line, 0)},
                                       "text": "    quote.\n"}]}),
        );
        let r = client.call(
            "textDocument/completion",
            json!({"textDocument": doc, "position": pos(insert_line, 10)}),
        );
        typed.push(start.elapsed());
        let labels: Vec<&str> =
            r["items"].as_array().unwrap().iter().map(|i| i["label"].as_str().unwrap()).collect();
        assert_eq!(labels, ["asset", "price"], "round {i}");
        version += 1;
        client.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri, "version": version},
                   "contentChanges": [{"range": {"start": pos(insert_line, 0), "end": pos(insert_line + 1, 0)},
                                       "text": ""}]}),
        );
        client.wait_quiescent();
    }
    report("keystroke + completion (`quote.`)", &mut typed);

    let (rss, peak) = rss_kib(client.pid());
    println!(
        "{:<34} {:>7.1} MiB (peak {:.1} MiB)",
        "resident memory",
        rss as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    client.shutdown();
}
