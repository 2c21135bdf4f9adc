//! The content-hash invariants of TEL (TEL.md §8, docs/hashing.md), checked end to end
//! through the engine: source text → `AnalysisHost` → `Analysis::definitions`, which is what
//! `tel hash` and `tel equiv` print.
//!
//! * Generated programs (`gen`): a proptest strategy draws a vector of choices, from which a
//!   small well-typed program is built as an AST (records, an enum, a user effect with
//!   handlers, `perform Log`, lets, ifs, four kinds of `match`, lambdas, lists, recursion, a
//!   call DAG). Printing the AST under a different `Look` (names, layout, comments,
//!   spellings, field orders) must keep every hash; each semantic mutation of the AST must
//!   change exactly the mutated definitions and their transitive dependents.
//! * Fixtures (`fixtures/valid`, `fixtures/projects` except `cyclic_use`): the same
//!   invariants through edits of the real syntax tree, with the dependency graph read back
//!   from the canonical bytes the engine hashed.
//! * `golden_hashes.txt` pins the hash of every fixture definition.
//!
//! Choices are consumed from a vector that runs out into zeros, and choice 0 is always the
//! simplest option, so shrinking the vector shrinks the program.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tel_hash::CodeHash;
use tel_hash::core::DefKind;
use tel_ide::{Analysis, AnalysisHost, FileId, Severity};
use tel_syntax::{SyntaxKind, SyntaxNode, SyntaxToken, TextRange};

// ---------------------------------------------------------------------------------------
// Choices
// ---------------------------------------------------------------------------------------

/// A stream of choices. Past its end every choice is 0, the simplest.
pub struct Src<'d> {
    data: &'d [u16],
    pos: usize,
}

impl<'d> Src<'d> {
    pub fn new(data: &'d [u16]) -> Self {
        Src { data, pos: 0 }
    }

    /// A number in `0..n` (0 when `n <= 1`, without consuming a choice).
    pub fn below(&mut self, n: usize) -> usize {
        if n <= 1 {
            return 0;
        }
        let v = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        v as usize % n
    }

    /// True with probability `num / den`; false once the choices run out.
    pub fn coin(&mut self, num: usize, den: usize) -> bool {
        self.below(den) >= den - num
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }

    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }
}

/// Deterministic choices for the fixture tests (splitmix64), so that they need no proptest.
fn seeded(seed: u64, len: usize) -> Vec<u16> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) as u16
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Generated programs: the AST
// ---------------------------------------------------------------------------------------

type Var = u32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Ty {
    Int,
    Bool,
    Str,
    Dur,
    Rec,
    Enum,
    List,
}

const TYS: [Ty; 7] = [Ty::Int, Ty::Bool, Ty::Str, Ty::Dur, Ty::Rec, Ty::Enum, Ty::List];
const SCALARS: [Ty; 3] = [Ty::Int, Ty::Str, Ty::Bool];
const PROBE_ELEMS: [Ty; 4] = [Ty::Int, Ty::Str, Ty::Bool, Ty::Dur];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    DAdd,
    DSub,
    DMul,
    DDiv,
    Concat,
    LConcat,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    SEq,
    SNe,
    And,
    Or,
}

