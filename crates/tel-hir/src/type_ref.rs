//! Types as written in source (before name resolution), shared by the item tree and bodies.

use la_arena::{Arena, Idx};
use smol_str::SmolStr;
use std::fmt;

/// A path as written: `x`, `Outcome::Filled`, `treasury::fee`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path {
    pub segments: Vec<SmolStr>,
}

impl Path {
    pub fn single(name: impl Into<SmolStr>) -> Path {
        Path { segments: vec![name.into()] }
    }

    pub fn as_single(&self) -> Option<&SmolStr> {
        match self.segments.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    pub fn last(&self) -> &str {
        self.segments.last().map(SmolStr::as_str).unwrap_or("")
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.segments.iter().enumerate() {
            if i > 0 {
                f.write_str("::")?;
            }
            f.write_str(s)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

pub type TypeRefId = Idx<TypeRef>;
pub type TypeRefs = Arena<TypeRef>;

/// A type (or, in an effect row, an effect) as written. Children live in the same arena, so
/// each sub-type has an id a source map can give a range to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TypeRef {
    /// `Int`, `List<Int>`, `Quote`, `m::Quote`, `Log` (in a row).
    Path {
        path: Path,
        args: Vec<TypeRefId>,
    },
    Unit,
    Record(Vec<(SmolStr, TypeRefId)>),
    Fn {
        params: Vec<TypeRefId>,
        ret: TypeRefId,
        effects: Vec<TypeRefId>,
    },
    Option(TypeRefId),
    /// `#a7f3b2c1` — the literal text without `#`.
    Hash(SmolStr),
    /// Missing or unparsable; an error was already reported by the parser.
    Missing,
}

/// Where a problem in a written type is: the type itself, or (for a field of a record type)
/// the field's name. The id is the type's, or the field's type's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeRefAnchor {
    Type(TypeRefId),
    FieldName(TypeRefId),
}
