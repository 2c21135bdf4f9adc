//! The processor: registers, pc, the decoded code, breakpoints, fuel, snapshots and the undo
//! log.
//!
//! **Speed.** Code is never writable, so every code word is decoded once, when the processor
//! is built, into a compact [`Exec`] (operation, registers, immediate); the loop fetches by
//! index and dispatches with one `match`, with no dynamic call per instruction (the bus is a
//! type parameter). A write to `x0` goes to a sink register (index 32), so no instruction
//! needs a test for it. Fuel is a local countdown. A breakpoint replaces its decoded
//! instruction with a marker, so breakpoints cost nothing when they are not hit. The undo
//! log is a second instantiation of the loop (`UNDO = true`); the plain loop has no trace
//! of it.

use std::collections::BTreeMap;

use crate::isa::{Alu, AluImm, Cond, Insn, LoadKind, Reg, StoreKind};
use crate::memory::{Access, Bus, Fault, FaultKind, Memory, Width};

/// Where writes to `x0` go.
pub(crate) const SINK: u8 = 32;
/// Stands for "the pc" in a host record of the undo log.
const NO_REG: u8 = SINK;

/// The life of a machine.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum VmState {
    /// Built, nothing run yet.
    Ready,
    /// Inside [`Cpu::run`].
    Running,
    /// Stopped by an `ecall`, an `ebreak`, a breakpoint or the end of its fuel: it can run on.
    Paused,
    /// Stopped by a fault; it stays stopped (a restore or a step back leaves the state).
    Error(Fault),
    /// The host declared the program finished ([`Cpu::complete`]).
    Completed,
}

/// Why [`Cpu::run`] returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// An `ecall` ran; pc is still at it, so the host can read `a7`, `a0`… and then
    /// [`Cpu::advance`] past it.
    Ecall,
    /// An `ebreak` ran; pc is still at it.
    Ebreak,
    /// pc reached a breakpoint (its instruction has not run). Running again executes it.
    Breakpoint,
    /// The fuel given to `run` is spent.
    OutOfFuel,
    /// An instruction faulted; it had no effect, and the machine is in [`VmState::Error`].
    Fault(Fault),
    /// The machine is [`VmState::Completed`]: nothing ran.
    Completed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Op {
    Lui,
    Jal,
    Jalr,
    Beq,
    Bne,
    Blt,
    Bge,
    Bltu,
    Bgeu,
    Lb,
    Lh,
    Lw,
    Lbu,
    Lhu,
    Sb,
    Sh,
    Sw,
    Addi,
    Slti,
    Sltiu,
    Xori,
    Ori,
    Andi,
    Slli,
    Srli,
    Srai,
    Add,
    Sub,
    Sll,
    Slt,
    Sltu,
    Xor,
    Srl,
    Sra,
    Or,
    And,
    Mul,
    Mulh,
    Mulhsu,
    Mulhu,
    Div,
    Divu,
    Rem,
    Remu,
    Nop,
    Ecall,
    Ebreak,
    Illegal,
    /// A breakpoint's marker; the instruction is kept in `Cpu::breakpoints`.
    Breakpoint,
    /// A superinstruction (fuse.rs): `rd` is its shape, `rs1` its length.
    Fused,
}

/// A decoded instruction. `Auipc` is decoded to `Lui` of its absolute value (the pc of a
/// code word never changes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Exec {
    pub(crate) op: Op,
    pub(crate) rd: u8,
    pub(crate) rs1: u8,
    pub(crate) rs2: u8,
    pub(crate) imm: i32,
}

