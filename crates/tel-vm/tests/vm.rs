//! The VM end to end: TEL source is checked, lowered and hashed exactly as `tel store add`
//! does (tel-hir's project, tel-hash's components), decoded from its canonical bytes, loaded
//! by hash and run.

mod support;

use expect_test::{Expect, expect};
use std::collections::HashMap;
use support::{load, stored};
use tel_hash::CodeHash;
use tel_vm::{
    Limits, LoadError, Program, Resource, RuntimeError, Status, StoredDef, TestHost, Value, Vm,
};

fn run_with(src: &str, limits: Limits, host: &mut TestHost) -> Result<String, RuntimeError> {
    let program = load(src);
    let mut vm = Vm::new(&program, limits, 0);
    let v = vm.run_to_end(&program, host)?;
    Ok(tel_vm::show::show(&program, &v))
}

/// The default limits without the wall-clock one: what a test computes must not depend on
/// how fast the machine is.
fn limits() -> Limits {
    Limits { wall_ms: u64::MAX, ..Limits::default() }
}

fn run(src: &str) -> String {
    match run_with(src, limits(), &mut TestHost::new(7)) {
        Ok(v) => v,
        Err(e) => format!("error: {e}"),
    }
}

fn check(src: &str, expect: Expect) {
    expect.assert_eq(&run(src));
}

