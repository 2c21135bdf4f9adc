//! The canonical serialization of a [`CoreDef`] (format version 1, TEL.md §8 rule 5).
//!
//! The bytes are the input of the hash and what the store keeps and the VM loads, so the
//! encoder enforces the canonical form itself, whatever order its input is in: record fields
//! (types, literals, patterns, schemas) sorted by name, effect rows sorted and deduplicated,
//! handler clauses sorted by effect. The frozen tag table and the layout of every node are
//! in docs/hashing.md; any change to them is a new [`FORMAT_VERSION`].

use crate::code_hash::CodeHash;
use crate::core::*;
use crate::error::{DecodeError, DecodeErrorKind, HashError};
use smol_str::SmolStr;

/// The first byte of every serialization.
pub const FORMAT_VERSION: u8 = 1;

/// How deeply nodes may nest. Both the encoder and the decoder enforce it, so that whatever
/// encodes also decodes, and so that decoding untrusted bytes cannot overflow the stack.
/// The tails of `let` and of statement sequences (`Seq`) do not count: a long function body
/// is a long chain of them, and both sides walk such chains with a loop.
pub const MAX_DEPTH: u32 = 256;

/// The frozen tag table of format version 1 (documented in docs/hashing.md).
pub mod tag {
    /// An absent optional field (`guard`, `default`, a record literal's type).
    pub const NONE: u8 = 0x00;

    pub const DEF_FN: u8 = 0x01;
    pub const DEF_TYPE: u8 = 0x02;
    pub const DEF_ENUM: u8 = 0x03;
    pub const DEF_EFFECT: u8 = 0x04;
    pub const DEF_SCHEMA: u8 = 0x05;

    pub const TY_INT: u8 = 0x10;
    pub const TY_BOOL: u8 = 0x11;
    pub const TY_STRING: u8 = 0x12;
    pub const TY_DURATION: u8 = 0x13;
    pub const TY_UNIT: u8 = 0x14;
    pub const TY_HASH: u8 = 0x15;
    pub const TY_LIST: u8 = 0x16;
    pub const TY_MAP: u8 = 0x17;
    pub const TY_OPTION: u8 = 0x18;
    pub const TY_RECORD: u8 = 0x19;
    pub const TY_NAMED: u8 = 0x1a;
    pub const TY_FN: u8 = 0x1b;

    pub const REF_HASH: u8 = 0x20;
    pub const REF_MEMBER: u8 = 0x21;
    pub const REF_BUILTIN: u8 = 0x22;
    /// Only in the ordering keys of a component (never stored, rejected by the decoder).
    pub const REF_PLACEHOLDER: u8 = 0x2f;

    pub const LIT_INT: u8 = 0x30;
    pub const LIT_BOOL: u8 = 0x31;
    pub const LIT_STRING: u8 = 0x32;
    pub const LIT_DURATION: u8 = 0x33;
    pub const LIT_UNIT: u8 = 0x34;

    pub const EX_LOCAL: u8 = 0x40;
    pub const EX_REF: u8 = 0x41;
    pub const EX_LIT: u8 = 0x42;
    pub const EX_CALL: u8 = 0x43;
    pub const EX_LAMBDA: u8 = 0x44;
    pub const EX_LET: u8 = 0x45;
    pub const EX_SEQ: u8 = 0x46;
    pub const EX_IF: u8 = 0x47;
    pub const EX_MATCH: u8 = 0x48;
    pub const EX_RECORD: u8 = 0x49;
    pub const EX_FIELD: u8 = 0x4a;
    pub const EX_LIST: u8 = 0x4b;
    pub const EX_VARIANT: u8 = 0x4c;
    pub const EX_BINARY: u8 = 0x4d;
    pub const EX_UNARY: u8 = 0x4e;
    pub const EX_PERFORM: u8 = 0x4f;
    pub const EX_HANDLE: u8 = 0x50;
    pub const EX_RESUME: u8 = 0x51;
    pub const EX_ABORT: u8 = 0x52;
    pub const EX_WITHIN: u8 = 0x53;
    pub const EX_AFTER: u8 = 0x54;

    pub const OWNER_ENUM: u8 = 0x60;
    pub const OWNER_OPTION: u8 = 0x61;

    pub const PAT_WILDCARD: u8 = 0x70;
    pub const PAT_BIND: u8 = 0x71;
    pub const PAT_LIT: u8 = 0x72;
    pub const PAT_VARIANT: u8 = 0x73;
    pub const PAT_RECORD: u8 = 0x74;

    pub const VARIANT_DECL: u8 = 0x80;
    pub const SCHEMA_FIELD: u8 = 0x81;
    pub const ARM: u8 = 0x82;
    pub const CLAUSE: u8 = 0x83;
}

/// The frozen operator codes (a one-byte field of `EX_BINARY`/`EX_UNARY`).
const BINOPS: [BinOp; 14] = [
    BinOp::Add,
    BinOp::Sub,
    BinOp::Mul,
    BinOp::Div,
    BinOp::Rem,
    BinOp::Concat,
    BinOp::Eq,
    BinOp::Ne,
    BinOp::Lt,
    BinOp::Le,
    BinOp::Gt,
    BinOp::Ge,
    BinOp::And,
    BinOp::Or,
];
const UNOPS: [UnOp; 2] = [UnOp::Neg, UnOp::Not];

fn binop_code(op: BinOp) -> u8 {
    BINOPS.iter().position(|&o| o == op).expect("every BinOp has a code") as u8
}

fn unop_code(op: UnOp) -> u8 {
    UNOPS.iter().position(|&o| o == op).expect("every UnOp has a code") as u8
}

