//! `tel run --backend riscv` end to end, through the real binary: the same output as the VM
//! on programs of the compiled subset (values, effects, errors and their class), a program
//! outside the subset refused with the construct's place, fuel counted in RISC-V
//! instructions, and the run's trace: the VM's format, kept in the project's codebase and
//! replayed by `tel replay`.

mod support;

use std::path::Path;

use expect_test::expect;
use serde_json::Value as Json;
use support::{Env, Out, repo, tel, tel_in};

/// `tel run` with `args`, on the VM and on RISC-V.
fn both(dir: &Path, args: &[&str]) -> (Out, Out) {
    let vm = tel_in(dir, &[&["run"], args, &["--backend", "vm"]].concat());
    let rv = tel_in(dir, &[&["run"], args, &["--backend", "riscv"]].concat());
    (vm, rv)
}

/// The error's message and innermost frame (where the two backends agree).
fn head(stderr: &str) -> String {
    let lines = stderr.lines().filter(|l| l.starts_with("error") || l.starts_with("  at "));
    lines.take(2).collect::<Vec<_>>().join("\n")
}

const RECURSION: &str = "fixtures/valid/recursion.tel";

#[test]
fn the_same_output_on_both_backends() {
    let cases = [
        ("fib", "[20]"),
        ("fib_fast", "[90]"),
        ("fib_fast", "[95]"),
        ("ackermann", "[2, 3]"),
        ("gcd", "[1071, 462]"),
        ("power", "[3, 13]"),
        ("is_even", "[10]"),
        ("collatz", "[0]"),
    ];
    for (entry, args) in cases {
        let (vm, rv) = both(&repo(), &[RECURSION, "--entry", entry, "--args", args]);
        assert_eq!((rv.code, &rv.stdout), (vm.code, &vm.stdout), "{entry}{args}: {}", rv.stderr);
        assert_eq!(head(&rv.stderr), head(&vm.stderr), "{entry}{args}");
    }
    // The default is the VM.
    let out = tel(&["run", RECURSION, "--entry", "fib", "--args", "[10]", "--json"]);
    let v: Json = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["usage"].get("backend"), None);
}

#[test]
fn effects_values_and_errors_agree() {
    let dir = support::oracle();
    let (vm, rv) = both(dir.path(), &["oracle.tel", "--host", "host.json", "--json"]);
    assert_eq!((vm.code, rv.code), (0, 0), "{}", rv.stderr);
    let (vm, rv): (Json, Json) =
        (serde_json::from_str(&vm.stdout).unwrap(), serde_json::from_str(&rv.stdout).unwrap());
    for key in ["value", "effects"] {
        assert_eq!(rv[key], vm[key], "{key}");
    }
    // Two runs (the trace names its backend), with the same events.
    assert_ne!(rv["run_id"], vm["run_id"]);
    assert_eq!(rv["usage"]["clock_ms"], vm["usage"]["clock_ms"]);
    assert_eq!(rv["usage"]["backend"], "riscv");
    // The sandbox's refusal: the same error, at the same place.
    let (vm, rv) = both(dir.path(), &["oracle.tel", "--host", "host.json", "--allow", "Log"]);
    assert_eq!((vm.code, rv.code), (3, 3));
    assert_eq!(head(&rv.stderr), head(&vm.stderr));
    expect![[r#"
        error: host effect Observe failed: the sandbox does not allow Observe (allowed: Log)
          at oracle::main #2hhgfgns oracle.tel:3:22"#]]
    .assert_eq(&head(&rv.stderr));
}

#[test]
fn fuel_counts_risc_v_instructions_with_the_same_error_class() {
    let args = [RECURSION, "--entry", "fib", "--args", "[25]", "--fuel", "1000", "--json"];
    let (vm, rv) = both(&repo(), &args);
    assert_eq!((vm.code, rv.code), (3, 3));
    let (vm, rv): (Json, Json) =
        (serde_json::from_str(&vm.stdout).unwrap(), serde_json::from_str(&rv.stdout).unwrap());
    for key in ["kind", "resource", "limit", "message"] {
        assert_eq!(rv["error"][key], vm["error"][key], "{key}");
    }
    assert_eq!(rv["error"]["resource"], "fuel");
    // Exactly the limit ran.
    assert_eq!(rv["steps"], 1000);
}

#[test]
fn a_program_outside_the_subset_is_refused_with_its_place() {
    let out = tel(&["run", RECURSION, "--backend", "riscv"]);
    assert_eq!(out.code, 1);
    expect![[r#"
        error: a record result is outside the RISC-V subset (in recursion::main)
          --> fixtures/valid/recursion.tel:66:4
           | fn main() -> {
           |    ^^^^
    "#]]
    .assert_eq(&out.stderr);
    assert_eq!(out.stdout, "");
    let out = tel(&["run", RECURSION, "--entry", "fib", "--args", "[3]", "--backend", "arm"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no backend `arm`: expected vm or riscv"), "{}", out.stderr);
    let out =
        tel(&["run", RECURSION, "--entry", "fib", "--args", "[3]", "--backend", "riscv", "--memo"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("run without --memo"), "{}", out.stderr);
}

#[test]
fn the_trace_is_kept_and_replays() {
    let env = Env::project();
    env.write(
        "main.tel",
        "fn main() -> Int ! {Log} { perform Log(\"hi\"); count(50) }
         fn count(n: Int) -> Int { if n == 0 { 0 } else { 1 + count(n - 1) } }",
    );
    let dir = &env.dir;
    let out = tel_in(dir.path(), &["run", "main.tel", "--backend", "riscv", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Json = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["value"], 50);
    let id = v["run_id"].as_str().unwrap();
    assert!(v["kept"].is_string(), "{v:#}");
    assert!(out.stderr.contains(&format!("run {id} kept in")), "{}", out.stderr);
    // Replayed from the codebase, on the backend that recorded it: the same effects and
    // result.
    let out = tel_in(dir.path(), &["replay", id]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("identical"), "{}", out.stdout);
    let out = tel_in(dir.path(), &["trace", "show", id]);
    assert!(out.stdout.contains("\nbackend    riscv\n"), "{}", out.stdout);
    // The VM's run of the same program has the same events, but it is another run: the
    // trace says which backend ran it (their fuel counts different instructions).
    let out = tel_in(dir.path(), &["run", "main.tel", "--json"]);
    let vm: Json = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(vm["effects"], v["effects"]);
    assert_ne!(vm["run_id"], v["run_id"]);
    let out = tel_in(dir.path(), &["trace", "show", vm["run_id"].as_str().unwrap(), "--json"]);
    let shown: Json = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(shown["backend"], "vm");

    // A run stopped by its fuel stops at another place on each backend, and replays on its
    // own: identical.
    let out = tel_in(dir.path(), &["run", "main.tel", "--backend", "riscv", "--fuel", "300"]);
    assert_eq!(out.code, 3, "{}", out.stderr);
    assert!(out.stderr.contains("fuel exhausted (limit 300)"), "{}", out.stderr);
    let id = out.stderr.split("run ").nth(1).and_then(|r| r.split(' ').next()).unwrap();
    let out = tel_in(dir.path(), &["replay", id]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("identical"), "{}", out.stdout);
}
