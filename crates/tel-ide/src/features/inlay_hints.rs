//! Inlay hints: each top-level definition's short hash after its signature, and the inferred
//! type of each `let` whose type is not written.

use tel_hir::DefId;
use tel_syntax::{SyntaxKind, SyntaxNode, TextRange, TextSize};

use super::target::FileCtx;
use crate::queries;
use crate::{Analysis, Cancellable, FileId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InlayConfig {
    pub hashes: bool,
    pub let_types: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InlayKind {
    /// `#a7f3b2c1` after a definition's signature.
    Hash,
    /// `: Int` after a `let` binding.
    Type,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InlayHint {
    /// Where the hint sits (it is shown before the character at this offset).
    pub offset: TextSize,
    pub label: String,
    pub kind: InlayKind,
    /// Shown on hover over the hint (the full hash).
    pub tooltip: Option<String>,
}

impl Analysis {
    /// The hints of `file` inside `range` (the whole file when `None`), in text order.
    pub fn inlay_hints(
        &self,
        file: FileId,
        range: Option<TextRange>,
        config: InlayConfig,
    ) -> Cancellable<Vec<InlayHint>> {
        self.with_db(|db| {
            let ctx = FileCtx::new(self, db, file);
            let range = range.unwrap_or(ctx.root.text_range());
            let hashes = config.hashes.then(|| queries::project_hashes(db, ctx.project));
            let mut out = Vec::new();
            for item in ctx.root.children() {
                if item.text_range().intersect(range).is_none() {
                    continue;
                }
                let Some(def) = ctx.item_def(&item) else { continue };
                if let Some(hashes) = &hashes
                    && let Some(hash) = hashes.get(&def)
                {
                    let offset = signature_end(&item);
                    if range.contains_inclusive(offset) {
                        out.push(InlayHint {
                            offset,
                            label: format!("#{}", hash.short()),
                            kind: InlayKind::Hash,
                            tooltip: Some(format!("{} {}", def.qualified(), hash.full())),
                        });
                    }
                }
                if config.let_types && item.kind() == SyntaxKind::FN_ITEM {
                    let_type_hints(&ctx, def, &item, range, &mut out);
                }
            }
            out.sort_by_key(|h| h.offset);
            out
        })
    }
}

/// Where a definition's signature ends: before the body or the `{` of an enum or schema,
/// else at the end of the item.
pub(super) fn signature_end(item: &SyntaxNode) -> TextSize {
    let mut end = item.text_range().end();
    let mut last_significant = None;
    for element in item.children_with_tokens() {
        let kind = element.kind();
        if kind == SyntaxKind::BLOCK_EXPR || kind == SyntaxKind::L_CURLY {
            if let Some(e) = last_significant {
                return e;
            }
            break;
        }
        if !kind.is_trivia() {
            last_significant = Some(element.text_range().end());
        }
    }
    if let Some(e) = last_significant {
        end = end.min(e);
    }
    end
}

fn let_type_hints(
    ctx: &FileCtx<'_>,
    def: DefId,
    item: &SyntaxNode,
    range: TextRange,
    out: &mut Vec<InlayHint>,
) {
    let loc = ctx.def_loc(def);
    let Some((body, sm)) = queries::body_with_source_map(ctx.db, loc) else { return };
    let Some(inferred) = queries::infer(ctx.db, loc) else { return };
    let lets = item.descendants().filter(|n| n.kind() == SyntaxKind::LET_STMT);
    for stmt in lets.filter(|s| s.text_range().intersect(range).is_some()) {
        let has_type = stmt.children().any(|c| {
            !matches!(c.kind(), SyntaxKind::NAME) && c.text_range().start() < init_start(&stmt)
        });
        if has_type {
            continue;
        }
        let Some(name) = stmt.children().find(|n| n.kind() == SyntaxKind::NAME) else { continue };
        let name_range = name.text_range();
        let Some((binding, _)) = sm.bindings.iter().find(|(_, r)| **r == name_range) else {
            continue;
        };
        if body.bindings[binding].is_wildcard() {
            continue;
        }
        let ty = inferred.type_of_binding(binding);
        if ty.contains_error() || ty.contains_var() {
            continue;
        }
        out.push(InlayHint {
            offset: name_range.end(),
            label: format!(": {ty}"),
            kind: InlayKind::Type,
            tooltip: None,
        });
    }
}

/// Where a `let`'s initializer starts (after `=`); a type annotation comes before it.
fn init_start(stmt: &SyntaxNode) -> TextSize {
    stmt.children_with_tokens()
        .find(|e| e.kind() == SyntaxKind::EQ)
        .map_or(stmt.text_range().end(), |e| e.text_range().end())
}