/// What a `Ref::Def` resolves to when serializing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResolvedRef {
    /// A definition outside the component being serialized.
    Hash(CodeHash),
    /// Member `i` of the component being serialized.
    Member(u32),
}

/// The resolver type taken by [`encode`].
pub type Resolver<'a> = &'a dyn Fn(&SmolStr) -> Option<ResolvedRef>;

/// A reference as it is written, and the canonical order of references: by tag (hash,
/// member, builtin, placeholder), then hash bytes / member index / builtin id / class key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Target {
    /// A dependency's hash not known yet: a hole of a [`crate::DefTemplate`], written as a
    /// hash reference of zeros. First, so that it sorts before every kind a hash sorts
    /// before; against another hash its place is unknown (see `Encoder::note_order`).
    Slot(u32),
    Hash(CodeHash),
    Member(u32),
    Builtin(Builtin),
    /// An intra-component reference while computing the canonical member order: the
    /// current ordering key of the referenced member.
    Class([u8; 32]),
}

/// Serializes `def` in canonical form. Every `Ref::Def` is passed to `resolve`; one it does
/// not know is an [`HashError::UnresolvedRef`] naming it.
pub fn encode(def: &CoreDef, resolve: Resolver<'_>) -> Result<Vec<u8>, HashError> {
    encode_with(def, &|name| {
        resolve(name).map(|r| match r {
            ResolvedRef::Hash(h) => Target::Hash(h),
            ResolvedRef::Member(i) => Target::Member(i),
        })
    })
}

/// The canonical form of `def`: references resolved, fields, rows and clauses sorted.
/// `canonicalize(d) == decode(encode(d))`, and [`crate::render()`] of it is the normalized
/// text `tel equiv` compares.
pub fn canonicalize(def: &CoreDef, resolve: Resolver<'_>) -> Result<CoreDef, HashError> {
    let bytes = encode(def, resolve)?;
    Ok(decode(&bytes).expect("the encoder's output decodes"))
}

pub(crate) fn encode_with(
    def: &CoreDef,
    resolve: &dyn Fn(&SmolStr) -> Option<Target>,
) -> Result<Vec<u8>, HashError> {
    encode_inner(def, resolve, true)
}

/// `allow_members: false` rejects `Ref::Member` (hashing a definition alone).
pub(crate) fn encode_inner(
    def: &CoreDef,
    resolve: &dyn Fn(&SmolStr) -> Option<Target>,
    allow_members: bool,
) -> Result<Vec<u8>, HashError> {
    let mut enc = Encoder::new(resolve, allow_members);
    enc.def(def)?;
    Ok(enc.out)
}

/// The bytes of a definition hashed alone, with `resolve` answering [`Target::Slot`]s: the
/// bytes (zeros in the holes), each hole as (offset of its 32 bytes, slot), and whether the
/// bytes around a hole depend on the hash that fills it (a row or handler that sorts two
/// hashes of which one is a hole).
pub(crate) struct Holed {
    pub bytes: Vec<u8>,
    pub holes: Vec<(u32, u32)>,
    pub order_dependent: bool,
}

pub(crate) fn encode_holed(
    def: &CoreDef,
    resolve: &dyn Fn(&SmolStr) -> Option<Target>,
) -> Result<Holed, HashError> {
    let mut enc = Encoder::new(resolve, false);
    enc.def(def)?;
    Ok(Holed { bytes: enc.out, holes: enc.holes, order_dependent: enc.order_dependent })
}

struct Encoder<'r> {
    out: Vec<u8>,
    resolve: &'r dyn Fn(&SmolStr) -> Option<Target>,
    allow_members: bool,
    /// Where [`Target::Slot`]s were written: (offset of the hash bytes, slot).
    holes: Vec<(u32, u32)>,
    order_dependent: bool,
}

fn check_depth(depth: u32) -> Result<(), HashError> {
    if depth > MAX_DEPTH { Err(HashError::TooDeep { limit: MAX_DEPTH }) } else { Ok(()) }
}

/// `items` sorted by name, or the first duplicate name.
fn sorted_by_name<'a, T>(
    items: impl IntoIterator<Item = (&'a SmolStr, T)>,
    place: &'static str,
) -> Result<Vec<(&'a SmolStr, T)>, HashError> {
    let mut v: Vec<(&SmolStr, T)> = items.into_iter().collect();
    v.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    if let Some(w) = v.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(HashError::DuplicateField { name: w[0].0.clone(), place });
    }
    Ok(v)
}

impl<'r> Encoder<'r> {
    fn new(resolve: &'r dyn Fn(&SmolStr) -> Option<Target>, allow_members: bool) -> Self {
        Encoder {
            out: vec![FORMAT_VERSION],
            resolve,
            allow_members,
            holes: Vec::new(),
            order_dependent: false,
        }
    }

