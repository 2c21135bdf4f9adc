//! Content identity for TEL: the core IR, its canonical serialization, and BLAKE3 hashes.

mod code_hash;
pub mod core;

pub use code_hash::CodeHash;
