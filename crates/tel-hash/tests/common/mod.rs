//! Builders for hand-written core IR, and the sample program of TEL.md §2 lowered by hand.
#![allow(dead_code)]

use smol_str::SmolStr;
use tel_hash::core::*;

pub fn def(name: &str) -> Ref {
    Ref::Def(SmolStr::new(name))
}

pub fn local(i: u32) -> Expr {
    Expr::Local(i)
}

pub fn int(v: i64) -> Expr {
    Expr::Lit(Lit::Int(v))
}

pub fn string(s: &str) -> Expr {
    Expr::Lit(Lit::String(SmolStr::new(s)))
}

pub fn bin(op: BinOp, lhs: Expr, rhs: Expr) -> Expr {
    Expr::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs) }
}

pub fn call(callee: Ref, args: Vec<Expr>) -> Expr {
    Expr::Call { callee: Box::new(Expr::Ref(callee)), args }
}

pub fn perform(effect: &str, args: Vec<Expr>) -> Expr {
    Expr::Perform { effect: def(effect), args }
}

pub fn let_(ty: Type, value: Expr, body: Expr) -> Expr {
    Expr::Let { ty, value: Box::new(value), body: Box::new(body) }
}

pub fn seq(first: Expr, then: Expr) -> Expr {
    Expr::Seq { first: Box::new(first), then: Box::new(then) }
}

pub fn effect(name: &str, params: Vec<Type>, ret: Type) -> CoreDef {
    CoreDef::Effect { name: SmolStr::new(name), params, ret }
}

pub fn named(n: &str) -> (SmolStr, CoreDef) {
    (SmolStr::new(n), CoreDef::Type { ty: Type::Unit })
}