    /// A set sorted by target (a row, a handler's clauses) whose order a hole's hash would
    /// decide: one hole and any other hash.
    fn note_order<'t>(&mut self, targets: impl Iterator<Item = &'t Target>) {
        let (mut hashes, mut slot) = (0, false);
        for t in targets {
            match t {
                Target::Slot(_) => (hashes, slot) = (hashes + 1, true),
                Target::Hash(_) => hashes += 1,
                _ => {}
            }
        }
        self.order_dependent |= slot && hashes > 1;
    }

    fn u8(&mut self, b: u8) {
        self.out.push(b);
    }

    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }

    fn i64(&mut self, v: i64) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }

    fn count(&mut self, len: usize, what: &'static str) -> Result<(), HashError> {
        let n = u32::try_from(len).map_err(|_| HashError::TooLarge { what, len })?;
        self.u32(n);
        Ok(())
    }

    fn str(&mut self, s: &str) -> Result<(), HashError> {
        self.count(s.len(), "a string")?;
        self.out.extend_from_slice(s.as_bytes());
        Ok(())
    }

    fn target(&self, r: &Ref) -> Result<Target, HashError> {
        let t = match r {
            Ref::Def(name) => (self.resolve)(name)
                .ok_or_else(|| HashError::UnresolvedRef { name: name.clone() })?,
            Ref::Hash(h) => Target::Hash(*h),
            Ref::Member(i) => Target::Member(*i),
            Ref::Builtin(b) => Target::Builtin(*b),
        };
        match t {
            Target::Member(index) if !self.allow_members => {
                Err(HashError::MemberOutsideComponent { index })
            }
            t => Ok(t),
        }
    }

    fn write_target(&mut self, t: Target) {
        match t {
            Target::Slot(slot) => {
                self.u8(tag::REF_HASH);
                self.holes.push((self.out.len() as u32, slot));
                self.out.extend_from_slice(&[0; 32]);
            }
            Target::Hash(h) => {
                self.u8(tag::REF_HASH);
                self.out.extend_from_slice(&h.0);
            }
            Target::Member(i) => {
                self.u8(tag::REF_MEMBER);
                self.u32(i);
            }
            Target::Builtin(b) => {
                self.u8(tag::REF_BUILTIN);
                self.u8(b.id());
            }
            Target::Class(key) => {
                self.u8(tag::REF_PLACEHOLDER);
                self.out.extend_from_slice(&key);
            }
        }
    }

    fn reference(&mut self, r: &Ref) -> Result<(), HashError> {
        let t = self.target(r)?;
        self.write_target(t);
        Ok(())
    }

    /// An effect row: a set, so sorted and deduplicated after resolution (two names may
    /// resolve to one hash).
    fn row(&mut self, refs: &[Ref]) -> Result<(), HashError> {
        let mut ts = refs.iter().map(|r| self.target(r)).collect::<Result<Vec<_>, _>>()?;
        ts.sort_unstable();
        ts.dedup();
        self.note_order(ts.iter());
        self.count(ts.len(), "an effect row")?;
        for t in ts {
            self.write_target(t);
        }
        Ok(())
    }

    fn def(&mut self, def: &CoreDef) -> Result<(), HashError> {
        match def {
            CoreDef::Fn { params, ret, effects, body } => {
                self.u8(tag::DEF_FN);
                self.types(params, 1)?;
                self.ty(ret, 1)?;
                self.row(effects)?;
                self.expr(body, 1)
            }
            CoreDef::Type { ty } => {
                self.u8(tag::DEF_TYPE);
                self.ty(ty, 1)
            }
            CoreDef::Enum { variants } => {
                self.u8(tag::DEF_ENUM);
                self.count(variants.len(), "an enum")?;
                for v in variants {
                    self.u8(tag::VARIANT_DECL);
                    self.str(&v.name)?;
                    self.types(&v.fields, 1)?;
                }
                Ok(())
            }
            CoreDef::Effect { name, params, ret } => {
                self.u8(tag::DEF_EFFECT);
                self.str(name)?;
                self.types(params, 1)?;
                self.ty(ret, 1)
            }
            CoreDef::Schema { fields } => {
                self.u8(tag::DEF_SCHEMA);
                let sorted = sorted_by_name(fields.iter().map(|f| (&f.name, f)), "a schema")?;
                self.count(sorted.len(), "a schema")?;
                for (name, f) in sorted {
                    self.u8(tag::SCHEMA_FIELD);
                    self.str(name)?;
                    self.ty(&f.ty, 1)?;
                    self.opt_expr(f.default.as_ref(), 1)?;
                }
                Ok(())
            }
        }
    }

    fn types(&mut self, tys: &[Type], depth: u32) -> Result<(), HashError> {
        self.count(tys.len(), "a type list")?;
        tys.iter().try_for_each(|t| self.ty(t, depth))
    }

    fn ty(&mut self, ty: &Type, depth: u32) -> Result<(), HashError> {
        check_depth(depth)?;
        let d = depth + 1;
        match ty {
            Type::Int => self.u8(tag::TY_INT),
            Type::Bool => self.u8(tag::TY_BOOL),
            Type::String => self.u8(tag::TY_STRING),
            Type::Duration => self.u8(tag::TY_DURATION),
            Type::Unit => self.u8(tag::TY_UNIT),
            Type::Hash => self.u8(tag::TY_HASH),
            Type::List(t) => {
                self.u8(tag::TY_LIST);
                self.ty(t, d)?;
            }
            Type::Map(k, v) => {
                self.u8(tag::TY_MAP);
                self.ty(k, d)?;
                self.ty(v, d)?;
            }
            Type::Option(t) => {
                self.u8(tag::TY_OPTION);
                self.ty(t, d)?;
            }
            Type::Record(fields) => {
                self.u8(tag::TY_RECORD);
                let sorted = sorted_by_name(fields.iter().map(|(n, t)| (n, t)), "a record type")?;
                self.count(sorted.len(), "a record type")?;
                for (name, t) in sorted {
                    self.str(name)?;
                    self.ty(t, d)?;
                }
            }
            Type::Named(r) => {
                self.u8(tag::TY_NAMED);
                self.reference(r)?;
            }
            Type::Fn { params, ret, effects } => {
                self.u8(tag::TY_FN);
                self.types(params, d)?;
                self.ty(ret, d)?;
                self.row(effects)?;
            }
        }
        Ok(())
    }

    fn lit(&mut self, lit: &Lit) -> Result<(), HashError> {
        match lit {
            Lit::Int(v) => {
                self.u8(tag::LIT_INT);
                self.i64(*v);
            }
            Lit::Bool(b) => {
                self.u8(tag::LIT_BOOL);
                self.u8(u8::from(*b));
            }
            Lit::String(s) => {
                self.u8(tag::LIT_STRING);
                self.str(s)?;
            }
            Lit::Duration(ms) => {
                self.u8(tag::LIT_DURATION);
                self.i64(*ms);
            }
            Lit::Unit => self.u8(tag::LIT_UNIT),
        }
        Ok(())
    }

    fn opt_expr(&mut self, e: Option<&Expr>, depth: u32) -> Result<(), HashError> {
        match e {
            None => {
                self.u8(tag::NONE);
                Ok(())
            }
            Some(e) => self.expr(e, depth),
        }
    }

    fn exprs(&mut self, es: &[Expr], depth: u32) -> Result<(), HashError> {
        self.count(es.len(), "an expression list")?;
        es.iter().try_for_each(|e| self.expr(e, depth))
    }

    fn owner(&mut self, owner: &VariantOwner) -> Result<(), HashError> {
        match owner {
            VariantOwner::Enum(r) => {
                self.u8(tag::OWNER_ENUM);
                self.reference(r)
            }
            VariantOwner::Option => {
                self.u8(tag::OWNER_OPTION);
                Ok(())
            }
        }
    }

    fn expr(&mut self, mut e: &Expr, depth: u32) -> Result<(), HashError> {
        check_depth(depth)?;
        let d = depth + 1;
        // `let` and `Seq` tails stay at this depth (see MAX_DEPTH).
        loop {
            match e {
                Expr::Let { ty, value, body } => {
                    self.u8(tag::EX_LET);
                    self.ty(ty, d)?;
                    self.expr(value, d)?;
                    e = body;
                }
                Expr::Seq { first, then } => {
                    self.u8(tag::EX_SEQ);
                    self.expr(first, d)?;
                    e = then;
                }
                _ => return self.node(e, d),
            }
        }
    }

    /// One expression node whose children are at depth `d`. Every arm with more than a
    /// line is a function of its own: unoptimized builds give a function one stack slot
    /// per temporary of every arm, and this is on the recursion path (the same holds for
    /// the decoder).
    fn node(&mut self, e: &Expr, d: u32) -> Result<(), HashError> {
        match e {
            Expr::Let { .. } | Expr::Seq { .. } => self.expr(e, d - 1),
            Expr::Local(i) => {
                self.u8(tag::EX_LOCAL);
                self.u32(*i);
                Ok(())
            }
            Expr::Ref(r) => {
                self.u8(tag::EX_REF);
                self.reference(r)
            }
            Expr::Lit(l) => {
                self.u8(tag::EX_LIT);
                self.lit(l)
            }
            Expr::Call { callee, args } => self.tagged(tag::EX_CALL, &[callee], Some(args), d),
            Expr::Lambda { params, ret, body } => self.lambda(params, ret, body, d),
            Expr::If { cond, then, else_ } => {
                self.tagged(tag::EX_IF, &[cond, then, else_], None, d)
            }
            Expr::Match { scrutinee, arms } => self.match_(scrutinee, arms, d),
            Expr::Record { ty, fields } => self.record(ty.as_ref(), fields, d),
            Expr::Field { expr, name } => self.field(expr, name, d),
            Expr::List(items) => self.tagged(tag::EX_LIST, &[], Some(items), d),
            Expr::Variant { owner, index, args } => self.variant(owner, *index, args, d),
            Expr::Binary { op, lhs, rhs } => {
                self.u8(tag::EX_BINARY);
                self.u8(binop_code(*op));
                self.subexprs(&[lhs, rhs], d)
            }
            Expr::Unary { op, expr } => {
                self.u8(tag::EX_UNARY);
                self.u8(unop_code(*op));
                self.expr(expr, d)
            }
            Expr::Perform { effect, args } => self.perform(effect, args, d),
            Expr::Handle { body, clauses } => self.handle(body, clauses, d),
            Expr::Resume(e) => self.tagged(tag::EX_RESUME, &[e], None, d),
            Expr::Abort(e) => self.tagged(tag::EX_ABORT, &[e], None, d),
            Expr::Within { deadline, body, fallback } => {
                self.tagged(tag::EX_WITHIN, &[deadline, body, fallback], None, d)
            }
            Expr::After { delay, body } => self.tagged(tag::EX_AFTER, &[delay, body], None, d),
        }
    }

    fn subexprs(&mut self, es: &[&Expr], d: u32) -> Result<(), HashError> {
        es.iter().try_for_each(|e| self.expr(e, d))
    }

    /// `tag`, the expressions `fixed`, then the sequence `list` if any.
    fn tagged(
        &mut self,
        t: u8,
        fixed: &[&Expr],
        list: Option<&[Expr]>,
        d: u32,
    ) -> Result<(), HashError> {
        self.u8(t);
        self.subexprs(fixed, d)?;
        match list {
            Some(list) => self.exprs(list, d),
            None => Ok(()),
        }
    }

    fn lambda(
        &mut self,
        params: &[Type],
        ret: &Type,
        body: &Expr,
        d: u32,
    ) -> Result<(), HashError> {
        self.u8(tag::EX_LAMBDA);
        self.types(params, d)?;
        self.ty(ret, d)?;
        self.expr(body, d)
    }

    fn match_(&mut self, scrutinee: &Expr, arms: &[Arm], d: u32) -> Result<(), HashError> {
        self.u8(tag::EX_MATCH);
        self.expr(scrutinee, d)?;
        self.count(arms.len(), "a match")?;
        for arm in arms {
            self.u8(tag::ARM);
            self.pat(&arm.pat, d)?;
            self.opt_expr(arm.guard.as_ref(), d)?;
            self.expr(&arm.body, d)?;
        }
        Ok(())
    }

    fn record(
        &mut self,
        ty: Option<&Ref>,
        fields: &[(SmolStr, Expr)],
        d: u32,
    ) -> Result<(), HashError> {
        self.u8(tag::EX_RECORD);
        match ty {
            None => self.u8(tag::NONE),
            Some(r) => self.reference(r)?,
        }
        let sorted = sorted_by_name(fields.iter().map(|(n, e)| (n, e)), "a record literal")?;
        self.count(sorted.len(), "a record literal")?;
        for (name, e) in sorted {
            self.str(name)?;
            self.expr(e, d)?;
        }
        Ok(())
    }

    fn field(&mut self, expr: &Expr, name: &str, d: u32) -> Result<(), HashError> {
        self.u8(tag::EX_FIELD);
        self.expr(expr, d)?;
        self.str(name)
    }

    fn variant(
        &mut self,
        owner: &VariantOwner,
        index: u32,
        args: &[Expr],
        d: u32,
    ) -> Result<(), HashError> {
        self.u8(tag::EX_VARIANT);
        self.owner(owner)?;
        self.u32(index);
        self.exprs(args, d)
    }

    fn perform(&mut self, effect: &Ref, args: &[Expr], d: u32) -> Result<(), HashError> {
        self.u8(tag::EX_PERFORM);
        self.reference(effect)?;
        self.exprs(args, d)
    }

    fn handle(&mut self, body: &Expr, clauses: &[Clause], d: u32) -> Result<(), HashError> {
        self.u8(tag::EX_HANDLE);
        self.expr(body, d)?;
        let mut keyed = clauses
            .iter()
            .map(|c| Ok((self.target(&c.effect)?, c)))
            .collect::<Result<Vec<_>, HashError>>()?;
        keyed.sort_by_key(|k| k.0);
        self.note_order(keyed.iter().map(|k| &k.0));
        if let Some(w) = keyed.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(HashError::DuplicateClause {
                effect: crate::render::ref_text(&w[0].1.effect),
            });
        }
        self.count(keyed.len(), "a handler")?;
        for (t, c) in keyed {
            self.u8(tag::CLAUSE);
            self.write_target(t);
            self.u32(c.arity);
            self.expr(&c.body, d)?;
        }
        Ok(())
    }

    fn pat(&mut self, p: &Pat, depth: u32) -> Result<(), HashError> {
        check_depth(depth)?;
        let d = depth + 1;
        match p {
            Pat::Wildcard => self.u8(tag::PAT_WILDCARD),
            Pat::Bind => self.u8(tag::PAT_BIND),
            Pat::Lit(l) => {
                self.u8(tag::PAT_LIT);
                self.lit(l)?;
            }
            Pat::Variant { owner, index, fields } => {
                self.u8(tag::PAT_VARIANT);
                self.owner(owner)?;
                self.u32(*index);
                self.count(fields.len(), "a variant pattern")?;
                for f in fields {
                    self.pat(f, d)?;
                }
            }
            Pat::Record { fields } => {
                self.u8(tag::PAT_RECORD);
                let sorted =
                    sorted_by_name(fields.iter().map(|(n, p)| (n, p)), "a record pattern")?;
                self.count(sorted.len(), "a record pattern")?;
                for (name, p) in sorted {
                    self.str(name)?;
                    self.pat(p, d)?;
                }
            }
        }
        Ok(())
    }
}

