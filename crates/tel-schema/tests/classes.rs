//! One row per change class: two versions of a program, the changes the comparison must
//! find, and the check against evolution rules that allow the class (accepted) and rules
//! that do not (refused, naming the class), and, for a class that needs a migration,
//! accepted only when one is configured.

mod support;

use std::collections::BTreeSet;

use support::{evolve, load};
use tel_schema::{ChangeClass, Rule, Rules, Verdict, check_evolution};

use ChangeClass::*;

struct Case {
    name: &'static str,
    old: &'static str,
    new: &'static str,
    /// `(path, class)` of every change, in report order.
    changes: &'static [(&'static str, ChangeClass)],
}

const CASES: &[Case] = &[
    Case {
        name: "an optional field is added",
        old: "schema S { a: Int }",
        new: "schema S { a: Int, b: String? }",
        changes: &[("b", AddOptionalField)],
    },
    Case {
        name: "a field with a default is added",
        old: "schema S { a: Int }",
        new: "schema S { a: Int, b: Int = 5 }",
        changes: &[("b", AddDefaultField)],
    },
    Case {
        name: "an optional field with a default gets its default",
        old: "schema S { a: Int }",
        new: "schema S { a: Int, b: Int? = Some(1) }",
        changes: &[("b", AddDefaultField)],
    },
    Case {
        name: "a field only copied through is removed",
        old: "schema S { a: Int, b: Bool }
              fn bump(s: S) -> S { S { a: s.a + 1, b: s.b } }",
        new: "schema S { a: Int }",
        changes: &[("b", RemoveUnusedField)],
    },
    Case {
        name: "a field the program reads is removed",
        old: "schema S { a: Int, b: Bool }
              fn flag(s: S) -> Bool { s.b }",
        new: "schema S { a: Int }",
        changes: &[("b", RemoveUsedField)],
    },
    Case {
        name: "a field a pattern looks at is removed",
        old: "schema S { a: Int, b: Bool }
              fn flag(s: S) -> Int { match s { S { b: true, .. } => 1, _ => 0 } }",
        new: "schema S { a: Int }",
        changes: &[("b", RemoveUsedField)],
    },
    Case {
        name: "a field is removed from a type the program shows whole",
        old: "schema S { a: Int, b: Bool }
              fn dump(s: S) -> String { show(s) }",
        new: "schema S { a: Int }",
        changes: &[("b", RemoveUsedField)],
    },
    Case {
        name: "a field is removed from a type the program compares whole",
        old: "schema S { a: Int, b: Bool }
              fn same(x: S, y: S) -> Bool { x == y }",
        new: "schema S { a: Int }",
        changes: &[("b", RemoveUsedField)],
    },
    Case {
        name: "a field is widened to an option",
        old: "schema S { a: Int }",
        new: "schema S { a: Int? }",
        changes: &[("a", WidenType)],
    },
    Case {
        name: "an enum gains a variant",
        old: "enum E { A, B(Int) } schema S { e: E }",
        new: "enum E { A, B(Int), C } schema S { e: E }",
        changes: &[("e", WidenType)],
    },
    Case {
        name: "a field is added to the record type of a list's elements",
        old: "type O = { p: Int } schema S { os: List<O> }",
        new: "type O = { p: Int, n: String? } schema S { os: List<O> }",
        changes: &[("os[].n", AddOptionalField)],
    },
    Case {
        name: "a field is added to the record type of a map's values",
        old: "type O = { p: Int } schema S { by: Map<String, O> }",
        new: "type O = { p: Int, q: Int } schema S { by: Map<String, O> }",
        changes: &[("by{}.q", AddRequiredField)],
    },
    Case {
        name: "a default changes",
        old: "schema S { a: Int = 5 }",
        new: "schema S { a: Int = 6 }",
        changes: &[("a", ChangeDefault)],
    },
    Case {
        name: "a required field is added",
        old: "schema S { a: Int }",
        new: "schema S { a: Int, b: Int }",
        changes: &[("b", AddRequiredField)],
    },
    Case {
        name: "a field is renamed",
        old: "schema S { a: Int, price: Int }",
        new: "schema S { a: Int, cost: Int }",
        changes: &[("cost", RenameField)],
    },
    Case {
        name: "a field changes type",
        old: "schema S { a: Int }",
        new: "schema S { a: String }",
        changes: &[("a", ChangeType)],
    },
    Case {
        name: "an option is narrowed",
        old: "schema S { a: Int? }",
        new: "schema S { a: Int }",
        changes: &[("a", ChangeType)],
    },
    Case {
        name: "an enum loses a variant",
        old: "enum E { A, B } schema S { e: E }",
        new: "enum E { A } schema S { e: E }",
        changes: &[("e", ChangeType)],
    },
    Case {
        name: "a map's key type changes",
        old: "schema S { m: Map<String, Int> }",
        new: "schema S { m: Map<Int, Int> }",
        changes: &[("m", ChangeType)],
    },
];

