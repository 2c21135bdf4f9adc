//! `tel dap` end to end: a DAP client drives the real binary over stdio (and once over TCP)
//! through whole sessions: fixtures walked forward and back with their frames and variables,
//! breakpoints of every kind, jumps to effects, comparisons, forks, the custom requests, and
//! malformed or out-of-order messages that get an error while the session goes on.
//!
//! Nothing waits on time: every read blocks until the adapter's next message.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use expect_test::{Expect, expect};
use serde_json::{Value as Json, json};
use support::{Env, Session, TEL, ok, repo};
use tel_dap::client::Client;

fn fixture(name: &str) -> String {
    repo().join("fixtures/valid").join(name).display().to_string()
}

/// `tel dap` in a folder outside any project: nothing is kept.
fn spawn() -> Session {
    support::dap(tempfile::tempdir().unwrap())
}

fn error(response: Json) -> String {
    assert_eq!(response["success"], false, "request succeeded: {response:#}");
    response["message"].as_str().unwrap().to_string()
}

/// initialize + launch (+ the `initialized` event); breakpoints are set by the caller
/// before `start`.
fn launch(s: &mut Session, args: Json) {
    let caps = ok(s.request("initialize", json!({ "adapterID": "tel", "linesStartAt1": true, "columnsStartAt1": true, "supportsInvalidatedEvent": true })).unwrap());
    assert_eq!(caps["supportsStepBack"], true);
    ok(s.request("launch", args).unwrap());
    s.event("initialized").unwrap();
}

/// configurationDone, and the first stop.
fn start(s: &mut Session) -> Json {
    ok(s.request("configurationDone", Json::Null).unwrap());
    s.event("stopped").unwrap()["body"].clone()
}

/// A motion request and the stop it leads to.
fn motion(s: &mut Session, command: &str, args: Json) -> Json {
    ok(s.request(command, args).unwrap());
    s.event("stopped").unwrap()["body"].clone()
}

fn step(s: &mut Session, command: &str) -> Json {
    motion(s, command, json!({ "threadId": 1 }))
}

fn evaluate(s: &mut Session, expression: &str) -> String {
    let body =
        ok(s.request("evaluate", json!({ "expression": expression, "frameId": 1 })).unwrap());
    body["result"].as_str().unwrap().to_string()
}

fn position(s: &mut Session) -> u64 {
    evaluate(s, "$position").parse().unwrap()
}

/// The frames and the innermost frame's locals, one line each, paths relative to the
/// repository.
fn state(s: &mut Session) -> String {
    let root = format!("{}/", repo().display());
    let st = ok(s.request("stackTrace", json!({ "threadId": 1 })).unwrap());
    let mut out = format!("@{}\n", position(s));
    for f in st["stackFrames"].as_array().unwrap() {
        let place = match f["source"]["path"].as_str() {
            Some(p) => format!(" {}:{}:{}", p.replace(&root, ""), f["line"], f["column"]),
            None => String::new(),
        };
        out.push_str(&format!("  {}{place}\n", f["name"].as_str().unwrap()));
    }
    if let Some(top) = st["stackFrames"].as_array().unwrap().first() {
        let scopes = ok(s.request("scopes", json!({ "frameId": top["id"] })).unwrap());
        let locals = scopes["scopes"][0]["variablesReference"].clone();
        for v in variables(s, locals) {
            out.push_str(&format!(
                "    {} = {}\n",
                v["name"].as_str().unwrap(),
                v["value"].as_str().unwrap()
            ));
        }
    }
    out
}

fn variables(s: &mut Session, reference: Json) -> Vec<Json> {
    let body = ok(s.request("variables", json!({ "variablesReference": reference })).unwrap());
    body["variables"].as_array().unwrap().clone()
}

/// A variable and its children, expanded to `depth`.
fn tree(s: &mut Session, v: &Json, depth: usize, indent: usize, out: &mut String) {
    out.push_str(&format!(
        "{}{} = {} ({}){}\n",
        "  ".repeat(indent),
        v["name"].as_str().unwrap(),
        v["value"].as_str().unwrap(),
        v["type"].as_str().unwrap(),
        v.get("evaluateName").and_then(Json::as_str).map(|e| format!(" [{e}]")).unwrap_or_default(),
    ));
    let reference = v["variablesReference"].as_i64().unwrap();
    if reference > 0 && depth > 0 {
        for child in variables(s, json!(reference)) {
            tree(s, &child, depth - 1, indent + 1, out);
        }
    }
}

fn check(actual: &str, expect: Expect) {
    expect.assert_eq(actual);
}

