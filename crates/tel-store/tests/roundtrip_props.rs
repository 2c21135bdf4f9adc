//! Property: whatever batch goes in comes back out, by hash and by name, after reopening.

use proptest::prelude::*;
use tel_hash::CodeHash;
use tel_hash::core::DefKind;
use tel_store::hash_text::to_text;
use tel_store::{NewDefinition, Outcome, Store};

/// (name segment, body, indices of earlier definitions to depend on, kind)
type Spec = (String, Vec<u8>, Vec<prop::sample::Index>, u8);

fn build(specs: &[Spec]) -> Vec<NewDefinition> {
    let kinds = [DefKind::Fn, DefKind::Type, DefKind::Enum, DefKind::Effect, DefKind::Schema];
    let mut out: Vec<NewDefinition> = Vec::new();
    for (i, (segment, body, deps, kind)) in specs.iter().enumerate() {
        let mut dependencies: Vec<CodeHash> =
            if i == 0 { vec![] } else { deps.iter().map(|d| out[d.index(i)].hash).collect() };
        dependencies.sort();
        dependencies.dedup();
        let mut canonical = body.clone();
        for d in &dependencies {
            canonical.extend_from_slice(&d.0);
        }
        canonical.push(i as u8); // distinct content per position
        out.push(NewDefinition {
            hash: tel_hash::hash_bytes(&canonical),
            component: None,
            kind: kinds[usize::from(*kind) % kinds.len()],
            // Unique names: the position makes them so.
            name: format!("m{i}::{segment}"),
            canonical,
            source: format!("// {segment}\n{}", String::from_utf8_lossy(body)),
            dependencies,
        });
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn add_get_round_trips(specs in prop::collection::vec(
        ("[a-z_][a-z0-9_]{0,8}", prop::collection::vec(any::<u8>(), 0..64),
         prop::collection::vec(any::<prop::sample::Index>(), 0..4), any::<u8>()),
        1..24,
    )) {
        let defs = build(&specs);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("codebase.sqlite");
        let mut store = Store::open(&path).unwrap();
        let report = store.add_definitions(&defs, "prop").unwrap();
        prop_assert_eq!(report.new, defs.len());

        // Again: nothing changes.
        let again = store.add_definitions(&defs, "prop again").unwrap();
        prop_assert!(again.definitions.iter().all(|a| a.outcome == Outcome::Unchanged && !a.stored));
        drop(store);

        let store = Store::open_existing(&path).unwrap();
        for d in &defs {
            let got = store.get_by_hash(&d.hash).unwrap().unwrap();
            prop_assert_eq!(&got.canonical, &d.canonical);
            prop_assert_eq!(&got.source, &d.source);
            prop_assert_eq!(got.kind, d.kind);
            prop_assert_eq!(&got.dependencies, &d.dependencies);
            prop_assert_eq!(store.get_by_name(&d.name).unwrap(), Some(got));
            prop_assert_eq!(store.resolve_prefix(&format!("#{}", to_text(&d.hash))).unwrap(), d.hash);
            let closure = store.load_closure(&d.hash).unwrap();
            prop_assert_eq!(closure.last().map(|c| c.hash), Some(d.hash));
            // Dependencies first: each one's dependencies appear before it.
            for (i, c) in closure.iter().enumerate() {
                for dep in &c.dependencies {
                    prop_assert!(closure[..i].iter().any(|e| e.hash == *dep));
                }
            }
        }
        prop_assert_eq!(store.stats().unwrap().definitions, defs.len() as i64);
    }
}
