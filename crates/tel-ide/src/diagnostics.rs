//! One diagnostic type for every layer (syntax, resolution, types, effects), positioned in a
//! file the engine knows.

use tel_syntax::TextRange;

use crate::FileId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub file: FileId,
    pub range: TextRange,
    pub severity: Severity,
    /// A stable identifier such as `E0001` (syntax) — see docs/language.md.
    pub code: &'static str,
    pub message: String,
    /// A short label for the range itself (often the message again).
    pub label: String,
    pub related: Vec<Related>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Related {
    pub file: FileId,
    pub range: TextRange,
    pub message: String,
}

impl Diagnostic {
    pub fn error(file: FileId, range: TextRange, code: &'static str, message: String) -> Self {
        Diagnostic {
            file,
            range,
            severity: Severity::Error,
            code,
            label: String::new(),
            message,
            related: Vec::new(),
        }
    }
}
