//! Components, programs and SCCs: names and presentation order never reach a hash, content
//! always does.

mod common;

use common::*;
use expect_test::expect;
use proptest::prelude::*;
use smol_str::SmolStr;
use std::collections::{BTreeMap, BTreeSet};
use tel_hash::core::*;
use tel_hash::{
    CodeHash, HashError, hash_component, hash_component_full, hash_def, hash_program,
    hash_program_components, sccs,
};

fn names(v: &[(SmolStr, CodeHash)]) -> BTreeMap<SmolStr, CodeHash> {
    v.iter().cloned().collect()
}

fn no_external(_: &SmolStr) -> Option<CodeHash> {
    None
}

#[test]
fn renaming_and_reordering_definitions_keeps_every_hash() {
    let program = treasury();
    let base = names(&hash_program(&program, &no_external).unwrap());

    // Every definition renamed (and references with it), and the list reversed.
    let rename = |n: &str| SmolStr::new(format!("renamed::{}", n.replace("::", "_")));
    let mut renamed: Vec<(SmolStr, CoreDef)> =
        program.iter().map(|(n, d)| (rename(n), rename_refs(d, &rename))).collect();
    renamed.reverse();
    let other = names(&hash_program(&renamed, &no_external).unwrap());
    for (n, h) in &base {
        assert_eq!(other[&rename(n)], *h, "hash of {n} changed with renaming");
    }
}

/// `d` with every `Ref::Def(n)` replaced by `Ref::Def(f(n))`, at the kinds of reference
/// sites the sample program has.
fn rename_refs(d: &CoreDef, f: &dyn Fn(&str) -> SmolStr) -> CoreDef {
    fn r(x: &Ref, f: &dyn Fn(&str) -> SmolStr) -> Ref {
        match x {
            Ref::Def(n) => Ref::Def(f(n)),
            other => other.clone(),
        }
    }
    fn e(x: &Expr, f: &dyn Fn(&str) -> SmolStr) -> Expr {
        let b = |x: &Expr| Box::new(e(x, f));
        match x {
            Expr::Ref(x) => Expr::Ref(r(x, f)),
            Expr::Call { callee, args } => {
                Expr::Call { callee: b(callee), args: args.iter().map(|a| e(a, f)).collect() }
            }
            Expr::Let { ty, value, body } => {
                Expr::Let { ty: t(ty, f), value: b(value), body: b(body) }
            }
            Expr::Seq { first, then } => Expr::Seq { first: b(first), then: b(then) },
            Expr::If { cond, then, else_ } => {
                Expr::If { cond: b(cond), then: b(then), else_: b(else_) }
            }
            Expr::Binary { op, lhs, rhs } => Expr::Binary { op: *op, lhs: b(lhs), rhs: b(rhs) },
            Expr::Perform { effect, args } => {
                Expr::Perform { effect: r(effect, f), args: args.iter().map(|a| e(a, f)).collect() }
            }
            Expr::Handle { body, clauses } => Expr::Handle {
                body: b(body),
                clauses: clauses
                    .iter()
                    .map(|c| Clause {
                        effect: r(&c.effect, f),
                        arity: c.arity,
                        body: e(&c.body, f),
                    })
                    .collect(),
            },
            Expr::Within { deadline, body, fallback } => {
                Expr::Within { deadline: b(deadline), body: b(body), fallback: b(fallback) }
            }
            Expr::Variant { owner, index, args } => Expr::Variant {
                owner: match owner {
                    VariantOwner::Enum(x) => VariantOwner::Enum(r(x, f)),
                    VariantOwner::Option => VariantOwner::Option,
                },
                index: *index,
                args: args.iter().map(|a| e(a, f)).collect(),
            },
            other => other.clone(),
        }
    }
    fn t(x: &Type, f: &dyn Fn(&str) -> SmolStr) -> Type {
        match x {
            Type::Named(x) => Type::Named(r(x, f)),
            other => other.clone(),
        }
    }
    match d {
        CoreDef::Fn { params, ret, effects, body } => CoreDef::Fn {
            params: params.iter().map(|p| t(p, f)).collect(),
            ret: t(ret, f),
            effects: effects.iter().map(|x| r(x, f)).collect(),
            body: e(body, f),
        },
        other => other.clone(),
    }
}

