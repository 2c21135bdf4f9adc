//! Properties of the canonical serialization and hashes (TEL.md §8 invariants).

#[path = "common/arb.rs"]
mod arb;
mod common;

use arb::*;
use proptest::prelude::*;
use tel_hash::core::*;
use tel_hash::serialize::tag;
use tel_hash::{decode, encode, hash_bytes, render};

fn enc(d: &CoreDef) -> Vec<u8> {
    encode(d, &|_| None).expect("generated defs have no Ref::Def")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn encode_decode_round_trip(d in arb_def()) {
        let bytes = enc(&d);
        prop_assert_eq!(bytes[0], tel_hash::FORMAT_VERSION);
        let back = decode(&bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(&back, &d);
        prop_assert_eq!(render(&back), render(&d));
    }

    #[test]
    fn canonical_order_is_enforced_by_the_encoder(d in arb_def(), seed in any::<u64>()) {
        let mut shuffled = d.clone();
        Scrambler { seed }.def(&mut shuffled);
        prop_assert_eq!(enc(&shuffled), enc(&d));
        prop_assert_eq!(tel_hash::canonicalize(&shuffled, &|_| None).unwrap(), d.clone());
        prop_assert_eq!(tel_hash::first_difference(&shuffled, &d), None);
    }

    #[test]
    fn changing_a_literal_operator_or_type_changes_the_hash(d in arb_def(), k in any::<prop::sample::Index>()) {
        let n = sites(&d);
        prop_assume!(n > 0);
        let mut changed = d.clone();
        prop_assert!(mutate(&mut changed, k.index(n)));
        prop_assert_ne!(hash_bytes(&enc(&changed)), hash_bytes(&enc(&d)));
        let diff = tel_hash::first_difference(&d, &changed);
        prop_assert!(diff.is_some(), "no difference found between\n{}\nand\n{}", d, changed);
    }

    #[test]
    fn decoder_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode(&bytes);
        let mut versioned = bytes.clone();
        versioned.insert(0, tel_hash::FORMAT_VERSION);
        let _ = decode(&versioned);
    }

    #[test]
    fn decoder_rejects_damaged_encodings(d in arb_def(), pos in any::<prop::sample::Index>(), byte in any::<u8>(), cut in any::<prop::sample::Index>()) {
        let bytes = enc(&d);
        // A changed byte either still decodes (to a different canonical definition) or is
        // rejected; it never panics and never decodes to the same definition.
        let mut damaged = bytes.clone();
        let i = pos.index(damaged.len());
        prop_assume!(damaged[i] != byte);
        damaged[i] = byte;
        if let Ok(other) = decode(&damaged) {
            prop_assert_ne!(other, d.clone());
        }
        // Any strict prefix is rejected.
        let n = cut.index(bytes.len());
        prop_assert!(decode(&bytes[..n]).is_err());
    }
}

fn decode_err(bytes: &[u8]) -> String {
    decode(bytes).unwrap_err().to_string()
}

#[test]
fn decode_error_messages() {
    use expect_test::expect;
    expect!["empty input: no format version byte"].assert_eq(&decode_err(&[]));
    expect!["unsupported format version 2 (this build reads version 1)"].assert_eq(&decode_err(&[
        2,
        tag::DEF_TYPE,
        tag::TY_INT,
    ]));
    expect!["truncated input at byte 1: expected a definition"].assert_eq(&decode_err(&[1]));
    expect!["truncated input at byte 2: expected a type"]
        .assert_eq(&decode_err(&[1, tag::DEF_TYPE]));
    expect!["unknown tag 0x99 at byte 2: expected a type"].assert_eq(&decode_err(&[
        1,
        tag::DEF_TYPE,
        0x99,
    ]));
    expect!["unknown tag 0x10 at byte 1: expected a definition"]
        .assert_eq(&decode_err(&[1, tag::TY_INT]));
    expect!["component placeholder tag at byte 3: it never appears in a stored definition"]
        .assert_eq(&decode_err(&[1, tag::DEF_TYPE, tag::TY_NAMED, tag::REF_PLACEHOLDER]));
    expect!["invalid builtin id 0x0a at byte 4"].assert_eq(&decode_err(&[
        1,
        tag::DEF_TYPE,
        tag::TY_NAMED,
        tag::REF_BUILTIN,
        10,
    ]));
    expect!["truncated input at byte 4: expected a 32-byte hash"].assert_eq(&decode_err(&[
        1,
        tag::DEF_TYPE,
        tag::TY_NAMED,
        tag::REF_HASH,
        0,
        0,
    ]));
    expect!["1 trailing bytes after the definition at byte 3"].assert_eq(&decode_err(&[
        1,
        tag::DEF_TYPE,
        tag::TY_INT,
        0,
    ]));
    // effect "é" truncated to its first byte
    expect!["invalid UTF-8 in string at byte 6"].assert_eq(&decode_err(&[
        1,
        tag::DEF_EFFECT,
        1,
        0,
        0,
        0,
        0xc3,
        0,
        0,
        0,
        0,
        tag::TY_INT,
    ]));
    // A count larger than what is left is truncation, without allocating for it.
    expect!["truncated input at byte 6: expected a type count"].assert_eq(&decode_err(&[
        1,
        tag::DEF_EFFECT,
        0,
        0,
        0,
        0,
        0xff,
        0xff,
        0xff,
        0xff,
    ]));
    // Bool 2
    let mut bytes = enc(&CoreDef::Schema {
        fields: vec![SchemaField {
            name: "a".into(),
            ty: Type::Bool,
            default: Some(Expr::Lit(Lit::Bool(true))),
        }],
    });
    *bytes.last_mut().unwrap() = 2;
    expect!["invalid Bool 0x02 at byte 15"].assert_eq(&decode_err(&bytes));
    // Binary operator code 14
    let mut bytes = enc(&CoreDef::Type { ty: Type::Int });
    bytes.truncate(1);
    bytes.extend([tag::DEF_SCHEMA, 1, 0, 0, 0, tag::SCHEMA_FIELD, 1, 0, 0, 0, b'a', tag::TY_INT]);
    bytes.extend([tag::EX_BINARY, 14]);
    expect!["invalid binary operator code 0x0e at byte 14"].assert_eq(&decode_err(&bytes));
}

