//! Patterns (match arms).

use super::{ListShape, delimited, name, name_ref, path};
use crate::SyntaxKind::*;
use crate::parser::{Parser, TokenSet};

pub(super) const PATTERN_START: TokenSet = TokenSet::new(&[
    UNDERSCORE, MINUS, INT, STRING, DURATION, TRUE_KW, FALSE_KW, L_PAREN, L_CURLY, IDENT,
]);

/// Pattern. Returns false (consuming nothing) when no pattern starts here.
pub(super) fn pattern(p: &mut Parser) -> bool {
    if !p.at_ts(PATTERN_START) {
        return false;
    }
    p.nested(|p| {
        match p.current() {
            UNDERSCORE => p.token_node(WILDCARD_PAT),
            MINUS => p.node(LITERAL_PAT, |p| {
                p.bump();
                if !p.eat(INT) {
                    p.error_expected("an integer after `-` in a pattern");
                }
            }),
            INT | STRING | DURATION | TRUE_KW | FALSE_KW => p.token_node(LITERAL_PAT),
            L_PAREN => p.node(LITERAL_PAT, |p| {
                p.bump();
                if !p.eat(R_PAREN) {
                    p.error_expected("`)`: the only parenthesized pattern is `()`");
                }
            }),
            L_CURLY => p.node(RECORD_PAT, record_pat_fields),
            _ => ident_pattern(p),
        }
        true
    })
}

/// A lower-case identifier alone binds; anything else that starts with an identifier
/// names a variant (`None`, `Some(x)`, `Outcome::Filled(n)`) or a record (`Quote { .. }`).
fn ident_pattern(p: &mut Parser) {
    let lower = p.nth_text(0).starts_with(|c: char| c.is_ascii_lowercase() || c == '_');
    if lower && !matches!(p.nth(1), COLON2 | L_PAREN | L_CURLY) {
        p.node(BIND_PAT, |p| name(p, "a name"));
        return;
    }
    let checkpoint = p.checkpoint();
    path(p);
    match p.current() {
        L_PAREN => {
            p.start_at(checkpoint, VARIANT_PAT);
            let shape = ListShape {
                open: L_PAREN,
                close: R_PAREN,
                name: "variant pattern",
                element: "a pattern",
                first: PATTERN_START,
                comma_optional_after_block: false,
            };
            delimited(p, &shape, |p| {
                pattern(p);
            });
        }
        L_CURLY => {
            p.start_at(checkpoint, RECORD_PAT);
            record_pat_fields(p);
        }
        _ => p.start_at(checkpoint, VARIANT_PAT),
    }
    p.finish();
}

/// "{" [ FieldPat { "," FieldPat } ] [ "," ".." ] "}", at `{`.
fn record_pat_fields(p: &mut Parser) {
    let shape = ListShape {
        open: L_CURLY,
        close: R_CURLY,
        name: "record pattern",
        element: "a field pattern",
        first: TokenSet::new(&[IDENT, DOT2]),
        comma_optional_after_block: false,
    };
    let mut rest_seen = false;
    delimited(p, &shape, |p| {
        if rest_seen {
            let range = p.current_range();
            p.error_at(range, "`..` must be the last thing in a record pattern");
        }
        if p.at(DOT2) {
            p.bump();
            rest_seen = true;
            return;
        }
        p.node(FIELD_PAT, |p| {
            name_ref(p, "a field name");
            if p.eat(COLON) && !pattern(p) {
                p.error_expected("a pattern after `:`");
            }
        });
    });
}
