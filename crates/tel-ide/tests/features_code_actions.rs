//! Code actions on `$0` fixtures: each quick fix is applied and the file checked again, so a
//! snapshot shows the fixed text and the test proves the error it fixes is gone.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use expect_test::{Expect, expect};
use tel_ide::features::{Assist, AssistKind, StoreInfo};
use tel_ide::fixture::Fixture;
use tel_ide::{AnalysisHost, FileId, TextRange, TextSize};
use tel_store::Store;

fn host_for(fixture: &str) -> (AnalysisHost, FileId, TextSize) {
    let (host, _, cursor) = Fixture::parse(fixture).into_host(AnalysisHost::default());
    let (file, offset) = cursor.expect("the fixture has a $0");
    (host, file, offset)
}

fn actions(
    host: &AnalysisHost,
    file: FileId,
    offset: TextSize,
    store: Option<&dyn StoreInfo>,
) -> Vec<Assist> {
    host.analysis().code_actions(file, TextRange::empty(offset), store).unwrap()
}

/// Applies the quick fix labelled `label` (the only one, when `None`), shows the result, and
/// checks that the diagnostics it claims to fix are gone and that no new error appeared.
fn check_fix(fixture: &str, label: Option<&str>, expect: Expect) {
    let (mut host, file, offset) = host_for(fixture);
    let all = actions(&host, file, offset, None);
    let fixes: Vec<&Assist> = all.iter().filter(|a| a.kind == AssistKind::QuickFix).collect();
    let fix = match label {
        Some(l) => fixes.iter().find(|a| a.label == l).unwrap_or_else(|| panic!("{all:#?}")),
        None => {
            assert_eq!(fixes.len(), 1, "{all:#?}");
            &fixes[0]
        }
    };
    assert!(!fix.fixes.is_empty());
    let before = host.analysis().diagnostics(file).unwrap();
    let mut text = host.analysis().file_text(file);
    for (range, new) in fix.edits.iter().rev() {
        text.replace_range(std::ops::Range::<usize>::from(*range), new);
    }
    host.set_file_text(file, text.clone());
    let after = host.analysis().diagnostics(file).unwrap();
    let fixed: Vec<_> = before.iter().filter(|d| fix.fixes.contains(&(d.code, d.range))).collect();
    assert_eq!(fixed.len(), fix.fixes.len(), "{before:#?}");
    for f in fixed {
        let still = after.iter().any(|d| d.code == f.code && d.message == f.message);
        assert!(!still, "not fixed: {f:#?}");
    }
    // Only a placeholder that does not resolve may add an error.
    for d in after.iter().filter(|d| d.severity == tel_ide::Severity::Error) {
        let new = !before.iter().any(|b| b.code == d.code && b.message == d.message);
        assert!(!new || d.message.contains("`todo`"), "a new error: {d:#?}");
    }
    expect.assert_eq(&format!("{}\n---\n{text}", fix.label));
}

