//! The sandbox: each host effect it does not allow is refused where it is performed, before
//! the host sees it; allowed and program-handled effects pass; refusals replay.

mod support;

use expect_test::expect;
use tel_vm::{
    HostEffect, Limits, RunMeta, RuntimeError, SecuritySandbox, TestHost, Vm, record, replay,
};

/// A program performing exactly `effect` once (then returning 0).
fn performing(effect: HostEffect) -> String {
    let call = match effect {
        HostEffect::Log => r#"perform Log("hi")"#,
        HostEffect::Observe => r#"perform Observe("ETH/USD")"#,
        HostEffect::Deposit => r#"perform Deposit("a", 1)"#,
        HostEffect::Withdraw => r#"perform Withdraw("a", 1)"#,
        HostEffect::Now => "now()",
        HostEffect::Sleep => "perform Sleep(1s)",
        HostEffect::Random => "perform Random(6)",
        HostEffect::Emit => r#"perform Emit("e")"#,
    };
    format!("fn main() -> Int ! {{{}}} {{ {call}; 0 }}", effect.name())
}

fn host() -> TestHost {
    let mut h = TestHost::new(1);
    h.feeds.insert("ETH/USD".into(), 3000);
    h.balances.insert("a".into(), 10);
    h
}

#[test]
fn every_host_effect_not_allowed_is_refused_before_the_host_sees_it() {
    let mut out = Vec::new();
    for effect in HostEffect::ALL {
        let program = support::load(&performing(effect));
        let others = HostEffect::ALL.into_iter().filter(|e| *e != effect);
        let sandbox = SecuritySandbox::allowing(others);
        let mut inner = host();
        let before = inner.clone();
        let mut host = sandbox.wrap(&mut inner);
        let mut vm = Vm::new(&program, sandbox.limits, 0);
        let err = vm.run_to_end(&program, &mut host).unwrap_err();
        let RuntimeError::Host { effect: name, message, .. } = &err else {
            panic!("{effect:?}: {err}")
        };
        assert_eq!(name, effect.name());
        // Where: the error names the definition that performed it.
        assert!(err.to_string().contains("main"), "{err}");
        // The host never saw it (no log line, no ledger change, the generator untouched).
        assert_eq!(inner, before, "{effect:?}");
        // The clock did not move (a refused Sleep does not sleep).
        assert_eq!(vm.clock, 0);
        out.push(message.clone());
    }
    expect![[r#"
        the sandbox does not allow Log (allowed: Observe, Deposit, Withdraw, Now, Sleep, Random, Emit)
        the sandbox does not allow Observe (allowed: Log, Deposit, Withdraw, Now, Sleep, Random, Emit)
        the sandbox does not allow Deposit (allowed: Log, Observe, Withdraw, Now, Sleep, Random, Emit)
        the sandbox does not allow Withdraw (allowed: Log, Observe, Deposit, Now, Sleep, Random, Emit)
        the sandbox does not allow Now (allowed: Log, Observe, Deposit, Withdraw, Sleep, Random, Emit)
        the sandbox does not allow Sleep (allowed: Log, Observe, Deposit, Withdraw, Now, Random, Emit)
        the sandbox does not allow Random (allowed: Log, Observe, Deposit, Withdraw, Now, Sleep, Emit)
        the sandbox does not allow Emit (allowed: Log, Observe, Deposit, Withdraw, Now, Sleep, Random)"#]]
    .assert_eq(&out.join("\n"));
}

#[test]
fn allowed_effects_pass_and_by_default_all_are_allowed() {
    for effect in HostEffect::ALL {
        let program = support::load(&performing(effect));
        for sandbox in [SecuritySandbox::default(), SecuritySandbox::allowing([effect])] {
            let mut inner = host();
            let mut vm = Vm::new(&program, Limits::default(), 0);
            let v = vm.run_to_end(&program, &mut sandbox.wrap(&mut inner));
            assert!(v.is_ok(), "{effect:?}: {v:?}");
        }
    }
    let sandbox = SecuritySandbox::default();
    assert_eq!(sandbox.allowed(), HostEffect::ALL.to_vec());
    assert_eq!((sandbox.limits, sandbox.timeout), (Limits::default(), None));
}

#[test]
fn an_effect_the_program_handles_itself_never_reaches_the_sandbox() {
    let program = support::load(
        r#"fn main() -> Int ! {Emit} {
            handle { perform Log("quiet"); 7 } with { Log(line) => perform Emit("[audit] " ++ line) }
        }"#,
    );
    let sandbox = SecuritySandbox::allowing([HostEffect::Emit]);
    let mut inner = host();
    let mut vm = Vm::new(&program, Limits::default(), 0);
    let v = vm.run_to_end(&program, &mut sandbox.wrap(&mut inner)).unwrap();
    assert_eq!(tel_vm::show::show(&program, &v), "7");
    assert_eq!(inner.events, vec!["[audit] quiet".to_string()]);
    assert!(inner.log.is_empty());
}

#[test]
fn allow_lists_parse_and_unknown_names_are_refused() {
    assert_eq!(
        SecuritySandbox::parse_allow(" Log, Observe ,Emit").unwrap(),
        vec![HostEffect::Log, HostEffect::Observe, HostEffect::Emit]
    );
    assert_eq!(SecuritySandbox::parse_allow("").unwrap(), vec![]);
    expect!["`log` is not a host effect (the host effects are Log, Observe, Deposit, Withdraw, Now, Sleep, Random, Emit)"]
        .assert_eq(&SecuritySandbox::parse_allow("Observe,log").unwrap_err().to_string());
    let none = SecuritySandbox::allowing([]);
    let program = support::load(&performing(HostEffect::Log));
    let err = Vm::new(&program, Limits::default(), 0)
        .run_to_end(&program, &mut none.wrap(host()))
        .unwrap_err();
    assert!(err.to_string().contains("the sandbox does not allow Log (allowed: none)"), "{err}");
}

#[test]
fn a_refusal_is_recorded_and_replays() {
    let program = support::load(
        r#"fn main() -> Int ! {Log, Observe} { perform Log("before"); perform Observe("ETH/USD") }"#,
    );
    let sandbox = SecuritySandbox::allowing([HostEffect::Log]);
    let mut meta = RunMeta::new(&program);
    meta.allowed = sandbox.allowed();
    let rec = record(&program, meta, &mut sandbox.wrap(host()));
    assert!(matches!(rec.outcome, Err(RuntimeError::Host { .. })));
    let listing: Vec<String> =
        rec.trace.events()[1..3].iter().map(|e| e.describe(&program)).collect();
    expect![[r#"
        Log("before") at 0ms -> ()
        Observe("ETH/USD") refused: the sandbox does not allow Observe (allowed: Log)"#]]
    .assert_eq(&listing.join("\n"));
    assert!(replay(&rec.trace, &program).identical());
}
