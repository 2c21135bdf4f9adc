//! The one diagnostic type every checking phase produces, and the stable codes.
//!
//! Phases whose results must stay equal across edits that only move text (the item tree,
//! name resolution, inference) do not store ranges. They record an *anchor* (an id in the
//! item tree or body) and the message; a source map turns the anchor into a range when the
//! diagnostic is shown. So an edit inside one body never invalidates another's results.

use std::fmt;

pub use tel_syntax::{TextRange, TextSize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A problem at a place in one file. `range` is relative to the start of that file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub range: TextRange,
    pub severity: Severity,
    pub message: String,
    /// Stable identifier: `"E0201 type-mismatch"`. The number never changes meaning.
    pub code: &'static str,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A diagnostic whose place is still an anchor of type `A` (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Anchored<A> {
    pub anchor: A,
    pub severity: Severity,
    pub message: String,
    pub code: &'static str,
}

impl<A> Anchored<A> {
    pub fn error(anchor: A, code: &'static str, message: impl Into<String>) -> Self {
        Anchored { anchor, severity: Severity::Error, message: message.into(), code }
    }

    pub fn warning(anchor: A, code: &'static str, message: impl Into<String>) -> Self {
        Anchored { anchor, severity: Severity::Warning, message: message.into(), code }
    }

    pub fn map_anchor<B>(self, f: impl FnOnce(A) -> B) -> Anchored<B> {
        Anchored {
            anchor: f(self.anchor),
            severity: self.severity,
            message: self.message,
            code: self.code,
        }
    }

    /// Places the diagnostic at `range`.
    pub fn at(&self, range: TextRange) -> Diagnostic {
        Diagnostic {
            range,
            severity: self.severity,
            message: self.message.clone(),
            code: self.code,
        }
    }
}

/// Diagnostic codes. `E` = error, `W` = warning; the number groups the phase:
/// 01xx names, 02xx types, 03xx effects, 04xx patterns, 05xx literals.
pub mod codes {
    pub const UNKNOWN_NAME: &str = "E0101 unknown-name";
    pub const UNKNOWN_MODULE: &str = "E0102 unknown-module";
    pub const PRIVATE_ITEM: &str = "E0103 private-item";
    pub const DUPLICATE_DEFINITION: &str = "E0104 duplicate-definition";
    pub const CYCLIC_USE: &str = "E0105 cyclic-use";
    pub const AMBIGUOUS_VARIANT: &str = "E0106 ambiguous-variant";
    pub const DUPLICATE_MODULE: &str = "E0107 duplicate-module";
    pub const WRONG_KIND: &str = "E0108 wrong-kind";
    pub const UNKNOWN_HASH: &str = "E0109 unknown-hash";
    pub const AMBIGUOUS_HASH: &str = "E0110 ambiguous-hash";
    pub const MODULE_NOT_IMPORTED: &str = "E0111 module-not-imported";
    pub const TYPE_ALIAS_CYCLE: &str = "E0112 type-alias-cycle";
    pub const NAMING_CASE: &str = "E0113 naming-case";
    pub const MISPLACED_ITEM: &str = "E0114 misplaced-item";
    pub const BAD_MAP_KEY: &str = "E0211 invalid-map-key";

    pub const TYPE_MISMATCH: &str = "E0201 type-mismatch";
    pub const ARG_COUNT: &str = "E0202 wrong-argument-count";
    pub const UNKNOWN_FIELD: &str = "E0203 unknown-field";
    pub const MISSING_FIELD: &str = "E0204 missing-field";
    pub const NOT_CALLABLE: &str = "E0205 not-callable";
    pub const CANNOT_INFER: &str = "E0206 cannot-infer";
    pub const BAD_OPERAND: &str = "E0207 invalid-operand";
    pub const DUPLICATE_FIELD: &str = "E0208 duplicate-field";
    pub const GENERIC_ARGS: &str = "E0209 wrong-generic-arguments";
    pub const NOT_A_VALUE: &str = "E0210 not-a-value";

    pub const EFFECT_NOT_IN_ROW: &str = "E0301 effect-not-in-row";
    pub const UNUSED_EFFECT: &str = "W0302 unused-effect";
    pub const RESUME_OUTSIDE_CLAUSE: &str = "E0303 resume-outside-clause";
    pub const UNUSED_CLAUSE: &str = "W0304 unused-handler-clause";
    pub const DUPLICATE_CLAUSE: &str = "E0305 duplicate-handler-clause";
    pub const IMPURE_DEFAULT: &str = "E0306 impure-default";
    pub const ENTRY_POINT_EFFECT: &str = "E0307 entry-point-effect";

