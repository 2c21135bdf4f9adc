//! The routines every module carries: 64-bit multiplication and division with overflow
//! detection (RV32M multiplies and divides 32 bits). They are leaf routines: no stack, no
//! calls; they clobber `a0`–`a7`, `t4`–`t6` and return with `jalr zero, 0(ra)`.
//! docs/riscv.md gives their contracts; `tests/helpers.rs` checks them against Rust's `i64`.

use crate::asm::{Helper, Item, Label, Tag};
use rv_emu::{Alu, AluImm, Cond, Insn, Reg};

struct B {
    items: Vec<(Item, Tag)>,
    labels: u32,
}

impl B {
    fn label(&mut self) -> Label {
        self.labels += 1;
        Label(self.labels - 1)
    }
    fn i(&mut self, insn: Insn) {
        self.items.push((Item::Insn(insn), Tag::default()));
    }
    fn bind(&mut self, l: Label) {
        self.items.push((Item::Bind(l), Tag::default()));
    }
    fn br(&mut self, cond: Cond, rs1: Reg, rs2: Reg, to: Label) {
        self.items.push((Item::Branch { cond, rs1, rs2, to }, Tag::default()));
    }
    fn alu(&mut self, op: Alu, rd: Reg, rs1: Reg, rs2: Reg) {
        self.i(Insn::Alu { op, rd, rs1, rs2 });
    }
    fn imm(&mut self, op: AluImm, rd: Reg, rs1: Reg, imm: i32) {
        self.i(Insn::AluImm { op, rd, rs1, imm });
    }
    fn li(&mut self, rd: Reg, imm: i32) {
        self.imm(AluImm::Addi, rd, Reg::ZERO, imm);
    }
    fn ret(&mut self) {
        self.i(Insn::Jalr { rd: Reg::ZERO, rs1: Reg::RA, offset: 0 });
    }
    /// `(lo, hi) = -(lo, hi)` using `tmp`.
    fn neg64(&mut self, lo: Reg, hi: Reg, tmp: Reg) {
        self.alu(Alu::Sltu, tmp, Reg::ZERO, lo);
        self.alu(Alu::Sub, hi, Reg::ZERO, hi);
        self.alu(Alu::Sub, hi, hi, tmp);
        self.alu(Alu::Sub, lo, Reg::ZERO, lo);
    }
}

/// The helper's items and its label count.
pub fn items(h: Helper) -> (Vec<(Item, Tag)>, usize) {
    let mut b = B { items: Vec::new(), labels: 0 };
    match h {
        Helper::Mul64 => mul64(&mut b),
        Helper::DivRem64 => divrem64(&mut b),
    }
    (b.items, b.labels as usize)
}

fn mul64(b: &mut B) {
    use Reg as R;
    let (ovf, a_pos, b_pos, a1_zero, cross_done, negative, min) =
        (b.label(), b.label(), b.label(), b.label(), b.label(), b.label(), b.label());
    // t6 = the result's sign (0 or -1); both operands made non-negative (|i64::MIN| is 2^63,
    // which unsigned arithmetic holds).
    b.imm(AluImm::Srai, R::T4, R::A1, 31);
    b.imm(AluImm::Srai, R::T5, R::A3, 31);
    b.alu(Alu::Xor, R::T6, R::T4, R::T5);
    b.br(Cond::Eq, R::T4, R::ZERO, a_pos);
    b.neg64(R::A0, R::A1, R::A4);
    b.bind(a_pos);
    b.br(Cond::Eq, R::T5, R::ZERO, b_pos);
    b.neg64(R::A2, R::A3, R::A4);
    b.bind(b_pos);
    // (a1:a0) * (a3:a2) as unsigned: it fits 64 bits only if one high word is zero and the
    // cross product fits 32 bits.
    b.br(Cond::Eq, R::A1, R::ZERO, a1_zero);
    b.br(Cond::Ne, R::A3, R::ZERO, ovf);
    b.alu(Alu::Mulhu, R::A4, R::A1, R::A2);
    b.br(Cond::Ne, R::A4, R::ZERO, ovf);
    b.alu(Alu::Mul, R::A4, R::A1, R::A2);
    b.items.push((Item::Jump(cross_done), Tag::default()));
    b.bind(a1_zero);
    b.alu(Alu::Mulhu, R::A4, R::A0, R::A3);
    b.br(Cond::Ne, R::A4, R::ZERO, ovf);
    b.alu(Alu::Mul, R::A4, R::A0, R::A3);
    b.bind(cross_done);
    b.alu(Alu::Mulhu, R::A5, R::A0, R::A2);
    b.alu(Alu::Mul, R::A0, R::A0, R::A2);
    b.alu(Alu::Add, R::A1, R::A5, R::A4);
    b.br(Cond::Ltu, R::A1, R::A5, ovf);
    // The magnitude is (a1:a0); it must fit the signed range.
    b.br(Cond::Ne, R::T6, R::ZERO, negative);
    b.br(Cond::Lt, R::A1, R::ZERO, ovf);
    b.li(R::A2, 0);
    b.ret();
    b.bind(negative);
    b.br(Cond::Lt, R::A1, R::ZERO, min);
    b.neg64(R::A0, R::A1, R::A4);
    b.li(R::A2, 0);
    b.ret();
    // A magnitude of 2^63 or more: only exactly 2^63 is representable (as i64::MIN, whose
    // bits it already has).
    b.bind(min);
    b.i(Insn::Lui { rd: R::A4, imm: 0x80000 });
    b.br(Cond::Ne, R::A1, R::A4, ovf);
    b.br(Cond::Ne, R::A0, R::ZERO, ovf);
    b.li(R::A2, 0);
    b.ret();
    b.bind(ovf);
    b.li(R::A2, 1);
    b.ret();
}

