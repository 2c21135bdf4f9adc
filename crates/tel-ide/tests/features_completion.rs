//! Completion and signature help on `$0` cursor fixtures: each snapshot lists what the editor
//! would show, most relevant first.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use expect_test::{Expect, expect};
use tel_ide::codebase::Codebase;
use tel_ide::features::CompletionItem;
use tel_ide::fixture::Fixture;
use tel_ide::{AnalysisHost, FileId, TextSize};
use tel_store::Store;

const PRICES: &str = r#"
//- /prices.tel
module prices

/// The base rate, in basis points.
pub fn base_rate() -> Int {
    3
}

pub enum Currency { Usd, Eur }

fn hidden() -> Int {
    1
}
"#;

/// `body` is the inside of `fn with_tax`, where `$0` usually is.
fn shop(body: &str) -> String {
    format!(
        r#"
//- /tel.toml
[program]
//- /shop.tel
module shop
use prices::{{base_rate, Currency}}

/// A priced item.
type Item = {{ name: String, price: Int }}

pub enum Side {{ Buy, Sell(Int) }}

effect Audit(note: String) -> ()

fn fee(amount: Int, side: Side) -> Int {{
    amount / 100
}}

fn with_tax(item: Item, side: Side) -> Int ! {{Log}} {{
{body}
}}
{PRICES}"#
    )
}

fn host_for(fixture: &str) -> (AnalysisHost, FileId, TextSize) {
    let (host, _, cursor) = Fixture::parse(fixture).into_host(AnalysisHost::default());
    let (file, offset) = cursor.expect("the fixture has a $0");
    (host, file, offset)
}

fn render(items: &[CompletionItem]) -> String {
    let mut out = String::new();
    for c in items {
        out.push_str(&format!("{:?} {}", c.kind, c.label));
        if let Some(d) = &c.label_detail {
            out.push_str(&format!(" {d}"));
        }
        if let Some(d) = &c.detail {
            out.push_str(&format!(" · {d}"));
        }
        out.push('\n');
    }
    out
}

fn completions(fixture: &str) -> String {
    let (host, file, offset) = host_for(fixture);
    render(&host.analysis().completions(file, offset, None).unwrap())
}

fn check(fixture: &str, expect: Expect) {
    expect.assert_eq(&completions(fixture));
}