    pub const NON_EXHAUSTIVE: &str = "E0401 non-exhaustive-match";
    pub const UNREACHABLE_ARM: &str = "W0402 unreachable-arm";
    pub const BAD_PATTERN: &str = "E0403 invalid-pattern";

    pub const BAD_LITERAL: &str = "E0501 invalid-literal";
}

use crate::body::BodySourceMap;
use crate::infer::InferAnchor;
use crate::item_tree::{
    Item, ItemAnchor, ItemKind, ItemPart, ItemSourceMap, ItemTree, ItemTreeSourceMap, LocalItemId,
};

/// Whether an item's semantic diagnostics should be left out because the parser could not
/// read all of it: they would mostly be echoes of the syntax error.
pub fn item_has_syntax_error(
    item: &ItemSourceMap,
    syntax_errors: &[tel_syntax::SyntaxError],
) -> bool {
    syntax_errors
        .iter()
        .any(|e| item.range.contains_range(e.range) || e.range.start() == item.range.end())
}

/// Places a name-resolution or signature diagnostic of a file.
pub fn render_item_diagnostic(d: &Anchored<ItemAnchor>, sm: &ItemTreeSourceMap) -> Diagnostic {
    d.at(sm.range(d.anchor))
}

/// Places an inference diagnostic of one definition, given its item's and body's source maps.
pub fn render_infer_diagnostic(
    d: &Anchored<InferAnchor>,
    item: &ItemSourceMap,
    body: &BodySourceMap,
) -> Diagnostic {
    let range = match d.anchor {
        InferAnchor::Body(a) => body.range(a),
        InferAnchor::Sig(part) => item.part(part),
    };
    d.at(range)
}

/// What checking one item of a file produced. The salsa engine (`tel-ide`) and the plain
/// [`crate::project::Project`] answer from their own memo tables; [`file_diagnostics`] is the
/// one place that decides what of it a file reports.
pub trait CheckedItems {
    /// Diagnostics about the item's written signature (types, effects, names in it).
    fn signature_diagnostics(&self, id: LocalItemId, item: &Item) -> Vec<Anchored<ItemPart>>;
    /// The alias check of a `type` item (cycles), if it fails.
    fn alias_diagnostic(&self, id: LocalItemId, item: &Item) -> Option<Anchored<ItemPart>>;
    /// Calls `f` with the item's inference result and body source map, if it has a body.
    fn with_body(
        &self,
        id: LocalItemId,
        item: &Item,
        f: &mut dyn FnMut(&crate::InferenceResult, &BodySourceMap),
    );
}

/// Every semantic diagnostic of one file (syntax errors are the caller's): its declarations,
/// what its module's scope says about it, and each item it defines — unless `defines_module`
/// is false (another file defines the same module and is checked instead). Sorted by range.
pub fn file_diagnostics<'a>(
    tree: &ItemTree,
    map: &ItemTreeSourceMap,
    syntax_errors: &[tel_syntax::SyntaxError],
    scope_diagnostics: impl IntoIterator<Item = &'a Anchored<ItemAnchor>>,
    defines_module: bool,
    checked: &dyn CheckedItems,
) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> =
        tree.diagnostics.iter().map(|d| render_item_diagnostic(d, map)).collect();
    out.extend(scope_diagnostics.into_iter().map(|d| render_item_diagnostic(d, map)));
    if defines_module {
        for (id, item) in tree.items.iter() {
            // Later items with a taken name are duplicates: the def map reports them.
            if tree.item_by_name(&item.name).map(|(first, _)| first) != Some(id) {
                continue;
            }
            let ism = &map.items[id];
            // An item the parser could not read would mostly report echoes of that.
            if item_has_syntax_error(ism, syntax_errors) {
                continue;
            }
            out.extend(
                checked.signature_diagnostics(id, item).iter().map(|d| d.at(ism.part(d.anchor))),
            );
            if matches!(item.kind, ItemKind::Type(_))
                && let Some(d) = checked.alias_diagnostic(id, item)
            {
                out.push(d.at(ism.part(d.anchor)));
            }
            checked.with_body(id, item, &mut |result, bsm| {
                out.extend(result.diagnostics.iter().map(|d| render_infer_diagnostic(d, ism, bsm)));
            });
        }
    }
    out.sort_by_key(|d| (d.range.start(), d.range.end()));
    out.dedup();
    out
}
