//! The benchmark's add loop, for profilers (`perf stat`, `valgrind --tool=callgrind`):
//! `cargo run --release -p rv-emu --example add_loop -- [iterations] [undo]`.

use rv_emu::{AluImm, Cond, Cpu, Insn, Memory, Perm, Reg, Segment, Stop};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100_000_000);
    let undo = args.next().is_some_and(|a| a == "undo");
    let hi = (n + 0x800) >> 12;
    let lo = n as i32 - (hi << 12) as i32;
    let code: Vec<u8> = [
        Insn::Lui { rd: Reg::A1, imm: hi },
        Insn::AluImm { op: AluImm::Addi, rd: Reg::A1, rs1: Reg::A1, imm: lo },
        Insn::AluImm { op: AluImm::Addi, rd: Reg::A0, rs1: Reg::A0, imm: 1 },
        Insn::AluImm { op: AluImm::Addi, rd: Reg::A1, rs1: Reg::A1, imm: -1 },
        Insn::Branch { cond: Cond::Ne, rs1: Reg::A1, rs2: Reg::ZERO, offset: -8 },
        Insn::Ebreak,
    ]
    .iter()
    .flat_map(|i| i.encode().unwrap().to_le_bytes())
    .collect();
    let seg =
        Segment { name: "code".into(), base: 0x1000, size: 0x1000, perm: Perm::RX, guard: false };
    let mut cpu = Cpu::new(Memory::new(vec![(seg, code)]).unwrap(), 0x1000);
    if undo {
        cpu.record_undo(Some(1 << 16));
    }
    let start = std::time::Instant::now();
    assert_eq!(cpu.run(u64::MAX), Stop::Ebreak);
    let t = start.elapsed();
    println!(
        "{} instructions in {:?}: {:.0} MIPS (a0 = {})",
        cpu.instret(),
        t,
        cpu.instret() as f64 / t.as_secs_f64() / 1e6,
        cpu.reg(Reg::A0)
    );
}
