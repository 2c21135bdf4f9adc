//! Program artifacts on real SQLite files: round trips, hash prefixes, refusals, and rows
//! that raw SQL can neither change nor delete.

mod common;

use common::fresh;
use expect_test::expect;
use tel_hash::CodeHash;
use tel_store::artifacts::{ArtifactError, NewArtifact};
use tel_store::{Clock, Store};

fn h(text: &str) -> CodeHash {
    tel_hash::hash_bytes(text.as_bytes())
}

fn artifact<'a>(hash: CodeHash, program: &'a str, manifest: &'a str) -> NewArtifact<'a> {
    NewArtifact { hash, program, version: Some("0.1.0"), manifest }
}

fn shown(e: &ArtifactError, dir: &std::path::Path) -> String {
    e.to_string().replace(&dir.display().to_string(), "$DIR")
}

#[test]
fn artifacts_round_trip_and_resolve_by_prefix() {
    let mut f = fresh();
    let a = h("first");
    assert!(f.store.add_artifact(&artifact(a, "exchange", r#"{"format":1}"#)).unwrap());
    // The same artifact again: already kept, nothing changes.
    assert!(!f.store.add_artifact(&artifact(a, "exchange", r#"{"format":1}"#)).unwrap());

    let full = a.to_base32hex();
    let info = f.store.artifact(&format!("#{}", &full[..6])).unwrap();
    assert_eq!(info.hash, a);
    assert_eq!(info.program, "exchange");
    assert_eq!(info.version.as_deref(), Some("0.1.0"));
    assert_eq!(info.created, 1_795_320_000);
    assert_eq!(info.manifest, r#"{"format":1}"#);
    // The `#` is optional, as for definitions.
    assert_eq!(f.store.artifact(&full[..6]).unwrap().hash, a);

    let dir = f.dir.path();
    let err = f.store.artifact("#vvvvvvvv").unwrap_err();
    expect!["no artifact #vvvvvvvv in $DIR/.tel/codebase.sqlite (`tel build` writes one)"]
        .assert_eq(&shown(&err, dir));
    let err = f.store.artifact("#ab").unwrap_err();
    assert!(matches!(err, ArtifactError::Store(_)), "{err}");
    assert!(err.to_string().contains("at least 4"), "{err}");
}

#[test]
fn a_different_manifest_under_a_stored_hash_is_refused() {
    let mut f = fresh();
    let a = h("one");
    f.store.add_artifact(&artifact(a, "p", r#"{"a":1}"#)).unwrap();
    let err = f.store.add_artifact(&artifact(a, "p", r#"{"a":2}"#)).unwrap_err();
    assert!(matches!(err, ArtifactError::Conflict { .. }), "{err}");
    assert_eq!(f.store.artifact(&a.full()).unwrap().manifest, r#"{"a":1}"#);
}

#[test]
fn the_list_is_newest_first_per_program() {
    let mut f = fresh();
    let (a, b, c) = (h("a"), h("b"), h("c"));
    f.store.set_clock(Clock::Fixed(100));
    f.store.add_artifact(&artifact(a, "exchange", "{}")).unwrap();
    f.store.set_clock(Clock::Fixed(300));
    f.store.add_artifact(&artifact(b, "exchange", "[]")).unwrap();
    f.store.set_clock(Clock::Fixed(200));
    f.store.add_artifact(&artifact(c, "ledger", "{}")).unwrap();

    let hashes = |list: Vec<tel_store::artifacts::ArtifactInfo>| -> Vec<CodeHash> {
        list.into_iter().map(|i| i.hash).collect()
    };
    assert_eq!(hashes(f.store.artifacts(Some("exchange"), 10).unwrap()), vec![b, a]);
    assert_eq!(hashes(f.store.artifacts(None, 10).unwrap()), vec![b, c, a]);
    assert_eq!(hashes(f.store.artifacts(None, 1).unwrap()), vec![b]);
    assert!(f.store.artifacts(Some("nothing"), 10).unwrap().is_empty());
}

#[test]
fn ambiguous_prefixes_list_the_candidates() {
    let mut f = fresh();
    // Two hashes sharing their first 4 digits (found by trying: deterministic).
    let mut by_prefix: std::collections::HashMap<String, CodeHash> = Default::default();
    let (x, y) = (0..)
        .find_map(|i| {
            let hash = h(&format!("artifact {i}"));
            let prefix = hash.to_base32hex()[..4].to_owned();
            by_prefix.insert(prefix, hash).map(|other| (other, hash))
        })
        .unwrap();
    f.store.add_artifact(&artifact(x, "p", "{}")).unwrap();
    f.store.add_artifact(&artifact(y, "p", "{}")).unwrap();
    let prefix = format!("#{}", &x.to_base32hex()[..4]);
    match f.store.artifact(&prefix).unwrap_err() {
        ArtifactError::Ambiguous { count, candidates, .. } => {
            assert_eq!(count, 2);
            let mut want = vec![x, y];
            want.sort();
            assert_eq!(candidates, want);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn raw_sql_can_neither_change_nor_delete_an_artifact() {
    let mut f = fresh();
    f.store.add_artifact(&artifact(h("kept"), "p", "{}")).unwrap();
    let path = f.store.path().to_path_buf();
    drop(f.store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let err = conn.execute("UPDATE artifacts SET manifest = '[]'", []).unwrap_err();
    assert!(err.to_string().contains("a stored artifact never changes"), "{err}");
    let err = conn.execute("DELETE FROM artifacts", []).unwrap_err();
    assert!(err.to_string().contains("a stored artifact is never deleted"), "{err}");
    // The table's checks hold for raw SQL too: a manifest must be JSON.
    let err = conn
        .execute(
            "INSERT INTO artifacts (hash, program, created, manifest) VALUES (?1, 'p', 0, 'not json')",
            [h("x").to_base32hex()],
        )
        .unwrap_err();
    assert!(err.to_string().contains("CHECK"), "{err}");
    drop(conn);
    let store = Store::open_existing(&path).unwrap();
    assert_eq!(store.artifacts(None, 10).unwrap().len(), 1);
}
