//! A compiled function's stable byte form, so the codebase can keep it (docs/riscv.md,
//! "Artifact cache"), and [`CODEGEN`], the identity of the code generator that made it.
//!
//! The form is hand-written, little-endian, with fixed-width integers and no padding: the
//! same object gives the same bytes on every machine. An instruction is its RV32IM encoding
//! (the most stable form an instruction has), a relocation a tag and its operands:
//!
//! ```text
//! magic "TRVO"  version u8
//! hash [32]  name (0 | 1 str)  params (u32 n, n × kind u8)  ret kind u8
//! words (u32 n, n × word)  tags (n × (expr u32, frame u8))
//! traps (u32 n, n × (word u32, trap u8))  slots u32
//! strings (u32 n, n × str)  callees (u32 n, n × [32])
//! str = u32 length, UTF-8 bytes
//! word = 0 insn u32 | 1 call [32] tail u8 | 2 helper u8 | 3 frame enter u8 | 4 probe
//!      | 5 store-below rs2 u8 offset i32 | 6 string-hi rd u8 index u32 | 7 string-lo rd u8 index u32
//! ```
//!
//! Decoding checks everything the linker relies on (a call's callee among the callees, a
//! string index in the table, a trap on a word of the function, a frame that fits), so a
//! blob that decodes links without panicking; anything else is an [`ObjectError`] naming what
//! is wrong and where.

use std::sync::LazyLock;

use rv_emu::{Insn, Reg};
use smol_str::SmolStr;
use tel_hash::CodeHash;

use crate::abi::{self, Kind};
use crate::asm::{FrameState, Helper, Reloc, Tag, Word};
use crate::compile::{FnObject, Trap, TrapOp};

const MAGIC: &[u8; 4] = b"TRVO";

/// The version of the byte form; a change of the form is a new version (and, since this file
/// is part of [`CODEGEN`], also a new code generator).
pub const FORMAT_VERSION: u8 = 1;

/// The identity of the code generator: a BLAKE3 hash of the sources that decide what a
/// compiled function is (the compiler, the ABI, the assembler, the helpers, the linker, this
/// byte form, rv-emu's instruction encoder, the core IR whose expression numbering the tags
/// use) and of the host effects' service numbers. Compiled code depends on its definition
/// *and* on the compiler, so the codebase keeps it under both: any edit of these files makes
/// a new identity, and entries made by another compiler are never used.
pub static CODEGEN: LazyLock<[u8; 32]> = LazyLock::new(|| {
    const SOURCES: [(&str, &[u8]); 8] = [
        ("compile.rs", include_bytes!("compile.rs")),
        ("abi.rs", include_bytes!("abi.rs")),
        ("asm.rs", include_bytes!("asm.rs")),
        ("helpers.rs", include_bytes!("helpers.rs")),
        ("module.rs", include_bytes!("module.rs")),
        ("object.rs", include_bytes!("object.rs")),
        ("rv-emu/isa.rs", include_bytes!("../../rv-emu/src/isa.rs")),
        ("tel-hash/core.rs", include_bytes!("../../tel-hash/src/core.rs")),
    ];
    let mut h = blake3::Hasher::new();
    h.update(b"tel-riscv codegen\0");
    for (name, text) in SOURCES {
        // Length-prefixed, so no two different sets of files hash alike.
        for part in [name.as_bytes(), text] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part);
        }
    }
    // A host effect is performed by its index in this list (compile.rs, runtime.rs).
    for effect in tel_vm::HostEffect::ALL {
        h.update(effect.name().as_bytes());
        h.update(b"\0");
    }
    *h.finalize().as_bytes()
});

