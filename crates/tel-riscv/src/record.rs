//! Recording a RISC-V run with the VM's trace recorder (`tel_vm::trace::TraceWriter`): the
//! entry call, every interaction with the host, and the return or the error, hash-chained as
//! for a VM run. The machine asks its host what the VM would ask, in the same order, so a run
//! on either backend gives the same events (`tests/differential.rs` checks it). The trace
//! says it was recorded here ([`Backend::Riscv`]): fuel counts RISC-V instructions, so a run
//! stopped by its fuel replays only here ([`replay`]). The VM's snapshots of its own state
//! have no RISC-V counterpart.

use tel_vm::trace::{Backend, Event, RunMeta, Trace, TraceWriter};
use tel_vm::{Host, Program, ReplayReport, RuntimeError, Value};

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
    let meta = RunMeta { backend: Backend::Riscv, ..meta.clone() };
    let mut writer = TraceWriter::start(meta, host);
    let outcome = machine.run_to_end(module, writer.host());
    let trace = writer.finish(&outcome);
    let events = trace.events().to_vec();
    Ok(Recording { trace, events, machine, outcome })
}

/// Replays a RISC-V run's `trace` on `module` (the code compiled from the trace's entry;
/// `program` is the VM's view of the same code, which names values and effects): the host's
/// answers come from the trace, and every effect and the outcome must be the recorded ones.
pub fn replay(module: &Module, trace: &Trace, program: &Program) -> ReplayReport {
    let meta = trace.meta();
    tel_vm::replay_with(trace, program, |host| {
        match Machine::new(module, &meta.args, meta.limits, meta.clock_start) {
            Ok(mut machine) => machine.run_to_end(module, host),
            // `record` refuses such a start before the trace exists: no trace has one.
            Err(e) => Err(RuntimeError::Trap { message: e.to_string(), at: Default::default() }),
        }
    })
}