/// Decodes a canonical serialization. Rejects, with the byte offset: empty input, another
/// format version, truncation, unknown tags, out-of-range field bytes, invalid UTF-8,
/// nesting beyond [`MAX_DEPTH`], trailing bytes, and any encoding that is not exactly what
/// [`encode`] produces for the result (so equal definitions have equal bytes). Refs in the
/// result are `Ref::Hash`, `Ref::Member` or `Ref::Builtin`. Never panics.
pub fn decode(bytes: &[u8]) -> Result<CoreDef, DecodeError> {
    let mut dec = Decoder { bytes, pos: 0 };
    let version = *bytes.first().ok_or(DecodeError { offset: 0, kind: DecodeErrorKind::Empty })?;
    if version != FORMAT_VERSION {
        return Err(DecodeError {
            offset: 0,
            kind: DecodeErrorKind::UnsupportedVersion { found: version },
        });
    }
    dec.pos = 1;
    let def = dec.def()?;
    if dec.pos != bytes.len() {
        return Err(dec.err(DecodeErrorKind::TrailingBytes { count: bytes.len() - dec.pos }));
    }
    // Checking canonicity by re-encoding keeps the canonical rules in one place (the
    // encoder). The result has no `Ref::Def`, so nothing needs resolving.
    let canonical = encode_with(&def, &|_| None)
        .map_err(|_| DecodeError { offset: 0, kind: DecodeErrorKind::NonCanonical })?;
    if canonical != bytes {
        let offset = canonical.iter().zip(bytes).take_while(|(a, b)| a == b).count();
        return Err(DecodeError { offset, kind: DecodeErrorKind::NonCanonical });
    }
    Ok(def)
}

