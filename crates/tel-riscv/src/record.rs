//! Recording a RISC-V run's events in the VM's format: the entry call, every interaction
//! with the host, and the return or the error. The recorder asks nothing the VM's would not
//! and writes what the VM's writes, so a run on either backend gives the same event list
//! (`tests/differential.rs` checks it). The VM's snapshots of its own state have no RISC-V
//! counterpart here.

use tel_hash::CodeHash;
use tel_vm::trace::{Event, RunMeta};
use tel_vm::{Host, HostEffect, HostError, RuntimeError, Value};

use crate::module::Module;
use crate::runtime::{Machine, StartError};

/// Passes every question to the host and writes down the answers, as `tel_vm::trace` does:
/// an effect whose cost was answered is pending until it is performed (one
/// `EffectApplied`), or until anything else happens (an `EffectNotPerformed`, as for `Now`,
/// which the machine answers from its clock).
pub struct Recorder<'h> {
    inner: &'h mut dyn Host,
    pub events: Vec<Event>,
    pending: Option<(HostEffect, Vec<Value>, i64)>,
}

impl<'h> Recorder<'h> {
    pub fn new(inner: &'h mut dyn Host) -> Recorder<'h> {
        Recorder { inner, events: Vec::new(), pending: None }
    }

    /// Writes down a pending effect as not performed.
    pub fn flush(&mut self) {
        if let Some((effect, args, cost)) = self.pending.take() {
            self.events.push(Event::EffectNotPerformed { effect, args, cost: Ok(cost) });
        }
    }
}

impl Host for Recorder<'_> {
    fn cost(&mut self, effect: HostEffect, args: &[Value]) -> Result<i64, HostError> {
        self.flush();
        let answer = self.inner.cost(effect, args);
        match &answer {
            Ok(c) => self.pending = Some((effect, args.to_vec(), *c)),
            Err(e) => self.events.push(Event::EffectNotPerformed {
                effect,
                args: args.to_vec(),
                cost: Err(e.0.clone()),
            }),
        }
        answer
    }

    fn perform(
        &mut self,
        effect: HostEffect,
        args: &[Value],
        now: i64,
    ) -> Result<Value, HostError> {
        let answer = self.inner.perform(effect, args, now);
        let result = answer.clone().map_err(|e| e.0);
        match self.pending.take() {
            Some((e, args, c)) if e == effect => {
                self.events.push(Event::EffectApplied { effect, args, cost: Some(c), now, result });
            }
            other => {
                self.pending = other;
                self.flush();
                self.events.push(Event::EffectApplied {
                    effect,
                    args: args.to_vec(),
                    cost: None,
                    now,
                    result,
                });
            }
        }
        answer
    }

    fn observes_calls(&self) -> bool {
        self.inner.observes_calls()
    }

    fn on_call(&mut self, def: &CodeHash, args: &[Value]) -> Option<Value> {
        self.inner.on_call(def, args)
    }

    fn on_return(&mut self, def: &CodeHash, result: &Value) {
        self.inner.on_return(def, result)
    }
}

/// A finished recorded run.
pub struct Recording {
    pub events: Vec<Event>,
    pub machine: Machine,
    pub outcome: Result<Value, RuntimeError>,
}

/// Runs `module` as `meta` describes (its arguments, limits, clock start), with `host`
/// answering its effects (wrap it in the sandbox first), and records its events.
pub fn record(
    module: &Module,
    meta: &RunMeta,
    host: &mut dyn Host,
) -> Result<Recording, StartError> {
    let mut machine = Machine::new(module, &meta.args, meta.limits, meta.clock_start)?;
    let mut rec = Recorder::new(host);
    rec.events.push(Event::FunctionCall {
        hash: meta.entry,
        name: meta.entry_name.clone(),
        args: meta.args.clone(),
    });
    let outcome = machine.run_to_end(module, &mut rec);
    rec.flush();
    rec.events.push(match &outcome {
        Ok(v) => Event::FunctionReturn { hash: meta.entry, result: v.clone() },
        Err(e) => Event::Error { error: e.clone() },
    });
    Ok(Recording { events: rec.events, machine, outcome })
}
