//! tel-hir: the meaning of TEL programs.
//!
//! Pipeline, each step a pure function that `tel-ide` wraps in a salsa query:
//!
//! 1. [`ItemTree::lower`] — a file's declarations, without bodies or positions.
//! 2. [`DefMap::build`] — every module's scope from all item trees (imports, privacy, cycles).
//! 3. [`item_signature`] — one item's declared types resolved to [`Ty`]s.
//! 4. [`Body::lower_fn`] / [`Body::lower_schema`] — a body in an arena, locals resolved.
//! 5. [`infer`] — types, resolved references and effects of one body; diagnostics.
//! 6. [`lower_to_core`] — the checked definition as `tel_hash::core::CoreDef`.
//!
//! Anything a step needs from other definitions goes through [`HirDatabase`].
//! [`project::Project`] runs the whole pipeline without salsa (tests, simple tools).

pub mod body;
pub mod def_map;
pub mod diagnostics;
mod exhaustive;
pub mod infer;
pub mod item_tree;
mod lower;
pub mod lower_core;
pub mod prelude;
pub mod project;
pub mod signature;
pub mod stored;
pub mod ty;
pub mod type_ref;

pub use body::{Body, BodySourceMap};
pub use def_map::{DefMap, FileId, ModuleInput, Ns, Resolution};
pub use diagnostics::{Diagnostic, Severity, TextRange, TextSize};
pub use infer::{InferenceResult, Res, infer};
pub use item_tree::{ItemTree, ItemTreeSourceMap};
pub use lower::find_item;
pub use lower_core::{LowerError, lower_to_core};
pub use prelude::PRELUDE_SOURCE;
pub use signature::{HashDef, HirDatabase, check_type_alias, item_signature};
pub use ty::{DefId, DefRef, ModuleName, PRELUDE_MODULE, Signature, Ty};

#[cfg(test)]
mod tests;