impl Exec {
    fn decode(word: u32, pc: u32) -> Exec {
        let Some(insn) = Insn::decode(word) else {
            return Exec { op: Op::Illegal, rd: SINK, rs1: 0, rs2: 0, imm: word as i32 };
        };
        let rd = |r: Reg| if r == Reg::ZERO { SINK } else { r.index() as u8 };
        let r = |r: Reg| r.index() as u8;
        let e = |op, rd: u8, rs1: u8, rs2: u8, imm: i32| Exec { op, rd, rs1, rs2, imm };
        match insn {
            Insn::Lui { rd: d, imm } => e(Op::Lui, rd(d), 0, 0, (imm << 12) as i32),
            Insn::Auipc { rd: d, imm } => {
                e(Op::Lui, rd(d), 0, 0, pc.wrapping_add(imm << 12) as i32)
            }
            Insn::Jal { rd: d, offset } => e(Op::Jal, rd(d), 0, 0, offset),
            Insn::Jalr { rd: d, rs1, offset } => e(Op::Jalr, rd(d), r(rs1), 0, offset),
            Insn::Branch { cond, rs1, rs2, offset } => {
                let op = match cond {
                    Cond::Eq => Op::Beq,
                    Cond::Ne => Op::Bne,
                    Cond::Lt => Op::Blt,
                    Cond::Ge => Op::Bge,
                    Cond::Ltu => Op::Bltu,
                    Cond::Geu => Op::Bgeu,
                };
                e(op, SINK, r(rs1), r(rs2), offset)
            }
            Insn::Load { kind, rd: d, rs1, offset } => {
                let op = match kind {
                    LoadKind::B => Op::Lb,
                    LoadKind::H => Op::Lh,
                    LoadKind::W => Op::Lw,
                    LoadKind::Bu => Op::Lbu,
                    LoadKind::Hu => Op::Lhu,
                };
                e(op, rd(d), r(rs1), 0, offset)
            }
            Insn::Store { kind, rs1, rs2, offset } => {
                let op = match kind {
                    StoreKind::B => Op::Sb,
                    StoreKind::H => Op::Sh,
                    StoreKind::W => Op::Sw,
                };
                e(op, SINK, r(rs1), r(rs2), offset)
            }
            Insn::AluImm { op, rd: d, rs1, imm } => {
                let op = match op {
                    AluImm::Addi => Op::Addi,
                    AluImm::Slti => Op::Slti,
                    AluImm::Sltiu => Op::Sltiu,
                    AluImm::Xori => Op::Xori,
                    AluImm::Ori => Op::Ori,
                    AluImm::Andi => Op::Andi,
                    AluImm::Slli => Op::Slli,
                    AluImm::Srli => Op::Srli,
                    AluImm::Srai => Op::Srai,
                };
                e(op, rd(d), r(rs1), 0, imm)
            }
            Insn::Alu { op, rd: d, rs1, rs2 } => {
                let op = match op {
                    Alu::Add => Op::Add,
                    Alu::Sub => Op::Sub,
                    Alu::Sll => Op::Sll,
                    Alu::Slt => Op::Slt,
                    Alu::Sltu => Op::Sltu,
                    Alu::Xor => Op::Xor,
                    Alu::Srl => Op::Srl,
                    Alu::Sra => Op::Sra,
                    Alu::Or => Op::Or,
                    Alu::And => Op::And,
                    Alu::Mul => Op::Mul,
                    Alu::Mulh => Op::Mulh,
                    Alu::Mulhsu => Op::Mulhsu,
                    Alu::Mulhu => Op::Mulhu,
                    Alu::Div => Op::Div,
                    Alu::Divu => Op::Divu,
                    Alu::Rem => Op::Rem,
                    Alu::Remu => Op::Remu,
                };
                e(op, rd(d), r(rs1), r(rs2), 0)
            }
            Insn::Fence { .. } => e(Op::Nop, SINK, 0, 0, 0),
            Insn::Ecall => e(Op::Ecall, SINK, 0, 0, 0),
            Insn::Ebreak => e(Op::Ebreak, SINK, 0, 0, 0),
        }
    }
}

/// One entry of the undo log: what an instruction (or a host write) changed.
#[derive(Clone, Copy, Debug, Default)]
struct UndoRec {
    /// The pc before.
    pc: u32,
    /// The register written (`SINK` for none) and its old value.
    old: u32,
    rd: u8,
    /// 0 when no memory was written, else the store's width in bytes.
    width: u8,
    /// Written by the host between instructions (an ecall's answer, a pc move).
    host: bool,
    addr: u32,
    mem_old: u32,
}

/// A bounded history of what each step changed: the oldest entries are dropped when it is
/// full.
#[derive(Clone, Debug, Default)]
struct UndoLog {
    recs: Vec<UndoRec>,
    head: usize,
    len: usize,
    /// Entries that are instructions (not host writes).
    steps: usize,
}

impl UndoLog {
    fn new(capacity: usize) -> UndoLog {
        let cap = capacity.max(1).next_power_of_two();
        UndoLog { recs: vec![UndoRec::default(); cap], head: 0, len: 0, steps: 0 }
    }

