//! Linking: compiled functions (from the artifact cache, keyed by definition hash) laid out
//! behind a start-up stub and the helpers, relocations resolved, with the tables a run and a
//! debugger need: each word's function and expression, the trap stubs, the functions.

use std::collections::HashMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use rv_emu::{AluImm, Insn, Reg, StoreKind};
use smol_str::SmolStr;
use tel_hash::CodeHash;
use tel_vm::StoredDef;

use crate::abi::{self, CODE_BASE, Kind, SERVICE_EXIT};
use crate::asm::{self, Helper, Reloc, Tag, Word};
use crate::compile::{CompileError, FnObject, Trap, compile_fn, signature};
use crate::helpers;

/// A function of a module.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnInfo {
    pub hash: CodeHash,
    pub name: Option<SmolStr>,
    /// Its first instruction's address, and the address past its last.
    pub start: u32,
    pub end: u32,
    pub params: Vec<Kind>,
    pub ret: Kind,
}

/// A linked program: machine code for an entry point and everything it calls.
#[derive(Clone, Debug)]
pub struct Module {
    pub entry: CodeHash,
    /// The code, loaded at [`CODE_BASE`]: the start-up stub, the helpers, the functions.
    pub code: Vec<u8>,
    /// String literals, loaded at `rodata` (read-only).
    pub rodata: Vec<u8>,
    /// The frame size of every function (the largest any needs).
    pub frame: u32,
    /// In address order; the entry is the first.
    pub functions: Vec<FnInfo>,
    /// Per code word: its function (index in `functions`) and tag.
    words: Vec<Option<(u32, Tag)>>,
    traps: FxHashMap<u32, Trap>,
    /// Where helpers start, for the disassembly.
    helpers: Vec<(Helper, u32)>,
}

impl Module {
    pub fn entry_fn(&self) -> &FnInfo {
        &self.functions[0]
    }

    /// The address of the first word after the code (rodata starts on the next page).
    pub fn code_end(&self) -> u32 {
        CODE_BASE + self.code.len() as u32
    }

    /// Where rodata is loaded.
    pub fn rodata_base(&self) -> u32 {
        abi::page_up(u64::from(self.code_end())) as u32
    }

    /// The function and expression id of the instruction at `pc`.
    pub fn place(&self, pc: u32) -> Option<(&FnInfo, u32)> {
        self.tagged(pc).map(|(f, t)| (f, t.expr))
    }

    /// The function of the instruction at `pc`, its expression id and frame state.
    pub fn tagged(&self, pc: u32) -> Option<(&FnInfo, Tag)> {
        let i = pc.checked_sub(CODE_BASE)? / 4;
        let (f, tag) = (*self.words.get(i as usize)?)?;
        Some((&self.functions[f as usize], tag))
    }

    pub fn function_at(&self, pc: u32) -> Option<&FnInfo> {
        self.functions.iter().find(|f| (f.start..f.end).contains(&pc))
    }

    pub fn function(&self, hash: &CodeHash) -> Option<&FnInfo> {
        self.functions.iter().find(|f| f.hash == *hash)
    }

    /// The trap whose stub's `ecall` is at `pc`.
    pub fn trap_at(&self, pc: u32) -> Option<Trap> {
        self.traps.get(&pc).copied()
    }

    /// The instructions, one per line (`address: word  text`, as objdump prints them, from
    /// disc-v), each function under its name; `source` gives the text to show above the
    /// first instruction of each new source place (a function and an expression id), e.g.
    /// `recursion.tel:9  if n < 2 { n } …`.
    pub fn disassemble(&self, mut source: impl FnMut(&FnInfo, u32) -> Option<String>) -> String {
        let mut out = String::new();
        let mut last: Option<String> = None;
        for (i, w) in self.code.chunks_exact(4).enumerate() {
            let pc = CODE_BASE + 4 * i as u32;
            if pc == CODE_BASE {
                out.push_str("<start>:\n");
            }
            if let Some((h, _)) = self.helpers.iter().find(|(_, at)| *at == pc) {
                out.push_str(&format!("\n<{}>:\n", helper_name(*h)));
                last = None;
            }
            if let Some(f) = self.functions.iter().find(|f| f.start == pc) {
                let name = f.name.as_deref().unwrap_or("?");
                out.push_str(&format!("\n<{name} #{}>:\n", f.hash.short()));
                last = None;
            }
            if let Some((f, expr)) = self.place(pc) {
                let here = source(f, expr);
                if here.is_some() && here != last {
                    out.push_str(&format!("                ; {}\n", here.as_deref().unwrap_or("")));
                    last = here;
                }
            }
            let word = u32::from_le_bytes(w.try_into().expect("4 bytes"));
            let text =
                disc_v::decode(disc_v::Isa::Rv32, u64::from(pc), u64::from(word)).to_string();
            let trap =
                self.trap_at(pc).map(|t| format!("  # trap: {}", t.message())).unwrap_or_default();
            out.push_str(&format!("{pc:8x}:\t{word:08x}\t{text}{trap}\n"));
        }
        out
    }
}

