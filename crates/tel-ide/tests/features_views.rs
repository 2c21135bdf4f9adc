//! Inlay hints, code lenses, document symbols, semantic tokens and folding, as snapshots.

use expect_test::{Expect, expect};
use tel_ide::features::{InlayConfig, LensConfig, LensKind, Symbol};
use tel_ide::fixture::Fixture;
use tel_ide::{Analysis, AnalysisHost, FileId};

const SOURCE: &str = r#"
//- /tel.toml
[program]
//- /shop.tel
module shop
use prelude
use shop_util

/// A priced item.
type Item = { name: String, price: Int }

enum Verdict {
    Cheap,
    Dear(Int),
}

fn with_tax(item: Item) -> Int {
    let base = item.price;
    let tax = base / 10;
    let labels = [item.name, "tax"];
    base + tax
}

// Entry point: no parameters, host effects only.
fn main() -> Verdict ! {Log} {
    let total = with_tax(Item { name: "pen", price: 120 });
    perform Log(show(total));
    if total > 100 { Verdict::Dear(total) } else { Verdict::Cheap }
}

fn broken() -> Int {
    nope
}
//- /shop_util.tel
module shop_util
"#;

fn load() -> (Analysis, FileId) {
    let (host, ids, _) = Fixture::parse(SOURCE).into_host(AnalysisHost::default());
    (host.analysis(), ids[0])
}

/// The file's text with each hint written in where it shows, as `⟨label⟩`.
fn check_hints(config: InlayConfig, expect: Expect) {
    let (analysis, file) = load();
    let hints = analysis.inlay_hints(file, None, config).unwrap();
    let mut text = analysis.file_text(file);
    for h in hints.iter().rev() {
        text.insert_str(usize::from(h.offset), &format!("⟨{}⟩", h.label));
    }
    expect.assert_eq(&text);
}

#[test]
fn inlay_hints_show_hashes_and_let_types() {
    check_hints(
        InlayConfig { hashes: true, let_types: true },
        expect![[r#"
        module shop
        use prelude
        use shop_util

        /// A priced item.
        type Item = { name: String, price: Int }⟨#drm2el1h⟩

        enum Verdict⟨#pbl560jg⟩ {
            Cheap,
            Dear(Int),
        }

        fn with_tax(item: Item) -> Int⟨#84et5lr9⟩ {
            let base⟨: Int⟩ = item.price;
            let tax⟨: Int⟩ = base / 10;
            let labels⟨: List<String>⟩ = [item.name, "tax"];
            base + tax
        }

        // Entry point: no parameters, host effects only.
        fn main() -> Verdict ! {Log}⟨#1q5fpvi2⟩ {
            let total⟨: Int⟩ = with_tax(Item { name: "pen", price: 120 });
            perform Log(show(total));
            if total > 100 { Verdict::Dear(total) } else { Verdict::Cheap }
        }

        fn broken() -> Int {
            nope
        }
    "#]],
    );
}

#[test]
fn inlay_hints_can_be_turned_off_separately() {
    let (analysis, file) = load();
    let only_types =
        analysis.inlay_hints(file, None, InlayConfig { hashes: false, let_types: true });
    assert!(only_types.unwrap().iter().all(|h| h.label.starts_with(':')));
    let only_hashes =
        analysis.inlay_hints(file, None, InlayConfig { hashes: true, let_types: false });
    assert!(only_hashes.unwrap().iter().all(|h| h.label.starts_with('#')));
    let none = analysis.inlay_hints(file, None, InlayConfig { hashes: false, let_types: false });
    assert!(none.unwrap().is_empty());
}