    #[inline(always)]
    fn push(&mut self, r: UndoRec) {
        let mask = self.recs.len() - 1;
        let slot = &mut self.recs[self.head & mask];
        if self.len == mask + 1 {
            self.steps -= usize::from(!slot.host);
        } else {
            self.len += 1;
        }
        self.steps += usize::from(!r.host);
        *slot = r;
        self.head = (self.head + 1) & mask;
    }

    fn pop(&mut self) -> Option<UndoRec> {
        if self.len == 0 {
            return None;
        }
        let mask = self.recs.len() - 1;
        self.head = self.head.wrapping_sub(1) & mask;
        self.len -= 1;
        let r = self.recs[self.head];
        self.steps -= usize::from(!r.host);
        Some(r)
    }
}

/// The state of a processor and its memory at one moment.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Snapshot<S> {
    pub regs: Vec<u32>,
    pub pc: u32,
    pub instret: u64,
    pub state: VmState,
    pub memory: S,
}

/// Why [`Cpu::step_back`] could not step back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoHistory {
    #[error("the undo log is off (Cpu::record_undo)")]
    Off,
    #[error("no earlier step is recorded")]
    Empty,
}

/// An RV32IM processor attached to a bus.
#[derive(Clone, Debug)]
pub struct Cpu<B: Bus = Memory> {
    /// `x0..x31`, then the sink for writes to `x0`; the rest pads the array so that any `u8`
    /// index needs no bounds check (nor a mask).
    regs: [u32; 256],
    pc: u32,
    bus: B,
    code_base: u32,
    /// Each code word decoded (breakpoints put their markers here).
    plain: Vec<Exec>,
    /// The same with superinstructions where shapes start (fuse.rs): what a run without
    /// breakpoints or undo log executes.
    fast: Vec<Exec>,
    /// Whether `fast` has any superinstruction.
    has_fused: bool,
    breakpoints: BTreeMap<u32, Exec>,
    state: VmState,
    instret: u64,
    undo: Option<UndoLog>,
}

impl<B: Bus> Cpu<B> {
    /// A processor with all registers zero and pc at `entry`, its code decoded from the
    /// bus's executable segment.
    pub fn new(bus: B, entry: u32) -> Cpu<B> {
        let (base, bytes) = bus.code();
        let plain: Vec<Exec> = bytes
            .chunks_exact(4)
            .enumerate()
            .map(|(i, w)| {
                let word = u32::from_le_bytes(w.try_into().expect("4 bytes"));
                Exec::decode(word, base.wrapping_add(4 * i as u32))
            })
            .collect();
        let fast = crate::fuse::fuse(&plain);
        Cpu {
            regs: [0; 256],
            pc: entry,
            bus,
            code_base: base,
            has_fused: fast.iter().any(|e| e.op == Op::Fused),
            fast,
            plain,
            breakpoints: BTreeMap::new(),
            state: VmState::Ready,
            instret: 0,
            undo: None,
        }
    }

    pub fn reg(&self, r: Reg) -> u32 {
        self.regs[r.index()]
    }

    /// All 32 registers (`x0` first).
    pub fn regs(&self) -> [u32; 32] {
        self.regs[..32].try_into().expect("32 registers")
    }

    /// Sets a register (a write to `x0` is ignored). With the undo log on, the write is
    /// recorded, so stepping back over the host's answer to an `ecall` undoes it too.
    pub fn set_reg(&mut self, r: Reg, value: u32) {
        if r == Reg::ZERO {
            return;
        }
        if let Some(log) = &mut self.undo {
            let old = self.regs[r.index()];
            log.push(UndoRec {
                pc: self.pc,
                old,
                rd: r.index() as u8,
                host: true,
                ..UndoRec::default()
            });
        }
        self.regs[r.index()] = value;
    }

    pub fn pc(&self) -> u32 {
        self.pc
    }

    /// Moves pc (recorded in the undo log when it is on).
    pub fn set_pc(&mut self, pc: u32) {
        if let Some(log) = &mut self.undo {
            log.push(UndoRec { pc: self.pc, rd: NO_REG, host: true, ..UndoRec::default() });
        }
        self.pc = pc;
    }

    /// Moves pc past the instruction it is at (an `ecall` or `ebreak` the host handled).
    pub fn advance(&mut self) {
        self.set_pc(self.pc.wrapping_add(4));
    }

    pub fn bus(&self) -> &B {
        &self.bus
    }

