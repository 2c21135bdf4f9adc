//! Type and effect inference for one body.
//!
//! Signatures of items are explicit; inside a body, `let`s, lambdas and the builtin generic
//! functions are inferred by unification. Every `perform` and every call of an effectful
//! function adds its effects to the innermost frame (the function, a lambda, or a `handle`
//! body); `handle` removes what it handles. Errors produce [`Ty::Error`], which agrees with
//! everything, so one mistake yields one diagnostic.

use std::collections::BTreeMap;

use la_arena::ArenaMap;
use rustc_hash::FxHashMap;
use smol_str::SmolStr;
use tel_hash::core::{BinOp, Builtin, DefKind, UnOp};

use crate::body::{
    BindingId, Body, BodyAnchor, BodyRoot, EffectName, Expr, ExprId, Literal, Pat, PatId, Stmt,
};
use crate::def_map::{DefMap, Ns, Resolution, VariantOwner, VariantRef};
use crate::diagnostics::{Anchored, codes};
use crate::item_tree::{Item, ItemKind, ItemPart};
use crate::signature::{
    HirDatabase, TyLowerer, describe_resolution, expand_alias, resolve_hash_ref,
};
use crate::ty::{DefId, DefRef, EffectSet, EffectSig, FnTy, Signature, Ty, TyVar};
use crate::type_ref::{Path, TypeRefId};

/// Where an inference diagnostic points: into the body, or at the item's signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InferAnchor {
    Body(BodyAnchor),
    Sig(ItemPart),
}

/// What a path (or `#hash`, or record/perform/clause path) in a body refers to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Res {
    Local(BindingId),
    Def(DefRef, DefKind),
    Builtin(Builtin),
    Variant(VariantRef),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InferenceResult {
    pub expr_types: ArenaMap<ExprId, Ty>,
    pub pat_types: ArenaMap<PatId, Ty>,
    pub binding_types: ArenaMap<BindingId, Ty>,
    /// For `Path`, `HashRef`, `Record` (its type path or nominal type), `Perform` (the effect)
    /// expressions.
    pub expr_res: FxHashMap<ExprId, Res>,
    /// For variant patterns and record patterns with a path.
    pub pat_res: FxHashMap<PatId, Res>,
    /// The effect each handler clause handles: `(handle expr, clause index)`.
    pub clause_effects: FxHashMap<(ExprId, u32), DefRef>,
    /// Effects the body performs (after its handlers), i.e. what a call of it performs.
    pub effects: EffectSet,
    pub diagnostics: Vec<Anchored<InferAnchor>>,
}

impl InferenceResult {
    pub fn type_of_expr(&self, e: ExprId) -> &Ty {
        self.expr_types.get(e).unwrap_or(&Ty::Error)
    }
    pub fn type_of_pat(&self, p: PatId) -> &Ty {
        self.pat_types.get(p).unwrap_or(&Ty::Error)
    }
    pub fn type_of_binding(&self, b: BindingId) -> &Ty {
        self.binding_types.get(b).unwrap_or(&Ty::Error)
    }
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.severity == crate::diagnostics::Severity::Error)
    }
}

/// Infers the body of `owner` (a function, or a schema's defaults). `item` is its entry in
/// the item tree (for pointing at its effect row).
pub fn infer(db: &dyn HirDatabase, owner: &DefId, item: &Item, body: &Body) -> InferenceResult {
    let def_map = db.def_map();
    let sig = db.signature(&DefRef::Def(owner.clone()));
    let mut cx = Ctx {
        db,
        def_map: &def_map,
        owner,
        body,
        vars: Vec::new(),
        result: InferenceResult::default(),
        frames: vec![BTreeMap::new()],
        clauses: vec![None],
        lowered_type_refs: ArenaMap::default(),
        matches: Vec::new(),
        lambdas: Vec::new(),
        pat_had_error: Vec::new(),
    };
    for d in &body.diagnostics {
        cx.result.diagnostics.push(d.clone().map_anchor(InferAnchor::Body));
    }
    match (&body.root, sig.as_deref()) {
        (BodyRoot::Expr(root), Some(Signature::Fn(fsig))) => {
            for (i, b) in body.params.iter().enumerate() {
                let ty = fsig.params.get(i).map_or(Ty::Error, |(_, t)| t.clone());
                cx.result.binding_types.insert(*b, ty);
            }
            cx.check_expr(*root, &fsig.ret);
            let performed = cx.frames.pop().unwrap_or_default();
            cx.check_row(item, &fsig.effects, &performed);
            cx.result.effects = performed.keys().cloned().collect();
        }
        (BodyRoot::SchemaDefaults(defaults), Some(Signature::Schema(ssig))) => {
            for (field, expr) in defaults {
                let ty = ssig.fields.get(*field as usize).map_or(Ty::Error, |f| f.ty.clone());
                cx.check_expr(*expr, &ty);
            }
            let performed = cx.frames.pop().unwrap_or_default();
            for (effect, site) in &performed {
                cx.result.diagnostics.push(Anchored::error(
                    InferAnchor::Body(site.anchor),
                    codes::IMPURE_DEFAULT,
                    format!(
                        "a schema default must be pure, but this performs `{}`",
                        effect.display_name()
                    ),
                ));
            }
        }
        (BodyRoot::Expr(root), _) => {
            // No usable signature (reported elsewhere): still check the body for its own errors.
            cx.infer_expr(*root, None);
        }
        (BodyRoot::SchemaDefaults(defaults), _) => {
            for (_, expr) in defaults {
                cx.infer_expr(*expr, None);
            }
        }
    }
    cx.finish()
}

/// A record literal's declared shape: its type, its fields, how messages name it.
type RecordTarget = (Ty, Vec<(SmolStr, Ty)>, String);

#[derive(Clone, Debug)]
struct VarSlot {
    bound: Option<Ty>,
    /// The type of an expression that never produces a value (`abort`): defaults to `()`.
    diverging: bool,
}

#[derive(Clone, Debug)]
struct EffectSite {
    anchor: BodyAnchor,
    /// Who performs it, for the message ("`transfer`"); `None` for a `perform`.
    subject: Option<String>,
}

#[derive(Clone, Debug)]
struct ClauseCtx {
    op_ret: Ty,
    handle_ty: Ty,
}

struct Ctx<'a> {
    db: &'a dyn HirDatabase,
    def_map: &'a DefMap,
    owner: &'a DefId,
    body: &'a Body,
    vars: Vec<VarSlot>,
    result: InferenceResult,
    /// Effects performed so far, innermost frame last, each with its first site.
    frames: Vec<BTreeMap<DefRef, EffectSite>>,
    /// The enclosing handler clause, innermost last (`None` inside a lambda).
    clauses: Vec<Option<ClauseCtx>>,
    lowered_type_refs: ArenaMap<TypeRefId, Ty>,
    matches: Vec<ExprId>,
    lambdas: Vec<ExprId>,
    /// Patterns with an error in them (or in a sub-pattern).
    pat_had_error: Vec<PatId>,
}

impl<'a> Ctx<'a> {
    // ---- diagnostics -------------------------------------------------------------------

    fn error(&mut self, anchor: BodyAnchor, code: &'static str, msg: impl Into<String>) {
        self.result.diagnostics.push(Anchored::error(InferAnchor::Body(anchor), code, msg));
    }

    fn warning(&mut self, anchor: BodyAnchor, code: &'static str, msg: impl Into<String>) {
        self.result.diagnostics.push(Anchored::warning(InferAnchor::Body(anchor), code, msg));
    }

    // ---- type variables ----------------------------------------------------------------

    fn new_var(&mut self) -> Ty {
        self.vars.push(VarSlot { bound: None, diverging: false });
        Ty::Var(TyVar(self.vars.len() as u32 - 1))
    }

    fn new_diverging_var(&mut self) -> Ty {
        self.vars.push(VarSlot { bound: None, diverging: true });
        Ty::Var(TyVar(self.vars.len() as u32 - 1))
    }

    /// Follows bound variables at the top.
    fn shallow(&self, ty: &Ty) -> Ty {
        let mut cur = ty.clone();
        while let Ty::Var(v) = cur {
            match &self.vars[v.0 as usize].bound {
                Some(t) => cur = t.clone(),
                None => return cur,
            }
        }
        cur
    }

    /// Like [`Self::shallow`], and expands `type` aliases.
    fn norm(&self, ty: &Ty) -> Ty {
        let t = self.shallow(ty);
        match t {
            Ty::Named(_) => {
                let e = expand_alias(self.db, &t);
                if e == t { t } else { self.norm(&e) }
            }
            _ => t,
        }
    }

