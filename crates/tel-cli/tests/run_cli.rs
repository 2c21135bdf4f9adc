//! `tel run`, `tel trace`, `tel replay` and `tel memo` end to end, through the real binary:
//! every valid fixture runs with its expected output and replays identically; refusals before
//! running; runtime errors with their stack trace; the sandbox and every limit flag; traces
//! kept in a project's codebase, exported, and rejected when altered; the memo cache.

mod support;

use expect_test::{expect, expect_file};
use serde_json::Value;
use support::{Env, Out, repo};

impl Env {
    fn tel(&self, args: &[&str]) -> Out {
        Out::of(support::command(self.dir.path(), args).env("NO_COLOR", "1"))
    }

    /// The run id `tel run` reported on stderr.
    fn run_id(out: &Out) -> String {
        let at = out.stderr.find("run ").expect("tel run names its run") + 4;
        out.stderr[at..at + 16].to_owned()
    }

    fn shown(&self, text: &str) -> String {
        mask_ids(&text.replace(&self.dir.path().display().to_string(), "$DIR"))
    }
}

/// `run 0123456789abcdef` → `run <id>`: ids are hashes of the whole trace, which any change
/// of the recorder's encoding moves; that they are stable is tested on its own.
fn mask_ids(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("run ") {
        out.push_str(&rest[..i + 4]);
        rest = &rest[i + 4..];
        let id_len = rest.chars().take_while(|c| matches!(c, '0'..='9' | 'a'..='v')).count();
        if id_len == 16 {
            out.push_str("<id>");
            rest = &rest[16..];
        }
    }
    out.push_str(rest);
    out
}

/// A stack trace with its short hashes (` #0123abcd`) and run ids left out: they change
/// whenever the hash or trace format does; names and positions do not.
fn without_hashes(text: &str) -> String {
    let lines: Vec<String> = text
        .lines()
        .map(|l| match l.find(" #") {
            Some(i) => format!("{}{}", &l[..i], &l[i + 10..]),
            None => l.to_owned(),
        })
        .collect();
    mask_ids(&lines.join("\n"))
}

/// The host a fixture's header describes (feeds, seed); `None` for the default host.
fn host_for(fixture: &str) -> Option<&'static str> {
    Some(match fixture {
        "arbitrage.tel" => r#"{"feeds": {"ETH/USD@ethereum": 3000, "ETH/USD@osmosis": 3050}}"#,
        "price_watch.tel" => r#"{"feeds": {"ETH/USD": 3000, "BTC/USD": 64000}}"#,
        "schema_v1.tel" | "schema_v2.tel" => r#"{"feeds": {"ETH/USD": 3100}}"#,
        "lottery.tel" => r#"{"seed": 7, "clock_start": 1000}"#,
        _ => return None,
    })
}

fn valid_fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repo().join("fixtures/valid"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tel"))
        .collect();
    names.sort();
    names
}

#[test]
fn every_valid_fixture_runs_and_replays_identically() {
    let env = Env::new();
    let mut all = String::new();
    for name in valid_fixtures() {
        let fixture = repo().join("fixtures/valid").join(&name);
        let fixture = fixture.to_str().unwrap();
        let trace = env.path(&format!("{name}.trace"));
        let mut args = vec!["run", fixture, "--trace", trace.to_str().unwrap()];
        let host = host_for(&name).map(|h| env.write(&format!("{name}.host.json"), h));
        if let Some(h) = &host {
            args.extend(["--host", h.to_str().unwrap()]);
        }
        let out = env.tel(&args);
        assert_eq!(out.code, 0, "{name}:\n{}", out.both());
        all.push_str(&format!("=== {name}\n{}", out.stdout));

        // The same run again is the same run: same value, same id.
        let again = env.tel(&args);
        assert_eq!((again.code, &again.stdout), (0, &out.stdout), "{name}");
        assert_eq!(Env::run_id(&again), Env::run_id(&out), "{name}: a run's id is its content");

        let replay = env.tel(&["replay", trace.to_str().unwrap()]);
        assert_eq!(replay.code, 0, "{name}: {}", replay.both());
        assert!(replay.stdout.ends_with("events: identical\n"), "{name}: {}", replay.stdout);
    }
    expect_file!["snapshots/run_valid.txt"].assert_eq(&all);
}

