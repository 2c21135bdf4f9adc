//! The artifact of the exchange project: deterministic, canonical, and a different hash
//! for anything that changes what a deployment needs to know.

mod support;

use std::path::Path;

use expect_test::expect;
use support::{fixture, load_files};
use tel_schema::artifact::{self, Compatible, Input, canonical, canonical_pretty};
use tel_schema::manifest::Manifest;

fn exchange() -> (support::Program, Manifest) {
    let files: Vec<(String, String)> = ["fees", "main", "oracle", "orders", "state"]
        .iter()
        .map(|m| (format!("/project/{m}.tel"), fixture(&format!("projects/exchange/{m}.tel"))))
        .collect();
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, t)| (p.as_str(), t.as_str())).collect();
    let program = load_files(&borrowed);
    let toml = fixture("projects/exchange/tel.toml");
    let manifest = Manifest::parse(&toml, Path::new("exchange/tel.toml")).unwrap();
    (program, manifest)
}

#[test]
fn the_exchange_artifact_is_deterministic_and_canonical() {
    let (p, manifest) = exchange();
    let input = Input {
        manifest: &manifest,
        code: &p.code,
        entry: p.hash("main"),
        schema: Some(p.hash("Book")),
        migrations: Vec::new(),
        degraded: None,
        compatible: Vec::new(),
    };
    let a = artifact::build(&input);
    let b = artifact::build(&input);
    assert_eq!(a, b);
    assert_eq!(a.hash, artifact::hash(&a.text));
    assert_eq!(a.text, canonical(&serde_json::from_str(&a.text).unwrap()));

    let m = &a.manifest;
    assert_eq!(m["program"]["name"], "exchange");
    assert_eq!(m["program"]["entry"], "main::main");
    assert_eq!(m["program"]["hash"], p.hash("main").to_base32hex());
    assert_eq!(m["schema"]["name"], "state::Book");
    assert_eq!(m["safe_state"]["strategy"], "no-pending-returns");
    assert_eq!(m["safe_state"]["timeout_ms"], 900_000);
    // Every definition main needs, with its dependencies, and nothing else.
    let names: Vec<&str> =
        m["definitions"].as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"fees::taker_fee") && names.contains(&"prelude::Log"), "{names:?}");
    assert!(!names.contains(&"prelude::Random"), "{names:?}");
    // The effect DAG: effectful functions, their rows, what they perform and call.
    let effects: Vec<String> = m["effects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} row={} performs={} calls={}",
                f["name"].as_str().unwrap(),
                f["row"],
                f["performs"],
                f["calls"].as_array().unwrap().len()
            )
        })
        .collect();
    let mut effects = effects;
    effects.sort();
    expect![[r#"
        main::main row=["Log","Now","Observe"] performs=["Log"] calls=2
        main::submit row=["Log"] performs=["Log"] calls=0
        oracle::quote row=["Now","Observe"] performs=["Observe"] calls=0
        oracle::quote_within row=["Now","Observe"] performs=[] calls=1"#]]
    .assert_eq(&effects.join("\n"));

    // What a deployment needs to know changes the hash; formatting never does.
    let mut other = manifest.clone();
    other.rules.allowed = Some([tel_schema::ChangeClass::AddOptionalField].into_iter().collect());
    let c = artifact::build(&Input { manifest: &other, ..input_clone(&input) });
    assert_ne!(c.hash, a.hash);
    let compatible = vec![Compatible { schema: p.hash("Order"), migration: None }];
    let d = artifact::build(&Input { compatible, ..input_clone(&input) });
    assert_ne!(d.hash, a.hash);
    assert_eq!(d.manifest["compatible"][0]["schema"], p.hash("Order").to_base32hex());
}

fn input_clone<'a>(i: &Input<'a>) -> Input<'a> {
    Input {
        manifest: i.manifest,
        code: i.code,
        entry: i.entry,
        schema: i.schema,
        migrations: i.migrations.clone(),
        degraded: i.degraded,
        compatible: i.compatible.clone(),
    }
}

#[test]
fn canonical_json_sorts_members_at_every_level() {
    let v: serde_json::Value =
        serde_json::from_str(r#"{"b": [ {"z": 1, "a": "x y"} ], "a": {}, "c": null}"#).unwrap();
    expect![[r#"{"a":{},"b":[{"a":"x y","z":1}],"c":null}"#]].assert_eq(&canonical(&v));
    expect![[r#"
        {
          "a": {},
          "b": [
            {
              "a": "x y",
              "z": 1
            }
          ],
          "c": null
        }
    "#]]
    .assert_eq(&canonical_pretty(&v));
}