/// The program of TEL.md §2 (module `treasury`) with the prelude effects it uses, as
/// `tel-hir` would lower it. Record fields are deliberately given out of order.
pub fn treasury() -> Vec<(SmolStr, CoreDef)> {
    let s = |n: &str| SmolStr::new(n);
    vec![
        (s("prelude::Withdraw"), effect("Withdraw", vec![Type::String, Type::Int], Type::Unit)),
        (s("prelude::Deposit"), effect("Deposit", vec![Type::String, Type::Int], Type::Unit)),
        (s("prelude::Log"), effect("Log", vec![Type::String], Type::Unit)),
        (s("prelude::Observe"), effect("Observe", vec![Type::String], Type::Int)),
        // fn fee(amount: Int) -> Int { amount * 3 / 1000 }
        (
            s("treasury::fee"),
            CoreDef::Fn {
                params: vec![Type::Int],
                ret: Type::Int,
                effects: vec![],
                body: bin(BinOp::Div, bin(BinOp::Mul, local(0), int(3)), int(1000)),
            },
        ),
        // type Quote = { price: Int, asset: String }  (fields out of order on purpose)
        (
            s("treasury::Quote"),
            CoreDef::Type {
                ty: Type::Record(vec![(s("price"), Type::Int), (s("asset"), Type::String)]),
            },
        ),
        (
            s("treasury::Outcome"),
            CoreDef::Enum {
                variants: vec![
                    Variant { name: s("Filled"), fields: vec![Type::Int] },
                    Variant { name: s("Rejected"), fields: vec![Type::String] },
                    Variant { name: s("Expired"), fields: vec![] },
                ],
            },
        ),
        (s("treasury::Approve"), effect("Approve", vec![Type::Int], Type::Bool)),
        // fn approved(amount: Int) -> Bool {
        //     handle { perform Approve(amount) } with { Approve(a) => a <= 10_000 }
        // }
        (
            s("treasury::approved"),
            CoreDef::Fn {
                params: vec![Type::Int],
                ret: Type::Bool,
                effects: vec![],
                body: Expr::Handle {
                    body: Box::new(perform("treasury::Approve", vec![local(0)])),
                    clauses: vec![Clause {
                        effect: def("treasury::Approve"),
                        arity: 1,
                        body: bin(BinOp::Le, local(0), int(10_000)),
                    }],
                },
            },
        ),
        // fn transfer(asset: String, amount: Int) -> Int ! {Withdraw, Deposit, Log} {
        //     let f = fee(amount);
        //     perform Withdraw(asset, amount);
        //     perform Deposit(asset, amount - f);
        //     perform Log("moved " ++ show(amount));
        //     amount - f
        // }
        (
            s("treasury::transfer"),
            CoreDef::Fn {
                params: vec![Type::String, Type::Int],
                ret: Type::Int,
                effects: vec![
                    def("prelude::Withdraw"),
                    def("prelude::Deposit"),
                    def("prelude::Log"),
                ],
                body: let_(
                    Type::Int,
                    call(def("treasury::fee"), vec![local(0)]),
                    seq(
                        perform("prelude::Withdraw", vec![local(2), local(1)]),
                        seq(
                            perform(
                                "prelude::Deposit",
                                vec![local(2), bin(BinOp::Sub, local(1), local(0))],
                            ),
                            seq(
                                perform(
                                    "prelude::Log",
                                    vec![bin(
                                        BinOp::Concat,
                                        string("moved "),
                                        call(Ref::Builtin(Builtin::Show), vec![local(1)]),
                                    )],
                                ),
                                bin(BinOp::Sub, local(1), local(0)),
                            ),
                        ),
                    ),
                ),
            },
        ),
        // fn main() -> Outcome ! {Observe, Withdraw, Deposit, Log} { ... within 30s ... }
        (
            s("treasury::main"),
            CoreDef::Fn {
                params: vec![],
                ret: Type::Named(def("treasury::Outcome")),
                effects: vec![
                    def("prelude::Observe"),
                    def("prelude::Withdraw"),
                    def("prelude::Deposit"),
                    def("prelude::Log"),
                ],
                body: let_(
                    Type::Int,
                    perform("prelude::Observe", vec![string("ETH/USD")]),
                    Expr::Within {
                        deadline: Box::new(Expr::Lit(Lit::Duration(30_000))),
                        body: Box::new(Expr::If {
                            cond: Box::new(bin(BinOp::Gt, local(0), int(3000))),
                            then: Box::new(Expr::Variant {
                                owner: VariantOwner::Enum(def("treasury::Outcome")),
                                index: 0,
                                args: vec![call(
                                    def("treasury::transfer"),
                                    vec![string("ETH"), int(100)],
                                )],
                            }),
                            else_: Box::new(Expr::Variant {
                                owner: VariantOwner::Enum(def("treasury::Outcome")),
                                index: 1,
                                args: vec![string("price too low")],
                            }),
                        }),
                        fallback: Box::new(Expr::Variant {
                            owner: VariantOwner::Enum(def("treasury::Outcome")),
                            index: 2,
                            args: vec![],
                        }),
                    },
                ),
            },
        ),
        // schema Treasury { balances, last_price, risk_tolerance = 5, note: String? }
        (
            s("treasury::Treasury"),
            CoreDef::Schema {
                fields: vec![
                    SchemaField { name: s("risk_tolerance"), ty: Type::Int, default: Some(int(5)) },
                    SchemaField {
                        name: s("balances"),
                        ty: Type::Map(Box::new(Type::String), Box::new(Type::Int)),
                        default: None,
                    },
                    SchemaField {
                        name: s("note"),
                        ty: Type::Option(Box::new(Type::String)),
                        default: None,
                    },
                    SchemaField { name: s("last_price"), ty: Type::Int, default: None },
                ],
            },
        ),
    ]
}

/// `is_even`/`is_odd` as two mutually recursive functions (names given as arguments).
pub fn even_odd(even: &str, odd: &str) -> Vec<(SmolStr, CoreDef)> {
    let body = |other: &str, base: bool| Expr::If {
        cond: Box::new(bin(BinOp::Eq, local(0), int(0))),
        then: Box::new(Expr::Lit(Lit::Bool(base))),
        else_: Box::new(call(def(other), vec![bin(BinOp::Sub, local(0), int(1))])),
    };
    let f = |other: &str, base: bool| CoreDef::Fn {
        params: vec![Type::Int],
        ret: Type::Bool,
        effects: vec![],
        body: body(other, base),
    };
    vec![(SmolStr::new(even), f(odd, true)), (SmolStr::new(odd), f(even, false))]
}

/// Hex of `bytes`, 32 bytes a line.
pub fn hex(bytes: &[u8]) -> String {
    bytes
        .chunks(32)
        .map(|c| c.iter().map(|b| format!("{b:02x}")).collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}
