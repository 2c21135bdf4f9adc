//! Crash safety: a process adding thousands of definitions in one call is SIGKILLed at
//! seeded moments. After each kill the file passes `PRAGMA integrity_check`, the killed batch
//! is wholly there or wholly absent, earlier batches are intact, and no name points at a
//! missing definition.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;
use tel_store::{Store, synthetic};

const ROUNDS: u64 = 12;
const BATCH: usize = 3000;

fn one(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn sigkill_during_big_adds_leaves_whole_batches() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("codebase.sqlite");
    let mut rng = synthetic::Rng::new(0x7e1_5704e);
    let (mut committed, mut killed) = (0i64, 0);
    for round in 0..ROUNDS {
        let seed = 500 + round;
        let mut child = Command::new(env!("CARGO_BIN_EXE_tel-store-torture"))
            .args(["add", path.to_str().unwrap(), &BATCH.to_string(), &seed.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait for "adding", then a seeded moment: mostly inside the add's transaction,
        // sometimes after its commit or while closing.
        let mut line = String::new();
        // Kept open until the child is gone, so its final print cannot fail.
        let mut out = BufReader::new(child.stdout.take().unwrap());
        out.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "adding");
        // A third of the rounds (seeded) run to the end, so later kills have earlier batches
        // to damage.
        let let_finish = rng.below(3) == 0;
        std::thread::sleep(Duration::from_millis(rng.below(300)));
        if !let_finish && child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        let exited_ok = child.wait().unwrap().success();
        drop(out);

        let store = Store::open(&path).unwrap();
        let conn = store.connection();
        let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(integrity, "ok", "round {round}");
        assert_eq!(one(conn, "SELECT count(*) FROM pragma_foreign_key_check()"), 0);
        assert_eq!(
            one(
                conn,
                "SELECT count(*) FROM names WHERE definition NOT IN (SELECT id FROM definitions)"
            ),
            0,
            "a name points at a missing definition"
        );

        // The batch: every definition with its bytes and dependencies, or none of them.
        let batch = synthetic::batch(seed, BATCH, 3);
        let present: Vec<bool> = batch
            .iter()
            .map(|d| match store.get_by_hash(&d.hash).unwrap() {
                None => false,
                Some(got) => {
                    assert_eq!(got.canonical, d.canonical);
                    assert_eq!(got.dependencies, d.dependencies);
                    assert_eq!(store.resolve(&d.name).unwrap(), d.hash);
                    true
                }
            })
            .collect();
        let whole = present.iter().all(|p| *p);
        assert!(whole || present.iter().all(|p| !*p), "round {round}: a partial batch survived");
        if exited_ok || let_finish {
            assert!(whole, "round {round}: a reported add is missing");
        }
        if whole {
            committed += 1;
        }
        // Earlier batches are all still there, and nothing else is.
        assert_eq!(one(conn, "SELECT count(*) FROM definitions"), committed * BATCH as i64);
        assert_eq!(one(conn, "SELECT count(*) FROM names"), committed * BATCH as i64);
    }
    eprintln!("{ROUNDS} rounds: {killed} killed, {committed} batches committed");
}
