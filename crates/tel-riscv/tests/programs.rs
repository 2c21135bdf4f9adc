//! Programs of the subset, each run on the VM and on RISC-V: same value or same error
//! (with the same call stack for traps), same host interactions.

mod support;

use expect_test::expect;
use support::same;

#[test]
fn arithmetic_and_comparisons() {
    expect!["Int(42)"].assert_eq(&same("fn main() -> Int { 6 * 7 }"));
    expect!["Int(-3)"].assert_eq(&same("fn main() -> Int { let a = 10; let b = 13; a - b }"));
    expect!["Int(-2)"]
        .assert_eq(&same("fn f(a: Int, b: Int) -> Int { a / b } fn main() -> Int { f(-7, 3) }"));
    expect!["Int(-1)"]
        .assert_eq(&same("fn f(a: Int, b: Int) -> Int { a % b } fn main() -> Int { f(-7, 3) }"));
    expect!["Bool(true)"].assert_eq(&same(
        "fn f(a: Int, b: Int) -> Bool { a < b && b <= a + 1 && !(a == b) && a != b && b > a && b >= a }
         fn main() -> Bool { f(-4294967296, -4294967295) }",
    ));
    expect!["Int(4611686014132420609)"]
        .assert_eq(&same("fn sq(x: Int) -> Int { x * x } fn main() -> Int { sq(2147483647) }"));
    expect!["Int(-9223372036854775808)"].assert_eq(&same(
        "fn f(a: Int, b: Int) -> Int { a * b } fn main() -> Int { f(-4611686018427387904, 2) }",
    ));
}

#[test]
fn overflow_traps_where_the_vm_traps() {
    expect!["integer overflow in + at [main (#l50c74ff) expr 0] depth 1"]
        .assert_eq(&same("fn main() -> Int { 9223372036854775807 + 1 }"));
    expect!["integer overflow in * at [sq (#gimpajo7) expr 0] depth 1"]
        .assert_eq(&same("fn sq(x: Int) -> Int { x * x } fn main() -> Int { sq(4294967296) }"));
    expect!["integer overflow in - at [f (#csogm1p6) expr 0] depth 1"].assert_eq(&same(
        "fn f(a: Int, b: Int) -> Int { a - b } fn main() -> Int { f(-9223372036854775807, 2) }",
    ));
    expect!["integer overflow in negation at [f (#5pim0u0p) expr 0] depth 1"].assert_eq(&same(
        "fn f(a: Int) -> Int { -a } fn main() -> Int { f(-9223372036854775807 - 1) }",
    ));
    expect!["integer overflow in / at [f (#aq9e7fgg) expr 0] depth 1"].assert_eq(&same(
        "fn f(a: Int, b: Int) -> Int { a / b } fn main() -> Int { f(-9223372036854775807 - 1, -1) }",
    ));
    expect!["integer overflow in % at [f (#l37vptnn) expr 0] depth 1"].assert_eq(&same(
        "fn f(a: Int, b: Int) -> Int { a % b } fn main() -> Int { f(-9223372036854775807 - 1, -1) }",
    ));
    expect!["division by zero at [f (#aq9e7fgg) expr 0] depth 1"]
        .assert_eq(&same("fn f(a: Int, b: Int) -> Int { a / b } fn main() -> Int { f(1, 0) }"));
}

#[test]
fn recursion_tail_calls_and_call_depth() {
    expect!["Int(6765)"].assert_eq(&same(
        "fn fib(n: Int) -> Int { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } } fn main() -> Int { fib(20) }",
    ));
    // A self tail call in constant stack: far deeper than the call-depth limit.
    expect!["Int(45000150000)"].assert_eq(&same(
        "fn loop(i: Int, acc: Int) -> Int { if i > 300000 { acc } else { loop(i + 1, acc + i) } }
         fn main() -> Int { loop(0, 0) }",
    ));
    // Not a tail call: the call depth runs out, at the same call.
    let deep = same(
        "fn down(n: Int) -> Int { if n == 0 { 0 } else { 1 + down(n - 1) } } fn main() -> Int { down(200000) }",
    );
    assert!(deep.starts_with("call depth exhausted (limit 100000) at [down"), "{deep}");
    assert!(deep.ends_with("depth 100000"), "{deep}");
    expect!["Bool(true)"].assert_eq(&same(
        "fn is_even(n: Int) -> Bool { if n == 0 { true } else { is_odd(n - 1) } }
         fn is_odd(n: Int) -> Bool { if n == 0 { false } else { is_even(n - 1) } }
         fn main() -> Bool { is_even(100000) }",
    ));
}

#[test]
fn many_arguments_go_through_the_stack() {
    expect!["Int(4321)"].assert_eq(&same(
        "fn f(a: Int, b: Bool, c: Int, d: (), e: Int, g: Bool, h: Int) -> Int {
             if b && !g { a * 1000 + c * 100 + e * 10 + h } else { 0 }
         }
         fn main() -> Int { f(4, true, 3, (), 2, false, 1) }",
    ));
    // A tail call with stack arguments that swap.
    expect!["Int(50)"].assert_eq(&same(
        "fn s(n: Int, a: Int, b: Int, c: Int, d: Int, e: Int, f: Int) -> Int {
             if n == 0 { a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f } else { s(n - 1, a, b, c, d, f, e) }
         }
         fn main() -> Int { s(3, 1, 1, 1, 1, 5, 2) }",
    ));
}

