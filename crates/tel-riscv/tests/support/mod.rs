//! TEL source to definitions (as `tel store add` produces them), and one program run on both
//! backends with the same host, limits and clock: the VM through `tel_vm::trace::record`,
//! RISC-V through `tel_riscv::record`.
#![allow(dead_code)]

use std::collections::HashMap;

use tel_hash::CodeHash;
use tel_vm::trace::{Event, RunMeta};
use tel_vm::{Limits, Program, RuntimeError, StoredDef, TestHost, Value};

/// Every definition of `src` and the prelude, by hash; and the hash of each definition by name.
pub fn stored(src: &str) -> (HashMap<CodeHash, StoredDef>, HashMap<String, CodeHash>) {
    stored_file("test.tel", src)
}

/// [`stored`] for a file named `file` (its module is named after it).
pub fn stored_file(
    file: &str,
    src: &str,
) -> (HashMap<CodeHash, StoredDef>, HashMap<String, CodeHash>) {
    let project = tel_hir::project::Project::new([(file.to_string(), src.to_string())]);
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

fn meta(
    defs: &HashMap<CodeHash, StoredDef>,
    entry: CodeHash,
    args: Vec<Value>,
    limits: Limits,
) -> RunMeta {
    let program = Program::load(defs, entry).expect("the VM loads it");
    let mut meta = RunMeta::new(&program);
    meta.args = args;
    meta.limits = limits;
    meta.clock_start = 1000;
    meta
}

pub fn run_vm(
    defs: &HashMap<CodeHash, StoredDef>,
    entry: CodeHash,
    args: Vec<Value>,
    limits: Limits,
) -> Outcome {
    let program = Program::load(defs, entry).expect("the VM loads it");
    let meta = meta(defs, entry, args, limits);
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

pub fn run_rv(
    defs: &HashMap<CodeHash, StoredDef>,
    entry: CodeHash,
    args: Vec<Value>,
    limits: Limits,
) -> Outcome {
    let module = tel_riscv::compile(defs, entry).unwrap_or_else(|e| panic!("compiles: {e}"));
    let meta = meta(defs, entry, args, limits);
    let mut host = host();
    let rec = tel_riscv::record(&module, &meta, &mut host).expect("starts");
    // Every recorded run replays on its backend, whatever its end (fuel included).
    let program = Program::load(defs, entry).expect("the VM loads it");
    let replayed = tel_riscv::replay(&module, &rec.trace, &program);
    assert!(replayed.identical(), "{replayed}");
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

/// How a compared run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Value(String),
    Error(String),
    /// One side spent its fuel: not compared.
    FuelOut,
}

impl Verdict {
    pub fn kind(&self) -> &'static str {
        match self {
            Verdict::Value(_) => "value",
            Verdict::FuelOut => "fuel",
            Verdict::Error(e) if e.starts_with("call depth") => "call depth",
            Verdict::Error(e) if e.starts_with("host effect") => "host",
            Verdict::Error(_) => "trap",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Value(v) => f.write_str(v),
            // The place is in the assertion; the report keeps the message.
            Verdict::Error(e) => f.write_str(e.split(" at [").next().unwrap_or(e)),
            Verdict::FuelOut => f.write_str("(out of fuel: not compared)"),
        }
    }
}

/// RISC-V spends several instructions per VM operation: its fuel is this many times the
/// VM's, so a run that ends on the VM ends on RISC-V too.
pub const FUEL_RATIO: u64 = 25;

/// Runs `entry` with `args` on both backends and checks they agree: the value or the
/// error's class, every host interaction, the clock. `what` names the program in failures.
pub fn compare(
    defs: &HashMap<CodeHash, StoredDef>,
    entry: CodeHash,
    args: Vec<Value>,
    what: &str,
) -> Verdict {
    let vm_limits = Limits { fuel: 2_000_000, ..limits() };
    let rv_limits = Limits { fuel: vm_limits.fuel * FUEL_RATIO, ..vm_limits };
    let vm = run_vm(defs, entry, args.clone(), vm_limits);
    let rv = run_rv(defs, entry, args, rv_limits);
    let fuel = |o: &Outcome| {
        matches!(
            &o.result,
            Err(RuntimeError::ResourceExhausted { resource: tel_vm::Resource::Fuel, .. })
        )
    };
    if fuel(&vm) || fuel(&rv) {
        return Verdict::FuelOut;
    }
    let shown = |o: &Outcome| match &o.result {
        Ok(v) => Verdict::Value(format!("{v:?}")),
        Err(e) => Verdict::Error(class(e)),
    };
    assert_eq!(shown(&rv), shown(&vm), "outcome of {what}");
    let n = vm.events.len();
    // The last event is the return or the error (compared above by class).
    assert_eq!(
        rv.events.len(),
        n,
        "events of {what}\nVM: {:#?}\nRISC-V: {:#?}",
        vm.events,
        rv.events
    );
    assert_eq!(rv.events[..n - 1], vm.events[..n - 1], "events of {what}");
    if vm.result.is_ok() {
        assert_eq!(rv.events[n - 1], vm.events[n - 1], "the return of {what}");
    }
    assert_eq!(rv.clock, vm.clock, "clock of {what}");
    shown(&vm)
}

/// [`compare`] on `main` of `src`, shown.
pub fn same(src: &str) -> String {
    let (defs, names) = stored(src);
    match compare(&defs, names["main"], Vec::new(), src) {
        Verdict::Value(v) | Verdict::Error(v) => v,
        Verdict::FuelOut => panic!("out of fuel:\n{src}"),
    }
}