    /// Substitutes every bound variable.
    fn resolve(&self, ty: &Ty) -> Ty {
        match self.shallow(ty) {
            Ty::List(t) => Ty::list(self.resolve(&t)),
            Ty::Option(t) => Ty::option(self.resolve(&t)),
            Ty::Map(k, v) => Ty::map(self.resolve(&k), self.resolve(&v)),
            Ty::Record(fs) => {
                Ty::Record(fs.iter().map(|(n, t)| (n.clone(), self.resolve(t))).collect())
            }
            Ty::Fn(f) => Ty::func(
                f.params.iter().map(|t| self.resolve(t)).collect(),
                self.resolve(&f.ret),
                f.effects.clone(),
            ),
            t => t,
        }
    }

    fn occurs(&self, v: TyVar, ty: &Ty) -> bool {
        match self.shallow(ty) {
            Ty::Var(w) => v == w,
            Ty::List(t) | Ty::Option(t) => self.occurs(v, &t),
            Ty::Map(k, val) => self.occurs(v, &k) || self.occurs(v, &val),
            Ty::Record(fs) => fs.iter().any(|(_, t)| self.occurs(v, t)),
            Ty::Fn(f) => f.params.iter().any(|t| self.occurs(v, t)) || self.occurs(v, &f.ret),
            _ => false,
        }
    }

    fn bind(&mut self, v: TyVar, ty: Ty) -> bool {
        if self.occurs(v, &ty) {
            return false;
        }
        let diverging = self.vars[v.0 as usize].diverging;
        if let Ty::Var(w) = ty
            && !diverging
        {
            // A normal variable wins over a diverging one, so `abort` does not make the
            // other branch default to `()`.
            self.vars[w.0 as usize].diverging = false;
        }
        self.vars[v.0 as usize].bound = Some(ty);
        true
    }

    /// Makes `actual` and `expected` equal. A function value may perform fewer effects than
    /// the expected function type allows; `open_effects` waives the check (builtin
    /// arguments, whose effects flow to the call instead).
    fn unify_with(&mut self, actual: &Ty, expected: &Ty, open_effects: bool) -> bool {
        let a = self.shallow(actual);
        let b = self.shallow(expected);
        match (&a, &b) {
            (Ty::Var(x), Ty::Var(y)) if x == y => true,
            // A variable meeting an error becomes an error: it is already reported.
            (Ty::Var(x), Ty::Error) | (Ty::Error, Ty::Var(x)) => {
                self.vars[x.0 as usize].bound = Some(Ty::Error);
                true
            }
            (Ty::Error, _) | (_, Ty::Error) => true,
            (Ty::Var(x), _) => self.bind(*x, b.clone()),
            (_, Ty::Var(y)) => self.bind(*y, a.clone()),
            (Ty::Int, Ty::Int)
            | (Ty::Bool, Ty::Bool)
            | (Ty::String, Ty::String)
            | (Ty::Duration, Ty::Duration)
            | (Ty::Unit, Ty::Unit)
            | (Ty::Hash, Ty::Hash) => true,
            (Ty::List(x), Ty::List(y)) | (Ty::Option(x), Ty::Option(y)) => {
                self.unify_with(x, y, open_effects)
            }
            (Ty::Map(k1, v1), Ty::Map(k2, v2)) => {
                let k = self.unify_with(k1, k2, open_effects);
                self.unify_with(v1, v2, open_effects) && k
            }
            (Ty::Record(f1), Ty::Record(f2)) => self.unify_fields(f1, f2, open_effects),
            (Ty::Named(d1), Ty::Named(d2)) if d1 == d2 => true,
            (Ty::Fn(f1), Ty::Fn(f2)) => {
                if f1.params.len() != f2.params.len() {
                    return false;
                }
                let mut ok = true;
                for (p1, p2) in f1.params.iter().zip(&f2.params) {
                    ok &= self.unify_with(p1, p2, open_effects);
                }
                ok &= self.unify_with(&f1.ret, &f2.ret, open_effects);
                ok && (open_effects || f1.effects.is_subset(&f2.effects))
            }
            _ => {
                // Aliases, and a structural record meeting a nominal one with the same fields.
                let na = self.norm(&a);
                let nb = self.norm(&b);
                if na != a || nb != b {
                    return self.unify_with(&na, &nb, open_effects);
                }
                match (&na, &nb) {
                    (Ty::Record(fs), Ty::Named(d)) | (Ty::Named(d), Ty::Record(fs)) => {
                        match self.record_fields_of(d) {
                            Some(decl) => self.unify_fields(fs, &decl, open_effects),
                            None => false,
                        }
                    }
                    _ => false,
                }
            }
        }
    }

    fn unify_fields(&mut self, f1: &[(SmolStr, Ty)], f2: &[(SmolStr, Ty)], open: bool) -> bool {
        if f1.len() != f2.len() || f1.iter().zip(f2).any(|(a, b)| a.0 != b.0) {
            return false;
        }
        let mut ok = true;
        for ((_, t1), (_, t2)) in f1.iter().zip(f2) {
            ok &= self.unify_with(t1, t2, open);
        }
        ok
    }

    fn unify(&mut self, actual: &Ty, expected: &Ty) -> bool {
        self.unify_with(actual, expected, false)
    }

    /// Unifies, reporting "expected …, found …" at `anchor` on failure.
    fn expect_ty(&mut self, anchor: BodyAnchor, actual: &Ty, expected: &Ty) -> bool {
        if self.unify(actual, expected) {
            return true;
        }
        let (a, e) = (self.resolve(actual), self.resolve(expected));
        self.error(anchor, codes::TYPE_MISMATCH, format!("expected `{e}`, found `{a}`"));
        false
    }

    fn record_fields_of(&self, def: &DefRef) -> Option<Vec<(SmolStr, Ty)>> {
        record_fields(self.db, def)
    }

    // ---- effects -----------------------------------------------------------------------

    fn perform_effects(
        &mut self,
        effects: &EffectSet,
        anchor: BodyAnchor,
        subject: Option<String>,
    ) {
        let frame = self.frames.last_mut().expect("a frame is always open");
        for e in effects {
            frame
                .entry(e.clone())
                .or_insert_with(|| EffectSite { anchor, subject: subject.clone() });
        }
    }

    fn check_row(
        &mut self,
        item: &Item,
        declared: &EffectSet,
        performed: &BTreeMap<DefRef, EffectSite>,
    ) {
        let owner = self.owner.name.clone();
        // One message per site, naming every effect missing there.
        let mut by_site: Vec<(BodyAnchor, Option<String>, Vec<String>)> = Vec::new();
        for (effect, site) in performed {
            if declared.contains(effect) {
                continue;
            }
            let name = format!("`{}`", effect.display_name());
            match by_site.iter_mut().find(|(a, s, _)| *a == site.anchor && *s == site.subject) {
                Some((_, _, names)) => names.push(name),
                None => by_site.push((site.anchor, site.subject.clone(), vec![name])),
            }
        }
        for (anchor, subject, names) in by_site {
            let (list, verb) = match names.as_slice() {
                [one] => (one.clone(), "is"),
                [init @ .., last] => (format!("{} and {last}", init.join(", ")), "are"),
                [] => continue,
            };
            let msg = match subject {
                Some(who) => {
                    format!(
                        "{who} performs {list}, which {verb} not in the effect row of `{owner}`"
                    )
                }
                None => format!(
                    "{list} is performed here, but it is not in the effect row of `{owner}`"
                ),
            };
            self.error(anchor, codes::EFFECT_NOT_IN_ROW, msg);
        }
        let ItemKind::Fn(decl) = &item.kind else { return };
        let mut lower = TyLowerer::new(self.db, self.def_map, &self.owner.module, &item.type_refs);
        let entry_point = owner == "main" && decl.params.is_empty();
        for id in &decl.effects {
            let Some(effect) = lower.lower_effect(*id) else { continue };
            let is_host =
                matches!(&effect, DefRef::Def(d) if d.module == crate::ty::PRELUDE_MODULE);
            if entry_point && !is_host {
                self.result.diagnostics.push(Anchored::error(
                    InferAnchor::Sig(ItemPart::TypeRef(*id)),
                    codes::ENTRY_POINT_EFFECT,
                    format!(
                        "`main` cannot run: effect `{}` is declared by this program and must be handled inside it (only host effects may remain in the row of an entry point)",
                        effect.display_name()
                    ),
                ));
            }
            if !performed.contains_key(&effect) {
                self.result.diagnostics.push(Anchored::warning(
                    InferAnchor::Sig(ItemPart::TypeRef(*id)),
                    codes::UNUSED_EFFECT,
                    format!(
                        "`{owner}` declares `{}` in its effect row but never performs it",
                        effect.display_name()
                    ),
                ));
            }
        }
    }

    // ---- types written in the body -----------------------------------------------------

