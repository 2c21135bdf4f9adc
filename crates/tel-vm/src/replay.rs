//! Replay: re-running a recorded run with the host's answers taken from its trace.
//!
//! [`ReplayHost`] answers every host question from the log and checks it against what was
//! recorded (the effect, its arguments and the virtual time); [`replay`] drives the machine
//! snapshot to snapshot, compares the machine with each recorded snapshot, then the outcome,
//! and reports either "replayed N events: identical" or the first event where the run went
//! another way.

use crate::host::{Host, HostError};
use crate::program::{HostEffect, Program};
use crate::trace::{Event, Trace, encode_vm};
use crate::value::Value;
use crate::vm::{RuntimeError, Status, Vm};
use std::fmt;
use tel_hash::CodeHash;

/// The first event where a replayed run differs from its trace.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Divergence {
    /// Index of the recorded event (in [`Trace::events`]) that the run did not reproduce.
    pub index: usize,
    /// That event, described (or "the end of the trace").
    pub expected: String,
    /// What the run did instead.
    pub found: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "diverged at event {}: expected {}, found {}",
            self.index, self.expected, self.found
        )
    }
}

impl std::error::Error for Divergence {}

/// The result of [`replay`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplayReport {
    /// Events in the trace.
    pub events: usize,
    /// Whether the program replayed is the one recorded (same entry hash). Another program
    /// can be replayed against a trace to see where it departs from it; its snapshots are not
    /// compared, since its machine states are not comparable.
    pub same_program: bool,
    /// `None` when the run was identical.
    pub divergence: Option<Divergence>,
}

impl ReplayReport {
    pub fn identical(&self) -> bool {
        self.divergence.is_none()
    }
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.divergence {
            None => write!(f, "replayed {} events: identical", self.events),
            Some(d) => write!(f, "replay {d}"),
        }
    }
}

/// A host that answers from a trace. Any question that differs from the recorded one (another
/// effect, other arguments, another virtual time, or one too many) is refused, which stops
/// the machine, and kept as the [`Divergence`].
pub struct ReplayHost<'t> {
    events: &'t [Event],
    program: &'t Program,
    /// The next recorded event to reproduce.
    pos: usize,
    /// The cost of `events[pos]` (an applied effect) has been answered.
    cost_answered: bool,
    divergence: Option<Divergence>,
    /// When regenerating every event: the events so far.
    out: Option<Vec<Event>>,
    /// Run freely past snapshots (nobody stops the machine at them to compare).
    past_snapshots: bool,
}

impl<'t> ReplayHost<'t> {
    /// A host that reproduces `trace` from event `position` on (0 for the start, the index
    /// after a snapshot to resume from that snapshot).
    pub fn new(trace: &'t Trace, program: &'t Program, position: usize) -> ReplayHost<'t> {
        ReplayHost {
            events: trace.events(),
            program,
            pos: position,
            cost_answered: false,
            divergence: None,
            out: None,
            past_snapshots: false,
        }
    }

    /// Skips the snapshots between the effects, for a machine run without stopping at
    /// them ([`resume_at`]); [`replay`] stops at each and compares instead.
    pub fn past_snapshots(mut self) -> Self {
        self.past_snapshots = true;
        self.skip_snapshots();
        self
    }

    fn skip_snapshots(&mut self) {
        if self.past_snapshots {
            while let Some(Event::Snapshot { .. }) = self.events.get(self.pos) {
                self.pos += 1;
            }
        }
    }

    /// The index of the next recorded event.
    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn divergence(&self) -> Option<&Divergence> {
        self.divergence.as_ref()
    }

    fn expected(&self, index: usize) -> String {
        self.events
            .get(index)
            .map_or_else(|| "the end of the trace".into(), |e| e.describe(self.program))
    }

    fn diverge(&mut self, found: String) -> HostError {
        if self.divergence.is_none() {
            self.divergence =
                Some(Divergence { index: self.pos, expected: self.expected(self.pos), found });
        }
        HostError("the run diverged from its trace".into())
    }

    fn asked(&self, effect: HostEffect, args: &[Value]) -> String {
        let args: Vec<String> = args
            .iter()
            .map(|v| match v {
                Value::String(s) => format!("{:?}", s.as_str()),
                v => crate::show::show(self.program, v),
            })
            .collect();
        format!("{}({})", effect.name(), args.join(", "))
    }

    fn consume(&mut self) {
        if let Some(out) = &mut self.out {
            out.push(self.events[self.pos].clone());
        }
        self.pos += 1;
        self.cost_answered = false;
        self.skip_snapshots();
    }
}

