//! Hover on `$0` cursor fixtures, against no store, and against a real store in a
//! temporary folder.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use expect_test::{Expect, expect};
use tel_ide::codebase::Codebase;
use tel_ide::features::StoreInfo;
use tel_ide::fixture::Fixture;
use tel_ide::{AnalysisHost, FileId, TextSize};
use tel_store::{NewDefinition, Store};

const SOURCE: &str = r#"
//- /tel.toml
[program]
//- /fees.tel
module fees

/// The fee for `amount`, in
/// thousandths.
pub fn fee(amount: Int) -> Int {
    amount * 3 / 1000
}

pub enum Side { Buy, Sell(Int) }

fn total(amount: Int, side: Side) -> Int ! {Log} {
    let f = fee(amount);
    perform Log("total");
    match side {
        Sell(n) => amount + f + n,
        Buy => amount + f,
    }
}
"#;

/// A fresh store file in the system's temporary folder.
fn temp_store() -> (Store, PathBuf) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tel-ide-hover-{}-{}",
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

fn cursor_at(marker: &str) -> String {
    let at = SOURCE.find(marker).unwrap_or_else(|| panic!("{marker}"));
    format!("{}$0{}", &SOURCE[..at], &SOURCE[at..])
}

fn host_for(fixture: &str) -> (AnalysisHost, FileId, TextSize) {
    let (host, _, cursor) = Fixture::parse(fixture).into_host(AnalysisHost::default());
    let (file, offset) = cursor.unwrap();
    (host, file, offset)
}

fn check(fixture: &str, store: Option<&dyn StoreInfo>, expect: Expect) {
    let (host, file, offset) = host_for(fixture);
    let hover = host.analysis().hover(file, offset, store).unwrap();
    expect.assert_eq(&hover.map(|h| h.markup).unwrap_or_else(|| "nothing".into()));
}

/// Stores `fees::fee` as it is in `SOURCE` (it depends on nothing).
fn store_fee(store: &mut Store) {
    let (host, _, _) = host_for(&cursor_at("fn fee"));
    let analysis = host.analysis();
    let file = analysis.file_for_path(std::path::Path::new("/fees.tel")).unwrap();
    let member = analysis.hashed(file, "fee").unwrap().unwrap();
    let def = NewDefinition {
        hash: member.hash,
        component: None,
        kind: tel_hash::core::DefKind::Fn,
        name: "fees::fee".into(),
        canonical: member.bytes.clone(),
        source: "pub fn fee(amount: Int) -> Int {\n    amount * 3 / 1000\n}".into(),
        dependencies: Vec::new(),
    };
    store.add_definitions(&[def], "test").unwrap();
}

#[test]
fn hover_on_a_definition_without_a_store() {
    check(
        &cursor_at("fee(amount: Int)"),
        None,
        expect![[r#"
            ```tel
            fn fee(amount: Int) -> Int
            ```
            function `fees::fee` · `#s451ehd0`

            hash `s451ehd0rc0gg1bvrb4uqejkudh04e7oro937qipuikvt5q82sr0`

            **new**: there is no codebase yet

            1 dependent

            ---

            The fee for `amount`, in
            thousandths.
        "#]],
    );
}

#[test]
fn hover_on_a_reference_shows_the_effect_row_and_store_status() {
    let (mut store, _) = temp_store();
    store_fee(&mut store);
    check(
        &cursor_at("fee(amount);"),
        Some(&store),
        expect![[r#"
            ```tel
            fn fee(amount: Int) -> Int
            ```
            function `fees::fee` · `#s451ehd0`

            hash `s451ehd0rc0gg1bvrb4uqejkudh04e7oro937qipuikvt5q82sr0`

            **stored** in the codebase

            1 dependent

            ---

            The fee for `amount`, in
            thousandths.
        "#]],
    );
    // `total` performs Log: its row is part of the signature; it is not stored.
    check(
        &cursor_at("total("),
        Some(&store),
        expect![[r#"
        ```tel
        fn total(amount: Int, side: Side) -> Int ! {Log}
        ```
        function `fees::total` · `#vtjdg6v9`

        hash `vtjdg6v9v7pks0nmb8ov9c6odes66qfj3nb0o294e6r3kksd48hg`

        **new**: not in the codebase

        0 dependents
    "#]],
    );
}

#[test]
fn hover_after_an_edit_shows_the_stored_hash_it_replaces() {
    let (mut store, _) = temp_store();
    store_fee(&mut store);
    let (mut host, file, _) = host_for(&cursor_at("fee(amount: Int)"));
    let text = host.analysis().file_text(file).replace("amount * 3 / 1000", "amount * 4 / 1000");
    host.set_file_text(file, text.clone());
    let offset = TextSize::from(text.find("fee(amount: Int)").unwrap() as u32);
    let hover = host.analysis().hover(file, offset, Some(&store)).unwrap().unwrap();
    expect![[r#"
        ```tel
        fn fee(amount: Int) -> Int
        ```
        function `fees::fee` · `#lfvl2ffp`

        hash `lfvl2ffp14d3mpq48sjikikqt2jvt4bqc72p1ip2ggp3k0p99m70`

        **changed**: storing it replaces `#s451ehd0`

        1 dependent

        ---

        The fee for `amount`, in
        thousandths.
    "#]]
    .assert_eq(&hover.markup);
}

#[test]
fn hover_on_locals_variants_and_builtins() {
    check(
        &cursor_at("f + n"),
        None,
        expect![[r#"
        ```tel
        f: Int
        ```
        local of `fees::total`"#]],
    );
    check(
        &cursor_at("side {"),
        None,
        expect![[r#"
        ```tel
        side: Side
        ```
        parameter of `fees::total`"#]],
    );
    check(
        &cursor_at("Sell(n) =>"),
        None,
        expect![[r#"
        ```tel
        Side::Sell(Int)
        ```
        variant 1 of enum `Side`"#]],
    );
    check(
        &cursor_at("Log(\"total"),
        None,
        expect![[r#"
        ```tel
        effect Log(message: String) -> ()
        ```
        effect `prelude::Log` · `#fii3a58d`

        hash `fii3a58dkfopf2pk081jts0jltta88h9rmtfp48cnsrbjdg2pou0`

        **new**: there is no codebase yet

        1 dependent

        ---

        Writes a line to the run's trace.
    "#]],
    );
    check(
        &cursor_at("Int ! {"),
        None,
        expect![[r#"
        ```tel
        Int
        ```
        builtin type"#]],
    );
}

#[test]
fn hover_on_a_hash_literal_shows_the_stored_definition() {
    let (mut store, path) = temp_store();
    store_fee(&mut store);
    let hash = store.resolve("fees::fee").unwrap();
    let fixture = format!(
        "//- /tel.toml\n[program]\n//- /main.tel\nmodule main\nfn twice(x: Int) -> Int {{ $0#{}(x) * 2 }}\n",
        hash.prefix_str(10)
    );
    let (mut host, file, offset) = host_for(&fixture);
    host.set_codebase(Some(Codebase::new(Store::open_existing(&path).unwrap())));
    let hover = host.analysis().hover(file, offset, Some(&store)).unwrap().unwrap();
    expect![[r#"
        ```tel
        fn fee(_0: Int) -> Int
        ```
        stored function `#s451ehd0`

        hash `…`

        named `fees::fee`

        ---

        ```tel
        pub fn fee(amount: Int) -> Int {
            amount * 3 / 1000
        }
        ```
    "#]]
    .assert_eq(&hover.markup.replace(&hash.to_base32hex(), "…"));
}
