//! `tel schema diff`, `tel schema migrate` and `tel build` end to end, through the real
//! binary: exit statuses, the table and the JSON, refusals naming the rule or the first
//! mismatch, migration functions from tel.toml, versions read from the codebase, output
//! written atomically and the old state never touched, artifacts kept and found again.

mod support;

use std::path::{Path, PathBuf};

use expect_test::expect;
use serde_json::{Value, json};
use support::{Env, Out, repo};

fn fixture(rel: &str) -> String {
    repo().join("fixtures").join(rel).display().to_string()
}

impl Env {
    fn tel(&self, args: &[&str]) -> Out {
        self.tel_with(args, &[])
    }

    fn tel_with(&self, args: &[&str], env: &[(&str, &Path)]) -> Out {
        let mut cmd = support::command(self.dir.path(), args);
        cmd.env("NO_COLOR", "1");
        for (k, v) in env {
            cmd.env(k, v);
        }
        Out::of(&mut cmd)
    }

    /// `text` with the temp folder and the repository as `$DIR` and `$REPO`, and hashes
    /// (` #` and 8 or 52 base32hex digits) as `#<hash>`: they move with the hash format.
    fn shown(&self, text: &str) -> String {
        let text = text
            .replace(&self.dir.path().display().to_string(), "$DIR")
            .replace(&repo().display().to_string(), "$REPO");
        mask_hashes(&text)
    }

