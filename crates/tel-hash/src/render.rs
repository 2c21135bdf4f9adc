//! The normalized form as text, and the first difference between two definitions.
//!
//! The text is stable (snapshots and `tel equiv` rely on it) and shows exactly what reaches
//! the hash: locals are de Bruijn indices `%0`, `%1` (`%0` is the innermost binder), binders
//! are shown without names (`let: Int = …;` makes the value `%0` in what follows, `%` in a
//! pattern binds), references are `#shorthash`, `@member.i` (member `i` of the component
//! being hashed) or builtin names, unresolved project references show their qualified
//! name, record fields and effect rows are sorted, operators are fully parenthesized.

use crate::core::*;
use crate::serialize::MAX_DEPTH;
use std::fmt::{self, Write};

/// The normalized text of a definition.
pub fn render(def: &CoreDef) -> String {
    let mut p = Printer::default();
    p.def(def);
    p.out
}

impl fmt::Display for CoreDef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(self))
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut p = Printer::default();
        p.ty(self, 0);
        f.write_str(&p.out)
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut p = Printer::default();
        p.expr(self, 0);
        f.write_str(&p.out)
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ref::Def(name) => f.write_str(name),
            Ref::Hash(h) => write!(f, "{h}"),
            Ref::Member(i) => write!(f, "@member.{i}"),
            Ref::Builtin(b) => f.write_str(b.name()),
        }
    }
}

impl fmt::Display for Lit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lit::Int(v) => write!(f, "{v}"),
            Lit::Bool(b) => write!(f, "{b}"),
            Lit::String(s) => {
                f.write_char('"')?;
                for c in s.chars() {
                    match c {
                        '"' => f.write_str("\\\"")?,
                        '\\' => f.write_str("\\\\")?,
                        '\n' => f.write_str("\\n")?,
                        '\t' => f.write_str("\\t")?,
                        c if c.is_control() => write!(f, "\\u{{{:x}}}", c as u32)?,
                        c => f.write_char(c)?,
                    }
                }
                f.write_char('"')
            }
            Lit::Duration(ms) => write!(f, "{ms}ms"),
            Lit::Unit => f.write_str("()"),
        }
    }
}

impl fmt::Display for DefKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

pub(crate) fn ref_text(r: &Ref) -> String {
    r.to_string()
}

fn sorted_row(refs: &[Ref]) -> Vec<&Ref> {
    let mut v: Vec<&Ref> = refs.iter().collect();
    v.sort();
    v.dedup();
    v
}

