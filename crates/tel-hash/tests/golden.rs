//! Golden snapshots of the exact bytes and hashes of hand-built definitions. These pin
//! format version 1: if one changes, the format changed, and that is a version bump
//! (docs/hashing.md), never a refreshed snapshot.

mod common;

use common::*;
use expect_test::{expect, expect_file};
use smol_str::SmolStr;
use std::fmt::Write;
use tel_hash::core::*;
use tel_hash::{CodeHash, HashedComponent, decode, hash_program_components, render};

fn dump(components: &[HashedComponent]) -> String {
    let mut out = String::new();
    for c in components {
        if let Some(comp) = c.component {
            writeln!(out, "== component {comp:#}").unwrap();
        }
        for (i, m) in c.members.iter().enumerate() {
            let def = decode(&m.bytes).expect("stored bytes decode");
            writeln!(out, "== {} {:#}", m.name, m.hash).unwrap();
            if c.component.is_some() {
                writeln!(out, "member {i}").unwrap();
            }
            writeln!(out, "{}", render(&def)).unwrap();
            writeln!(out, "{}\n", hex(&m.bytes)).unwrap();
        }
    }
    out
}

#[test]
fn treasury_program() {
    let program = treasury();
    let comps = hash_program_components(&program, &|_| None).unwrap();
    expect_file!["golden/treasury.txt"].assert_eq(&dump(&comps));
}

#[test]
fn mutually_recursive_component() {
    let comps =
        hash_program_components(&even_odd("num::is_even", "num::is_odd"), &|_| None).unwrap();
    expect_file!["golden/even_odd.txt"].assert_eq(&dump(&comps));
}

#[test]
fn self_recursive_singleton_is_a_component_of_one() {
    // fn count(n: Int) -> Int { if n == 0 { 0 } else { count(n - 1) } }
    let count = CoreDef::Fn {
        params: vec![Type::Int],
        ret: Type::Int,
        effects: vec![],
        body: Expr::If {
            cond: Box::new(bin(BinOp::Eq, local(0), int(0))),
            then: Box::new(int(0)),
            else_: Box::new(call(def("m::count"), vec![bin(BinOp::Sub, local(0), int(1))])),
        },
    };
    let comps = hash_program_components(&[(SmolStr::new("m::count"), count)], &|_| None).unwrap();
    expect![[r#"
        == component #mnc65sptd1o1g3vdeqvhmnq2qn8u785hhpbc7nln2vhd7kt76m7g
        == m::count #uic5caagiv73justkm3fba892vbsmo7hlqs4klri7plhklkg01ag
        member 0
        fn(Int) -> Int {
            if (%0 == 0) {
                0
            } else {
                @member.0((%0 - 1))
            }
        }
        010101000000101000000000474d064000000000423000000000000000004230
        000000000000000043412100000000010000004d014000000000423001000000
        00000000

    "#]]
    .assert_eq(&dump(&comps));
}

#[test]
fn the_empty_hash_is_stable() {
    // BLAKE3 of the domain tag alone: pins the tag bytes.
    expect!["#sq8t2v19"].assert_eq(&tel_hash::hash_bytes(&[]).to_string());
    expect!["#5nkpmkn1"].assert_eq(&tel_hash::member_hash(&CodeHash([0; 32]), 0).to_string());
}
