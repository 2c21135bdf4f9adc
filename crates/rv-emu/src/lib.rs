//! An RV32IM emulator with a memory bus, fuel, snapshots and an undo log.
//!
//! ```
//! use rv_emu::{AluImm, Cpu, Insn, Memory, Perm, Reg, Segment, Stop};
//!
//! let program = [Insn::AluImm { op: AluImm::Addi, rd: Reg::A0, rs1: Reg::ZERO, imm: 42 }, Insn::Ecall];
//! let bytes: Vec<u8> = program.iter().flat_map(|i| i.encode().unwrap().to_le_bytes()).collect();
//! let code = Segment { name: "code".into(), base: 0x1000, size: 0x1000, perm: Perm::RX, guard: false };
//! let mut cpu = Cpu::new(Memory::new(vec![(code, bytes)]).unwrap(), 0x1000);
//! assert_eq!(cpu.run(100), Stop::Ecall);
//! assert_eq!(cpu.reg(Reg::A0), 42);
//! assert_eq!(cpu.pc(), 0x1004); // still at the ecall: the host reads a7, a0… then advances
//! ```
//!
//! docs/riscv.md describes the design and the figures.

pub mod cpu;
mod fuse;
pub mod isa;
pub mod memory;

#[doc(hidden)]
pub use fuse::templates as fused_shape_templates;

pub use cpu::{Cpu, NoHistory, Snapshot, Stop, VmState};
pub use isa::{Alu, AluImm, Cond, EncodeError, Insn, LoadKind, Reg, StoreKind};
pub use memory::{
    Access, Bus, Fault, FaultKind, LayoutError, Memory, MemorySnapshot, PAGE_SIZE, Perm, Segment,
    Width,
};
