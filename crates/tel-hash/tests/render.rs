//! The normalized text and `first_difference`, as `tel equiv` shows them.

mod common;

use common::*;
use expect_test::expect;
use smol_str::SmolStr;
use tel_hash::core::*;
use tel_hash::{CodeHash, HashError, ResolvedRef, canonicalize, encode, first_difference, render};

fn resolve(n: &SmolStr) -> Option<ResolvedRef> {
    // Distinct fixed hashes per name, stable across runs.
    let h = tel_hash::hash_bytes(n.as_bytes());
    Some(ResolvedRef::Hash(h))
}

fn canon(d: &CoreDef) -> CoreDef {
    canonicalize(d, &resolve).unwrap()
}

#[test]
fn first_difference_names_the_path() {
    // fn f(x: Int) -> Int { let y = x + 1; y }  vs  the same with `-`
    let f = |op| CoreDef::Fn {
        params: vec![Type::Int],
        ret: Type::Int,
        effects: vec![],
        body: let_(Type::Int, bin(op, local(0), int(1)), local(0)),
    };
    let d = first_difference(&f(BinOp::Add), &f(BinOp::Sub)).unwrap();
    expect!["in body → let value → binary operator: `+` vs `-`"].assert_eq(&d.to_string());
    assert_eq!(first_difference(&f(BinOp::Add), &f(BinOp::Add)), None);

    let program = treasury();
    let main = canon(&program.iter().find(|(n, _)| n == "treasury::main").unwrap().1);
    let mut other = program.iter().find(|(n, _)| n == "treasury::main").unwrap().1.clone();
    if let CoreDef::Fn { body: Expr::Let { body, .. }, .. } = &mut other
        && let Expr::Within { body, .. } = &mut **body
        && let Expr::If { else_, .. } = &mut **body
    {
        **else_ = Expr::Variant {
            owner: VariantOwner::Enum(def("treasury::Outcome")),
            index: 1,
            args: vec![string("price too high")],
        };
    }
    let d = first_difference(&main, &canon(&other)).unwrap();
    expect![[r#"in body → result → within body → else branch → argument 1 → literal: `"price too low"` vs `"price too high"`"#]]
        .assert_eq(&d.to_string());

    let d = first_difference(&main, &canon(&program[4].1)).unwrap();
    expect!["number of parameters: `0` vs `1`"].assert_eq(&d.to_string());
    let d = first_difference(&main, &canon(&program[0].1)).unwrap();
    expect!["definition kind: `fn` vs `effect`"].assert_eq(&d.to_string());

    // Statement lists: a statement inserted is reported as such.
    let longer = CoreDef::Fn {
        params: vec![Type::Int],
        ret: Type::Int,
        effects: vec![],
        body: seq(int(0), let_(Type::Int, bin(BinOp::Add, local(0), int(1)), local(0))),
    };
    let d = first_difference(&f(BinOp::Add), &longer).unwrap();
    expect!["in body → number of statements: `2` vs `3`"].assert_eq(&d.to_string());
}

#[test]
fn render_shows_the_normalized_form() {
    // A lambda, a match with guard and patterns, a record, a handler with two clauses
    // given out of order, field access, unary, list, option variants.
    let d = CoreDef::Fn {
        params: vec![
            Type::Option(Box::new(Type::Int)),
            Type::Record(vec![
                ("z".into(), Type::Bool),
                ("a".into(), Type::List(Box::new(Type::String))),
            ]),
        ],
        ret: Type::Fn {
            params: vec![Type::Int],
            ret: Box::new(Type::Int),
            effects: vec![def("p::Log")],
        },
        effects: vec![def("p::Log"), def("p::Now"), def("p::Log")],
        body: Expr::Match {
            scrutinee: Box::new(local(1)),
            arms: vec![
                Arm {
                    pat: Pat::Variant {
                        owner: VariantOwner::Option,
                        index: 0,
                        fields: vec![Pat::Bind],
                    },
                    guard: Some(bin(BinOp::Gt, local(0), int(0))),
                    body: Expr::Lambda {
                        params: vec![Type::Int],
                        ret: Type::Int,
                        body: Box::new(Expr::Handle {
                            body: Box::new(perform("p::Now", vec![])),
                            clauses: vec![
                                Clause { effect: def("p::Now"), arity: 0, body: int(7) },
                                Clause {
                                    effect: def("p::Log"),
                                    arity: 1,
                                    body: Expr::Resume(Box::new(Expr::Lit(Lit::Unit))),
                                },
                            ],
                        }),
                    },
                },
                Arm {
                    pat: Pat::Record {
                        fields: vec![
                            ("z".into(), Pat::Lit(Lit::Bool(true))),
                            ("a".into(), Pat::Wildcard),
                        ],
                    },
                    guard: None,
                    body: Expr::Unary {
                        op: UnOp::Neg,
                        expr: Box::new(Expr::Field {
                            expr: Box::new(Expr::Record {
                                ty: None,
                                fields: vec![
                                    ("b".into(), int(1)),
                                    ("a".into(), Expr::List(vec![string("x\n\"y\"")])),
                                ],
                            }),
                            name: "b".into(),
                        }),
                    },
                },
                Arm {
                    pat: Pat::Wildcard,
                    guard: None,
                    body: Expr::After {
                        delay: Box::new(Expr::Lit(Lit::Duration(250))),
                        body: Box::new(Expr::Variant {
                            owner: VariantOwner::Option,
                            index: 1,
                            args: vec![],
                        }),
                    },
                },
            ],
        },
    };
    expect![[r#"
        fn(Int?, { a: List<String>, z: Bool }) -> (fn(Int) -> Int ! {#losrha3b}) ! {#losrha3b, #sujrtmj0} {
            match %1 {
                Some(%) if (%0 > 0) => |Int| -> Int {
                    handle {
                        perform #sujrtmj0()
                    } with {
                        #losrha3b/1 => resume(()),
                        #sujrtmj0/0 => 7,
                    }
                },
                { a: _, z: true } => (-{ a: ["x\n\"y\""], b: 1 }.b),
                _ => after 250ms {
                    None
                },
            }
        }"#]]
    .assert_eq(&render(&canon(&d)));
}

#[test]
fn canonical_form_errors() {
    let dup_field =
        CoreDef::Type { ty: Type::Record(vec![("a".into(), Type::Int), ("a".into(), Type::Bool)]) };
    expect!["duplicate field `a` in a record type"]
        .assert_eq(&encode(&dup_field, &resolve).unwrap_err().to_string());
    let dup_clause = CoreDef::Fn {
        params: vec![],
        ret: Type::Unit,
        effects: vec![],
        body: Expr::Handle {
            body: Box::new(Expr::Lit(Lit::Unit)),
            clauses: vec![
                Clause {
                    effect: Ref::Hash(CodeHash([7; 32])),
                    arity: 0,
                    body: Expr::Lit(Lit::Unit),
                },
                Clause {
                    effect: Ref::Hash(CodeHash([7; 32])),
                    arity: 1,
                    body: Expr::Lit(Lit::Unit),
                },
            ],
        },
    };
    expect!["two handler clauses for effect #0s3ge1o7 in one `handle`"]
        .assert_eq(&encode(&dup_clause, &resolve).unwrap_err().to_string());
    let unresolved = CoreDef::Type { ty: Type::Named(def("m::Missing")) };
    assert_eq!(
        encode(&unresolved, &|_| None),
        Err(HashError::UnresolvedRef { name: "m::Missing".into() })
    );
}
