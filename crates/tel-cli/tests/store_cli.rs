//! `tel store …` end to end, through the real binary: a temporary folder per test, with
//! `TEL_CODEBASE` pointing into it.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use expect_test::expect;
use serde_json::Value;
use support::{Env, Out, repo};

impl Env {
    /// Where `TEL_CODEBASE` points.
    fn codebase(&self) -> PathBuf {
        self.path("cb/codebase.sqlite")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = support::command(self.dir.path(), args);
        cmd.env("TEL_CODEBASE", self.codebase());
        cmd
    }

    fn tel(&self, args: &[&str]) -> Out {
        Out::of(&mut self.command(args))
    }

    /// Runs a command that must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.tel(args);
        assert_eq!(out.code, 0, "tel {args:?}\n{}{}", out.stdout, out.stderr);
        out.stdout
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// Replaces the temporary folder by `$DIR` and event times by `<time>`.
    fn shown(&self, text: &str) -> String {
        let text = text.replace(&self.dir.path().display().to_string(), "$DIR");
        mask_times(&text)
    }
}

/// `2026-11-22 04:35:00Z` → `<time>`.
fn mask_times(text: &str) -> String {
    let bytes = text.as_bytes();
    let pattern = b"dddd-dd-dd dd:dd:ddZ";
    let mut out = String::new();
    let mut i = 0;
    while i < text.len() {
        let window = bytes.get(i..i + pattern.len());
        let is_time = window.is_some_and(|w| {
            w.iter().zip(pattern).all(|(c, p)| if *p == b'd' { c.is_ascii_digit() } else { c == p })
        });
        if is_time {
            out.push_str("<time>");
            i += pattern.len();
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

const SHOP: &str = r#"module shop

/// A priced item.
type Item = { name: String, price: Int }

enum Verdict { Cheap(Int), Dear }

/// What an item costs with tax.
pub fn with_tax(item: Item) -> Int {
    item.price + item.price / 10
}

pub fn judge(item: Item) -> Verdict ! {Log} {
    perform Log("judging " ++ item.name);
    if with_tax(item) < 100 { Cheap(with_tax(item)) } else { Dear }
}
"#;

fn stats(env: &Env) -> Value {
    env.json(&["store", "stats"])
}

#[test]
fn add_reports_new_then_unchanged_then_updated() {
    let env = Env::new();
    let shop = env.write("shop.tel", SHOP);
    let shop = shop.to_str().unwrap();
    let out = env.tel(&["store", "add", shop]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    expect![[r#"
        Added 5 new, updated 0, unchanged 0
        #drm2el1h shop::Item (new)
        #98tdtlen shop::Verdict (new)
        #7ajt4gqm shop::with_tax (new)
        #a2mba8c9 shop::judge (new)
        #fii3a58d prelude::Log (new)
    "#]]
    .assert_eq(&out.stdout);
    expect!["storing 5 definitions in $DIR/cb/codebase.sqlite\n"]
        .assert_eq(&env.shown(&out.stderr));

    // Every hash is the one `tel hash` shows.
    let hashes = env.json(&["hash", shop]);
    let listed = env.json(&["store", "list"]);
    for def in hashes.as_array().unwrap() {
        let name = format!("shop::{}", def["name"].as_str().unwrap());
        let entry = listed["names"].as_array().unwrap().iter().find(|n| n["name"] == *name);
        assert_eq!(entry.unwrap()["hash"], def["hash"], "{name}");
    }

    expect![[r#"
        Added 0 new, updated 0, unchanged 5
        #drm2el1h shop::Item (unchanged)
        #98tdtlen shop::Verdict (unchanged)
        #7ajt4gqm shop::with_tax (unchanged)
        #a2mba8c9 shop::judge (unchanged)
        #fii3a58d prelude::Log (unchanged)
    "#]]
    .assert_eq(&env.ok(&["store", "add", shop]));

    // A new tax rate: `with_tax` changes, and so does `judge`, which calls it.
    env.write("shop.tel", &SHOP.replace("item.price / 10", "item.price / 5"));
    let report = env.json(&["store", "add", shop]);
    let count = |k: &str| report[k].as_u64().unwrap();
    assert_eq!((count("new"), count("updated"), count("unchanged")), (0, 2, 3));
    let outcomes: Vec<String> = report["definitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{} {}", d["name"].as_str().unwrap(), d["outcome"].as_str().unwrap()))
        .collect();
    expect![[r#"
        [
            "shop::Item unchanged",
            "shop::Verdict unchanged",
            "shop::with_tax updated",
            "shop::judge updated",
            "prelude::Log unchanged",
        ]
    "#]]
    .assert_debug_eq(&outcomes);
    // The old versions stay, under no name; the names moved, and history says so.
    let s = stats(&env);
    assert_eq!((s["definitions"].as_u64(), s["names"].as_u64()), (Some(7), Some(5)));
    expect![[r#"
        <time>  update  shop::judge #a2mba8c9 -> #qeeqnm84  [tel store add $DIR/shop.tel]
        <time>  bind    shop::judge #a2mba8c9  [tel store add $DIR/shop.tel]
    "#]]
    .assert_eq(&env.shown(&env.ok(&["store", "history", "shop::judge"])));
}

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(repo().join("fixtures").join(rel)).unwrap()
}

#[test]
fn files_with_errors_are_refused_and_nothing_is_written() {
    let env = Env::new();
    let shop = env.write("shop.tel", SHOP);
    let shop = shop.to_str().unwrap();
    let broken = env.write("broken.tel", &fixture("broken/type_mismatches.tel"));
    let broken = broken.to_str().unwrap();

    // Refused before a codebase exists: none is created.
    let out = env.tel(&["store", "add", shop, broken]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    expect![[r#"
        error: nothing was added, because files have errors:
        $DIR/broken.tel: 3 error(s); see `tel check $DIR/broken.tel`
    "#]]
    .assert_eq(&env.shown(&out.stderr));
    assert!(!env.codebase().exists());

    // Refused next to a codebase: it stays as it was.
    env.ok(&["store", "add", shop]);
    let (stats_before, log_before) = (stats(&env), env.json(&["store", "log"]));
    env.write("shop.tel", &SHOP.replace("item.price / 10", "item.price / 2"));
    let out = env.tel(&["store", "add", shop, broken]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(stats(&env), stats_before);
    assert_eq!(env.json(&["store", "log"]), log_before);

    // A clean file whose dependency, in another module of its project, has errors.
    env.write("proj/tel.toml", tel_testgen::TEL_TOML);
    env.write("proj/rates.tel", "module rates\npub fn rate() -> Int { \"ten\" }\n");
    let user = env.write(
        "proj/user.tel",
        "module user\nuse rates::rate\npub fn twice() -> Int { rate() * 2 }\n",
    );
    let out = env.tel(&["store", "add", user.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    expect![[r#"
        error: nothing was added: user::twice cannot be hashed until these files have no errors:
        $DIR/proj/rates.tel: 1 error(s); see `tel check $DIR/proj/rates.tel`
    "#]]
    .assert_eq(&env.shown(&out.stderr));
    assert_eq!(stats(&env), stats_before);
}

#[test]
fn read_commands_show_text_and_json() {
    let env = Env::new();
    let shop = env.write("shop.tel", SHOP);
    env.ok(&["store", "add", shop.to_str().unwrap()]);

    let view = env.ok(&["store", "view", "shop::judge"]);
    expect![[r#"
        shop::judge (fn)
        hash        #a2mba8c9jhap9enho89hqljv4bvl32n5n1ljodg4qeej442o4pfg
        first seen  <time>
        canonical   367 bytes
        depends on
          #7ajt4gqm3973kcgnjnlh4a47o2apa15pip7sq07q1m0opuvnaq1g fn     shop::with_tax
          #98tdtlen1mujmv5echq1i26et57fujo30ss6s39or3rtn3de1v7g enum   shop::Verdict
          #drm2el1hvkgkhh0j14caif959eh5tt2jc3hcokpat2m8oe28uf60 type   shop::Item
          #fii3a58dkfopf2pk081jts0jltta88h9rmtfp48cnsrbjdg2pou0 effect prelude::Log

        pub fn judge(item: Item) -> Verdict ! {Log} {
            perform Log("judging " ++ item.name);
            if with_tax(item) < 100 { Cheap(with_tax(item)) } else { Dear }
        }
    "#]]
    .assert_eq(&env.shown(&view));
    let json = env.json(&["store", "view", "shop::judge"]);
    let hash = json["hash"].as_str().unwrap().to_owned();
    assert_eq!(hash.len(), 52);
    assert_eq!(json["kind"], "fn");
    assert_eq!(json["names"], serde_json::json!(["shop::judge"]));
    assert!(json["source"].as_str().unwrap().starts_with("pub fn judge(item: Item)"));
    let deps: Vec<&str> = json["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["names"][0].as_str().unwrap())
        .collect();
    assert_eq!(deps.len(), 4, "{deps:?}");
    for name in ["prelude::Log", "shop::Item", "shop::Verdict", "shop::with_tax"] {
        assert!(deps.contains(&name), "{name} in {deps:?}");
    }
    // By hash prefix: the same definition.
    assert_eq!(env.ok(&["store", "view", &format!("#{}", &hash[..6])]), view);

    expect![[r#"
        #drm2el1hvkgkhh0j14caif959eh5tt2jc3hcokpat2m8oe28uf60 type   shop::Item
        dependencies (0):
        dependents (2):
          #7ajt4gqm3973kcgnjnlh4a47o2apa15pip7sq07q1m0opuvnaq1g fn     shop::with_tax
          #a2mba8c9jhap9enho89hqljv4bvl32n5n1ljodg4qeej442o4pfg fn     shop::judge
        transitive dependents (2):
          #7ajt4gqm3973kcgnjnlh4a47o2apa15pip7sq07q1m0opuvnaq1g fn     shop::with_tax
          #a2mba8c9jhap9enho89hqljv4bvl32n5n1ljodg4qeej442o4pfg fn     shop::judge
    "#]]
    .assert_eq(&env.ok(&["store", "deps", "shop::Item"]));
    let deps = env.json(&["store", "deps", "shop::with_tax"]);
    assert_eq!(deps["definition"]["names"], serde_json::json!(["shop::with_tax"]));
    assert_eq!(deps["dependencies"].as_array().unwrap().len(), 1);
    assert_eq!(deps["dependents"][0]["names"], serde_json::json!(["shop::judge"]));
    assert_eq!(deps["transitive_dependents"].as_array().unwrap().len(), 1);

    expect![[r#"
        #fii3a58d effect prelude::Log
        #drm2el1h type   shop::Item
        #98tdtlen enum   shop::Verdict
        #a2mba8c9 fn     shop::judge
        #7ajt4gqm fn     shop::with_tax
    "#]]
    .assert_eq(&env.ok(&["store", "list"]));
    let list = env.json(&["store", "list"]);
    assert_eq!(list["names"].as_array().unwrap().len(), 5);
    assert_eq!(list["names"][0]["kind"], "effect");

    expect![[r#"
        #7ajt4gqm fn     shop::with_tax
    "#]]
    .assert_eq(&env.ok(&["store", "find", "TAX"]));
    assert_eq!(env.json(&["store", "find", "shop::"])["names"].as_array().unwrap().len(), 4);
    let none = env.tel(&["store", "find", "nothing_like_this"]);
    assert_eq!((none.code, none.stdout.as_str()), (1, ""));
    assert_eq!(none.stderr, "no name contains `nothing_like_this`\n");

    expect![[r#"
        <time>  bind    prelude::Log #fii3a58d  [tel store add $DIR/shop.tel]
        <time>  bind    shop::judge #a2mba8c9  [tel store add $DIR/shop.tel]
    "#]]
    .assert_eq(&env.shown(&env.ok(&["store", "log", "-n", "2"])));
    let log = env.json(&["store", "log"]);
    let events = log["events"].as_array().unwrap();
    assert_eq!(events.len(), 5);
    assert!(events.iter().all(|e| e["action"] == "bind"));
    assert!(events[0]["seq"].as_i64() > events[4]["seq"].as_i64(), "newest first");

    let text = env.shown(&env.ok(&["store", "stats"]));
    assert!(text.starts_with("codebase         $DIR/cb/codebase.sqlite\n"), "{text}");
    assert!(text.contains("\ndefinitions      5\nnames            5\n"), "{text}");
    let s = stats(&env);
    assert_eq!(s["history_events"], 5);
    assert_eq!(s["format_version"], tel_store::schema::CURRENT_VERSION);
    assert!(s["canonical_bytes"].as_u64().unwrap() > 0);
    assert!(s["source_bytes"].as_u64().unwrap() >= SHOP.len() as u64 / 2);
}

#[test]
fn missing_codebases_and_unknown_names_are_clear_errors() {
    let env = Env::new();
    for args in [
        &["store", "list"][..],
        &["store", "view", "shop::judge"],
        &["store", "deps", "#abcd"],
        &["store", "history", "x"],
        &["store", "find", "x"],
        &["store", "stats", "--json"],
        &["store", "log"],
        &["store", "rename", "a", "b"],
    ] {
        let out = env.tel(args);
        assert_eq!(out.code, 2, "{args:?}");
        assert_eq!(
            env.shown(&out.stderr),
            "error: no codebase at $DIR/cb/codebase.sqlite: `tel store add` creates it, or set \
             TEL_CODEBASE to an existing one\n",
            "{args:?}"
        );
    }
    assert!(!env.codebase().exists(), "a read command created the codebase");

    // Without TEL_CODEBASE the project's own codebase is used, and outside a project there
    // is none; `--codebase` names one anywhere.
    let shop = env.write("shop.tel", SHOP);
    let out = env.command(&["store", "list"]).env_remove("TEL_CODEBASE").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    expect![[r#"
        error: no tel.toml in $DIR or any parent directory: run tel inside a TEL project, or set TEL_CODEBASE to the codebase file to use
    "#]].assert_eq(&env.shown(&String::from_utf8(out.stderr).unwrap()));
    let elsewhere = env.path("elsewhere.sqlite");
    let elsewhere = elsewhere.to_str().unwrap();
    env.ok(&["store", "--codebase", elsewhere, "add", shop.to_str().unwrap()]);
    assert!(!env.codebase().exists());
    assert_eq!(
        env.json(&["store", "list", "--codebase", elsewhere])["names"].as_array().unwrap().len(),
        5
    );

    env.write("proj/tel.toml", tel_testgen::TEL_TOML);
    let in_proj = env.write("proj/sub/shop.tel", SHOP);
    let out = env
        .command(&["store", "add", in_proj.to_str().unwrap()])
        .env_remove("TEL_CODEBASE")
        .current_dir(env.path("proj/sub"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(env.path("proj/.tel/codebase.sqlite").is_file());

    // Not found and ambiguous are failures of the command (1), not of its use (2).
    env.ok(&["store", "add", shop.to_str().unwrap()]);
    let out = env.tel(&["store", "view", "shop::nope"]);
    assert_eq!(out.code, 1);
    expect![[r#"
        error: no definition named `shop::nope` (`tel store find` searches names)
    "#]]
    .assert_eq(&out.stderr);
    let out = env.tel(&["store", "deps", "#0000"]);
    assert_eq!(out.code, 1);
    expect![[r#"
        error: no definition matches #0000
    "#]]
    .assert_eq(&out.stderr);
    let out = env.tel(&["store", "history", "shop::nope"]);
    assert_eq!(out.code, 1);
    let out = env.tel(&["store", "view", "#zz"]);
    assert_eq!(out.code, 2);
    expect![[r#"
        error: invalid character 'z' at position 2 in `#zz`: base32hex digits are 0-9 and a-v (lowercase)
    "#]].assert_eq(&out.stderr);
}

#[test]
fn rename_moves_the_name_and_keeps_every_hash() {
    let env = Env::new();
    let shop = env.write("shop.tel", SHOP);
    let shop = shop.to_str().unwrap();
    env.ok(&["store", "add", shop]);
    let before = env.json(&["store", "list"]);
    let hash_before = env.json(&["hash", shop]);

    expect![[r#"
        Renamed shop::with_tax to pricing::gross (#7ajt4gqm)
    "#]]
    .assert_eq(&env.ok(&["store", "rename", "shop::with_tax", "pricing::gross"]));

    let after = env.json(&["store", "list"]);
    let hashes = |list: &Value| {
        let mut v: Vec<String> = list["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["hash"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(hashes(&before), hashes(&after));
    assert_eq!(env.json(&["hash", shop]), hash_before);
    let gross = env.json(&["store", "view", "pricing::gross"]);
    let with_tax = hash_before.as_array().unwrap().iter().find(|d| d["name"] == "with_tax");
    assert_eq!(gross["hash"], with_tax.unwrap()["hash"]);
    // The dependent still points at the same definition, now shown under its new name.
    let judge = env.json(&["store", "view", "shop::judge"]);
    assert!(
        judge["dependencies"].as_array().unwrap().iter().any(|d| d["names"][0] == "pricing::gross")
    );
    expect![[r#"
        <time>  rename  shop::with_tax -> pricing::gross (#7ajt4gqm)  [tel store rename shop::with_tax pricing::gross]
        <time>  bind    shop::with_tax #7ajt4gqm  [tel store add $DIR/shop.tel]
    "#]].assert_eq(&env.shown(&env.ok(&["store", "history", "pricing::gross"])));
    let history = env.json(&["store", "history", "pricing::gross"]);
    assert_eq!(history["events"][0]["action"], "rename");
    assert_eq!(history["events"][0]["old_name"], "shop::with_tax");

    let out = env.tel(&["store", "rename", "pricing::gross", "shop::judge"]);
    assert_eq!(out.code, 1);
    expect![[r#"
        error: cannot rename `pricing::gross` to `shop::judge`: `shop::judge` already names #a2mba8c9; pick another name
    "#]].assert_eq(&out.stderr);
    let out = env.tel(&["store", "rename", "shop::with_tax", "x"]);
    assert_eq!(out.code, 1);
    let out = env.tel(&["store", "rename", "pricing::gross", "not a name"]);
    assert_eq!(out.code, 2);
    assert_eq!(env.json(&["store", "list"]), after);

    // Adding the source again binds the old name afresh, next to the new one.
    let report = env.json(&["store", "add", shop]);
    assert_eq!((report["new"].as_u64(), report["unchanged"].as_u64()), (Some(1), Some(4)));
    assert_eq!(report["definitions"][2]["stored"], false);
}

#[test]
fn damaged_foreign_newer_and_read_only_codebases_are_named() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let shop = env.write("shop.tel", SHOP);
    let shop = shop.to_str().unwrap();
    let fail = |args: &[&str]| {
        let out = env.tel(args);
        assert_eq!(out.code, 2, "{args:?}: {}", out.stderr);
        env.shown(&out.stderr)
    };

    // Not SQLite at all: left untouched.
    let junk = "this is a shopping list, not a database\n".repeat(200);
    env.write("cb/codebase.sqlite", &junk);
    expect![[r#"
        error: $DIR/cb/codebase.sqlite is not a TEL codebase (not an SQLite database): move it away or set TEL_CODEBASE to another path
    "#]].assert_eq(&fail(&["store", "add", shop]));
    assert_eq!(fail(&["store", "list"]), fail(&["store", "add", shop]));
    assert_eq!(std::fs::read_to_string(env.codebase()).unwrap(), junk);

    // Someone else's SQLite file.
    let foreign = env.path("foreign.sqlite");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE recipes (name TEXT); INSERT INTO recipes VALUES ('soup');")
        .unwrap();
    let foreign = foreign.to_str().unwrap();
    expect![[r#"
        error: $DIR/foreign.sqlite is not a TEL codebase (an SQLite database without TEL tables): move it away or set TEL_CODEBASE to another path
    "#]].assert_eq(&fail(&["store", "--codebase", foreign, "add", shop]));

    // A codebase damaged inside: its pages overwritten after the header.
    std::fs::remove_file(env.codebase()).unwrap();
    env.ok(&["store", "add", shop]);
    {
        let conn = rusqlite::Connection::open(env.codebase()).unwrap();
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(())).unwrap();
    }
    let mut bytes = std::fs::read(env.codebase()).unwrap();
    let page = 4096.min(bytes.len() / 2);
    for b in &mut bytes[page..] {
        *b = 0xa5;
    }
    std::fs::write(env.codebase(), &bytes).unwrap();
    expect![[r#"
        error: $DIR/cb/codebase.sqlite is corrupt (database disk image is malformed): restore it from a backup, or move it away and `tel store add` your sources again
    "#]].assert_eq(&fail(&["store", "list"]));

    // A codebase from a newer tel.
    std::fs::remove_file(env.codebase()).unwrap();
    env.ok(&["store", "add", shop]);
    rusqlite::Connection::open(env.codebase())
        .unwrap()
        .execute(
            "INSERT INTO schema_version (version, name, applied_at) VALUES (99, 'future', 0)",
            [],
        )
        .unwrap();
    expect![[r#"
        error: $DIR/cb/codebase.sqlite was written by a newer tel (codebase format 99; this tel reads up to 5): upgrade tel
    "#]].assert_eq(&fail(&["store", "list"]));
    expect![[r#"
        error: $DIR/cb/codebase.sqlite was written by a newer tel (codebase format 99; this tel reads up to 5): upgrade tel
    "#]].assert_eq(&fail(&["store", "add", shop]));

    // A read-only folder. Root writes through permission bits, so run as `nobody` then.
    let chmod = |p: &Path, mode| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    chmod(env.dir.path(), 0o755);
    let ro = env.path("ro");
    std::fs::create_dir(&ro).unwrap();
    chmod(&ro, 0o555);
    let mut cmd = env.command(&["store", "add", shop]);
    cmd.env("TEL_CODEBASE", ro.join("codebase.sqlite"));
    if std::fs::metadata(env.dir.path()).map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap()
        == 0
    {
        use std::os::unix::process::CommandExt;
        cmd.uid(65534).gid(65534);
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    expect![[r#"
        error: $DIR/ro is read-only: cannot create or write the codebase $DIR/ro/codebase.sqlite; make it writable, or set TEL_CODEBASE to a file in a writable directory
    "#]].assert_eq(&env.shown(&String::from_utf8(out.stderr).unwrap()));
    assert!(!ro.join("codebase.sqlite").exists());
}

/// Two processes at once, one adding modules and one renaming: every process succeeds (none
/// fails with "database is locked"), and every write is there afterwards.
#[test]
fn concurrent_adds_and_renames_lose_nothing() {
    const MODULES: usize = 6;
    const RENAMES: usize = 12;
    let env = Env::new();
    let base: String = (0..RENAMES).map(|i| format!("pub fn f{i}() -> Int {{ {i} }}\n")).collect();
    let base = env.write("base.tel", &format!("module base\n{base}"));
    env.ok(&["store", "add", base.to_str().unwrap()]);
    let modules: Vec<PathBuf> = (0..MODULES)
        .map(|m| {
            let text = format!(
                "module m{m}\npub fn g(x: Int) -> Int {{ x * {m} + 1 }}\npub fn h() -> Int {{ g({m}) }}\n"
            );
            env.write(&format!("m{m}.tel"), &text)
        })
        .collect();

    let start = std::sync::Barrier::new(2);
    let check = |out: std::process::Output, what: String| {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("locked"), "{what}: {stderr}");
        assert!(out.status.success(), "{what}: {stderr}");
    };
    std::thread::scope(|s| {
        s.spawn(|| {
            start.wait();
            for m in &modules {
                let out = env.command(&["store", "add", m.to_str().unwrap()]).output().unwrap();
                check(out, format!("add {}", m.display()));
            }
        });
        s.spawn(|| {
            start.wait();
            for i in 0..RENAMES {
                let (old, new) = (format!("base::f{i}"), format!("renamed::f{i}"));
                let out = env.command(&["store", "rename", &old, &new]).output().unwrap();
                check(out, format!("rename {old}"));
            }
        });
    });

    let names: Vec<String> = env.json(&["store", "list"])["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .collect();
    let mut want: Vec<String> = (0..MODULES)
        .flat_map(|m| [format!("m{m}::g"), format!("m{m}::h")])
        .chain((0..RENAMES).map(|i| format!("renamed::f{i}")))
        .collect();
    want.sort();
    assert_eq!(names, want);
    let s = stats(&env);
    assert_eq!(s["history_events"], RENAMES * 2 + MODULES * 2);
    assert_eq!(s["definitions"], RENAMES + MODULES * 2);
}

fn count(conn: &rusqlite::Connection, sql: &str, params: impl rusqlite::Params) -> i64 {
    conn.query_row(sql, params, |r| r.get(0)).unwrap()
}

/// The current definition of `name`: its id and stored source.
fn current(conn: &rusqlite::Connection, name: &str) -> (i64, String) {
    conn.query_row(
        "SELECT d.id, d.source FROM names n JOIN definitions d ON d.id = n.definition
         WHERE n.name = ?1",
        [name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// `id` and every definition that depends on it, transitively: how many there are, and
/// how many names point at one of them.
fn reach_of(conn: &rusqlite::Connection, id: i64) -> (i64, i64) {
    let reach = "WITH RECURSIVE reach(id) AS (
             SELECT ?1
             UNION
             SELECT x.dependent FROM dependencies x JOIN reach ON x.dependency = reach.id
         )";
    (
        count(conn, &format!("{reach} SELECT count(*) FROM reach"), [id]),
        count(conn, &format!("{reach} SELECT count(*) FROM names WHERE definition IN reach"), [id]),
    )
}

/// `tel store add` of a generated project of about 2,000 definitions is SIGKILLed at
/// seeded moments while it writes. Each round rewrites the leaf every function's chain ends
/// in, so each add changes almost every definition. After each kill the file passes
/// `PRAGMA integrity_check`, no name points at a missing definition, and the round's batch is
/// wholly there or wholly absent: every name built on the leaf follows one version of it.
/// The last round runs to the end, and the codebase then holds exactly what it reported.
#[test]
fn sigkill_during_big_adds_leaves_whole_batches() {
    const MODULES: usize = 10;
    const FUNCTIONS_PER_MODULE: usize = 200;
    // Each round analyses the whole project again (seconds in a debug build): few rounds.
    const ROUNDS: u64 = 4;
    let env = Env::new();
    let proj = env.path("gen");
    tel_testgen::write_project(&proj, MODULES, FUNCTIONS_PER_MODULE).unwrap();
    let leaf_file = proj.join("gen_m0.tel");
    let original = std::fs::read_to_string(&leaf_file).unwrap();
    let leaf_body = "x % 97 + 1\n";
    assert_eq!(original.matches(leaf_body).count(), 1, "the generator's leaf changed");
    let proj_arg = proj.to_str().unwrap();
    let started = Instant::now();

    let first = env.json(&["store", "add", proj_arg]);
    let total = first["new"].as_i64().unwrap();
    assert!(total > (MODULES * FUNCTIONS_PER_MODULE) as i64, "{total}");
    // Identical definitions in several modules (each module's `Outcome`) are stored once.
    let (chain, named, mut definitions) = {
        let conn = rusqlite::Connection::open(env.codebase()).unwrap();
        let (chain, named) = reach_of(&conn, current(&conn, "gen_m0::base_rate").0);
        (chain, named, count(&conn, "SELECT count(*) FROM definitions", []))
    };
    assert!(chain > (MODULES * FUNCTIONS_PER_MODULE) as i64, "{chain}");

    let mut rng = tel_store::synthetic::Rng::new(0x5707_ec11);
    let (mut killed, mut committed) = (0, 0);
    let mut last_report = String::new();
    for round in 1..=ROUNDS {
        let marker = format!("x % 97 + 1 + {round}\n");
        std::fs::write(&leaf_file, original.replace(leaf_body, &marker)).unwrap();
        let mut child = env
            .command(&["store", "add", proj_arg, "--json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Both kept open until the child is gone, so its last words cannot fail.
        let mut stdout = child.stdout.take().unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        assert!(line.starts_with("storing "), "round {round}: {line}");
        let last = round == ROUNDS;
        if last {
            // Read while it writes: the report is larger than a pipe holds.
            std::io::Read::read_to_string(&mut stdout, &mut last_report).unwrap();
        } else {
            // The write takes a quarter of a second or more in a debug build: mostly inside its
            // transaction, sometimes after the commit.
            std::thread::sleep(Duration::from_millis(rng.below(200)));
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL
                killed += 1;
            }
        }
        let finished = child.wait().unwrap().success();
        assert!(finished || !last);
        drop((stdout, stderr));

        let conn = rusqlite::Connection::open(env.codebase()).unwrap();
        let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(integrity, "ok", "round {round}");
        assert_eq!(count(&conn, "SELECT count(*) FROM pragma_foreign_key_check()", []), 0);
        assert_eq!(
            count(
                &conn,
                "SELECT count(*) FROM names WHERE definition NOT IN (SELECT id FROM definitions)",
                []
            ),
            0,
            "round {round}: a name points at a missing definition"
        );
        let (leaf, source) = current(&conn, "gen_m0::base_rate");
        let whole = source.contains(marker.trim_end());
        assert!(whole || !finished, "round {round}: an add that finished is missing");
        assert_eq!(
            reach_of(&conn, leaf),
            (chain, named),
            "round {round}: a partial batch survived"
        );
        if whole {
            committed += 1;
            definitions += chain;
        }
        assert_eq!(count(&conn, "SELECT count(*) FROM definitions", []), definitions);
        assert_eq!(count(&conn, "SELECT count(*) FROM names", []), total);
    }
    eprintln!(
        "{ROUNDS} rounds of {chain} changed definitions ({definitions} stored): {killed} \
         killed, {committed} committed, in {:?}",
        started.elapsed()
    );

    // The last add's report is what the codebase now holds.
    let report: Value = serde_json::from_str(&last_report).unwrap();
    let listed = env.json(&["store", "list"]);
    let stored: std::collections::HashMap<&str, &str> = listed["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["name"].as_str().unwrap(), n["hash"].as_str().unwrap()))
        .collect();
    let reported = report["definitions"].as_array().unwrap();
    assert_eq!(reported.len() as i64, total);
    for d in reported {
        let name = d["name"].as_str().unwrap();
        assert_eq!(stored.get(name), Some(&d["hash"].as_str().unwrap()), "{name}");
    }

    // Among so many hashes some share their first four digits: such a prefix is ambiguous,
    // and the message lists the candidates.
    let conn = rusqlite::Connection::open(env.codebase()).unwrap();
    let prefix: String = conn
        .query_row(
            "SELECT substr(hash, 1, 4) AS p FROM definitions GROUP BY p HAVING count(*) > 1
             ORDER BY p LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let out = env.tel(&["store", "view", &format!("#{prefix}")]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.starts_with(&format!("error: ambiguous: #{prefix} matches ")),
        "{}",
        out.stderr
    );
    assert!(out.stderr.lines().skip(1).all(|l| l.starts_with(&format!("  #{prefix}"))));
}

/// Source that names stored definitions by `#hash` is checked against the codebase the
/// definitions go to, and depends on what it names.
#[test]
fn sources_naming_stored_hashes_are_added_against_their_codebase() {
    let env = Env::new();
    let shop = env.write("shop.tel", SHOP);
    // A relative `--codebase`, and no TEL_CODEBASE: the engine must look there too.
    let add = |file: &Path| {
        env.command(&["store", "--codebase", "mine.sqlite", "add", file.to_str().unwrap()])
            .env_remove("TEL_CODEBASE")
            .output()
            .unwrap()
    };
    assert!(add(&shop).status.success());
    let mine = |args: &[&str]| {
        let mut all = vec!["store", "--codebase", "mine.sqlite"];
        all.extend_from_slice(args);
        env.json(&all)
    };
    let with_tax = mine(&["view", "shop::with_tax"])["hash"].as_str().unwrap()[..10].to_owned();
    let item = mine(&["view", "shop::Item"])["hash"].as_str().unwrap()[..10].to_owned();
    let app = env.write(
        "app.tel",
        &format!(
            "module app\npub fn total(items: List<#{item}>) -> Int {{\n    \
             fold(items, 0, |sum: Int, i: #{item}| sum + #{with_tax}(i))\n}}\n"
        ),
    );
    let out = add(&app);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let deps = mine(&["deps", "shop::with_tax"]);
    let dependents: Vec<&Value> =
        deps["dependents"].as_array().unwrap().iter().map(|d| &d["names"][0]).collect();
    assert!(dependents.contains(&&Value::from("app::total")), "{dependents:?}");
    let view = mine(&["view", "app::total"]);
    let names: Vec<&str> = view["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["names"][0].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"shop::Item") && names.contains(&"shop::with_tax"), "{names:?}");

    // Against a codebase without them, the same file does not check: refused.
    let elsewhere = env.tel(&["store", "add", app.to_str().unwrap()]);
    assert_eq!(elsewhere.code, 1, "{}", elsewhere.stderr);
    assert!(elsewhere.stderr.contains("app.tel: "), "{}", elsewhere.stderr);
}

/// Mutually recursive definitions are stored as one component: each member under
/// `#component.i`, depending on its siblings.
#[test]
fn mutually_recursive_definitions_are_stored_as_components() {
    let env = Env::new();
    let file = env.write(
        "parity.tel",
        "module parity\n\
         enum Tree { Leaf(Int), Node(Forest) }\n\
         type Forest = { trees: List<Tree> }\n\
         pub fn is_even(n: Int) -> Bool { if n == 0 { true } else { is_odd(n - 1) } }\n\
         pub fn is_odd(n: Int) -> Bool { if n == 0 { false } else { is_even(n - 1) } }\n\
         pub fn countdown(n: Int) -> Int { if n == 0 { 0 } else { countdown(n - 1) } }\n\
         pub fn check() -> Bool { is_even(4) }\n",
    );
    let report = env.json(&["store", "add", file.to_str().unwrap()]);
    assert_eq!(report["new"], 6);
    let view = |name: &str| env.json(&["store", "view", name]);
    let (even, odd) = (view("parity::is_even"), view("parity::is_odd"));
    let component = even["component"]["component"].as_str().unwrap().to_owned();
    assert_eq!(odd["component"]["component"], component.as_str());
    let mut indexes = [even["component"]["index"].as_u64(), odd["component"]["index"].as_u64()];
    indexes.sort();
    assert_eq!(indexes, [Some(0), Some(1)]);
    // Each member depends on the other; a definition alone, even recursive through itself
    // only, has no siblings.
    assert_eq!(odd["dependencies"][0]["names"], serde_json::json!(["parity::is_even"]));
    assert_eq!(view("parity::countdown")["dependencies"], serde_json::json!([]));
    assert_eq!(
        view("parity::Tree")["component"]["component"],
        view("parity::Forest")["component"]["component"]
    );
    assert!(view("parity::check")["component"].is_null());
    // `#component.i` names member i.
    let member = |i: u64| env.json(&["store", "view", &format!("#{}.{i}", &component[..8])]);
    let by_index = if even["component"]["index"] == 0 { [&even, &odd] } else { [&odd, &even] };
    assert_eq!(member(0)["hash"], by_index[0]["hash"]);
    assert_eq!(member(1)["hash"], by_index[1]["hash"]);
    let text = env.ok(&["store", "view", "parity::is_odd"]);
    assert!(text.contains(&format!("\nmember      #{component}.")), "{text}");
}
