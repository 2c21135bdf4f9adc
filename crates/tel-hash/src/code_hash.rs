//! `CodeHash`: the 256-bit BLAKE3 identity of a definition.

/// The BLAKE3 hash of a definition's canonical serialization.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, serde::Serialize, serde::Deserialize)]
pub struct CodeHash(pub [u8; 32]);
