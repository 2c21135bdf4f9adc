//! Expressions, blocks and statements.

use super::items::param;
use super::patterns::{PATTERN_START, pattern};
use super::{
    BINDER_START, ITEM_START, ListShape, binder, delimited, name_ref, path, path_segments,
};
use crate::SyntaxKind::{self, *};
use crate::parser::{Parser, TokenSet};

pub(super) const EXPR_START: TokenSet = TokenSet::new(&[
    INT, DURATION, STRING, TRUE_KW, FALSE_KW, L_PAREN, IDENT, HASH, L_BRACK, L_CURLY, IF_KW,
    MATCH_KW, HANDLE_KW, WITHIN_KW, AFTER_KW, PERFORM_KW, RESUME_KW, ABORT_KW, PIPE, PIPE2, MINUS,
    BANG,
]);

/// Expressions that end in a block need no `;` as statements (and bind no further: at
/// statement start `if a {} - 1` is a statement and then `-1`).
const BLOCK_LIKE_START: TokenSet =
    TokenSet::new(&[IF_KW, MATCH_KW, HANDLE_KW, WITHIN_KW, AFTER_KW, L_CURLY]);

/// Rust's rule: where a `{` would open the block after a head expression (`if c {`),
/// `Path {` is not a record literal.
#[derive(Clone, Copy)]
struct Restrictions {
    no_record: bool,
}

const RECORDS_OK: Restrictions = Restrictions { no_record: false };
const NO_RECORD: Restrictions = Restrictions { no_record: true };

/// Expr. Returns false (consuming nothing) when no expression starts here.
pub(super) fn expr(p: &mut Parser) -> bool {
    expr_bp(p, 0, RECORDS_OK)
}

/// An expression in head position (`if`, `match`, `within`, `after`).
fn head_expr(p: &mut Parser, what: &str) {
    if !expr_bp(p, 0, NO_RECORD) {
        p.error_expected(what);
    }
}

/// Binding power of a binary operator; higher binds tighter. All are left-associative.
fn infix_power(kind: SyntaxKind) -> Option<u8> {
    Some(match kind {
        PIPE2 => 1,
        AMP2 => 2,
        EQ2 | NEQ | LT | LTEQ | GT | GTEQ => COMPARISON,
        PLUS | MINUS | PLUS2 => 4,
        STAR | SLASH | PERCENT => 5,
        _ => return None,
    })
}

const COMPARISON: u8 = 3;

fn expr_bp(p: &mut Parser, min_power: u8, r: Restrictions) -> bool {
    if !p.at_ts(EXPR_START) {
        return false;
    }
    p.nested(|p| {
        let checkpoint = p.checkpoint();
        unary(p, r);
        let mut lhs_is_comparison = false;
        while let Some(power) = infix_power(p.current()) {
            if power <= min_power {
                break;
            }
            let is_comparison = power == COMPARISON;
            if is_comparison && lhs_is_comparison {
                let range = p.current_range();
                p.error_at(
                    range,
                    "comparison operators cannot be chained: use `&&` or parentheses",
                );
            }
            let op = p.current();
            p.start_at(checkpoint, BIN_EXPR);
            p.bump();
            if !expr_bp(p, power, r) {
                p.error_expected(&format!("an expression after {}", op.describe()));
            }
            p.finish();
            lhs_is_comparison = is_comparison;
        }
        true
    })
}

/// Unary = ( "-" | "!" ) Unary | Postfix, at an EXPR_START token.
fn unary(p: &mut Parser, r: Restrictions) {
    if !(p.at(MINUS) || p.at(BANG)) {
        postfix(p, r);
        return;
    }
    p.nested(|p| {
        let op = p.current();
        p.node(PREFIX_EXPR, |p| {
            p.bump();
            if p.at_ts(EXPR_START) {
                unary(p, r);
            } else {
                p.error_expected(&format!("an expression after {}", op.describe()));
            }
        });
        true
    });
}

/// Postfix = Primary { ArgList | "." Ident }.
fn postfix(p: &mut Parser, r: Restrictions) {
    let checkpoint = p.checkpoint();
    primary(p, r);
    loop {
        match p.current() {
            L_PAREN => {
                p.start_at(checkpoint, CALL_EXPR);
                arg_list(p);
                p.finish();
            }
            DOT => {
                p.start_at(checkpoint, FIELD_EXPR);
                p.bump();
                name_ref(p, "a field name after `.`");
                p.finish();
            }
            _ => break,
        }
    }
}