    fn lower_type_ref(&mut self, id: TypeRefId) -> Ty {
        if let Some(t) = self.lowered_type_refs.get(id) {
            return t.clone();
        }
        let mut lower =
            TyLowerer::new(self.db, self.def_map, &self.owner.module, &self.body.type_refs);
        let ty = lower.lower_ty(id);
        let diags = lower.diagnostics;
        for d in diags {
            self.result.diagnostics.push(d.map_anchor(|t| InferAnchor::Body(BodyAnchor::from(t))));
        }
        self.lowered_type_refs.insert(id, ty.clone());
        ty
    }

    // ---- expressions -------------------------------------------------------------------

    /// Checks `e` against `expected`, reporting a mismatch at `e`.
    fn check_expr(&mut self, e: ExprId, expected: &Ty) -> Ty {
        let ty = self.infer_expr(e, Some(expected));
        self.expect_ty(BodyAnchor::Expr(e), &ty, expected);
        ty
    }

    fn infer_expr(&mut self, e: ExprId, expected: Option<&Ty>) -> Ty {
        let ty = self.infer_expr_inner(e, expected);
        self.result.expr_types.insert(e, ty.clone());
        ty
    }

    fn infer_expr_inner(&mut self, e: ExprId, expected: Option<&Ty>) -> Ty {
        let body = self.body;
        match &body.exprs[e] {
            Expr::Missing => Ty::Error,
            Expr::Lit(lit) => lit_ty(lit),
            Expr::Local(b) => self.result.binding_types.get(*b).cloned().unwrap_or(Ty::Error),
            Expr::Path(path) => match self.resolve_value(e, path) {
                Some(res) => self.value_ty(&res),
                None => Ty::Error,
            },
            Expr::HashRef(text) => match resolve_hash_ref(self.db, text, Ns::Value) {
                Ok((def, kind)) => {
                    self.result.expr_res.insert(e, Res::Def(def.clone(), kind));
                    self.value_ty(&Res::Def(def, kind))
                }
                Err(err) => {
                    if let Some((code, msg)) = err {
                        self.error(BodyAnchor::Expr(e), code, msg);
                    }
                    Ty::Error
                }
            },
            Expr::Call { callee, args } => self.infer_call(e, *callee, args, expected),
            Expr::Field { expr, name } => {
                let recv = self.infer_expr(*expr, None);
                self.field_ty(e, &recv, name)
            }
            Expr::Binary { op, lhs, rhs } => self.infer_binary(e, *op, *lhs, *rhs),
            Expr::Unary { op, expr } => {
                let t = self.infer_expr(*expr, None);
                let n = self.norm(&t);
                match (op, &n) {
                    (_, Ty::Error) => Ty::Error,
                    (UnOp::Neg, Ty::Int | Ty::Duration) => n,
                    (UnOp::Not, Ty::Bool) => Ty::Bool,
                    (UnOp::Neg, Ty::Var(_)) => {
                        self.unify(&t, &Ty::Int);
                        Ty::Int
                    }
                    (UnOp::Not, Ty::Var(_)) => {
                        self.unify(&t, &Ty::Bool);
                        Ty::Bool
                    }
                    (UnOp::Neg, _) => {
                        let shown = self.resolve(&t);
                        self.error(
                            BodyAnchor::ExprToken(e),
                            codes::BAD_OPERAND,
                            format!("cannot negate a value of type `{shown}`"),
                        );
                        Ty::Error
                    }
                    (UnOp::Not, _) => {
                        let shown = self.resolve(&t);
                        self.error(
                            BodyAnchor::ExprToken(e),
                            codes::BAD_OPERAND,
                            format!("`!` needs a `Bool`, found `{shown}`"),
                        );
                        Ty::Error
                    }
                }
            }
            Expr::Record { path, fields } => self.infer_record(e, path.as_ref(), fields, expected),
            Expr::List(items) => {
                let elem = match expected.map(|t| self.norm(t)) {
                    Some(Ty::List(t)) => *t,
                    _ => self.new_var(),
                };
                for item in items {
                    self.check_expr(*item, &elem);
                }
                Ty::list(elem)
            }
            Expr::Block { stmts, tail } => {
                for stmt in stmts {
                    match stmt {
                        Stmt::Let { binding, ty, init } => {
                            let t = match ty {
                                Some(t) => {
                                    let t = self.lower_type_ref(*t);
                                    self.check_expr(*init, &t);
                                    t
                                }
                                None => self.infer_expr(*init, None),
                            };
                            self.result.binding_types.insert(*binding, t);
                        }
                        Stmt::Expr(x) => {
                            self.infer_expr(*x, None);
                        }
                    }
                }
                match (tail, expected) {
                    (Some(t), Some(exp)) => {
                        self.check_expr(*t, exp);
                        exp.clone()
                    }
                    (Some(t), None) => self.infer_expr(*t, None),
                    (None, _) => Ty::Unit,
                }
            }
            Expr::If { cond, then, else_ } => {
                self.check_expr(*cond, &Ty::Bool);
                match else_ {
                    Some(else_) => match expected {
                        Some(exp) => {
                            self.check_expr(*then, exp);
                            self.check_expr(*else_, exp);
                            exp.clone()
                        }
                        None => {
                            let t = self.infer_expr(*then, None);
                            self.check_expr(*else_, &t);
                            t
                        }
                    },
                    None => {
                        self.check_expr(*then, &Ty::Unit);
                        Ty::Unit
                    }
                }
            }
            Expr::Match { scrutinee, arms } => {
                let st = self.infer_expr(*scrutinee, None);
                let mut result: Option<Ty> = expected.cloned();
                for arm in arms {
                    self.check_pat(arm.pat, &st);
                    if let Some(g) = arm.guard {
                        self.check_expr(g, &Ty::Bool);
                    }
                    match &result {
                        Some(t) => {
                            let t = t.clone();
                            self.check_expr(arm.body, &t);
                        }
                        None => result = Some(self.infer_expr(arm.body, None)),
                    }
                }
                // A match with a wrong pattern is not judged for coverage (no follow-on noise).
                if !arms.iter().any(|a| self.pat_had_error.contains(&a.pat)) {
                    self.matches.push(e);
                }
                result.unwrap_or_else(|| self.new_diverging_var())
            }
            Expr::Handle { body: inner, clauses } => {
                self.infer_handle(e, *inner, clauses, expected)
            }
            Expr::Perform { effect, args } => {
                let Some((def, sig)) = self.resolve_effect(effect, BodyAnchor::ExprToken(e)) else {
                    for a in args {
                        self.infer_expr(*a, None);
                    }
                    return Ty::Error;
                };
                self.result.expr_res.insert(e, Res::Def(def.clone(), DefKind::Effect));
                let params: Vec<Ty> = sig.params.iter().map(|(_, t)| t.clone()).collect();
                self.check_args(e, &format!("effect `{}`", sig.name), &params, args);
                self.perform_effects(&EffectSet::from([def]), BodyAnchor::ExprToken(e), None);
                sig.ret.clone()
            }
            Expr::Resume(args) | Expr::Abort(args) => {
                let resume = matches!(body.exprs[e], Expr::Resume(_));
                let what = if resume { "resume" } else { "abort" };
                match self.clauses.last().cloned().flatten() {
                    None => {
                        self.error(
                            BodyAnchor::Expr(e),
                            codes::RESUME_OUTSIDE_CLAUSE,
                            format!("`{what}` can only be used inside a handler clause"),
                        );
                        for a in args {
                            self.infer_expr(*a, None);
                        }
                        Ty::Error
                    }
                    // Both end the clause (Decision 20), so like a diverging expression they
                    // fit any expected type: `resume(v)` gives the operation its result,
                    // `abort(v)` gives the whole `handle` its value.
                    Some(ctx) => {
                        let expected = if resume { &ctx.op_ret } else { &ctx.handle_ty };
                        self.check_single_arg(e, what, args, expected);
                        self.new_diverging_var()
                    }
                }
            }
            Expr::Within { deadline, body: inner, fallback } => {
                self.check_expr(*deadline, &Ty::Duration);
                match expected {
                    Some(exp) => {
                        self.check_expr(*inner, exp);
                        self.check_expr(*fallback, exp);
                        exp.clone()
                    }
                    None => {
                        let t = self.infer_expr(*inner, None);
                        self.check_expr(*fallback, &t);
                        t
                    }
                }
            }
            Expr::After { delay, body: inner } => {
                self.check_expr(*delay, &Ty::Duration);
                let sleep = DefRef::Def(DefId::prelude("Sleep"));
                self.perform_effects(
                    &EffectSet::from([sleep]),
                    BodyAnchor::ExprToken(e),
                    Some("`after`".into()),
                );
                match expected {
                    Some(exp) => {
                        self.check_expr(*inner, exp);
                        exp.clone()
                    }
                    None => self.infer_expr(*inner, None),
                }
            }
            Expr::Lambda { params, body: inner } => self.infer_lambda(e, params, *inner, expected),
        }
    }

