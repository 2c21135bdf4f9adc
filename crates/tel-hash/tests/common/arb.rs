//! proptest strategies for canonical core IR (no `Ref::Def`; fields, rows and clauses
//! already in canonical order), and transformations used by the properties.
#![allow(dead_code)]

use proptest::collection::{btree_map, btree_set, vec};
use proptest::prelude::*;
use proptest::sample::select;
use smol_str::SmolStr;
use tel_hash::CodeHash;
use tel_hash::core::*;

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

pub fn arb_name() -> impl Strategy<Value = SmolStr> {
    // Few distinct names, so sorting and collisions get exercised; one non-ASCII.
    prop_oneof![
        select(vec!["a", "b", "price", "asset", "é", "Z", "a_b"]).prop_map(SmolStr::new),
        "[a-z]{1,6}".prop_map(SmolStr::new),
    ]
}

pub fn arb_hash() -> impl Strategy<Value = CodeHash> {
    prop_oneof![
        // A few fixed hashes, so that rows and clauses collide and need deduplication.
        (0u8..4).prop_map(|b| CodeHash([b; 32])),
        any::<[u8; 32]>().prop_map(CodeHash),
    ]
}

pub fn arb_ref() -> impl Strategy<Value = Ref> {
    prop_oneof![
        3 => arb_hash().prop_map(Ref::Hash),
        1 => (0u32..3).prop_map(Ref::Member),
        1 => select(Builtin::ALL.to_vec()).prop_map(Ref::Builtin),
    ]
}

/// A canonical effect row: sorted and distinct (Ref's order is the canonical order for
/// resolved refs).
pub fn arb_row() -> impl Strategy<Value = Vec<Ref>> {
    btree_set(arb_ref(), 0..4).prop_map(|s| s.into_iter().collect())
}

pub fn arb_type() -> impl Strategy<Value = Type> {
    let leaf = prop_oneof![
        Just(Type::Int),
        Just(Type::Bool),
        Just(Type::String),
        Just(Type::Duration),
        Just(Type::Unit),
        Just(Type::Hash),
        arb_ref().prop_map(Type::Named),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| Type::List(Box::new(t))),
            (inner.clone(), inner.clone()).prop_map(|(k, v)| Type::Map(Box::new(k), Box::new(v))),
            inner.clone().prop_map(|t| Type::Option(Box::new(t))),
            btree_map(arb_name(), inner.clone(), 0..4)
                .prop_map(|m| Type::Record(m.into_iter().collect())),
            (vec(inner.clone(), 0..3), inner, arb_row()).prop_map(|(params, ret, effects)| {
                Type::Fn { params, ret: Box::new(ret), effects }
            }),
        ]
    })
}

pub fn arb_lit() -> impl Strategy<Value = Lit> {
    prop_oneof![
        any::<i64>().prop_map(Lit::Int),
        any::<bool>().prop_map(Lit::Bool),
        ".{0,6}".prop_map(|s: String| Lit::String(SmolStr::new(s))),
        any::<i64>().prop_map(Lit::Duration),
        Just(Lit::Unit),
    ]
}

pub fn arb_owner() -> impl Strategy<Value = VariantOwner> {
    prop_oneof![arb_ref().prop_map(VariantOwner::Enum), Just(VariantOwner::Option)]
}

pub fn arb_pat() -> impl Strategy<Value = Pat> {
    let leaf = prop_oneof![Just(Pat::Wildcard), Just(Pat::Bind), arb_lit().prop_map(Pat::Lit)];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (arb_owner(), 0u32..4, vec(inner.clone(), 0..3))
                .prop_map(|(owner, index, fields)| Pat::Variant { owner, index, fields }),
            btree_map(arb_name(), inner, 0..3)
                .prop_map(|m| Pat::Record { fields: m.into_iter().collect() }),
        ]
    })
}

fn b(e: Expr) -> Box<Expr> {
    Box::new(e)
}