/// ArgList = "(" [ Expr { "," Expr } [ "," ] ] ")", at `(`.
fn arg_list(p: &mut Parser) {
    let shape = ListShape {
        open: L_PAREN,
        close: R_PAREN,
        name: "argument list",
        element: "an argument",
        first: EXPR_START,
        comma_optional_after_block: false,
    };
    p.node(ARG_LIST, |p| {
        delimited(p, &shape, |p| {
            expr(p);
        })
    });
}

/// Primary, at an EXPR_START token other than a prefix operator.
fn primary(p: &mut Parser, r: Restrictions) {
    match p.current() {
        INT | DURATION | STRING | TRUE_KW | FALSE_KW => p.token_node(LITERAL),
        L_PAREN if p.nth(1) == R_PAREN => p.node(UNIT_EXPR, |p| {
            p.bump();
            p.bump();
        }),
        L_PAREN => p.node(PAREN_EXPR, |p| {
            let opened_at = p.current_range().start();
            p.bump();
            if !expr(p) {
                p.error_expected("an expression");
            }
            if p.at(COMMA) {
                let range = p.current_range();
                p.error_at(range, "TEL has no tuples: use a record `{ a: x, b: y }`");
                while p.at(COMMA) {
                    p.node(ERROR, |p| {
                        p.bump();
                        expr(p);
                    });
                }
            }
            p.expect_closing(R_PAREN, "parenthesized expression", opened_at);
        }),
        IDENT => path_or_record_expr(p, r),
        HASH => p.token_node(HASH_EXPR),
        L_BRACK => list_expr(p),
        L_CURLY if at_record_body(p) => {
            if r.no_record {
                record_in_head_error(p);
            }
            p.node(RECORD_EXPR, record_fields)
        }
        L_CURLY => block(p),
        IF_KW => if_expr(p),
        MATCH_KW => match_expr(p),
        HANDLE_KW => handle_expr(p),
        WITHIN_KW => within_expr(p),
        AFTER_KW => after_expr(p),
        PERFORM_KW => perform_expr(p),
        RESUME_KW | ABORT_KW => {
            let kind = if p.at(RESUME_KW) { RESUME_EXPR } else { ABORT_EXPR };
            let keyword = p.current().describe();
            p.node(kind, |p| {
                p.bump();
                if p.at(L_PAREN) {
                    arg_list(p);
                } else {
                    p.error_expected(&format!("`(` and the value after {keyword}"));
                }
            });
        }
        PIPE | PIPE2 => lambda_expr(p, r),
        _ => p.error_expected("an expression"),
    }
}

/// PATH_EXPR, or RECORD_EXPR for `Path { … }` where records are allowed.
fn path_or_record_expr(p: &mut Parser, r: Restrictions) {
    let checkpoint = p.checkpoint();
    path_segments(p);
    if p.at(L_CURLY) && (!r.no_record || at_record_body(p)) {
        p.start_at(checkpoint, PATH);
        p.finish();
        if r.no_record {
            record_in_head_error(p);
        }
        p.start_at(checkpoint, RECORD_EXPR);
        record_fields(p);
    } else {
        p.start_at(checkpoint, PATH_EXPR);
    }
    p.finish();
}

/// `{ ident :` can only start a record body: no statement starts with `ident :`.
fn at_record_body(p: &Parser) -> bool {
    p.at(L_CURLY) && p.nth(1) == IDENT && p.nth(2) == COLON
}

/// In head position `{` opens the body, but `{ name: …` cannot be a block: parse the
/// record (so the body after it still parses) and say how to write it.
fn record_in_head_error(p: &mut Parser) {
    let range = p.current_range();
    p.error_at(
        range,
        "a record literal is not allowed here, where `{` would open the body: wrap the literal in parentheses",
    );
}

/// RecordBody = "{" [ FieldInit { "," FieldInit } [ "," ] ] "}", at `{`.
fn record_fields(p: &mut Parser) {
    let shape = ListShape {
        open: L_CURLY,
        close: R_CURLY,
        name: "record",
        element: "a field (`name: value`)",
        first: TokenSet::new(&[IDENT]),
        comma_optional_after_block: false,
    };
    p.node(RECORD_FIELDS, |p| {
        delimited(p, &shape, |p| {
            p.node(RECORD_FIELD, |p| {
                name_ref(p, "a field name");
                if p.expect(COLON) && !expr(p) {
                    p.error_expected("the field's value");
                }
            })
        })
    });
}

/// "[" [ Expr { "," Expr } [ "," ] ] "]".
fn list_expr(p: &mut Parser) {
    let shape = ListShape {
        open: L_BRACK,
        close: R_BRACK,
        name: "list",
        element: "a list element",
        first: EXPR_START,
        comma_optional_after_block: false,
    };
    p.node(LIST_EXPR, |p| {
        delimited(p, &shape, |p| {
            expr(p);
        })
    });
}