#[test]
fn decoder_rejects_non_canonical_bytes() {
    use expect_test::expect;
    // { b: Int, a: Int } is well formed but not sorted.
    let bytes = [
        1,
        tag::DEF_TYPE,
        tag::TY_RECORD,
        2,
        0,
        0,
        0,
        1,
        0,
        0,
        0,
        b'b',
        tag::TY_INT,
        1,
        0,
        0,
        0,
        b'a',
        tag::TY_INT,
    ];
    expect!["non-canonical encoding: first difference from the canonical form at byte 11"]
        .assert_eq(&decode_err(&bytes));
    // A duplicated effect in a row.
    let row = CoreDef::Fn {
        params: vec![],
        ret: Type::Unit,
        effects: vec![Ref::Builtin(Builtin::Now)],
        body: Expr::Lit(Lit::Unit),
    };
    let mut bytes = enc(&row);
    bytes[7] = 2; // the row count
    bytes.splice(13..13, [tag::REF_BUILTIN, Builtin::Now.id()]);
    expect!["non-canonical encoding: first difference from the canonical form at byte 7"]
        .assert_eq(&decode_err(&bytes));
}

fn nested_unary(depth: usize) -> Expr {
    let mut e = Expr::Lit(Lit::Int(1));
    for _ in 0..depth {
        e = Expr::Unary { op: UnOp::Neg, expr: Box::new(e) };
    }
    e
}

fn fn_with_body(body: Expr) -> CoreDef {
    CoreDef::Fn { params: vec![], ret: Type::Int, effects: vec![], body }
}

#[test]
fn depth_limit_is_the_same_for_encoder_and_decoder() {
    let limit = tel_hash::serialize::MAX_DEPTH as usize;
    // The body is at depth 1, so `limit - 1` unary nodes put the literal at `limit`.
    let deepest = fn_with_body(nested_unary(limit - 1));
    let bytes = enc(&deepest);
    assert_eq!(decode(&bytes).unwrap(), deepest);
    // Every walk handles the deepest definition on a test thread's 2 MiB stack, even
    // unoptimized.
    assert_eq!(render(&deepest).matches("(-").count(), limit - 1);
    assert_eq!(tel_hash::first_difference(&deepest, &deepest.clone()), None);
    assert!(tel_hash::deps(&deepest).is_empty());
    let too_deep = fn_with_body(nested_unary(limit));
    expect_test::expect!["definition is nested more than 256 levels deep (too deep to serialize)"]
        .assert_eq(&encode(&too_deep, &|_| None).unwrap_err().to_string());
    // Hand-made bytes nested far deeper are rejected without exhausting the stack.
    let mut bytes = vec![1, tag::DEF_TYPE];
    bytes.extend(std::iter::repeat_n(tag::TY_LIST, 1_000_000));
    bytes.push(tag::TY_INT);
    expect_test::expect!["nesting deeper than 256 levels at byte 258"]
        .assert_eq(&decode_err(&bytes));
}

#[test]
fn long_statement_chains_do_not_count_as_depth() {
    // A body of 5,000 statements: a chain of `Seq`/`Let`, far longer than MAX_DEPTH.
    let mut body = Expr::Local(0);
    for i in 0..5_000 {
        body = if i % 2 == 0 {
            Expr::Seq { first: Box::new(Expr::Lit(Lit::Int(i))), then: Box::new(body) }
        } else {
            Expr::Let {
                ty: Type::Int,
                value: Box::new(Expr::Lit(Lit::Int(i))),
                body: Box::new(body),
            }
        };
    }
    let def = fn_with_body(body);
    let bytes = enc(&def);
    let back = decode(&bytes).unwrap();
    // (Derived `==` would recurse 5,000 deep; equal canonical bytes mean equal trees.)
    assert_eq!(enc(&back), bytes);
    assert_eq!(render(&back).lines().count(), 5_003);
    // Dropping a 5,000-deep Box chain recurses in drop glue; keep it off the test stack.
    std::mem::forget(back);
    std::mem::forget(def);
}
