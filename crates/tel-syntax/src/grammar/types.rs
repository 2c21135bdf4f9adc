//! Types and effect rows.

use super::{ListShape, delimited, name, path_segments};
use crate::SyntaxKind::*;
use crate::parser::{Parser, TokenSet};

pub(super) const TYPE_START: TokenSet = TokenSet::new(&[IDENT, L_PAREN, L_CURLY, FN_KW, HASH]);

/// Type = TypeAtom { "?" }. Returns false (consuming nothing) when no type starts here.
pub(super) fn type_(p: &mut Parser) -> bool {
    if !p.at_ts(TYPE_START) {
        return false;
    }
    p.nested(|p| {
        let checkpoint = p.checkpoint();
        type_atom(p);
        while p.at(QUESTION) {
            p.start_at(checkpoint, OPTION_TYPE);
            p.bump();
            p.finish();
        }
        true
    })
}

fn type_atom(p: &mut Parser) {
    match p.current() {
        IDENT => p.node(PATH_TYPE, |p| {
            path_segments(p);
            if p.at(LT) {
                generic_args(p);
            }
        }),
        L_PAREN if p.nth(1) == R_PAREN => p.node(UNIT_TYPE, |p| {
            p.bump();
            p.bump();
        }),
        L_PAREN => p.node(PAREN_TYPE, |p| {
            let opened_at = p.current_range().start();
            p.bump();
            if !type_(p) {
                p.error_expected("a type");
            }
            p.expect_closing(R_PAREN, "parenthesized type", opened_at);
        }),
        L_CURLY => record_type(p),
        FN_KW => fn_type(p),
        HASH => p.token_node(HASH_REF),
        _ => p.error_expected("a type"),
    }
}

/// GenericArgs = "<" Type { "," Type } [ "," ] ">".
fn generic_args(p: &mut Parser) {
    let shape = ListShape {
        open: LT,
        close: GT,
        name: "generic arguments",
        element: "a type",
        first: TYPE_START,
        comma_optional_after_block: false,
    };
    p.node(GENERIC_ARGS, |p| {
        delimited(p, &shape, |p| {
            type_(p);
        })
    });
}

/// RecordType = "{" [ FieldType { "," FieldType } [ "," ] ] "}".
fn record_type(p: &mut Parser) {
    let shape = ListShape {
        open: L_CURLY,
        close: R_CURLY,
        name: "record type",
        element: "a field",
        first: TokenSet::new(&[IDENT]),
        comma_optional_after_block: false,
    };
    p.node(RECORD_TYPE, |p| {
        delimited(p, &shape, |p| {
            p.node(FIELD_TYPE, |p| {
                name(p, "a field name");
                if p.expect(COLON) && !type_(p) {
                    p.error_expected("the field's type");
                }
            })
        })
    });
}

/// FnType = "fn" "(" [ Type { "," Type } [ "," ] ] ")" "->" Type [ EffectRow ].
fn fn_type(p: &mut Parser) {
    p.node(FN_TYPE, |p| {
        p.bump();
        if p.at(L_PAREN) {
            let shape = ListShape {
                open: L_PAREN,
                close: R_PAREN,
                name: "function type's parameter list",
                element: "a parameter type",
                first: TYPE_START,
                comma_optional_after_block: false,
            };
            delimited(p, &shape, |p| {
                type_(p);
            });
        } else {
            p.error_expected("`(` and the parameter types of the function type");
        }
        if !p.expect(THIN_ARROW) {
            return;
        }
        if !type_(p) {
            p.error_expected("the function type's result type");
        }
        if p.at(BANG) {
            effect_row(p);
        }
    });
}

/// EffectRow = "!" "{" [ EffectRef { "," EffectRef } [ "," ] ] "}", at `!`.
pub(super) fn effect_row(p: &mut Parser) {
    p.node(EFFECT_ROW, |p| {
        p.bump();
        if !p.at(L_CURLY) {
            p.error_expected("`{` after `!` to list the effects");
            return;
        }
        let shape = ListShape {
            open: L_CURLY,
            close: R_CURLY,
            name: "effect row",
            element: "an effect",
            first: TokenSet::new(&[IDENT, HASH]),
            comma_optional_after_block: false,
        };
        delimited(p, &shape, |p| {
            if p.at(HASH) {
                p.token_node(HASH_REF);
            } else {
                p.node(PATH_TYPE, path_segments);
            }
        });
    });
}
