//! Run traces and the memo cache on real SQLite files: round trips, run id prefixes, refusals,
//! immutability to raw SQL, the cache's bound, and two writers at once.

mod common;

use common::fresh;
use expect_test::expect;
use tel_hash::CodeHash;
use tel_store::{Error, MemoEntry, NewTrace, RunOutcome, Store};

fn h(text: &str) -> CodeHash {
    tel_hash::hash_bytes(text.as_bytes())
}

fn trace<'a>(id: &'a str, bytes: &'a [u8]) -> NewTrace<'a> {
    NewTrace {
        id,
        entry: h("main"),
        entry_name: Some("demo::main"),
        events: 3,
        outcome: RunOutcome::Value,
        bytes,
    }
}

fn shown(e: &Error, dir: &std::path::Path) -> String {
    e.to_string().replace(&dir.display().to_string(), "$DIR")
}

#[test]
fn traces_round_trip_and_resolve_by_prefix() {
    let mut f = fresh();
    assert!(f.store.add_trace(&trace("abcd0123ef", b"first trace")).unwrap());
    assert!(f.store.add_trace(&trace("abce4567gh", b"second")).unwrap());
    // The same run again: already kept, nothing changes.
    assert!(!f.store.add_trace(&trace("abcd0123ef", b"first trace")).unwrap());

    let (info, bytes) = f.store.trace("abcd").unwrap();
    assert_eq!(bytes, b"first trace");
    assert_eq!(info.id, "abcd0123ef");
    assert_eq!(info.entry, h("main"));
    assert_eq!(info.entry_name.as_deref(), Some("demo::main"));
    assert_eq!((info.events, info.outcome, info.bytes), (3, RunOutcome::Value, 11));
    assert_eq!(info.created, 1_795_320_000);
    // Ids are case-insensitive, like hashes.
    assert_eq!(f.store.trace("ABCE4567").unwrap().1, b"second");

    let dir = f.dir.path();
    let err = f.store.trace("abc").unwrap_err();
    expect!["invalid run id `abc`: a run id has 4 to 52 characters"].assert_eq(&shown(&err, dir));
    let err = f.store.trace("abcz").unwrap_err();
    expect!["invalid run id `abcz`: `z` is not a base32hex digit (0-9, a-v)"]
        .assert_eq(&shown(&err, dir));
    let err = f.store.trace("abc0").unwrap_err();
    expect![
        "no run abc0 in $DIR/.tel/codebase.sqlite (`tel trace list` shows the runs kept there)"
    ]
    .assert_eq(&shown(&err, dir));
    // A longer prefix narrows down; one that matches nothing says so.
    assert_eq!(f.store.trace("abcd0123").unwrap().0.id, "abcd0123ef");
    assert!(matches!(f.store.trace("abcd0124").unwrap_err(), Error::RunNotFound { .. }));

    let list = f.store.traces(10).unwrap();
    assert_eq!(list.traces.len(), 2);
    expect![[r#"
        abcd0123ef  2026-11-22 04:00:00Z  #5gpk66ho demo::main  3 events  value  11 bytes
        abce4567gh  2026-11-22 04:00:00Z  #5gpk66ho demo::main  3 events  value  6 bytes
    "#]]
    .assert_eq(&list.to_string());
}

#[test]
fn an_ambiguous_run_prefix_lists_the_candidates() {
    let mut f = fresh();
    for id in ["feed0001", "feed0002", "feed0003"] {
        f.store.add_trace(&trace(id, id.as_bytes())).unwrap();
    }
    let err = f.store.trace("feed").unwrap_err();
    expect![[r#"
        ambiguous: run feed matches 3 runs; type more characters:
          feed0001
          feed0002
          feed0003"#]]
    .assert_eq(&shown(&err, f.dir.path()));
    assert_eq!(f.store.trace("feed0002").unwrap().1, b"feed0002");
}

#[test]
fn a_different_trace_under_a_known_id_is_refused() {
    let mut f = fresh();
    f.store.add_trace(&trace("0123456789", b"the real run")).unwrap();
    let err = f.store.add_trace(&trace("0123456789", b"forged")).unwrap_err();
    expect!["$DIR/.tel/codebase.sqlite already holds a different trace under run id 0123456789: the id is not the hash of this trace, or the stored one was altered"]
        .assert_eq(&shown(&err, f.dir.path()));
    assert_eq!(f.store.trace("0123456789").unwrap().1, b"the real run");
    let err = f.store.add_trace(&trace("short", b"x")).unwrap_err();
    expect!["invalid run id `short`: a run id has 8 to 52 characters"]
        .assert_eq(&shown(&err, f.dir.path()));
}

#[test]
fn stored_traces_never_change_even_to_raw_sql_but_can_be_removed() {
    let mut f = fresh();
    f.store.add_trace(&trace("0123456789", b"run")).unwrap();
    let conn = f.store.connection();
    let err = conn.execute("UPDATE traces SET bytes = x'00'", []).unwrap_err();
    assert!(err.to_string().contains("a stored trace never changes"), "{err}");
    // The table's checks hold for raw SQL too.
    let bad = conn.execute(
        "INSERT INTO traces (id, entry, created, events, outcome, bytes)
         VALUES ('NOT-BASE32', 'x', 0, 0, 'value', x'00')",
        [],
    );
    assert!(bad.is_err());
    assert_eq!(f.store.remove_trace("0123").unwrap(), "0123456789");
    assert!(matches!(f.store.trace("0123").unwrap_err(), Error::RunNotFound { .. }));
}

fn entry(f: &str, args: u8, result: &str) -> MemoEntry {
    MemoEntry { function: h(f), args: vec![args; 32], result: result.as_bytes().to_vec() }
}

#[test]
fn memo_entries_persist_across_opens_and_keep_their_results() {
    let mut f = fresh();
    let saved = f
        .store
        .memo_save(&[entry("fib", 1, "1"), entry("fib", 2, "1"), entry("sq", 3, "9")], &[], 100)
        .unwrap();
    assert_eq!((saved.added, saved.refreshed, saved.evicted), (3, 0, 0));
    let path = f.store.path().to_path_buf();
    drop(f.store);
    let mut store = Store::open_existing(&path).unwrap();
    assert_eq!(store.memo_get(&h("fib"), &[2; 32]).unwrap().as_deref(), Some(&b"1"[..]));
    assert_eq!(store.memo_get(&h("fib"), &[9; 32]).unwrap(), None);
    let mut fib = store.memo_entries(&[h("fib")], 100).unwrap();
    fib.sort_by(|a, b| a.args.cmp(&b.args));
    assert_eq!(fib, [entry("fib", 1, "1"), entry("fib", 2, "1")]);
    assert_eq!(store.memo_entries(&[h("fib"), h("sq")], 2).unwrap().len(), 2, "the limit holds");

    // Saving a known entry again refreshes it; hits are counted.
    let saved = store.memo_save(&[entry("sq", 3, "9")], &[(h("fib"), vec![1; 32])], 100).unwrap();
    assert_eq!((saved.added, saved.refreshed), (0, 1));
    let stats = store.memo_stats().unwrap();
    assert_eq!((stats.entries, stats.functions, stats.result_bytes, stats.hits), (3, 2, 3, 1));

    // Another result for the same call is refused: the cache is not silently overwritten.
    let err = store.memo_save(&[entry("sq", 3, "10")], &[], 100).unwrap_err();
    assert!(matches!(err, Error::MemoConflict { .. }), "{err}");
    assert!(err.to_string().contains("`tel memo clear` empties it"), "{err}");
    assert_eq!(store.memo_get(&h("sq"), &[3; 32]).unwrap().as_deref(), Some(&b"9"[..]));
    let conn = store.connection();
    let err = conn.execute("UPDATE memo SET result = x'00'", []).unwrap_err();
    assert!(err.to_string().contains("a memoized result never changes"), "{err}");

    assert_eq!(store.memo_clear().unwrap(), 3);
    assert_eq!(store.memo_stats().unwrap().entries, 0);
}

#[test]
fn the_memo_cache_evicts_the_least_recently_used_beyond_its_bound() {
    let mut f = fresh();
    let first: Vec<MemoEntry> = (0..5).map(|i| entry("f", i, "r")).collect();
    f.store.memo_save(&first, &[], 5).unwrap();
    // Entry 0 is used again (a hit), so 1 and 2 are now the oldest.
    let saved = f
        .store
        .memo_save(&[entry("f", 5, "r"), entry("f", 6, "r")], &[(h("f"), vec![0; 32])], 5)
        .unwrap();
    assert_eq!((saved.added, saved.evicted), (2, 2));
    let mut kept: Vec<u8> =
        f.store.memo_entries(&[h("f")], 100).unwrap().iter().map(|e| e.args[0]).collect();
    kept.sort();
    assert_eq!(kept, [0, 3, 4, 5, 6]);
}

#[test]
fn two_writers_keep_traces_and_memo_entries_without_losing_any() {
    let f = fresh();
    let path = f.store.path().to_path_buf();
    let writers: Vec<_> = (0..2u8)
        .map(|w| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut store = Store::open_existing(&path).unwrap();
                for i in 0..25u8 {
                    let id = format!("{w}{i:02}aaaaaaaa");
                    store.add_trace(&trace(&id, &[w, i])).unwrap();
                    store.memo_save(&[entry(&format!("w{w}"), i, "r")], &[], 1_000).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    assert_eq!(f.store.traces(100).unwrap().traces.len(), 50);
    assert_eq!(f.store.memo_stats().unwrap().entries, 50);
    let check: String =
        f.store.connection().query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}

#[test]
fn a_codebase_of_format_3_keeps_its_runs_and_takes_upgraded_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("codebase.sqlite");
    // A codebase as format 3 wrote it, with a run kept.
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    tel_store::schema::migrate(&mut conn, &tel_store::schema::MIGRATIONS[..3], 0).unwrap();
    conn.execute(
        "INSERT INTO traces (id, entry, entry_name, created, events, outcome, bytes)
         VALUES ('abcd0123ef', ?1, 'demo::main', 7, 3, 'value', x'01')",
        [h("main").to_base32hex()],
    )
    .unwrap();
    let refused = conn.execute(
        "INSERT INTO traces (id, entry, created, events, outcome, bytes)
         VALUES ('abcd0123eg', ?1, 7, 3, 'upgraded', x'01')",
        [h("main").to_base32hex()],
    );
    assert!(refused.is_err(), "format 3 has no upgraded runs");
    drop(conn);

    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.format_version().unwrap(), tel_store::schema::CURRENT_VERSION);
    let (info, bytes) = store.trace("abcd0123ef").unwrap();
    assert_eq!((info.outcome, info.created, bytes), (RunOutcome::Value, 7, vec![1]));
    let upgraded = NewTrace { outcome: RunOutcome::Upgraded, ..trace("ffff0000aa", b"upgraded") };
    assert!(store.add_trace(&upgraded).unwrap());
    assert_eq!(store.trace("ffff").unwrap().0.outcome, RunOutcome::Upgraded);
    // The rebuilt table keeps its trigger: a kept run never changes.
    let raw = rusqlite::Connection::open(&path).unwrap();
    let err = raw.execute("UPDATE traces SET events = 9 WHERE id = 'abcd0123ef'", []).unwrap_err();
    assert!(err.to_string().contains("a stored trace never changes"), "{err}");
}
