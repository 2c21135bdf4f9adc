//! Debug sessions and their snapshots on real SQLite files: a round trip across opens, saving
//! again (position moves, missing snapshots are added), refusals of conflicting or malformed
//! data, id prefixes, immutability to raw SQL, and deletion with the snapshots.

mod common;

use common::fresh;
use expect_test::expect;
use tel_hash::CodeHash;
use tel_store::Store;
use tel_store::snapshots::{NewSession, SessionError, SessionSnapshot};

fn h(text: &str) -> CodeHash {
    tel_hash::hash_bytes(text.as_bytes())
}

fn session<'a>(id: &'a str, setup: &'a [u8], position: u64) -> NewSession<'a> {
    NewSession { id, entry: h("main"), entry_name: Some("demo::main"), position, setup }
}

fn snap(position: u64, base: Option<u64>, bytes: &[u8]) -> SessionSnapshot {
    SessionSnapshot { position, base, bytes: bytes.to_vec() }
}

fn shown(e: &SessionError, dir: &std::path::Path) -> String {
    e.to_string().replace(&dir.display().to_string(), "$DIR")
}

#[test]
fn a_session_round_trips_across_opens_and_saves_again() {
    let mut f = fresh();
    let snaps = [snap(0, None, b"key"), snap(100, Some(0), b"delta"), snap(250, None, b"key2")];
    let saved = f.store.save_session(&session("abcd0123ef", b"setup", 120), &snaps).unwrap();
    assert_eq!((saved.created, saved.snapshots_added, saved.snapshots_kept), (true, 3, 0));
    let path = f.store.path().to_path_buf();
    drop(f.store);

    let mut store = Store::open_existing(&path).unwrap();
    let (info, setup, rows) = store.session("ABCD").unwrap();
    assert_eq!(setup, b"setup");
    assert_eq!(rows, snaps);
    expect![[r#"
        SessionInfo {
            id: "abcd0123ef",
            entry: CodeHash(#5gpk66ho992l5uakalihc9qpe694l4f316hog67575utr6akeq4g),
            entry_name: Some(
                "demo::main",
            ),
            created: 1795320000,
            position: 120,
            setup_bytes: 5,
            snapshots: 3,
            snapshot_bytes: 12,
        }
    "#]]
    .assert_debug_eq(&info);

    // Saving again moves the position and adds only what is missing.
    let more = [snaps[0].clone(), snap(300, Some(250), b"d2")];
    let saved = store.save_session(&session("abcd0123ef", b"setup", 310), &more).unwrap();
    assert_eq!((saved.created, saved.snapshots_added, saved.snapshots_kept), (false, 1, 1));
    store.set_session_position("abcd0123ef", 42).unwrap();
    let (info, _, rows) = store.session("abcd0123ef").unwrap();
    assert_eq!((info.position, rows.len()), (42, 4));
    assert_eq!(rows.iter().map(|r| r.position).collect::<Vec<_>>(), [0, 100, 250, 300]);
    assert_eq!(store.sessions(10).unwrap().len(), 1);
}

#[test]
fn conflicting_or_malformed_sessions_are_refused_and_change_nothing() {
    let mut f = fresh();
    let dir = f.dir.path().to_path_buf();
    f.store.save_session(&session("abcd0123ef", b"setup", 0), &[snap(0, None, b"key")]).unwrap();
    let err = f.store.save_session(&session("abcd0123ef", b"other", 5), &[]).unwrap_err();
    expect!["$DIR/.tel/codebase.sqlite already holds a different session under id abcd0123ef: the id is not the hash of this setup, or the stored one was altered"]
        .assert_eq(&shown(&err, &dir));
    // A different snapshot at a stored position: refused, and the position did not move.
    let err = f
        .store
        .save_session(
            &session("abcd0123ef", b"setup", 9),
            &[snap(7, None, b"x"), snap(0, None, b"changed")],
        )
        .unwrap_err();
    expect!["$DIR/.tel/codebase.sqlite already holds another snapshot of session abcd0123ef at position 0: the stored snapshots cannot be trusted; delete the session"]
        .assert_eq(&shown(&err, &dir));
    let (info, _, rows) = f.store.session("abcd").unwrap();
    assert_eq!((info.position, rows.len()), (0, 1));
    let err = f
        .store
        .save_session(&session("abcd0123ef", b"setup", 0), &[snap(5, Some(5), b"d")])
        .unwrap_err();
    expect!["session abcd0123ef: the snapshot at 5 has base 5, which is not before it"]
        .assert_eq(&err.to_string());
    let err = f.store.save_session(&session("not/an/id", b"s", 0), &[]).unwrap_err();
    expect!["invalid session id `not/an/id`: `/` is not a base32hex digit (0-9, a-v)"]
        .assert_eq(&err.to_string());
    let err = f.store.session("zzz").unwrap_err();
    expect!["invalid session id `zzz`: a session id has 4 to 52 characters"]
        .assert_eq(&err.to_string());
    let err = f.store.session("9999").unwrap_err();
    expect![
        "no debug session 9999 in $DIR/.tel/codebase.sqlite (`tel debug --sessions` lists them)"
    ]
    .assert_eq(&shown(&err, &dir));
    let err = f.store.set_session_position("9999999999", 3).unwrap_err();
    assert!(matches!(err, SessionError::NotFound { .. }));
}

#[test]
fn prefixes_resolve_or_name_the_candidates() {
    let mut f = fresh();
    f.store.save_session(&session("abcd0123ef", b"one", 0), &[]).unwrap();
    f.store.save_session(&session("abcd4567gh", b"two", 0), &[]).unwrap();
    let err = f.store.session("abcd").unwrap_err();
    expect![[r#"
        ambiguous: session abcd matches 2 sessions; type more characters:
          abcd0123ef
          abcd4567gh"#]]
    .assert_eq(&err.to_string());
    assert_eq!(f.store.session("abcd4").unwrap().1, b"two");
}

#[test]
fn stored_sessions_never_change_to_raw_sql_and_go_with_their_snapshots() {
    let mut f = fresh();
    f.store
        .save_session(
            &session("0123456789", b"setup", 3),
            &[snap(0, None, b"k"), snap(9, Some(0), b"d")],
        )
        .unwrap();
    let conn = f.store.connection();
    let err = conn.execute("UPDATE sessions SET setup = x'00'", []).unwrap_err();
    assert!(err.to_string().contains("a session's setup never changes"), "{err}");
    let err = conn.execute("UPDATE snapshots SET bytes = x'00'", []).unwrap_err();
    assert!(err.to_string().contains("a snapshot never changes"), "{err}");
    // A snapshot must be of a stored session, with its base before it.
    assert!(
        conn.execute("INSERT INTO snapshots VALUES ('nope000000', 1, NULL, x'00')", []).is_err()
    );
    assert!(conn.execute("INSERT INTO snapshots VALUES ('0123456789', 4, 4, x'00')", []).is_err());
    assert_eq!(f.store.remove_session("0123").unwrap(), "0123456789");
    let left: i64 =
        f.store.connection().query_row("SELECT count(*) FROM snapshots", [], |r| r.get(0)).unwrap();
    assert_eq!(left, 0);
    assert!(matches!(f.store.session("0123").unwrap_err(), SessionError::NotFound { .. }));
}
