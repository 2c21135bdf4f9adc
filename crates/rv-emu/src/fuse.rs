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
    ($($name:ident: $($op:ident)+;)*) => {
        /// The shapes, by name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub(crate) enum Shape { $($name),* }

        /// Every shape with its operations, in declaration order (the index is its
        /// discriminant). The matcher takes the longest that fits.
        const SHAPES: &[(Shape, &[Op])] = &[$((Shape::$name, &[$(Op::$op),+])),*];

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
                        let e = g[k];
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

/// The longest shape whose operations start `plain`, among `candidates` (the shapes
/// starting with `plain[0]`'s operation): its discriminant and length.
fn shape_at(plain: &[Exec], candidates: &[usize]) -> Option<(u8, u8)> {
    candidates
        .iter()
        .map(|&i| (i, SHAPES[i].1))
        .filter(|(_, ops)| {
            plain.len() >= ops.len() && ops.iter().zip(plain).all(|(op, e)| *op == e.op)
        })
        .max_by_key(|(i, ops)| (ops.len(), std::cmp::Reverse(*i)))
        .map(|(i, ops)| (i as u8, ops.len() as u8))
}

/// A fused entry for every position that starts a shape; the plain instruction elsewhere.
/// (Shapes are three instructions or more: for two, the group's own dispatch costs about
/// what it saves.)
pub(crate) fn fuse(plain: &[Exec]) -> Vec<Exec> {
    // Shapes by their first operation, so most positions are rejected at once.
    let mut by_first: Vec<Vec<usize>> = vec![Vec::new(); Op::Fused as usize + 1];
    for (i, (_, ops)) in SHAPES.iter().enumerate() {
        by_first[ops[0] as usize].push(i);
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
