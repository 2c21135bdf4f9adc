//! Which functions read which fields: what decides whether removing a field loses
//! something the program uses.
//!
//! A field of a record type is *read* by a function whose code
//! - accesses it (`v.legacy_flag`) other than to copy it into the same field of a new
//!   value of the same type (`Vault { legacy_flag: v.legacy_flag, .. }`, the pass-through
//!   every state-transition function writes, which does not use the value),
//! - matches it against a pattern that looks at it (`Vault { legacy_flag: true, .. }`, or a
//!   binding; `_` and `..` do not look),
//! - or uses a whole value of the type where every field counts: `show` prints them all,
//!   `==` and the orderings compare them all.
//!
//! Core IR does not record the type of the record a field access reads, so this module
//! recovers it from the definitions' signatures, the types `let` and lambdas carry, and the
//! declared field, variant and effect types. Where a type cannot be recovered (an
//! `empty_map()` nobody annotated, say), an access to `f` counts as a read of a field `f`
//! of *every* record type: the answer may say "read" when it was not, never the opposite.

use std::collections::{BTreeMap, BTreeSet};

use smol_str::SmolStr;
use tel_hash::CodeHash;
use tel_hash::core::{BinOp, Builtin, CoreDef, Expr, Lit, Pat, Ref, Type, UnOp, VariantOwner};

use crate::code::{Code, absolute, resolve};

/// Expressions nested deeper than this are scanned without types (conservatively), so a
/// pathological body cannot overflow the stack.
const MAX_DEPTH: usize = 1_000;

/// The reads found in a set of functions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reads {
    /// `(record type, field)` → the functions reading it.
    typed: BTreeMap<(CodeHash, SmolStr), BTreeSet<String>>,
    /// A field name read from a value whose type is unknown (or structural).
    untyped: BTreeMap<SmolStr, BTreeSet<String>>,
    /// Record types whose values some function uses whole (`show`, `==`, `<`).
    whole: BTreeMap<CodeHash, BTreeSet<String>>,
    /// Functions that use a value of unknown type whole: it may be any record.
    opaque: BTreeSet<String>,
}

impl Reads {
    /// Scans `functions` (hashes of function definitions in `code`).
    pub fn of_functions(code: &Code, functions: impl IntoIterator<Item = CodeHash>) -> Reads {
        let mut reads = Reads::default();
        for hash in functions {
            let Some(stored) = code.defs.get(&hash) else { continue };
            let CoreDef::Fn { params, body, .. } = &stored.def else { continue };
            let component = stored.component;
            let mut scan = Scan {
                code,
                component,
                reader: code.name(&hash),
                reads: &mut reads,
                env: params.iter().map(|t| Some(absolute(t, component))).collect(),
                depth: 0,
            };
            scan.expr(body);
        }
        reads
    }

    /// Adds the reads of `other`. Scanning functions one at a time and merging gives the
    /// same reads as scanning them together: an editor keeps one scan per function and
    /// merges, so editing one body rescans only that body.
    pub fn extend(&mut self, other: &Reads) {
        for (k, fs) in &other.typed {
            self.typed.entry(k.clone()).or_default().extend(fs.iter().cloned());
        }
        for (k, fs) in &other.untyped {
            self.untyped.entry(k.clone()).or_default().extend(fs.iter().cloned());
        }
        for (k, fs) in &other.whole {
            self.whole.entry(*k).or_default().extend(fs.iter().cloned());
        }
        self.opaque.extend(other.opaque.iter().cloned());
    }

    pub fn is_empty(&self) -> bool {
        self.typed.is_empty()
            && self.untyped.is_empty()
            && self.whole.is_empty()
            && self.opaque.is_empty()
    }

    /// The functions that read field `field` of the record type `owner` (`None`: a
    /// structural record, which only untyped reads can reach), sorted. Whole-value uses
    /// are marked as such (`vault::dump (uses whole values)`).
    pub fn readers(&self, owner: Option<&CodeHash>, field: &str) -> Vec<String> {
        let mut out: BTreeSet<String> = BTreeSet::new();
        if let Some(owner) = owner {
            if let Some(fs) = self.typed.get(&(*owner, SmolStr::new(field))) {
                out.extend(fs.iter().cloned());
            }
            if let Some(fs) = self.whole.get(owner) {
                out.extend(fs.iter().map(|f| format!("{f} (uses whole values)")));
            }
        }
        if let Some(fs) = self.untyped.get(field) {
            out.extend(fs.iter().map(|f| format!("{f} (reads `.{field}` of an unknown type)")));
        }
        out.extend(self.opaque.iter().map(|f| format!("{f} (uses a value of unknown type whole)")));
        // A function listed for a typed read need not be listed again with a remark.
        let plain: BTreeSet<String> = out.iter().filter(|s| !s.contains(" (")).cloned().collect();
        out.into_iter()
            .filter(|s| match s.split_once(" (") {
                Some((name, _)) => !plain.contains(name),
                None => true,
            })
            .collect()
    }

