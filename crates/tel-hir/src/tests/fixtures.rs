//! The shared fixtures under /fixtures: valid programs and projects check without errors;
//! broken ones give the diagnostics snapshotted here.

use std::path::{Path, PathBuf};

use crate::project::Project;

pub(super) fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

pub(super) fn read_dir_sorted(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|d| d.map(|e| e.unwrap().path()).collect()).unwrap_or_default();
    v.sort();
    v
}

/// The `.tel` files of a project folder (recursively), paths relative to it.
pub(super) fn project_files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for p in read_dir_sorted(&d) {
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "tel") {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                out.push((rel, std::fs::read_to_string(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn errors_of(project: &Project) -> String {
    let rendered = super::render_diagnostics(project, true);
    rendered.lines().filter(|l| l.contains(" error: ")).map(|l| format!("{l}\n")).collect()
}

#[test]
fn valid_fixtures_check_without_errors() {
    let mut failures = String::new();
    for path in read_dir_sorted(&fixtures_dir().join("valid")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let project = Project::new([(name.clone(), text)]);
        failures.push_str(&errors_of(&project));
    }
    assert!(failures.is_empty(), "errors in valid fixtures:\n{failures}");
}

#[test]
fn valid_projects_check_without_errors() {
    let mut failures = String::new();
    for dir in read_dir_sorted(&fixtures_dir().join("projects")) {
        if !dir.is_dir() || dir.ends_with("cyclic_use") {
            continue;
        }
        let project = Project::new(project_files(&dir));
        let errs = errors_of(&project);
        if !errs.is_empty() {
            failures.push_str(&format!("{}:\n{errs}", dir.display()));
        }
    }
    assert!(failures.is_empty(), "errors in valid projects:\n{failures}");
}

#[test]
fn valid_fixtures_lower_to_core() {
    let mut failures = String::new();
    for path in read_dir_sorted(&fixtures_dir().join("valid")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let project = Project::new([(name.clone(), text)]);
        for (def, core) in project.core_defs() {
            if let Err(e) = core {
                failures.push_str(&format!("{name}: {def}: {e}\n"));
            }
        }
    }
    for dir in read_dir_sorted(&fixtures_dir().join("projects")) {
        if !dir.is_dir() || dir.ends_with("cyclic_use") {
            continue;
        }
        let project = Project::new(project_files(&dir));
        for (def, core) in project.core_defs() {
            if let Err(e) = core {
                failures.push_str(&format!("{}: {def}: {e}\n", dir.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn broken_fixtures_diagnostics() {
    let mut out = String::new();
    for path in read_dir_sorted(&fixtures_dir().join("broken")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let project = Project::new([(name.clone(), text)]);
        out.push_str(&super::render_diagnostics(&project, false));
    }
    let dir = fixtures_dir().join("projects/cyclic_use");
    out.push_str(&super::render_diagnostics(&Project::new(project_files(&dir)), false));
    expect_test::expect_file!["broken_fixtures.txt"].assert_eq(&out);
}

/// Every prefix of every valid fixture (as while typing it), and every fixture with a window
/// cut out of it, checks without panicking and lowers or refuses cleanly.
#[test]
fn edited_fixtures_never_panic() {
    for path in read_dir_sorted(&fixtures_dir().join("valid")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let cuts: Vec<usize> =
            (0..text.len()).step_by(97).filter(|i| text.is_char_boundary(*i)).collect();
        for &cut in &cuts {
            let prefix = &text[..cut];
            let project = Project::new([("main.tel".to_string(), prefix.to_string())]);
            let _ = project.diagnostics();
            let _ = project.core_defs();
            let end = (cut + 40).min(text.len());
            if text.is_char_boundary(end) {
                let holed = format!("{}{}", &text[..cut], &text[end..]);
                let project = Project::new([("main.tel".to_string(), holed)]);
                let _ = project.diagnostics();
                let _ = project.core_defs();
            }
        }
    }
}