fn helper_name(h: Helper) -> &'static str {
    match h {
        Helper::Mul64 => "mul64",
        Helper::DivRem64 => "divrem64",
    }
}

/// Compiles programs, keeping every compiled function by its definition hash: a function's
/// code depends only on its definition (its callees' signatures are part of its hash) and on
/// the code generator ([`crate::CODEGEN`]), so a hash compiled once is never compiled again.
/// [`Compiler::compile_with`] also takes functions from elsewhere (the codebase keeps them,
/// docs/riscv.md), and [`Compiler::take_new`] hands over the ones compiled here to keep.
#[derive(Default)]
pub struct Compiler {
    objects: FxHashMap<CodeHash, Arc<FnObject>>,
    compiled: usize,
    loaded: usize,
    /// Compiled since the last [`Compiler::take_new`].
    new: Vec<Arc<FnObject>>,
}

impl Compiler {
    pub fn new() -> Compiler {
        Compiler::default()
    }

    /// Functions in the cache.
    pub fn cached(&self) -> usize {
        self.objects.len()
    }

    /// Functions compiled so far (cache misses).
    pub fn compiled(&self) -> usize {
        self.compiled
    }

    /// Functions taken from a lookup so far (misses of this cache that were not compiled).
    pub fn loaded(&self) -> usize {
        self.loaded
    }

    /// The compiled function `hash`, if it is cached.
    pub fn object(&self, hash: &CodeHash) -> Option<&Arc<FnObject>> {
        self.objects.get(hash)
    }

    /// The functions compiled (not looked up) since the last call, in the order they were
    /// compiled: what a caller keeps for later processes.
    pub fn take_new(&mut self) -> Vec<Arc<FnObject>> {
        std::mem::take(&mut self.new)
    }

    /// Compiles `entry` and every function it calls, transitively, and links them.
    pub fn compile(
        &mut self,
        defs: &HashMap<CodeHash, StoredDef>,
        entry: CodeHash,
    ) -> Result<Module, CompileError> {
        self.compile_with(defs, entry, |_| None)
    }

    /// [`Compiler::compile`], asking `lookup` for each function this cache does not hold
    /// before compiling it. `lookup` must give the object compiled from that hash by this
    /// code generator (one whose hash is another is ignored and the function compiled).
    pub fn compile_with(
        &mut self,
        defs: &HashMap<CodeHash, StoredDef>,
        entry: CodeHash,
        mut lookup: impl FnMut(&CodeHash) -> Option<FnObject>,
    ) -> Result<Module, CompileError> {
        signature(defs, &entry)?;
        let mut order: Vec<Arc<FnObject>> = Vec::new();
        let mut seen = vec![entry];
        let mut next = 0;
        while next < seen.len() {
            let h = seen[next];
            next += 1;
            let obj = match self.objects.get(&h) {
                Some(o) => o.clone(),
                None => {
                    let o = match lookup(&h).filter(|o| o.hash == h) {
                        Some(o) => {
                            self.loaded += 1;
                            Arc::new(o)
                        }
                        None => {
                            let o = Arc::new(compile_fn(defs, h)?);
                            self.compiled += 1;
                            self.new.push(o.clone());
                            o
                        }
                    };
                    self.objects.insert(h, o.clone());
                    o
                }
            };
            for c in &obj.callees {
                if !seen.contains(c) {
                    seen.push(*c);
                }
            }
            order.push(obj);
        }
        link(entry, &order)
    }
}

/// Compiles `entry` of `defs` without keeping anything.
pub fn compile(
    defs: &HashMap<CodeHash, StoredDef>,
    entry: CodeHash,
) -> Result<Module, CompileError> {
    Compiler::new().compile(defs, entry)
}