/// Lambda = "|" [ LambdaParam { "," LambdaParam } [ "," ] ] "|" Expr | "||" Expr.
fn lambda_expr(p: &mut Parser, r: Restrictions) {
    p.node(LAMBDA_EXPR, |p| {
        if p.at(PIPE2) {
            p.token_node(LAMBDA_PARAMS);
        } else {
            let shape = ListShape {
                open: PIPE,
                close: PIPE,
                name: "lambda parameters",
                element: "a parameter",
                first: BINDER_START,
                comma_optional_after_block: false,
            };
            p.node(LAMBDA_PARAMS, |p| delimited(p, &shape, |p| param(p, false)));
        }
        if !expr_bp(p, 0, r) {
            p.error_expected("the lambda's body");
        }
    });
}

/// Block = "{" { Stmt } [ Expr ] "}", at `{`.
pub(super) fn block(p: &mut Parser) {
    p.node(BLOCK_EXPR, |p| {
        let opened_at = p.current_range().start();
        p.bump();
        while !p.at(R_CURLY) && !p.at(EOF) && !p.at_ts(ITEM_START) {
            let before = p.progress_mark();
            statement(p);
            if p.progress_mark() == before {
                let message = format!("expected a statement, found {}", p.found());
                p.error_bump(message);
            }
        }
        p.expect_closing(R_CURLY, "block", opened_at);
    });
}

/// Stmt, or the block's final expression. Consumes at least one token.
fn statement(p: &mut Parser) {
    if p.at(LET_KW) {
        let_stmt(p);
        return;
    }
    if p.at(SEMICOLON) {
        p.error_bump("unexpected `;`: there is no statement before it");
        return;
    }
    let checkpoint = p.checkpoint();
    if p.at_ts(BLOCK_LIKE_START) && !at_record_body(p) {
        let first = p.current();
        // it ends at its `}` (docs/language.md §5): wrap it in parentheses to use it as
        // an operand
        p.nested(|p| {
            primary(p, RECORDS_OK);
            true
        });
        let continues = p.at(DOT) || (infix_power(p.current()).is_some() && !p.at(MINUS));
        if continues {
            let range = p.current_range();
            p.error_at(
                range,
                format!(
                    "a statement starting with {} ends at its closing `}}`: wrap the expression in parentheses to use it as an operand",
                    first.describe()
                ),
            );
        }
        if p.at(SEMICOLON) || !p.at(R_CURLY) {
            p.start_at(checkpoint, EXPR_STMT);
            p.eat(SEMICOLON);
            p.finish();
        }
        return;
    }
    if !expr(p) {
        let message = format!("expected a statement or expression, found {}", p.found());
        p.error_bump(message);
        return;
    }
    match p.current() {
        SEMICOLON => {
            p.start_at(checkpoint, EXPR_STMT);
            p.bump();
            p.finish();
        }
        // the block's value (before an item: the block is unclosed, which it reports)
        R_CURLY | EOF => {}
        _ if p.at_ts(ITEM_START) => {}
        _ => {
            p.error_expected("`;` or `}` after the expression");
            p.start_at(checkpoint, EXPR_STMT);
            p.finish();
        }
    }
}

/// "let" Binder [ ":" Type ] "=" Expr ";".
fn let_stmt(p: &mut Parser) {
    p.node(LET_STMT, |p| {
        p.bump();
        let what = "a variable name or `_` after `let`";
        if !p.at_ts(BINDER_START) && !p.at(EQ) && matches!(p.nth(1), EQ | COLON) {
            // `let 3 = 1;`: skip the one misplaced token so the rest parses as a `let`
            let message = format!("expected {what}, found {}", p.found());
            p.error_bump(message);
        } else {
            binder(p, what);
        }
        if p.eat(COLON) && !super::types::type_(p) {
            p.error_expected("a type after `:`");
        }
        if !p.eat(EQ) {
            p.error_expected("`=` and the variable's value");
            if !p.at_ts(EXPR_START) {
                p.eat(SEMICOLON);
                return;
            }
        }
        if !expr(p) {
            p.error_expected("an expression");
        }
        if !p.eat(SEMICOLON) {
            p.error_expected("`;` after the `let` statement");
        }
    });
}

/// IfExpr = "if" Expr<no-record> Block [ "else" ( Block | IfExpr ) ], at `if`.
fn if_expr(p: &mut Parser) {
    p.node(IF_EXPR, |p| {
        p.bump();
        head_expr(p, "a condition after `if`");
        if p.at(L_CURLY) {
            block(p);
        } else {
            p.error_expected("`{` to start the `if` body");
        }
        if p.eat(ELSE_KW) {
            match p.current() {
                IF_KW => {
                    p.nested(|p| {
                        if_expr(p);
                        true
                    });
                }
                L_CURLY => block(p),
                _ => p.error_expected("`{` or `if` after `else`"),
            }
        }
    });
}