impl Host for ReplayHost<'_> {
    fn cost(&mut self, effect: HostEffect, args: &[Value]) -> Result<i64, HostError> {
        if self.divergence.is_some() {
            return Err(self.diverge(String::new()));
        }
        match self.events.get(self.pos) {
            Some(Event::EffectApplied { effect: e, args: a, cost: Some(c), .. })
                if !self.cost_answered && *e == effect && a.as_slice() == args =>
            {
                self.cost_answered = true;
                Ok(*c)
            }
            Some(Event::EffectNotPerformed { effect: e, args: a, cost })
                if *e == effect && a.as_slice() == args =>
            {
                let cost = cost.clone().map_err(HostError);
                self.consume();
                cost
            }
            _ => {
                let found = format!("{} asked of the host", self.asked(effect, args));
                Err(self.diverge(found))
            }
        }
    }

    fn perform(
        &mut self,
        effect: HostEffect,
        args: &[Value],
        now: i64,
    ) -> Result<Value, HostError> {
        if self.divergence.is_some() {
            return Err(self.diverge(String::new()));
        }
        match self.events.get(self.pos) {
            Some(Event::EffectApplied { effect: e, args: a, cost, now: n, result })
                if *e == effect
                    && a.as_slice() == args
                    && *n == now
                    && cost.is_some() == self.cost_answered =>
            {
                let result = result.clone().map_err(HostError);
                self.consume();
                result
            }
            _ => {
                let found = format!("{} performed at {now}ms", self.asked(effect, args));
                Err(self.diverge(found))
            }
        }
    }

    fn observes_calls(&self) -> bool {
        self.out.is_some()
    }

    fn on_call(&mut self, def: &CodeHash, args: &[Value]) -> Option<Value> {
        if let Some(out) = &mut self.out {
            let name = self.program.names.get(def).cloned();
            out.push(Event::FunctionCall { hash: *def, name, args: args.to_vec() });
        }
        None
    }

    fn on_return(&mut self, def: &CodeHash, result: &Value) {
        if let Some(out) = &mut self.out {
            out.push(Event::FunctionReturn { hash: *def, result: result.clone() });
        }
    }
}

/// Replays `trace` with `program` (normally the program it recorded; see
/// [`ReplayReport::same_program`]).
pub fn replay(trace: &Trace, program: &Program) -> ReplayReport {
    let (divergence, _) = drive(trace, program, false);
    ReplayReport {
        events: trace.events().len(),
        same_program: program.entry == trace.meta().entry,
        divergence,
    }
}

/// Every event of the recorded run, per-call events included (see [`Trace::events_full`]).
pub fn events_full(trace: &Trace, program: &Program) -> Result<Vec<Event>, Divergence> {
    match drive(trace, program, true) {
        (None, events) => Ok(events),
        (Some(d), _) => Err(d),
    }
}

/// The machine at snapshot `n` of `trace` and a host that continues the run from there: a
/// debugger's way to jump into the middle of a recorded run.
pub fn resume_at<'t>(
    trace: &'t Trace,
    program: &'t Program,
    n: usize,
) -> Option<Result<(Vm, ReplayHost<'t>), crate::trace::TraceError>> {
    Some(
        trace
            .snapshot(n)?
            .map(|(index, vm)| (vm, ReplayHost::new(trace, program, index + 1).past_snapshots())),
    )
}

/// Runs the program snapshot to snapshot with a [`ReplayHost`]; returns the first divergence
/// and, when `observe`, every event.
fn drive(trace: &Trace, program: &Program, observe: bool) -> (Option<Divergence>, Vec<Event>) {
    let events = trace.events();
    let meta = trace.meta();
    let compare_snapshots = program.entry == meta.entry && !meta.memo;
    let mut host = match replay_host(trace, program, observe) {
        Ok(host) => host,
        Err(d) => return (Some(d), Vec::new()),
    };
    let diverged = |index: usize, expected: String, found: String| {
        (Some(Divergence { index, expected, found }), Vec::new())
    };
    let mut vm = match meta.try_start(program) {
        Ok(vm) => vm,
        // Recorded as an error right after the call (`record` refuses the same way).
        Err(e) => {
            let e = RuntimeError::Trap { message: e.to_string(), at: Default::default() };
            return match events.get(1) {
                Some(Event::Error { error }) if *error == e && events.len() == 2 => {
                    (None, if observe { events.to_vec() } else { Vec::new() })
                }
                _ => diverged(1, host.expected(1), format!("error: {e}")),
            };
        }
    };
    let snapshots = events.iter().enumerate().filter_map(|(i, e)| match e {
        Event::Snapshot { steps, vm, .. } => Some((i, *steps, vm)),
        _ => None,
    });
    let show = |v: &Value| crate::show::show(program, v);
    for (index, steps, recorded) in snapshots {
        let status = vm.run(program, &mut host, steps);
        if let Some(d) = host.divergence.take() {
            return (Some(d), Vec::new());
        }
        let found = match status {
            Ok(Status::Running) if host.pos == index => None,
            Ok(Status::Running) => Some(format!(
                "no such effect before instruction {} (the next snapshot)",
                vm.usage.fuel
            )),
            Ok(Status::Done(v)) => Some(format!("the run returned {}", show(&v))),
            Err(e) => Some(format!("error: {e}")),
        };
        if let Some(found) = found {
            return diverged(host.pos, host.expected(host.pos), found);
        }
        if compare_snapshots && encode_vm(&mut vm) != *recorded {
            return diverged(
                index,
                host.expected(index),
                format!("another machine state at instruction {}", vm.usage.fuel),
            );
        }
        host.consume();
    }
    if let Some((first, fuel)) = trace.upgrade() {
        return drive_to_upgrade(&mut vm, &mut host, (first, fuel));
    }
    let outcome = vm.run_to_end(program, &mut host);
    finish(host, &outcome)
}