    fn typed(&mut self, owner: CodeHash, field: &SmolStr, reader: &str) {
        self.typed.entry((owner, field.clone())).or_default().insert(reader.to_owned());
    }

    fn untyped(&mut self, field: &SmolStr, reader: &str) {
        self.untyped.entry(field.clone()).or_default().insert(reader.to_owned());
    }
}

struct Scan<'a> {
    code: &'a Code,
    /// The component of the function being scanned (its `Ref::Member`s).
    component: Option<CodeHash>,
    reader: String,
    reads: &'a mut Reads,
    /// Types of the locals in scope, innermost last (`Local(0)` is the last); `None` where
    /// the type is unknown.
    env: Vec<Option<Type>>,
    depth: usize,
}

impl Scan<'_> {
    fn local(&self, i: u32) -> Option<Type> {
        let n = self.env.len();
        self.env.get(n.checked_sub(1 + i as usize)?).cloned().flatten()
    }

    fn field_read(&mut self, ty: Option<&Type>, field: &SmolStr) -> Option<Type> {
        match ty.and_then(|t| self.code.record_shape(t)) {
            Some(shape) => {
                match shape.owner {
                    Some(owner) => self.reads.typed(owner, field, &self.reader),
                    // A structural record: which nominal type flows into it is not tracked.
                    None => self.reads.untyped(field, &self.reader),
                }
                shape.fields.into_iter().find(|(n, _)| n == field).map(|(_, t)| t)
            }
            None => {
                self.reads.untyped(field, &self.reader);
                None
            }
        }
    }

    /// Every record type reachable from `ty` is used whole (by `show` or a comparison).
    fn whole(&mut self, ty: Option<&Type>) {
        let Some(ty) = ty else {
            self.reads.opaque.insert(self.reader.clone());
            return;
        };
        let mut todo = vec![ty.clone()];
        let mut seen: BTreeSet<CodeHash> = BTreeSet::new();
        while let Some(t) = todo.pop() {
            match &t {
                Type::List(x) | Type::Option(x) => todo.push((**x).clone()),
                Type::Map(k, v) => todo.extend([(**k).clone(), (**v).clone()]),
                Type::Record(fields) => todo.extend(fields.iter().map(|(_, t)| t.clone())),
                Type::Named(Ref::Hash(h)) => {
                    if !seen.insert(*h) {
                        continue;
                    }
                    if let Some(shape) = self.code.record_shape(&t) {
                        self.reads.whole.entry(*h).or_default().insert(self.reader.clone());
                        todo.extend(shape.fields.into_iter().map(|(_, t)| t));
                    } else if let Some(variants) = self.code.enum_variants(&t) {
                        todo.extend(variants.into_iter().flat_map(|(_, ts)| ts));
                    }
                }
                _ => {}
            }
        }
    }

    fn ref_type(&self, r: &Ref) -> Option<Type> {
        let hash = resolve(r, self.component)?;
        let def = self.code.def(&hash)?;
        let c = self.code.component(&hash);
        match &*def {
            CoreDef::Fn { params, ret, effects, .. } => Some(Type::Fn {
                params: params.iter().map(|t| absolute(t, c)).collect(),
                ret: Box::new(absolute(ret, c)),
                effects: effects.clone(),
            }),
            _ => None,
        }
    }

    /// An effect's parameter and result types.
    fn effect_sig(&self, r: &Ref) -> Option<(Vec<Type>, Type)> {
        let hash = resolve(r, self.component)?;
        let c = self.code.component(&hash);
        match &*self.code.def(&hash)? {
            CoreDef::Effect { params, ret, .. } => {
                Some((params.iter().map(|t| absolute(t, c)).collect(), absolute(ret, c)))
            }
            _ => None,
        }
    }

    fn expr(&mut self, e: &Expr) -> Option<Type> {
        if self.depth >= MAX_DEPTH {
            self.untyped_scan(e);
            return None;
        }
        self.depth += 1;
        let t = self.expr_inner(e);
        self.depth -= 1;
        t
    }

    fn expr_inner(&mut self, e: &Expr) -> Option<Type> {
        match e {
            Expr::Local(i) => self.local(*i),
            Expr::Ref(r) => self.ref_type(r),
            Expr::Lit(l) => Some(lit_type(l)),
            Expr::Call { callee, args } => {
                let arg_types: Vec<Option<Type>> = args.iter().map(|a| self.expr(a)).collect();
                if let Expr::Ref(Ref::Builtin(b)) = &**callee {
                    return self.builtin(*b, &arg_types);
                }
                match self.expr(callee) {
                    Some(Type::Fn { ret, .. }) => Some(*ret),
                    _ => None,
                }
            }
            Expr::Lambda { params, ret, body } => {
                let c = self.component;
                let n = self.env.len();
                self.env.extend(params.iter().map(|t| Some(absolute(t, c))));
                self.expr(body);
                self.env.truncate(n);
                Some(Type::Fn {
                    params: params.iter().map(|t| absolute(t, c)).collect(),
                    ret: Box::new(absolute(ret, c)),
                    effects: Vec::new(),
                })
            }
            Expr::Let { ty, value, body } => {
                let found = self.expr(value);
                let declared = absolute(ty, self.component);
                // An unknown type in the annotation (an error type) falls back to the value's.
                self.env.push(Some(declared).or(found));
                let t = self.expr(body);
                self.env.pop();
                t
            }
            Expr::Seq { first, then } => {
                self.expr(first);
                self.expr(then)
            }
            Expr::If { cond, then, else_ } => {
                self.expr(cond);
                let a = self.expr(then);
                let b = self.expr(else_);
                a.or(b)
            }
            Expr::Match { scrutinee, arms } => {
                let st = self.expr(scrutinee);
                let mut result = None;
                for arm in arms {
                    let mut bound = Vec::new();
                    self.pat(&arm.pat, st.as_ref(), &mut bound);
                    let n = self.env.len();
                    self.env.extend(bound);
                    if let Some(g) = &arm.guard {
                        self.expr(g);
                    }
                    let t = self.expr(&arm.body);
                    self.env.truncate(n);
                    result = result.or(t);
                }
                result
            }
            Expr::Record { ty, fields } => {
                let owner = ty.as_ref().and_then(|r| resolve(r, self.component));
                let mut types = Vec::with_capacity(fields.len());
                for (name, value) in fields {
                    let t = match (owner, value) {
                        (Some(owner), Expr::Field { expr, name: read }) if read == name => {
                            let from = self.expr(expr);
                            if from == Some(Type::Named(Ref::Hash(owner))) {
                                // The pass-through: the value goes back where it came from.
                                self.code
                                    .record_shape(&Type::Named(Ref::Hash(owner)))
                                    .and_then(|s| s.fields.into_iter().find(|(n, _)| n == name))
                                    .map(|(_, t)| t)
                            } else {
                                self.field_read(from.as_ref(), read)
                            }
                        }
                        _ => self.expr(value),
                    };
                    types.push((name.clone(), t));
                }
                match owner {
                    Some(h) => Some(Type::Named(Ref::Hash(h))),
                    None => types
                        .into_iter()
                        .map(|(n, t)| t.map(|t| (n, t)))
                        .collect::<Option<Vec<_>>>()
                        .map(Type::Record),
                }
            }
            Expr::Field { expr, name } => {
                let t = self.expr(expr);
                self.field_read(t.as_ref(), name)
            }
            Expr::List(items) => {
                let mut elem = None;
                for item in items {
                    let t = self.expr(item);
                    elem = elem.or(t);
                }
                elem.map(|t| Type::List(Box::new(t)))
            }
            Expr::Variant { owner, args, .. } => {
                let arg_types: Vec<Option<Type>> = args.iter().map(|a| self.expr(a)).collect();
                match owner {
                    VariantOwner::Enum(r) => {
                        resolve(r, self.component).map(|h| Type::Named(Ref::Hash(h)))
                    }
                    VariantOwner::Option => match arg_types.into_iter().next() {
                        Some(Some(t)) => Some(Type::Option(Box::new(t))),
                        _ => None,
                    },
                }
            }
            Expr::Binary { op, lhs, rhs } => {
                let a = self.expr(lhs);
                let b = self.expr(rhs);
                match op {
                    BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                        self.whole(a.as_ref().or(b.as_ref()));
                        Some(Type::Bool)
                    }
                    BinOp::And | BinOp::Or => Some(Type::Bool),
                    BinOp::Add
                    | BinOp::Sub
                    | BinOp::Mul
                    | BinOp::Div
                    | BinOp::Rem
                    | BinOp::Concat => a.or(b),
                }
            }
            Expr::Unary { op, expr } => {
                let t = self.expr(expr);
                match op {
                    UnOp::Neg => t,
                    UnOp::Not => Some(Type::Bool),
                }
            }
            Expr::Perform { effect, args } => {
                for a in args {
                    self.expr(a);
                }
                self.effect_sig(effect).map(|(_, ret)| ret)
            }
            Expr::Handle { body, clauses } => {
                let t = self.expr(body);
                for clause in clauses {
                    let params = match self.effect_sig(&clause.effect) {
                        Some((ps, _)) if ps.len() == clause.arity as usize => {
                            ps.into_iter().map(Some).collect()
                        }
                        _ => vec![None; clause.arity as usize],
                    };
                    let n = self.env.len();
                    self.env.extend(params);
                    self.expr(&clause.body);
                    self.env.truncate(n);
                }
                t
            }
            Expr::Resume(e) | Expr::Abort(e) => {
                self.expr(e);
                None
            }
            Expr::Within { deadline, body, fallback } => {
                self.expr(deadline);
                let a = self.expr(body);
                let b = self.expr(fallback);
                a.or(b)
            }
            Expr::After { delay, body } => {
                self.expr(delay);
                self.expr(body)
            }
        }
    }

    fn builtin(&mut self, b: Builtin, args: &[Option<Type>]) -> Option<Type> {
        let arg = |i: usize| args.get(i).cloned().flatten();
        match b {
            Builtin::Show => {
                self.whole(arg(0).as_ref());
                Some(Type::String)
            }
            Builtin::Len | Builtin::Now => Some(Type::Int),
            Builtin::Map => match arg(1) {
                Some(Type::Fn { ret, .. }) => Some(Type::List(ret)),
                _ => None,
            },
            Builtin::Filter | Builtin::Insert => arg(0),
            Builtin::Fold => arg(1),
            Builtin::Get => match arg(0) {
                Some(Type::Map(_, v)) => Some(Type::Option(v)),
                Some(Type::List(t)) => Some(Type::Option(t)),
                _ => None,
            },
            Builtin::EmptyMap => None,
            Builtin::Keys => match arg(0) {
                Some(Type::Map(k, _)) => Some(Type::List(k)),
                _ => None,
            },
        }
    }

    /// Binds a pattern's variables (in binding order) and records what it looks at.
    fn pat(&mut self, p: &Pat, ty: Option<&Type>, bound: &mut Vec<Option<Type>>) {
        match p {
            Pat::Wildcard | Pat::Lit(_) => {}
            Pat::Bind => bound.push(ty.cloned()),
            Pat::Variant { owner, index, fields } => {
                let types: Vec<Option<Type>> = match (owner, ty) {
                    (VariantOwner::Option, Some(Type::Option(inner))) => {
                        vec![Some((**inner).clone())]
                    }
                    (VariantOwner::Enum(_), Some(t)) => self
                        .code
                        .enum_variants(t)
                        .and_then(|vs| vs.into_iter().nth(*index as usize))
                        .map(|(_, ts)| ts.into_iter().map(Some).collect())
                        .unwrap_or_default(),
                    _ => Vec::new(),
                };
                for (i, sub) in fields.iter().enumerate() {
                    let t = types.get(i).cloned().flatten();
                    self.pat(sub, t.as_ref(), bound);
                }
            }
            Pat::Record { fields } => {
                let shape = ty.and_then(|t| self.code.record_shape(t));
                for (name, sub) in fields {
                    let field_ty = match &shape {
                        Some(s) => s.fields.iter().find(|(n, _)| n == name).map(|(_, t)| t.clone()),
                        None => None,
                    };
                    if !matches!(sub, Pat::Wildcard) {
                        match shape.as_ref().and_then(|s| s.owner) {
                            Some(owner) => self.reads.typed(owner, name, &self.reader),
                            None => self.reads.untyped(name, &self.reader),
                        }
                    }
                    self.pat(sub, field_ty.as_ref(), bound);
                }
            }
        }
    }

    /// Without types: every field access and every record pattern field that looks is a
    /// read of that field of any record type. Iterative, for the deep bodies it serves.
    fn untyped_scan(&mut self, root: &Expr) {
        for e in tel_hash::core::preorder(root) {
            match e {
                Expr::Field { name, .. } => self.reads.untyped(name, &self.reader),
                Expr::Call { callee, .. }
                    if matches!(**callee, Expr::Ref(Ref::Builtin(Builtin::Show))) =>
                {
                    self.reads.opaque.insert(self.reader.clone());
                }
                Expr::Binary {
                    op: BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge,
                    ..
                } => {
                    self.reads.opaque.insert(self.reader.clone());
                }
                Expr::Match { arms, .. } => {
                    let mut todo: Vec<&Pat> = arms.iter().map(|a| &a.pat).collect();
                    while let Some(p) = todo.pop() {
                        match p {
                            Pat::Record { fields } => {
                                for (name, sub) in fields {
                                    if !matches!(sub, Pat::Wildcard) {
                                        self.reads.untyped(name, &self.reader);
                                    }
                                    todo.push(sub);
                                }
                            }
                            Pat::Variant { fields, .. } => todo.extend(fields),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

fn lit_type(l: &Lit) -> Type {
    match l {
        Lit::Int(_) => Type::Int,
        Lit::Bool(_) => Type::Bool,
        Lit::String(_) => Type::String,
        Lit::Duration(_) => Type::Duration,
        Lit::Unit => Type::Unit,
    }
}
