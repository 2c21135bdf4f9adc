//! Running a definition: the one pipeline behind `tel run`, the language server's Run lens
//! and the debug adapter's launch.
//!
//! [`code`] gathers what a run needs (the entry point and every definition it may reach, from
//! the sources or from the codebase) and refuses what cannot run; [`execute`] runs it in the
//! sandbox the settings describe while recording its trace, and keeps the trace and the memo
//! cache in the codebase; [`report`] turns the outcome into the texts and JSON the front
//! ends show (values, effects, usage, TEL stack traces with source positions). A run goes
//! on the VM or, compiled by [`riscv`], on the RISC-V emulator, with the same host, sandbox,
//! limits, trace and report.

pub mod code;
pub mod execute;
pub mod report;
pub mod riscv;

pub use code::{Code, Stop, codebase_for};
pub use execute::{Backend, Finished, MemoReport, RunSettings, execute, run_id, run_meta};
