//! TEL source to definitions (as `tel store add` produces them), and one program run on both
//! backends with the same host, limits and clock: the VM through `tel_vm::trace::record`,
//! RISC-V through `tel_riscv::record`.
#![allow(dead_code)]

use std::collections::HashMap;

use tel_hash::CodeHash;
use tel_vm::trace::{Event, RunMeta};
use tel_vm::{Limits, Program, RuntimeError, StoredDef, TestHost, Value};

/// Every definition of `src` and the prelude, by hash; and the hash of each function by name.
pub fn stored(src: &str) -> (HashMap<CodeHash, StoredDef>, HashMap<String, CodeHash>) {
    let project = tel_hir::project::Project::new([("test.tel".to_string(), src.to_string())]);
    let errors: Vec<String> = project
        .diagnostics()
        .into_values()
        .flatten()
        .filter(|d| d.severity == tel_hir::diagnostics::Severity::Error)
        .map(|d| d.message)
        .collect();
    assert!(errors.is_empty(), "the test program has errors: {errors:?}\n{src}");
    let defs: Vec<_> =
        project.core_defs().into_iter().map(|(n, d)| (n, d.expect("lowers"))).collect();
    let components = tel_hash::hash_program_components(&defs, &|_| None).expect("hashes");
    let mut out = HashMap::new();
    let mut names = HashMap::new();
    for c in components {
        for m in c.members {
            let def = tel_hash::decode(&m.bytes).expect("decodes its own bytes");
            let short: String = m.name.rsplit("::").next().unwrap_or(&m.name).into();
            if !m.name.starts_with("prelude") {
                names.insert(short.clone(), m.hash);
            }
            out.insert(m.hash, StoredDef { def, component: c.component, name: Some(short.into()) });
        }
    }
    (out, names)
}

/// The host every comparison uses: a feed, a balance, a latency, a seed.
pub fn host() -> TestHost {
    let mut h = TestHost::new(7);
    h.feeds.insert("ETH".into(), 3000);
    h.balances.insert("alice".into(), 100);
    h.costs[1] = 250; // Observe
    h
}

/// Limits that do not depend on the machine's speed.
pub fn limits() -> Limits {
    Limits { wall_ms: u64::MAX, ..Limits::default() }
}

pub struct Outcome {
    pub result: Result<Value, RuntimeError>,
    /// The events without the VM's snapshots.
    pub events: Vec<Event>,
    pub clock: i64,
}

fn meta(defs: &HashMap<CodeHash, StoredDef>, entry: CodeHash, limits: Limits) -> RunMeta {
    let program = Program::load(defs, entry).expect("the VM loads it");
    let mut meta = RunMeta::new(&program);
    meta.limits = limits;
    meta.clock_start = 1000;
    meta
}

pub fn run_vm(defs: &HashMap<CodeHash, StoredDef>, entry: CodeHash, limits: Limits) -> Outcome {
    let program = Program::load(defs, entry).expect("the VM loads it");
    let meta = meta(defs, entry, limits);
    let mut host = host();
    let rec = tel_vm::trace::record(&program, meta, &mut host);
    let events = rec
        .trace
        .events()
        .iter()
        .filter(|e| !matches!(e, Event::Snapshot { .. }))
        .cloned()
        .collect();
    Outcome { result: rec.outcome, events, clock: rec.vm.clock }
}

pub fn run_rv(defs: &HashMap<CodeHash, StoredDef>, entry: CodeHash, limits: Limits) -> Outcome {
    let module = tel_riscv::compile(defs, entry).unwrap_or_else(|e| panic!("compiles: {e}"));
    let meta = meta(defs, entry, limits);
    let mut host = host();
    let rec = tel_riscv::record(&module, &meta, &mut host).expect("starts");
    Outcome { result: rec.outcome, events: rec.events, clock: rec.machine.clock }
}

/// What must agree about an error: its kind and message (or resource and limit), and,
/// except where the two count differently (fuel, wall time), where it happened: the first
/// frames of the call stack and its depth.
pub fn class(e: &RuntimeError) -> String {
    use tel_vm::Resource;
    let stack = e.stack();
    let frames: Vec<String> = stack.iter().take(3).map(|l| l.to_string()).collect();
    let place = format!(" at [{}] depth {}", frames.join(", "), stack.len());
    match e {
        RuntimeError::ResourceExhausted {
            resource: resource @ (Resource::Fuel | Resource::WallTime),
            limit,
            ..
        } => {
            format!("{resource} exhausted (limit {limit})")
        }
        RuntimeError::ResourceExhausted { resource, limit, .. } => {
            format!("{resource} exhausted (limit {limit}){place}")
        }
        RuntimeError::Trap { message, .. } => format!("{message}{place}"),
        RuntimeError::Host { effect, message, .. } => {
            format!("host effect {effect} failed: {message}{place}")
        }
        other => other.to_string(),
    }
}

/// Runs `main` of `src` on both backends and checks they agree: the value or the error's
/// class, every host interaction, the clock. Returns the shown outcome.
pub fn same(src: &str) -> String {
    same_with(src, "main", limits())
}

pub fn same_with(src: &str, entry: &str, limits: Limits) -> String {
    let (defs, names) = stored(src);
    let entry = names[entry];
    let vm = run_vm(&defs, entry, limits);
    let rv = run_rv(&defs, entry, limits);
    let shown = |o: &Outcome| match &o.result {
        Ok(v) => format!("{v:?}"),
        Err(e) => class(e),
    };
    assert_eq!(shown(&rv), shown(&vm), "outcome of\n{src}");
    let n = vm.events.len();
    // The last event is the return or the error (compared above by class).
    assert_eq!(
        rv.events.len(),
        n,
        "events of\n{src}\nVM: {:#?}\nRISC-V: {:#?}",
        vm.events,
        rv.events
    );
    assert_eq!(rv.events[..n - 1], vm.events[..n - 1], "events of\n{src}");
    if vm.result.is_ok() {
        assert_eq!(rv.events[n - 1], vm.events[n - 1]);
    }
    assert_eq!(rv.clock, vm.clock, "clock of\n{src}");
    shown(&vm)
}