    fn check_single_arg(&mut self, e: ExprId, what: &str, args: &[ExprId], expected: &Ty) {
        match args {
            [] => {
                if !self.unify(&Ty::Unit, expected) {
                    let shown = self.resolve(expected);
                    self.error(
                        BodyAnchor::Expr(e),
                        codes::ARG_COUNT,
                        format!("`{what}` needs a value of type `{shown}`"),
                    );
                }
            }
            [a] => {
                self.check_expr(*a, expected);
            }
            [_, rest @ ..] => {
                self.check_expr(args[0], expected);
                for a in rest {
                    self.infer_expr(*a, None);
                }
                self.error(
                    BodyAnchor::Expr(e),
                    codes::ARG_COUNT,
                    format!("`{what}` takes 1 argument, found {}", args.len()),
                );
            }
        }
    }

    fn check_args(&mut self, e: ExprId, what: &str, params: &[Ty], args: &[ExprId]) {
        if params.len() != args.len() {
            let s = if params.len() == 1 { "" } else { "s" };
            self.error(
                BodyAnchor::Expr(e),
                codes::ARG_COUNT,
                format!("{what} takes {} argument{s}, found {}", params.len(), args.len()),
            );
        }
        for (i, a) in args.iter().enumerate() {
            match params.get(i) {
                Some(p) => {
                    self.check_expr(*a, p);
                }
                None => {
                    self.infer_expr(*a, None);
                }
            }
        }
    }

    fn resolve_value(&mut self, e: ExprId, path: &Path) -> Option<Res> {
        match self.def_map.resolve_path(&self.owner.module, path, Ns::Value) {
            Ok(res) => {
                let res = match res {
                    Resolution::Def(d, k) => Res::Def(d, k),
                    Resolution::Variant(v) => Res::Variant(v),
                    Resolution::Builtin(b) => Res::Builtin(b),
                    other => {
                        self.error(
                            BodyAnchor::Expr(e),
                            codes::NOT_A_VALUE,
                            format!("expected a value, found {}", describe_resolution(&other)),
                        );
                        return None;
                    }
                };
                self.result.expr_res.insert(e, res.clone());
                Some(res)
            }
            Err(err) => {
                let msg =
                    match (&err, self.def_map.resolve_path(&self.owner.module, path, Ns::Effect)) {
                        (_, Ok(Resolution::Def(..))) => {
                            format!("`{path}` is an effect; perform it with `perform {path}(…)`")
                        }
                        (
                            crate::def_map::ResolveError::WrongKind {
                                found: "type" | "enum" | "schema",
                                ..
                            },
                            _,
                        ) => {
                            format!("`{path}` is a type, not a value")
                        }
                        _ => err.message(),
                    };
                let code = if matches!(err, crate::def_map::ResolveError::WrongKind { .. }) {
                    codes::NOT_A_VALUE
                } else {
                    err.code()
                };
                self.error(BodyAnchor::Expr(e), code, msg);
                None
            }
        }
    }

    /// The type of a resolved name used as a value (not called).
    fn value_ty(&mut self, res: &Res) -> Ty {
        match res {
            Res::Local(b) => self.result.binding_types.get(*b).cloned().unwrap_or(Ty::Error),
            Res::Def(def, DefKind::Fn) => match self.db.signature(def).as_deref() {
                Some(Signature::Fn(f)) => f.fn_ty(),
                _ => Ty::Error,
            },
            Res::Def(..) => Ty::Error,
            Res::Builtin(b) => self.builtin_value_ty(*b),
            Res::Variant(v) => {
                let (fields, owner) = self.variant_shape(v);
                let Some(fields) = fields else { return Ty::Error };
                if fields.is_empty() { owner } else { Ty::func(fields, owner, EffectSet::new()) }
            }
        }
    }

    /// A variant's field types and its enum's type (fresh variables for the option type).
    fn variant_shape(&mut self, v: &VariantRef) -> (Option<Vec<Ty>>, Ty) {
        match &v.owner {
            VariantOwner::Option => {
                let t = self.new_var();
                let fields = if v.index == 0 { vec![t.clone()] } else { vec![] };
                (Some(fields), Ty::option(t))
            }
            VariantOwner::Enum(def) => {
                let fields = match self.db.signature(def).as_deref() {
                    Some(Signature::Enum(sig)) => {
                        sig.variants.get(v.index as usize).map(|(_, f)| f.clone())
                    }
                    _ => None,
                };
                (fields, Ty::Named(def.clone()))
            }
        }
    }

    fn builtin_value_ty(&mut self, b: Builtin) -> Ty {
        let none = EffectSet::new;
        match b {
            Builtin::Show => {
                let t = self.new_var();
                Ty::func(vec![t], Ty::String, none())
            }
            Builtin::Len => {
                let t = self.new_var();
                Ty::func(vec![Ty::list(t)], Ty::Int, none())
            }
            Builtin::Map => {
                let (a, b2) = (self.new_var(), self.new_var());
                Ty::func(
                    vec![Ty::list(a.clone()), Ty::func(vec![a], b2.clone(), none())],
                    Ty::list(b2),
                    none(),
                )
            }
            Builtin::Filter => {
                let a = self.new_var();
                Ty::func(
                    vec![Ty::list(a.clone()), Ty::func(vec![a.clone()], Ty::Bool, none())],
                    Ty::list(a),
                    none(),
                )
            }
            Builtin::Fold => {
                let (a, b2) = (self.new_var(), self.new_var());
                Ty::func(
                    vec![
                        Ty::list(a.clone()),
                        b2.clone(),
                        Ty::func(vec![b2.clone(), a], b2.clone(), none()),
                    ],
                    b2,
                    none(),
                )
            }
            Builtin::Get => {
                let (k, v) = (self.new_var(), self.new_var());
                Ty::func(vec![Ty::map(k.clone(), v.clone()), k], Ty::option(v), none())
            }
            Builtin::Insert => {
                let (k, v) = (self.new_var(), self.new_var());
                let m = Ty::map(k.clone(), v.clone());
                Ty::func(vec![m.clone(), k, v], m, none())
            }
            Builtin::EmptyMap => {
                let (k, v) = (self.new_var(), self.new_var());
                Ty::func(vec![], Ty::map(k, v), none())
            }
            Builtin::Keys => {
                let (k, v) = (self.new_var(), self.new_var());
                Ty::func(vec![Ty::map(k.clone(), v)], Ty::list(k), none())
            }
            Builtin::Now => {
                Ty::func(vec![], Ty::Int, EffectSet::from([DefRef::Def(DefId::prelude("Now"))]))
            }
        }
    }

    fn infer_call(
        &mut self,
        e: ExprId,
        callee: ExprId,
        args: &[ExprId],
        expected: Option<&Ty>,
    ) -> Ty {
        let body = self.body;
        // Builtins and variant constructors are not ordinary function values.
        if let Expr::Path(path) = &body.exprs[callee] {
            let Some(res) = self.resolve_value(callee, path) else {
                for a in args {
                    self.infer_expr(*a, None);
                }
                self.result.expr_types.insert(callee, Ty::Error);
                return Ty::Error;
            };
            match &res {
                Res::Builtin(b) => {
                    let t = self.builtin_value_ty(*b);
                    self.result.expr_types.insert(callee, t);
                    return self.infer_builtin_call(e, *b, args);
                }
                Res::Variant(v) => {
                    let (fields, owner) = self.variant_shape(v);
                    self.result.expr_types.insert(callee, owner.clone());
                    let Some(fields) = fields else { return Ty::Error };
                    if fields.is_empty() {
                        self.error(
                            BodyAnchor::Expr(e),
                            codes::ARG_COUNT,
                            format!(
                                "variant `{}` has no fields; write `{}` without parentheses",
                                v.name, v.name
                            ),
                        );
                        for a in args {
                            self.infer_expr(*a, None);
                        }
                        return owner;
                    }
                    // Let the expected type guide the fields (e.g. `Some([])` as a `List<Int>?`).
                    if let Some(exp) = expected {
                        self.unify(&owner, exp);
                    }
                    self.check_args(e, &format!("variant `{}`", v.name), &fields, args);
                    return owner;
                }
                _ => {}
            }
            let t = self.value_ty(&res);
            self.result.expr_types.insert(callee, t.clone());
            let subject = format!("`{path}`");
            return self.call_fn_value(e, callee, &t, args, Some(subject));
        }
        let t = self.infer_expr(callee, None);
        let subject = match &body.exprs[callee] {
            Expr::Local(b) => Some(format!("`{}`", body.bindings[*b].name)),
            Expr::HashRef(text) => Some(format!("`#{text}`")),
            _ => Some("this call".to_string()),
        };
        self.call_fn_value(e, callee, &t, args, subject)
    }

