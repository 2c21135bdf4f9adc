//! Content identity for TEL: the core IR, its canonical serialization, and BLAKE3 hashes.

mod code_hash;
pub mod core;

pub use code_hash::{
    CodeHash, FULL_LEN, HashParseError, HashParseErrorKind, HashPrefix, MIN_PREFIX_LEN,
    ResolveError, SHORT_LEN, distinguishing_len, resolve_prefix,
};
