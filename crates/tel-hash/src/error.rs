//! Errors of encoding/hashing (a definition that cannot be given an identity) and of
//! decoding (bytes that are not a canonical serialization).

use smol_str::SmolStr;
use std::fmt;

/// Why a definition (or program) could not be serialized or hashed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HashError {
    /// A `Ref::Def` that the resolver does not know.
    UnresolvedRef { name: SmolStr },
    /// Two fields with one name in a record type, literal or pattern, or a schema.
    DuplicateField { name: SmolStr, place: &'static str },
    /// Two clauses of one `handle` for the same effect (`effect` is rendered).
    DuplicateClause { effect: String },
    /// Nesting deeper than [`crate::serialize::MAX_DEPTH`] (statement sequences and `let`
    /// chains do not count).
    TooDeep { limit: u32 },
    /// A string or sequence longer than `u32::MAX`.
    TooLarge { what: &'static str, len: usize },
    /// A `Ref::Member` given to a function that hashes a definition alone.
    MemberOutsideComponent { index: u32 },
    /// `hash_program` got two definitions with one qualified name.
    DuplicateDefinition { name: SmolStr },
    /// An error inside the named definition.
    InDefinition { name: SmolStr, error: Box<HashError> },
}

impl HashError {
    /// Attaches the name of the definition in which the error happened (once).
    pub(crate) fn in_def(self, name: &SmolStr) -> HashError {
        match self {
            e @ (HashError::InDefinition { .. } | HashError::DuplicateDefinition { .. }) => e,
            e => HashError::InDefinition { name: name.clone(), error: Box::new(e) },
        }
    }
}

impl fmt::Display for HashError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HashError::UnresolvedRef { name } => {
                write!(f, "unresolved reference to `{name}`: no hash is known for it")
            }
            HashError::DuplicateField { name, place } => {
                write!(f, "duplicate field `{name}` in {place}")
            }
            HashError::DuplicateClause { effect } => {
                write!(f, "two handler clauses for effect {effect} in one `handle`")
            }
            HashError::TooDeep { limit } => write!(
                f,
                "definition is nested more than {limit} levels deep (too deep to serialize)"
            ),
            HashError::TooLarge { what, len } => {
                write!(f, "{what} is too large to serialize: {len} (at most {})", u32::MAX)
            }
            HashError::MemberOutsideComponent { index } => write!(
                f,
                "reference to component member @member.{index} outside a component: hash the whole component"
            ),
            HashError::DuplicateDefinition { name } => {
                write!(f, "definition `{name}` is given twice")
            }
            HashError::InDefinition { name, error } => write!(f, "in `{name}`: {error}"),
        }
    }
}

impl std::error::Error for HashError {}

/// Why bytes could not be decoded into a definition. `offset` is the byte offset in the
/// input where the problem was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub offset: usize,
    pub kind: DecodeErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeErrorKind {
    Empty,
    /// The first byte is not a format version this build reads.
    UnsupportedVersion {
        found: u8,
    },
    /// The input ended while reading `what`.
    Truncated {
        what: &'static str,
    },
    /// `tag` is not a valid tag where `expected` was to be read.
    UnknownTag {
        tag: u8,
        expected: &'static str,
    },
    /// The intra-component placeholder tag, which only ordering keys use.
    Placeholder,
    InvalidUtf8,
    /// A field byte out of its range (a bool that is not 0/1, an unknown operator code...).
    InvalidValue {
        what: &'static str,
        value: u8,
    },
    TooDeep {
        limit: u32,
    },
    TrailingBytes {
        count: usize,
    },
    /// The bytes decode, but are not what the encoder produces for the result (unsorted
    /// fields, duplicates...), so they are not the canonical form of any definition.
    NonCanonical,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        match &self.kind {
            DecodeErrorKind::Empty => write!(f, "empty input: no format version byte"),
            DecodeErrorKind::UnsupportedVersion { found } => write!(
                f,
                "unsupported format version {found} (this build reads version {})",
                crate::serialize::FORMAT_VERSION
            ),
            DecodeErrorKind::Truncated { what } => {
                write!(f, "truncated input at byte {at}: expected {what}")
            }
            DecodeErrorKind::UnknownTag { tag, expected } => {
                write!(f, "unknown tag 0x{tag:02x} at byte {at}: expected {expected}")
            }
            DecodeErrorKind::Placeholder => write!(
                f,
                "component placeholder tag at byte {at}: it never appears in a stored definition"
            ),
            DecodeErrorKind::InvalidUtf8 => write!(f, "invalid UTF-8 in string at byte {at}"),
            DecodeErrorKind::InvalidValue { what, value } => {
                write!(f, "invalid {what} 0x{value:02x} at byte {at}")
            }
            DecodeErrorKind::TooDeep { limit } => {
                write!(f, "nesting deeper than {limit} levels at byte {at}")
            }
            DecodeErrorKind::TrailingBytes { count } => {
                write!(f, "{count} trailing bytes after the definition at byte {at}")
            }
            DecodeErrorKind::NonCanonical => write!(
                f,
                "non-canonical encoding: first difference from the canonical form at byte {at}"
            ),
        }
    }
}

impl std::error::Error for DecodeError {}
