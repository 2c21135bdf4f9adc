//! The encoder and decoder against disc-v: every instruction we encode decodes (in disc-v,
//! `objdump -M no-aliases` style) to the text we write for it, and back to itself.

use proptest::prelude::*;
use rv_emu::{Alu, AluImm, Cond, Insn, LoadKind, Reg, StoreKind};

fn reg() -> impl Strategy<Value = Reg> {
    (0u8..32).prop_map(|n| Reg::new(n).unwrap())
}

fn imm12() -> impl Strategy<Value = i32> {
    -2048i32..2048
}

pub fn insn() -> impl Strategy<Value = Insn> {
    let cond =
        prop::sample::select(vec![Cond::Eq, Cond::Ne, Cond::Lt, Cond::Ge, Cond::Ltu, Cond::Geu]);
    let load = prop::sample::select(vec![
        LoadKind::B,
        LoadKind::H,
        LoadKind::W,
        LoadKind::Bu,
        LoadKind::Hu,
    ]);
    let store = prop::sample::select(vec![StoreKind::B, StoreKind::H, StoreKind::W]);
    let alu_imm = prop::sample::select(vec![
        AluImm::Addi,
        AluImm::Slti,
        AluImm::Sltiu,
        AluImm::Xori,
        AluImm::Ori,
        AluImm::Andi,
    ]);
    let shift = prop::sample::select(vec![AluImm::Slli, AluImm::Srli, AluImm::Srai]);
    prop_oneof![
        (reg(), 0u32..1 << 20).prop_map(|(rd, imm)| Insn::Lui { rd, imm }),
        (reg(), 0u32..1 << 20).prop_map(|(rd, imm)| Insn::Auipc { rd, imm }),
        (reg(), -(1i32 << 19)..(1 << 19)).prop_map(|(rd, o)| Insn::Jal { rd, offset: o * 2 }),
        (reg(), reg(), imm12()).prop_map(|(rd, rs1, offset)| Insn::Jalr { rd, rs1, offset }),
        (cond, reg(), reg(), -2048i32..2048).prop_map(|(cond, rs1, rs2, o)| Insn::Branch {
            cond,
            rs1,
            rs2,
            offset: o * 2
        }),
        (load, reg(), reg(), imm12()).prop_map(|(kind, rd, rs1, offset)| Insn::Load {
            kind,
            rd,
            rs1,
            offset
        }),
        (store, reg(), reg(), imm12()).prop_map(|(kind, rs1, rs2, offset)| Insn::Store {
            kind,
            rs1,
            rs2,
            offset
        }),
        (alu_imm, reg(), reg(), imm12()).prop_map(|(op, rd, rs1, imm)| Insn::AluImm {
            op,
            rd,
            rs1,
            imm
        }),
        (shift, reg(), reg(), 0i32..32).prop_map(|(op, rd, rs1, imm)| Insn::AluImm {
            op,
            rd,
            rs1,
            imm
        }),
        (prop::sample::select(Alu::ALL.to_vec()), reg(), reg(), reg())
            .prop_map(|(op, rd, rs1, rs2)| Insn::Alu { op, rd, rs1, rs2 }),
        (1u8..16, 1u8..16).prop_map(|(pred, succ)| Insn::Fence { pred, succ }),
        Just(Insn::Ecall),
        Just(Insn::Ebreak),
    ]
}

fn disc_v_text(pc: u32, word: u32) -> String {
    disc_v::decode(disc_v::Isa::Rv32, u64::from(pc), u64::from(word)).without_aliases().to_string()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn encode_decode_and_disc_v_agree(insn in insn(), pc in (0u32..1 << 20).prop_map(|p| p * 4)) {
        let word = insn.encode().expect("the strategy makes encodable instructions");
        prop_assert_eq!(Insn::decode(word), Some(insn));
        prop_assert_eq!(insn.text(pc), disc_v_text(pc, word), "{:?} = {:#010x}", insn, word);
    }

    /// Any word: ours decodes it exactly when disc-v sees an RV32IM instruction, and then
    /// re-encodes it bit for bit.
    #[test]
    fn any_word_decodes_like_disc_v(word in any::<u32>().prop_map(|w| w | 3)) {
        if let Some(insn) = Insn::decode(word) {
            prop_assert_eq!(insn.encode(), Ok(word));
            prop_assert_eq!(insn.text(0x1000), disc_v_text(0x1000, word));
        }
    }
}

#[test]
fn some_texts() {
    let t = |i: Insn| i.text(0x1000);
    expect_test::expect![[r#"
        addi a0,a0,-1
        jal ra,0x1010
        jalr zero,0(ra)
        bne a1,zero,0xffc
        lw ra,12(sp)
        sw a1,-4(s0)
        slli t0,t1,0x3
        lui a0,0xfffff
        fence iorw,iorw
    "#]]
    .assert_eq(
        &[
            Insn::AluImm { op: AluImm::Addi, rd: Reg::A0, rs1: Reg::A0, imm: -1 },
            Insn::Jal { rd: Reg::RA, offset: 16 },
            Insn::Jalr { rd: Reg::ZERO, rs1: Reg::RA, offset: 0 },
            Insn::Branch { cond: Cond::Ne, rs1: Reg::A1, rs2: Reg::ZERO, offset: -4 },
            Insn::Load { kind: LoadKind::W, rd: Reg::RA, rs1: Reg::SP, offset: 12 },
            Insn::Store { kind: StoreKind::W, rs1: Reg::S0, rs2: Reg::A1, offset: -4 },
            Insn::AluImm { op: AluImm::Slli, rd: Reg::T0, rs1: Reg::T1, imm: 3 },
            Insn::Lui { rd: Reg::A0, imm: 0xfffff },
            Insn::Fence { pred: 15, succ: 15 },
        ]
        .map(|i| t(i) + "\n")
        .concat(),
    );
}
