//! Hashes: of one definition, of a mutually recursive component and its members, and of a
//! whole program (dependency graph → SCCs → components, dependencies first).
//!
//! Every BLAKE3 input starts with a domain tag, a NUL-terminated ASCII string that no other
//! tag is a prefix of, so a definition, a component and a member can never share a hash.
//! docs/hashing.md is the specification; this is its implementation.

use crate::code_hash::CodeHash;
use crate::core::*;
use crate::error::HashError;
use crate::serialize::{MAX_DEPTH, Target, encode_inner};
use rustc_hash::{FxHashMap, FxHashSet};
use smol_str::SmolStr;
use std::borrow::Borrow;

/// Domain tag of a definition hashed alone: `BLAKE3(DOMAIN_DEF ‖ bytes)`.
pub const DOMAIN_DEF: &[u8] = b"tel/v1/def\0";
/// Domain tag of a component hash: `BLAKE3(DOMAIN_COMPONENT ‖ n ‖ (len ‖ bytes)*)`.
pub const DOMAIN_COMPONENT: &[u8] = b"tel/v1/component\0";
/// Domain tag of a member hash: `BLAKE3(DOMAIN_MEMBER ‖ component ‖ i)`.
pub const DOMAIN_MEMBER: &[u8] = b"tel/v1/member\0";
/// Domain tag of the internal ordering keys of component members (never published).
const DOMAIN_ORDER: &[u8] = b"tel/v1/order\0";

/// How many complete labelings the canonical-order search of a component with
/// indistinguishable members tries before settling (see docs/hashing.md, "Limits").
pub const ORDER_SEARCH_BUDGET: usize = 256;

/// The hash of a definition alone in its component, from its canonical bytes.
pub fn hash_bytes(bytes: &[u8]) -> CodeHash {
    let mut h = blake3::Hasher::new();
    h.update(DOMAIN_DEF);
    h.update(bytes);
    CodeHash(*h.finalize().as_bytes())
}

/// Serializes and hashes a definition that is alone in its component (it does not refer to
/// itself). Its `Ref::Def`s are resolved by `resolve`; a `Ref::Member` is an error.
pub fn hash_def(
    def: &CoreDef,
    resolve: &dyn Fn(&SmolStr) -> Option<CodeHash>,
) -> Result<CodeHash, HashError> {
    let bytes = encode_inner(def, &|n| resolve(n).map(Target::Hash), false)?;
    Ok(hash_bytes(&bytes))
}

/// The hash of a component from its members' bytes in canonical order.
pub fn component_hash<B: AsRef<[u8]>>(members: &[B]) -> CodeHash {
    let mut h = blake3::Hasher::new();
    h.update(DOMAIN_COMPONENT);
    h.update(&(members.len() as u32).to_le_bytes());
    for m in members {
        let m = m.as_ref();
        h.update(&(m.len() as u32).to_le_bytes());
        h.update(m);
    }
    CodeHash(*h.finalize().as_bytes())
}

/// The hash of member `index` of the component with hash `component` (`#component.index`).
pub fn member_hash(component: &CodeHash, index: u32) -> CodeHash {
    let mut h = blake3::Hasher::new();
    h.update(DOMAIN_MEMBER);
    h.update(&component.0);
    h.update(&index.to_le_bytes());
    CodeHash(*h.finalize().as_bytes())
}

/// One hashed definition: what the store keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashedMember {
    pub name: SmolStr,
    pub hash: CodeHash,
    /// The canonical serialization (refs to other members are `Ref::Member(i)`).
    pub bytes: Vec<u8>,
}

/// A hashed component. For a definition alone (`component == None`) the member's hash is
/// `hash_bytes(bytes)`; otherwise member `i` (`members[i]`) has
/// `member_hash(component, i)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashedComponent {
    pub component: Option<CodeHash>,
    /// In canonical order.
    pub members: Vec<HashedMember>,
}

/// Hashes one strongly connected component; returns the members' hashes in input order.
/// `external` resolves references to definitions outside the component (hashed before).
pub fn hash_component<N: Borrow<SmolStr>, D: Borrow<CoreDef>>(
    members: &[(N, D)],
    external: &dyn Fn(&SmolStr) -> Option<CodeHash>,
) -> Result<Vec<CodeHash>, HashError> {
    let hashed = hash_component_full(members, external)?;
    let by_name: FxHashMap<&SmolStr, CodeHash> =
        hashed.members.iter().map(|m| (&m.name, m.hash)).collect();
    Ok(members.iter().map(|(n, _)| by_name[n.borrow()]).collect())
}

