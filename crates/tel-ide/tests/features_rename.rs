//! Rename on `$0` cursor fixtures: the edited files as snapshots, and the refusals.

use expect_test::{Expect, expect};
use rustc_hash::FxHashMap;
use tel_ide::fixture::Fixture;
use tel_ide::{Analysis, AnalysisHost, FileId, TextSize};

const PROJECT: &str = r#"
//- /tel.toml
[program]
//- /fees.tel
module fees

pub fn fee(amount: Int) -> Int {
    amount * 3 / 1000
}

pub fn charge(amount: Int) -> Int {
    let f = fee(amount);
    amount + f
}

fn rate() -> Int { 3 }
//- /main.tel
module main
use fees::{fee, charge as c}
use fees

fn total(amount: Int) -> Int {
    let rate = 2;
    fee(amount) + c(amount) + fees::fee(rate)
}
"#;

fn at(file_marker: &str, marker: &str) -> String {
    let file = PROJECT.find(file_marker).unwrap();
    let at = file + PROJECT[file..].find(marker).unwrap_or_else(|| panic!("{marker}"));
    format!("{}$0{}", &PROJECT[..at], &PROJECT[at..])
}

fn load(fixture: &str) -> (Analysis, Vec<FileId>, FileId, TextSize) {
    let (host, ids, cursor) = Fixture::parse(fixture).into_host(AnalysisHost::default());
    let (file, offset) = cursor.unwrap();
    (host.analysis(), ids, file, offset)
}

fn check(fixture: &str, new_name: &str, expect: Expect) {
    let (analysis, ids, file, offset) = load(fixture);
    let actual = match analysis.rename(file, offset, new_name).unwrap() {
        Err(reason) => format!("refused: {reason}"),
        Ok(rename) => {
            let mut out = String::new();
            for id in ids {
                let mut text = analysis.file_text(id);
                let mut edits: Vec<_> = rename.edits.iter().filter(|(f, _, _)| *f == id).collect();
                if edits.is_empty() {
                    continue;
                }
                edits.sort_by_key(|(_, r, _)| std::cmp::Reverse(r.start()));
                for (_, range, new) in edits {
                    text.replace_range(std::ops::Range::<usize>::from(*range), new);
                }
                out.push_str(&format!("//- {}\n{text}", analysis.file_path(id).display()));
            }
            if let Some((old, new)) = &rename.definition {
                out.push_str(&format!("// name pointer: {old:?} -> {new:?}\n"));
            }
            out
        }
    };
    expect.assert_eq(&actual);
}

#[test]
fn renaming_a_function_edits_every_module_and_keeps_aliases() {
    check(
        &at("/fees.tel", "fee(amount: Int)"),
        "fee_bps",
        expect![[r#"
        //- /fees.tel
        module fees

        pub fn fee_bps(amount: Int) -> Int {
            amount * 3 / 1000
        }

        pub fn charge(amount: Int) -> Int {
            let f = fee_bps(amount);
            amount + f
        }

        fn rate() -> Int { 3 }
        //- /main.tel
        module main
        use fees::{fee_bps, charge as c}
        use fees

        fn total(amount: Int) -> Int {
            let rate = 2;
            fee_bps(amount) + c(amount) + fees::fee_bps(rate)
        }
        // name pointer: fees::fee -> fees::fee_bps
    "#]],
    );
    check(
        &at("/main.tel", "c(amount)"),
        "charge_all",
        expect![[r#"
        //- /fees.tel
        module fees

        pub fn fee(amount: Int) -> Int {
            amount * 3 / 1000
        }

        pub fn charge_all(amount: Int) -> Int {
            let f = fee(amount);
            amount + f
        }

        fn rate() -> Int { 3 }
        //- /main.tel
        module main
        use fees::{fee, charge_all as c}
        use fees

        fn total(amount: Int) -> Int {
            let rate = 2;
            fee(amount) + c(amount) + fees::fee(rate)
        }
        // name pointer: fees::charge -> fees::charge_all
    "#]],
    );
}

#[test]
fn renaming_a_local_stays_in_its_body() {
    check(
        &at("/main.tel", "rate = 2"),
        "base",
        expect![[r#"
        //- /main.tel
        module main
        use fees::{fee, charge as c}
        use fees

        fn total(amount: Int) -> Int {
            let base = 2;
            fee(amount) + c(amount) + fees::fee(base)
        }
    "#]],
    );
}

#[test]
fn refusals_say_why() {
    check(
        &at("/fees.tel", "fee(amount: Int)"),
        "charge",
        expect![
            "refused: module `fees` already has a `charge`; renaming `fee` would collide with it"
        ],
    );
    check(
        &at("/fees.tel", "fee(amount: Int)"),
        "Fee",
        expect![
            "refused: `Fee` must start with a lowercase letter (functions and locals are `lower_snake`)"
        ],
    );
    check(&at("/fees.tel", "fee(amount: Int)"), "match", expect!["refused: `match` is a keyword"]);
    check(
        &at("/fees.tel", "fee(amount: Int)"),
        "2x",
        expect!["refused: `2x` is not an identifier"],
    );
    // `charge` binds `f`: its call of `fee` renamed to `f` would mean the local
    check(
        &at("/fees.tel", "fee(amount: Int)"),
        "f",
        expect!["refused: `charge` has a local `f` that would shadow the renamed `fee`"],
    );
    // renaming the local `f` to `fee` would shadow the call of `fee` next to it
    check(
        &at("/fees.tel", "f = fee"),
        "fee",
        expect!["refused: `fee` is already used in `charge`; renaming `f` would shadow it"],
    );
    check(
        &at("/main.tel", "Int {"),
        "Number",
        expect!["refused: `Int` is a builtin type and cannot be renamed"],
    );
}

#[test]
fn a_top_level_rename_changes_no_hash() {
    let (analysis, _, file, offset) = load(&at("/fees.tel", "fee(amount: Int)"));
    let rename = analysis.rename(file, offset, "fee_bps").unwrap().unwrap();
    let (old, new) = rename.definition.clone().unwrap();
    let renamed: FxHashMap<_, _> = [(old, new)].into_iter().collect();
    assert_eq!(analysis.rehashed_by(file, &rename.edits, &renamed).unwrap(), 0);
    // while a change of content does rehash (the check can fail)
    let text = analysis.file_text(file);
    let at = text.find("3 / 1000").unwrap() as u32;
    let edit = vec![(file, tel_ide::TextRange::new(at.into(), (at + 1).into()), "4".to_owned())];
    assert!(analysis.rehashed_by(file, &edit, &FxHashMap::default()).unwrap() >= 3);
}