#[test]
fn a_change_propagates_to_dependents_only() {
    let program = treasury();
    let base = names(&hash_program(&program, &no_external).unwrap());
    let mut changed = program.clone();
    // fee: * 3 → * 4
    let fee = changed.iter_mut().find(|(n, _)| n == "treasury::fee").unwrap();
    fee.1 = CoreDef::Fn {
        params: vec![Type::Int],
        ret: Type::Int,
        effects: vec![],
        body: bin(BinOp::Div, bin(BinOp::Mul, local(0), int(4)), int(1000)),
    };
    let after = names(&hash_program(&changed, &no_external).unwrap());
    let differing: Vec<&str> =
        base.iter().filter(|(n, h)| after[*n] != **h).map(|(n, _)| n.as_str()).collect();
    // fee, and transitively transfer and main; nothing else.
    assert_eq!(differing, ["treasury::fee", "treasury::main", "treasury::transfer"]);
}

#[test]
fn program_output_is_in_dependency_order() {
    let program = treasury();
    let comps = hash_program_components(&program, &no_external).unwrap();
    let order: Vec<&str> = comps.iter().flat_map(|c| &c.members).map(|m| m.name.as_str()).collect();
    let position = |n: &str| order.iter().position(|x| *x == n).unwrap();
    for (name, def) in &program {
        for dep in tel_hash::deps(def) {
            assert!(position(&dep) < position(name), "{dep} must come before {name}");
        }
    }
    // The bytes stored for each definition hash to its hash.
    for c in &comps {
        for m in &c.members {
            if c.component.is_none() {
                assert_eq!(tel_hash::hash_bytes(&m.bytes), m.hash);
            }
        }
    }
}

#[test]
fn external_references_resolve_and_errors_name_the_place() {
    let program = treasury();
    // Hash the prelude, then the rest of the program against it.
    let (prelude, rest): (Vec<_>, Vec<_>) =
        program.iter().cloned().partition(|(n, _)| n.starts_with("prelude::"));
    let prelude_hashes = names(&hash_program(&prelude, &no_external).unwrap());
    let split = names(&hash_program(&rest, &|n| prelude_hashes.get(n).copied()).unwrap());
    let whole = names(&hash_program(&program, &no_external).unwrap());
    for (n, h) in &split {
        assert_eq!(whole[n], *h);
    }

    let err = hash_program(&rest, &no_external).unwrap_err();
    expect!["in `treasury::transfer`: unresolved reference to `prelude::Withdraw`: no hash is known for it"]
        .assert_eq(&err.to_string());

    let mut dup = rest.clone();
    dup.push(rest[0].clone());
    expect!["definition `treasury::fee` is given twice"]
        .assert_eq(&hash_program(&dup, &no_external).unwrap_err().to_string());
}

#[test]
fn hash_def_resolves_names_and_rejects_members() {
    let fee = &treasury()[4].1;
    assert_eq!(
        hash_def(fee, &no_external).unwrap(),
        names(&hash_program(&treasury(), &no_external).unwrap())["treasury::fee"]
    );
    let member = CoreDef::Fn {
        params: vec![],
        ret: Type::Int,
        effects: vec![],
        body: Expr::Call { callee: Box::new(Expr::Ref(Ref::Member(1))), args: vec![] },
    };
    expect![
        "reference to component member @member.1 outside a component: hash the whole component"
    ]
    .assert_eq(&hash_def(&member, &no_external).unwrap_err().to_string());
    let call_x = CoreDef::Fn {
        params: vec![],
        ret: Type::Int,
        effects: vec![],
        body: call(def("m::x"), vec![]),
    };
    assert_eq!(
        hash_def(&call_x, &no_external),
        Err(HashError::UnresolvedRef { name: "m::x".into() })
    );
}

