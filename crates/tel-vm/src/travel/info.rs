//! What the navigator knows of a program's structure beyond its bytecode: for every code unit,
//! where statements and expressions start (the stop points of source-level stepping and the
//! places a breakpoint hits), and which slot holds each binder (a parameter, a `let`, a
//! pattern variable, a clause argument) so that a frame's locals can be listed.
//!
//! All of it is derived from the core IR the program was loaded from and the expression id
//! every op records (`Code::exprs`, the `preorder` index in its top-level definition):
//!
//! - A unit's code for an expression is contiguous and execution enters it at its lowest op
//!   (children are compiled before their parent's op and jumps only go forward), so
//!   "the code of expression `e` is entered" is the stateless test "the next op is the first
//!   op, in program order, of `e`'s subtree in this unit".
//! - A binder's slot is constant over its scope within a unit, so it is read off any op that
//!   reads the binder (`Get`/`Move` of a `Local`, or a fused op on one). A binder the code
//!   never reads has no known slot and is not listed.

use crate::program::{Op, Program, StoredDef, binds};
use rustc_hash::FxHashMap;
use std::collections::HashMap;
use tel_hash::CodeHash;
use tel_hash::core::{CoreDef, Expr, preorder};

/// A variable of the source, identified structurally (core IR has no local names): by the
/// expression that binds it, an expression id of its top-level definition.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Binder {
    /// Parameter `index` of the top-level function.
    Param { index: u32 },
    /// The variable of the `let` expression `node`.
    Let { node: u32 },
    /// Parameter `index` of the lambda expression `node`.
    LambdaParam { node: u32, index: u32 },
    /// Variable `index` (in the pattern's canonical order) bound by arm `arm` of the `match`
    /// expression `node`.
    Pattern { node: u32, arm: u32, index: u32 },
    /// Argument `index` of clause `clause` (canonical order) of the `handle` expression `node`.
    ClauseArg { node: u32, clause: u32, index: u32 },
}

impl std::fmt::Display for Binder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Binder::Param { index } => write!(f, "param {index}"),
            Binder::Let { node } => write!(f, "let@{node}"),
            Binder::LambdaParam { node, index } => write!(f, "lambda@{node} param {index}"),
            Binder::Pattern { node, arm, index } => write!(f, "match@{node} arm {arm} var {index}"),
            Binder::ClauseArg { node, clause, index } => {
                write!(f, "handle@{node} clause {clause} arg {index}")
            }
        }
    }
}

/// What a node is, as far as scopes and statements are concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Local(u32),
    Let,
    Seq,
    Lambda,
    Binary,
    Field,
    Handle,
    Other,
}

/// One top-level function's body, flattened in preorder.
struct Body {
    kind: Vec<Kind>,
    parent: Vec<u32>,
    /// The end (exclusive) of each node's subtree in preorder.
    end: Vec<u32>,
    /// The binders a node's parent introduces for it (the `let` body sees the `let`'s
    /// variable, an arm its pattern's, ...), in scope order.
    intro: Vec<Vec<Binder>>,
    /// Whether the node is a statement: a non-block child of a block (`;` or `let`), or a
    /// body (of the function, a lambda, an arm, a clause, an `if` branch, a `handle`,
    /// `within` or `after`).
    statement: Vec<bool>,
}

const NONE: u32 = u32::MAX;

