//! Random RV32IM instruction streams run in lock-step on rv-emu and on rvsim (the oracle):
//! after every instruction all registers and pc agree, at the end so does the data segment.
//! On the same streams: stepping back with the undo log retraces every state exactly, and a
//! snapshot restores one.

mod support;

use proptest::prelude::*;
use rv_emu::{Alu, AluImm, Bus, Cond, Cpu, Insn, LoadKind, Reg, Stop, StoreKind, Width};
use support::*;

/// x30 holds the code base and x31 the middle of the data segment (offsets reach ±2 KiB);
/// no generated instruction writes them.
const CODE_REG: Reg = Reg::T5;
const DATA_REG: Reg = Reg::T6;

fn rd() -> impl Strategy<Value = Reg> {
    (0u8..30).prop_map(|n| Reg::new(n).unwrap())
}

fn rs() -> impl Strategy<Value = Reg> {
    (0u8..32).prop_map(|n| Reg::new(n).unwrap())
}

/// One instruction at index `i` of a stream of `n` (branch targets stay inside it, forward).
fn insn(i: usize, n: usize) -> BoxedStrategy<Insn> {
    let ahead = move || (1..=(n - i) as i32).prop_map(|k| k * 4);
    let cond =
        prop::sample::select(vec![Cond::Eq, Cond::Ne, Cond::Lt, Cond::Ge, Cond::Ltu, Cond::Geu]);
    let alu_imm = prop::sample::select(vec![
        AluImm::Addi,
        AluImm::Slti,
        AluImm::Sltiu,
        AluImm::Xori,
        AluImm::Ori,
        AluImm::Andi,
    ]);
    let shift = prop::sample::select(vec![AluImm::Slli, AluImm::Srli, AluImm::Srai]);
    let load = prop::sample::select(vec![
        LoadKind::B,
        LoadKind::H,
        LoadKind::W,
        LoadKind::Bu,
        LoadKind::Hu,
    ]);
    let store = prop::sample::select(vec![StoreKind::B, StoreKind::H, StoreKind::W]);
    // Offsets inside the data segment, aligned to 4 (so any width is aligned) except now and
    // then, to meet the misaligned fault.
    let offset = prop_oneof![20 => (-512i32..512).prop_map(|k| k * 4), 1 => -2048i32..2044];
    prop_oneof![
        8 => (prop::sample::select(Alu::ALL.to_vec()), rd(), rs(), rs())
            .prop_map(|(op, rd, rs1, rs2)| Insn::Alu { op, rd, rs1, rs2 }),
        6 => (alu_imm, rd(), rs(), -2048i32..2048).prop_map(|(op, rd, rs1, imm)| Insn::AluImm { op, rd, rs1, imm }),
        2 => (shift, rd(), rs(), 0i32..32).prop_map(|(op, rd, rs1, imm)| Insn::AluImm { op, rd, rs1, imm }),
        1 => (rd(), 0u32..1 << 20).prop_map(|(rd, imm)| Insn::Lui { rd, imm }),
        1 => (rd(), 0u32..1 << 20).prop_map(|(rd, imm)| Insn::Auipc { rd, imm }),
        3 => (load, rd(), offset.clone()).prop_map(|(kind, rd, offset)| Insn::Load { kind, rd, rs1: DATA_REG, offset }),
        3 => (store, rs(), offset).prop_map(|(kind, rs2, offset)| Insn::Store { kind, rs1: DATA_REG, rs2, offset }),
        2 => (cond, rs(), rs(), ahead()).prop_map(|(cond, rs1, rs2, offset)| Insn::Branch { cond, rs1, rs2, offset }),
        1 => (rd(), ahead()).prop_map(|(rd, offset)| Insn::Jal { rd, offset }),
        1 => (rd(), ahead()).prop_map(move |(rd, k)| Insn::Jalr { rd, rs1: CODE_REG, offset: i as i32 * 4 + k }),
    ]
    .boxed()
}

fn stream() -> impl Strategy<Value = Vec<Insn>> {
    (1usize..48).prop_flat_map(|n| {
        let insns: Vec<_> = (0..n).map(|i| insn(i, n)).collect();
        insns.prop_map(|mut v| {
            v.push(Insn::Ebreak);
            v
        })
    })
}

fn start(program: &[Insn], regs: &[u32; 30], data: &[u8]) -> Cpu {
    let mut cpu = machine_with_data(program, data.to_vec());
    for (i, v) in regs.iter().enumerate().skip(1) {
        cpu.set_reg(Reg::new(i as u8).unwrap(), *v);
    }
    cpu.set_reg(CODE_REG, CODE);
    cpu.set_reg(DATA_REG, DATA + 2048);
    cpu
}

/// rvsim's memory: the same code and data segments, code read-only. rvsim leaves alignment
/// to the memory, so misaligned accesses are refused here as they are in rv-emu.
struct SimMem {
    code: Vec<u8>,
    data: Vec<u8>,
}

