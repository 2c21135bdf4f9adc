//! Safe-state strategies over a paused run's view, and the timeout-to-degraded rule.

use tel_schema::SafeState;
use tel_schema::safe::{Blocker, Decision, OpenWithin, PendingEffect, RunView, blockers, decide};

fn paused() -> RunView {
    RunView {
        finished: false,
        started_ms: 0,
        frames: 3,
        pending: vec![PendingEffect { effect: "Observe(\"ETH/USD\")".into(), since_ms: 1_000 }],
        within: vec![OpenWithin { opened_ms: 500, deadline_ms: 30_500 }],
        handlers: vec![vec!["Approve".into()]],
    }
}

fn kinds(b: &[Blocker]) -> Vec<&'static str> {
    b.iter()
        .map(|b| match b {
            Blocker::PendingReturn { .. } => "pending",
            Blocker::OpenWithin { .. } => "within",
            Blocker::ActiveRun { .. } => "active",
        })
        .collect()
}

#[test]
fn each_strategy_looks_at_more_than_the_one_before() {
    let run = paused();
    assert_eq!(kinds(&blockers(SafeState::NoPendingReturns, &run)), ["pending"]);
    assert_eq!(kinds(&blockers(SafeState::NoInFlightOperations, &run)), ["pending", "within"]);
    assert_eq!(
        kinds(&blockers(SafeState::NoActiveOperators, &run)),
        ["pending", "within", "active"]
    );

    let answered = RunView { pending: Vec::new(), ..paused() };
    assert!(blockers(SafeState::NoPendingReturns, &answered).is_empty());
    assert_eq!(kinds(&blockers(SafeState::NoInFlightOperations, &answered)), ["within"]);
    let outside = RunView { pending: Vec::new(), within: Vec::new(), ..paused() };
    assert!(blockers(SafeState::NoInFlightOperations, &outside).is_empty());
    assert_eq!(kinds(&blockers(SafeState::NoActiveOperators, &outside)), ["active"]);
    // A finished run blocks nothing.
    let done = RunView { finished: true, ..paused() };
    for s in SafeState::ALL {
        assert!(blockers(s, &done).is_empty());
    }
    assert_eq!(
        blockers(SafeState::NoActiveOperators, &run)[2].to_string(),
        "the run started at 0 ms is in progress (3 frame(s), 1 handler(s) installed)"
    );
    assert_eq!(
        blockers(SafeState::NoPendingReturns, &run)[0].to_string(),
        "Observe(\"ETH/USD\"), performed at 1000 ms, is waiting for its answer"
    );
}

#[test]
fn a_pending_call_outliving_the_timeout_moves_the_program_to_its_degraded_state() {
    let run = paused();
    let s = SafeState::NoPendingReturns;
    // Safe: upgrade at once.
    let safe = RunView { pending: Vec::new(), ..paused() };
    assert_eq!(decide(s, &safe, 5_000, Some(10_000), None), Decision::Upgrade);
    // No timeout: the upgrade does not wait.
    let Decision::Refuse { reason, blockers } = decide(s, &run, 2_000, None, Some("#a7f3b2c1"))
    else {
        panic!()
    };
    assert_eq!(blockers.len(), 1);
    assert!(reason.contains("sets no [safe-state] timeout"), "{reason}");
    // Within the timeout: wait for the rest of it.
    assert_eq!(
        decide(s, &run, 4_000, Some(10_000), Some("#a7f3b2c1")),
        Decision::Wait { blockers: blockers.clone(), remaining_ms: 7_000 }
    );
    // Past it: degraded, then the upgrade proceeds.
    assert_eq!(
        decide(s, &run, 11_000, Some(10_000), Some("#a7f3b2c1")),
        Decision::Degrade {
            blockers: blockers.clone(),
            waited_ms: 10_000,
            timeout_ms: 10_000,
            degraded: "#a7f3b2c1".into()
        }
    );
    // Past it without a declared degraded state: refused, saying so.
    let Decision::Refuse { reason, .. } = decide(s, &run, 11_000, Some(10_000), None) else {
        panic!()
    };
    assert!(reason.contains("declares no [safe-state] degraded state"), "{reason}");
    // The oldest blocker counts: the `within` opened at 500 ms under a stronger strategy.
    let Decision::Wait { remaining_ms, .. } =
        decide(SafeState::NoInFlightOperations, &run, 4_000, Some(10_000), Some("#x"))
    else {
        panic!()
    };
    assert_eq!(remaining_ms, 6_500);
}
