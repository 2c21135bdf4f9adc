//! The TEL virtual machine: core IR loaded by hash, compiled to bytecode, and run by an
//! interpreter whose entire state is serializable data. docs/vm.md describes the design.

pub mod host;
pub mod hostfile;
pub mod json;
pub mod memo;
pub mod program;
pub mod replay;
pub mod resources;
pub mod sandbox;
pub mod show;
pub mod trace;
pub mod travel;
pub mod value;
pub mod vm;

pub use host::{Host, HostError, TestHost};
pub use hostfile::{Feed, HostFile, HostFileError, StandardHost};
pub use memo::{Memo, MemoCache, MemoEntry, MemoKey, MemoStats};
pub use program::{Code, HostEffect, LoadError, Op, Program, StoredDef};
pub use replay::{Divergence, ReplayHost, ReplayReport, replay, replay_with};
pub use resources::Resource;
pub use sandbox::{Sandboxed, SecuritySandbox};
pub use trace::{Event, ExportedRun, Recording, RunMeta, Trace, TraceError, record};
pub use value::Value;
pub use vm::{CallStack, Limits, Location, RuntimeError, Status, Usage, Vm};

// A paused machine may be handed to another thread (a debugger, a run with a wall-clock
// watchdog): keep its state `Send`.
const _: () = {
    const fn send<T: Send>() {}
    send::<Vm>();
    send::<Program>();
};
