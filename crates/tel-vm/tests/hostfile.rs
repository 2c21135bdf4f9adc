//! Host files: the format, the errors for bad files, and the host they configure, driven
//! through real TEL programs.

mod support;

use expect_test::{Expect, expect};
use tel_vm::{HostFile, Limits, RuntimeError, Vm};

fn parse_err(text: &str, expect: Expect) {
    expect.assert_eq(&HostFile::parse(text).unwrap_err().to_string());
}

/// Runs `src`'s main against the host `host_json` configures; the value (or error), then the
/// log, the events and the final balances.
fn run(src: &str, host_json: &str) -> String {
    let file = HostFile::parse(host_json).expect("a valid host file");
    let program = support::load(src);
    let mut host = file.host();
    let mut vm = Vm::new(&program, Limits::default(), file.clock_start);
    let mut out = match vm.run_to_end(&program, &mut host) {
        Ok(v) => tel_vm::show::show(&program, &v),
        // The effect and the host's message; where it happened is the VM's business.
        Err(RuntimeError::Host { effect, message, .. }) => format!("refused {effect}: {message}"),
        Err(e) => format!("error: {e}"),
    };
    for l in &host.log {
        out += &format!("\nlog: {l}");
    }
    for l in &host.events {
        out += &format!("\nemit: {l}");
    }
    out += &format!("\nbalances: {:?}", host.balances);
    out
}

#[test]
fn a_full_host_file_parses() {
    let file = HostFile::parse(
        r#"{
            "clock_start": 1000,
            "seed": 42,
            "balances": { "treasury": 500 },
            "feeds": { "ETH/USD": 3000, "BTC/USD": [[0, 64000], [60000, 65000]] },
            "costs": { "Observe": 250 }
        }"#,
    )
    .unwrap();
    expect![[r#"
        HostFile {
            clock_start: 1000,
            seed: 42,
            balances: {
                "treasury": 500,
            },
            feeds: {
                "BTC/USD": Series(
                    [
                        (
                            0,
                            64000,
                        ),
                        (
                            60000,
                            65000,
                        ),
                    ],
                ),
                "ETH/USD": Fixed(
                    3000,
                ),
            },
            costs: {
                "Observe": 250,
            },
        }"#]]
    .assert_eq(&format!("{file:#?}"));
    // Every field is optional.
    assert_eq!(HostFile::parse("{}").unwrap(), HostFile::default());
    // It serializes back to the same file.
    let again = HostFile::parse(&serde_json::to_string(&file).unwrap()).unwrap();
    assert_eq!(again, file);
}

#[test]
fn bad_host_files_name_the_place_and_the_problem() {
    parse_err(
        r#"{"feeds": {"ETH/USD": "3000"}}"#,
        expect![[
            r#"host file: at `feeds.ETH/USD`: invalid type: string "3000", expected a price (an integer) or a series of [time_ms, price] pairs at line 1 column 28"#
        ]],
    );
    parse_err(
        r#"{"feeds": {"BTC/USD": [[0, 1], [5, "x"]]}}"#,
        expect![[
            r#"host file: at `feeds.BTC/USD[1][1]`: invalid type: string "x", expected i64 at line 1 column 38"#
        ]],
    );
    parse_err(
        r#"{"feed": {}}"#,
        expect![[
            r#"host file: at `feed`: unknown field `feed`, expected one of `clock_start`, `seed`, `balances`, `feeds`, `costs` at line 1 column 7"#
        ]],
    );
    parse_err(
        r#"{"feeds": {"BTC/USD": [[0, 1], [60000, 2], [60000, 3]]}}"#,
        expect![[
            r#"host file: at `feeds.BTC/USD[2]`: series times must increase: 60000ms comes after 60000ms"#
        ]],
    );
    parse_err(
        r#"{"feeds": {"BTC/USD": []}}"#,
        expect!["host file: at `feeds.BTC/USD`: a series needs at least one point"],
    );
    parse_err(
        r#"{"balances": {"alice": -5}}"#,
        expect!["host file: at `balances.alice`: an opening balance cannot be negative (-5)"],
    );
    parse_err(
        r#"{"costs": {"Observ": 5}}"#,
        expect![[
            r#"host file: at `costs.Observ`: unknown host effect `Observ` (one of Log, Observe, Deposit, Withdraw, Now, Sleep, Random, Emit)"#
        ]],
    );
    parse_err(
        r#"{"costs": {"Sleep": 5}}"#,
        expect![[
            r#"host file: at `costs.Sleep`: `Sleep` cannot be given a cost: Sleep costs its duration and Now reads the clock"#
        ]],
    );
    parse_err(
        r#"{"seed": -1}"#,
        expect![[
            r#"host file: at `seed`: invalid value: integer `-1`, expected u64 at line 1 column 11"#
        ]],
    );
    parse_err(
        r#"{"seed": 1"#,
        expect!["host file: at `?`: EOF while parsing an object at line 1 column 10"],
    );
    let missing = HostFile::load(std::path::Path::new("/nonexistent/host.json")).unwrap_err();
    assert!(
        missing.to_string().starts_with("/nonexistent/host.json: cannot read it:"),
        "{missing}"
    );
}

#[test]
fn a_series_feed_follows_the_virtual_clock_and_costs_advance_it() {
    let src = r#"
        fn main() -> List<Int> ! {Observe, Sleep, Now} {
            let a = perform Observe("BTC/USD");
            let t1 = now();
            let b = after 1min { perform Observe("BTC/USD") };
            let c = perform Observe("ETH/USD");
            [a, t1, b, c, now()]
        }"#;
    let host = r#"{
        "clock_start": 59000,
        "feeds": { "BTC/USD": [[0, 64000], [60000, 65000]], "ETH/USD": 3000 },
        "costs": { "Observe": 250 }
    }"#;
    // Observe costs 250ms: the first answers at 59000 (then the clock is 59250), the second
    // after a minute at 119250 (65000 since 60000).
    expect![[r#"
        [64000, 59250, 65000, 3000, 119750]
        balances: {}"#]]
    .assert_eq(&run(src, host));
}

#[test]
fn a_series_has_no_price_before_its_first_point() {
    let src = r#"fn main() -> Int ! {Observe} { perform Observe("BTC/USD") }"#;
    expect![[r#"
        refused Observe: feed "BTC/USD" has no price before 60000ms (asked at 0ms)
        balances: {}"#]]
    .assert_eq(&run(src, r#"{"feeds": {"BTC/USD": [[60000, 1]]}}"#));
}

#[test]
fn the_ledger_refuses_a_withdrawal_beyond_the_balance() {
    let src = r#"
        fn main() -> () ! {Deposit, Withdraw, Log} {
            perform Deposit("alice", 50);
            perform Withdraw("alice", 120);
            perform Log("paid");
            perform Withdraw("alice", 200)
        }"#;
    expect![[r#"
        refused Withdraw: withdrawing 200 from "alice", whose balance is 30
        log: paid
        balances: {"alice": 30}"#]]
    .assert_eq(&run(src, r#"{"balances": {"alice": 100}}"#));
}

#[test]
fn the_seed_decides_random() {
    let src = r#"fn main() -> List<Int> ! {Random} {
        [perform Random(100), perform Random(100), perform Random(100)]
    }"#;
    let a = run(src, r#"{"seed": 1}"#);
    assert_eq!(a, run(src, r#"{"seed": 1}"#), "same seed, same numbers");
    assert_ne!(a, run(src, r#"{"seed": 2}"#), "another seed, other numbers");
}
