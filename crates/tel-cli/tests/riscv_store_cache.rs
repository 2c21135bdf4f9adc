//! Compiled RISC-V functions kept in the codebase, through the real binary: a second process
//! links the functions the first compiled instead of compiling them again (by definition hash
//! and code generator), and a damaged entry is compiled again, replaced, and the run goes on.
//! Every figure is a count of functions, never a time.

mod support;

use std::path::Path;

use serde_json::Value as Json;

/// Four functions: a string literal for a host effect, a fifth argument passed on the stack,
/// recursion, and a division (a call of a helper).
const PROGRAM: &str = r#"
fn main() -> Int ! {Log} { perform Log("start"); sum5(1, 2, 3, 4, 5) + half(count(20) * 3) }
fn sum5(a: Int, b: Int, c: Int, d: Int, e: Int) -> Int { a + b + c + d + e }
fn count(n: Int) -> Int { if n == 0 { 0 } else { 1 + count(n - 1) } }
fn half(n: Int) -> Int { n / 2 }
"#;
const FUNCTIONS: u64 = 4;

struct Run {
    json: Json,
    stderr: String,
}

/// `tel ARGS` in `dir`: its own process, which must succeed; its stdout and stderr.
fn tel(dir: &Path, args: &[&str]) -> (String, String) {
    let out = support::tel_in(dir, args);
    assert_eq!(out.code, 0, "{}", out.stderr);
    (out.stdout, out.stderr)
}

/// `tel run main.tel --backend riscv --json --codebase cb.sqlite` in `dir`.
fn run(dir: &Path) -> Run {
    let (stdout, stderr) =
        tel(dir, &["run", "main.tel", "--backend", "riscv", "--json", "--codebase", "cb.sqlite"]);
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    Run { json, stderr }
}

/// `usage.compiled`: (functions, reused, loaded, compiled).
fn counts(run: &Run) -> (u64, u64, u64, u64) {
    let c = &run.json["usage"]["compiled"];
    let n = |k: &str| c[k].as_u64().unwrap_or_else(|| panic!("no {k} in {c}"));
    (n("functions"), n("reused"), n("loaded"), n("compiled"))
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.tel"), PROGRAM).unwrap();
    dir
}

fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("cb.sqlite")).unwrap()
}

fn kept(dir: &Path) -> u64 {
    let n: i64 =
        db(dir).query_row("SELECT count(*) FROM compiled_functions", [], |r| r.get(0)).unwrap();
    n as u64
}

#[test]
fn a_second_process_links_what_the_first_compiled() {
    let dir = project();
    let first = run(dir.path());
    assert_eq!(first.json["value"], 45);
    assert_eq!(counts(&first), (FUNCTIONS, 0, 0, FUNCTIONS));
    assert_eq!(kept(dir.path()), FUNCTIONS);

    let second = run(dir.path());
    assert_eq!(counts(&second), (FUNCTIONS, 0, FUNCTIONS, 0));
    // The same run: value, effects, trace.
    for key in ["value", "effects", "run_id"] {
        assert_eq!(second.json[key], first.json[key], "{key}");
    }
    assert!(!second.stderr.contains("warning"), "{}", second.stderr);
    assert_eq!(kept(dir.path()), FUNCTIONS);

    // Entries of another code generator are not this one's: this tel compiles anew.
    db(dir.path()).execute("UPDATE compiled_functions SET codegen = zeroblob(32)", []).unwrap();
    let third = run(dir.path());
    assert_eq!(counts(&third), (FUNCTIONS, 0, 0, FUNCTIONS));
    assert_eq!(third.json["run_id"], first.json["run_id"]);
    assert_eq!(kept(dir.path()), 2 * FUNCTIONS);
    let stats = |dir: &Path| -> Json {
        serde_json::from_str(&tel(dir, &["store", "stats", "--json", "--codebase", "cb.sqlite"]).0)
            .unwrap()
    };
    assert_eq!(stats(dir.path())["compiled_functions"], 2 * FUNCTIONS);

    // `tel store prune` forgets the other code generator's, and only those.
    let (out, _) = tel(dir.path(), &["store", "prune", "--codebase", "cb.sqlite"]);
    assert_eq!(out.trim(), format!("forgot {FUNCTIONS} RISC-V functions compiled by another tel"));
    assert_eq!(kept(dir.path()), FUNCTIONS);
    assert_eq!(stats(dir.path())["compiled_functions"], FUNCTIONS);
    assert_eq!(counts(&run(dir.path())), (FUNCTIONS, 0, FUNCTIONS, 0));
}

#[test]
fn a_damaged_entry_is_compiled_again_and_replaced() {
    let dir = project();
    let first = run(dir.path());
    assert_eq!(counts(&first), (FUNCTIONS, 0, 0, FUNCTIONS));
    // Two entries damaged: one cut short, one overwritten with bytes of another format.
    let damage = |sql: &str, nth: i64| {
        let n = db(dir.path())
            .execute(
                &format!(
                    "UPDATE compiled_functions SET object = {sql} WHERE def_hash =
                       (SELECT def_hash FROM compiled_functions ORDER BY def_hash LIMIT 1 OFFSET ?1)"
                ),
                [nth],
            )
            .unwrap();
        assert_eq!(n, 1);
    };
    damage("substr(object, 1, 40)", 0);
    damage("x'7f454c46'", 1);

    let second = run(dir.path());
    assert_eq!(second.json["value"], first.json["value"]);
    assert_eq!(counts(&second), (FUNCTIONS, 0, FUNCTIONS - 2, 2));
    let warnings: Vec<&str> =
        second.stderr.lines().filter(|l| l.starts_with("warning: the compiled code")).collect();
    assert_eq!(warnings.len(), 2, "{}", second.stderr);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("is damaged (truncated: ") && w.ends_with("compiled again")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("is damaged (not a compiled RISC-V function")),
        "{warnings:?}"
    );

    // Replaced: the next process loads every function again, without a warning.
    let third = run(dir.path());
    assert_eq!(counts(&third), (FUNCTIONS, 0, FUNCTIONS, 0));
    assert!(!third.stderr.contains("warning"), "{}", third.stderr);
    assert_eq!(kept(dir.path()), FUNCTIONS);
}

/// `tel riscv` uses an existing codebase's compiled functions and keeps what it compiles
/// there, but creates no codebase (it keeps no run).
#[test]
fn tel_riscv_shares_an_existing_codebase() {
    let dir = project();
    let riscv = |dir: &Path| {
        let (stdout, _) = tel(dir, &["riscv", "main.tel", "--codebase", "cb.sqlite"]);
        assert_eq!(stdout.trim(), "45");
    };
    riscv(dir.path());
    assert!(!dir.path().join("cb.sqlite").exists(), "tel riscv created a codebase");

    // A codebase made by a VM run (which compiles nothing): `tel riscv` fills it.
    tel(dir.path(), &["run", "main.tel", "--codebase", "cb.sqlite"]);
    assert_eq!(kept(dir.path()), 0);
    riscv(dir.path());
    assert_eq!(kept(dir.path()), FUNCTIONS);
    // And a RISC-V run of `tel run` then loads them all.
    assert_eq!(counts(&run(dir.path())), (FUNCTIONS, 0, FUNCTIONS, 0));
}
