//! Semantic tokens: every token of a file with what it is — names by what they resolve to
//! (the same classification as hover and go to definition), the rest by token kind.

use tel_hash::core::DefKind;
use tel_hir::DefRef;
use tel_syntax::{SyntaxKind, SyntaxToken, TextRange};

use super::target::{FileCtx, Target};
use crate::{Analysis, Cancellable, FileId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    Keyword,
    Comment,
    String,
    Number,
    Operator,
    Namespace,
    Function,
    Type,
    Enum,
    EnumMember,
    /// An effect (LSP `interface`).
    Effect,
    /// A schema (LSP `struct`).
    Schema,
    Parameter,
    Variable,
    /// A record or schema field.
    Property,
    /// A `#hash` literal.
    Hash,
}

impl TokenKind {
    /// Every kind, in the order of the legend the language server announces.
    pub const ALL: [TokenKind; 16] = [
        TokenKind::Keyword,
        TokenKind::Comment,
        TokenKind::String,
        TokenKind::Number,
        TokenKind::Operator,
        TokenKind::Namespace,
        TokenKind::Function,
        TokenKind::Type,
        TokenKind::Enum,
        TokenKind::EnumMember,
        TokenKind::Effect,
        TokenKind::Schema,
        TokenKind::Parameter,
        TokenKind::Variable,
        TokenKind::Property,
        TokenKind::Hash,
    ];
}

/// Modifier bits, in the order of the legend.
pub mod modifiers {
    pub const DECLARATION: u32 = 1;
    pub const DEFAULT_LIBRARY: u32 = 1 << 1;
    pub const DOCUMENTATION: u32 = 1 << 2;
    /// Every modifier's name, bit 0 first.
    pub const NAMES: [&str; 3] = ["declaration", "defaultLibrary", "documentation"];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SemanticToken {
    pub range: TextRange,
    pub kind: TokenKind,
    pub modifiers: u32,
}

impl Analysis {
    /// The tokens of `file` inside `range` (the whole file when `None`), in text order.
    pub fn semantic_tokens(
        &self,
        file: FileId,
        range: Option<TextRange>,
    ) -> Cancellable<Vec<SemanticToken>> {
        self.with_db(|db| {
            let ctx = FileCtx::new(self, db, file);
            let range = range.unwrap_or(ctx.root.text_range());
            let mut out = Vec::new();
            let tokens = ctx.root.descendants_with_tokens().filter_map(|e| e.into_token());
            for token in
                tokens.filter(|t| t.text_range().intersect(range).is_some_and(|r| !r.is_empty()))
            {
                if let Some((kind, modifiers)) = classify_token(&ctx, &token) {
                    out.push(SemanticToken { range: token.text_range(), kind, modifiers });
                }
            }
            out
        })
    }
}

fn classify_token(ctx: &FileCtx<'_>, token: &SyntaxToken) -> Option<(TokenKind, u32)> {
    use modifiers::*;
    let kind = token.kind();
    let plain = |k| Some((k, 0));
    match kind {
        SyntaxKind::COMMENT | SyntaxKind::BLOCK_COMMENT => plain(TokenKind::Comment),
        SyntaxKind::DOC_COMMENT => Some((TokenKind::Comment, DOCUMENTATION)),
        SyntaxKind::STRING => plain(TokenKind::String),
        SyntaxKind::INT | SyntaxKind::DURATION => plain(TokenKind::Number),
        SyntaxKind::HASH => plain(TokenKind::Hash),
        SyntaxKind::TRUE_KW | SyntaxKind::FALSE_KW => plain(TokenKind::Keyword),
        k if k.is_keyword() => plain(TokenKind::Keyword),
        SyntaxKind::IDENT => classify_ident(ctx, token),
        k if k.is_punct() && is_operator(k) => plain(TokenKind::Operator),
        _ => None,
    }
}

fn is_operator(kind: SyntaxKind) -> bool {
    use SyntaxKind::*;
    matches!(
        kind,
        EQ2 | NEQ
            | LT
            | LTEQ
            | GT
            | GTEQ
            | PLUS
            | PLUS2
            | MINUS
            | STAR
            | SLASH
            | PERCENT
            | BANG
            | AMP2
            | PIPE2
            | QUESTION
    )
}

fn classify_ident(ctx: &FileCtx<'_>, token: &SyntaxToken) -> Option<(TokenKind, u32)> {
    use modifiers::*;
    let Some(found) = ctx.classify(token) else {
        // Names classification does not follow: record and schema fields, effect parameters.
        let parent = token.parent()?;
        let holder = if parent.kind() == SyntaxKind::NAME || parent.kind() == SyntaxKind::NAME_REF {
            parent.parent()?
        } else {
            parent
        };
        return match holder.kind() {
            SyntaxKind::FIELD_EXPR
            | SyntaxKind::RECORD_FIELD
            | SyntaxKind::FIELD_PAT
            | SyntaxKind::FIELD_TYPE => Some((TokenKind::Property, 0)),
            SyntaxKind::SCHEMA_FIELD => Some((TokenKind::Property, DECLARATION)),
            SyntaxKind::PARAM => Some((TokenKind::Parameter, DECLARATION)),
            _ => None,
        };
    };
    let declaration = if found.is_definition { DECLARATION } else { 0 };
    let (kind, library) = match &found.target {
        Target::Def(def, kind) => {
            let library = matches!(def, DefRef::Def(d) if d.module == tel_hir::PRELUDE_MODULE);
            let kind = match kind {
                DefKind::Fn => TokenKind::Function,
                DefKind::Type => TokenKind::Type,
                DefKind::Enum => TokenKind::Enum,
                DefKind::Effect => TokenKind::Effect,
                DefKind::Schema => TokenKind::Schema,
            };
            (kind, library)
        }
        Target::Local { owner, binding, .. } => {
            let loc = ctx.def_loc(owner.clone());
            let is_param = crate::queries::body_with_source_map(ctx.db, loc)
                .as_ref()
                .is_some_and(|(body, _)| body.params.contains(binding));
            (if is_param { TokenKind::Parameter } else { TokenKind::Variable }, false)
        }
        Target::Variant(_) => (TokenKind::EnumMember, false),
        Target::Builtin(_) => (TokenKind::Function, true),
        Target::BuiltinType(_) => (TokenKind::Type, true),
        Target::Module(_) => (TokenKind::Namespace, false),
    };
    Some((kind, declaration | if library { DEFAULT_LIBRARY } else { 0 }))
}
