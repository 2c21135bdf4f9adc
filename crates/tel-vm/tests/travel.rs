//! Time travel: navigating a recorded run forward and back, stepping by source structure,
//! breakpoints, jumping to effects, comparing positions, forks, and sessions saved to a
//! codebase and resumed.

mod support;

use expect_test::expect;
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tel_hash::CodeHash;
use tel_hash::core::{CoreDef, Expr, preorder};
use tel_vm::travel::{
    Binder, Breakpoint, BreakpointId, Config, Granularity, Navigator, Override, SavedSnapshot,
    State, StepKind, StopReason, TimelineEntry, View,
};
use tel_vm::{HostEffect, HostFile, Op, Program, RunMeta, StoredDef, Value};

/// The host the fixtures' headers document.
const FIXTURE_HOST: &str = r#"{
    "seed": 7,
    "balances": { "alice": 50 },
    "feeds": { "ETH/USD": 3000, "BTC/USD": 64000, "ETH/USD@ethereum": 3000, "ETH/USD@osmosis": 3050 }
}"#;

/// Snapshots close together, so that every test crosses many of them.
const DENSE: Config = Config { every: 40, effect_gap: 8, spacing: 0 };

/// Calls, effects, locals in several frames.
const SMALL: &str = r#"
fn add(a: Int, b: Int) -> Int ! {Deposit} {
    perform Deposit("alice", a);
    a + b
}
fn main() -> Int ! {Deposit, Log, Observe} {
    let x = 1;
    let y = add(x, 2);
    perform Log("y = " ++ show(y));
    let z = add(y, 10);
    let p = perform Observe("ETH/USD");
    z * 2 + p
}
"#;

fn record(src: &str, config: Config) -> (Navigator, HashMap<CodeHash, StoredDef>) {
    let (defs, main) = support::stored(src);
    let program = Arc::new(Program::load(&defs, main).unwrap());
    let nav = Navigator::record(program, &defs, meta_for(&defs, main), config).unwrap();
    (nav, defs)
}

fn meta_for(defs: &HashMap<CodeHash, StoredDef>, main: CodeHash) -> RunMeta {
    let program = Program::load(defs, main).unwrap();
    let file = HostFile::parse(FIXTURE_HOST).unwrap();
    let mut meta = RunMeta::new(&program);
    meta.clock_start = file.clock_start;
    meta.host = Some(file);
    meta
}

fn fixtures() -> Vec<(String, String)> {
    let dir = format!("{}/../../fixtures/valid", env!("CARGO_MANIFEST_DIR"));
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tel"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().to_string();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    out.sort();
    assert!(out.len() >= 16);
    out
}

/// The state at the current position, exactly: what a debugger shows, and the machine's bytes.
fn exact(nav: &Navigator) -> (State, Vec<u8>) {
    (nav.inspect(), tel_vm::trace::encode_vm(&mut nav.vm().clone()))
}

/// `main (#…) expr 12 Let`: a location and the kind of core expression it points at.
fn place(defs: &HashMap<CodeHash, StoredDef>, state: &State) -> String {
    let Some(l) = state.location() else { return "done".into() };
    let CoreDef::Fn { body, .. } = &defs[&l.def].def else { unreachable!() };
    let e = preorder(body)[l.expr as usize];
    let kind = format!("{e:?}");
    let kind = kind.split([' ', '(', '{']).next().unwrap();
    let name = l.name.as_deref().unwrap_or("?");
    format!("{name}{} expr {} {kind}", if l.lambda { "/lambda" } else { "" }, l.expr)
}

