//! Instruction by instruction: each operation's result, including the edge cases the
//! specification fixes (division by zero, overflow, shift amounts, sign extension), and the
//! machine around them: fuel, ecall, breakpoints, faults, snapshots.

mod support;

use expect_test::expect;
use rv_emu::{Alu, AluImm, Bus, Cond, Insn, LoadKind, Reg, Stop, StoreKind, VmState, Width};
use support::*;

fn li(rd: Reg, v: i32) -> Vec<Insn> {
    let lo = (v << 20) >> 20;
    let hi = ((v.wrapping_sub(lo)) as u32) >> 12;
    vec![Insn::Lui { rd, imm: hi }, Insn::AluImm { op: AluImm::Addi, rd, rs1: rd, imm: lo }]
}

fn addi(rd: Reg, rs1: Reg, imm: i32) -> Insn {
    Insn::AluImm { op: AluImm::Addi, rd, rs1, imm }
}

/// Runs `program` followed by an ecall; the value of a0 at the ecall.
fn result(program: Vec<Insn>) -> u32 {
    let mut p = program;
    p.push(Insn::Ecall);
    let mut cpu = machine(&p);
    assert_eq!(cpu.run(1000), Stop::Ecall);
    cpu.reg(Reg::A0)
}

#[test]
fn register_register_operations() {
    let cases: &[(Alu, u32, u32, u32)] = &[
        (Alu::Add, 0xffff_ffff, 1, 0),
        (Alu::Sub, 0, 1, 0xffff_ffff),
        (Alu::Sll, 1, 35, 8), // only the low 5 bits of the amount count
        (Alu::Slt, 0xffff_ffff, 0, 1),
        (Alu::Sltu, 0xffff_ffff, 0, 0),
        (Alu::Xor, 0b1100, 0b1010, 0b0110),
        (Alu::Srl, 0x8000_0000, 31, 1),
        (Alu::Sra, 0x8000_0000, 31, 0xffff_ffff),
        (Alu::Or, 0b1100, 0b1010, 0b1110),
        (Alu::And, 0b1100, 0b1010, 0b1000),
        (Alu::Mul, 0x1_0001, 0x1_0001, 0x0002_0001),
        (Alu::Mulh, 0xffff_ffff, 0xffff_ffff, 0),
        (Alu::Mulh, 0x8000_0000, 0x8000_0000, 0x4000_0000),
        (Alu::Mulhsu, 0xffff_ffff, 0xffff_ffff, 0xffff_ffff),
        (Alu::Mulhu, 0xffff_ffff, 0xffff_ffff, 0xffff_fffe),
        (Alu::Div, 7u32.wrapping_neg(), 2, 3u32.wrapping_neg()),
        (Alu::Div, 1, 0, 0xffff_ffff),
        (Alu::Div, 0x8000_0000, 0xffff_ffff, 0x8000_0000),
        (Alu::Divu, 7, 0, 0xffff_ffff),
        (Alu::Rem, 7u32.wrapping_neg(), 2, 1u32.wrapping_neg()),
        (Alu::Rem, 7, 0, 7),
        (Alu::Rem, 0x8000_0000, 0xffff_ffff, 0),
        (Alu::Remu, 7, 0, 7),
    ];
    for &(op, a, b, want) in cases {
        let mut p = li(Reg::A1, a as i32);
        p.extend(li(Reg::A2, b as i32));
        p.push(Insn::Alu { op, rd: Reg::A0, rs1: Reg::A1, rs2: Reg::A2 });
        assert_eq!(result(p), want, "{op:?} {a:#x} {b:#x}");
    }
}

#[test]
fn register_immediate_operations() {
    let cases: &[(AluImm, u32, i32, u32)] = &[
        (AluImm::Addi, 5, -6, 0xffff_ffff),
        (AluImm::Slti, 0xffff_fffe, -1, 1),
        // sltiu compares with the sign-extended immediate as unsigned: -1 is the largest.
        (AluImm::Sltiu, 5, -1, 1),
        (AluImm::Sltiu, 0, 1, 1),
        (AluImm::Xori, 0xff, -1, 0xffff_ff00),
        (AluImm::Ori, 0xf0, 0x0f, 0xff),
        (AluImm::Andi, 0xffff_ffff, -16, 0xffff_fff0),
        (AluImm::Slli, 3, 31, 0x8000_0000),
        (AluImm::Srli, 0x8000_0000, 4, 0x0800_0000),
        (AluImm::Srai, 0x8000_0000, 4, 0xf800_0000),
    ];
    for &(op, a, imm, want) in cases {
        let mut p = li(Reg::A1, a as i32);
        p.push(Insn::AluImm { op, rd: Reg::A0, rs1: Reg::A1, imm });
        assert_eq!(result(p), want, "{op:?} {a:#x} {imm}");
    }
}

