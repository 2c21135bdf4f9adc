//! A small machine for the tests: code at 0x1000, data at 0x20000, a stack below 0x40000 with
//! a guard page under it.
#![allow(dead_code)]

use rv_emu::{Cpu, Insn, Memory, Perm, Reg, Segment};

pub const CODE: u32 = 0x1000;
pub const DATA: u32 = 0x2_0000;
pub const DATA_SIZE: u32 = 0x1000;
pub const GUARD: u32 = 0x3_0000;
pub const STACK: u32 = 0x3_1000;
pub const STACK_TOP: u32 = 0x4_0000;

pub fn bytes(program: &[Insn]) -> Vec<u8> {
    program.iter().flat_map(|i| i.encode().expect("encodable").to_le_bytes()).collect()
}

pub fn segments(code: Vec<u8>, data: Vec<u8>) -> Vec<(Segment, Vec<u8>)> {
    let seg = |name: &str, base, size, perm, guard| Segment {
        name: name.into(),
        base,
        size,
        perm,
        guard,
    };
    vec![
        (seg("code", CODE, 0x1_0000, Perm::RX, false), code),
        (seg("data", DATA, DATA_SIZE, Perm::RW, false), data),
        (seg("stack guard", GUARD, 0x1000, Perm::NONE, true), Vec::new()),
        (seg("stack", STACK, STACK_TOP - STACK, Perm::RW, false), Vec::new()),
    ]
}

/// `program` loaded at `CODE`, pc there, sp at the top of the stack.
pub fn machine(program: &[Insn]) -> Cpu {
    machine_with_data(program, Vec::new())
}

pub fn machine_with_data(program: &[Insn], data: Vec<u8>) -> Cpu {
    let mem = Memory::new(segments(bytes(program), data)).expect("a valid layout");
    let mut cpu = Cpu::new(mem, CODE);
    cpu.set_reg(Reg::SP, STACK_TOP);
    cpu
}
