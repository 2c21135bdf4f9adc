//! Lowering checked definitions to the core IR (`tel_hash::core`): locals become de Bruijn
//! indices, project references `Ref::Def("module::item")`, stored ones `Ref::Hash`,
//! builtins `Ref::Builtin`; record fields are sorted, `let`s carry their inferred types, and
//! `type` aliases are replaced by what they stand for.
//!
//! Beside a function's core body, lowering can record where each core expression came from
//! (its *span table*, see [`lower_to_core_with_spans`]): the hash never sees positions, so
//! runtime errors, which name a definition by hash and an expression by its preorder id, are
//! mapped back to source through this table.

use std::fmt;
use std::ops::Range;

use tel_hash::core::{self, CoreDef, Ref};
use tel_hash::serialize::{ResolvedRef, Resolver};

use crate::TextRange;
use crate::body::{
    BindingId, Body, BodyRoot, BodySourceMap, Expr, ExprId, Literal, Pat, PatId, Stmt,
};
use crate::def_map::{VariantOwner, VariantRef};
use crate::infer::{InferenceResult, Res};
use crate::signature::{HirDatabase, expand_alias};
use crate::ty::{DefRef, EffectSet, Signature, Ty};

/// Why a definition has no core form: it (or something it depends on) did not check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LowerError {
    pub reason: String,
}

impl fmt::Display for LowerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot lower to core IR: {}", self.reason)
    }
}

impl std::error::Error for LowerError {}

fn err<T>(reason: impl Into<String>) -> Result<T, LowerError> {
    Err(LowerError { reason: reason.into() })
}

/// Lowers a definition. Functions and schemas with defaults need their body and its
/// inference result; other items only their signature. Fails if there are errors.
pub fn lower_to_core(
    db: &dyn HirDatabase,
    sig: &Signature,
    body: Option<(&Body, &InferenceResult)>,
) -> Result<CoreDef, LowerError> {
    lower(db, sig, body, None)
}

/// The source range of each expression of a function's core body, indexed by expression
/// id (the position in `tel_hash::core::preorder(body)`): exactly as many entries as the
/// body has expressions. Empty for definitions other than functions.
///
/// A node that lowering synthesizes has the range of the HIR expression that produced it:
/// the `Let`/`Seq` chain of a block and a block's missing tail have the block's, a missing
/// `else` the `if`'s, a variant constructor used as a value (a `Lambda` around a `Variant`
/// of its parameters) the path's, the unit of an argument-less `resume()` the `resume`'s.
pub type SpanTable = Vec<Option<TextRange>>;

/// [`lower_to_core`], plus the [`SpanTable`] of a function's body (from `source_map`, the
/// body's). The table follows this lowering's order of handler clauses (by reference as
/// lowered); [`spans_in_canonical_order`] reorders it for the hashed form.
pub fn lower_to_core_with_spans(
    db: &dyn HirDatabase,
    sig: &Signature,
    body: Option<(&Body, &InferenceResult)>,
    source_map: &BodySourceMap,
) -> Result<(CoreDef, SpanTable), LowerError> {
    let mut origins = Vec::new();
    let def = lower(db, sig, body, Some(&mut origins))?;
    if let CoreDef::Fn { body, .. } = &def {
        debug_assert_eq!(origins.len(), core::preorder(body).len());
    }
    let spans = origins.into_iter().map(|e| source_map.exprs.get(e).copied()).collect();
    Ok((def, spans))
}