#[test]
fn match_let_and_sequences() {
    expect!["Int(111)"].assert_eq(&same(
        "fn collatz(n: Int) -> Int { match n { 1 => 0, _ if n % 2 == 0 => 1 + collatz(n / 2), _ => 1 + collatz(3 * n + 1) } }
         fn main() -> Int { collatz(27) }",
    ));
    expect!["Int(30)"].assert_eq(&same(
        "fn f(b: Bool, x: Int) -> Int {
             let y = match b { true => x * 2, false => x };
             let z = match y { 0 => 1, k if k > 100 => k - 100, k => k + 10 };
             z
         }
         fn main() -> Int { f(true, 10) }",
    ));
    expect!["Unit"].assert_eq(&same(
        "fn f(x: Int) -> () { let y = x + 1; () } fn main() -> () { f(1); f(2) }",
    ));
}

#[test]
fn host_effects_go_through_the_same_protocol() {
    expect!["Int(3001)"].assert_eq(&same(
        "fn main() -> Int ! {Log, Observe, Deposit, Random} {
             perform Log(\"starting\");
             let p = perform Observe(\"ETH\");
             perform Deposit(\"alice\", 5);
             let r = perform Random(10);
             if r < 10 { p + 1 } else { p }
         }",
    ));
    expect!["Int(1250)"].assert_eq(&same(
        "fn main() -> Int ! {Observe, Now} { let t0 = now(); let p = perform Observe(\"ETH\"); now() }",
    ));
    let refused = same("fn main() -> () ! {Withdraw} { perform Withdraw(\"alice\", 1000) }");
    assert!(refused.starts_with("host effect Withdraw failed: withdrawing 1000"), "{refused}");
    let unknown = same("fn main() -> Int ! {Observe} { perform Observe(\"BTC\") }");
    assert!(unknown.contains("unknown feed"), "{unknown}");
}

/// A test on a local tells the compiler its range on each side: an overflow test that
/// cannot fire there is dropped, one that can is kept, exactly at the edges; the range does
/// not outlive its branch.
#[test]
fn facts_from_tests_drop_only_overflow_tests_that_cannot_fire() {
    let f = |body: &str, arg: &str| {
        same(&format!("fn f(n: Int) -> Int {{ {body} }} fn main() -> Int {{ f({arg}) }}"))
    };
    let least = "-9223372036854775806";
    let greatest = "9223372036854775805";
    expect!["Int(-9223372036854775808)"]
        .assert_eq(&f(&format!("if n >= {least} {{ n - 2 }} else {{ 0 }}"), least));
    expect!["integer overflow in - at [f (#7o3jsbqj) expr 4] depth 1"]
        .assert_eq(&f(&format!("if n >= {least} {{ n - 3 }} else {{ 0 }}"), least));
    expect!["Int(9223372036854775807)"]
        .assert_eq(&f(&format!("if n > {greatest} {{ 0 }} else {{ n + 2 }}"), greatest));
    expect!["integer overflow in + at [f (#0cqhsbs9) expr 5] depth 1"]
        .assert_eq(&f(&format!("if n > {greatest} {{ 0 }} else {{ n + 3 }}"), greatest));
    // The literal on the left, and an `if` in the middle of an expression.
    expect!["Int(-9223372036854775807)"]
        .assert_eq(&f(&format!("1 + if {least} > n {{ 0 }} else {{ n - 2 }}"), least));
    // After the `if`, nothing is known about n any more.
    expect!["integer overflow in + at [f (#52q4dnsq) expr 11] depth 1"]
        .assert_eq(&f("let a = if n < 5 { n + 1 } else { 0 }; a + (n + 1)", "9223372036854775807"));
    // An equality test pins the value; an inequality says nothing.
    expect!["Int(-9223372036854775808)"]
        .assert_eq(&f(&format!("if n == {least} {{ n - 2 }} else {{ 0 }}"), least));
    expect!["integer overflow in - at [f (#0gkjeef7) expr 4] depth 1"]
        .assert_eq(&f("if n != 0 { n - 1 } else { 0 }", "-9223372036854775807 - 1"));
}

/// Arguments and results computed straight into their registers, next to values that live
/// there (a call's result below the arguments, the parameters themselves).
#[test]
fn values_computed_into_argument_registers() {
    expect!["Int(99)"].assert_eq(&same(
        "fn g(a: Int, b: Int) -> Int { a * 10 + b }
         fn f(n: Int) -> Int { if n < 1 { 0 } else { g(n, n - 1) + g(n - 1, n) } }
         fn main() -> Int { f(5) + f(0) }",
    ));
    expect!["Int(1000)"].assert_eq(&same(
        "fn id(a: Int) -> Int { a }
         fn f(n: Int, m: Int) -> Int { id(n) + id(id(m) - 1) + id(n + 1) }
         fn main() -> Int { f(300, 400) }",
    ));
    expect!["integer overflow in + at [f (#cobt2fvv) expr 2] depth 1"].assert_eq(&same(
        "fn id(a: Int) -> Int { a }
         fn f(n: Int) -> Int { id(n + 1) }
         fn main() -> Int { f(9223372036854775807) }",
    ));
}