    fn call_fn_value(
        &mut self,
        e: ExprId,
        callee: ExprId,
        callee_ty: &Ty,
        args: &[ExprId],
        subject: Option<String>,
    ) -> Ty {
        let t = self.norm(callee_ty);
        match t {
            Ty::Fn(f) => {
                let FnTy { params, ret, effects } = *f;
                let what = subject.clone().unwrap_or_else(|| "this function".into());
                self.check_args(e, &what, &params, args);
                self.perform_effects(&effects, BodyAnchor::Expr(callee), subject);
                ret
            }
            Ty::Error => {
                for a in args {
                    self.infer_expr(*a, None);
                }
                Ty::Error
            }
            Ty::Var(_) => {
                self.error(
                    BodyAnchor::Expr(e),
                    codes::CANNOT_INFER,
                    "the type of this function is not known here; add a type annotation",
                );
                for a in args {
                    self.infer_expr(*a, None);
                }
                Ty::Error
            }
            other => {
                let shown = self.resolve(&other);
                self.error(
                    BodyAnchor::Expr(e),
                    codes::NOT_CALLABLE,
                    format!("a value of type `{shown}` cannot be called"),
                );
                for a in args {
                    self.infer_expr(*a, None);
                }
                Ty::Error
            }
        }
    }

    fn arity_error(&mut self, e: ExprId, b: Builtin, want: usize, args: &[ExprId]) -> bool {
        if args.len() == want {
            return false;
        }
        let s = if want == 1 { "" } else { "s" };
        self.error(
            BodyAnchor::Expr(e),
            codes::ARG_COUNT,
            format!("`{}` takes {want} argument{s}, found {}", b.name(), args.len()),
        );
        for a in args {
            self.infer_expr(*a, None);
        }
        true
    }

    /// Checks a function argument of a builtin: its effects flow to the call.
    fn check_fn_arg(&mut self, b: Builtin, arg: ExprId, expected: &Ty) {
        let t = self.infer_expr(arg, Some(expected));
        if !self.unify_with(&t, expected, true) {
            let (a, x) = (self.resolve(&t), self.resolve(expected));
            self.error(
                BodyAnchor::Expr(arg),
                codes::TYPE_MISMATCH,
                format!("expected `{x}`, found `{a}`"),
            );
            return;
        }
        if let Ty::Fn(f) = self.norm(&t) {
            let subject = format!("the function passed to `{}`", b.name());
            self.perform_effects(&f.effects, BodyAnchor::Expr(arg), Some(subject));
        }
    }

    fn infer_builtin_call(&mut self, e: ExprId, b: Builtin, args: &[ExprId]) -> Ty {
        let none = EffectSet::new;
        match b {
            Builtin::Show => {
                if self.arity_error(e, b, 1, args) {
                    return Ty::String;
                }
                let t = self.infer_expr(args[0], None);
                if let Ty::Fn(_) = self.norm(&t) {
                    self.error(
                        BodyAnchor::Expr(args[0]),
                        codes::BAD_OPERAND,
                        "a function cannot be shown",
                    );
                }
                Ty::String
            }
            Builtin::Len => {
                if self.arity_error(e, b, 1, args) {
                    return Ty::Int;
                }
                let t = self.infer_expr(args[0], None);
                match self.norm(&t) {
                    Ty::List(_) | Ty::String | Ty::Map(..) | Ty::Error => {}
                    Ty::Var(_) => self.error(
                        BodyAnchor::Expr(args[0]),
                        codes::CANNOT_INFER,
                        "the type of this value is not known here; add a type annotation",
                    ),
                    other => {
                        let shown = self.resolve(&other);
                        self.error(
                            BodyAnchor::Expr(args[0]),
                            codes::TYPE_MISMATCH,
                            format!("`len` needs a `List`, `String` or `Map`, found `{shown}`"),
                        );
                    }
                }
                Ty::Int
            }
            Builtin::Map | Builtin::Filter => {
                let a = self.new_var();
                let out = if b == Builtin::Map { self.new_var() } else { Ty::Bool };
                if self.arity_error(e, b, 2, args) {
                    return Ty::Error;
                }
                self.check_expr(args[0], &Ty::list(a.clone()));
                self.check_fn_arg(b, args[1], &Ty::func(vec![a.clone()], out.clone(), none()));
                if b == Builtin::Map { Ty::list(out) } else { Ty::list(a) }
            }
            Builtin::Fold => {
                let (a, acc) = (self.new_var(), self.new_var());
                if self.arity_error(e, b, 3, args) {
                    return Ty::Error;
                }
                self.check_expr(args[0], &Ty::list(a.clone()));
                self.check_expr(args[1], &acc);
                self.check_fn_arg(b, args[2], &Ty::func(vec![acc.clone(), a], acc.clone(), none()));
                acc
            }
            Builtin::Get => {
                if self.arity_error(e, b, 2, args) {
                    return Ty::Error;
                }
                let c = self.infer_expr(args[0], None);
                match self.norm(&c) {
                    Ty::Map(k, v) => {
                        self.check_expr(args[1], &k);
                        Ty::option(*v)
                    }
                    Ty::List(t) => {
                        self.check_expr(args[1], &Ty::Int);
                        Ty::option(*t)
                    }
                    Ty::Error => {
                        self.infer_expr(args[1], None);
                        Ty::Error
                    }
                    Ty::Var(_) => {
                        self.error(
                            BodyAnchor::Expr(args[0]),
                            codes::CANNOT_INFER,
                            "the type of this value is not known here; add a type annotation",
                        );
                        self.infer_expr(args[1], None);
                        Ty::Error
                    }
                    other => {
                        let shown = self.resolve(&other);
                        self.error(
                            BodyAnchor::Expr(args[0]),
                            codes::TYPE_MISMATCH,
                            format!("`get` needs a `Map` or a `List`, found `{shown}`"),
                        );
                        self.infer_expr(args[1], None);
                        Ty::Error
                    }
                }
            }
            Builtin::Insert => {
                let (k, v) = (self.new_var(), self.new_var());
                let m = Ty::map(k.clone(), v.clone());
                if self.arity_error(e, b, 3, args) {
                    return Ty::Error;
                }
                self.check_expr(args[0], &m);
                self.check_expr(args[1], &k);
                self.check_expr(args[2], &v);
                let key = self.norm(&k);
                if !matches!(key, Ty::Var(_)) && !is_map_key(&key) {
                    let shown = self.resolve(&key);
                    self.error(
                        BodyAnchor::Expr(args[1]),
                        codes::BAD_MAP_KEY,
                        format!("`{shown}` cannot be a map key: keys are `Int`, `Bool`, `String`, `Duration` or `Hash`"),
                    );
                }
                m
            }
            Builtin::EmptyMap => {
                let (k, v) = (self.new_var(), self.new_var());
                self.arity_error(e, b, 0, args);
                Ty::map(k, v)
            }
            Builtin::Keys => {
                let (k, v) = (self.new_var(), self.new_var());
                if self.arity_error(e, b, 1, args) {
                    return Ty::list(k);
                }
                self.check_expr(args[0], &Ty::map(k.clone(), v));
                Ty::list(k)
            }
            Builtin::Now => {
                self.arity_error(e, b, 0, args);
                let now = DefRef::Def(DefId::prelude("Now"));
                self.perform_effects(
                    &EffectSet::from([now]),
                    BodyAnchor::Expr(e),
                    Some("`now`".into()),
                );
                Ty::Int
            }
        }
    }

    fn field_ty(&mut self, e: ExprId, recv: &Ty, name: &SmolStr) -> Ty {
        let n = self.norm(recv);
        let (fields, owner) = match &n {
            Ty::Error => return Ty::Error,
            Ty::Record(fs) => (Some(fs.clone()), format!("{}", self.resolve(&n))),
            Ty::Named(d) => (self.record_fields_of(d), format!("{}", n)),
            Ty::Var(_) => {
                self.error(BodyAnchor::ExprToken(e), codes::CANNOT_INFER, format!("cannot access `.{name}`: the type of this value is not known here; add a type annotation"));
                return Ty::Error;
            }
            _ => (None, format!("{}", self.resolve(&n))),
        };
        match fields {
            Some(fs) => match fs.iter().find(|(f, _)| f == name) {
                Some((_, t)) => t.clone(),
                None => {
                    let names: Vec<String> = fs.iter().map(|(f, _)| format!("`{f}`")).collect();
                    self.error(
                        BodyAnchor::ExprToken(e),
                        codes::UNKNOWN_FIELD,
                        format!(
                            "`{owner}` has no field `{name}` (its fields: {})",
                            names.join(", ")
                        ),
                    );
                    Ty::Error
                }
            },
            None => {
                self.error(
                    BodyAnchor::ExprToken(e),
                    codes::UNKNOWN_FIELD,
                    format!("`{owner}` has no fields; `.{name}` needs a record"),
                );
                Ty::Error
            }
        }
    }

