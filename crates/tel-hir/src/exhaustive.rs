//! Match checking: exhaustiveness (with the missing patterns named) and unreachable arms.
//!
//! The classic usefulness algorithm (Maranget, "Warnings for pattern matching") over the
//! constructors of TEL's types: `Bool`, `()`, options, enums and records have finitely many;
//! `Int`, `String`, `Duration`, lists, maps and functions have infinitely many, so only a
//! wildcard (or binding) covers them. Guarded arms never count as covering anything.

use smol_str::SmolStr;

use crate::body::{Body, BodyAnchor, Expr, ExprId, Literal, Pat, PatId};
use crate::def_map::VariantRef;
use crate::diagnostics::{Anchored, codes};
use crate::infer::{InferenceResult, Res};
use crate::signature::{HirDatabase, expand_alias};
use crate::ty::{Signature, Ty};

/// How many missing patterns a message lists.
const MAX_WITNESSES: usize = 4;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Ctor {
    Bool(bool),
    Unit,
    /// Variant `index` (of an enum or the option type).
    Variant(u32),
    /// The single constructor of a record type.
    Record,
    Lit(LitKey),
    /// Matches anything.
    Wild,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum LitKey {
    Int(i64),
    Str(SmolStr),
    Duration(i64),
}

/// A pattern reduced to constructors, with sub-patterns for the constructor's fields.
#[derive(Clone, Debug)]
struct DPat {
    ctor: Ctor,
    fields: Vec<DPat>,
}

impl DPat {
    fn wild() -> DPat {
        DPat { ctor: Ctor::Wild, fields: Vec::new() }
    }
}

/// A type's shape, as far as matching is concerned.
enum Shape {
    /// Finitely many constructors, each with its field types.
    Finite(Vec<(Ctor, Vec<Ty>)>),
    Infinite,
}

struct Cx<'a> {
    db: &'a dyn HirDatabase,
    body: &'a Body,
    infer: &'a InferenceResult,
    /// Names of constructors for printing, by type.
    budget: usize,
}

