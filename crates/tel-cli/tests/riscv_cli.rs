//! `tel riscv` end to end, through the real binary: fixture functions compiled and run, the
//! same output as `tel run`, runtime errors with their TEL stack trace, refusals naming the
//! construct and its place, the disassembly with source lines, JSON, the host file and the
//! sandbox.

mod support;

use expect_test::expect;
use support::{tel, tel_in};

const RECURSION: &str = "fixtures/valid/recursion.tel";

#[test]
fn fixture_functions_run_compiled() {
    let cases = [
        ("fib", "[20]", "6765"),
        ("fib_fast", "[90]", "2880067194370816120"),
        ("ackermann", "[2, 3]", "9"),
        ("gcd", "[1071, 462]", "21"),
        ("power", "[3, 13]", "1594323"),
        ("collatz", "[27]", "111"),
        ("is_even", "[10]", "true"),
        ("is_odd", "[7]", "true"),
    ];
    for (entry, args, want) in cases {
        let out = tel(&["riscv", RECURSION, "--entry", entry, "--args", args]);
        assert_eq!((out.code, out.stdout.trim()), (0, want), "{entry}{args}: {}", out.stderr);
    }
}

#[test]
fn prints_what_tel_run_prints() {
    for (entry, args) in [("fib", "[15]"), ("fib_fast", "[95]"), ("gcd", "[0, 0]")] {
        let vm = tel(&["run", RECURSION, "--entry", entry, "--args", args]);
        let rv = tel(&["riscv", RECURSION, "--entry", entry, "--args", args]);
        assert_eq!((rv.code, &rv.stdout), (vm.code, &vm.stdout), "{entry}{args}");
        // The error's first lines: the message and the innermost frame, in the sources
        // (`tel run` also says where it kept the run).
        let head = |s: &str| {
            let lines = s.lines().filter(|l| l.starts_with("error") || l.starts_with("  at "));
            lines.take(2).collect::<Vec<_>>().join("\n")
        };
        assert_eq!(head(&rv.stderr), head(&vm.stderr), "{entry}{args}");
    }
}

#[test]
fn a_runtime_error_shows_the_tel_stack() {
    let out = tel(&["riscv", RECURSION, "--entry", "fib_fast", "--args", "[95]"]);
    assert_eq!(out.code, 3);
    expect![[r#"
        error: integer overflow in +
          at recursion::fib_iter #m856g0sj fixtures/valid/recursion.tel:18:47
    "#]]
    .assert_eq(&out.stderr);
    // Recursion past the call-depth limit: the frames fold.
    let out = tel(&["riscv", RECURSION, "--entry", "collatz", "--args", "[0]"]);
    assert_eq!(out.code, 3);
    expect![[r#"
        error: call depth exhausted (limit 100000)
          at recursion::collatz #s766dgeg fixtures/valid/recursion.tel:52:32
          … the frame above 99999 more times
    "#]]
    .assert_eq(&out.stderr);
}

#[test]
fn a_construct_outside_the_subset_is_refused_with_its_place() {
    let out = tel(&["riscv", RECURSION]);
    assert_eq!(out.code, 1);
    expect![[r#"
        error: a record result is outside the RISC-V subset (in recursion::main)
          --> fixtures/valid/recursion.tel:66:4
           | fn main() -> {
           |    ^^^^
    "#]]
    .assert_eq(&out.stderr);
    let out = tel(&["riscv", "fixtures/valid/lists.tel"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("is outside the RISC-V subset"), "{}", out.stderr);
    assert!(out.stderr.contains("--> fixtures/valid/lists.tel:"), "{}", out.stderr);
}

#[test]
fn disassembly_with_source_lines() {
    let out = tel(&["riscv", RECURSION, "--entry", "fib", "--disasm"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let text = &out.stdout;
    let fib = &text[text.find("<fib #").expect("fib's code")..];
    assert!(
        fib.contains(
            "; fixtures/valid/recursion.tel:9  if n < 2 { n } else { fib(n - 1) + fib(n - 2) }"
        ),
        "{fib}"
    );
    assert!(fib.contains("ecall  # trap: integer overflow in +"), "{fib}");
    // Every line of code is an address, a word and an instruction disc-v knows.
    for line in text.lines().filter(|l| l.starts_with("   1")) {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 3, "{line}");
        assert!(!fields[2].starts_with(".insn") && !fields[2].is_empty(), "{line}");
    }
}

#[test]
fn json_output() {
    let out = tel(&["riscv", RECURSION, "--entry", "fib", "--args", "[10]", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["value"], 55);
    assert_eq!(v["shown"], "55");
    assert!(v["steps"].as_u64().unwrap() > 100);
    assert_eq!(v["usage"]["limits"]["call_depth"], 100_000);
    let out = tel(&["riscv", RECURSION, "--entry", "fib_fast", "--args", "[95]", "--json"]);
    assert_eq!(out.code, 3);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "trap");
    assert_eq!(v["error"]["stack"][0]["line"], 18);
}

#[test]
fn effects_go_to_the_host_through_the_sandbox() {
    let dir = support::oracle();
    let out = tel_in(dir.path(), &["riscv", "oracle.tel", "--host", "host.json"]);
    assert_eq!((out.code, out.stdout.trim()), (0, "7250"), "{}", out.stderr);
    let out = tel_in(dir.path(), &["riscv", "oracle.tel", "--host", "host.json", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    expect![[r#"[{"args":["asking"],"at_ms":1000,"effect":"Log","result":null},{"args":["ETH/USD"],"at_ms":1000,"effect":"Observe","result":3000}]"#]]
        .assert_eq(&v["effects"].to_string());
    // The sandbox refuses what it does not allow, where it is performed.
    let out = tel_in(dir.path(), &["riscv", "oracle.tel", "--host", "host.json", "--allow", "Log"]);
    assert_eq!(out.code, 3);
    expect![[r#"
        error: host effect Observe failed: the sandbox does not allow Observe (allowed: Log)
          at oracle::main #2hhgfgns oracle.tel:3:22
    "#]]
    .assert_eq(&out.stderr);
    // Fuel counts RISC-V instructions.
    let out = tel_in(
        dir.path(),
        &["riscv", "oracle.tel", "--entry", "quiet", "--host", "host.json", "--fuel", "3"],
    );
    assert_eq!(out.code, 3);
    assert!(out.stderr.starts_with("error: fuel exhausted (limit 3)"), "{}", out.stderr);
}

#[test]
fn usage_errors() {
    let out = tel(&["riscv", "no/such/file.tel"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr, "error: no/such/file.tel: no such file or folder\n");
    let out = tel(&["riscv", RECURSION, "--entry", "fib"]);
    assert_eq!(out.code, 1);
    expect![[r#"
        error: recursion::fib takes 1 argument(s): pass them with --args '[…]' (a JSON array)
    "#]]
    .assert_eq(&out.stderr);
    let out = tel(&["riscv", RECURSION, "--entry", "fib", "--args", "[true]"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.starts_with("error: --args:"), "{}", out.stderr);
    let out = tel(&["riscv", RECURSION, "--entry", "nope"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("no definition `nope`"), "{}", out.stderr);
}