    fn infer_binary(&mut self, e: ExprId, op: BinOp, lhs: ExprId, rhs: ExprId) -> Ty {
        let op_anchor = BodyAnchor::ExprToken(e);
        let sym = op.symbol();
        match op {
            BinOp::And | BinOp::Or => {
                self.check_expr(lhs, &Ty::Bool);
                self.check_expr(rhs, &Ty::Bool);
                Ty::Bool
            }
            BinOp::Eq | BinOp::Ne => {
                let l = self.infer_expr(lhs, None);
                self.check_expr(rhs, &l);
                let lt = self.resolve(&l);
                if lt.contains_fn() {
                    let what = if matches!(lt, Ty::Fn(_)) {
                        "functions"
                    } else {
                        "values that contain functions"
                    };
                    self.error(
                        op_anchor,
                        codes::BAD_OPERAND,
                        format!("{what} cannot be compared with `{sym}`"),
                    );
                }
                Ty::Bool
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let l = self.infer_expr(lhs, None);
                self.check_expr(rhs, &l);
                match self.norm(&l) {
                    Ty::Int | Ty::Duration | Ty::String | Ty::Error => {}
                    Ty::Var(_) => {
                        self.unify(&l, &Ty::Int);
                    }
                    other => {
                        let shown = self.resolve(&other);
                        self.error(op_anchor, codes::BAD_OPERAND, format!("`{sym}` compares `Int`, `Duration` or `String` values, not `{shown}`"));
                    }
                }
                Ty::Bool
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
                let l = self.infer_expr(lhs, None);
                match self.norm(&l) {
                    Ty::Int => {
                        self.check_expr(rhs, &Ty::Int);
                        Ty::Int
                    }
                    Ty::Duration if op != BinOp::Rem => {
                        let r = if matches!(op, BinOp::Add | BinOp::Sub) {
                            Ty::Duration
                        } else {
                            Ty::Int
                        };
                        self.check_expr(rhs, &r);
                        Ty::Duration
                    }
                    Ty::Error => {
                        self.infer_expr(rhs, None);
                        Ty::Error
                    }
                    Ty::Var(_) => {
                        self.unify(&l, &Ty::Int);
                        self.check_expr(rhs, &Ty::Int);
                        Ty::Int
                    }
                    other => {
                        self.infer_expr(rhs, None);
                        let shown = self.resolve(&other);
                        let hint = if other == Ty::String && op == BinOp::Add {
                            "; use `++` to join strings"
                        } else {
                            ""
                        };
                        let what = if other == Ty::Duration {
                            "`%` needs `Int` operands".to_string()
                        } else {
                            format!("`{sym}` cannot be applied to `{shown}`{hint}")
                        };
                        self.error(op_anchor, codes::BAD_OPERAND, what);
                        Ty::Error
                    }
                }
            }
            BinOp::Concat => {
                let l = self.infer_expr(lhs, None);
                match self.norm(&l) {
                    Ty::String | Ty::List(_) | Ty::Var(_) => {
                        self.check_expr(rhs, &l);
                        l
                    }
                    Ty::Error => {
                        self.infer_expr(rhs, None);
                        Ty::Error
                    }
                    other => {
                        self.infer_expr(rhs, None);
                        let shown = self.resolve(&other);
                        let hint = if matches!(other, Ty::Int | Ty::Bool | Ty::Duration) {
                            "; convert it with `show`"
                        } else {
                            ""
                        };
                        self.error(
                            op_anchor,
                            codes::BAD_OPERAND,
                            format!("`++` joins `String`s or `List`s, not `{shown}`{hint}"),
                        );
                        Ty::Error
                    }
                }
            }
        }
    }

