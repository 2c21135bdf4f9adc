//! Match checking: exhaustiveness, unreachable arms, pattern typing.

use expect_test::expect;

use super::check;

#[test]
fn exhaustiveness_names_missing_cases() {
    let out = check(
        r#"
enum Outcome { Filled(Int), Rejected(String), Expired }
type Pair = { ok: Bool, out: Outcome }
fn a(o: Outcome) -> Int { match o { Filled(n) => n, Rejected(_) => 0 } }
fn b(x: Int?) -> Int { match x { Some(n) => n } }
fn c(flag: Bool) -> Int { match flag { true => 1 } }
fn d(p: Pair) -> Int { match p { { ok: true, out: Filled(_) } => 1, { ok: false, .. } => 2 } }
fn e(n: Int) -> Int { match n { 0 => 1, 1 => 2, m if m > 5 => 3 } }
fn f(s: String) -> Int { match s { "a" => 1 } }
fn g(o: Outcome?) -> Int { match o { Some(Filled(n)) => n, None => 0 } }
fn h(u: ()) -> Int { match u { () => 1 } }
"#,
    );
    expect![[r#"
        /main.tel:3:27 E0401 error: non-exhaustive match: missing case `Expired`  [`match`]
        /main.tel:4:24 E0401 error: non-exhaustive match: missing case `None`  [`match`]
        /main.tel:5:27 E0401 error: non-exhaustive match: missing case `false`  [`match`]
        /main.tel:6:24 E0401 error: non-exhaustive match: missing cases `Pair { ok: true, out: Rejected(_) }`, `Pair { ok: true, out: Expired }`  [`match`]
        /main.tel:7:23 E0401 error: non-exhaustive match: missing case `_` (`Int` has too many values to list them; add a `_` arm)  [`match`]
        /main.tel:8:26 E0401 error: non-exhaustive match: missing case `_` (`String` has too many values to list them; add a `_` arm)  [`match`]
        /main.tel:9:28 E0401 error: non-exhaustive match: missing cases `Some(Rejected(_))`, `Some(Expired)`  [`match`]
    "#]].assert_eq(&out);
}

#[test]
fn unreachable_arms_are_warned() {
    let out = check(
        r#"
enum Outcome { Filled(Int), Expired }
fn a(o: Outcome) -> Int {
    match o {
        _ => 0,
        Expired => 1,
    }
}
fn b(n: Int) -> Int {
    match n {
        1 => 1,
        1 => 2,
        x if x > 2 => 3,
        x => x,
        _ => 0,
    }
}
"#,
    );
    expect![[r#"
        /main.tel:5:9 W0402 warning: unreachable arm: earlier arms already match every value it matches  [`Expired`]
        /main.tel:11:9 W0402 warning: unreachable arm: earlier arms already match every value it matches  [`1`]
        /main.tel:14:9 W0402 warning: unreachable arm: earlier arms already match every value it matches  [`_`]
    "#]].assert_eq(&out);
}

#[test]
fn pattern_errors() {
    let out = check(
        r#"
enum Outcome { Filled(Int), Expired }
type Quote = { asset: String, price: Int }
fn a(o: Outcome, q: Quote) -> Int {
    let x = match o { Filled => 1, Expired(y) => 2, Some(z) => 3, "s" => 4, _ => 5 };
    match q { { asset } => 1, Quote { volume: v, .. } => 2 }
}
"#,
    );
    expect![[r#"
        /main.tel:4:23 E0403 error: variant `Filled` has fields; write `Filled(_)`  [`Filled`]
        /main.tel:4:36 E0403 error: variant `Expired` has 0 fields, but the pattern has 1  [`Expired(y)`]
        /main.tel:4:53 E0201 error: expected a pattern of type `Outcome`, found variant `Some` of an option  [`Some(z)`]
        /main.tel:4:67 E0201 error: expected a pattern of type `Outcome`, found `String`  [`"s"`]
        /main.tel:5:15 E0403 error: pattern does not mention `price`; add `..` to ignore the rest  [`{ asset }`]
        /main.tel:5:39 E0203 error: `Quote` has no field `volume`  [`volume`]
    "#]].assert_eq(&out);
}

/// Coverage of a record of many `Bool`s is decided without enumerating its 2^40 values.
#[test]
fn wide_records_are_checked_quickly() {
    let fields: Vec<String> = (0..40).map(|i| format!("f{i}: Bool")).collect();
    let text = format!(
        "type Wide = {{ {} }}\nfn a(w: Wide) -> Int {{ match w {{ {{ f0: true, .. }} => 1, {{ f39: false, .. }} => 2 }} }}\nfn b(w: Wide) -> Int {{ match w {{ {{ f0: true, .. }} => 1, _ => 2 }} }}\n",
        fields.join(", ")
    );
    let out = check(&text);
    expect![[r#"
        /main.tel:2:24 E0401 error: non-exhaustive match: missing case `Wide { f0: false, f39: true, .. }`  [`match`]
    "#]].assert_eq(&out);
}