/// [`hash_component`] with the component hash, canonical order and bytes.
///
/// A single member that does not refer to itself is hashed as a plain definition. Otherwise
/// the members are put in canonical order (docs/hashing.md, "Components") and serialized
/// with intra-component references as `Ref::Member(i)`.
pub fn hash_component_full<N: Borrow<SmolStr>, D: Borrow<CoreDef>>(
    members: &[(N, D)],
    external: &dyn Fn(&SmolStr) -> Option<CodeHash>,
) -> Result<HashedComponent, HashError> {
    let mut index: FxHashMap<&SmolStr, usize> = FxHashMap::default();
    for (i, (name, _)) in members.iter().enumerate() {
        if index.insert(name.borrow(), i).is_some() {
            return Err(HashError::DuplicateDefinition { name: name.borrow().clone() });
        }
    }
    let name = |i: usize| members[i].0.borrow();
    let def = |i: usize| members[i].1.borrow();

    if let [(n, d)] = members {
        let (n, d) = (n.borrow(), d.borrow());
        // One walk both serializes a lone definition and finds out whether it refers to
        // itself (then it is a component of one, serialized below).
        let recursive = std::cell::Cell::new(false);
        let encoded = encode_inner(
            d,
            &|r| {
                if r == n {
                    recursive.set(true);
                    return Some(Target::Hash(CodeHash([0; 32])));
                }
                external(r).map(Target::Hash)
            },
            false,
        );
        if !recursive.get() {
            let bytes = encoded.map_err(|e| e.in_def(n))?;
            let hash = hash_bytes(&bytes);
            return Ok(HashedComponent {
                component: None,
                members: vec![HashedMember { name: n.clone(), hash, bytes }],
            });
        }
    }
    if members.is_empty() {
        return Ok(HashedComponent { component: None, members: Vec::new() });
    }

    // Serializes member `i`, with each intra-component reference to member `j` written as
    // `intra(j)`.
    let encode_member = |i: usize, intra: &dyn Fn(usize) -> Target| {
        encode_inner(
            def(i),
            &|r| match index.get(r) {
                Some(&j) => Some(intra(j)),
                None => external(r).map(Target::Hash),
            },
            true,
        )
        .map_err(|e| e.in_def(name(i)))
    };

    let order = canonical_order(members.len(), &encode_member, &|i| name(i))?;
    let mut position = vec![0u32; members.len()];
    for (k, &i) in order.iter().enumerate() {
        position[i] = k as u32;
    }
    let bytes: Vec<Vec<u8>> = order
        .iter()
        .map(|&i| encode_member(i, &|j| Target::Member(position[j])))
        .collect::<Result<_, _>>()?;
    let component = component_hash(&bytes);
    let members = order
        .iter()
        .zip(bytes)
        .enumerate()
        .map(|(k, (&i, bytes))| HashedMember {
            name: name(i).clone(),
            hash: member_hash(&component, k as u32),
            bytes,
        })
        .collect();
    Ok(HashedComponent { component: Some(component), members })
}

type Key = [u8; 32];

/// Serializes member `i`, writing each intra-component reference to member `j` as the
/// given function of `j`.
type EncodeMember<'a> = dyn Fn(usize, &dyn Fn(usize) -> Target) -> Result<Vec<u8>, HashError> + 'a;

/// The canonical order of a component's members: a list of input indices.
///
/// Colour refinement: a member's key starts as the hash of its serialization with every
/// intra-component reference replaced by one placeholder, and is refined by hashing it again
/// with each intra-component reference replaced by the referenced member's key, until the
/// partition into equal keys stops splitting. If members remain tied, each member of the
/// first tied cell is individualized in turn and the search recurses; of all complete
/// orders, the one whose component serialization is smallest wins (ties between them are
/// automorphisms and give identical bytes). Everything here depends on structure only,
/// except the order in which tied members are tried, which decides only between equal
/// results, or after [`ORDER_SEARCH_BUDGET`] complete orders.
fn canonical_order<'n>(
    n: usize,
    encode_member: &EncodeMember<'_>,
    name: &dyn Fn(usize) -> &'n SmolStr,
) -> Result<Vec<usize>, HashError> {
    let key_of = |prev: Option<&Key>, bytes: &[u8]| -> Key {
        let mut h = blake3::Hasher::new();
        h.update(DOMAIN_ORDER);
        if let Some(p) = prev {
            h.update(p);
        }
        h.update(bytes);
        *h.finalize().as_bytes()
    };
    let refine = |mut keys: Vec<Key>| -> Result<Vec<Key>, HashError> {
        let mut cells = distinct(&keys);
        while cells < n {
            let next = (0..n)
                .map(|i| {
                    let bytes = encode_member(i, &|j| Target::Class(keys[j]))?;
                    Ok(key_of(Some(&keys[i]), &bytes))
                })
                .collect::<Result<Vec<Key>, HashError>>()?;
            let next_cells = distinct(&next);
            keys = next;
            if next_cells == cells {
                break;
            }
            cells = next_cells;
        }
        Ok(keys)
    };

    let initial = (0..n)
        .map(|i| Ok(key_of(None, &encode_member(i, &|_| Target::Class([0; 32]))?)))
        .collect::<Result<Vec<Key>, HashError>>()?;
    let keys = refine(initial)?;

    let mut search = Search { best: None, leaves: 0, n, encode_member, name, refine: &refine };
    search.run(keys)?;
    Ok(search.best.expect("the search reaches at least one complete order").1)
}

