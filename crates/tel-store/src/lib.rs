//! tel-store: the durable codebase.
//!
//! Definitions are stored once, keyed by content hash, and never change; names are pointers
//! to hashes with an append-only history, so renaming never breaks a reference. One SQLite
//! file (bundled SQLite, WAL mode) per project: `.tel/codebase.sqlite` under the directory
//! holding `tel.toml`, or `TEL_CODEBASE`. See `docs/store.md` for the tables and the rules.
//!
//! Each `tel store …` command is one call on [`Store`], returning a report that displays as
//! the command's text output and serializes as its `--json` output.

pub mod artifacts;
pub mod compiled;
mod error;
pub mod hash_text;
pub mod location;
pub mod memo;
mod model;
mod repository;
pub mod schema;
pub mod snapshots;
mod store;
pub mod synthetic;
pub mod traces;

pub use compiled::{CompiledFunction, CompiledSaved};
pub use error::{Candidate, Error, Result};
pub use memo::{MemoEntry, MemoSaved, MemoStats};
pub use model::*;
pub use repository::CodeRepository;
pub use store::{BUSY_TIMEOUT, Clock, MAX_CANDIDATES, Store, validate_name};
pub use traces::{NewTrace, RunOutcome, TraceInfo, TraceList};
