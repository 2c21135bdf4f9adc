//! The store's behaviour on real SQLite files: round trips, names and their history, prefix
//! resolution, the dependency index, immutability, and every command's output.

mod common;

use common::{colliding, component, fresh, real};
use expect_test::expect;
use tel_hash::CodeHash;
use tel_store::hash_text::to_text;
use tel_store::{Action, CodeRepository, Error, Outcome};

fn names_of(defs: &[tel_store::StoredDefinition], store: &tel_store::Store) -> Vec<String> {
    defs.iter()
        .map(|d| store.view(&format!("#{}", to_text(&d.hash))).unwrap().names.join(","))
        .collect()
}

#[test]
fn add_then_get_round_trips() {
    let mut f = fresh();
    let a = real("m::a", "1", &[]);
    let b = real("m::b", "a + 1", &[a.hash]);
    let c = real("m::c", "a + b", &[b.hash, a.hash]);
    let report = f.store.add_definitions(&[c.clone(), a.clone(), b.clone()], "add m.tel").unwrap();
    assert_eq!((report.new, report.updated, report.unchanged), (3, 0, 0));
    assert!(report.definitions.iter().all(|d| d.stored));

    for d in [&a, &b, &c] {
        let got = f.store.get_by_hash(&d.hash).unwrap().unwrap();
        assert_eq!(got.hash, d.hash);
        assert_eq!(got.canonical, d.canonical);
        assert_eq!(got.source, d.source);
        assert_eq!(got.first_seen, 1_795_320_000);
        let mut deps = d.dependencies.clone();
        deps.sort();
        assert_eq!(got.dependencies, deps);
        assert_eq!(f.store.get_by_name(&d.name).unwrap().unwrap(), got);
        assert_eq!(f.store.get_dependencies(&d.hash).unwrap(), deps);
    }
    assert_eq!(f.store.get_by_hash(&real("x", "never added", &[]).hash).unwrap(), None);
    assert_eq!(f.store.get_by_name("m::nope").unwrap(), None);

    // The closure comes dependencies first, the requested definition last.
    let closure = f.store.load_closure(&c.hash).unwrap();
    assert_eq!(names_of(&closure, &f.store), ["m::a", "m::b", "m::c"]);
    let by_name = CodeRepository::load_closure_by_name(&f.store, "m::b").unwrap();
    assert_eq!(names_of(&by_name, &f.store), ["m::a", "m::b"]);

    // Reopening the file sees the same.
    let path = f.store.path().to_path_buf();
    drop(f.store);
    let reopened = tel_store::Store::open_existing(&path).unwrap();
    assert_eq!(reopened.get_by_name("m::c").unwrap().unwrap().canonical, c.canonical);
}