fn distinct(keys: &[Key]) -> usize {
    keys.iter().collect::<FxHashSet<_>>().len()
}

struct Search<'a, 'n> {
    /// The smallest component serialization found so far, and its order.
    best: Option<(Vec<Vec<u8>>, Vec<usize>)>,
    leaves: usize,
    n: usize,
    encode_member: &'a EncodeMember<'a>,
    name: &'a dyn Fn(usize) -> &'n SmolStr,
    refine: &'a dyn Fn(Vec<Key>) -> Result<Vec<Key>, HashError>,
}

impl Search<'_, '_> {
    fn run(&mut self, keys: Vec<Key>) -> Result<(), HashError> {
        if self.leaves >= ORDER_SEARCH_BUDGET && self.best.is_some() {
            return Ok(());
        }
        // The tied cell with the smallest key, members tried in name order.
        let mut counts: FxHashMap<Key, usize> = FxHashMap::default();
        for k in &keys {
            *counts.entry(*k).or_default() += 1;
        }
        let tied = counts.iter().filter(|&(_, &c)| c > 1).map(|(k, _)| *k).min();
        let Some(cell_key) = tied else {
            self.leaves += 1;
            let mut order: Vec<usize> = (0..self.n).collect();
            order.sort_by_key(|&i| keys[i]);
            let mut position = vec![0u32; self.n];
            for (k, &i) in order.iter().enumerate() {
                position[i] = k as u32;
            }
            let bytes = order
                .iter()
                .map(|&i| (self.encode_member)(i, &|j| Target::Member(position[j])))
                .collect::<Result<Vec<_>, _>>()?;
            if self.best.as_ref().is_none_or(|(b, _)| bytes < *b) {
                self.best = Some((bytes, order));
            }
            return Ok(());
        };
        let mut cell: Vec<usize> = (0..self.n).filter(|&i| keys[i] == cell_key).collect();
        cell.sort_by(|&a, &b| (self.name)(a).cmp((self.name)(b)));
        let individual = {
            let mut h = blake3::Hasher::new();
            h.update(DOMAIN_ORDER);
            h.update(b"individualized\0");
            h.update(&cell_key);
            *h.finalize().as_bytes()
        };
        for v in cell {
            let mut k = keys.clone();
            k[v] = individual;
            let k = (self.refine)(k)?;
            self.run(k)?;
        }
        Ok(())
    }
}