struct Decoder<'a> {
    bytes: &'a [u8],
    pos: usize,
}

type DResult<T> = Result<T, DecodeError>;

impl Decoder<'_> {
    fn err(&self, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { offset: self.pos, kind }
    }

    fn take(&mut self, n: usize, what: &'static str) -> DResult<&[u8]> {
        if self.bytes.len() - self.pos < n {
            return Err(self.err(DecodeErrorKind::Truncated { what }));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn u8(&mut self, what: &'static str) -> DResult<u8> {
        Ok(self.take(1, what)?[0])
    }

    fn u32(&mut self, what: &'static str) -> DResult<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i64(&mut self, what: &'static str) -> DResult<i64> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(i64::from_le_bytes(a))
    }

    /// A sequence count; also a bound on allocation, since every element takes a byte.
    fn count(&mut self, what: &'static str) -> DResult<usize> {
        let start = self.pos;
        let n = self.u32(what)? as usize;
        if n > self.bytes.len() - self.pos {
            // Points at the count: it promises more elements than there are bytes left.
            return Err(DecodeError { offset: start, kind: DecodeErrorKind::Truncated { what } });
        }
        Ok(n)
    }

    fn str(&mut self) -> DResult<SmolStr> {
        let n = self.u32("a string length")? as usize;
        let start = self.pos;
        let b = self.take(n, "string bytes")?;
        match std::str::from_utf8(b) {
            Ok(s) => Ok(SmolStr::new(s)),
            Err(e) => Err(DecodeError {
                offset: start + e.valid_up_to(),
                kind: DecodeErrorKind::InvalidUtf8,
            }),
        }
    }

    fn peek_tag(&mut self, expected: &'static str) -> DResult<u8> {
        self.bytes
            .get(self.pos)
            .copied()
            .ok_or_else(|| self.err(DecodeErrorKind::Truncated { what: expected }))
    }

    fn unknown(&self, tag: u8, expected: &'static str) -> DecodeError {
        // Point at the tag byte, which was consumed.
        let kind = if tag == tag::REF_PLACEHOLDER {
            DecodeErrorKind::Placeholder
        } else {
            DecodeErrorKind::UnknownTag { tag, expected }
        };
        DecodeError { offset: self.pos - 1, kind }
    }

    fn depth(&self, depth: u32) -> DResult<()> {
        if depth > MAX_DEPTH {
            Err(self.err(DecodeErrorKind::TooDeep { limit: MAX_DEPTH }))
        } else {
            Ok(())
        }
    }

    fn def(&mut self) -> DResult<CoreDef> {
        const WHAT: &str = "a definition";
        let t = self.u8(WHAT)?;
        Ok(match t {
            tag::DEF_FN => CoreDef::Fn {
                params: self.types(1)?,
                ret: self.ty(1)?,
                effects: self.row()?,
                body: self.expr(1)?,
            },
            tag::DEF_TYPE => CoreDef::Type { ty: self.ty(1)? },
            tag::DEF_ENUM => {
                let n = self.count("an enum's variant count")?;
                let mut variants = Vec::with_capacity(n);
                for _ in 0..n {
                    let t = self.u8("an enum variant")?;
                    if t != tag::VARIANT_DECL {
                        return Err(self.unknown(t, "an enum variant"));
                    }
                    variants.push(Variant { name: self.str()?, fields: self.types(1)? });
                }
                CoreDef::Enum { variants }
            }
            tag::DEF_EFFECT => {
                CoreDef::Effect { name: self.str()?, params: self.types(1)?, ret: self.ty(1)? }
            }
            tag::DEF_SCHEMA => {
                let n = self.count("a schema's field count")?;
                let mut fields = Vec::with_capacity(n);
                for _ in 0..n {
                    let t = self.u8("a schema field")?;
                    if t != tag::SCHEMA_FIELD {
                        return Err(self.unknown(t, "a schema field"));
                    }
                    fields.push(SchemaField {
                        name: self.str()?,
                        ty: self.ty(1)?,
                        default: self.opt_expr(1)?,
                    });
                }
                CoreDef::Schema { fields }
            }
            t => return Err(self.unknown(t, WHAT)),
        })
    }

    fn types(&mut self, depth: u32) -> DResult<Vec<Type>> {
        let n = self.count("a type count")?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.ty(depth)?);
        }
        Ok(v)
    }

    fn ty(&mut self, depth: u32) -> DResult<Type> {
        self.depth(depth)?;
        let d = depth + 1;
        const WHAT: &str = "a type";
        let t = self.u8(WHAT)?;
        Ok(match t {
            tag::TY_INT => Type::Int,
            tag::TY_BOOL => Type::Bool,
            tag::TY_STRING => Type::String,
            tag::TY_DURATION => Type::Duration,
            tag::TY_UNIT => Type::Unit,
            tag::TY_HASH => Type::Hash,
            tag::TY_LIST => Type::List(Box::new(self.ty(d)?)),
            tag::TY_MAP => Type::Map(Box::new(self.ty(d)?), Box::new(self.ty(d)?)),
            tag::TY_OPTION => Type::Option(Box::new(self.ty(d)?)),
            tag::TY_RECORD => {
                let n = self.count("a record type's field count")?;
                let mut fields = Vec::with_capacity(n);
                for _ in 0..n {
                    fields.push((self.str()?, self.ty(d)?));
                }
                Type::Record(fields)
            }
            tag::TY_NAMED => Type::Named(self.reference()?),
            tag::TY_FN => Type::Fn {
                params: self.types(d)?,
                ret: Box::new(self.ty(d)?),
                effects: self.row()?,
            },
            t => return Err(self.unknown(t, WHAT)),
        })
    }

    fn reference(&mut self) -> DResult<Ref> {
        const WHAT: &str = "a reference";
        let t = self.u8(WHAT)?;
        self.reference_after(t)
    }

    fn reference_after(&mut self, t: u8) -> DResult<Ref> {
        Ok(match t {
            tag::REF_HASH => {
                let b = self.take(32, "a 32-byte hash")?;
                let mut h = [0u8; 32];
                h.copy_from_slice(b);
                Ref::Hash(CodeHash(h))
            }
            tag::REF_MEMBER => Ref::Member(self.u32("a member index")?),
            tag::REF_BUILTIN => {
                let id = self.u8("a builtin id")?;
                match Builtin::from_id(id) {
                    Some(b) => Ref::Builtin(b),
                    None => {
                        return Err(DecodeError {
                            offset: self.pos - 1,
                            kind: DecodeErrorKind::InvalidValue { what: "builtin id", value: id },
                        });
                    }
                }
            }
            t => return Err(self.unknown(t, "a reference")),
        })
    }

    fn row(&mut self) -> DResult<Vec<Ref>> {
        let n = self.count("an effect row count")?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.reference()?);
        }
        Ok(v)
    }

    fn lit(&mut self) -> DResult<Lit> {
        const WHAT: &str = "a literal";
        let t = self.u8(WHAT)?;
        Ok(match t {
            tag::LIT_INT => Lit::Int(self.i64("an Int")?),
            tag::LIT_BOOL => match self.u8("a Bool")? {
                0 => Lit::Bool(false),
                1 => Lit::Bool(true),
                v => {
                    return Err(DecodeError {
                        offset: self.pos - 1,
                        kind: DecodeErrorKind::InvalidValue { what: "Bool", value: v },
                    });
                }
            },
            tag::LIT_STRING => Lit::String(self.str()?),
            tag::LIT_DURATION => Lit::Duration(self.i64("a Duration")?),
            tag::LIT_UNIT => Lit::Unit,
            t => return Err(self.unknown(t, WHAT)),
        })
    }

    fn opt_expr(&mut self, depth: u32) -> DResult<Option<Expr>> {
        if self.peek_tag("an expression or 0x00")? == tag::NONE {
            self.pos += 1;
            Ok(None)
        } else {
            Ok(Some(self.expr(depth)?))
        }
    }

    fn exprs(&mut self, depth: u32) -> DResult<Vec<Expr>> {
        let n = self.count("an expression count")?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.expr(depth)?);
        }
        Ok(v)
    }

    fn owner(&mut self) -> DResult<VariantOwner> {
        const WHAT: &str = "a variant owner";
        match self.u8(WHAT)? {
            tag::OWNER_ENUM => Ok(VariantOwner::Enum(self.reference()?)),
            tag::OWNER_OPTION => Ok(VariantOwner::Option),
            t => Err(self.unknown(t, WHAT)),
        }
    }

    fn op_code(&mut self, what: &'static str, max: usize) -> DResult<usize> {
        let c = self.u8(what)?;
        if usize::from(c) >= max {
            return Err(DecodeError {
                offset: self.pos - 1,
                kind: DecodeErrorKind::InvalidValue { what, value: c },
            });
        }
        Ok(usize::from(c))
    }

    fn expr(&mut self, depth: u32) -> DResult<Expr> {
        self.depth(depth)?;
        let t = self.u8("an expression")?;
        if t == tag::EX_LET || t == tag::EX_SEQ {
            self.chain(t, depth + 1)
        } else {
            self.expr_after(t, depth + 1)
        }
    }

    /// A `let`/`Seq` chain starting with tag `t`, read with a loop and rebuilt from the end
    /// (see MAX_DEPTH).
    fn chain(&mut self, mut t: u8, d: u32) -> DResult<Expr> {
        enum Head {
            Let(Type, Expr),
            Seq(Expr),
        }
        let mut heads = Vec::new();
        loop {
            match t {
                tag::EX_LET => {
                    let ty = self.ty(d)?;
                    let value = self.expr(d)?;
                    heads.push(Head::Let(ty, value));
                }
                tag::EX_SEQ => heads.push(Head::Seq(self.expr(d)?)),
                _ => break,
            }
            t = self.u8("an expression")?;
        }
        let tail = self.expr_after(t, d)?;
        Ok(heads.into_iter().rev().fold(tail, |body, head| match head {
            Head::Let(ty, value) => Expr::Let { ty, value: Box::new(value), body: Box::new(body) },
            Head::Seq(first) => Expr::Seq { first: Box::new(first), then: Box::new(body) },
        }))
    }

    fn boxed(&mut self, d: u32) -> DResult<Box<Expr>> {
        Ok(Box::new(self.expr(d)?))
    }

    /// The expression node after its tag `t`, children at depth `d`. Arms with more than
    /// one child are functions of their own (see `Encoder::node`).
    fn expr_after(&mut self, t: u8, d: u32) -> DResult<Expr> {
        match t {
            tag::EX_LOCAL => self.local(),
            tag::EX_REF => self.ref_expr(),
            tag::EX_LIT => self.lit_expr(),
            tag::EX_CALL => self.call(d),
            tag::EX_LAMBDA => self.lambda(d),
            tag::EX_IF => self.if_(d),
            tag::EX_MATCH => self.match_(d),
            tag::EX_RECORD => self.record(d),
            tag::EX_FIELD => self.field(d),
            tag::EX_LIST => self.list(d),
            tag::EX_VARIANT => self.variant(d),
            tag::EX_BINARY => self.binary(d),
            tag::EX_UNARY => self.unary(d),
            tag::EX_PERFORM => self.perform(d),
            tag::EX_HANDLE => self.handle(d),
            tag::EX_RESUME => self.resume(d),
            tag::EX_ABORT => self.abort(d),
            tag::EX_WITHIN => self.within(d),
            tag::EX_AFTER => self.after(d),
            t => Err(self.unknown(t, "an expression")),
        }
    }

    fn local(&mut self) -> DResult<Expr> {
        Ok(Expr::Local(self.u32("a local index")?))
    }

    fn ref_expr(&mut self) -> DResult<Expr> {
        Ok(Expr::Ref(self.reference()?))
    }

    fn lit_expr(&mut self) -> DResult<Expr> {
        Ok(Expr::Lit(self.lit()?))
    }

    fn list(&mut self, d: u32) -> DResult<Expr> {
        Ok(Expr::List(self.exprs(d)?))
    }

    fn resume(&mut self, d: u32) -> DResult<Expr> {
        Ok(Expr::Resume(self.boxed(d)?))
    }

    fn abort(&mut self, d: u32) -> DResult<Expr> {
        Ok(Expr::Abort(self.boxed(d)?))
    }

    fn call(&mut self, d: u32) -> DResult<Expr> {
        Ok(Expr::Call { callee: self.boxed(d)?, args: self.exprs(d)? })
    }

    fn lambda(&mut self, d: u32) -> DResult<Expr> {
        Ok(Expr::Lambda { params: self.types(d)?, ret: self.ty(d)?, body: self.boxed(d)? })
    }

    fn if_(&mut self, d: u32) -> DResult<Expr> {
        Ok(Expr::If { cond: self.boxed(d)?, then: self.boxed(d)?, else_: self.boxed(d)? })
    }

    fn match_(&mut self, d: u32) -> DResult<Expr> {
        let scrutinee = self.boxed(d)?;
        let n = self.count("a match's arm count")?;
        let mut arms = Vec::with_capacity(n);
        for _ in 0..n {
            let t = self.u8("a match arm")?;
            if t != tag::ARM {
                return Err(self.unknown(t, "a match arm"));
            }
            arms.push(Arm { pat: self.pat(d)?, guard: self.opt_expr(d)?, body: self.expr(d)? });
        }
        Ok(Expr::Match { scrutinee, arms })
    }

    fn record(&mut self, d: u32) -> DResult<Expr> {
        let ty = match self.u8("a record type or 0x00")? {
            tag::NONE => None,
            t => Some(self.reference_after(t)?),
        };
        let n = self.count("a record literal's field count")?;
        let mut fields = Vec::with_capacity(n);
        for _ in 0..n {
            fields.push((self.str()?, self.expr(d)?));
        }
        Ok(Expr::Record { ty, fields })
    }

    fn field(&mut self, d: u32) -> DResult<Expr> {
        Ok(Expr::Field { expr: self.boxed(d)?, name: self.str()? })
    }

    fn variant(&mut self, d: u32) -> DResult<Expr> {
        Ok(Expr::Variant {
            owner: self.owner()?,
            index: self.u32("a variant index")?,
            args: self.exprs(d)?,
        })
    }

    fn binary(&mut self, d: u32) -> DResult<Expr> {
        Ok(Expr::Binary {
            op: BINOPS[self.op_code("binary operator code", BINOPS.len())?],
            lhs: self.boxed(d)?,
            rhs: self.boxed(d)?,
        })
    }

    fn unary(&mut self, d: u32) -> DResult<Expr> {
        Ok(Expr::Unary {
            op: UNOPS[self.op_code("unary operator code", UNOPS.len())?],
            expr: self.boxed(d)?,
        })
    }

    fn perform(&mut self, d: u32) -> DResult<Expr> {
        Ok(Expr::Perform { effect: self.reference()?, args: self.exprs(d)? })
    }

    fn handle(&mut self, d: u32) -> DResult<Expr> {
        let body = self.boxed(d)?;
        let n = self.count("a handler's clause count")?;
        let mut clauses = Vec::with_capacity(n);
        for _ in 0..n {
            let t = self.u8("a handler clause")?;
            if t != tag::CLAUSE {
                return Err(self.unknown(t, "a handler clause"));
            }
            clauses.push(Clause {
                effect: self.reference()?,
                arity: self.u32("a clause arity")?,
                body: self.expr(d)?,
            });
        }
        Ok(Expr::Handle { body, clauses })
    }

    fn within(&mut self, d: u32) -> DResult<Expr> {
        Ok(Expr::Within {
            deadline: self.boxed(d)?,
            body: self.boxed(d)?,
            fallback: self.boxed(d)?,
        })
    }

    fn after(&mut self, d: u32) -> DResult<Expr> {
        Ok(Expr::After { delay: self.boxed(d)?, body: self.boxed(d)? })
    }

    fn pat(&mut self, depth: u32) -> DResult<Pat> {
        self.depth(depth)?;
        let d = depth + 1;
        const WHAT: &str = "a pattern";
        let t = self.u8(WHAT)?;
        Ok(match t {
            tag::PAT_WILDCARD => Pat::Wildcard,
            tag::PAT_BIND => Pat::Bind,
            tag::PAT_LIT => Pat::Lit(self.lit()?),
            tag::PAT_VARIANT => {
                let owner = self.owner()?;
                let index = self.u32("a variant index")?;
                let n = self.count("a variant pattern's field count")?;
                let mut fields = Vec::with_capacity(n);
                for _ in 0..n {
                    fields.push(self.pat(d)?);
                }
                Pat::Variant { owner, index, fields }
            }
            tag::PAT_RECORD => {
                let n = self.count("a record pattern's field count")?;
                let mut fields = Vec::with_capacity(n);
                for _ in 0..n {
                    fields.push((self.str()?, self.pat(d)?));
                }
                Pat::Record { fields }
            }
            t => return Err(self.unknown(t, WHAT)),
        })
    }
}
