//! Debug information: `locate_expr` maps (definition hash, expression id) — what the VM
//! reports per frame — to a file and range, numbering the hashed body as the VM does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use expect_test::expect;
use tel_hash::CodeHash;
use tel_hash::core::{CoreDef, Expr, Lit, preorder};
use tel_ide::fixture::Fixture;
use tel_ide::{Analysis, AnalysisHost, FileId, TextRange};

/// A function's hashed body, as the VM loads it.
fn hashed_body(analysis: &Analysis, file: FileId, name: &str) -> (CodeHash, Expr) {
    let member = analysis.hashed(file, name).unwrap().expect("the definition hashes");
    match tel_hash::decode(&member.bytes).expect("canonical bytes decode") {
        CoreDef::Fn { body, .. } => (member.hash, body),
        other => panic!("{name} is a {:?}", other.kind()),
    }
}

fn is_path(t: &str) -> bool {
    !t.is_empty() && t.split("::").all(|s| s.chars().all(|c| c.is_alphanumeric() || c == '_'))
}

/// Whether `text` can be the source of core expression `e`: a lowering or numbering
/// mistake (a clause's body given another clause's range, an id off by one) puts an
/// expression on text of another kind.
fn fits(e: &Expr, text: &str) -> bool {
    let t = text.trim();
    let starts_upper = t.chars().next().is_some_and(char::is_uppercase);
    match e {
        Expr::Perform { .. } => t.starts_with("perform"),
        Expr::Handle { .. } => t.starts_with("handle"),
        Expr::Resume(_) => t.starts_with("resume"),
        Expr::Abort(_) => t.starts_with("abort"),
        Expr::If { .. } => t.starts_with("if"),
        Expr::Match { .. } => t.starts_with("match"),
        Expr::Within { .. } => t.starts_with("within"),
        Expr::After { .. } => t.starts_with("after"),
        // the chain a block becomes
        Expr::Let { .. } | Expr::Seq { .. } => t.starts_with('{'),
        Expr::Binary { op, .. } => t.contains(op.symbol()),
        Expr::Unary { op, .. } => t.starts_with(op.symbol()),
        Expr::Call { .. } => t.ends_with(')'),
        Expr::List(_) => t.starts_with('['),
        Expr::Record { .. } => t.ends_with('}'),
        Expr::Field { name, .. } => t.ends_with(name.as_str()),
        // `|x| ..`, or a constructor used as a function value (then its `Variant` and
        // `Local`s have the constructor's path too)
        Expr::Lambda { .. } => t.starts_with('|') || (is_path(t) && starts_upper),
        Expr::Variant { .. } => starts_upper || t.contains("::"),
        Expr::Local(_) | Expr::Ref(_) => is_path(t) || t.starts_with('#'),
        Expr::Lit(Lit::Int(n)) => match t.strip_prefix('-') {
            Some(magnitude) => tel_syntax::lit::parse_negated_int(magnitude) == Ok(*n),
            None => tel_syntax::lit::parse_int(t) == Ok(*n),
        },
        Expr::Lit(Lit::Bool(b)) => t == b.to_string(),
        Expr::Lit(Lit::String(s)) => tel_syntax::lit::unescape_string(t).is_ok_and(|u| u == *s),
        Expr::Lit(Lit::Duration(ms)) => tel_syntax::lit::parse_duration_ms(t) == Ok(*ms),
        // `()`, or the unit of a block without tail, an `if` without `else`, a `resume()`
        Expr::Lit(Lit::Unit) => {
            t == "()" || t.starts_with('{') || t.starts_with("if") || t.starts_with("resume")
        }
    }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sorted_dir(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

/// Every valid fixture as a project of its own, and the fixture projects but `cyclic_use`,
/// all in one host: `locate_expr` searches every loaded project.
fn load_fixtures() -> (AnalysisHost, Vec<FileId>) {
    let mut host = AnalysisHost::default();
    let mut ids = Vec::new();
    for path in sorted_dir(&workspace().join("fixtures/valid")) {
        let text = std::fs::read_to_string(&path).unwrap();
        ids.extend(host.add_project(None, vec![(path, text)]));
    }
    for dir in sorted_dir(&workspace().join("fixtures/projects")) {
        if !dir.is_dir() || dir.ends_with("cyclic_use") {
            continue;
        }
        let spec = tel_ide::project::project_at(&dir).expect("fixture project");
        let files =
            spec.files.iter().map(|f| (f.clone(), std::fs::read_to_string(f).unwrap())).collect();
        ids.extend(host.add_project(spec.root.clone(), files));
    }
    (host, ids)
}

#[test]
fn every_expression_of_every_fixture_function_is_located_on_fitting_source() {
    let (host, ids) = load_fixtures();
    let analysis = host.analysis();
    // which definitions share a hash (identical code): those may be found in another file
    let mut owners: BTreeMap<CodeHash, usize> = BTreeMap::new();
    let mut fns = Vec::new();
    for &file in &ids {
        for d in analysis.definitions(file).unwrap() {
            let hash = d.hash.unwrap_or_else(|| panic!("{} does not hash", d.qualified()));
            *owners.entry(hash).or_default() += 1;
            if d.kind == tel_hash::core::DefKind::Fn {
                fns.push((file, d));
            }
        }
    }
    let mut failures = String::new();
    let mut located = 0;
    for (file, d) in &fns {
        let (hash, body) = hashed_body(&analysis, *file, &d.name);
        let unique = owners[&hash] == 1;
        for (id, e) in preorder(&body).into_iter().enumerate() {
            let Some((at, range)) = analysis.locate_expr(&hash, id as u32).unwrap() else {
                failures.push_str(&format!("{}: id {id} not found\n", d.qualified()));
                continue;
            };
            let text = analysis.file_text(at);
            let src = &text[range];
            if unique && (at != *file || !d.range.contains_range(range)) {
                failures.push_str(&format!("{}: id {id} at {range:?} of {at:?}\n", d.qualified()));
            } else if !fits(e, src) {
                let kind = format!("{e:?}");
                let kind = kind.split(['(', ' ']).next().unwrap_or_default();
                failures.push_str(&format!("{}: id {id} {kind} on `{src}`\n", d.qualified()));
            }
            located += 1;
        }
        // past the last id: the definition's name
        let past = preorder(&body).len() as u32;
        if unique && analysis.locate_expr(&hash, past).unwrap() != Some((*file, d.name_range)) {
            failures.push_str(&format!("{}: id {past} is not the name\n", d.qualified()));
        }
        let (def_file, name_range, name) = analysis.locate_def(&hash).unwrap().expect("found");
        if unique && (def_file != *file || name_range != d.name_range || name != d.name) {
            failures.push_str(&format!("{}: locate_def gives {name}\n", d.qualified()));
        }
    }
    assert!(failures.is_empty(), "{failures}");
    assert!(located > 1000, "only {located} expressions located");
}

/// Clause bodies `resume(1)` .. `resume(4)`, one per effect: the hashed body sorts clauses
/// by effect hash, so each clause body must still land on its own clause's literal.
#[test]
fn handler_clauses_are_located_in_hashed_order() {
    let fixture = r#"
//- /main.tel
effect Alpha() -> Int
effect Beta() -> Int
effect Gamma() -> Int
effect Delta() -> Int

fn total() -> Int {
    handle {
        perform Alpha() + perform Beta() + perform Gamma() + perform Delta()
    } with {
        Alpha() => resume(1),
        Beta() => resume(2),
        Gamma() => resume(3),
        Delta() => resume(4),
    }
}
"#;
    let (host, ids, _) = Fixture::parse(fixture).into_host(AnalysisHost::default());
    let analysis = host.analysis();
    let (hash, body) = hashed_body(&analysis, ids[0], "total");
    let Expr::Handle { clauses, .. } = &body else { panic!("not a handle: {body:?}") };
    let names: Vec<String> = clauses
        .iter()
        .map(|c| {
            let tel_hash::core::Ref::Hash(h) = c.effect else { panic!("{:?}", c.effect) };
            analysis.locate_def(&h).unwrap().expect("the effect is loaded").2.to_string()
        })
        .collect();
    let mut by_name = names.clone();
    by_name.sort();
    // otherwise this test would not tell the two orders apart
    assert_ne!(names, by_name, "hashed clause order is the name order");
    let text = analysis.file_text(ids[0]);
    let pre = preorder(&body);
    let mut seen = Vec::new();
    for (id, e) in pre.iter().enumerate() {
        if let Expr::Lit(Lit::Int(n)) = e {
            let (_, range) = analysis.locate_expr(&hash, id as u32).unwrap().unwrap();
            assert_eq!(&text[range], n.to_string(), "id {id}");
            seen.push(*n);
        }
    }
    // the literals in hashed order are the clauses' own, in the clauses' hashed order
    let expected: Vec<i64> = names
        .iter()
        .map(|n| {
            ["Alpha", "Beta", "Gamma", "Delta"].iter().position(|x| x == n).unwrap() as i64 + 1
        })
        .collect();
    assert_eq!(seen, expected);
}

#[test]
fn a_runtime_error_place_is_shown_with_line_and_column() {
    let fixture = r#"
//- /main.tel
fn ratio(a: Int, b: Int) -> Int {
    a / b
}

fn main(x: Int) -> Int {
    let zero = x - x;
    ratio(x, zero) + 1
}
"#;
    let (host, ids, _) = Fixture::parse(fixture).into_host(AnalysisHost::default());
    let analysis = host.analysis();
    let index = analysis.line_index(ids[0]);
    let text = analysis.file_text(ids[0]);
    let show = |found: Option<(FileId, TextRange)>| {
        let Some((file, range)) = found else { return "nowhere".to_owned() };
        let at = index.line_col_chars(range.start());
        let path = analysis.file_path(file).display();
        format!("{path}:{}:{} `{}`", at.line + 1, at.col + 1, &text[range])
    };
    let mut out = String::new();
    for name in ["ratio", "main"] {
        let (hash, body) = hashed_body(&analysis, ids[0], name);
        for (id, e) in preorder(&body).into_iter().enumerate() {
            if matches!(e, Expr::Binary { .. } | Expr::Call { .. }) {
                let place = show(analysis.locate_expr(&hash, id as u32).unwrap());
                out.push_str(&format!("{name} expr {id}: {place}\n"));
            }
        }
        let (_, _, def) = analysis.locate_def(&hash).unwrap().unwrap();
        let past = show(analysis.locate_expr(&hash, 1000).unwrap());
        out.push_str(&format!("{name} expr 1000 (no such id): {past}; def {def}\n"));
    }
    let unknown = CodeHash([7; 32]);
    out.push_str(&format!("unknown hash: {}\n", show(analysis.locate_expr(&unknown, 0).unwrap())));
    expect![[r#"
        ratio expr 0: /main.tel:2:5 `a / b`
        ratio expr 1000 (no such id): /main.tel:1:4 `ratio`; def ratio
        main expr 1: /main.tel:6:16 `x - x`
        main expr 4: /main.tel:7:5 `ratio(x, zero) + 1`
        main expr 5: /main.tel:7:5 `ratio(x, zero)`
        main expr 1000 (no such id): /main.tel:5:4 `main`; def main
        unknown hash: nowhere
    "#]]
    .assert_eq(&out);
}