/// Calls `f` on every reference in `def`, in serialization order. Stops descending below
/// [`MAX_DEPTH`]: such a definition cannot be serialized anyway.
pub(crate) fn for_each_ref(def: &CoreDef, f: &mut dyn FnMut(&Ref)) {
    struct W<'f>(&'f mut dyn FnMut(&Ref));
    impl W<'_> {
        fn ty(&mut self, t: &Type, d: u32) {
            if d > MAX_DEPTH + 1 {
                return;
            }
            match t {
                Type::Int
                | Type::Bool
                | Type::String
                | Type::Duration
                | Type::Unit
                | Type::Hash => {}
                Type::List(t) | Type::Option(t) => self.ty(t, d + 1),
                Type::Map(k, v) => {
                    self.ty(k, d + 1);
                    self.ty(v, d + 1);
                }
                Type::Record(fs) => fs.iter().for_each(|(_, t)| self.ty(t, d + 1)),
                Type::Named(r) => (self.0)(r),
                Type::Fn { params, ret, effects } => {
                    params.iter().for_each(|t| self.ty(t, d + 1));
                    self.ty(ret, d + 1);
                    effects.iter().for_each(|r| (self.0)(r));
                }
            }
        }
        fn owner(&mut self, o: &VariantOwner) {
            if let VariantOwner::Enum(r) = o {
                (self.0)(r);
            }
        }
        fn pat(&mut self, p: &Pat, d: u32) {
            if d > MAX_DEPTH + 1 {
                return;
            }
            match p {
                Pat::Wildcard | Pat::Bind | Pat::Lit(_) => {}
                Pat::Variant { owner, fields, .. } => {
                    self.owner(owner);
                    fields.iter().for_each(|p| self.pat(p, d + 1));
                }
                Pat::Record { fields } => fields.iter().for_each(|(_, p)| self.pat(p, d + 1)),
            }
        }
        fn expr(&mut self, mut e: &Expr, d: u32) {
            if d > MAX_DEPTH + 1 {
                return;
            }
            let d = d + 1;
            loop {
                match e {
                    Expr::Let { ty, value, body } => {
                        self.ty(ty, d);
                        self.expr(value, d);
                        e = body;
                    }
                    Expr::Seq { first, then } => {
                        self.expr(first, d);
                        e = then;
                    }
                    _ => break,
                }
            }
            match e {
                Expr::Let { .. } | Expr::Seq { .. } | Expr::Local(_) | Expr::Lit(_) => {}
                Expr::Ref(r) => (self.0)(r),
                Expr::Call { callee, args } => {
                    self.expr(callee, d);
                    args.iter().for_each(|a| self.expr(a, d));
                }
                Expr::Lambda { params, ret, body } => {
                    params.iter().for_each(|t| self.ty(t, d));
                    self.ty(ret, d);
                    self.expr(body, d);
                }
                Expr::If { cond, then, else_ } => {
                    self.expr(cond, d);
                    self.expr(then, d);
                    self.expr(else_, d);
                }
                Expr::Match { scrutinee, arms } => {
                    self.expr(scrutinee, d);
                    for arm in arms {
                        self.pat(&arm.pat, d);
                        if let Some(g) = &arm.guard {
                            self.expr(g, d);
                        }
                        self.expr(&arm.body, d);
                    }
                }
                Expr::Record { ty, fields } => {
                    if let Some(r) = ty {
                        (self.0)(r);
                    }
                    fields.iter().for_each(|(_, e)| self.expr(e, d));
                }
                Expr::Field { expr, .. } | Expr::Unary { expr, .. } => self.expr(expr, d),
                Expr::Resume(expr) | Expr::Abort(expr) => self.expr(expr, d),
                Expr::List(items) => items.iter().for_each(|e| self.expr(e, d)),
                Expr::Variant { owner, args, .. } => {
                    self.owner(owner);
                    args.iter().for_each(|e| self.expr(e, d));
                }
                Expr::Binary { lhs, rhs, .. } => {
                    self.expr(lhs, d);
                    self.expr(rhs, d);
                }
                Expr::Perform { effect, args } => {
                    (self.0)(effect);
                    args.iter().for_each(|e| self.expr(e, d));
                }
                Expr::Handle { body, clauses } => {
                    self.expr(body, d);
                    for c in clauses {
                        (self.0)(&c.effect);
                        self.expr(&c.body, d);
                    }
                }
                Expr::Within { deadline, body, fallback } => {
                    self.expr(deadline, d);
                    self.expr(body, d);
                    self.expr(fallback, d);
                }
                Expr::After { delay, body } => {
                    self.expr(delay, d);
                    self.expr(body, d);
                }
            }
        }
    }
    let mut w = W(f);
    match def {
        CoreDef::Fn { params, ret, effects, body } => {
            params.iter().for_each(|t| w.ty(t, 1));
            w.ty(ret, 1);
            effects.iter().for_each(|r| (w.0)(r));
            w.expr(body, 1);
        }
        CoreDef::Type { ty } => w.ty(ty, 1),
        CoreDef::Enum { variants } => {
            variants.iter().flat_map(|v| &v.fields).for_each(|t| w.ty(t, 1));
        }
        CoreDef::Effect { params, ret, .. } => {
            params.iter().for_each(|t| w.ty(t, 1));
            w.ty(ret, 1);
        }
        CoreDef::Schema { fields } => {
            for f in fields {
                w.ty(&f.ty, 1);
                if let Some(e) = &f.default {
                    w.expr(e, 1);
                }
            }
        }
    }
}

/// The qualified names `def` refers to (`Ref::Def`), sorted and deduplicated.
pub fn deps(def: &CoreDef) -> Vec<SmolStr> {
    let mut out = Vec::new();
    for_each_ref(def, &mut |r| {
        if let Ref::Def(n) = r {
            out.push(n.clone());
        }
    });
    out.sort();
    out.dedup();
    out
}