fn link(entry: CodeHash, objects: &[Arc<FnObject>]) -> Result<Module, CompileError> {
    let too_large = |reason: &str| CompileError::TooLarge {
        def: format!("#{}", entry.short()),
        reason: reason.into(),
    };
    // The start-up stub: call the entry, then report its result.
    let start = [
        Word::Reloc(Reloc::Call { callee: entry, tail: false }),
        Word::Insn(Insn::AluImm {
            op: AluImm::Addi,
            rd: Reg::A7,
            rs1: Reg::ZERO,
            imm: SERVICE_EXIT,
        }),
        Word::Insn(Insn::Ecall),
    ];
    let mut words: Vec<Word> = start.to_vec();
    let mut info: Vec<Option<(u32, Tag)>> = vec![None; start.len()];
    let mut helper_at = Vec::new();
    for h in [Helper::Mul64, Helper::DivRem64] {
        let (items, labels) = helpers::items(h);
        let asm::Laid { words: w, .. } =
            asm::layout(&items, labels).map_err(|_| too_large("a helper does not lay out"))?;
        helper_at.push((h, CODE_BASE + 4 * words.len() as u32));
        info.extend(std::iter::repeat_n(None, w.len()));
        words.extend(w);
    }
    let mut functions = Vec::new();
    let mut string_at: Vec<Vec<u32>> = Vec::new();
    let mut rodata = Vec::new();
    let mut traps = FxHashMap::default();
    for (i, o) in objects.iter().enumerate() {
        let start = CODE_BASE + 4 * words.len() as u32;
        for (word, trap) in &o.traps {
            traps.insert(start + 4 * word, *trap);
        }
        info.extend(o.tags.iter().map(|t| Some((i as u32, *t))));
        words.extend(o.words.iter().cloned());
        functions.push(FnInfo {
            hash: o.hash,
            name: o.name.clone(),
            start,
            end: start + 4 * o.words.len() as u32,
            params: o.params.clone(),
            ret: o.ret,
        });
        string_at.push(
            o.strings
                .iter()
                .map(|s| {
                    let at = rodata.len() as u32;
                    rodata.extend_from_slice(s.as_bytes());
                    at
                })
                .collect(),
        );
    }
    if words.len() * 4 >= 1 << 20 {
        return Err(too_large("the code is larger than 1 MiB, more than a jump reaches"));
    }
    let frame = objects.iter().map(|o| abi::SLOT0 as u32 + 8 * o.slots).max().unwrap_or(8).max(8);
    let rodata_base = abi::page_up(u64::from(CODE_BASE) + 4 * words.len() as u64) as u32;
    let by_hash: FxHashMap<CodeHash, u32> = functions.iter().map(|f| (f.hash, f.start)).collect();
    let owner = |w: usize| info[w].map(|(f, _)| f as usize);
    let mut code = Vec::with_capacity(words.len() * 4);
    for (w, word) in words.iter().enumerate() {
        let pc = CODE_BASE + 4 * w as u32;
        let insn = match word {
            Word::Insn(i) => *i,
            Word::Reloc(r) => match r {
                Reloc::Call { callee, tail } => {
                    let target = by_hash[callee];
                    let rd = if *tail { Reg::ZERO } else { Reg::RA };
                    Insn::Jal { rd, offset: target.wrapping_sub(pc) as i32 }
                }
                Reloc::Helper(h) => {
                    let at = helper_at.iter().find(|(x, _)| x == h).expect("linked").1;
                    Insn::Jal { rd: Reg::RA, offset: at.wrapping_sub(pc) as i32 }
                }
                Reloc::Frame { enter } => {
                    let imm = if *enter { -(frame as i32) } else { frame as i32 };
                    Insn::AluImm { op: AluImm::Addi, rd: Reg::SP, rs1: Reg::SP, imm }
                }
                Reloc::Probe => Insn::Load {
                    kind: rv_emu::LoadKind::W,
                    rd: Reg::ZERO,
                    rs1: Reg::SP,
                    offset: -(frame as i32),
                },
                Reloc::StoreBelow { rs2, offset } => Insn::Store {
                    kind: StoreKind::W,
                    rs1: Reg::SP,
                    rs2: *rs2,
                    offset: offset - frame as i32,
                },
                Reloc::StringHi { rd, index } | Reloc::StringLo { rd, index } => {
                    let f = owner(w).expect("a function's word");
                    let addr = rodata_base + string_at[f][*index as usize];
                    let hi = (addr.wrapping_add(0x800)) >> 12;
                    match r {
                        Reloc::StringHi { .. } => Insn::Lui { rd: *rd, imm: hi },
                        _ => Insn::AluImm {
                            op: AluImm::Addi,
                            rd: *rd,
                            rs1: *rd,
                            imm: addr.wrapping_sub(hi << 12) as i32,
                        },
                    }
                }
            },
        };
        let bits = insn.encode().map_err(|e| too_large(&e.to_string()))?;
        code.extend_from_slice(&bits.to_le_bytes());
    }
    Ok(Module { entry, code, rodata, frame, functions, words: info, traps, helpers: helper_at })
}
