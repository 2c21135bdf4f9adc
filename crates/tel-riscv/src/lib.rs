//! TEL core IR compiled to RV32IM machine code, run on rv-emu.
//!
//! ```text
//! defs (by hash) ──compile──▶ FnObject per definition (cached by hash) ──link──▶ Module
//! Module + args ──Machine::new──▶ Machine ──run(host)──▶ Value | tel_vm::RuntimeError
//! ```
//!
//! The subset: functions over `Int`, `Bool` and `()`: literals, locals, `let`, `;`, `if`,
//! `match` on literals (with bindings and guards), direct and recursive calls (tail calls
//! reuse the frame, as the VM's do), arithmetic that traps where the VM's does, comparisons,
//! `&&`/`||`/`!`, and `perform` of host effects with `Int`/`Bool`/`()` arguments or string
//! literals. Anything else is refused with the construct and its expression id.
//! docs/riscv.md documents the ABI, the memory layout and the limits.

pub mod abi;
pub mod asm;
pub mod compile;
mod helpers;
pub mod module;
pub mod object;
pub mod record;
pub mod runtime;

pub use abi::Kind;
pub use compile::{CompileError, FnObject, Trap};
pub use module::{Compiler, FnInfo, Module, compile};
pub use object::{CODEGEN, ObjectError};
pub use record::{Recording, record, replay};
pub use runtime::{Machine, StartError, Status};

// The integration tests' helpers, for the unit tests of the byte form (object.rs): they name
// this crate `tel_riscv`.
#[cfg(test)]
extern crate self as tel_riscv;
#[cfg(test)]
#[allow(dead_code)]
#[path = "../tests/generate/mod.rs"]
mod test_generate;
#[cfg(test)]
#[path = "../tests/support/mod.rs"]
mod test_support;
