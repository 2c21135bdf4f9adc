//! Effect rows through calls, lambdas, builtins and handlers.

use expect_test::expect;

use super::{check, check_types};

#[test]
fn effects_flow_through_calls_and_builtins() {
    let out = check_types(
        r#"
fn log(s: String) -> () ! {Log} { perform Log(s) }
fn main() -> List<Int> ! {Log, Now} {
    let xs = map([1, 2], |x| { log(show(x)); x });
    let t = now();
    let g = |y: Int| perform Observe("feed");
    xs
}
"#,
    );
    expect![[r#"
        log: s: String
        log: performs {Log}
        main: x: Int
        main: xs: List<Int>
        main: t: Int
        main: y: Int
        main: g: fn(Int) -> Int ! {Observe}
        main: performs {Log, Now}
    "#]]
    .assert_eq(&out);
}

#[test]
fn missing_and_unused_effects() {
    let out = check(
        r#"
fn transfer(a: Int) -> () ! {Withdraw, Deposit} {
    perform Withdraw("ETH", a);
    perform Deposit("ETH", a);
}
fn main() -> () ! {Emit} {
    transfer(1);
    let f = |x: Int| perform Log(show(x));
    map([1], f);
    after 1s { () }
}
"#,
    );
    expect![[r#"
        /main.tel:5:20 W0302 warning: `main` declares `Emit` in its effect row but never performs it  [`Emit`]
        /main.tel:6:5 E0301 error: `transfer` performs `Deposit` and `Withdraw`, which are not in the effect row of `main`  [`transfer`]
        /main.tel:8:14 E0301 error: the function passed to `map` performs `Log`, which is not in the effect row of `main`  [`f`]
        /main.tel:9:5 E0301 error: `after` performs `Sleep`, which is not in the effect row of `main`  [`after`]
    "#]].assert_eq(&out);
}

#[test]
fn handlers_remove_what_they_handle() {
    let out = check_types(
        r#"
effect Approve(amount: Int) -> Bool
effect Fail(reason: String) -> ()
fn decide(a: Int) -> Bool ! {Approve, Log} {
    perform Log("asking");
    perform Approve(a)
}
fn main() -> Bool ! {Log} {
    handle { decide(5) } with {
        Approve(amount) => {
            perform Log("approving");
            amount < 10
        },
    }
}
fn aborting() -> Int {
    handle { perform Fail("no"); 1 } with {
        Fail(reason) => abort(0),
    }
}
"#,
    );
    expect![[r#"
        decide: a: Int
        decide: performs {Approve, Log}
        main: amount: Int
        main: performs {Log}
        aborting: reason: String
    "#]]
    .assert_eq(&out);
}

#[test]
fn handler_errors() {
    let out = check(
        r#"
effect Approve(amount: Int) -> Bool
fn main() -> Bool {
    handle { perform Approve(1) } with {
        Approve(a) => 5,
        Log(line) => resume(()),
        Nope(x) => true,
        Approve(b) => true,
    }
}
fn outside() -> Int {
    let f = || resume(1);
    abort(2)
}
fn bad_abort() -> Int {
    handle { perform Approve(1); 1 } with { Approve(a) => abort("x") }
}
"#,
    );
    expect![[r#"
        /main.tel:4:23 E0201 error: expected `Bool`, found `Int`  [`5`]
        /main.tel:5:9 W0304 warning: `Log` is never performed in the body of this `handle`  [`Log`]
        /main.tel:6:9 E0101 error: cannot find effect `Nope` in this scope  [`Nope`]
        /main.tel:7:9 E0305 error: `Approve` is handled twice in this `handle`  [`Approve`]
        /main.tel:11:16 E0303 error: `resume` can only be used inside a handler clause  [`resume(1)`]
        /main.tel:12:5 E0303 error: `abort` can only be used inside a handler clause  [`abort(2)`]
        /main.tel:15:65 E0201 error: expected `Int`, found `String`  [`"x"`]
    "#]].assert_eq(&out);
}

#[test]
fn function_values_carry_their_effects() {
    let out = check(
        r#"
fn apply(f: fn(Int) -> Int, x: Int) -> Int { f(x) }
fn apply_log(f: fn(Int) -> Int ! {Log}, x: Int) -> Int ! {Log} { f(x) }
fn main() -> Int ! {Log} {
    let a = apply(|x: Int| { perform Log("x"); x }, 1);
    apply_log(|x: Int| x + 1, a)
}
"#,
    );
    expect![[r#"
        /main.tel:4:19 E0201 error: expected `fn(Int) -> Int`, found `fn(Int) -> Int ! {Log}`  [`|x: Int| { perform Log("x"); x }`]
    "#]].assert_eq(&out);
}

#[test]
fn schema_defaults_are_pure() {
    let out = check(
        r#"
schema Treasury {
    balances: Map<String, Int>,
    risk: Int = 5,
    note: String?,
    started: Int = perform Now(),
    bad: Int = "x",
}
"#,
    );
    expect![[r#"
        /main.tel:5:28 E0306 error: a schema default must be pure, but this performs `Now`  [`Now`]
        /main.tel:6:16 E0201 error: expected `Int`, found `String`  [`"x"`]
    "#]]
    .assert_eq(&out);
}
