//! Compiled program artifacts (`tel build`): a program version's manifest as canonical JSON,
//! keyed by its hash.
//!
//! The store does not read a manifest beyond checking that it is JSON (the table's CHECK):
//! tel-schema builds it and derives the hash from its text, as the CLI derives a run id from
//! its trace. What the store guarantees is what it guarantees for definitions: one
//! transaction per write, rows that never change and are never deleted, a different manifest
//! under a stored hash refused, clear errors naming the codebase and the hash.

use std::fmt;
use std::path::PathBuf;

use rusqlite::{OptionalExtension, TransactionBehavior, params};
use tel_hash::{CodeHash, HashPrefix};

use crate::store::{At, now};
use crate::{Error, MAX_CANDIDATES, Store};

/// An artifact to keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewArtifact<'a> {
    pub hash: CodeHash,
    /// The program's name from `tel.toml`.
    pub program: &'a str,
    pub version: Option<&'a str>,
    /// The canonical JSON text the hash was computed from.
    pub manifest: &'a str,
}

/// A stored artifact.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ArtifactInfo {
    #[serde(serialize_with = "crate::hash_text::serde_text::serialize")]
    pub hash: CodeHash,
    pub program: String,
    pub version: Option<String>,
    /// Unix seconds when it was first kept.
    pub created: i64,
    pub manifest: String,
}

impl fmt::Display for ArtifactInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{}  {}  {} {}",
            self.hash.to_base32hex(),
            crate::model::format_time(self.created),
            self.program,
            self.version.as_deref().unwrap_or("-")
        )
    }
}

/// What can go wrong with artifacts, beyond the store's own errors.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error(transparent)]
    Store(#[from] Error),

    #[error("no artifact {prefix} in {path} (`tel build` writes one)")]
    NotFound { path: PathBuf, prefix: String },

    #[error(
        "ambiguous: artifact {prefix} matches {count} artifacts; type more characters:{}",
        candidates.iter().map(|c| format!("\n  #{}", c.to_base32hex())).collect::<String>()
    )]
    Ambiguous { prefix: String, count: usize, candidates: Vec<CodeHash> },

    #[error(
        "{path} already holds a different manifest under artifact #{}: the hash is not the \
         hash of this manifest, or the stored one was altered",
        hash.to_base32hex()
    )]
    Conflict { path: PathBuf, hash: CodeHash },

    #[error("{path}: the stored artifact {hash} is unreadable: {detail}")]
    Corrupt { path: PathBuf, hash: String, detail: String },
}

pub type Result<T, E = ArtifactError> = std::result::Result<T, E>;

const COLUMNS: &str = "hash, program, version, created, manifest";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, ArtifactInfo)> {
    let hash: String = r.get(0)?;
    Ok((
        hash,
        ArtifactInfo {
            hash: CodeHash([0; 32]),
            program: r.get(1)?,
            version: r.get(2)?,
            created: r.get(3)?,
            manifest: r.get(4)?,
        },
    ))
}

impl Store {
    /// Keeps an artifact. Returns `false` (and changes nothing) when the same artifact is
    /// stored already; a different manifest under the same hash is refused.
    pub fn add_artifact(&mut self, artifact: &NewArtifact<'_>) -> Result<bool> {
        let now = now(self.clock);
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).at(&path)?;
        let hash = artifact.hash.to_base32hex();
        let existing: Option<String> = tx
            .query_row("SELECT manifest FROM artifacts WHERE hash = ?1", [&hash], |r| r.get(0))
            .optional()
            .at(&path)?;
        if let Some(manifest) = existing {
            if manifest != artifact.manifest {
                return Err(ArtifactError::Conflict { path, hash: artifact.hash });
            }
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO artifacts (hash, program, version, created, manifest)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![hash, artifact.program, artifact.version, now, artifact.manifest],
        )
        .at(&path)?;
        tx.commit().at(&path)?;
        Ok(true)
    }

    /// The artifact whose hash starts with `prefix` (`#` and at least 4 digits).
    pub fn artifact(&self, prefix: &str) -> Result<ArtifactInfo> {
        let parsed = HashPrefix::parse(prefix).map_err(Error::from)?;
        let pattern = format!("{}%", parsed.digits());
        let found: Vec<(String, ArtifactInfo)> = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM artifacts WHERE hash LIKE ?1 ORDER BY hash LIMIT ?2"
            ))
            .and_then(|mut s| {
                s.query_map(params![pattern, MAX_CANDIDATES as i64 + 1], row)?.collect()
            })
            .at(&self.path)?;
        match found.len() {
            0 => {
                Err(ArtifactError::NotFound { path: self.path.clone(), prefix: prefix.to_owned() })
            }
            1 => {
                let mut infos = self.parse_rows(found)?;
                Ok(infos.remove(0))
            }
            _ => {
                let count: i64 = self
                    .conn
                    .query_row(
                        "SELECT count(*) FROM artifacts WHERE hash LIKE ?1",
                        [&pattern],
                        |r| r.get(0),
                    )
                    .at(&self.path)?;
                let candidates = self
                    .parse_rows(found)?
                    .into_iter()
                    .take(MAX_CANDIDATES)
                    .map(|a| a.hash)
                    .collect();
                Err(ArtifactError::Ambiguous {
                    prefix: prefix.to_owned(),
                    count: count as usize,
                    candidates,
                })
            }
        }
    }

    /// The artifacts of `program` (every program's when `None`), newest first (ties by hash).
    pub fn artifacts(&self, program: Option<&str>, limit: usize) -> Result<Vec<ArtifactInfo>> {
        let found: Vec<(String, ArtifactInfo)> = match program {
            Some(p) => self
                .conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM artifacts WHERE program = ?1
                     ORDER BY created DESC, hash LIMIT ?2"
                ))
                .and_then(|mut s| s.query_map(params![p, limit as i64], row)?.collect()),
            None => self
                .conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM artifacts ORDER BY created DESC, hash LIMIT ?1"
                ))
                .and_then(|mut s| s.query_map(params![limit as i64], row)?.collect()),
        }
        .at(&self.path)?;
        self.parse_rows(found)
    }

    fn parse_rows(&self, rows: Vec<(String, ArtifactInfo)>) -> Result<Vec<ArtifactInfo>> {
        rows.into_iter()
            .map(|(text, mut info)| {
                info.hash = CodeHash::parse(&text).map_err(|e| ArtifactError::Corrupt {
                    path: self.path.clone(),
                    hash: text.clone(),
                    detail: e.to_string(),
                })?;
                Ok(info)
            })
            .collect()
    }
}