pub fn arb_expr() -> impl Strategy<Value = Expr> {
    let leaf = prop_oneof![
        (0u32..5).prop_map(Expr::Local),
        arb_ref().prop_map(Expr::Ref),
        arb_lit().prop_map(Expr::Lit),
    ];
    leaf.prop_recursive(5, 48, 4, |inner| {
        let e = || inner.clone();
        prop_oneof![
            (e(), vec(e(), 0..3)).prop_map(|(c, args)| Expr::Call { callee: b(c), args }),
            (vec(arb_type(), 0..3), arb_type(), e()).prop_map(|(params, ret, body)| Expr::Lambda {
                params,
                ret,
                body: b(body)
            }),
            (arb_type(), e(), e()).prop_map(|(ty, v, body)| Expr::Let {
                ty,
                value: b(v),
                body: b(body)
            }),
            (e(), e()).prop_map(|(f, t)| Expr::Seq { first: b(f), then: b(t) }),
            (e(), e(), e()).prop_map(|(c, t, f)| Expr::If { cond: b(c), then: b(t), else_: b(f) }),
            (e(), vec((arb_pat(), proptest::option::of(e()), e()), 0..3)).prop_map(|(s, arms)| {
                Expr::Match {
                    scrutinee: b(s),
                    arms: arms
                        .into_iter()
                        .map(|(pat, guard, body)| Arm { pat, guard, body })
                        .collect(),
                }
            }),
            (proptest::option::of(arb_ref()), btree_map(arb_name(), e(), 0..3))
                .prop_map(|(ty, m)| Expr::Record { ty, fields: m.into_iter().collect() }),
            (e(), arb_name()).prop_map(|(x, name)| Expr::Field { expr: b(x), name }),
            vec(e(), 0..3).prop_map(Expr::List),
            (arb_owner(), 0u32..4, vec(e(), 0..3)).prop_map(|(owner, index, args)| Expr::Variant {
                owner,
                index,
                args
            }),
            (select(BINOPS.to_vec()), e(), e()).prop_map(|(op, l, r)| Expr::Binary {
                op,
                lhs: b(l),
                rhs: b(r)
            }),
            (select(vec![UnOp::Neg, UnOp::Not]), e())
                .prop_map(|(op, x)| Expr::Unary { op, expr: b(x) }),
            (arb_ref(), vec(e(), 0..3)).prop_map(|(effect, args)| Expr::Perform { effect, args }),
            (e(), btree_map(arb_ref(), (0u32..3, e()), 0..3)).prop_map(|(body, m)| {
                Expr::Handle {
                    body: b(body),
                    clauses: m
                        .into_iter()
                        .map(|(effect, (arity, body))| Clause { effect, arity, body })
                        .collect(),
                }
            }),
            e().prop_map(|x| Expr::Resume(b(x))),
            e().prop_map(|x| Expr::Abort(b(x))),
            (e(), e(), e()).prop_map(|(d, x, f)| Expr::Within {
                deadline: b(d),
                body: b(x),
                fallback: b(f)
            }),
            (e(), e()).prop_map(|(d, x)| Expr::After { delay: b(d), body: b(x) }),
        ]
    })
}

pub fn arb_def() -> impl Strategy<Value = CoreDef> {
    prop_oneof![
        (vec(arb_type(), 0..3), arb_type(), arb_row(), arb_expr())
            .prop_map(|(params, ret, effects, body)| CoreDef::Fn { params, ret, effects, body }),
        arb_type().prop_map(|ty| CoreDef::Type { ty }),
        vec((arb_name(), vec(arb_type(), 0..3)), 0..4).prop_map(|vs| CoreDef::Enum {
            variants: vs.into_iter().map(|(name, fields)| Variant { name, fields }).collect()
        }),
        (arb_name(), vec(arb_type(), 0..3), arb_type())
            .prop_map(|(name, params, ret)| CoreDef::Effect { name, params, ret }),
        btree_map(arb_name(), (arb_type(), proptest::option::of(arb_expr())), 0..4).prop_map(|m| {
            CoreDef::Schema {
                fields: m
                    .into_iter()
                    .map(|(name, (ty, default))| SchemaField { name, ty, default })
                    .collect(),
            }
        }),
    ]
}

/// Reorders every list whose order the canonical form does not keep (record fields, effect
/// rows, handler clauses, schema fields) and repeats row entries; `seed` picks how.
pub struct Scrambler {
    pub seed: u64,
}

impl Scrambler {
    fn next(&mut self) -> u64 {
        // splitmix64: deterministic, seeded by proptest.
        self.seed = self.seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }

    fn row(&mut self, row: &mut Vec<Ref>) {
        if !row.is_empty() && self.next().is_multiple_of(2) {
            let dup = row[(self.next() % row.len() as u64) as usize].clone();
            row.push(dup);
        }
        self.shuffle(row);
    }

    pub fn def(&mut self, d: &mut CoreDef) {
        match d {
            CoreDef::Fn { effects, .. } => self.row(effects),
            CoreDef::Schema { fields } => self.shuffle(fields),
            _ => {}
        }
        for_each_def_child(d, &mut |c| self.child(c));
    }
}