/// MatchExpr = "match" Expr<no-record> "{" [ MatchArm { "," MatchArm } [ "," ] ] "}".
fn match_expr(p: &mut Parser) {
    p.node(MATCH_EXPR, |p| {
        p.bump();
        head_expr(p, "the value to match after `match`");
        if !p.at(L_CURLY) {
            p.error_expected("`{` to start the match arms");
            return;
        }
        let shape = ListShape {
            open: L_CURLY,
            close: R_CURLY,
            name: "match arms",
            element: "a match arm (`pattern => value`)",
            first: PATTERN_START,
            comma_optional_after_block: true,
        };
        p.node(MATCH_ARM_LIST, |p| delimited(p, &shape, match_arm));
    });
}

/// MatchArm = Pattern [ "if" Expr ] "=>" Expr.
fn match_arm(p: &mut Parser) {
    p.node(MATCH_ARM, |p| {
        pattern(p);
        if p.at(IF_KW) {
            p.node(MATCH_GUARD, |p| {
                p.bump();
                if !expr(p) {
                    p.error_expected("a condition after `if`");
                }
            });
        }
        arrow_and_body(p, "the arm's value");
    });
}

fn arrow_and_body(p: &mut Parser, what: &str) {
    if !p.eat(FAT_ARROW) {
        p.error_expected("`=>`");
        if !p.at_ts(EXPR_START) {
            return;
        }
    }
    if !expr(p) {
        p.error_expected(what);
    }
}

/// HandleExpr = "handle" Block "with" "{" [ Clause { "," Clause } [ "," ] ] "}".
fn handle_expr(p: &mut Parser) {
    p.node(HANDLE_EXPR, |p| {
        p.bump();
        if p.at(L_CURLY) {
            block(p);
        } else {
            p.error_expected("`{` to start the handled block");
        }
        if !p.eat(WITH_KW) {
            p.error_expected("`with` and the handler clauses");
            return;
        }
        if !p.at(L_CURLY) {
            p.error_expected("`{` to start the handler clauses");
            return;
        }
        let shape = ListShape {
            open: L_CURLY,
            close: R_CURLY,
            name: "handler clauses",
            element: "a handler clause (`Op(x) => value`)",
            first: TokenSet::new(&[IDENT]),
            comma_optional_after_block: true,
        };
        p.node(HANDLER_CLAUSES, |p| delimited(p, &shape, handler_clause));
    });
}

/// Clause = Path "(" [ Binder { "," Binder } [ "," ] ] ")" "=>" Expr.
fn handler_clause(p: &mut Parser) {
    p.node(HANDLER_CLAUSE, |p| {
        path(p);
        if p.at(L_PAREN) {
            let shape = ListShape {
                open: L_PAREN,
                close: R_PAREN,
                name: "clause parameters",
                element: "a parameter name or `_`",
                first: BINDER_START,
                comma_optional_after_block: false,
            };
            p.node(CLAUSE_PARAMS, |p| {
                delimited(p, &shape, |p| binder(p, "a parameter name or `_`"))
            });
        } else {
            p.error_expected("`(` and the operation's parameters");
        }
        arrow_and_body(p, "the clause's value");
    });
}

/// WithinExpr = "within" Expr<no-record> Block "else" Block.
fn within_expr(p: &mut Parser) {
    p.node(WITHIN_EXPR, |p| {
        p.bump();
        head_expr(p, "a deadline after `within`");
        if p.at(L_CURLY) {
            block(p);
        } else {
            p.error_expected("`{` to start the `within` body");
            return;
        }
        if !p.eat(ELSE_KW) {
            p.error_expected("`else` and the fallback block (a `within` needs both)");
            return;
        }
        if p.at(L_CURLY) {
            block(p);
        } else {
            p.error_expected("`{` to start the fallback block");
        }
    });
}

/// AfterExpr = "after" Expr<no-record> Block.
fn after_expr(p: &mut Parser) {
    p.node(AFTER_EXPR, |p| {
        p.bump();
        head_expr(p, "a delay after `after`");
        if p.at(L_CURLY) {
            block(p);
        } else {
            p.error_expected("`{` to start the `after` body");
        }
    });
}

/// "perform" Path ArgList.
fn perform_expr(p: &mut Parser) {
    p.node(PERFORM_EXPR, |p| {
        p.bump();
        if !p.at(IDENT) {
            p.error_expected("the operation to perform");
            return;
        }
        path(p);
        if p.at(L_PAREN) {
            arg_list(p);
        } else {
            p.error_expected("`(` and the operation's arguments");
        }
    });
}
