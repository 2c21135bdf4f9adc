//! The JSON form of values: what each value looks like, the errors for JSON of the wrong
//! shape, and the round trip `decode(ty, encode(v)) == v` over generated types and values.

mod support;

use expect_test::{Expect, expect};
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tel_hash::CodeHash;
use tel_hash::core::{Ref, Type};
use tel_vm::json::{self, decode, decode_args, encode_string};
use tel_vm::value::RecordType;
use tel_vm::{Program, StoredDef, Value};

const TYPES: &str = r#"
    type Quote = { asset: String, price: Int }
    enum Side { Buy, Sell(Int), Pair(Int, String) }
    enum Chain { Link(Int, Chain), End }
    fn main() -> Int {
        let q = Quote { asset: "x", price: 1 };
        let s = [Buy, Sell(1), Pair(1, "a")];
        let c = Link(1, End);
        0
    }
"#;

struct Env {
    defs: HashMap<CodeHash, StoredDef>,
    program: Program,
    quote: CodeHash,
    side: CodeHash,
    chain: CodeHash,
}

fn env() -> &'static Env {
    static ENV: std::sync::OnceLock<Env> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        let (defs, main) = support::stored(TYPES);
        let program = Program::load(&defs, main).unwrap();
        let find = |n: &str| *defs.iter().find(|(_, d)| d.name.as_deref() == Some(n)).unwrap().0;
        let (quote, side, chain) = (find("Quote"), find("Side"), find("Chain"));
        Env { defs, program, quote, side, chain }
    })
}

fn named(h: CodeHash) -> Type {
    Type::Named(Ref::Hash(h))
}

fn s(text: &str) -> Value {
    Value::String(text.into())
}

fn some(v: Value) -> Value {
    Value::Option(Some(Arc::new(v)))
}

fn record(ty: Option<CodeHash>, fields: Vec<(&str, Value)>) -> Value {
    let mut fields: Vec<_> = fields.into_iter().map(|(n, v)| (n.into(), v)).collect();
    fields.sort_by(|a: &(smol_str::SmolStr, Value), b| a.0.cmp(&b.0));
    Value::Record { ty: RecordType(ty), fields: Arc::new(fields) }
}

fn variant(owner: CodeHash, index: u32, fields: Vec<Value>) -> Value {
    Value::Variant { owner, index, fields: Arc::new(fields) }
}

/// Encodes, checks the round trip through the JSON text, and returns the text.
fn round_trip(ty: &Type, v: &Value) -> String {
    let e = env();
    let text = encode_string(&e.program, v).unwrap();
    let back = decode(&e.defs, ty, &serde_json::from_str(&text).unwrap()).unwrap();
    assert_eq!(&back, v, "{text}");
    assert_eq!(tel_vm::show::show(&e.program, &back), tel_vm::show::show(&e.program, v));
    text
}

