//! What is at the codebase path, and whether it can be written: every case gets a clear error
//! naming the file and the fix, and a file that is not ours is never modified.

mod common;

use common::{fresh, real};
use expect_test::expect;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Command;
use tel_store::schema::{self, Migration};
use tel_store::{Error, Store};

fn shown(err: &Error, dir: &Path) -> String {
    err.to_string().replace(&dir.display().to_string(), "$DIR")
}

#[test]
fn a_non_sqlite_file_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("codebase.sqlite");
    let garbage = "these are my notes, not a database\n".repeat(100);
    std::fs::write(&path, &garbage).unwrap();
    let err = Store::open(&path).err().unwrap();
    expect!["$DIR/codebase.sqlite is not a TEL codebase (not an SQLite database): move it away or set TEL_CODEBASE to another path"]
        .assert_eq(&shown(&err, dir.path()));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), garbage);

    let err = Store::open(dir.path()).err().unwrap();
    expect![
        "$DIR is not a TEL codebase (a directory): move it away or set TEL_CODEBASE to another path"
    ]
    .assert_eq(&shown(&err, dir.path()));
}

#[test]
fn another_applications_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users VALUES (1, 'ada');")
            .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path).err().unwrap();
    expect!["$DIR/app.db is not a TEL codebase (an SQLite database without TEL tables): move it away or set TEL_CODEBASE to another path"]
        .assert_eq(&shown(&err, dir.path()));
    assert_eq!(std::fs::read(&path).unwrap(), before, "a foreign database must not be modified");

    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("PRAGMA application_id = 1234;")
        .unwrap();
    let err = Store::open(&other).err().unwrap();
    expect!["$DIR/other.db is not a TEL codebase (an SQLite database of another application, application_id 0x000004d2): move it away or set TEL_CODEBASE to another path"]
        .assert_eq(&shown(&err, dir.path()));
}

#[test]
fn an_empty_file_becomes_a_codebase() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("codebase.sqlite");
    std::fs::write(&path, "").unwrap();
    let mut store = Store::open(&path).unwrap();
    store.add_definitions(&[real("a", "1", &[])], "x").unwrap();
    assert_eq!(store.format_version().unwrap(), schema::CURRENT_VERSION);
}

#[test]
fn a_missing_codebase_is_not_created_by_readers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".tel/codebase.sqlite");
    let err = Store::open_existing(&path).err().unwrap();
    expect!["no codebase at $DIR/.tel/codebase.sqlite: `tel store add` creates it, or set TEL_CODEBASE to an existing one"]
        .assert_eq(&shown(&err, dir.path()));
    assert!(!dir.path().join(".tel").exists());
}

#[test]
fn a_corrupt_codebase_is_reported_as_corrupt() {
    let f = fresh();
    let path = f.store.path().to_path_buf();
    drop(f.store);
    // Keep the 100-byte header (so it still looks like SQLite), wreck the schema page.
    let mut bytes = std::fs::read(&path).unwrap();
    for b in &mut bytes[100..4096] {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).unwrap();
    let err = Store::open(&path).err().unwrap();
    assert!(matches!(err, Error::Corrupt { .. }), "{err:?}");
    let msg = shown(&err, f.dir.path());
    assert!(msg.starts_with("$DIR/.tel/codebase.sqlite is corrupt ("), "{msg}");
    assert!(
        msg.ends_with(
            "): restore it from a backup, or move it away and `tel store add` your sources again"
        ),
        "{msg}"
    );
}

#[test]
fn a_newer_format_is_refused_with_upgrade_advice() {
    let f = fresh();
    let path = f.store.path().to_path_buf();
    f.store
        .connection()
        .execute("INSERT INTO schema_version (version, name, applied_at) VALUES (99, 'from the future', 0)", [])
        .unwrap();
    drop(f.store);
    let err = Store::open(&path).err().unwrap();
    expect!["$DIR/.tel/codebase.sqlite was written by a newer tel (codebase format 99; this tel reads up to 5): upgrade tel"]
        .assert_eq(&shown(&err, f.dir.path()));
}

