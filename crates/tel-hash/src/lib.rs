//! Content identity for TEL: the core IR, its canonical serialization, and BLAKE3 hashes.
//!
//! Layers, bottom up: [`CodeHash`] and its text forms; [`serialize`] (the frozen, versioned
//! byte format of a [`core::CoreDef`]); [`hashing`] (a definition, a mutually recursive
//! component, a whole program); [`DefTemplate`] (a definition's bytes with holes for its
//! dependencies' hashes, for re-hashing); [`mod@render`] (the normalized text and the first
//! difference between two definitions). docs/hashing.md specifies the format.

mod code_hash;
pub mod core;
mod error;
pub mod hashing;
pub mod render;
pub mod serialize;
mod template;

pub use code_hash::{
    CodeHash, FULL_LEN, HashParseError, HashParseErrorKind, HashPrefix, MIN_PREFIX_LEN,
    ResolveError, SHORT_LEN, distinguishing_len, resolve_prefix,
};
pub use error::{DecodeError, DecodeErrorKind, HashError};
pub use hashing::{
    HashedComponent, HashedMember, component_hash, deps, hash_bytes, hash_component,
    hash_component_full, hash_def, hash_deps, hash_program, hash_program_components, member_hash,
    sccs,
};
pub use render::{Difference, first_difference, render};
pub use serialize::{FORMAT_VERSION, ResolvedRef, canonicalize, decode, encode};
pub use template::DefTemplate;
