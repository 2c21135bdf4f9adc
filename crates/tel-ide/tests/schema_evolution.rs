//! Schema evolution in the editor: warnings on `schema` edits that the program's rules refuse
//! against the version stored in the codebase, the change class in hovers, and what an edit
//! re-runs. Version 1 is stored in a real codebase (a temporary SQLite file); version 2 is
//! what the editor holds.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use expect_test::{Expect, expect};
use tel_ide::codebase::Codebase;
use tel_ide::fixture::Fixture;
use tel_ide::{AnalysisHost, FileId, TextSize};
use tel_store::{ComponentMember, NewDefinition, Store};

/// A file of the repository's `fixtures/`.
fn fixture(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// A fresh folder in the system's temporary folder.
fn temp_dir() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "tel-ide-schema-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A codebase holding every definition of `files` (a project checked by the engine), as
/// `tel store add` would name them; returns its path.
fn codebase_with(files: &[(&str, &str)]) -> PathBuf {
    let path = temp_dir().join("codebase.sqlite");
    let mut store = Store::open(&path).unwrap();
    store.set_clock(tel_store::Clock::Fixed(0));
    let mut host = AnalysisHost::default();
    let files = files.iter().map(|(p, t)| (PathBuf::from(p), (*t).to_owned())).collect();
    host.add_project(None, files);
    let analysis = host.analysis();
    let mut defs = Vec::new();
    for file in analysis.files() {
        for d in analysis.definitions(file).unwrap() {
            let member = analysis
                .hashed(file, &d.name)
                .unwrap()
                .unwrap_or_else(|| panic!("{} has errors", d.qualified()));
            let core = tel_hash::decode(&member.bytes).unwrap();
            let component = (member.hash != tel_hash::hash_bytes(&member.bytes)).then(|| {
                let c = analysis.component(file, &d.name).unwrap().unwrap();
                let index = c.members.iter().position(|m| m.hash == member.hash).unwrap();
                ComponentMember { component: c.component.unwrap(), index: index as u32 }
            });
            defs.push(NewDefinition {
                hash: member.hash,
                component,
                kind: d.kind,
                name: d.qualified(),
                canonical: member.bytes.clone(),
                source: String::new(),
                dependencies: tel_hash::hash_deps(&core),
            });
        }
    }
    store.add_definitions(&defs, "test").unwrap();
    path
}

/// The editor: `text` (a fixture, `//- /file` headers, maybe a `$0`), with its `/tel.toml`
/// as the project's manifest and `codebase` attached.
fn editor(
    host: AnalysisHost,
    text: &str,
    codebase: Option<&Path>,
) -> (AnalysisHost, Vec<FileId>, Option<(FileId, TextSize)>) {
    let fixture = Fixture::parse(text);
    let manifest =
        fixture.files.iter().find(|(p, _)| p.ends_with("tel.toml")).map(|(_, t)| t.clone());
    let (mut host, files, cursor) = fixture.into_host(host);
    if manifest.is_some() {
        host.set_manifest(Path::new("/"), manifest);
    }
    if let Some(path) = codebase {
        host.set_codebase(Some(Codebase::new(Store::open_existing(path).unwrap())));
    }
    (host, files, cursor)
}

/// Version 2 of the Vault (`fixtures/valid/schema_v2.tel`) at `/vault.tel`, under `toml`.
fn v2(toml: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(toml) = toml {
        out.push_str(&format!("//- /tel.toml\n{toml}\n"));
    }
    out.push_str("//- /vault.tel\n");
    out.push_str(&fixture("valid/schema_v2.tel"));
    out
}

const STRICT: &str = r#"[program]
name = "vault"
version = "0.2.0"
schema = "vault::Vault"

[schema.evolution]
allowed = ["add-optional-field"]"#;

/// Every diagnostic of `file`, with the text it underlines.
fn diagnostics(host: &AnalysisHost, file: FileId) -> String {
    let analysis = host.analysis();
    let text = analysis.file_text(file);
    let mut out = String::new();
    for d in analysis.diagnostics(file).unwrap() {
        let at = &text[std::ops::Range::<usize>::from(d.range)];
        out.push_str(&format!("{:?} {} `{at}` ({}): {}\n", d.severity, d.code, d.label, d.message));
    }
    out
}

fn check_diagnostics(stored: &[(&str, &str)], text: &str, expect: Expect) {
    let codebase = codebase_with(stored);
    let (host, files, _) = editor(AnalysisHost::default(), text, Some(&codebase));
    expect.assert_eq(&diagnostics(&host, *files.last().unwrap()));
}

#[test]
fn automatic_changes_under_the_default_rules_are_accepted() {
    // Version 1 does not read `legacy_flag`: dropping it, adding a defaulted and an optional
    // field all evolve stored state, and without a tel.toml every class is allowed.
    let v1 = fixture("valid/schema_v1.tel");
    check_diagnostics(&[("/vault.tel", &v1)], &v2(None), expect![""]);
}

#[test]
fn changes_outside_the_allowed_classes_are_warnings_on_their_fields() {
    let v1 = fixture("valid/schema_v1.tel");
    check_diagnostics(
        &[("/vault.tel", &v1)],
        &v2(Some(STRICT)),
        expect![[r#"
            Warning W0601 `Vault` (not allowed by the evolution rules): `legacy_flag`: remove-unused-field is not allowed by [schema.evolution] allowed in /tel.toml (allowed: add-optional-field) (against the stored vault::Vault #kpops9lj)
            Warning W0601 `risk_tolerance` (not allowed by the evolution rules): `risk_tolerance`: add-default-field is not allowed by [schema.evolution] allowed in /tel.toml (allowed: add-optional-field) (against the stored vault::Vault #kpops9lj)
        "#]],
    );
}

#[test]
fn a_removed_field_a_stored_function_reads_needs_a_migration() {
    // `fixtures/schema/used/vault.tel`: version 1 with `is_legacy`, which reads the field.
    let v1 = fixture("schema/used/vault.tel");
    check_diagnostics(
        &[("/vault.tel", &v1)],
        &v2(None),
        expect![[r#"
            Warning W0602 `Vault` (needs a migration): `legacy_flag`: remove-used-field needs a migration function fn(#kpops9lj) -> #ubd3dllr, and there is no tel.toml to list one in ([schema] migrations) (against the stored vault::Vault #kpops9lj); read by vault::is_legacy
        "#]],
    );
}

#[test]
fn a_removed_field_the_project_reads_without_a_type_needs_a_migration() {
    // Nothing stored reads `legacy_flag`, but a function of the project reads `.legacy_flag`
    // of a structural record: it may be any record's, the Vault's included.
    let v1 = fixture("valid/schema_v1.tel");
    let text =
        v2(None) + "\nfn flagged(r: { legacy_flag: Bool }) -> Bool {\n    r.legacy_flag\n}\n";
    check_diagnostics(
        &[("/vault.tel", &v1)],
        &text,
        expect![[r#"
            Warning W0602 `Vault` (needs a migration): `legacy_flag`: remove-used-field needs a migration function fn(#kpops9lj) -> #ubd3dllr, and there is no tel.toml to list one in ([schema] migrations) (against the stored vault::Vault #kpops9lj); read by vault::flagged (reads `.legacy_flag` of an unknown type)
        "#]],
    );
}

#[test]
fn a_migration_listed_in_tel_toml_covers_the_changes_that_need_one() {
    let v1 = fixture("schema/used/vault.tel");
    let codebase = codebase_with(&[("/vault.tel", &v1)]);
    let old = Store::open_existing(&codebase).unwrap().resolve("vault::Vault").unwrap();
    // The migration names version 1 by hash, since `Vault` now means version 2.
    let migration = format!(
        "//- /migrate.tel\nmodule migrate\nuse vault::{{Vault}}\n\n\
         pub fn up(old: #{}) -> Vault {{\n    Vault {{ owner: old.owner, balances: old.balances, \
         last_price: old.last_price, risk_tolerance: if old.legacy_flag {{ 1 }} else {{ 5 }}, \
         note: None }}\n}}\n",
        old.short()
    );
    // Its hash, to list in tel.toml: from the engine, as `tel store add` would print it.
    let probe = v2(None) + &migration;
    let (host, files, _) = editor(AnalysisHost::default(), &probe, Some(&codebase));
    let up = host.analysis().hashed(files[1], "up").unwrap().expect("the migration checks");
    let toml = format!(
        "[program]\nname = \"vault\"\nversion = \"0.2.0\"\n\n[schema]\nmigrations = [\"#{}\"]",
        up.hash.short()
    );
    let text = v2(Some(&toml)) + &migration;
    let (host, files, _) = editor(AnalysisHost::default(), &text, Some(&codebase));
    assert_eq!(diagnostics(&host, files[0]), "");
    assert_eq!(diagnostics(&host, files[1]), "");

    // Listing something that is no migration of this pair leaves the change refused.
    let wrong = toml.replace(&up.hash.short(), &old.short());
    let text = v2(Some(&wrong)) + &migration;
    let (host, files, _) = editor(AnalysisHost::default(), &text, Some(&codebase));
    let found = diagnostics(&host, files[0]);
    assert!(found.starts_with("Warning W0602 `Vault`"), "{found}");
    assert!(found.contains("/tel.toml lists none in [schema] migrations"), "{found}");
}

#[test]
fn an_unreadable_tel_toml_says_the_evolution_is_not_checked() {
    let v1 = fixture("valid/schema_v1.tel");
    check_diagnostics(
        &[("/vault.tel", &v1)],
        &v2(Some(
            "[program]\nname = \"vault\"\nversion = \"0.2.0\"\n\n[schema.evolution]\nallowed = [\"add-everything\"]",
        )),
        expect![[r#"
            Warning W0603 `Vault` (schema evolution not checked): schema evolution against the stored vault::Vault #kpops9lj is not checked: the evolution rules cannot be read: /tel.toml:6:12: [schema.evolution] allowed: `add-everything` is not a change class (the classes are add-optional-field, add-default-field, remove-unused-field, widen-type, change-default, add-required-field, remove-used-field, rename-field, change-type)
        "#]],
    );
}

#[test]
fn nothing_is_said_without_a_stored_version() {
    // No codebase.
    let (host, files, _) = editor(AnalysisHost::default(), &v2(Some(STRICT)), None);
    assert_eq!(diagnostics(&host, files[0]), "");
    // A codebase where the name points at nothing: the schema is new.
    let other = "module other\n\npub schema Vault { owner: String }\n";
    check_diagnostics(&[("/other.tel", other)], &v2(Some(STRICT)), expect![""]);
    // The same version stored: identical.
    let v2_text = fixture("valid/schema_v2.tel");
    check_diagnostics(&[("/vault.tel", &v2_text)], &v2(Some(STRICT)), expect![""]);
}

#[test]
fn nested_changes_are_placed_on_the_top_level_field() {
    let codebase = codebase_with(&[("/book.tel", &fixture("schema/orders/v1.tel"))]);
    let text = format!(
        "//- /tel.toml\n{}\n//- /book.tel\n{}",
        STRICT.replace("vault", "book").replace("Vault", "Book"),
        fixture("schema/orders/v2.tel")
    );
    let (host, files, _) = editor(AnalysisHost::default(), &text, Some(&codebase));
    let found = diagnostics(&host, files[0]);
    // Every change of `orders[]…` is underlined on `orders`.
    for line in found.lines().filter(|l| l.contains("`orders[]")) {
        assert!(line.starts_with("Warning W0601 `orders`"), "{line}");
    }
    assert!(found.lines().any(|l| l.contains("`orders[].side`: widen-type")), "{found}");
}

// ------------------------------------------------------------------------ hover

fn hover(stored: &str, toml: Option<&str>, marker: &str) -> String {
    let codebase = codebase_with(&[("/vault.tel", stored)]);
    let text = v2(toml);
    let at = text.find(marker).unwrap_or_else(|| panic!("{marker}"));
    let text = format!("{}$0{}", &text[..at], &text[at..]);
    let (host, _, cursor) = editor(AnalysisHost::default(), &text, Some(&codebase));
    let (file, offset) = cursor.unwrap();
    host.analysis().hover(file, offset, None).unwrap().map(|h| h.markup).unwrap_or_default()
}

#[test]
fn hover_on_a_field_shows_its_change_class() {
    let v1 = fixture("valid/schema_v1.tel");
    expect![[r#"
        ```tel
        risk_tolerance: Int = 5
        ```
        field of schema `vault::Vault`

        ---

        against the stored `vault::Vault #kpops9lj`:

        - `risk_tolerance`: **add-default-field** (automatic) · - → `Int = 5` · stored state: gets 5

        **refused**: `risk_tolerance`: add-default-field is not allowed by [schema.evolution] allowed in /tel.toml (allowed: add-optional-field)
    "#]]
    .assert_eq(&hover(&v1, Some(STRICT), "risk_tolerance: Int = 5,"));
    expect![[r#"
        ```tel
        note: String?
        ```
        field of schema `vault::Vault`

        ---

        against the stored `vault::Vault #kpops9lj`:

        - `note`: **add-optional-field** (automatic) · - → `String?` · stored state: gets None
    "#]]
    .assert_eq(&hover(&v1, Some(STRICT), "note: String?,"));
    expect![[r#"
        ```tel
        owner: String
        ```
        field of schema `vault::Vault`

        ---

        unchanged since the stored `vault::Vault #kpops9lj`
    "#]]
    .assert_eq(&hover(&v1, None, "owner: String"));
}

#[test]
fn hover_on_the_schema_name_appends_the_evolution() {
    let v1 = fixture("schema/used/vault.tel");
    let markup = hover(&v1, None, "Vault {\n    /// Who");
    let section = &markup[markup.find("against the stored").expect(&markup)..];
    expect![[r#"
        against the stored `vault::Vault #kpops9lj`: **needs-migration** (3 changes)

        - `legacy_flag`: **remove-used-field** (not automatic) · `Bool` → - · stored state: needs a migration (the program reads it) · read by vault::is_legacy
        - `note`: **add-optional-field** (automatic) · - → `String?` · stored state: gets None
        - `risk_tolerance`: **add-default-field** (automatic) · - → `Int = 5` · stored state: gets 5

        rules: no tel.toml: every change class allowed

        **refused**: `legacy_flag`: remove-used-field needs a migration function fn(#kpops9lj) -> #ubd3dllr, and there is no tel.toml to list one in ([schema] migrations)
    "#]]
    .assert_eq(section);
    // The definition's own hover comes first.
    assert!(markup.starts_with("```tel\nschema Vault"), "{markup}");
}

// ------------------------------------------------------------------------ incrementality

fn count(log: &[String], query: &str) -> usize {
    log.iter().filter(|e| e.starts_with(&format!("{query}("))).count()
}

fn check_all(host: &AnalysisHost, files: &[FileId]) -> Vec<String> {
    files.iter().map(|&f| diagnostics(host, f)).collect()
}

/// Replaces the first `from` of `file`'s text by `to`.
fn edit(host: &mut AnalysisHost, file: FileId, from: &str, to: &str) {
    let text = host.analysis().file_text(file);
    assert!(text.contains(from), "{from}");
    host.set_file_text(file, text.replacen(from, to, 1));
}

#[test]
fn typing_in_a_body_does_not_recheck_the_schema() {
    // Version 1 without readers of `legacy_flag`: removing it is checked against the
    // project's reads too, the costliest case.
    let codebase = codebase_with(&[("/vault.tel", &fixture("valid/schema_v1.tel"))]);
    let (mut host, files, _) =
        editor(AnalysisHost::with_execution_log(), &v2(Some(STRICT)), Some(&codebase));
    let before = check_all(&host, &files);
    assert!(before[0].contains("W0601"), "{before:?}");
    // The file's first edit drops its durability (see tests/incremental.rs): warm up.
    let text = host.analysis().file_text(files[0]) + "\n";
    host.set_file_text(files[0], text);
    check_all(&host, &files);
    host.take_executions();

    // A new constant in a body: that function's reads are looked at again, the check is not.
    edit(&mut host, files[0], "\"ETH\") * v.last_price", "\"BTC\") * v.last_price");
    assert_eq!(check_all(&host, &files), before);
    let log = host.take_executions();
    assert!(count(&log, "fn_reads") >= 1, "{log:#?}");
    for query in ["project_reads", "schema_check", "file_checks", "stored_schema"] {
        assert_eq!(count(&log, query), 0, "{query}: {log:#?}");
    }

    // A body that reads another field: the reads changed, the check runs again, same answer.
    edit(
        &mut host,
        files[0],
        "held(v, \"BTC\") * v.last_price",
        "held(v, \"BTC\") * v.risk_tolerance",
    );
    assert_eq!(check_all(&host, &files), before);
    let log = host.take_executions();
    assert_eq!(count(&log, "schema_check"), 1, "{log:#?}");
    assert_eq!(count(&log, "stored_schema"), 0, "{log:#?}");

    // An edit of the schema itself: checked again, and the new field is underlined.
    edit(&mut host, files[0], "    note: String?,", "    note: String?,\n    tag: Int,");
    let after = check_all(&host, &files);
    let log = host.take_executions();
    assert_eq!(count(&log, "schema_check"), 1, "{log:#?}");
    assert_eq!(count(&log, "stored_schema"), 0, "{log:#?}");
    assert!(after[0].contains("W0601 `tag`"), "{after:?}");
}

#[test]
fn a_project_without_schemas_costs_one_query_per_file() {
    let (host, files, _) = editor(
        AnalysisHost::with_execution_log(),
        "//- /a.tel\nfn f() -> Int { 1 }\n//- /b.tel\nfn g() -> Int { 2 }\n",
        Some(&codebase_with(&[("/a.tel", "fn f() -> Int { 1 }\n")])),
    );
    check_all(&host, &files);
    let log = host.take_executions();
    assert_eq!(count(&log, "file_checks"), 2, "{log:#?}");
    for query in ["schema_check", "stored_schema", "project_reads", "fn_reads"] {
        assert_eq!(count(&log, query), 0, "{query}: {log:#?}");
    }
}

// ------------------------------------------------------------------------ from disk

#[test]
fn a_project_loaded_from_disk_reads_its_tel_toml() {
    // `fixtures/schema/strict`, copied beside a codebase holding version 1: what `tel check`
    // and the language server load.
    let dir = temp_dir();
    for name in ["tel.toml", "vault.tel"] {
        std::fs::write(dir.join(name), fixture(&format!("schema/strict/{name}"))).unwrap();
    }
    let codebase = codebase_with(&[("/vault.tel", &fixture("valid/schema_v1.tel"))]);
    let loaded = tel_ide::load::load(std::slice::from_ref(&dir), Some(&codebase)).unwrap();
    let file = loaded.reported[0];
    let found: Vec<String> = loaded
        .analysis
        .diagnostics(file)
        .unwrap()
        .into_iter()
        .map(|d| {
            format!(
                "{} {}",
                d.code,
                &loaded.analysis.file_text(file)[std::ops::Range::<usize>::from(d.range)]
            )
        })
        .collect();
    assert_eq!(found, ["W0601 Vault", "W0601 risk_tolerance"]);
}
