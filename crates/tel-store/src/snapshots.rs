//! Debug sessions kept in the codebase (`tel debug`, `tel dap`): a time-travel session paused
//! in one process and resumed in another.
//!
//! The store does not read what it keeps: a session's `setup` is tel-vm's encoding of the run
//! (its trace, the positions of its effects, the snapshot configuration) and its id is the
//! content address of that setup, derived by tel-vm; a snapshot's bytes are tel-vm's (a whole
//! machine, or a difference against the keyframe at position `base`). A session's setup and
//! its snapshots never change; its position does, and a session can be deleted, which
//! deletes its snapshots with it.

use crate::store::{At, now};
use crate::{Error, MAX_CANDIDATES, Store};
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use std::fmt;
use std::path::{Path, PathBuf};
use tel_hash::CodeHash;

/// The shortest session id prefix accepted.
pub const MIN_SESSION_PREFIX: usize = 4;

/// What can go wrong with sessions: the store's own errors, and these.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Store(#[from] Error),

    #[error("invalid session id `{id}`: {reason}")]
    InvalidId { id: String, reason: String },

    #[error("no debug session {id} in {path} (`tel debug --sessions` lists them)")]
    NotFound { path: PathBuf, id: String },

    #[error(
        "ambiguous: session {prefix} matches {count} sessions; type more characters:{}",
        candidates.iter().map(|c| format!("\n  {c}")).collect::<String>()
    )]
    Ambiguous { prefix: String, count: usize, candidates: Vec<String> },

    #[error(
        "{path} already holds a different session under id {id}: the id is not the hash of \
         this setup, or the stored one was altered"
    )]
    Conflict { path: PathBuf, id: String },

    #[error(
        "{path} already holds another snapshot of session {id} at position {position}: the \
         stored snapshots cannot be trusted; delete the session"
    )]
    SnapshotConflict { path: PathBuf, id: String, position: u64 },

    #[error("session {id}: the snapshot at {position} has base {base}, which is not before it")]
    BadBase { id: String, position: u64, base: u64 },
}

pub type Result<T, E = SessionError> = std::result::Result<T, E>;

/// A session to keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSession<'a> {
    /// 8 to 52 base32hex characters (`0-9a-v`): the content address of `setup`.
    pub id: &'a str,
    /// The definition the run started from.
    pub entry: CodeHash,
    pub entry_name: Option<&'a str>,
    /// Where the session stands (a global step index).
    pub position: u64,
    pub setup: &'a [u8],
}

/// One snapshot of a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSnapshot {
    pub position: u64,
    /// The position of the snapshot this one is a difference against; `None` when whole.
    pub base: Option<u64>,
    pub bytes: Vec<u8>,
}

/// A stored session, without its setup and snapshots.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SessionInfo {
    pub id: String,
    #[serde(serialize_with = "crate::hash_text::serde_text::serialize")]
    pub entry: CodeHash,
    pub entry_name: Option<String>,
    /// Unix seconds when the session was first kept.
    pub created: i64,
    pub position: u64,
    pub setup_bytes: u64,
    pub snapshots: u64,
    pub snapshot_bytes: u64,
}

impl fmt::Display for SessionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}  {}  {} {}  at {}  {} snapshots  {} bytes",
            self.id,
            crate::model::format_time(self.created),
            self.entry,
            self.entry_name.as_deref().unwrap_or("-"),
            self.position,
            self.snapshots,
            self.setup_bytes + self.snapshot_bytes
        )
    }
}

/// What [`Store::save_session`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct SessionSaved {
    /// The session was new to the store (else its position was updated).
    pub created: bool,
    /// Snapshots new to the store.
    pub snapshots_added: u64,
    /// Snapshots already stored (identical).
    pub snapshots_kept: u64,
}

/// Whether `id` can be a session id (or a prefix of one when `prefix`).
pub fn validate_session_id(id: &str, prefix: bool) -> Result<()> {
    let invalid = |reason: String| Err(SessionError::InvalidId { id: id.to_owned(), reason });
    let min = if prefix { MIN_SESSION_PREFIX } else { 8 };
    if id.len() < min || id.len() > 52 {
        return invalid(format!("a session id has {min} to 52 characters"));
    }
    if let Some(c) = id.chars().find(|c| !matches!(c.to_ascii_lowercase(), '0'..='9' | 'a'..='v')) {
        return invalid(format!("`{c}` is not a base32hex digit (0-9, a-v)"));
    }
    Ok(())
}

