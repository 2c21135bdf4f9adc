//! Run traces kept in the codebase (`tel run` records, `tel trace` and `tel replay` read).
//!
//! The store does not read a trace: `bytes` is the self-contained trace file the CLI writes
//! (tel-vm's recorded events plus the code that ran), already compressed, and the run id is
//! derived from its head hash by the caller. The store guarantees what it guarantees for
//! definitions: one transaction per write, rows that never change, clear errors naming the
//! codebase and the id.

use crate::store::{At, now};
use crate::{Error, MAX_CANDIDATES, Result, Store};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use std::fmt;
use tel_hash::CodeHash;

/// The shortest run id prefix accepted, as for hashes.
pub const MIN_RUN_PREFIX: usize = 4;

/// A trace to keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTrace<'a> {
    /// 8 to 52 base32hex characters (`0-9a-v`), lowercase.
    pub id: &'a str,
    /// The definition the run started from.
    pub entry: CodeHash,
    pub entry_name: Option<&'a str>,
    /// How many events the trace holds.
    pub events: u64,
    /// Whether the run ended with a value or a runtime error.
    pub outcome: RunOutcome,
    pub bytes: &'a [u8],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunOutcome {
    Value,
    Error,
    /// Stopped at a position and upgraded to a new schema version (`tel schema upgrade`).
    Upgraded,
}

impl RunOutcome {
    fn as_str(self) -> &'static str {
        match self {
            RunOutcome::Value => "value",
            RunOutcome::Error => "error",
            RunOutcome::Upgraded => "upgraded",
        }
    }

    fn parse(text: &str) -> Option<RunOutcome> {
        match text {
            "value" => Some(RunOutcome::Value),
            "error" => Some(RunOutcome::Error),
            "upgraded" => Some(RunOutcome::Upgraded),
            _ => None,
        }
    }
}

/// A stored trace, without its bytes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TraceInfo {
    pub id: String,
    #[serde(serialize_with = "crate::hash_text::serde_text::serialize")]
    pub entry: CodeHash,
    pub entry_name: Option<String>,
    /// Unix seconds when the run was first kept.
    pub created: i64,
    pub events: u64,
    pub outcome: RunOutcome,
    /// Size of the stored (compressed) trace file.
    pub bytes: u64,
}

/// `tel trace list`: the most recent runs first.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TraceList {
    pub traces: Vec<TraceInfo>,
}

impl fmt::Display for TraceInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.entry_name.as_deref().unwrap_or("-");
        write!(
            f,
            "{}  {}  {} {name}  {} events  {}  {} bytes",
            self.id,
            crate::model::format_time(self.created),
            self.entry,
            self.events,
            self.outcome.as_str(),
            self.bytes
        )
    }
}

impl fmt::Display for TraceList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for t in &self.traces {
            writeln!(f, "{t}")?;
        }
        Ok(())
    }
}

/// Whether `id` can be a run id (or a prefix of one when `prefix`).
pub fn validate_run_id(id: &str, prefix: bool) -> Result<()> {
    let invalid = |reason: String| Err(Error::InvalidRunId { id: id.to_owned(), reason });
    let min = if prefix { MIN_RUN_PREFIX } else { 8 };
    if id.len() < min || id.len() > 52 {
        return invalid(format!("a run id has {min} to 52 characters"));
    }
    if let Some(c) = id.chars().find(|c| !matches!(c.to_ascii_lowercase(), '0'..='9' | 'a'..='v')) {
        return invalid(format!("`{c}` is not a base32hex digit (0-9, a-v)"));
    }
    Ok(())
}

const INFO_COLUMNS: &str = "id, entry, entry_name, created, events, outcome, length(bytes)";

fn info_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TraceInfo> {
    let entry: String = r.get(1)?;
    let outcome: String = r.get(5)?;
    let conversion = |i: usize, e: Box<dyn std::error::Error + Send + Sync>| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e)
    };
    Ok(TraceInfo {
        id: r.get(0)?,
        entry: CodeHash::parse(&entry).map_err(|e| conversion(1, Box::new(e)))?,
        entry_name: r.get(2)?,
        created: r.get(3)?,
        events: r.get::<_, i64>(4)? as u64,
        outcome: RunOutcome::parse(&outcome)
            .ok_or_else(|| conversion(5, format!("unknown run outcome `{outcome}`").into()))?,
        bytes: r.get::<_, i64>(6)? as u64,
    })
}