#[test]
fn even_odd_is_independent_of_names_and_order() {
    let a = even_odd("num::is_even", "num::is_odd");
    let ha = hash_component(&a, &no_external).unwrap();
    // Other names, other order.
    let mut b = even_odd("p::ev", "p::od");
    b.reverse();
    let hb = hash_component(&b, &no_external).unwrap();
    assert_eq!(ha[0], hb[1], "even");
    assert_eq!(ha[1], hb[0], "odd");
    assert_ne!(ha[0], ha[1]);
}

#[test]
fn a_change_in_one_member_changes_every_member() {
    let a = even_odd("is_even", "is_odd");
    let before = hash_component(&a, &no_external).unwrap();
    let mut b = a.clone();
    // is_odd's base case: false → true
    if let CoreDef::Fn { body: Expr::If { then, .. }, .. } = &mut b[1].1 {
        **then = Expr::Lit(Lit::Bool(true));
    }
    let after = hash_component(&b, &no_external).unwrap();
    assert_ne!(before[0], after[0]);
    assert_ne!(before[1], after[1]);
}

/// A component of `n` functions where function `i` calls function `next(i)`, all bodies
/// otherwise identical: colour refinement cannot tell the members apart, so the canonical
/// order comes from the individualization search.
fn ring(names: &[String], next: &dyn Fn(usize) -> usize) -> Vec<(SmolStr, CoreDef)> {
    (0..names.len())
        .map(|i| {
            let body = call(def(&names[next(i)]), vec![local(0)]);
            let d = CoreDef::Fn { params: vec![Type::Int], ret: Type::Int, effects: vec![], body };
            (SmolStr::new(&names[i]), d)
        })
        .collect()
}

fn component_of(members: &[(SmolStr, CoreDef)]) -> (CodeHash, BTreeSet<CodeHash>) {
    let full = hash_component_full(members, &no_external).unwrap();
    (full.component.unwrap(), full.members.iter().map(|m| m.hash).collect())
}

#[test]
fn symmetric_components_are_canonical() {
    let names = |prefix: &str, n: usize| -> Vec<String> {
        (0..n).map(|i| format!("{prefix}{i}")).collect()
    };
    // A 6-cycle, presented with different names and rotations.
    let six = |prefix: &str, rot: usize| {
        let n = names(prefix, 6);
        let mut r = ring(&n, &|i| (i + 1) % 6);
        r.rotate_left(rot);
        r
    };
    let (c1, m1) = component_of(&six("a", 0));
    for (prefix, rot) in [("z", 1), ("m", 3), ("q", 5)] {
        let (c, m) = component_of(&six(prefix, rot));
        assert_eq!(c, c1);
        assert_eq!(m, m1);
    }
    // Two 3-cycles are refinement-equivalent to a 6-cycle but a different structure.
    let n = names("b", 6);
    let two = ring(&n, &|i| if i < 3 { (i + 1) % 3 } else { 3 + (i + 1) % 3 });
    let (c2, _) = component_of(&two);
    assert_ne!(c1, c2);
    // ... and is itself canonical under renaming and reordering.
    let n = names("c", 6);
    let mut two_b = ring(&n, &|i| if i < 3 { (i + 1) % 3 } else { 3 + (i + 1) % 3 });
    two_b.swap(0, 4);
    two_b.swap(2, 5);
    assert_eq!(component_of(&two_b).0, c2);
}

#[test]
fn singletons_and_empty_components() {
    let fee = treasury()[4].clone();
    let full = hash_component_full(std::slice::from_ref(&fee), &no_external).unwrap();
    assert_eq!(full.component, None);
    assert_eq!(full.members[0].hash, hash_def(&fee.1, &no_external).unwrap());
    let empty: [(SmolStr, CoreDef); 0] = [];
    assert!(hash_component(&empty, &no_external).unwrap().is_empty());
}

#[test]
fn sccs_of_a_small_graph() {
    // 0 → 1 → 2 → 0, 2 → 3, 4 → 4, 5 alone, 6 → 0
    let g = vec![vec![1], vec![2], vec![0, 3], vec![], vec![4], vec![], vec![0]];
    expect!["[[3], [0, 1, 2], [4], [5], [6]]"].assert_eq(&format!("{:?}", sccs(&g)));
}

