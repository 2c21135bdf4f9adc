//! The TEL grammar (docs/grammar.ebnf), one function per rule.
//!
//! Conventions: a rule is called with the parser at its first token when the caller has
//! checked that token; rules that may find nothing return `bool` (whether they parsed
//! something). Errors name what was expected; unclosed delimiters name where they opened.

mod expressions;
mod items;
mod patterns;
mod types;

use crate::SyntaxKind::{self, *};
use crate::parser::{Parser, TokenSet};

pub(crate) use items::source_file;

/// Tokens that start a top-level item. Nothing inside an item starts with them, so every
/// rule stops there: an unfinished item never swallows the next one.
pub(crate) const ITEM_START: TokenSet =
    TokenSet::new(&[FN_KW, TYPE_KW, ENUM_KW, EFFECT_KW, SCHEMA_KW, MODULE_KW, USE_KW, PUB_KW]);

/// Where a list stops looking for its closing delimiter: closers of enclosing constructs,
/// statement starts and items.
const LIST_RECOVERY: TokenSet =
    TokenSet::new(&[R_PAREN, R_CURLY, R_BRACK, SEMICOLON, LET_KW]).union(ITEM_START);

/// How a comma-separated list looks.
struct ListShape<'a> {
    open: SyntaxKind,
    close: SyntaxKind,
    /// "argument list", "record", ...: used in "expected `)` to close the argument list".
    name: &'a str,
    /// "an argument", "a field": used when an element is missing.
    element: &'a str,
    first: TokenSet,
    /// Match arms and handler clauses ending in `}` need no comma, as in Rust.
    comma_optional_after_block: bool,
}

/// `open [elem {"," elem} [","]] close`, at `open`. The caller owns the enclosing node.
fn delimited(p: &mut Parser, shape: &ListShape, mut element: impl FnMut(&mut Parser)) {
    let opened_at = p.current_range().start();
    if !p.expect(shape.open) {
        return;
    }
    let recovery = LIST_RECOVERY.union(TokenSet::new(&[shape.close]));
    loop {
        if p.at(shape.close) || p.at(EOF) {
            break;
        }
        let before = p.progress_mark();
        if p.at_ts(shape.first) {
            element(p);
        } else if p.at_ts(recovery) {
            break;
        } else {
            // a stray token where an element should be: skip it with its comma, so that
            // the next element does not also get an "expected `,`"
            let message = format!("expected {}, found {}", shape.element, p.found());
            p.error_bump(message);
            p.eat(COMMA);
            continue;
        }
        if p.progress_mark() == before {
            // an element rule that consumed nothing: skip the token so the loop advances
            let message = format!("expected {}, found {}", shape.element, p.found());
            p.error_bump(message);
        }
        if p.at(shape.close) {
            break;
        }
        if p.eat(COMMA) {
            continue;
        }
        if shape.comma_optional_after_block && p.prev_kind() == R_CURLY {
            continue;
        }
        if p.at_ts(shape.first) {
            p.error_expected(&format!("`,` or {}", shape.close.describe()));
            continue;
        }
        if p.at_ts(recovery) || p.at(EOF) {
            break;
        }
    }
    p.expect_closing(shape.close, shape.name, opened_at);
}

/// NAME: a defining identifier.
fn name(p: &mut Parser, what: &str) {
    if p.at(IDENT) {
        p.token_node(NAME);
    } else {
        p.error_expected(what);
    }
}

/// Where a binder may start: a name or `_`.
const BINDER_START: TokenSet = TokenSet::new(&[IDENT, UNDERSCORE]);

/// Binder = Ident | "_": a NAME holding the IDENT, or the UNDERSCORE of a binding that
/// nothing can refer to (`let _ = e;`, `_: Int`, `|_|`, `Op(_)`).
fn binder(p: &mut Parser, what: &str) {
    if p.at_ts(BINDER_START) {
        p.token_node(NAME);
    } else {
        p.error_expected(what);
    }
}

/// NAME_REF: a referring identifier.
fn name_ref(p: &mut Parser, what: &str) {
    if p.at(IDENT) {
        p.token_node(NAME_REF);
    } else {
        p.error_expected(what);
    }
}

/// PATH = Ident { "::" Ident }, at an IDENT. Stops before `::{` (a use tree).
fn path(p: &mut Parser) {
    p.start(PATH);
    path_segments(p);
    p.finish();
}

/// The segments of a path, as IDENT and `::` tokens of the enclosing node. Paths in
/// expressions and types hold their segments directly (PATH_EXPR, PATH_TYPE): identifier
/// uses are the most frequent nodes of a file, and one node per use instead of three makes
/// the whole tree a third smaller.
fn path_segments(p: &mut Parser) {
    if p.at(IDENT) {
        p.bump();
    } else {
        p.error_expected("an identifier");
        return;
    }
    while p.at(COLON2) && p.nth(1) != L_CURLY {
        p.bump();
        if p.at(IDENT) {
            p.bump();
        } else {
            p.error_expected("an identifier after `::`");
            break;
        }
    }
}