#[test]
fn add_reports_new_updated_unchanged() {
    let mut f = fresh();
    let a = real("treasury::fee", "1", &[]);
    let b = real("treasury::total", "fee + 1", &[a.hash]);
    f.store.add_definitions(&[a.clone(), b.clone()], "first").unwrap();

    // fee changes (a new hash); total is re-added as it was.
    let a2 = real("treasury::fee", "2", &[]);
    let report = f.store.add_definitions(&[a2.clone(), b.clone()], "second").unwrap();
    assert_eq!(report.definitions[0].outcome, Outcome::Updated { old: a.hash });
    expect![[r#"
        Added 0 new, updated 1, unchanged 1
        #e30rdrbe treasury::fee (updated)
        #v8kjrjgd treasury::total (unchanged)
    "#]]
    .assert_eq(&report.to_string());
    // The old definition is still there, and still what total depends on.
    assert!(f.store.get_by_hash(&a.hash).unwrap().is_some());
    assert_eq!(f.store.get_dependencies(&b.hash).unwrap(), vec![a.hash]);

    expect![[r#"
        {
          "new": 0,
          "updated": 1,
          "unchanged": 1,
          "definitions": [
            {
              "name": "treasury::fee",
              "hash": "e30rdrbeaqpc402ggpeo83ct1g16eitn9pqge52vv6li8o054nn0",
              "kind": "fn",
              "outcome": "updated",
              "old": "2oullsks22tkidcucjvn9nusj4a88rut4j003e8dplanhda39vhg",
              "stored": true
            },
            {
              "name": "treasury::total",
              "hash": "v8kjrjgd68hbjld0baqfvv1a8g5cngjqh7uqemm2senhe9egv1d0",
              "kind": "fn",
              "outcome": "unchanged",
              "stored": false
            }
          ]
        }"#]]
    .assert_eq(&serde_json::to_string_pretty(&report).unwrap());
}

#[test]
fn one_definition_under_two_names_is_stored_once() {
    let mut f = fresh();
    let a = real("a::id", "x", &[]);
    let mut b = a.clone();
    b.name = "b::id".into();
    let report = f.store.add_definitions(&[a.clone(), b, a.clone()], "copy").unwrap();
    assert_eq!((report.new, report.updated, report.unchanged), (2, 0, 1));
    assert_eq!(
        report.definitions.iter().map(|d| d.stored).collect::<Vec<_>>(),
        [true, false, false]
    );
    assert_eq!(f.store.stats().unwrap().definitions, 1);
    assert_eq!(f.store.view("a::id").unwrap().names, ["a::id", "b::id"]);
}

#[test]
fn a_refused_batch_writes_nothing() {
    let mut f = fresh();
    let base = real("m::base", "0", &[]);
    f.store.add_definitions(std::slice::from_ref(&base), "base").unwrap();
    let before = f.store.stats().unwrap();

    let missing = real("m::ghost", "never added", &[]).hash;
    let ok = real("m::ok", "1", &[base.hash]);
    let bad = real("m::bad", "2", &[ok.hash, missing]);
    let err = f.store.add_definitions(&[ok.clone(), bad.clone()], "x").unwrap_err();
    assert!(matches!(&err, Error::MissingDependency { dependency, .. } if *dependency == missing));
    let msg = err.to_string().replace(&f.store.path().display().to_string(), "$CODEBASE");
    expect!["cannot add `m::bad` (#mmid77rh): it depends on #5g5aukgsnitubn0q0f1ic4gti0laa2n7uu18oro749k4sovi5fpg, which is neither in this batch nor in the codebase $CODEBASE; add that definition too"]
        .assert_eq(&msg);
    assert_eq!(f.store.stats().unwrap(), before);
    assert_eq!(f.store.get_by_hash(&ok.hash).unwrap(), None);

    // A name given twice with two hashes.
    let mut other = real("m::ok", "3", &[]);
    let err = f.store.add_definitions(&[ok.clone(), other.clone()], "x").unwrap_err();
    expect!["`m::ok` is given twice in one batch, as #a8sfvr32 and as #iqgr05od: a name points at one definition"]
        .assert_eq(&err.to_string());

    // A hash that is not its content's.
    other.hash = base.hash;
    other.name = "m::other".into();
    let err = f.store.add_definitions(&[other], "x").unwrap_err();
    expect!["cannot add `m::other`: its hash #bht44sv9279tfk9c890mf12vcjqnmv1ben4o760ldv3fo7fmon6g is not the hash of its content (#iqgr05odr7k8icligrdoiq9l0rfoe5rh2k7rtg4e0al9pi01g980): it was not produced by this tel's hasher"].assert_eq(&err.to_string());
    // A stored hash offered again as another kind.
    let mut as_type = base.clone();
    as_type.kind = tel_hash::core::DefKind::Type;
    let err = f.store.add_definitions(&[as_type], "x").unwrap_err();
    expect!["cannot add `m::base`: #bht44sv9279tfk9c890mf12vcjqnmv1ben4o760ldv3fo7fmon6g is already stored with a different kind or content; stored definitions never change"].assert_eq(&err.to_string());
    // Half a component.
    let comp = component(&["m::even", "m::odd"], &["even body", "odd body"], &[]);
    let err = f.store.add_definitions(&comp[..1], "x").unwrap_err();
    let msg = err.to_string().replace(&f.store.path().display().to_string(), "$CODEBASE");
    expect!["cannot add `m::even`: the members of component #2p6gthjbpu2ksb9cqv2rqe9n3740eank7l0n9cnsr6g6oi8n2to0 given here and stored in $CODEBASE do not hash to it; add the whole component in one batch"].assert_eq(&msg);

    // Names must be identifiers joined by `::`.
    for (name, why) in [
        ("", "a name cannot be empty"),
        ("a::", "empty segment: names are identifiers joined by `::`"),
        ("a::1b", "segment `1b` starts with a digit"),
        ("a-b", "`-` cannot appear in a name: names are identifiers joined by `::`"),
        ("#abcd", "`#` cannot appear in a name: names are identifiers joined by `::`"),
    ] {
        let mut d = real("m::x", "4", &[]);
        d.name = name.into();
        let err = f.store.add_definitions(&[d], "x").unwrap_err();
        assert_eq!(err.to_string(), format!("invalid name `{name}`: {why}"));
    }
    assert_eq!(f.store.stats().unwrap(), before);
}

#[test]
fn rename_moves_the_pointer_only() {
    let mut f = fresh();
    let a = real("old::fee", "1", &[]);
    let b = real("old::total", "fee", &[a.hash]);
    f.store.add_definitions(&[a.clone(), b.clone()], "add").unwrap();
    let stats = f.store.stats().unwrap();

    let report = f.store.rename("old::fee", "new::fee", "module moved").unwrap();
    expect![[r#"
        Renamed old::fee to new::fee (#2oullsks)
    "#]]
    .assert_eq(&report.to_string());
    assert_eq!(f.store.resolve("new::fee").unwrap(), a.hash);
    assert!(matches!(f.store.resolve("old::fee"), Err(Error::NameNotFound { .. })));
    // Nothing that refers to it by hash notices.
    assert_eq!(f.store.get_dependencies(&b.hash).unwrap(), vec![a.hash]);
    let after = f.store.stats().unwrap();
    assert_eq!((after.definitions, after.names, after.history_events), (stats.definitions, 2, 3));

    // Refusals change nothing.
    let err = f.store.rename("new::fee", "old::total", "clash").unwrap_err();
    expect!["cannot rename `new::fee` to `old::total`: `old::total` already names #c8qfm833; pick another name"]
        .assert_eq(&err.to_string());
    let err = f.store.rename("nope", "fine", "x").unwrap_err();
    expect!["no definition named `nope` (`tel store find` searches names)"]
        .assert_eq(&err.to_string());
    let err = f.store.rename("new::fee", "bad name", "x").unwrap_err();
    assert!(matches!(err, Error::InvalidName { .. }));
    let err = f.store.rename("new::fee", "new::fee", "x").unwrap_err();
    assert!(matches!(err, Error::NameTaken { .. }));
    assert_eq!(f.store.stats().unwrap(), after);
}

#[test]
fn history_follows_renames() {
    let mut f = fresh();
    let v1 = real("fee", "1", &[]);
    let v2 = real("fee", "2", &[]);
    let v3 = real("fee", "3", &[]);
    f.store.add_definitions(std::slice::from_ref(&v1), "first").unwrap();
    f.store.add_definitions(std::slice::from_ref(&v2), "raise").unwrap();
    f.store.rename("fee", "charge", "clearer").unwrap();
    f.store.add_definitions(&[real("fee", "9", &[])], "a new fee").unwrap();
    f.store
        .add_definitions(
            &[{
                let mut d = v3.clone();
                d.name = "charge".into();
                d
            }],
            "raise again",
        )
        .unwrap();
    f.store.rename("charge", "fees::charge", "into a module").unwrap();

    let history = f.store.history("fees::charge").unwrap();
    let actions: Vec<Action> = history.events.iter().map(|e| e.action).collect();
    assert_eq!(
        actions,
        [Action::Rename, Action::Update, Action::Rename, Action::Update, Action::Bind]
    );
    // The name `fee` bound later to something else is not part of this lineage.
    assert!(history.events.iter().all(|e| e.reason != "a new fee"));
    expect![[r#"
        2026-11-22 04:00:00Z  rename  charge -> fees::charge (#iqgr05od)  [into a module]
        2026-11-22 04:00:00Z  update  charge #e30rdrbe -> #iqgr05od  [raise again]
        2026-11-22 04:00:00Z  rename  fee -> charge (#e30rdrbe)  [clearer]
        2026-11-22 04:00:00Z  update  fee #2oullsks -> #e30rdrbe  [raise]
        2026-11-22 04:00:00Z  bind    fee #2oullsks  [first]
    "#]]
    .assert_eq(&history.to_string());

    // The name `fee` itself: bound again after it was renamed away.
    let fee = f.store.history("fee").unwrap();
    expect![[r#"
        2026-11-22 04:00:00Z  bind    fee #fq7j9pkk  [a new fee]
        2026-11-22 04:00:00Z  rename  fee -> charge (#e30rdrbe)  [clearer]
        2026-11-22 04:00:00Z  update  fee #2oullsks -> #e30rdrbe  [raise]
        2026-11-22 04:00:00Z  bind    fee #2oullsks  [first]
    "#]]
    .assert_eq(&fee.to_string());

    // A cycle of renames still ends.
    f.store.rename("fees::charge", "x", "1").unwrap();
    f.store.rename("x", "fees::charge", "2").unwrap();
    assert_eq!(f.store.history("fees::charge").unwrap().events.len(), 7);
    assert!(matches!(f.store.history("never"), Err(Error::NameNotFound { .. })));

    let log = f.store.log(3).unwrap();
    expect![[r#"
        2026-11-22 04:00:00Z  rename  x -> fees::charge (#iqgr05od)  [2]
        2026-11-22 04:00:00Z  rename  fees::charge -> x (#iqgr05od)  [1]
        2026-11-22 04:00:00Z  rename  charge -> fees::charge (#iqgr05od)  [into a module]
    "#]]
    .assert_eq(&log.to_string());
}

#[test]
fn prefixes_resolve_on_the_index() {
    let mut f = fresh();
    // Three definitions whose hashes share their first 4 characters, and one more.
    let same = colliding(4, 3);
    let other = real("p::other", "other", &[]);
    let mut batch = same.clone();
    batch.push(other.clone());
    f.store.add_definitions(&batch, "x").unwrap();
    let common = same[0].hash.prefix_str(4);
    for d in &same {
        let long = format!("#{}", d.hash.prefix_str(12));
        assert_eq!(f.store.resolve_prefix(&long).unwrap(), d.hash);
        assert_eq!(f.store.resolve(&format!("#{}", to_text(&d.hash))).unwrap(), d.hash);
    }
    assert_eq!(f.store.resolve(&format!("#{}", other.hash.prefix_str(8))).unwrap(), other.hash);

    let err = f.store.resolve_prefix(&format!("#{common}")).unwrap_err();
    expect![[r#"
        ambiguous: #fgkk matches 3 definitions; type more characters:
          #fgkkcinm60tgkvkjl1gh4rrhe5297ic1618rah5e1eu9f479eq1g  p::d8684
          #fgkkv289a4kcjvicq54sqh43lg775vik97ql60mlh8tm32tsa250  p::d16355
          #fgkkvsh0qgmk0h4glg6ii15f5ejg7dp35rb1ru0n89nh7p4d0r5g  p::d21915"#]]
    .assert_eq(&err.to_string());
    match err {
        Error::AmbiguousHash { count, candidates, .. } => {
            assert_eq!(count, 3);
            let mut want: Vec<CodeHash> = same.iter().map(|d| d.hash).collect();
            want.sort();
            assert_eq!(candidates.iter().map(|c| c.hash).collect::<Vec<_>>(), want);
        }
        other => panic!("{other}"),
    }
    let absent =
        (0..).map(|i| format!("#{i:04}")).find(|p| f.store.resolve_prefix(p).is_err()).unwrap();
    assert_eq!(
        f.store.resolve_prefix(&absent).unwrap_err().to_string(),
        format!("no definition matches {absent}")
    );
    expect!["hash prefix `#00` is too short: 2 characters, at least 4 are needed"]
        .assert_eq(&f.store.resolve("#00").unwrap_err().to_string());

    // The lookup is an index range scan, not a table scan.
    let plan: Vec<String> = f
        .store
        .connection()
        .prepare("EXPLAIN QUERY PLAN SELECT DISTINCT hash FROM definitions WHERE hash LIKE ?1 ORDER BY hash LIMIT 21")
        .unwrap()
        .query_map(["0000%"], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        plan.iter().any(|p| p.starts_with("SEARCH definitions USING COVERING INDEX")),
        "{plan:?}"
    );
}

#[test]
fn components_resolve_by_member_and_load_whole() {
    let mut f = fresh();
    let base = real("n::base", "0", &[]);
    let comp = component(&["n::is_even", "n::is_odd"], &["even", "odd"], &[base.hash]);
    let user = real("n::user", "calls is_even", &[comp[0].hash]);
    f.store
        .add_definitions(&[base.clone(), comp[1].clone(), comp[0].clone(), user.clone()], "x")
        .unwrap();
    let c = comp[0].component.unwrap().component;

    let one = format!("#{}.1", c.prefix_str(6));
    assert_eq!(f.store.resolve(&one).unwrap(), comp[1].hash);
    assert_eq!(f.store.view(&one).unwrap().names, ["n::is_odd"]);
    let err = f.store.resolve(&format!("#{}.2", c.prefix_str(6))).unwrap_err();
    assert!(matches!(err, Error::NoSuchMember { index: 2, size: 2, .. }), "{err}");
    // A member's digits are not a definition's.
    assert!(matches!(
        f.store.resolve(&format!("#{}", c.prefix_str(10))),
        Err(Error::HashNotFound { .. })
    ));

    // Each member depends on its sibling and on what it uses; loading one brings both.
    assert_eq!(f.store.get_dependencies(&comp[0].hash).unwrap(), {
        let mut v = vec![base.hash, comp[1].hash];
        v.sort();
        v
    });
    let closure = f.store.load_closure(&user.hash).unwrap();
    assert_eq!(closure.len(), 4);
    assert_eq!(closure[0].hash, base.hash);
    assert_eq!(closure[3].hash, user.hash);
    assert_eq!(closure[1].component.map(|m| m.component), Some(c));
    let mut dependents = f.store.transitive_dependents(&comp[1].hash).unwrap();
    dependents.sort();
    let mut want = vec![comp[0].hash, user.hash];
    want.sort();
    assert_eq!(dependents, want);
    let mut view = f.store.view("n::is_odd").unwrap().to_string();
    view.truncate(view.find("first seen").unwrap());
    expect![[r#"
        n::is_odd (fn)
        hash        #edo4tq7bt2tcp623ge3bmnakff3uo7mdjiotv9lvfnp4mi0uoue0
        member      #p18amd8nac2ajm2t2b3cgc4gsddc3bqm1hedrm3qtsoh7gijrbp0.1
    "#]]
    .assert_eq(&view);
}

#[test]
fn dependents_of_chains_diamonds_and_cycles() {
    let mut f = fresh();
    // Diamond: top -> (left, right) -> bottom; a chain bottom <- c1 <- c2 <- c3.
    let bottom = real("d::bottom", "0", &[]);
    let left = real("d::left", "l", &[bottom.hash]);
    let right = real("d::right", "r", &[bottom.hash]);
    let top = real("d::top", "t", &[left.hash, right.hash]);
    let c1 = real("c::one", "1", &[bottom.hash]);
    let c2 = real("c::two", "2", &[c1.hash]);
    let c3 = real("c::three", "3", &[c2.hash]);
    let lonely = real("x::lonely", "z", &[]);
    let all = [
        top.clone(),
        left.clone(),
        right.clone(),
        bottom.clone(),
        c3.clone(),
        c2.clone(),
        c1.clone(),
        lonely.clone(),
    ];
    f.store.add_definitions(&all, "x").unwrap();

    let sorted = |mut v: Vec<CodeHash>| {
        v.sort();
        v
    };
    assert_eq!(
        f.store.transitive_dependents(&bottom.hash).unwrap(),
        sorted(vec![left.hash, right.hash, top.hash, c1.hash, c2.hash, c3.hash])
    );
    // top is reached through both sides of the diamond and listed once.
    assert_eq!(f.store.transitive_dependents(&left.hash).unwrap(), vec![top.hash]);
    assert_eq!(f.store.transitive_dependents(&c1.hash).unwrap(), sorted(vec![c2.hash, c3.hash]));
    assert_eq!(f.store.transitive_dependents(&top.hash).unwrap(), vec![]);
    assert_eq!(f.store.transitive_dependents(&lonely.hash).unwrap(), vec![]);
    assert!(matches!(
        f.store.transitive_dependents(&real("x", "never added", &[]).hash),
        Err(Error::HashNotFound { .. })
    ));

    // The closure of top holds the diamond once, dependencies first.
    let closure = f.store.load_closure(&top.hash).unwrap();
    assert_eq!(closure.len(), 4);
    assert_eq!(closure[0].hash, bottom.hash);
    assert_eq!(closure[3].hash, top.hash);

    // A cycle (a component's members depend on each other) terminates, and a definition
    // is not its own dependent.
    let pair = component(&["s::ping", "s::pong"], &["ping", "pong"], &[bottom.hash]);
    f.store.add_definitions(&pair, "x").unwrap();
    assert_eq!(f.store.transitive_dependents(&pair[0].hash).unwrap(), vec![pair[1].hash]);
    assert_eq!(f.store.load_closure(&pair[0].hash).unwrap().len(), 3);

    expect![[r#"
        #87okhmkmgar4fgungasil1lepblra5ni7q44ajvnalfo86joiusg fn     d::left
        dependencies (1):
          #bht44sv9279tfk9c890mf12vcjqnmv1ben4o760ldv3fo7fmon6g fn     d::bottom
        dependents (1):
          #nv0lpk1qjcomqpajnl7shjhsudg3b13thupjh6oah05llgduu3s0 fn     d::top
        transitive dependents (1):
          #nv0lpk1qjcomqpajnl7shjhsudg3b13thupjh6oah05llgduu3s0 fn     d::top
    "#]]
    .assert_eq(&f.store.deps("d::left").unwrap().to_string());
}

#[test]
fn views_lists_and_stats() {
    let mut f = fresh();
    let fee = real("treasury::fee", "1", &[]);
    let total = real("treasury::total", "fee + 1", &[fee.hash]);
    let mut other = real("audit::Check", "c", &[]);
    other.kind = tel_hash::core::DefKind::Effect;
    let total_prefix = format!("#{}", &to_text(&total.hash)[..4]);
    f.store.add_definitions(&[fee, total, other], "add").unwrap();

    expect![[r#"
        treasury::total (fn)
        hash        #v8kjrjgd68hbjld0baqfvv1a8g5cngjqh7uqemm2senhe9egv1d0
        first seen  2026-11-22 04:00:00Z
        canonical   39 bytes
        depends on
          #2oullsks22tkidcucjvn9nusj4a88rut4j003e8dplanhda39vhg fn     treasury::fee

        fn total() { fee + 1 }
    "#]]
    .assert_eq(&f.store.view("treasury::total").unwrap().to_string());
    expect![[r#"
        {
          "hash": "v8kjrjgd68hbjld0baqfvv1a8g5cngjqh7uqemm2senhe9egv1d0",
          "component": null,
          "kind": "fn",
          "names": [
            "treasury::total"
          ],
          "first_seen": 1795320000,
          "canonical_bytes": 39,
          "source": "fn total() { fee + 1 }",
          "dependencies": [
            {
              "hash": "2oullsks22tkidcucjvn9nusj4a88rut4j003e8dplanhda39vhg",
              "kind": "fn",
              "names": [
                "treasury::fee"
              ]
            }
          ]
        }"#]]
    .assert_eq(&serde_json::to_string_pretty(&f.store.view(&total_prefix).unwrap()).unwrap());
    expect![[r#"
        #9qhu9gtt effect audit::Check
        #2oullsks fn     treasury::fee
        #v8kjrjgd fn     treasury::total
    "#]]
    .assert_eq(&f.store.list().unwrap().to_string());
    expect![[r#"
        #2oullsks fn     treasury::fee
    "#]]
    .assert_eq(&f.store.find("FEE").unwrap().to_string());
    assert!(f.store.find("zzz").unwrap().names.is_empty());

    let stats = f.store.stats().unwrap();
    assert_eq!(
        (stats.definitions, stats.names, stats.history_events, stats.dependency_edges),
        (3, 3, 3, 1)
    );
    assert_eq!(stats.canonical_bytes, 1 + 39 + 1);
    assert!(stats.file_bytes > 0 && stats.bytes_per_definition() > 0.0);
    assert_eq!(stats.format_version, tel_store::schema::CURRENT_VERSION);
}

#[test]
fn stored_definitions_are_immutable_even_to_raw_sql() {
    let mut f = fresh();
    let a = real("m::a", "1", &[]);
    let b = real("m::b", "2", &[a.hash]);
    f.store.add_definitions(&[a.clone(), b.clone()], "x").unwrap();
    let text = to_text(&a.hash);
    let attempts = [
        (
            "UPDATE definitions SET source = 'evil' WHERE hash = ?1",
            "a stored definition is never changed",
        ),
        ("UPDATE definitions SET canonical = x'00'", "a stored definition is never changed"),
        ("DELETE FROM definitions WHERE hash = ?1", "a stored definition is never deleted"),
        (
            "INSERT OR REPLACE INTO definitions (hash, kind, canonical, source, first_seen)
             VALUES (?1, 'fn', x'00', 'evil', 0)",
            "this hash is already stored",
        ),
        ("DELETE FROM dependencies", "dependencies are part of an immutable definition"),
        (
            "UPDATE dependencies SET dependency = dependent",
            "dependencies are part of an immutable definition",
        ),
        ("DELETE FROM name_history", "name history is append-only"),
        ("UPDATE name_history SET reason = 'rewritten'", "name history is append-only"),
    ];
    let path = f.store.path().to_path_buf();
    let other = rusqlite::Connection::open(&path).unwrap();
    for conn in [f.store.connection(), &other] {
        for (sql, why) in attempts {
            let n = sql.matches("?1").count();
            let result = if n > 0 { conn.execute(sql, [&text]) } else { conn.execute(sql, []) };
            let err = result.expect_err(sql).to_string();
            assert!(err.contains(why), "{sql}: {err}");
        }
    }
    drop(other);
    let got = f.store.get_by_hash(&a.hash).unwrap().unwrap();
    assert_eq!(
        (got.source.as_str(), got.canonical.as_slice()),
        (a.source.as_str(), a.canonical.as_slice())
    );
    assert_eq!(f.store.get_dependencies(&b.hash).unwrap(), vec![a.hash]);
    // Names stay pointers: a name can move (that is what history is for).
    f.store.rename("m::a", "m::z", "fine").unwrap();
}