impl rvsim::Memory for SimMem {
    fn access<T: Copy>(&mut self, addr: u32, access: rvsim::MemoryAccess<T>) -> bool {
        if !(addr as usize).is_multiple_of(std::mem::size_of::<T>()) {
            return false;
        }
        let in_code = addr.wrapping_sub(CODE) < self.code.len() as u32;
        let in_data = addr.wrapping_sub(DATA) < DATA_SIZE;
        match access {
            rvsim::MemoryAccess::Exec(_) if in_code => {
                rvsim::Memory::access(&mut self.code[..], addr - CODE, access)
            }
            rvsim::MemoryAccess::Load(_) if in_code => {
                rvsim::Memory::access(&mut self.code[..], addr - CODE, access)
            }
            rvsim::MemoryAccess::Load(_) | rvsim::MemoryAccess::Store(_) if in_data => {
                rvsim::Memory::access(&mut self.data[..], addr - DATA, access)
            }
            _ => false,
        }
    }
}

fn data_of(cpu: &Cpu) -> Vec<u8> {
    (0..DATA_SIZE)
        .step_by(4)
        .flat_map(|a| cpu.bus().peek(DATA + a, Width::Word).unwrap().to_le_bytes())
        .collect()
}

fn initial_data() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), DATA_SIZE as usize)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn agrees_with_rvsim(program in stream(), regs in any::<[u32; 30]>(), data in initial_data()) {
        let mut cpu = start(&program, &regs, &data);
        let mut mem = SimMem { code: bytes(&program), data: data.clone() };
        let mut state = rvsim::CpuState::new(CODE);
        state.x = cpu.regs();
        let mut clock = rvsim::SimpleClock::new();
        let mut sim = rvsim::Interp::new(&mut state, &mut mem, &mut clock);
        for step in 0..program.len() * 2 {
            let ours = cpu.step();
            let theirs = sim.step();
            match (&ours, theirs) {
                (None, Ok(_)) => {
                    prop_assert_eq!(cpu.regs(), sim.state.x, "registers after step {}", step);
                    prop_assert_eq!(cpu.pc(), sim.state.pc, "pc after step {}", step);
                }
                (Some(Stop::Ebreak), Err((rvsim::CpuError::Ebreak, _))) => {
                    prop_assert_eq!(cpu.regs(), sim.state.x);
                    prop_assert_eq!(cpu.pc() + 4, sim.state.pc, "rvsim moves past the ebreak, we stay");
                    break;
                }
                // Both refuse the access or jump (rvsim moves pc past a faulting access).
                (Some(Stop::Fault(_)), Err((
                    rvsim::CpuError::IllegalAccess | rvsim::CpuError::MisalignedAccess | rvsim::CpuError::MisalignedFetch,
                    _,
                ))) => break,
                (ours, theirs) => prop_assert!(false, "step {}: rv-emu {:?}, rvsim {:?}", step, ours, theirs),
            }
        }
        prop_assert_eq!(data_of(&cpu), sim.mem.data.clone());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Forward with the undo log on, remembering every state; then back, one step at a time,
    /// through exactly those states.
    #[test]
    fn stepping_back_retraces_every_state(program in stream(), regs in any::<[u32; 30]>(), data in initial_data()) {
        let mut cpu = start(&program, &regs, &data);
        cpu.record_undo(Some(1 << 10));
        let mut states = vec![(cpu.regs(), cpu.pc(), data_of(&cpu), cpu.instret())];
        while cpu.step().is_none() {
            states.push((cpu.regs(), cpu.pc(), data_of(&cpu), cpu.instret()));
        }
        // An ebreak or a fault ends it; an ebreak is a step too.
        if matches!(cpu.state(), rv_emu::VmState::Paused) {
            states.push((cpu.regs(), cpu.pc(), data_of(&cpu), cpu.instret()));
        }
        prop_assert_eq!(cpu.undo_depth(), states.len() - 1);
        for want in states.iter().rev().skip(1) {
            cpu.step_back().unwrap();
            prop_assert_eq!(&(cpu.regs(), cpu.pc(), data_of(&cpu), cpu.instret()), want);
        }
        prop_assert_eq!(cpu.step_back(), Err(rv_emu::NoHistory::Empty));
    }

    #[test]
    fn a_snapshot_restores_its_moment(program in stream(), regs in any::<[u32; 30]>(), data in initial_data(), at in 0usize..48) {
        let mut cpu = start(&program, &regs, &data);
        cpu.run(at as u64);
        let snap = cpu.snapshot();
        let moment = (cpu.regs(), cpu.pc(), data_of(&cpu));
        let end_stop = cpu.run(1000);
        let end = (cpu.regs(), cpu.pc(), data_of(&cpu));
        cpu.restore(&snap);
        prop_assert_eq!((cpu.regs(), cpu.pc(), data_of(&cpu)), moment);
        prop_assert_eq!(cpu.run(1000), end_stop);
        prop_assert_eq!((cpu.regs(), cpu.pc(), data_of(&cpu)), end);
    }
}
