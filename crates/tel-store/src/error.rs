//! Errors of the store. Each message names what went wrong, where (the codebase file, the
//! name, the hash), and what to do about it: they are shown to users as they are.

use crate::hash_text::{short, to_text};
use std::path::PathBuf;
use tel_hash::CodeHash;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A definition offered when a hash prefix is ambiguous.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Candidate {
    #[serde(serialize_with = "crate::hash_text::serde_text::serialize")]
    pub hash: CodeHash,
    pub names: Vec<String>,
}

fn list_candidates(candidates: &[Candidate], count: usize) -> String {
    let mut out = String::new();
    for c in candidates {
        out.push_str("\n  #");
        out.push_str(&to_text(&c.hash));
        if !c.names.is_empty() {
            out.push_str("  ");
            out.push_str(&c.names.join(", "));
        }
    }
    if count > candidates.len() {
        out.push_str(&format!("\n  … and {} more", count - candidates.len()));
    }
    out
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- where the codebase is, and whether it can be opened ----
    #[error(
        "no tel.toml in {start} or any parent directory: run tel inside a TEL project, \
         or set TEL_CODEBASE to the codebase file to use"
    )]
    NoProject { start: PathBuf },

    #[error(
        "no codebase at {path}: `tel store add` creates it, or set TEL_CODEBASE to an existing one"
    )]
    Missing { path: PathBuf },

    #[error(
        "{place} is read-only: cannot create or write the codebase {path}; make it writable, \
         or set TEL_CODEBASE to a file in a writable directory"
    )]
    ReadOnly { place: PathBuf, path: PathBuf },

    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },

    #[error("cannot create the directory {dir} for the codebase: {source}")]
    CreateDir { dir: PathBuf, source: std::io::Error },

    #[error(
        "{path} is not a TEL codebase ({detail}): move it away or set TEL_CODEBASE to another path"
    )]
    NotACodebase { path: PathBuf, detail: String },

    #[error(
        "{path} is corrupt ({detail}): restore it from a backup, or move it away and \
         `tel store add` your sources again"
    )]
    Corrupt { path: PathBuf, detail: String },

    #[error(
        "{path} was written by a newer tel (codebase format {found}; this tel reads up to \
         {supported}): upgrade tel"
    )]
    NewerFormat { path: PathBuf, found: i64, supported: i64 },

    #[error(
        "{path} stayed locked by another tel process for {seconds} s: retry when it has \
         finished (a process stuck holding it can be stopped safely)"
    )]
    Busy { path: PathBuf, seconds: u64 },

    #[error("{path}: {source}")]
    Sqlite { path: PathBuf, source: rusqlite::Error },

    // ---- bad requests ----
    #[error("invalid name `{name}`: {reason}")]
    InvalidName { name: String, reason: String },

    #[error(transparent)]
    InvalidHash(#[from] tel_hash::HashParseError),

    #[error("no definition named `{name}` (`tel store find` searches names)")]
    NameNotFound { name: String },

    /// `prefix` as typed, with `#` (and `.i` for a component member).
    #[error("no definition matches {prefix}")]
    HashNotFound { prefix: String },

    #[error("{}.{index} does not exist: that component has {size} members (0 to {})", short(component), size.saturating_sub(1))]
    NoSuchMember { component: CodeHash, index: u32, size: u32 },

    #[error(
        "ambiguous: {prefix} matches {count} definitions; type more characters:{}",
        list_candidates(candidates, *count)
    )]
    AmbiguousHash { prefix: String, count: usize, candidates: Vec<Candidate> },

    #[error(
        "cannot rename `{old}` to `{new}`: `{new}` already names {}; pick another name",
        short(existing)
    )]
    NameTaken { old: String, new: String, existing: CodeHash },

    #[error(
        "cannot add `{name}` ({}): it depends on #{}, which is neither in this batch nor in \
         the codebase {path}; add that definition too",
        short(hash),
        to_text(dependency)
    )]
    MissingDependency { path: PathBuf, name: String, hash: CodeHash, dependency: CodeHash },

    #[error(
        "`{name}` is given twice in one batch, as {} and as {}: a name points at one definition",
        short(first),
        short(second)
    )]
    DuplicateName { name: String, first: CodeHash, second: CodeHash },

    #[error(
        "cannot add `{name}`: #{} is already stored with a different kind or content; stored \
         definitions never change",
        to_text(hash)
    )]
    HashConflict { name: String, hash: CodeHash },

    #[error(
        "cannot add `{name}`: its hash #{} is not the hash of its content (#{}): it was not \
         produced by this tel's hasher",
        to_text(hash),
        to_text(actual)
    )]
    HashMismatch { name: String, hash: CodeHash, actual: CodeHash },

    // ---- run traces and the memo cache ----
    #[error("invalid run id `{id}`: {reason}")]
    InvalidRunId { id: String, reason: String },

    #[error("no run {id} in {path} (`tel trace list` shows the runs kept there)")]
    RunNotFound { path: PathBuf, id: String },

    #[error(
        "ambiguous: run {prefix} matches {count} runs; type more characters:{}",
        candidates.iter().map(|c| format!("\n  {c}")).collect::<String>()
    )]
    AmbiguousRun { prefix: String, count: usize, candidates: Vec<String> },

    #[error(
        "{path} already holds a different trace under run id {id}: the id is not the hash of \
         this trace, or the stored one was altered"
    )]
    TraceConflict { path: PathBuf, id: String },

    #[error(
        "{path} holds another result for the same call of {}: the memo cache cannot be \
         trusted; `tel memo clear` empties it",
        short(function)
    )]
    MemoConflict { path: PathBuf, function: CodeHash },

    #[error(
        "cannot keep the compiled code of {} in {path}: its object is empty (a bug of the \
         caller); nothing was written",
        short(def)
    )]
    EmptyCompiled { path: PathBuf, def: CodeHash },

    #[error(
        "cannot add `{name}`: the members of component #{} given here and stored in {path} do \
         not hash to it{}; add the whole component in one batch",
        to_text(component),
        missing.map(|i| format!(" (member {i} is missing)")).unwrap_or_default()
    )]
    ComponentMismatch { path: PathBuf, name: String, component: CodeHash, missing: Option<u32> },
}
