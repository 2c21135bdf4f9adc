//! Deadlines seen from handler clauses, the live-heap limit, and values nested a million
//! deep in `Debug`, `show` and drop.

mod support;

use expect_test::expect;
use std::sync::Arc;
use tel_vm::resources::{Amounts, ResourceAllocator, ResourceRequest};
use tel_vm::{Limits, Resource, RuntimeError, TestHost, Value, Vm};

/// The default limits without the wall-clock one: what a test sees must not depend on how
/// fast the machine is.
fn limits() -> Limits {
    Limits { wall_ms: u64::MAX, ..Limits::default() }
}

fn run(src: &str, limits: Limits) -> Result<String, RuntimeError> {
    let program = support::load(src);
    let mut vm = Vm::new(&program, limits, 0);
    let v = vm.run_to_end(&program, &mut TestHost::new(0))?;
    Ok(tel_vm::show::show(&program, &v))
}

/// A clause runs with its `handle`'s marks set aside, but a `within` inside the handled body
/// is still pending while the clause runs: an effect of the clause that would pass its
/// deadline abandons that body (language.md §9.1).
#[test]
fn a_deadline_set_aside_by_a_clause_still_times_out_its_effects() {
    let src = r#"effect Ask() -> Int
        effect Tell() -> Int
        fn main() -> List<Int> ! {Sleep, Now} {
            let timed_out = handle { within 10s { (perform Ask()) + 100 } else { -1 } }
                with { Ask() => { perform Sleep(20s); 1 } };
            let t1 = perform Now();
            let in_time = handle { within 30s { (perform Ask()) + 100 } else { -1 } }
                with { Ask() => { perform Sleep(20s); 1 } };
            let t2 = perform Now();
            // Two clauses deep: the inner clause's effect goes to the outer handler, whose
            // clause sleeps past the deadline of the innermost body.
            let nested = handle {
                handle { within 5s { perform Ask() } else { -2 } } with { Ask() => perform Tell() }
            } with { Tell() => { perform Sleep(9s); 7 } };
            let t3 = perform Now();
            // The clause's own deadline is later: the body's (set aside) one wins.
            let own_later = handle { within 1s { perform Ask() } else { -3 } }
                with { Ask() => within 1h { perform Sleep(2s); 1 } else { 50 } };
            // Equal deadlines: the outermost (the body's, set aside) is abandoned.
            let tie = handle { within 1s { perform Ask() } else { -4 } }
                with { Ask() => within 1s { perform Sleep(2s); 1 } else { 60 } };
            // The clause's own deadline is earlier: only the clause's `within` times out.
            let own_earlier = handle { within 1h { (perform Ask()) + 100 } else { -5 } }
                with { Ask() => within 1s { perform Sleep(2s); 1 } else { 70 } };
            [timed_out, t1, in_time, t2, nested, t3, own_later, tie, own_earlier, perform Now()]
        }"#;
    expect![[r#"[-1, 10000, 101, 30000, -2, 35000, -3, -4, 170, 38000]"#]]
        .assert_eq(&run(src, limits()).unwrap());
}

/// After a timeout from inside a clause the machine is consistent: handlers outside still
/// answer, and the run can go on using marks (no set-aside mark is lost or duplicated).
#[test]
fn handlers_work_after_a_timeout_from_a_clause() {
    let src = r#"effect Ask() -> Int
        fn main() -> List<Int> ! {Sleep} {
            handle {
                let a = handle { within 1s { perform Ask() } else { -1 } }
                    with { Ask() => { perform Sleep(5s); 1 } };
                let b = perform Ask();
                let c = within 1s { perform Ask() } else { -3 };
                [a, b, c]
            } with { Ask() => 42 }
        }"#;
    expect![[r#"[-1, 42, 42]"#]].assert_eq(&run(src, limits()).unwrap());
}

const CHURN: &str = "
    fn churn(i: Int, acc: Int) -> Int {
        if i == 0 { acc } else {
            let xs = [i, i, i, i, i, i, i, i];
            let ys = map(xs, |x| x + 1);
            churn(i - 1, acc + len(ys) + fold(filter(xs, |x| x > 0), 0, |a, x| a + 1))
        }
    }
    fn main() -> Int { churn(100000, 0) }";

/// The limit counts live heap: a loop that allocates and drops short-lived lists runs far
/// past what the values it ever built add up to.
#[test]
fn short_lived_values_do_not_add_up_against_the_heap_limit() {
    let limits = Limits { heap_bytes: 100_000, ..limits() };
    assert_eq!(run(CHURN, limits).unwrap(), "1600000");
    // Under a grant too: what the run freed is given back to it.
    let allocator = ResourceAllocator::new(Amounts::UNLIMITED);
    let grant = allocator
        .allocate(ResourceRequest { heap_bytes: Some(100_000), ..ResourceRequest::REST })
        .unwrap();
    let program = support::load(CHURN);
    let mut vm = Vm::new(&program, limits, 0);
    vm.attach(allocator.subdivide(&grant, ResourceRequest::REST).unwrap());
    let v = vm.run_to_end(&program, &mut TestHost::new(0)).unwrap();
    assert_eq!(v, Value::Int(1_600_000));
    assert!(vm.usage.heap_bytes < 1_000, "live at the end: {}", vm.usage.heap_bytes);
    assert!(allocator.check_usage(&grant).heap_bytes < 1_000);
}

/// A heap that really grows is still stopped, naming the resource and the limit.
#[test]
fn a_live_heap_past_the_limit_is_stopped() {
    let grow = "fn grow(i: Int, xs: List<List<Int>>) -> Int {
            if i == 0 { len(xs) } else { grow(i - 1, xs ++ [[i, i, i]]) }
        }
        fn main() -> Int { grow(100000, []) }";
    match run(grow, Limits { heap_bytes: 100_000, ..limits() }) {
        Err(RuntimeError::ResourceExhausted { resource: Resource::HeapBytes, limit, at }) => {
            assert_eq!(limit, 100_000);
            assert_eq!(at.innermost().and_then(|l| l.name.as_deref()), Some("grow"));
        }
        other => panic!("expected the heap limit, got {other:?}"),
    }
    // The same program with room for it finishes: the count is of what is live.
    assert_eq!(run(grow, limits()).unwrap(), "100000");
}

/// A chain `depth` deep built in Rust: `[[[…[]…]]]`.
fn nested_lists(depth: usize) -> Value {
    let mut v = Value::list(Vec::new());
    for _ in 0..depth {
        v = Value::list(vec![v]);
    }
    v
}

#[test]
fn debug_keeps_the_derived_form_and_stops_at_a_bounded_depth() {
    let v = Value::list(vec![
        Value::Int(1),
        Value::Option(Some(Arc::new(Value::String("a".into())))),
        Value::Option(None),
    ]);
    expect![[r#"List([Int(1), Option(Some(String("a"))), Option(None)])"#]]
        .assert_eq(&format!("{v:?}"));
    let deep = format!("{:?}", nested_lists(1_000_000));
    let shown = tel_vm::value::DEBUG_DEPTH as usize;
    assert_eq!(deep.matches("List(").count(), shown);
    assert!(deep.contains("List([…])"), "{}", &deep[deep.len() - 40..]);
}

/// A million-deep list and a million-deep enum chain (built by a TEL loop) are formatted with
/// `{:?}` (in the machine's dump too), shown and dropped without overflowing the stack.
#[test]
fn a_million_deep_value_formats_shows_and_drops() {
    let program = support::load(
        "enum Chain { Link(Chain), End }
        fn chain(n: Int, acc: Chain) -> Chain { if n == 0 { acc } else { chain(n - 1, Link(acc)) } }
        fn main() -> Chain { chain(1000000, End) }",
    );
    let mut vm = Vm::new(&program, Limits { fuel: u64::MAX, ..limits() }, 0);
    let chain = vm.run_to_end(&program, &mut TestHost::new(0)).unwrap();
    let debug = format!("{chain:?}");
    assert!(debug.contains("fields: […] }] }"));
    assert_eq!(debug.matches("Variant {").count(), tel_vm::value::DEBUG_DEPTH as usize);
    assert!(format!("{vm:?}").contains('…'));
    let shown = tel_vm::show::show(&program, &chain);
    assert_eq!(shown.matches("Link(").count(), 1_000_000);
    let list = nested_lists(1_000_000);
    assert_eq!(tel_vm::show::show(&program, &list).len(), 2_000_002);
    drop((vm, chain, list));
}

/// `TailCallInts` (a tail call whose arguments are Int operations) is a guarded shortcut:
/// with other values, a trap, too few slots or too little fuel the plain ops run, and the
/// fuel and result are the same however the run is sliced.
#[test]
fn fused_tail_calls_agree_with_the_plain_ops() {
    let src = "fn count(i: Int, acc: Int) -> Int { if i >= 1000 { acc } else { count(i + 1, acc + i) } }
        fn wait(d: Duration, n: Int) -> Duration { if n == 0 { d } else { wait(d + 1s, n - 1) } }
        fn three(a: Int, b: Int, c: Int) -> Int { if a == 0 { b + c } else { three(a - 1, b + 2, c * 3) } }
        fn one(x: Int) -> Int { three(x, x + 1, 1) }
        fn main() -> List<String> { [show(count(0, 0)), show(one(5)), show(wait(0s, 3))] }";
    let program = support::load(src);
    let whole = {
        let mut vm = Vm::new(&program, limits(), 0);
        let v = vm.run_to_end(&program, &mut TestHost::new(0)).unwrap();
        (tel_vm::show::show(&program, &v), vm.usage.fuel)
    };
    expect![[r#"["499500", "259", "3s"]"#]].assert_eq(&whole.0);
    for slice in [1, 2, 3, 7] {
        let mut vm = Vm::new(&program, limits(), 0);
        let v = loop {
            match vm.run(&program, &mut TestHost::new(0), slice).unwrap() {
                tel_vm::Status::Done(v) => break v,
                tel_vm::Status::Running => {}
            }
        };
        assert_eq!((tel_vm::show::show(&program, &v), vm.usage.fuel), whole, "slices of {slice}");
    }
    let boom = "fn boom(i: Int, n: Int) -> Int { if n == 0 { i } else { boom(i + 4611686018427387904, n - 1) } }
        fn main() -> Int { boom(0, 3) }";
    let err = run(boom, limits()).unwrap_err().to_string();
    assert!(err.starts_with("integer overflow in + in boom"), "{err}");
}
