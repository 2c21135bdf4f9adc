//! Superinstructions: a run of instructions with a known sequence of operations, executed by
//! one dispatch.
//!
//! At decode time every position whose next instructions have the operations of one of the
//! shapes below (the idioms compiled TEL is made of: frames, 64-bit arithmetic with its
//! overflow test, 64-bit comparisons, argument moves) gets a fused entry. A shape is matched
//! by operations only, whatever the registers and immediates: its handler performs each
//! instruction's own reads and writes, in order, from the plain decode, so the result is
//! exactly what the instructions give one by one, aliasing included. What changes is the
//! cost: no fetch, fuel check or indirect jump between them.
//!
//! Some shapes also name their registers: the compiler's idioms with the registers it gives
//! them (the frame through `sp`, a spilled value reloaded into `t0`/`t1`, the carry in
//! `t4`…). They match only those registers, and their handler takes the registers from the
//! shape, not from the decode: every register access is then at a fixed place, so the
//! values stay in host registers from one instruction of the group to the next instead of
//! making a round trip through the register file at indices known only at run time (that
//! chain, not the instruction count, was what made compiled fib slower than the VM). The
//! same operations with other registers take the general shape.
//!
//! A fused entry runs only when the whole group fits the fuel left; otherwise (and for
//! single steps, breakpoints and the undo log) the plain decode runs. A fault inside a group
//! stops at the faulting instruction, with the ones before it done, as they would be one by
//! one. The tests run the same programs fused and step by step and compare.

use crate::cpu::{Exec, Op, SINK, Stop, fetch_fault_at, jump_fault};
use crate::memory::{Bus, Width};

/// What a group did: it ran to its end or jumped (`Next`: the next index and the
/// instructions run), or an instruction stopped it (`Stopped`: the instructions run before
/// it; the stop itself is written to the caller's slot, on this cold path only, so the
/// common result stays two words in registers).
pub(crate) enum Outcome {
    Next(usize, u64),
    Stopped(u64),
}