#[test]
fn initialize_answers_truthful_capabilities() {
    let mut s = spawn();
    let caps = ok(s.request("initialize", json!({ "adapterID": "tel" })).unwrap());
    check(
        &serde_json::to_string_pretty(&caps).unwrap(),
        expect![[r#"
            {
              "supportsConditionalBreakpoints": true,
              "supportsConfigurationDoneRequest": true,
              "supportsDelayedStackTraceLoading": true,
              "supportsEvaluateForHovers": true,
              "supportsExceptionInfoRequest": true,
              "supportsFunctionBreakpoints": true,
              "supportsGotoTargetsRequest": true,
              "supportsHitConditionalBreakpoints": true,
              "supportsRestartFrame": true,
              "supportsStepBack": true,
              "supportsSteppingGranularity": true,
              "supportsTerminateRequest": true,
              "supportsValueFormattingOptions": false
            }"#]],
    );
    // A second initialize is out of order.
    let e = error(s.request("initialize", json!({})).unwrap());
    assert_eq!(e, "the session is already initialized");
    ok(s.request("disconnect", json!({})).unwrap());
}

#[test]
fn treasury_walked_forward_and_back() {
    let mut s = spawn();
    let program = fixture("treasury.tel");
    launch(&mut s, json!({ "program": program, "stopOnEntry": true }));
    let threads = ok(s.request("threads", Json::Null).unwrap());
    assert_eq!(threads, json!({ "threads": [{ "id": 1, "name": "treasury::main" }] }));
    let stopped = start(&mut s);
    assert_eq!(stopped["reason"], "entry");
    check(
        &state(&mut s),
        expect![[r#"
            @0
              treasury::main #vgb2cq4f fixtures/valid/treasury.tel:75:38
        "#]],
    );

    // Statement steps over main's statements, then back: each `stepBack` (the reverse of
    // `next`) lands on exactly the state the `next` before it left.
    let mut states = vec![state(&mut s)];
    for _ in 0..5 {
        assert_eq!(step(&mut s, "next")["reason"], "step");
        states.push(state(&mut s));
    }
    check(
        &states.concat(),
        expect![[r#"
        @0
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:75:38
        @1
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:76:37
            balances = {}
        @4
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:78:12
            balances = <moved>
            start = Ledger { balances: {}, fees_collected: 0 }
        @20
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:84:20
            balances = <moved>
            start = Ledger { balances: {}, fees_collected: 0 }
            moves = [In("ETH", 50000), In("USDC", 1000000), Out("ETH", 20000), Out("USDC", 2000000), Out("USDC", 100)]
        @300
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:85:17
            balances = <moved>
            start = <moved>
            moves = <moved>
            end = Ledger { balances: {"ETH": 29940, "USDC": 999899}, fees_collected: 61 }
        @306
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:86:5
            balances = <moved>
            start = <moved>
            moves = <moved>
            end = Ledger { balances: {"ETH": 29940, "USDC": 999899}, fees_collected: 61 }
    "#]],
    );
    for expected in states.iter().rev().skip(1) {
        assert_eq!(step(&mut s, "stepBack")["reason"], "step");
        assert_eq!(&state(&mut s), expected);
    }

    // Into the fold's lambda and on into `apply` and `deposit`; every state is the same
    // when reached again by a jump from the end of the run.
    motion(&mut s, "tel/jumpToPosition", json!({ "position": 20 }));
    let mut walk = String::new();
    let mut visited = Vec::new();
    for command in ["stepIn", "stepIn", "stepIn", "next", "stepOut"] {
        let stopped = step(&mut s, command);
        let st = state(&mut s);
        walk.push_str(&format!("{command} ({}):\n{st}", stopped["reason"].as_str().unwrap()));
        visited.push(st);
    }
    check(
        &walk,
        expect![[r#"
        stepIn (step):
        @25
          treasury::main/lambda #vgb2cq4f fixtures/valid/treasury.tel:84:65
          fold [1/5]
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:84:15
            l = Ledger { balances: {}, fees_collected: 0 }
            m = In("ETH", 50000)
        stepIn (step):
        @28
          treasury::apply #6cb0coc9 fixtures/valid/treasury.tel:68:11
          fold [1/5]
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:84:15
            ledger = Ledger { balances: {}, fees_collected: 0 }
            m = In("ETH", 50000)
        stepIn (step):
        @30
          treasury::apply #6cb0coc9 fixtures/valid/treasury.tel:69:38
          fold [1/5]
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:84:15
            ledger = Ledger { balances: {}, fees_collected: 0 }
            m = <moved>
            asset = ETH
            amount = 50000
        next (step):
        @34
          treasury::deposit #j209pabo fixtures/valid/treasury.tel:45:21
          fold [1/5]
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:84:15
            ledger = Ledger { balances: {}, fees_collected: 0 }
            asset = ETH
            amount = 50000
        stepOut (step):
        @300
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:85:17
            balances = <moved>
            start = <moved>
            moves = <moved>
            end = Ledger { balances: {"ETH": 29940, "USDC": 999899}, fees_collected: 61 }
    "#]],
    );
    for expected in visited.iter().rev() {
        let want: u64 = expected.lines().next().unwrap()[1..].parse().unwrap();
        motion(&mut s, "tel/jumpToPosition", json!({ "position": want }));
        assert_eq!(&state(&mut s), expected);
    }

    // Variables expand: the list of movements, a record, a map inside it.
    motion(&mut s, "tel/jumpToPosition", json!({ "position": 20 }));
    let st = ok(s.request("stackTrace", json!({ "threadId": 1 })).unwrap());
    let scopes = ok(s.request("scopes", json!({ "frameId": st["stackFrames"][0]["id"] })).unwrap());
    let mut out = String::new();
    for v in variables(&mut s, scopes["scopes"][0]["variablesReference"].clone()) {
        tree(&mut s, &v, 3, 0, &mut out);
    }
    check(
        &out,
        expect![[r#"
        balances = <moved> (moved out on its last use)
        start = Ledger { balances: {}, fees_collected: 0 } (Ledger) [start]
          balances = {} (Map) [start.balances]
          fees_collected = 0 (Int) [start.fees_collected]
        moves = [In("ETH", 50000), In("USDC", 1000000), Out("ETH", 20000), Out("USDC", 2000000), Out("USDC", 100)] (List) [moves]
          [0] = In("ETH", 50000) (Movement) [moves[0]]
            [0] = ETH (String) [moves[0].0]
            [1] = 50000 (Int) [moves[0].1]
          [1] = In("USDC", 1000000) (Movement) [moves[1]]
            [0] = USDC (String) [moves[1].0]
            [1] = 1000000 (Int) [moves[1].1]
          [2] = Out("ETH", 20000) (Movement) [moves[2]]
            [0] = ETH (String) [moves[2].0]
            [1] = 20000 (Int) [moves[2].1]
          [3] = Out("USDC", 2000000) (Movement) [moves[3]]
            [0] = USDC (String) [moves[3].0]
            [1] = 2000000 (Int) [moves[3].1]
          [4] = Out("USDC", 100) (Movement) [moves[4]]
            [0] = USDC (String) [moves[4].0]
            [1] = 100 (Int) [moves[4].1]
    "#]],
    );

    // Inside a function: `withdraw` statement by statement, and back.
    ok(s.request("setFunctionBreakpoints", json!({ "breakpoints": [{ "name": "withdraw" }] }))
        .unwrap());
    assert_eq!(step(&mut s, "continue")["reason"], "function breakpoint");
    ok(s.request("setFunctionBreakpoints", json!({ "breakpoints": [] })).unwrap());
    let mut states = vec![state(&mut s)];
    for _ in 0..4 {
        step(&mut s, "next");
        states.push(state(&mut s));
    }
    check(
        &states.concat(),
        expect![[r#"
        @127
          treasury::withdraw #b08akfrb fixtures/valid/treasury.tel:52:17
          fold [3/5]
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:84:15
            ledger = Ledger { balances: {"ETH": 50000, "USDC": 1000000}, fees_collected: 0 }
            asset = ETH
            amount = 20000
        @138
          treasury::withdraw #b08akfrb fixtures/valid/treasury.tel:53:27
          fold [3/5]
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:84:15
            ledger = Ledger { balances: {"ETH": 50000, "USDC": 1000000}, fees_collected: 0 }
            asset = ETH
            amount = 20000
            f = 60
        @147
          treasury::withdraw #b08akfrb fixtures/valid/treasury.tel:54:8
          fold [3/5]
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:84:15
            ledger = Ledger { balances: {"ETH": 50000, "USDC": 1000000}, fees_collected: 0 }
            asset = ETH
            amount = 20000
            f = 60
            have = 50000
        @150
          treasury::withdraw #b08akfrb fixtures/valid/treasury.tel:58:26
          fold [3/5]
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:84:15
            ledger = Ledger { balances: {"ETH": 50000, "USDC": 1000000}, fees_collected: 0 }
            asset = ETH
            amount = 20000
            f = 60
            have = 50000
        @154
          treasury::withdraw #b08akfrb fixtures/valid/treasury.tel:59:21
          fold [3/5]
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:84:15
            ledger = Ledger { balances: {"ETH": 50000, "USDC": 1000000}, fees_collected: 0 }
            asset = ETH
            amount = 20000
            f = 60
            have = 50000
    "#]],
    );
    for expected in states.iter().rev().skip(1) {
        step(&mut s, "stepBack");
        assert_eq!(&state(&mut s), expected);
    }
    ok(s.request("disconnect", json!({})).unwrap());
}

#[test]
fn breakpoints_by_line_condition_hit_count_and_function() {
    let mut s = spawn();
    let program = fixture("treasury.tel");
    launch(&mut s, json!({ "program": program, "stopOnEntry": false }));
    // Line 16 is `let raw = amount * fee_bps() / 10_000;` in `fee`; line 18 is `}` (no
    // code: refused); line 13 is blank before `fee` (no function holds it).
    let body = ok(s
        .request(
            "setBreakpoints",
            json!({ "source": { "path": program }, "breakpoints": [
                { "line": 16, "condition": "amount > 1000" },
                { "line": 18 },
                { "line": 46, "hitCondition": "2" },
                { "line": 17, "condition": "amount +" },
            ] }),
        )
        .unwrap());
    let summary: Vec<String> = body["breakpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| format!("{} {} {} {}", b["id"], b["verified"], b["line"], b["message"]))
        .collect();
    check(
        &summary.join("\n"),
        expect![[r#"
        1 true 16 null
        2 false 18 "no code of the running program on line 18"
        3 true 46 null
        4 false 17 "condition `amount +`: an expression is missing""#]],
    );
    let functions = ok(s
        .request(
            "setFunctionBreakpoints",
            json!({ "breakpoints": [{ "name": "credit", "hitCondition": ">= 2" }, { "name": "nope" }] }),
        )
        .unwrap());
    assert_eq!(functions["breakpoints"][0]["verified"], true);
    assert_eq!(functions["breakpoints"][1]["verified"], false);

    // Without stopOnEntry the run goes to the first breakpoint whose filter holds.
    let mut stops = Vec::new();
    let mut stopped = start(&mut s);
    loop {
        let reason = stopped["reason"].as_str().unwrap().to_string();
        let top = ok(s.request("stackTrace", json!({ "threadId": 1, "levels": 1 })).unwrap());
        let frame = top["stackFrames"][0]["name"].as_str().unwrap_or("").to_string();
        let line = top["stackFrames"][0]["line"].clone();
        stops.push(format!(
            "@{} {reason} {} {frame}:{line} ids={}",
            position(&mut s),
            stopped["description"].as_str().unwrap_or(""),
            stopped["hitBreakpointIds"]
        ));
        if reason == "end" {
            break;
        }
        stopped = step(&mut s, "continue");
    }
    check(
        &stops.join("\n"),
        expect![[r#"
        @84 breakpoint breakpoint 3 treasury::deposit #j209pabo:46 ids=[3]
        @98 function breakpoint breakpoint 5 treasury::credit #lnbqap1c:38 ids=[5]
        @129 breakpoint breakpoint 1 treasury::fee #lbgcdpoe:16 ids=[1]
        @195 breakpoint breakpoint 1 treasury::fee #lbgcdpoe:16 ids=[1]
        @308 end the run returned Ledger { balances: {"ETH": 29940, "USDC": 999899}, fees_collected: 61 } treasury::main (returned) #vgb2cq4f:74 ids=null"#]],
    );

    // And backward: reverse-continue visits the same stops in reverse order.
    let mut back = Vec::new();
    loop {
        let stopped = step(&mut s, "reverseContinue");
        back.push(format!("@{} {}", position(&mut s), stopped["reason"].as_str().unwrap()));
        if stopped["reason"] == "entry" {
            break;
        }
    }
    check(
        &back.join("\n"),
        expect![[r#"
        @195 breakpoint
        @129 breakpoint
        @98 function breakpoint
        @84 breakpoint
        @0 entry"#]],
    );
    ok(s.request("disconnect", json!({})).unwrap());
}

#[test]
fn jump_to_effect_lands_on_the_effect_and_log_lines_are_output_once() {
    let mut s = spawn();
    launch(&mut s, json!({ "program": fixture("treasury.tel") }));
    start(&mut s);
    let timeline = ok(s.request("tel/timeline", json!({})).unwrap());
    let entries = timeline["entries"].as_array().unwrap();
    let deposit2 = entries
        .iter()
        .find(|e| e["kind"] == "effect" && e["effect"] == "Deposit" && e["occurrence"] == 2)
        .unwrap()
        .clone();
    let answer =
        ok(s.request("tel/jumpToEffect", json!({ "effect": "Deposit", "occurrence": 2 })).unwrap());
    assert_eq!(answer["position"], deposit2["position"]);
    let stopped = s.event("stopped").unwrap()["body"].clone();
    assert_eq!(stopped["reason"], "goto");
    check(
        stopped["description"].as_str().unwrap(),
        expect![[r#"effect 2 of Deposit: Deposit("USDC", 1000000) at 0ms -> ()"#]],
    );
    // The first Log line was passed on the way, and is output once.
    let outputs: Vec<String> = s
        .take_events("output")
        .iter()
        .map(|e| {
            format!(
                "{}: {}",
                e["body"]["category"].as_str().unwrap(),
                e["body"]["output"].as_str().unwrap()
            )
        })
        .collect();
    check(
        &outputs.concat(),
        expect![[r#"
        stdout: deposit 50000 ETH
    "#]],
    );
    check(
        &state(&mut s),
        expect![[r#"
        @82
          treasury::deposit #j209pabo fixtures/valid/treasury.tel:45:5
          fold [2/5]
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:84:15
            ledger = Ledger { balances: {"ETH": 50000}, fees_collected: 0 }
            asset = USDC
            amount = 1000000
    "#]],
    );
    assert_eq!(evaluate(&mut s, "amount"), "1000000");
    assert_eq!(evaluate(&mut s, "ledger.balances[\"ETH\"] + amount"), "1050000");
    assert_eq!(evaluate(&mut s, "$balances"), "{\"ETH\": 50000}");
    let e =
        error(s.request("evaluate", json!({ "expression": "ledger.cost", "frameId": 1 })).unwrap());
    assert_eq!(e, "the record has no field `cost` (fields: balances, fees_collected)");

    // One step over performs the effect: the ledger has the deposit.
    step(&mut s, "next");
    assert_eq!(evaluate(&mut s, "$balances[\"USDC\"]"), "1000000");

    // Back to the start and forward again: no Log line is output twice.
    motion(&mut s, "tel/jumpToPosition", json!({ "position": 0 }));
    motion(&mut s, "tel/jumpToEffect", json!({ "effect": "Log", "occurrence": 3 }));
    let outputs: Vec<String> = s
        .take_events("output")
        .iter()
        .map(|e| e["body"]["output"].as_str().unwrap().to_string())
        .collect();
    check(
        &outputs.concat(),
        expect![[r#"
        deposit 1000000 USDC
    "#]],
    );
    let e = error(
        s.request("tel/jumpToEffect", json!({ "effect": "Deposit", "occurrence": 3 })).unwrap(),
    );
    assert_eq!(e, "the run has no Deposit effect number 3: it performed 2");
    let e = error(s.request("tel/jumpToEffect", json!({ "effect": "Teleport" })).unwrap());
    check(
        &e,
        expect![
            "unknown effect `Teleport` (the host effects are Log, Observe, Deposit, Withdraw, Now, Sleep, Random, Emit)"
        ],
    );
}

#[test]
fn compare_reports_exactly_the_changed_values() {
    let mut s = spawn();
    launch(&mut s, json!({ "program": fixture("treasury.tel") }));
    start(&mut s);
    // Two activations of `deposit` at one depth: the same frame to compare, whose locals
    // changed, and the ledger with the first deposit.
    motion(&mut s, "tel/jumpToEffect", json!({ "effect": "Deposit", "occurrence": 1 }));
    let a = position(&mut s);
    motion(&mut s, "tel/jumpToEffect", json!({ "effect": "Deposit", "occurrence": 2 }));
    let b = position(&mut s);
    let c = ok(s.request("tel/compareStates", json!({ "from": a, "to": b })).unwrap());
    check(
        &serde_json::to_string_pretty(&c).unwrap(),
        expect![[r#"
        {
          "changes": [
            {
              "frame": "treasury::deposit",
              "kind": "local",
              "name": "ledger",
              "new": "Ledger { balances: {\"ETH\": 50000}, fees_collected: 0 }",
              "old": "Ledger { balances: {}, fees_collected: 0 }"
            },
            {
              "frame": "treasury::deposit",
              "kind": "local",
              "name": "asset",
              "new": "USDC",
              "old": "ETH"
            },
            {
              "frame": "treasury::deposit",
              "kind": "local",
              "name": "amount",
              "new": "1000000",
              "old": "50000"
            },
            {
              "kind": "balance",
              "name": "ETH",
              "new": "50000",
              "old": "0"
            }
          ],
          "framesEntered": [],
          "framesLeft": [],
          "from": 36,
          "to": 82
        }"#]],
    );
    // One statement of `fee`: exactly one local appears, `raw`.
    ok(s.request("setFunctionBreakpoints", json!({ "breakpoints": [{ "name": "fee" }] })).unwrap());
    step(&mut s, "continue");
    let x = position(&mut s);
    step(&mut s, "next");
    let y = position(&mut s);
    let c = ok(s.request("tel/compareStates", json!({ "from": x, "to": y })).unwrap());
    check(
        &serde_json::to_string_pretty(&c["changes"]).unwrap(),
        expect![[r#"
        [
          {
            "frame": "treasury::fee",
            "kind": "local",
            "name": "raw",
            "new": "60"
          }
        ]"#]],
    );
    // Backward it is the same change reversed.
    let c = ok(s.request("tel/compareStates", json!({ "from": y, "to": x })).unwrap());
    check(
        &serde_json::to_string_pretty(&c["changes"]).unwrap(),
        expect![[r#"
        [
          {
            "frame": "treasury::fee",
            "kind": "local",
            "name": "raw",
            "old": "60"
          }
        ]"#]],
    );
    // Across the first withdrawal: the ledger's ETH balance and `withdraw`'s locals.
    let (p, q) = (x - 3, x + 60);
    let c = ok(s.request("tel/compareStates", json!({ "from": p, "to": q })).unwrap());
    check(
        &serde_json::to_string_pretty(&c).unwrap(),
        expect![[r#"
        {
          "changes": [
            {
              "frame": "treasury::apply",
              "kind": "local",
              "name": "ledger",
              "new": "Ledger { balances: {\"ETH\": 29940, \"USDC\": 1000000}, fees_collected: 60 }",
              "old": "<moved>"
            },
            {
              "frame": "treasury::apply",
              "kind": "local",
              "name": "asset",
              "new": "USDC",
              "old": "()"
            },
            {
              "frame": "treasury::apply",
              "kind": "local",
              "name": "amount",
              "new": "2000000",
              "old": "20000"
            },
            {
              "kind": "balance",
              "name": "ETH",
              "new": "30000",
              "old": "50000"
            }
          ],
          "framesEntered": [],
          "framesLeft": [],
          "from": 126,
          "to": 189
        }"#]],
    );
    let same = ok(s.request("tel/compareStates", json!({ "from": y, "to": y })).unwrap());
    assert_eq!(same["changes"], json!([]));
}

#[test]
fn fork_leaves_the_original_timeline_untouched() {
    let mut s = spawn();
    launch(&mut s, json!({ "program": fixture("treasury.tel") }));
    start(&mut s);
    let original = ok(s.request("tel/timeline", json!({})).unwrap());
    // Refuse the first deposit: that run fails there.
    let fork = ok(s
        .request("tel/fork", json!({ "effect": "Deposit", "occurrence": 1, "override": { "refuse": "the bank is closed" } }))
        .unwrap());
    check(
        &serde_json::to_string_pretty(&fork).unwrap(),
        expect![[r#"
        {
          "effect": {
            "name": "Deposit",
            "ordinal": 0,
            "position": 36
          },
          "end": 37,
          "outcome": "the run failed: host effect Deposit failed: the bank is closed",
          "position": 36,
          "timeline": 1
        }"#]],
    );
    let stopped = s.event("stopped").unwrap()["body"].clone();
    assert_eq!(stopped["reason"], "goto");
    assert!(!s.take_events("invalidated").is_empty());
    let stopped = step(&mut s, "continue");
    assert_eq!(stopped["reason"], "exception");
    check(
        stopped["description"].as_str().unwrap(),
        expect!["the run failed: host effect Deposit failed: the bank is closed"],
    );
    let info = ok(s.request("exceptionInfo", json!({ "threadId": 1 })).unwrap());
    // The stack trace names files by absolute path: the repository's location varies.
    let root = format!("{}/", repo().display());
    check(
        &serde_json::to_string_pretty(&info).unwrap().replace(&root, ""),
        expect![[r#"
        {
          "breakMode": "always",
          "description": "host effect Deposit failed: the bank is closed",
          "details": {
            "message": "host effect Deposit failed: the bank is closed",
            "stackTrace": "error: host effect Deposit failed: the bank is closed\n  at treasury::deposit #j209pabo fixtures/valid/treasury.tel:45:5\n  at fold [1/5]\n  at treasury::main #vgb2cq4f fixtures/valid/treasury.tel:84:15\n"
          },
          "exceptionId": "host"
        }"#]],
    );

    // A second fork, of the original, answering the price differently is another story;
    // here: back to timeline 0, whose run is exactly what it was.
    let timelines = ok(s.request("tel/timelines", json!({})).unwrap());
    check(
        &serde_json::to_string_pretty(&timelines).unwrap(),
        expect![[r#"
        {
          "timelines": [
            {
              "current": false,
              "end": 308,
              "label": "treasury::main",
              "position": 0,
              "timeline": 0
            },
            {
              "current": true,
              "end": 37,
              "label": "fork 1 of timeline 0: effect 1 of Deposit refused: the bank is closed",
              "position": 37,
              "timeline": 1
            }
          ]
        }"#]],
    );
    ok(s.request("tel/switchTimeline", json!({ "timeline": 0 })).unwrap());
    s.event("stopped").unwrap();
    let again = ok(s.request("tel/timeline", json!({})).unwrap());
    assert_eq!(again["entries"], original["entries"]);
    let stopped = step(&mut s, "continue");
    assert_eq!(stopped["reason"], "end");
    check(
        stopped["description"].as_str().unwrap(),
        expect![[
            r#"the run returned Ledger { balances: {"ETH": 29940, "USDC": 999899}, fees_collected: 61 }"#
        ]],
    );

    // A fork with another argument: deposit less (the effect named inside the override, as
    // the editors' one-field form sends it).
    let fork = ok(s
        .request("tel/fork", json!({ "position": 0, "override": { "effect": "Deposit", "occurrence": 2, "args": ["USDC", 5] } }))
        .unwrap());
    assert_eq!(fork["timeline"], 2);
    s.event("stopped").unwrap();
    let stopped = step(&mut s, "continue");
    check(
        stopped["description"].as_str().unwrap(),
        expect![[
            r#"the run failed: host effect Withdraw failed: withdrawing 100 from "USDC", whose balance is 5"#
        ]],
    );
    // Bad overrides are refused with the reason.
    let e = error(
        s.request("tel/fork", json!({ "position": 0, "override": { "result": "x" } })).unwrap(),
    );
    check(
        &e,
        expect![
            "override.result: Deposit answers (): at $: expected null (the unit value), found a string"
        ],
    );
    let e =
        error(s.request("tel/fork", json!({ "position": 0, "override": { "gift": 1 } })).unwrap());
    check(&e, expect!["override: expected exactly one of `result`, `refuse` or `args`"]);
}

#[test]
fn malformed_and_out_of_order_messages_get_errors_and_the_session_goes_on() {
    let mut s = spawn();
    let mut errors = Vec::new();
    // Before initialize.
    errors.push(error(s.request("launch", json!({ "program": "x.tel" })).unwrap()));
    // Not JSON; JSON that is not a request; a header without a length.
    s.send_body(b"{ this is not json").unwrap();
    errors.push(error(s.next_matching(|m| m["type"] == "response").unwrap()));
    s.send_body(br#"{"seq": 7, "type": "event", "event": "x"}"#).unwrap();
    errors.push(error(s.response(7).unwrap()));
    s.send_raw(b"Content-Type: text/plain\r\n\r\n").unwrap();
    errors.push(error(s.next_matching(|m| m["type"] == "response").unwrap()));
    s.send_body(br#"{"seq": 9, "type": "request"}"#).unwrap();
    errors.push(error(s.response(9).unwrap()));

    ok(s.request("initialize", json!({})).unwrap());
    // Out of order: nothing launched yet.
    errors.push(error(s.request("stackTrace", json!({ "threadId": 1 })).unwrap()));
    errors.push(error(s.request("configurationDone", Json::Null).unwrap()));
    errors.push(error(s.request("next", json!({ "threadId": 1 })).unwrap()));
    // Unknown commands, custom or not; bad arguments.
    errors.push(error(s.request("stepInTargets", json!({ "frameId": 1 })).unwrap()));
    errors.push(error(s.request("tel/rewind", json!({})).unwrap()));
    errors.push(error(s.request("launch", json!({ "program": 3 })).unwrap()));
    errors.push(error(
        s.request("launch", json!({ "program": "x.tel", "stopOnEntyr": true })).unwrap(),
    ));
    errors.push(error(s.request("launch", json!({ "program": "/nonexistent/x.tel" })).unwrap()));
    check(
        &errors.join("\n"),
        expect![[r#"
        `launch` before `initialize`: send `initialize` first
        malformed message: the message is not JSON: key must be a string at line 1 column 3
        malformed message: a message of type `event`: this adapter only takes requests from the client
        malformed message: a message without a Content-Length header
        malformed message: the request has no `command`
        no program is being debugged: send `launch` first
        no program is being debugged: send `launch` first
        no program is being debugged: send `launch` first
        unknown request `stepInTargets`: this adapter does not support it (docs/debugging.md lists the requests)
        unknown request `tel/rewind`: this adapter does not support it (docs/debugging.md lists the requests)
        launch: invalid type: integer `3`, expected a string
        launch: unknown field `stopOnEntyr`, expected one of `program`, `entry`, `args`, `host`, `stopOnEntry`, `codebase`, `cwd`, `limits`, `session`, `noDebug`, `backend`
        /nonexistent/x.tel: no such file or folder"#]],
    );

    // The session still works.
    ok(s.request("launch", json!({ "program": fixture("treasury.tel") })).unwrap());
    s.event("initialized").unwrap();
    errors.clear();
    errors.push(error(s.request("next", json!({ "threadId": 1 })).unwrap()));
    start(&mut s);
    errors.push(error(s.request("launch", json!({ "program": fixture("treasury.tel") })).unwrap()));
    errors.push(error(s.request("scopes", json!({ "frameId": 99 })).unwrap()));
    errors.push(error(s.request("variables", json!({ "variablesReference": 1234 })).unwrap()));
    errors.push(error(s.request("next", json!({ "threadId": 1, "granularity": "word" })).unwrap()));
    errors.push(error(s.request("tel/jumpToPosition", json!({ "position": 1_000_000 })).unwrap()));
    errors.push(error(s.request("goto", json!({ "threadId": 1, "targetId": 5 })).unwrap()));
    check(
        &errors.join("\n"),
        expect![[r#"
        the run has not started: send `configurationDone` first
        a program is already being debugged in this session
        no frame 99 at this position (1 frames)
        no variables reference 1234 at this position
        unknown granularity `word`
        position 1000000 is past the end of the run (308 instructions)
        no goto target 5"#]],
    );
    let stopped = step(&mut s, "next");
    assert_eq!(stopped["reason"], "step");
    ok(s.request("disconnect", json!({})).unwrap());
    // The adapter exits after disconnect.
    let status = s.child.wait().unwrap();
    assert!(status.success());
}

#[test]
fn restart_frame_goto_targets_and_the_end_of_the_session() {
    let mut s = spawn();
    let program = fixture("treasury.tel");
    launch(&mut s, json!({ "program": program }));
    ok(s.request(
        "setFunctionBreakpoints",
        json!({ "breakpoints": [{ "name": "treasury::fee" }] }),
    )
    .unwrap());
    start(&mut s);
    let stopped = step(&mut s, "continue");
    assert_eq!(stopped["reason"], "function breakpoint");
    let entry = position(&mut s);
    step(&mut s, "next");
    step(&mut s, "next");
    assert!(position(&mut s) > entry);
    let stopped = motion(&mut s, "restartFrame", json!({ "frameId": 1 }));
    assert_eq!(stopped["reason"], "restart");
    assert_eq!(position(&mut s), entry);

    // Goto targets on line 17 (`if raw < 1 …`): the next time it runs (there was no time
    // before); then, from there, on line 16: the time before and the next time.
    let targets =
        ok(s.request("gotoTargets", json!({ "source": { "path": program }, "line": 17 })).unwrap());
    check(
        &serde_json::to_string_pretty(&targets).unwrap(),
        expect![[r#"
        {
          "targets": [
            {
              "id": 1,
              "label": "line 17, the next time: position 135",
              "line": 17
            }
          ]
        }"#]],
    );
    let last = targets["targets"].as_array().unwrap().last().unwrap()["id"].clone();
    let stopped = motion(&mut s, "goto", json!({ "threadId": 1, "targetId": last }));
    assert_eq!(stopped["reason"], "goto");
    let targets =
        ok(s.request("gotoTargets", json!({ "source": { "path": program }, "line": 16 })).unwrap());
    let labels: Vec<&str> = targets["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["label"].as_str().unwrap())
        .collect();
    check(
        &labels.join("\n"),
        expect![[r#"
        line 16, the last time before: position 129
        line 16, the next time: position 195"#]],
    );
    check(
        &state(&mut s),
        expect![[r#"
        @135
          treasury::fee #lbgcdpoe fixtures/valid/treasury.tel:17:8
          treasury::withdraw #b08akfrb fixtures/valid/treasury.tel:52:13
          fold [3/5]
          treasury::main #vgb2cq4f fixtures/valid/treasury.tel:84:15
            amount = 20000
            raw = 60
    "#]],
    );

    // To the end, then once more: the run is over.
    ok(s.request("setFunctionBreakpoints", json!({ "breakpoints": [] })).unwrap());
    let stopped = step(&mut s, "continue");
    assert_eq!(stopped["reason"], "end");
    check(
        &state(&mut s),
        expect![[r#"
        @308
          treasury::main (returned) #vgb2cq4f fixtures/valid/treasury.tel:74:4
            result = Ledger { balances: {"ETH": 29940, "USDC": 999899}, fees_collected: 61 }
    "#]],
    );
    ok(s.request("continue", json!({ "threadId": 1 })).unwrap());
    let exited = s.event("exited").unwrap();
    assert_eq!(exited["body"]["exitCode"], 0);
    s.event("terminated").unwrap();
    let e = error(s.request("next", json!({ "threadId": 1 })).unwrap());
    assert_eq!(e, "the run was terminated");
    ok(s.request("disconnect", json!({})).unwrap());
}

#[test]
fn a_runtime_error_stops_with_an_exception_and_its_stack() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("boom.tel");
    std::fs::write(
        &path,
        "module boom\n\nfn ratio(a: Int, b: Int) -> Int {\n    a / b\n}\n\nfn main() -> Int ! {Log} {\n    perform Log(\"dividing\");\n    ratio(10, 0)\n}\n",
    )
    .unwrap();
    let mut s = spawn();
    launch(&mut s, json!({ "program": path.display().to_string(), "stopOnEntry": false }));
    let stopped = start(&mut s);
    assert_eq!(stopped["reason"], "exception");
    check(stopped["description"].as_str().unwrap(), expect!["the run failed: division by zero"]);
    let st = ok(s.request("stackTrace", json!({ "threadId": 1 })).unwrap());
    let frames: Vec<String> = st["stackFrames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}:{}", f["name"].as_str().unwrap(), f["line"], f["column"]))
        .collect();
    check(&frames.join("\n"), expect!["boom::ratio #aq9e7fgg 4:5"]);
    let outputs: Vec<String> = s
        .take_events("output")
        .iter()
        .map(|e| e["body"]["output"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(outputs, vec!["dividing\n"]);
    // Back from the error to the division, where the operands can be read.
    let stopped = step(&mut s, "stepBack");
    assert_eq!(stopped["reason"], "step");
    assert_eq!(evaluate(&mut s, "a"), "10");
    assert_eq!(evaluate(&mut s, "b"), "0");
    ok(s.request("terminate", json!({})).unwrap());
    assert_eq!(s.event("exited").unwrap()["body"]["exitCode"], 3);
    s.event("terminated").unwrap();
}

#[test]
fn a_launch_with_errors_in_the_program_is_refused_with_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.tel");
    std::fs::write(&path, "module bad\n\nfn main() -> Int {\n    1 + \"two\"\n}\n").unwrap();
    let mut s = spawn();
    ok(s.request("initialize", json!({})).unwrap());
    let dir_text = dir.path().display().to_string();
    let e = error(s.request("launch", json!({ "program": path.display().to_string() })).unwrap());
    let details: Vec<String> = s
        .take_events("output")
        .iter()
        .map(|e| e["body"]["output"].as_str().unwrap().replace(&dir_text, "DIR"))
        .collect();
    check(
        &format!("{}\n{}", e.replace(&dir_text, "DIR"), details.concat()),
        expect![[r#"
        cannot run DIR/bad.tel: 1 error(s) in 1 file(s) (see `tel check`)
        DIR/bad.tel:4:9: error[E0201]: expected `Int`, found `String`
    "#]],
    );
    let e = error(
        s.request("launch", json!({ "program": fixture("treasury.tel"), "entry": "nope" }))
            .unwrap(),
    );
    check(
        &e.replace(&repo().display().to_string(), "REPO"),
        expect![
            "no definition `nope` in REPO/fixtures/valid/treasury.tel (--entry names the function to run)"
        ],
    );
    let e = error(
        s.request("launch", json!({ "program": fixture("treasury.tel"), "args": [1] })).unwrap(),
    );
    check(&e, expect!["--args: at $: expected 0 arguments, found 1"]);
}

#[test]
fn snapshots_and_timeline_of_a_program_with_handlers_and_time() {
    let mut s = spawn();
    let host = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(host.path(), r#"{"feeds": {"ETH/USD": 3000, "BTC/USD": 64000}}"#).unwrap();
    launch(
        &mut s,
        json!({ "program": fixture("price_watch.tel"), "host": host.path().display().to_string() }),
    );
    start(&mut s);
    let snaps = ok(s.request("tel/snapshots", json!({})).unwrap());
    assert_eq!(snaps["snapshots"][0]["position"], 0);
    assert!(snaps["totalBytes"].as_u64().unwrap() > 0);
    let timeline = ok(s.request("tel/timeline", json!({ "limit": 12 })).unwrap());
    assert_eq!(timeline["truncated"], true);
    let lines: Vec<String> = timeline["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| match e["kind"].as_str().unwrap() {
            "effect" => format!(
                "@{} effect {} #{} {} -> {} at {}ms",
                e["position"],
                e["effect"].as_str().unwrap(),
                e["occurrence"],
                e["args"],
                e["result"],
                e["clockMs"]
            ),
            "call" => format!(
                "@{} call {} ({}) line {}",
                e["position"],
                e["name"].as_str().unwrap(),
                e["frame"].as_str().unwrap(),
                e["line"]
            ),
            k => format!("@{} {k} depth {}", e["position"], e["depth"]),
        })
        .collect();
    check(
        &lines.join("\n"),
        expect![[r#"
        @5 call price_watch::watch (function) line 39
        @14 call price_watch::poll (function) line 23
        @15 effect Observe #1 ["ETH/USD"] -> 3000 at 0ms
        @19 call handler in price_watch::watch (handler) line 43
        @22 return depth 2
        @25 return depth 1
        @30 call price_watch::watch (function) line 39
        @39 call price_watch::poll (function) line 23
        @40 effect Observe #2 ["BTC/USD"] -> 64000 at 0ms
        @48 effect Sleep #1 [10000] -> null at 0ms
        @61 effect Log #1 ["BTC/USD at 64000, below 100000"] -> null at 10000ms
        @69 call price_watch::poll (function) line 23"#]],
    );
    // Into the handler clause: the frames name it, the Run scope shows the handlers.
    motion(&mut s, "tel/jumpToEffect", json!({ "effect": "Sleep", "occurrence": 1 }));
    let st = ok(s.request("stackTrace", json!({ "threadId": 1 })).unwrap());
    let scopes = ok(s.request("scopes", json!({ "frameId": st["stackFrames"][0]["id"] })).unwrap());
    let mut out = String::new();
    for v in variables(&mut s, scopes["scopes"][2]["variablesReference"].clone()) {
        tree(&mut s, &v, 1, 0, &mut out);
    }
    check(
        &out,
        expect![[r#"
        position = 48 (Int) [$position]
        end = 516 (Int) [$end]
        clock = 0ms (Duration) [$clock]
        heap bytes = 32 (Int)
        effects = 3 (Int)
        timeline = 0: price_watch::main (String)
        handlers = ["handle Stop in frame 2 (price_watch::watch)", "within, deadline 120000ms, in frame 2"] (List)
          [0] = handle Stop in frame 2 (price_watch::watch) (String)
          [1] = within, deadline 120000ms, in frame 2 (String)
        next effect = effect 1 of Sleep (String)
    "#]],
    );
}

#[test]
fn the_adapter_serves_over_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(TEL)
        .args(["dap", "--port", "0"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("tel dap: listening on ")
        .expect("the address is announced")
        .to_string();
    let stream = std::net::TcpStream::connect(&addr).unwrap();
    let mut client = Client::new(BufReader::new(stream.try_clone().unwrap()), stream);
    let caps = ok(client.request("initialize", json!({})).unwrap());
    assert_eq!(caps["supportsStepBack"], true);
    ok(client.request("launch", json!({ "program": fixture("treasury.tel") })).unwrap());
    client.event("initialized").unwrap();
    ok(client.request("configurationDone", Json::Null).unwrap());
    assert_eq!(client.event("stopped").unwrap()["body"]["reason"], "entry");
    let threads = ok(client.request("threads", Json::Null).unwrap());
    assert_eq!(threads["threads"][0]["name"], "treasury::main");
    ok(client.request("disconnect", json!({})).unwrap());
    // A second session on the same server.
    let stream = std::net::TcpStream::connect(&addr).unwrap();
    let mut client = Client::new(BufReader::new(stream.try_clone().unwrap()), stream);
    ok(client.request("initialize", json!({})).unwrap());
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::io::stdout().flush();
}

#[test]
fn a_stored_definition_by_hash_with_arguments() {
    let env = Env::project();
    env.write(
        "args.tel",
        "type Order = { asset: String, qty: Int }\n\nfn total(orders: List<Order>, fee: Int) -> Int {\n    fold(orders, fee, |acc: Int, o: Order| acc + o.qty)\n}\n",
    );
    let dir = &env.dir;
    let tel = |args: &[&str]| {
        let out = support::tel_in(dir.path(), args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        out.stdout
    };
    tel(&["store", "add", "args.tel"]);
    let hashes: Json = serde_json::from_str(&tel(&["hash", "args.tel", "--json"])).unwrap();
    let total = hashes
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"].as_str().unwrap().ends_with("total"))
        .unwrap()["hash"]
        .as_str()
        .unwrap()
        .to_string();
    let mut s = spawn();
    launch(
        &mut s,
        json!({
            "program": format!("#{}", &total[..10]),
            "args": [[{ "asset": "ETH", "qty": 2 }, { "asset": "BTC", "qty": 5 }], 10],
            "cwd": dir.path().display().to_string(),
        }),
    );
    start(&mut s);
    // The project around `cwd` still defines the code: frames are placed in its sources.
    let st = ok(s.request("stackTrace", json!({ "threadId": 1 })).unwrap());
    let frame = &st["stackFrames"][0];
    assert!(frame["source"]["path"].as_str().unwrap().ends_with("args.tel"), "{frame}");
    assert_eq!(frame["line"], 4);
    assert_eq!(evaluate(&mut s, "fee"), "10");
    assert_eq!(evaluate(&mut s, "orders[1].qty"), "5");
    let stopped = step(&mut s, "continue");
    assert_eq!(stopped["reason"], "end");
    check(stopped["description"].as_str().unwrap(), expect!["the run returned 17"]);
    let e = error(s.request("launch", json!({ "program": "#zz" })).unwrap());
    assert_eq!(e, "a program is already being debugged in this session");
}

#[test]
fn a_breakpoint_at_the_first_instruction_stops_a_run_started_without_stop_on_entry() {
    let mut s = spawn();
    let program = fixture("treasury.tel");
    launch(&mut s, json!({ "program": program, "stopOnEntry": false }));
    // Line 75: `let balances: Map<String, Int> = empty_map();`, main's first statement.
    let set = ok(s
        .request("setBreakpoints", json!({ "source": { "path": program }, "lines": [75] }))
        .unwrap());
    assert_eq!(set["breakpoints"][0]["verified"], true);
    let stopped = start(&mut s);
    assert_eq!(stopped["reason"], "breakpoint");
    assert_eq!(position(&mut s), 0);
    // Nothing runs between two requests: a pause while stopped has nothing to stop.
    ok(s.request("pause", json!({ "threadId": 1 })).unwrap());
    let stopped = step(&mut s, "continue");
    assert_eq!(stopped["reason"], "end");
    let stopped = step(&mut s, "reverseContinue");
    assert_eq!(stopped["reason"], "breakpoint");
    assert_eq!(position(&mut s), 0);
}

#[test]
fn a_step_is_a_step_unless_a_breakpoint_cuts_it_short() {
    let mut s = spawn();
    let program = fixture("treasury.tel");
    launch(&mut s, json!({ "program": program }));
    // `fee`'s two statements, lines 16 and 17; `withdraw` calls it on line 52.
    ok(s.request("setBreakpoints", json!({ "source": { "path": program }, "lines": [17, 52] }))
        .unwrap());
    start(&mut s);
    let stopped = step(&mut s, "continue");
    assert_eq!(
        (stopped["reason"].as_str(), stopped["hitBreakpointIds"][0].as_i64()),
        (Some("breakpoint"), Some(2))
    );
    // Over the call of `fee`: the breakpoint inside it stops the step.
    let stopped = step(&mut s, "next");
    assert_eq!(stopped["reason"], "breakpoint");
    let top = ok(s.request("stackTrace", json!({ "threadId": 1, "levels": 1 })).unwrap());
    assert_eq!(
        (top["stackFrames"][0]["name"].as_str().unwrap(), top["stackFrames"][0]["line"].as_i64()),
        ("treasury::fee #lbgcdpoe", Some(17))
    );
    let stopped = step(&mut s, "stepOut");
    assert_eq!(stopped["reason"], "step");
    // Back over the call of `fee`: its breakpoint cuts the step short (as reverse-next
    // does in gdb).
    let stopped = step(&mut s, "stepBack");
    assert_eq!(stopped["reason"], "breakpoint");
    step(&mut s, "stepOut");
    // Without it, back onto line 52 and its breakpoint: where the step back stops anyway.
    ok(s.request("setBreakpoints", json!({ "source": { "path": program }, "lines": [52] }))
        .unwrap());
    let stopped = step(&mut s, "stepBack");
    assert_eq!(stopped["reason"], "step");
    let top = ok(s.request("stackTrace", json!({ "threadId": 1, "levels": 1 })).unwrap());
    assert_eq!(top["stackFrames"][0]["line"], 52);
}
