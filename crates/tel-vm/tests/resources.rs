//! Resource limits and grants: every resource stops a run with an error naming it, its limit
//! and where it was hit; `within` bodies run under child grants that are released on exit.

mod support;

use tel_vm::resources::{Amounts, ResourceAllocator, ResourceRequest};
use tel_vm::{Limits, Resource, RuntimeError, Status, TestHost, Vm};

/// The default limits without the wall-clock one, so what a test sees does not depend on how
/// fast the machine is (the wall-time test sets its own).
fn limits() -> Limits {
    Limits { wall_ms: u64::MAX, ..Limits::default() }
}

const SPIN: &str = "fn spin(n: Int) -> Int { spin(n + 1) }
    fn main() -> Int { spin(0) }";

fn run(src: &str, limits: Limits) -> Result<String, RuntimeError> {
    let program = support::load(src);
    let mut vm = Vm::new(&program, limits, 0);
    let v = vm.run_to_end(&program, &mut TestHost::new(0))?;
    Ok(tel_vm::show::show(&program, &v))
}

/// The resource, the limit and the innermost definition of an exhaustion.
fn exhausted(r: Result<String, RuntimeError>) -> (Resource, u64, String) {
    match r {
        Err(e @ RuntimeError::ResourceExhausted { .. }) => {
            let RuntimeError::ResourceExhausted { resource, limit, .. } = &e else {
                unreachable!()
            };
            let at = e.stack().first().and_then(|l| l.name.clone()).unwrap_or_default();
            (*resource, *limit, at.to_string())
        }
        other => panic!("expected a resource exhaustion, got {other:?}"),
    }
}

#[test]
fn each_limit_of_a_run_stops_it_naming_the_resource_limit_and_place() {
    let fuel = exhausted(run(SPIN, Limits { fuel: 1000, ..limits() }));
    assert_eq!(fuel, (Resource::Fuel, 1000, "spin".into()));

    let grow = "fn grow(xs: List<Int>) -> List<Int> { grow(xs ++ [len(xs)]) }
        fn main() -> Int { len(grow([])) }";
    let heap = exhausted(run(grow, Limits { heap_bytes: 10_000, ..limits() }));
    assert_eq!(heap, (Resource::HeapBytes, 10_000, "grow".into()));

    let tick = "fn tick(n: Int) -> Int ! {Log} { perform Log(show(n)); tick(n + 1) }
        fn main() -> Int ! {Log} { tick(0) }";
    let effects = exhausted(run(tick, Limits { effects: 5, ..limits() }));
    assert_eq!(effects, (Resource::Effects, 5, "tick".into()));

    let down = "fn down(n: Int) -> Int { down(n + 1) + 1 }
        fn main() -> Int { down(0) }";
    let depth = exhausted(run(down, Limits { call_depth: 50, ..limits() }));
    assert_eq!(depth, (Resource::CallDepth, 50, "down".into()));

    // Wall time is checked between slices of instructions: with no time at all, the first
    // check stops the run.
    let wall = exhausted(run(SPIN, Limits { wall_ms: 0, fuel: u64::MAX, ..limits() }));
    assert_eq!(wall, (Resource::WallTime, 0, "spin".into()));
}

#[test]
fn the_error_message_names_resource_limit_and_place() {
    let err = run(SPIN, Limits { fuel: 1000, ..limits() }).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("fuel exhausted (limit 1000) in spin (#"), "{msg}");
    assert!(msg.contains(") expr "), "{msg}");
}

#[test]
fn a_runaway_loop_or_recursion_under_default_limits_stops() {
    // A tail-recursive loop never grows the stack: fuel or wall time stops it (which one
    // first depends on the build's speed, not on the program).
    let start = std::time::Instant::now();
    let (resource, _, at) = exhausted(run(SPIN, Limits::default()));
    assert!(matches!(resource, Resource::Fuel | Resource::WallTime), "{resource}");
    assert_eq!(at, "spin");
    eprintln!("runaway loop stopped by {resource} after {:?}", start.elapsed());
    // Deep recursion meets the call-depth limit, never the Rust stack.
    let down = "fn down(n: Int) -> Int { down(n + 1) + 1 }
        fn main() -> Int { down(0) }";
    let (resource, limit, _) = exhausted(run(down, Limits::default()));
    assert!(matches!(resource, Resource::CallDepth | Resource::WallTime), "{resource}");
    if resource == Resource::CallDepth {
        assert_eq!(limit, u64::from(Limits::default().call_depth));
    }
}

fn amounts(fuel: u64, heap_bytes: u64, effects: u64) -> Amounts {
    Amounts { fuel, heap_bytes, effects, wall_ms: u64::MAX }
}

/// Runs `src` under a fresh allocator of `capacity`; the allocator is returned to inspect.
fn run_under(src: &str, capacity: Amounts) -> (Result<String, RuntimeError>, ResourceAllocator) {
    let allocator = ResourceAllocator::new(capacity);
    let program = support::load(src);
    let mut vm = Vm::new(&program, limits(), 0);
    vm.attach(allocator.allocate(ResourceRequest::REST).unwrap());
    let r = vm.run_to_end(&program, &mut TestHost::new(0));
    (r.map(|v| tel_vm::show::show(&program, &v)), allocator)
}

