//! `tel.toml`: what is read, and every refusal naming the file, line and column.

use std::path::Path;

use expect_test::{Expect, expect};
use tel_schema::manifest::Manifest;
use tel_schema::{ChangeClass, SafeState};

fn parse(text: &str) -> Result<Manifest, String> {
    Manifest::parse(text, Path::new("p/tel.toml")).map_err(|e| e.to_string())
}

fn refused(text: &str, want: Expect) {
    want.assert_eq(&parse(text).unwrap_err());
}

#[test]
fn a_full_manifest_is_read() {
    let m = parse(
        r##"
[program]
name = "exchange"
version = "0.2.0-rc.1+b7"
schema = "state::Book"
safe-state = "no-pending-returns"

[safe-state]
timeout = "15min"
degraded = "#a7f3b2c1"

[schema]
migrations = ["#0123abcd", "#c0ffee01"]

[schema.evolution]
allowed = ["add-optional-field", "add-default-field", "remove-unused-field"]
"##,
    )
    .unwrap();
    assert_eq!((m.name.as_str(), m.version.as_str()), ("exchange", "0.2.0-rc.1+b7"));
    assert_eq!(m.schema.as_deref(), Some("state::Book"));
    assert_eq!(m.safe_state, SafeState::NoPendingReturns);
    assert_eq!(m.timeout_ms, Some(900_000));
    assert_eq!(m.degraded.as_ref().map(|d| d.text()), Some("#a7f3b2c1".to_owned()));
    assert_eq!(m.degraded.as_ref().unwrap().place, "p/tel.toml:10:12");
    let migrations: Vec<String> = m.migrations.iter().map(|r| r.text()).collect();
    assert_eq!(migrations, ["#0123abcd", "#c0ffee01"]);
    assert_eq!(
        m.rules.allowed_list(),
        [
            ChangeClass::AddOptionalField,
            ChangeClass::AddDefaultField,
            ChangeClass::RemoveUnusedField
        ]
    );
    assert_eq!(m.rules.origin.as_deref(), Some("p/tel.toml"));
}

#[test]
fn the_defaults_apply_when_keys_are_absent() {
    let m = parse("[program]\nname = \"t\"\nversion = \"0.1.0\"\n").unwrap();
    assert_eq!(m.safe_state, SafeState::NoActiveOperators);
    assert_eq!((m.schema, m.timeout_ms, m.degraded), (None, None, None));
    assert!(m.migrations.is_empty());
    assert_eq!(m.rules.allowed, None);
    assert_eq!(m.rules.allowed_list(), ChangeClass::ALL);
}

#[test]
fn the_repository_manifests_parse() {
    for rel in ["projects/exchange/tel.toml", "projects/ledger/tel.toml", "schema/strict/tel.toml"]
    {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(rel);
        Manifest::load(&path).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn mistakes_are_refused_with_their_place() {
    refused(
        "[program]\nname = \"t\"\nversion = \"0.1.0\"\nsafe_state = \"x\"\n",
        expect![
            "p/tel.toml:4:1: unknown field `safe_state`, expected one of `name`, `version`, `schema`, `safe-state`"
        ],
    );
    refused("[program]\nname = \"t\"\n", expect!["p/tel.toml:1:1: missing field `version`"]);
    refused(
        "[program]\nname = \"t\"\nversion = \"1.0\"\n",
        expect![
            "p/tel.toml:3:11: [program] version `1.0` is not a semantic version (MAJOR.MINOR.PATCH, such as 0.1.0)"
        ],
    );
    refused(
        "[program]\nname = \"t\"\nversion = \"1.0.0\"\nschema = \"Book\"\n",
        expect![
            r#"p/tel.toml:4:10: [program] schema `Book` is not `module::Name` (such as "state::Book")"#
        ],
    );
    refused(
        "[program]\nname = \"t\"\nversion = \"1.0.0\"\nsafe-state = \"whenever\"\n",
        expect![
            r#"p/tel.toml:4:14: [program] safe-state `whenever` is not one of "no-pending-returns", "no-in-flight-operations", "no-active-operators""#
        ],
    );
    refused(
        "[program]\nname = \"t\"\nversion = \"1.0.0\"\n[safe-state]\ntimeout = \"soon\"\n",
        expect![
            r#"p/tel.toml:5:11: [safe-state] timeout `soon` is not a positive duration (such as "15min", "30s")"#
        ],
    );
    refused(
        "[program]\nname = \"t\"\nversion = \"1.0.0\"\n[schema.evolution]\nallowed = [\"add-optional-field\", \"anything\"]\n",
        expect![
            "p/tel.toml:5:34: [schema.evolution] allowed: `anything` is not a change class (the classes are add-optional-field, add-default-field, remove-unused-field, widen-type, change-default, add-required-field, remove-used-field, rename-field, change-type)"
        ],
    );
    refused(
        "[program]\nname = \"t\"\nversion = \"1.0.0\"\n[schema]\nmigrations = [\"up\"]\n",
        expect!["p/tel.toml:5:15: [schema] migrations: `up` is not a `#hash` reference"],
    );
    refused(
        "[program]\nname = \"t\"\nversion = \"1.0.0\"\n[schema]\nmigrations = [\"#ab\"]\n",
        expect![
            "p/tel.toml:5:15: [schema] migrations: `#ab`: hash prefix `#ab` is too short: 2 characters, at least 4 are needed"
        ],
    );
    refused(
        "[program]\nname = \"t\"\nversion = \"1.0.0\"\n[schema.evolution]\nallow = []\n",
        expect!["p/tel.toml:5:1: unknown field `allow`, expected `allowed`"],
    );
    refused("[program\n", expect!["p/tel.toml:1:9: unclosed table, expected `]`"]);
}
