//! Name resolution: modules, imports, privacy, cycles, variants.

use expect_test::expect;

use super::check;

#[test]
fn imports_pub_items_and_aliases() {
    let out = check(
        r#"
//- /main.tel
module main
use fees::{fee, Quote as Q}
use fees::Side
fn main() -> Int {
    let q: Q = { asset: "ETH", price: fee(10) };
    match Buy { Buy => q.price, Sell => 0 }
}
//- /fees.tel
module fees
pub type Quote = { asset: String, price: Int }
pub enum Side { Buy, Sell }
pub fn fee(x: Int) -> Int { x / 100 }
"#,
    );
    expect![[""]].assert_eq(&out);
}

#[test]
fn private_items_unknown_names_and_modules() {
    let out = check(
        r#"
//- /main.tel
use fees::{secret, nothing}
use nowhere::thing
use fees::fee
fn main() -> Int { fee(1) + secret(2) }
//- /fees.tel
fn secret(x: Int) -> Int { x }
pub fn fee(x: Int) -> Int { x }
"#,
    );
    expect![[r#"
        /main.tel:1:12 E0103 error: `secret` is private to module `fees`; mark it `pub` to use it here  [`secret`]
        /main.tel:1:20 E0101 error: module `fees` has no item `nothing`  [`nothing`]
        /main.tel:2:5 E0102 error: no module named `nowhere`  [`nowhere`]
        /main.tel:4:29 E0101 error: cannot find value `secret` in this scope  [`secret`]
    "#]]
    .assert_eq(&out);
}

#[test]
fn qualified_paths_need_an_imported_module() {
    let out = check(
        r#"
//- /main.tel
use fees
fn main() -> Int { fees::fee(1) + rates::rate() + fees::hidden() }
//- /fees.tel
pub fn fee(x: Int) -> Int { x }
fn hidden() -> Int { 0 }
//- /rates.tel
pub fn rate() -> Int { 3 }
"#,
    );
    expect![[r#"
        /main.tel:2:35 E0111 error: module `rates` is not imported here; add `use rates`  [`rates::rate`]
        /main.tel:2:51 E0103 error: `hidden` is private to module `fees`; mark it `pub` to use it here  [`fees::hidden`]
    "#]]
    .assert_eq(&out);
}

#[test]
fn cyclic_use_names_the_cycle() {
    let out = check(
        r#"
//- /a.tel
use b::f
pub fn g() -> Int { 1 }
//- /b.tel
use c::h
pub fn f() -> Int { 1 }
//- /c.tel
use a::g
pub fn h() -> Int { g() }
"#,
    );
    expect![[r#"
        /a.tel:1:1 E0105 error: cyclic `use` between modules: `a` → `b` → `c` → `a`  [`use b::f`]
        /b.tel:1:1 E0105 error: cyclic `use` between modules: `b` → `c` → `a` → `b`  [`use c::h`]
        /c.tel:1:1 E0105 error: cyclic `use` between modules: `c` → `a` → `b` → `c`  [`use a::g`]
    "#]]
    .assert_eq(&out);
}

#[test]
fn duplicates_and_import_conflicts() {
    let out = check(
        r#"
//- /main.tel
use other::fee
fn fee() -> Int { 1 }
fn twice() -> Int { 1 }
fn twice() -> Bool { true }
//- /other.tel
pub fn fee() -> Int { 2 }
//- /dup.tel
module other
"#,
    );
    expect![[r#"
        /dup.tel:1:8 E0107 error: module `other` is defined by more than one file  [`other`]
        /main.tel:1:12 E0104 error: `fee` is defined in this module; import it under another name with `as`  [`fee`]
        /main.tel:4:4 E0104 error: `twice` is defined more than once in module `main`  [`twice`]
    "#]]
    .assert_eq(&out);
}

#[test]
fn bare_variants_must_be_unambiguous() {
    let out = check(
        r#"
enum Outcome { Filled(Int), Expired }
enum Order { Open, Expired }
fn f() -> Outcome { Expired }
fn g() -> Outcome { Outcome::Expired }
fn h() -> Order { Order::Closed }
"#,
    );
    expect![[r#"
        /main.tel:3:21 E0106 error: variant `Expired` is ambiguous: it exists in `Order` and `Outcome`; qualify it, e.g. `Order::Expired`  [`Expired`]
        /main.tel:5:19 E0101 error: enum `Order` has no variant `Closed`  [`Order::Closed`]
    "#]]
    .assert_eq(&out);
}

#[test]
fn names_of_the_wrong_kind() {
    let out = check(
        r#"
type Quote = { price: Int }
effect Approve(amount: Int) -> Bool
fn f(q: fee) -> Int ! {Quote} { Approve(1); Quote }
fn fee(x: Approve) -> Int { 1 }
"#,
    );
    expect![[r#"
        /main.tel:3:9 E0108 error: expected a type, found function `fee`  [`fee`]
        /main.tel:3:24 E0108 error: expected an effect, found type `Quote`  [`Quote`]
        /main.tel:3:33 E0210 error: `Approve` is an effect; perform it with `perform Approve(…)`  [`Approve`]
        /main.tel:3:45 E0210 error: `Quote` is a type, not a value  [`Quote`]
        /main.tel:4:11 E0108 error: expected a type, found effect `Approve`  [`Approve`]
    "#]]
    .assert_eq(&out);
}

#[test]
fn declaration_rules() {
    let out = check(
        r#"
//- /main.tel
fn early() -> Int { 1 }
module Late
pub use other::f
fn Bad(X: Int) -> Int { let Y = X; Y }
type quote = { price: Int }
enum Side { buy, Sell }
effect approve(Amount: Int) -> Bool
schema State { Count: Int, nested: Int?? }
fn keys(m: Map<Side, Int>, n: Map<Price, Int>) -> () { () }
type Price = Int
//- /other.tel
pub fn f() -> Int { 1 }
"#,
    );
    expect![[r#"
        /main.tel:2:8 E0114 error: the `module` item must come before every other item  [`Late`]
        /main.tel:2:8 E0113 error: module names are `lower_snake`: `Late` starts with an uppercase letter  [`Late`]
        /main.tel:3:1 E0114 error: `pub` applies to definitions, not to `use` (v1 has no re-exports)  [`pub use other::f`]
        /main.tel:4:4 E0113 error: function names are `lower_snake`: `Bad` must start with a lowercase letter  [`Bad`]
        /main.tel:4:8 E0113 error: parameter names are `lower_snake`: `X` must start with a lowercase letter  [`X`]
        /main.tel:4:29 E0113 error: local names are `lower_snake`: `Y` must start with a lowercase letter  [`Y`]
        /main.tel:5:6 E0113 error: type names are `UpperCamel`: `quote` must start with an uppercase letter  [`quote`]
        /main.tel:6:13 E0113 error: variant names are `UpperCamel`: `buy` must start with an uppercase letter  [`buy`]
        /main.tel:7:8 E0113 error: effect names are `UpperCamel`: `approve` must start with an uppercase letter  [`approve`]
        /main.tel:7:16 E0113 error: parameter names are `lower_snake`: `Amount` must start with a lowercase letter  [`Amount`]
        /main.tel:8:16 E0113 error: field names are `lower_snake`: `Count` must start with a lowercase letter  [`Count`]
        /main.tel:8:36 E0201 error: a schema field cannot have type `Int??`: stored state could not tell `None` from `Some(None)`  [`Int??`]
        /main.tel:9:16 E0211 error: `Side` cannot be a map key: keys are `Int`, `Bool`, `String`, `Duration` or `Hash`  [`Side`]
    "#]].assert_eq(&out);
}

#[test]
fn names_declared_twice_in_one_item() {
    let out = check(
        r#"
fn f(n: Int, m: Int, n: Int, _: Int, _: Int) -> Int { n + m }
enum Side { Buy, Sell, Buy }
effect Approve(amount: Int, amount: Int) -> Bool
schema State { count: Int, count: Int }
"#,
    );
    expect![[r#"
        /main.tel:1:22 E0104 error: parameter `n` is declared twice  [`n`]
        /main.tel:2:24 E0104 error: variant `Buy` is declared twice  [`Buy`]
        /main.tel:3:29 E0104 error: parameter `amount` is declared twice  [`amount`]
        /main.tel:4:28 E0208 error: field `count` is declared twice  [`count`]
    "#]]
    .assert_eq(&out);
}