#[test]
fn names_in_an_expression() {
    check(
        &shop("    let base = item.price;\n    b$0\n    let later = 1;\n    base"),
        expect![[r#"
            Local base · base: Int
            Parameter item · item: Item
            Parameter side · side: Side
            Function fee #47phikqo · fn fee(amount: Int, side: Side) -> Int
            Type Item #drm2el1h · type Item = { name: String, price: Int }
            Enum Side #mcvph9gf · enum Side { Buy, Sell(Int) }
            Function with_tax · fn with_tax(item: Item, side: Side) -> Int ! {Log}
            Function base_rate #t8gl9p1m · fn base_rate() -> Int
            Enum Currency #91h8hejk · enum Currency { Usd, Eur }
            Variant Buy · Side::Buy
            Variant Eur · Currency::Eur
            Variant None · T?::None
            Variant Sell · Side::Sell(Int)
            Variant Some · T?::Some(T)
            Variant Usd · Currency::Usd
            Builtin empty_map · fn empty_map() -> Map<K, V>
            Builtin filter · fn filter(xs: List<A>, f: fn(A) -> Bool) -> List<A>
            Builtin fold · fn fold(xs: List<A>, init: B, f: fn(B, A) -> B) -> B
            Builtin get · fn get(m: Map<K, V>, k: K) -> V?
            Builtin insert · fn insert(m: Map<K, V>, k: K, v: V) -> Map<K, V>
            Builtin keys · fn keys(m: Map<K, V>) -> List<K>
            Builtin len · fn len(xs: List<T>) -> Int
            Builtin map · fn map(xs: List<A>, f: fn(A) -> B) -> List<B>
            Builtin now · fn now() -> Int ! {Now}
            Builtin show · fn show(x: T) -> String
            Keyword after
            Keyword false
            Keyword handle
            Keyword if
            Keyword let
            Keyword match
            Keyword perform
            Keyword true
            Keyword within
        "#]],
    );
}

#[test]
fn completion_items_carry_the_range_typed_so_far_and_the_doc_comment() {
    let (host, file, offset) = host_for(&shop("    base_r$0"));
    let items = host.analysis().completions(file, offset, None).unwrap();
    let rate = items.iter().find(|c| c.label == "base_rate").unwrap();
    let text = host.analysis().file_text(file);
    assert_eq!(&text[rate.range], "base_r");
    assert_eq!(rate.range.end(), offset);
    assert_eq!(rate.documentation.as_deref(), Some("The base rate, in basis points."));
    assert!(rate.hash.is_some());
}

#[test]
fn locals_follow_scopes_and_shadowing() {
    // `later` is not yet visible, the lambda's `x` is inside it, and the inner `item`
    // shadows the parameter.
    check(
        &shop("    let item = 1;\n    let f = |x: Int| x + $0;\n    let later = 2;\n    later"),
        expect![[r#"
            Local item · item: Int
            Parameter side · side: Side
            Local x · x: Int
            Function fee #47phikqo · fn fee(amount: Int, side: Side) -> Int
            Type Item #drm2el1h · type Item = { name: String, price: Int }
            Enum Side #mcvph9gf · enum Side { Buy, Sell(Int) }
            Function with_tax · fn with_tax(item: Item, side: Side) -> Int ! {Log}
            Function base_rate #t8gl9p1m · fn base_rate() -> Int
            Enum Currency #91h8hejk · enum Currency { Usd, Eur }
            Variant Buy · Side::Buy
            Variant Eur · Currency::Eur
            Variant None · T?::None
            Variant Sell · Side::Sell(Int)
            Variant Some · T?::Some(T)
            Variant Usd · Currency::Usd
            Builtin empty_map · fn empty_map() -> Map<K, V>
            Builtin filter · fn filter(xs: List<A>, f: fn(A) -> Bool) -> List<A>
            Builtin fold · fn fold(xs: List<A>, init: B, f: fn(B, A) -> B) -> B
            Builtin get · fn get(m: Map<K, V>, k: K) -> V?
            Builtin insert · fn insert(m: Map<K, V>, k: K, v: V) -> Map<K, V>
            Builtin keys · fn keys(m: Map<K, V>) -> List<K>
            Builtin len · fn len(xs: List<T>) -> Int
            Builtin map · fn map(xs: List<A>, f: fn(A) -> B) -> List<B>
            Builtin now · fn now() -> Int ! {Now}
            Builtin show · fn show(x: T) -> String
            Keyword after
            Keyword false
            Keyword handle
            Keyword if
            Keyword match
            Keyword perform
            Keyword true
            Keyword within
        "#]],
    );
}

#[test]
fn record_fields_after_a_dot_by_the_inferred_type() {
    // The statement is unfinished (no field name, no `;`): the tree around the cursor is
    // enough.
    check(
        &shop("    let p = item.$0\n    1"),
        expect![[r#"
            Field name · name: String
            Field price · price: Int
        "#]],
    );
    // Through a call's result and a local.
    check(
        &shop("    let it = Item { name: \"pen\", price: 2 };\n    it.pr$0"),
        expect![[r#"
            Field name · name: String
            Field price · price: Int
        "#]],
    );
    check(&shop("    side.$0"), expect![""]);
}

#[test]
fn effects_after_perform_and_in_rows() {
    let effects = expect![[r#"
        Effect Audit #b24rasvg · effect Audit(note: String) -> ()
        Effect Deposit #itqsuu9m · effect Deposit(account: String, amount: Int) -> ()
        Effect Emit #onha0bje · effect Emit(event: String) -> ()
        Effect Log #fii3a58d · effect Log(message: String) -> ()
        Effect Now #vef2cu9f · effect Now() -> Int
        Effect Observe #picrn1r1 · effect Observe(feed: String) -> Int
        Effect Random #i3kq6eo0 · effect Random(bound: Int) -> Int
        Effect Sleep #74liuj9u · effect Sleep(d: Duration) -> ()
        Effect Withdraw #qotoui9g · effect Withdraw(account: String, amount: Int) -> ()
    "#]];
    let after_perform = completions(&shop("    perform $0\n    1"));
    effects.assert_eq(&after_perform);
    let row = shop("    1").replace("-> Int ! {Log} {", "-> Int ! {Log, $0} {");
    assert_eq!(completions(&row), after_perform);
    // A handler clause names an effect too.
    assert_eq!(completions(&shop("    handle { 1 } with { Au$0 }")), after_perform);
}

#[test]
fn types_in_signatures_and_annotations() {
    let expected = expect![[r#"
        Type Item #drm2el1h · type Item = { name: String, price: Int }
        Enum Side #mcvph9gf · enum Side { Buy, Sell(Int) }
        Enum Currency #91h8hejk · enum Currency { Usd, Eur }
        BuiltinType Bool · builtin type Bool
        BuiltinType Duration · builtin type Duration
        BuiltinType Hash · builtin type Hash
        BuiltinType Int · builtin type Int
        BuiltinType List · builtin type List<T>
        BuiltinType Map · builtin type Map<K, V>
        BuiltinType String · builtin type String
    "#]];
    let param = shop("    1").replace("fn fee(amount: Int,", "fn fee(amount: $0,");
    let in_param = completions(&param);
    expected.assert_eq(&in_param);
    assert_eq!(completions(&shop("    let x: $0 = 1;\n    x")), in_param);
}

#[test]
fn qualified_paths_list_variants_and_module_items() {
    check(
        &shop("    Side::$0"),
        expect![[r#"
            Variant Buy · Side::Buy
            Variant Sell · Side::Sell(Int)
        "#]],
    );
    // Only what the module exports.
    check(
        &shop("    prices::$0"),
        expect![[r#"
            Function base_rate #t8gl9p1m · fn base_rate() -> Int
            Enum Currency #91h8hejk · enum Currency { Usd, Eur }
        "#]],
    );
    check(
        &shop("    1").replace("use prices::{base_rate, Currency}", "use prices::{base_rate, $0}"),
        expect![[r#"
            Function base_rate #t8gl9p1m · fn base_rate() -> Int
            Enum Currency #91h8hejk · enum Currency { Usd, Eur }
        "#]],
    );
}

#[test]
fn patterns_offer_variants() {
    check(
        &shop("    match side {\n        Sell(n) => n,\n        $0\n    }"),
        expect![[r#"
            Type Item #drm2el1h · type Item = { name: String, price: Int }
            Enum Side #mcvph9gf · enum Side { Buy, Sell(Int) }
            Enum Currency #91h8hejk · enum Currency { Usd, Eur }
            Variant Buy · Side::Buy
            Variant Eur · Currency::Eur
            Variant None · T?::None
            Variant Sell · Side::Sell(Int)
            Variant Some · T?::Some(T)
            Variant Usd · Currency::Usd
            Keyword false
            Keyword true
        "#]],
    );
}

#[test]
fn record_literal_fields_not_written_yet() {
    check(
        &shop("    let i = Item { name: \"pen\", $0 };\n    1"),
        expect![[r#"
            Field price · price: Int
        "#]],
    );
}

#[test]
fn keywords_where_an_item_starts() {
    let fixture = shop("    1").replace("effect Audit", "$0\n\neffect Audit");
    check(
        &fixture,
        expect![[r#"
            Keyword effect
            Keyword enum
            Keyword fn
            Keyword module
            Keyword pub
            Keyword schema
            Keyword type
            Keyword use
        "#]],
    );
    // Naming a new binder: nothing to offer.
    check(&shop("    let ne$0"), expect![""]);
}

/// A fresh store file in the system's temporary folder.
fn temp_store() -> (Store, PathBuf) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tel-ide-completion-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("codebase.sqlite");
    let mut store = Store::open(&path).unwrap();
    store.set_clock(tel_store::Clock::Fixed(0));
    (store, path)
}

#[test]
fn hash_prefixes_from_the_codebase_and_the_workspace() {
    let (mut store, path) = temp_store();
    // Store `prices::base_rate` (and nothing else) the way `tel store add` would.
    let (host, _, _) = host_for(&shop("    $0"));
    let analysis = host.analysis();
    let prices = analysis.file_for_path(std::path::Path::new("/prices.tel")).unwrap();
    let rate = analysis.definitions(prices).unwrap().into_iter().find(|d| d.name == "base_rate");
    let batch = analysis.store_batch(&[(prices, rate.unwrap())]).unwrap().unwrap();
    store.add_definitions(&batch, "test").unwrap();

    let fixture = shop("    #$0");
    let (mut host, file, offset) = host_for(&fixture);
    host.set_codebase(Some(Codebase::new(Store::open_existing(&path).unwrap())));
    let items = host.analysis().completions(file, offset, Some(&store)).unwrap();
    // The stored function first (its name as the label detail), then the workspace's
    // functions the codebase does not have. Only functions: the `#` is in an expression.
    expect![[r#"
        Hash #t8gl9p1m prices::base_rate · fn base_rate() -> Int
        Hash #3vmgi0ma prices::hidden · not in the codebase (store it to refer to it by hash) · fn hidden() -> Int
        Hash #47phikqo shop::fee · not in the codebase (store it to refer to it by hash) · fn fee(amount: Int, side: Side) -> Int
    "#]]
    .assert_eq(&render(&items));
    assert!(items.iter().all(|c| c.range.start() < offset && c.range.end() >= offset));

    // Digits typed so far narrow it down.
    let digits = &batch[0].hash.to_base32hex()[..3];
    let fixture = shop(&format!("    #{digits}$0"));
    let (host, file, offset) = host_for(&fixture);
    let items = host.analysis().completions(file, offset, Some(&store)).unwrap();
    let labels: Vec<&str> = items.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, [format!("#{}", batch[0].hash.short())]);
}

fn check_signature(fixture: &str, expect: Expect) {
    let (host, file, offset) = host_for(fixture);
    let help = host.analysis().signature_help(file, offset).unwrap();
    let shown = match help {
        None => "none".to_owned(),
        Some(h) => {
            let mut label = h.label.clone();
            if let Some(active) = h.active_parameter {
                let r = h.parameters[active];
                label.insert(usize::from(r.end()), '»');
                label.insert(usize::from(r.start()), '«');
            }
            match h.documentation {
                Some(doc) => format!("{label}\n{doc}"),
                None => label,
            }
        }
    };
    expect.assert_eq(&shown);
}

#[test]
fn signature_help_in_calls_being_written() {
    check_signature(&shop("    fee(1, $0"), expect!["fee(amount: Int, «side: Side») -> Int"]);
    check_signature(&shop("    fee($0)"), expect!["fee(«amount: Int», side: Side) -> Int"]);
    check_signature(
        &shop("    base_rate($0)"),
        expect![[r#"
            base_rate() -> Int
            The base rate, in basis points."#]],
    );
    // Too many arguments: no parameter is active.
    check_signature(&shop("    fee(1, Buy, $0)"), expect!["fee(amount: Int, side: Side) -> Int"]);
    // Builtins, variants, locals of function type.
    check_signature(
        &shop("    fold([1], 0, $0"),
        expect!["fold(xs: List<A>, init: B, «f: fn(B, A) -> B») -> B"],
    );
    check_signature(&shop("    Sell($0"), expect!["Side::Sell(«Int»)"]);
    check_signature(
        &shop("    let add = |a: Int, b: Int| a + b;\n    add(1, $0)"),
        expect!["add(Int, «Int») -> Int"],
    );
    // The innermost call's argument list.
    check_signature(
        &shop("    fee(base_rate($0), Buy)"),
        expect!["base_rate() -> Int\nThe base rate, in basis points."],
    );
    check_signature(&shop("    fee(1, Buy)$0"), expect!["none"]);
}

#[test]
fn signature_help_after_perform() {
    check_signature(
        &shop("    perform Log($0"),
        expect![[r#"
            perform Log(«message: String») -> ()
            Writes a line to the run's trace."#]],
    );
    check_signature(
        &shop("    perform Audit(\"x\"$0)"),
        expect!["perform Audit(«note: String») -> ()"],
    );
}

#[test]
fn every_offset_of_a_broken_file_is_answered() {
    // Unfinished code, non-ASCII text and a short hash: completion, signature help and code
    // actions answer at every byte offset (inside characters too, as a UTF-8 client may ask)
    // without panicking.
    let fixture = shop(
        "    let s = \"é😀\" ++ item.\n    match side { Sell(n) => fee(n, #é\n    perform Log(\"ü\"",
    );
    let (host, file, _) = host_for(&format!("{fixture}$0"));
    let analysis = host.analysis();
    let len = analysis.file_text(file).len() as u32;
    for at in 0..=len {
        let at = TextSize::from(at);
        analysis.completions(file, at, None).unwrap();
        analysis.signature_help(file, at).unwrap();
        analysis.code_actions(file, tel_ide::TextRange::empty(at), None).unwrap();
    }
}