    fn infer_record(
        &mut self,
        e: ExprId,
        path: Option<&Path>,
        fields: &[(SmolStr, ExprId)],
        expected: Option<&Ty>,
    ) -> Ty {
        let path_anchor =
            if path.is_some() { BodyAnchor::ExprToken(e) } else { BodyAnchor::Expr(e) };
        // The declared shape: (type of the literal, its fields, how to name it).
        let mut target: Option<RecordTarget> = None;
        let mut failed = false;
        if let Some(path) = path {
            match self.def_map.resolve_path(&self.owner.module, path, Ns::Type) {
                Ok(Resolution::Def(def, kind)) => {
                    self.result.expr_res.insert(e, Res::Def(def.clone(), kind));
                    match self.record_fields_of(&def) {
                        Some(fs) => {
                            // Through an alias to the nominal record type itself.
                            let ty = expand_alias(self.db, &Ty::Named(def.clone()));
                            target = Some((ty, fs, def.display_name()))
                        }
                        None => {
                            self.error(
                                path_anchor,
                                codes::WRONG_KIND,
                                format!("`{path}` is not a record type"),
                            );
                            failed = true;
                        }
                    }
                }
                Ok(other) => {
                    self.error(
                        path_anchor,
                        codes::WRONG_KIND,
                        format!("expected a record type, found {}", describe_resolution(&other)),
                    );
                    failed = true;
                }
                Err(err) => {
                    self.error(path_anchor, err.code(), err.message());
                    failed = true;
                }
            }
        } else if let Some(exp) = expected {
            match self.norm(exp) {
                Ty::Named(def) => {
                    if let Some(fs) = self.record_fields_of(&def) {
                        target = Some((Ty::Named(def.clone()), fs, def.display_name()));
                    }
                }
                Ty::Record(fs) => {
                    let shown = format!("{}", self.resolve(&Ty::Record(fs.clone())));
                    target = Some((Ty::Record(fs.clone()), fs, shown));
                }
                _ => {}
            }
        }
        let mut seen: Vec<&SmolStr> = Vec::new();
        let dup = |this: &mut Self, i: usize, name: &'_ SmolStr, seen: &mut Vec<_>| -> bool {
            if seen.contains(&name) {
                this.error(
                    BodyAnchor::RecordField(e, i as u32),
                    codes::DUPLICATE_FIELD,
                    format!("field `{name}` is given twice"),
                );
                true
            } else {
                false
            }
        };
        match target {
            Some((ty, decl, shown)) => {
                for (i, (name, value)) in fields.iter().enumerate() {
                    if dup(self, i, name, &mut seen) {
                        self.infer_expr(*value, None);
                        continue;
                    }
                    seen.push(name);
                    match decl.iter().find(|(f, _)| f == name) {
                        Some((_, t)) => {
                            self.check_expr(*value, t);
                        }
                        None => {
                            self.error(
                                BodyAnchor::RecordField(e, i as u32),
                                codes::UNKNOWN_FIELD,
                                format!("`{shown}` has no field `{name}`"),
                            );
                            self.infer_expr(*value, None);
                        }
                    }
                }
                let missing: Vec<String> = decl
                    .iter()
                    .filter(|(f, _)| !fields.iter().any(|(g, _)| g == f))
                    .map(|(f, _)| format!("`{f}`"))
                    .collect();
                if !missing.is_empty() {
                    let s = if missing.len() == 1 { "" } else { "s" };
                    self.error(
                        path_anchor,
                        codes::MISSING_FIELD,
                        format!("missing field{s} {} in `{shown}`", missing.join(", ")),
                    );
                }
                ty
            }
            None => {
                let mut out: Vec<(SmolStr, Ty)> = Vec::new();
                for (i, (name, value)) in fields.iter().enumerate() {
                    let t = self.infer_expr(*value, None);
                    if dup(self, i, name, &mut seen) {
                        continue;
                    }
                    seen.push(name);
                    out.push((name.clone(), t));
                }
                if failed {
                    return Ty::Error;
                }
                out.sort_by(|a, b| a.0.cmp(&b.0));
                Ty::Record(out)
            }
        }
    }

    fn resolve_effect(
        &mut self,
        effect: &EffectName,
        anchor: BodyAnchor,
    ) -> Option<(DefRef, EffectSig)> {
        let def = match effect {
            EffectName::Missing => return None,
            EffectName::Hash(text) => match resolve_hash_ref(self.db, text, Ns::Effect) {
                Ok((def, _)) => def,
                Err(err) => {
                    if let Some((code, msg)) = err {
                        self.error(anchor, code, msg);
                    }
                    return None;
                }
            },
            EffectName::Path(path) => {
                match self.def_map.resolve_path(&self.owner.module, path, Ns::Effect) {
                    Ok(Resolution::Def(def, DefKind::Effect)) => def,
                    Ok(other) => {
                        self.error(
                            anchor,
                            codes::WRONG_KIND,
                            format!("expected an effect, found {}", describe_resolution(&other)),
                        );
                        return None;
                    }
                    Err(err) => {
                        self.error(anchor, err.code(), err.message());
                        return None;
                    }
                }
            }
        };
        match self.db.signature(&def).as_deref() {
            Some(Signature::Effect(sig)) => Some((def, sig.clone())),
            _ => None,
        }
    }

    fn infer_handle(
        &mut self,
        e: ExprId,
        inner: ExprId,
        clauses: &[crate::body::HandlerClause],
        expected: Option<&Ty>,
    ) -> Ty {
        self.frames.push(BTreeMap::new());
        let body_ty = match expected {
            Some(exp) => {
                self.check_expr(inner, exp);
                exp.clone()
            }
            None => self.infer_expr(inner, None),
        };
        let performed = self.frames.pop().expect("pushed above");
        let mut handled: Vec<DefRef> = Vec::new();
        for (i, clause) in clauses.iter().enumerate() {
            let anchor = BodyAnchor::Clause(e, i as u32);
            let resolved = self.resolve_effect(&clause.effect, anchor);
            let (op_params, op_ret) = match &resolved {
                Some((def, sig)) => {
                    if handled.contains(def) {
                        self.error(
                            anchor,
                            codes::DUPLICATE_CLAUSE,
                            format!("`{}` is handled twice in this `handle`", sig.name),
                        );
                    } else {
                        handled.push(def.clone());
                        self.result.clause_effects.insert((e, i as u32), def.clone());
                        if !performed.contains_key(def) {
                            self.warning(
                                anchor,
                                codes::UNUSED_CLAUSE,
                                format!(
                                    "`{}` is never performed in the body of this `handle`",
                                    sig.name
                                ),
                            );
                        }
                    }
                    if sig.params.len() != clause.params.len() {
                        let s = if sig.params.len() == 1 { "" } else { "s" };
                        self.error(
                            anchor,
                            codes::ARG_COUNT,
                            format!(
                                "effect `{}` has {} parameter{s}, but this clause binds {}",
                                sig.name,
                                sig.params.len(),
                                clause.params.len()
                            ),
                        );
                    }
                    (sig.params.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>(), sig.ret.clone())
                }
                None => (Vec::new(), Ty::Error),
            };
            for (j, b) in clause.params.iter().enumerate() {
                self.result
                    .binding_types
                    .insert(*b, op_params.get(j).cloned().unwrap_or(Ty::Error));
            }
            self.clauses
                .push(Some(ClauseCtx { op_ret: op_ret.clone(), handle_ty: body_ty.clone() }));
            self.check_expr(clause.body, &op_ret);
            self.clauses.pop();
        }
        let frame = self.frames.last_mut().expect("a frame is always open");
        for (effect, site) in performed {
            if !handled.contains(&effect) {
                frame.entry(effect).or_insert(site);
            }
        }
        body_ty
    }

    fn infer_lambda(
        &mut self,
        e: ExprId,
        params: &[(BindingId, Option<TypeRefId>)],
        inner: ExprId,
        expected: Option<&Ty>,
    ) -> Ty {
        let exp_fn = match expected.map(|t| self.norm(t)) {
            Some(Ty::Fn(f)) if f.params.len() == params.len() => Some(*f),
            _ => None,
        };
        let mut param_tys = Vec::new();
        for (i, (b, annot)) in params.iter().enumerate() {
            let from_expected = exp_fn.as_ref().map(|f| f.params[i].clone());
            let t = match (annot, from_expected) {
                (Some(a), exp) => {
                    let t = self.lower_type_ref(*a);
                    if let Some(exp) = exp {
                        self.expect_ty(BodyAnchor::TypeRef(*a), &t, &exp);
                    }
                    t
                }
                (None, Some(exp)) => exp,
                (None, None) => {
                    let name = &self.body.bindings[*b].name;
                    self.error(
                        BodyAnchor::Binding(*b),
                        codes::CANNOT_INFER,
                        format!("cannot infer the type of `{name}`; annotate it: `|{name}: T| …`"),
                    );
                    Ty::Error
                }
            };
            self.result.binding_types.insert(*b, t.clone());
            param_tys.push(t);
        }
        self.frames.push(BTreeMap::new());
        self.clauses.push(None);
        let ret = match exp_fn.as_ref() {
            Some(f) => {
                let r = f.ret.clone();
                self.check_expr(inner, &r);
                r
            }
            None => self.infer_expr(inner, None),
        };
        self.clauses.pop();
        let performed = self.frames.pop().expect("pushed above");
        self.lambdas.push(e);
        Ty::func(param_tys, ret, performed.into_keys().collect())
    }

    // ---- patterns ----------------------------------------------------------------------

    fn check_pat(&mut self, p: PatId, expected: &Ty) {
        let before = self.result.diagnostics.len();
        self.check_pat_inner(p, expected);
        if self.result.diagnostics.len() > before {
            self.pat_had_error.push(p);
        }
    }

    fn check_pat_inner(&mut self, p: PatId, expected: &Ty) {
        self.result.pat_types.insert(p, expected.clone());
        let body = self.body;
        match &body.pats[p] {
            Pat::Missing | Pat::Wild => {}
            Pat::Bind(b) => {
                self.result.binding_types.insert(*b, expected.clone());
            }
            Pat::Lit(lit) => {
                let t = lit_ty(lit);
                if !self.unify(&t, expected) {
                    let shown = self.resolve(expected);
                    self.error(
                        BodyAnchor::Pat(p),
                        codes::TYPE_MISMATCH,
                        format!("expected a pattern of type `{shown}`, found `{t}`"),
                    );
                }
            }
            Pat::Variant { path, args } => {
                let res = self.def_map.resolve_path(&self.owner.module, path, Ns::Value);
                let v = match res {
                    Ok(Resolution::Variant(v)) => v,
                    Ok(other) => {
                        self.error(
                            BodyAnchor::Pat(p),
                            codes::BAD_PATTERN,
                            format!("expected a variant, found {}", describe_resolution(&other)),
                        );
                        self.check_sub_pats(args.as_deref(), &[]);
                        return;
                    }
                    Err(err) => {
                        self.error(BodyAnchor::Pat(p), err.code(), err.message());
                        self.check_sub_pats(args.as_deref(), &[]);
                        return;
                    }
                };
                self.result.pat_res.insert(p, Res::Variant(v.clone()));
                let (fields, owner) = self.variant_shape(&v);
                if !self.unify(&owner, expected) {
                    let x = self.resolve(expected);
                    let of = match &v.owner {
                        VariantOwner::Option => "an option".to_string(),
                        VariantOwner::Enum(d) => format!("`{}`", d.display_name()),
                    };
                    self.error(
                        BodyAnchor::Pat(p),
                        codes::TYPE_MISMATCH,
                        format!(
                            "expected a pattern of type `{x}`, found variant `{}` of {of}",
                            v.name
                        ),
                    );
                }
                let fields = fields.unwrap_or_default();
                match args {
                    None if !fields.is_empty() => {
                        let blanks = vec!["_"; fields.len()].join(", ");
                        self.error(
                            BodyAnchor::Pat(p),
                            codes::BAD_PATTERN,
                            format!(
                                "variant `{}` has fields; write `{}({blanks})`",
                                v.name, v.name
                            ),
                        );
                    }
                    Some(ps) if ps.len() != fields.len() => {
                        let s = if fields.len() == 1 { "" } else { "s" };
                        self.error(
                            BodyAnchor::Pat(p),
                            codes::BAD_PATTERN,
                            format!(
                                "variant `{}` has {} field{s}, but the pattern has {}",
                                v.name,
                                fields.len(),
                                ps.len()
                            ),
                        );
                        self.check_sub_pats(Some(ps), &fields);
                    }
                    Some(ps) => self.check_sub_pats(Some(ps), &fields),
                    None => {}
                }
            }
            Pat::Record { path, fields, rest } => {
                let mut decl: Option<(Vec<(SmolStr, Ty)>, String)> = None;
                if let Some(path) = path {
                    match self.def_map.resolve_path(&self.owner.module, path, Ns::Type) {
                        Ok(Resolution::Def(def, kind)) => {
                            self.result.pat_res.insert(p, Res::Def(def.clone(), kind));
                            let ty = Ty::Named(def.clone());
                            if !self.unify(&ty, expected) {
                                let x = self.resolve(expected);
                                self.error(
                                    BodyAnchor::Pat(p),
                                    codes::TYPE_MISMATCH,
                                    format!("expected a pattern of type `{x}`, found `{ty}`"),
                                );
                            }
                            match self.record_fields_of(&def) {
                                Some(fs) => decl = Some((fs, def.display_name())),
                                None => self.error(
                                    BodyAnchor::Pat(p),
                                    codes::WRONG_KIND,
                                    format!("`{path}` is not a record type"),
                                ),
                            }
                        }
                        Ok(other) => self.error(
                            BodyAnchor::Pat(p),
                            codes::WRONG_KIND,
                            format!(
                                "expected a record type, found {}",
                                describe_resolution(&other)
                            ),
                        ),
                        Err(err) => self.error(BodyAnchor::Pat(p), err.code(), err.message()),
                    }
                } else {
                    match self.norm(expected) {
                        Ty::Named(def) => match self.record_fields_of(&def) {
                            Some(fs) => decl = Some((fs, def.display_name())),
                            None => self.error(
                                BodyAnchor::Pat(p),
                                codes::TYPE_MISMATCH,
                                format!(
                                    "expected a pattern of type `{}`, found a record pattern",
                                    def.display_name()
                                ),
                            ),
                        },
                        Ty::Record(fs) => {
                            let shown = format!("{}", self.resolve(&Ty::Record(fs.clone())));
                            decl = Some((fs, shown));
                        }
                        Ty::Error => {}
                        Ty::Var(_) => self.error(
                            BodyAnchor::Pat(p),
                            codes::CANNOT_INFER,
                            "the type of this value is not known here; add a type annotation",
                        ),
                        other => {
                            let shown = self.resolve(&other);
                            self.error(
                                BodyAnchor::Pat(p),
                                codes::TYPE_MISMATCH,
                                format!(
                                    "expected a pattern of type `{shown}`, found a record pattern"
                                ),
                            );
                        }
                    }
                }
                let mut seen: Vec<&SmolStr> = Vec::new();
                for (i, (name, sub)) in fields.iter().enumerate() {
                    let anchor = BodyAnchor::PatField(p, i as u32);
                    let ty = match &decl {
                        Some((fs, shown)) => match fs.iter().find(|(f, _)| f == name) {
                            Some((_, t)) => t.clone(),
                            None => {
                                self.error(
                                    anchor,
                                    codes::UNKNOWN_FIELD,
                                    format!("`{shown}` has no field `{name}`"),
                                );
                                Ty::Error
                            }
                        },
                        None => Ty::Error,
                    };
                    if seen.contains(&name) {
                        self.error(
                            anchor,
                            codes::DUPLICATE_FIELD,
                            format!("field `{name}` appears twice in this pattern"),
                        );
                    }
                    seen.push(name);
                    self.check_pat(*sub, &ty);
                }
                if let Some((fs, _)) = &decl
                    && !rest
                {
                    let missing: Vec<String> = fs
                        .iter()
                        .filter(|(f, _)| !fields.iter().any(|(g, _)| g == f))
                        .map(|(f, _)| format!("`{f}`"))
                        .collect();
                    if !missing.is_empty() {
                        self.error(
                            BodyAnchor::Pat(p),
                            codes::BAD_PATTERN,
                            format!(
                                "pattern does not mention {}; add `..` to ignore the rest",
                                missing.join(", ")
                            ),
                        );
                    }
                }
            }
        }
    }

    fn check_sub_pats(&mut self, pats: Option<&[PatId]>, tys: &[Ty]) {
        for (i, sp) in pats.unwrap_or(&[]).iter().enumerate() {
            let t = tys.get(i).cloned().unwrap_or(Ty::Error);
            self.check_pat(*sp, &t);
        }
    }

    // ---- finishing ---------------------------------------------------------------------

    fn finish(mut self) -> InferenceResult {
        // Unresolved variables: a diverging one is `()`; any other left in a type the core
        // IR needs (a `let`, a lambda) is reported once.
        for v in 0..self.vars.len() {
            if self.vars[v].bound.is_none() && self.vars[v].diverging {
                self.vars[v].bound = Some(Ty::Unit);
            }
        }
        let mut reported: Vec<TyVar> = Vec::new();
        let body = self.body;
        let mut binders: Vec<(BindingId, BodyAnchor)> = Vec::new();
        for (_, expr) in body.exprs.iter() {
            match expr {
                Expr::Block { stmts, .. } => {
                    for s in stmts {
                        if let Stmt::Let { binding, .. } = s {
                            binders.push((*binding, BodyAnchor::Binding(*binding)));
                        }
                    }
                }
                Expr::Lambda { params, .. } => {
                    for (b, _) in params {
                        binders.push((*b, BodyAnchor::Binding(*b)));
                    }
                }
                _ => {}
            }
        }
        for (b, anchor) in binders {
            let Some(t) = self.result.binding_types.get(b).cloned() else { continue };
            let r = self.resolve(&t);
            if let Some(v) = first_var(&r)
                && !reported.contains(&v)
            {
                reported.push(v);
                let name = &body.bindings[b].name;
                self.error(
                    anchor,
                    codes::CANNOT_INFER,
                    format!("cannot infer the type of `{name}` (`{r}`); add a type annotation"),
                );
            }
        }
        for e in self.lambdas.clone() {
            let Some(t) = self.result.expr_types.get(e).cloned() else { continue };
            let r = self.resolve(&t);
            if let Some(v) = first_var(&r)
                && !reported.contains(&v)
            {
                reported.push(v);
                self.error(
                    BodyAnchor::Expr(e),
                    codes::CANNOT_INFER,
                    format!("cannot infer the type of this function (`{r}`); add type annotations"),
                );
            }
        }
        let zonk = |cx: &Ctx<'_>, t: &Ty| erase_vars(cx.resolve(t));
        let exprs: Vec<(ExprId, Ty)> =
            self.result.expr_types.iter().map(|(e, t)| (e, zonk(&self, t))).collect();
        let pats: Vec<(PatId, Ty)> =
            self.result.pat_types.iter().map(|(p, t)| (p, zonk(&self, t))).collect();
        let binds: Vec<(BindingId, Ty)> =
            self.result.binding_types.iter().map(|(b, t)| (b, zonk(&self, t))).collect();
        self.result.expr_types = exprs.into_iter().collect();
        self.result.pat_types = pats.into_iter().collect();
        self.result.binding_types = binds.into_iter().collect();
        for m in std::mem::take(&mut self.matches) {
            let diags = crate::exhaustive::check_match(self.db, self.body, &self.result, m);
            self.result
                .diagnostics
                .extend(diags.into_iter().map(|d| d.map_anchor(InferAnchor::Body)));
        }
        self.result
    }
}

