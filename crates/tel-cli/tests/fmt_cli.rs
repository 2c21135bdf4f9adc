//! `tel fmt` through the real binary: in place, `--check`, stdin, files with syntax errors
//! left untouched, and definition hashes identical before and after formatting.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use std::io::Write;

use support::{Out, TEL, repo};

/// `tel ARGS` in `dir`, its `TEL_CODEBASE` a file that is not there.
fn tel_in(dir: &Path, args: &[&str]) -> Out {
    let mut cmd = Command::new(TEL);
    cmd.args(args).current_dir(dir).env("NO_COLOR", "1");
    Out::of(cmd.env("TEL_CODEBASE", dir.join("no-codebase.sqlite")))
}

fn tel_stdin(dir: &Path, args: &[&str], input: &str) -> Out {
    let mut child = Command::new(TEL)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tel runs");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap().into()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every `.tel` file below `dir`, sorted.
fn tel_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "tel") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The same program, badly laid out: line breaks kept (a line comment needs its own) but
/// no indentation and no blank lines, two spaces between tokens and one before commas.
fn mangle(text: &str) -> String {
    let (tokens, _) = tel_syntax::lexer::lex(text);
    let mut out = String::new();
    let mut offset = 0;
    for t in tokens {
        let s = &text[offset..offset + t.len as usize];
        offset += t.len as usize;
        match t.kind {
            tel_syntax::SyntaxKind::WHITESPACE if s.contains('\n') => out.push('\n'),
            tel_syntax::SyntaxKind::WHITESPACE => out.push_str("  "),
            tel_syntax::SyntaxKind::COMMA => out.push_str(" ,"),
            _ => out.push_str(s),
        }
    }
    out
}

/// `tel hash --json` of `dir`, as (module, name, kind, hash) rows: ranges move when the
/// layout changes, hashes must not.
fn hashes(dir: &Path) -> Vec<(String, String, String, String)> {
    let o = tel_in(dir, &["hash", "--json", "."]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let defs: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let mut rows: Vec<_> = defs
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap_or("(none)").to_owned();
            (s("module"), s("name"), s("kind"), s("hash"))
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn formatting_a_project_keeps_every_definition_hash() {
    for project in ["exchange", "ledger"] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(project);
        copy_dir(&repo().join("fixtures/projects").join(project), &dir);
        for file in tel_files(&dir) {
            let text = std::fs::read_to_string(&file).unwrap();
            std::fs::write(&file, mangle(&text)).unwrap();
        }
        let before = hashes(&dir);
        assert!(before.len() >= 5, "{project}: {before:?}");
        assert!(before.iter().all(|r| r.3 != "(none)"), "{project}: unhashed definitions");

        let o = tel_in(&dir, &["fmt"]);
        assert_eq!(o.code, 0, "{project}: {}", o.stderr);
        let files = tel_files(&dir);
        assert!(o.stderr.contains(&format!("{n} of {n} files reformatted", n = files.len())));
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            assert!(text.contains("\n    "), "{}: not re-indented", file.display());
        }
        assert_eq!(hashes(&dir), before, "{project}: formatting changed a hash");

        // a second run has nothing left to do
        let o = tel_in(&dir, &["fmt", "--check"]);
        assert_eq!(o.code, 0, "{project}: {}{}", o.stdout, o.stderr);
        assert_eq!(o.stdout, "");
    }
}

#[test]
fn check_lists_unformatted_files_and_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("a.tel"), "fn a() -> Int {\n    1\n}\n").unwrap();
    std::fs::write(dir.join("b.tel"), "fn b()->Int{2}").unwrap();
    let o = tel_in(dir, &["fmt", "--check", "."]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(o.stdout, "b.tel\n");
    assert!(o.stderr.contains("1 of 2 files would be reformatted"), "{}", o.stderr);
    assert_eq!(std::fs::read_to_string(dir.join("b.tel")).unwrap(), "fn b()->Int{2}");

    let o = tel_in(dir, &["fmt", "b.tel"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(std::fs::read_to_string(dir.join("b.tel")).unwrap(), "fn b() -> Int {\n    2\n}\n");
    let o = tel_in(dir, &["fmt", "--check"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    // no temporary file left behind
    let names: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn a_file_with_syntax_errors_is_reported_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let broken = "fn broken() -> Int {\n    let x = ;\n    x\n}\n";
    std::fs::write(dir.join("broken.tel"), broken).unwrap();
    std::fs::write(dir.join("fine.tel"), "fn fine()->Int{1}").unwrap();
    let o = tel_in(dir, &["fmt"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let err = o.stderr;
    assert!(err.contains("error[E0001]: expected an expression"), "{err}");
    assert!(err.contains("broken.tel:2:12"), "{err}");
    assert!(err.contains("1 of 2 files reformatted, 1 left as is because of errors"), "{err}");
    assert_eq!(std::fs::read_to_string(dir.join("broken.tel")).unwrap(), broken);
    assert_eq!(
        std::fs::read_to_string(dir.join("fine.tel")).unwrap(),
        "fn fine() -> Int {\n    1\n}\n"
    );
}

#[test]
fn stdin_to_stdout() {
    let dir = repo();
    let o = tel_stdin(&dir, &["fmt", "-"], "fn f(x:Int)->Int{x*2}");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stdout, "fn f(x: Int) -> Int {\n    x * 2\n}\n");

    let o = tel_stdin(&dir, &["fmt", "--check", "-"], "fn f() {}\n");
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = tel_stdin(&dir, &["fmt", "--check", "-"], "fn f( ) {}\n");
    assert_eq!((o.code, o.stdout.as_str()), (1, "<stdin>\n"));

    let o = tel_stdin(&dir, &["fmt", "-"], "fn f( {}");
    assert_eq!(o.code, 1);
    assert_eq!(o.stdout, "");
    assert!(o.stderr.contains("<stdin>:1:"), "{}", o.stderr);
}

#[test]
fn usage_errors() {
    let dir = repo();
    let o = tel_in(&dir, &["fmt", "-", "fixtures/valid"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("`-` (stdin) cannot be combined"), "{}", o.stderr);
    let o = tel_in(&dir, &["fmt", "--check", "no/such/dir"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("no/such/dir: no such file or directory"), "{}", o.stderr);
}