fn to_i64(n: u64) -> i64 {
    // SQLite integers are signed; positions are instruction counts, far below 2^63.
    i64::try_from(n).unwrap_or(i64::MAX)
}

const INFO_COLUMNS: &str = "s.id, s.entry, s.entry_name, s.created, s.position, length(s.setup),
        (SELECT count(*) FROM snapshots WHERE session = s.id),
        (SELECT coalesce(sum(length(bytes)), 0) FROM snapshots WHERE session = s.id)";

fn info_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SessionInfo> {
    let entry: String = r.get(1)?;
    Ok(SessionInfo {
        id: r.get(0)?,
        entry: CodeHash::parse(&entry).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
        })?,
        entry_name: r.get(2)?,
        created: r.get(3)?,
        position: r.get::<_, i64>(4)? as u64,
        setup_bytes: r.get::<_, i64>(5)? as u64,
        snapshots: r.get::<_, i64>(6)? as u64,
        snapshot_bytes: r.get::<_, i64>(7)? as u64,
    })
}

impl Store {
    /// Keeps a session and its snapshots, in one transaction. When a session with this id is
    /// already stored (the id is the setup's content address, so it is the same run), its
    /// position is updated and the snapshots it lacks are added; a different setup or a
    /// different snapshot at a stored position is refused and nothing changes.
    pub fn save_session(
        &mut self,
        session: &NewSession<'_>,
        snapshots: &[SessionSnapshot],
    ) -> Result<SessionSaved> {
        validate_session_id(session.id, false)?;
        let id = session.id.to_ascii_lowercase();
        for s in snapshots {
            if let Some(base) = s.base
                && base >= s.position
            {
                return Err(SessionError::BadBase { id, position: s.position, base });
            }
        }
        let now = now(self.clock);
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).at(&path)?;
        let existing: Option<Vec<u8>> = tx
            .query_row("SELECT setup FROM sessions WHERE id = ?1", [&id], |r| r.get(0))
            .optional()
            .at(&path)?;
        let created = match existing {
            Some(setup) if setup != session.setup => {
                return Err(SessionError::Conflict { path, id });
            }
            Some(_) => {
                tx.execute(
                    "UPDATE sessions SET position = ?2 WHERE id = ?1",
                    params![id, to_i64(session.position)],
                )
                .at(&path)?;
                false
            }
            None => {
                tx.execute(
                    "INSERT INTO sessions (id, entry, entry_name, created, position, setup)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        id,
                        session.entry.to_base32hex(),
                        session.entry_name,
                        now,
                        to_i64(session.position),
                        session.setup
                    ],
                )
                .at(&path)?;
                true
            }
        };
        let mut saved = SessionSaved { created, ..SessionSaved::default() };
        {
            let mut find = tx
                .prepare_cached(
                    "SELECT base, bytes FROM snapshots WHERE session = ?1 AND position = ?2",
                )
                .at(&path)?;
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO snapshots (session, position, base, bytes) VALUES (?1, ?2, ?3, ?4)",
                )
                .at(&path)?;
            for s in snapshots {
                let stored: Option<(Option<i64>, Vec<u8>)> = find
                    .query_row(params![id, to_i64(s.position)], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
                    .at(&path)?;
                match stored {
                    Some((base, bytes)) => {
                        if base.map(|b| b as u64) != s.base || bytes != s.bytes {
                            return Err(SessionError::SnapshotConflict {
                                path,
                                id,
                                position: s.position,
                            });
                        }
                        saved.snapshots_kept += 1;
                    }
                    None => {
                        insert
                            .execute(params![id, to_i64(s.position), s.base.map(to_i64), s.bytes])
                            .at(&path)?;
                        saved.snapshots_added += 1;
                    }
                }
            }
        }
        tx.commit().at(&path)?;
        Ok(saved)
    }

    /// Moves a stored session to `position` (the only thing about a session that changes).
    pub fn set_session_position(&mut self, id: &str, position: u64) -> Result<()> {
        validate_session_id(id, false)?;
        let path = self.path.clone();
        let n = self
            .conn
            .execute(
                "UPDATE sessions SET position = ?2 WHERE id = ?1",
                params![id.to_ascii_lowercase(), to_i64(position)],
            )
            .at(&path)?;
        if n == 0 {
            return Err(SessionError::NotFound { path, id: id.to_owned() });
        }
        Ok(())
    }

    /// The session whose id starts with `prefix` (at least [`MIN_SESSION_PREFIX`]
    /// characters): its description, setup and snapshots (by position), read in one
    /// snapshot of the file.
    pub fn session(&self, prefix: &str) -> Result<(SessionInfo, Vec<u8>, Vec<SessionSnapshot>)> {
        validate_session_id(prefix, true)?;
        let tx =
            Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred).at(&self.path)?;
        let id = resolve_session(&tx, &self.path, prefix)?;
        let (info, setup) = tx
            .query_row(
                &format!("SELECT {INFO_COLUMNS}, s.setup FROM sessions s WHERE s.id = ?1"),
                [&id],
                |r| Ok((info_row(r)?, r.get::<_, Vec<u8>>(8)?)),
            )
            .at(&self.path)?;
        let snapshots = tx
            .prepare_cached(
                "SELECT position, base, bytes FROM snapshots WHERE session = ?1 ORDER BY position",
            )
            .and_then(|mut s| {
                s.query_map([&id], |r| {
                    Ok(SessionSnapshot {
                        position: r.get::<_, i64>(0)? as u64,
                        base: r.get::<_, Option<i64>>(1)?.map(|b| b as u64),
                        bytes: r.get(2)?,
                    })
                })?
                .collect()
            })
            .at(&self.path)?;
        Ok((info, setup, snapshots))
    }

    /// The `limit` most recently created sessions, newest first (ties by id).
    pub fn sessions(&self, limit: usize) -> Result<Vec<SessionInfo>> {
        let list = self
            .conn
            .prepare_cached(&format!(
                "SELECT {INFO_COLUMNS} FROM sessions s ORDER BY s.created DESC, s.id LIMIT ?1"
            ))
            .and_then(|mut s| s.query_map([limit as i64], info_row)?.collect())
            .at(&self.path)?;
        Ok(list)
    }

    /// Forgets a session and its snapshots. Returns the id removed.
    pub fn remove_session(&mut self, prefix: &str) -> Result<String> {
        validate_session_id(prefix, true)?;
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).at(&path)?;
        let id = resolve_session(&tx, &path, prefix)?;
        tx.execute("DELETE FROM sessions WHERE id = ?1", [&id]).at(&path)?;
        tx.commit().at(&path)?;
        Ok(id)
    }
}

/// A session id prefix to the one id it names, or a clear error.
fn resolve_session(conn: &rusqlite::Connection, path: &Path, prefix: &str) -> Result<String> {
    let pattern = format!("{}%", prefix.to_ascii_lowercase());
    let found: Vec<String> = conn
        .prepare_cached("SELECT id FROM sessions WHERE id LIKE ?1 ORDER BY id LIMIT ?2")
        .and_then(|mut s| {
            s.query_map(params![pattern, MAX_CANDIDATES as i64 + 1], |r| r.get(0))?.collect()
        })
        .at(path)?;
    match found.len() {
        0 => Err(SessionError::NotFound { path: path.to_path_buf(), id: prefix.to_owned() }),
        1 => Ok(found.into_iter().next().unwrap_or_default()),
        _ => {
            let count: i64 = conn
                .query_row("SELECT count(*) FROM sessions WHERE id LIKE ?1", [&pattern], |r| {
                    r.get(0)
                })
                .at(path)?;
            Err(SessionError::Ambiguous {
                prefix: prefix.to_owned(),
                count: count as usize,
                candidates: found.into_iter().take(MAX_CANDIDATES).collect(),
            })
        }
    }
}