fn divrem64(b: &mut B) {
    use Reg as R;
    let (not_ovf, slow, not_min32, a_pos, b_pos, step, skip, q_pos, r_pos) = (
        b.label(),
        b.label(),
        b.label(),
        b.label(),
        b.label(),
        b.label(),
        b.label(),
        b.label(),
        b.label(),
    );
    // i64::MIN / -1 overflows (and so does its remainder, as Rust's checked_rem says).
    b.i(Insn::Lui { rd: R::T4, imm: 0x80000 });
    b.br(Cond::Ne, R::A1, R::T4, not_ovf);
    b.br(Cond::Ne, R::A0, R::ZERO, not_ovf);
    b.li(R::T5, -1);
    b.br(Cond::Ne, R::A3, R::T5, not_ovf);
    b.br(Cond::Ne, R::A2, R::T5, not_ovf);
    b.li(R::A4, 1);
    b.ret();
    b.bind(not_ovf);
    // Both operands 32-bit (the high word is the low word's sign): one div and one rem,
    // except i32::MIN / -1, whose quotient needs 33 bits.
    b.imm(AluImm::Srai, R::T4, R::A0, 31);
    b.br(Cond::Ne, R::T4, R::A1, slow);
    b.imm(AluImm::Srai, R::T4, R::A2, 31);
    b.br(Cond::Ne, R::T4, R::A3, slow);
    b.i(Insn::Lui { rd: R::T4, imm: 0x80000 });
    b.br(Cond::Ne, R::A0, R::T4, not_min32);
    b.li(R::T5, -1);
    b.br(Cond::Eq, R::A2, R::T5, slow);
    b.bind(not_min32);
    b.alu(Alu::Rem, R::T5, R::A0, R::A2);
    b.alu(Alu::Div, R::A0, R::A0, R::A2);
    b.imm(AluImm::Srai, R::A1, R::A0, 31);
    b.imm(AluImm::Addi, R::A2, R::T5, 0);
    b.imm(AluImm::Srai, R::A3, R::A2, 31);
    b.li(R::A4, 0);
    b.ret();
    // Shift-and-subtract on the magnitudes: t6 = the dividend's sign (the remainder's),
    // t5 = the divisor's; the quotient is negative when they differ.
    b.bind(slow);
    b.imm(AluImm::Srai, R::T6, R::A1, 31);
    b.imm(AluImm::Srai, R::T5, R::A3, 31);
    b.br(Cond::Eq, R::T6, R::ZERO, a_pos);
    b.neg64(R::A0, R::A1, R::A6);
    b.bind(a_pos);
    b.br(Cond::Eq, R::T5, R::ZERO, b_pos);
    b.neg64(R::A2, R::A3, R::A6);
    b.bind(b_pos);
    b.li(R::A4, 0);
    b.li(R::A5, 0);
    b.li(R::T4, 64);
    b.bind(step);
    // r = r << 1 | q >> 63; q <<= 1
    b.imm(AluImm::Slli, R::A5, R::A5, 1);
    b.imm(AluImm::Srli, R::A6, R::A4, 31);
    b.alu(Alu::Or, R::A5, R::A5, R::A6);
    b.imm(AluImm::Slli, R::A4, R::A4, 1);
    b.imm(AluImm::Srli, R::A6, R::A1, 31);
    b.alu(Alu::Or, R::A4, R::A4, R::A6);
    b.imm(AluImm::Slli, R::A1, R::A1, 1);
    b.imm(AluImm::Srli, R::A6, R::A0, 31);
    b.alu(Alu::Or, R::A1, R::A1, R::A6);
    b.imm(AluImm::Slli, R::A0, R::A0, 1);
    // if r >= d (unsigned): r -= d, q |= 1
    let sub = b.label();
    b.br(Cond::Ltu, R::A5, R::A3, skip);
    b.br(Cond::Ne, R::A5, R::A3, sub);
    b.br(Cond::Ltu, R::A4, R::A2, skip);
    b.bind(sub);
    b.alu(Alu::Sltu, R::A6, R::A4, R::A2);
    b.alu(Alu::Sub, R::A4, R::A4, R::A2);
    b.alu(Alu::Sub, R::A5, R::A5, R::A3);
    b.alu(Alu::Sub, R::A5, R::A5, R::A6);
    b.imm(AluImm::Ori, R::A0, R::A0, 1);
    b.bind(skip);
    b.imm(AluImm::Addi, R::T4, R::T4, -1);
    b.br(Cond::Ne, R::T4, R::ZERO, step);
    // Signs back: the quotient's, then the remainder's (the dividend's).
    b.br(Cond::Eq, R::T6, R::T5, q_pos);
    b.neg64(R::A0, R::A1, R::A6);
    b.bind(q_pos);
    b.br(Cond::Eq, R::T6, R::ZERO, r_pos);
    b.neg64(R::A4, R::A5, R::A6);
    b.bind(r_pos);
    b.imm(AluImm::Addi, R::A2, R::A4, 0);
    b.imm(AluImm::Addi, R::A3, R::A5, 0);
    b.li(R::A4, 0);
    b.ret();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asm::{Word, layout};
    use proptest::prelude::*;
    use rv_emu::{Cpu, Memory, Perm, Segment, Stop};

    /// Runs helper `h` on `(a, b)`: a driver `jal ra, helper; ebreak`, then the helper.
    fn run(h: Helper, a: i64, b: i64) -> (u32, u32, u32, u32, u32) {
        let (items, labels) = items(h);
        let words = layout(&items, labels).unwrap().words;
        let mut code: Vec<Insn> = vec![Insn::Jal { rd: Reg::RA, offset: 8 }, Insn::Ebreak];
        code.extend(words.iter().map(|w| match w {
            Word::Insn(i) => *i,
            Word::Reloc(r) => panic!("a helper has no relocation: {r:?}"),
        }));
        let bytes = code.iter().flat_map(|i| i.encode().unwrap().to_le_bytes()).collect();
        let seg = Segment {
            name: "code".into(),
            base: 0x1000,
            size: 0x1000,
            perm: Perm::RX,
            guard: false,
        };
        let mut cpu = Cpu::new(Memory::new(vec![(seg, bytes)]).unwrap(), 0x1000);
        for (r, v) in [
            (Reg::A0, a as u32),
            (Reg::A1, (a >> 32) as u32),
            (Reg::A2, b as u32),
            (Reg::A3, (b >> 32) as u32),
        ] {
            cpu.set_reg(r, v);
        }
        assert_eq!(cpu.run(100_000), Stop::Ebreak);
        let r = |x| cpu.reg(x);
        (r(Reg::A0), r(Reg::A1), r(Reg::A2), r(Reg::A3), r(Reg::A4))
    }

    fn join(lo: u32, hi: u32) -> i64 {
        (u64::from(hi) << 32 | u64::from(lo)) as i64
    }

    fn check_mul(a: i64, b: i64) {
        let (lo, hi, flag, _, _) = run(Helper::Mul64, a, b);
        match a.checked_mul(b) {
            Some(p) => assert_eq!((flag, join(lo, hi)), (0, p), "{a} * {b}"),
            None => assert_eq!(flag, 1, "{a} * {b} overflows"),
        }
    }

    fn check_div(a: i64, b: i64) {
        let (qlo, qhi, rlo, rhi, flag) = run(Helper::DivRem64, a, b);
        match (a.checked_div(b), a.checked_rem(b)) {
            (Some(q), Some(r)) => {
                assert_eq!((flag, join(qlo, qhi), join(rlo, rhi)), (0, q, r), "{a} / {b}")
            }
            _ => assert_eq!(flag, 1, "{a} / {b} overflows"),
        }
    }

    /// Values near the edges of every word, where carries and signs go wrong.
    fn edgy() -> impl Strategy<Value = i64> {
        prop_oneof![
            any::<i64>(),
            -70i64..70,
            prop::sample::select(vec![
                i64::MIN,
                i64::MIN + 1,
                i64::MAX,
                i64::MAX - 1,
                1 << 32,
                (1 << 32) - 1,
                -(1 << 32),
                1 << 31,
                -(1 << 31),
                (1 << 31) - 1,
                3_037_000_499,
                3_037_000_500,
                -3_037_000_500,
                1 << 62,
                -(1 << 62),
            ]),
            any::<i32>().prop_map(i64::from),
        ]
    }

    #[test]
    fn the_edges() {
        for a in [i64::MIN, -1, 0, 1, i64::MAX, 1 << 32, -(1 << 31), 1 << 31] {
            for b in [i64::MIN, -1, 1, 2, i64::MAX, 1 << 32, -(1 << 31), 1 << 31] {
                check_mul(a, b);
                check_div(a, b);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn mul64_is_checked_i64_multiplication(a in edgy(), b in edgy()) {
            check_mul(a, b);
        }

        #[test]
        fn divrem64_is_checked_i64_division(a in edgy(), b in edgy().prop_filter("not zero", |b| *b != 0)) {
            check_div(a, b);
        }
    }
}