impl Walk for Scrambler {
    fn ty(&mut self, t: &mut Type) {
        match t {
            Type::Record(fs) => self.shuffle(fs),
            Type::Fn { effects, .. } => self.row(effects),
            _ => {}
        }
        for_each_type_child(t, &mut |t| self.ty(t));
    }
    fn pat(&mut self, p: &mut Pat) {
        match p {
            Pat::Variant { fields, .. } => fields.iter_mut().for_each(|p| self.pat(p)),
            Pat::Record { fields } => {
                self.shuffle(fields);
                fields.iter_mut().for_each(|(_, p)| self.pat(p));
            }
            _ => {}
        }
    }
    fn expr(&mut self, e: &mut Expr) {
        for_each_child(e, &mut |c| self.child(c));
        match e {
            Expr::Record { fields, .. } => self.shuffle(fields),
            Expr::Handle { clauses, .. } => self.shuffle(clauses),
            _ => {}
        }
    }
}

pub enum Child<'a> {
    Expr(&'a mut Expr),
    Type(&'a mut Type),
    Pat(&'a mut Pat),
}

/// A walk over a definition: each of `expr`, `ty` and `pat` does the walker's work on its
/// node and goes on into the node's children (`for_each_child`, `for_each_type_child`).
pub trait Walk {
    fn expr(&mut self, e: &mut Expr);
    fn ty(&mut self, t: &mut Type);
    fn pat(&mut self, p: &mut Pat);

    fn child(&mut self, c: Child<'_>) {
        match c {
            Child::Expr(e) => self.expr(e),
            Child::Type(t) => self.ty(t),
            Child::Pat(p) => self.pat(p),
        }
    }
}

/// Calls `f` on the direct children of `e`, in serialization order.
pub fn for_each_child(e: &mut Expr, f: &mut dyn FnMut(Child<'_>)) {
    use Child as C;
    match e {
        Expr::Local(_) | Expr::Ref(_) | Expr::Lit(_) => {}
        Expr::Call { callee, args } => {
            f(C::Expr(callee));
            args.iter_mut().for_each(|a| f(C::Expr(a)));
        }
        Expr::Lambda { params, ret, body } => {
            params.iter_mut().for_each(|t| f(C::Type(t)));
            f(C::Type(ret));
            f(C::Expr(body));
        }
        Expr::Let { ty, value, body } => {
            f(C::Type(ty));
            f(C::Expr(value));
            f(C::Expr(body));
        }
        Expr::Seq { first, then } => {
            f(C::Expr(first));
            f(C::Expr(then));
        }
        Expr::If { cond, then, else_ } => {
            f(C::Expr(cond));
            f(C::Expr(then));
            f(C::Expr(else_));
        }
        Expr::Match { scrutinee, arms } => {
            f(C::Expr(scrutinee));
            for arm in arms {
                f(C::Pat(&mut arm.pat));
                if let Some(g) = &mut arm.guard {
                    f(C::Expr(g));
                }
                f(C::Expr(&mut arm.body));
            }
        }
        Expr::Record { fields, .. } => fields.iter_mut().for_each(|(_, e)| f(C::Expr(e))),
        Expr::Field { expr, .. } | Expr::Unary { expr, .. } => f(C::Expr(expr)),
        Expr::Resume(x) | Expr::Abort(x) => f(C::Expr(x)),
        Expr::List(xs) => xs.iter_mut().for_each(|x| f(C::Expr(x))),
        Expr::Variant { args, .. } | Expr::Perform { args, .. } => {
            args.iter_mut().for_each(|x| f(C::Expr(x)))
        }
        Expr::Binary { lhs, rhs, .. } => {
            f(C::Expr(lhs));
            f(C::Expr(rhs));
        }
        Expr::Handle { body, clauses } => {
            f(C::Expr(body));
            clauses.iter_mut().for_each(|c| f(C::Expr(&mut c.body)));
        }
        Expr::Within { deadline, body, fallback } => {
            f(C::Expr(deadline));
            f(C::Expr(body));
            f(C::Expr(fallback));
        }
        Expr::After { delay, body } => {
            f(C::Expr(delay));
            f(C::Expr(body));
        }
    }
}

/// Calls `f` on the types and expressions of `d`, in serialization order (a row of
/// effects is not a child: a walker that looks at rows takes them itself).
pub fn for_each_def_child(d: &mut CoreDef, f: &mut dyn FnMut(Child<'_>)) {
    use Child as C;
    match d {
        CoreDef::Fn { params, ret, body, .. } => {
            params.iter_mut().for_each(|t| f(C::Type(t)));
            f(C::Type(ret));
            f(C::Expr(body));
        }
        CoreDef::Type { ty } => f(C::Type(ty)),
        CoreDef::Enum { variants } => {
            variants.iter_mut().flat_map(|v| &mut v.fields).for_each(|t| f(C::Type(t)))
        }
        CoreDef::Effect { params, ret, .. } => {
            params.iter_mut().for_each(|t| f(C::Type(t)));
            f(C::Type(ret));
        }
        CoreDef::Schema { fields } => {
            for field in fields {
                f(C::Type(&mut field.ty));
                if let Some(e) = &mut field.default {
                    f(C::Expr(e));
                }
            }
        }
    }
}

/// Calls `f` on the types directly inside `t`, in serialization order.
pub fn for_each_type_child(t: &mut Type, f: &mut dyn FnMut(&mut Type)) {
    match t {
        Type::List(t) | Type::Option(t) => f(t),
        Type::Map(k, v) => {
            f(k);
            f(v);
        }
        Type::Record(fs) => fs.iter_mut().for_each(|(_, t)| f(t)),
        Type::Fn { params, ret, .. } => {
            for t in params {
                f(t);
            }
            f(ret);
        }
        _ => {}
    }
}

/// Changes the `k`-th literal, operator or leaf type of `d` (in a fixed walk order) to a
/// different one. Returns false if `d` has `k` or fewer such sites.
pub fn mutate(d: &mut CoreDef, k: usize) -> bool {
    walk_sites(d, k).done
}

/// How many sites `mutate` can change in `d`.
pub fn sites(d: &CoreDef) -> usize {
    usize::MAX - walk_sites(&mut d.clone(), usize::MAX).left
}

fn walk_sites(d: &mut CoreDef, k: usize) -> Mutator {
    let mut m = Mutator { left: k, done: false };
    for_each_def_child(d, &mut |c| m.child(c));
    m
}

struct Mutator {
    left: usize,
    done: bool,
}

impl Mutator {
    /// True when the current site is the one to change.
    fn hit(&mut self) -> bool {
        if self.done {
            return false;
        }
        if self.left == 0 {
            self.done = true;
            return true;
        }
        self.left -= 1;
        false
    }

    fn lit(&mut self, l: &mut Lit) {
        if self.hit() {
            *l = match l {
                Lit::Int(v) => Lit::Int(v.wrapping_add(1)),
                Lit::Bool(b) => Lit::Bool(!*b),
                Lit::String(s) => Lit::String(SmolStr::new(format!("{s}x"))),
                Lit::Duration(v) => Lit::Duration(v.wrapping_sub(1)),
                Lit::Unit => Lit::Int(0),
            };
        }
    }
}

impl Walk for Mutator {
    fn ty(&mut self, t: &mut Type) {
        let leaf = match t {
            Type::Int => Some(Type::Bool),
            Type::Bool => Some(Type::Int),
            Type::String => Some(Type::Duration),
            Type::Duration => Some(Type::String),
            Type::Unit => Some(Type::Hash),
            Type::Hash => Some(Type::Unit),
            _ => None,
        };
        if let Some(new) = leaf {
            if self.hit() {
                *t = new;
            }
            return;
        }
        for_each_type_child(t, &mut |t| self.ty(t));
    }
    fn pat(&mut self, p: &mut Pat) {
        match p {
            Pat::Lit(l) => self.lit(l),
            Pat::Variant { fields, .. } => fields.iter_mut().for_each(|p| self.pat(p)),
            Pat::Record { fields } => fields.iter_mut().for_each(|(_, p)| self.pat(p)),
            _ => {}
        }
    }
    fn expr(&mut self, e: &mut Expr) {
        match e {
            Expr::Lit(l) => self.lit(l),
            Expr::Binary { op, .. } if self.hit() => {
                let i = BINOPS.iter().position(|o| o == op).unwrap();
                *op = BINOPS[(i + 1) % BINOPS.len()];
            }
            Expr::Unary { op, .. } if self.hit() => {
                *op = if *op == UnOp::Neg { UnOp::Not } else { UnOp::Neg };
            }
            _ => {}
        }
        for_each_child(e, &mut |c| self.child(c));
    }
}