impl Store {
    /// Keeps a trace. Returns `false` (and changes nothing) when a trace with this id is
    /// already stored: the id is the run's content address, so it is the same run. Another
    /// trace under the same id (which would mean a hash collision or a forged id) is refused.
    pub fn add_trace(&mut self, trace: &NewTrace<'_>) -> Result<bool> {
        validate_run_id(trace.id, false)?;
        let now = now(self.clock);
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).at(&path)?;
        let existing: Option<Vec<u8>> = tx
            .query_row("SELECT bytes FROM traces WHERE id = ?1", [trace.id], |r| r.get(0))
            .optional()
            .at(&path)?;
        if let Some(bytes) = existing {
            if bytes != trace.bytes {
                return Err(Error::TraceConflict { path, id: trace.id.to_owned() });
            }
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO traces (id, entry, entry_name, created, events, outcome, bytes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                trace.id.to_ascii_lowercase(),
                trace.entry.to_base32hex(),
                trace.entry_name,
                now,
                trace.events as i64,
                trace.outcome.as_str(),
                trace.bytes
            ],
        )
        .at(&path)?;
        tx.commit().at(&path)?;
        Ok(true)
    }

    /// The run whose id starts with `prefix` (at least [`MIN_RUN_PREFIX`] characters): its
    /// description and trace bytes, read in one snapshot.
    pub fn trace(&self, prefix: &str) -> Result<(TraceInfo, Vec<u8>)> {
        validate_run_id(prefix, true)?;
        let tx =
            Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred).at(&self.path)?;
        let id = resolve_run(&tx, &self.path, prefix)?;
        let found = tx
            .query_row(
                &format!("SELECT {INFO_COLUMNS}, bytes FROM traces WHERE id = ?1"),
                [&id],
                |r| Ok((info_row(r)?, r.get::<_, Vec<u8>>(7)?)),
            )
            .at(&self.path)?;
        Ok(found)
    }

    /// The `limit` most recent runs, newest first (ties by id).
    pub fn traces(&self, limit: usize) -> Result<TraceList> {
        let traces = self
            .conn
            .prepare_cached(&format!(
                "SELECT {INFO_COLUMNS} FROM traces ORDER BY created DESC, id LIMIT ?1"
            ))
            .and_then(|mut s| s.query_map([limit as i64], info_row)?.collect())
            .at(&self.path)?;
        Ok(TraceList { traces })
    }

    /// Forgets a run (traces are the only rows a user may delete: they are records of what
    /// happened, not code). Returns the id removed.
    pub fn remove_trace(&mut self, prefix: &str) -> Result<String> {
        validate_run_id(prefix, true)?;
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).at(&path)?;
        let id = resolve_run(&tx, &path, prefix)?;
        tx.execute("DELETE FROM traces WHERE id = ?1", [&id]).at(&path)?;
        tx.commit().at(&path)?;
        Ok(id)
    }
}

/// A run id prefix to the one id it names, or a clear error.
fn resolve_run(
    conn: &rusqlite::Connection,
    path: &std::path::Path,
    prefix: &str,
) -> Result<String> {
    let pattern = format!("{}%", prefix.to_ascii_lowercase());
    let found: Vec<String> = conn
        .prepare_cached("SELECT id FROM traces WHERE id LIKE ?1 ORDER BY id LIMIT ?2")
        .and_then(|mut s| {
            s.query_map(params![pattern, MAX_CANDIDATES as i64 + 1], |r| r.get(0))?.collect()
        })
        .at(path)?;
    match found.len() {
        0 => Err(Error::RunNotFound { path: path.to_path_buf(), id: prefix.to_owned() }),
        1 => Ok(found.into_iter().next().unwrap_or_default()),
        _ => {
            let count: i64 = conn
                .query_row("SELECT count(*) FROM traces WHERE id LIKE ?1", [&pattern], |r| r.get(0))
                .at(path)?;
            Err(Error::AmbiguousRun {
                prefix: prefix.to_owned(),
                count: count as usize,
                candidates: found.into_iter().take(MAX_CANDIDATES).collect(),
            })
        }
    }
}