impl Cx<'_> {
    fn shape(&self, ty: &Ty) -> Shape {
        match expand_alias(self.db, ty) {
            Ty::Bool => {
                Shape::Finite(vec![(Ctor::Bool(true), vec![]), (Ctor::Bool(false), vec![])])
            }
            Ty::Unit => Shape::Finite(vec![(Ctor::Unit, vec![])]),
            Ty::Option(t) => {
                Shape::Finite(vec![(Ctor::Variant(0), vec![*t]), (Ctor::Variant(1), vec![])])
            }
            Ty::Record(fs) => {
                Shape::Finite(vec![(Ctor::Record, fs.into_iter().map(|(_, t)| t).collect())])
            }
            Ty::Named(def) => match self.db.signature(&def).as_deref() {
                Some(Signature::Enum(e)) => Shape::Finite(
                    e.variants
                        .iter()
                        .enumerate()
                        .map(|(i, (_, f))| (Ctor::Variant(i as u32), f.clone()))
                        .collect(),
                ),
                Some(_) => match crate::infer::record_fields(self.db, &def) {
                    Some(fs) => Shape::Finite(vec![(
                        Ctor::Record,
                        fs.into_iter().map(|(_, t)| t).collect(),
                    )]),
                    None => Shape::Infinite,
                },
                None => Shape::Infinite,
            },
            _ => Shape::Infinite,
        }
    }

    fn record_field_names(&self, ty: &Ty) -> Vec<SmolStr> {
        match expand_alias(self.db, ty) {
            Ty::Record(fs) => fs.into_iter().map(|(n, _)| n).collect(),
            Ty::Named(def) => crate::infer::record_fields(self.db, &def)
                .map(|fs| fs.into_iter().map(|(n, _)| n).collect())
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    fn lower_pat(&self, p: PatId, ty: &Ty) -> DPat {
        match &self.body.pats[p] {
            Pat::Missing | Pat::Wild | Pat::Bind(_) => DPat::wild(),
            Pat::Lit(lit) => DPat {
                ctor: match lit {
                    Literal::Bool(b) => Ctor::Bool(*b),
                    Literal::Unit => Ctor::Unit,
                    Literal::Int(i) => Ctor::Lit(LitKey::Int(*i)),
                    Literal::String(s) => Ctor::Lit(LitKey::Str(s.clone())),
                    Literal::Duration(d) => Ctor::Lit(LitKey::Duration(*d)),
                },
                fields: Vec::new(),
            },
            Pat::Variant { args, .. } => {
                let Some(Res::Variant(v)) = self.infer.pat_res.get(&p) else { return DPat::wild() };
                let field_tys = self.variant_fields(v, ty);
                let fields = field_tys
                    .iter()
                    .enumerate()
                    .map(|(i, t)| match args.as_ref().and_then(|a| a.get(i)) {
                        Some(sp) => self.lower_pat(*sp, t),
                        None => DPat::wild(),
                    })
                    .collect();
                DPat { ctor: Ctor::Variant(v.index), fields }
            }
            Pat::Record { fields, .. } => {
                let names = self.record_field_names(ty);
                let Shape::Finite(ctors) = self.shape(ty) else { return DPat::wild() };
                let Some((_, tys)) = ctors.into_iter().next() else { return DPat::wild() };
                let sub = names
                    .iter()
                    .zip(&tys)
                    .map(|(n, t)| match fields.iter().find(|(f, _)| f == n) {
                        Some((_, sp)) => self.lower_pat(*sp, t),
                        None => DPat::wild(),
                    })
                    .collect();
                DPat { ctor: Ctor::Record, fields: sub }
            }
        }
    }

    fn variant_fields(&self, v: &VariantRef, ty: &Ty) -> Vec<Ty> {
        self.arity(&Ctor::Variant(v.index), ty)
    }

    fn arity(&self, ctor: &Ctor, ty: &Ty) -> Vec<Ty> {
        match self.shape(ty) {
            Shape::Finite(ctors) => {
                ctors.into_iter().find(|(c, _)| c == ctor).map(|(_, f)| f).unwrap_or_default()
            }
            Shape::Infinite => Vec::new(),
        }
    }

    /// Rows whose head matches `ctor`, with the head replaced by its fields.
    fn specialize(&self, rows: &[Vec<DPat>], ctor: &Ctor, arity: usize) -> Vec<Vec<DPat>> {
        rows.iter()
            .filter_map(|row| {
                let (head, rest) = row.split_first()?;
                let mut out = if head.ctor == Ctor::Wild {
                    vec![DPat::wild(); arity]
                } else if head.ctor == *ctor {
                    head.fields.clone()
                } else {
                    return None;
                };
                out.extend_from_slice(rest);
                Some(out)
            })
            .collect()
    }

    fn default_rows(&self, rows: &[Vec<DPat>]) -> Vec<Vec<DPat>> {
        rows.iter().filter(|r| r[0].ctor == Ctor::Wild).map(|r| r[1..].to_vec()).collect()
    }

    /// Whether `v` matches some value no row matches.
    fn useful(&self, rows: &[Vec<DPat>], v: &[DPat], tys: &[Ty]) -> bool {
        let Some((head, rest)) = v.split_first() else { return rows.is_empty() };
        let ty = &tys[0];
        if head.ctor != Ctor::Wild {
            let field_tys = self.arity(&head.ctor, ty);
            let field_tys = if field_tys.len() == head.fields.len() {
                field_tys
            } else {
                vec![Ty::Error; head.fields.len()]
            };
            let spec = self.specialize(rows, &head.ctor, head.fields.len());
            let mut nv = head.fields.clone();
            nv.extend_from_slice(rest);
            let mut ntys = field_tys;
            ntys.extend_from_slice(&tys[1..]);
            return self.useful(&spec, &nv, &ntys);
        }
        match self.shape(ty) {
            Shape::Finite(ctors) if self.column_complete(rows, &ctors) => {
                ctors.iter().any(|(c, ftys)| {
                    let spec = self.specialize(rows, c, ftys.len());
                    let mut nv = vec![DPat::wild(); ftys.len()];
                    nv.extend_from_slice(rest);
                    let mut ntys = ftys.clone();
                    ntys.extend_from_slice(&tys[1..]);
                    self.useful(&spec, &nv, &ntys)
                })
            }
            _ => self.useful(&self.default_rows(rows), rest, &tys[1..]),
        }
    }

    fn column_complete(&self, rows: &[Vec<DPat>], ctors: &[(Ctor, Vec<Ty>)]) -> bool {
        ctors.iter().all(|(c, _)| rows.iter().any(|r| r[0].ctor == *c))
    }

    /// Value vectors (as printable patterns) no row matches; at most `budget` of them.
    fn missing(&mut self, rows: &[Vec<DPat>], tys: &[Ty]) -> Vec<Vec<Witness>> {
        if self.budget == 0 {
            return Vec::new();
        }
        let Some(ty) = tys.first() else {
            return if rows.is_empty() { vec![vec![]] } else { vec![] };
        };
        let mut out = Vec::new();
        match self.shape(ty) {
            Shape::Finite(ctors) if !self.column_complete(rows, &ctors) => {
                // Some constructor appears in no row: each absent one, with wildcard fields,
                // is missing wherever the rows that start with a wildcard leave a gap. This
                // keeps the search linear in the rows instead of exploring every value.
                let rest = self.missing(&self.default_rows(rows), &tys[1..]);
                if rows.iter().all(|r| r[0].ctor == Ctor::Wild) {
                    // No row looks at this position: any value is missing, say `_`.
                    for w in rest {
                        let mut v = vec![Witness::Wild];
                        v.extend(w);
                        out.push(v);
                    }
                    return self.spend(out, tys.len());
                }
                'outer: for (c, ftys) in &ctors {
                    if rows.iter().any(|r| r[0].ctor == *c) {
                        continue;
                    }
                    for w in &rest {
                        let mut v = vec![Witness::Ctor {
                            ctor: c.clone(),
                            ty: ty.clone(),
                            fields: vec![Witness::Wild; ftys.len()],
                        }];
                        v.extend_from_slice(w);
                        out.push(v);
                        if out.len() >= self.budget {
                            break 'outer;
                        }
                    }
                }
            }
            Shape::Finite(ctors) => {
                for (c, ftys) in &ctors {
                    let spec = self.specialize(rows, c, ftys.len());
                    let mut ntys = ftys.clone();
                    ntys.extend_from_slice(&tys[1..]);
                    for w in self.missing(&spec, &ntys) {
                        let (fields, rest) = w.split_at(ftys.len());
                        let mut v = vec![Witness::Ctor {
                            ctor: c.clone(),
                            ty: ty.clone(),
                            fields: fields.to_vec(),
                        }];
                        v.extend_from_slice(rest);
                        out.push(v);
                        if out.len() >= self.budget {
                            break;
                        }
                    }
                    if out.len() >= self.budget {
                        break;
                    }
                }
            }
            Shape::Infinite => {
                for w in self.missing(&self.default_rows(rows), &tys[1..]) {
                    let mut v = vec![Witness::Wild];
                    v.extend(w);
                    out.push(v);
                }
            }
        }
        self.spend(out, tys.len())
    }

    /// Counts witnesses found at the top level against the budget.
    fn spend(&mut self, out: Vec<Vec<Witness>>, width: usize) -> Vec<Vec<Witness>> {
        if width == 1 {
            self.budget = self.budget.saturating_sub(out.len());
        }
        out
    }

    fn show(&self, w: &Witness) -> String {
        match w {
            Witness::Wild => "_".into(),
            Witness::Ctor { ctor, ty, fields } => match ctor {
                Ctor::Bool(b) => b.to_string(),
                Ctor::Unit => "()".into(),
                Ctor::Lit(_) | Ctor::Wild => "_".into(),
                Ctor::Variant(i) => {
                    let name = self.variant_name(ty, *i);
                    if fields.is_empty() {
                        name
                    } else {
                        let fs: Vec<String> = fields.iter().map(|f| self.show(f)).collect();
                        format!("{name}({})", fs.join(", "))
                    }
                }
                Ctor::Record => {
                    let names = self.record_field_names(ty);
                    let shown: Vec<String> = names
                        .iter()
                        .zip(fields)
                        .filter(|(_, f)| !matches!(f, Witness::Wild))
                        .map(|(n, f)| format!("{n}: {}", self.show(f)))
                        .collect();
                    let prefix = match ty {
                        Ty::Named(d) => format!("{} ", d.display_name()),
                        _ => String::new(),
                    };
                    if shown.len() == names.len() {
                        format!("{prefix}{{ {} }}", shown.join(", "))
                    } else if shown.is_empty() {
                        format!("{prefix}{{ .. }}")
                    } else {
                        format!("{prefix}{{ {}, .. }}", shown.join(", "))
                    }
                }
            },
        }
    }

    fn variant_name(&self, ty: &Ty, i: u32) -> String {
        match expand_alias(self.db, ty) {
            Ty::Option(_) => if i == 0 { "Some" } else { "None" }.into(),
            Ty::Named(def) => match self.db.signature(&def).as_deref() {
                Some(Signature::Enum(e)) => {
                    e.variants.get(i as usize).map_or("_".into(), |(n, _)| n.to_string())
                }
                _ => "_".into(),
            },
            _ => "_".into(),
        }
    }
}

