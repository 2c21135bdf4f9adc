//! Reads scanned one function at a time and merged (what the editor keeps, so that an edit
//! rescans one body) are the reads of scanning them all at once.

mod support;

use support::{fixture, load};
use tel_schema::Reads;

#[test]
fn merged_per_function_reads_are_the_reads_of_all_functions() {
    for file in ["valid/schema_v2.tel", "schema/used/vault.tel", "schema/orders/v2.tel"] {
        let program = load(&fixture(file));
        let together = Reads::of_functions(&program.code, program.functions.iter().copied());
        let mut merged = Reads::default();
        for f in &program.functions {
            merged.extend(&Reads::of_functions(&program.code, [*f]));
        }
        assert!(!together.is_empty(), "{file}: the fixture reads fields");
        assert_eq!(merged, together, "{file}");
    }
    assert!(Reads::default().is_empty());
}
