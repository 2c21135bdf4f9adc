//! Core IR → RV32IM, one function at a time, into a relocatable [`FnObject`].
//!
//! **Values.** Expressions push entries on a compile-time value stack; an entry is a
//! constant, a frame slot (a local, or a spilled temporary) or a register pair. Temporaries
//! live in eight pairs (`t0/t1`, `t2/t3`, `s0/s1` … `s10/s11`); `t4`–`t6` are scratch inside
//! one operation. Every register but `sp` is clobbered by a call, so before a call every
//! entry in registers is spilled to a frame slot (a local's value is not stored again: it
//! is still in its slot). Locals live in frame slots; a cache remembers which registers
//! still hold which slot, so a local read right after it was stored or loaded costs
//! nothing. Before any control-flow split the value stack is spilled, so every path meets
//! the same entries at a join; the cache at a label is what all its incoming edges agree on.
//!
//! **Checks.** Arithmetic traps exactly where the VM's does: an overflow branches to a stub
//! (`a7 = SERVICE_TRAP; ecall`) whose pc the module's trap table maps to the message and
//! the expression. Division by zero is tested before the division.
//!
//! A construct outside the subset is refused with its expression id (the VM's numbering, so
//! the span tables place it in the source).

use std::collections::HashMap;

use rustc_hash::FxHashMap;
use rv_emu::{Alu, AluImm, Cond, Insn, LoadKind, Reg, StoreKind};
use smol_str::SmolStr;
use tel_hash::CodeHash;
use tel_hash::core::{BinOp, Builtin, CoreDef, Expr, Lit, Pat, Ref, UnOp, preorder};
use tel_vm::{HostEffect, StoredDef};

use crate::abi::{self, Kind, REG_ARGS, SERVICE_TRAP, slot_offset};
use crate::asm::{self, FrameState, Helper, Item, Label, Reloc, Tag, Word};

/// Why code was not compiled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// A construct outside the subset: `expr` is its expression id in `def` (`None` for the
    /// definition's signature).
    #[error("{construct} is outside the RISC-V subset (in {})", place(name, def, expr))]
    Unsupported { def: CodeHash, name: Option<SmolStr>, expr: Option<u32>, construct: String },
    #[error("missing definition {hash} (needed by {needed_by})")]
    Missing { hash: CodeHash, needed_by: String },
    #[error("{0} is not a function")]
    NotAFunction(String),
    #[error("{def} calls {callee} with {argc} arguments")]
    Arity { def: String, callee: String, argc: usize },
    #[error("{def} reads local {index}, which is not in scope")]
    BadLocal { def: String, index: u32 },
    #[error("{def}: {reason}")]
    TooLarge { def: String, reason: String },
    /// A bug of this compiler, caught before it produced wrong code.
    #[error("internal error compiling {def}: {reason}")]
    Internal { def: String, reason: String },
}

fn place(name: &Option<SmolStr>, def: &CodeHash, expr: &Option<u32>) -> String {
    let who = match name {
        Some(n) => format!("{n} (#{})", def.short()),
        None => format!("#{}", def.short()),
    };
    match expr {
        Some(e) => format!("{who} expr {e}"),
        None => format!("{who}, its signature"),
    }
}

/// What a trap stub reports: the VM's message for the same failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Trap {
    /// `integer overflow in {op}` (`+`, `-`, `*`, `/`, `%`, `negation`).
    Overflow(TrapOp),
    DivisionByZero,
    NoMatch,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TrapOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Neg,
}

impl Trap {
    pub fn message(self) -> String {
        match self {
            Trap::Overflow(op) => format!(
                "integer overflow in {}",
                match op {
                    TrapOp::Add => "+",
                    TrapOp::Sub => "-",
                    TrapOp::Mul => "*",
                    TrapOp::Div => "/",
                    TrapOp::Rem => "%",
                    TrapOp::Neg => "negation",
                }
            ),
            Trap::DivisionByZero => "division by zero".into(),
            Trap::NoMatch => "no match arm matched the value".into(),
        }
    }
}

/// A compiled function, position-independent but for its relocations: what the artifact
/// cache keeps, by definition hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnObject {
    pub hash: CodeHash,
    pub name: Option<SmolStr>,
    pub params: Vec<Kind>,
    pub ret: Kind,
    pub words: Vec<Word>,
    /// The expression id and frame state of each word.
    pub tags: Vec<Tag>,
    /// Trap stubs: the word index of each stub's `ecall`, with what it reports.
    pub traps: Vec<(u32, Trap)>,
    /// Frame slots used (parameters included).
    pub slots: u32,
    /// String literals passed to host effects.
    pub strings: Vec<SmolStr>,
    /// Functions called, in order of first call.
    pub callees: Vec<CodeHash>,
}