fn locals(state: &State, frame: usize) -> String {
    state.frames[frame]
        .locals
        .iter()
        .map(|l| format!("{}={}", l.binder, debug_value(&l.value)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn debug_value(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::String(s) => format!("{s:?}"),
        v => format!("{v:?}"),
    }
}

#[test]
fn every_fixture_walks_forward_and_back_through_identical_states() {
    for (name, src) in fixtures() {
        let (mut nav, _) = record(&src, DENSE);
        // The run is the one a plain recording makes.
        let (program, plain) = support::recorded(&src, FIXTURE_HOST, u64::MAX);
        assert_eq!(nav.outcome().ok(), plain.outcome.as_ref().ok(), "{name}");
        assert_eq!(nav.end(), plain.vm.usage.fuel, "{name}");
        let _ = program;
        let last = nav.end().min(1500);
        let mut forward = vec![exact(&nav)];
        for p in 1..=last {
            assert_eq!(nav.step_forward().unwrap().position, p);
            forward.push(exact(&nav));
        }
        for p in (0..last).rev() {
            assert_eq!(nav.step_back().unwrap().position, p);
            assert!(exact(&nav) == forward[p as usize], "{name}: position {p} differs going back");
        }
        assert_eq!(nav.step_back().unwrap().reason, StopReason::Start);
        // Jumps anywhere land on the same states too.
        for p in [last, last / 3, 0, last / 2, 1] {
            nav.goto(p).unwrap();
            assert!(exact(&nav) == forward[p as usize], "{name}: goto {p}");
        }
        nav.goto(nav.end()).unwrap();
        assert_eq!(nav.step_forward().unwrap().reason, StopReason::End);
        let outcome = nav.inspect().outcome.expect("the end shows the outcome");
        assert_eq!(outcome.as_ref().ok(), plain.outcome.as_ref().ok(), "{name}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// From any position, N steps forward then N back pass through identical states at every
    /// step, whatever the snapshot spacing.
    #[test]
    fn n_steps_forward_then_n_back_return_through_identical_states(
        fixture in 0usize..16,
        start in 0.0f64..1.0,
        n in 1u64..300,
        every in 1u64..200,
    ) {
        let (_, src) = &fixtures()[fixture];
        let (mut nav, _) = record(src, Config { every, effect_gap: every / 4, spacing: 0 });
        let start = (nav.end() as f64 * start) as u64;
        let n = n.min(nav.end() - start);
        nav.goto(start).unwrap();
        let mut seen = vec![exact(&nav)];
        for _ in 0..n {
            nav.step_forward().unwrap();
            seen.push(exact(&nav));
        }
        for k in (0..n as usize).rev() {
            nav.step_back().unwrap();
            prop_assert!(exact(&nav) == seen[k], "position {}", start + k as u64);
        }
        prop_assert_eq!(nav.position(), start);
    }
}

#[test]
fn jump_to_effect_lands_before_the_instruction_that_asks_for_it() {
    let (mut nav, _) = record(SMALL, DENSE);
    let stop = nav.jump_to_effect(HostEffect::Deposit, 2).unwrap();
    expect![[r#"Effect { ordinal: 2, description: "effect 2 of Deposit: Deposit(\"alice\", 3) at 0ms -> ()" }"#]]
        .assert_eq(&format!("{:?}", stop.reason));
    // The next op is the Deposit, with its arguments on the stack.
    let (code, pc) = nav.vm().top().unwrap();
    let code = &nav.program().codes[code as usize];
    let Op::Perform { effect, argc } = code.ops[pc as usize] else {
        panic!("{:?}", code.ops[pc as usize])
    };
    assert_eq!(code.effects[effect as usize], HostEffect::Deposit.hash());
    let stack = nav.vm().stack();
    assert_eq!(
        &stack[stack.len() - argc as usize..],
        [Value::String("alice".into()), Value::Int(3)]
    );
    assert_eq!(nav.inspect().balances["alice"], 51);
    // One instruction later the host has answered and the ledger moved.
    nav.step_forward().unwrap();
    assert_eq!(nav.vm().stack().last(), Some(&Value::Unit));
    assert_eq!(nav.inspect().balances["alice"], 54);
    // Every effect of the run, in order, with the position jumps land on.
    let effects: Vec<String> = nav
        .effects()
        .iter()
        .map(|e| format!("{} {} {}", e.ordinal, e.effect.name(), e.description))
        .collect();
    expect![[r#"
        0 Deposit Deposit("alice", 1) at 0ms -> ()
        1 Log Log("y = 3") at 0ms -> ()
        2 Deposit Deposit("alice", 3) at 0ms -> ()
        3 Observe Observe("ETH/USD") at 0ms -> 3000"#]]
    .assert_eq(&effects.join("\n"));
    for e in nav.effects() {
        let occurrence =
            nav.effects().iter().filter(|f| f.effect == e.effect && f.ordinal <= e.ordinal).count();
        assert_eq!(nav.jump_to_effect(e.effect, occurrence).unwrap().position, e.position);
    }
    let err = nav.jump_to_effect(HostEffect::Deposit, 3).unwrap_err();
    expect!["the run has no Deposit effect number 3: it performed 2"].assert_eq(&err.to_string());
    assert!(nav.jump_to_effect(HostEffect::Withdraw, 0).is_err());
}

#[test]
fn compare_reports_exactly_the_locals_and_balances_that_changed() {
    let (mut nav, _) = record(SMALL, DENSE);
    let a = nav.jump_to_effect(HostEffect::Deposit, 1).unwrap().position;
    let b = nav.jump_to_effect(HostEffect::Deposit, 2).unwrap().position;
    let c = nav.compare(a, b).unwrap();
    let show = |c: &tel_vm::travel::Comparison| {
        let mut out: Vec<String> = c
            .locals
            .iter()
            .map(|l| {
                let v = |v: &Option<Value>| v.as_ref().map_or("-".into(), debug_value);
                format!("frame {} {}: {} -> {}", l.frame, l.binder, v(&l.old), v(&l.new))
            })
            .collect();
        out.extend(c.balances.iter().map(|b| format!("{}: {} -> {}", b.account, b.old, b.new)));
        out.push(format!(
            "clock {:?} left {:?} entered {:?}",
            c.clock, c.frames_left, c.frames_entered
        ));
        out.join("\n")
    };
    // In `main`, `y` came into scope and `x` did not change; the two calls of `add` are two
    // activations (the second one's frame starts higher, above `y`).
    expect![[r#"
        frame 1 let@2: - -> 3
        alice: 50 -> 51
        clock None left ["add (#bjomb39s) expr 1"] entered ["add (#bjomb39s) expr 1"]"#]]
    .assert_eq(&show(&c));
    // The same two positions the other way round: the same changes, reversed.
    let back = nav.compare(b, a).unwrap();
    assert_eq!(back.locals.len(), c.locals.len());
    for (x, y) in back.locals.iter().zip(&c.locals) {
        assert_eq!((&x.old, &x.new), (&y.new, &y.old));
    }
    // From a position to itself nothing changed.
    let same = nav.compare(b, b).unwrap();
    assert!(same.locals.is_empty() && same.balances.is_empty() && same.clock.is_none());
    // From the start to the end: the entry frame is the one frame, and it is gone.
    let whole = nav.compare(0, nav.end()).unwrap();
    expect![[r#"
        alice: 50 -> 54
        clock None left ["main (#BX2V6JCP) expr 1"] entered []"#]]
    .assert_eq(&show(&whole).replace(&nav.meta().entry.short(), "BX2V6JCP"));
}

#[test]
fn statement_steps_walk_the_source_and_step_over_stays_in_the_frame() {
    let (mut nav, defs) = record(SMALL, DENSE);
    let mut walk = Vec::new();
    loop {
        let s = nav.inspect();
        walk.push(format!("{} d{} {}", s.position, s.frames.len(), place(&defs, &s)));
        if nav.step(StepKind::In, Granularity::Statement, false, None).unwrap().reason
            == StopReason::End
        {
            break;
        }
    }
    expect![[r#"
        0 d1 main expr 1 Lit
        1 d1 main expr 5 Local
        4 d2 add expr 2 Lit
        8 d2 add expr 4 Binary
        10 d1 main expr 10 Lit
        16 d1 main expr 17 Local
        19 d2 add expr 2 Lit
        23 d2 add expr 4 Binary
        25 d1 main expr 21 Lit
        27 d1 main expr 23 Binary"#]]
    .assert_eq(&walk.join("\n"));
    // Over: the same walk without `add`'s statements, and back over retraces it exactly.
    nav.goto(0).unwrap();
    let mut over = vec![0];
    while nav.step(StepKind::Over, Granularity::Statement, false, None).unwrap().reason
        != StopReason::End
    {
        over.push(nav.position());
    }
    assert_eq!(over, [0, 1, 10, 16, 25, 27]);
    let mut back = vec![];
    while nav.step(StepKind::Over, Granularity::Statement, true, None).unwrap().reason
        != StopReason::Start
    {
        back.push(nav.position());
    }
    back.reverse();
    assert_eq!(back, over);
}

#[test]
fn step_out_returns_to_the_caller_and_back_out_lands_on_the_call() {
    let (mut nav, defs) = record(SMALL, DENSE);
    nav.jump_to_effect(HostEffect::Deposit, 2).unwrap();
    assert_eq!(nav.vm().depth(), 2);
    let at = nav.position();
    let out = nav.step(StepKind::Out, Granularity::Statement, false, None).unwrap();
    let s = nav.inspect();
    assert_eq!((out.reason, s.frames.len()), (StopReason::Step, 1));
    // Right after the call returned: its result is on main's stack, `z` not yet bound.
    assert_eq!(nav.vm().stack().last(), Some(&Value::Int(13)));
    expect!["main expr 21 Lit"].assert_eq(&place(&defs, &s));
    nav.goto(at).unwrap();
    let back = nav.step(StepKind::Out, Granularity::Statement, true, None).unwrap();
    let s = nav.inspect();
    assert_eq!(s.frames.len(), 1);
    expect!["main expr 15 Call"].assert_eq(&place(&defs, &s));
    // The next instruction is the call itself.
    nav.step_forward().unwrap();
    assert_eq!(nav.vm().depth(), 2);
    assert!(back.position < at);
    // Restarting the frame goes back to where `add` was entered.
    nav.goto(at).unwrap();
    let restart = nav.restart_frame(0).unwrap();
    assert_eq!(restart.position, back.position + 1);
    let s = nav.inspect();
    expect!["add expr 2 Lit"].assert_eq(&place(&defs, &s));
    expect!["param 0=3 param 1=10"].assert_eq(&locals(&s, 0));
}

#[test]
fn breakpoints_stop_continue_and_reverse_continue_with_a_filter() {
    let (mut nav, defs) = record(SMALL, DENSE);
    let add = nav.functions_named("add");
    assert_eq!(add.len(), 1);
    let entry = nav.add_breakpoint(Breakpoint::Function { def: add[0] }).unwrap();
    let mut hits = Vec::new();
    loop {
        let stop = nav.continue_forward(None).unwrap();
        if stop.reason == StopReason::End {
            break;
        }
        assert_eq!(stop.reason, StopReason::Breakpoint(vec![entry]));
        hits.push(stop.position);
    }
    assert_eq!(hits, [4, 19]);
    let mut back = Vec::new();
    while let StopReason::Breakpoint(_) = nav.reverse_continue(None).unwrap().reason {
        back.push(nav.position());
    }
    assert_eq!(back, [19, 4]);
    // A hit count as a filter: only the second entry stops.
    let mut seen = 0;
    let mut second = |_: &View<'_>, _: BreakpointId| {
        seen += 1;
        seen == 2
    };
    assert_eq!(nav.continue_forward(Some(&mut second)).unwrap().position, 19);
    // A condition on the state: `a` is 1 on the first call only.
    nav.goto(nav.end()).unwrap();
    let mut first =
        |v: &View<'_>, _: BreakpointId| v.state().frames[0].locals[0].value == Value::Int(1);
    assert_eq!(nav.reverse_continue(Some(&mut first)).unwrap().position, 4);
    // An expression breakpoint: `z * 2 + p`, the last statement of main.
    nav.clear_breakpoints();
    let main = nav.meta().entry;
    let CoreDef::Fn { body, .. } = &defs[&main].def else { unreachable!() };
    let expr = preorder(body)
        .iter()
        .position(|e| matches!(e, Expr::Binary { op: tel_hash::core::BinOp::Add, .. }))
        .unwrap() as u32;
    let id = nav.add_breakpoint(Breakpoint::Expr { def: main, expr }).unwrap();
    nav.goto(0).unwrap();
    let stop = nav.continue_forward(None).unwrap();
    assert_eq!((stop.position, stop.reason), (27, StopReason::Breakpoint(vec![id])));
    assert!(nav.remove_breakpoint(id));
    assert_eq!(nav.continue_forward(None).unwrap().reason, StopReason::End);
    let err = nav.add_breakpoint(Breakpoint::Expr { def: main, expr: 10_000 }).unwrap_err();
    assert!(err.to_string().ends_with("has no expression 10000"), "{err}");
    // Interrupting: a filter that asks to stop makes the motion halt at the next position.
    nav.add_breakpoint(Breakpoint::Function { def: add[0] }).unwrap();
    nav.goto(0).unwrap();
    let flag = nav.interrupt_handle();
    let mut pause = |_: &View<'_>, _: BreakpointId| {
        flag.store(true, Ordering::Relaxed);
        false
    };
    let stop = nav.continue_forward(Some(&mut pause)).unwrap();
    assert_eq!((stop.position, stop.reason), (5, StopReason::Interrupted));
}

#[test]
fn locals_of_lambdas_arms_and_handler_clauses_are_found() {
    let src = r#"
        effect Ask(n: Int) -> Int
        fn main() -> Int {
            let k = 3;
            let xs = map([1, 2], |x| x * k);
            let r = match get(xs, 1) { Some(v) => v + k, None => 0 };
            handle { perform Ask(r) + 1 } with { Ask(n) => n * 10 }
        }
    "#;
    let (mut nav, defs) = record(src, DENSE);
    let mut seen = Vec::new();
    loop {
        let s = nav.inspect();
        let frames: Vec<String> = (0..s.frames.len()).map(|f| locals(&s, f)).collect();
        seen.push(format!("{} | {}", place(&defs, &s), frames.join(" | ")));
        if nav.step(StepKind::In, Granularity::Statement, false, None).unwrap().reason
            == StopReason::End
        {
            break;
        }
    }
    expect![[r#"
        main expr 1 Lit | 
        main expr 6 Lit | let@0=3
        main/lambda expr 9 Binary | let@0=3 lambda@8 param 0=1 |  | let@0=3
        main/lambda expr 9 Binary | let@0=3 lambda@8 param 0=2 |  | let@0=3
        main expr 16 Local | let@0=3 let@2=List([Int(3), Int(6)])
        main expr 18 Binary | let@0=3 let@2=List([Int(3), Int(6)]) match@13 arm 0 var 0=6
        main expr 22 Handle | let@0=3 let@2=List([Int(3), Int(6)]) let@12=9
        main expr 25 Local | let@0=3 let@2=List([Int(3), Int(6)]) let@12=9
        main expr 27 Binary | let@0=3 let@2=List([Int(3), Int(6)]) let@12=9 handle@22 clause 0 arg 0=9 | let@0=3 let@2=List([Int(3), Int(6)]) let@12=9"#]]
    .assert_eq(&seen.join("\n"));
    nav.goto(nav.end()).unwrap();
    assert_eq!(nav.outcome(), Ok(&Value::Int(91)));
}

#[test]
fn the_timeline_lists_calls_returns_and_effects_with_positions() {
    let (mut nav, _) = record(SMALL, DENSE);
    let end = nav.end();
    let entries: Vec<String> = nav
        .timeline(0, end, 100)
        .unwrap()
        .iter()
        .map(|e| match e {
            TimelineEntry::Call { position, depth, kind, location, tail } => format!(
                "{position} call {kind:?} {} depth {depth}{}",
                location.as_ref().map_or("-".into(), |l| l
                    .name
                    .clone()
                    .unwrap_or_default()
                    .to_string()),
                if *tail { " (tail)" } else { "" }
            ),
            TimelineEntry::Return { position, depth, frames } => {
                format!("{position} return to depth {depth} ({frames} frame)")
            }
            TimelineEntry::Effect(e) => format!("{} effect {}", e.position, e.description),
        })
        .collect();
    expect![[r#"
        4 call Function add depth 2
        6 effect Deposit("alice", 1) at 0ms -> ()
        10 return to depth 1 (1 frame)
        14 effect Log("y = 3") at 0ms -> ()
        19 call Function add depth 2
        21 effect Deposit("alice", 3) at 0ms -> ()
        25 return to depth 1 (1 frame)
        26 effect Observe("ETH/USD") at 0ms -> 3000
        31 return to depth 0 (1 frame)"#]]
    .assert_eq(&entries.join("\n"));
    assert_eq!(nav.timeline(0, end, 3).unwrap().len(), 3);
    // A window: only what happens inside it.
    assert_eq!(nav.timeline(11, 30, 100).unwrap().len(), 5);
}

#[test]
fn a_fork_goes_its_own_way_and_leaves_the_original_run_as_it_was() {
    let (mut nav, _) = record(SMALL, DENSE);
    let before: Vec<State> = (0..=nav.end()).map(|p| nav.inspect_at(p).unwrap()).collect();
    let id = nav.save().id;
    let observe = nav.jump_to_effect(HostEffect::Observe, 1).unwrap().position;
    // Another answer from the price feed, forked a little before it: the fork starts at the
    // first host effect from there.
    let mut fork = nav.fork(observe - 3, Override::Answer(Value::Int(10))).unwrap();
    assert_eq!(fork.position(), observe);
    assert_eq!(fork.outcome(), Ok(&Value::Int(36)));
    assert_eq!(nav.outcome(), Ok(&Value::Int(3026)));
    for p in 0..=observe {
        assert_eq!(fork.inspect_at(p).unwrap(), before[p as usize], "position {p}");
    }
    // Another deposit amount: the ledger follows the arguments the host was given.
    let first = nav.jump_to_effect(HostEffect::Deposit, 1).unwrap().position;
    let args = vec![Value::String("alice".into()), Value::Int(100)];
    let mut fork2 = nav.fork(first, Override::Args(args)).unwrap();
    fork2.goto(fork2.end()).unwrap();
    assert_eq!(fork2.inspect().balances["alice"], 153);
    assert_eq!(fork2.overrides().len(), 1);
    // A refusal ends the forked run there.
    let fork3 = nav.fork(first, Override::Refuse("no".into())).unwrap();
    expect!["host effect Deposit failed: no (in add (#EO5ONQ1C) expr 1)"].assert_eq(
        &fork3
            .outcome()
            .unwrap_err()
            .to_string()
            .replace(&fork3.outcome().unwrap_err().stack()[0].def.short(), "EO5ONQ1C"),
    );
    // A fork of a fork keeps the first override.
    let fork4 = fork2.fork(observe, Override::Answer(Value::Int(0))).unwrap();
    assert_eq!(fork4.overrides().len(), 2);
    assert_eq!(fork4.balances(fork4.end())["alice"], 153);
    assert_eq!(fork4.outcome(), Ok(&Value::Int(26)));
    // The original is untouched: same id, same states everywhere.
    assert_eq!(nav.save().id, id);
    for p in 0..=nav.end() {
        assert_eq!(nav.inspect_at(p).unwrap(), before[p as usize], "position {p}");
    }
    assert!(nav.fork(nav.end(), Override::Refuse("x".into())).is_err());
}

#[test]
fn a_session_saved_to_the_codebase_resumes_in_a_new_navigator() {
    let src = fixtures().into_iter().find(|(n, _)| n == "treasury").unwrap().1;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("codebase.sqlite");
    let (id, position) = {
        let (mut nav, _) = record(&src, DENSE);
        nav.goto(nav.end() / 2).unwrap();
        let saved = nav.save();
        let mut store = tel_store::Store::open(&path).unwrap();
        let snapshots: Vec<tel_store::snapshots::SessionSnapshot> = saved
            .snapshots
            .iter()
            .map(|s| tel_store::snapshots::SessionSnapshot {
                position: s.position,
                base: s.base,
                bytes: s.bytes.to_vec(),
            })
            .collect();
        let new = tel_store::snapshots::NewSession {
            id: &saved.id,
            entry: saved.entry,
            entry_name: saved.entry_name.as_deref(),
            position: saved.position,
            setup: &saved.setup,
        };
        let done = store.save_session(&new, &snapshots).unwrap();
        assert!(done.created && done.snapshots_added as usize == snapshots.len());
        (saved.id, saved.position)
    };
    // Everything is gone; a new process opens the codebase and reloads the program.
    let store = tel_store::Store::open(&path).unwrap();
    let (info, setup, rows) = store.session(&id[..10]).unwrap();
    assert_eq!((info.id.as_str(), info.position), (id.as_str(), position));
    let (defs, main) = support::stored(&src);
    let program = Arc::new(Program::load(&defs, main).unwrap());
    let snapshots = rows
        .into_iter()
        .map(|r| SavedSnapshot { position: r.position, base: r.base, bytes: r.bytes.into() })
        .collect();
    let mut resumed = Navigator::resume(program, &defs, &setup, snapshots, info.position).unwrap();
    let (mut fresh, _) = record(&src, DENSE);
    fresh.goto(position).unwrap();
    assert!(exact(&resumed) == exact(&fresh));
    // Continuing gives the same states and the same end.
    for _ in 0..40 {
        let a = resumed.step(StepKind::In, Granularity::Statement, false, None).unwrap();
        let b = fresh.step(StepKind::In, Granularity::Statement, false, None).unwrap();
        assert_eq!(a, b);
        assert!(exact(&resumed) == exact(&fresh));
    }
    for _ in 0..40 {
        assert_eq!(resumed.step_back().unwrap(), fresh.step_back().unwrap());
        assert!(exact(&resumed) == exact(&fresh));
    }
    resumed.goto(resumed.end()).unwrap();
    assert_eq!(resumed.inspect(), {
        fresh.goto(fresh.end()).unwrap();
        fresh.inspect()
    });
    assert_eq!(resumed.save(), {
        fresh.goto(resumed.position()).unwrap();
        fresh.save()
    });
    // A damaged setup or a missing keyframe is refused with a clear error.
    let (defs, main) = support::stored(&src);
    let program = Arc::new(Program::load(&defs, main).unwrap());
    let err = Navigator::resume(program.clone(), &defs, &setup[..setup.len() - 3], vec![], 0)
        .err()
        .unwrap();
    assert!(err.to_string().starts_with("the stored session is damaged"), "{err}");
    let err = Navigator::resume(program, &defs, &setup, vec![], 0).err().unwrap();
    expect!["the stored session is damaged: no snapshot at position 0"].assert_eq(&err.to_string());
}

#[test]
fn a_run_that_fails_can_be_navigated_up_to_its_error() {
    let src = r#"
        fn div(a: Int, b: Int) -> Int { a / b }
        fn main() -> Int ! {Log} {
            perform Log("start");
            div(10, 0)
        }
    "#;
    let (mut nav, defs) = record(src, DENSE);
    let err = nav.outcome().unwrap_err().to_string();
    assert!(err.starts_with("division by zero in div"), "{err}");
    nav.goto(nav.end()).unwrap();
    let s = nav.inspect();
    assert_eq!(s.outcome.as_ref().map(|o| o.is_err()), Some(true));
    expect!["div expr 0 Binary"].assert_eq(&place(&defs, &s));
    assert_eq!(nav.step_forward().unwrap().reason, StopReason::End);
    // Back over from the error: the start of the statement that failed.
    let end = nav.end();
    assert_eq!(
        nav.step(StepKind::Over, Granularity::Statement, true, None).unwrap().position,
        end - 1
    );
    expect!["div expr 0 Binary"].assert_eq(&place(&defs, &nav.inspect()));
    let binders: Vec<Binder> = nav.inspect().frames[0].locals.iter().map(|l| l.binder).collect();
    assert_eq!(binders, [Binder::Param { index: 0 }, Binder::Param { index: 1 }]);
}

#[test]
fn a_memoized_run_or_another_program_is_refused() {
    let (defs, main) = support::stored(SMALL);
    let program = Arc::new(Program::load(&defs, main).unwrap());
    let mut meta = meta_for(&defs, main);
    meta.memo = true;
    let err = Navigator::record(program.clone(), &defs, meta, DENSE).err().unwrap();
    assert!(err.to_string().starts_with("a memoized run cannot be navigated"));
    let (other, other_main) = support::stored("fn main() -> Int { 1 }");
    let err = Navigator::record(program, &defs, meta_for(&other, other_main), DENSE).err().unwrap();
    assert!(err.to_string().starts_with("the program is #"), "{err}");
}

#[test]
fn an_upgraded_run_is_the_run_up_to_its_position_then_the_upgrade_and_it_replays() {
    use tel_vm::trace::Degradation;
    use tel_vm::{Event, Trace, replay};
    let (mut nav, _) = record(SMALL, DENSE);
    let effects = nav.effects();
    // Right before the second effect (Log): the first (Deposit) was performed, Log is pending.
    let at = effects[1].position;
    nav.goto(at).unwrap();
    let (from, to) = (CodeHash([1; 32]), CodeHash([2; 32]));
    let degraded = Degradation {
        waited_ms: 3_600_000,
        timeout_ms: 900_000,
        function: CodeHash([3; 32]),
        abandoned: vec!["Log(\"y = 3\") pending since 0 ms".into()],
    };
    let trace = nav.upgraded_trace("no-pending-returns", from, to, Some(degraded.clone()));
    let kinds: Vec<String> = trace.events().iter().map(|e| e.describe(nav.program())).collect();
    assert_eq!(kinds.len(), 4, "{kinds:#?}");
    assert!(kinds[0].starts_with("call main"), "{kinds:#?}");
    assert!(kinds[1].starts_with("Deposit(\"alice\", 1)"), "{kinds:#?}");
    assert_eq!(trace.events()[2], Event::Degraded(degraded));
    assert!(
        matches!(&trace.events()[3], Event::Upgraded { fuel, strategy, .. } if *fuel == at && strategy == "no-pending-returns"),
        "{kinds:#?}"
    );
    assert_eq!((trace.outcome(), trace.upgrade()), (None, Some((2, at))));
    // A run of its own (the session's trace is untouched), kept and read back intact.
    assert_ne!(trace.head(), nav.trace().head());
    assert_eq!(nav.trace().events().len(), 2 + effects.len());
    let back = Trace::from_bytes(&trace.to_bytes()).unwrap();
    assert_eq!(back, trace);
    let report = replay(&back, nav.program());
    assert!(report.identical(), "{report}");
    let full = back.events_full(nav.program()).unwrap();
    assert!(matches!(full.last(), Some(Event::Upgraded { .. })));

    // Stopped one instruction earlier, the recorded Deposit has not happened yet: replaying
    // that claim against the run finds the difference.
    nav.goto(effects[0].position).unwrap();
    let early = nav.upgraded_trace("no-pending-returns", from, to, None);
    assert_eq!(early.events().len(), 2, "the entry call and the upgrade");
    assert!(replay(&early, nav.program()).identical());
    // A program that deposits another amount does not reproduce what came before the upgrade.
    let other = support::stored(&SMALL.replace("(\"alice\", a)", "(\"alice\", a + 1)"));
    let other = Program::load(&other.0, other.1).unwrap();
    let report = replay(&trace, &other);
    assert_eq!(report.divergence.map(|d| d.index), Some(1), "the Deposit");

    // At the end of the run the outcome is part of what came before the upgrade.
    let end = nav.end();
    nav.goto(end).unwrap();
    let done = nav.upgraded_trace("no-active-operators", from, to, None);
    let events = done.events();
    assert!(matches!(events[events.len() - 2], Event::FunctionReturn { .. }));
    assert_eq!(done.upgrade(), Some((events.len() - 1, end)));
    assert!(replay(&done, nav.program()).identical());
}
