//! Go to definition, references and highlight on `$0` cursor fixtures.

use expect_test::{Expect, expect};
use tel_ide::features::Destination;
use tel_ide::fixture::Fixture;
use tel_ide::{Analysis, AnalysisHost, FileId, TextRange};

fn load(fixture: &str) -> (Analysis, FileId, tel_ide::TextSize) {
    let (host, _, cursor) = Fixture::parse(fixture).into_host(AnalysisHost::default());
    let (file, offset) = cursor.expect("the fixture has a $0 cursor");
    (host.analysis(), file, offset)
}

/// `path range "text"`, the way the snapshots show a place.
fn place(analysis: &Analysis, file: FileId, range: TextRange) -> String {
    let text = analysis.file_text(file);
    let path = analysis.file_path(file).display();
    format!("{path} {range:?} {:?}", &text[range])
}

fn check_goto(fixture: &str, expect: Expect) {
    let (analysis, file, offset) = load(fixture);
    let actual = match analysis.goto_definition(file, offset).unwrap() {
        None => "nothing".to_owned(),
        Some((origin, Destination::Source(nav))) => format!(
            "from {}\nto   {}",
            place(&analysis, file, origin),
            place(&analysis, nav.file, nav.name_range)
        ),
        Some((origin, Destination::Stored(hash))) => {
            format!("from {}\nto   stored {hash}", place(&analysis, file, origin))
        }
    };
    expect.assert_eq(&actual);
}

fn check_refs(fixture: &str, expect: Expect) {
    let (analysis, file, offset) = load(fixture);
    let refs = analysis.find_all_references(file, offset, true).unwrap();
    let actual: Vec<String> = refs
        .iter()
        .map(|r| {
            let kind = if r.is_definition { "def" } else { "ref" };
            format!("{kind} {}", place(&analysis, r.file, r.range))
        })
        .collect();
    expect.assert_eq(&actual.join("\n"));
}

const PROJECT: &str = r#"
//- /tel.toml
[program]
//- /fees.tel
module fees

pub type Quote = { asset: String, price: Int }

pub enum Side { Buy, Sell(Int) }

/// The fee for `amount`.
pub fn fee(amount: Int) -> Int {
    amount * 3 / 1000
}
//- /main.tel
module main
use fees::{fee, Quote as Q, Side}
use fees

effect Approve(amount: Int) -> Bool

fn total(q: Q, side: Side) -> Int ! {Log} {
    let base = q.price;
    perform Log("total");
    match side {
        Side::Sell(n) => base + fee(base) + n,
        Buy => base + fees::fee(base),
    }
}
"#;

fn at(marker: &str) -> String {
    // Puts the cursor before the first occurrence of `marker` in main.tel.
    let main = PROJECT.find("//- /main.tel").unwrap();
    let at = main + PROJECT[main..].find(marker).unwrap_or_else(|| panic!("{marker}"));
    format!("{}$0{}", &PROJECT[..at], &PROJECT[at..])
}

#[test]
fn goto_local_parameter_and_let() {
    check_goto(
        &at("base + fee(base)"),
        expect![[r#"
            from /main.tel 229..233 "base"
            to   /main.tel 145..149 "base""#]],
    );
    check_goto(
        &at("q.price"),
        expect![[r#"
            from /main.tel 152..153 "q"
            to   /main.tel 102..103 "q""#]],
    );
    // a binding of a match arm
    check_goto(
        &at("n,\n"),
        expect![[r#"
            from /main.tel 248..249 "n"
            to   /main.tel 223..224 "n""#]],
    );
}

#[test]
fn goto_items_across_modules() {
    check_goto(
        &at("fee(base) +"),
        expect![[r#"
            from /main.tel 236..239 "fee"
            to   /fees.tel 128..131 "fee""#]],
    );
    // through a qualified path, and on the module segment
    check_goto(
        &at("fee(base),"),
        expect![[r#"
            from /main.tel 279..282 "fee"
            to   /fees.tel 128..131 "fee""#]],
    );
    check_goto(
        &at("fees::fee(base),"),
        expect![[r#"
            from /main.tel 273..277 "fees"
            to   /fees.tel 7..11 "fees""#]],
    );
    // a type through a `use` alias, in a signature
    check_goto(
        &at("Q, side"),
        expect![[r#"
            from /main.tel 105..106 "Q"
            to   /fees.tel 22..27 "Quote""#]],
    );
    // the name imported by `use`
    check_goto(
        &at("Quote as"),
        expect![[r#"
            from /main.tel 28..33 "Quote"
            to   /fees.tel 22..27 "Quote""#]],
    );
}

#[test]
fn goto_variants_and_effects() {
    check_goto(
        &at("Sell(n)"),
        expect![[r#"
            from /main.tel 218..222 "Sell"
            to   /fees.tel 82..86 "Sell""#]],
    );
    check_goto(
        &at("Buy =>"),
        expect![[r#"
            from /main.tel 259..262 "Buy"
            to   /fees.tel 77..80 "Buy""#]],
    );
    check_goto(
        &at("Log(\"total"),
        expect![[r#"
            from /main.tel 173..176 "Log"
            to   <prelude> 142..145 "Log""#]],
    );
    check_goto(
        &at("Log} {"),
        expect![[r#"
            from /main.tel 130..133 "Log"
            to   <prelude> 142..145 "Log""#]],
    );
    // a builtin type has no declaration
    check_goto(&at("Int ! {"), expect!["nothing"]);
}

#[test]
fn references_of_an_item_span_the_project() {
    check_refs(
        &at("fee(base) +"),
        expect![[r#"
            def /fees.tel 128..131 "fee"
            ref /main.tel 23..26 "fee"
            ref /main.tel 236..239 "fee"
            ref /main.tel 279..282 "fee""#]],
    );
    // through an alias: the alias's uses count, spelled as the alias
    check_refs(
        &at("Q, side"),
        expect![[r#"
            def /fees.tel 22..27 "Quote"
            ref /main.tel 28..33 "Quote"
            def /main.tel 37..38 "Q"
            ref /main.tel 105..106 "Q""#]],
    );
}

#[test]
fn references_of_a_local_stay_in_its_body() {
    check_refs(
        &at("base + fee(base)"),
        expect![[r#"
            def /main.tel 145..149 "base"
            ref /main.tel 229..233 "base"
            ref /main.tel 240..244 "base"
            ref /main.tel 266..270 "base"
            ref /main.tel 283..287 "base""#]],
    );
}

#[test]
fn highlight_is_file_local() {
    let (analysis, file, offset) = load(&at("fee(base) +"));
    let ranges = analysis.highlight_related(file, offset).unwrap();
    let text = analysis.file_text(file);
    let shown: Vec<&str> = ranges.iter().map(|(r, _)| &text[*r]).collect();
    assert_eq!(shown, ["fee", "fee", "fee"]);
}
