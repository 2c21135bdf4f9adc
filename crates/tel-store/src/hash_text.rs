//! Hash text as the store uses it. The text form itself (52 lowercase base32hex characters,
//! `#` + 8 in tables) is tel-hash's; the store keeps it in an indexed column, so a prefix
//! resolves with one index range scan.

use tel_hash::CodeHash;

/// The 52-character text the `definitions.hash` column holds.
pub fn to_text(hash: &CodeHash) -> String {
    hash.to_base32hex()
}

/// `#` and the first 8 characters.
pub fn short(hash: &CodeHash) -> String {
    hash.to_string()
}

/// Serde helpers so reports show hashes as text in JSON (`--json`), not as byte arrays.
pub mod serde_text {
    use tel_hash::CodeHash;

    pub fn serialize<S: serde::Serializer>(hash: &CodeHash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hash.to_base32hex())
    }

    pub mod option {
        use tel_hash::CodeHash;

        pub fn serialize<S: serde::Serializer>(
            hash: &Option<CodeHash>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match hash {
                Some(h) => s.serialize_some(&h.to_base32hex()),
                None => s.serialize_none(),
            }
        }
    }
}