/// The definition with `hash` as a function: its parameter kinds and result kind.
pub fn signature(
    defs: &HashMap<CodeHash, StoredDef>,
    hash: &CodeHash,
) -> Result<(Vec<Kind>, Kind), CompileError> {
    let stored = defs
        .get(hash)
        .ok_or_else(|| CompileError::Missing { hash: *hash, needed_by: "the program".into() })?;
    let CoreDef::Fn { params, ret, .. } = &stored.def else {
        return Err(CompileError::NotAFunction(describe(stored, hash)));
    };
    let unsupported = |what: String| CompileError::Unsupported {
        def: *hash,
        name: stored.name.clone(),
        expr: None,
        construct: what,
    };
    let kinds = params
        .iter()
        .map(|t| {
            Kind::of(t)
                .ok_or_else(|| unsupported(format!("{} parameter", with_article(&type_name(t)))))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let ret = Kind::of(ret)
        .ok_or_else(|| unsupported(format!("{} result", with_article(&type_name(ret)))))?;
    Ok((kinds, ret))
}

fn describe(stored: &StoredDef, hash: &CodeHash) -> String {
    match &stored.name {
        Some(n) => format!("{n} (#{})", hash.short()),
        None => format!("#{}", hash.short()),
    }
}

fn with_article(word: &str) -> String {
    let a = if word.starts_with(['A', 'E', 'I', 'O', 'U', 'a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{a} {word}")
}

fn type_name(t: &tel_hash::core::Type) -> String {
    use tel_hash::core::Type;
    match t {
        Type::Int => "Int".into(),
        Type::Bool => "Bool".into(),
        Type::String => "String".into(),
        Type::Duration => "Duration".into(),
        Type::Unit => "()".into(),
        Type::Hash => "Hash".into(),
        Type::List(_) => "List".into(),
        Type::Map(..) => "Map".into(),
        Type::Option(_) => "Option".into(),
        Type::Record(_) => "record".into(),
        Type::Named(_) => "named-type".into(),
        Type::Fn { .. } => "function".into(),
    }
}

/// The name of a construct outside the subset, as a diagnostic says it.
fn construct(e: &Expr) -> String {
    match e {
        Expr::Lambda { .. } => "a lambda".into(),
        Expr::Record { .. } => "a record".into(),
        Expr::Field { .. } => "a field access".into(),
        Expr::List(_) => "a list".into(),
        Expr::Variant { .. } => "an enum variant".into(),
        Expr::Handle { .. } => "`handle`".into(),
        Expr::Resume(_) => "`resume`".into(),
        Expr::Abort(_) => "`abort`".into(),
        Expr::Within { .. } => "`within`".into(),
        Expr::After { .. } => "`after`".into(),
        Expr::Lit(Lit::String(_)) => "a String".into(),
        Expr::Lit(Lit::Duration(_)) => "a Duration".into(),
        Expr::Ref(_) => "a function used as a value".into(),
        _ => "this expression".into(),
    }
}

const POOL: [(Reg, Reg); 8] = [
    (Reg::T0, Reg::T1),
    (Reg::T2, Reg::T3),
    (Reg::S0, Reg::S1),
    (Reg::S2, Reg::S3),
    (Reg::S4, Reg::S5),
    (Reg::S6, Reg::S7),
    (Reg::S8, Reg::S9),
    (Reg::S10, Reg::S11),
];
const X0: Reg = Reg::ZERO;
const S1: Reg = Reg::T4;
const S2: Reg = Reg::T5;
const S3: Reg = Reg::T6;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Loc {
    Imm(i64),
    /// A frame slot; `owned` when it is a spilled temporary, freed with the entry.
    Slot {
        slot: u32,
        owned: bool,
    },
    /// `pair`: the pool pair (counted), or `None` for registers outside the pool (`a0`…, a
    /// call's or helper's result; volatile). `origin`: a slot that holds the same value.
    Regs {
        lo: Reg,
        hi: Reg,
        pair: Option<u8>,
        origin: Option<u32>,
    },
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    loc: Loc,
    kind: Kind,
}

/// Where a local is: a slot, or a constant (a `let` of a literal).
#[derive(Clone, Copy, Debug)]
enum Local {
    Slot(u32),
    Imm(i64),
}

/// Registers that still hold a slot's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cached {
    slot: u32,
    lo: Reg,
    hi: Option<Reg>,
}

type R<T> = Result<T, CompileError>;

/// What is known about an Int local: its slot, its least and its greatest value.
type Fact = (u32, i64, i64);

struct Fc<'a> {
    hash: CodeHash,
    name: Option<SmolStr>,
    component: Option<CodeHash>,
    defs: &'a HashMap<CodeHash, StoredDef>,
    ids: FxHashMap<*const Expr, u32>,
    cur: u32,
    items: Vec<(Item, Tag)>,
    /// Per label: the cache its incoming jumps agree on, their frame state (`None`: no jump
    /// yet), and whether one of them comes from code that runs.
    labels: Vec<(Option<Vec<Cached>>, Option<FrameState>, bool)>,
    reachable: bool,
    /// Where the return address is at this point of the code (see `ensure_frame`).
    frame: FrameState,
    /// The slots of the parameters passed in registers: not stored while the path has no
    /// frame (see `unstored`).
    reg_params: Vec<u32>,
    /// Two paths met with different frame states, or a parameter was lost: a bug of this
    /// compiler, reported as an error rather than as wrong code.
    frame_conflict: bool,
    /// The code being compiled cannot run (nothing jumps to it and nothing falls into it).
    dead: bool,
    scope: Vec<(Local, Kind)>,
    used: Vec<bool>,
    vstack: Vec<Entry>,
    refs: [u32; 8],
    reserved: [bool; 8],
    cache: Vec<Cached>,
    traps: Vec<(Label, Trap, u32)>,
    strings: Vec<SmolStr>,
    callees: Vec<CodeHash>,
    /// What the tests dominating this point say about Int locals: (slot, least, greatest).
    /// Locals never change and a slot outlives the branches that test it, so a fact holds
    /// until its branch's code ends. `+`/`-` of a constant that cannot overflow under them
    /// has no overflow test.
    facts: Vec<Fact>,
    /// Registers where the next `+`/`-` may put its result (a call's argument, the function's
    /// result), instead of a pool pair and a move. Only the expression compiled next sees it.
    hint: Option<(Reg, Reg)>,
}

/// Compiles the function `hash` of `defs`.
pub fn compile_fn(defs: &HashMap<CodeHash, StoredDef>, hash: CodeHash) -> R<FnObject> {
    let stored =
        defs.get(&hash).ok_or(CompileError::Missing { hash, needed_by: "the program".into() })?;
    let (params, ret) = signature(defs, &hash)?;
    let CoreDef::Fn { body, .. } = &stored.def else {
        return Err(CompileError::NotAFunction(describe(stored, &hash)));
    };
    let ids =
        preorder(body).into_iter().enumerate().map(|(i, e)| (e as *const Expr, i as u32)).collect();
    let mut fc = Fc {
        hash,
        name: stored.name.clone(),
        component: stored.component,
        defs,
        ids,
        cur: 0,
        items: Vec::new(),
        labels: Vec::new(),
        reachable: true,
        frame: FrameState::None,
        reg_params: Vec::new(),
        frame_conflict: false,
        dead: false,
        scope: Vec::new(),
        used: Vec::new(),
        vstack: Vec::new(),
        refs: [0; 8],
        reserved: [false; 8],
        cache: Vec::new(),
        traps: Vec::new(),
        strings: Vec::new(),
        callees: Vec::new(),
        facts: Vec::new(),
        hint: None,
    };
    fc.prologue(&params);
    fc.tail(body)?;
    let traps = std::mem::take(&mut fc.traps);
    for (l, _, expr) in &traps {
        fc.cur = *expr;
        fc.bind(*l);
        fc.li(Reg::A7, i64::from(SERVICE_TRAP));
        fc.emit(Insn::Ecall);
        fc.reachable = false;
    }
    if fc.frame_conflict {
        return Err(CompileError::Internal {
            def: describe(stored, &hash),
            reason: "paths with different frames meet, or a parameter was lost".into(),
        });
    }
    let labels = fc.labels.len();
    let asm::Laid { words, tags, labels: at } =
        asm::layout(&fc.items, labels).map_err(|_| CompileError::TooLarge {
            def: describe(stored, &hash),
            reason: "a branch spans more than 1 MiB of code".into(),
        })?;
    let slots = fc.used.len() as u32;
    if abi::SLOT0 as u32 + 8 * slots > abi::MAX_FRAME {
        return Err(CompileError::TooLarge {
            def: describe(stored, &hash),
            reason: format!("its frame needs {slots} slots of 8 bytes, more than a frame holds"),
        });
    }
    Ok(FnObject {
        hash,
        name: stored.name.clone(),
        params,
        ret,
        words,
        tags,
        traps: traps.iter().map(|(l, t, _)| (at[l.0 as usize] + 1, *t)).collect(),
        slots,
        strings: fc.strings,
        callees: fc.callees,
    })
}

/// The word written by an instruction, if any.
fn written(insn: &Insn) -> Option<Reg> {
    match *insn {
        Insn::Lui { rd, .. }
        | Insn::Auipc { rd, .. }
        | Insn::Jal { rd, .. }
        | Insn::Jalr { rd, .. }
        | Insn::Load { rd, .. }
        | Insn::AluImm { rd, .. }
        | Insn::Alu { rd, .. } => Some(rd),
        _ => None,
    }
}

fn intersect(a: &[Cached], b: &[Cached]) -> Vec<Cached> {
    a.iter().filter(|c| b.contains(c)).copied().collect()
}

impl Fc<'_> {
    // ---------------------------------------------------------------- emission

    fn emit(&mut self, insn: Insn) {
        if let Some(rd) = written(&insn) {
            self.clobber(rd);
        }
        self.items.push((Item::Insn(insn), self.tag()));
    }

    fn tag(&self) -> Tag {
        Tag { expr: self.cur, frame: self.frame }
    }

    fn clobber(&mut self, r: Reg) {
        if r != X0 {
            self.cache.retain(|c| c.lo != r && c.hi != Some(r));
        }
    }

    fn reloc(&mut self, r: Reloc) {
        match &r {
            Reloc::StringHi { rd, .. } | Reloc::StringLo { rd, .. } => self.clobber(*rd),
            Reloc::Call { .. } => self.cache.clear(),
            Reloc::Helper(_) => {
                for i in 0..8 {
                    self.clobber(Reg::arg(i));
                }
                for r in [S1, S2, S3, Reg::RA] {
                    self.clobber(r);
                }
            }
            Reloc::Frame { .. } | Reloc::StoreBelow { .. } | Reloc::Probe => {}
        }
        self.items.push((Item::Reloc(r), self.tag()));
    }

    fn alu(&mut self, op: Alu, rd: Reg, rs1: Reg, rs2: Reg) {
        self.emit(Insn::Alu { op, rd, rs1, rs2 });
    }

    fn imm(&mut self, op: AluImm, rd: Reg, rs1: Reg, imm: i32) {
        self.emit(Insn::AluImm { op, rd, rs1, imm });
    }

    fn mv(&mut self, rd: Reg, rs: Reg) {
        if rd != rs {
            self.imm(AluImm::Addi, rd, rs, 0);
        }
    }

    /// `rd = imm` (the low 32 bits).
    fn li(&mut self, rd: Reg, imm: i64) {
        let v = imm as i32;
        if (-2048..2048).contains(&v) {
            self.imm(AluImm::Addi, rd, X0, v);
        } else {
            let lo = (v << 20) >> 20;
            let hi = (v.wrapping_sub(lo) as u32) >> 12;
            self.emit(Insn::Lui { rd, imm: hi });
            if lo != 0 {
                self.imm(AluImm::Addi, rd, rd, lo);
            }
        }
    }

    fn lw(&mut self, rd: Reg, offset: i32) {
        self.emit(Insn::Load { kind: LoadKind::W, rd, rs1: Reg::SP, offset });
    }

    fn sw(&mut self, rs2: Reg, offset: i32) {
        self.items.push((
            Item::Insn(Insn::Store { kind: StoreKind::W, rs1: Reg::SP, rs2, offset }),
            self.tag(),
        ));
    }

    fn label(&mut self) -> Label {
        self.labels.push((None, None, false));
        Label(self.labels.len() as u32 - 1)
    }

    fn note_jump(&mut self, to: Label) {
        let (cache, frame, live) = &mut self.labels[to.0 as usize];
        *cache = Some(match cache.take() {
            None => self.cache.clone(),
            Some(prev) => intersect(&prev, &self.cache),
        });
        // Jumps that run must agree on the frame; a jump from dead code agrees with them.
        if !self.dead {
            if *live && frame.is_some_and(|f| f != self.frame) {
                self.frame_conflict = true;
            }
            *frame = Some(self.frame);
            *live = true;
        } else if frame.is_none() {
            *frame = Some(self.frame);
        }
    }

    fn branch_to(&mut self, cond: Cond, rs1: Reg, rs2: Reg, to: Label) {
        self.note_jump(to);
        self.items.push((Item::Branch { cond, rs1, rs2, to }, self.tag()));
    }

    fn jump(&mut self, to: Label) {
        self.note_jump(to);
        self.items.push((Item::Jump(to), self.tag()));
        self.reachable = false;
    }

    fn bind(&mut self, l: Label) {
        let (incoming, frame, live_jump) = self.labels[l.0 as usize].clone();
        let falls_live = self.reachable && !self.dead;
        self.cache = match (incoming, self.reachable) {
            (Some(jumps), true) => intersect(&jumps, &self.cache),
            (Some(jumps), false) => jumps,
            // No jump here and no way in: dead code (after an `if true`). It is compiled
            // but never runs; it continues from the state before it, which keeps the
            // compiler's own bookkeeping (the parameters' registers) consistent.
            (None, _) => std::mem::take(&mut self.cache),
        };
        if let Some(f) = frame {
            if falls_live && live_jump && f != self.frame {
                self.frame_conflict = true;
            }
            if live_jump || !falls_live {
                self.frame = f;
            }
        }
        self.dead = !(live_jump || falls_live);
        self.reachable = true;
        self.items.push((Item::Bind(l), self.tag()));
    }

    fn trap(&mut self, trap: Trap) -> Label {
        let l = self.label();
        self.traps.push((l, trap, self.cur));
        l
    }

    // ---------------------------------------------------------------- slots and registers

    fn alloc_slot(&mut self) -> u32 {
        self.ensure_frame();
        match self.used.iter().position(|u| !u) {
            Some(i) => {
                self.used[i] = true;
                i as u32
            }
            None => {
                self.used.push(true);
                self.used.len() as u32 - 1
            }
        }
    }

    fn free_slot(&mut self, slot: u32) {
        self.used[slot as usize] = false;
        self.cache.retain(|c| c.slot != slot);
    }

    fn store_slot(&mut self, slot: u32, lo: Reg, hi: Reg, kind: Kind) {
        let off = slot_offset(slot);
        if kind != Kind::Unit {
            self.sw(lo, off);
        }
        if kind == Kind::Int {
            self.sw(hi, off + 4);
        }
        self.cache.retain(|c| c.slot != slot);
        if kind != Kind::Unit {
            self.cache.push(Cached { slot, lo, hi: (kind == Kind::Int).then_some(hi) });
        }
    }

    fn cached(&self, slot: u32, kind: Kind) -> Option<(Reg, Reg)> {
        self.cache
            .iter()
            .find(|c| c.slot == slot && (kind != Kind::Int || c.hi.is_some()))
            .map(|c| (c.lo, c.hi.unwrap_or(X0)))
    }

    fn pool_index(lo: Reg) -> Option<u8> {
        POOL.iter().position(|(l, _)| *l == lo).map(|i| i as u8)
    }

    /// A free pool pair, spilling the deepest entry in registers when none is free.
    fn alloc_pair(&mut self) -> u8 {
        loop {
            let cached = |i: usize, cache: &[Cached]| {
                cache.iter().any(|c| c.lo == POOL[i].0 || c.hi == Some(POOL[i].1))
            };
            let free = (0..8).filter(|&i| self.refs[i] == 0 && !self.reserved[i]);
            let pick =
                free.clone().find(|&i| !cached(i, &self.cache)).or_else(|| free.clone().next());
            if let Some(i) = pick {
                let (lo, hi) = POOL[i];
                self.clobber(lo);
                self.clobber(hi);
                return i as u8;
            }
            let deepest = self
                .vstack
                .iter()
                .position(|e| matches!(e.loc, Loc::Regs { pair: Some(_), .. }))
                .expect("eight pairs cannot all be reserved");
            self.spill(deepest);
        }
    }

    fn push(&mut self, loc: Loc, kind: Kind) {
        if let Loc::Regs { pair: Some(p), .. } = loc {
            self.refs[p as usize] += 1;
        }
        self.vstack.push(Entry { loc, kind });
    }

    fn push_new(&mut self, pair: u8, kind: Kind) {
        let (lo, hi) = POOL[pair as usize];
        self.push(Loc::Regs { lo, hi, pair: Some(pair), origin: None }, kind);
    }

    fn release(&mut self, e: Entry) {
        match e.loc {
            Loc::Regs { pair: Some(p), .. } => self.refs[p as usize] -= 1,
            Loc::Slot { slot, owned: true } => self.free_slot(slot),
            _ => {}
        }
    }

    fn pop(&mut self) -> Entry {
        let e = self.vstack.pop().expect("an operand");
        self.release(e);
        e
    }

    /// Moves entry `i` out of registers into a frame slot.
    fn spill(&mut self, i: usize) {
        let e = self.vstack[i];
        let Loc::Regs { lo, hi, pair, origin } = e.loc else { return };
        // A parameter not yet stored is stored with the frame.
        self.ensure_frame();
        let loc = match origin {
            Some(slot) => Loc::Slot { slot, owned: false },
            None => {
                let slot = self.alloc_slot();
                self.store_slot(slot, lo, hi, e.kind);
                Loc::Slot { slot, owned: true }
            }
        };
        if let Some(p) = pair {
            self.refs[p as usize] -= 1;
        }
        self.vstack[i].loc = loc;
    }

    /// Spills every entry in registers (before a call, or a split of control flow).
    fn flush(&mut self) {
        for i in 0..self.vstack.len() {
            self.spill(i);
        }
    }

    /// Entries held in registers outside the pool (`a0`…) are about to be overwritten:
    /// those with a slot read it from there, the others (and parameters not stored yet)
    /// move into the pool.
    fn protect(&mut self, from: usize) {
        for i in from..self.vstack.len() {
            if let Loc::Regs { lo, hi, pair: None, origin } = self.vstack[i].loc {
                self.vstack[i].loc = match origin {
                    Some(slot) if !self.unstored(slot) => Loc::Slot { slot, owned: false },
                    _ => {
                        let p = self.alloc_pair();
                        let (plo, phi) = POOL[p as usize];
                        self.mv(plo, lo);
                        if self.vstack[i].kind == Kind::Int {
                            self.mv(phi, hi);
                        }
                        self.refs[p as usize] += 1;
                        if let Some(slot) = origin {
                            // Where `ensure_frame` finds the parameter once its registers change.
                            let hi = (self.vstack[i].kind == Kind::Int).then_some(phi);
                            self.cache.push(Cached { slot, lo: plo, hi });
                        }
                        Loc::Regs { lo: plo, hi: phi, pair: Some(p), origin }
                    }
                };
            }
        }
    }

    /// Entry `i` in registers (loaded into a pool pair if need be).
    fn regs_of(&mut self, i: usize) -> (Reg, Reg) {
        let e = self.vstack[i];
        match e.loc {
            Loc::Regs { lo, hi, .. } => (lo, hi),
            Loc::Imm(0) if e.kind != Kind::Int => (X0, X0),
            Loc::Imm(v) => {
                let p = self.alloc_pair();
                let (lo, hi) = POOL[p as usize];
                self.li(lo, v);
                if e.kind == Kind::Int {
                    self.li(hi, v >> 32);
                }
                self.refs[p as usize] += 1;
                self.vstack[i].loc = Loc::Regs { lo, hi, pair: Some(p), origin: None };
                (lo, hi)
            }
            Loc::Slot { slot, owned } => {
                if let Some((lo, hi)) = self.cached(slot, e.kind) {
                    let pair = Self::pool_index(lo)
                        .filter(|&p| POOL[p as usize].1 == hi || e.kind != Kind::Int);
                    // A pool pair holding it is shared; other registers are volatile.
                    if let Some(p) = pair {
                        self.refs[p as usize] += 1;
                    }
                    if owned {
                        self.free_slot(slot);
                    }
                    let origin = (!owned).then_some(slot);
                    self.vstack[i].loc = Loc::Regs { lo, hi, pair, origin };
                    return (lo, hi);
                }
                let p = self.alloc_pair();
                let (lo, hi) = POOL[p as usize];
                let off = slot_offset(slot);
                if e.kind != Kind::Unit {
                    self.lw(lo, off);
                }
                if e.kind == Kind::Int {
                    self.lw(hi, off + 4);
                }
                self.refs[p as usize] += 1;
                if owned {
                    self.free_slot(slot);
                    self.vstack[i].loc = Loc::Regs { lo, hi, pair: Some(p), origin: None };
                } else {
                    self.cache.push(Cached { slot, lo, hi: (e.kind == Kind::Int).then_some(hi) });
                    self.vstack[i].loc = Loc::Regs { lo, hi, pair: Some(p), origin: Some(slot) };
                }
                (lo, hi)
            }
        }
    }

    /// The words of entry `i` for a comparison: a constant in the scratch registers given
    /// (`zero` for a zero word) when they suffice, anything else in registers.
    fn operand(&mut self, i: usize, scratch: &[Reg]) -> (Reg, Reg) {
        let e = self.vstack[i];
        if let Loc::Imm(v) = e.loc {
            let lo_needed = v as i32 != 0;
            let hi_needed = e.kind == Kind::Int && v >> 32 != 0;
            if usize::from(lo_needed) + usize::from(hi_needed) <= scratch.len() {
                let mut free = scratch.iter();
                let mut word = |fc: &mut Self, needed: bool, w: i64| {
                    if needed {
                        let r = *free.next().expect("counted");
                        fc.li(r, w);
                        r
                    } else {
                        X0
                    }
                };
                let lo = word(self, lo_needed, v);
                let hi = word(self, hi_needed, v >> 32);
                return (lo, hi);
            }
        }
        self.regs_of(i)
    }

    /// Moves the top entry into `(lo, hi)` (and pops it).
    fn move_top_to(&mut self, lo: Reg, hi: Reg) {
        let i = self.vstack.len() - 1;
        let e = self.vstack[i];
        match e.loc {
            Loc::Imm(v) => {
                if e.kind != Kind::Unit {
                    self.li(lo, v);
                }
                if e.kind == Kind::Int {
                    self.li(hi, v >> 32);
                }
            }
            Loc::Slot { slot, .. } if self.cached(slot, e.kind).is_none() => {
                let off = slot_offset(slot);
                if e.kind != Kind::Unit {
                    self.lw(lo, off);
                }
                if e.kind == Kind::Int {
                    self.lw(hi, off + 4);
                }
            }
            _ => {
                let (slo, shi) = self.regs_of(i);
                if e.kind != Kind::Unit {
                    self.mv(lo, slo);
                }
                if e.kind == Kind::Int {
                    self.mv(hi, shi);
                }
            }
        }
        self.pop();
    }

    fn reserve(&mut self) -> u8 {
        let p = self.alloc_pair();
        self.reserved[p as usize] = true;
        p
    }

    /// Ends a branch of an `if` or `match`: its value into the reserved pair.
    fn leave_in_reserved(&mut self, p: u8) {
        if self.reachable {
            let (lo, hi) = POOL[p as usize];
            self.move_top_to(lo, hi);
        } else {
            self.pop();
        }
    }

    fn push_reserved(&mut self, p: u8, kind: Kind) {
        self.reserved[p as usize] = false;
        if kind == Kind::Unit {
            self.push(Loc::Imm(0), Kind::Unit);
        } else {
            self.push_new(p, kind);
        }
    }

    // ---------------------------------------------------------------- frames

    /// A function starts without a frame: its first instruction reads the lowest word of the
    /// frame it would have (the stack guard under the deepest frame the call depth allows
    /// makes this the depth check; a read, so no page is marked written), and its register
    /// parameters stay in their registers. Paths that need a frame build it (`ensure_frame`); the others (a leaf
    /// that computes on its parameters and returns) never do.
    fn prologue(&mut self, params: &[Kind]) {
        self.reloc(Reloc::Probe);
        for (i, k) in params.iter().enumerate() {
            self.used.push(true);
            let slot = self.used.len() as u32 - 1;
            self.scope.push((Local::Slot(slot), *k));
            if i < REG_ARGS && *k != Kind::Unit {
                let (lo, hi) = abi::pair(i);
                self.cache.push(Cached { slot, lo, hi: (*k == Kind::Int).then_some(hi) });
                self.reg_params.push(slot);
            }
        }
        // Stack parameters are read from the frame they were stored into.
        if params.len() > REG_ARGS {
            self.ensure_frame();
        }
    }

    /// Builds the frame here if the path has none: `sp` down, the return address and the
    /// register parameters saved. The parameters are still in their registers (everything
    /// that overwrites those registers builds the frame first).
    fn ensure_frame(&mut self) {
        if self.frame == FrameState::Full {
            return;
        }
        self.reloc(Reloc::Frame { enter: true });
        self.frame = FrameState::Partial;
        self.sw(Reg::RA, 0);
        self.frame = FrameState::Full;
        for slot in self.reg_params.clone() {
            let kind = self.scope[slot as usize].1;
            // Every path without a frame keeps its parameters in their registers, except
            // code that never runs (after an `if false`): nothing to store there.
            let Some((lo, hi)) = self.cached(slot, kind) else {
                self.frame_conflict |= !self.dead;
                continue;
            };
            let off = slot_offset(slot);
            self.sw(lo, off);
            if kind == Kind::Int {
                self.sw(hi, off + 4);
            }
        }
    }

    /// Whether `slot` is a parameter whose only copy is its register (the path has no
    /// frame yet, so it was not stored).
    fn unstored(&self, slot: u32) -> bool {
        self.frame != FrameState::Full && self.reg_params.contains(&slot)
    }

    /// Takes the frame down (if the path has one): the return address back in `ra`.
    fn leave_frame(&mut self) {
        if self.frame == FrameState::Full {
            self.lw(Reg::RA, 0);
            self.frame = FrameState::Partial;
            self.reloc(Reloc::Frame { enter: false });
            self.frame = FrameState::None;
        }
    }

    fn epilogue(&mut self) {
        let saved = self.frame;
        self.leave_frame();
        self.emit(Insn::Jalr { rd: X0, rs1: Reg::RA, offset: 0 });
        self.frame = saved;
        self.reachable = false;
    }

    /// Before a split of control flow whose paths meet again, or whose tests would need a
    /// frame halfway: the frame, so that every path meets with the same one.
    fn frame_before(&mut self, tests: &[&Expr]) {
        if self.frame != FrameState::Full && !tests.iter().all(|e| frame_free(e, &mut 8)) {
            self.ensure_frame();
        }
    }

    // ---------------------------------------------------------------- expressions

    fn id(&self, e: &Expr) -> u32 {
        self.ids.get(&(e as *const Expr)).copied().unwrap_or(self.cur)
    }

    fn unsupported<T>(&self, e: &Expr, what: String) -> R<T> {
        Err(CompileError::Unsupported {
            def: self.hash,
            name: self.name.clone(),
            expr: Some(self.id(e)),
            construct: what,
        })
    }

    fn resolve(&self, r: &Ref) -> Option<CodeHash> {
        match r {
            Ref::Hash(h) => Some(*h),
            Ref::Member(i) => self.component.map(|c| tel_hash::member_hash(&c, *i)),
            Ref::Def(_) | Ref::Builtin(_) => None,
        }
    }

    fn local(&self, i: u32) -> R<(Local, Kind)> {
        let n = self.scope.len();
        if (i as usize) < n {
            Ok(self.scope[n - 1 - i as usize])
        } else {
            Err(CompileError::BadLocal { def: place(&self.name, &self.hash, &None), index: i })
        }
    }

    /// Compiles `e` in tail position: its value is the function's result.
    fn tail(&mut self, e: &Expr) -> R<()> {
        let saved = self.cur;
        self.cur = self.id(e);
        let r = self.tail_inner(e);
        self.cur = saved;
        r
    }

    fn tail_inner(&mut self, e: &Expr) -> R<()> {
        match e {
            Expr::If { cond, then, else_ } => {
                self.flush();
                self.frame_before(&[cond]);
                let else_l = self.label();
                self.branch(cond, else_l, false)?;
                let (yes, no) = self.facts_of(cond);
                self.with_fact(yes, |fc| fc.tail(then))?;
                // The else branch is entered only by the test's jump when the then branch
                // does not fall into it.
                let no = no.filter(|_| !self.reachable);
                self.bind(else_l);
                self.with_fact(no, |fc| fc.tail(else_))
            }
            Expr::Let { value, body, .. } => {
                let bound = self.let_value(value)?;
                self.tail(body)?;
                self.end_let(bound);
                Ok(())
            }
            Expr::Seq { first, then } => {
                self.expr(first)?;
                self.pop();
                self.tail(then)
            }
            Expr::Match { .. } => self.match_(e, true),
            // More than eight arguments: see `call`.
            Expr::Call { callee, args }
                if matches!(&**callee, Expr::Ref(Ref::Hash(_) | Ref::Member(_)))
                    && args.len() <= 2 * REG_ARGS =>
            {
                let Expr::Ref(r) = &**callee else { unreachable!() };
                self.call(e, r, args, true)
            }
            _ => {
                self.hint = Some((Reg::A0, Reg::A1));
                self.expr(e)?;
                self.ret();
                Ok(())
            }
        }
    }

    /// Returns the top entry.
    fn ret(&mut self) {
        self.move_top_to(Reg::A0, Reg::A1);
        self.epilogue();
    }

    /// Compiles `e`, pushing its value.
    fn expr(&mut self, e: &Expr) -> R<()> {
        let saved = self.cur;
        self.cur = self.id(e);
        let r = self.expr_inner(e);
        self.cur = saved;
        r
    }

    fn expr_inner(&mut self, e: &Expr) -> R<()> {
        let hint = self.hint.take();
        match e {
            Expr::Local(i) => {
                let (local, kind) = self.local(*i)?;
                self.push_local(local, kind);
                Ok(())
            }
            Expr::Lit(Lit::Int(n)) => {
                self.push(Loc::Imm(*n), Kind::Int);
                Ok(())
            }
            Expr::Lit(Lit::Bool(b)) => {
                self.push(Loc::Imm(i64::from(*b)), Kind::Bool);
                Ok(())
            }
            Expr::Lit(Lit::Unit) => {
                self.push(Loc::Imm(0), Kind::Unit);
                Ok(())
            }
            Expr::Call { callee, args } => match &**callee {
                Expr::Ref(Ref::Builtin(Builtin::Now)) if args.is_empty() => {
                    self.perform(HostEffect::Now, args)
                }
                Expr::Ref(Ref::Builtin(b)) => {
                    self.unsupported(e, format!("the builtin `{}`", b.name()))
                }
                Expr::Ref(r @ (Ref::Hash(_) | Ref::Member(_))) => self.call(e, r, args, false),
                _ => self.unsupported(e, "a call of a function value".into()),
            },
            Expr::Let { value, body, .. } => {
                let bound = self.let_value(value)?;
                self.expr(body)?;
                self.end_let(bound);
                Ok(())
            }
            Expr::Seq { first, then } => {
                self.expr(first)?;
                self.pop();
                self.expr(then)
            }
            Expr::If { cond, then, else_ } => {
                self.ensure_frame();
                self.flush();
                let else_l = self.label();
                let end = self.label();
                self.branch(cond, else_l, false)?;
                let (yes, no) = self.facts_of(cond);
                let p = self.reserve();
                self.with_fact(yes, |fc| fc.expr(then))?;
                let kind = self.vstack.last().expect("a value").kind;
                self.leave_in_reserved(p);
                self.jump(end);
                self.bind(else_l);
                self.with_fact(no, |fc| fc.expr(else_))?;
                self.leave_in_reserved(p);
                self.bind(end);
                self.push_reserved(p, kind);
                Ok(())
            }
            Expr::Match { .. } => self.match_(e, false),
            Expr::Binary { op: BinOp::And | BinOp::Or, .. } => {
                self.ensure_frame();
                self.flush();
                let p = self.reserve();
                let (lo, _) = POOL[p as usize];
                let (no, end) = (self.label(), self.label());
                self.branch(e, no, false)?;
                self.li(lo, 1);
                self.jump(end);
                self.bind(no);
                self.li(lo, 0);
                self.bind(end);
                self.push_reserved(p, Kind::Bool);
                Ok(())
            }
            Expr::Binary { op: op @ (BinOp::Add | BinOp::Sub), lhs, rhs } => {
                self.expr(lhs)?;
                self.expr(rhs)?;
                if self.vstack[self.vstack.len() - 1].kind != Kind::Int {
                    return self.binary(e, *op);
                }
                self.add_sub(*op, hint)
            }
            Expr::Binary { op, lhs, rhs } => {
                self.expr(lhs)?;
                self.expr(rhs)?;
                self.binary(e, *op)
            }
            Expr::Unary { op, expr } => {
                self.expr(expr)?;
                let i = self.vstack.len() - 1;
                let kind = self.vstack[i].kind;
                let (alo, ahi) = self.regs_of(i);
                let p = self.alloc_pair();
                let (lo, hi) = POOL[p as usize];
                match (op, kind) {
                    (UnOp::Not, Kind::Bool) => self.imm(AluImm::Xori, lo, alo, 1),
                    (UnOp::Neg, Kind::Int) => {
                        let ovf = self.trap(Trap::Overflow(TrapOp::Neg));
                        self.alu(Alu::Sltu, S1, X0, alo);
                        self.alu(Alu::Sub, lo, X0, alo);
                        self.alu(Alu::Sub, hi, X0, ahi);
                        self.alu(Alu::Sub, hi, hi, S1);
                        // -i64::MIN is i64::MIN: both negative.
                        self.alu(Alu::And, S1, ahi, hi);
                        self.branch_to(Cond::Lt, S1, X0, ovf);
                    }
                    _ => return self.unsupported(e, format!("`{}` on {kind:?}", op.symbol())),
                }
                self.pop();
                self.push_new(p, kind);
                Ok(())
            }
            Expr::Perform { effect, args } => {
                let Some(op) = self.resolve(effect).as_ref().and_then(HostEffect::from_hash) else {
                    let name = self
                        .resolve(effect)
                        .and_then(|h| self.defs.get(&h))
                        .and_then(|d| match &d.def {
                            CoreDef::Effect { name, .. } => Some(name.clone()),
                            _ => None,
                        })
                        .unwrap_or_else(|| "an effect".into());
                    return self.unsupported(
                        e,
                        format!("`perform {name}` of a program effect (handlers are not compiled)"),
                    );
                };
                self.perform(op, args)
            }
            _ => self.unsupported(e, construct(e)),
        }
    }

    /// Binds a `let`'s value: a constant stays a constant, a local's slot is shared, any
    /// other value gets a slot. Returns the slot to free at the end of the scope.
    fn let_value(&mut self, value: &Expr) -> R<Option<u32>> {
        self.expr(value)?;
        let top = self.vstack.len() - 1;
        let entry = self.vstack[top];
        let (local, own) = match entry.loc {
            Loc::Imm(v) => (Local::Imm(v), None),
            Loc::Slot { slot, owned: false } | Loc::Regs { origin: Some(slot), .. } => {
                (Local::Slot(slot), None)
            }
            Loc::Slot { slot, owned: true } => {
                // The temporary's slot becomes the local's.
                self.vstack[top].loc = Loc::Imm(0);
                (Local::Slot(slot), Some(slot))
            }
            Loc::Regs { lo, hi, .. } => {
                let slot = self.alloc_slot();
                self.store_slot(slot, lo, hi, entry.kind);
                (Local::Slot(slot), Some(slot))
            }
        };
        self.pop();
        self.scope.push((local, entry.kind));
        Ok(own)
    }

    /// Leaves a `let`'s scope.
    fn end_let(&mut self, own: Option<u32>) {
        self.scope.pop();
        self.drop_local(own);
    }

    /// Frees a local's slot at the end of its scope, unless the scope's value (the top
    /// entry) still reads it: then the value owns it.
    fn drop_local(&mut self, own: Option<u32>) {
        let Some(slot) = own else { return };
        if let Some(top) = self.vstack.last_mut() {
            match &mut top.loc {
                Loc::Slot { slot: s, owned } if *s == slot => {
                    *owned = true;
                    return;
                }
                Loc::Regs { origin, .. } if *origin == Some(slot) => *origin = None,
                _ => {}
            }
        }
        self.free_slot(slot);
    }

    /// Jumps to `to` when `e` is `when`, else falls through.
    fn branch(&mut self, e: &Expr, to: Label, when: bool) -> R<()> {
        let saved = self.cur;
        self.cur = self.id(e);
        let r = self.branch_inner(e, to, when);
        self.cur = saved;
        r
    }

    fn branch_inner(&mut self, e: &Expr, to: Label, when: bool) -> R<()> {
        match e {
            Expr::Lit(Lit::Bool(b)) => {
                if *b == when {
                    self.jump(to);
                    // Code after an unconditional jump is unreachable, but still compiled.
                    let dead = self.label();
                    self.bind(dead);
                }
                Ok(())
            }
            Expr::Unary { op: UnOp::Not, expr } => self.branch(expr, to, !when),
            Expr::Binary { op: op @ (BinOp::And | BinOp::Or), lhs, rhs } => {
                // `a && b` is false as soon as `a` is; `a || b` true as soon as `a` is.
                let decisive = *op == BinOp::Or;
                if when == decisive {
                    self.branch(lhs, to, when)?;
                    self.branch(rhs, to, when)
                } else {
                    let skip = self.label();
                    self.branch(lhs, skip, decisive)?;
                    self.branch(rhs, to, when)?;
                    self.bind(skip);
                    Ok(())
                }
            }
            Expr::Binary {
                op: op @ (BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge),
                lhs,
                rhs,
            } => {
                self.expr(lhs)?;
                self.expr(rhs)?;
                let op = if when { *op } else { negate(*op) };
                self.compare_branch(e, op, to)
            }
            _ => {
                self.expr(e)?;
                let i = self.vstack.len() - 1;
                if self.vstack[i].kind != Kind::Bool {
                    return self.unsupported(e, "a condition that is not a Bool".into());
                }
                let (lo, _) = self.regs_of(i);
                self.pop();
                self.branch_to(if when { Cond::Ne } else { Cond::Eq }, lo, X0, to);
                Ok(())
            }
        }
    }

    /// Jumps to `to` when `a op b` (the top two entries, popped).
    fn compare_branch(&mut self, e: &Expr, op: BinOp, to: Label) -> R<()> {
        let n = self.vstack.len();
        let kind = self.vstack[n - 1].kind;
        if kind != Kind::Int && !matches!(op, BinOp::Eq | BinOp::Ne) {
            return self.unsupported(e, format!("`{}` on {kind:?}", op.symbol()));
        }
        if kind == Kind::Unit {
            self.pop();
            self.pop();
            if op == BinOp::Eq {
                self.jump(to);
                let dead = self.label();
                self.bind(dead);
            }
            return Ok(());
        }
        // A constant on the left goes to the right (mirroring the operator), so the left
        // operand is in registers and the right one may be a constant in scratch registers.
        let mut op = op;
        if matches!(self.vstack[n - 2].loc, Loc::Imm(_))
            && !matches!(self.vstack[n - 1].loc, Loc::Imm(_))
        {
            self.vstack.swap(n - 2, n - 1);
            op = match op {
                BinOp::Lt => BinOp::Gt,
                BinOp::Gt => BinOp::Lt,
                BinOp::Le => BinOp::Ge,
                BinOp::Ge => BinOp::Le,
                same => same,
            };
        }
        let (alo, ahi) = self.regs_of(n - 2);
        let (blo, bhi) = self.operand(n - 1, &[S1, S2]);
        self.pop();
        self.pop();
        let skip = self.label();
        let int = kind == Kind::Int;
        match op {
            BinOp::Eq if int => {
                self.branch_to(Cond::Ne, alo, blo, skip);
                self.branch_to(Cond::Eq, ahi, bhi, to);
            }
            BinOp::Ne if int => {
                self.branch_to(Cond::Ne, alo, blo, to);
                self.branch_to(Cond::Ne, ahi, bhi, to);
            }
            BinOp::Eq => self.branch_to(Cond::Eq, alo, blo, to),
            BinOp::Ne => self.branch_to(Cond::Ne, alo, blo, to),
            // By the high words (signed), then, when they are equal, the low words (unsigned).
            BinOp::Lt => {
                self.branch_to(Cond::Lt, ahi, bhi, to);
                self.branch_to(Cond::Ne, ahi, bhi, skip);
                self.branch_to(Cond::Ltu, alo, blo, to);
            }
            BinOp::Gt => {
                self.branch_to(Cond::Lt, bhi, ahi, to);
                self.branch_to(Cond::Ne, ahi, bhi, skip);
                self.branch_to(Cond::Ltu, blo, alo, to);
            }
            BinOp::Le => {
                self.branch_to(Cond::Lt, ahi, bhi, to);
                self.branch_to(Cond::Ne, ahi, bhi, skip);
                self.branch_to(Cond::Geu, blo, alo, to);
            }
            BinOp::Ge => {
                self.branch_to(Cond::Lt, bhi, ahi, to);
                self.branch_to(Cond::Ne, ahi, bhi, skip);
                self.branch_to(Cond::Geu, alo, blo, to);
            }
            _ => unreachable!("a comparison"),
        }
        self.bind(skip);
        Ok(())
    }

    /// `a op b` on the top two entries.
    fn binary(&mut self, e: &Expr, op: BinOp) -> R<()> {
        let n = self.vstack.len();
        let kind = self.vstack[n - 1].kind;
        match op {
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem if kind != Kind::Int => {
                self.unsupported(e, format!("`{}` on {kind:?}", op.symbol()))
            }
            BinOp::Add | BinOp::Sub => self.add_sub(op, None),
            BinOp::Mul | BinOp::Div | BinOp::Rem => self.mul_div(op),
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                self.compare_value(e, op)
            }
            BinOp::Concat => self.unsupported(e, "`++`".into()),
            BinOp::And | BinOp::Or => unreachable!("compiled by branches"),
        }
    }

    fn add_sub(&mut self, op: BinOp, hint: Option<(Reg, Reg)>) -> R<()> {
        let n = self.vstack.len();
        let trap_op = if op == BinOp::Add { TrapOp::Add } else { TrapOp::Sub };
        // A small constant on the right (or on the left of `+`): the immediate forms.
        let small = |e: &Entry, neg: bool| match e.loc {
            Loc::Imm(v) => {
                let v = if neg { v.checked_neg()? } else { v };
                (-2047..=2047).contains(&v).then_some(v as i32)
            }
            _ => None,
        };
        let (reg_i, k) =
            match (small(&self.vstack[n - 1], op == BinOp::Sub), small(&self.vstack[n - 2], false))
            {
                (Some(k), _) => (Some(n - 2), k),
                (None, Some(k)) if op == BinOp::Add => (Some(n - 1), k),
                _ => (None, 0),
            };
        if let Some(i) = reg_i {
            let checked = !self.cannot_overflow(i, k);
            let (alo, ahi) = self.regs_of(i);
            // The hinted registers, when nothing else lives there and the sequence below
            // reads each operand word before it writes over it.
            let fits = |&(lo, hi): &(Reg, Reg)| {
                lo != ahi
                    && match k.cmp(&0) {
                        std::cmp::Ordering::Equal => true,
                        std::cmp::Ordering::Greater => lo != alo && !(checked && hi == ahi),
                        std::cmp::Ordering::Less => !(checked && hi == ahi),
                    }
            };
            let target = hint.filter(|h| fits(h) && self.free_but(h, n - 2));
            let (lo, hi, p) = match target {
                Some((lo, hi)) => (lo, hi, None),
                None => {
                    let p = self.alloc_pair();
                    (POOL[p as usize].0, POOL[p as usize].1, Some(p))
                }
            };
            let ovf = checked.then(|| self.trap(Trap::Overflow(trap_op)));
            match k.cmp(&0) {
                std::cmp::Ordering::Equal => {
                    self.mv(lo, alo);
                    self.mv(hi, ahi);
                }
                std::cmp::Ordering::Greater => {
                    // A carry into a high word of i32::MAX wraps it: that is the overflow.
                    self.imm(AluImm::Addi, lo, alo, k);
                    self.alu(Alu::Sltu, S1, lo, alo);
                    self.alu(Alu::Add, hi, ahi, S1);
                    if let Some(ovf) = ovf {
                        self.branch_to(Cond::Lt, hi, ahi, ovf);
                    }
                }
                std::cmp::Ordering::Less => {
                    // A borrow out of a high word of i32::MIN wraps it.
                    self.imm(AluImm::Sltiu, S1, alo, -k);
                    self.imm(AluImm::Addi, lo, alo, k);
                    self.alu(Alu::Sub, hi, ahi, S1);
                    if let Some(ovf) = ovf {
                        self.branch_to(Cond::Lt, ahi, hi, ovf);
                    }
                }
            }
            self.pop();
            self.pop();
            match p {
                Some(p) => self.push_new(p, Kind::Int),
                None => self.push(Loc::Regs { lo, hi, pair: None, origin: None }, Kind::Int),
            }
            return Ok(());
        }
        let (alo, ahi) = self.regs_of(n - 2);
        let (blo, bhi) = self.regs_of(n - 1);
        let p = self.alloc_pair();
        let (lo, hi) = POOL[p as usize];
        let ovf = self.trap(Trap::Overflow(trap_op));
        if op == BinOp::Add {
            self.alu(Alu::Add, lo, alo, blo);
            self.alu(Alu::Sltu, S1, lo, alo);
            self.alu(Alu::Add, hi, ahi, bhi);
            self.alu(Alu::Add, hi, hi, S1);
            // Overflow: both operands have the sign the result has not.
            self.alu(Alu::Xor, S1, hi, ahi);
            self.alu(Alu::Xor, S2, hi, bhi);
        } else {
            self.alu(Alu::Sltu, S1, alo, blo);
            self.alu(Alu::Sub, lo, alo, blo);
            self.alu(Alu::Sub, hi, ahi, bhi);
            self.alu(Alu::Sub, hi, hi, S1);
            // Overflow: the operands' signs differ and the result's is not the first's.
            self.alu(Alu::Xor, S1, ahi, bhi);
            self.alu(Alu::Xor, S2, hi, ahi);
        }
        self.alu(Alu::And, S1, S1, S2);
        self.branch_to(Cond::Lt, S1, X0, ovf);
        self.pop();
        self.pop();
        self.push_new(p, Kind::Int);
        Ok(())
    }

    /// Whether no entry but those from `from` on lives in `lo` or `hi`.
    fn free_but(&self, &(lo, hi): &(Reg, Reg), from: usize) -> bool {
        !self.vstack[..from].iter().any(|e| in_regs(e, lo, hi))
    }

    /// Whether entry `i` plus `k` cannot overflow, by the facts on the local it reads.
    fn cannot_overflow(&self, i: usize, k: i32) -> bool {
        let slot = match self.vstack[i].loc {
            Loc::Slot { slot, owned: false } | Loc::Regs { origin: Some(slot), .. } => slot,
            _ => return false,
        };
        let (least, greatest) = self
            .facts
            .iter()
            .filter(|f| f.0 == slot)
            .fold((i64::MIN, i64::MAX), |(l, g), f| (l.max(f.1), g.min(f.2)));
        least.checked_add(i64::from(k)).is_some() && greatest.checked_add(i64::from(k)).is_some()
    }

    /// What `cond` says about a local when it is true and when it is false: a comparison of
    /// an Int local with a literal.
    fn facts_of(&self, cond: &Expr) -> (Option<Fact>, Option<Fact>) {
        let Expr::Binary { op, lhs, rhs } = cond else { return (None, None) };
        let (local, c, op) = match (&**lhs, &**rhs) {
            (Expr::Local(l), Expr::Lit(Lit::Int(c))) => (*l, *c, *op),
            (Expr::Lit(Lit::Int(c)), Expr::Local(l)) => {
                let mirrored = match op {
                    BinOp::Lt => BinOp::Gt,
                    BinOp::Gt => BinOp::Lt,
                    BinOp::Le => BinOp::Ge,
                    BinOp::Ge => BinOp::Le,
                    other => *other,
                };
                (*l, *c, mirrored)
            }
            _ => return (None, None),
        };
        let Ok((Local::Slot(slot), Kind::Int)) = self.local(local) else { return (None, None) };
        // The values of the local for which `local op c` holds.
        let range = |op: BinOp| -> Option<Fact> {
            let (l, g) = match op {
                BinOp::Lt => (i64::MIN, c.checked_sub(1)?),
                BinOp::Le => (i64::MIN, c),
                BinOp::Gt => (c.checked_add(1)?, i64::MAX),
                BinOp::Ge => (c, i64::MAX),
                BinOp::Eq => (c, c),
                _ => return None,
            };
            Some((slot, l, g))
        };
        (range(op), range(negate(op)))
    }

    /// Compiles with `fact` known (for the code `f` compiles).
    fn with_fact(&mut self, fact: Option<Fact>, f: impl FnOnce(&mut Self) -> R<()>) -> R<()> {
        let n = self.facts.len();
        self.facts.extend(fact);
        let r = f(self);
        self.facts.truncate(n);
        r
    }

    fn mul_div(&mut self, op: BinOp) -> R<()> {
        // The helper's call overwrites ra.
        self.ensure_frame();
        let n = self.vstack.len();
        if matches!(op, BinOp::Div | BinOp::Rem) {
            match self.vstack[n - 1].loc {
                Loc::Imm(0) => {
                    let t = self.trap(Trap::DivisionByZero);
                    self.jump(t);
                    let dead = self.label();
                    self.bind(dead);
                }
                Loc::Imm(_) => {}
                _ => {
                    let (blo, bhi) = self.regs_of(n - 1);
                    let t = self.trap(Trap::DivisionByZero);
                    self.alu(Alu::Or, S1, blo, bhi);
                    self.branch_to(Cond::Eq, S1, X0, t);
                }
            }
        }
        // The helper takes its operands in a0..a3 and clobbers the a-registers: after
        // `protect` no entry is in one, so b then a can move in without overwriting each other.
        self.protect(0);
        self.move_top_to(Reg::A2, Reg::A3);
        self.move_top_to(Reg::A0, Reg::A1);
        let helper = if op == BinOp::Mul { Helper::Mul64 } else { Helper::DivRem64 };
        self.reloc(Reloc::Helper(helper));
        let trap_op = match op {
            BinOp::Mul => TrapOp::Mul,
            BinOp::Div => TrapOp::Div,
            _ => TrapOp::Rem,
        };
        let ovf = self.trap(Trap::Overflow(trap_op));
        let flag = if op == BinOp::Mul { Reg::A2 } else { Reg::A4 };
        self.branch_to(Cond::Ne, flag, X0, ovf);
        let (lo, hi) = if op == BinOp::Rem { (Reg::A2, Reg::A3) } else { (Reg::A0, Reg::A1) };
        self.push(Loc::Regs { lo, hi, pair: None, origin: None }, Kind::Int);
        Ok(())
    }

    fn compare_value(&mut self, e: &Expr, op: BinOp) -> R<()> {
        let n = self.vstack.len();
        let kind = self.vstack[n - 1].kind;
        if kind != Kind::Int && !matches!(op, BinOp::Eq | BinOp::Ne) {
            return self.unsupported(e, format!("`{}` on {kind:?}", op.symbol()));
        }
        if kind == Kind::Unit {
            self.pop();
            self.pop();
            self.push(Loc::Imm(i64::from(op == BinOp::Eq)), Kind::Bool);
            return Ok(());
        }
        let (alo, ahi) = self.regs_of(n - 2);
        let (blo, bhi) = self.regs_of(n - 1);
        let p = self.alloc_pair();
        let (lo, _) = POOL[p as usize];
        match op {
            BinOp::Eq | BinOp::Ne => {
                self.alu(Alu::Xor, S1, alo, blo);
                if kind == Kind::Int {
                    self.alu(Alu::Xor, S2, ahi, bhi);
                    self.alu(Alu::Or, S1, S1, S2);
                }
                if op == BinOp::Eq {
                    self.imm(AluImm::Sltiu, lo, S1, 1);
                } else {
                    self.alu(Alu::Sltu, lo, X0, S1);
                }
            }
            _ => {
                // l < r, with l and r chosen by the operator; `<=` and `>=` negate a `<`.
                let (l, r, negated) = match op {
                    BinOp::Lt => ((alo, ahi), (blo, bhi), false),
                    BinOp::Gt => ((blo, bhi), (alo, ahi), false),
                    BinOp::Le => ((blo, bhi), (alo, ahi), true),
                    _ => ((alo, ahi), (blo, bhi), true),
                };
                self.alu(Alu::Slt, S1, l.1, r.1);
                self.alu(Alu::Xor, S2, l.1, r.1);
                self.imm(AluImm::Sltiu, S2, S2, 1);
                self.alu(Alu::Sltu, S3, l.0, r.0);
                self.alu(Alu::And, S2, S2, S3);
                self.alu(Alu::Or, lo, S1, S2);
                if negated {
                    self.imm(AluImm::Xori, lo, lo, 1);
                }
            }
        }
        self.pop();
        self.pop();
        self.push_new(p, Kind::Bool);
        Ok(())
    }

    /// A `match` on an Int, Bool or `()`: arms are tried in order (a literal pattern
    /// compares, a guard is a branch); the scrutinee stays in its slot for the bindings.
    fn match_(&mut self, e: &Expr, tail: bool) -> R<()> {
        let Expr::Match { scrutinee, arms } = e else { unreachable!("a match") };
        if tail {
            let tests: Vec<&Expr> = std::iter::once(&**scrutinee)
                .chain(arms.iter().filter_map(|a| a.guard.as_ref()))
                .collect();
            self.frame_before(&tests);
        } else {
            self.ensure_frame();
        }
        self.flush();
        let own = self.let_value(scrutinee)?;
        let (scrut, kind) = self.scope.pop().expect("the scrutinee");
        let end = self.label();
        let p = (!tail).then(|| self.reserve());
        let mut result = None;
        for arm in arms {
            let next = self.label();
            match &arm.pat {
                Pat::Wildcard | Pat::Bind => {}
                Pat::Lit(l @ (Lit::Int(_) | Lit::Bool(_) | Lit::Unit)) => {
                    let v = match l {
                        Lit::Int(n) => *n,
                        Lit::Bool(b) => i64::from(*b),
                        _ => 0,
                    };
                    self.push_local(scrut, kind);
                    self.push(Loc::Imm(v), kind);
                    self.compare_branch(e, BinOp::Ne, next)?;
                }
                other => return self.unsupported(e, format!("a pattern {}", pattern(other))),
            }
            let binds = arm.pat == Pat::Bind;
            if binds {
                self.scope.push((scrut, kind));
            }
            if let Some(g) = &arm.guard {
                self.branch(g, next, false)?;
            }
            if tail {
                self.tail(&arm.body)?;
            } else {
                self.expr(&arm.body)?;
                result.get_or_insert(self.vstack.last().expect("a value").kind);
                self.leave_in_reserved(p.expect("reserved"));
                self.jump(end);
            }
            if binds {
                self.scope.pop();
            }
            self.bind(next);
        }
        let t = self.trap(Trap::NoMatch);
        self.jump(t);
        if let Some(p) = p {
            self.bind(end);
            self.push_reserved(p, result.unwrap_or(Kind::Unit));
        }
        self.drop_local(own);
        Ok(())
    }

    fn push_local(&mut self, local: Local, kind: Kind) {
        match local {
            Local::Imm(v) => self.push(Loc::Imm(v), kind),
            Local::Slot(slot) => match self.cached(slot, kind) {
                Some((lo, hi)) => {
                    let pair = Self::pool_index(lo)
                        .filter(|&p| POOL[p as usize].1 == hi || kind != Kind::Int);
                    self.push(Loc::Regs { lo, hi, pair, origin: Some(slot) }, kind);
                }
                None => self.push(Loc::Slot { slot, owned: false }, kind),
            },
        }
    }

    fn call(&mut self, e: &Expr, callee: &Ref, args: &[Expr], tail: bool) -> R<()> {
        let hash = self.resolve(callee).expect("a function reference");
        let (params, ret) = match signature(self.defs, &hash) {
            Ok(sig) => sig,
            Err(CompileError::Missing { hash, .. }) => {
                return Err(CompileError::Missing {
                    hash,
                    needed_by: place(&self.name, &self.hash, &None),
                });
            }
            Err(CompileError::Unsupported { construct, .. }) => {
                let callee = self
                    .defs
                    .get(&hash)
                    .and_then(|d| d.name.clone())
                    .unwrap_or_else(|| hash.short().into());
                return self.unsupported(e, format!("a call of `{callee}`, which has {construct}"));
            }
            Err(other) => return Err(other),
        };
        if params.len() != args.len() {
            let callee =
                self.defs.get(&hash).map_or_else(|| hash.to_string(), |d| describe(d, &hash));
            return Err(CompileError::Arity {
                def: place(&self.name, &self.hash, &None),
                callee,
                argc: args.len(),
            });
        }
        if !tail || args.len() > REG_ARGS {
            self.ensure_frame();
        }
        let below = self.vstack.len();
        for (k, a) in args.iter().enumerate() {
            // The last register argument may be computed in its own registers: once the
            // frame holds the parameters, and after what lives in them below the arguments
            // (spilled at the call anyway) is in the frame.
            if k + 1 == args.len() && k < REG_ARGS && self.frame == FrameState::Full {
                let (lo, hi) = abi::pair(k);
                for i in 0..below {
                    if in_regs(&self.vstack[i], lo, hi) {
                        self.spill(i);
                    }
                }
                self.hint = Some((lo, hi));
            }
            self.expr(a)?;
        }
        self.hint = None;
        if !self.callees.contains(&hash) {
            self.callees.push(hash);
        }
        let n = self.vstack.len();
        let first = n - args.len();
        // Everything below the arguments lives across the call: into the frame.
        for i in 0..first {
            self.spill(i);
        }
        // An argument in an a-register that is not its own would be overwritten.
        for (k, i) in (first..n).enumerate() {
            if let Loc::Regs { lo, pair: None, .. } = self.vstack[i].loc
                && (k >= REG_ARGS || abi::pair(k).0 != lo)
            {
                self.protect(i);
            }
        }
        // A call stores its stack arguments below sp, one by one. A tail call stores them
        // over this frame's own parameter slots, which the register arguments may still
        // read: so it first brings them into pool registers (at most four, which fit: the
        // register arguments hold at most four pairs and everything else was spilled), moves
        // the register arguments, and stores last.
        let mut stack: Vec<(Reg, Reg, Kind)> = Vec::new();
        for i in (first..n).skip(REG_ARGS) {
            let (lo, hi) = self.regs_of(i);
            let kind = self.vstack[i].kind;
            if tail {
                stack.push((lo, hi, kind));
            } else {
                let offset = slot_offset((i - first) as u32);
                for (r, off) in [(lo, offset), (hi, offset + 4)].into_iter().take(kind.words()) {
                    self.reloc(Reloc::StoreBelow { rs2: r, offset: off });
                }
            }
        }
        let store = |fc: &mut Self| {
            for (k, &(lo, hi, kind)) in stack.iter().enumerate() {
                let offset = slot_offset((REG_ARGS + k) as u32);
                for (r, off) in [(lo, offset), (hi, offset + 4)].into_iter().take(kind.words()) {
                    fc.sw(r, off);
                }
            }
        };
        for k in (0..REG_ARGS.min(args.len())).rev() {
            let e = self.vstack.remove(first + k);
            self.vstack.push(e);
            let (lo, hi) = abi::pair(k);
            self.move_top_to(lo, hi);
        }
        if tail {
            store(self);
        }
        while self.vstack.len() > first {
            self.pop();
        }
        if tail {
            let saved = self.frame;
            self.leave_frame();
            self.reloc(Reloc::Call { callee: hash, tail: true });
            self.frame = saved;
            self.reachable = false;
            return Ok(());
        }
        self.reloc(Reloc::Call { callee: hash, tail: false });
        match ret {
            Kind::Unit => self.push(Loc::Imm(0), Kind::Unit),
            k => self.push(Loc::Regs { lo: Reg::A0, hi: Reg::A1, pair: None, origin: None }, k),
        }
        Ok(())
    }

    fn perform(&mut self, op: HostEffect, args: &[Expr]) -> R<()> {
        // The arguments go where unstored parameters are.
        if self.frame != FrameState::Full && !self.reg_params.is_empty() {
            self.ensure_frame();
        }
        let CoreDef::Effect { params, ret, .. } = op.def() else { unreachable!("an effect") };
        let first = self.vstack.len();
        let mut strings = Vec::new();
        for (a, ty) in args.iter().zip(&params) {
            match (ty, a) {
                (tel_hash::core::Type::String, Expr::Lit(Lit::String(s))) => {
                    strings.push(Some(s.clone()))
                }
                (tel_hash::core::Type::String, _) => {
                    return self.unsupported(
                        a,
                        format!("a String argument of {} that is not a literal", op.name()),
                    );
                }
                _ if Kind::of(ty).is_some() => {
                    self.expr(a)?;
                    strings.push(None);
                }
                _ => {
                    return self.unsupported(
                        a,
                        format!("{} argument of {}", with_article(&type_name(ty)), op.name()),
                    );
                }
            }
        }
        // The host answers in a0/a1 and keeps every other register but the arguments'.
        self.protect(0);
        let mut value = self.vstack.len();
        for (k, s) in strings.iter().enumerate().rev() {
            let (lo, hi) = abi::pair(k);
            match s {
                Some(s) => {
                    let index = self.strings.iter().position(|x| x == s).unwrap_or_else(|| {
                        self.strings.push(s.clone());
                        self.strings.len() - 1
                    }) as u32;
                    self.reloc(Reloc::StringHi { rd: lo, index });
                    self.reloc(Reloc::StringLo { rd: lo, index });
                    self.li(hi, s.len() as i64);
                }
                None => {
                    value -= 1;
                    let e = self.vstack.remove(value);
                    self.vstack.push(e);
                    self.move_top_to(lo, hi);
                }
            }
        }
        debug_assert_eq!(self.vstack.len(), first);
        let service = HostEffect::ALL.iter().position(|x| *x == op).expect("a host effect");
        self.li(Reg::A7, service as i64);
        self.emit(Insn::Ecall);
        self.clobber(Reg::A0);
        self.clobber(Reg::A1);
        match Kind::of(&ret) {
            Some(Kind::Unit) | None => self.push(Loc::Imm(0), Kind::Unit),
            Some(k) => {
                self.push(Loc::Regs { lo: Reg::A0, hi: Reg::A1, pair: None, origin: None }, k)
            }
        }
        Ok(())
    }
}