    pub fn bus_mut(&mut self) -> &mut B {
        &mut self.bus
    }

    pub fn state(&self) -> &VmState {
        &self.state
    }

    /// Instructions retired since the processor was built (an `ecall` or `ebreak` counts
    /// when it runs).
    pub fn instret(&self) -> u64 {
        self.instret
    }

    /// Declares the program finished: `run` does nothing from now on.
    pub fn complete(&mut self) {
        self.state = VmState::Completed;
    }

    /// The instruction at `pc` as the processor sees it (breakpoints are not shown).
    pub fn insn_at(&self, pc: u32) -> Option<Insn> {
        let word = self.bus.peek(pc, Width::Word)?;
        Insn::decode(word)
    }

    fn index(&self, pc: u32) -> Option<usize> {
        index_in(self.code_base, self.plain.len(), pc)
    }

    /// Sets a breakpoint; `false` when `pc` is not an instruction of the code segment.
    pub fn add_breakpoint(&mut self, pc: u32) -> bool {
        let Some(i) = self.index(pc) else { return false };
        if self.plain[i].op != Op::Breakpoint {
            self.breakpoints.insert(pc, self.plain[i]);
            self.plain[i] = Exec { op: Op::Breakpoint, rd: SINK, rs1: 0, rs2: 0, imm: 0 };
        }
        true
    }

    /// Removes a breakpoint; `false` when there was none at `pc`.
    pub fn remove_breakpoint(&mut self, pc: u32) -> bool {
        let Some(orig) = self.breakpoints.remove(&pc) else { return false };
        let i = self.index(pc).expect("a breakpoint is in the code");
        self.plain[i] = orig;
        true
    }