fn sorted_fields<T>(fields: &[(smol_str::SmolStr, T)]) -> Vec<&(smol_str::SmolStr, T)> {
    let mut v: Vec<_> = fields.iter().collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn sorted_clauses(clauses: &[Clause]) -> Vec<&Clause> {
    let mut v: Vec<&Clause> = clauses.iter().collect();
    v.sort_by(|a, b| a.effect.cmp(&b.effect));
    v
}

#[derive(Default)]
struct Printer {
    out: String,
    indent: usize,
}

impl Printer {
    fn w(&mut self, s: &str) {
        self.out.push_str(s);
    }

    fn show(&mut self, x: impl fmt::Display) {
        write!(self.out, "{x}").expect("writing to a String");
    }

    fn newline(&mut self) {
        self.out.push('\n');
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
    }

    fn comma_list<T>(&mut self, items: &[T], mut f: impl FnMut(&mut Self, &T)) {
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                self.w(", ");
            }
            f(self, x);
        }
    }

    fn row(&mut self, effects: &[Ref]) {
        if !effects.is_empty() {
            self.w(" ! {");
            self.comma_list(&sorted_row(effects), |p, r| p.show(r));
            self.w("}");
        }
    }

    fn def(&mut self, def: &CoreDef) {
        match def {
            CoreDef::Fn { params, ret, effects, body } => {
                self.w("fn(");
                self.comma_list(params, |p, t| p.ty(t, 1));
                self.w(") -> ");
                self.ret(ret, 1);
                self.row(effects);
                self.w(" ");
                self.block(body, 1);
            }
            CoreDef::Type { ty } => {
                self.w("type = ");
                self.ty(ty, 1);
            }
            CoreDef::Enum { variants } => {
                self.w("enum {");
                self.indent += 1;
                for v in variants {
                    self.newline();
                    self.w(&v.name);
                    if !v.fields.is_empty() {
                        self.w("(");
                        self.comma_list(&v.fields, |p, t| p.ty(t, 1));
                        self.w(")");
                    }
                    self.w(",");
                }
                self.indent -= 1;
                self.newline();
                self.w("}");
            }
            CoreDef::Effect { name, params, ret } => {
                self.w("effect ");
                self.w(name);
                self.w("(");
                self.comma_list(params, |p, t| p.ty(t, 1));
                self.w(") -> ");
                self.ret(ret, 1);
            }
            CoreDef::Schema { fields } => {
                self.w("schema {");
                self.indent += 1;
                let mut fields: Vec<&SchemaField> = fields.iter().collect();
                fields.sort_by(|a, b| a.name.cmp(&b.name));
                for f in fields {
                    self.newline();
                    self.w(&f.name);
                    self.w(": ");
                    self.ty(&f.ty, 1);
                    if let Some(d) = &f.default {
                        self.w(" = ");
                        self.expr(d, 1);
                    }
                    self.w(",");
                }
                self.indent -= 1;
                self.newline();
                self.w("}");
            }
        }
    }

    /// A return type; a function type there is parenthesized, or its effect row would read
    /// as the enclosing function's.
    fn ret(&mut self, ty: &Type, depth: u32) {
        let paren = matches!(ty, Type::Fn { .. });
        self.w(if paren { "(" } else { "" });
        self.ty(ty, depth);
        self.w(if paren { ")" } else { "" });
    }

    fn ty(&mut self, ty: &Type, depth: u32) {
        if depth > MAX_DEPTH + 1 {
            return self.w("…");
        }
        let d = depth + 1;
        match ty {
            Type::Int => self.w("Int"),
            Type::Bool => self.w("Bool"),
            Type::String => self.w("String"),
            Type::Duration => self.w("Duration"),
            Type::Unit => self.w("()"),
            Type::Hash => self.w("Hash"),
            Type::List(t) => {
                self.w("List<");
                self.ty(t, d);
                self.w(">");
            }
            Type::Map(k, v) => {
                self.w("Map<");
                self.ty(k, d);
                self.w(", ");
                self.ty(v, d);
                self.w(">");
            }
            Type::Option(t) => {
                // `fn() -> Int?` would read as a function returning an option.
                let paren = matches!(**t, Type::Fn { .. });
                self.w(if paren { "(" } else { "" });
                self.ty(t, d);
                self.w(if paren { ")?" } else { "?" });
            }
            Type::Record(fields) => {
                if fields.is_empty() {
                    return self.w("{}");
                }
                self.w("{ ");
                self.comma_list(&sorted_fields(fields), |p, (n, t)| {
                    p.w(n);
                    p.w(": ");
                    p.ty(t, d);
                });
                self.w(" }");
            }
            Type::Named(r) => self.show(r),
            Type::Fn { params, ret, effects } => {
                self.w("fn(");
                self.comma_list(params, |p, t| p.ty(t, d));
                self.w(") -> ");
                self.ret(ret, d);
                self.row(effects);
            }
        }
    }

    /// `{`, the statements of `e` one per line, `}`.
    fn block(&mut self, e: &Expr, depth: u32) {
        self.w("{");
        self.indent += 1;
        self.newline();
        self.stmts(e, depth);
        self.indent -= 1;
        self.newline();
        self.w("}");
    }

    fn stmts(&mut self, mut e: &Expr, depth: u32) {
        let d = depth + 1;
        loop {
            match e {
                Expr::Let { ty, value, body } => {
                    self.w("let: ");
                    self.ty(ty, d);
                    self.w(" = ");
                    self.expr(value, d);
                    self.w(";");
                    self.newline();
                    e = body;
                }
                Expr::Seq { first, then } => {
                    self.expr(first, d);
                    self.w(";");
                    self.newline();
                    e = then;
                }
                _ => return self.expr(e, depth),
            }
        }
    }

    fn exprs(&mut self, es: &[Expr], d: u32) {
        self.comma_list(es, |p, e| p.expr(e, d));
    }

    fn variant_head(&mut self, owner: &VariantOwner, index: u32) {
        match (owner, index) {
            (VariantOwner::Option, 0) => self.w("Some"),
            (VariantOwner::Option, 1) => self.w("None"),
            (VariantOwner::Option, i) => self.show(format_args!("Option::{i}")),
            (VariantOwner::Enum(r), i) => self.show(format_args!("{r}::{i}")),
        }
    }

    fn expr(&mut self, e: &Expr, depth: u32) {
        if depth > MAX_DEPTH + 1 {
            return self.w("…");
        }
        let d = depth + 1;
        match e {
            Expr::Let { .. } | Expr::Seq { .. } => self.block(e, depth),
            Expr::Local(i) => self.show(format_args!("%{i}")),
            Expr::Ref(r) => self.show(r),
            Expr::Lit(l) => self.show(l),
            Expr::Call { callee, args } => {
                let paren = !matches!(**callee, Expr::Ref(_) | Expr::Local(_) | Expr::Call { .. });
                self.w(if paren { "(" } else { "" });
                self.expr(callee, d);
                self.w(if paren { ")(" } else { "(" });
                self.exprs(args, d);
                self.w(")");
            }
            Expr::Lambda { params, ret, body } => {
                self.w("|");
                self.comma_list(params, |p, t| p.ty(t, d));
                self.w("| -> ");
                self.ret(ret, d);
                self.w(" ");
                self.block(body, d);
            }
            Expr::If { cond, then, else_ } => {
                self.w("if ");
                self.expr(cond, d);
                self.w(" ");
                self.block(then, d);
                self.w(" else ");
                self.block(else_, d);
            }
            Expr::Match { scrutinee, arms } => {
                self.w("match ");
                self.expr(scrutinee, d);
                self.w(" {");
                self.indent += 1;
                for arm in arms {
                    self.newline();
                    self.pat(&arm.pat, d);
                    if let Some(g) = &arm.guard {
                        self.w(" if ");
                        self.expr(g, d);
                    }
                    self.w(" => ");
                    self.expr(&arm.body, d);
                    self.w(",");
                }
                self.indent -= 1;
                self.newline();
                self.w("}");
            }
            Expr::Record { ty, fields } => {
                if let Some(r) = ty {
                    self.show(r);
                    self.w(" ");
                }
                if fields.is_empty() {
                    return self.w("{}");
                }
                self.w("{ ");
                self.comma_list(&sorted_fields(fields), |p, (n, e)| {
                    p.w(n);
                    p.w(": ");
                    p.expr(e, d);
                });
                self.w(" }");
            }
            Expr::Field { expr, name } => {
                self.expr(expr, d);
                self.w(".");
                self.w(name);
            }
            Expr::List(items) => {
                self.w("[");
                self.exprs(items, d);
                self.w("]");
            }
            Expr::Variant { owner, index, args } => {
                self.variant_head(owner, *index);
                if !args.is_empty() {
                    self.w("(");
                    self.exprs(args, d);
                    self.w(")");
                }
            }
            Expr::Binary { op, lhs, rhs } => {
                self.w("(");
                self.expr(lhs, d);
                self.show(format_args!(" {} ", op.symbol()));
                self.expr(rhs, d);
                self.w(")");
            }
            Expr::Unary { op, expr } => {
                self.w("(");
                self.w(op.symbol());
                self.expr(expr, d);
                self.w(")");
            }
            Expr::Perform { effect, args } => {
                self.show(format_args!("perform {effect}("));
                self.exprs(args, d);
                self.w(")");
            }
            Expr::Handle { body, clauses } => {
                self.w("handle ");
                self.block(body, d);
                self.w(" with {");
                self.indent += 1;
                for c in sorted_clauses(clauses) {
                    self.newline();
                    self.show(format_args!("{}/{} => ", c.effect, c.arity));
                    self.expr(&c.body, d);
                    self.w(",");
                }
                self.indent -= 1;
                self.newline();
                self.w("}");
            }
            Expr::Resume(e) => {
                self.w("resume(");
                self.expr(e, d);
                self.w(")");
            }
            Expr::Abort(e) => {
                self.w("abort(");
                self.expr(e, d);
                self.w(")");
            }
            Expr::Within { deadline, body, fallback } => {
                self.w("within ");
                self.expr(deadline, d);
                self.w(" ");
                self.block(body, d);
                self.w(" else ");
                self.block(fallback, d);
            }
            Expr::After { delay, body } => {
                self.w("after ");
                self.expr(delay, d);
                self.w(" ");
                self.block(body, d);
            }
        }
    }

    fn pat(&mut self, p: &Pat, depth: u32) {
        if depth > MAX_DEPTH + 1 {
            return self.w("…");
        }
        let d = depth + 1;
        match p {
            Pat::Wildcard => self.w("_"),
            Pat::Bind => self.w("%"),
            Pat::Lit(l) => self.show(l),
            Pat::Variant { owner, index, fields } => {
                self.variant_head(owner, *index);
                if !fields.is_empty() {
                    self.w("(");
                    self.comma_list(fields, |p, f| p.pat(f, d));
                    self.w(")");
                }
            }
            Pat::Record { fields } => {
                if fields.is_empty() {
                    return self.w("{}");
                }
                self.w("{ ");
                self.comma_list(&sorted_fields(fields), |p, (n, f)| {
                    p.w(n);
                    p.w(": ");
                    p.pat(f, d);
                });
                self.w(" }");
            }
        }
    }
}

