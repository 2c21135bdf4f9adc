//! Every kind of token and node in a TEL syntax tree, and the rowan language tag.

macro_rules! syntax_kinds {
    (
        tokens { $($tok:ident => $desc:literal,)* }
        nodes { $($node:ident,)* }
    ) => {
        /// The kind of a token or node. Tokens come first so that a [`TokenSet`] can be a
        /// bit set over their discriminants.
        ///
        /// [`TokenSet`]: crate::parser::TokenSet
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[repr(u16)]
        pub enum SyntaxKind {
            $($tok,)*
            $($node,)*
        }

        const ALL_KINDS: &[SyntaxKind] = &[$(SyntaxKind::$tok,)* $(SyntaxKind::$node,)*];

        impl SyntaxKind {
            /// How an error message names this kind ("`fn`", "identifier", "`FN_ITEM`").
            pub fn describe(self) -> &'static str {
                match self {
                    $(SyntaxKind::$tok => $desc,)*
                    $(SyntaxKind::$node => stringify!($node),)*
                }
            }

            /// True for kinds that are leaves (tokens) rather than nodes.
            pub fn is_token(self) -> bool {
                (self as u16) < (SyntaxKind::SOURCE_FILE as u16)
            }
        }
    };
}

syntax_kinds! {
    tokens {
        // ERROR is also used as a node kind: an ERROR node wraps tokens the parser skipped.
        ERROR => "an invalid token",
        EOF => "end of file",
        WHITESPACE => "whitespace",
        COMMENT => "a comment",
        DOC_COMMENT => "a doc comment",
        BLOCK_COMMENT => "a block comment",
        IDENT => "an identifier",
        INT => "an integer literal",
        DURATION => "a duration literal",
        STRING => "a string literal",
        HASH => "a hash literal",
        FN_KW => "`fn`",
        LET_KW => "`let`",
        IF_KW => "`if`",
        ELSE_KW => "`else`",
        MATCH_KW => "`match`",
        EFFECT_KW => "`effect`",
        PERFORM_KW => "`perform`",
        HANDLE_KW => "`handle`",
        WITH_KW => "`with`",
        RESUME_KW => "`resume`",
        ABORT_KW => "`abort`",
        TYPE_KW => "`type`",
        ENUM_KW => "`enum`",
        SCHEMA_KW => "`schema`",
        EVOLVE_KW => "`evolve`",
        WITHIN_KW => "`within`",
        AFTER_KW => "`after`",
        TRUE_KW => "`true`",
        FALSE_KW => "`false`",
        PUB_KW => "`pub`",
        USE_KW => "`use`",
        MODULE_KW => "`module`",
        // contextual: lexed as IDENT, remapped by the parser inside `use` trees
        AS_KW => "`as`",
        L_PAREN => "`(`",
        R_PAREN => "`)`",
        L_CURLY => "`{`",
        R_CURLY => "`}`",
        L_BRACK => "`[`",
        R_BRACK => "`]`",
        COMMA => "`,`",
        SEMICOLON => "`;`",
        COLON => "`:`",
        COLON2 => "`::`",
        DOT => "`.`",
        DOT2 => "`..`",
        THIN_ARROW => "`->`",
        FAT_ARROW => "`=>`",
        EQ => "`=`",
        EQ2 => "`==`",
        NEQ => "`!=`",
        LT => "`<`",
        LTEQ => "`<=`",
        GT => "`>`",
        GTEQ => "`>=`",
        PLUS => "`+`",
        PLUS2 => "`++`",
        MINUS => "`-`",
        STAR => "`*`",
        SLASH => "`/`",
        PERCENT => "`%`",
        BANG => "`!`",
        AMP2 => "`&&`",
        PIPE => "`|`",
        PIPE2 => "`||`",
        QUESTION => "`?`",
        UNDERSCORE => "`_`",
    }
    nodes {
        SOURCE_FILE,
        MODULE_DECL,
        USE_ITEM,
        USE_TREE,
        USE_NAME,
        FN_ITEM,
        PARAM_LIST,
        PARAM,
        EFFECT_ROW,
        TYPE_ITEM,
        ENUM_ITEM,
        VARIANT,
        VARIANT_FIELDS,
        EFFECT_ITEM,
        SCHEMA_ITEM,
        SCHEMA_FIELD,
        PATH_TYPE,
        HASH_REF,
        OPTION_TYPE,
        UNIT_TYPE,
        PAREN_TYPE,
        RECORD_TYPE,
        FN_TYPE,
        GENERIC_ARGS,
        FIELD_TYPE,
        BIN_EXPR,
        PREFIX_EXPR,
        CALL_EXPR,
        FIELD_EXPR,
        ARG_LIST,
        LITERAL,
        UNIT_EXPR,
        PAREN_EXPR,
        PATH_EXPR,
        RECORD_EXPR,
        RECORD_FIELDS,
        RECORD_FIELD,
        HASH_EXPR,
        LIST_EXPR,
        BLOCK_EXPR,
        LET_STMT,
        EXPR_STMT,
        IF_EXPR,
        MATCH_EXPR,
        MATCH_ARM_LIST,
        MATCH_ARM,
        MATCH_GUARD,
        HANDLE_EXPR,
        HANDLER_CLAUSES,
        HANDLER_CLAUSE,
        CLAUSE_PARAMS,
        WITHIN_EXPR,
        AFTER_EXPR,
        PERFORM_EXPR,
        RESUME_EXPR,
        ABORT_EXPR,
        LAMBDA_EXPR,
        LAMBDA_PARAMS,
        WILDCARD_PAT,
        LITERAL_PAT,
        BIND_PAT,
        VARIANT_PAT,
        RECORD_PAT,
        FIELD_PAT,
        PATH,
        NAME,
        NAME_REF,
    }
}

