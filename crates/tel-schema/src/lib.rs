//! Schema evolution for TEL programs (docs/schema.md is the reference).
//!
//! A program's stored state is described by a `schema`, whose version is its hash. This
//! crate compares two versions and classifies each change ([`diff`]), checks the changes
//! against the program's evolution rules from `tel.toml` ([`rules`], [`manifest`]), moves
//! stored JSON state from one version to the next — automatically when every change allows
//! it, through a pure TEL migration function run in the VM sandbox otherwise ([`migrate`],
//! [`eval`]) — describes a built program as a content-addressed artifact ([`artifact`]), and
//! decides whether a paused run is in its safe state for an upgrade ([`safe`]).
//!
//! Everything here works on hashed core IR ([`Code`]), wherever it came from: a project
//! analysed from source, or the codebase. The crate knows nothing of the editor or of
//! files' syntax, so the engine (tel-ide) can call it for its diagnostics and hovers.

pub mod artifact;
pub mod code;
pub mod diff;
pub mod eval;
pub mod manifest;
pub mod migrate;
pub mod reads;
pub mod rules;
pub mod safe;

pub use code::{Code, SchemaVersion};
pub use diff::{Change, ChangeClass, Diff, Evolution, Verdict, compare};
pub use manifest::{Manifest, ManifestError};
pub use migrate::{MigrateError, Migrated, StateMismatch};
pub use reads::Reads;
pub use rules::{Rule, Rules, Violation, check_evolution};
pub use safe::SafeState;