/// Where two definitions first differ: the path of nodes leading there (outermost first)
/// and what differs. Displays as ``in body → let value → binary operator: `+` vs `-` ``.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    pub path: Vec<String>,
    /// What kind of thing differs ("binary operator", "literal", "expression"...).
    pub what: String,
    pub left: String,
    pub right: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.path.is_empty() {
            write!(f, "in {} → ", self.path.join(" → "))?;
        }
        write!(f, "{}: `{}` vs `{}`", self.what, self.left, self.right)
    }
}

/// Walks `a` and `b` in lockstep and returns the first node where they differ, or `None`
/// if they are equal. Compare canonical forms ([`crate::canonicalize`] or decoded bytes):
/// then `None` holds exactly when the hashes are equal, and the difference found is one
/// that reaches the hash.
pub fn first_difference(a: &CoreDef, b: &CoreDef) -> Option<Difference> {
    Cmp::default().def(a, b).map(|d| *d)
}

/// Text of `x` on one line, shortened: the sides of a difference.
fn one_line(text: String) -> String {
    const MAX: usize = 60;
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > MAX {
        let cut: String = flat.chars().take(MAX - 1).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// Boxed: these results are temporaries of every frame of the lockstep walk.
type D = Option<Box<Difference>>;

#[derive(Default)]
struct Cmp {
    path: Vec<String>,
}

fn expr_kind(e: &Expr) -> &'static str {
    match e {
        Expr::Local(_) => "local",
        Expr::Ref(_) => "reference",
        Expr::Lit(_) => "literal",
        Expr::Call { .. } => "call",
        Expr::Lambda { .. } => "lambda",
        Expr::Let { .. } => "let",
        Expr::Seq { .. } => "statement",
        Expr::If { .. } => "if",
        Expr::Match { .. } => "match",
        Expr::Record { .. } => "record",
        Expr::Field { .. } => "field access",
        Expr::List(_) => "list",
        Expr::Variant { .. } => "variant",
        Expr::Binary { .. } => "binary operation",
        Expr::Unary { .. } => "unary operation",
        Expr::Perform { .. } => "perform",
        Expr::Handle { .. } => "handle",
        Expr::Resume(_) => "resume",
        Expr::Abort(_) => "abort",
        Expr::Within { .. } => "within",
        Expr::After { .. } => "after",
    }
}

impl Cmp {
    fn diff(&self, what: &str, l: impl fmt::Display, r: impl fmt::Display) -> D {
        Some(Box::new(Difference {
            path: self.path.clone(),
            what: what.to_owned(),
            left: one_line(l.to_string()),
            right: one_line(r.to_string()),
        }))
    }

    fn at(&mut self, seg: impl Into<String>, f: impl FnOnce(&mut Self) -> D) -> D {
        self.path.push(seg.into());
        let r = f(self);
        self.path.pop();
        r
    }

    fn eq<T: PartialEq + fmt::Display>(&self, what: &str, a: T, b: T) -> D {
        if a != b { self.diff(what, a, b) } else { None }
    }

    /// Lists compared by length first ("number of arguments: 2 vs 3"), then item by item.
    fn list<T>(
        &mut self,
        plural: &str,
        item: &str,
        a: &[T],
        b: &[T],
        mut f: impl FnMut(&mut Self, &T, &T) -> D,
    ) -> D {
        if a.len() != b.len() {
            return self.diff(&format!("number of {plural}"), a.len(), b.len());
        }
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            let r = self.at(format!("{item} {}", i + 1), |s| f(s, x, y));
            if r.is_some() {
                return r;
            }
        }
        None
    }

    fn refs(&self, what: &str, a: &Ref, b: &Ref) -> D {
        if a == b {
            return None;
        }
        if let (Ref::Hash(x), Ref::Hash(y)) = (a, b) {
            // Long enough to show that they differ.
            let n = crate::code_hash::distinguishing_len(&[*x.min(y), *x.max(y)]).max(8);
            return self.diff(
                what,
                format!("#{}", x.prefix_str(n)),
                format!("#{}", y.prefix_str(n)),
            );
        }
        self.diff(what, a, b)
    }

    fn row(&self, what: &str, a: &[Ref], b: &[Ref]) -> D {
        let (ra, rb) = (sorted_row(a), sorted_row(b));
        if ra == rb {
            return None;
        }
        let show = |r: &[&Ref]| {
            format!("{{{}}}", r.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", "))
        };
        self.diff(what, show(&ra), show(&rb))
    }

    /// Records: the field names first, then each field in sorted order.
    fn fields<T>(
        &mut self,
        a: &[(smol_str::SmolStr, T)],
        b: &[(smol_str::SmolStr, T)],
        mut f: impl FnMut(&mut Self, &T, &T) -> D,
    ) -> D {
        let (fa, fb) = (sorted_fields(a), sorted_fields(b));
        let names = |v: &[&(smol_str::SmolStr, T)]| {
            format!("{{{}}}", v.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", "))
        };
        if fa.len() != fb.len() || fa.iter().zip(&fb).any(|(x, y)| x.0 != y.0) {
            return self.diff("fields", names(&fa), names(&fb));
        }
        for (x, y) in fa.iter().zip(&fb) {
            let r = self.at(format!("field `{}`", x.0), |s| f(s, &x.1, &y.1));
            if r.is_some() {
                return r;
            }
        }
        None
    }

    fn def(&mut self, a: &CoreDef, b: &CoreDef) -> D {
        match (a, b) {
            (
                CoreDef::Fn { params: pa, ret: ra, effects: ea, body: ba },
                CoreDef::Fn { params: pb, ret: rb, effects: eb, body: bb },
            ) => self
                .list("parameters", "parameter", pa, pb, |s, x, y| s.ty(x, y))
                .or_else(|| self.at("return type", |s| s.ty(ra, rb)))
                .or_else(|| self.row("effect row", ea, eb))
                .or_else(|| self.at("body", |s| s.expr(ba, bb, 1))),
            (CoreDef::Type { ty: a }, CoreDef::Type { ty: b }) => self.ty(a, b),
            (CoreDef::Enum { variants: va }, CoreDef::Enum { variants: vb }) => {
                self.list("variants", "variant", va, vb, |s, x, y| {
                    s.eq("variant name", &x.name, &y.name).or_else(|| {
                        s.list("variant fields", "field", &x.fields, &y.fields, |s, x, y| {
                            s.ty(x, y)
                        })
                    })
                })
            }
            (
                CoreDef::Effect { name: na, params: pa, ret: ra },
                CoreDef::Effect { name: nb, params: pb, ret: rb },
            ) => self
                .eq("effect name", na, nb)
                .or_else(|| self.list("parameters", "parameter", pa, pb, |s, x, y| s.ty(x, y)))
                .or_else(|| self.at("return type", |s| s.ty(ra, rb))),
            (CoreDef::Schema { fields: fa }, CoreDef::Schema { fields: fb }) => {
                let pairs = |fs: &[SchemaField]| -> Vec<(smol_str::SmolStr, SchemaField)> {
                    fs.iter().map(|f| (f.name.clone(), f.clone())).collect()
                };
                self.fields(&pairs(fa), &pairs(fb), |s, x, y| {
                    s.at("type", |s| s.ty(&x.ty, &y.ty)).or_else(|| {
                        match (&x.default, &y.default) {
                            (Some(da), Some(db)) => s.at("default", |s| s.expr(da, db, 1)),
                            (None, None) => None,
                            (da, db) => s.diff(
                                "default",
                                da.as_ref().map_or("none".to_owned(), |e| e.to_string()),
                                db.as_ref().map_or("none".to_owned(), |e| e.to_string()),
                            ),
                        }
                    })
                })
            }
            _ => self.diff("definition kind", a.kind(), b.kind()),
        }
    }

    fn ty(&mut self, a: &Type, b: &Type) -> D {
        match (a, b) {
            (Type::List(x), Type::List(y)) => self.at("list element type", |s| s.ty(x, y)),
            (Type::Option(x), Type::Option(y)) => self.at("option type", |s| s.ty(x, y)),
            (Type::Map(ka, va), Type::Map(kb, vb)) => self
                .at("map key type", |s| s.ty(ka, kb))
                .or_else(|| self.at("map value type", |s| s.ty(va, vb))),
            (Type::Record(fa), Type::Record(fb)) => self.fields(fa, fb, |s, x, y| s.ty(x, y)),
            (Type::Named(x), Type::Named(y)) => self.refs("type", x, y),
            (
                Type::Fn { params: pa, ret: ra, effects: ea },
                Type::Fn { params: pb, ret: rb, effects: eb },
            ) => self
                .list("parameters", "parameter", pa, pb, |s, x, y| s.ty(x, y))
                .or_else(|| self.at("return type", |s| s.ty(ra, rb)))
                .or_else(|| self.row("effect row", ea, eb)),
            _ if a == b => None,
            _ => self.diff("type", a, b),
        }
    }

    fn lit(&self, a: &Lit, b: &Lit) -> D {
        self.eq("literal", a, b)
    }

    fn owner(&self, a: &VariantOwner, b: &VariantOwner) -> D {
        match (a, b) {
            (VariantOwner::Enum(x), VariantOwner::Enum(y)) => self.refs("variant owner", x, y),
            (VariantOwner::Option, VariantOwner::Option) => None,
            (VariantOwner::Option, VariantOwner::Enum(y)) => {
                self.diff("variant owner", "Option", y)
            }
            (VariantOwner::Enum(x), VariantOwner::Option) => {
                self.diff("variant owner", x, "Option")
            }
        }
    }

    fn pat(&mut self, a: &Pat, b: &Pat) -> D {
        let show = |p: &Pat| {
            let mut pr = Printer::default();
            pr.pat(p, 0);
            pr.out
        };
        match (a, b) {
            (Pat::Wildcard, Pat::Wildcard) | (Pat::Bind, Pat::Bind) => None,
            (Pat::Lit(x), Pat::Lit(y)) => self.lit(x, y),
            (
                Pat::Variant { owner: oa, index: ia, fields: fa },
                Pat::Variant { owner: ob, index: ib, fields: fb },
            ) => self
                .owner(oa, ob)
                .or_else(|| self.eq("variant index", ia, ib))
                .or_else(|| self.list("fields", "field", fa, fb, |s, x, y| s.pat(x, y))),
            (Pat::Record { fields: fa }, Pat::Record { fields: fb }) => {
                self.fields(fa, fb, |s, x, y| s.pat(x, y))
            }
            _ => self.diff("pattern", show(a), show(b)),
        }
    }

    fn exprs(&mut self, plural: &str, item: &str, a: &[Expr], b: &[Expr], d: u32) -> D {
        self.list(plural, item, a, b, |s, x, y| s.expr(x, y, d))
    }

    fn expr(&mut self, a: &Expr, b: &Expr, depth: u32) -> D {
        if depth > MAX_DEPTH + 1 {
            return (a != b).then(|| self.diff("deeply nested expression", "…", "…")).flatten();
        }
        let d = depth + 1;
        // Statement chains are compared as lists: "statement 3 → let value".
        let (ha, ta) = chain(a);
        let (hb, tb) = chain(b);
        if ha.len() != hb.len() {
            return self.diff("number of statements", ha.len() + 1, hb.len() + 1);
        }
        for (i, (x, y)) in ha.iter().zip(&hb).enumerate() {
            let r = self.in_statement(i, |s| match (x, y) {
                (Expr::Let { ty: tx, value: vx, .. }, Expr::Let { ty: ty_, value: vy, .. }) => s
                    .at("let type", |s| s.ty(tx, ty_))
                    .or_else(|| s.at("let value", |s| s.expr(vx, vy, d))),
                (Expr::Seq { first: fx, .. }, Expr::Seq { first: fy, .. }) => s.expr(fx, fy, d),
                _ => s.diff("statement", expr_kind(x), expr_kind(y)),
            });
            if r.is_some() {
                return r;
            }
        }
        let (a, b) = (ta, tb);
        if !ha.is_empty() {
            return self.at("result", |s| s.expr_node(a, b, d));
        }
        self.expr_node(a, b, d)
    }

    /// The first statement of a chain has no path segment of its own, so that a one-`let`
    /// body reads "in body → let value".
    fn in_statement(&mut self, i: usize, f: impl FnOnce(&mut Self) -> D) -> D {
        if i == 0 { f(self) } else { self.at(format!("statement {}", i + 1), f) }
    }

    /// Compares two nodes that are not `let`/`Seq` heads.
    fn expr_node(&mut self, a: &Expr, b: &Expr, d: u32) -> D {
        use Expr as E;
        match (a, b) {
            (E::Local(x), E::Local(y)) => self.eq("local", format!("%{x}"), format!("%{y}")),
            (E::Ref(x), E::Ref(y)) => self.refs("reference", x, y),
            (E::Lit(x), E::Lit(y)) => self.lit(x, y),
            (E::Call { callee: ca, args: aa }, E::Call { callee: cb, args: ab }) => self
                .at("callee", |s| s.expr(ca, cb, d))
                .or_else(|| self.exprs("arguments", "argument", aa, ab, d)),
            (
                E::Lambda { params: pa, ret: ra, body: ba },
                E::Lambda { params: pb, ret: rb, body: bb },
            ) => self
                .list("lambda parameters", "lambda parameter", pa, pb, |s, x, y| s.ty(x, y))
                .or_else(|| self.at("lambda return type", |s| s.ty(ra, rb)))
                .or_else(|| self.at("lambda body", |s| s.expr(ba, bb, d))),
            (E::If { cond: ca, then: ta, else_: ea }, E::If { cond: cb, then: tb, else_: eb }) => {
                self.at("condition", |s| s.expr(ca, cb, d))
                    .or_else(|| self.at("then branch", |s| s.expr(ta, tb, d)))
                    .or_else(|| self.at("else branch", |s| s.expr(ea, eb, d)))
            }
            (E::Match { scrutinee: sa, arms: aa }, E::Match { scrutinee: sb, arms: ab }) => {
                self.at("scrutinee", |s| s.expr(sa, sb, d)).or_else(|| {
                    self.list("match arms", "arm", aa, ab, |s, x, y| {
                        s.at("pattern", |s| s.pat(&x.pat, &y.pat))
                            .or_else(|| match (&x.guard, &y.guard) {
                                (Some(ga), Some(gb)) => s.at("guard", |s| s.expr(ga, gb, d)),
                                (None, None) => None,
                                (ga, gb) => s.diff(
                                    "guard",
                                    ga.as_ref().map_or("none".to_owned(), |e| e.to_string()),
                                    gb.as_ref().map_or("none".to_owned(), |e| e.to_string()),
                                ),
                            })
                            .or_else(|| s.at("arm body", |s| s.expr(&x.body, &y.body, d)))
                    })
                })
            }
            (E::Record { ty: ya, fields: fa }, E::Record { ty: yb, fields: fb }) => {
                let tyd = match (ya, yb) {
                    (Some(x), Some(y)) => self.refs("record type", x, y),
                    (None, None) => None,
                    (x, y) => self.diff(
                        "record type",
                        x.as_ref().map_or("none".to_owned(), |r| r.to_string()),
                        y.as_ref().map_or("none".to_owned(), |r| r.to_string()),
                    ),
                };
                tyd.or_else(|| self.fields(fa, fb, |s, x, y| s.expr(x, y, d)))
            }
            (E::Field { expr: ea, name: na }, E::Field { expr: eb, name: nb }) => self
                .at("field access", |s| s.expr(ea, eb, d))
                .or_else(|| self.eq("field name", na, nb)),
            (E::List(xa), E::List(xb)) => self.exprs("list elements", "list element", xa, xb, d),
            (
                E::Variant { owner: oa, index: ia, args: aa },
                E::Variant { owner: ob, index: ib, args: ab },
            ) => self
                .owner(oa, ob)
                .or_else(|| self.eq("variant index", ia, ib))
                .or_else(|| self.exprs("arguments", "argument", aa, ab, d)),
            (E::Binary { op: oa, lhs: la, rhs: ra }, E::Binary { op: ob, lhs: lb, rhs: rb }) => {
                self.eq("binary operator", oa.symbol(), ob.symbol())
                    .or_else(|| self.at("left operand", |s| s.expr(la, lb, d)))
                    .or_else(|| self.at("right operand", |s| s.expr(ra, rb, d)))
            }
            (E::Unary { op: oa, expr: ea }, E::Unary { op: ob, expr: eb }) => self
                .eq("unary operator", oa.symbol(), ob.symbol())
                .or_else(|| self.at("operand", |s| s.expr(ea, eb, d))),
            (E::Perform { effect: fa, args: aa }, E::Perform { effect: fb, args: ab }) => self
                .refs("performed effect", fa, fb)
                .or_else(|| self.exprs("arguments", "argument", aa, ab, d)),
            (E::Handle { body: ba, clauses: ca }, E::Handle { body: bb, clauses: cb }) => {
                self.at("handled body", |s| s.expr(ba, bb, d)).or_else(|| {
                    let (ca, cb) = (sorted_clauses(ca), sorted_clauses(cb));
                    self.list("handler clauses", "clause", &ca, &cb, |s, x, y| {
                        s.refs("handled effect", &x.effect, &y.effect)
                            .or_else(|| s.eq("clause arity", x.arity, y.arity))
                            .or_else(|| s.at("clause body", |s| s.expr(&x.body, &y.body, d)))
                    })
                })
            }
            (E::Resume(x), E::Resume(y)) => self.at("resume value", |s| s.expr(x, y, d)),
            (E::Abort(x), E::Abort(y)) => self.at("abort value", |s| s.expr(x, y, d)),
            (
                E::Within { deadline: da, body: ba, fallback: fa },
                E::Within { deadline: db, body: bb, fallback: fb },
            ) => self
                .at("deadline", |s| s.expr(da, db, d))
                .or_else(|| self.at("within body", |s| s.expr(ba, bb, d)))
                .or_else(|| self.at("fallback", |s| s.expr(fa, fb, d))),
            (E::After { delay: da, body: ba }, E::After { delay: db, body: bb }) => self
                .at("delay", |s| s.expr(da, db, d))
                .or_else(|| self.at("after body", |s| s.expr(ba, bb, d))),
            _ => self.diff("expression", a, b),
        }
    }
}

/// The heads of a `let`/`Seq` chain and its final expression.
fn chain(mut e: &Expr) -> (Vec<&Expr>, &Expr) {
    let mut heads = Vec::new();
    loop {
        match e {
            Expr::Let { body: next, .. } | Expr::Seq { then: next, .. } => {
                heads.push(e);
                e = next;
            }
            _ => return (heads, e),
        }
    }
}