impl SyntaxKind {
    /// Whitespace and comments: kept in the tree, skipped by the parser.
    pub fn is_trivia(self) -> bool {
        matches!(
            self,
            SyntaxKind::WHITESPACE
                | SyntaxKind::COMMENT
                | SyntaxKind::DOC_COMMENT
                | SyntaxKind::BLOCK_COMMENT
        )
    }

    /// Punctuation and operators (each kind has exactly one spelling).
    pub fn is_punct(self) -> bool {
        (SyntaxKind::L_PAREN as u16..=SyntaxKind::UNDERSCORE as u16).contains(&(self as u16))
    }

    pub fn is_keyword(self) -> bool {
        (SyntaxKind::FN_KW as u16..=SyntaxKind::AS_KW as u16).contains(&(self as u16))
    }

    /// The keyword spelled `ident`, if it is one (`as` is contextual and not included).
    pub fn from_keyword(ident: &str) -> Option<SyntaxKind> {
        use SyntaxKind::*;
        let kind = match ident {
            "fn" => FN_KW,
            "let" => LET_KW,
            "if" => IF_KW,
            "else" => ELSE_KW,
            "match" => MATCH_KW,
            "effect" => EFFECT_KW,
            "perform" => PERFORM_KW,
            "handle" => HANDLE_KW,
            "with" => WITH_KW,
            "resume" => RESUME_KW,
            "abort" => ABORT_KW,
            "type" => TYPE_KW,
            "enum" => ENUM_KW,
            "schema" => SCHEMA_KW,
            "evolve" => EVOLVE_KW,
            "within" => WITHIN_KW,
            "after" => AFTER_KW,
            "true" => TRUE_KW,
            "false" => FALSE_KW,
            "pub" => PUB_KW,
            "use" => USE_KW,
            "module" => MODULE_KW,
            _ => return None,
        };
        Some(kind)
    }

    /// The kind with discriminant `raw`, or `None` when no kind has it.
    pub fn from_raw(raw: u16) -> Option<SyntaxKind> {
        ALL_KINDS.get(usize::from(raw)).copied()
    }
}

impl From<SyntaxKind> for rowan::SyntaxKind {
    fn from(kind: SyntaxKind) -> Self {
        rowan::SyntaxKind(kind as u16)
    }
}

/// The rowan language tag for TEL trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TelLanguage {}

impl rowan::Language for TelLanguage {
    type Kind = SyntaxKind;

    fn kind_from_raw(raw: rowan::SyntaxKind) -> SyntaxKind {
        // Only trees built by this crate reach here; a foreign raw kind reads as ERROR
        // rather than panicking.
        SyntaxKind::from_raw(raw.0).unwrap_or(SyntaxKind::ERROR)
    }

    fn kind_to_raw(kind: SyntaxKind) -> rowan::SyntaxKind {
        kind.into()
    }
}

pub type SyntaxNode = rowan::SyntaxNode<TelLanguage>;
pub type SyntaxToken = rowan::SyntaxToken<TelLanguage>;
pub type SyntaxElement = rowan::SyntaxElement<TelLanguage>;
pub type SyntaxNodeChildren = rowan::SyntaxNodeChildren<TelLanguage>;
/// A pointer to a node that outlives the tree (kind and range), for source maps.
pub type SyntaxNodePtr = rowan::ast::SyntaxNodePtr<TelLanguage>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discriminants_match_table() {
        for (i, kind) in ALL_KINDS.iter().enumerate() {
            assert_eq!(*kind as usize, i);
        }
        // TokenSet is a u128 bit set over token kinds.
        assert!((SyntaxKind::SOURCE_FILE as u16) <= 128);
    }
}
