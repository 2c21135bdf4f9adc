//! Folding ranges: multi-line definitions, blocks, match arms and handlers, runs of comments,
//! and runs of `use` lines.

use tel_syntax::{SyntaxKind, TextRange};

use crate::{Analysis, Cancellable, FileId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FoldKind {
    Region,
    Comment,
    Imports,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fold {
    pub range: TextRange,
    pub kind: FoldKind,
}

impl Analysis {
    /// The folds of `file`, in text order of their starts.
    pub fn folding_ranges(&self, file: FileId) -> Cancellable<Vec<Fold>> {
        let parse = self.parse(file)?;
        let text = self.file_text(file);
        let multiline = |r: TextRange| text[r].contains('\n');
        let root = parse.syntax_node();
        let mut out = Vec::new();
        for node in root.descendants() {
            use SyntaxKind::*;
            let foldable = matches!(
                node.kind(),
                FN_ITEM
                    | ENUM_ITEM
                    | SCHEMA_ITEM
                    | TYPE_ITEM
                    | BLOCK_EXPR
                    | MATCH_ARM_LIST
                    | HANDLER_CLAUSES
                    | RECORD_TYPE
                    | RECORD_FIELDS
                    | LIST_EXPR
                    | ARG_LIST
                    | PARAM_LIST
            );
            // An item's fold starts after its doc comment, which folds on its own.
            let range = match node.children_with_tokens().find(|e| !e.kind().is_trivia()) {
                Some(first) => TextRange::new(first.text_range().start(), node.text_range().end()),
                None => node.text_range(),
            };
            if foldable && multiline(range) {
                out.push(Fold { range, kind: FoldKind::Region });
            }
        }
        // Runs of line comments (two or more lines) and multi-line block comments.
        let mut run: Option<(TextRange, usize)> = None;
        let flush = |run: &mut Option<(TextRange, usize)>, out: &mut Vec<Fold>| {
            if let Some((r, lines)) = run.take()
                && lines > 1
            {
                out.push(Fold { range: r, kind: FoldKind::Comment });
            }
        };
        for token in root.descendants_with_tokens().filter_map(|e| e.into_token()) {
            match token.kind() {
                SyntaxKind::COMMENT | SyntaxKind::DOC_COMMENT => {
                    run = Some(match run {
                        Some((r, n)) => (r.cover(token.text_range()), n + 1),
                        None => (token.text_range(), 1),
                    });
                }
                SyntaxKind::WHITESPACE if token.text().matches('\n').count() <= 1 => {}
                SyntaxKind::BLOCK_COMMENT if multiline(token.text_range()) => {
                    flush(&mut run, &mut out);
                    out.push(Fold { range: token.text_range(), kind: FoldKind::Comment });
                }
                _ => flush(&mut run, &mut out),
            }
        }
        flush(&mut run, &mut out);
        // Runs of `use` items.
        let mut uses: Option<(TextRange, usize)> = None;
        for item in root.children() {
            if item.kind() == SyntaxKind::USE_ITEM {
                let r = item.text_range();
                uses = Some(match uses {
                    Some((u, n)) => (u.cover(r), n + 1),
                    None => (r, 1),
                });
            } else if let Some((u, n)) = uses.take()
                && n > 1
            {
                out.push(Fold { range: u, kind: FoldKind::Imports });
            }
        }
        if let Some((u, n)) = uses
            && n > 1
        {
            out.push(Fold { range: u, kind: FoldKind::Imports });
        }
        out.sort_by_key(|f| (f.range.start(), std::cmp::Reverse(f.range.end())));
        Ok(out)
    }
}