impl Body {
    fn new(params: u32, root: &Expr) -> Body {
        let nodes = preorder(root);
        let n = nodes.len();
        let ids: FxHashMap<*const Expr, u32> =
            nodes.iter().enumerate().map(|(i, e)| (*e as *const Expr, i as u32)).collect();
        let id = |e: &Expr| ids[&(e as *const Expr)];
        let mut body = Body {
            kind: vec![Kind::Other; n],
            parent: vec![NONE; n],
            end: vec![0; n],
            intro: vec![Vec::new(); n],
            statement: vec![false; n],
        };
        body.intro[0] = (0..params).map(|index| Binder::Param { index }).collect();
        let mut stmt_child = vec![false; n];
        stmt_child[0] = true;
        for (a, e) in nodes.iter().enumerate() {
            let a32 = a as u32;
            for c in e.children() {
                body.parent[id(c) as usize] = a32;
            }
            body.kind[a] = match e {
                Expr::Local(i) => Kind::Local(*i),
                Expr::Let { body: b, value, .. } => {
                    body.intro[id(b) as usize] = vec![Binder::Let { node: a32 }];
                    stmt_child[id(b) as usize] = true;
                    stmt_child[id(value) as usize] = true;
                    Kind::Let
                }
                Expr::Seq { first, then } => {
                    stmt_child[id(first) as usize] = true;
                    stmt_child[id(then) as usize] = true;
                    Kind::Seq
                }
                Expr::Lambda { params, body: b, .. } => {
                    body.intro[id(b) as usize] = (0..params.len() as u32)
                        .map(|index| Binder::LambdaParam { node: a32, index })
                        .collect();
                    stmt_child[id(b) as usize] = true;
                    Kind::Lambda
                }
                Expr::Match { arms, .. } => {
                    for (k, arm) in arms.iter().enumerate() {
                        let vars: Vec<Binder> = (0..binds(&arm.pat))
                            .map(|index| Binder::Pattern { node: a32, arm: k as u32, index })
                            .collect();
                        if let Some(g) = &arm.guard {
                            body.intro[id(g) as usize] = vars.clone();
                        }
                        body.intro[id(&arm.body) as usize] = vars;
                        stmt_child[id(&arm.body) as usize] = true;
                    }
                    Kind::Other
                }
                Expr::Handle { body: b, clauses } => {
                    stmt_child[id(b) as usize] = true;
                    for (k, c) in clauses.iter().enumerate() {
                        body.intro[id(&c.body) as usize] = (0..c.arity)
                            .map(|index| Binder::ClauseArg { node: a32, clause: k as u32, index })
                            .collect();
                        stmt_child[id(&c.body) as usize] = true;
                    }
                    Kind::Handle
                }
                Expr::If { then, else_, .. } => {
                    stmt_child[id(then) as usize] = true;
                    stmt_child[id(else_) as usize] = true;
                    Kind::Other
                }
                Expr::Within { body: b, fallback, .. } => {
                    stmt_child[id(b) as usize] = true;
                    stmt_child[id(fallback) as usize] = true;
                    Kind::Other
                }
                Expr::After { body: b, .. } => {
                    stmt_child[id(b) as usize] = true;
                    Kind::Other
                }
                Expr::Binary { .. } => Kind::Binary,
                Expr::Field { .. } => Kind::Field,
                _ => Kind::Other,
            };
        }
        // Subtree ends, children before parents (reverse preorder).
        for a in (0..n).rev() {
            let mut end = a as u32 + 1;
            // The last child's end is the node's end; children follow the node in preorder.
            if let Some(&last) = nodes[a].children().last() {
                end = body.end[id(last) as usize];
            }
            body.end[a] = end;
        }
        body.statement = stmt_child
            .iter()
            .zip(&body.kind)
            .map(|(child, kind)| *child && !matches!(kind, Kind::Seq | Kind::Let))
            .collect();
        body
    }

    /// The nearest lambda strictly enclosing `node` (`NONE`: the function itself): which code
    /// unit runs `node`'s code.
    fn owner(&self, node: u32) -> u32 {
        let mut a = self.parent[node as usize];
        while a != NONE && self.kind[a as usize] != Kind::Lambda {
            a = self.parent[a as usize];
        }
        a
    }

    /// The binders in scope at `node`, outermost first: `Local(i)` is `scope[len - 1 - i]`.
    fn scope(&self, node: u32) -> Vec<Binder> {
        let mut path = Vec::new();
        let mut a = node;
        while a != NONE {
            path.push(a);
            a = self.parent[a as usize];
        }
        path.iter().rev().flat_map(|a| self.intro[*a as usize].iter().copied()).collect()
    }

    fn local(&self, node: u32, i: u32) -> Option<Binder> {
        let scope = self.scope(node);
        scope.len().checked_sub(i as usize + 1).map(|k| scope[k])
    }

    /// The binder a `Local` node refers to.
    fn local_at(&self, node: u32) -> Option<Binder> {
        match self.kind.get(node as usize)? {
            Kind::Local(i) => self.local(node, *i),
            _ => None,
        }
    }
}

/// Per code unit: its stop points and its binders' slots.
pub(crate) struct Unit {
    /// Per op: [`STATEMENT`] when a statement's code starts there, [`EXPRESSION`] when its
    /// expression id differs from the previous op's.
    pub(crate) stops: Box<[u8]>,
    /// The lambda expression the unit compiles (`None`: the function's own unit).
    lambda: Option<u32>,
    slots: FxHashMap<Binder, u32>,
}

pub(crate) const STATEMENT: u8 = 1;
pub(crate) const EXPRESSION: u8 = 2;

/// Debug information for a loaded program: see the module documentation.
pub struct DebugInfo {
    bodies: FxHashMap<CodeHash, Body>,
    pub(crate) units: Vec<Unit>,
}

