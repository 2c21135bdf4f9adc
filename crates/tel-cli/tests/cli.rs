//! The real `tel` binary, driven as a user or a script would: exit statuses, rendered and JSON
//! diagnostics, hashes and equivalence.

mod support;

use std::path::Path;
use std::process::Command;

use expect_test::expect_file;
use support::{Out, TEL, repo};

/// `tel ARGS` from the repository's root, with the caller's `TEL_CODEBASE` if any.
fn tel(args: &[&str]) -> Out {
    Out::of(Command::new(TEL).args(args).current_dir(repo()).env("NO_COLOR", "1"))
}

#[test]
fn every_valid_fixture_and_project_checks_clean() {
    let o =
        tel(&["check", "fixtures/valid", "fixtures/projects/exchange", "fixtures/projects/ledger"]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("no problems"));
}

#[test]
fn every_broken_fixture_reports_all_its_errors() {
    let dir = repo().join("fixtures/broken");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut rendered = String::new();
    for file in files {
        let rel = file.strip_prefix(repo()).unwrap().to_str().unwrap().to_owned();
        let o = tel(&["check", &rel]);
        let out = o.stdout;
        let errors = out.matches("\nerror[").count() + usize::from(out.starts_with("error["));
        let warnings = out.matches("warning[").count();
        if warnings > 0 && errors == 0 {
            // Only warnings: the check passes.
            assert_eq!(o.code, 0, "{rel}");
        } else {
            assert_eq!(o.code, 1, "{rel} should fail:\n{out}");
            assert!(errors >= 1, "{rel}");
        }
        rendered.push_str(&format!("=== {rel}\n{out}"));
    }
    // The files written with several independent mistakes get every one of them reported.
    for (file, at_least) in [("several_syntax_errors.tel", 4), ("several_semantic_errors.tel", 5)] {
        let o = tel(&["check", "--json", &format!("fixtures/broken/{file}")]);
        let json: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
        let n = json.as_array().unwrap().iter().filter(|d| d["severity"] == "error").count();
        assert!(n >= at_least, "{file}: {n} errors, expected at least {at_least}");
    }
    expect_file!["snapshots/check_broken.txt"].assert_eq(&rendered);
}

#[test]
fn json_diagnostics_have_positions() {
    let o = tel(&["check", "--json", "fixtures/broken/missing_paren_in_call.tel"]);
    assert_eq!(o.code, 1);
    let json: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let first = &json[0];
    assert_eq!(first["file"], "fixtures/broken/missing_paren_in_call.tel");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["code"], "E0001");
    assert!(first["message"].as_str().unwrap().contains("expected `)`"));
    assert!(first["range"]["start"]["line"].as_u64().unwrap() >= 1);
    assert!(first["range"]["start"]["offset"].as_u64().unwrap() > 0);
}