#[test]
fn sccs_handle_10_000_nodes_without_recursion() {
    let n = 10_000;
    // One long chain 0 → 1 → ... → n-1, closed into a cycle.
    let cycle: Vec<Vec<usize>> = (0..n).map(|i| vec![(i + 1) % n]).collect();
    let c = sccs(&cycle);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].len(), n);
    // The same chain open: n singletons, dependencies first.
    let chain: Vec<Vec<usize>> =
        (0..n).map(|i| if i + 1 < n { vec![i + 1] } else { vec![] }).collect();
    let c = sccs(&chain);
    assert_eq!(c.len(), n);
    assert_eq!(c[0], vec![n - 1]);
    assert_eq!(c[n - 1], vec![0]);
}

/// Reachability by BFS, the definition SCCs are checked against.
fn reach(g: &[Vec<usize>], from: usize) -> Vec<bool> {
    let mut seen = vec![false; g.len()];
    let mut todo = vec![from];
    seen[from] = true;
    while let Some(u) = todo.pop() {
        for &v in &g[u] {
            if !seen[v] {
                seen[v] = true;
                todo.push(v);
            }
        }
    }
    seen
}

proptest! {
    #[test]
    fn sccs_match_mutual_reachability(edges in proptest::collection::vec((0usize..12, 0usize..12), 0..40)) {
        let mut g = vec![Vec::new(); 12];
        for (u, v) in edges {
            g[u].push(v);
        }
        let comps = sccs(&g);
        let r: Vec<Vec<bool>> = (0..12).map(|u| reach(&g, u)).collect();
        let mut comp_of = [usize::MAX; 12];
        for (i, c) in comps.iter().enumerate() {
            prop_assert!(c.windows(2).all(|w| w[0] < w[1]));
            for &u in c {
                prop_assert_eq!(comp_of[u], usize::MAX, "node {} in two components", u);
                comp_of[u] = i;
            }
        }
        for u in 0..12 {
            for v in 0..12 {
                prop_assert_eq!(comp_of[u] == comp_of[v], r[u][v] && r[v][u]);
                // Dependencies first.
                if g[u].contains(&v) {
                    prop_assert!(comp_of[v] <= comp_of[u]);
                }
            }
        }
        prop_assert_eq!(sccs(&g), comps);
    }

    #[test]
    fn components_ignore_member_order_and_names(perm in Just((0..5usize).collect::<Vec<_>>()).prop_shuffle(), salt in "[a-z]{1,4}") {
        // A 5-member component with distinguishable members: i calls i+1 and, when i is
        // even, i+2; the constant differs per member.
        let n = 5;
        let mk = |names: &[String]| -> Vec<(SmolStr, CoreDef)> {
            (0..n).map(|i| {
                let mut body = call(def(&names[(i + 1) % n]), vec![int(i as i64 % 2)]);
                if i % 2 == 0 {
                    body = bin(BinOp::Add, body, call(def(&names[(i + 2) % n]), vec![int(0)]));
                }
                (SmolStr::new(&names[i]), CoreDef::Fn { params: vec![Type::Int], ret: Type::Int, effects: vec![], body })
            }).collect()
        };
        let base_names: Vec<String> = (0..n).map(|i| format!("m::f{i}")).collect();
        let base = hash_component(&mk(&base_names), &no_external).unwrap();
        let other_names: Vec<String> = (0..n).map(|i| format!("{salt}::g{}", perm[i])).collect();
        let mut members = mk(&other_names);
        // Present them in the permuted order.
        members.sort_by_key(|(name, _)| perm[other_names.iter().position(|x| x == name).unwrap()]);
        let hashes = hash_component(&members, &no_external).unwrap();
        for (k, (name, _)) in members.iter().enumerate() {
            let i = other_names.iter().position(|x| x == name).unwrap();
            prop_assert_eq!(hashes[k], base[i]);
        }
    }
}