/// Whether `e` compiles without a frame: locals, literals, `+`, `-`, comparisons and the
/// Boolean operators, small enough (`budget` nodes) never to run out of registers.
fn frame_free(e: &Expr, budget: &mut u32) -> bool {
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    match e {
        Expr::Local(_) | Expr::Lit(Lit::Int(_) | Lit::Bool(_) | Lit::Unit) => true,
        Expr::Unary { expr, .. } => frame_free(expr, budget),
        Expr::Binary { op, lhs, rhs } => {
            !matches!(op, BinOp::Mul | BinOp::Div | BinOp::Rem | BinOp::Concat)
                && frame_free(lhs, budget)
                && frame_free(rhs, budget)
        }
        _ => false,
    }
}

/// Whether entry `e` lives in register `lo` or `hi`.
fn in_regs(e: &Entry, lo: Reg, hi: Reg) -> bool {
    match e.loc {
        Loc::Regs { lo: l, hi: h, .. } => [l, h].iter().any(|r| *r == lo || *r == hi),
        _ => false,
    }
}

fn negate(op: BinOp) -> BinOp {
    match op {
        BinOp::Eq => BinOp::Ne,
        BinOp::Ne => BinOp::Eq,
        BinOp::Lt => BinOp::Ge,
        BinOp::Ge => BinOp::Lt,
        BinOp::Le => BinOp::Gt,
        BinOp::Gt => BinOp::Le,
        other => other,
    }
}

fn pattern(p: &Pat) -> &'static str {
    match p {
        Pat::Variant { .. } => "on an enum variant",
        Pat::Record { .. } => "on a record",
        Pat::Lit(Lit::String(_)) => "on a String",
        Pat::Lit(Lit::Duration(_)) => "on a Duration",
        _ => "of this kind",
    }
}