#[test]
fn usage_and_io_errors_exit_2_with_a_clear_message() {
    let o = tel(&["check", "no/such/file.tel"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("no/such/file.tel: no such file or directory"), "{}", o.stderr);

    let o = tel(&["check", "fixtures/projects/exchange/tel.toml"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("not a TEL source file"), "{}", o.stderr);

    let o = tel(&["frobnicate"]);
    assert_eq!(o.code, 2);
}

#[test]
fn hash_prints_a_file_hash_and_sorted_definitions() {
    let o = tel(&["hash", "fixtures/valid/recursion.tel"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let out = o.stdout;
    let mut lines = out.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("fixtures/valid/recursion.tel #"), "{header}");
    let names: Vec<&str> = lines.map(|l| l.split_whitespace().nth(2).unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
    assert!(names.contains(&"fib"));

    let o = tel(&["hash", "--json", "fixtures/valid/recursion.tel"]);
    let json: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let fib = json.as_array().unwrap().iter().find(|d| d["name"] == "fib").unwrap();
    assert_eq!(fib["kind"], "fn");
    assert_eq!(fib["hash"].as_str().unwrap().len(), 52);
    assert!(fib["hash"].as_str().unwrap().starts_with(fib["short"].as_str().unwrap()));
    assert_eq!(fib["file"], "fixtures/valid/recursion.tel");

    let full = tel(&["hash", "--full", "fixtures/valid/recursion.tel"]).stdout;
    assert!(full.contains(&format!("#{}", fib["hash"].as_str().unwrap())));
}

#[test]
fn hash_of_a_file_with_errors_exits_1() {
    let o = tel(&["hash", "fixtures/broken/type_mismatches.tel"]);
    assert_eq!(o.code, 1);
    assert!(o.stderr.contains("have no hash"), "{}", o.stderr);
}

#[test]
fn equiv_compares_normalized_forms() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.tel");
    let b = dir.path().join("b.tel");
    std::fs::write(&a, "/// Fee.\nfn fee(amount: Int) -> Int { amount * 3 / 1000 }\n").unwrap();
    std::fs::write(
        &b,
        "// same meaning, other names and layout\nfn fee_bps(x: Int) -> Int {\n    x * 3\n        / 1000\n}\n\nfn other(x: Int) -> Int { x * 3 / 1001 }\n",
    )
    .unwrap();
    let spec = |p: &Path, n: &str| format!("{}::{n}", p.display());

    let o = tel(&["equiv", &spec(&a, "fee"), &spec(&b, "fee_bps")]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.starts_with("equivalent (same hash #"), "{}", o.stdout);

    let o = tel(&["equiv", &spec(&a, "fee"), &spec(&b, "other")]);
    assert_eq!(o.code, 1);
    assert!(
        o.stdout.contains("first difference: in body → right operand → literal: `1000` vs `1001`"),
        "{}",
        o.stdout
    );

    let o = tel(&["equiv", &spec(&a, "nope"), &spec(&b, "other")]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("no definition `nope`"));
}

/// `#hash` references in source are checked against the stored definitions: types, effects
/// (a stored function performing the prelude's `Log` performs the `Log` source names), and
/// `tel equiv` looks hashes up in the store.
#[test]
fn hash_references_resolve_against_the_codebase() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| support::tel_in(dir.path(), args);
    std::fs::write(dir.path().join("tel.toml"), "[program]\nname = \"refs\"\n").unwrap();
    std::fs::write(
        dir.path().join("lib.tel"),
        "module lib\npub fn fee(amount: Int) -> Int { amount * 3 / 1000 }\n\
         pub fn note(x: Int) -> () ! {Log} { perform Log(show(x)) }\n",
    )
    .unwrap();
    let o = run(&["store", "add", "lib.tel"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = run(&["hash", "--json", "lib.tel"]);
    let json: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let short = |name: &str| {
        json.as_array().unwrap().iter().find(|d| d["name"] == name).unwrap()["short"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (fee, note) = (short("fee"), short("note"));

    std::fs::write(
        dir.path().join("main.tel"),
        format!(
            "module main\n\
             fn main() -> Int ! {{Log}} {{\n    #{note}(5);\n    #{fee}(100_000) + #{}(1)\n}}\n\
             fn wrong_type() -> String {{ #{fee}(1) }}\n\
             fn missing_row() -> () {{ #{note}(1) }}\n\
             fn wrong_kind() -> Int {{ let x: #{fee} = 1; x }}\n",
            &fee[..4]
        ),
    )
    .unwrap();
    let o = run(&["check", "--json", "main.tel"]);
    assert_eq!(o.code, 1);
    let json: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let messages: Vec<(u64, String)> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["range"]["start"]["line"].as_u64().unwrap(),
                d["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // `main` is fine: every reference resolved, `Log` came through the stored `note`.
    assert!(messages.iter().all(|(line, _)| *line >= 6), "{messages:#?}");
    assert!(messages.iter().any(|(l, m)| *l == 6 && m.contains("expected `String`, found `Int`")));
    assert!(messages.iter().any(|(l, m)| *l == 7 && m.contains("performs `Log`")), "{messages:#?}");
    assert!(messages.iter().any(|(l, m)| *l == 8 && m.contains("not a type")), "{messages:#?}");

    let o = run(&["equiv", &format!("#{fee}"), "lib.tel::fee"]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    let o = run(&["equiv", &format!("#{fee}"), &format!("#{note}")]);
    assert_eq!(o.code, 1);
    let o = run(&["equiv", "#0000", &format!("#{note}")]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("no definition matches #0000"), "{}", o.stderr);
}

/// `tel check` with no path checks the project of the current folder, and `.` means the same.
#[test]
fn no_path_means_the_current_project() {
    let project = repo().join("fixtures/projects/exchange");
    let files = std::fs::read_dir(&project)
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "tel"))
        .count();
    for args in [&["check"][..], &["check", "."], &["check", "./"]] {
        let o = Out::of(Command::new(TEL).args(args).current_dir(&project));
        assert_eq!(o.code, 0, "{args:?}: {}", o.stderr);
        assert!(
            o.stderr.contains(&format!("checked {files} files: no problems")),
            "{args:?}: {}",
            o.stderr
        );
    }
}

/// `tel lsp` is the language server (crates/tel-lsp has the full end-to-end tests): it
/// answers `initialize` over stdio with its capabilities and exits cleanly on `exit`.
#[test]
fn tel_lsp_serves_over_stdio() {
    use std::io::{BufRead, BufReader, Read, Write};
    let frame = |body: &str| format!("Content-Length: {}\r\n\r\n{body}", body.len());
    let mut child = Command::new(TEL)
        .arg("lsp")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // The answer with `id`, skipping the server's notifications and requests.
    let mut answer = |id: u32| loop {
        let mut len = 0;
        loop {
            let mut line = String::new();
            assert!(stdout.read_line(&mut line).unwrap() > 0, "server closed its output");
            match line.trim_end().strip_prefix("Content-Length: ") {
                Some(n) => len = n.parse().unwrap(),
                None if line.trim_end().is_empty() => break,
                None => {}
            }
        }
        let mut body = vec![0; len];
        stdout.read_exact(&mut body).unwrap();
        let message: serde_json::Value = serde_json::from_slice(&body).unwrap();
        if message["id"] == id && message.get("method").is_none() {
            return message;
        }
    };
    let mut send = |message: &str| stdin.write_all(frame(message).as_bytes()).unwrap();
    send(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}"#);
    let init = answer(1);
    assert!(init["result"]["capabilities"]["hoverProvider"].as_bool().unwrap_or(false), "{init}");
    send(r#"{"jsonrpc":"2.0","method":"initialized","params":{}}"#);
    send(r#"{"jsonrpc":"2.0","id":2,"method":"shutdown"}"#);
    assert_eq!(answer(2)["result"], serde_json::Value::Null);
    send(r#"{"jsonrpc":"2.0","method":"exit"}"#);
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success(), "tel lsp exited with {status}");
}