/// Why bytes are not a compiled function (or an object has no byte form).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    #[error("not a compiled RISC-V function (it does not start with \"TRVO\")")]
    BadMagic,
    #[error(
        "compiled RISC-V function of format version {found}; this tel reads version \
         {FORMAT_VERSION}"
    )]
    Version { found: u8 },
    #[error("truncated: {what} at byte {at} needs {need} bytes, {left} are left")]
    Truncated { what: &'static str, at: usize, need: usize, left: usize },
    #[error("truncated: {what} at byte {at} is {count}, more than the {left} bytes left hold")]
    TooMany { what: &'static str, count: usize, at: usize, left: usize },
    #[error("bad {what} {value} at byte {at}")]
    BadValue { what: &'static str, value: u64, at: usize },
    #[error("word {index} at byte {at}: {word:#010x} is not an RV32IM instruction")]
    BadInsn { index: usize, word: u32, at: usize },
    #[error("{what} at byte {at} is not UTF-8")]
    NotUtf8 { what: &'static str, at: usize },
    #[error("{extra} bytes after the end of the function (at byte {at})")]
    Trailing { at: usize, extra: usize },
    /// A whole object whose parts disagree: the linker could not use it.
    #[error("function #{}: {reason}", hash.short())]
    Inconsistent { hash: CodeHash, reason: String },
    #[error("function #{}: word {index} cannot be encoded: {reason}", hash.short())]
    Unencodable { hash: CodeHash, index: usize, reason: String },
}

impl FnObject {
    /// The object's byte form. Refused (never written) when the object is not one the linker
    /// can use: what [`FnObject::from_bytes`] would refuse.
    pub fn to_bytes(&self) -> Result<Vec<u8>, ObjectError> {
        self.check()?;
        let mut w = Vec::with_capacity(64 + 6 * self.words.len());
        w.extend_from_slice(MAGIC);
        w.push(FORMAT_VERSION);
        w.extend_from_slice(&self.hash.0);
        match &self.name {
            None => w.push(0),
            Some(n) => {
                w.push(1);
                put_str(&mut w, n);
            }
        }
        put_len(&mut w, self.params.len());
        w.extend(self.params.iter().map(|k| kind_byte(*k)));
        w.push(kind_byte(self.ret));
        put_len(&mut w, self.words.len());
        for (index, word) in self.words.iter().enumerate() {
            match word {
                Word::Insn(i) => {
                    let bits = i.encode().map_err(|e| ObjectError::Unencodable {
                        hash: self.hash,
                        index,
                        reason: e.reason.into(),
                    })?;
                    w.push(0);
                    w.extend_from_slice(&bits.to_le_bytes());
                }
                Word::Reloc(Reloc::Call { callee, tail }) => {
                    w.push(1);
                    w.extend_from_slice(&callee.0);
                    w.push(u8::from(*tail));
                }
                Word::Reloc(Reloc::Helper(h)) => {
                    w.push(2);
                    w.push(match h {
                        Helper::Mul64 => 0,
                        Helper::DivRem64 => 1,
                    });
                }
                Word::Reloc(Reloc::Frame { enter }) => {
                    w.push(3);
                    w.push(u8::from(*enter));
                }
                Word::Reloc(Reloc::Probe) => w.push(4),
                Word::Reloc(Reloc::StoreBelow { rs2, offset }) => {
                    w.push(5);
                    w.push(rs2.index() as u8);
                    w.extend_from_slice(&offset.to_le_bytes());
                }
                Word::Reloc(Reloc::StringHi { rd, index }) => {
                    w.push(6);
                    w.push(rd.index() as u8);
                    w.extend_from_slice(&index.to_le_bytes());
                }
                Word::Reloc(Reloc::StringLo { rd, index }) => {
                    w.push(7);
                    w.push(rd.index() as u8);
                    w.extend_from_slice(&index.to_le_bytes());
                }
            }
        }
        for t in &self.tags {
            w.extend_from_slice(&t.expr.to_le_bytes());
            w.push(match t.frame {
                FrameState::None => 0,
                FrameState::Partial => 1,
                FrameState::Full => 2,
            });
        }
        put_len(&mut w, self.traps.len());
        for (word, trap) in &self.traps {
            w.extend_from_slice(&word.to_le_bytes());
            w.push(trap_byte(*trap));
        }
        w.extend_from_slice(&self.slots.to_le_bytes());
        put_len(&mut w, self.strings.len());
        for s in &self.strings {
            put_str(&mut w, s);
        }
        put_len(&mut w, self.callees.len());
        for c in &self.callees {
            w.extend_from_slice(&c.0);
        }
        Ok(w)
    }

    /// The object whose byte form `bytes` is. Whatever the bytes, an error or an object the
    /// linker can use; never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<FnObject, ObjectError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(4, "the magic").ok() != Some(MAGIC.as_slice()) {
            return Err(ObjectError::BadMagic);
        }
        let version = r.u8("the format version")?;
        if version != FORMAT_VERSION {
            return Err(ObjectError::Version { found: version });
        }
        let hash = r.hash("the definition hash")?;
        let name = match r.u8("the name's presence")? {
            0 => None,
            1 => Some(r.str("the name's length", "the name")?),
            v => return Err(r.bad("name presence", v, 1)),
        };
        let n = r.count(1, "the parameter count")?;
        let params = (0..n).map(|_| r.kind("a parameter kind")).collect::<Result<_, _>>()?;
        let ret = r.kind("the result kind")?;
        let n = r.count(1, "the word count")?;
        let mut words = Vec::with_capacity(n);
        for index in 0..n {
            words.push(r.word(index)?);
        }
        // The tags count is the words': one per word.
        if r.left() < 5 * n {
            return Err(r.truncated("the tags", 5 * n));
        }
        let mut tags = Vec::with_capacity(n);
        for _ in 0..n {
            let expr = r.u32("an expression id")?;
            let frame = match r.u8("a frame state")? {
                0 => FrameState::None,
                1 => FrameState::Partial,
                2 => FrameState::Full,
                v => return Err(r.bad("frame state", v, 1)),
            };
            tags.push(Tag { expr, frame });
        }
        let n = r.count(5, "the trap count")?;
        let mut traps = Vec::with_capacity(n);
        for _ in 0..n {
            let word = r.u32("a trap's word")?;
            let b = r.u8("a trap")?;
            let trap = trap_of(b).ok_or_else(|| r.bad("trap", b, 1))?;
            traps.push((word, trap));
        }
        let slots = r.u32("the slot count")?;
        let n = r.count(4, "the string count")?;
        let strings =
            (0..n).map(|_| r.str("a string's length", "a string")).collect::<Result<_, _>>()?;
        let n = r.count(32, "the callee count")?;
        let callees = (0..n).map(|_| r.hash("a callee")).collect::<Result<_, _>>()?;
        if r.left() > 0 {
            return Err(ObjectError::Trailing { at: r.at, extra: r.left() });
        }
        let object =
            FnObject { hash, name, params, ret, words, tags, traps, slots, strings, callees };
        object.check()?;
        Ok(object)
    }

    /// What the linker relies on: every call's callee is among the callees, every string
    /// index in the table, one tag per word, every trap on a word of the function, a frame
    /// that fits.
    fn check(&self) -> Result<(), ObjectError> {
        let bad = |reason: String| Err(ObjectError::Inconsistent { hash: self.hash, reason });
        if self.tags.len() != self.words.len() {
            return bad(format!("{} tags for {} words", self.tags.len(), self.words.len()));
        }
        for (i, word) in self.words.iter().enumerate() {
            match word {
                Word::Reloc(Reloc::Call { callee, .. }) if !self.callees.contains(callee) => {
                    return bad(format!(
                        "word {i} calls #{}, which is not among its callees",
                        callee.short()
                    ));
                }
                Word::Reloc(Reloc::StringHi { index, .. } | Reloc::StringLo { index, .. })
                    if *index as usize >= self.strings.len() =>
                {
                    return bad(format!(
                        "word {i} addresses string {index} of {}",
                        self.strings.len()
                    ));
                }
                _ => {}
            }
        }
        if let Some((w, _)) = self.traps.iter().find(|(w, _)| *w as usize >= self.words.len()) {
            return bad(format!("a trap at word {w} of {}", self.words.len()));
        }
        if u64::from(self.slots) * 8 + abi::SLOT0 as u64 > u64::from(abi::MAX_FRAME) {
            return bad(format!("{} frame slots, more than a frame holds", self.slots));
        }
        Ok(())
    }
}

fn put_len(w: &mut Vec<u8>, n: usize) {
    w.extend_from_slice(&(n as u32).to_le_bytes());
}

fn put_str(w: &mut Vec<u8>, s: &str) {
    put_len(w, s.len());
    w.extend_from_slice(s.as_bytes());
}

fn kind_byte(k: Kind) -> u8 {
    match k {
        Kind::Int => 0,
        Kind::Bool => 1,
        Kind::Unit => 2,
    }
}

const TRAP_OPS: [TrapOp; 6] =
    [TrapOp::Add, TrapOp::Sub, TrapOp::Mul, TrapOp::Div, TrapOp::Rem, TrapOp::Neg];

fn trap_byte(t: Trap) -> u8 {
    match t {
        Trap::Overflow(op) => TRAP_OPS.iter().position(|o| *o == op).expect("every op") as u8,
        Trap::DivisionByZero => 6,
        Trap::NoMatch => 7,
    }
}

fn trap_of(b: u8) -> Option<Trap> {
    match b {
        0..6 => Some(Trap::Overflow(TRAP_OPS[b as usize])),
        6 => Some(Trap::DivisionByZero),
        7 => Some(Trap::NoMatch),
        _ => None,
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn truncated(&self, what: &'static str, need: usize) -> ObjectError {
        ObjectError::Truncated { what, at: self.at, need, left: self.left() }
    }

    /// An error for `value`, read `width` bytes back.
    fn bad(&self, what: &'static str, value: impl Into<u64>, width: usize) -> ObjectError {
        ObjectError::BadValue { what, value: value.into(), at: self.at - width }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], ObjectError> {
        if self.left() < n {
            return Err(self.truncated(what, n));
        }
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], ObjectError> {
        Ok(self.take(N, what)?.try_into().expect("N bytes"))
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, ObjectError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, ObjectError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn hash(&mut self, what: &'static str) -> Result<CodeHash, ObjectError> {
        Ok(CodeHash(self.array(what)?))
    }

    /// A count of items of at least `min` bytes each: one the rest of the bytes cannot hold
    /// is refused before anything is allocated for it.
    fn count(&mut self, min: usize, what: &'static str) -> Result<usize, ObjectError> {
        let n = self.u32(what)? as usize;
        if n.saturating_mul(min) > self.left() {
            return Err(ObjectError::TooMany {
                what,
                count: n,
                at: self.at - 4,
                left: self.left(),
            });
        }
        Ok(n)
    }

    /// A string: `length` names its length, `what` its text.
    fn str(&mut self, length: &'static str, what: &'static str) -> Result<SmolStr, ObjectError> {
        let n = self.count(1, length)?;
        let at = self.at;
        let bytes = self.take(n, what)?;
        std::str::from_utf8(bytes).map(SmolStr::new).map_err(|_| ObjectError::NotUtf8 { what, at })
    }

    fn kind(&mut self, what: &'static str) -> Result<Kind, ObjectError> {
        match self.u8(what)? {
            0 => Ok(Kind::Int),
            1 => Ok(Kind::Bool),
            2 => Ok(Kind::Unit),
            v => Err(self.bad("kind", v, 1)),
        }
    }

    fn reg(&mut self, what: &'static str) -> Result<Reg, ObjectError> {
        let v = self.u8(what)?;
        Reg::new(v).ok_or_else(|| self.bad("register", v, 1))
    }

    fn bool(&mut self, what: &'static str) -> Result<bool, ObjectError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            v => Err(self.bad(what, v, 1)),
        }
    }

    fn word(&mut self, index: usize) -> Result<Word, ObjectError> {
        let reloc = match self.u8("a word's kind")? {
            0 => {
                let at = self.at;
                let word = self.u32("an instruction")?;
                let insn = Insn::decode(word).ok_or(ObjectError::BadInsn { index, word, at })?;
                return Ok(Word::Insn(insn));
            }
            1 => Reloc::Call { callee: self.hash("a callee")?, tail: self.bool("tail flag")? },
            2 => Reloc::Helper(match self.u8("a helper")? {
                0 => Helper::Mul64,
                1 => Helper::DivRem64,
                v => return Err(self.bad("helper", v, 1)),
            }),
            3 => Reloc::Frame { enter: self.bool("frame direction")? },
            4 => Reloc::Probe,
            5 => Reloc::StoreBelow {
                rs2: self.reg("a register")?,
                offset: i32::from_le_bytes(self.array("an offset")?),
            },
            6 => Reloc::StringHi { rd: self.reg("a register")?, index: self.u32("a string")? },
            7 => Reloc::StringLo { rd: self.reg("a register")?, index: self.u32("a string")? },
            v => return Err(self.bad("word kind", v, 1)),
        };
        Ok(Word::Reloc(reloc))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;
    use tel_hash::core::CoreDef;

    use super::*;
    use crate::Compiler;
    use crate::test_support::stored_file;

    /// Every function of every fixture module in the subset, as the compiler makes it.
    fn fixture_objects() -> Vec<FnObject> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/valid");
        let mut files: Vec<_> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        let mut compiler = Compiler::new();
        for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "tel")) {
            let file = path.file_name().unwrap().to_str().unwrap();
            let (defs, names) = stored_file(file, &std::fs::read_to_string(path).unwrap());
            let mut fns: Vec<_> = names
                .values()
                .filter(|h| matches!(defs[*h].def, CoreDef::Fn { .. }))
                .copied()
                .collect();
            fns.sort();
            for hash in fns {
                let _ = compiler.compile(&defs, hash);
            }
        }
        let mut objects: Vec<FnObject> =
            compiler.take_new().into_iter().map(|o| (*o).clone()).collect();
        objects.sort_by_key(|o| o.hash);
        objects
    }

    #[test]
    fn every_fixture_function_round_trips() {
        let objects = fixture_objects();
        assert!(objects.len() >= 12, "only {} functions compiled", objects.len());
        let mut kinds = [false; 8];
        for o in &objects {
            let bytes = o.to_bytes().unwrap();
            assert_eq!(FnObject::from_bytes(&bytes).as_ref(), Ok(o), "{:?}", o.name);
            // Deterministic: the same object, the same bytes.
            assert_eq!(o.clone().to_bytes().unwrap(), bytes);
            for w in &o.words {
                let k = match w {
                    Word::Insn(_) => 0,
                    Word::Reloc(Reloc::Call { .. }) => 1,
                    Word::Reloc(Reloc::Helper(_)) => 2,
                    Word::Reloc(Reloc::Frame { .. }) => 3,
                    Word::Reloc(Reloc::Probe) => 4,
                    Word::Reloc(Reloc::StoreBelow { .. }) => 5,
                    Word::Reloc(Reloc::StringHi { .. }) => 6,
                    Word::Reloc(Reloc::StringLo { .. }) => 7,
                };
                kinds[k] = true;
            }
        }
        // The fixtures have no stack arguments and no strings; the generated programs below
        // and the proptest of random objects cover those.
        assert!(kinds[..5].iter().all(|k| *k), "word kinds seen: {kinds:?}");
    }

    #[test]
    fn generated_programs_round_trip_and_link_alike() {
        let mut linked = 0;
        for seed in 0..40 {
            let src = crate::test_generate::program(seed);
            let (defs, names) = crate::test_support::stored(&src);
            let entry = names["main"];
            let mut compiler = Compiler::new();
            let Ok(direct) = compiler.compile(&defs, entry) else { continue };
            linked += 1;
            let objects: HashMap<CodeHash, FnObject> = compiler
                .take_new()
                .into_iter()
                .map(|o| {
                    let back = FnObject::from_bytes(&o.to_bytes().unwrap()).unwrap();
                    assert_eq!(&back, &*o);
                    (o.hash, back)
                })
                .collect();
            // Linked from decoded objects only: the same machine code.
            let mut loader = Compiler::new();
            let loaded = loader.compile_with(&defs, entry, |h| objects.get(h).cloned()).unwrap();
            assert_eq!((loader.compiled(), loader.loaded()), (0, objects.len()));
            assert_eq!((loaded.code, loaded.rodata), (direct.code, direct.rodata), "{src}");
        }
        assert!(linked >= 30, "only {linked} of 40 generated programs compiled");
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let o = fixture_objects().remove(0);
        let bytes = o.to_bytes().unwrap();
        let show = |b: &[u8]| FnObject::from_bytes(b).unwrap_err().to_string();
        assert_eq!(
            show(b"ELF\x7f"),
            "not a compiled RISC-V function (it does not start with \"TRVO\")"
        );
        let mut v2 = bytes.clone();
        v2[4] = 2;
        assert_eq!(
            show(&v2),
            "compiled RISC-V function of format version 2; this tel reads version 1"
        );
        assert_eq!(
            show(&bytes[..20]),
            "truncated: the definition hash at byte 5 needs 32 bytes, 15 are left"
        );
        // A count the rest cannot hold: refused before anything is allocated for it.
        let mut huge = bytes[..42].to_vec();
        huge[37] = 0;
        huge[38..42].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            show(&huge),
            "truncated: the parameter count at byte 38 is 4294967295, more than the 0 bytes left hold"
        );
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(
            show(&long),
            format!("1 bytes after the end of the function (at byte {})", bytes.len())
        );
        // A call whose callee is not among the callees would make the linker fail.
        let mut bad = o.clone();
        bad.words.push(Word::Reloc(Reloc::Call { callee: CodeHash([7; 32]), tail: false }));
        bad.tags.push(Tag::default());
        let e = bad.to_bytes().unwrap_err().to_string();
        assert!(e.contains("calls #"), "{e}");
        assert!(e.contains("which is not among its callees"), "{e}");
    }

    /// Decodable instruction words: random bits under an opcode of ours (an `ecall` when the
    /// other fields make them no instruction).
    fn insn() -> impl Strategy<Value = Insn> {
        let opcodes = prop::sample::select(vec![
            0x37u32, 0x17, 0x6f, 0x67, 0x63, 0x03, 0x23, 0x13, 0x33, 0x0f, 0x73,
        ]);
        (any::<u32>(), opcodes)
            .prop_map(|(bits, op)| Insn::decode(bits & !0x7f | op).unwrap_or(Insn::Ecall))
    }

    fn reg() -> impl Strategy<Value = Reg> {
        (0u8..32).prop_map(|r| Reg::new(r).unwrap())
    }

    fn object() -> impl Strategy<Value = FnObject> {
        let callees = prop::collection::vec(any::<[u8; 32]>().prop_map(CodeHash), 1..4);
        let strings = prop::collection::vec("[a-zé/ ]{0,8}", 1..3);
        (
            callees,
            strings,
            prop::collection::vec(
                (0u8..8, insn(), reg(), any::<i32>(), any::<u32>(), any::<bool>()),
                0..40,
            ),
        )
            .prop_map(|(callees, strings, raw)| {
                let words = raw
                    .iter()
                    .map(|(k, insn, r, off, n, flag)| match k {
                        0 => Word::Insn(*insn),
                        1 => Word::Reloc(Reloc::Call {
                            callee: callees[*n as usize % callees.len()],
                            tail: *flag,
                        }),
                        2 => Word::Reloc(Reloc::Helper(if *flag {
                            Helper::Mul64
                        } else {
                            Helper::DivRem64
                        })),
                        3 => Word::Reloc(Reloc::Frame { enter: *flag }),
                        4 => Word::Reloc(Reloc::Probe),
                        5 => Word::Reloc(Reloc::StoreBelow { rs2: *r, offset: *off }),
                        6 => Word::Reloc(Reloc::StringHi {
                            rd: *r,
                            index: *n % strings.len() as u32,
                        }),
                        _ => Word::Reloc(Reloc::StringLo {
                            rd: *r,
                            index: *n % strings.len() as u32,
                        }),
                    })
                    .collect::<Vec<_>>();
                let frames = [FrameState::None, FrameState::Partial, FrameState::Full];
                let tags = raw
                    .iter()
                    .map(|(k, _, _, _, n, _)| Tag { expr: *n, frame: frames[*k as usize % 3] })
                    .collect();
                let traps = (0..words.len() as u32)
                    .step_by(3)
                    .map(|w| (w, trap_of((w % 8) as u8).unwrap()))
                    .collect();
                FnObject {
                    hash: callees[0],
                    name: strings.first().map(|s| s.as_str().into()),
                    params: vec![Kind::Int, Kind::Bool, Kind::Unit][..strings.len()].to_vec(),
                    ret: Kind::Bool,
                    words,
                    tags,
                    traps,
                    slots: raw.len() as u32,
                    strings: strings.iter().map(|s| s.as_str().into()).collect(),
                    callees,
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        #[test]
        fn any_object_round_trips(o in object()) {
            let bytes = o.to_bytes().unwrap();
            prop_assert_eq!(FnObject::from_bytes(&bytes), Ok(o));
        }

        /// Truncated, altered or random bytes: an error or an object, never a panic; a
        /// truncation is always an error.
        #[test]
        fn damaged_bytes_never_panic(
            o in object(),
            cut in any::<prop::sample::Index>(),
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
            noise in prop::collection::vec(any::<u8>(), 0..200),
        ) {
            let bytes = o.to_bytes().unwrap();
            let short = &bytes[..cut.index(bytes.len())];
            prop_assert!(FnObject::from_bytes(short).is_err());
            let mut altered = bytes.clone();
            for (at, b) in flips {
                let i = at.index(altered.len());
                altered[i] ^= b | 1;
            }
            if let Ok(back) = FnObject::from_bytes(&altered) {
                // What decodes is whole: it has a byte form again.
                prop_assert!(back.to_bytes().is_ok());
            }
            let _ = FnObject::from_bytes(&noise);
            let mut framed = b"TRVO\x01".to_vec();
            framed.extend_from_slice(&noise);
            let _ = FnObject::from_bytes(&framed);
        }
    }
}