#[test]
fn upper_immediates_and_x0() {
    assert_eq!(result(vec![Insn::Lui { rd: Reg::A0, imm: 0xabcde }]), 0xabcd_e000);
    // auipc at 0x1000 + 0x1000 * 2
    assert_eq!(result(vec![Insn::Auipc { rd: Reg::A0, imm: 2 }]), 0x3000);
    // Writes to x0 are dropped, and x0 still reads 0.
    assert_eq!(result(vec![addi(Reg::ZERO, Reg::ZERO, 5), addi(Reg::A0, Reg::ZERO, 0)]), 0);
    assert_eq!(result(li(Reg::A0, -123_456_789)), (-123_456_789i32) as u32);
}

#[test]
fn loads_extend_and_stores_write_their_width() {
    let data = vec![0x80, 0xff, 0x34, 0x12, 0, 0, 0, 0];
    let load = |kind, offset| {
        let mut p = li(Reg::A1, DATA as i32);
        p.push(Insn::Load { kind, rd: Reg::A0, rs1: Reg::A1, offset });
        p.push(Insn::Ecall);
        let mut cpu = machine_with_data(&p, data.clone());
        assert_eq!(cpu.run(100), Stop::Ecall);
        cpu.reg(Reg::A0)
    };
    assert_eq!(load(LoadKind::B, 0), 0xffff_ff80);
    assert_eq!(load(LoadKind::Bu, 0), 0x80);
    assert_eq!(load(LoadKind::H, 0), 0xffff_ff80);
    assert_eq!(load(LoadKind::Hu, 0), 0xff80);
    assert_eq!(load(LoadKind::W, 0), 0x1234_ff80);
    assert_eq!(load(LoadKind::H, 2), 0x1234);

    let mut p = li(Reg::A1, DATA as i32);
    p.extend(li(Reg::A2, 0x1122_3344));
    p.push(Insn::Store { kind: StoreKind::W, rs1: Reg::A1, rs2: Reg::A2, offset: 4 });
    p.push(Insn::Store { kind: StoreKind::H, rs1: Reg::A1, rs2: Reg::A2, offset: 0 });
    p.push(Insn::Store { kind: StoreKind::B, rs1: Reg::A1, rs2: Reg::A2, offset: 3 });
    p.push(Insn::Ecall);
    let mut cpu = machine_with_data(&p, data);
    assert_eq!(cpu.run(100), Stop::Ecall);
    assert_eq!(cpu.bus().peek(DATA, Width::Word), Some(0x4434_3344));
    assert_eq!(cpu.bus().peek(DATA + 4, Width::Word), Some(0x1122_3344));
}

#[test]
fn branches_and_jumps() {
    let conds = [
        (Cond::Eq, 5, 5, true),
        (Cond::Ne, 5, 5, false),
        (Cond::Lt, -1, 0, true),
        (Cond::Ltu, -1, 0, false),
        (Cond::Ge, 0, -1, true),
        (Cond::Geu, 0, -1, false),
    ];
    for (cond, a, b, taken) in conds {
        let mut p = li(Reg::A1, a);
        p.extend(li(Reg::A2, b));
        p.push(addi(Reg::A0, Reg::ZERO, 1));
        // taken: skip the next instruction
        p.push(Insn::Branch { cond, rs1: Reg::A1, rs2: Reg::A2, offset: 8 });
        p.push(addi(Reg::A0, Reg::ZERO, 2));
        assert_eq!(result(p) == 1, taken, "{cond:?} {a} {b}");
    }
    // jal links the next address; jalr jumps to rs1 + offset with bit 0 cleared.
    let p = vec![
        Insn::Jal { rd: Reg::RA, offset: 8 },                // 0x1000
        Insn::Ebreak,                                        // 0x1004 (skipped)
        addi(Reg::T0, Reg::RA, 9),                           // 0x1008: t0 = 0x1004 + 9 = 0x100d
        Insn::Jalr { rd: Reg::A1, rs1: Reg::T0, offset: 3 }, // 0x100c: to 0x1010
        Insn::Alu { op: Alu::Add, rd: Reg::A0, rs1: Reg::A1, rs2: Reg::ZERO }, // 0x1010
    ];
    assert_eq!(result(p), 0x1010);
}

