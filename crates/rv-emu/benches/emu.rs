//! Millions of instructions per second on the 3-instruction add loop
//! (`addi a0,a0,1; addi a1,a1,-1; bnez a1,loop`): rv-emu plain, rv-emu with the undo log
//! on, and rvsim, side by side in one run. Criterion's throughput is in instructions, so
//! "Melem/s" reads as MIPS.
//!
//! Each is measured twice: in wall-clock time (`add_loop/…`) and in this thread's CPU time
//! (`add_loop_cpu/…`), which a machine shared with other builds does not inflate.

#[path = "cpu_time.rs"]
mod cpu_time;

use cpu_time::CpuTime;
use criterion::measurement::Measurement;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use rv_emu::{AluImm, Cond, Cpu, Insn, Memory, Perm, Reg, Segment, Stop};
use std::hint::black_box;

const CODE: u32 = 0x1000;
const ITERATIONS: u32 = 1_000_000;
/// `li a1, N` (2), the loop (3 per iteration), the final `ebreak` (1).
const INSTRUCTIONS: u64 = 2 + 3 * ITERATIONS as u64 + 1;

fn program() -> Vec<u8> {
    let hi = (ITERATIONS + 0x800) >> 12;
    let lo = ITERATIONS as i32 - (hi << 12) as i32;
    [
        Insn::Lui { rd: Reg::A1, imm: hi },
        Insn::AluImm { op: AluImm::Addi, rd: Reg::A1, rs1: Reg::A1, imm: lo },
        Insn::AluImm { op: AluImm::Addi, rd: Reg::A0, rs1: Reg::A0, imm: 1 },
        Insn::AluImm { op: AluImm::Addi, rd: Reg::A1, rs1: Reg::A1, imm: -1 },
        Insn::Branch { cond: Cond::Ne, rs1: Reg::A1, rs2: Reg::ZERO, offset: -8 },
        Insn::Ebreak,
    ]
    .iter()
    .flat_map(|i| i.encode().unwrap().to_le_bytes())
    .collect()
}

fn machine() -> Cpu {
    let code =
        Segment { name: "code".into(), base: CODE, size: 0x1000, perm: Perm::RX, guard: false };
    Cpu::new(Memory::new(vec![(code, program())]).unwrap(), CODE)
}

struct SimMem(Vec<u8>);

impl rvsim::Memory for SimMem {
    fn access<T: Copy>(&mut self, addr: u32, access: rvsim::MemoryAccess<T>) -> bool {
        match addr.checked_sub(CODE) {
            Some(a) if addr.is_multiple_of(4) => rvsim::Memory::access(&mut self.0[..], a, access),
            _ => false,
        }
    }
}

fn loops<M: Measurement>(g: &mut BenchmarkGroup<'_, M>) {
    g.throughput(Throughput::Elements(INSTRUCTIONS));
    g.sample_size(30);
    g.bench_function("rv-emu", |b| {
        b.iter(|| {
            let mut cpu = machine();
            assert_eq!(cpu.run(u64::MAX), Stop::Ebreak);
            black_box(cpu.reg(Reg::A0))
        })
    });
    g.bench_function("rv-emu undo log", |b| {
        b.iter(|| {
            let mut cpu = machine();
            cpu.record_undo(Some(1 << 16));
            assert_eq!(cpu.run(u64::MAX), Stop::Ebreak);
            black_box(cpu.reg(Reg::A0))
        })
    });
    g.bench_function("rvsim", |b| {
        b.iter(|| {
            let mut mem = SimMem(program());
            let mut state = rvsim::CpuState::new(CODE);
            let mut clock = rvsim::SimpleClock::new();
            let mut sim = rvsim::Interp::new(&mut state, &mut mem, &mut clock);
            assert_eq!(sim.run().0, rvsim::CpuError::Ebreak);
            black_box(state.x[10])
        })
    });
}

fn wall(c: &mut Criterion) {
    let mut g = c.benchmark_group("add_loop");
    loops(&mut g);
    g.finish();
}

fn cpu(c: &mut Criterion<CpuTime>) {
    let mut g = c.benchmark_group("add_loop_cpu");
    loops(&mut g);
    g.finish();
}

criterion_group!(wall_time, wall);
criterion_group! {
    name = cpu_time;
    config = Criterion::default().with_measurement(CpuTime);
    targets = cpu
}
criterion_main!(wall_time, cpu_time);