    pub fn breakpoints(&self) -> impl Iterator<Item = u32> + '_ {
        self.breakpoints.keys().copied()
    }

    /// Turns the undo log on, keeping the last `capacity` steps (rounded up to a power of
    /// two), or off with `None`. Turning it on starts an empty history.
    pub fn record_undo(&mut self, capacity: Option<usize>) {
        self.undo = capacity.map(UndoLog::new);
    }

    /// Steps recorded in the undo log (what [`Cpu::step_back`] can undo).
    pub fn undo_depth(&self) -> usize {
        self.undo.as_ref().map_or(0, |u| u.steps)
    }

    /// Undoes the last instruction (and the host's writes after it): registers, memory, pc
    /// and the instruction count go back. A machine stopped by a fault is paused again.
    pub fn step_back(&mut self) -> Result<(), NoHistory> {
        let log = self.undo.as_mut().ok_or(NoHistory::Off)?;
        if log.steps == 0 {
            return Err(NoHistory::Empty);
        }
        while let Some(r) = log.pop() {
            self.pc = r.pc;
            self.regs[usize::from(r.rd)] = r.old;
            if r.width != 0 {
                let w = match r.width {
                    1 => Width::Byte,
                    2 => Width::Half,
                    _ => Width::Word,
                };
                self.bus.poke(r.addr, w, r.mem_old);
            }
            if !r.host {
                self.instret -= 1;
                break;
            }
        }
        if !matches!(self.state, VmState::Running) {
            self.state = VmState::Paused;
        }
        Ok(())
    }

    /// The registers, pc, count, state and the memory's snapshot (for [`Memory`], the pages
    /// written so far).
    pub fn snapshot(&self) -> Snapshot<B::Snapshot> {
        Snapshot {
            regs: self.regs[..32].to_vec(),
            pc: self.pc,
            instret: self.instret,
            state: self.state.clone(),
            memory: self.bus.snapshot(),
        }
    }

    /// Goes back (or forward) to a snapshot of this machine. The undo log is emptied: its
    /// history belongs to another moment.
    pub fn restore(&mut self, s: &Snapshot<B::Snapshot>) {
        for (i, v) in s.regs.iter().take(32).enumerate() {
            self.regs[i] = *v;
        }
        self.regs[0] = 0;
        self.pc = s.pc;
        self.instret = s.instret;
        self.state = s.state.clone();
        self.bus.restore(&s.memory);
        if let Some(u) = &mut self.undo {
            *u = UndoLog::new(u.recs.len());
        }
    }

    /// Executes one instruction, even one under a breakpoint. `None` when it ran normally.
    pub fn step(&mut self) -> Option<Stop> {
        match self.run(1) {
            Stop::OutOfFuel => None,
            s => Some(s),
        }
    }

    /// Runs at most `fuel` instructions. An instruction under a breakpoint at the pc the run
    /// starts from is executed (the run resumes from the breakpoint); any other breakpoint
    /// stops it.
    pub fn run(&mut self, fuel: u64) -> Stop {
        match &self.state {
            VmState::Completed => return Stop::Completed,
            VmState::Error(f) => return Stop::Fault(f.clone()),
            _ => {}
        }
        self.state = VmState::Running;
        let mut plain = std::mem::take(&mut self.plain);
        let fast = std::mem::take(&mut self.fast);
        let mut log = self.undo.take();
        // Superinstructions run only where nothing needs each instruction on its own.
        let fused = self.breakpoints.is_empty() && log.is_none();
        let mut left = fuel;
        let mut stop = None;
        // Resuming from a breakpoint: its instruction runs once, in a run of its own with
        // the instruction put back.
        if left > 0
            && let Some(&orig) = self.breakpoints.get(&self.pc)
            && let Some(i) = index_in(self.code_base, plain.len(), self.pc)
        {
            let marker = std::mem::replace(&mut plain[i], orig);
            let (s, ran) = self.exec_with(&plain, &plain, 1, log.as_mut());
            plain[i] = marker;
            left -= ran;
            if s != Stop::OutOfFuel {
                stop = Some(s);
            }
        }
        let stop = match stop {
            Some(s) => s,
            None => {
                let code = if fused { &fast } else { &plain };
                let (s, ran) = self.exec_with(code, &plain, left, log.as_mut());
                left -= ran;
                s
            }
        };
        self.plain = plain;
        self.fast = fast;
        self.undo = log;
        self.instret += fuel - left;
        self.state = match &stop {
            Stop::Fault(f) => VmState::Error(f.clone()),
            _ => VmState::Paused,
        };
        stop
    }

    fn exec_with(
        &mut self,
        code: &[Exec],
        plain: &[Exec],
        fuel: u64,
        log: Option<&mut UndoLog>,
    ) -> (Stop, u64) {
        // Three instantiations of the loop: with the undo log (plain code), with
        // superinstructions, and without either (code that has no fused entry: the loop
        // without their arm is the tightest).
        let fused = !std::ptr::eq(code, plain) && self.has_fused;
        match (log, fused) {
            (Some(log), _) => self.exec::<true, false>(plain, plain, fuel, log),
            (None, true) => self.exec::<false, true>(code, plain, fuel, &mut UndoLog::default()),
            (None, false) => self.exec::<false, false>(plain, plain, fuel, &mut UndoLog::default()),
        }
    }

    /// The interpreter's loop: runs at most `fuel` instructions of `code` from pc; returns
    /// why it stopped and how many instructions ran. It works on locals (registers, the
    /// index of the next instruction, the fuel left), so nothing is reloaded after a store
    /// through the bus. pc is kept as an index into `code`: it is a multiple of 4 by
    /// construction (every jump target is checked), so a fetch is one bounds check.
    #[allow(clippy::too_many_lines)]
    fn exec<const UNDO: bool, const FUSED: bool>(
        &mut self,
        code: &[Exec],
        plain: &[Exec],
        fuel: u64,
        log: &mut UndoLog,
    ) -> (Stop, u64) {
        let base = self.code_base;
        if !self.pc.wrapping_sub(base).is_multiple_of(4) {
            return (Stop::Fault(fetch_fault(&self.bus, self.pc)), 0);
        }
        let bus = &mut self.bus;
        let mut regs = self.regs;
        let mut i = (self.pc.wrapping_sub(base) / 4) as usize;
        let mut left = fuel;
        let mut fits = true;
        let pc_of = |i: usize| base.wrapping_add((i as u32).wrapping_mul(4));
        // A jump to byte address `t`: the index, or the fault of a misaligned target.
        let index_of = |t: u32| t.wrapping_sub(base) as usize / 4;
        let stop = loop {
            if left == 0 {
                break Stop::OutOfFuel;
            }
            let Some(&d) = code.get(i) else {
                break Stop::Fault(fetch_fault(bus, pc_of(i)));
            };
            // A fused entry first: it reads its own operands.
            if FUSED && d.op == Op::Fused {
                if left >= u64::from(d.rs1) {
                    let mut stop = None;
                    match crate::fuse::run(d.rd, plain, i, base, &mut regs, bus, &mut stop) {
                        crate::fuse::Outcome::Next(next, ran) => {
                            i = next;
                            left -= ran;
                            continue;
                        }
                        crate::fuse::Outcome::Stopped(ran) => {
                            i += ran as usize;
                            left -= ran;
                            break stop.expect("a stopped group says why");
                        }
                    }
                }
                // The group does not fit the fuel left (fewer instructions than the
                // longest group): the rest of the run goes one instruction at a time.
                fits = false;
                break Stop::OutOfFuel;
            }
            let x1 = regs[usize::from(d.rs1)];
            let x2 = regs[usize::from(d.rs2)];
            let imm = d.imm as u32;
            macro_rules! set {
                ($v:expr) => {{
                    let v = $v;
                    let rd = usize::from(d.rd);
                    if UNDO {
                        log.push(UndoRec {
                            pc: pc_of(i),
                            old: regs[rd],
                            rd: d.rd,
                            ..UndoRec::default()
                        });
                    }
                    regs[rd] = v;
                    i += 1;
                }};
            }
            macro_rules! branch {
                ($taken:expr) => {{
                    if $taken {
                        // Offsets are even; one that is not a multiple of 4 faults.
                        if imm & 3 != 0 {
                            break jump_fault(bus, pc_of(i), pc_of(i).wrapping_add(imm));
                        }
                        if UNDO {
                            log.push(UndoRec { pc: pc_of(i), rd: SINK, ..UndoRec::default() });
                        }
                        i = i.wrapping_add((d.imm >> 2) as isize as usize);
                    } else {
                        if UNDO {
                            log.push(UndoRec { pc: pc_of(i), rd: SINK, ..UndoRec::default() });
                        }
                        i += 1;
                    }
                }};
            }
            macro_rules! load {
                ($w:expr, $ext:expr) => {{
                    match bus.load(pc_of(i), x1.wrapping_add(imm), $w) {
                        Ok(v) => set!($ext(v)),
                        Err(f) => break Stop::Fault(f),
                    }
                }};
            }
            macro_rules! store {
                ($w:expr) => {{
                    let addr = x1.wrapping_add(imm);
                    let old = if UNDO { bus.peek(addr, $w).unwrap_or(0) } else { 0 };
                    if let Err(f) = bus.store(pc_of(i), addr, $w, x2) {
                        break Stop::Fault(f);
                    }
                    if UNDO {
                        let width = $w.bytes() as u8;
                        log.push(UndoRec {
                            pc: pc_of(i),
                            rd: SINK,
                            width,
                            addr,
                            mem_old: old,
                            ..UndoRec::default()
                        });
                    }
                    i += 1;
                }};
            }
            macro_rules! jump {
                ($t:expr) => {{
                    let t: u32 = $t;
                    if t & 3 != 0 {
                        break jump_fault(bus, pc_of(i), t);
                    }
                    let rd = usize::from(d.rd);
                    if UNDO {
                        log.push(UndoRec {
                            pc: pc_of(i),
                            old: regs[rd],
                            rd: d.rd,
                            ..UndoRec::default()
                        });
                    }
                    regs[rd] = pc_of(i).wrapping_add(4);
                    i = index_of(t);
                }};
            }
            match d.op {
                Op::Addi => set!(x1.wrapping_add(imm)),
                Op::Add => set!(x1.wrapping_add(x2)),
                Op::Sub => set!(x1.wrapping_sub(x2)),
                Op::Lw => load!(Width::Word, |v| v),
                Op::Sw => store!(Width::Word),
                Op::Beq => branch!(x1 == x2),
                Op::Bne => branch!(x1 != x2),
                Op::Blt => branch!((x1 as i32) < (x2 as i32)),
                Op::Bge => branch!((x1 as i32) >= (x2 as i32)),
                Op::Bltu => branch!(x1 < x2),
                Op::Bgeu => branch!(x1 >= x2),
                Op::Sltu => set!(u32::from(x1 < x2)),
                Op::Sltiu => set!(u32::from(x1 < imm)),
                Op::Xor => set!(x1 ^ x2),
                Op::And => set!(x1 & x2),
                Op::Or => set!(x1 | x2),
                Op::Jal => jump!(pc_of(i).wrapping_add(imm)),
                Op::Jalr => jump!(x1.wrapping_add(imm) & !1),
                Op::Lui => set!(imm),
                Op::Lb => load!(Width::Byte, |v: u32| v as u8 as i8 as i32 as u32),
                Op::Lh => load!(Width::Half, |v: u32| v as u16 as i16 as i32 as u32),
                Op::Lbu => load!(Width::Byte, |v| v),
                Op::Lhu => load!(Width::Half, |v| v),
                Op::Sb => store!(Width::Byte),
                Op::Sh => store!(Width::Half),
                Op::Slti => set!(u32::from((x1 as i32) < d.imm)),
                Op::Xori => set!(x1 ^ imm),
                Op::Ori => set!(x1 | imm),
                Op::Andi => set!(x1 & imm),
                Op::Slli => set!(x1 << (imm & 31)),
                Op::Srli => set!(x1 >> (imm & 31)),
                Op::Srai => set!(((x1 as i32) >> (imm & 31)) as u32),
                Op::Sll => set!(Alu::Sll.eval(x1, x2)),
                Op::Slt => set!(Alu::Slt.eval(x1, x2)),
                Op::Srl => set!(Alu::Srl.eval(x1, x2)),
                Op::Sra => set!(Alu::Sra.eval(x1, x2)),
                Op::Mul => set!(Alu::Mul.eval(x1, x2)),
                Op::Mulh => set!(Alu::Mulh.eval(x1, x2)),
                Op::Mulhsu => set!(Alu::Mulhsu.eval(x1, x2)),
                Op::Mulhu => set!(Alu::Mulhu.eval(x1, x2)),
                Op::Div => set!(Alu::Div.eval(x1, x2)),
                Op::Divu => set!(Alu::Divu.eval(x1, x2)),
                Op::Rem => set!(Alu::Rem.eval(x1, x2)),
                Op::Remu => set!(Alu::Remu.eval(x1, x2)),
                Op::Nop => set!(0),
                Op::Ecall | Op::Ebreak => {
                    if UNDO {
                        log.push(UndoRec { pc: pc_of(i), rd: SINK, ..UndoRec::default() });
                    }
                    left -= 1;
                    break if d.op == Op::Ecall { Stop::Ecall } else { Stop::Ebreak };
                }
                Op::Illegal => {
                    let at = pc_of(i);
                    let segment = bus.segment_at(at).map(|s| s.name.clone());
                    let kind = FaultKind::IllegalInstruction { word: d.imm as u32 };
                    break Stop::Fault(Fault {
                        pc: at,
                        addr: at,
                        access: Access::Fetch,
                        kind,
                        segment,
                    });
                }
                Op::Breakpoint => break Stop::Breakpoint,
                Op::Fused => unreachable!("fused entries run in the fused loop, above"),
            }
            left -= 1;
        };
        self.regs = regs;
        self.pc = pc_of(i);
        if !fits {
            let (stop, ran) = self.exec::<UNDO, false>(plain, plain, left, log);
            return (stop, fuel - left + ran);
        }
        (stop, fuel - left)
    }
}