#[test]
fn code_lenses_for_hashes_entry_points_and_storing() {
    let (analysis, file) = load();
    let config = LensConfig { hashes: true, run: true, store: true };
    let lenses = analysis.code_lenses(file, None, config).unwrap();
    let text = analysis.file_text(file);
    let shown: Vec<String> = lenses
        .iter()
        .map(|l| {
            let what = match &l.kind {
                LensKind::Hash { hash, dependents } => {
                    format!("#{} · {dependents} dependents", hash.short())
                }
                LensKind::Unhashed { dependents } => format!("no hash · {dependents} dependents"),
                LensKind::Run => "▶ Run".to_owned(),
                LensKind::Debug => "⏵ Debug".to_owned(),
                LensKind::Store(status) => format!("Store ({status:?})"),
            };
            format!("{} {what}", &text[l.range])
        })
        .collect();
    expect![[r#"
        Item #drm2el1h · 2 dependents
        Item Store (New { stored_as: [] })
        Verdict #pbl560jg · 1 dependents
        Verdict Store (New { stored_as: [] })
        with_tax #84et5lr9 · 1 dependents
        with_tax Store (New { stored_as: [] })
        main #1q5fpvi2 · 0 dependents
        main ▶ Run
        main ⏵ Debug
        main Store (New { stored_as: [] })
        broken no hash · 0 dependents"#]]
    .assert_eq(&shown.join("\n"));
}

fn show_symbols(symbols: &[Symbol], depth: usize, out: &mut String) {
    for s in symbols {
        let detail = s.detail.as_deref().unwrap_or("");
        out.push_str(&format!("{}{:?} {} {detail}\n", "  ".repeat(depth), s.kind, s.name));
        show_symbols(&s.children, depth + 1, out);
    }
}

#[test]
fn document_symbols_outline_the_file() {
    let (analysis, file) = load();
    let mut out = String::new();
    show_symbols(&analysis.document_symbols(file).unwrap(), 0, &mut out);
    expect![[r#"
        Module shop 
        Type Item #drm2el1h
        Enum Verdict #pbl560jg
          Variant Cheap 
          Variant Dear 
        Function with_tax #84et5lr9
        Function main #1q5fpvi2
        Function broken 
    "#]]
    .assert_eq(&out);
}

#[test]
fn semantic_tokens_follow_resolution() {
    let (analysis, file) = load();
    let text = analysis.file_text(file);
    let start = text.find("fn main").unwrap();
    let end = text.find("fn broken").unwrap();
    let range = tel_ide::TextRange::new((start as u32).into(), (end as u32).into());
    let tokens = analysis.semantic_tokens(file, Some(range)).unwrap();
    let shown: Vec<String> = tokens
        .iter()
        .map(|t| format!("{:?} {:?} {}", &text[t.range], t.kind, t.modifiers))
        .collect();
    expect![[r#"
        "fn" Keyword 0
        "main" Function 1
        "Verdict" Enum 0
        "!" Operator 0
        "Log" Effect 2
        "let" Keyword 0
        "total" Variable 1
        "with_tax" Function 0
        "Item" Type 0
        "name" Property 0
        "\"pen\"" String 0
        "price" Property 0
        "120" Number 0
        "perform" Keyword 0
        "Log" Effect 2
        "show" Function 2
        "total" Variable 0
        "if" Keyword 0
        "total" Variable 0
        ">" Operator 0
        "100" Number 0
        "Verdict" Enum 0
        "Dear" EnumMember 0
        "total" Variable 0
        "else" Keyword 0
        "Verdict" Enum 0
        "Cheap" EnumMember 0"#]]
    .assert_eq(&shown.join("\n"));
}

#[test]
fn folding_ranges() {
    let (analysis, file) = load();
    let text = analysis.file_text(file);
    let folds = analysis.folding_ranges(file).unwrap();
    let shown: Vec<String> = folds
        .iter()
        .map(|f| {
            let first = text[f.range].lines().next().unwrap_or("");
            format!("{:?} {first}", f.kind)
        })
        .collect();
    expect![[r#"
        Imports use prelude
        Region enum Verdict {
        Region fn with_tax(item: Item) -> Int {
        Region {
        Region fn main() -> Verdict ! {Log} {
        Region {
        Region fn broken() -> Int {
        Region {"#]]
    .assert_eq(&shown.join("\n"));
}