impl Op {
    fn text(self) -> &'static str {
        use Op::*;
        match self {
            Add | DAdd => "+",
            Sub | DSub => "-",
            Mul | DMul => "*",
            Div | DDiv => "/",
            Rem => "%",
            Concat | LConcat => "++",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            Eq | SEq => "==",
            Ne | SNe => "!=",
            And => "&&",
            Or => "||",
        }
    }

    /// Another operator with the same operand and result types, if there is one.
    fn swapped(self) -> Option<Op> {
        use Op::*;
        Some(match self {
            Add => Sub,
            Sub => Add,
            Mul => Div,
            Div => Mul,
            Rem => Mul,
            DAdd => DSub,
            DSub => DAdd,
            DMul => DDiv,
            DDiv => DMul,
            Lt => Le,
            Le => Lt,
            Gt => Ge,
            Ge => Gt,
            Eq => Ne,
            Ne => Eq,
            SEq => SNe,
            SNe => SEq,
            And => Or,
            Or => And,
            Concat | LConcat => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DurUnit {
    Ms,
    S,
    Min,
    H,
    D,
}

const UNITS: [(DurUnit, &str, i64); 5] = [
    (DurUnit::Ms, "ms", 1),
    (DurUnit::S, "s", 1_000),
    (DurUnit::Min, "min", 60_000),
    (DurUnit::H, "h", 3_600_000),
    (DurUnit::D, "d", 86_400_000),
];

fn unit_ms(u: DurUnit) -> i64 {
    UNITS.iter().find(|x| x.0 == u).unwrap().2
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ClauseKind {
    Plain,
    Resume,
    Abort,
}

#[derive(Clone, Debug)]
struct Lambda {
    /// All lambda parameters are `Int` (the elements of `List<Int>`, `fold`'s accumulator).
    params: Vec<Var>,
    annotated: bool,
    body: Box<Expr>,
}

#[derive(Clone, Debug)]
struct EnumArm {
    variant: usize,
    binds: Vec<Option<Var>>,
    body: Expr,
}

#[derive(Clone, Debug)]
enum Expr {
    Int(i64),
    Bool(bool),
    Str(String),
    Dur(i64, DurUnit),
    Var(Var),
    Bin(Op, Box<Expr>, Box<Expr>),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Call(usize, Vec<Expr>),
    Show(Box<Expr>),
    Len(Box<Expr>),
    Map(Box<Expr>, Lambda),
    Filter(Box<Expr>, Lambda),
    Fold(Box<Expr>, Box<Expr>, Lambda),
    Field(Box<Expr>, usize),
    /// Fields in written order (a permutation of the record type's fields).
    Record {
        nominal: bool,
        fields: Vec<(usize, Expr)>,
    },
    Variant {
        variant: usize,
        args: Vec<Expr>,
        qualified: bool,
    },
    List(Vec<Expr>),
    If(Box<Expr>, Block, Block),
    MatchEnum {
        scrut: Box<Expr>,
        arms: Vec<EnumArm>,
        qualified: bool,
    },
    MatchInt {
        scrut: Box<Expr>,
        arms: Vec<(i64, Expr)>,
        catch: Option<Var>,
        rest: Box<Expr>,
    },
    MatchOpt {
        list: Box<Expr>,
        index: Box<Expr>,
        some: Var,
        on_some: Box<Expr>,
        on_none: Box<Expr>,
    },
    MatchRec {
        scrut: Box<Expr>,
        nominal: bool,
        fields: Vec<(usize, Option<Var>)>,
        rest: bool,
        body: Box<Expr>,
    },
    Handle {
        body: Block,
        param: Var,
        kind: ClauseKind,
        clause: Box<Expr>,
    },
    PerformAsk(Box<Expr>),
}

#[derive(Clone, Debug)]
struct Block {
    stmts: Vec<Stmt>,
    tail: Box<Expr>,
}

#[derive(Clone, Debug)]
enum Stmt {
    /// `toggleable`: the value's type is inferable, so the annotation may come and go.
    Let {
        var: Var,
        ty: Ty,
        annotated: bool,
        toggleable: bool,
        value: Expr,
    },
    Log(Expr),
    IfLog(Expr, Expr),
    Discard(Expr),
    /// `let l: List<elem> = []; let n = len(l);`: the annotation is the only place `elem`
    /// appears, so changing it changes a type and nothing else.
    EmptyProbe {
        list: Var,
        elem: Ty,
        len: Var,
    },
}

#[derive(Clone, Debug)]
struct Func {
    params: Vec<(Var, Ty)>,
    ret: Ty,
    body: Block,
    /// `Emit` in the row, unused (a warning, not an error).
    emit: bool,
}

#[derive(Clone, Debug)]
struct Program {
    /// The record type `R`: field names and types, and the order the declaration lists them.
    fields: Vec<(&'static str, Ty)>,
    field_order: Vec<usize>,
    /// The enum `E`: variant names and field types; `variant_order` is the declared order,
    /// which is semantic (it is the variant's index).
    variants: Vec<(&'static str, Vec<Ty>)>,
    variant_order: Vec<usize>,
    fns: Vec<Func>,
    next_var: Var,
}

/// A definition of a generated program, independent of how it is named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Key {
    Rec,
    Enum,
    Ask,
    Fn(usize),
}

const FIELD_POOL: [&str; 6] = ["amount", "label", "flag", "qty", "note", "ok"];
const VARIANT_POOL: [&str; 5] = ["Alpha", "Beta", "Gamma", "Delta", "Empty"];
/// Local names: disjoint from function names, builtins and keywords, and small, so that
/// shadowing is common.
const LOCAL_POOL: [&str; 8] = ["a", "b", "x", "y", "n", "acc", "val", "tmp"];
const RENAMED_LOCAL_POOL: [&str; 8] = ["p", "q", "x", "a", "z", "w", "item", "k"];
const FN_POOL: [&str; 8] =
    ["alpha", "beta_fn", "gamma", "delta_x", "eps", "zeta", "step_two", "theta"];
const REC_POOL: [&str; 4] = ["Quote", "Order", "Ticket", "Rec"];
const ENUM_POOL: [&str; 4] = ["Outcome", "Shape", "Signal", "Kind"];
const STRINGS: [&str; 12] = [
    "",
    "a",
    "ETH/USD",
    "hello world",
    "quote\"d",
    "back\\slash",
    "tab\there",
    "line\nbreak",
    "café",
    "∑ 𝄞",
    "{braces} // not a comment",
    "/* nor this */",
];
const DUR_COUNTS: [i64; 8] = [0, 1, 5, 10, 30, 90, 250, 1_500];

impl Func {
    fn sig(&self) -> (Vec<Ty>, Ty) {
        (self.params.iter().map(|p| p.1).collect(), self.ret)
    }
}

impl Program {
    fn keys(&self) -> Vec<Key> {
        let mut keys = vec![Key::Rec, Key::Enum, Key::Ask];
        keys.extend((0..self.fns.len()).map(Key::Fn));
        keys
    }

    /// Whether each function performs `Log`, directly or through a callee (rows are
    /// computed, so that a mutation of the call graph keeps the program well-typed).
    fn uses_log(&self) -> Vec<bool> {
        let mut log = vec![false; self.fns.len()];
        for i in 0..self.fns.len() {
            let mut direct = false;
            let mut callees = BTreeSet::new();
            visit_block(&self.fns[i].body, &mut |n| match n {
                Node::Stmt(Stmt::Log(_) | Stmt::IfLog(..)) => direct = true,
                Node::Expr(Expr::Call(j, _)) => {
                    callees.insert(*j);
                }
                _ => {}
            });
            // callees come earlier (or are `i` itself, which adds nothing)
            log[i] = direct || callees.iter().any(|&j| j != i && log[j]);
        }
        log
    }

    /// What each definition refers to: `(definite, possible)`. Calls, record literals,
    /// variant constructions and patterns, annotated or inferred `let` types and signatures
    /// certainly reach the normalized form; any other expression of type `R` or `E` might
    /// (the lowering is free to record more types), so the expected effect of a change to
    /// `R` or `E` is checked between the two.
    fn deps(&self) -> BTreeMap<Key, (BTreeSet<Key>, BTreeSet<Key>)> {
        let mut out = BTreeMap::new();
        for k in [Key::Rec, Key::Enum, Key::Ask] {
            out.insert(k, (BTreeSet::new(), BTreeSet::new()));
        }
        for (i, f) in self.fns.iter().enumerate() {
            let mut definite = BTreeSet::new();
            let mut possible = BTreeSet::new();
            let (params, ret) = f.sig();
            for t in params.iter().chain([&ret]) {
                match t {
                    Ty::Rec => definite.insert(Key::Rec),
                    Ty::Enum => definite.insert(Key::Enum),
                    _ => false,
                };
            }
            visit_block(&f.body, &mut |n| match n {
                Node::Expr(e) => match e {
                    Expr::Call(j, _) if *j != i => {
                        definite.insert(Key::Fn(*j));
                    }
                    Expr::Record { .. } => {
                        definite.insert(Key::Rec);
                    }
                    Expr::Variant { .. } | Expr::MatchEnum { .. } => {
                        definite.insert(Key::Enum);
                    }
                    Expr::MatchRec { .. } | Expr::Field(..) => {
                        possible.insert(Key::Rec);
                    }
                    Expr::Handle { .. } | Expr::PerformAsk(_) => {
                        definite.insert(Key::Ask);
                    }
                    _ => {}
                },
                Node::Stmt(Stmt::Let { ty: Ty::Rec, .. }) => {
                    definite.insert(Key::Rec);
                }
                Node::Stmt(Stmt::Let { ty: Ty::Enum, .. }) => {
                    definite.insert(Key::Enum);
                }
                _ => {}
            });
            // Any expression may have type R or E (a call's result, a field's base, a
            // scrutinee, an argument of `show`): possible references.
            let types = self.expr_types(i);
            if types.contains(&Ty::Rec) {
                possible.insert(Key::Rec);
            }
            if types.contains(&Ty::Enum) {
                possible.insert(Key::Enum);
            }
            possible.extend(definite.iter().copied());
            out.insert(Key::Fn(i), (definite, possible));
        }
        out
    }

    /// The types of values flowing through function `i` (params, calls' results, lets).
    fn expr_types(&self, i: usize) -> BTreeSet<Ty> {
        let mut tys: BTreeSet<Ty> = self.fns[i].params.iter().map(|p| p.1).collect();
        tys.insert(self.fns[i].ret);
        visit_block(&self.fns[i].body, &mut |n| match n {
            Node::Expr(Expr::Call(j, _)) => {
                tys.insert(self.fns[*j].ret);
            }
            Node::Expr(Expr::Show(_)) => {
                // `show` takes any type; over-approximate
                tys.insert(Ty::Rec);
                tys.insert(Ty::Enum);
            }
            Node::Expr(Expr::MatchRec { .. } | Expr::Field(..) | Expr::Record { .. }) => {
                tys.insert(Ty::Rec);
            }
            Node::Expr(Expr::MatchEnum { .. } | Expr::Variant { .. }) => {
                tys.insert(Ty::Enum);
            }
            Node::Stmt(Stmt::Let { ty, .. }) => {
                tys.insert(*ty);
            }
            _ => {}
        });
        tys
    }

    /// `seeds` and every definition depending on one of them, transitively, under `deps`
    /// (0 = definite, 1 = possible).
    fn closure(&self, seeds: &BTreeSet<Key>, possible: bool) -> BTreeSet<Key> {
        let deps = self.deps();
        let mut out = seeds.clone();
        loop {
            let before = out.len();
            for (k, (def, pos)) in &deps {
                let d = if possible { pos } else { def };
                if d.iter().any(|x| out.contains(x)) {
                    out.insert(*k);
                }
            }
            if out.len() == before {
                return out;
            }
        }
    }

    /// Functions calling `f`, transitively, and `f`.
    fn callers_closure(&self, f: usize) -> BTreeSet<usize> {
        let mut out = BTreeSet::from([f]);
        loop {
            let before = out.len();
            for (i, func) in self.fns.iter().enumerate() {
                let mut calls = false;
                visit_block(&func.body, &mut |n| {
                    if let Node::Expr(Expr::Call(j, _)) = n
                        && out.contains(j)
                    {
                        calls = true;
                    }
                });
                if calls {
                    out.insert(i);
                }
            }
            if out.len() == before {
                return out;
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Traversals
// ---------------------------------------------------------------------------------------

enum Node<'a> {
    Expr(&'a Expr),
    Stmt(&'a Stmt),
}

fn visit_block<'a>(b: &'a Block, f: &mut dyn FnMut(Node<'a>)) {
    for s in &b.stmts {
        f(Node::Stmt(s));
        match s {
            Stmt::Let { value, .. } => visit_expr(value, f),
            Stmt::Log(e) | Stmt::Discard(e) => visit_expr(e, f),
            Stmt::IfLog(c, e) => {
                visit_expr(c, f);
                visit_expr(e, f);
            }
            Stmt::EmptyProbe { .. } => {}
        }
    }
    visit_expr(&b.tail, f);
}

fn visit_expr<'a>(e: &'a Expr, f: &mut dyn FnMut(Node<'a>)) {
    f(Node::Expr(e));
    match e {
        Expr::Int(_) | Expr::Bool(_) | Expr::Str(_) | Expr::Dur(..) | Expr::Var(_) => {}
        Expr::Bin(_, a, b) => {
            visit_expr(a, f);
            visit_expr(b, f);
        }
        Expr::Neg(a) | Expr::Not(a) | Expr::Show(a) | Expr::Len(a) | Expr::PerformAsk(a) => {
            visit_expr(a, f)
        }
        Expr::Field(a, _) => visit_expr(a, f),
        Expr::Call(_, args) | Expr::List(args) | Expr::Variant { args, .. } => {
            args.iter().for_each(|a| visit_expr(a, f))
        }
        Expr::Map(l, lam) | Expr::Filter(l, lam) => {
            visit_expr(l, f);
            visit_expr(&lam.body, f);
        }
        Expr::Fold(l, init, lam) => {
            visit_expr(l, f);
            visit_expr(init, f);
            visit_expr(&lam.body, f);
        }
        Expr::Record { fields, .. } => fields.iter().for_each(|(_, v)| visit_expr(v, f)),
        Expr::If(c, a, b) => {
            visit_expr(c, f);
            visit_block(a, f);
            visit_block(b, f);
        }
        Expr::MatchEnum { scrut, arms, .. } => {
            visit_expr(scrut, f);
            arms.iter().for_each(|a| visit_expr(&a.body, f));
        }
        Expr::MatchInt { scrut, arms, rest, .. } => {
            visit_expr(scrut, f);
            arms.iter().for_each(|a| visit_expr(&a.1, f));
            visit_expr(rest, f);
        }
        Expr::MatchOpt { list, index, on_some, on_none, .. } => {
            visit_expr(list, f);
            visit_expr(index, f);
            visit_expr(on_some, f);
            visit_expr(on_none, f);
        }
        Expr::MatchRec { scrut, body, .. } => {
            visit_expr(scrut, f);
            visit_expr(body, f);
        }
        Expr::Handle { body, clause, .. } => {
            visit_block(body, f);
            visit_expr(clause, f);
        }
    }
}

enum NodeMut<'a> {
    Expr(&'a mut Expr),
    Stmt(&'a mut Stmt),
}

/// Visits every statement and expression of every function, pre-order, mutably. The
/// callback gets the function's index.
fn visit_program_mut(p: &mut Program, f: &mut dyn FnMut(usize, NodeMut<'_>)) {
    for (i, func) in p.fns.iter_mut().enumerate() {
        block_mut(&mut func.body, &mut |n| f(i, n));
    }
}

fn block_mut(b: &mut Block, f: &mut dyn FnMut(NodeMut<'_>)) {
    for s in &mut b.stmts {
        f(NodeMut::Stmt(s));
        match s {
            Stmt::Let { value, .. } => expr_mut(value, f),
            Stmt::Log(e) | Stmt::Discard(e) => expr_mut(e, f),
            Stmt::IfLog(c, e) => {
                expr_mut(c, f);
                expr_mut(e, f);
            }
            Stmt::EmptyProbe { .. } => {}
        }
    }
    expr_mut(&mut b.tail, f);
}

fn expr_mut(e: &mut Expr, f: &mut dyn FnMut(NodeMut<'_>)) {
    f(NodeMut::Expr(e));
    match e {
        Expr::Int(_) | Expr::Bool(_) | Expr::Str(_) | Expr::Dur(..) | Expr::Var(_) => {}
        Expr::Bin(_, a, b) => {
            expr_mut(a, f);
            expr_mut(b, f);
        }
        Expr::Neg(a) | Expr::Not(a) | Expr::Show(a) | Expr::Len(a) | Expr::PerformAsk(a) => {
            expr_mut(a, f)
        }
        Expr::Field(a, _) => expr_mut(a, f),
        Expr::Call(_, args) | Expr::List(args) | Expr::Variant { args, .. } => {
            args.iter_mut().for_each(|a| expr_mut(a, f))
        }
        Expr::Map(l, lam) | Expr::Filter(l, lam) => {
            expr_mut(l, f);
            expr_mut(&mut lam.body, f);
        }
        Expr::Fold(l, init, lam) => {
            expr_mut(l, f);
            expr_mut(init, f);
            expr_mut(&mut lam.body, f);
        }
        Expr::Record { fields, .. } => fields.iter_mut().for_each(|(_, v)| expr_mut(v, f)),
        Expr::If(c, a, b) => {
            expr_mut(c, f);
            block_mut(a, f);
            block_mut(b, f);
        }
        Expr::MatchEnum { scrut, arms, .. } => {
            expr_mut(scrut, f);
            arms.iter_mut().for_each(|a| expr_mut(&mut a.body, f));
        }
        Expr::MatchInt { scrut, arms, rest, .. } => {
            expr_mut(scrut, f);
            arms.iter_mut().for_each(|a| expr_mut(&mut a.1, f));
            expr_mut(rest, f);
        }
        Expr::MatchOpt { list, index, on_some, on_none, .. } => {
            expr_mut(list, f);
            expr_mut(index, f);
            expr_mut(on_some, f);
            expr_mut(on_none, f);
        }
        Expr::MatchRec { scrut, body, .. } => {
            expr_mut(scrut, f);
            expr_mut(body, f);
        }
        Expr::Handle { body, clause, .. } => {
            block_mut(body, f);
            expr_mut(clause, f);
        }
    }
}

/// Every binder of a function, in order of appearance.
fn binders(func: &Func) -> Vec<Var> {
    let mut out: Vec<Var> = func.params.iter().map(|p| p.0).collect();
    let mut body = func.body.clone();
    block_mut(&mut body, &mut |n| match n {
        NodeMut::Stmt(Stmt::Let { var, .. }) => out.push(*var),
        NodeMut::Stmt(Stmt::EmptyProbe { list, len, .. }) => out.extend([*list, *len]),
        NodeMut::Expr(e) => match e {
            Expr::Map(_, lam) | Expr::Filter(_, lam) | Expr::Fold(_, _, lam) => {
                out.extend(lam.params.iter().copied())
            }
            Expr::MatchEnum { arms, .. } => {
                out.extend(arms.iter().flat_map(|a| a.binds.iter().flatten().copied()))
            }
            Expr::MatchInt { catch: Some(v), .. } => out.push(*v),
            Expr::MatchOpt { some, .. } => out.push(*some),
            Expr::MatchRec { fields, .. } => out.extend(fields.iter().filter_map(|f| f.1)),
            Expr::Handle { param, .. } => out.push(*param),
            _ => {}
        },
        _ => {}
    });
    out
}

// ---------------------------------------------------------------------------------------
// Generating programs
// ---------------------------------------------------------------------------------------

struct Ctx {
    env: Vec<(Var, Ty)>,
    current: usize,
    /// Inside the body of a `handle` for `Ask` (and not inside a lambda there).
    ask_ok: bool,
}

struct Gen<'s, 'd> {
    s: &'s mut Src<'d>,
    p: Program,
}

fn generate(s: &mut Src) -> Program {
    let mut names: Vec<&'static str> = FIELD_POOL.to_vec();
    s.shuffle(&mut names);
    let nfields = 1 + s.below(4);
    let fields: Vec<(&'static str, Ty)> =
        names[..nfields].iter().map(|n| (*n, *s.pick(&SCALARS))).collect();
    let mut field_order: Vec<usize> = (0..nfields).collect();
    s.shuffle(&mut field_order);
    let nvariants = 2 + s.below(3);
    let variants: Vec<(&'static str, Vec<Ty>)> = VARIANT_POOL[..nvariants]
        .iter()
        .map(|n| {
            let arity = s.below(3);
            (*n, (0..arity).map(|_| *s.pick(&SCALARS)).collect())
        })
        .collect();
    let mut variant_order: Vec<usize> = (0..nvariants).collect();
    s.shuffle(&mut variant_order);
    let p = Program { fields, field_order, variants, variant_order, fns: Vec::new(), next_var: 0 };
    let mut g = Gen { s, p };
    let nfns = 2 + g.s.below(5);
    for i in 0..nfns {
        g.func(i);
    }
    g.p
}

impl Gen<'_, '_> {
    fn var(&mut self) -> Var {
        self.p.next_var += 1;
        self.p.next_var - 1
    }

    fn ty(&mut self) -> Ty {
        *self.s.pick(&TYS)
    }

    fn func(&mut self, i: usize) {
        let mut recursive = self.s.coin(1, 5);
        let mut params = Vec::new();
        let ret = if i > 0 && self.s.coin(1, 2) {
            // the signature of an earlier function, so that callees can be swapped
            let (tys, r) = self.p.fns[self.s.below(i)].sig();
            recursive &= tys.first() == Some(&Ty::Int);
            for t in tys {
                params.push((self.var(), t));
            }
            r
        } else {
            let nparams = if recursive { 1 + self.s.below(3) } else { self.s.below(4) };
            for k in 0..nparams {
                let ty = if recursive && k == 0 { Ty::Int } else { self.ty() };
                params.push((self.var(), ty));
            }
            self.ty()
        };
        let placeholder = Block { stmts: Vec::new(), tail: Box::new(Expr::Int(0)) };
        self.p.fns.push(Func { params: params.clone(), ret, body: placeholder, emit: false });
        let mut cx = Ctx { env: params.clone(), current: i, ask_ok: false };
        let depth = 2 + self.s.below(2) as u32;
        let mut body = self.block(ret, depth, &mut cx, true, true);
        if recursive {
            // if n <= 0 { <tail> } else { <…> f_i(n - 1, …) }
            let n = params[0].0;
            let mut args = vec![Expr::Bin(Op::Sub, Box::new(Expr::Var(n)), Box::new(Expr::Int(1)))];
            for &(_, t) in &params[1..] {
                args.push(self.expr(t, 0, &mut cx, true));
            }
            let call = Expr::Call(i, args);
            let recur = if ret == Ty::Int {
                Expr::Bin(Op::Add, Box::new(self.expr(Ty::Int, 1, &mut cx, false)), Box::new(call))
            } else {
                call
            };
            let base = std::mem::replace(&mut body.tail, Box::new(Expr::Int(0)));
            let cond = Expr::Bin(Op::Le, Box::new(Expr::Var(n)), Box::new(Expr::Int(0)));
            body.tail = Box::new(Expr::If(
                Box::new(cond),
                Block { stmts: Vec::new(), tail: base },
                Block { stmts: Vec::new(), tail: Box::new(recur) },
            ));
        }
        self.p.fns[i].body = body;
    }

    /// A block of type `ty`; a function body (`prologue`) usually starts by calling an
    /// earlier function, so that the call graph is rarely empty.
    fn block(&mut self, ty: Ty, depth: u32, cx: &mut Ctx, exp: bool, prologue: bool) -> Block {
        let mark = cx.env.len();
        let mut stmts = Vec::new();
        if prologue && cx.current > 0 && !self.s.coin(1, 4) {
            let j = self.s.below(cx.current);
            let call = self.call(j, depth.saturating_sub(1), cx);
            let var = self.var();
            let ty = self.p.fns[j].ret;
            let annotated = self.s.coin(1, 2);
            stmts.push(Stmt::Let { var, ty, annotated, toggleable: true, value: call });
            cx.env.push((var, ty));
        }
        let n = self.s.below(if prologue { 4 } else { 3 });
        for _ in 0..n {
            let stmt = self.stmt(depth.saturating_sub(1), cx);
            stmts.push(stmt);
        }
        let tail = Box::new(self.expr(ty, depth, cx, exp));
        cx.env.truncate(mark);
        Block { stmts, tail }
    }

    fn stmt(&mut self, depth: u32, cx: &mut Ctx) -> Stmt {
        match self.s.below(5) {
            0 => {
                let ty = self.ty();
                let annotated = self.s.coin(1, 2);
                let needs = annotated && self.s.coin(1, 2);
                let value = self.expr(ty, depth, cx, needs);
                let var = self.var();
                cx.env.push((var, ty));
                Stmt::Let { var, ty, annotated, toggleable: !needs, value }
            }
            1 => Stmt::Log(self.expr(Ty::Str, depth, cx, false)),
            2 => {
                let c = self.expr(Ty::Bool, depth, cx, false);
                Stmt::IfLog(c, self.expr(Ty::Str, depth, cx, false))
            }
            3 if cx.current > 0 => {
                let j = self.s.below(cx.current);
                Stmt::Discard(self.call(j, depth, cx))
            }
            _ => {
                let list = self.var();
                let len = self.var();
                let elem = *self.s.pick(&PROBE_ELEMS);
                cx.env.push((len, Ty::Int));
                Stmt::EmptyProbe { list, elem, len }
            }
        }
    }

    fn call(&mut self, j: usize, depth: u32, cx: &mut Ctx) -> Expr {
        let params: Vec<Ty> = self.p.fns[j].params.iter().map(|p| p.1).collect();
        Expr::Call(j, params.into_iter().map(|t| self.expr(t, depth, cx, true)).collect())
    }

    fn int_lit(&mut self) -> i64 {
        match self.s.below(4) {
            0 => self.s.below(10) as i64,
            1 => self.s.below(1000) as i64,
            2 => self.s.below(65536) as i64,
            _ => *self.s.pick(&[1_000_000_007, 9_007_199_254_740_993, i64::MAX]),
        }
    }

    fn leaf(&mut self, ty: Ty, cx: &mut Ctx, exp: bool) -> Expr {
        match ty {
            Ty::Int => Expr::Int(self.int_lit()),
            Ty::Bool => Expr::Bool(self.s.coin(1, 2)),
            Ty::Str => Expr::Str(self.s.pick(&STRINGS).to_string()),
            Ty::Dur => {
                let c = *self.s.pick(&DUR_COUNTS);
                Expr::Dur(c, self.s.pick(&UNITS).0)
            }
            Ty::Rec => self.record(0, cx, exp),
            Ty::Enum => self.variant(0, cx),
            Ty::List => {
                if exp && self.s.coin(1, 4) {
                    Expr::List(Vec::new())
                } else {
                    let n = 1 + self.s.below(3);
                    Expr::List((0..n).map(|_| Expr::Int(self.int_lit())).collect())
                }
            }
        }
    }

    fn record(&mut self, depth: u32, cx: &mut Ctx, exp: bool) -> Expr {
        let nominal = !(exp && self.s.coin(1, 2));
        let mut order: Vec<usize> = (0..self.p.fields.len()).collect();
        self.s.shuffle(&mut order);
        let fields = order
            .into_iter()
            .map(|f| {
                let t = self.p.fields[f].1;
                (f, self.expr(t, depth, cx, true))
            })
            .collect();
        Expr::Record { nominal, fields }
    }

    fn variant(&mut self, depth: u32, cx: &mut Ctx) -> Expr {
        let variant = self.s.below(self.p.variants.len());
        let tys = self.p.variants[variant].1.clone();
        let args = tys.into_iter().map(|t| self.expr(t, depth, cx, true)).collect();
        Expr::Variant { variant, args, qualified: self.s.coin(1, 3) }
    }

    fn lambda(&mut self, arity: usize, ret: Ty, depth: u32, cx: &mut Ctx) -> Lambda {
        let params: Vec<Var> = (0..arity).map(|_| self.var()).collect();
        let mark = cx.env.len();
        cx.env.extend(params.iter().map(|&v| (v, Ty::Int)));
        let ask = std::mem::replace(&mut cx.ask_ok, false);
        let body = Box::new(self.expr(ret, depth, cx, false));
        cx.ask_ok = ask;
        cx.env.truncate(mark);
        Lambda { params, annotated: self.s.coin(1, 2), body }
    }

    fn bin(&mut self, op: Op, l: Ty, r: Ty, d: u32, cx: &mut Ctx) -> Expr {
        let a = self.expr(l, d, cx, false);
        let b = self.expr(r, d, cx, false);
        Expr::Bin(op, Box::new(a), Box::new(b))
    }

    fn expr(&mut self, ty: Ty, depth: u32, cx: &mut Ctx, exp: bool) -> Expr {
        #[derive(Clone, Copy)]
        enum K {
            Leaf,
            Var,
            Call,
            If,
            MatchEnum,
            MatchInt,
            MatchOpt,
            MatchRec,
            Special(u8),
        }
        let vars: Vec<Var> = cx.env.iter().filter(|e| e.1 == ty).map(|e| e.0).collect();
        let callees: Vec<usize> = (0..cx.current).filter(|&j| self.p.fns[j].ret == ty).collect();
        let mut ks = vec![K::Leaf];
        if !vars.is_empty() {
            ks.extend([K::Var, K::Var]);
        }
        if depth > 0 {
            if !callees.is_empty() {
                ks.extend([K::Call, K::Call]);
            }
            ks.extend([K::If, K::MatchEnum, K::MatchInt, K::MatchOpt, K::MatchRec]);
            let specials: u8 = match ty {
                Ty::Int => 7,
                Ty::Bool => 5,
                Ty::Str => 3,
                Ty::Dur => 3,
                Ty::Rec | Ty::Enum => 1,
                Ty::List => 4,
            };
            ks.extend((0..specials).map(K::Special));
        }
        let d = depth.saturating_sub(1);
        match ks[self.s.below(ks.len())] {
            K::Leaf => self.leaf(ty, cx, exp),
            K::Var => Expr::Var(*self.s.pick(&vars)),
            K::Call => {
                let j = *self.s.pick(&callees);
                self.call(j, d, cx)
            }
            K::If => {
                let c = self.expr(Ty::Bool, d, cx, false);
                let a = self.block(ty, d, cx, exp, false);
                let b = self.block(ty, d, cx, exp, false);
                Expr::If(Box::new(c), a, b)
            }
            K::MatchEnum => {
                let scrut = Box::new(self.expr(Ty::Enum, d, cx, false));
                let mut arms = Vec::new();
                for v in 0..self.p.variants.len() {
                    let mark = cx.env.len();
                    let tys = self.p.variants[v].1.clone();
                    let binds: Vec<Option<Var>> = tys
                        .iter()
                        .map(|&t| {
                            self.s.coin(2, 3).then(|| {
                                let var = self.var();
                                cx.env.push((var, t));
                                var
                            })
                        })
                        .collect();
                    let body = self.expr(ty, d, cx, exp);
                    cx.env.truncate(mark);
                    arms.push(EnumArm { variant: v, binds, body });
                }
                Expr::MatchEnum { scrut, arms, qualified: self.s.coin(1, 3) }
            }
            K::MatchInt => {
                let scrut = Box::new(self.expr(Ty::Int, d, cx, false));
                let n = 1 + self.s.below(3);
                let arms = (0..n)
                    .map(|_| {
                        let lit = self.s.below(20) as i64;
                        (lit, self.expr(ty, d, cx, exp))
                    })
                    .collect();
                let mark = cx.env.len();
                let catch = self.s.coin(1, 2).then(|| {
                    let v = self.var();
                    cx.env.push((v, Ty::Int));
                    v
                });
                let rest = Box::new(self.expr(ty, d, cx, exp));
                cx.env.truncate(mark);
                Expr::MatchInt { scrut, arms, catch, rest }
            }
            K::MatchOpt => {
                let list = Box::new(self.expr(Ty::List, d, cx, false));
                let index = Box::new(self.expr(Ty::Int, d, cx, false));
                let some = self.var();
                cx.env.push((some, Ty::Int));
                let on_some = Box::new(self.expr(ty, d, cx, exp));
                cx.env.pop();
                let on_none = Box::new(self.expr(ty, d, cx, exp));
                Expr::MatchOpt { list, index, some, on_some, on_none }
            }
            K::MatchRec => {
                let scrut = Box::new(self.expr(Ty::Rec, d, cx, false));
                let mut order: Vec<usize> = (0..self.p.fields.len()).collect();
                self.s.shuffle(&mut order);
                let mut chosen: Vec<usize> =
                    order.iter().copied().filter(|_| !self.s.coin(1, 3)).collect();
                if chosen.is_empty() {
                    chosen.push(order[0]);
                }
                let mark = cx.env.len();
                let fields: Vec<(usize, Option<Var>)> = chosen
                    .into_iter()
                    .map(|f| {
                        let t = self.p.fields[f].1;
                        let bind = self.s.coin(2, 3).then(|| {
                            let v = self.var();
                            cx.env.push((v, t));
                            v
                        });
                        (f, bind)
                    })
                    .collect();
                let rest = fields.len() < self.p.fields.len() || self.s.coin(1, 3);
                let body = Box::new(self.expr(ty, d, cx, exp));
                cx.env.truncate(mark);
                Expr::MatchRec { scrut, nominal: self.s.coin(1, 2), fields, rest, body }
            }
            K::Special(k) => self.special(ty, k, d, cx, exp),
        }
    }

    fn special(&mut self, ty: Ty, k: u8, d: u32, cx: &mut Ctx, exp: bool) -> Expr {
        use Ty::*;
        let field_of = |p: &Program, t: Ty| p.fields.iter().position(|f| f.1 == t);
        match (ty, k) {
            (Int, 0) => {
                let op = *self.s.pick(&[Op::Add, Op::Sub, Op::Mul, Op::Div, Op::Rem]);
                self.bin(op, Int, Int, d, cx)
            }
            (Int, 1) => Expr::Neg(Box::new(self.expr(Int, d, cx, false))),
            (Int, 2) => {
                let t = if self.s.coin(1, 2) { Str } else { List };
                Expr::Len(Box::new(self.expr(t, d, cx, false)))
            }
            (Int, 3) | (Bool, 4) | (Str, 2) if field_of(&self.p, ty).is_some() => {
                let candidates: Vec<usize> =
                    (0..self.p.fields.len()).filter(|&f| self.p.fields[f].1 == ty).collect();
                let f = *self.s.pick(&candidates);
                Expr::Field(Box::new(self.expr(Rec, d, cx, false)), f)
            }
            (Int, 4) => {
                let list = Box::new(self.expr(List, d, cx, false));
                let init = Box::new(self.expr(Int, d, cx, false));
                let lam = self.lambda(2, Int, d, cx);
                Expr::Fold(list, init, lam)
            }
            (Int, 5) => {
                // handle { <stmts> perform Ask(e) + e } with { Ask(k) => <clause> }
                let mark = cx.env.len();
                let outer = std::mem::replace(&mut cx.ask_ok, true);
                let stmts = if self.s.coin(1, 2) { vec![self.stmt(d, cx)] } else { Vec::new() };
                let perform = Expr::PerformAsk(Box::new(self.expr(Int, d, cx, false)));
                let other = self.expr(Int, d, cx, false);
                let tail = Box::new(Expr::Bin(Op::Add, Box::new(perform), Box::new(other)));
                cx.env.truncate(mark);
                cx.ask_ok = outer;
                let param = self.var();
                cx.env.push((param, Int));
                let clause = Box::new(self.expr(Int, d, cx, false));
                cx.env.pop();
                let kind =
                    *self.s.pick(&[ClauseKind::Plain, ClauseKind::Resume, ClauseKind::Abort]);
                Expr::Handle { body: Block { stmts, tail }, param, kind, clause }
            }
            (Int, 6) if cx.ask_ok => Expr::PerformAsk(Box::new(self.expr(Int, d, cx, false))),
            (Bool, 0) => {
                let op = *self.s.pick(&[Op::Lt, Op::Le, Op::Gt, Op::Ge, Op::Eq, Op::Ne]);
                self.bin(op, Int, Int, d, cx)
            }
            (Bool, 1) => {
                let op = *self.s.pick(&[Op::SEq, Op::SNe]);
                self.bin(op, Str, Str, d, cx)
            }
            (Bool, 2) => {
                let op = *self.s.pick(&[Op::And, Op::Or]);
                self.bin(op, Bool, Bool, d, cx)
            }
            (Bool, 3) => Expr::Not(Box::new(self.expr(Bool, d, cx, false))),
            (Str, 0) => self.bin(Op::Concat, Str, Str, d, cx),
            (Str, 1) => {
                let t = self.ty();
                Expr::Show(Box::new(self.expr(t, d, cx, false)))
            }
            (Dur, 0) => {
                let op = *self.s.pick(&[Op::DAdd, Op::DSub]);
                self.bin(op, Dur, Dur, d, cx)
            }
            (Dur, 1) => {
                let op = *self.s.pick(&[Op::DMul, Op::DDiv]);
                self.bin(op, Dur, Int, d, cx)
            }
            (Dur, 2) => Expr::Neg(Box::new(self.expr(Dur, d, cx, false))),
            (Rec, _) => self.record(d, cx, exp),
            (Enum, _) => self.variant(d, cx),
            (List, 0) => {
                let n = 1 + self.s.below(3);
                Expr::List((0..n).map(|_| self.expr(Int, d, cx, true)).collect())
            }
            (List, 1) => self.bin(Op::LConcat, List, List, d, cx),
            (List, 2) => {
                let l = Box::new(self.expr(List, d, cx, false));
                Expr::Map(l, self.lambda(1, Int, d, cx))
            }
            (List, 3) => {
                let l = Box::new(self.expr(List, d, cx, false));
                Expr::Filter(l, self.lambda(1, Bool, d, cx))
            }
            _ => self.leaf(ty, cx, exp),
        }
    }
}

/// The binding structure of generated expressions, walked the same way by the scope check
/// (`names_resolve`) and the namer (`name_locals`): a binder group scopes over a body, a block
/// binds as it goes, and a variable is a use.
trait ScopeWalker {
    fn scoped(&mut self, vars: &[Var], body: &Expr);
    fn block(&mut self, b: &Block);
    fn use_var(&mut self, v: Var);
}

fn walk_scoped<W: ScopeWalker>(w: &mut W, e: &Expr) {
    match e {
        Expr::Var(v) => w.use_var(*v),
        Expr::Map(l, lam) | Expr::Filter(l, lam) => {
            walk_scoped(w, l);
            w.scoped(&lam.params, &lam.body);
        }
        Expr::Fold(l, i, lam) => {
            walk_scoped(w, l);
            walk_scoped(w, i);
            w.scoped(&lam.params, &lam.body);
        }
        Expr::If(c, a, b) => {
            walk_scoped(w, c);
            w.block(a);
            w.block(b);
        }
        Expr::MatchEnum { scrut, arms, .. } => {
            walk_scoped(w, scrut);
            for a in arms {
                let vs: Vec<Var> = a.binds.iter().flatten().copied().collect();
                w.scoped(&vs, &a.body);
            }
        }
        Expr::MatchInt { scrut, arms, catch, rest } => {
            walk_scoped(w, scrut);
            arms.iter().for_each(|a| walk_scoped(w, &a.1));
            let vs: Vec<Var> = catch.iter().copied().collect();
            w.scoped(&vs, rest);
        }
        Expr::MatchOpt { list, index, some, on_some, on_none } => {
            walk_scoped(w, list);
            walk_scoped(w, index);
            w.scoped(&[*some], on_some);
            walk_scoped(w, on_none);
        }
        Expr::MatchRec { scrut, fields, body, .. } => {
            walk_scoped(w, scrut);
            let vs: Vec<Var> = fields.iter().filter_map(|f| f.1).collect();
            w.scoped(&vs, body);
        }
        Expr::Handle { body, param, clause, .. } => {
            w.block(body);
            w.scoped(&[*param], clause);
        }
        Expr::Int(_) | Expr::Bool(_) | Expr::Str(_) | Expr::Dur(..) => {}
        Expr::Bin(_, a, b) => {
            walk_scoped(w, a);
            walk_scoped(w, b);
        }
        Expr::Neg(a)
        | Expr::Not(a)
        | Expr::Show(a)
        | Expr::Len(a)
        | Expr::PerformAsk(a)
        | Expr::Field(a, _) => walk_scoped(w, a),
        Expr::Call(_, args) | Expr::List(args) | Expr::Variant { args, .. } => {
            args.iter().for_each(|a| walk_scoped(w, a))
        }
        Expr::Record { fields, .. } => fields.iter().for_each(|f| walk_scoped(w, &f.1)),
    }
}

/// Checks that `names` resolves every use of a local to its binder: no capture by an inner
/// binder of the same name, as TEL's lexical scoping would do.
fn names_resolve(p: &Program, names: &HashMap<Var, String>) -> bool {
    struct R<'a> {
        names: &'a HashMap<Var, String>,
        scope: Vec<(&'a str, Var)>,
        ok: bool,
    }
    impl<'a> R<'a> {
        fn bind(&mut self, v: Var) {
            self.scope.push((self.names[&v].as_str(), v));
        }
        fn block(&mut self, b: &Block) {
            let mark = self.scope.len();
            for s in &b.stmts {
                match s {
                    Stmt::Let { var, value, .. } => {
                        self.expr(value);
                        self.bind(*var);
                    }
                    Stmt::Log(e) | Stmt::Discard(e) => self.expr(e),
                    Stmt::IfLog(c, e) => {
                        self.expr(c);
                        self.expr(e);
                    }
                    Stmt::EmptyProbe { list, len, .. } => {
                        self.bind(*list);
                        self.use_var(*list);
                        self.bind(*len);
                    }
                }
            }
            self.expr(&b.tail);
            self.scope.truncate(mark);
        }
        fn use_var(&mut self, v: Var) {
            let name = self.names[&v].as_str();
            let found = self.scope.iter().rev().find(|s| s.0 == name).map(|s| s.1);
            self.ok &= found == Some(v);
        }
        /// One binder group (parameters, a pattern's bindings) binds distinct names: the
        /// language leaves duplicates unspecified.
        fn distinct(&mut self, vars: &[Var]) {
            let names: BTreeSet<&str> = vars.iter().map(|v| self.names[v].as_str()).collect();
            self.ok &= names.len() == vars.len();
        }
        fn scoped(&mut self, vars: &[Var], e: &Expr) {
            self.distinct(vars);
            let mark = self.scope.len();
            vars.iter().for_each(|&v| self.bind(v));
            self.expr(e);
            self.scope.truncate(mark);
        }
        fn expr(&mut self, e: &Expr) {
            walk_scoped(self, e)
        }
    }
    impl ScopeWalker for R<'_> {
        fn scoped(&mut self, vars: &[Var], body: &Expr) {
            R::scoped(self, vars, body)
        }
        fn block(&mut self, b: &Block) {
            R::block(self, b)
        }
        fn use_var(&mut self, v: Var) {
            R::use_var(self, v)
        }
    }
    let mut r = R { names, scope: Vec::new(), ok: true };
    for f in &p.fns {
        r.scope.clear();
        let params: Vec<Var> = f.params.iter().map(|p| p.0).collect();
        r.distinct(&params);
        params.iter().for_each(|&v| r.bind(v));
        r.block(&f.body);
    }
    r.ok
}

fn uses_expr(e: &Expr, out: &mut BTreeSet<Var>) {
    visit_expr(e, &mut |n| {
        if let Node::Expr(Expr::Var(v)) = n {
            out.insert(*v);
        }
    });
}

/// The locals used by statements `stmts` and `tail`: the scope of a `let` before them.
fn uses_rest(stmts: &[Stmt], tail: &Expr) -> BTreeSet<Var> {
    let mut out = BTreeSet::new();
    for s in stmts {
        match s {
            Stmt::Let { value, .. } => uses_expr(value, &mut out),
            Stmt::Log(e) | Stmt::Discard(e) => uses_expr(e, &mut out),
            Stmt::IfLog(c, e) => {
                uses_expr(c, &mut out);
                uses_expr(e, &mut out);
            }
            Stmt::EmptyProbe { list, .. } => {
                out.insert(*list);
            }
        }
    }
    uses_expr(tail, &mut out);
    out
}

/// Names every local from `pool`, shadowing freely but never capturing: a binder avoids
/// the names of the locals in scope that its own scope uses, and the other names of its
/// group (parameters, a pattern). Falls back to `{prefix}{id}` when the pool is exhausted.
fn name_locals(p: &Program, s: &mut Src, pool: &[&str], prefix: &str) -> HashMap<Var, String> {
    struct Namer<'a, 's, 'd> {
        s: &'s mut Src<'d>,
        pool: &'a [&'a str],
        prefix: &'a str,
        names: HashMap<Var, String>,
        scope: Vec<Var>,
    }
    impl Namer<'_, '_, '_> {
        fn group(&mut self, vars: &[Var], region: &BTreeSet<Var>) {
            let mut forbidden: BTreeSet<String> = self
                .scope
                .iter()
                .filter(|v| region.contains(v))
                .map(|v| self.names[v].clone())
                .collect();
            for &v in vars {
                let allowed: Vec<&str> =
                    self.pool.iter().copied().filter(|n| !forbidden.contains(*n)).collect();
                let name = if allowed.is_empty() {
                    format!("{}{v}", self.prefix)
                } else {
                    allowed[self.s.below(allowed.len())].to_owned()
                };
                forbidden.insert(name.clone());
                self.names.insert(v, name);
            }
            self.scope.extend(vars);
        }
        fn scoped(&mut self, vars: &[Var], body: &Expr) {
            let mark = self.scope.len();
            let mut region = BTreeSet::new();
            uses_expr(body, &mut region);
            self.group(vars, &region);
            self.expr(body);
            self.scope.truncate(mark);
        }
        fn block(&mut self, b: &Block) {
            let mark = self.scope.len();
            for (k, st) in b.stmts.iter().enumerate() {
                let rest = || uses_rest(&b.stmts[k + 1..], &b.tail);
                match st {
                    Stmt::Let { var, value, .. } => {
                        self.expr(value);
                        self.group(&[*var], &rest());
                    }
                    Stmt::Log(e) | Stmt::Discard(e) => self.expr(e),
                    Stmt::IfLog(c, e) => {
                        self.expr(c);
                        self.expr(e);
                    }
                    Stmt::EmptyProbe { list, len, .. } => {
                        let region = rest();
                        self.group(&[*list], &region);
                        self.group(&[*len], &region);
                    }
                }
            }
            self.expr(&b.tail);
            self.scope.truncate(mark);
        }
        fn expr(&mut self, e: &Expr) {
            walk_scoped(self, e)
        }
    }
    impl ScopeWalker for Namer<'_, '_, '_> {
        fn scoped(&mut self, vars: &[Var], body: &Expr) {
            Namer::scoped(self, vars, body)
        }
        fn block(&mut self, b: &Block) {
            Namer::block(self, b)
        }
        // Names are chosen at binders; uses are what `uses_expr` already collected.
        fn use_var(&mut self, _: Var) {}
    }
    let mut n = Namer { s, pool, prefix, names: HashMap::new(), scope: Vec::new() };
    for f in &p.fns {
        n.scope.clear();
        let params: Vec<Var> = f.params.iter().map(|p| p.0).collect();
        let mut region = BTreeSet::new();
        visit_block(&f.body, &mut |node| {
            if let Node::Expr(Expr::Var(v)) = node {
                region.insert(*v);
            }
        });
        n.group(&params, &region);
        n.block(&f.body);
    }
    let names = n.names;
    assert!(names_resolve(p, &names), "the namer captured a use: {names:?}");
    names
}

// ---------------------------------------------------------------------------------------
// Printing programs
// ---------------------------------------------------------------------------------------

/// Everything about a program's text that is not its meaning.
#[derive(Clone, Debug)]
struct Look {
    vars: HashMap<Var, String>,
    fns: Vec<String>,
    rec: String,
    enm: String,
    ask_param: String,
    module: Option<String>,
    path: String,
    items: Vec<Key>,
    row_reversed: bool,
    pub_items: bool,
    /// Random whitespace, trailing commas and optional `;` (else a plain layout).
    whitespace: bool,
    comments: bool,
    /// Random spellings of literals (hex, `_`, escapes, duration units).
    respell: bool,
    /// Redundant parentheses.
    parens: bool,
}

impl Look {
    fn base(p: &Program, s: &mut Src) -> Look {
        Look {
            vars: name_locals(p, s, &LOCAL_POOL, "v"),
            fns: (0..p.fns.len()).map(|i| format!("f{i}")).collect(),
            rec: "R".into(),
            enm: "E".into(),
            ask_param: "n".into(),
            module: None,
            path: "gen.tel".into(),
            items: p.keys(),
            row_reversed: false,
            pub_items: false,
            whitespace: false,
            comments: false,
            respell: false,
            parens: false,
        }
    }

    fn module_name(&self) -> String {
        self.module.clone().unwrap_or_else(|| {
            let file = self.path.rsplit('/').next().unwrap();
            file.strip_suffix(".tel").unwrap().to_owned()
        })
    }

    fn def_name(&self, k: Key) -> String {
        match k {
            Key::Rec => self.rec.clone(),
            Key::Enum => self.enm.clone(),
            Key::Ask => "Ask".into(),
            Key::Fn(i) => self.fns[i].clone(),
        }
    }

    fn qualified(&self, k: Key) -> String {
        format!("{}::{}", self.module_name(), self.def_name(k))
    }
}

enum Piece {
    Tok(String),
    ItemStart,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pos {
    Free,
    Operand,
    NegOperand,
    FieldBase,
    NoRecord,
}

struct Printer<'a, 's, 'd> {
    p: &'a Program,
    look: &'a Look,
    src: Option<&'s mut Src<'d>>,
    log: Vec<bool>,
    out: Vec<Piece>,
}

fn ty_text(t: Ty) -> Vec<&'static str> {
    match t {
        Ty::Int => vec!["Int"],
        Ty::Bool => vec!["Bool"],
        Ty::Str => vec!["String"],
        Ty::Dur => vec!["Duration"],
        Ty::List => vec!["List", "<", "Int", ">"],
        Ty::Rec | Ty::Enum => unreachable!("named types are printed by the printer"),
    }
}

fn atomic(e: &Expr) -> bool {
    !matches!(
        e,
        Expr::Bin(..)
            | Expr::Neg(_)
            | Expr::Not(_)
            | Expr::If(..)
            | Expr::MatchEnum { .. }
            | Expr::MatchInt { .. }
            | Expr::MatchOpt { .. }
            | Expr::MatchRec { .. }
            | Expr::Handle { .. }
            | Expr::PerformAsk(_)
    )
}

/// The text of `p` under `look`; `src` drives the random parts of the look (plain and
/// deterministic without it).
fn print(p: &Program, look: &Look, src: Option<&mut Src>) -> String {
    let mut pr = Printer { p, look, src, log: p.uses_log(), out: Vec::new() };
    pr.program();
    let Printer { out, src, .. } = pr;
    layout(&out, look, src)
}

impl Printer<'_, '_, '_> {
    fn rnd(&mut self, n: usize) -> usize {
        match &mut self.src {
            Some(s) => s.below(n),
            None => 0,
        }
    }

    fn t(&mut self, s: impl Into<String>) {
        self.out.push(Piece::Tok(s.into()));
    }

    fn ts(&mut self, toks: &[&str]) {
        for t in toks {
            self.t(*t);
        }
    }

    fn var(&mut self, v: Var) {
        let name = self.look.vars[&v].clone();
        self.t(name);
    }

    fn ty(&mut self, t: Ty) {
        match t {
            Ty::Rec => self.t(self.look.rec.clone()),
            Ty::Enum => self.t(self.look.enm.clone()),
            _ => {
                for tok in ty_text(t) {
                    self.t(tok);
                }
            }
        }
    }

    /// `,` between elements, and a trailing one now and then when the look allows.
    fn sep_list<T>(&mut self, xs: &[T], mut each: impl FnMut(&mut Self, &T), trailing_ok: bool) {
        for (i, x) in xs.iter().enumerate() {
            if i > 0 {
                self.t(",");
            }
            each(self, x);
        }
        if trailing_ok && !xs.is_empty() && self.look.whitespace && self.rnd(3) == 2 {
            self.t(",");
        }
    }

    fn opt_semicolon(&mut self) {
        if self.look.whitespace && self.rnd(2) == 1 {
            self.t(";");
        }
    }

    fn program(&mut self) {
        if let Some(m) = self.look.module.clone() {
            self.out.push(Piece::ItemStart);
            self.t("module");
            for (i, seg) in m.split("::").enumerate() {
                if i > 0 {
                    self.t("::");
                }
                self.t(seg);
            }
            self.opt_semicolon();
        }
        for k in self.look.items.clone() {
            self.out.push(Piece::ItemStart);
            if self.look.pub_items {
                self.t("pub");
            }
            match k {
                Key::Rec => {
                    self.t("type");
                    self.t(self.look.rec.clone());
                    self.ts(&["=", "{"]);
                    let order = self.p.field_order.clone();
                    self.sep_list(
                        &order,
                        |pr, &f| {
                            pr.t(pr.p.fields[f].0);
                            pr.t(":");
                            pr.ty(pr.p.fields[f].1);
                        },
                        true,
                    );
                    self.t("}");
                    self.opt_semicolon();
                }
                Key::Enum => {
                    self.t("enum");
                    self.t(self.look.enm.clone());
                    self.t("{");
                    let order = self.p.variant_order.clone();
                    self.sep_list(
                        &order,
                        |pr, &v| {
                            let (name, tys) = &pr.p.variants[v];
                            pr.t(*name);
                            if !tys.is_empty() {
                                pr.t("(");
                                pr.sep_list(tys, |pr, &t| pr.ty(t), true);
                                pr.t(")");
                            }
                        },
                        true,
                    );
                    self.t("}");
                }
                Key::Ask => {
                    self.ts(&["effect", "Ask", "("]);
                    self.t(self.look.ask_param.clone());
                    self.ts(&[":", "Int", ")", "->", "Int"]);
                    self.opt_semicolon();
                }
                Key::Fn(i) => self.func(i),
            }
        }
    }

    fn func(&mut self, i: usize) {
        let f = &self.p.fns[i];
        self.t("fn");
        self.t(self.look.fns[i].clone());
        self.t("(");
        self.sep_list(
            &f.params,
            |pr, &(v, t)| {
                pr.var(v);
                pr.t(":");
                pr.ty(t);
            },
            true,
        );
        self.ts(&[")", "->"]);
        self.ty(f.ret);
        let mut row: Vec<&str> = Vec::new();
        if self.log[i] {
            row.push("Log");
        }
        if f.emit {
            row.push("Emit");
        }
        if self.look.row_reversed {
            row.reverse();
        }
        if !row.is_empty() {
            self.ts(&["!", "{"]);
            self.sep_list(&row, |pr, r| pr.t(*r), true);
            self.t("}");
        }
        self.block(&f.body);
    }

    fn block(&mut self, b: &Block) {
        self.t("{");
        for s in &b.stmts {
            self.stmt(s);
        }
        self.expr(&b.tail, Pos::Free);
        self.t("}");
    }

    fn stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::Let { var, ty, annotated, value, .. } => {
                self.t("let");
                self.var(*var);
                if *annotated {
                    self.t(":");
                    self.ty(*ty);
                }
                self.t("=");
                self.expr(value, Pos::Free);
                self.t(";");
            }
            Stmt::Log(e) => {
                self.log_call(e);
                self.t(";");
            }
            Stmt::IfLog(c, e) => {
                self.t("if");
                self.expr(c, Pos::NoRecord);
                self.t("{");
                self.log_call(e);
                self.ts(&[";", "}"]);
            }
            Stmt::Discard(e) => {
                self.expr(e, Pos::Free);
                self.t(";");
            }
            Stmt::EmptyProbe { list, elem, len } => {
                self.t("let");
                self.var(*list);
                self.ts(&[":", "List", "<"]);
                self.ty(*elem);
                self.ts(&[">", "=", "[", "]", ";", "let"]);
                self.var(*len);
                self.ts(&["=", "len", "("]);
                self.var(*list);
                self.ts(&[")", ";"]);
            }
        }
    }

    fn log_call(&mut self, e: &Expr) {
        self.ts(&["perform", "Log", "("]);
        self.expr(e, Pos::Free);
        self.t(")");
    }

    fn expr(&mut self, e: &Expr, pos: Pos) {
        let needed = match pos {
            Pos::Free => false,
            Pos::Operand | Pos::NegOperand => !atomic(e),
            Pos::FieldBase => !atomic(e) || matches!(e, Expr::Record { .. }),
            Pos::NoRecord => matches!(e, Expr::Record { .. }),
        };
        // Includes `-(5)`, which must hash like `-5` (see `negated_literal_in_parentheses`).
        let extra = self.look.parens && self.rnd(4) == 3;
        if needed || extra {
            self.t("(");
            self.expr_inner(e);
            self.t(")");
        } else {
            self.expr_inner(e);
        }
    }

    fn args(&mut self, args: &[Expr]) {
        self.t("(");
        self.sep_list(args, |pr, a| pr.expr(a, Pos::Free), true);
        self.t(")");
    }

    fn lambda(&mut self, lam: &Lambda) {
        self.t("|");
        self.sep_list(
            &lam.params,
            |pr, &v| {
                pr.var(v);
                if lam.annotated {
                    pr.ts(&[":", "Int"]);
                }
            },
            false,
        );
        self.t("|");
        self.expr(&lam.body, Pos::Free);
    }

    fn variant_path(&mut self, v: usize, qualified: bool) {
        if qualified {
            self.t(self.look.enm.clone());
            self.t("::");
        }
        self.t(self.p.variants[v].0);
    }

    fn bind(&mut self, b: Option<Var>) {
        match b {
            Some(v) => self.var(v),
            None => self.t("_"),
        }
    }

    fn expr_inner(&mut self, e: &Expr) {
        match e {
            Expr::Int(n) => {
                let text = self.int_text(*n);
                self.t(text);
            }
            Expr::Bool(b) => self.t(if *b { "true" } else { "false" }),
            Expr::Str(s) => {
                let text = self.str_text(s);
                self.t(text);
            }
            Expr::Dur(c, u) => {
                let text = self.dur_text(*c, *u);
                self.t(text);
            }
            Expr::Var(v) => self.var(*v),
            Expr::Bin(op, a, b) => {
                self.expr(a, Pos::Operand);
                self.t(op.text());
                self.expr(b, Pos::Operand);
            }
            Expr::Neg(a) => {
                self.t("-");
                self.expr(a, Pos::NegOperand);
            }
            Expr::Not(a) => {
                self.t("!");
                self.expr(a, Pos::Operand);
            }
            Expr::Call(j, args) => {
                self.t(self.look.fns[*j].clone());
                self.args(args);
            }
            Expr::Show(a) | Expr::Len(a) => {
                self.t(if matches!(e, Expr::Show(_)) { "show" } else { "len" });
                self.args(std::slice::from_ref(a));
            }
            Expr::Map(l, lam) | Expr::Filter(l, lam) => {
                self.t(if matches!(e, Expr::Map(..)) { "map" } else { "filter" });
                self.t("(");
                self.expr(l, Pos::Free);
                self.t(",");
                self.lambda(lam);
                self.t(")");
            }
            Expr::Fold(l, init, lam) => {
                self.ts(&["fold", "("]);
                self.expr(l, Pos::Free);
                self.t(",");
                self.expr(init, Pos::Free);
                self.t(",");
                self.lambda(lam);
                self.t(")");
            }
            Expr::Field(b, f) => {
                self.expr(b, Pos::FieldBase);
                self.t(".");
                self.t(self.p.fields[*f].0);
            }
            Expr::Record { nominal, fields } => {
                if *nominal {
                    self.t(self.look.rec.clone());
                }
                self.t("{");
                self.sep_list(
                    fields,
                    |pr, (f, v)| {
                        pr.t(pr.p.fields[*f].0);
                        pr.t(":");
                        pr.expr(v, Pos::Free);
                    },
                    true,
                );
                self.t("}");
            }
            Expr::Variant { variant, args, qualified } => {
                self.variant_path(*variant, *qualified);
                if !args.is_empty() {
                    self.args(args);
                }
            }
            Expr::List(items) => {
                self.t("[");
                self.sep_list(items, |pr, a| pr.expr(a, Pos::Free), true);
                self.t("]");
            }
            Expr::If(c, a, b) => {
                self.t("if");
                self.expr(c, Pos::NoRecord);
                self.block(a);
                self.t("else");
                self.block(b);
            }
            Expr::MatchEnum { scrut, arms, qualified } => {
                self.t("match");
                self.expr(scrut, Pos::NoRecord);
                self.t("{");
                self.sep_list(
                    arms,
                    |pr, arm| {
                        pr.variant_path(arm.variant, *qualified);
                        if !arm.binds.is_empty() {
                            pr.t("(");
                            pr.sep_list(&arm.binds, |pr, b| pr.bind(*b), true);
                            pr.t(")");
                        }
                        pr.t("=>");
                        pr.expr(&arm.body, Pos::Free);
                    },
                    true,
                );
                self.t("}");
            }
            Expr::MatchInt { scrut, arms, catch, rest } => {
                self.t("match");
                self.expr(scrut, Pos::NoRecord);
                self.t("{");
                for (lit, body) in arms {
                    let text = self.int_text(*lit);
                    self.t(text);
                    self.t("=>");
                    self.expr(body, Pos::Free);
                    self.t(",");
                }
                self.bind(*catch);
                self.t("=>");
                self.expr(rest, Pos::Free);
                self.t("}");
            }
            Expr::MatchOpt { list, index, some, on_some, on_none } => {
                self.ts(&["match", "get", "("]);
                self.expr(list, Pos::Free);
                self.t(",");
                self.expr(index, Pos::Free);
                self.ts(&[")", "{", "Some", "("]);
                self.var(*some);
                self.ts(&[")", "=>"]);
                self.expr(on_some, Pos::Free);
                self.ts(&[",", "None", "=>"]);
                self.expr(on_none, Pos::Free);
                self.t("}");
            }
            Expr::MatchRec { scrut, nominal, fields, rest, body } => {
                self.t("match");
                self.expr(scrut, Pos::NoRecord);
                self.t("{");
                if *nominal {
                    self.t(self.look.rec.clone());
                }
                self.t("{");
                for (i, (f, b)) in fields.iter().enumerate() {
                    if i > 0 {
                        self.t(",");
                    }
                    self.t(self.p.fields[*f].0);
                    self.t(":");
                    self.bind(*b);
                }
                if *rest {
                    self.ts(&[",", ".."]);
                }
                self.ts(&["}", "=>"]);
                self.expr(body, Pos::Free);
                self.t("}");
            }
            Expr::Handle { body, param, kind, clause } => {
                self.t("handle");
                self.block(body);
                self.ts(&["with", "{", "Ask", "("]);
                self.var(*param);
                self.ts(&[")", "=>"]);
                match kind {
                    ClauseKind::Plain => self.expr(clause, Pos::Free),
                    ClauseKind::Resume | ClauseKind::Abort => {
                        self.t(if *kind == ClauseKind::Resume { "resume" } else { "abort" });
                        self.args(std::slice::from_ref(clause));
                    }
                }
                self.t("}");
            }
            Expr::PerformAsk(a) => {
                self.ts(&["perform", "Ask"]);
                self.args(std::slice::from_ref(a));
            }
        }
    }

    fn int_text(&mut self, n: i64) -> String {
        if !self.look.respell {
            return n.to_string();
        }
        match self.rnd(3) {
            0 => n.to_string(),
            1 => {
                let digits = format!("{n:x}");
                let digits = if self.rnd(2) == 0 { digits } else { digits.to_uppercase() };
                format!("0x{}", self.underscores(&digits))
            }
            _ => self.underscores(&n.to_string()),
        }
    }

    /// `_` between some digits, never doubled, leading or trailing.
    fn underscores(&mut self, digits: &str) -> String {
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && self.rnd(3) == 2 {
                out.push('_');
            }
            out.push(c);
        }
        out
    }

    fn str_text(&mut self, s: &str) -> String {
        let mut out = String::from("\"");
        for c in s.chars() {
            let escaped = self.look.respell && self.rnd(3) == 2;
            match c {
                _ if escaped => {
                    let hex = format!("{:x}", c as u32);
                    let zeros = self.rnd(7 - hex.len().min(6)).min(6 - hex.len());
                    out.push_str(&format!("\\u{{{}{hex}}}", "0".repeat(zeros)));
                }
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    fn dur_text(&mut self, count: i64, unit: DurUnit) -> String {
        let ms = count * unit_ms(unit);
        if !self.look.respell {
            let name = UNITS.iter().find(|u| u.0 == unit).unwrap().1;
            return format!("{count}{name}");
        }
        let fitting: Vec<(i64, &str)> =
            UNITS.iter().filter(|u| ms % u.2 == 0).map(|u| (ms / u.2, u.1)).collect();
        let (c, name) = fitting[self.rnd(fitting.len())];
        format!("{}{name}", self.underscores(&c.to_string()))
    }
}

const LINE_COMMENTS: [&str; 8] = [
    "// note",
    "// fn f() -> Int { 1 }",
    "//",
    "/// a doc comment where it documents nothing",
    "//// four slashes: an ordinary comment",
    "// /* not a block comment",
    "// \"quoted\" and é ∑",
    "// #abcd1234 let x = 2;",
];
const BLOCK_COMMENTS: [&str; 5] = [
    "/* block */",
    "/* a /* nested */ block */",
    "/**/",
    "/* // line inside block\n spanning lines */",
    "/* é ∑ \"q\" { } */",
];
const DOC_COMMENTS: [&str; 4] =
    ["/// Documentation.", "/// `code` and *emphasis*", "///", "/// é ∑ /* not a block"];

/// Joins pieces: plainly (indented, one statement per line), or with random whitespace and
/// comments between tokens when the look asks for them.
fn layout(pieces: &[Piece], look: &Look, src: Option<&mut Src>) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut prev: Option<&str> = None;
    let mut item_start = false;
    let mut src = src;
    let mut rnd = |n: usize| match &mut src {
        Some(s) => s.below(n),
        None => 0,
    };
    for piece in pieces {
        let tok = match piece {
            Piece::ItemStart => {
                item_start = true;
                continue;
            }
            Piece::Tok(t) => t.as_str(),
        };
        if tok == "}" {
            depth = depth.saturating_sub(1);
        }
        if let Some(p) = prev {
            let plain = if item_start {
                "\n\n".to_owned()
            } else if p == "{" || p == ";" || tok == "}" {
                format!("\n{}", "    ".repeat(depth))
            } else {
                " ".to_owned()
            };
            let sep = if look.whitespace { random_gap(p, tok, &mut rnd) } else { plain };
            out.push_str(&sep);
        }
        if look.comments {
            if item_start && rnd(2) == 1 {
                for _ in 0..1 + rnd(2) {
                    out.push_str(DOC_COMMENTS[rnd(DOC_COMMENTS.len())]);
                    out.push('\n');
                }
            } else if prev.is_some() && rnd(6) == 5 {
                // a space first: glued to a `/`, a comment would start earlier
                out.push(' ');
                if rnd(2) == 1 {
                    out.push_str(LINE_COMMENTS[rnd(LINE_COMMENTS.len())]);
                    out.push_str(if rnd(3) == 2 { "\r\n" } else { "\n" });
                } else {
                    out.push_str(BLOCK_COMMENTS[rnd(BLOCK_COMMENTS.len())]);
                    out.push(' ');
                }
            }
        }
        item_start = false;
        out.push_str(tok);
        if tok == "{" {
            depth += 1;
        }
        prev = Some(tok);
    }
    if look.comments {
        out.push_str("\n// the end, without a newline after it");
    } else {
        out.push('\n');
    }
    out
}

fn random_gap(prev: &str, next: &str, rnd: &mut dyn FnMut(usize) -> usize) -> String {
    const GLUE: [&str; 8] = ["(", ")", "[", "]", "{", "}", ",", ";"];
    match rnd(8) {
        1 => "\n".into(),
        2 => format!("\n{}", " ".repeat(rnd(12))),
        3 => "\t".into(),
        4 => "  ".into(),
        5 => "\r\n\t".into(),
        6 | 7 if (GLUE.contains(&prev) || GLUE.contains(&next)) => String::new(),
        _ => " ".into(),
    }
}

// ---------------------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------------------

type Defs = BTreeMap<String, (DefKind, Option<CodeHash>)>;

struct Checked {
    defs: Defs,
    errors: Vec<String>,
}

fn cancelled<T>(r: tel_ide::Cancellable<T>) -> T {
    r.expect("nothing edits the host while a snapshot is queried")
}

/// Every definition of `files`, by qualified name, with its kind and hash.
fn defs_of(analysis: &Analysis, files: &[FileId]) -> Defs {
    let mut out = Defs::new();
    for &file in files {
        for d in cancelled(analysis.definitions(file)) {
            out.insert(d.qualified(), (d.kind, d.hash));
        }
    }
    out
}

fn errors_of(analysis: &Analysis, files: &[FileId]) -> Vec<String> {
    let mut out = Vec::new();
    for &file in files {
        let index = analysis.line_index(file);
        for d in cancelled(analysis.diagnostics(file)) {
            if d.severity == Severity::Error {
                out.push(format!(
                    "{}:{}: {} {}",
                    analysis.file_path(file).display(),
                    index.human(d.range.start()),
                    d.code,
                    d.message
                ));
            }
        }
    }
    out
}

fn check_files(root: Option<PathBuf>, files: Vec<(PathBuf, String)>) -> Checked {
    let mut host = AnalysisHost::default();
    let ids = host.add_project(root, files);
    let analysis = host.analysis();
    Checked { defs: defs_of(&analysis, &ids), errors: errors_of(&analysis, &ids) }
}

/// The hashes of a generated program's definitions, or why it has none.
fn hashes_from(
    p: &Program,
    look: &Look,
    text: &str,
    c: &Checked,
) -> Result<BTreeMap<Key, CodeHash>, String> {
    if !c.errors.is_empty() {
        return Err(format!("errors:\n{}\n--- program ---\n{text}", c.errors.join("\n")));
    }
    let mut out = BTreeMap::new();
    for k in p.keys() {
        let q = look.qualified(k);
        match c.defs.get(&q) {
            Some((_, Some(h))) => {
                out.insert(k, *h);
            }
            Some((_, None)) => return Err(format!("`{q}` has no hash\n--- program ---\n{text}")),
            None => return Err(format!("`{q}` is not defined\n--- program ---\n{text}")),
        }
    }
    Ok(out)
}

fn hash_program(p: &Program, look: &Look, text: &str) -> Result<BTreeMap<Key, CodeHash>, String> {
    let c = check_files(None, vec![(PathBuf::from(&look.path), text.to_owned())]);
    hashes_from(p, look, text, &c)
}

/// The generated program, printed plainly and checked: a failure here is a generator bug.
fn base_program(
    data: &[u16],
) -> Result<(Program, Look, String, BTreeMap<Key, CodeHash>), TestCaseError> {
    let mut s = Src::new(data);
    let p = generate(&mut s);
    let look = Look::base(&p, &mut s);
    let text = print(&p, &look, None);
    let hashes = hash_program(&p, &look, &text)
        .map_err(|e| TestCaseError::fail(format!("generated program does not check: {e}")))?;
    Ok((p, look, text, hashes))
}

// ---------------------------------------------------------------------------------------
// Transformations that keep the meaning
// ---------------------------------------------------------------------------------------

type Transform = fn(&Program, &Look, &mut Src) -> (Program, Look);

const TRANSFORMS: [(&str, Transform); 10] = [
    ("rename locals and parameters", |p, l, s| {
        let mut l = l.clone();
        l.vars = name_locals(p, s, &RENAMED_LOCAL_POOL, "r");
        l.ask_param = s.pick(&["k", "amount", "n"]).to_string();
        (p.clone(), l)
    }),
    ("rename definitions", |p, l, s| {
        let mut l = l.clone();
        let mut pool = FN_POOL.to_vec();
        s.shuffle(&mut pool);
        l.fns = pool[..p.fns.len()].iter().map(|n| n.to_string()).collect();
        l.rec = s.pick(&REC_POOL).to_string();
        l.enm = s.pick(&ENUM_POOL).to_string();
        (p.clone(), l)
    }),
    ("reformat", |p, l, _| (p.clone(), Look { whitespace: true, ..l.clone() })),
    ("comments and doc comments", |p, l, _| (p.clone(), Look { comments: true, ..l.clone() })),
    ("permute record literal and pattern fields", |p, l, s| {
        let mut p = p.clone();
        visit_program_mut(&mut p, &mut |_, n| match n {
            NodeMut::Expr(Expr::Record { fields, .. }) => s.shuffle(fields),
            NodeMut::Expr(Expr::MatchRec { fields, .. }) => s.shuffle(fields),
            _ => {}
        });
        (p, l.clone())
    }),
    ("permute record type fields", |p, l, s| {
        let mut p = p.clone();
        s.shuffle(&mut p.field_order);
        (p, l.clone())
    }),
    ("respell literals", |p, l, _| (p.clone(), Look { respell: true, ..l.clone() })),
    ("reorder items, change module and path", |p, l, s| {
        let mut l = l.clone();
        s.shuffle(&mut l.items);
        l.module =
            s.pick(&[None, Some("m"), Some("gen::sub"), Some("other_mod")]).map(str::to_owned);
        l.path = s.pick(&["gen.tel", "src/nested/program.tel", "other.tel"]).to_string();
        (p.clone(), l)
    }),
    ("redundant parentheses", |p, l, _| (p.clone(), Look { parens: true, ..l.clone() })),
    ("optional annotations, qualification, row order, pub", |p, l, s| {
        let mut p = p.clone();
        visit_program_mut(&mut p, &mut |_, n| match n {
            NodeMut::Stmt(Stmt::Let { annotated, toggleable: true, .. }) => {
                *annotated = s.coin(1, 2)
            }
            NodeMut::Expr(e) => match e {
                Expr::Map(_, lam) | Expr::Filter(_, lam) | Expr::Fold(_, _, lam) => {
                    lam.annotated = s.coin(1, 2)
                }
                Expr::Variant { qualified, .. } | Expr::MatchEnum { qualified, .. } => {
                    *qualified = s.coin(1, 2)
                }
                _ => {}
            },
            _ => {}
        });
        let l = Look { row_reversed: s.coin(1, 2), pub_items: s.coin(1, 2), ..l.clone() };
        (p, l)
    }),
];

fn assert_same_hashes(
    what: &str,
    p: &Program,
    before: &BTreeMap<Key, CodeHash>,
    p2: &Program,
    look2: &Look,
    base_text: &str,
    text2: &str,
) -> Result<(), TestCaseError> {
    let after = hash_program(p2, look2, text2)
        .map_err(|e| TestCaseError::fail(format!("after `{what}`: {e}")))?;
    for k in p.keys() {
        if before[&k] != after[&k] {
            return Err(TestCaseError::fail(format!(
                "`{what}` changed the hash of {k:?} (`{}`)\n--- before ---\n{base_text}\n--- after ---\n{text2}",
                look2.qualified(k)
            )));
        }
    }
    Ok(())
}

fn check_preserving(prog: &[u16], tf: &[u16]) -> Result<(), TestCaseError> {
    let (p, look, text, before) = base_program(prog)?;
    let mut s = Src::new(tf);
    // each transformation alone, then all of them together
    for (what, t) in TRANSFORMS {
        let (p2, l2) = t(&p, &look, &mut s);
        let text2 = print(&p2, &l2, Some(&mut s));
        assert_same_hashes(what, &p, &before, &p2, &l2, &text, &text2)?;
    }
    let (mut p2, mut l2) = (p.clone(), look.clone());
    for (_, t) in TRANSFORMS {
        (p2, l2) = t(&p2, &l2, &mut s);
    }
    let text2 = print(&p2, &l2, Some(&mut s));
    assert_same_hashes("all transformations", &p, &before, &p2, &l2, &text, &text2)
}

// ---------------------------------------------------------------------------------------
// Mutations that change the meaning
// ---------------------------------------------------------------------------------------

struct Mutation {
    what: &'static str,
    prog: Program,
    /// The definitions edited; they and their transitive dependents must change.
    seeds: BTreeSet<Key>,
}

/// The `k`-th node (pre-order, over all functions) for which `f` returns true; `f` then
/// gets to mutate it. Returns the function it is in.
fn mutate_nth(
    p: &mut Program,
    k: usize,
    f: &mut dyn FnMut(&mut NodeMut<'_>, bool) -> bool,
) -> Option<usize> {
    let mut seen = 0;
    let mut hit = None;
    visit_program_mut(p, &mut |i, mut n| {
        if hit.is_some() {
            return;
        }
        if f(&mut n, false) {
            if seen == k {
                f(&mut n, true);
                hit = Some(i);
            }
            seen += 1;
        }
    });
    hit
}

fn count_sites(p: &Program, f: &mut dyn FnMut(&mut NodeMut<'_>, bool) -> bool) -> usize {
    let mut p = p.clone();
    let mut n = 0;
    visit_program_mut(&mut p, &mut |_, mut node| {
        if f(&mut node, false) {
            n += 1;
        }
    });
    n
}

/// A mutation at a site chosen by `s` among those `f` accepts.
fn at_random_site(
    what: &'static str,
    p: &Program,
    s: &mut Src,
    f: &mut dyn FnMut(&mut NodeMut<'_>, bool) -> bool,
) -> Option<Mutation> {
    let n = count_sites(p, f);
    if n == 0 {
        return None;
    }
    let k = s.below(n);
    let mut prog = p.clone();
    let i = mutate_nth(&mut prog, k, f)?;
    Some(Mutation { what, prog, seeds: BTreeSet::from([Key::Fn(i)]) })
}

fn bump(n: i64) -> i64 {
    if n == i64::MAX { n - 1 } else { n + 1 }
}

/// A block printed with its own binders renamed by position, annotations on, fields sorted:
/// equal for alpha-equivalent blocks with one normalized form.
fn canonical(p: &Program, look: &Look, b: &Block) -> String {
    let mut b = b.clone();
    let mut own = Vec::new();
    block_mut(&mut b, &mut |n| match n {
        NodeMut::Stmt(Stmt::Let { var, annotated, .. }) => {
            own.push(*var);
            *annotated = true;
        }
        NodeMut::Stmt(Stmt::EmptyProbe { list, len, .. }) => own.extend([*list, *len]),
        NodeMut::Expr(e) => match e {
            Expr::Map(_, lam) | Expr::Filter(_, lam) | Expr::Fold(_, _, lam) => {
                lam.annotated = true;
                own.extend(lam.params.iter().copied());
            }
            Expr::Record { fields, .. } => fields.sort_by_key(|f| f.0),
            Expr::MatchRec { fields, .. } => {
                fields.sort_by_key(|f| f.0);
                own.extend(fields.iter().filter_map(|f| f.1));
            }
            Expr::Variant { qualified, .. } => *qualified = false,
            Expr::MatchEnum { arms, qualified, .. } => {
                *qualified = false;
                own.extend(arms.iter().flat_map(|a| a.binds.iter().flatten().copied()));
            }
            Expr::MatchInt { catch: Some(v), .. } => own.push(*v),
            Expr::MatchOpt { some, .. } => own.push(*some),
            Expr::Handle { param, .. } => own.push(*param),
            Expr::Dur(c, u) => {
                *c *= unit_ms(*u);
                *u = DurUnit::Ms;
            }
            _ => {}
        },
        _ => {}
    });
    let mut look = look.clone();
    for (i, v) in own.into_iter().enumerate() {
        look.vars.insert(v, format!("c{i}"));
    }
    let mut pr = Printer { p, look: &look, src: None, log: p.uses_log(), out: Vec::new() };
    pr.block(&b);
    pr.out
        .iter()
        .filter_map(|x| match x {
            Piece::Tok(t) => Some(t.as_str()),
            Piece::ItemStart => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn mutations(
    p: &Program,
    look: &Look,
    base: &BTreeMap<Key, CodeHash>,
    s: &mut Src,
) -> Vec<Mutation> {
    let mut out = Vec::new();
    out.extend(at_random_site("change a literal", p, s, &mut |n, apply| match n {
        NodeMut::Expr(e) => match e {
            Expr::Int(v) => {
                if apply {
                    *v = bump(*v);
                }
                true
            }
            Expr::Bool(b) => {
                if apply {
                    *b = !*b;
                }
                true
            }
            Expr::Str(x) => {
                if apply {
                    x.push('!');
                }
                true
            }
            Expr::Dur(c, _) => {
                if apply {
                    *c += 1;
                }
                true
            }
            Expr::MatchInt { arms, .. } => {
                if apply {
                    arms[0].0 = bump(arms[0].0);
                }
                true
            }
            _ => false,
        },
        _ => false,
    }));
    out.extend(at_random_site("swap an operator", p, s, &mut |n, apply| match n {
        NodeMut::Expr(Expr::Bin(op, ..)) => match op.swapped() {
            Some(o) => {
                if apply {
                    *op = o;
                }
                true
            }
            None => false,
        },
        _ => false,
    }));
    out.extend(at_random_site("change a type annotation", p, s, &mut |n, apply| match n {
        NodeMut::Stmt(Stmt::EmptyProbe { elem, .. }) => {
            if apply {
                let i = PROBE_ELEMS.iter().position(|t| t == elem).unwrap();
                *elem = PROBE_ELEMS[(i + 1) % PROBE_ELEMS.len()];
            }
            true
        }
        _ => false,
    }));
    // a callee swapped for another function of the same signature (and another hash;
    // called earlier, so the call graph stays a DAG)
    let sigs: Vec<_> = p.fns.iter().map(Func::sig).collect();
    for i in 0..p.fns.len() {
        let mut sites = 0;
        let mut prog = p.clone();
        let alternatives = |j: usize| -> Vec<usize> {
            (0..i)
                .filter(|&k| k != j && sigs[k] == sigs[j] && base[&Key::Fn(k)] != base[&Key::Fn(j)])
                .collect()
        };
        block_mut(&mut prog.fns[i].body, &mut |n| {
            if let NodeMut::Expr(Expr::Call(j, _)) = n
                && !alternatives(*j).is_empty()
            {
                sites += 1;
            }
        });
        if sites == 0 {
            continue;
        }
        let mut k = s.below(sites);
        let choice = s.below(8);
        block_mut(&mut prog.fns[i].body, &mut |n| {
            if let NodeMut::Expr(Expr::Call(j, _)) = n {
                let alts = alternatives(*j);
                if !alts.is_empty() {
                    if k == 0 {
                        *j = alts[choice % alts.len()];
                    }
                    k = k.wrapping_sub(1);
                }
            }
        });
        out.push(Mutation { what: "swap a callee", prog, seeds: BTreeSet::from([Key::Fn(i)]) });
        break;
    }
    // an effect added to a row (and to the rows of its callers, which must cover it);
    // read backwards, the same pair is the removal of an effect
    let f = s.below(p.fns.len());
    let mut prog = p.clone();
    let mut seeds = BTreeSet::new();
    for i in p.callers_closure(f) {
        prog.fns[i].emit = true;
        seeds.insert(Key::Fn(i));
    }
    out.push(Mutation { what: "add an effect", prog, seeds });
    out.extend(at_random_site("swap if branches", p, s, &mut |n, apply| match n {
        NodeMut::Expr(Expr::If(_, a, b)) if canonical(p, look, a) != canonical(p, look, b) => {
            if apply {
                std::mem::swap(a, b);
            }
            true
        }
        _ => false,
    }));
    let mut prog = p.clone();
    let q = s.below(prog.variant_order.len() - 1);
    prog.variant_order.swap(q, q + 1);
    out.push(Mutation { what: "reorder enum variants", prog, seeds: BTreeSet::from([Key::Enum]) });
    out
}

fn changed_keys(
    before: &BTreeMap<Key, CodeHash>,
    after: &BTreeMap<Key, CodeHash>,
) -> BTreeSet<Key> {
    before.keys().filter(|k| before[*k] != after[*k]).copied().collect()
}

fn check_changing(prog: &[u16], mu: &[u16]) -> Result<(), TestCaseError> {
    let (p, look, text, before) = base_program(prog)?;
    let mut s = Src::new(mu);
    for m in mutations(&p, &look, &before, &mut s) {
        let text2 = print(&m.prog, &look, None);
        let after = hash_program(&m.prog, &look, &text2)
            .map_err(|e| TestCaseError::fail(format!("after `{}`: {e}", m.what)))?;
        let changed = changed_keys(&before, &after);
        let lower = m.prog.closure(&m.seeds, false);
        let upper = m.prog.closure(&m.seeds, true);
        if !(lower.is_subset(&changed) && changed.is_subset(&upper)) {
            return Err(TestCaseError::fail(format!(
                "`{}` of {:?}: changed {changed:?}, expected at least {lower:?} and at most {upper:?}\n--- before ---\n{text}\n--- after ---\n{text2}",
                m.what, m.seeds
            )));
        }
    }
    Ok(())
}

/// A change to one function's body: a new first statement `let fresh_local = 7;`.
fn touch(p: &Program, look: &Look, f: usize) -> (Program, Look) {
    let mut p = p.clone();
    let mut look = look.clone();
    let var = p.next_var;
    p.next_var += 1;
    look.vars.insert(var, "fresh_local".into());
    let stmt =
        Stmt::Let { var, ty: Ty::Int, annotated: false, toggleable: true, value: Expr::Int(7) };
    p.fns[f].body.stmts.insert(0, stmt);
    (p, look)
}

fn check_callee_change(prog: &[u16]) -> Result<(), TestCaseError> {
    let (p, look, text, before) = base_program(prog)?;
    for f in 0..p.fns.len() {
        let (p2, l2) = touch(&p, &look, f);
        let text2 = print(&p2, &l2, None);
        let after = hash_program(&p2, &l2, &text2).map_err(TestCaseError::fail)?;
        let changed = changed_keys(&before, &after);
        let expected: BTreeSet<Key> = p.callers_closure(f).into_iter().map(Key::Fn).collect();
        prop_assert_eq!(
            &changed,
            &expected,
            "a change to `{}` must change exactly its transitive callers\n--- before ---\n{}\n--- after ---\n{}",
            look.fns[f],
            text,
            text2
        );
    }
    Ok(())
}

fn check_determinism(prog: &[u16], mu: &[u16]) -> Result<(), TestCaseError> {
    let (p, look, text, _) = base_program(prog)?;
    let path = PathBuf::from(&look.path);
    let files = vec![(path.clone(), text.clone())];
    let fresh = |text: &str| check_files(None, vec![(path.clone(), text.to_owned())]).defs;
    let first = fresh(&text);
    prop_assert_eq!(&first, &fresh(&text), "two fresh hosts disagree\n{}", text);

    // one host: the program twice (two projects), then an edit and its revert
    let mut host = AnalysisHost::default();
    let ids = host.add_project(None, files.clone());
    let twin = host.add_project(None, files);
    prop_assert_eq!(&defs_of(&host.analysis(), &ids), &first);
    prop_assert_eq!(&defs_of(&host.analysis(), &twin), &first);
    let mut s = Src::new(mu);
    let before = hash_program(&p, &look, &text).map_err(TestCaseError::fail)?;
    let mut edits: Vec<String> = mutations(&p, &look, &before, &mut s)
        .into_iter()
        .map(|m| print(&m.prog, &look, None))
        .collect();
    let (p2, l2) = TRANSFORMS[2].1(&p, &look, &mut s);
    edits.push(print(&p2, &l2, Some(&mut s)));
    let e = s.below(edits.len());
    let edited = edits.swap_remove(e);
    host.set_file_text(ids[0], edited.clone());
    // the incremental answer after an edit is the fresh one
    prop_assert_eq!(&defs_of(&host.analysis(), &ids), &fresh(&edited), "after an edit\n{}", edited);
    prop_assert_eq!(&defs_of(&host.analysis(), &twin), &first, "the other project moved");
    host.set_file_text(ids[0], text.clone());
    prop_assert_eq!(&defs_of(&host.analysis(), &ids), &first, "edit and revert\n{}", text);
    Ok(())
}

/// Runs a property for proptest's default number of cases (`PROPTEST_CASES`, 256 unless
/// set) capped at `cap`, so that this file stays well under a minute in debug builds on two
/// cores. (The `proptest!` macro would re-read `PROPTEST_CASES` over any cap.) Failures are
/// reported with the shrunk input in the panic message; no regression files are written.
fn run_property<S: Strategy>(
    cap: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let default = ProptestConfig::default();
    let config =
        ProptestConfig { cases: default.cases.min(cap), failure_persistence: None, ..default };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    if let Err(e) = runner.run(&strategy, test) {
        panic!("{e}");
    }
}

fn choices() -> impl Strategy<Value = Vec<u16>> {
    prop::collection::vec(any::<u16>(), 0..400)
}

/// Choices for transformations and layouts, which consume one or more per token.
fn long_choices() -> impl Strategy<Value = Vec<u16>> {
    prop::collection::vec(any::<u16>(), 0..3000)
}

/// Renaming locals, parameters and definitions, reformatting, comments and doc comments,
/// permuting record fields (literals, patterns, the type), respelling literals, reordering
/// items, module and path, redundant parentheses, optional annotations: no hash moves.
#[test]
fn preserving_transformations_keep_every_hash() {
    run_property(40, (choices(), long_choices()), |(prog, tf)| check_preserving(&prog, &tf));
}

/// Literal, operator, type annotation, callee, effect, branch order, variant order: the
/// edited definitions and their transitive dependents change, nothing else.
#[test]
fn changes_change_exactly_the_dependents() {
    run_property(40, (choices(), choices()), |(prog, mu)| check_changing(&prog, &mu));
}

/// A change to any function changes exactly it and its transitive callers.
#[test]
fn callee_change_reaches_exactly_the_transitive_callers() {
    run_property(40, choices(), |prog| check_callee_change(&prog));
}

/// Fresh hosts, two projects in one host, an edit and its revert: one answer.
#[test]
fn hashes_are_deterministic() {
    run_property(24, (choices(), long_choices()), |(prog, mu)| check_determinism(&prog, &mu));
}

#[test]
fn generator_covers_the_language() {
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for seed in 0..48 {
        let data = seeded(seed, 400);
        let mut s = Src::new(&data);
        let p = generate(&mut s);
        let look = Look::base(&p, &mut s);
        let text = print(&p, &look, None);
        let hashes = hash_program(&p, &look, &text)
            .unwrap_or_else(|e| panic!("generated program {seed} does not check: {e}"));
        let mut note = |what| *seen.entry(what).or_default() += 1;
        let mu = seeded(seed + 1, 400);
        for m in mutations(&p, &look, &hashes, &mut Src::new(&mu)) {
            note(m.what);
        }
        note("program");
        if p.fns.len() > 2 {
            note("3+ functions");
        }
        if p.uses_log().iter().any(|l| *l) {
            note("Log in a row");
        }
        for (i, f) in p.fns.iter().enumerate() {
            let names: Vec<&String> = binders(f).iter().map(|v| &look.vars[v]).collect();
            if names.iter().collect::<BTreeSet<_>>().len() < names.len() {
                note("shadowing");
            }
            visit_block(&f.body, &mut |n| {
                note(match n {
                    Node::Stmt(Stmt::Let { annotated: true, .. }) => "annotated let",
                    Node::Stmt(Stmt::Let { annotated: false, .. }) => "let",
                    Node::Stmt(Stmt::Log(_)) => "perform Log",
                    Node::Stmt(Stmt::IfLog(..)) => "if without else",
                    Node::Stmt(Stmt::Discard(_)) => "discarded call",
                    Node::Stmt(Stmt::EmptyProbe { .. }) => "empty list",
                    Node::Expr(e) => match e {
                        Expr::Int(_) => "int",
                        Expr::Bool(_) => "bool",
                        Expr::Str(_) => "string",
                        Expr::Dur(..) => "duration",
                        Expr::Var(_) => "local",
                        Expr::Bin(..) => "binary",
                        Expr::Neg(_) => "negation",
                        Expr::Not(_) => "not",
                        Expr::Call(j, _) if *j == i => "recursion",
                        Expr::Call(..) => "call",
                        Expr::Show(_) => "show",
                        Expr::Len(_) => "len",
                        Expr::Map(..) => "map",
                        Expr::Filter(..) => "filter",
                        Expr::Fold(..) => "fold",
                        Expr::Field(..) => "field",
                        Expr::Record { nominal: true, .. } => "record literal",
                        Expr::Record { nominal: false, .. } => "anonymous record",
                        Expr::Variant { .. } => "variant",
                        Expr::List(_) => "list",
                        Expr::If(..) => "if",
                        Expr::MatchEnum { .. } => "match enum",
                        Expr::MatchInt { .. } => "match int",
                        Expr::MatchOpt { .. } => "match option",
                        Expr::MatchRec { .. } => "match record",
                        Expr::Handle { kind: ClauseKind::Resume, .. } => "handle/resume",
                        Expr::Handle { kind: ClauseKind::Abort, .. } => "handle/abort",
                        Expr::Handle { kind: ClauseKind::Plain, .. } => "handle",
                        Expr::PerformAsk(_) => "perform Ask",
                    },
                })
            });
        }
    }
    let all = [
        "3+ functions",
        "Log in a row",
        "shadowing",
        "annotated let",
        "let",
        "perform Log",
        "if without else",
        "discarded call",
        "empty list",
        "int",
        "bool",
        "string",
        "duration",
        "local",
        "binary",
        "negation",
        "not",
        "recursion",
        "call",
        "show",
        "len",
        "map",
        "filter",
        "fold",
        "field",
        "record literal",
        "anonymous record",
        "variant",
        "list",
        "if",
        "match enum",
        "match int",
        "match option",
        "match record",
        "handle/resume",
        "handle/abort",
        "handle",
        "perform Ask",
    ];
    let mut missing: Vec<&str> = all.iter().copied().filter(|w| !seen.contains_key(w)).collect();
    // every mutation applies in at least a third of the programs
    for what in [
        "change a literal",
        "swap an operator",
        "change a type annotation",
        "swap a callee",
        "add an effect",
        "swap if branches",
        "reorder enum variants",
    ] {
        if seen.get(what).copied().unwrap_or(0) < 16 {
            missing.push(what);
        }
    }
    assert!(missing.is_empty(), "48 generated programs never contain {missing:?}; seen {seen:?}");
}

/// Found by the parentheses transformation: the lowering folded `-5` into the literal `-5`
/// (so that `-9223372036854775808` can be written) but kept `-(5)` as a negation, so
/// redundant parentheses changed the hash. Fixed in tel-hir's lowering.
#[test]
fn negated_literal_in_parentheses() {
    let text = "fn a() -> Int { -5 }\nfn b() -> Int { -(5) }\n";
    let c = check_files(None, vec![(PathBuf::from("neg.tel"), text.to_owned())]);
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    assert_eq!(c.defs["neg::a"].1, c.defs["neg::b"].1);
}

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

struct Fixture {
    /// `valid/lists.tel` or `projects/exchange`.
    name: String,
    root: Option<PathBuf>,
    /// Paths relative to the workspace, so that nothing depends on where it is checked out.
    files: Vec<(PathBuf, String)>,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

/// Every valid fixture file alone, and every fixture project but `cyclic_use` (an error
/// case), with its modules found as the CLI finds them.
fn fixtures() -> Vec<Fixture> {
    let ws = workspace();
    let rel = |p: &Path| p.strip_prefix(&ws).expect("inside the workspace").to_path_buf();
    let read = |p: &Path| std::fs::read_to_string(p).expect("readable fixture");
    let mut out = Vec::new();
    let mut valid: Vec<PathBuf> = std::fs::read_dir(ws.join("fixtures/valid"))
        .expect("fixtures/valid")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tel"))
        .collect();
    valid.sort();
    for path in valid {
        let name = format!("valid/{}", path.file_name().unwrap().to_string_lossy());
        out.push(Fixture { name, root: None, files: vec![(rel(&path), read(&path))] });
    }
    let mut projects: Vec<PathBuf> = std::fs::read_dir(ws.join("fixtures/projects"))
        .expect("fixtures/projects")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("cyclic_use"))
        .collect();
    projects.sort();
    for dir in projects {
        let spec = tel_ide::project::project_at(&dir).expect("fixture project");
        let files = spec.files.iter().map(|f| (rel(f), read(f))).collect();
        let name = format!("projects/{}", dir.file_name().unwrap().to_string_lossy());
        out.push(Fixture { name, root: Some(rel(&dir)), files });
    }
    assert!(out.len() >= 18, "expected 16 valid fixtures and 2 projects, found {}", out.len());
    out
}

/// What a definition depends on, read back from the canonical bytes the engine hashed:
/// `definite` edges name one definition; `possible` ones also go to every definition
/// sharing a referenced hash (identical definitions cannot be told apart by hash).
struct Graph {
    definite: BTreeMap<String, BTreeSet<String>>,
    possible: BTreeMap<String, BTreeSet<String>>,
}

struct Base {
    defs: Defs,
    /// Per file: each definition's qualified name and range.
    ranges: Vec<Vec<(String, TextRange)>>,
    graph: Graph,
}

fn analyse_fixture(fx: &Fixture) -> Base {
    let mut host = AnalysisHost::default();
    let ids = host.add_project(fx.root.clone(), fx.files.clone());
    let analysis = host.analysis();
    let errors = errors_of(&analysis, &ids);
    assert!(errors.is_empty(), "{} does not check:\n{}", fx.name, errors.join("\n"));
    let defs = defs_of(&analysis, &ids);
    let mut ranges = Vec::new();
    let mut hashed = Vec::new();
    for &file in &ids {
        let mut rs = Vec::new();
        for d in cancelled(analysis.definitions(file)) {
            let member = cancelled(analysis.hashed(file, &d.name))
                .unwrap_or_else(|| panic!("{}: `{}` has no hash", fx.name, d.qualified()));
            assert_eq!(Some(member.hash), d.hash, "hashed() and definitions() disagree");
            rs.push((d.qualified(), d.range));
            hashed.push((d.qualified(), member.hash, member.bytes.clone()));
        }
        ranges.push(rs);
    }
    Base { defs, ranges, graph: dep_graph(&fx.name, &hashed) }
}

fn dep_graph(name: &str, hashed: &[(String, CodeHash, Vec<u8>)]) -> Graph {
    let mut by_hash: HashMap<CodeHash, Vec<&str>> = HashMap::new();
    for (q, h, _) in hashed {
        by_hash.entry(*h).or_default().push(q);
    }
    let mut definite: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut possible: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (q, _, bytes) in hashed {
        let core = tel_hash::decode(bytes)
            .unwrap_or_else(|e| panic!("{name}: canonical bytes of `{q}` do not decode: {e}"));
        let d = definite.entry(q.clone()).or_default();
        let p = possible.entry(q.clone()).or_default();
        // hashes of no project definition are the prelude's
        for h in tel_hash::hash_deps(&core) {
            match by_hash.get(&h).map(Vec::as_slice) {
                Some([one]) => {
                    d.insert(one.to_string());
                    p.insert(one.to_string());
                }
                Some(many) => p.extend(many.iter().map(|s| s.to_string())),
                None => {}
            }
        }
    }
    // Members of a component refer to each other by index, not hash: find the components
    // from the hashes themselves (docs/hashing.md, "Components").
    for comp in components(name, hashed) {
        for &a in &comp {
            for &b in &comp {
                if a != b {
                    definite.get_mut(&hashed[a].0).unwrap().insert(hashed[b].0.clone());
                    possible.get_mut(&hashed[a].0).unwrap().insert(hashed[b].0.clone());
                }
            }
        }
    }
    Graph { definite, possible }
}

/// Groups the definitions that are component members (their hash is not the hash of their
/// bytes alone) into components: the ordered sets whose component hash gives each member's
/// hash as `member_hash(component, i)`.
fn components(name: &str, hashed: &[(String, CodeHash, Vec<u8>)]) -> Vec<Vec<usize>> {
    let mut left: Vec<usize> =
        (0..hashed.len()).filter(|&i| tel_hash::hash_bytes(&hashed[i].2) != hashed[i].1).collect();
    assert!(left.len() <= 16, "{name}: too many component members to group by search");
    let fits = |order: &[usize]| {
        let bytes: Vec<&Vec<u8>> = order.iter().map(|&i| &hashed[i].2).collect();
        let comp = tel_hash::component_hash(&bytes);
        order
            .iter()
            .enumerate()
            .all(|(k, &i)| tel_hash::member_hash(&comp, k as u32) == hashed[i].1)
    };
    fn permutations(xs: &[usize], f: &mut dyn FnMut(&[usize]) -> bool) -> bool {
        fn go(
            prefix: &mut Vec<usize>,
            rest: &mut Vec<usize>,
            f: &mut dyn FnMut(&[usize]) -> bool,
        ) -> bool {
            if rest.is_empty() {
                return f(prefix);
            }
            for i in 0..rest.len() {
                let x = rest.remove(i);
                prefix.push(x);
                let done = go(prefix, rest, f);
                prefix.pop();
                rest.insert(i, x);
                if done {
                    return true;
                }
            }
            false
        }
        go(&mut Vec::new(), &mut xs.to_vec(), f)
    }
    fn subsets(xs: &[usize], size: usize) -> Vec<Vec<usize>> {
        if size == 0 {
            return vec![Vec::new()];
        }
        let mut out = Vec::new();
        for (i, &x) in xs.iter().enumerate() {
            for mut s in subsets(&xs[i + 1..], size - 1) {
                s.insert(0, x);
                out.push(s);
            }
        }
        out
    }
    let mut out = Vec::new();
    'search: while !left.is_empty() {
        for size in 1..=left.len().min(4) {
            for subset in subsets(&left, size) {
                let mut found = None;
                permutations(&subset, &mut |order| {
                    let ok = fits(order);
                    if ok {
                        found = Some(order.to_vec());
                    }
                    ok
                });
                if let Some(order) = found {
                    left.retain(|i| !order.contains(i));
                    out.push(order);
                    continue 'search;
                }
            }
        }
        let names: Vec<&str> = left.iter().map(|&i| hashed[i].0.as_str()).collect();
        panic!("{name}: no component of at most 4 members explains the hashes of {names:?}");
    }
    out
}

/// `seeds` and everything depending on them, transitively.
fn dependents(
    graph: &BTreeMap<String, BTreeSet<String>>,
    seeds: &BTreeSet<String>,
) -> BTreeSet<String> {
    let mut out = seeds.clone();
    loop {
        let before = out.len();
        for (q, deps) in graph {
            if deps.iter().any(|d| out.contains(d)) {
                out.insert(q.clone());
            }
        }
        if out.len() == before {
            return out;
        }
    }
}

fn replaced(fx: &Fixture, file: usize, text: String) -> Vec<(PathBuf, String)> {
    let mut files = fx.files.clone();
    files[file].1 = text;
    files
}

/// After an edit that keeps the meaning: no errors, and every definition (renamed by
/// `rename`) has its hash.
fn expect_same(
    fx: &Fixture,
    base: &Base,
    files: Vec<(PathBuf, String)>,
    rename: &dyn Fn(&str) -> String,
    what: &str,
) {
    let shown =
        files.iter().map(|f| format!("--- {} ---\n{}", f.0.display(), f.1)).collect::<String>();
    let after = check_files(fx.root.clone(), files);
    assert!(
        after.errors.is_empty(),
        "{}: `{what}` introduced errors:\n{}\n{shown}",
        fx.name,
        after.errors.join("\n")
    );
    for (q, (_, h)) in &base.defs {
        let q2 = rename(q);
        let h2 = after.defs.get(&q2).map(|d| d.1);
        assert_eq!(
            h2,
            Some(*h),
            "{}: `{what}` changed the hash of `{q}` (now `{q2}`)\n{shown}",
            fx.name
        );
    }
}

/// After an edit that changes `seeds`: what changed lies between their definite and
/// possible dependents. `Err` with the errors when the edited text does not check.
fn expect_changes(
    fx: &Fixture,
    base: &Base,
    files: Vec<(PathBuf, String)>,
    seeds: BTreeSet<String>,
    rename: &dyn Fn(&str) -> String,
    what: &str,
) -> Result<(), Vec<String>> {
    let after = check_files(fx.root.clone(), files.clone());
    if !after.errors.is_empty() {
        return Err(after.errors);
    }
    let changed: BTreeSet<String> = base
        .defs
        .iter()
        .filter(|(q, (_, h))| after.defs.get(&rename(q)).map(|d| d.1) != Some(*h))
        .map(|(q, _)| q.clone())
        .collect();
    let lower = dependents(&base.graph.definite, &seeds);
    let upper = dependents(&base.graph.possible, &seeds);
    if !(lower.is_subset(&changed) && changed.is_subset(&upper)) {
        let shown =
            files.iter().map(|f| format!("--- {} ---\n{}", f.0.display(), f.1)).collect::<String>();
        panic!(
            "{}: `{what}` changed {changed:?}; expected at least {lower:?} and at most {upper:?}\n{shown}",
            fx.name
        );
    }
    Ok(())
}

fn same_name(q: &str) -> String {
    q.to_owned()
}

fn all_tokens(root: &SyntaxNode) -> Vec<SyntaxToken> {
    root.descendants_with_tokens().filter_map(|e| e.into_token()).collect()
}

/// Applies non-overlapping `(range, replacement)` edits.
fn apply(text: &str, mut edits: Vec<(TextRange, String)>) -> String {
    edits.sort_by_key(|e| std::cmp::Reverse(e.0.start()));
    let mut out = text.to_owned();
    for (r, new) in edits {
        out.replace_range(usize::from(r.start())..usize::from(r.end()), &new);
    }
    out
}

fn parse_root(text: &str) -> SyntaxNode {
    let parse = tel_syntax::parse(text);
    assert!(parse.errors.is_empty(), "fixture does not parse: {:?}", parse.errors);
    parse.syntax_node()
}

#[derive(Clone, Copy, Debug)]
enum Relayout {
    /// The whole file on one line, single spaces, no comments.
    OneLine,
    /// Every token on its own line, randomly indented, no comments.
    TokenPerLine,
    /// Random whitespace, comments between tokens, doc comments before items and fields.
    Random,
    /// The original layout with every comment's text replaced.
    EditComments,
}

fn relayout(text: &str, mode: Relayout, s: &mut Src) -> String {
    let root = parse_root(text);
    let tokens = all_tokens(&root);
    if let Relayout::EditComments = mode {
        return tokens
            .iter()
            .map(|t| match t.kind() {
                SyntaxKind::COMMENT => "// edited comment, with \"quotes\" and /* */".to_owned(),
                SyntaxKind::DOC_COMMENT => "/// Edited documentation.".to_owned(),
                SyntaxKind::BLOCK_COMMENT => "/* edited /* nested */ */".to_owned(),
                _ => t.text().to_owned(),
            })
            .collect();
    }
    // where a doc comment documents something: before items and schema fields
    let doc_at: BTreeSet<tel_syntax::TextSize> = root
        .children()
        .chain(root.descendants().filter(|n| n.kind() == SyntaxKind::SCHEMA_FIELD))
        .filter_map(|n| {
            n.descendants_with_tokens()
                .filter_map(|e| e.into_token())
                .find(|t| !t.kind().is_trivia())
                .map(|t| t.text_range().start())
        })
        .collect();
    let mut out = String::new();
    let mut prev: Option<String> = None;
    let mut rnd = |n: usize| s.below(n);
    for t in tokens.iter().filter(|t| !t.kind().is_trivia()) {
        let tok = t.text();
        if let Some(p) = &prev {
            match mode {
                Relayout::OneLine => out.push(' '),
                Relayout::TokenPerLine => {
                    out.push('\n');
                    out.push_str(&" ".repeat(rnd(9)));
                }
                Relayout::Random => out.push_str(&random_gap(p, tok, &mut rnd)),
                Relayout::EditComments => unreachable!(),
            }
        }
        if let Relayout::Random = mode {
            if doc_at.contains(&t.text_range().start()) && rnd(2) == 1 {
                out.push_str(if prev.is_some() { "\n" } else { "" });
                for _ in 0..1 + rnd(2) {
                    out.push_str(DOC_COMMENTS[rnd(DOC_COMMENTS.len())]);
                    out.push('\n');
                }
            } else if rnd(6) == 5 {
                out.push(' ');
                if rnd(2) == 1 {
                    out.push_str(LINE_COMMENTS[rnd(LINE_COMMENTS.len())]);
                    out.push('\n');
                } else {
                    out.push_str(BLOCK_COMMENTS[rnd(BLOCK_COMMENTS.len())]);
                    out.push(' ');
                }
            }
        }
        out.push_str(tok);
        prev = Some(tok.to_owned());
    }
    out
}

fn ident_of(node: &SyntaxNode) -> Option<SyntaxToken> {
    node.children_with_tokens()
        .filter_map(|e| e.into_token())
        .find(|t| t.kind() == SyntaxKind::IDENT)
}

fn child(node: &SyntaxNode, kind: SyntaxKind) -> Option<SyntaxNode> {
    node.children().find(|n| n.kind() == kind)
}

fn ancestor(node: &SyntaxNode, kind: SyntaxKind) -> Option<SyntaxNode> {
    node.ancestors().find(|n| n.kind() == kind)
}

/// A use of a local or item by bare name: the only `IDENT` of a `PATH_EXPR`.
fn is_value_use(t: &SyntaxToken) -> bool {
    t.parent().is_some_and(|p| {
        p.kind() == SyntaxKind::PATH_EXPR
            && p.children_with_tokens().filter(|e| e.kind() == SyntaxKind::IDENT).count() == 1
    })
}

fn fresh(text: &str, stem: &str, k: &mut usize) -> String {
    loop {
        *k += 1;
        let name = format!("{stem}{k}");
        if !text.contains(&name) {
            return name;
        }
    }
}

/// Renames, in every item, each local binder whose name no other binder of the item has
/// (`let`, parameters, lambda parameters, pattern bindings including field shorthands,
/// handler clause parameters, effect parameters) together with its uses in its scope.
/// Returns the text and how many binders were renamed.
fn rename_locals(text: &str) -> (String, usize) {
    use SyntaxKind as K;
    let root = parse_root(text);
    let mut edits = Vec::new();
    let mut k = 0;
    let mut renamed = 0;
    for item in root.children() {
        // (ident token, scope, shorthand field pattern)
        let mut binders: Vec<(SyntaxToken, Option<TextRange>, bool)> = Vec::new();
        for node in item.descendants() {
            let parent = node.parent();
            let pk = parent.as_ref().map(|p| p.kind());
            match node.kind() {
                K::LET_STMT => {
                    let block = parent.filter(|p| p.kind() == K::BLOCK_EXPR).unwrap();
                    let scope = TextRange::new(node.text_range().end(), block.text_range().end());
                    binders.push((
                        ident_of(&child(&node, K::NAME).unwrap()).unwrap(),
                        Some(scope),
                        false,
                    ));
                }
                K::PARAM => {
                    let list = parent.unwrap();
                    let scope = match list.parent().map(|g| g.kind()) {
                        Some(K::FN_ITEM) => {
                            child(&list.parent().unwrap(), K::BLOCK_EXPR).map(|b| b.text_range())
                        }
                        Some(K::LAMBDA_EXPR) => Some(TextRange::new(
                            list.text_range().end(),
                            list.parent().unwrap().text_range().end(),
                        )),
                        _ => None, // effect parameters: named, never used
                    };
                    binders.push((
                        ident_of(&child(&node, K::NAME).unwrap()).unwrap(),
                        scope,
                        false,
                    ));
                }
                K::BIND_PAT => {
                    let arm = ancestor(&node, K::MATCH_ARM).unwrap();
                    binders.push((
                        ident_of(&child(&node, K::NAME).unwrap()).unwrap(),
                        Some(arm.text_range()),
                        false,
                    ));
                }
                K::NAME if pk == Some(K::CLAUSE_PARAMS) => {
                    let clause = ancestor(&node, K::HANDLER_CLAUSE).unwrap();
                    binders.push((ident_of(&node).unwrap(), Some(clause.text_range()), false));
                }
                K::FIELD_PAT if !node.children_with_tokens().any(|e| e.kind() == K::COLON) => {
                    let arm = ancestor(&node, K::MATCH_ARM).unwrap();
                    let name = ident_of(&child(&node, K::NAME_REF).unwrap()).unwrap();
                    binders.push((name, Some(arm.text_range()), true));
                }
                _ => {}
            }
        }
        let mut count: HashMap<String, usize> = HashMap::new();
        for (t, _, _) in &binders {
            *count.entry(t.text().to_owned()).or_default() += 1;
        }
        let item_tokens = all_tokens(&item);
        for (t, scope, shorthand) in binders {
            let old = t.text().to_owned();
            if count[&old] != 1 {
                continue;
            }
            let new = fresh(text, "renamed_local_", &mut k);
            let binder = if shorthand { format!("{old}: {new}") } else { new.clone() };
            edits.push((t.text_range(), binder));
            if let Some(scope) = scope {
                for u in &item_tokens {
                    if u.text() == old && is_value_use(u) && scope.contains_range(u.text_range()) {
                        edits.push((u.text_range(), new.clone()));
                    }
                }
            }
            renamed += 1;
        }
    }
    (apply(text, edits), renamed)
}

/// Renames every item of `kinds` whose name is declared once in the file and only ever
/// used by bare or qualified path (no field or shorthand of the same name), with all its
/// uses. Returns the text and the renaming.
fn rename_items(
    text: &str,
    kinds: &[SyntaxKind],
    stem_fn: &str,
    stem_ty: &str,
) -> (String, BTreeMap<String, String>) {
    use SyntaxKind as K;
    let root = parse_root(text);
    let tokens = all_tokens(&root);
    let declared = |name: &str| {
        tokens
            .iter()
            .filter(|t| t.text() == name && t.parent().is_some_and(|p| p.kind() == K::NAME))
            .count()
    };
    let mut edits = Vec::new();
    let mut map = BTreeMap::new();
    let mut k = 0;
    for item in root.children().filter(|n| kinds.contains(&n.kind())) {
        let Some(name_tok) = child(&item, K::NAME).and_then(|n| ident_of(&n)) else { continue };
        let old = name_tok.text().to_owned();
        let uses: Vec<&SyntaxToken> = tokens
            .iter()
            .filter(|t| {
                t.text() == old
                    && t.parent().is_some_and(|p| {
                        matches!(p.kind(), K::NAME_REF | K::PATH | K::PATH_EXPR | K::PATH_TYPE)
                    })
            })
            .collect();
        let by_path_only = uses.iter().all(|u| {
            u.parent().is_some_and(|p| {
                matches!(p.kind(), K::PATH | K::PATH_EXPR | K::PATH_TYPE)
                    && !p.ancestors().any(|a| matches!(a.kind(), K::MODULE_DECL | K::USE_ITEM))
            })
        });
        if declared(&old) != 1 || !by_path_only {
            continue;
        }
        let upper = old.starts_with(|c: char| c.is_ascii_uppercase());
        let new = if upper {
            // UpperCamel, no digits: RenamedA, RenamedB, …
            loop {
                k += 1;
                let name =
                    format!("{stem_ty}{}", (b'A' + (k % 26) as u8) as char).repeat(1 + k / 26);
                if !text.contains(&name) {
                    break name;
                }
            }
        } else {
            fresh(text, stem_fn, &mut k)
        };
        edits.push((name_tok.text_range(), new.clone()));
        edits.extend(uses.iter().map(|u| (u.text_range(), new.clone())));
        map.insert(old, new);
    }
    (apply(text, edits), map)
}

/// Rebuilds `node`'s text with the children of kind `child` of every node of kind `parent`
/// in reverse order (nested ones too).
fn reverse_children(
    node: &SyntaxNode,
    parent: SyntaxKind,
    child: SyntaxKind,
    count: &mut usize,
) -> String {
    let elems: Vec<tel_syntax::SyntaxElement> = node.children_with_tokens().collect();
    let mut texts: Vec<String> = elems
        .iter()
        .map(|e| match e {
            tel_syntax::SyntaxElement::Node(n) => reverse_children(n, parent, child, count),
            tel_syntax::SyntaxElement::Token(t) => t.text().to_owned(),
        })
        .collect();
    if node.kind() == parent {
        let slots: Vec<usize> = (0..elems.len()).filter(|&i| elems[i].kind() == child).collect();
        if slots.len() >= 2 {
            let vals: Vec<String> = slots.iter().map(|&i| texts[i].clone()).collect();
            for (k, &i) in slots.iter().enumerate() {
                texts[i] = vals[slots.len() - 1 - k].clone();
            }
            *count += 1;
        }
    }
    texts.concat()
}

/// Up to `cap` of `xs`, spread over the whole list.
fn spread<T: Clone>(xs: &[T], cap: usize) -> Vec<T> {
    if xs.len() <= cap {
        return xs.to_vec();
    }
    (0..cap).map(|i| xs[i * xs.len() / cap].clone()).collect()
}

fn enclosing(base: &Base, file: usize, at: TextRange) -> String {
    base.ranges[file]
        .iter()
        .find(|(_, r)| r.contains_range(at))
        .map(|(q, _)| q.clone())
        .unwrap_or_else(|| panic!("no definition around {at:?}"))
}

fn qualify_rename(map: &BTreeMap<String, String>) -> impl Fn(&str) -> String + '_ {
    move |q: &str| {
        let (module, name) = q.rsplit_once("::").unwrap();
        match map.get(name) {
            Some(new) => format!("{module}::{new}"),
            None => q.to_owned(),
        }
    }
}

#[test]
fn fixtures_keep_their_hashes_under_reformatting_and_comment_edits() {
    for (n, fx) in fixtures().iter().enumerate() {
        let base = analyse_fixture(fx);
        for (f, (path, text)) in fx.files.iter().enumerate() {
            for (m, mode) in [
                Relayout::OneLine,
                Relayout::TokenPerLine,
                Relayout::Random,
                Relayout::EditComments,
            ]
            .into_iter()
            .enumerate()
            {
                let data = seeded((n * 100 + f * 10 + m) as u64, 20_000);
                let new = relayout(text, mode, &mut Src::new(&data));
                assert_ne!(&new, text, "{}: {mode:?} left the text alone", path.display());
                expect_same(fx, &base, replaced(fx, f, new), &same_name, &format!("{mode:?}"));
            }
        }
    }
}

#[test]
fn fixtures_keep_their_hashes_under_renames_and_field_reorders() {
    use SyntaxKind as K;
    let (mut locals, mut items, mut reorders) = (0, 0, 0);
    for fx in fixtures() {
        let base = analyse_fixture(&fx);
        for (f, (_, text)) in fx.files.iter().enumerate() {
            let (new, n) = rename_locals(text);
            locals += n;
            expect_same(&fx, &base, replaced(&fx, f, new), &same_name, "rename locals");

            for (parent, child) in [
                (K::RECORD_FIELDS, K::RECORD_FIELD),
                (K::RECORD_TYPE, K::FIELD_TYPE),
                (K::SCHEMA_ITEM, K::SCHEMA_FIELD),
                (K::RECORD_PAT, K::FIELD_PAT),
            ] {
                let mut count = 0;
                let new = reverse_children(&parse_root(text), parent, child, &mut count);
                if count > 0 {
                    reorders += count;
                    let what = format!("reverse the fields of every {parent:?}");
                    expect_same(&fx, &base, replaced(&fx, f, new), &same_name, &what);
                }
            }
        }
        // Renaming definitions: single files only (a project would need its `use`s edited).
        if fx.root.is_none() {
            let kinds = [K::FN_ITEM, K::TYPE_ITEM, K::ENUM_ITEM, K::SCHEMA_ITEM];
            let (new, map) = rename_items(&fx.files[0].1, &kinds, "renamed_fn_", "Renamed");
            items += map.len();
            expect_same(
                &fx,
                &base,
                replaced(&fx, 0, new),
                &qualify_rename(&map),
                "rename definitions",
            );
        }
    }
    assert!(
        locals > 100 && items > 50 && reorders > 20,
        "too little exercised: {locals} locals, {items} definitions, {reorders} field lists"
    );
}

#[test]
fn fixture_changes_change_exactly_the_dependents() {
    use SyntaxKind as K;
    let mut exercised: BTreeMap<&str, usize> = BTreeMap::new();
    let mut skipped: BTreeMap<&str, usize> = BTreeMap::new();
    for fx in fixtures() {
        let base = analyse_fixture(&fx);
        for (f, (_, text)) in fx.files.iter().enumerate() {
            let root = parse_root(text);
            let tokens = all_tokens(&root);
            let mut edits: Vec<(&str, TextRange, String, bool)> = Vec::new();
            let of_kind =
                |k: K| tokens.iter().filter(move |t| t.kind() == k).cloned().collect::<Vec<_>>();
            for t in spread(&of_kind(K::INT), 4) {
                let digits = t.text().replace('_', "");
                let value = match digits.strip_prefix("0x") {
                    Some(hex) => i64::from_str_radix(hex, 16),
                    None => digits.parse(),
                };
                // the magnitude of the smallest Int only fits after a minus
                if let Ok(v) = value {
                    edits.push((
                        "change an integer literal",
                        t.text_range(),
                        bump(v).to_string(),
                        true,
                    ));
                }
            }
            for t in spread(&of_kind(K::STRING), 2) {
                let s = t.text();
                edits.push((
                    "change a string literal",
                    t.text_range(),
                    format!("{}x\"", &s[..s.len() - 1]),
                    true,
                ));
            }
            for t in spread(&of_kind(K::DURATION), 2) {
                let s = t.text().replace('_', "");
                let split = s.find(|c: char| !c.is_ascii_digit()).unwrap();
                let count: i64 = s[..split].parse().unwrap();
                edits.push((
                    "change a duration literal",
                    t.text_range(),
                    format!("{}{}", count + 1, &s[split..]),
                    true,
                ));
            }
            let bools: Vec<SyntaxToken> = tokens
                .iter()
                .filter(|t| matches!(t.kind(), K::TRUE_KW | K::FALSE_KW))
                .filter(|t| t.parent().is_some_and(|p| p.kind() == K::LITERAL))
                .cloned()
                .collect();
            for t in spread(&bools, 2) {
                let flipped = if t.kind() == K::TRUE_KW { "false" } else { "true" };
                edits.push(("flip a boolean literal", t.text_range(), flipped.into(), true));
            }
            let ops: Vec<(SyntaxToken, &str)> = tokens
                .iter()
                .filter(|t| t.parent().is_some_and(|p| p.kind() == K::BIN_EXPR))
                .filter_map(|t| {
                    let to = match t.kind() {
                        K::PLUS => "-",
                        K::MINUS => "+",
                        K::STAR => "/",
                        K::SLASH | K::PERCENT => "*",
                        K::LT => "<=",
                        K::LTEQ => "<",
                        K::GT => ">=",
                        K::GTEQ => ">",
                        K::EQ2 => "!=",
                        K::NEQ => "==",
                        K::AMP2 => "||",
                        K::PIPE2 => "&&",
                        _ => return None,
                    };
                    Some((t.clone(), to))
                })
                .collect();
            for (t, to) in spread(&ops, 3) {
                edits.push(("swap an operator", t.text_range(), to.to_owned(), true));
            }
            // if/else branches swapped: may legitimately not check (the first branch gives
            // the expected type), then skipped
            let ifs: Vec<SyntaxNode> = root
                .descendants()
                .filter(|n| {
                    n.kind() == K::IF_EXPR
                        && n.children().filter(|c| c.kind() == K::BLOCK_EXPR).count() == 2
                })
                .collect();
            for node in spread(&ifs, 3) {
                let blocks: Vec<SyntaxNode> =
                    node.children().filter(|c| c.kind() == K::BLOCK_EXPR).collect();
                let (a, b) = (blocks[0].text().to_string(), blocks[1].text().to_string());
                if a != b {
                    let cond_end = blocks[0].text_range().start();
                    let range = TextRange::new(cond_end, node.text_range().end());
                    let middle = text[usize::from(blocks[0].text_range().end())
                        ..usize::from(blocks[1].text_range().start())]
                        .to_owned();
                    edits.push(("swap if branches", range, format!("{b}{middle}{a}"), false));
                }
            }
            for node in root.descendants().filter(|n| n.kind() == K::ENUM_ITEM) {
                let variants: Vec<SyntaxNode> =
                    node.children().filter(|c| c.kind() == K::VARIANT).collect();
                if variants.len() >= 2 {
                    let range = TextRange::new(
                        variants[0].text_range().start(),
                        variants[1].text_range().end(),
                    );
                    let middle = text[usize::from(variants[0].text_range().end())
                        ..usize::from(variants[1].text_range().start())]
                        .to_owned();
                    let swapped = format!("{}{middle}{}", variants[1].text(), variants[0].text());
                    edits.push(("reorder enum variants", range, swapped, true));
                }
            }
            for (what, range, new, strict) in edits {
                let seeds = BTreeSet::from([enclosing(&base, f, range)]);
                let files = replaced(&fx, f, apply(text, vec![(range, new)]));
                match expect_changes(&fx, &base, files, seeds, &same_name, what) {
                    Ok(()) => *exercised.entry(what).or_default() += 1,
                    Err(_) if !strict => *skipped.entry(what).or_default() += 1,
                    Err(errors) => panic!(
                        "{}: `{what}` at {range:?} does not check:\n{}",
                        fx.name,
                        errors.join("\n")
                    ),
                }
            }
        }

        if fx.root.is_some() {
            continue;
        }
        let text = &fx.files[0].1;
        // Renaming an effect changes it: its name is part of its hash (docs/language.md §7.3).
        let (new, map) = rename_items(text, &[K::EFFECT_ITEM], "unused_", "RenamedEffect");
        if !map.is_empty() {
            // all effects renamed at once: the union of their dependents changes
            let seeds: BTreeSet<String> = base
                .defs
                .keys()
                .filter(|q| map.contains_key(q.rsplit_once("::").unwrap().1))
                .cloned()
                .collect();
            let files = replaced(&fx, 0, new);
            expect_changes(&fx, &base, files, seeds, &qualify_rename(&map), "rename effects")
                .unwrap_or_else(|e| panic!("{}: renaming effects does not check: {e:?}", fx.name));
            *exercised.entry("rename effects").or_default() += 1;
        }
        // An unused `Emit` added to the row of a function and of its dependents (which must
        // cover it): skipped when that does not check (a function passed where a function
        // type's row is smaller, a schema default).
        let root = parse_root(text);
        let fns: Vec<String> = base.ranges[0]
            .iter()
            .filter(|(q, _)| base.defs[q].0 == DefKind::Fn)
            .map(|(q, _)| q.clone())
            .collect();
        for q in spread(&fns, 3) {
            let targets = dependents(&base.graph.definite, &BTreeSet::from([q.clone()]));
            let mut edits = Vec::new();
            let mut ok = true;
            for t in &targets {
                let range = base.ranges[0].iter().find(|(n, _)| n == t).unwrap().1;
                let Some(item) =
                    root.children().find(|n| n.text_range() == range && n.kind() == K::FN_ITEM)
                else {
                    ok = false;
                    break;
                };
                match child(&item, K::EFFECT_ROW) {
                    Some(row) if row.text().to_string().contains("Emit") => ok = false,
                    Some(row) => {
                        let brace =
                            row.children_with_tokens().find(|e| e.kind() == K::L_CURLY).unwrap();
                        edits.push((
                            TextRange::empty(brace.text_range().end()),
                            "Emit, ".to_owned(),
                        ));
                    }
                    None => {
                        let body = child(&item, K::BLOCK_EXPR).unwrap();
                        edits.push((
                            TextRange::empty(body.text_range().start()),
                            "! {Emit} ".to_owned(),
                        ));
                    }
                }
            }
            if !ok {
                *skipped.entry("add an effect").or_default() += 1;
                continue;
            }
            let files = replaced(&fx, 0, apply(text, edits));
            match expect_changes(&fx, &base, files, targets, &same_name, "add an effect") {
                Ok(()) => *exercised.entry("add an effect").or_default() += 1,
                Err(_) => *skipped.entry("add an effect").or_default() += 1,
            }
        }
    }
    for what in [
        "change an integer literal",
        "change a string literal",
        "change a duration literal",
        "flip a boolean literal",
        "swap an operator",
        "swap if branches",
        "reorder enum variants",
        "rename effects",
        "add an effect",
    ] {
        assert!(
            exercised.get(what).copied().unwrap_or(0) >= 3,
            "`{what}` exercised too rarely: {exercised:?}, skipped {skipped:?}"
        );
    }
}

/// A change to this file is a change of the hash format: it needs a `FORMAT_VERSION` bump
/// in tel-hash (docs/hashing.md, "Stability rule"), never a silent `UPDATE_EXPECT=1`.
#[test]
fn golden_fixture_hashes() {
    let mut lines = Vec::new();
    for fx in fixtures() {
        let c = check_files(fx.root.clone(), fx.files.clone());
        assert!(c.errors.is_empty(), "{}: {:?}", fx.name, c.errors);
        for (q, (kind, hash)) in c.defs {
            let hash = hash.unwrap_or_else(|| panic!("{}: `{q}` has no hash", fx.name));
            lines.push(format!(
                "{:<28} {:<36} {:<6} {}",
                fx.name,
                q,
                DefKind::as_str(kind),
                hash.to_base32hex()
            ));
        }
    }
    lines.sort();
    let header = format!(
        "# The hash of every definition of the fixtures (format version {}).\n\
         # A change to this file is a change of the hash format: it needs a FORMAT_VERSION bump\n\
         # in tel-hash (docs/hashing.md, \"Stability rule\"), never a silent refresh.\n",
        tel_hash::FORMAT_VERSION
    );
    expect_test::expect_file!["golden_hashes.txt"]
        .assert_eq(&format!("{header}{}\n", lines.join("\n")));
}