#[test]
fn a_grant_limits_a_run_like_its_own_limits() {
    let (r, allocator) = run_under(SPIN, amounts(5000, u64::MAX, u64::MAX));
    assert_eq!(exhausted(r), (Resource::Fuel, 5000, "spin".into()));
    assert_eq!(allocator.total_usage().fuel, 5000, "stopped exactly at the grant's limit");
    assert_eq!(allocator.live_grants(), 0, "the run's grant is released when it stops");

    let grow = "fn grow(xs: List<Int>) -> List<Int> { grow(xs ++ [len(xs)]) }
        fn main() -> Int { len(grow([])) }";
    let (r, _) = run_under(grow, amounts(u64::MAX, 4096, u64::MAX));
    assert_eq!(exhausted(r), (Resource::HeapBytes, 4096, "grow".into()));

    let tick = "fn tick(n: Int) -> Int ! {Log} { perform Log(show(n)); tick(n + 1) }
        fn main() -> Int ! {Log} { tick(0) }";
    let (r, _) = run_under(tick, amounts(u64::MAX, u64::MAX, 3));
    assert_eq!(exhausted(r), (Resource::Effects, 3, "tick".into()));
}

const WITHIN: &str =
    "fn work(n: Int, acc: Int) -> Int { if n == 0 { acc } else { work(n - 1, acc + n) } }
    fn spin(n: Int) -> Int { spin(n + 1) }
    fn main() -> Int ! {Sleep} {
        let a = work(100, 0);
        let b = within 1h { within 2h { work(50, 0) } else { 0 } } else { -1 };
        let c = within 1s { perform Sleep(2s); 1 } else { 2 };
        a + b + c + within 1h { spin(0) } else { 0 }
    }";

#[test]
fn within_bodies_run_under_child_grants_that_may_use_what_is_left() {
    let (r, allocator) = run_under(WITHIN, amounts(3000, u64::MAX, u64::MAX));
    let (resource, limit, at) = exhausted(r);
    assert_eq!((resource, at.as_str()), (Resource::Fuel, "spin"));
    // The innermost grant passed is the `within`'s: all the run had left when it began.
    assert!(limit < 3000, "{limit}");
    assert_eq!(allocator.total_usage().fuel, 3000);
    assert_eq!(allocator.live_grants(), 0);
}

#[test]
fn within_grants_live_while_their_body_runs_and_are_released_after() {
    let src = "fn work(n: Int, acc: Int) -> Int { if n == 0 { acc } else { work(n - 1, acc + n) } }
        fn main() -> Int { within 1h { within 2h { work(1000, 0) } else { 0 } } else { -1 } }";
    let allocator = ResourceAllocator::new(Amounts::UNLIMITED);
    let program = support::load(src);
    let mut vm = Vm::new(&program, limits(), 0);
    vm.attach(allocator.allocate(ResourceRequest::REST).unwrap());
    let mut host = TestHost::new(0);
    // Inside the loop, both `within`s are running: the run's grant and two children.
    assert_eq!(vm.run(&program, &mut host, 500).unwrap(), Status::Running);
    assert_eq!(allocator.live_grants(), 3);
    let v = vm.run_to_end(&program, &mut host).unwrap();
    assert_eq!(tel_vm::show::show(&program, &v), "500500");
    assert_eq!(allocator.live_grants(), 0);
    assert_eq!(allocator.total_usage().fuel, vm.usage.fuel, "every instruction was charged");
}

#[test]
fn timeouts_and_aborts_release_the_grants_they_abandon() {
    let src = "effect Stop() -> Int
        fn main() -> List<Int> ! {Sleep} {
            let t = within 1s { within 1h { perform Sleep(2s); 1 } else { 2 } } else { 3 };
            let a = handle { within 1h { perform Stop() } else { 0 } } with { Stop() => abort(4) };
            [t, a]
        }";
    let (r, allocator) = run_under(src, Amounts::UNLIMITED);
    assert_eq!(r.unwrap(), "[3, 4]");
    assert_eq!(allocator.live_grants(), 0);
}

#[test]
fn a_grant_refuses_a_run_that_asks_for_more_than_is_left() {
    let allocator = ResourceAllocator::new(amounts(100, u64::MAX, u64::MAX));
    let err = allocator.allocate(ResourceRequest { fuel: Some(101), ..ResourceRequest::REST });
    assert!(err.is_err());
    let program = support::load(SPIN);
    let mut vm = Vm::new(&program, limits(), 0);
    vm.attach(
        allocator.allocate(ResourceRequest { fuel: Some(100), ..ResourceRequest::REST }).unwrap(),
    );
    let r = vm.run_to_end(&program, &mut TestHost::new(0)).map(|_| String::new());
    assert_eq!(exhausted(r), (Resource::Fuel, 100, "spin".into()));
}
