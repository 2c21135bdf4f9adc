//! Differential tests: the VM and RISC-V give the same value, the same host interactions
//! and the same error (kind, message and place) — on every function of the fixtures that is
//! in the subset, and on generated programs.

mod generate;
mod support;

use std::fmt::Write;

use proptest::prelude::*;
use support::{Verdict, compare, stored_file};
use tel_hash::core::CoreDef;
use tel_vm::Value;

/// Arguments for a function of these kinds: small numbers, negatives, both Bools.
fn arg_sets(kinds: &[tel_riscv::Kind]) -> Vec<Vec<Value>> {
    const INTS: [i64; 8] = [0, 1, 2, 5, 10, -1, -7, 27];
    (0..6)
        .map(|i| {
            kinds
                .iter()
                .enumerate()
                .map(|(k, kind)| match kind {
                    tel_riscv::Kind::Int => Value::Int(INTS[(i + 3 * k) % INTS.len()]),
                    tel_riscv::Kind::Bool => Value::Bool((i + k) % 2 == 0),
                    tel_riscv::Kind::Unit => Value::Unit,
                })
                .collect()
        })
        .collect()
}

#[test]
fn every_fixture_function_in_the_subset_agrees() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/valid");
    let mut files: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut report = String::new();
    let mut agreed = 0;
    for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "tel")) {
        let file = path.file_name().unwrap().to_str().unwrap();
        let (defs, names) = stored_file(file, &std::fs::read_to_string(path).unwrap());
        let mut fns: Vec<_> =
            names.iter().filter(|(_, h)| matches!(defs[*h].def, CoreDef::Fn { .. })).collect();
        fns.sort();
        for (name, hash) in fns {
            let module = match tel_riscv::compile(&defs, *hash) {
                Ok(m) => m,
                Err(_) => continue,
            };
            let mut verdicts = Vec::new();
            for args in arg_sets(&module.entry_fn().params) {
                let v = compare(&defs, *hash, args, &format!("{file}: {name}"));
                agreed += usize::from(v != Verdict::FuelOut);
                verdicts.push(v.to_string());
            }
            verdicts.dedup();
            let _ = writeln!(report, "{file}: {name}: {}", verdicts.join(", "));
        }
    }
    expect_test::expect_file!["fixtures.txt"].assert_eq(&report);
    assert!(agreed >= 40, "only {agreed} runs compared");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Generated programs: value, effects and error agree (runs that spend their fuel on
    /// either side are not compared: fuel counts VM operations on one, instructions on the
    /// other).
    #[test]
    fn generated_programs_agree(seed in any::<u64>()) {
        let src = generate::program(seed);
        let (defs, names) = support::stored(&src);
        compare(&defs, names["main"], Vec::new(), &src);
    }
}

/// The generator's programs cover what they should: values, traps, refusals, depth.
#[test]
fn generated_programs_reach_every_outcome() {
    let mut seen = std::collections::BTreeMap::new();
    for seed in 0..300 {
        let src = generate::program(seed);
        let (defs, names) = support::stored(&src);
        let v = compare(&defs, names["main"], Vec::new(), &src);
        *seen.entry(v.kind()).or_insert(0) += 1;
    }
    eprintln!("outcomes of 300 generated programs: {seen:?}");
    for kind in ["value", "trap", "host", "call depth"] {
        assert!(seen.get(kind).copied().unwrap_or(0) >= 5, "too few {kind} among {seen:?}");
    }
}

/// A run stopped by its fuel stops elsewhere on the VM (fuel counts other instructions), so
/// its trace replays on RISC-V, the backend it names, and not on the VM.
#[test]
fn a_run_stopped_by_its_fuel_replays_on_its_own_backend() {
    let src = "fn main() -> Int ! {Log} { count(40) }
               fn count(n: Int) -> Int ! {Log} { if n == 0 { 0 } else { perform Log(\"tick\"); 1 + count(n - 1) } }";
    let (defs, names) = support::stored(src);
    let entry = names["main"];
    let program = tel_vm::Program::load(&defs, entry).unwrap();
    let module = tel_riscv::compile(&defs, entry).unwrap();
    let mut meta = tel_vm::RunMeta::new(&program);
    meta.limits = tel_vm::Limits { fuel: 400, ..support::limits() };
    let rec = tel_riscv::record(&module, &meta, &mut support::host()).unwrap();
    assert!(matches!(
        rec.outcome,
        Err(tel_vm::RuntimeError::ResourceExhausted { resource: tel_vm::Resource::Fuel, .. })
    ));
    assert_eq!(rec.trace.meta().backend, tel_vm::trace::Backend::Riscv);
    let on_riscv = tel_riscv::replay(&module, &rec.trace, &program);
    assert!(on_riscv.identical(), "{on_riscv}");
    let on_vm = tel_vm::replay(&rec.trace, &program);
    assert!(!on_vm.identical(), "the VM stopped where RISC-V did");
}