macro_rules! one {
    // Register-register and register-immediate operations.
    (@alu $r:ident, $e:ident, $v:expr) => {{
        let v = $v;
        $r[usize::from($e.rd)] = v;
    }};
    (Add, $e:ident, $r:ident, $b:ident, $pc:expr, $k:ident, $i:ident, $stop:ident) => {
        one!(@alu $r, $e, $r[usize::from($e.rs1)].wrapping_add($r[usize::from($e.rs2)]))
    };
    (Sub, $e:ident, $r:ident, $b:ident, $pc:expr, $k:ident, $i:ident, $stop:ident) => {
        one!(@alu $r, $e, $r[usize::from($e.rs1)].wrapping_sub($r[usize::from($e.rs2)]))
    };
    (Sltu, $e:ident, $r:ident, $b:ident, $pc:expr, $k:ident, $i:ident, $stop:ident) => {
        one!(@alu $r, $e, u32::from($r[usize::from($e.rs1)] < $r[usize::from($e.rs2)]))
    };
    (Xor, $e:ident, $r:ident, $b:ident, $pc:expr, $k:ident, $i:ident, $stop:ident) => {
        one!(@alu $r, $e, $r[usize::from($e.rs1)] ^ $r[usize::from($e.rs2)])
    };
    (And, $e:ident, $r:ident, $b:ident, $pc:expr, $k:ident, $i:ident, $stop:ident) => {
        one!(@alu $r, $e, $r[usize::from($e.rs1)] & $r[usize::from($e.rs2)])
    };
    (Addi, $e:ident, $r:ident, $b:ident, $pc:expr, $k:ident, $i:ident, $stop:ident) => {
        one!(@alu $r, $e, $r[usize::from($e.rs1)].wrapping_add($e.imm as u32))
    };
    (Sltiu, $e:ident, $r:ident, $b:ident, $pc:expr, $k:ident, $i:ident, $stop:ident) => {
        one!(@alu $r, $e, u32::from($r[usize::from($e.rs1)] < $e.imm as u32))
    };
    (Lw, $e:ident, $r:ident, $b:ident, $pc:expr, $k:ident, $i:ident, $stop:ident) => {{
        let addr = $r[usize::from($e.rs1)].wrapping_add($e.imm as u32);
        match $b.load($pc, addr, Width::Word) {
            Ok(v) => $r[usize::from($e.rd)] = v,
            Err(f) => { *$stop = Some(Stop::Fault(f)); return Outcome::Stopped($k as u64) }
        }
    }};
    (Sw, $e:ident, $r:ident, $b:ident, $pc:expr, $k:ident, $i:ident, $stop:ident) => {{
        let addr = $r[usize::from($e.rs1)].wrapping_add($e.imm as u32);
        if let Err(f) = $b.store($pc, addr, Width::Word, $r[usize::from($e.rs2)]) {
            *$stop = Some(Stop::Fault(f));
            return Outcome::Stopped($k as u64);
        }
    }};
    (@branch $e:ident, $taken:expr, $b:ident, $pc:expr, $k:ident, $i:ident, $stop:ident) => {{
        if $taken {
            if $e.imm & 3 != 0 {
                *$stop = Some(jump_fault($b, $pc, $pc.wrapping_add($e.imm as u32)));
                return Outcome::Stopped($k as u64);
            }
            return Outcome::Next((($i + $k) as isize + ($e.imm >> 2) as isize) as usize, $k as u64 + 1);
        }
    }};
    (Beq, $e:ident, $r:ident, $b:ident, $pc:expr, $k:ident, $i:ident, $stop:ident) => {
        one!(@branch $e, $r[usize::from($e.rs1)] == $r[usize::from($e.rs2)], $b, $pc, $k, $i, $stop)
    };
    (Bne, $e:ident, $r:ident, $b:ident, $pc:expr, $k:ident, $i:ident, $stop:ident) => {
        one!(@branch $e, $r[usize::from($e.rs1)] != $r[usize::from($e.rs2)], $b, $pc, $k, $i, $stop)
    };
    (Blt, $e:ident, $r:ident, $b:ident, $pc:expr, $k:ident, $i:ident, $stop:ident) => {
        one!(@branch $e, ($r[usize::from($e.rs1)] as i32) < ($r[usize::from($e.rs2)] as i32), $b, $pc, $k, $i, $stop)
    };
    (Bltu, $e:ident, $r:ident, $b:ident, $pc:expr, $k:ident, $i:ident, $stop:ident) => {
        one!(@branch $e, $r[usize::from($e.rs1)] < $r[usize::from($e.rs2)], $b, $pc, $k, $i, $stop)
    };
    (Bgeu, $e:ident, $r:ident, $b:ident, $pc:expr, $k:ident, $i:ident, $stop:ident) => {
        one!(@branch $e, $r[usize::from($e.rs1)] >= $r[usize::from($e.rs2)], $b, $pc, $k, $i, $stop)
    };
    (@jump $e:ident, $t:expr, $r:ident, $b:ident, $pc:expr, $k:ident, $base:ident, $stop:ident) => {{
        let t: u32 = $t;
        if t & 3 != 0 {
            *$stop = Some(jump_fault($b, $pc, t));
            return Outcome::Stopped($k as u64);
        }
        $r[usize::from($e.rd)] = $pc.wrapping_add(4);
        return Outcome::Next(t.wrapping_sub($base) as usize / 4, $k as u64 + 1);
    }};
}

macro_rules! shapes {
    ($($name:ident: $($op:ident $([$rd:tt $rs1:tt $rs2:tt])?)+;)*) => {
        /// The shapes, by name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub(crate) enum Shape { $($name),* }

        /// Every shape with its operations and their registers where the shape names them,
        /// in declaration order (the index is its discriminant). The matcher takes the
        /// longest that fits, and the first declared of equal length.
        const SHAPES: &[(Shape, &[(Op, Option<[u8; 3]>)])] =
            &[$((Shape::$name, &[$((Op::$op, regs!($($rd $rs1 $rs2)?))),+])),*];

        /// Each shape's discriminant as a constant, so the dispatch matches the byte itself
        /// (one jump table).
        #[allow(non_upper_case_globals)]
        mod id { $(pub(super) const $name: u8 = super::Shape::$name as u8;)* }

        /// Runs the group of `shape` at index `i` of `plain` (which holds all of it).
        #[inline(always)]
        #[allow(unreachable_code)]
        pub(crate) fn run<B: Bus>(
            shape: u8,
            plain: &[Exec],
            i: usize,
            base: u32,
            r: &mut [u32; 256],
            b: &mut B,
            stop: &mut Option<Stop>,
        ) -> Outcome {
            let pc_of = |k: usize| base.wrapping_add(((i + k) as u32).wrapping_mul(4));
            match shape { $(
                id::$name => {
                    const N: usize = [$(Op::$op),+].len();
                    let Some(g) = plain.get(i..).and_then(|p| p.first_chunk::<N>()) else {
                        *stop = Some(Stop::Fault(fetch_fault_at(b, pc_of(0))));
                        return Outcome::Stopped(0);
                    };
                    let mut k = 0usize;
                    $(
                        let e = fixed!(g[k] $(, $rd $rs1 $rs2)?);
                        shape_op!($op, e, r, b, pc_of(k), k, i, base, stop);
                        #[allow(unused_assignments)]
                        { k += 1; }
                    )+
                    Outcome::Next(i + k, k as u64)
                }
            )*
                _ => unreachable!("a fused entry names a shape"),
            }
        }
    };
}