#[test]
fn arithmetic_let_if_and_show() {
    check(
        r#"fn main() -> String {
            let a = 7;
            let b = -7 / 2;
            let c = -7 % 3;
            show([a * 6, b, c, if a > 3 { 1 } else { 2 }]) ++ " " ++ show(90s) ++ show(2h)
                ++ show(250ms) ++ show(0ms) ++ show(-5s) ++ show(15min)
        }"#,
        expect![[r#"[42, -3, -1, 1] 90s2h250ms0ms-5s15min"#]],
    );
}

#[test]
fn show_nests_strings_records_maps_options() {
    check(
        r#"type Quote = { asset: String, price: Int }
        fn main() -> String {
            let m: Map<String, Int> = insert(insert(empty_map(), "ETH", 3), "BTC", 2);
            show({ q: Quote { price: 1, asset: "E\"T\nH" }, m: m, none: get(m, "X"), some: get(m, "BTC"), u: (), s: { b: true } })
        }"#,
        expect![[
            r#"{ m: {"BTC": 2, "ETH": 3}, none: None, q: Quote { asset: "E\"T\nH", price: 1 }, s: { b: true }, some: Some(2), u: () }"#
        ]],
    );
}

#[test]
fn short_circuit_and_comparisons() {
    check(
        r#"fn boom() -> Bool { 1 / 0 == 0 }
        fn main() -> List<Bool> {
            [false && boom(), true || boom(), "abc" < "abd", 2s <= 2000ms, 3 != 3, [1, 2] == [1, 2]]
        }"#,
        expect![[r#"[false, true, true, true, false, true]"#]],
    );
}

#[test]
fn patterns_of_every_form() {
    check(
        r#"enum Shape { Circle(Int), Rect(Int, Int), Dot }
        type P = { x: Int, y: Int }
        fn area(s: Shape) -> Int {
            match s {
                Circle(r) if r > 10 => 0,
                Circle(r) => 3 * r * r,
                Rect(w, h) => w * h,
                Dot => 1,
            }
        }
        fn describe(o: Int?) -> String {
            match o { Some(0) => "zero", Some(n) => show(n), None => "none" }
        }
        fn corner(p: P) -> Int { match p { { x: 0, y } => y, { x, y: _ } => x } }
        fn word(s: String) -> Int { match s { "one" => 1, "two" => 2, _ => 0 } }
        fn main() -> List<String> {
            [show([area(Circle(2)), area(Circle(11)), area(Rect(3, 4)), area(Dot)]),
             describe(Some(0)), describe(Some(5)), describe(None),
             show([corner(P { x: 0, y: 9 }), corner(P { x: 4, y: 9 }), word("two"), word("x")]),
             show([Circle(1), Dot])]
        }"#,
        expect![[r#"["[12, 0, 12, 1]", "zero", "5", "none", "[9, 4, 2, 0]", "[Circle(1), Dot]"]"#]],
    );
}

#[test]
fn closures_capture_locals_and_builtins_call_them() {
    check(
        r#"fn adder(n: Int) -> fn(Int) -> Int { |x| x + n }
        fn twice(f: fn(Int) -> Int, x: Int) -> Int { f(f(x)) }
        fn main() -> List<String> {
            let k = 10;
            let add3 = adder(3);
            let xs = [1, 2, 3, 4];
            [show(map(xs, |x| x * k)), show(filter(xs, |x| x % 2 == 0)),
             show(fold(xs, 0, |acc, x| acc + x)), show(twice(add3, 1)),
             show(map([1, 2], show)), show(len("héllo")), show(len(xs)), show(get(xs, 9)),
             show(keys(insert(insert(empty_map(), 3, "c"), 1, "a"))),
             show(map([[1], [2, 3]], |ys| fold(ys, 0, |a, y| a + y * k)))]
        }"#,
        expect![[
            r#"["[10, 20, 30, 40]", "[2, 4]", "10", "7", "[\"1\", \"2\"]", "5", "4", "None", "[1, 3]", "[10, 50]"]"#
        ]],
    );
}

#[test]
fn handlers_resume_abort_and_forward_outward() {
    check(
        r#"effect Ask(key: String) -> Int
        effect Fail(code: Int) -> Int
        effect Pair(a: Int, b: Int) -> Int
        fn body() -> Int ! {Ask} { perform Ask("a") + perform Ask("b") }
        fn main() -> List<Int> {
            let tail = handle { body() } with { Ask(k) => if k == "a" { 1 } else { 2 } };
            let explicit = handle { body() } with { Ask(k) => { resume(10); 99 } };
            let aborted = handle { body() } with { Ask(k) => abort(-1) };
            let outer = handle {
                handle { body() } with { Ask(k) => if k == "a" { 100 } else { resume(perform Ask(k)) } }
            } with { Ask(k) => 5 };
            let failed = handle {
                handle { body() } with { Ask(k) => perform Fail(7) }
            } with { Fail(c) => abort(c * -1) };
            let ignored = handle { perform Pair(1, 2) } with { Pair(_, y) => y * 10 };
            [tail, explicit, aborted, outer, failed, ignored]
        }"#,
        expect![[r#"[3, 20, -1, 105, -7, 20]"#]],
    );
}

#[test]
fn host_effects_reach_the_test_host() {
    let src = r#"fn main() -> Int ! {Log, Deposit, Withdraw, Observe, Random, Emit} {
        perform Deposit("alice", 100);
        perform Withdraw("alice", 30);
        perform Log("price " ++ show(perform Observe("ETH")));
        perform Emit("done");
        perform Random(10)
    }"#;
    let mut host = TestHost::new(42);
    host.feeds.insert("ETH".into(), 3100);
    let v = run_with(src, limits(), &mut host).unwrap();
    expect![[r#"3 {"alice": 70} ["price 3100"] ["done"]"#]]
        .assert_eq(&format!("{v} {:?} {:?} {:?}", host.balances, host.log, host.events));
}

#[test]
fn host_refusals_are_runtime_errors() {
    check(
        r#"fn main() -> () ! {Withdraw} { perform Withdraw("bob", 5) }"#,
        expect![[
            r#"error: host effect Withdraw failed: withdrawing 5 from "bob", whose balance is 0 (in main (#gmvi5pc1) expr 0)"#
        ]],
    );
    check(
        r#"fn main() -> Int ! {Observe} { perform Observe("NOPE") }"#,
        expect![[
            r#"error: host effect Observe failed: unknown feed "NOPE" (in main (#ojonkgr2) expr 0)"#
        ]],
    );
    check(
        r#"fn main() -> Int ! {Random} { perform Random(0) }"#,
        expect![
            "error: host effect Random failed: Random with a non-positive bound (0) (in main (#1vraaju5) expr 0)"
        ],
    );
}

#[test]
fn within_after_and_the_virtual_clock() {
    check(
        r#"fn main() -> List<Int> ! {Sleep, Now, Log} {
            let fast = within 10s { perform Sleep(5s); 1 } else { 0 };
            let slow = within 10s { perform Sleep(5s); perform Log("never"); perform Sleep(6s); 1 } else { 0 };
            let t = perform Now();
            let exact = within 1s { after 1s { 2 } } else { 0 };
            let nested = within 5s { within 5s { perform Sleep(9s); 1 } else { 2 } } else { 3 };
            let mocked = handle { within 1s { perform Sleep(1h); 4 } else { 0 } } with { Sleep(d) => () };
            let looped = within 1s { fold(map([1, 2, 3], |x| after 400ms { x }), 0, |a, x| a + x) } else { -1 };
            [fast, slow, t, exact, nested, mocked, looped, now()]
        }"#,
        expect![[r#"[1, 0, 15000, 2, 3, 4, -1, 22000]"#]],
    );
}

#[test]
fn arithmetic_traps() {
    check(
        "fn main() -> Int { let z = 0; 1 / z }",
        expect!["error: division by zero in main (#qv9b46s5) expr 2"],
    );
    check(
        "fn main() -> Int { 9223372036854775807 + 1 }",
        expect!["error: integer overflow in + in main (#l50c74ff) expr 0"],
    );
    check(
        "fn main() -> Int { let m = -9223372036854775807 - 1; m / -1 }",
        expect!["error: integer overflow in / in main (#eh7u4oso) expr 4"],
    );
}

#[test]
fn tail_calls_run_in_one_frame_and_trap_where_their_arguments_do() {
    // 100 001 tail calls need one frame (the call-depth limit is 100 000); a trap in an
    // argument names that argument's expression.
    check(
        "fn sum(i: Int, acc: Int) -> Int { if i > 100000 { acc } else { sum(i + 1, acc + i) } }
         fn grow(d: Duration, n: Int) -> Duration { if n == 0 { d } else { grow(d * 2, n - 1) } }
         fn main() -> List<String> { [show(sum(0, 0)), show(grow(1s, 10))] }",
        expect![[r#"["5000050000", "1024s"]"#]],
    );
    // A frame with fewer slots than its tail callee takes parameters.
    check(
        r#"fn two(a: Int, b: Int) -> Int { a * 10 + b }
         fn one(x: Int) -> Int { two(x, x + 1) }
         fn pair(a: String, b: Int, c: Int) -> String { a ++ show(b + c) }
         fn wrap(s: String) -> String { pair(s ++ "!", 1, 2) }
         fn main() -> String { show(one(4)) ++ wrap("hi") }"#,
        expect![[r#"45hi!3"#]],
    );
    check(
        "fn pow(n: Int, acc: Int) -> Int { if n == 0 { acc } else { pow(n - 1, acc * 1000000) } }
         fn main() -> Int { pow(5, 1) }",
        expect!["error: integer overflow in * in pow (#tturmuhk) expr 10"],
    );
}

#[test]
fn runaway_recursion_and_fuel_stop_the_run() {
    check(
        "fn down(n: Int) -> Int { down(n + 1) + 1 }\nfn main() -> Int { down(0) }",
        expect!["error: call depth exhausted (limit 100000) in down (#cjep1k54) expr 1"],
    );
    let fib = "fn fib(n: Int) -> Int { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }
        fn main() -> Int { fib(30) }";
    let limits = Limits { fuel: 10_000, ..self::limits() };
    let err = run_with(fib, limits, &mut TestHost::new(0)).unwrap_err();
    assert!(
        matches!(
            &err,
            RuntimeError::ResourceExhausted { resource: Resource::Fuel, limit: 10_000, .. }
        ),
        "{err}"
    );
    let limits = Limits { effects: 3, ..self::limits() };
    let err = run_with(
        "fn main() -> () ! {Log} { perform Log(\"a\"); perform Log(\"b\"); perform Log(\"c\"); perform Log(\"d\") }",
        limits,
        &mut TestHost::new(0),
    )
    .unwrap_err();
    expect!["effects exhausted (limit 3) in main (#5ffm178m) expr 9"].assert_eq(&err.to_string());
}

#[test]
fn a_paused_machine_serializes_and_resumes() {
    let src = r#"effect Ask() -> Int
        fn fib(n: Int) -> Int { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }
        fn main() -> Int ! {Log, Sleep} {
            let xs = map([10, 11, 12], |n| fib(n));
            perform Log(show(xs));
            within 1h { after 1s { handle { fold(xs, 0, |a, x| a + x + perform Ask()) } with { Ask() => 1 } } } else { 0 }
        }"#;
    let program = load(src);
    let mut straight_host = TestHost::new(1);
    let mut vm = Vm::new(&program, limits(), 0);
    let straight = vm.run_to_end(&program, &mut straight_host).unwrap();
    assert_eq!(straight, Value::Int(55 + 89 + 144 + 3));

    // Pause at many different points; each snapshot resumes to the same result and log.
    let total = vm.usage.fuel;
    for pause in (1..total).step_by((total / 37).max(1) as usize) {
        let mut host = TestHost::new(1);
        let mut vm = Vm::new(&program, limits(), 0);
        assert_eq!(vm.run(&program, &mut host, pause).unwrap(), Status::Running);
        let json = serde_json::to_string(&(&vm, &host)).unwrap();
        let (mut vm, mut host): (Vm, TestHost) = serde_json::from_str(&json).unwrap();
        assert_eq!(vm.run_to_end(&program, &mut host).unwrap(), straight, "paused at {pause}");
        assert_eq!(host, straight_host);
        assert_eq!(vm.usage.fuel, total);
    }

    // A snapshot only resumes against the program it was started with.
    let other = load("fn main() -> Int { 1 }");
    let mut vm = Vm::new(&program, limits(), 0);
    let err = vm.run(&other, &mut TestHost::new(1), 10).unwrap_err();
    assert!(matches!(err, RuntimeError::WrongProgram { .. }), "{err}");
}

#[test]
fn loading_checks_dependencies() {
    let (mut defs, main) = stored("fn helper() -> Int { 1 }\nfn main() -> Int { helper() + 1 }");
    let helper =
        *defs.iter().find(|(_, d)| d.name.as_deref() == Some("helper")).map(|(h, _)| h).unwrap();
    defs.remove(&helper);
    let err = Program::load(&defs, main).unwrap_err();
    assert_eq!(
        err,
        LoadError::Missing { hash: helper, needed_by: format!("main (#{})", main.short()) }
    );
    let (defs, _) = stored("fn f(x: Int) -> Int { x }\nfn main() -> Int { 1 }");
    let f = defs.iter().find(|(_, d)| d.name.as_deref() == Some("f")).map(|(h, _)| *h).unwrap();
    // An entry point with parameters loads; its arguments must fit when it starts.
    let program = Program::load(&defs, f).unwrap();
    assert_eq!(
        Vm::with_args(&program, limits(), 0, vec![]).err(),
        Some(LoadError::EntryArgs { name: "f".into(), expected: 1, found: 0 })
    );
    let mut vm = Vm::with_args(&program, limits(), 0, vec![Value::Int(41)]).unwrap();
    assert_eq!(vm.run_to_end(&program, &mut TestHost::new(0)), Ok(Value::Int(41)));
}

/// A fixture's result, then its log and events, one per line.
fn fixture(name: &str) -> String {
    let path = format!("{}/../../fixtures/valid/{name}.tel", env!("CARGO_MANIFEST_DIR"));
    let mut host = TestHost::new(7);
    // The feeds the fixtures' headers document.
    for (feed, v) in [
        ("ETH/USD", 3000),
        ("BTC/USD", 64000),
        ("ETH/USD@ethereum", 3000),
        ("ETH/USD@osmosis", 3050),
    ] {
        host.feeds.insert(feed.into(), v);
    }
    let result = run_with(&std::fs::read_to_string(path).unwrap(), limits(), &mut host);
    let mut out = match result {
        Ok(v) => v,
        Err(e) => format!("error: {e}"),
    };
    for line in &host.log {
        out += &format!("\nlog: {line}");
    }
    for line in &host.events {
        out += &format!("\nemit: {line}");
    }
    out
}

#[test]
fn fixtures_compute_their_documented_results() {
    expect!["{ ack_2_3: 9, collatz_27: 111, even_10: true, fib_20: 6765, fib_fast_90: 2880067194370816120, gcd: 21, odd_7: true, pow_3_13: 1594323 }"].assert_eq(&fixture("recursion"));
    expect![[r#"
        2
        log: notionals [9486, 65280, 8100, 12444, 2840]
        log: largest Some(65280), none for [] None
        log: eth qty 7, squares [25, 16, 9, 4, 1]
        log: second trade Some(Trade { asset: "BTC", price: 64000, qty: 1 }), tenth None
        log: twice 18, count 7"#]]
    .assert_eq(&fixture("lists"));
    expect![[r#"
        ok
        log: slow	unknown light "blue""#]]
    .assert_eq(&fixture("strings_and_literals"));
    expect![[r#"
        Settled(50)
        log: proposed by alice -> bob accepted alice's offer
        log: bob accepted alice's offer -> bob funded 1050
        log: bob funded 1050 -> settled, change 50
        emit: swap finished: settled, change 50"#]]
    .assert_eq(&fixture("swap_state_machine"));
    expect![[r#"
        Valuation { missing: ["DOGE"], total: None, total_priced: 5251700 }
        log: assets held: ["ATOM", "BTC", "DOGE", "ETH", "USDC"] (5)
        log: without a DOGE price: None
        log: with DOGE at 0: Some(5251700)"#]]
    .assert_eq(&fixture("maps_options"));
    expect![[r#"
        [60, -1, -2, 100]
        log: headroom 100
        emit: [ok] headroom 60
        emit: [over] failed: used 140 over limit 100
        emit: [partial] failed: missing config key used"#]]
    .assert_eq(&fixture("nested_handlers"));
}

#[test]
fn fixtures_that_need_a_configured_host() {
    let names = [
        "arbitrage",
        "auction",
        "lottery",
        "mock_ledger",
        "payroll",
        "price_watch",
        "treasury",
        "vesting_schedule",
        "schema_v1",
        "schema_v2",
    ];
    let out: Vec<String> = names.iter().map(|n| format!("== {n}\n{}", fixture(n))).collect();
    expect![[r#"
        == arbitrage
        Executed(458)
        log: sold 10 ETH on osmosis, profit 458
        == auction
        Sold(Sale { bidder: "erin", pays: 410 })
        log: ["alice bids 300", "bob bids 90", "carol withdrew", "dave bids 410", "erin bids 450", "house bid 100"]
        == lottery
        Draw { draw_id: 15896916, drawn_at: 3000, winner: "alice" }
        log: point 4 of 100 -> alice
        emit: lottery 15896916 won by alice after 3000ms
        == mock_ledger
        [Paid(300, 200), Rejected("insufficient funds: bob has 20"), Rejected("payee mallory is frozen")]
        log: mock transfer 300 alice -> bob
        == payroll
        13500
        log: payroll needs 13500 from payroll-fund
        log: paid ana 4500 (tax 500)
        log: paid ben 5400 (tax 600)
        log: skipped cy
        log: paid dee 3600 (tax 400)
        == price_watch
        [Crossed(3000), Quiet(2min), Exhausted(3)]
        log: BTC/USD at 64000, below 100000
        log: BTC/USD at 64000, below 100000
        log: BTC/USD at 64000, below 100000
        log: BTC/USD at 64000, below 100000
        log: BTC/USD at 64000, below 100000
        log: BTC/USD at 64000, below 100000
        log: BTC/USD at 64000, below 100000
        log: BTC/USD at 64000, below 100000
        log: BTC/USD at 64000, below 100000
        log: BTC/USD at 64000, below 100000
        log: BTC/USD at 64000, below 100000
        log: BTC/USD at 64000, below 100000
        log: BTC/USD at 64000, below 100000
        log: BTC/USD at 64000, below 100000
        log: alerts: [Crossed(3000), Quiet(2min), Exhausted(3)]
        == treasury
        Ledger { balances: {"ETH": 29940, "USDC": 999899}, fees_collected: 61 }
        log: deposit 50000 ETH
        log: deposit 1000000 USDC
        log: withdraw 20000 ETH (fee 60)
        log: refused: withdraw 2000000 USDC, balance 1000000
        log: withdraw 100 USDC (fee 1)
        log: fees collected: 61
        == vesting_schedule
        { finished_at: 97200000, paid: 3000 }
        log: cliff of 1d, then hourly payments
        log: t=90000000ms paid 1000 to dev-fund
        log: t=93600000ms paid 1000 to dev-fund
        log: t=97200000ms paid 1000 to dev-fund
        log: grace period 2h, a 90 minute check is custom
        == schema_v1
        Vault { balances: {"ETH": 15}, last_price: 3000, legacy_flag: false, owner: "treasury-dao" }
        log: exposure 45000
        == schema_v2
        Vault { balances: {"ETH": 15}, last_price: 3000, note: None, owner: "treasury-dao", risk_tolerance: 5 }
        log: exposure 45000 within limits"#]].assert_eq(&out.join("\n"));
}

#[test]
fn loading_refuses_cycles_outside_components_and_stray_members() {
    use tel_hash::core::{CoreDef, Expr, Ref, Type};
    let calls = |r: Ref| StoredDef {
        def: CoreDef::Fn {
            params: vec![],
            ret: Type::Int,
            effects: vec![],
            body: Expr::Call { callee: Box::new(Expr::Ref(r)), args: vec![] },
        },
        component: None,
        name: None,
    };
    let (a, b) = (CodeHash([1; 32]), CodeHash([2; 32]));
    let defs = HashMap::from([(a, calls(Ref::Hash(b))), (b, calls(Ref::Hash(a)))]);
    assert_eq!(Program::load(&defs, a).unwrap_err(), LoadError::Circular(a));

    // The same cycle inside one component is mutual recursion, and loads.
    let c = CodeHash([3; 32]);
    let in_c = |r| StoredDef { component: Some(c), ..calls(r) };
    let defs = HashMap::from([(a, in_c(Ref::Hash(b))), (b, in_c(Ref::Hash(a)))]);
    assert!(Program::load(&defs, a).is_ok());

    let defs = HashMap::from([(a, calls(Ref::Member(0)))]);
    assert_eq!(
        Program::load(&defs, a).unwrap_err(),
        LoadError::MemberOutsideComponent { def: a, index: 0 }
    );

    // Stored code that reads a local out of scope, or calls a function with the wrong
    // number of arguments, is refused at load (it never reaches a frame).
    let body = |e: Expr| StoredDef {
        def: CoreDef::Fn { params: vec![], ret: Type::Int, effects: vec![], body: e },
        component: None,
        name: Some("bad".into()),
    };
    let defs = HashMap::from([(a, body(Expr::Local(0)))]);
    assert!(matches!(Program::load(&defs, a), Err(LoadError::BadLocal { index: 0, .. })));
    let call_b =
        Expr::Call { callee: Box::new(Expr::Ref(Ref::Hash(b))), args: vec![Expr::Local(0)] };
    let one = Expr::Lambda { params: vec![Type::Int], ret: Type::Int, body: Box::new(call_b) };
    let defs = HashMap::from([
        (
            a,
            body(Expr::Call {
                callee: Box::new(one),
                args: vec![Expr::Lit(tel_hash::core::Lit::Int(1))],
            }),
        ),
        (b, body(Expr::Lit(tel_hash::core::Lit::Int(2)))),
    ]);
    let err = Program::load(&defs, a).unwrap_err();
    assert!(matches!(&err, LoadError::Arity { argc: 1, .. }), "{err}");
}

#[test]
fn deeply_nested_values() {
    check(
        r#"enum Chain { Link(Chain), End }
        fn double(xs: List<Int>, n: Int) -> List<Int> { if n == 0 { xs } else { double(xs ++ xs, n - 1) } }
        fn main() -> Int {
            let c = fold(double([1], 18), End, |acc, x| Link(acc));
            match c { Link(_) => 1, End => 0 }
        }"#,
        expect![[r#"1"#]],
    );
}

/// A chain a million values deep, built by (tail) recursion: comparing, ordering, showing,
/// serializing, deserializing and dropping it never recurse over its depth.
#[test]
fn a_million_deep_chain_compares_shows_serializes_and_drops() {
    const N: i64 = 1_000_000;
    let src = format!(
        r#"enum Chain {{ Link(Int, Chain), End }}
        fn chain(n: Int, acc: Chain) -> Chain {{ if n == 0 {{ acc }} else {{ chain(n - 1, Link(n, acc)) }} }}
        fn depth(c: Chain, d: Int) -> Int {{ match c {{ Link(_, rest) => depth(rest, d + 1), End => d }} }}
        fn main() -> List<Chain> {{
            let a = chain({N}, End);
            let b = chain({N}, End);
            let c = chain({N}, Link(0, End));
            [a, b, c, if a == b && a != c && depth(c, 0) == {N} + 1 {{ End }} else {{ Link(-1, End) }}]
        }}"#
    );
    let program = load(&src);
    let limits = Limits { fuel: u64::MAX, ..limits() };
    let mut vm = Vm::new(&program, limits, 0);
    let v = vm.run_to_end(&program, &mut TestHost::new(0)).unwrap();
    let Value::List(xs) = &v else { panic!("a list") };
    let [a, b, c, check] = xs.as_slice() else { panic!("four values") };
    assert_eq!(tel_vm::show::show(&program, check), "End", "the TEL-side checks");
    assert_eq!(a, b);
    // Variants order by index, and `End` (1) comes after `Link` (0) at the bottom.
    assert_eq!(a.cmp(c), std::cmp::Ordering::Greater);
    let shown = tel_vm::show::show(&program, a);
    assert!(shown.starts_with("Link(1, Link(2, ") && shown.contains("Link(1000000, End))"));
    assert_eq!(shown.matches("Link(").count() as i64, N);
    let json = serde_json::to_string(a).unwrap();
    let back: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, a);
    drop((back, v));
}

#[test]
fn nominal_and_structural_records_compare_by_fields() {
    check(
        r#"type Quote = { asset: String, price: Int }
        fn mk() -> { asset: String, price: Int } { { asset: "E", price: 1 } }
        fn main() -> List<Bool> {
            let q: Quote = mk();
            [q == Quote { asset: "E", price: 1 }, mk() == Quote { asset: "E", price: 2 }]
        }"#,
        expect![[r#"[true, false]"#]],
    );
}

/// A host that records the calls and returns the VM reports, and answers calls of one
/// definition from a cache.
struct Observer {
    inner: TestHost,
    names: HashMap<CodeHash, String>,
    events: Vec<String>,
    cached: Option<(String, Value)>,
}

impl tel_vm::Host for Observer {
    fn perform(
        &mut self,
        effect: tel_vm::HostEffect,
        args: &[Value],
        now: i64,
    ) -> Result<Value, tel_vm::HostError> {
        self.inner.perform(effect, args, now)
    }

    fn observes_calls(&self) -> bool {
        true
    }

    fn on_call(&mut self, def: &CodeHash, args: &[Value]) -> Option<Value> {
        let name = &self.names[def];
        let args: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
        self.events.push(format!("call {name}({})", args.join(", ")));
        match &self.cached {
            Some((n, v)) if n == name => {
                self.events.push(format!("cached {name}"));
                Some(v.clone())
            }
            _ => None,
        }
    }

    fn on_return(&mut self, def: &CodeHash, result: &Value) {
        self.events.push(format!("return {} {result:?}", self.names[def]));
    }
}

fn observe(src: &str, cached: Option<(&str, Value)>) -> (Value, Vec<String>, u64) {
    let (defs, main) = stored(src);
    let program = Program::load(&defs, main).unwrap();
    let names =
        defs.iter().map(|(h, d)| (*h, d.name.as_deref().unwrap_or("?").to_string())).collect();
    let mut host = Observer {
        inner: TestHost::new(0),
        names,
        events: Vec::new(),
        cached: cached.map(|(n, v)| (n.to_string(), v)),
    };
    let mut vm = Vm::new(&program, limits(), 0);
    let v = vm.run_to_end(&program, &mut host).unwrap();
    (v, host.events, vm.usage.fuel)
}

#[test]
fn an_observing_host_sees_every_call_and_return_of_a_definition() {
    let src = "fn count(n: Int, acc: Int) -> Int { if n == 0 { done(acc) } else { count(n - 1, acc + n) } }
        fn done(x: Int) -> Int { x * 10 }
        fn twice(x: Int) -> Int { x + x }
        fn main() -> Int { fold(map([1, 2], |x| twice(x)), count(2, 0), |a, x| a + x) }";
    let (v, events, _) = observe(src, None);
    assert_eq!(v, Value::Int(36));
    // Tail calls reuse the frame, and still report every return, innermost first, with the
    // value the chain of tail calls returned. Lambdas are not reported, nor is the entry
    // point (the run is what calls it).
    expect![[r#"
        call twice(Int(1))
        return twice Int(2)
        call twice(Int(2))
        return twice Int(4)
        call count(Int(2), Int(0))
        call count(Int(1), Int(2))
        call count(Int(0), Int(3))
        call done(Int(3))
        return done Int(30)
        return count Int(30)
        return count Int(30)
        return count Int(30)"#]]
    .assert_eq(&events.join("\n"));
}

#[test]
fn an_observed_tail_loop_stays_in_constant_space_and_a_cached_call_is_skipped() {
    let src = "fn spin(n: Int) -> Int { if n == 0 { 0 } else { spin(n - 1) } }
        fn slow(n: Int) -> Int { spin(n) + 1 }
        fn main() -> Int { spin(200000) + slow(1000) }";
    // 200 000 tail calls would exceed the call-depth limit (100 000) if each kept a frame.
    let (v, events, plain) = observe(src, None);
    assert_eq!(v, Value::Int(1));
    assert_eq!(events.iter().filter(|e| e.starts_with("return spin")).count(), 201_002);
    let (v, events, cached) = observe(src, Some(("slow", Value::Int(7))));
    assert_eq!(v, Value::Int(7));
    assert!(events.contains(&"cached slow".to_string()));
    assert!(!events.iter().any(|e| e == "return slow Int(7)"), "a skipped call does not return");
    assert!(cached < plain - 3000, "the cached call ran none of its instructions");
}
