//! Compiled RISC-V functions kept in the codebase (`tel run --backend riscv`), so a later
//! process links them instead of compiling them again.
//!
//! A compiled function depends on its definition and on the compiler that made it, so an
//! entry is keyed by both: the definition's hash and the code generator's identity
//! (`tel_riscv::CODEGEN`, 32 bytes). The store does not read the object: its bytes are
//! tel-riscv's. It is a cache: an entry can always be made again, so a damaged one is
//! replaced by the caller's new one, and entries of other compilers can be pruned.

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use tel_hash::CodeHash;

use crate::store::{At, now};
use crate::{Error, Result, Store};

/// One compiled function to keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompiledFunction {
    /// The hash of the definition it was compiled from.
    pub def: CodeHash,
    /// The identity of the code generator that compiled it.
    pub codegen: [u8; 32],
    /// tel-riscv's byte form of the compiled function.
    pub object: Vec<u8>,
}

/// What [`Store::save_compiled`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct CompiledSaved {
    /// Entries new to the store.
    pub added: u64,
    /// Entries whose stored object was another (a damaged one) and is now this one.
    pub replaced: u64,
    /// Entries stored already with these bytes: nothing changed.
    pub unchanged: u64,
}

impl Store {
    /// The object compiled from `def` by the code generator `codegen`, if kept.
    pub fn compiled_function(&self, def: &CodeHash, codegen: &[u8; 32]) -> Result<Option<Vec<u8>>> {
        self.conn
            .prepare_cached(
                "SELECT object FROM compiled_functions WHERE def_hash = ?1 AND codegen = ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![def.to_base32hex(), codegen.as_slice()], |r| r.get(0))
                    .optional()
            })
            .at(&self.path)
    }

    /// Keeps compiled functions, in one transaction. An entry stored already with the same
    /// bytes is left as it is; one stored with other bytes is replaced (for one code
    /// generator an object is a function of its definition, so the stored one is damaged).
    /// An entry with an empty object is refused, and then nothing is written.
    pub fn save_compiled(&mut self, functions: &[CompiledFunction]) -> Result<CompiledSaved> {
        let path = self.path.clone();
        if let Some(f) = functions.iter().find(|f| f.object.is_empty()) {
            return Err(Error::EmptyCompiled { path, def: f.def });
        }
        let created = now(self.clock);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).at(&path)?;
        let mut saved = CompiledSaved::default();
        {
            let mut stored = tx
                .prepare_cached(
                    "SELECT object FROM compiled_functions WHERE def_hash = ?1 AND codegen = ?2",
                )
                .at(&path)?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO compiled_functions (def_hash, codegen, object, created)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (def_hash, codegen)
                     DO UPDATE SET object = excluded.object, created = excluded.created",
                )
                .at(&path)?;
            for f in functions {
                let def = f.def.to_base32hex();
                let before: Option<Vec<u8>> = stored
                    .query_row(params![def, f.codegen.as_slice()], |r| r.get(0))
                    .optional()
                    .at(&path)?;
                match before {
                    Some(object) if object == f.object => {
                        saved.unchanged += 1;
                        continue;
                    }
                    Some(_) => saved.replaced += 1,
                    None => saved.added += 1,
                }
                insert.execute(params![def, f.codegen.as_slice(), f.object, created]).at(&path)?;
            }
        }
        tx.commit().at(&path)?;
        Ok(saved)
    }

    /// Forgets the functions compiled by any code generator but `keep`; returns how many.
    pub fn prune_compiled(&mut self, keep: &[u8; 32]) -> Result<u64> {
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).at(&path)?;
        let n = tx
            .execute("DELETE FROM compiled_functions WHERE codegen != ?1", [keep.as_slice()])
            .at(&path)? as u64;
        tx.commit().at(&path)?;
        Ok(n)
    }

    /// How many compiled functions are kept, of any code generator.
    pub fn compiled_count(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT count(*) FROM compiled_functions", [], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .at(&self.path)
    }
}
