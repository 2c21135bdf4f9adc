//! Items: the top level of a file.

use super::{
    BINDER_START, ITEM_START, ListShape, binder, delimited, expressions, name, name_ref, path,
    types,
};
use crate::SyntaxKind::*;
use crate::parser::{Parser, TokenSet};

/// SourceFile = { Item }.
pub(crate) fn source_file(p: &mut Parser) {
    p.start_root();
    while !p.at(EOF) {
        if p.at_ts(ITEM_START) {
            item(p);
        } else {
            stray_top_level(p);
        }
    }
    p.finish_root();
}

/// Tokens that cannot start an item: one ERROR node up to the next item and one error.
fn stray_top_level(p: &mut Parser) {
    let hint = match p.current() {
        LET_KW => ": statements belong inside a function body",
        R_CURLY => ": this `}` closes nothing",
        EVOLVE_KW => ": `evolve` is reserved for future use",
        _ => "",
    };
    if !p.at(ERROR) {
        let message = format!(
            "expected an item (`fn`, `type`, `enum`, `effect`, `schema`, `module` or `use`), found {}{hint}",
            p.found()
        );
        let range = p.current_range();
        p.error_at(range, message);
    }
    p.start(ERROR);
    while !p.at(EOF) && !p.at_ts(ITEM_START) {
        p.bump();
    }
    p.finish();
}

/// Item = { DocComment } [ "pub" ] ( ModuleDecl | UseItem | FnItem | ... ), at `pub` or a
/// keyword.
fn item(p: &mut Parser) {
    let keyword = if p.at(PUB_KW) { p.nth(1) } else { p.current() };
    let kind = match keyword {
        FN_KW => FN_ITEM,
        TYPE_KW => TYPE_ITEM,
        ENUM_KW => ENUM_ITEM,
        EFFECT_KW => EFFECT_ITEM,
        SCHEMA_KW => SCHEMA_ITEM,
        MODULE_KW => MODULE_DECL,
        USE_KW => USE_ITEM,
        _ => ERROR,
    };
    p.start_with_docs(kind);
    p.eat(PUB_KW);
    match kind {
        FN_ITEM => fn_item(p),
        TYPE_ITEM => type_item(p),
        ENUM_ITEM => enum_item(p),
        EFFECT_ITEM => effect_item(p),
        SCHEMA_ITEM => schema_item(p),
        MODULE_DECL => module_decl(p),
        USE_ITEM => use_item(p),
        _ => p.error_expected("an item after `pub`"),
    }
    p.finish();
}

/// FnItem = "fn" Ident ParamList [ "->" Type ] [ EffectRow ] Block.
fn fn_item(p: &mut Parser) {
    p.bump();
    name(p, "a function name");
    if p.at(L_PAREN) {
        param_list(p);
    } else {
        p.error_expected("`(` to start the parameter list");
    }
    if p.eat(THIN_ARROW) {
        // `-> {` is a record return type only if a field follows: `fn f() -> { }` is a
        // missing return type before the body, not an empty record type and no body.
        let record_type = p.nth(1) == IDENT && p.nth(2) == COLON;
        if (p.at(L_CURLY) && !record_type) || !types::type_(p) {
            p.error_expected("the return type after `->`");
        }
    }
    if p.at(BANG) {
        types::effect_row(p);
    }
    if p.at(L_CURLY) {
        expressions::block(p);
    } else {
        p.error_expected("`{` to start the function body");
    }
}

/// ParamList = "(" [ Param { "," Param } [ "," ] ] ")".
pub(super) fn param_list(p: &mut Parser) {
    let shape = ListShape {
        open: L_PAREN,
        close: R_PAREN,
        name: "parameter list",
        element: "a parameter",
        first: BINDER_START,
        comma_optional_after_block: false,
    };
    p.node(PARAM_LIST, |p| delimited(p, &shape, |p| param(p, true)));
}

/// Param = Binder ":" Type (the type is optional for lambda parameters).
pub(super) fn param(p: &mut Parser, type_required: bool) {
    p.node(PARAM, |p| {
        binder(p, "a parameter name or `_`");
        if p.eat(COLON) {
            if !types::type_(p) {
                p.error_expected("the parameter's type");
            }
        } else if type_required {
            p.error_expected("`:` and the parameter's type");
        }
    });
}