#[test]
fn every_form_of_value() {
    let e = env();
    let map = |pairs: Vec<(Value, Value)>| Value::map(pairs.into_iter().collect());
    let cases: Vec<(Type, Value)> = vec![
        (Type::Int, Value::Int(-42)),
        (Type::Int, Value::Int(i64::MAX)),
        (Type::Bool, Value::Bool(true)),
        (Type::String, s("ETH \"quoted\" ✓")),
        (Type::Duration, Value::Duration(90_000)),
        (Type::Unit, Value::Unit),
        (Type::List(Box::new(Type::Int)), Value::list(vec![Value::Int(1), Value::Int(2)])),
        (
            Type::Map(Box::new(Type::String), Box::new(Type::Int)),
            map(vec![(s("BTC"), Value::Int(2)), (s("ETH"), Value::Int(3))]),
        ),
        (
            Type::Map(Box::new(Type::Int), Box::new(Type::Bool)),
            map(vec![(Value::Int(7), Value::Bool(false))]),
        ),
        (Type::Map(Box::new(Type::Int), Box::new(Type::Bool)), map(vec![])),
        (Type::Option(Box::new(Type::Int)), some(Value::Int(3))),
        (Type::Option(Box::new(Type::Int)), Value::Option(None)),
        (Type::Option(Box::new(Type::Unit)), some(Value::Unit)),
        (Type::Option(Box::new(Type::Option(Box::new(Type::Int)))), some(Value::Option(None))),
        (Type::Option(Box::new(Type::Option(Box::new(Type::Int)))), some(some(Value::Int(1)))),
        (
            Type::Record(vec![("a".into(), Type::Int), ("b c".into(), Type::Unit)]),
            record(None, vec![("a", Value::Int(1)), ("b c", Value::Unit)]),
        ),
        (
            named(e.quote),
            record(Some(e.quote), vec![("asset", s("ETH")), ("price", Value::Int(3000))]),
        ),
        (named(e.side), variant(e.side, 0, vec![])),
        (named(e.side), variant(e.side, 2, vec![Value::Int(1), s("x")])),
        (named(e.chain), variant(e.chain, 0, vec![Value::Int(1), variant(e.chain, 1, vec![])])),
    ];
    let out: Vec<String> = cases.iter().map(|(t, v)| round_trip(t, v)).collect();
    expect![[r#"
        -42
        9223372036854775807
        true
        "ETH \"quoted\" ✓"
        90000
        null
        [1,2]
        {"BTC":2,"ETH":3}
        [[7,false]]
        {}
        3
        null
        {"Some":null}
        {"Some":null}
        {"Some":1}
        {"a":1,"b c":null}
        {"asset":"ETH","price":3000}
        "Buy"
        {"Pair":[1,"x"]}
        {"Link":[1,"End"]}"#]]
    .assert_eq(&out.join("\n"));
}

fn decode_err(ty: &Type, text: &str, expect: Expect) {
    let e = env();
    let err = decode(&e.defs, ty, &serde_json::from_str(text).unwrap()).unwrap_err();
    expect.assert_eq(&err.to_string());
}

#[test]
fn json_of_the_wrong_shape_is_refused_with_its_path() {
    let e = env();
    let list = |t| Type::List(Box::new(t));
    decode_err(
        &list(Type::Int),
        "[1, 2.5]",
        expect!["at $[1]: expected an integer (64-bit), found a non-integer number"],
    );
    decode_err(
        &Type::Int,
        "18446744073709551615",
        expect!["at $: expected an integer (64-bit), found an integer"],
    );
    decode_err(&named(e.quote), r#"{"asset": "ETH"}"#, expect!["at $: missing field `price`"]);
    decode_err(
        &named(e.quote),
        r#"{"asset": "ETH", "price": 1, "qty": 2}"#,
        expect!["at $: unknown field `qty`"],
    );
    decode_err(
        &list(named(e.quote)),
        r#"[{"asset": 1, "price": 1}]"#,
        expect!["at $[0].asset: expected a string, found an integer"],
    );
    decode_err(
        &named(e.side),
        r#""Hold""#,
        expect!["at $: unknown variant `Hold` (one of Buy, Sell, Pair)"],
    );
    decode_err(
        &named(e.side),
        r#""Sell""#,
        expect![[r#"at $.Sell: `Sell` has 1 fields: write {"Sell": […]}"#]],
    );
    decode_err(
        &named(e.side),
        r#"{"Buy": []}"#,
        expect![[r#"at $.Buy: `Buy` has no fields: write "Buy""#]],
    );
    decode_err(
        &named(e.side),
        r#"{"Pair": [1]}"#,
        expect!["at $.Pair: expected an array of the 2 fields of `Pair`"],
    );
    decode_err(
        &Type::Option(Box::new(Type::Unit)),
        "5",
        expect![[r#"at $: expected null or {"Some": …}, found an integer"#]],
    );
    decode_err(
        &Type::Map(Box::new(Type::Int), Box::new(Type::Int)),
        r#"{"1": 2}"#,
        expect!["at $: only maps with String keys are JSON objects; write [[key, value], …]"],
    );
    decode_err(
        &Type::Map(Box::new(Type::Int), Box::new(Type::Int)),
        "[[1, 2], [1, 3]]",
        expect!["at $[1]: a key appears twice"],
    );
    decode_err(
        &Type::Duration,
        r#""90 seconds""#,
        expect![[
            r#"at $: "90 seconds" is not a duration (milliseconds, or a TEL literal such as "90s")"#
        ]],
    );
    decode_err(&Type::Hash, r##""#abc""##, expect!["at $: Hash values have no runtime form yet"]);
}

#[test]
fn durations_read_tel_literals_too() {
    let e = env();
    for (text, ms) in [
        ("\"90s\"", 90_000),
        ("\"-5s\"", -5_000),
        ("\"1_500ms\"", 1_500),
        ("\"2h\"", 7_200_000),
        ("\"1d\"", 86_400_000),
        ("250", 250),
    ] {
        let v = decode(&e.defs, &Type::Duration, &serde_json::from_str(text).unwrap()).unwrap();
        assert_eq!(v, Value::Duration(ms), "{text}");
    }
}

#[test]
fn args_are_an_array_with_one_element_per_parameter() {
    let e = env();
    let params = [Type::Int, named(e.quote)];
    let args = decode_args(&e.defs, &params, r#"[5, {"asset": "ETH", "price": 1}]"#).unwrap();
    assert_eq!(args[0], Value::Int(5));
    let errs: Vec<String> = ["[5]", "{}", "[5, 6]", "[5,"]
        .iter()
        .map(|t| decode_args(&e.defs, &params, t).unwrap_err().to_string())
        .collect();
    expect![[r#"
        at $: expected 2 arguments, found 1
        at $: expected an array of 2 arguments
        at $[1]: expected an object (a record), found an integer
        at $: not JSON: EOF while parsing a value at line 1 column 3"#]]
    .assert_eq(&errs.join("\n"));
}

#[test]
fn functions_and_overly_deep_values_have_no_json_form() {
    let e = env();
    let f = Value::Builtin(tel_hash::core::Builtin::Show);
    let err = encode_string(&e.program, &Value::list(vec![Value::Int(1), f])).unwrap_err();
    assert_eq!(err.to_string(), "at $[1]: a function has no JSON form");
    let mut deep = Value::Int(0);
    for _ in 0..json::MAX_DEPTH {
        deep = Value::list(vec![deep]);
    }
    assert!(encode_string(&e.program, &deep).is_ok(), "MAX_DEPTH levels encode");
    let too_deep = Value::list(vec![deep]);
    let err = encode_string(&e.program, &too_deep).unwrap_err();
    assert!(err.message.contains("deeper than 120"), "{err}");
}

// ---- the round trip over generated values ----

fn ty_strategy() -> impl Strategy<Value = Type> {
    let e = env();
    let leaf = prop_oneof![
        Just(Type::Int),
        Just(Type::Bool),
        Just(Type::String),
        Just(Type::Duration),
        Just(Type::Unit),
        Just(named(e.quote)),
        Just(named(e.side)),
        Just(named(e.chain)),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        let key = prop_oneof![
            Just(Type::Int),
            Just(Type::String),
            Just(Type::Bool),
            Just(Type::Duration)
        ];
        prop_oneof![
            inner.clone().prop_map(|t| Type::List(Box::new(t))),
            inner.clone().prop_map(|t| Type::Option(Box::new(t))),
            (key, inner.clone()).prop_map(|(k, v)| Type::Map(Box::new(k), Box::new(v))),
            prop::collection::btree_map("[a-z]{1,3}|[A-Z ]{1,2}", inner, 0..4)
                .prop_map(|m| Type::Record(m.into_iter().map(|(k, t)| (k.into(), t)).collect())),
        ]
    })
}

fn value_for(ty: &Type) -> BoxedStrategy<Value> {
    let e = env();
    match ty {
        Type::Int => prop_oneof![any::<i64>(), -1000i64..1000].prop_map(Value::Int).boxed(),
        Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        Type::String => ".{0,8}".prop_map(|s| Value::String(s.into())).boxed(),
        Type::Duration => any::<i64>().prop_map(Value::Duration).boxed(),
        Type::Unit => Just(Value::Unit).boxed(),
        Type::List(t) => prop::collection::vec(value_for(t), 0..4).prop_map(Value::list).boxed(),
        Type::Option(t) => {
            prop::option::of(value_for(t)).prop_map(|o| Value::Option(o.map(Arc::new))).boxed()
        }
        Type::Map(k, v) => prop::collection::vec((value_for(k), value_for(v)), 0..4)
            .prop_map(|kvs| Value::map(kvs.into_iter().collect::<BTreeMap<_, _>>()))
            .boxed(),
        Type::Record(fields) => {
            let names: Vec<_> = fields.iter().map(|(n, _)| n.clone()).collect();
            fields
                .iter()
                .map(|(_, t)| value_for(t))
                .collect::<Vec<_>>()
                .prop_map(move |vs| Value::Record {
                    ty: RecordType(None),
                    fields: Arc::new(names.iter().cloned().zip(vs).collect()),
                })
                .boxed()
        }
        Type::Named(Ref::Hash(h)) if *h == e.quote => (".{0,4}", any::<i64>())
            .prop_map(|(a, p)| {
                record(Some(env().quote), vec![("asset", s(&a)), ("price", Value::Int(p))])
            })
            .boxed(),
        Type::Named(Ref::Hash(h)) if *h == e.side => prop_oneof![
            Just(variant(e.side, 0, vec![])),
            any::<i64>().prop_map(|n| variant(env().side, 1, vec![Value::Int(n)])),
            (any::<i64>(), ".{0,4}").prop_map(|(n, t)| variant(
                env().side,
                2,
                vec![Value::Int(n), s(&t)]
            )),
        ]
        .boxed(),
        Type::Named(_) => prop::collection::vec(any::<i64>(), 0..6)
            .prop_map(|xs| {
                let c = env().chain;
                xs.into_iter()
                    .rev()
                    .fold(variant(c, 1, vec![]), |acc, x| variant(c, 0, vec![Value::Int(x), acc]))
            })
            .boxed(),
        other => unreachable!("not generated: {other:?}"),
    }
}

proptest! {
    #[test]
    fn decode_of_encode_is_the_value((ty, v) in ty_strategy().prop_flat_map(|t| (Just(t.clone()), value_for(&t)))) {
        let e = env();
        let text = encode_string(&e.program, &v).unwrap();
        let back = decode(&e.defs, &ty, &serde_json::from_str(&text).unwrap());
        prop_assert_eq!(back.as_ref(), Ok(&v), "{}", text);
        // Exactly: record type names included (`==` ignores them).
        prop_assert_eq!(tel_vm::show::show(&e.program, back.as_ref().unwrap()), tel_vm::show::show(&e.program, &v));
        // The encoding is canonical: encoding the decoded value gives the same text.
        prop_assert_eq!(encode_string(&e.program, back.as_ref().unwrap()).unwrap(), text);
    }
}
