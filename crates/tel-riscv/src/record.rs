//! Recording a RISC-V run with the VM's trace recorder (`tel_vm::trace::TraceWriter`): the
//! entry call, every interaction with the host, and the return or the error, hash-chained as
//! for a VM run. The machine asks its host what the VM would ask, in the same order, so a run
//! on either backend gives the same events (`tests/differential.rs` checks it) and a RISC-V
//! trace replays on the VM. The VM's snapshots of its own state have no RISC-V counterpart.

use tel_vm::trace::{Event, RunMeta, Trace, TraceWriter};
use tel_vm::{Host, RuntimeError, Value};

use crate::module::Module;
use crate::runtime::{Machine, StartError};

/// A finished recorded run.
pub struct Recording {
    pub trace: Trace,
    /// The trace's events.
    pub events: Vec<Event>,
    /// The machine at the end (its clock and usage are the run's).
    pub machine: Machine,
    pub outcome: Result<Value, RuntimeError>,
}

/// Runs `module` as `meta` describes (its arguments, limits, clock start), with `host`
/// answering its effects (wrap it in the sandbox first), and records its trace.
pub fn record(
    module: &Module,
    meta: &RunMeta,
    host: &mut dyn Host,
) -> Result<Recording, StartError> {
    let mut machine = Machine::new(module, &meta.args, meta.limits, meta.clock_start)?;
    let mut writer = TraceWriter::start(meta.clone(), host);
    let outcome = machine.run_to_end(module, &mut writer);
    let trace = writer.finish(&outcome);
    let events = trace.events().to_vec();
    Ok(Recording { trace, events, machine, outcome })
}