/// `origins`, when given, receives the HIR expression behind each core expression of a
/// function's body, in preorder.
fn lower(
    db: &dyn HirDatabase,
    sig: &Signature,
    body: Option<(&Body, &InferenceResult)>,
    origins: Option<&mut Vec<ExprId>>,
) -> Result<CoreDef, LowerError> {
    if let Some((_, infer)) = body
        && infer.has_errors()
    {
        return err("the definition has errors");
    }
    let cx = Lower { db };
    match sig {
        Signature::Fn(f) => {
            let Some((body, infer)) = body else { return err("a function needs its body") };
            let BodyRoot::Expr(root) = &body.root else {
                return err("a function body has one root");
            };
            let params = f.params.iter().map(|(_, t)| cx.ty(t)).collect::<Result<_, _>>()?;
            let ret = cx.ty(&f.ret)?;
            let mut env = Env { body, infer, stack: body.params.clone(), origins };
            let body = cx.expr(&mut env, *root)?;
            Ok(CoreDef::Fn { params, ret, effects: effects(&f.effects), body })
        }
        Signature::Type(t) => Ok(CoreDef::Type { ty: cx.ty(t)? }),
        Signature::Enum(e) => Ok(CoreDef::Enum {
            variants: e
                .variants
                .iter()
                .map(|(name, fields)| {
                    Ok(core::Variant {
                        name: name.clone(),
                        fields: fields.iter().map(|t| cx.ty(t)).collect::<Result<_, _>>()?,
                    })
                })
                .collect::<Result<_, LowerError>>()?,
        }),
        Signature::Effect(e) => Ok(CoreDef::Effect {
            name: e.name.clone(),
            params: e.params.iter().map(|(_, t)| cx.ty(t)).collect::<Result<_, _>>()?,
            ret: cx.ty(&e.ret)?,
        }),
        Signature::Schema(s) => {
            let mut fields = Vec::new();
            for (i, f) in s.fields.iter().enumerate() {
                let default = match body {
                    Some((body, infer)) if f.has_default => {
                        let BodyRoot::SchemaDefaults(defaults) = &body.root else {
                            return err("schema defaults expected");
                        };
                        match defaults.iter().find(|(idx, _)| *idx as usize == i) {
                            Some((_, e)) => {
                                let mut env = Env { body, infer, stack: Vec::new(), origins: None };
                                Some(cx.expr(&mut env, *e)?)
                            }
                            None => None,
                        }
                    }
                    None if f.has_default => return err("schema defaults need the schema's body"),
                    _ => None,
                };
                fields.push(core::SchemaField { name: f.name.clone(), ty: cx.ty(&f.ty)?, default });
            }
            fields.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(CoreDef::Schema { fields })
        }
    }
}

/// `table`, indexed by expression id in `lowered` (a function body as
/// [`lower_to_core_with_spans`] built it), reindexed for `canonical`: the same body as the
/// hash has it (`tel_hash::canonicalize` with `resolve`, or decoded from the stored bytes).
/// The two differ in one way that moves expression ids: a `handle`'s clauses are sorted by
/// resolved effect there, by name here. Clauses are paired by effect, so this does not
/// depend on how the encoder orders them. `None` when `canonical` is not `lowered`'s
/// canonical form, or `table` not its size.
pub fn spans_in_canonical_order<T: Copy>(
    lowered: &core::Expr,
    table: &[T],
    canonical: &core::Expr,
    resolve: Resolver<'_>,
) -> Option<Vec<T>> {
    let pre = core::preorder(lowered);
    if table.len() != pre.len() {
        return None;
    }
    // Subtree sizes, leaves first: a node's children start right after it, each after the
    // previous one's subtree.
    let mut size = vec![1usize; pre.len()];
    for i in (0..pre.len()).rev() {
        let mut next = i + 1;
        for _ in pre[i].children() {
            next += size[next];
        }
        size[i] = next - i;
    }
    let resolved = |r: &Ref| match r {
        Ref::Def(name) => resolve(name).map(|t| match t {
            ResolvedRef::Hash(h) => Ref::Hash(h),
            ResolvedRef::Member(i) => Ref::Member(i),
        }),
        other => Some(other.clone()),
    };
    let mut out = Vec::with_capacity(pre.len());
    // (expression id in `lowered`, the same expression in `canonical`); iterative, like
    // `preorder`, so that a long `let` chain cannot overflow the stack
    let mut todo = vec![(0usize, canonical)];
    while let Some((id, c)) = todo.pop() {
        let l = pre[id];
        if std::mem::discriminant(l) != std::mem::discriminant(c) {
            return None;
        }
        out.push(table[id]);
        let mut child_ids = Vec::new();
        let mut next = id + 1;
        for _ in l.children() {
            child_ids.push(next);
            next += size[next];
        }
        let c_children = c.children();
        if c_children.len() != child_ids.len() {
            return None;
        }
        let mut pairs: Vec<(usize, &core::Expr)> = Vec::with_capacity(child_ids.len());
        match (l, c) {
            (core::Expr::Handle { clauses: lc, .. }, core::Expr::Handle { clauses: cc, .. }) => {
                pairs.push((child_ids[0], c_children[0]));
                for (k, clause) in cc.iter().enumerate() {
                    let m = lc
                        .iter()
                        .position(|x| resolved(&x.effect).as_ref() == Some(&clause.effect))?;
                    pairs.push((child_ids[1 + m], c_children[1 + k]));
                }
            }
            _ => pairs.extend(child_ids.into_iter().zip(c_children)),
        }
        todo.extend(pairs.into_iter().rev());
    }
    Some(out)
}