/// "Any register" in a shape's register pattern.
const ANY: u8 = u8::MAX;

/// A register of a shape's pattern by its ABI name (`_`: any), as the decode holds it in
/// a destination (`x0` is the sink) or in a source.
macro_rules! reg {
    (dst _) => { ANY };
    (dst zero) => { SINK };
    (dst $n:ident) => { reg!(src $n) };
    (src _) => { ANY };
    (src zero) => { 0 }; (src ra) => { 1 }; (src sp) => { 2 };
    (src t0) => { 5 }; (src t1) => { 6 }; (src t2) => { 7 };
    (src s0) => { 8 }; (src s1) => { 9 };
    (src a0) => { 10 }; (src a1) => { 11 }; (src a2) => { 12 }; (src a3) => { 13 };
    (src t3) => { 28 }; (src t4) => { 29 }; (src t5) => { 30 }; (src t6) => { 31 };
}

/// The registers `[rd, rs1, rs2]` an instruction of a shape must have, if it names them.
macro_rules! regs {
    () => { None };
    ($rd:tt $rs1:tt $rs2:tt) => { Some([reg!(dst $rd), reg!(src $rs1), reg!(src $rs2)]) };
}

/// The instruction as the handler reads it: where the shape names a register, the
/// constant (the matcher checked it), so the handler's register accesses have fixed
/// places and the compiler keeps the values in host registers between instructions
/// instead of going through the register file for each.
macro_rules! fixed {
    ($e:expr) => {
        $e
    };
    ($e:expr, $rd:tt $rs1:tt $rs2:tt) => {{
        let e: Exec = $e;
    const R: [u8; 3] = [reg!(dst $rd), reg!(src $rs1), reg!(src $rs2)];
        Exec {
            op: e.op,
            rd: if R[0] == ANY { e.rd } else { R[0] },
            rs1: if R[1] == ANY { e.rs1 } else { R[1] },
            rs2: if R[2] == ANY { e.rs2 } else { R[2] },
            imm: e.imm,
        }
    }};
}

macro_rules! shape_op {
    (Jal, $e:ident, $r:ident, $b:ident, $pc:expr, $k:ident, $i:ident, $base:ident, $stop:ident) => {
        one!(@jump $e, $pc.wrapping_add($e.imm as u32), $r, $b, $pc, $k, $base, $stop)
    };
    (Jalr, $e:ident, $r:ident, $b:ident, $pc:expr, $k:ident, $i:ident, $base:ident, $stop:ident) => {
        one!(@jump $e, $r[usize::from($e.rs1)].wrapping_add($e.imm as u32) & !1, $r, $b, $pc, $k, $base, $stop)
    };
    ($op:ident, $e:ident, $r:ident, $b:ident, $pc:expr, $k:ident, $i:ident, $base:ident, $stop:ident) => {
        one!($op, $e, $r, $b, $pc, $k, $i, $stop)
    };
}