/// A host replaying `trace` from its first event, which must be the entry's call.
fn replay_host<'t>(
    trace: &'t Trace,
    program: &'t Program,
    observe: bool,
) -> Result<ReplayHost<'t>, Divergence> {
    let mut host = ReplayHost::new(trace, program, 1);
    match trace.events().first() {
        Some(Event::FunctionCall { hash, .. }) if *hash == trace.meta().entry => {}
        _ => {
            return Err(Divergence {
                index: 0,
                expected: host.expected(0),
                found: "a trace that does not start with its entry call".into(),
            });
        }
    }
    if observe {
        host.out = Some(vec![trace.events()[0].clone()]);
    }
    Ok(host)
}

/// The end of a replay: the run's outcome must be the trace's last event.
fn finish(
    mut host: ReplayHost<'_>,
    outcome: &Result<Value, RuntimeError>,
) -> (Option<Divergence>, Vec<Event>) {
    if let Some(d) = host.divergence.take() {
        return (Some(d), Vec::new());
    }
    let last = host.pos + 1 == host.events.len();
    let same = match (host.events.get(host.pos), outcome) {
        (Some(Event::FunctionReturn { result, .. }), Ok(v)) => last && same_value(result, v),
        (Some(Event::Error { error }), Err(e)) => last && error == e,
        _ => false,
    };
    if !same {
        let found = match outcome {
            Ok(v) => format!("the run returned {}", crate::show::show(host.program, v)),
            Err(e) => format!("error: {e}"),
        };
        let index = host.pos;
        return (Some(Divergence { index, expected: host.expected(index), found }), Vec::new());
    }
    host.consume();
    (None, host.out.unwrap_or_default())
}

/// Replays `trace` on another machine than the VM: `run` runs the recorded code to its end
/// with the host it is given (the RISC-V backend's, `tel_riscv::replay`). Such a trace has
/// no snapshots; its effects and its outcome are compared.
pub fn replay_with(
    trace: &Trace,
    program: &Program,
    run: impl FnOnce(&mut ReplayHost<'_>) -> Result<Value, RuntimeError>,
) -> ReplayReport {
    let divergence = match replay_host(trace, program, false) {
        Ok(mut host) => {
            let outcome = run(&mut host);
            finish(host, &outcome).0
        }
        Err(d) => Some(d),
    };
    ReplayReport {
        events: trace.events().len(),
        same_program: program.entry == trace.meta().entry,
        divergence,
    }
}

/// The end of [`drive`] for a run stopped to be upgraded ([`Trace::upgrade`]): runs to the
/// instruction it stopped after, where every recorded event before the upgrade must have
/// been reproduced (and the outcome too, when the run had ended there).
fn drive_to_upgrade(
    vm: &mut Vm,
    host: &mut ReplayHost<'_>,
    (first, fuel): (usize, u64),
) -> (Option<Divergence>, Vec<Event>) {
    let program = host.program;
    let status = match fuel.checked_sub(vm.usage.fuel) {
        Some(0) => Ok(Status::Running),
        Some(steps) => vm.run(program, host, steps),
        None => Ok(Status::Running),
    };
    if let Some(d) = host.divergence.take() {
        return (Some(d), Vec::new());
    }
    let show = |v: &Value| crate::show::show(program, v);
    let found = match &status {
        _ if vm.usage.fuel != fuel => Some(format!(
            "the run ended at instruction {} before the upgrade's {fuel}",
            vm.usage.fuel
        )),
        Ok(Status::Running) if host.pos == first => None,
        Ok(Status::Running) => Some(format!("no such effect before instruction {fuel}")),
        Ok(Status::Done(v)) => match host.events.get(host.pos) {
            Some(Event::FunctionReturn { result, .. })
                if host.pos + 1 == first && same_value(result, v) =>
            {
                host.consume();
                None
            }
            _ => Some(format!("the run returned {}", show(v))),
        },
        Err(e) => match host.events.get(host.pos) {
            Some(Event::Error { error }) if host.pos + 1 == first && error == e => {
                host.consume();
                None
            }
            _ => Some(format!("error: {e}")),
        },
    };
    if let Some(found) = found {
        let index = host.pos;
        return (Some(Divergence { index, expected: host.expected(index), found }), Vec::new());
    }
    while host.pos < host.events.len() {
        host.consume();
    }
    (None, host.out.take().unwrap_or_default())
}

/// Exact sameness, record type names included (`==` ignores them: language.md §3).
fn same_value(a: &Value, b: &Value) -> bool {
    a == b && postcard::to_allocvec(a).ok() == postcard::to_allocvec(b).ok()
}
