//! The assembler: a function's code as items (instructions, branches to labels, calls of
//! other functions, frame-relative addressing), laid out with branch relaxation into words
//! that are position-independent except for their relocations, which the linker resolves.
//!
//! A branch reaches ±4 KiB; one that cannot reach its label becomes the inverted branch
//! over a `jal` (±1 MiB). Layout repeats until no branch grows (items only grow, so it ends).

use rv_emu::{Cond, Insn, Reg};
use tel_hash::CodeHash;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Label(pub u32);

/// The runtime helpers every module carries (helpers.rs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Helper {
    /// `(a0,a1) * (a2,a3)` → `(a0,a1)`, `a2` = 1 on overflow.
    Mul64,
    /// `(a0,a1) / (a2,a3)` → quotient `(a0,a1)`, remainder `(a2,a3)`, `a4` = 1 on overflow.
    DivRem64,
}

/// One item of a function before layout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    Insn(Insn),
    Branch {
        cond: Cond,
        rs1: Reg,
        rs2: Reg,
        to: Label,
    },
    /// `jal zero, label`.
    Jump(Label),
    Bind(Label),
    /// A relocated word.
    Reloc(Reloc),
}

/// A word whose encoding depends on the link: where functions are, the frame size, where
/// strings are.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reloc {
    /// `jal ra, callee` (a call), or `jal zero, callee` (a tail call, after the caller took
    /// down its frame).
    Call {
        callee: CodeHash,
        tail: bool,
    },
    /// `jal ra, helper`.
    Helper(Helper),
    /// `addi sp, sp, -F` (entering) or `addi sp, sp, F` (leaving).
    Frame {
        enter: bool,
    },
    /// `sw rs2, (offset - F)(sp)`: a word of the next frame (a call's stack argument).
    StoreBelow {
        rs2: Reg,
        offset: i32,
    },
    /// `lw zero, -F(sp)`: the probe of the frame a function would take (docs/riscv.md,
    /// "Call depth").
    Probe,
    /// `lui rd, %hi(string)` / `addi rd, rd, %lo(string)`: the address of string `index` of
    /// the function's string table.
    StringHi {
        rd: Reg,
        index: u32,
    },
    StringLo {
        rd: Reg,
        index: u32,
    },
}

/// A laid-out word: an instruction, or a relocation.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Word {
    Insn(Insn),
    Reloc(Reloc),
}

/// Where the return address is while an instruction runs (before it executes): what the
/// runtime needs to walk the stack from any pc.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FrameState {
    /// No frame: the return address is in `ra`, `sp` is the caller's.
    #[default]
    None,
    /// The frame is allocated (`sp` moved) but the return address is in `ra`.
    Partial,
    /// The return address is saved at `0(sp)`.
    Full,
}

/// What the tables say about a word: its expression id and frame state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tag {
    pub expr: u32,
    pub frame: FrameState,
}

/// An error of layout: a branch or jump that no form reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooFar;

/// A function laid out: its words, each word's tag, each label's word index.
pub struct Laid {
    pub words: Vec<Word>,
    pub tags: Vec<Tag>,
    pub labels: Vec<u32>,
}

/// Lays out `items` (each with its tag).
pub fn layout(items: &[(Item, Tag)], labels: usize) -> Result<Laid, TooFar> {
    let mut long = vec![false; items.len()];
    loop {
        // Word index of each item and each label under the current choice of forms.
        let mut at = vec![0u32; labels];
        let mut pos = 0u32;
        let mut start = Vec::with_capacity(items.len());
        for (i, (item, _)) in items.iter().enumerate() {
            start.push(pos);
            pos += match item {
                Item::Bind(l) => {
                    at[l.0 as usize] = pos;
                    0
                }
                Item::Branch { .. } if long[i] => 2,
                _ => 1,
            };
        }
        let mut grew = false;
        for (i, (item, _)) in items.iter().enumerate() {
            if let Item::Branch { to, .. } = item
                && !long[i]
            {
                let off = (i64::from(at[to.0 as usize]) - i64::from(start[i])) * 4;
                if !(-4096..4096).contains(&off) {
                    long[i] = true;
                    grew = true;
                }
            }
        }
        if grew {
            continue;
        }
        let mut words = Vec::with_capacity(pos as usize);
        let mut ids = Vec::with_capacity(pos as usize);
        for (i, (item, id)) in items.iter().enumerate() {
            let here = start[i] as i64;
            let to = |l: &Label, from: i64| ((i64::from(at[l.0 as usize]) - from) * 4) as i32;
            match item {
                Item::Bind(_) => continue,
                Item::Insn(insn) => words.push(Word::Insn(*insn)),
                Item::Reloc(r) => words.push(Word::Reloc(r.clone())),
                Item::Jump(l) => {
                    let offset = to(l, here);
                    if !(-(1 << 20)..(1 << 20)).contains(&offset) {
                        return Err(TooFar);
                    }
                    words.push(Word::Insn(Insn::Jal { rd: Reg::ZERO, offset }));
                }
                Item::Branch { cond, rs1, rs2, to: l } if long[i] => {
                    words.push(Word::Insn(Insn::Branch {
                        cond: cond.negate(),
                        rs1: *rs1,
                        rs2: *rs2,
                        offset: 8,
                    }));
                    ids.push(*id);
                    let offset = to(l, here + 1);
                    if !(-(1 << 20)..(1 << 20)).contains(&offset) {
                        return Err(TooFar);
                    }
                    words.push(Word::Insn(Insn::Jal { rd: Reg::ZERO, offset }));
                }
                Item::Branch { cond, rs1, rs2, to: l } => {
                    words.push(Word::Insn(Insn::Branch {
                        cond: *cond,
                        rs1: *rs1,
                        rs2: *rs2,
                        offset: to(l, here),
                    }));
                }
            }
            ids.push(*id);
        }
        return Ok(Laid { words, tags: ids, labels: at });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_branch_too_far_for_its_field_becomes_a_jump() {
        let nop = Insn::AluImm { op: rv_emu::AluImm::Addi, rd: Reg::ZERO, rs1: Reg::ZERO, imm: 0 };
        let l = Label(0);
        let t = |expr| Tag { expr, frame: FrameState::None };
        let mut items =
            vec![(Item::Branch { cond: Cond::Eq, rs1: Reg::A0, rs2: Reg::A1, to: l }, t(0))];
        items.extend((0..2000).map(|_| (Item::Insn(nop), t(1))));
        items.push((Item::Bind(l), t(2)));
        let Laid { words, tags, labels: at } = layout(&items, 1).unwrap();
        assert_eq!(words.len(), 2002);
        assert_eq!(
            words[0],
            Word::Insn(Insn::Branch { cond: Cond::Ne, rs1: Reg::A0, rs2: Reg::A1, offset: 8 })
        );
        assert_eq!(words[1], Word::Insn(Insn::Jal { rd: Reg::ZERO, offset: 2001 * 4 }));
        assert_eq!((tags[0].expr, tags[1].expr, at[0]), (0, 0, 2002));
        // Near enough, it stays one instruction.
        let items = vec![
            (Item::Branch { cond: Cond::Eq, rs1: Reg::A0, rs2: Reg::A1, to: l }, t(0)),
            (Item::Insn(nop), t(1)),
            (Item::Bind(l), t(2)),
        ];
        let words = layout(&items, 1).unwrap().words;
        assert_eq!(
            words[0],
            Word::Insn(Insn::Branch { cond: Cond::Eq, rs1: Reg::A0, rs2: Reg::A1, offset: 8 })
        );
    }
}