    /// The hash `tel hash --json` gives definition `name` of `file`.
    fn hash_of(&self, file: &str, name: &str) -> String {
        let out = self.tel(&["hash", "--json", file]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        let defs: Value = serde_json::from_str(&out.stdout).unwrap();
        defs.as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {file}"))["hash"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The names of the files in the folder (no temporary files may be left behind).
    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

fn mask_hashes(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('#') {
        out.push_str(&rest[..=i]);
        rest = &rest[i + 1..];
        let n = rest.chars().take_while(|c| matches!(c, '0'..='9' | 'a'..='v')).count();
        if n == 8 || n == 52 {
            out.push_str("<hash>");
            rest = &rest[n..];
        }
    }
    out.push_str(rest);
    out
}

// ------------------------------------------------------------------------ diff

#[test]
fn the_vault_diff_is_automatic_and_accepted() {
    let env = Env::new();
    let out = env.tel(&[
        "schema",
        "diff",
        &fixture("valid/schema_v1.tel"),
        &fixture("valid/schema_v2.tel"),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    expect![[r#"
        vault::Vault #<hash> -> vault::Vault #<hash>

        change               path            old   new      stored state
        remove-unused-field  legacy_flag     Bool  -        dropped
        add-optional-field   note            -     String?  gets None
        add-default-field    risk_tolerance  -     Int = 5  gets 5

        verdict: automatic (3 changes, stored state evolves without a migration)
        accepted (no tel.toml: every change class allowed)
    "#]]
    .assert_eq(&env.shown(&out.stdout));
    assert_eq!(out.stderr, "");

    let out = env.tel(&[
        "schema",
        "diff",
        "--json",
        &fixture("valid/schema_v1.tel"),
        &fixture("valid/schema_v2.tel"),
    ]);
    assert_eq!(out.code, 0);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "automatic");
    assert_eq!(v["accepted"], true);
    assert_eq!(v["old"]["name"], "vault::Vault");
    assert_eq!(v["old"]["hash"].as_str().unwrap().len(), 52);
    assert_eq!(v["violations"], json!([]));
    assert_eq!(
        v["changes"][0],
        json!({"path": "legacy_flag", "field": "legacy_flag", "class": "remove-unused-field",
               "automatic": true, "old": "Bool", "new": null, "state": "dropped"})
    );
}

#[test]
fn changes_outside_the_rules_are_refused_naming_the_rule() {
    let env = Env::new();
    let out =
        env.tel(&["schema", "diff", &fixture("valid/schema_v1.tel"), &fixture("schema/strict")]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let shown = env.shown(&out.stdout);
    let tail = &shown[shown.find("verdict").unwrap()..];
    expect![[r#"
        verdict: automatic (3 changes, stored state evolves without a migration)
        refused ($REPO/fixtures/schema/strict/tel.toml, allowed: add-optional-field):
          `legacy_flag`: remove-unused-field is not allowed by [schema.evolution] allowed in $REPO/fixtures/schema/strict/tel.toml (allowed: add-optional-field)
          `risk_tolerance`: add-default-field is not allowed by [schema.evolution] allowed in $REPO/fixtures/schema/strict/tel.toml (allowed: add-optional-field)
    "#]]
    .assert_eq(tail);

    let out = env.tel(&[
        "schema",
        "diff",
        "--json",
        &fixture("valid/schema_v1.tel"),
        &fixture("schema/strict/vault.tel"),
    ]);
    assert_eq!(out.code, 1);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["accepted"], false);
    assert_eq!(v["rules"]["allowed"], json!(["add-optional-field"]));
    let rules: Vec<(&str, &str)> = v["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["field"].as_str().unwrap(), x["rule"].as_str().unwrap()))
        .collect();
    assert_eq!(rules, [("legacy_flag", "not-allowed"), ("risk_tolerance", "not-allowed")]);
}

#[test]
fn removing_a_field_the_program_reads_needs_a_migration() {
    let env = Env::new();
    let out = env.tel(&[
        "schema",
        "diff",
        &fixture("schema/used/vault.tel"),
        &fixture("valid/schema_v2.tel"),
    ]);
    assert_eq!(out.code, 1);
    expect![[r#"
        vault::Vault #<hash> -> vault::Vault #<hash>

        change              path            old   new      stored state
        remove-used-field   legacy_flag     Bool  -        needs a migration (the program reads it)
                            read by vault::is_legacy
        add-optional-field  note            -     String?  gets None
        add-default-field   risk_tolerance  -     Int = 5  gets 5

        verdict: needs-migration (1 of 3 changes needs a migration function fn(Old) -> New)
        refused (no tel.toml: every change class allowed):
          `legacy_flag`: remove-used-field needs a migration function fn(#<hash>) -> #<hash>, and there is no tel.toml to list one in ([schema] migrations)
    "#]]
    .assert_eq(&env.shown(&out.stdout));
}

#[test]
fn versions_are_named_clearly_or_refused() {
    let env = Env::new();
    let quotes = fixture("schema/rename/quotes.tel");
    let out = env.tel(&["schema", "diff", &quotes, &quotes]);
    assert_eq!(out.code, 1);
    expect![[r#"
        error: $REPO/fixtures/schema/rename/quotes.tel: 2 schemas (quotes::QuoteV1, quotes::QuoteV2); name one: $REPO/fixtures/schema/rename/quotes.tel::QuoteV1
    "#]]
    .assert_eq(&env.shown(&out.stderr));
    let out = env.tel(&["schema", "diff", &format!("{quotes}::Nope"), &quotes]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("no schema named `Nope`"), "{}", out.stderr);
    let out = env.tel(&["schema", "diff", "missing.tel", &quotes]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stderr, "error: missing.tel: no such file or folder\n");
    // The same file on both sides: identical.
    let q1 = format!("{quotes}::QuoteV1");
    let out = env.tel(&["schema", "diff", &q1, &q1]);
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("verdict: identical"), "{}", out.stdout);
    // A hash without a codebase.
    let out = env.tel(&["schema", "diff", "#abcd1234", &quotes]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("there is no codebase to read it from"), "{}", out.stderr);
}

// ------------------------------------------------------------------------ migrate

#[test]
fn automatic_migration_writes_the_new_state_atomically_and_leaves_the_old_one() {
    let env = Env::new();
    let old = std::fs::read(fixture("schema/states/vault_v1.json")).unwrap();
    env.write("state.json", std::str::from_utf8(&old).unwrap());
    let before = std::fs::metadata(env.path("state.json")).unwrap().modified().unwrap();
    // An earlier output is replaced whole.
    env.write("new.json", "an older file, longer than what replaces it ....................................................................................................................................................");
    let out = env.tel(&[
        "schema",
        "migrate",
        "--from",
        &fixture("valid/schema_v1.tel"),
        "--to",
        &fixture("valid/schema_v2.tel"),
        "--state",
        "state.json",
        "--out",
        "new.json",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    expect![[r#"
        state.json (vault::Vault #<hash>) migrated to vault::Vault #<hash> (3 automatic change(s)): new.json
    "#]]
    .assert_eq(&env.shown(&out.stderr));
    assert_eq!(
        env.read("new.json"),
        std::fs::read_to_string(fixture("schema/states/vault_v2.json")).unwrap()
    );
    assert_eq!(std::fs::read(env.path("state.json")).unwrap(), old);
    assert_eq!(std::fs::metadata(env.path("state.json")).unwrap().modified().unwrap(), before);
    assert_eq!(env.listing(), ["new.json", "state.json"], "no temporary file is left");

    // Without --out, the new state goes to standard output.
    let out = env.tel(&[
        "schema",
        "migrate",
        "--from",
        &fixture("schema/orders/v1.tel"),
        "--to",
        &fixture("schema/orders/v2.tel"),
        "--state",
        &fixture("schema/states/book_v1.json"),
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, std::fs::read_to_string(fixture("schema/states/book_v2.json")).unwrap());
}

#[test]
fn state_not_matching_the_old_version_is_refused_with_the_first_mismatch() {
    let env = Env::new();
    env.write("new.json", "kept");
    let out = env.tel(&[
        "schema",
        "migrate",
        "--from",
        &fixture("schema/orders/v1.tel"),
        "--to",
        &fixture("schema/orders/v2.tel"),
        "--state",
        &fixture("schema/states/book_v1_mismatch.json"),
        "--out",
        "new.json",
    ]);
    assert_eq!(out.code, 1);
    expect![[r#"
        error: $REPO/fixtures/schema/states/book_v1_mismatch.json does not match book::Book #<hash>: $.orders[3].price: expected an integer (64-bit), found a string
    "#]]
    .assert_eq(&env.shown(&out.stderr));
    assert_eq!(env.read("new.json"), "kept", "a refused migration writes nothing");
    assert_eq!(env.listing(), ["new.json"]);

    env.write("broken.json", "{ \"owner\": ");
    let out = env.tel(&[
        "schema",
        "migrate",
        "--from",
        &fixture("valid/schema_v1.tel"),
        "--to",
        &fixture("valid/schema_v2.tel"),
        "--state",
        "broken.json",
    ]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.starts_with("error: broken.json: not JSON: EOF while parsing"),
        "{}",
        out.stderr
    );
}

#[test]
fn the_old_state_file_is_never_the_output_and_bad_paths_are_usage_errors() {
    let env = Env::new();
    env.write(
        "state.json",
        &std::fs::read_to_string(fixture("schema/states/vault_v1.json")).unwrap(),
    );
    let args = |out: &'static str| -> Vec<String> {
        [
            "schema",
            "migrate",
            "--from",
            &fixture("valid/schema_v1.tel"),
            "--to",
            &fixture("valid/schema_v2.tel"),
            "--state",
            "state.json",
            "--out",
            out,
        ]
        .map(String::from)
        .to_vec()
    };
    let run = |a: Vec<String>| env.tel(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let out = run(args("./state.json"));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("is the state file itself: the old state is never modified"),
        "{}",
        out.stderr
    );
    assert_eq!(
        env.read("state.json"),
        std::fs::read_to_string(fixture("schema/states/vault_v1.json")).unwrap()
    );
    let out = run(args("no/such/folder/new.json"));
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.starts_with("error: cannot write no/such/folder/new.json: "),
        "{}",
        out.stderr
    );
    let out =
        env.tel(&["schema", "migrate", "--from", "a.tel", "--to", "b.tel", "--state", "none.json"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.starts_with("error: none.json: cannot read: "), "{}", out.stderr);
}

#[test]
fn a_migration_refused_by_the_rules_writes_nothing() {
    let env = Env::new();
    let out = env.tel(&[
        "schema",
        "migrate",
        "--from",
        &fixture("valid/schema_v1.tel"),
        "--to",
        &fixture("schema/strict"),
        "--state",
        &fixture("schema/states/vault_v1.json"),
        "--out",
        "new.json",
    ]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains(
            "is refused ($REPO/fixtures/schema/strict/tel.toml, allowed: add-optional-field):"
                .replace("$REPO", &repo().display().to_string())
                .as_str()
        ),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("`legacy_flag`: remove-unused-field is not allowed"),
        "{}",
        out.stderr
    );
    assert_eq!(env.listing(), Vec::<String>::new());
}

/// A project holding both quote versions, with `up` and `down` listed as migrations.
fn quotes_project() -> Env {
    let env = Env::new();
    env.write("quotes.tel", &std::fs::read_to_string(fixture("schema/rename/quotes.tel")).unwrap());
    env.write("tel.toml", "[program]\nname = \"quotes\"\nversion = \"0.2.0\"\n");
    let up = env.hash_of("quotes.tel", "up");
    let down = env.hash_of("quotes.tel", "down");
    env.write(
        "tel.toml",
        &format!(
            "[program]\nname = \"quotes\"\nversion = \"0.2.0\"\nschema = \"quotes::QuoteV2\"\n\n\
             [schema]\nmigrations = [\"#{}\", \"#{}\"]\n",
            &up[..10],
            &down[..10]
        ),
    );
    env
}

#[test]
fn migration_functions_from_tel_toml_run_in_the_sandbox_both_ways() {
    let env = quotes_project();
    env.write("q1.json", &std::fs::read_to_string(fixture("schema/states/quote_v1.json")).unwrap());
    let out = env.tel(&["schema", "diff", "quotes.tel::QuoteV1", "quotes.tel::QuoteV2"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    let shown = env.shown(&out.stdout);
    assert!(
        shown.contains("migration: quotes::up #<hash> covers the changes that need one"),
        "{shown}"
    );
    assert!(shown.ends_with("accepted (tel.toml: every change class allowed)\n"), "{shown}");

    let up = ["schema", "migrate", "--from", "quotes.tel::QuoteV1", "--to", "quotes.tel::QuoteV2"];
    let out = env.tel(&[&up[..], &["--state", "q1.json", "--out", "q2.json"]].concat());
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(env.shown(&out.stderr).contains("(by quotes::up #<hash>)"), "{}", out.stderr);
    let q2: Value = serde_json::from_str(&env.read("q2.json")).unwrap();
    assert_eq!(q2, json!({"asset": "ETH", "cost": 3100, "tier": "legacy"}));

    let down =
        ["schema", "migrate", "--from", "quotes.tel::QuoteV2", "--to", "quotes.tel::QuoteV1"];
    let out = env.tel(&[&down[..], &["--state", "q2.json", "--out", "back.json"]].concat());
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(env.read("back.json"), env.read("q1.json"), "down(up(q)) == q");
}

#[test]
fn a_bad_tel_toml_is_refused_with_its_place() {
    let env = quotes_project();
    env.write("tel.toml", "[program]\nname = \"quotes\"\nversion = \"0.2.0\"\n[schema.evolution]\nallowed = [\"add-anything\"]\n");
    let out = env.tel(&["schema", "diff", "quotes.tel::QuoteV1", "quotes.tel::QuoteV2"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.starts_with(
            "error: tel.toml:5:12: [schema.evolution] allowed: `add-anything` is not a change class"
        ),
        "{}",
        out.stderr
    );
    env.write("tel.toml", "[program]\nname = \"quotes\"\nversion = \"0.2.0\"\n[schema]\nmigrations = [\"#vvvvvvvv\"]\n");
    let out = env.tel(&["schema", "diff", "quotes.tel::QuoteV1", "quotes.tel::QuoteV2"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("tel.toml:5:15: #vvvvvvvv is not a definition of the program"),
        "{}",
        out.stderr
    );
}

// ------------------------------------------------------------------------ the codebase

#[test]
fn a_version_kept_in_the_codebase_is_named_by_hash() {
    let env = Env::new();
    let codebase = env.path("cb.sqlite");
    let with = [("TEL_CODEBASE", codebase.as_path())];
    env.write("v1.tel", &std::fs::read_to_string(fixture("schema/used/vault.tel")).unwrap());
    let out = env.tel_with(&["store", "add", "v1.tel"], &with);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let old = env.hash_of("v1.tel", "Vault");
    let out = env.tel_with(
        &["schema", "diff", &format!("#{}", &old[..8]), &fixture("valid/schema_v2.tel")],
        &with,
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    // The stored program's functions count: `is_legacy` depends on the old version.
    assert!(out.stdout.contains("read by vault::is_legacy"), "{}", out.stdout);
    assert!(out.stdout.starts_with("vault::Vault #"), "{}", out.stdout);

    let out =
        env.tel_with(&["schema", "diff", "#vvvvvvvv", &fixture("valid/schema_v2.tel")], &with);
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "error: no definition matches #vvvvvvvv\n");
    let is_legacy = env.hash_of("v1.tel", "is_legacy");
    let out = env.tel_with(
        &["schema", "diff", &format!("#{}", &is_legacy[..8]), &fixture("valid/schema_v2.tel")],
        &with,
    );
    assert_eq!(out.code, 1);
    assert!(out.stderr.ends_with("vault::is_legacy is a fn, not a schema\n"), "{}", out.stderr);
}

#[test]
fn build_keeps_a_content_addressed_artifact_and_finds_compatible_versions() {
    let env = Env::new();
    for m in ["fees", "main", "oracle", "orders", "state", "tel.toml"] {
        let name = if m == "tel.toml" { m.to_owned() } else { format!("{m}.tel") };
        let text = std::fs::read_to_string(fixture(&format!("projects/exchange/{name}"))).unwrap();
        env.write(&name, &text);
    }
    let out = env.tel(&["build"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let first = out.stdout.trim().to_owned();
    assert!(first.starts_with('#') && first.len() == 53, "{first}");
    expect![[r#"
        exchange 0.1.0: 20 definitions and the artifact kept in $DIR/.tel/codebase.sqlite
    "#]]
    .assert_eq(&env.shown(&out.stderr));
    // Built again: the same artifact.
    let out = env.tel(&["build", "--json"]);
    assert_eq!(out.code, 0);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(format!("#{}", v["hash"].as_str().unwrap()), first);
    assert_eq!(v["new"], false);
    assert_eq!(v["manifest"]["program"]["name"], "exchange");
    assert_eq!(v["manifest"]["schema"]["name"], "state::Book");
    assert_eq!(v["manifest"]["evolution"]["allowed"].as_array().unwrap().len(), 9);
    let old_schema = v["manifest"]["schema"]["hash"].as_str().unwrap().to_owned();

    // Version 0.2.0 adds an optional field: the 0.1.0 state upgrades automatically.
    let state = env
        .read("state.tel")
        .replace(
            "    venue: String = \"tel-dex\",\n",
            "    venue: String = \"tel-dex\",\n    memo: String?,\n",
        )
        .replace("venue: \"tel-dex\" }", "venue: \"tel-dex\", memo: None }")
        .replace(
            "            venue: b.venue,\n",
            "            venue: b.venue,\n            memo: b.memo,\n",
        );
    env.write("state.tel", &state);
    env.write("tel.toml", &env.read("tel.toml").replace("0.1.0", "0.2.0"));
    let out = env.tel(&["build", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["new"], true);
    assert_eq!(v["manifest"]["compatible"], json!([{"schema": old_schema, "migration": null}]));
    assert_ne!(format!("#{}", v["hash"].as_str().unwrap()), first);
    // The old version is in the codebase: diff against it by hash.
    let out = env.tel(&["schema", "diff", &format!("#{}", &old_schema[..8]), "."]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("add-optional-field  memo"), "{}", out.stdout);
}

#[test]
fn build_refuses_what_is_not_a_buildable_program() {
    let env = Env::new();
    let out = env.tel(&["build"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("no tel.toml here or in any parent folder"), "{}", out.stderr);

    env.write("tel.toml", "[program]\nname = \"lib\"\nversion = \"0.1.0\"\n");
    env.write("lib.tel", "module lib\npub fn one() -> Int { 1 }\n");
    let out = env.tel(&["build"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("no function main in module main"), "{}", out.stderr);

    env.write("main.tel", "module main\nfn main() -> Int { 1 }\n");
    env.write(
        "tel.toml",
        "[program]\nname = \"lib\"\nversion = \"0.1.0\"\nschema = \"lib::Nope\"\n",
    );
    let out = env.tel(&["build"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("[program] schema `lib::Nope` names no schema of the project"),
        "{}",
        out.stderr
    );

    env.write(
        "tel.toml",
        "[program]\nname = \"lib\"\nversion = \"0.1.0\"\nsafe-state = \"maybe\"\n",
    );
    let out = env.tel(&["build"]);
    assert_eq!(out.code, 1);
    assert!(
        env.shown(&out.stderr).contains("tel.toml:4:14: [program] safe-state `maybe`"),
        "{}",
        out.stderr
    );
}

// ------------------------------------------------------------------------ upgrade

/// A copy of fixtures/schema/upgrade (the running Vault program, version 1 of its schema)
/// with `toml` added to its tel.toml's `[program]`, and a codebase for its sessions.
fn running_vault(program: &str, safe_state: &str) -> Env {
    let env = Env::new();
    for f in ["vault.tel", "host.json"] {
        let text = std::fs::read_to_string(repo().join("fixtures/schema/upgrade").join(f)).unwrap();
        env.write(f, &text);
    }
    env.write(
        "tel.toml",
        &format!(
            "[program]\nname = \"vault\"\nversion = \"0.1.0\"\nschema = \"vault::Vault\"\n{program}\n{safe_state}\n"
        ),
    );
    env
}

impl Env {
    fn codebase(&self) -> PathBuf {
        self.path("codebase.sqlite")
    }

    /// Runs `tel debug .` (resuming `resume`) with `script` then `save`: the paused run
    /// kept in the codebase. Returns the session id.
    fn pause(&self, resume: Option<&str>, script: &str) -> String {
        use std::io::Write;
        let mut cmd = support::command(self.dir.path(), &["debug", ".", "--host", "host.json"]);
        if let Some(id) = resume {
            cmd.args(["--resume", id]);
        }
        let mut child = cmd
            .env("TEL_CODEBASE", self.codebase())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let script = format!("{script}\nsave\nquit\n");
        child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(0), "{text}{}", String::from_utf8_lossy(&out.stderr));
        text.lines()
            .find_map(|l| l.strip_prefix("session "))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_else(|| panic!("no session kept:\n{text}"))
            .to_owned()
    }

    fn upgrade(&self, id: &str, args: &[&str]) -> Out {
        let v2 = fixture("valid/schema_v2.tel");
        let mut all = vec!["schema", "upgrade", &id[..6], "--to", v2.as_str()];
        all.extend_from_slice(args);
        let codebase = self.codebase();
        let out = self.tel_with(&all, &[("TEL_CODEBASE", codebase.as_path())]);
        Out { stderr: self.shown(&out.stderr.replace(id, "ID").replace(&id[..8], "ID")), ..out }
    }
}

#[test]
fn a_run_paused_on_a_pending_effect_or_in_a_within_is_refused_with_the_explanation() {
    let env = running_vault("safe-state = \"no-in-flight-operations\"", "");
    // Right before the host answers Observe("ETH/USD").
    let id = env.pause(None, "effect Observe 1");
    let out = env.upgrade(&id, &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    expect![[r#"
        session ID (vault::main) at position 1 of 23, now 0 ms on the run's clock; safe-state no-in-flight-operations (./tel.toml)
          pending: Observe("ETH/USD"), performed at 0 ms in vault::main (vault.tel:22:15) at position 1, is waiting for its answer (the recording answers it at 0 ms)
        refused: the run is not in its safe state (no-in-flight-operations) and tel.toml sets no [safe-state] timeout to wait for it
    "#]]
    .assert_eq(&out.stderr);

    // Inside the `within`, its Observe answered: the open block alone blocks.
    env.pause(Some(&id), "effect Observe 2\nstepi");
    let out = env.upgrade(&id, &["--json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let j: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(j["position"], 9);
    assert_eq!(j["decision"]["decision"], "refuse");
    assert_eq!(
        j["decision"]["blockers"],
        json!([{"kind": "open-within", "opened_ms": 0, "deadline_ms": 60000}])
    );
    assert_eq!(j["within"][0]["place"]["function"], "vault::main");
    assert!(j["within"][0]["opened_at"].as_u64().unwrap() < 9, "{j}");
    assert_eq!(j["upgrade"], Value::Null);
    // The weaker strategy does not look at `within` blocks: the same place is safe for it.
    let weaker = running_vault("safe-state = \"no-pending-returns\"", "");
    std::fs::copy(env.codebase(), weaker.codebase()).unwrap();
    let out = weaker.upgrade(&id, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("safe: the run is in its safe state (no-pending-returns)"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_pending_call_younger_than_the_timeout_waits() {
    let env =
        running_vault("safe-state = \"no-pending-returns\"", "[safe-state]\ntimeout = \"15min\"");
    let id = env.pause(None, "effect Observe 2");
    let out = env
        .upgrade(&id, &["--state", &fixture("schema/states/vault_v1.json"), "--out", "new.json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    expect![[r#"
        session ID (vault::main) at position 8 of 23, now 0 ms on the run's clock; safe-state no-pending-returns (./tel.toml)
          pending: Observe("BTC/USD"), performed at 0 ms in vault::main (vault.tel:25:17) at position 8, is waiting for its answer (the recording answers it at 0 ms)
        wait: the run is not in its safe state (no-pending-returns); [safe-state] timeout (900000 ms) leaves 900000 ms on the run's clock before its degraded state is used
    "#]]
    .assert_eq(&out.stderr);
    assert!(!env.path("new.json").exists());
}

#[test]
fn a_run_paused_at_a_safe_point_upgrades_its_state() {
    let env = running_vault("safe-state = \"no-in-flight-operations\"", "");
    // After Log("priced") was answered, before the `within`.
    let id = env.pause(None, "effect Log 1\nstepi");
    let old = fixture("schema/states/vault_v1.json");
    let before = std::fs::read_to_string(&old).unwrap();
    let out = env.upgrade(&id, &["--state", &old, "--out", "new.json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let run = out.stderr.lines().find_map(|l| l.strip_prefix("run ")).unwrap_or_default();
    let run = run.split_whitespace().next().unwrap_or_default().to_owned();
    expect![[r#"
        session ID (vault::main) at position 4 of 23, now 0 ms on the run's clock; safe-state no-in-flight-operations (./tel.toml)
        safe: the run is in its safe state (no-in-flight-operations)
        $REPO/fixtures/schema/states/vault_v1.json (vault::Vault #<hash>) migrated to vault::Vault #<hash> (3 automatic change(s)): new.json
        upgrade: vault::Vault #<hash> -> vault::Vault #<hash> (automatic): state migrated, 3 automatic change(s)
        run RUN kept in the codebase: the run up to position 4, then the upgrade
    "#]]
    .assert_eq(&out.stderr.replace(&format!("run {run} "), "run RUN "));
    assert_eq!(
        env.read("new.json"),
        std::fs::read_to_string(fixture("schema/states/vault_v2.json")).unwrap()
    );
    assert_eq!(std::fs::read_to_string(&old).unwrap(), before);
}

#[test]
fn a_pending_call_past_the_timeout_moves_the_run_to_its_degraded_state_then_upgrades() {
    // Without a degraded state the timeout only ends in a refusal.
    let env =
        running_vault("safe-state = \"no-pending-returns\"", "[safe-state]\ntimeout = \"15min\"");
    let id = env.pause(None, "effect Sleep 1");
    let out = env.upgrade(&id, &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(
            "within the 900000 ms timeout, and tel.toml declares no [safe-state] degraded state"
        ),
        "{}",
        out.stderr
    );

    let frozen = env.hash_of("vault.tel", "frozen");
    env.write(
        "tel.toml",
        &format!(
            "[program]\nname = \"vault\"\nversion = \"0.1.0\"\nschema = \"vault::Vault\"\nsafe-state = \"no-pending-returns\"\n[safe-state]\ntimeout = \"15min\"\ndegraded = \"#{}\"\n",
            &frozen[..10]
        ),
    );
    let out = env.upgrade(
        &id,
        &["--state", &fixture("schema/states/vault_v1.json"), "--out", "new.json", "--json"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let j: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(j["position"], 14);
    assert_eq!(j["clock_ms"], 3_600_000, "the recording answers the Sleep an hour later");
    assert_eq!(j["pending"][0]["effect"], "Sleep(1h)");
    let d = &j["decision"];
    assert_eq!(
        (d["decision"].as_str(), d["waited_ms"].as_u64(), d["timeout_ms"].as_u64()),
        (Some("degrade"), Some(3_600_000), Some(900_000))
    );
    assert_eq!(j["upgrade"]["degraded"]["name"], "vault::frozen");
    assert_eq!(j["upgrade"]["degraded"]["hash"], frozen);
    assert_eq!(j["upgrade"]["migrated"], "3 automatic change(s)");
    let note = j["notes"][0].as_str().unwrap();
    assert!(note.starts_with("degraded: timeout 900000 ms passed after 3600000 ms"), "{note}");
    assert!(note.contains("Sleep(1h), performed at 0 ms, is waiting for its answer"), "{note}");
    // The degraded state (no trusted price), then version 2.
    let new: Value = serde_json::from_str(&env.read("new.json")).unwrap();
    let mut want: Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("schema/states/vault_v2.json")).unwrap(),
    )
    .unwrap();
    want["last_price"] = json!(0);
    assert_eq!(new, want);

    // The upgraded run is kept: the run up to the Sleep, the move to the degraded state, the
    // upgrade; and it replays.
    let run = j["upgrade"]["run"].as_str().expect("the upgraded run's id").to_owned();
    let codebase = env.codebase();
    let with = [("TEL_CODEBASE", codebase.as_path())];
    let shown = env.tel_with(&["trace", "show", &run, "--json"], &with);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let t: Value = serde_json::from_str(&shown.stdout).unwrap();
    let events = t["events"].as_array().expect("events");
    let n = events.len();
    assert_eq!(events[n - 2]["kind"], "degraded", "{t}");
    assert_eq!(
        (events[n - 2]["waited_ms"].as_i64(), events[n - 2]["timeout_ms"].as_i64()),
        (Some(3_600_000), Some(900_000))
    );
    assert_eq!(events[n - 2]["function"], frozen);
    assert!(events[n - 2]["abandoned"][0].as_str().unwrap().contains("Sleep(1h)"), "{t}");
    assert_eq!(events[n - 1]["kind"], "upgraded");
    assert_eq!(events[n - 1]["fuel"], 14);
    assert_eq!(events[n - 1]["strategy"], "no-pending-returns");
    assert_ne!(events[n - 1]["from"], events[n - 1]["to"]);
    let replayed = env.tel_with(&["replay", &run], &with);
    assert_eq!(replayed.code, 0, "{}{}", replayed.stdout, replayed.stderr);
    assert!(
        format!("{}{}", replayed.stdout, replayed.stderr).contains("identical"),
        "{}{}",
        replayed.stdout,
        replayed.stderr
    );
    let list = env.tel_with(&["trace", "list", "--json"], &with);
    assert!(list.stdout.contains("\"upgraded\""), "{}", list.stdout);
}

#[test]
fn under_the_default_strategy_only_a_finished_run_is_safe() {
    // No safe-state in tel.toml: no-active-operators.
    let env = running_vault("", "");
    let id = env.pause(None, "effect Log 1\nstepi");
    let out = env.upgrade(&id, &["--json"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let j: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(j["strategy"], "no-active-operators");
    assert_eq!(
        j["decision"]["blockers"],
        json!([{"kind": "active-run", "since_ms": 0, "frames": 1, "handlers": 0}])
    );
    // At the end of the run nothing is pending, open or running.
    env.pause(Some(&id), "continue");
    let out = env.upgrade(&id, &["--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let j: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!((j["position"].as_u64(), j["run"]["finished"].as_bool()), (Some(23), Some(true)));
    assert_eq!(j["decision"], json!({"decision": "upgrade"}));
    assert_eq!(j["upgrade"]["verdict"], "automatic");
    assert_eq!(j["upgrade"]["migrated"], Value::Null, "no --state: nothing migrated");
}

#[test]
fn sessions_that_are_not_there_are_refused_or_usage_errors() {
    let env = running_vault("", "");
    let v2 = fixture("valid/schema_v2.tel");
    // No codebase at all.
    let out = env.tel(&["schema", "upgrade", "abcd1234", "--to", &v2]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("there is no codebase to read it from"), "{}", out.stderr);
    let id = env.pause(None, "effect Log 1");
    let codebase = env.codebase();
    let with = [("TEL_CODEBASE", codebase.as_path())];
    let other = if id.starts_with('0') { "1111" } else { "0000" };
    let out = env.tel_with(&["schema", "upgrade", other, "--to", &v2], &with);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("no debug session 0000")
            || out.stderr.contains("no debug session 1111"),
        "{}",
        out.stderr
    );
    let out = env.tel_with(&["schema", "upgrade", "xyz!", "--to", &v2], &with);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("invalid session id `xyz!`"), "{}", out.stderr);
    // --out needs --state.
    let out = env.tel_with(&["schema", "upgrade", &id[..6], "--to", &v2, "--out", "x.json"], &with);
    assert_eq!(out.code, 2, "{}", out.stderr);
}