impl DebugInfo {
    /// The debug information of `program`, from the definitions it was loaded from.
    pub fn new(program: &Program, defs: &HashMap<CodeHash, StoredDef>) -> DebugInfo {
        let mut bodies = FxHashMap::default();
        for code in &program.codes {
            if bodies.contains_key(&code.def) {
                continue;
            }
            if let Some(StoredDef { def: CoreDef::Fn { params, body, .. }, .. }) =
                defs.get(&code.def)
            {
                bodies.insert(code.def, Body::new(params.len() as u32, body));
            }
        }
        let units = program
            .codes
            .iter()
            .map(|code| {
                let n = code.ops.len();
                let mut stops: Vec<u8> = (0..n)
                    .map(|pc| {
                        if pc == 0 || code.exprs[pc] != code.exprs[pc - 1] { EXPRESSION } else { 0 }
                    })
                    .collect();
                let Some(body) = bodies.get(&code.def) else {
                    return Unit { stops: stops.into(), lambda: None, slots: FxHashMap::default() };
                };
                let valid = |x: u32| (x as usize) < body.kind.len();
                let lambda = if code.lambda {
                    code.exprs.iter().copied().find(|x| valid(*x)).map(|x| body.owner(x))
                } else {
                    None
                }
                .filter(|l| *l != NONE);
                let owner = lambda.unwrap_or(NONE);
                // Statement starts: the first op of each statement this unit runs.
                let mut seen = rustc_hash::FxHashSet::default();
                for (pc, stop) in stops.iter_mut().enumerate() {
                    let mut a = code.exprs[pc];
                    if !valid(a) || body.owner(a) != owner {
                        continue;
                    }
                    while a != NONE && a != owner {
                        if body.statement[a as usize] && seen.insert(a) {
                            *stop |= STATEMENT;
                        }
                        a = body.parent[a as usize];
                    }
                }
                let mut slots = FxHashMap::default();
                let params = match lambda {
                    Some(l) => (0..code.arity)
                        .map(|index| Binder::LambdaParam { node: l, index })
                        .collect::<Vec<_>>(),
                    None => (0..code.arity).map(|index| Binder::Param { index }).collect(),
                };
                for (i, b) in params.into_iter().enumerate() {
                    slots.insert(b, i as u32);
                }
                for (pc, op) in code.ops.iter().enumerate() {
                    let x = code.exprs[pc];
                    if !valid(x) {
                        continue;
                    }
                    let lhs = x + 1;
                    let rhs = |b: &Body| b.end.get(lhs as usize).copied().unwrap_or(NONE);
                    let mut found = |binder: Option<Binder>, slot: u32| {
                        if let Some(b) = binder {
                            slots.entry(b).or_insert(slot);
                        }
                    };
                    match (*op, body.kind[x as usize]) {
                        (Op::Get(s) | Op::Move(s), Kind::Local(_)) => found(body.local_at(x), s),
                        (Op::GetField { slot, .. }, Kind::Field) => found(body.local_at(lhs), slot),
                        (Op::BinLI { slot, .. } | Op::JumpUnlessLI { slot, .. }, Kind::Binary) => {
                            found(body.local_at(lhs), slot)
                        }
                        (Op::BinLL { a, b, .. } | Op::JumpUnlessLL { a, b, .. }, Kind::Binary) => {
                            found(body.local_at(lhs), a);
                            found(body.local_at(rhs(body)), b);
                        }
                        _ => {}
                    }
                }
                Unit { stops: stops.into(), lambda, slots }
            })
            .collect();
        DebugInfo { bodies, units }
    }

    /// The binders in scope where unit `code` runs expression `expr`, outermost first, with
    /// their slots (binders whose slot is not known are left out).
    pub(crate) fn locals(&self, program: &Program, code: u32, expr: u32) -> Vec<(Binder, u32)> {
        let c = &program.codes[code as usize];
        let (Some(body), Some(unit)) = (self.bodies.get(&c.def), self.units.get(code as usize))
        else {
            return Vec::new();
        };
        if expr as usize >= body.kind.len() {
            return Vec::new();
        }
        body.scope(expr).into_iter().filter_map(|b| unit.slots.get(&b).map(|s| (b, *s))).collect()
    }

    /// The first op, in each unit that runs it, of expression `expr` of definition `def`:
    /// where its code is entered.
    pub(crate) fn entries(&self, program: &Program, def: &CodeHash, expr: u32) -> Vec<(u32, u32)> {
        let Some(body) = self.bodies.get(def) else { return Vec::new() };
        let Some(&end) = body.end.get(expr as usize) else { return Vec::new() };
        let owner = body.owner(expr);
        let mut out = Vec::new();
        for (i, c) in program.codes.iter().enumerate() {
            if c.def != *def || self.units[i].lambda.unwrap_or(NONE) != owner {
                continue;
            }
            if let Some(pc) = c.exprs.iter().position(|x| (expr..end).contains(x)) {
                out.push((i as u32, pc as u32));
            }
        }
        out
    }

    /// Whether `def` has an expression with this id.
    pub(crate) fn has_expr(&self, def: &CodeHash, expr: u32) -> bool {
        self.bodies.get(def).is_some_and(|b| (expr as usize) < b.kind.len())
    }
}