/// The index of the instruction at `pc` in code of `len` words at `base`.
fn index_in(base: u32, len: usize, pc: u32) -> Option<usize> {
    let off = pc.wrapping_sub(base);
    (off.is_multiple_of(4) && ((off / 4) as usize) < len).then_some((off / 4) as usize)
}

#[cold]
pub(crate) fn fetch_fault_at<B: Bus>(bus: &B, pc: u32) -> Fault {
    fetch_fault(bus, pc)
}

#[cold]
fn fetch_fault<B: Bus>(bus: &B, pc: u32) -> Fault {
    let seg = bus.segment_at(pc);
    let kind = match seg {
        _ if !pc.is_multiple_of(4) => FaultKind::Misaligned,
        None => FaultKind::Unmapped,
        Some(s) if s.guard => FaultKind::StackOverflow,
        Some(s) => FaultKind::Denied { perm: s.perm },
    };
    Fault { pc, addr: pc, access: Access::Fetch, kind, segment: seg.map(|s| s.name.clone()) }
}

#[cold]
pub(crate) fn jump_fault<B: Bus>(bus: &B, pc: u32, target: u32) -> Stop {
    let segment = bus.segment_at(target).map(|s| s.name.clone());
    Stop::Fault(Fault {
        pc,
        addr: target,
        access: Access::Fetch,
        kind: FaultKind::Misaligned,
        segment,
    })
}