#[derive(Clone, Debug)]
enum Witness {
    Wild,
    Ctor { ctor: Ctor, ty: Ty, fields: Vec<Witness> },
}

/// Checks the `match` expression `m`: missing cases are an error at the `match`, arms that
/// can never be reached a warning at their pattern.
pub(crate) fn check_match(
    db: &dyn HirDatabase,
    body: &Body,
    infer: &InferenceResult,
    m: ExprId,
) -> Vec<Anchored<BodyAnchor>> {
    let Expr::Match { scrutinee, arms } = &body.exprs[m] else { return Vec::new() };
    let ty = infer.type_of_expr(*scrutinee).clone();
    if ty.contains_error() {
        return Vec::new();
    }
    let mut cx = Cx { db, body, infer, budget: MAX_WITNESSES };
    let mut out = Vec::new();
    let mut rows: Vec<Vec<DPat>> = Vec::new();
    let tys = [ty.clone()];
    for arm in arms {
        if infer.pat_types.get(arm.pat).is_some_and(|t| t.contains_error())
            || pat_has_error(body, infer, arm.pat)
        {
            // An arm with an error in it: do not judge the match (no follow-on errors).
            return out;
        }
        let p = cx.lower_pat(arm.pat, &ty);
        if !cx.useful(&rows, std::slice::from_ref(&p), &tys) {
            out.push(Anchored::warning(
                BodyAnchor::Pat(arm.pat),
                codes::UNREACHABLE_ARM,
                "unreachable arm: earlier arms already match every value it matches",
            ));
        }
        if arm.guard.is_none() {
            rows.push(vec![p]);
        }
    }
    let missing = cx.missing(&rows, &tys);
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().map(|w| format!("`{}`", cx.show(&w[0]))).collect();
        let infinite = matches!(cx.shape(&ty), Shape::Infinite);
        let hint = if infinite
            && arms
                .iter()
                .all(|a| a.guard.is_some() || !matches!(body.pats[a.pat], Pat::Wild | Pat::Bind(_)))
        {
            format!(" (`{ty}` has too many values to list them; add a `_` arm)")
        } else {
            String::new()
        };
        let s = if shown.len() == 1 { "" } else { "s" };
        out.push(Anchored::error(
            BodyAnchor::ExprToken(m),
            codes::NON_EXHAUSTIVE,
            format!("non-exhaustive match: missing case{s} {}{hint}", shown.join(", ")),
        ));
    }
    out
}

fn pat_has_error(body: &Body, infer: &InferenceResult, p: PatId) -> bool {
    match &body.pats[p] {
        Pat::Missing => true,
        Pat::Variant { args, .. } => {
            !matches!(infer.pat_res.get(&p), Some(Res::Variant(_)))
                || args.iter().flatten().any(|sp| pat_has_error(body, infer, *sp))
        }
        Pat::Record { fields, .. } => fields.iter().any(|(_, sp)| pat_has_error(body, infer, *sp)),
        _ => false,
    }
}
