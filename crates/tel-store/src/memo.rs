//! The memo cache kept in the codebase (`tel run --memo`): results of pure calls by
//! (function hash, hash of the arguments), so a later run starts with the answers earlier
//! runs computed.
//!
//! The store does not interpret keys or results: the arguments' hash and the result's bytes
//! are tel-vm's. A function's hash covers its code and everything it calls, so an entry can
//! never go stale; the only reason to drop one is the cache's bound, and the least recently
//! used go first.

use crate::store::{At, now};
use crate::{Error, Result, Store};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use std::fmt;
use tel_hash::CodeHash;

/// The default bound of the persisted cache, in entries.
pub const DEFAULT_MEMO_CAPACITY: u64 = 100_000;

/// One memoized call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoEntry {
    pub function: CodeHash,
    /// A hash of the arguments (8 to 64 bytes).
    pub args: Vec<u8>,
    /// The result, in tel-vm's encoding.
    pub result: Vec<u8>,
}

/// What [`Store::memo_save`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MemoSaved {
    /// Entries new to the store.
    pub added: u64,
    /// Entries already there (their use was refreshed).
    pub refreshed: u64,
    /// Least recently used entries dropped to stay within the bound.
    pub evicted: u64,
}

/// `tel store stats`-like figures of the cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MemoStats {
    pub entries: u64,
    pub functions: u64,
    pub result_bytes: u64,
    /// Hits recorded over the entries still kept.
    pub hits: u64,
}

impl fmt::Display for MemoStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "memo entries     {}", self.entries)?;
        writeln!(f, "memo functions   {}", self.functions)?;
        writeln!(f, "memo result bytes {}", self.result_bytes)?;
        writeln!(f, "memo hits        {}", self.hits)
    }
}

impl Store {
    /// Every entry of the given functions, most recently used first, at most `limit`: what a
    /// run loads into its in-memory cache before it starts.
    pub fn memo_entries(&self, functions: &[CodeHash], limit: u64) -> Result<Vec<MemoEntry>> {
        let tx =
            Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred).at(&self.path)?;
        let mut out = Vec::new();
        {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT args, result FROM memo WHERE function = ?1 ORDER BY used DESC LIMIT ?2",
                )
                .at(&self.path)?;
            for function in functions {
                let remaining = limit.saturating_sub(out.len() as u64);
                if remaining == 0 {
                    break;
                }
                let rows = stmt
                    .query_map(params![function.to_base32hex(), remaining as i64], |r| {
                        Ok(MemoEntry { function: *function, args: r.get(0)?, result: r.get(1)? })
                    })
                    .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                    .at(&self.path)?;
                out.extend(rows);
            }
        }
        tx.finish().at(&self.path)?;
        Ok(out)
    }

    /// One entry's result, if stored.
    pub fn memo_get(&self, function: &CodeHash, args: &[u8]) -> Result<Option<Vec<u8>>> {
        self.conn
            .prepare_cached("SELECT result FROM memo WHERE function = ?1 AND args = ?2")
            .and_then(|mut s| {
                s.query_row(params![function.to_base32hex(), args], |r| r.get(0)).optional()
            })
            .at(&self.path)
    }

    /// Stores the entries a run computed and counts the `hits` (function, args) a run
    /// answered from the cache, in one transaction; then evicts the least recently used
    /// entries beyond `capacity`. An entry already stored keeps its result (a pure call has
    /// one) and is marked as just used.
    pub fn memo_save(
        &mut self,
        entries: &[MemoEntry],
        hits: &[(CodeHash, Vec<u8>)],
        capacity: u64,
    ) -> Result<MemoSaved> {
        let path = self.path.clone();
        let created = now(self.clock);
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).at(&path)?;
        let mut saved = MemoSaved::default();
        {
            // `used` is a counter, not a time: within one second many saves must still
            // order, and a clock that goes back must not make new entries look old.
            let mut next: i64 = tx
                .query_row("SELECT coalesce(max(used), 0) + 1 FROM memo", [], |r| r.get(0))
                .at(&path)?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO memo (function, args, result, created, used) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (function, args) DO UPDATE SET used = excluded.used",
                )
                .at(&path)?;
            let mut stored = tx
                .prepare_cached("SELECT result FROM memo WHERE function = ?1 AND args = ?2")
                .at(&path)?;
            for e in entries {
                let function = e.function.to_base32hex();
                let before: Option<Vec<u8>> = stored
                    .query_row(params![function, e.args], |r| r.get(0))
                    .optional()
                    .at(&path)?;
                match before {
                    // Two results for one pure call: the runtime is not deterministic, or
                    // the file was edited. Either way the cache cannot be trusted with it.
                    Some(result) if result != e.result => {
                        return Err(Error::MemoConflict { path, function: e.function });
                    }
                    Some(_) => saved.refreshed += 1,
                    None => saved.added += 1,
                }
                insert.execute(params![function, e.args, e.result, created, next]).at(&path)?;
                next += 1;
            }
            let mut hit = tx
                .prepare_cached(
                    "UPDATE memo SET hits = hits + 1, used = ?3 WHERE function = ?1 AND args = ?2",
                )
                .at(&path)?;
            for (function, args) in hits {
                hit.execute(params![function.to_base32hex(), args, next]).at(&path)?;
                next += 1;
            }
        }
        let count: i64 = tx.query_row("SELECT count(*) FROM memo", [], |r| r.get(0)).at(&path)?;
        let excess = (count as u64).saturating_sub(capacity);
        if excess > 0 {
            saved.evicted = tx
                .execute(
                    "DELETE FROM memo WHERE (function, args) IN
                       (SELECT function, args FROM memo ORDER BY used LIMIT ?1)",
                    [excess as i64],
                )
                .at(&path)? as u64;
        }
        tx.commit().at(&path)?;
        Ok(saved)
    }

    pub fn memo_stats(&self) -> Result<MemoStats> {
        self.conn
            .query_row(
                "SELECT count(*), count(DISTINCT function), coalesce(sum(length(result)), 0),
                        coalesce(sum(hits), 0) FROM memo",
                [],
                |r| {
                    Ok(MemoStats {
                        entries: r.get::<_, i64>(0)? as u64,
                        functions: r.get::<_, i64>(1)? as u64,
                        result_bytes: r.get::<_, i64>(2)? as u64,
                        hits: r.get::<_, i64>(3)? as u64,
                    })
                },
            )
            .at(&self.path)
    }

    /// Empties the cache; returns how many entries were dropped.
    pub fn memo_clear(&mut self) -> Result<u64> {
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).at(&path)?;
        let n = tx.execute("DELETE FROM memo", []).at(&path)? as u64;
        tx.commit().at(&path)?;
        Ok(n)
    }
}