shapes! {
    // The compiler's idioms with the registers it gives them (docs/riscv.md, "ABI"): the
    // handler's register accesses are then at fixed places (see `fixed!`). Before the
    // same operations with any registers, below.
    ProbeCmp1GeRetAt: Lw[zero sp _] Addi[t4 zero _] Blt[_ zero a1] Bne[_ a1 zero] Bgeu[_ a0 t4] Jalr[zero ra _];
    EnterStepCallAt: Addi[sp sp _] Sw[_ sp ra] Sw[_ sp a0] Sw[_ sp a1] Sltiu[t4 a0 _] Addi[a0 a0 _] Sub[a1 a1 t4] Jal[ra _ _];
    SpillStepCallAt: Sw[_ sp a0] Sw[_ sp a1] Lw[t0 sp _] Lw[t1 sp _] Sltiu[t4 t0 _] Addi[a0 t0 _] Sub[a1 t1 t4] Jal[ra _ _];
    ProbeCmp1RetAt: Lw[zero sp _] Addi[t4 zero _] Blt[_ a1 zero] Bne[_ a1 zero] Bltu[_ a0 t4] Jalr[zero ra _];
    ProbeCmp1GeAt: Lw[zero sp _] Addi[t4 zero _] Blt[_ zero a1] Bne[_ a1 zero] Bgeu[_ a0 t4];
    ProbeCmp1At: Lw[zero sp _] Addi[t4 zero _] Blt[_ a1 zero] Bne[_ a1 zero] Bltu[_ a0 t4];
    LoadAdd64At: Lw[t0 sp _] Lw[t1 sp _] Add[t2 t0 a0] Sltu[t4 t2 t0] Add[t3 t1 a1] Add[t3 t3 t4] Xor[t4 t3 t1] Xor[t5 t3 a1] And[t4 t4 t5] Blt[_ t4 zero];
    LoadSub64At: Lw[t0 sp _] Lw[t1 sp _] Sltu[t4 t0 a0] Sub[t2 t0 a0] Sub[t3 t1 a1] Sub[t3 t3 t4] Xor[t4 t1 a1] Xor[t5 t3 t1] And[t4 t4 t5] Blt[_ t4 zero];
    LoadSub64ReturnAt: Lw[t0 sp _] Lw[t1 sp _] Sltu[t4 t0 a0] Sub[t2 t0 a0] Sub[t3 t1 a1] Sub[t3 t3 t4] Xor[t4 t1 a1] Xor[t5 t3 t1] And[t4 t4 t5] Blt[_ t4 zero] Addi[a0 t2 _] Addi[a1 t3 _] Lw[ra sp _] Addi[sp sp _] Jalr[zero ra _];
    LoadAdd64ReturnAt: Lw[t0 sp _] Lw[t1 sp _] Add[t2 t0 a0] Sltu[t4 t2 t0] Add[t3 t1 a1] Add[t3 t3 t4] Xor[t4 t3 t1] Xor[t5 t3 a1] And[t4 t4 t5] Blt[_ t4 zero] Addi[a0 t2 _] Addi[a1 t3 _] Lw[ra sp _] Addi[sp sp _] Jalr[zero ra _];
    // 64-bit addition and subtraction with the overflow test, their operands loaded first.
    LoadAdd64: Lw Lw Add Sltu Add Add Xor Xor And Blt;
    LoadSub64: Lw Lw Sltu Sub Sub Sub Xor Xor And Blt;
    Add64: Add Sltu Add Add Xor Xor And Blt;
    Sub64: Sltu Sub Sub Sub Xor Xor And Blt;
    // Adding a small constant (a negative one borrows), with the overflow test.
    LoadAddNeg: Lw Lw Sltiu Addi Sub Blt;
    LoadAddPos: Lw Lw Addi Sltu Add Blt;
    AddNeg: Sltiu Addi Sub Blt;
    AddPos: Addi Sltu Add Blt;
    // A function's frame probe, then a comparison on its arguments.
    ProbeCmp2: Lw Addi Addi Blt Bne Bltu;
    ProbeCmp2Ge: Lw Addi Addi Blt Bne Bgeu;
    ProbeCmp1: Lw Addi Blt Bne Bltu;
    ProbeCmp1Ge: Lw Addi Blt Bne Bgeu;
    ProbeCmp: Lw Blt Bne Bltu;
    ProbeCmpGe: Lw Blt Bne Bgeu;
    ProbeEq: Lw Bne Beq;
    ProbeNe: Lw Bne Bne;
    // 64-bit comparisons and branches (constants loaded first, or not).
    Cmp2: Addi Addi Blt Bne Bltu;
    Cmp2Ge: Addi Addi Blt Bne Bgeu;
    Cmp1: Addi Blt Bne Bltu;
    Cmp1Ge: Addi Blt Bne Bgeu;
    Cmp: Blt Bne Bltu;
    CmpGe: Blt Bne Bgeu;
    LoadEq: Lw Lw Bne Beq;
    LoadNe: Lw Lw Bne Bne;
    // Frames: entering (the return address, then register arguments' words), leaving.
    Enter8: Addi Sw Sw Sw Sw Sw Sw Sw Sw Sw;
    Enter6: Addi Sw Sw Sw Sw Sw Sw Sw;
    Enter4: Addi Sw Sw Sw Sw Sw;
    Enter3: Addi Sw Sw Sw Sw;
    Enter2: Addi Sw Sw Sw;
    Enter1: Addi Sw Sw;
    Return2: Addi Addi Lw Addi Jalr;
    Return1: Addi Lw Addi Jalr;
    Return: Lw Addi Jalr;
    // Adding a constant with no overflow test (the compiler proved it cannot overflow).
    AddNegU: Sltiu Addi Sub;
    AddPosU: Addi Sltu Add;
    // A recursive step: the frame entered for an Int parameter, the parameter stepped down
    // into the argument registers, the call; after it, the result spilled, the parameter
    // reloaded and stepped again, the call; the two results added and returned.
    EnterStepCall: Addi Sw Sw Sw Sltiu Addi Sub Jal;
    SpillStepCall: Sw Sw Lw Lw Sltiu Addi Sub Jal;
    LoadAdd64Return: Lw Lw Add Sltu Add Add Xor Xor And Blt Addi Addi Lw Addi Jalr;
    // A function's probe and base-case test, returning at once (a leaf).
    ProbeCmp1Ret: Lw Addi Blt Bne Bltu Jalr;
    ProbeCmp1GeRet: Lw Addi Blt Bne Bgeu Jalr;
    ProbeCmpRet: Lw Blt Bne Bltu Jalr;
    ProbeCmpGeRet: Lw Blt Bne Bgeu Jalr;
    // Calls: spills, argument moves, the jump.
    SpillCall2: Sw Sw Addi Addi Jal;
    Call4: Addi Addi Addi Addi Jal;
    Call2: Addi Addi Jal;
    Store4: Sw Sw Sw Sw;
    Load4: Lw Lw Lw Lw;
}