fn effects(set: &EffectSet) -> Vec<Ref> {
    let mut v: Vec<Ref> = set.iter().map(DefRef::to_core).collect();
    v.sort();
    v
}

struct Lower<'a> {
    db: &'a dyn HirDatabase,
}

struct Env<'a> {
    body: &'a Body,
    infer: &'a InferenceResult,
    /// Binders in scope, innermost last.
    stack: Vec<BindingId>,
    /// Where each core expression built so far came from, in preorder (when asked for).
    /// Lowering builds children in [`core::Expr::children`] order, so recording a node's
    /// origin when its lowering starts yields preorder; only sorted handler clauses move.
    origins: Option<&'a mut Vec<ExprId>>,
}

impl Env<'_> {
    /// Records that the next core expression in preorder comes from `e`.
    fn origin(&mut self, e: ExprId) {
        if let Some(o) = &mut self.origins {
            o.push(e);
        }
    }

    fn origins_len(&self) -> usize {
        self.origins.as_ref().map_or(0, |o| o.len())
    }

    fn index_of(&self, b: BindingId) -> Result<u32, LowerError> {
        match self.stack.iter().rposition(|x| *x == b) {
            Some(pos) => Ok((self.stack.len() - 1 - pos) as u32),
            None => err("a local is used outside its scope"),
        }
    }
}

