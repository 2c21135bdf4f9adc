//! Migrations of the fixtures' stored state: automatic ones against the expected files,
//! migration functions run in the VM sandbox both ways, and the refusals (state that does
//! not match, a change without a migration, a function of the wrong type).

mod support;

use expect_test::expect;
use serde_json::json;
use support::{evolve, fixture, fixture_json, load};
use tel_schema::migrate::{Method, check_function, migrate};
use tel_schema::{MigrateError, Verdict};

#[test]
fn the_vault_evolves_automatically_from_version_1_to_2() {
    let v1 = load(&fixture("valid/schema_v1.tel"));
    let v2 = load(&fixture("valid/schema_v2.tel"));
    let evolution = evolve(&v1, "Vault", &v2, "Vault");
    expect![[r#"
        vault::Vault #kpops9lj -> vault::Vault #ubd3dllr

        change               path            old   new      stored state
        remove-unused-field  legacy_flag     Bool  -        dropped
        add-optional-field   note            -     String?  gets None
        add-default-field    risk_tolerance  -     Int = 5  gets 5

        verdict: automatic (3 changes, stored state evolves without a migration)
    "#]]
    .assert_eq(&evolution.diff.table());

    let state = fixture_json("schema/states/vault_v1.json");
    let migrated = migrate(&evolution, &v1.code, &v2.code, &state, None).unwrap();
    assert_eq!(migrated.method, Method::Automatic);
    assert_eq!(migrated.state, fixture_json("schema/states/vault_v2.json"));
}

#[test]
fn nested_changes_evolve_every_element() {
    let v1 = load(&fixture("schema/orders/v1.tel"));
    let v2 = load(&fixture("schema/orders/v2.tel"));
    let evolution = evolve(&v1, "Book", &v2, "Book");
    expect![[r#"
        book::Book #g2p76rvv -> book::Book #cl5lqhkh

        change               path           old             new                 stored state
        remove-unused-field  fee_bps        Int             -                   dropped
        widen-type           halted         Bool            Bool?               each value v becomes Some(v)
        add-optional-field   orders[].note  -               String?             gets None
        widen-type           orders[].side  Side #djtbj7tg  Side #nns4rb7h      keeps its value (variants added: Cancel)
        add-default-field    venue          -               String = "tel-dex"  gets "tel-dex"

        verdict: automatic (5 changes, stored state evolves without a migration)
    "#]]
    .assert_eq(&evolution.diff.table());
    let state = fixture_json("schema/states/book_v1.json");
    let migrated = migrate(&evolution, &v1.code, &v2.code, &state, None).unwrap();
    assert_eq!(migrated.state, fixture_json("schema/states/book_v2.json"));
}

#[test]
fn state_that_does_not_match_the_old_version_is_refused_at_its_first_mismatch() {
    let v1 = load(&fixture("schema/orders/v1.tel"));
    let v2 = load(&fixture("schema/orders/v2.tel"));
    let evolution = evolve(&v1, "Book", &v2, "Book");
    let state = fixture_json("schema/states/book_v1_mismatch.json");
    let err = migrate(&evolution, &v1.code, &v2.code, &state, None).unwrap_err();
    let MigrateError::OldState { mismatch, .. } = &err else { panic!("{err}") };
    assert_eq!(mismatch.path, "$.orders[3].price");
    expect!["$.orders[3].price: expected an integer (64-bit), found a string"]
        .assert_eq(&mismatch.to_string());

    let vault1 = load(&fixture("valid/schema_v1.tel"));
    let vault2 = load(&fixture("valid/schema_v2.tel"));
    let evolution = evolve(&vault1, "Vault", &vault2, "Vault");
    for (state, want) in [
        (
            fixture_json("schema/states/vault_v1_mismatch.json"),
            "$.last_price: expected an integer (64-bit), found a string",
        ),
        (json!({"owner": "x", "balances": {}, "last_price": 1}), "$: missing field `legacy_flag`"),
        (
            json!({"owner": "x", "balances": {}, "last_price": 1, "legacy_flag": true, "extra": 1}),
            "$: unknown field `extra`",
        ),
        (json!([1, 2]), "$: expected an object (a record), found an array"),
    ] {
        let err = migrate(&evolution, &vault1.code, &vault2.code, &state, None).unwrap_err();
        let MigrateError::OldState { mismatch, .. } = err else { panic!("{err}") };
        assert_eq!(mismatch.to_string(), want);
    }
}

#[test]
fn a_rename_needs_a_migration_and_round_trips_through_the_functions() {
    let p = load(&fixture("schema/rename/quotes.tel"));
    let up = evolve(&p, "QuoteV1", &p, "QuoteV2");
    expect![[r#"
        quotes::QuoteV1 #9pn80pbl -> quotes::QuoteV2 #dj1163cj

        change              path    old         new        stored state
        rename-field        cost    price: Int  cost: Int  needs a migration (`price` renamed to `cost`?)
                            read by quotes::up
        remove-used-field   legacy  Bool        -          needs a migration (the program reads it)
                            read by quotes::up
        add-required-field  tier    -           String     needs a migration (no default, not optional)

        verdict: needs-migration (3 of 3 changes need a migration function fn(Old) -> New)
    "#]]
    .assert_eq(&up.diff.table());
    assert_eq!(up.diff.verdict, Verdict::NeedsMigration);

    let q1 = fixture_json("schema/states/quote_v1.json");
    let err = migrate(&up, &p.code, &p.code, &q1, None).unwrap_err();
    expect!["quotes::QuoteV1 #9pn80pbl to quotes::QuoteV2 #dj1163cj needs a migration function (changes: rename-field cost, remove-used-field legacy, add-required-field tier); list a pure fn(Old) -> New in tel.toml, [schema] migrations"]
        .assert_eq(&err.to_string());

    let q2 = migrate(&up, &p.code, &p.code, &q1, Some(&p.hash("up"))).unwrap();
    assert_eq!(q2.state, json!({"asset": "ETH", "cost": 3100, "tier": "legacy"}));
    assert!(matches!(q2.method, Method::Function { ref name, .. } if name == "quotes::up"));
    let down = evolve(&p, "QuoteV2", &p, "QuoteV1");
    let back = migrate(&down, &p.code, &p.code, &q2.state, Some(&p.hash("down"))).unwrap();
    assert_eq!(back.state, q1);

    // The wrong function for the pair, and things that are not migrations at all.
    let (v1, v2) = (p.hash("QuoteV1"), p.hash("QuoteV2"));
    expect!["it is fn(QuoteV2) -> QuoteV1, not fn(#9pn80pbl) -> #dj1163cj"]
        .assert_eq(&check_function(&p.code, &p.hash("down"), &v1, &v2).unwrap_err());
    expect!["it is a schema, not a function"]
        .assert_eq(&check_function(&p.code, &v1, &v1, &v2).unwrap_err());
    let err = migrate(&up, &p.code, &p.code, &q1, Some(&p.hash("down"))).unwrap_err();
    assert!(matches!(err, MigrateError::BadFunction { .. }), "{err}");
    assert!(err.to_string().starts_with("the migration function quotes::down: it is fn(QuoteV2)"));
}

#[test]
fn a_migration_function_with_effects_or_a_runtime_error_is_refused() {
    let p = load(
        "module m
         schema A { x: Int }
         schema B { y: Int }
         fn loud(a: A) -> B ! {Log} { perform Log(\"migrating\"); B { y: a.x } }
         fn broken(a: A) -> B { B { y: 100 / a.x } }",
    );
    let evolution = evolve(&p, "A", &p, "B");
    let err = check_function(&p.code, &p.hash("loud"), &p.hash("A"), &p.hash("B")).unwrap_err();
    assert_eq!(err, "it is fn(A) -> B with effects; a migration must be pure");
    let ok = migrate(&evolution, &p.code, &p.code, &json!({"x": 4}), Some(&p.hash("broken")));
    assert_eq!(ok.unwrap().state, json!({"y": 25}));
    let err = migrate(&evolution, &p.code, &p.code, &json!({"x": 0}), Some(&p.hash("broken")))
        .unwrap_err();
    assert!(err.to_string().starts_with("the migration m::broken failed: "), "{err}");
    assert!(err.to_string().contains("division by zero"), "{err}");
}

#[test]
fn defaults_are_evaluated_in_the_sandbox() {
    let old = load("module m\nschema S { a: Int }");
    let new = load(
        "module m
         enum Tier { Low, High(Int) }
         fn base() -> Int { 21 }
         schema S {
             a: Int,
             b: Int = base() * 2,
             d: Duration = 15min,
             t: Tier = High(3),
             m: Map<String, Int> = insert(empty_map(), \"k\", 1),
             l: List<Int> = [1, 2],
             o: Int? = None,
             u: () = (),
         }",
    );
    let evolution = evolve(&old, "S", &new, "S");
    assert_eq!(evolution.diff.verdict, Verdict::Automatic);
    let out = migrate(&evolution, &old.code, &new.code, &json!({"a": 7}), None).unwrap();
    assert_eq!(
        out.state,
        json!({"a": 7, "b": 42, "d": 900000, "t": {"High": [3]}, "m": {"k": 1}, "l": [1, 2], "o": null, "u": null})
    );
}

#[test]
fn widening_to_an_option_of_a_nullable_type_tags_some() {
    let old = load("module m\ntype R = { u: () } schema S { xs: List<()>, r: R }");
    let new = load("module m\ntype R = { u: ()? } schema S { xs: List<()?>, r: R }");
    let evolution = evolve(&old, "S", &new, "S");
    assert_eq!(evolution.diff.verdict, Verdict::Automatic, "{}", evolution.diff.table());
    let out = migrate(
        &evolution,
        &old.code,
        &new.code,
        &json!({"xs": [null, null], "r": {"u": null}}),
        None,
    )
    .unwrap();
    assert_eq!(
        out.state,
        json!({"xs": [{"Some": null}, {"Some": null}], "r": {"u": {"Some": null}}})
    );
}

#[test]
fn the_same_version_migrates_to_itself() {
    let v1 = load(&fixture("valid/schema_v1.tel"));
    let evolution = evolve(&v1, "Vault", &v1, "Vault");
    let state = fixture_json("schema/states/vault_v1.json");
    let out = migrate(&evolution, &v1.code, &v1.code, &state, None).unwrap();
    assert_eq!((out.state, out.method), (state, Method::Identical));
}