#[test]
fn migrations_bring_an_older_codebase_up_to_date() {
    let f = fresh();
    let path = f.store.path().to_path_buf();
    drop(f.store);
    // A future table as a migration: one more entry at the end.
    let current = schema::CURRENT_VERSION;
    let mut list: Vec<Migration> = schema::MIGRATIONS.iter().map(|m| Migration { ..*m }).collect();
    list.push(Migration {
        version: current + 1,
        name: "run labels",
        sql: "CREATE TABLE run_labels (run TEXT NOT NULL REFERENCES traces(id),
                                       label TEXT NOT NULL, PRIMARY KEY (run, label)) WITHOUT ROWID;",
    });
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    assert_eq!(schema::migrate(&mut conn, &list, 0).unwrap(), schema::Found::Codebase(current));
    // Applied once: a second run finds nothing to do.
    assert_eq!(schema::migrate(&mut conn, &list, 0).unwrap(), schema::Found::Codebase(current + 1));
    let names: Vec<String> = conn
        .prepare("SELECT name FROM schema_version ORDER BY version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        names,
        [
            "code and names",
            "run traces and memo cache",
            "debug sessions, snapshots and program artifacts",
            "upgraded runs",
            "compiled RISC-V functions",
            "run labels"
        ]
    );
    drop(conn);
    // This library, one version behind, now refuses the file.
    assert!(matches!(
        Store::open(&path),
        Err(Error::NewerFormat { found, supported, .. }) if found == current + 1 && supported == current
    ));
}

/// Runs `tel-store-torture ARGS…` as an unprivileged user when we are root (root writes
/// through permission bits), so read-only places are read-only for real.
fn run_unprivileged(args: &[&str], path: &Path) -> (bool, String) {
    use std::os::unix::process::CommandExt;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tel-store-torture"));
    cmd.arg(args[0]).arg(path).args(&args[1..]);
    let probe = tempfile::NamedTempFile::new().unwrap();
    if probe.as_file().metadata().unwrap().uid() == 0 {
        cmd.uid(65534).gid(65534);
    }
    let out = cmd.output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).trim().to_owned())
}

fn chmod(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn read_only_places_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    chmod(dir.path(), 0o755);

    // An existing codebase whose file is writable but whose directory is not (WAL needs
    // its side files there), and then one whose file is read-only too.
    let existing = ro.join("codebase.sqlite");
    Store::open(&existing).unwrap().add_definitions(&[real("a", "1", &[])], "x").unwrap();
    chmod(&existing, 0o666);
    chmod(&ro, 0o555);

    let (ok, err) = run_unprivileged(&["open"], &ro.join("new.sqlite"));
    assert!(!ok);
    expect!["$DIR/ro is read-only: cannot create or write the codebase $DIR/ro/new.sqlite; make it writable, or set TEL_CODEBASE to a file in a writable directory"]
        .assert_eq(&err.replace(&dir.path().display().to_string(), "$DIR"));

    let (ok, err) = run_unprivileged(&["open"], &ro.join(".tel/codebase.sqlite"));
    assert!(!ok);
    expect!["$DIR/ro is read-only: cannot create or write the codebase $DIR/ro/.tel/codebase.sqlite; make it writable, or set TEL_CODEBASE to a file in a writable directory"]
        .assert_eq(&err.replace(&dir.path().display().to_string(), "$DIR"));

    let (ok, err) = run_unprivileged(&["open"], &existing);
    assert!(!ok);
    expect!["$DIR/ro is read-only: cannot create or write the codebase $DIR/ro/codebase.sqlite; make it writable, or set TEL_CODEBASE to a file in a writable directory"]
        .assert_eq(&err.replace(&dir.path().display().to_string(), "$DIR"));

    // A read-only file in a writable directory can still be read; adding names the file.
    chmod(&ro, 0o777);
    chmod(&existing, 0o444);
    let (ok, err) = run_unprivileged(&["open"], &existing);
    assert!(ok, "{err}");
    let (ok, err) = run_unprivileged(&["add", "1", "7"], &existing);
    assert!(!ok);
    expect!["$DIR/ro/codebase.sqlite is read-only: cannot create or write the codebase $DIR/ro/codebase.sqlite; make it writable, or set TEL_CODEBASE to a file in a writable directory"]
        .assert_eq(&err.replace(&dir.path().display().to_string(), "$DIR"));

    // Made writable again, the WAL side files that read-only open left behind (with the
    // file's permissions) are named next, and then it works.
    chmod(&existing, 0o666);
    let (ok, err) = run_unprivileged(&["add", "1", "7"], &existing);
    assert!(!ok);
    expect!["$DIR/ro/codebase.sqlite-shm is read-only: cannot create or write the codebase $DIR/ro/codebase.sqlite; make it writable, or set TEL_CODEBASE to a file in a writable directory"].assert_eq(&err.replace(&dir.path().display().to_string(), "$DIR"));
    chmod(&ro.join("codebase.sqlite-wal"), 0o666);
    chmod(&ro.join("codebase.sqlite-shm"), 0o666);
    let (ok, err) = run_unprivileged(&["add", "1", "7"], &existing);
    assert!(ok, "{err}");
    chmod(&existing, 0o644);
    assert!(Store::open(&existing).unwrap().get_by_name("a").unwrap().is_some());
}