impl Lower<'_> {
    fn ty(&self, t: &Ty) -> Result<core::Type, LowerError> {
        Ok(match t {
            Ty::Int => core::Type::Int,
            Ty::Bool => core::Type::Bool,
            Ty::String => core::Type::String,
            Ty::Duration => core::Type::Duration,
            Ty::Unit => core::Type::Unit,
            Ty::Hash => core::Type::Hash,
            Ty::List(x) => core::Type::List(Box::new(self.ty(x)?)),
            Ty::Option(x) => core::Type::Option(Box::new(self.ty(x)?)),
            Ty::Map(k, v) => core::Type::Map(Box::new(self.ty(k)?), Box::new(self.ty(v)?)),
            Ty::Record(fs) => {
                let mut out = fs
                    .iter()
                    .map(|(n, t)| Ok((n.clone(), self.ty(t)?)))
                    .collect::<Result<Vec<_>, LowerError>>()?;
                out.sort_by(|a, b| a.0.cmp(&b.0));
                core::Type::Record(out)
            }
            Ty::Named(d) => {
                let e = expand_alias(self.db, t);
                if e != *t {
                    return self.ty(&e);
                }
                core::Type::Named(d.to_core())
            }
            Ty::Fn(f) => core::Type::Fn {
                params: f.params.iter().map(|p| self.ty(p)).collect::<Result<_, _>>()?,
                ret: Box::new(self.ty(&f.ret)?),
                effects: effects(&f.effects),
            },
            Ty::Var(_) | Ty::Error => return err("a type is unknown"),
        })
    }

    fn lit(&self, l: &Literal) -> core::Lit {
        match l {
            Literal::Int(i) => core::Lit::Int(*i),
            Literal::Bool(b) => core::Lit::Bool(*b),
            Literal::String(s) => core::Lit::String(s.clone()),
            Literal::Duration(d) => core::Lit::Duration(*d),
            Literal::Unit => core::Lit::Unit,
        }
    }

    fn owner(&self, v: &VariantRef) -> core::VariantOwner {
        match &v.owner {
            VariantOwner::Enum(d) => core::VariantOwner::Enum(d.to_core()),
            VariantOwner::Option => core::VariantOwner::Option,
        }
    }

    fn exprs(&self, env: &mut Env<'_>, es: &[ExprId]) -> Result<Vec<core::Expr>, LowerError> {
        es.iter().map(|e| self.expr(env, *e)).collect()
    }

    /// The one argument of `resume`/`abort` (`e`), unit when there is none.
    fn single(
        &self,
        env: &mut Env<'_>,
        e: ExprId,
        args: &[ExprId],
    ) -> Result<Box<core::Expr>, LowerError> {
        Ok(Box::new(match args {
            [] => {
                env.origin(e);
                core::Expr::Lit(core::Lit::Unit)
            }
            [a] => self.expr(env, *a)?,
            _ => return err("too many arguments"),
        }))
    }

    fn expr(&self, env: &mut Env<'_>, e: ExprId) -> Result<core::Expr, LowerError> {
        let body = env.body;
        let infer = env.infer;
        // A block's core nodes (its `Let`/`Seq` chain, or its tail's own) are recorded by
        // `block`; every other HIR expression becomes one node, built before its children.
        if !matches!(body.exprs[e], Expr::Block { .. }) {
            env.origin(e);
        }
        Ok(match &body.exprs[e] {
            Expr::Missing => return err("an expression is missing"),
            Expr::Lit(l) => core::Expr::Lit(self.lit(l)),
            Expr::Local(b) => core::Expr::Local(env.index_of(*b)?),
            Expr::Path(_) | Expr::HashRef(_) => match infer.expr_res.get(&e) {
                Some(Res::Def(d, _)) => core::Expr::Ref(d.to_core()),
                Some(Res::Builtin(b)) => core::Expr::Ref(Ref::Builtin(*b)),
                Some(Res::Local(b)) => core::Expr::Local(env.index_of(*b)?),
                Some(Res::Variant(v)) => match infer.type_of_expr(e) {
                    Ty::Fn(f) => {
                        // A constructor used as a function value: `|a, b| Variant(a, b)`.
                        let n = f.params.len() as u32;
                        // the `Variant` and its `Local` arguments, all from this path
                        for _ in 0..=n {
                            env.origin(e);
                        }
                        core::Expr::Lambda {
                            params: f
                                .params
                                .iter()
                                .map(|p| self.ty(p))
                                .collect::<Result<_, _>>()?,
                            ret: self.ty(&f.ret)?,
                            body: Box::new(core::Expr::Variant {
                                owner: self.owner(v),
                                index: v.index,
                                args: (0..n).rev().map(core::Expr::Local).collect(),
                            }),
                        }
                    }
                    _ => core::Expr::Variant {
                        owner: self.owner(v),
                        index: v.index,
                        args: Vec::new(),
                    },
                },
                None => return err("an unresolved name"),
            },
            Expr::Call { callee, args } => {
                if let Some(Res::Variant(v)) = infer.expr_res.get(callee)
                    && matches!(body.exprs[*callee], Expr::Path(_))
                {
                    core::Expr::Variant {
                        owner: self.owner(v),
                        index: v.index,
                        args: self.exprs(env, args)?,
                    }
                } else {
                    core::Expr::Call {
                        callee: Box::new(self.expr(env, *callee)?),
                        args: self.exprs(env, args)?,
                    }
                }
            }
            Expr::Field { expr, name } => {
                core::Expr::Field { expr: Box::new(self.expr(env, *expr)?), name: name.clone() }
            }
            Expr::Binary { op, lhs, rhs } => core::Expr::Binary {
                op: *op,
                lhs: Box::new(self.expr(env, *lhs)?),
                rhs: Box::new(self.expr(env, *rhs)?),
            },
            Expr::Unary { op, expr } => {
                core::Expr::Unary { op: *op, expr: Box::new(self.expr(env, *expr)?) }
            }
            Expr::Record { fields, .. } => {
                let ty = match expand_alias(self.db, infer.type_of_expr(e)) {
                    Ty::Named(d) => Some(d.to_core()),
                    _ => None,
                };
                let mut sorted: Vec<_> = fields.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                let fields = sorted
                    .into_iter()
                    .map(|(n, x)| Ok((n.clone(), self.expr(env, *x)?)))
                    .collect::<Result<_, LowerError>>()?;
                core::Expr::Record { ty, fields }
            }
            Expr::List(items) => core::Expr::List(self.exprs(env, items)?),
            Expr::Block { stmts, tail } => self.block(env, e, stmts, *tail)?,
            Expr::If { cond, then, else_ } => core::Expr::If {
                cond: Box::new(self.expr(env, *cond)?),
                then: Box::new(self.expr(env, *then)?),
                else_: Box::new(match else_ {
                    Some(x) => self.expr(env, *x)?,
                    None => {
                        env.origin(e);
                        core::Expr::Lit(core::Lit::Unit)
                    }
                }),
            },
            Expr::Match { scrutinee, arms } => {
                let scrutinee = Box::new(self.expr(env, *scrutinee)?);
                let mut out = Vec::new();
                for arm in arms {
                    let depth = env.stack.len();
                    let pat = self.pat(env, arm.pat)?;
                    let guard = arm.guard.map(|g| self.expr(env, g)).transpose()?;
                    let body = self.expr(env, arm.body)?;
                    env.stack.truncate(depth);
                    out.push(core::Arm { pat, guard, body });
                }
                core::Expr::Match { scrutinee, arms: out }
            }
            Expr::Handle { body: inner, clauses } => {
                let inner = Box::new(self.expr(env, *inner)?);
                let mut out = Vec::new();
                // each clause's stretch of `env.origins`, to move along with it when sorted
                let first = env.origins_len();
                let mut stretches: Vec<Range<usize>> = Vec::new();
                for (i, c) in clauses.iter().enumerate() {
                    let Some(effect) = infer.clause_effects.get(&(e, i as u32)) else {
                        return err("an unresolved effect");
                    };
                    let depth = env.stack.len();
                    env.stack.extend(c.params.iter().copied());
                    let start = env.origins_len();
                    let body = self.expr(env, c.body)?;
                    stretches.push(start..env.origins_len());
                    env.stack.truncate(depth);
                    out.push(core::Clause {
                        effect: effect.to_core(),
                        arity: c.params.len() as u32,
                        body,
                    });
                }
                let mut sorted: Vec<(usize, core::Clause)> = out.into_iter().enumerate().collect();
                sorted.sort_by(|a, b| a.1.effect.cmp(&b.1.effect));
                if let Some(o) = &mut env.origins {
                    let moved: Vec<ExprId> = sorted
                        .iter()
                        .flat_map(|(i, _)| o[stretches[*i].clone()].to_vec())
                        .collect();
                    o.truncate(first);
                    o.extend(moved);
                }
                let clauses = sorted.into_iter().map(|(_, c)| c).collect();
                core::Expr::Handle { body: inner, clauses }
            }
            Expr::Perform { args, .. } => match infer.expr_res.get(&e) {
                Some(Res::Def(d, _)) => {
                    core::Expr::Perform { effect: d.to_core(), args: self.exprs(env, args)? }
                }
                _ => return err("an unresolved effect"),
            },
            Expr::Resume(args) => core::Expr::Resume(self.single(env, e, args)?),
            Expr::Abort(args) => core::Expr::Abort(self.single(env, e, args)?),
            Expr::Within { deadline, body: inner, fallback } => core::Expr::Within {
                deadline: Box::new(self.expr(env, *deadline)?),
                body: Box::new(self.expr(env, *inner)?),
                fallback: Box::new(self.expr(env, *fallback)?),
            },
            Expr::After { delay, body: inner } => core::Expr::After {
                delay: Box::new(self.expr(env, *delay)?),
                body: Box::new(self.expr(env, *inner)?),
            },
            Expr::Lambda { params, body: inner } => {
                let Ty::Fn(f) = infer.type_of_expr(e) else {
                    return err("a lambda's type is unknown");
                };
                let ptys = f.params.iter().map(|p| self.ty(p)).collect::<Result<_, _>>()?;
                let ret = self.ty(&f.ret)?;
                let depth = env.stack.len();
                env.stack.extend(params.iter().map(|(b, _)| *b));
                let inner = self.expr(env, *inner)?;
                env.stack.truncate(depth);
                core::Expr::Lambda { params: ptys, ret, body: Box::new(inner) }
            }
        })
    }

    /// `{ s1; s2; tail }` (expression `e`) becomes nested `Let`/`Seq`. Built in two passes
    /// (statements forward, then nesting backward) so that a long block does not recurse per
    /// statement.
    fn block(
        &self,
        env: &mut Env<'_>,
        e: ExprId,
        stmts: &[Stmt],
        tail: Option<ExprId>,
    ) -> Result<core::Expr, LowerError> {
        enum Lowered {
            Let(core::Type, core::Expr),
            Seq(core::Expr),
        }
        let depth = env.stack.len();
        let mut lowered = Vec::with_capacity(stmts.len());
        let result = (|| {
            for stmt in stmts {
                match stmt {
                    Stmt::Let { binding, init, .. } => {
                        let ty = self.ty(env.infer.type_of_binding(*binding))?;
                        env.origin(e);
                        let value = self.expr(env, *init)?;
                        env.stack.push(*binding);
                        lowered.push(Lowered::Let(ty, value));
                    }
                    Stmt::Expr(x) => {
                        env.origin(e);
                        lowered.push(Lowered::Seq(self.expr(env, *x)?));
                    }
                }
            }
            match tail {
                Some(t) => self.expr(env, t),
                None => {
                    env.origin(e);
                    Ok(core::Expr::Lit(core::Lit::Unit))
                }
            }
        })();
        env.stack.truncate(depth);
        let mut acc = result?;
        for l in lowered.into_iter().rev() {
            acc = match l {
                Lowered::Let(ty, value) => {
                    core::Expr::Let { ty, value: Box::new(value), body: Box::new(acc) }
                }
                Lowered::Seq(first) => {
                    core::Expr::Seq { first: Box::new(first), then: Box::new(acc) }
                }
            };
        }
        Ok(acc)
    }

    /// Lowers a pattern, pushing its bindings in canonical order (left to right, record
    /// fields sorted by name).
    fn pat(&self, env: &mut Env<'_>, p: PatId) -> Result<core::Pat, LowerError> {
        let body = env.body;
        Ok(match &body.pats[p] {
            Pat::Missing => return err("a pattern is missing"),
            Pat::Wild => core::Pat::Wildcard,
            Pat::Bind(b) => {
                env.stack.push(*b);
                core::Pat::Bind
            }
            Pat::Lit(l) => core::Pat::Lit(self.lit(l)),
            Pat::Variant { args, .. } => {
                let Some(Res::Variant(v)) = env.infer.pat_res.get(&p) else {
                    return err("an unresolved variant");
                };
                let v = v.clone();
                let mut fields = Vec::new();
                for sp in args.iter().flatten() {
                    fields.push(self.pat(env, *sp)?);
                }
                core::Pat::Variant { owner: self.owner(&v), index: v.index, fields }
            }
            Pat::Record { fields, .. } => {
                let mut sorted: Vec<_> = fields.iter().collect();
                sorted.sort_by(|a, b| a.0.cmp(&b.0));
                let mut out = Vec::new();
                for (name, sp) in sorted {
                    out.push((name.clone(), self.pat(env, *sp)?));
                }
                core::Pat::Record { fields: out }
            }
        })
    }
}