/// The longest shape whose operations (and registers, where it names them) start `plain`,
/// among `candidates` (the shapes starting with `plain[0]`'s operation): its discriminant
/// and length.
fn shape_at(plain: &[Exec], candidates: &[usize]) -> Option<(u8, u8)> {
    let fits = |(op, regs): &(Op, Option<[u8; 3]>), e: &Exec| {
        *op == e.op
            && regs.is_none_or(|[rd, rs1, rs2]| {
                [(rd, e.rd), (rs1, e.rs1), (rs2, e.rs2)]
                    .iter()
                    .all(|&(want, got)| want == ANY || want == got)
            })
    };
    candidates
        .iter()
        .map(|&i| (i, SHAPES[i].1))
        .filter(|(_, ops)| {
            plain.len() >= ops.len() && ops.iter().zip(plain).all(|(o, e)| fits(o, e))
        })
        .max_by_key(|(i, ops)| (ops.len(), std::cmp::Reverse(*i)))
        .map(|(i, ops)| (i as u8, ops.len() as u8))
}

/// Every shape as its operations' mnemonics (`"Lw"`, `"Add"`…), each with the registers
/// `[rd, rs1, rs2]` the shape requires (`None`: any), for the tests that build programs of
/// them (tests/fused.rs), so that they follow this table.
#[doc(hidden)]
pub fn templates() -> Vec<Vec<(String, [Option<u8>; 3])>> {
    let named = |r: u8| match r {
        ANY => None,
        SINK => Some(0),
        r => Some(r),
    };
    SHAPES
        .iter()
        .map(|(_, ops)| {
            ops.iter()
                .map(|(op, regs)| {
                    let regs =
                        regs.map_or([None; 3], |[d, s1, s2]| [named(d), named(s1), named(s2)]);
                    (format!("{op:?}"), regs)
                })
                .collect()
        })
        .collect()
}

/// A fused entry for every position that starts a shape; the plain instruction elsewhere.
/// (Shapes are three instructions or more: for two, the group's own dispatch costs about
/// what it saves.)
pub(crate) fn fuse(plain: &[Exec]) -> Vec<Exec> {
    // Shapes by their first operation, so most positions are rejected at once.
    let mut by_first: Vec<Vec<usize>> = vec![Vec::new(); Op::Fused as usize + 1];
    for (i, (_, ops)) in SHAPES.iter().enumerate() {
        by_first[ops[0].0 as usize].push(i);
    }
    (0..plain.len())
        .map(|i| match shape_at(&plain[i..], &by_first[plain[i].op as usize]) {
            Some((shape, len)) => Exec { op: Op::Fused, rd: shape, rs1: len, rs2: 0, imm: 0 },
            None => plain[i],
        })
        .collect()
}

// `SINK` is what makes writes to x0 harmless in the handlers above, as in the loop.
const _: u8 = SINK;