#[test]
fn outside_a_project_the_run_is_not_kept_and_says_so() {
    let env = Env::new();
    env.write("one.tel", "fn main() -> Int { 6 * 7 }\n");
    let out = env.tel(&["run", "one.tel"]);
    assert_eq!(out.code, 0);
    expect![[r#"
        42
        run <id>: not kept (no codebase here: run inside a TEL project, set TEL_CODEBASE, or pass --trace FILE)
    "#]]
    .assert_eq(&env.shown(&out.both()));
    assert!(!env.path(".tel").exists(), "no codebase is created outside a project");
}

#[test]
fn json_output_has_value_run_id_steps_effects_and_usage() {
    let env = Env::project();
    env.write(
        "bank.tel",
        r#"type Account = { owner: String, balance: Int }

fn main() -> Account ! {Deposit, Log} {
    perform Deposit("alice", 25);
    perform Log("paid");
    { owner: "alice", balance: 25 }
}
"#,
    );
    let out = env.tel(&["run", "bank.tel", "--json"]);
    assert_eq!(out.code, 0, "{}", out.both());
    let mut json: Value = serde_json::from_str(&out.stdout).unwrap();
    let run_id = json["run_id"].as_str().unwrap().to_owned();
    assert_eq!(run_id.len(), 16);
    assert!(json["steps"].as_u64().unwrap() > 0);
    assert_eq!(json["steps"], json["usage"]["fuel"]);
    json["run_id"] = "<id>".into();
    json["steps"] = 0.into();
    json["usage"]["fuel"] = 0.into();
    json["usage"]["heap_bytes"] = 0.into();
    json["kept"] = env.shown(json["kept"].as_str().unwrap()).into();
    expect![[r#"
        {
          "effects": [
            {
              "args": [
                "alice",
                25
              ],
              "at_ms": 0,
              "effect": "Deposit",
              "result": null
            },
            {
              "args": [
                "paid"
              ],
              "at_ms": 0,
              "effect": "Log",
              "result": null
            }
          ],
          "kept": "$DIR/.tel/codebase.sqlite",
          "run_id": "<id>",
          "shown": "Account { balance: 25, owner: \"alice\" }",
          "steps": 0,
          "usage": {
            "clock_ms": 0,
            "effects": 2,
            "fuel": 0,
            "heap_bytes": 0,
            "limits": {
              "call_depth": 100000,
              "effects": 1000000,
              "fuel": 100000000,
              "heap_bytes": 1073741824,
              "wall_ms": 1000
            }
          },
          "value": {
            "balance": 25,
            "owner": "alice"
          }
        }"#]]
    .assert_eq(&serde_json::to_string_pretty(&json).unwrap());
    // The run is kept under that id.
    let list = env.tel(&["trace", "list"]);
    assert!(list.stdout.starts_with(&run_id), "{}", list.both());
}

#[test]
fn args_are_decoded_against_the_entry_points_parameters() {
    let env = Env::new();
    env.write(
        "args.tel",
        r#"type Order = { asset: String, qty: Int }

fn total(orders: List<Order>, fee: Int) -> Int {
    fold(orders, fee, |acc: Int, o: Order| acc + o.qty)
}

fn main() -> Int { 0 }
"#,
    );
    let args = r#"[[{"asset": "ETH", "qty": 2}, {"asset": "BTC", "qty": 5}], 10]"#;
    let trace = env.dir.path().join("args.trace");
    let trace = trace.to_str().unwrap();
    let out = env.tel(&["run", "args.tel", "--entry", "total", "--args", args, "--trace", trace]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "17\n"), "{}", out.both());
    // The arguments are part of the trace: the run replays with them.
    let replayed = env.tel(&["replay", trace]);
    assert_eq!(replayed.code, 0, "{}", replayed.both());
    assert!(replayed.stdout.ends_with("events: identical\n"), "{}", replayed.both());

    let refused = |args: &[&str]| {
        let mut all = vec!["run", "args.tel"];
        all.extend(args);
        let out = env.tel(&all);
        assert_eq!(out.code, 1, "{args:?}: {}", out.both());
        assert_eq!(out.stdout, "");
        env.shown(&out.stderr)
    };
    expect![[r#"
        error: args::total takes 2 argument(s): pass them with --args '[…]' (a JSON array)
    "#]]
    .assert_eq(&refused(&["--entry", "total"]));
    expect![[r#"
        error: --args: at $: expected 2 arguments, found 1
    "#]]
    .assert_eq(&refused(&["--entry", "total", "--args", "[[]]"]));
    expect![[r#"
        error: no definition `nope` in args.tel (--entry names the function to run)
    "#]]
    .assert_eq(&refused(&["--entry", "nope"]));
    expect![[r#"
        error: args::Order is a type, not a function: only a function can be run
    "#]]
    .assert_eq(&refused(&["--entry", "Order"]));
}

#[test]
fn a_runtime_error_prints_the_tel_stack_trace_and_exits_3() {
    let env = Env::new();
    env.write(
        "div.tel",
        // No call in tail position, so every frame is still there when the error happens.
        r#"fn ratio(a: Int, b: Int) -> Int { a / b }

fn spread(xs: List<Int>) -> List<Int> {
    let ys = map(xs, |x: Int| ratio(100, x) + 1);
    ys
}

fn main() -> List<Int> {
    let s = spread([5, 2, 0, 1]);
    s
}
"#,
    );
    let out = env.tel(&["run", "div.tel"]);
    assert_eq!(out.code, 3, "{}", out.both());
    assert_eq!(out.stdout, "");
    // Names, short hashes and positions, innermost first.
    expect![[r#"
        error: division by zero
          at div::ratio div.tel:1:35
          at div::spread/lambda div.tel:4:31
          at div::spread div.tel:4:14
          at div::main div.tel:9:13
        run <id>: not kept (no codebase here: run inside a TEL project, set TEL_CODEBASE, or pass --trace FILE)"#]]
    .assert_eq(&without_hashes(&out.stderr));

    // --json puts the error and its stack in the document.
    let out = env.tel(&["run", "div.tel", "--json"]);
    assert_eq!(out.code, 3);
    let json: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["error"]["kind"], "trap");
    assert_eq!(json["error"]["message"], "division by zero");
    let stack = json["error"]["stack"].as_array().unwrap();
    assert_eq!(stack[0]["name"], "div::ratio");
    assert_eq!(stack[0]["hash"].as_str().unwrap().len(), 52);
    assert_eq!(
        (&stack[0]["file"], &stack[0]["line"], &stack[0]["column"]),
        (&"div.tel".into(), &1.into(), &35.into())
    );
    assert!(json.get("value").is_none());
}

#[test]
fn withdrawing_beyond_the_host_balance_is_a_runtime_error() {
    let env = Env::new();
    env.write(
        "pay.tel",
        r#"fn pay(who: String, amount: Int) -> () ! {Withdraw, Log} {
    perform Withdraw(who, amount);
    perform Log("paid " ++ show(amount))
}

fn main() -> () ! {Withdraw, Log} {
    pay("alice", 30);
    pay("alice", 50);
    perform Log("done")
}
"#,
    );
    env.write("host.json", r#"{"balances": {"alice": 60}}"#);
    let out = env.tel(&["run", "pay.tel", "--host", "host.json"]);
    assert_eq!(out.code, 3, "{}", out.both());
    let shown = env.shown(&out.stderr);
    assert!(
        shown.starts_with(
            "error: host effect Withdraw failed: withdrawing 50 from \"alice\", whose balance is 30\n"
        ),
        "{shown}"
    );
    assert!(shown.contains("pay #") && shown.contains("main #"), "{shown}");
    // With enough in the account, it runs.
    env.write("rich.json", r#"{"balances": {"alice": 100}}"#);
    let out = env.tel(&["run", "pay.tel", "--host", "rich.json"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "()\n"), "{}", out.both());
    // A host file with a mistake is named, with the place.
    env.write("bad.json", r#"{"balances": {"alice": -5}}"#);
    let out = env.tel(&["run", "pay.tel", "--host", "bad.json"]);
    assert_eq!(out.code, 2);
    expect![[r#"
        error: bad.json: at `balances.alice`: an opening balance cannot be negative (-5)
    "#]]
    .assert_eq(&env.shown(&out.stderr));
}

#[test]
fn an_entry_point_with_a_program_effect_is_refused_before_running() {
    let env = Env::new();
    env.write(
        "approve.tel",
        r#"effect Approve(amount: Int) -> Bool

fn ask() -> Bool ! {Approve, Log} {
    perform Log("asking");
    perform Approve(10)
}

fn main() -> Bool ! {Log} {
    handle {
        ask()
    } with {
        Approve(n) => resume(n < 100),
    }
}
"#,
    );
    let out = env.tel(&["run", "approve.tel", "--entry", "ask"]);
    assert_eq!(out.code, 1, "{}", out.both());
    assert_eq!(out.stdout, "");
    expect![[r#"
        error: cannot run approve::ask: its effect row holds `Approve`, which is not a host effect; a program's own effects must be handled inside it (the host effects are Log, Observe, Deposit, Withdraw, Now, Sleep, Random, Emit)
    "#]]
    .assert_eq(&env.shown(&out.stderr));
    let out = env.tel(&["run", "approve.tel"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "true\n"), "{}", out.both());
}

#[test]
fn a_project_with_errors_is_refused_with_its_diagnostics() {
    let env = Env::new();
    env.write("bad.tel", "fn main() -> Int { 1 + true }\n");
    let out = env.tel(&["run", "bad.tel"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("error[E"), "{}", out.stderr);
    assert!(
        out.stderr
            .ends_with("error: cannot run bad.tel: 1 error(s) in 1 file(s) (see `tel check`)\n"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_sandbox_refuses_an_effect_not_allowed_where_it_is_performed() {
    let treasury = repo().join("fixtures/valid/treasury.tel");
    let env = Env::new();
    let out = env.tel(&["run", treasury.to_str().unwrap(), "--allow", "Log,Withdraw"]);
    assert_eq!(out.code, 3, "{}", out.both());
    let shown = env.shown(&out.stderr);
    assert!(
        shown.starts_with(
            "error: host effect Deposit failed: the sandbox does not allow Deposit (allowed: Log, Withdraw)\n  at treasury::deposit #"
        ),
        "{shown}"
    );
    // Allowing what it performs runs it.
    let out = env.tel(&["run", treasury.to_str().unwrap(), "--allow", "Deposit, Withdraw, Log"]);
    assert_eq!(out.code, 0, "{}", out.both());
    // A name that is no host effect is a mistake on the command line.
    let out = env.tel(&["run", treasury.to_str().unwrap(), "--allow", "Log,Teleport"]);
    assert_eq!(out.code, 2);
    expect![[r#"
        error: --allow: `Teleport` is not a host effect (the host effects are Log, Observe, Deposit, Withdraw, Now, Sleep, Random, Emit)
    "#]]
    .assert_eq(&out.stderr);
}

const SPIN: &str = r#"fn spin(n: Int, acc: List<Int>) -> List<Int> { spin(n + 1, acc ++ [n]) }

/// A loop that allocates nothing: only fuel or the clock stop it.
fn count(n: Int) -> Int { count(n + 1) }

fn forever() -> Int { count(0) }

fn deep(n: Int) -> Int { deep(n + 1) + 1 }

fn runaway() -> Int { deep(0) }

fn main() -> List<Int> { spin(0, []) }
"#;

fn first_error_line(env: &Env, args: &[&str]) -> String {
    let mut all = vec!["run", "spin.tel"];
    all.extend(args);
    let out = env.tel(&all);
    assert_eq!(out.code, 3, "{args:?}: {}", out.both());
    out.stderr.lines().next().unwrap().to_owned()
}

#[test]
fn each_limit_flag_stops_the_run_naming_the_resource_and_the_limit() {
    let env = Env::new();
    env.write("spin.tel", SPIN);
    assert_eq!(first_error_line(&env, &["--fuel", "1000"]), "error: fuel exhausted (limit 1000)");
    assert_eq!(
        first_error_line(&env, &["--memory", "100000"]),
        "error: heap bytes exhausted (limit 100000)"
    );
    // A runaway recursion stops at the call depth limit without overflowing anything, and
    // its stack trace folds the repeated frame.
    // (No wall-clock limit here, so a slow machine cannot stop it first.)
    let out = env.tel(&["run", "spin.tel", "--entry", "runaway", "--timeout", "none"]);
    assert_eq!(out.code, 3);
    expect![[r#"
        error: call depth exhausted (limit 100000)
          at spin::deep spin.tel:8:26
          … the frame above 99999 more times
        run <id>: not kept (no codebase here: run inside a TEL project, set TEL_CODEBASE, or pass --trace FILE)"#]]
    .assert_eq(&without_hashes(&out.stderr));
    let out = env.tel(&["run", "spin.tel", "--timeout", "soon"]);
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr,
        "error: --timeout soon: expected a duration such as 500ms, 2s, 1min or 1h, or none\n"
    );
}

#[test]
fn the_timeout_stops_a_loop_that_has_fuel_for_hours() {
    let env = Env::new();
    env.write("spin.tel", SPIN);
    let mut child = support::command(env.dir.path(), &["run", "spin.tel", "--entry", "forever"])
        .args(["--fuel", "1000000000000000", "--timeout", "300ms"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // A guard, not a measurement: a timeout that is not enforced fails here instead of
    // hanging the test suite.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("tel run --timeout 300ms was still running after 60 s");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("error: wall time (ms) exhausted (limit 300)"), "{stderr}");
}

/// A project with the fixture `file` in it; the run's id.
fn kept_run(env: &Env, file: &str, extra: &[&str]) -> String {
    let text = std::fs::read_to_string(repo().join("fixtures/valid").join(file)).unwrap();
    env.write(file, &text);
    let mut args = vec!["run", file];
    args.extend(extra);
    let out = env.tel(&args);
    assert_eq!(out.code, 0, "{}", out.both());
    assert!(out.stderr.contains(" kept in "), "{}", out.stderr);
    Env::run_id(&out)
}

#[test]
fn a_kept_run_is_shown_exported_and_replayed_identically() {
    let env = Env::project();
    let id = kept_run(&env, "treasury.tel", &[]);
    let out = env.tel(&["replay", &id[..6]]);
    assert_eq!(out.code, 0, "{}", out.both());
    expect![[r#"
        replayed 12 events: identical
    "#]]
    .assert_eq(&out.stdout);

    let show = env.tel(&["trace", "show", &id]);
    assert_eq!(show.code, 0, "{}", show.both());
    let shown = env.shown(&show.stdout);
    let shown: String =
        shown.lines().filter(|l| !l.starts_with("entry")).map(|l| format!("{l}\n")).collect();
    expect![[r#"
        run        r421ha7k933r8l7e
        limits     fuel 100000000, heap bytes 1073741824, effects 1000000, call depth 100000, wall time 1000ms
        allowed    all host effects
        clock      starts at 0ms
        events     12
            0  call treasury::main #vgb2cq4f()
            1  Deposit("ETH", 50000) at 0ms -> ()
            2  Log("deposit 50000 ETH") at 0ms -> ()
            3  Deposit("USDC", 1000000) at 0ms -> ()
            4  Log("deposit 1000000 USDC") at 0ms -> ()
            5  Withdraw("ETH", 20000) at 0ms -> ()
            6  Log("withdraw 20000 ETH (fee 60)") at 0ms -> ()
            7  Log("refused: withdraw 2000000 USDC, balance 1000000") at 0ms -> ()
            8  Withdraw("USDC", 100) at 0ms -> ()
            9  Log("withdraw 100 USDC (fee 1)") at 0ms -> ()
           10  Log("fees collected: 61") at 0ms -> ()
           11  return #vgb2cq4f = Ledger { balances: {"ETH": 29940, "USDC": 999899}, fees_collected: 61 }
    "#]]
    .assert_eq(&shown);

    let json: Value =
        serde_json::from_str(&env.tel(&["trace", "show", &id, "--json"]).stdout).unwrap();
    assert_eq!(json["run_id"], id.as_str());
    assert_eq!(json["events"].as_array().unwrap().len(), 12);
    assert_eq!(json["events"][1]["kind"], "effect");
    assert_eq!(json["events"][1]["effect"], "Deposit");
    assert_eq!(json["events"][1]["args"], serde_json::json!(["ETH", 50000]));
    assert_eq!(json["events"][11]["kind"], "return");

    // Every call, regenerated by re-running the program against the log.
    let calls = env.tel(&["trace", "show", &id, "--calls"]);
    assert_eq!(calls.code, 0, "{}", calls.both());
    assert!(calls.stdout.contains("call fee #"), "{}", calls.stdout);

    // An exported run replays anywhere, without the codebase.
    let file = env.path("treasury.run");
    let out = env.tel(&["trace", "export", &id, file.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{}", out.both());
    let elsewhere = Env::new();
    let out = elsewhere.tel(&["replay", file.to_str().unwrap()]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "replayed 12 events: identical\n"));

    let out = env.tel(&["replay", "0000"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.starts_with("error: no run 0000 in "), "{}", out.stderr);

    // A bare trace (tel-vm's format, without the code) takes its code from the codebase.
    let run = tel_vm::ExportedRun::from_bytes(&std::fs::read(&file).unwrap()).unwrap();
    let bare = env.path("treasury.trace");
    std::fs::write(&bare, run.trace.to_bytes()).unwrap();
    let out = env.tel(&["replay", bare.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.both());
    assert!(out.stderr.contains("the trace does not carry its code"), "{}", out.stderr);
    assert_eq!(env.tel(&["store", "add", "treasury.tel"]).code, 0);
    let out = env.tel(&["replay", bare.to_str().unwrap()]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "replayed 12 events: identical\n"));
}

/// The export file with one byte of the recorded `needle` changed inside the compressed
/// payload: a well-formed file whose content was altered.
fn alter(bytes: &[u8], needle: &[u8]) -> Vec<u8> {
    const HEADER: usize = 8 + 2 + 1 + 8;
    let len = u64::from_le_bytes(bytes[11..19].try_into().unwrap()) as usize;
    let mut payload = lz4_flex::block::decompress(&bytes[HEADER..], len).unwrap();
    let at = payload.windows(needle.len()).position(|w| w == needle).expect("the needle is there");
    payload[at] ^= 0x01;
    let mut out = bytes[..HEADER].to_vec();
    out.extend(lz4_flex::block::compress(&payload));
    out
}

#[test]
fn an_altered_trace_is_rejected() {
    let env = Env::project();
    let id = kept_run(&env, "treasury.tel", &[]);
    let file = env.path("t.run");
    env.tel(&["trace", "export", &id, file.to_str().unwrap()]);
    let bytes = std::fs::read(&file).unwrap();

    // A logged message changed after the fact.
    std::fs::write(&file, alter(&bytes, b"fees collected")).unwrap();
    let out = env.tel(&["replay", file.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.both());
    expect![[r#"
        error: $DIR/t.run: the trace was altered: event 10 does not match the hash chain (its tag does not follow from the previous event)
    "#]]
    .assert_eq(&env.shown(&out.stderr));
    let out = env.tel(&["trace", "show", file.to_str().unwrap()]);
    assert_eq!(out.code, 2);

    // Cut short.
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let out = env.tel(&["replay", file.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(out.stderr.contains("corrupt"), "{}", out.stderr);

    // Another run's trace put in the codebase under this run's id.
    let other = kept_run(&env, "auction.tel", &[]);
    let db = rusqlite::Connection::open(env.path(".tel/codebase.sqlite")).unwrap();
    let theirs: Vec<u8> =
        db.query_row("SELECT bytes FROM traces WHERE id = ?1", [&other], |r| r.get(0)).unwrap();
    db.execute("DELETE FROM traces WHERE id = ?1", [&id]).unwrap();
    db.execute(
        "INSERT INTO traces (id, entry, created, events, outcome, bytes)
         SELECT ?1, entry, created, events, outcome, bytes FROM traces WHERE id = ?2",
        [&id, &other],
    )
    .unwrap();
    assert!(!theirs.is_empty());
    let out = env.tel(&["replay", &id]);
    assert_eq!(out.code, 2, "{}", out.both());
    assert!(out.stderr.contains("the trace was altered: its hash chain ends in"), "{}", out.stderr);
}

#[test]
fn memoized_runs_agree_with_plain_runs_and_report_hits() {
    let env = Env::project();
    let text = std::fs::read_to_string(repo().join("fixtures/valid/recursion.tel")).unwrap();
    env.write("recursion.tel", &text);
    let plain = env.tel(&["run", "recursion.tel"]);
    assert_eq!(plain.code, 0, "{}", plain.both());

    let first = env.tel(&["run", "recursion.tel", "--memo", "--json"]);
    assert_eq!(first.code, 0, "{}", first.both());
    let first_json: Value = serde_json::from_str(&first.stdout).unwrap();
    assert_eq!(format!("{}\n", first_json["shown"].as_str().unwrap()), plain.stdout);
    let memo = &first_json["usage"]["memo"];
    assert!(memo["hits"].as_u64().unwrap() > 0, "fib(20) repeats calls: {memo}");
    assert!(memo["misses"].as_u64().unwrap() > 0);
    assert_eq!(memo["loaded"], 0);
    assert!(first.stderr.contains("memo: "), "{}", first.stderr);

    // The cache is kept: the next run starts from it and computes less.
    let second = env.tel(&["run", "recursion.tel", "--memo", "--json"]);
    let second_json: Value = serde_json::from_str(&second.stdout).unwrap();
    assert_eq!(second_json["value"], first_json["value"]);
    assert!(second_json["usage"]["memo"]["loaded"].as_u64().unwrap() > 0);
    assert_eq!(second_json["usage"]["memo"]["misses"], 0);
    assert!(second_json["steps"].as_u64() < first_json["steps"].as_u64());

    // Text mode: the same value as the plain run; hits and misses on stderr.
    let text_run = env.tel(&["run", "recursion.tel", "--memo"]);
    assert_eq!(text_run.stdout, plain.stdout);
    assert!(text_run.stderr.contains(" hits, 0 misses"), "{}", text_run.stderr);
    let stats = env.tel(&["memo", "stats", "--json"]);
    let stats: Value = serde_json::from_str(&stats.stdout).unwrap();
    assert!(stats["entries"].as_u64().unwrap() > 0);

    // A memoized run replays identically (without the cache).
    let id = Env::run_id(&text_run);
    let out = env.tel(&["replay", &id]);
    assert_eq!(out.code, 0, "{}", out.both());

    let out = env.tel(&["memo", "clear"]);
    assert_eq!(out.code, 0);
    let stats: Value = serde_json::from_str(&env.tel(&["memo", "stats", "--json"]).stdout).unwrap();
    assert_eq!(stats["entries"], 0);
}

#[test]
fn a_stored_definition_runs_by_hash_prefix() {
    let env = Env::project();
    env.write(
        "calc.tel",
        "module calc\n\nfn main() -> Int { twice(21) }\n\nfn twice(n: Int) -> Int { n * 2 }\n",
    );
    let out = env.tel(&["store", "add", "calc.tel"]);
    assert_eq!(out.code, 0, "{}", out.both());
    let list = env.tel(&["store", "list"]).stdout;
    let main = list.lines().find(|l| l.ends_with("calc::main")).unwrap();
    let prefix = &main[..9];
    let out = env.tel(&["run", prefix]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "42\n"), "{}", out.both());
    // The same run from source has the same id: it is the same code.
    let from_source = env.tel(&["run", "calc.tel"]);
    assert_eq!(Env::run_id(&from_source), Env::run_id(&out));

    let out = env.tel(&["run", "#0000"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "error: no definition matches #0000\n");

    // Renaming a helper changes no hash: the run is the one already kept.
    let renamed = std::fs::read_to_string(env.path("calc.tel")).unwrap().replace("twice", "double");
    env.write("calc.tel", &renamed);
    let out = env.tel(&["run", "calc.tel"]);
    assert_eq!(out.code, 0, "{}", out.both());
    assert_eq!(Env::run_id(&out), Env::run_id(&from_source));
    assert!(out.stderr.contains(" already kept in "), "{}", out.stderr);
}