#[test]
fn fuel_counts_instructions_and_ecall_leaves_pc_at_it() {
    let p = vec![
        addi(Reg::A0, Reg::A0, 1),
        addi(Reg::A0, Reg::A0, 1),
        Insn::Ecall,
        addi(Reg::A0, Reg::A0, 10),
        Insn::Ebreak,
    ];
    let mut cpu = machine(&p);
    assert_eq!(cpu.state(), &VmState::Ready);
    assert_eq!(cpu.run(1), Stop::OutOfFuel);
    assert_eq!((cpu.reg(Reg::A0), cpu.instret(), cpu.state()), (1, 1, &VmState::Paused));
    assert_eq!(cpu.run(0), Stop::OutOfFuel);
    assert_eq!(cpu.instret(), 1);
    assert_eq!(cpu.run(10), Stop::Ecall);
    assert_eq!((cpu.pc(), cpu.instret()), (CODE + 8, 3));
    // Running again without advancing runs the ecall again.
    assert_eq!(cpu.run(10), Stop::Ecall);
    cpu.advance();
    assert_eq!(cpu.run(10), Stop::Ebreak);
    assert_eq!((cpu.pc(), cpu.reg(Reg::A0), cpu.instret()), (CODE + 16, 12, 6));
    cpu.complete();
    assert_eq!(cpu.run(10), Stop::Completed);
}

#[test]
fn a_loop_runs_exactly_its_fuel() {
    // a0 += 1; a1 -= 1; bnez a1, loop
    let mut p = li(Reg::A1, 1_000_000);
    p.extend([
        addi(Reg::A0, Reg::A0, 1),
        addi(Reg::A1, Reg::A1, -1),
        Insn::Branch { cond: Cond::Ne, rs1: Reg::A1, rs2: Reg::ZERO, offset: -8 },
        Insn::Ecall,
    ]);
    let mut cpu = machine(&p);
    assert_eq!(cpu.run(2 + 3 * 1000), Stop::OutOfFuel);
    assert_eq!(cpu.reg(Reg::A0), 1000);
    assert_eq!(cpu.run(u64::MAX), Stop::Ecall);
    assert_eq!((cpu.reg(Reg::A0), cpu.instret()), (1_000_000, 2 + 3_000_000 + 1));
}

#[test]
fn breakpoints_stop_before_and_resume_through() {
    let p = vec![
        addi(Reg::A0, Reg::A0, 1),
        addi(Reg::A0, Reg::A0, 2),
        addi(Reg::A0, Reg::A0, 4),
        Insn::Ecall,
    ];
    let mut cpu = machine(&p);
    assert!(cpu.add_breakpoint(CODE + 4));
    assert!(!cpu.add_breakpoint(CODE + 2), "not an instruction");
    assert!(!cpu.add_breakpoint(0x2_0000), "not code");
    assert_eq!(cpu.run(100), Stop::Breakpoint);
    assert_eq!((cpu.pc(), cpu.reg(Reg::A0), cpu.instret()), (CODE + 4, 1, 1));
    // Resuming executes the instruction under the breakpoint.
    assert_eq!(cpu.run(100), Stop::Ecall);
    assert_eq!(cpu.reg(Reg::A0), 7);
    // The breakpoint is still there for the next time; a step goes through it.
    cpu.set_pc(CODE);
    assert_eq!(cpu.run(100), Stop::Breakpoint);
    assert_eq!(cpu.step(), None);
    assert_eq!(cpu.pc(), CODE + 8);
    assert!(cpu.remove_breakpoint(CODE + 4));
    assert!(!cpu.remove_breakpoint(CODE + 4));
    assert_eq!(cpu.breakpoints().count(), 0);
    assert_eq!(cpu.insn_at(CODE + 4), Some(addi(Reg::A0, Reg::A0, 2)));
}

/// The fault of the program's first failing instruction, shown.
fn fault(program: Vec<Insn>) -> String {
    let mut cpu = machine(&program);
    let before = cpu.regs();
    match cpu.run(1_000_000) {
        Stop::Fault(f) => {
            assert_eq!(cpu.state(), &VmState::Error(f.clone()));
            assert_eq!(cpu.pc(), f.pc, "pc stays at the faulting instruction");
            // The machine stays stopped.
            assert_eq!(cpu.run(10), Stop::Fault(f.clone()));
            let _ = before;
            f.to_string()
        }
        other => panic!("expected a fault, got {other:?}"),
    }
}