/// TypeItem = "type" Ident "=" Type [ ";" ].
fn type_item(p: &mut Parser) {
    p.bump();
    name(p, "a type name");
    if p.expect(EQ) && !types::type_(p) {
        p.error_expected("a type after `=`");
    }
    p.eat(SEMICOLON);
}

/// EnumItem = "enum" Ident "{" [ Variant { "," Variant } [ "," ] ] "}".
fn enum_item(p: &mut Parser) {
    p.bump();
    name(p, "an enum name");
    if !p.at(L_CURLY) {
        p.error_expected("`{` to start the enum's variants");
        return;
    }
    let shape = ListShape {
        open: L_CURLY,
        close: R_CURLY,
        name: "enum body",
        element: "a variant",
        first: TokenSet::new(&[IDENT]),
        comma_optional_after_block: false,
    };
    delimited(p, &shape, variant);
}

/// Variant = Ident [ "(" [ Type { "," Type } [ "," ] ] ")" ].
fn variant(p: &mut Parser) {
    p.node(VARIANT, |p| {
        name(p, "a variant name");
        if p.at(L_PAREN) {
            let shape = ListShape {
                open: L_PAREN,
                close: R_PAREN,
                name: "variant fields",
                element: "a type",
                first: types::TYPE_START,
                comma_optional_after_block: false,
            };
            p.node(VARIANT_FIELDS, |p| {
                delimited(p, &shape, |p| {
                    types::type_(p);
                })
            });
        }
    });
}

/// EffectItem = "effect" Ident ParamList [ "->" Type ] [ ";" ].
fn effect_item(p: &mut Parser) {
    p.bump();
    name(p, "an effect name");
    if p.at(L_PAREN) {
        param_list(p);
    } else {
        p.error_expected("`(` to start the effect's parameters");
    }
    if p.eat(THIN_ARROW) && !types::type_(p) {
        p.error_expected("the result type after `->`");
    }
    p.eat(SEMICOLON);
}

/// SchemaItem = "schema" Ident "{" [ SchemaField { "," SchemaField } [ "," ] ] "}".
fn schema_item(p: &mut Parser) {
    p.bump();
    name(p, "a schema name");
    if !p.at(L_CURLY) {
        p.error_expected("`{` to start the schema's fields");
        return;
    }
    let shape = ListShape {
        open: L_CURLY,
        close: R_CURLY,
        name: "schema body",
        element: "a field",
        first: TokenSet::new(&[IDENT]),
        comma_optional_after_block: false,
    };
    delimited(p, &shape, schema_field);
}

/// SchemaField = { DocComment } Ident ":" Type [ "=" Expr ].
fn schema_field(p: &mut Parser) {
    p.start_with_docs(SCHEMA_FIELD);
    name(p, "a field name");
    if p.expect(COLON) && !types::type_(p) {
        p.error_expected("the field's type");
    }
    if p.eat(EQ) && !expressions::expr(p) {
        p.error_expected("a default value after `=`");
    }
    p.finish();
}

/// ModuleDecl = "module" Path [ ";" ].
fn module_decl(p: &mut Parser) {
    p.bump();
    if p.at(IDENT) {
        path(p);
    } else {
        p.error_expected("a module name");
    }
    p.eat(SEMICOLON);
}

/// UseItem = "use" Path [ "::" UseTree ] [ ";" ].
fn use_item(p: &mut Parser) {
    p.bump();
    if p.at(IDENT) {
        path(p);
    } else {
        p.error_expected("a module path");
    }
    if p.at(COLON2) {
        p.bump();
        if p.at(L_CURLY) {
            use_tree(p);
        } else {
            p.error_expected("`{` or a name after `::`");
        }
    }
    p.eat(SEMICOLON);
}

/// UseTree = "{" [ UseName { "," UseName } [ "," ] ] "}".
fn use_tree(p: &mut Parser) {
    let shape = ListShape {
        open: L_CURLY,
        close: R_CURLY,
        name: "list of imported names",
        element: "a name to import",
        first: TokenSet::new(&[IDENT]),
        comma_optional_after_block: false,
    };
    p.node(USE_TREE, |p| delimited(p, &shape, use_name));
}

/// UseName = Ident [ "as" Ident ].
fn use_name(p: &mut Parser) {
    p.node(USE_NAME, |p| {
        name_ref(p, "a name to import");
        if p.at(IDENT) && p.nth_text(0) == "as" {
            p.bump_remap(AS_KW);
            name(p, "a name after `as`");
        }
    });
}