#[test]
fn each_class_is_found_and_checked_against_the_rules() {
    let mut seen = BTreeSet::new();
    for case in CASES {
        let old = load(&format!("module m\n{}", case.old));
        let new = load(&format!("module m\n{}", case.new));
        let evolution = evolve(&old, "S", &new, "S");
        let diff = &evolution.diff;
        let found: Vec<(&str, ChangeClass)> =
            diff.changes.iter().map(|c| (c.path.as_str(), c.class)).collect();
        assert_eq!(found, case.changes, "{}:\n{}", case.name, diff.table());

        let automatic = case.changes.iter().all(|(_, c)| c.automatic());
        let verdict = if automatic { Verdict::Automatic } else { Verdict::NeedsMigration };
        assert_eq!(diff.verdict, verdict, "{}", case.name);
        assert_eq!(evolution.plan.needs_migration(), !automatic, "{}", case.name);

        let classes: BTreeSet<ChangeClass> = case.changes.iter().map(|(_, c)| *c).collect();
        seen.extend(classes.iter().copied());
        let allowing = Rules { allowed: Some(classes.clone()), origin: Some("tel.toml".into()) };
        let forbidding = Rules {
            allowed: Some(ChangeClass::ALL.into_iter().filter(|c| !classes.contains(c)).collect()),
            origin: Some("tel.toml".into()),
        };
        let migration = tel_hash::hash_bytes(b"a migration function");

        // Allowed, with a migration where one is needed: accepted.
        let v = check_evolution(diff, &allowing, (!automatic).then_some(&migration));
        assert!(v.is_empty(), "{}: {v:?}", case.name);
        // Allowed, no migration: accepted only when automatic.
        let v = check_evolution(diff, &allowing, None);
        if automatic {
            assert!(v.is_empty(), "{}: {v:?}", case.name);
        } else {
            assert!(!v.is_empty(), "{}", case.name);
            for x in &v {
                assert_eq!(x.rule, Rule::NeedsMigration, "{}", case.name);
                assert!(x.message.contains("needs a migration function"), "{}", x.message);
            }
        }
        // Not allowed: refused, naming the class, even with a migration.
        let v = check_evolution(diff, &forbidding, Some(&migration));
        assert_eq!(v.len(), case.changes.len(), "{}", case.name);
        for (x, (path, class)) in v.iter().zip(case.changes) {
            assert_eq!((x.path.as_str(), x.class, x.rule), (*path, *class, Rule::NotAllowed));
            assert!(
                x.message
                    .contains(&format!("{class} is not allowed by [schema.evolution] allowed")),
                "{}",
                x.message
            );
        }
    }
    assert_eq!(seen, ChangeClass::ALL.into_iter().collect(), "every class has a row");
}

#[test]
fn identical_versions_have_no_changes() {
    let a = load("module m\nschema S { a: Int, b: String? }\nfn f(s: S) -> Int { s.a }");
    // Field order and comments are not part of a version.
    let b = load("module m\nschema S {\n  /// doc\n  b: String?,\n  a: Int,\n}");
    let evolution = evolve(&a, "S", &b, "S");
    assert_eq!(evolution.diff.verdict, Verdict::Identical);
    assert!(evolution.diff.changes.is_empty());
    assert!(
        check_evolution(
            &evolution.diff,
            &Rules { allowed: Some(BTreeSet::new()), origin: None },
            None
        )
        .is_empty()
    );
}

#[test]
fn a_possible_rename_behind_an_automatic_change_gets_a_note() {
    let old = load("module m\nschema S { a: Int, price: Int }");
    let new = load("module m\nschema S { a: Int, cost: Int = 0 }");
    let diff = evolve(&old, "S", &new, "S").diff;
    let found: Vec<_> = diff.changes.iter().map(|c| (c.path.as_str(), c.class)).collect();
    assert_eq!(found, [("cost", AddDefaultField), ("price", RemoveUnusedField)]);
    assert_eq!(
        diff.changes[0].note.as_deref(),
        Some("may be a rename of `price`: if so, its values are lost; write a migration")
    );
}

#[test]
fn a_removed_field_lists_who_reads_it() {
    let old = load(
        "module m
         schema S { a: Int, b: Bool }
         fn flag(s: S) -> Bool { s.b }
         fn also(s: S) -> Int { if s.b { 1 } else { 0 } }
         fn copy(s: S) -> S { S { a: s.a, b: s.b } }
         fn other(r: { b: Bool }) -> Bool { true }",
    );
    let new = load("module m\nschema S { a: Int }");
    let diff = evolve(&old, "S", &new, "S").diff;
    assert_eq!(diff.changes[0].read_by, ["m::also", "m::flag"]);
}

#[test]
fn a_read_through_a_let_a_lambda_and_a_handler_is_found() {
    let old = load(
        "module m
         schema S { a: Int, b: Int }
         effect Ask() -> S
         fn via_let(s: S) -> Int { let t = s; t.b }
         fn via_lambda(xs: List<S>) -> List<Int> { map(xs, |x: S| x.b) }
         fn via_get(m: Map<String, S>) -> Int { match get(m, \"k\") { Some(s) => s.b, None => 0 } }
         fn via_effect() -> Int { handle { let s = perform Ask(); s.b } with { Ask() => S { a: 1, b: 2 } } }
         fn not_b(s: S) -> Int { s.a }",
    );
    let new = load("module m\nschema S { a: Int }");
    let diff = evolve(&old, "S", &new, "S").diff;
    assert_eq!(diff.changes[0].class, RemoveUsedField);
    assert_eq!(
        diff.changes[0].read_by,
        ["m::via_effect", "m::via_get", "m::via_lambda", "m::via_let"]
    );
}
