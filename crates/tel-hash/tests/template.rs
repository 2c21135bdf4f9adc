//! A definition's template filled with its dependencies' hashes gives exactly the bytes and
//! hash of serializing it with those hashes, whatever hashes they are.

#[path = "common/arb.rs"]
mod arb;

use std::collections::BTreeMap;

use arb::*;
use proptest::prelude::*;
use smol_str::SmolStr;
use tel_hash::core::*;
use tel_hash::{CodeHash, DefTemplate, ResolvedRef, encode, hash_bytes, hash_def};

/// Turns every `Ref::Hash` of a generated definition into a `Ref::Def` to a dependency,
/// remembering the hash it stood for. With `aliases`, equal hashes are reached through
/// two names every other time (two definitions with one hash), otherwise through one.
struct ToDefs {
    hashes: BTreeMap<SmolStr, CodeHash>,
    aliases: bool,
    seen: usize,
    /// The most distinct dependencies one effect row or handler holds.
    max_set: usize,
}

impl ToDefs {
    fn r(&mut self, r: &mut Ref) {
        if let Ref::Hash(h) = r {
            self.seen += 1;
            let alias = if self.aliases { self.seen % 2 } else { 0 };
            let name = SmolStr::new(format!("dep::h{:02x}{:02x}_{alias}", h.0[0], h.0[31]));
            self.hashes.insert(name.clone(), *h);
            *r = Ref::Def(name);
        }
    }

    /// A set the encoder sorts by resolved reference: a row or a handler's effects.
    fn set<'r>(&mut self, refs: impl Iterator<Item = &'r mut Ref>) {
        let mut names = std::collections::BTreeSet::new();
        for r in refs {
            self.r(r);
            if let Ref::Def(n) = r {
                names.insert(n.clone());
            }
        }
        self.max_set = self.max_set.max(names.len());
    }

    fn def(&mut self, d: &mut CoreDef) {
        if let CoreDef::Fn { effects, .. } = d {
            self.set(effects.iter_mut());
        }
        for_each_def_child(d, &mut |c| self.child(c));
    }

    fn owner(&mut self, o: &mut VariantOwner) {
        if let VariantOwner::Enum(r) = o {
            self.r(r);
        }
    }
}

impl Walk for ToDefs {
    fn ty(&mut self, t: &mut Type) {
        match t {
            Type::Named(r) => self.r(r),
            Type::Fn { effects, .. } => self.set(effects.iter_mut()),
            _ => {}
        }
        for_each_type_child(t, &mut |t| self.ty(t));
    }
    fn pat(&mut self, p: &mut Pat) {
        match p {
            Pat::Variant { owner, fields, .. } => {
                self.owner(owner);
                fields.iter_mut().for_each(|p| self.pat(p));
            }
            Pat::Record { fields } => fields.iter_mut().for_each(|(_, p)| self.pat(p)),
            _ => {}
        }
    }
    fn expr(&mut self, e: &mut Expr) {
        match e {
            Expr::Ref(r) | Expr::Perform { effect: r, .. } => self.r(r),
            Expr::Record { ty: Some(r), .. } => self.r(r),
            Expr::Variant { owner, .. } => self.owner(owner),
            Expr::Handle { clauses, .. } => self.set(clauses.iter_mut().map(|c| &mut c.effect)),
            _ => {}
        }
        for_each_child(e, &mut |c| self.child(c));
    }
}

/// The definition, the hash of each name, and the most dependencies one row or handler
/// holds.
fn with_defs(d: &CoreDef, aliases: bool) -> (CoreDef, BTreeMap<SmolStr, CodeHash>, usize) {
    let mut out = d.clone();
    let mut to = ToDefs { hashes: BTreeMap::new(), aliases, seen: 0, max_set: 0 };
    to.def(&mut out);
    (out, to.hashes, to.max_set)
}

fn full(d: &CoreDef, hashes: &BTreeMap<SmolStr, CodeHash>) -> Result<Vec<u8>, tel_hash::HashError> {
    encode(d, &|n| hashes.get(n).copied().map(ResolvedRef::Hash))
}

/// Other hashes for the same names: what the template sees after its dependencies changed.
fn rehashed(hashes: &BTreeMap<SmolStr, CodeHash>, salt: u8) -> BTreeMap<SmolStr, CodeHash> {
    let fresh = |n: &SmolStr| {
        let mut h = blake3::Hasher::new();
        h.update(&[salt]);
        h.update(n.as_bytes());
        CodeHash(*h.finalize().as_bytes())
    };
    hashes.keys().map(|n| (n.clone(), fresh(n))).collect()
}

fn fill(t: &DefTemplate, hashes: &BTreeMap<SmolStr, CodeHash>) -> Vec<CodeHash> {
    t.deps().iter().map(|n| hashes[n]).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_filled_template_is_the_serialization(d in arb_def(), aliases in any::<bool>(), salt in any::<u8>()) {
        let (d, hashes, max_set) = with_defs(&d, aliases);
        let name = SmolStr::new("self::me");
        match DefTemplate::new(&name, &d) {
            Ok(Some(t)) => {
                prop_assert!(max_set < 2);
                let mut deps = t.deps().to_vec();
                deps.sort();
                prop_assert_eq!(deps, hashes.keys().cloned().collect::<Vec<_>>());
                for hs in [hashes.clone(), rehashed(&hashes, salt)] {
                    let bytes = full(&d, &hs).expect("a template exists only for what encodes");
                    let filled = fill(&t, &hs);
                    prop_assert_eq!(&t.bytes(&filled), &bytes);
                    prop_assert_eq!(t.hash(&filled), hash_bytes(&bytes));
                    prop_assert_eq!(Ok(t.hash(&filled)), hash_def(&d, &|n| hs.get(n).copied()));
                }
            }
            // Refused only when the hashes' order decides the bytes: a row or a handler
            // holds two dependencies (generated definitions never refer to themselves).
            Ok(None) => prop_assert!(max_set >= 2),
            // The error of hashing it alone (a `Ref::Member` outside a component is one).
            Err(_) => prop_assert!(hash_def(&d, &|n| hashes.get(n).copied()).is_err()),
        }
    }
}

#[test]
fn a_template_refuses_what_only_a_full_serialization_gives() {
    let name = SmolStr::new("m::f");
    let call = |callee: &str| Expr::Call {
        callee: Box::new(Expr::Ref(Ref::Def(SmolStr::new(callee)))),
        args: vec![Expr::Local(0)],
    };
    let fun = |effects: Vec<Ref>, body: Expr| CoreDef::Fn {
        params: vec![Type::Int],
        ret: Type::Int,
        effects,
        body,
    };
    let log = || Ref::Def(SmolStr::new("prelude::Log"));
    // Calls itself: a component of one, hashed with `Ref::Member`.
    assert_eq!(DefTemplate::new(&name, &fun(vec![], call("m::f"))), Ok(None));
    // Two effects: their order in the row is the order of their hashes.
    let two = fun(vec![log(), Ref::Def(SmolStr::new("m::E"))], call("m::g"));
    assert_eq!(DefTemplate::new(&name, &two), Ok(None));
    // One effect and a builtin-free body: a template, with a hole per reference.
    let one = fun(
        vec![log()],
        Expr::Binary { op: BinOp::Add, lhs: Box::new(call("m::g")), rhs: Box::new(call("m::g")) },
    );
    let t = DefTemplate::new(&name, &one).unwrap().expect("no order depends on a hash");
    assert_eq!(t.deps(), ["prelude::Log", "m::g"]);
}
