//! Compiled RISC-V functions kept in the codebase: round trips by (definition, code
//! generator), saving again, replacing a damaged object, refusals that write nothing, pruning
//! other code generators, and a codebase of format 4 brought up to date.

mod common;

use common::fresh;
use tel_hash::CodeHash;
use tel_store::{CompiledFunction, CompiledSaved, Error, Store, schema};

fn h(text: &str) -> CodeHash {
    tel_hash::hash_bytes(text.as_bytes())
}

fn f(def: &str, codegen: u8, object: &[u8]) -> CompiledFunction {
    CompiledFunction { def: h(def), codegen: [codegen; 32], object: object.to_vec() }
}

#[test]
fn functions_are_kept_by_definition_and_code_generator() {
    let mut fx = fresh();
    let s = &mut fx.store;
    let saved = s.save_compiled(&[f("fib", 1, b"fib v1"), f("fib", 2, b"fib v2")]).unwrap();
    assert_eq!(saved, CompiledSaved { added: 2, replaced: 0, unchanged: 0 });
    assert_eq!(s.compiled_function(&h("fib"), &[1; 32]).unwrap().as_deref(), Some(&b"fib v1"[..]));
    assert_eq!(s.compiled_function(&h("fib"), &[2; 32]).unwrap().as_deref(), Some(&b"fib v2"[..]));
    // Another compiler's entry is not this one's; an unknown definition is a miss.
    assert_eq!(s.compiled_function(&h("fib"), &[3; 32]).unwrap(), None);
    assert_eq!(s.compiled_function(&h("gcd"), &[1; 32]).unwrap(), None);

    // Kept across reopening.
    let path = s.path().to_path_buf();
    drop(fx.store);
    let mut s = Store::open(&path).unwrap();
    assert_eq!(s.compiled_count().unwrap(), 2);

    // Saving the same bytes again changes nothing; other bytes replace a damaged entry.
    let saved = s.save_compiled(&[f("fib", 1, b"fib v1"), f("fib", 2, b"repaired")]).unwrap();
    assert_eq!(saved, CompiledSaved { added: 0, replaced: 1, unchanged: 1 });
    assert_eq!(
        s.compiled_function(&h("fib"), &[2; 32]).unwrap().as_deref(),
        Some(&b"repaired"[..])
    );

    // Entries of other code generators are pruned.
    assert_eq!(s.prune_compiled(&[1; 32]).unwrap(), 1);
    assert_eq!(s.compiled_count().unwrap(), 1);
    assert_eq!(s.compiled_function(&h("fib"), &[1; 32]).unwrap().as_deref(), Some(&b"fib v1"[..]));
}

#[test]
fn a_refused_batch_writes_nothing() {
    let mut fx = fresh();
    let s = &mut fx.store;
    s.save_compiled(&[f("fib", 1, b"fib")]).unwrap();
    let err = s.save_compiled(&[f("gcd", 1, b"gcd"), f("pow", 1, b"")]).unwrap_err();
    assert!(matches!(&err, Error::EmptyCompiled { def, .. } if *def == h("pow")), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("its object is empty") && msg.contains("nothing was written"), "{msg}");
    assert_eq!(s.compiled_function(&h("gcd"), &[1; 32]).unwrap(), None);
    assert_eq!(s.compiled_count().unwrap(), 1);
    // The table's own checks hold for raw SQL too.
    let raw = s.connection();
    for sql in [
        "INSERT INTO compiled_functions VALUES ('tooshort', zeroblob(32), x'01', 0)",
        "INSERT INTO compiled_functions VALUES (?1, zeroblob(31), x'01', 0)",
        "INSERT INTO compiled_functions VALUES (?1, zeroblob(32), x'', 0)",
    ] {
        let params: &[&dyn rusqlite::ToSql] =
            if sql.contains("?1") { &[&h("x").to_base32hex()] } else { &[] };
        assert!(raw.execute(sql, params).is_err(), "{sql}");
    }
}

#[test]
fn a_codebase_of_format_4_gains_the_table_and_keeps_its_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("codebase.sqlite");
    let mut conn = rusqlite::Connection::open(&path).unwrap();
    schema::migrate(&mut conn, &schema::MIGRATIONS[..4], 0).unwrap();
    conn.execute(
        "INSERT INTO traces (id, entry, entry_name, created, events, outcome, bytes)
         VALUES ('abcd0123ef', ?1, 'demo::main', 7, 3, 'value', x'01')",
        [h("main").to_base32hex()],
    )
    .unwrap();
    let missing = conn.execute("SELECT 1 FROM compiled_functions", []);
    assert!(missing.is_err(), "format 4 has no compiled functions");
    // Migrating brings it to 5 once; a second migration finds nothing to do.
    assert_eq!(
        schema::migrate(&mut conn, schema::MIGRATIONS, 0).unwrap(),
        schema::Found::Codebase(4)
    );
    assert_eq!(
        schema::migrate(&mut conn, schema::MIGRATIONS, 0).unwrap(),
        schema::Found::Codebase(5)
    );
    drop(conn);

    let mut store = Store::open(&path).unwrap();
    assert_eq!(store.format_version().unwrap(), 5);
    assert_eq!(store.trace("abcd0123ef").unwrap().1, vec![1]);
    store.save_compiled(&[f("main", 9, b"main")]).unwrap();
    assert_eq!(
        store.compiled_function(&h("main"), &[9; 32]).unwrap().as_deref(),
        Some(&b"main"[..])
    );
    let check: String =
        store.connection().query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
}