#[test]
fn adds_a_missing_effect_to_a_function_without_a_row() {
    check_fix(
        "//- /m.tel
module m

fn total(amount: Int) -> Int {
    perform L$0og(\"total\");
    amount
}
",
        None,
        expect![[r#"
            Add `Log` to the effect row of `total`
            ---
            module m

            fn total(amount: Int) -> Int ! {Log} {
                perform Log("total");
                amount
            }
        "#]],
    );
}

#[test]
fn adds_every_missing_effect_to_an_existing_row() {
    // `Audit` is this module's effect; `Now` comes from a builtin (`now()`); a function
    // without a return type gets its row after the parameters.
    check_fix(
        "//- /m.tel
module m

effect Audit(note: String) -> ()

fn stamp() -> Int ! {Audit} {
    perform Audit(\"a\");
    perform $0Log(\"b\");
    now()
}

fn quiet(x: Int) {
    perform Audit(\"x\")
}
",
        Some("Add `Log`, `Now` to the effect row of `stamp`"),
        expect![[r#"
            Add `Log`, `Now` to the effect row of `stamp`
            ---
            module m

            effect Audit(note: String) -> ()

            fn stamp() -> Int ! {Audit, Log, Now} {
                perform Audit("a");
                perform Log("b");
                now()
            }

            fn quiet(x: Int) {
                perform Audit("x")
            }
        "#]],
    );
}

#[test]
fn adds_the_row_after_the_parameters_when_there_is_no_return_type() {
    check_fix(
        "//- /m.tel
module m

fn quiet(x: Int) {
    perform Log$0(\"x\")
}
",
        None,
        expect![[r#"
            Add `Log` to the effect row of `quiet`
            ---
            module m

            fn quiet(x: Int) ! {Log} {
                perform Log("x")
            }
        "#]],
    );
}

#[test]
fn adds_the_missing_arms_of_an_enum() {
    check_fix(
        "//- /m.tel
module m

enum Light { Red, Amber, Green, Blinking(Int), Off, Broken(String, Int) }

fn wait(l: Light) -> Int {
    $0match l {
        Red => 30,
        Green => 0,
    }
}
",
        None,
        expect![[r#"
            Add the missing match arms `Amber`, `Blinking(_)`, `Off`, `Broken(_, _)`
            ---
            module m

            enum Light { Red, Amber, Green, Blinking(Int), Off, Broken(String, Int) }

            fn wait(l: Light) -> Int {
                match l {
                    Red => 30,
                    Green => 0,
                    Amber => 0, // TODO: handle `Amber`
                    Blinking(_) => 0, // TODO: handle `Blinking(_)`
                    Off => 0, // TODO: handle `Off`
                    Broken(_, _) => 0, // TODO: handle `Broken(_, _)`
                }
            }
        "#]],
    );
}

#[test]
fn adds_arms_to_an_empty_or_one_line_match() {
    check_fix(
        "//- /m.tel
module m

fn name(b: Bool) -> String {
    $0match b {}
}
",
        None,
        expect![[r#"
            Add the missing match arms `true`, `false`
            ---
            module m

            fn name(b: Bool) -> String {
                match b {
                    true => "", // TODO: handle `true`
                    false => "", // TODO: handle `false`
                }
            }
        "#]],
    );
    check_fix(
        "//- /m.tel
module m

fn get(x: Int?) -> Int {
    $0match x { Some(v) => v }
}
",
        None,
        expect![[r#"
            Add the missing match arm `None`
            ---
            module m

            fn get(x: Int?) -> Int {
                match x { Some(v) => v,
                    None => 0, // TODO: handle `None`
                }
            }
        "#]],
    );
}

#[test]
fn adds_nested_cases_the_checker_names() {
    // Every constructor appears at the top; what is missing is inside `Some`.
    check_fix(
        "//- /m.tel
module m

fn get(x: Bool?) -> Int {
    $0match x {
        Some(true) => 1,
        None => 0,
    }
}
",
        None,
        expect![[r#"
            Add the missing match arm `Some(false)`
            ---
            module m

            fn get(x: Bool?) -> Int {
                match x {
                    Some(true) => 1,
                    None => 0,
                    Some(false) => 0, // TODO: handle `Some(false)`
                }
            }
        "#]],
    );
}

#[test]
fn a_type_without_a_simple_value_gets_a_placeholder_that_does_not_check() {
    check_fix(
        "//- /m.tel
module m

fn pick(n: Int) -> fn(Int) -> Int {
    $0match n {
        0 => |x: Int| x,
    }
}
",
        None,
        expect![[r#"
            Add the missing match arm `_`
            ---
            module m

            fn pick(n: Int) -> fn(Int) -> Int {
                match n {
                    0 => |x: Int| x,
                    _ => todo,
                }
            }
        "#]],
    );
}

/// A fresh store file in the system's temporary folder.
fn temp_store() -> (Store, PathBuf) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tel-ide-actions-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("codebase.sqlite");
    let mut store = Store::open(&path).unwrap();
    store.set_clock(tel_store::Clock::Fixed(0));
    (store, path)
}

const STORE_FIXTURE: &str = "//- /tel.toml
[program]
//- /rates.tel
module rates

pub fn rate() -> Int {
    3
}
//- /fees.tel
module fees
use rates::{rate}

fn fee(amount: Int) -> Int {
    $0amount * rate() / 1000
}
";

fn store_labels(host: &AnalysisHost, file: FileId, offset: TextSize, store: &Store) -> Vec<String> {
    actions(host, file, offset, Some(store))
        .into_iter()
        .filter(|a| a.kind == AssistKind::Store)
        .map(|a| a.label)
        .collect()
}

#[test]
fn store_this_definition_with_what_it_uses() {
    let (store, _) = temp_store();
    let mut store = store;
    let (mut host, file, offset) = host_for(STORE_FIXTURE);
    let found = actions(&host, file, offset, Some(&store));
    let assist = found.iter().find(|a| a.kind == AssistKind::Store).expect("a store action");
    assert_eq!(assist.label, "Store `fees::fee` in the codebase");
    let (def, hash) = assist.store.clone().unwrap();
    assert_eq!(def.qualified(), "fees::fee");

    // What the command does: the batch of `tel store add`, dependencies included.
    let analysis = host.analysis();
    let d = analysis.definitions(file).unwrap().into_iter().find(|d| d.name == "fee").unwrap();
    assert_eq!(d.hash, Some(hash));
    let batch = analysis.store_batch(&[(file, d)]).unwrap().unwrap();
    let names: Vec<&str> = batch.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["fees::fee", "rates::rate"]);
    assert_eq!(batch[0].dependencies, vec![batch[1].hash]);
    assert_eq!(batch[0].source, "fn fee(amount: Int) -> Int {\n    amount * rate() / 1000\n}");
    store.add_definitions(&batch, "test").unwrap();
    assert_eq!(store.hash_of_name("fees::fee"), Some(hash));
    assert_eq!(store_labels(&host, file, offset, &store), Vec::<String>::new(), "stored now");
    // (a change waits for every snapshot to be gone)
    drop(analysis);

    // Changed: the action says what it replaces.
    let text = host.analysis().file_text(file).replace("1000", "100");
    host.set_file_text(file, text);
    let labels = store_labels(&host, file, offset, &store);
    assert_eq!(labels, [format!("Store `fees::fee` in the codebase (replaces #{})", hash.short())]);
}

#[test]
fn nothing_to_store_while_a_definition_has_errors() {
    let (store, _) = temp_store();
    let fixture = STORE_FIXTURE.replace("rate() / 1000", "rate() / nope");
    let (host, file, offset) = host_for(&fixture);
    assert_eq!(store_labels(&host, file, offset, &store), Vec::<String>::new());
    let analysis = host.analysis();
    let d = analysis.definitions(file).unwrap().into_iter().find(|d| d.name == "fee").unwrap();
    let refused = analysis.store_batch(&[(file, d)]).unwrap().unwrap_err();
    assert_eq!(
        refused.to_string(),
        "fees::fee cannot be hashed: it, or something it uses, has errors"
    );
}

#[test]
fn mutually_recursive_definitions_are_stored_together() {
    let (mut store, _) = temp_store();
    let fixture = "//- /m.tel
module m

fn even(n: Int) -> Bool {
    $0if n == 0 { true } else { odd(n - 1) }
}

fn odd(n: Int) -> Bool {
    if n == 0 { false } else { even(n - 1) }
}
";
    let (host, file, _) = host_for(fixture);
    let analysis = host.analysis();
    let even = analysis.definitions(file).unwrap().into_iter().find(|d| d.name == "even").unwrap();
    let batch = analysis.store_batch(&[(file, even)]).unwrap().unwrap();
    let names: Vec<&str> = batch.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["m::even", "m::odd"]);
    assert!(batch.iter().all(|b| b.component.is_some()));
    store.add_definitions(&batch, "test").unwrap();
}