#[test]
fn faults_name_the_address_the_access_and_the_segment() {
    let mut misaligned = li(Reg::A1, DATA as i32 + 2);
    misaligned.push(Insn::Load { kind: LoadKind::W, rd: Reg::A0, rs1: Reg::A1, offset: 0 });
    expect!["load at 0x00020002 in segment `data`: misaligned address (pc 0x00001008)"]
        .assert_eq(&fault(misaligned));

    let mut to_code = li(Reg::A1, CODE as i32);
    to_code.push(Insn::Store { kind: StoreKind::W, rs1: Reg::A1, rs2: Reg::A1, offset: 0 });
    expect![
        "store at 0x00001000 in segment `code`: not allowed (the segment is r-x) (pc 0x00001008)"
    ]
    .assert_eq(&fault(to_code));

    let unmapped = vec![Insn::Load { kind: LoadKind::W, rd: Reg::A0, rs1: Reg::ZERO, offset: 16 }];
    expect!["load at 0x00000010: unmapped address (pc 0x00001000)"].assert_eq(&fault(unmapped));

    // Pushing frames until the stack runs into its guard.
    let overflow = vec![
        addi(Reg::SP, Reg::SP, -64),
        Insn::Store { kind: StoreKind::W, rs1: Reg::SP, rs2: Reg::RA, offset: 0 },
        Insn::Jal { rd: Reg::RA, offset: -8 },
    ];
    expect!["store at 0x00030fc0 in segment `stack guard`: stack overflow (pc 0x00001004)"]
        .assert_eq(&fault(overflow));

    let mut into_data = li(Reg::A1, DATA as i32);
    into_data.push(Insn::Jalr { rd: Reg::RA, rs1: Reg::A1, offset: 0 });
    expect!["instruction fetch at 0x00020000 in segment `data`: not allowed (the segment is rw-) (pc 0x00020000)"]
        .assert_eq(&fault(into_data));

    let jump =
        vec![addi(Reg::A1, Reg::ZERO, 0x102), Insn::Jalr { rd: Reg::RA, rs1: Reg::A1, offset: 0 }];
    expect!["instruction fetch at 0x00000102: misaligned address (pc 0x00001004)"]
        .assert_eq(&fault(jump));

    let branch = vec![Insn::Branch { cond: Cond::Eq, rs1: Reg::ZERO, rs2: Reg::ZERO, offset: 6 }];
    expect![
        "instruction fetch at 0x00001006 in segment `code`: misaligned address (pc 0x00001000)"
    ]
    .assert_eq(&fault(branch));

    // Past the last instruction: zero words are not instructions.
    let off_the_end = vec![addi(Reg::A0, Reg::A0, 1)];
    expect!["instruction fetch at 0x00001004 in segment `code`: illegal instruction 0x00000000 (pc 0x00001004)"]
        .assert_eq(&fault(off_the_end));
}

#[test]
fn a_faulting_store_changes_nothing() {
    let mut p = li(Reg::A1, CODE as i32);
    p.push(Insn::Store { kind: StoreKind::W, rs1: Reg::A1, rs2: Reg::A1, offset: 0 });
    let mut cpu = machine(&p);
    cpu.record_undo(Some(64));
    let before_code = cpu.bus().peek(CODE, Width::Word);
    assert!(matches!(cpu.run(100), Stop::Fault(_)));
    assert_eq!(cpu.bus().peek(CODE, Width::Word), before_code);
    assert_eq!(cpu.instret(), 2);
    // Stepping back from a fault pauses the machine again, one instruction earlier.
    cpu.step_back().unwrap();
    assert_eq!((cpu.state(), cpu.pc(), cpu.instret()), (&VmState::Paused, CODE + 4, 1));
}

#[test]
fn snapshots_hold_the_pages_written_and_restore_exactly() {
    // Writes a word into each of 3 stack pages, then loops a while.
    let mut p = Vec::new();
    for i in 1..=3 {
        p.extend(li(Reg::T0, i));
        p.extend(li(Reg::T1, (STACK_TOP - 4096 * i as u32) as i32));
        p.push(Insn::Store { kind: StoreKind::W, rs1: Reg::T1, rs2: Reg::T0, offset: 16 });
    }
    p.extend([addi(Reg::A0, Reg::A0, 1), Insn::Ecall]);
    let mut cpu = machine(&p);
    assert_eq!(cpu.run(5), Stop::OutOfFuel); // one store done
    let snap = cpu.snapshot();
    assert_eq!(snap.memory.pages.len(), 1, "only the page written");
    assert_eq!(cpu.run(100), Stop::Ecall);
    let end = cpu.snapshot();
    assert_eq!(end.memory.pages.len(), 3);
    cpu.restore(&snap);
    assert_eq!(cpu.snapshot(), snap);
    assert_eq!(
        cpu.bus().peek(STACK_TOP - 8192 + 16, Width::Word),
        Some(0),
        "a later write is undone"
    );
    assert_eq!(cpu.run(100), Stop::Ecall);
    assert_eq!(cpu.snapshot(), end);
    // And forward again from the start.
    cpu.restore(&end);
    assert_eq!(cpu.snapshot(), end);
}