/// The hashes `def` refers to (`Ref::Hash`), sorted and deduplicated: the store's
/// dependency index of a serialized (decoded) definition. References to members of its
/// own component (`Ref::Member`) and builtins are not included.
pub fn hash_deps(def: &CoreDef) -> Vec<CodeHash> {
    let mut out = Vec::new();
    for_each_ref(def, &mut |r| {
        if let Ref::Hash(h) = r {
            out.push(*h);
        }
    });
    out.sort();
    out.dedup();
    out
}

/// Strongly connected components of the graph with `successors[u]` the nodes `u` depends
/// on (Tarjan's algorithm, iterative: no recursion, whatever the graph's depth).
///
/// Components come dependencies first (a component appears after every component it has an
/// edge to), each sorted ascending; for a given graph the output is always the same.
/// Panics if an edge points past the last node.
pub fn sccs(successors: &[Vec<usize>]) -> Vec<Vec<usize>> {
    const UNVISITED: usize = usize::MAX;
    let n = successors.len();
    let mut index = vec![UNVISITED; n];
    let mut lowlink = vec![0usize; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<usize> = Vec::new();
    let mut next_index = 0usize;
    let mut out = Vec::new();
    // (node, position of the next successor to look at)
    let mut call: Vec<(usize, usize)> = Vec::new();

    for root in 0..n {
        if index[root] != UNVISITED {
            continue;
        }
        call.push((root, 0));
        index[root] = next_index;
        lowlink[root] = next_index;
        next_index += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (u, ref mut pos)) = call.last_mut() {
            if let Some(&v) = successors[u].get(*pos) {
                *pos += 1;
                assert!(v < n, "sccs: edge {u} -> {v} points past the last node ({n})");
                if index[v] == UNVISITED {
                    index[v] = next_index;
                    lowlink[v] = next_index;
                    next_index += 1;
                    stack.push(v);
                    on_stack[v] = true;
                    call.push((v, 0));
                } else if on_stack[v] {
                    lowlink[u] = lowlink[u].min(index[v]);
                }
                continue;
            }
            call.pop();
            if let Some(&(parent, _)) = call.last() {
                lowlink[parent] = lowlink[parent].min(lowlink[u]);
            }
            if lowlink[u] == index[u] {
                let mut comp = Vec::new();
                loop {
                    let w = stack.pop().expect("u is on the stack");
                    on_stack[w] = false;
                    comp.push(w);
                    if w == u {
                        break;
                    }
                }
                comp.sort_unstable();
                out.push(comp);
            }
        }
    }
    out
}

/// Hashes a whole program: builds the dependency graph from the `Ref::Def`s, hashes its
/// components dependencies first. Names not defined in `defs` are resolved by `external`.
/// Returns `(name, hash)` in dependency order (members of a component in canonical order).
pub fn hash_program(
    defs: &[(SmolStr, CoreDef)],
    external: &dyn Fn(&SmolStr) -> Option<CodeHash>,
) -> Result<Vec<(SmolStr, CodeHash)>, HashError> {
    Ok(hash_program_components(defs, external)?
        .into_iter()
        .flat_map(|c| c.members)
        .map(|m| (m.name, m.hash))
        .collect())
}

/// [`hash_program`] with the components, their hashes and bytes (what the store saves),
/// in dependency order.
pub fn hash_program_components(
    defs: &[(SmolStr, CoreDef)],
    external: &dyn Fn(&SmolStr) -> Option<CodeHash>,
) -> Result<Vec<HashedComponent>, HashError> {
    let mut index: FxHashMap<&SmolStr, usize> = FxHashMap::default();
    for (i, (name, _)) in defs.iter().enumerate() {
        if index.insert(name, i).is_some() {
            return Err(HashError::DuplicateDefinition { name: name.clone() });
        }
    }
    let graph: Vec<Vec<usize>> = defs
        .iter()
        .map(|(_, d)| deps(d).iter().filter_map(|n| index.get(n).copied()).collect())
        .collect();
    let mut known: FxHashMap<SmolStr, CodeHash> = FxHashMap::default();
    let mut out = Vec::new();
    for comp in sccs(&graph) {
        let members: Vec<(&SmolStr, &CoreDef)> =
            comp.iter().map(|&i| (&defs[i].0, &defs[i].1)).collect();
        let resolve = |n: &SmolStr| match index.contains_key(n) {
            // Program names shadow external ones; dependencies are hashed already.
            true => known.get(n).copied(),
            false => external(n),
        };
        let hashed = hash_component_full(&members, &resolve)?;
        for m in &hashed.members {
            known.insert(m.name.clone(), m.hash);
        }
        out.push(hashed);
    }
    Ok(out)
}