fn first_var(t: &Ty) -> Option<TyVar> {
    let mut found = None;
    fn walk(t: &Ty, found: &mut Option<TyVar>) {
        if found.is_some() {
            return;
        }
        match t {
            Ty::Var(v) => *found = Some(*v),
            Ty::List(x) | Ty::Option(x) => walk(x, found),
            Ty::Map(k, v) => {
                walk(k, found);
                walk(v, found);
            }
            Ty::Record(fs) => fs.iter().for_each(|(_, x)| walk(x, found)),
            Ty::Fn(f) => {
                f.params.iter().for_each(|x| walk(x, found));
                walk(&f.ret, found);
            }
            _ => {}
        }
    }
    walk(t, &mut found);
    found
}

/// Replaces unsolved variables by `Ty::Error` (they were reported, or do not matter).
fn erase_vars(t: Ty) -> Ty {
    match t {
        Ty::Var(_) => Ty::Error,
        Ty::List(x) => Ty::list(erase_vars(*x)),
        Ty::Option(x) => Ty::option(erase_vars(*x)),
        Ty::Map(k, v) => Ty::map(erase_vars(*k), erase_vars(*v)),
        Ty::Record(fs) => Ty::Record(fs.into_iter().map(|(n, x)| (n, erase_vars(x))).collect()),
        Ty::Fn(f) => {
            let FnTy { params, ret, effects } = *f;
            Ty::func(params.into_iter().map(erase_vars).collect(), erase_vars(ret), effects)
        }
        t => t,
    }
}

pub(crate) fn lit_ty(lit: &Literal) -> Ty {
    match lit {
        Literal::Int(_) => Ty::Int,
        Literal::Bool(_) => Ty::Bool,
        Literal::String(_) => Ty::String,
        Literal::Duration(_) => Ty::Duration,
        Literal::Unit => Ty::Unit,
    }
}

/// The fields of a record type or schema, following aliases (`type Q = Quote`).
pub(crate) fn record_fields(db: &dyn HirDatabase, def: &DefRef) -> Option<Vec<(SmolStr, Ty)>> {
    match expand_alias(db, &Ty::Named(def.clone())) {
        Ty::Named(d) => db.signature(&d)?.record_fields(),
        Ty::Record(fields) => Some(fields),
        _ => None,
    }
}

/// Map keys need an order that is the same on every machine (language.md §3).
pub(crate) fn is_map_key(t: &Ty) -> bool {
    matches!(t, Ty::Int | Ty::Bool | Ty::String | Ty::Duration | Ty::Hash | Ty::Error)
}
