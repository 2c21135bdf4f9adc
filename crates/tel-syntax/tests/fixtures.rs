//! Snapshots of the tree and errors for every `.tel` file under the repository's
//! `fixtures/`, found at run time, in `test_data/fixtures/<same path>.rast`.
//! Refresh with `UPDATE_EXPECT=1 cargo test -p tel-syntax --test fixtures`.

use std::path::{Path, PathBuf};

use expect_test::expect_file;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixtures_dir() -> PathBuf {
    repo_root().join("fixtures")
}

fn snapshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/fixtures")
}

/// All files under `dir` with extension `ext`, sorted, as paths relative to `dir`.
fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

fn tel_fixtures() -> Vec<PathBuf> {
    let files = files_with_ext(&fixtures_dir(), "tel");
    assert!(!files.is_empty(), "no fixtures found under {}", fixtures_dir().display());
    files
}

fn read(rel: &Path) -> String {
    std::fs::read_to_string(fixtures_dir().join(rel)).unwrap()
}

#[test]
fn snapshots() {
    for rel in tel_fixtures() {
        let text = read(&rel);
        let parse = tel_syntax::parse(&text);
        assert_eq!(parse.syntax_node().to_string(), text, "{}: not lossless", rel.display());
        let mut snapshot = rel.clone().into_os_string();
        snapshot.push(".rast");
        let snapshot = snapshot_dir().join(snapshot);
        if std::env::var_os("UPDATE_EXPECT").is_some() {
            // expect-test writes the file but does not create its folder
            std::fs::create_dir_all(snapshot.parent().unwrap()).unwrap();
        }
        expect_file![snapshot].assert_eq(&parse.debug_tree());
    }
}

#[test]
fn no_orphan_snapshots() {
    let fixtures = tel_fixtures();
    for rast in files_with_ext(&snapshot_dir(), "rast") {
        let fixture = rast.with_extension("");
        assert!(
            fixtures.contains(&fixture),
            "{} has no fixture any more: delete it",
            snapshot_dir().join(&rast).display()
        );
    }
}

fn render_errors(text: &str) -> String {
    let parse = tel_syntax::parse(text);
    let index = tel_syntax::LineIndex::new(text);
    parse
        .errors
        .iter()
        .map(|e| format!("  {} {}\n", index.human(e.range.start()), e.message))
        .collect()
}

/// valid/ and projects/ hold correct programs (`cyclic_use` is wrong only semantically).
#[test]
fn valid_fixtures_parse_without_errors() {
    let mut failures = String::new();
    for rel in tel_fixtures() {
        if !(rel.starts_with("valid") || rel.starts_with("projects")) {
            continue;
        }
        let errors = render_errors(&read(&rel));
        if !errors.is_empty() {
            failures += &format!("{}:\n{errors}", rel.display());
        }
    }
    assert!(failures.is_empty(), "syntax errors in valid fixtures:\n{failures}");
}

/// broken/ files say in their first line whether the mistake is `// Syntax` (must not
/// parse cleanly) or `// Semantic` (must).
#[test]
fn broken_fixtures_fail_as_labelled() {
    let mut failures = String::new();
    for rel in tel_fixtures() {
        if !rel.starts_with("broken") {
            continue;
        }
        let text = read(&rel);
        let errors = render_errors(&text);
        if text.starts_with("// Syntax") && errors.is_empty() {
            failures += &format!("{}: labelled Syntax but parses cleanly\n", rel.display());
        } else if text.starts_with("// Semantic") && !errors.is_empty() {
            failures +=
                &format!("{}: labelled Semantic but has syntax errors:\n{errors}", rel.display());
        }
    }
    assert!(failures.is_empty(), "{failures}");
}
