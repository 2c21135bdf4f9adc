//! Type inference of each construct, and type errors.

use expect_test::expect;

use super::{check, check_types};

#[test]
fn lets_lambdas_and_builtin_generics() {
    let out = check_types(
        r#"
fn main() -> Int {
    let xs = [1, 2, 3];
    let names = map(xs, |x| show(x));
    let big = filter(xs, |x| x > 1);
    let total = fold(xs, 0, |acc, x| acc + x);
    let m = insert(empty_map(), "a", total);
    let got = get(m, "a");
    let ks = keys(m);
    let first = get(names, 0);
    let n = len(ks) + len("abc") + len(m);
    let f = |a: Int, b: Int| a * b;
    f(n, len(big))
}
"#,
    );
    expect![[r#"
        main: xs: List<Int>
        main: x: Int
        main: names: List<String>
        main: x: Int
        main: big: List<Int>
        main: acc: Int
        main: x: Int
        main: total: Int
        main: m: Map<String, Int>
        main: got: Int?
        main: ks: List<String>
        main: first: String?
        main: n: Int
        main: a: Int
        main: b: Int
        main: f: fn(Int, Int) -> Int
    "#]]
    .assert_eq(&out);
}

#[test]
fn records_nominal_anonymous_and_fields() {
    let out = check_types(
        r#"
type Quote = { asset: String, price: Int }
fn make(p: Int) -> Quote { { price: p, asset: "ETH" } }
fn main() -> Int {
    let q = Quote { asset: "BTC", price: 3 };
    let anon = { a: 1, b: "x" };
    let r: Quote = { asset: "X", price: 2 };
    let s = make(q.price + r.price);
    s.price + anon.a
}
"#,
    );
    expect![[r#"
        make: p: Int
        main: q: Quote
        main: anon: { a: Int, b: String }
        main: r: Quote
        main: s: Quote
    "#]]
    .assert_eq(&out);
}

#[test]
fn record_errors() {
    let out = check(
        r#"
type Quote = { asset: String, price: Int }
fn main() -> Int {
    let q = Quote { asset: "BTC", prise: 3 };
    let r: Quote = { asset: "X" };
    let n = 5;
    q.volume + n.price
}
"#,
    );
    expect![[r#"
        /main.tel:3:13 E0204 error: missing field `price` in `Quote`  [`Quote`]
        /main.tel:3:35 E0203 error: `Quote` has no field `prise`  [`prise`]
        /main.tel:4:20 E0204 error: missing field `price` in `Quote`  [`{ asset: "X" }`]
        /main.tel:6:7 E0203 error: `Quote` has no field `volume` (its fields: `asset`, `price`)  [`volume`]
        /main.tel:6:18 E0203 error: `Int` has no fields; `.price` needs a record  [`price`]
    "#]].assert_eq(&out);
}

#[test]
fn enums_options_durations_and_operators() {
    let out = check_types(
        r#"
enum Outcome { Filled(Int), Rejected(String), Expired }
fn main() -> Outcome ! {Sleep} {
    let d = 10s + 250ms * 2;
    let late = d > 1min;
    let o: Int? = Some(3);
    let none = None;
    let words = ["a"] ++ ["b"];
    let text = "a" ++ "b";
    let neg = -5 % 3;
    let ok = !late && neg != 2 || text == "ab";
    after 1s { if ok { Filled(1) } else { Outcome::Expired } }
}
"#,
    );
    expect![[r#"
        main: d: Duration
        main: late: Bool
        main: o: Int?
        main: none: {unknown}?
        main: words: List<String>
        main: text: String
        main: neg: Int
        main: ok: Bool
        main: performs {Sleep}
        /main.tel:6:9 E0206 error: cannot infer the type of `none` (`_?`); add a type annotation  [`none`]
    "#]].assert_eq(&out);
}

#[test]
fn operator_errors() {
    let out = check(
        r#"
fn f(flag: Bool, d: Duration) -> Int {
    let a = "x" + 1;
    let b = flag < true;
    let c = d * d;
    let e = 1 ++ 2;
    let g = -flag;
    let h = d % 2;
    let i = f == f;
    1
}
"#,
    );
    expect![[r#"
        /main.tel:2:17 E0207 error: `+` cannot be applied to `String`; use `++` to join strings  [`+`]
        /main.tel:3:18 E0207 error: `<` compares `Int`, `Duration` or `String` values, not `Bool`  [`<`]
        /main.tel:4:17 E0201 error: expected `Int`, found `Duration`  [`d`]
        /main.tel:5:15 E0207 error: `++` joins `String`s or `List`s, not `Int`; convert it with `show`  [`++`]
        /main.tel:6:13 E0207 error: cannot negate a value of type `Bool`  [`-`]
        /main.tel:7:15 E0207 error: `%` needs `Int` operands  [`%`]
        /main.tel:8:15 E0207 error: functions cannot be compared with `==`  [`==`]
    "#]].assert_eq(&out);
}

#[test]
fn mismatches_without_cascades() {
    let out = check(
        r#"
fn fee(x: Int) -> Int { x }
fn main() -> String {
    let a: Int = "five";
    let b = fee("six");
    let c = nope(1) + 2;
    let d = c.field;
    if 1 { "x" } else { 2 }
}
"#,
    );
    expect![[r#"
        /main.tel:3:18 E0201 error: expected `Int`, found `String`  [`"five"`]
        /main.tel:4:17 E0201 error: expected `Int`, found `String`  [`"six"`]
        /main.tel:5:13 E0101 error: cannot find value `nope` in this scope  [`nope`]
        /main.tel:7:8 E0201 error: expected `Bool`, found `Int`  [`1`]
        /main.tel:7:25 E0201 error: expected `String`, found `Int`  [`2`]
    "#]]
    .assert_eq(&out);
}

#[test]
fn calls_and_arity() {
    let out = check(
        r#"
enum Outcome { Filled(Int), Expired }
fn fee(x: Int) -> Int { x }
fn main() -> Int {
    let a = fee(1, 2);
    let b = Expired(3);
    let c = Filled;
    let d = 3(4);
    let e = show(1, 2);
    let g = map([1], Filled);
    a
}
"#,
    );
    expect![[r#"
        /main.tel:4:13 E0202 error: `fee` takes 1 argument, found 2  [`fee(1, 2)`]
        /main.tel:5:13 E0202 error: variant `Expired` has no fields; write `Expired` without parentheses  [`Expired(3)`]
        /main.tel:7:13 E0205 error: a value of type `Int` cannot be called  [`3(4)`]
        /main.tel:8:13 E0202 error: `show` takes 1 argument, found 2  [`show(1, 2)`]
    "#]].assert_eq(&out);
}

#[test]
fn cannot_infer_is_reported_once() {
    let out = check(
        r#"
fn main() -> Int {
    let xs = [];
    let m = empty_map();
    let f = |x| x;
    0
}
"#,
    );
    expect![[r#"
        /main.tel:2:9 E0206 error: cannot infer the type of `xs` (`List<_>`); add a type annotation  [`xs`]
        /main.tel:3:9 E0206 error: cannot infer the type of `m` (`Map<_, _>`); add a type annotation  [`m`]
        /main.tel:4:14 E0206 error: cannot infer the type of `x`; annotate it: `|x: T| …`  [`x`]
    "#]].assert_eq(&out);
}

#[test]
fn type_aliases_and_their_cycles() {
    let out = check(
        r#"
type Price = Int
type Loop = Again
type Again = Loop
fn f(p: Price) -> Int { p + 1 }
"#,
    );
    expect![[r#"
        /main.tel:2:6 E0112 error: type alias expands to itself: `Loop` → `Again` → `Loop`  [`Loop`]
        /main.tel:3:6 E0112 error: type alias expands to itself: `Again` → `Loop` → `Again`  [`Again`]
    "#]].assert_eq(&out);
}

#[test]
fn generic_arguments_of_types() {
    let out = check(
        r#"
fn f(a: List, b: Int<String>, c: Map<Int>) -> () { () }
"#,
    );
    expect![[r#"
        /main.tel:1:9 E0209 error: `List` takes 1 type argument, found 0  [`List`]
        /main.tel:1:18 E0209 error: `Int` takes no type arguments  [`Int<String>`]
        /main.tel:1:34 E0209 error: `Map` takes 2 type arguments, found 1  [`Map<Int>`]
    "#]]
    .assert_eq(&out);
}

#[test]
fn within_branches_agree() {
    let out = check(
        r#"
fn main() -> Int {
    within 5s { 1 } else { "late" }
}
"#,
    );
    expect![[r#"
        /main.tel:2:28 E0201 error: expected `Int`, found `String`  [`"late"`]
    "#]]
    .assert_eq(&out);
}

#[test]
fn literal_overflow() {
    let out = check(
        r#"
fn main() -> Int { let a = -9223372036854775808; 9223372036854775808 }
"#,
    );
    expect![[r#"
        /main.tel:1:50 E0501 error: literal `9223372036854775808` does not fit in a 64-bit signed integer  [`9223372036854775808`]
    "#]].assert_eq(&out);
}

#[test]
fn map_keys_and_equality_need_plain_values() {
    let out = check(
        r#"
type Quote = { price: Int }
fn main(q: Quote, f: fn(Int) -> Int) -> Bool {
    let m = insert(empty_map(), q, 1);
    let n: Map<Quote, Int> = empty_map();
    [f] == [f]
}
"#,
    );
    expect![[r#"
        /main.tel:3:33 E0211 error: `Quote` cannot be a map key: keys are `Int`, `Bool`, `String`, `Duration` or `Hash`  [`q`]
        /main.tel:4:16 E0211 error: `Quote` cannot be a map key: keys are `Int`, `Bool`, `String`, `Duration` or `Hash`  [`Quote`]
        /main.tel:5:9 E0207 error: values that contain functions cannot be compared with `==`  [`==`]
    "#]].assert_eq(&out);
}

#[test]
fn higher_order_and_nested_constructs() {
    let out = check_types(
        r#"
type Quote = { price: Int }
effect Ask(k: Int) -> Int
fn make(p: Int) -> Quote { { price: p } }
fn adder(n: Int) -> fn(Int) -> Int { |x| x + n }
fn twice(f: fn(Int) -> Int ! {Log}, x: Int) -> Int ! {Log} { f(f(x)) }
fn logged(x: Int) -> Int ! {Log} { perform Log(show(x)); x }
fn main(c: Bool) -> Int ! {Log, Sleep} {
    let a = adder(1)(2);
    let b = make(a).price;
    let o: Quote? = Some({ price: 1 });
    let p = if c { None } else { Some(1) };
    let xs = match p { Some(v) => [v], None => [] };
    let t = twice(logged, a);
    let nested = handle {
        handle { perform Ask(1) + perform Ask(2) } with { Ask(k) => if k == 1 { resume(perform Ask(10)) } else { k } }
    } with { Ask(k) => k * 100 };
    within 1s { after 10ms { a + b + t + nested + len(xs) } } else { 0 }
}
"#,
    );
    expect![[r#"
        make: p: Int
        adder: n: Int
        adder: x: Int
        twice: f: fn(Int) -> Int ! {Log}
        twice: x: Int
        twice: performs {Log}
        logged: x: Int
        logged: performs {Log}
        main: c: Bool
        main: a: Int
        main: b: Int
        main: o: Quote?
        main: p: Int?
        main: v: Int
        main: xs: List<Int>
        main: t: Int
        main: k: Int
        main: k: Int
        main: nested: Int
        main: performs {Log, Sleep}
    "#]]
    .assert_eq(&out);
}

#[test]
fn wildcard_binders_infer_and_bind_nothing() {
    let out = check_types(
        r#"
//- /main.tel
effect Pay(to: String, amount: Int) -> Int
fn second(_: Int, y: Int) -> Int { y }
fn main(x: Int) -> Int ! {Log} {
    let _ = perform Log("still evaluated");
    let _: Int = second(1, x);
    let ys = map([1, 2], |_| x);
    let f = |_: Int, b: Int| b;
    let paid = handle { perform Pay("a", 3) } with { Pay(_, amount) => amount * 2 };
    f(1, paid) + len(ys)
}
"#,
    );
    // no diagnostics: a `_` binder is no naming-case error and no unused local
    expect![[r#"
        second: _: Int
        second: y: Int
        main: x: Int
        main: _: ()
        main: _: Int
        main: _: Int
        main: ys: List<Int>
        main: _: Int
        main: b: Int
        main: f: fn(Int, Int) -> Int
        main: _: String
        main: amount: Int
        main: paid: Int
        main: performs {Log}
    "#]]
    .assert_eq(&out);
}

#[test]
fn wildcard_binders_shadow_nothing_and_still_need_types() {
    let out = check_types(
        r#"
//- /main.tel
fn main(x: Bool) -> Int {
    let _ = 1;
    let y = if x { 1 } else { 2 };
    let _ = empty_map();
    let g = |_| y;
    y
}
"#,
    );
    expect![[r#"
        main: x: Bool
        main: _: Int
        main: y: Int
        main: _: Map<{unknown}, {unknown}>
        main: _: {unknown}
        main: g: fn({unknown}) -> Int
        /main.tel:4:9 E0206 error: cannot infer the type of `_` (`Map<_, _>`); add a type annotation  [`_`]
        /main.tel:5:14 E0206 error: cannot infer the type of `_`; annotate it: `|_: T| …`  [`_`]
    "#]]
    .assert_eq(&out);
}
