//! What the IDE's incrementality relies on: edits inside a body leave the item tree equal,
//! moving text leaves bodies equal, and a `$0` position finds its expression.

use expect_test::expect;
use tel_syntax::ast::{self, HasName};

use super::parse_fixture;
use crate::body::Body;
use crate::item_tree::ItemTree;
use crate::project::Project;

fn item_tree(text: &str) -> ItemTree {
    ItemTree::lower(&tel_syntax::parse(text).tree()).0
}

fn fn_body(text: &str, name: &str) -> Body {
    let file = tel_syntax::parse(text).tree();
    let f = file
        .items()
        .find_map(|it| match it {
            ast::Item::Fn(f) if f.name().is_some_and(|n| n.text() == name) => Some(f),
            _ => None,
        })
        .unwrap();
    Body::lower_fn(&f).0
}

const BASE: &str = r#"
fn fee(amount: Int) -> Int { amount * 3 / 1000 }
fn main() -> Int ! {Log} {
    perform Log("hi");
    fee(100)
}
"#;

#[test]
fn body_edits_keep_the_item_tree() {
    let edited = BASE.replace("amount * 3 / 1000", "let x = amount; x * 4 /* comment */");
    let moved = BASE.replace("fn main", "\n\n/// docs\nfn main");
    assert_eq!(item_tree(BASE), item_tree(&edited));
    assert_eq!(item_tree(BASE), item_tree(&moved));
    let signature_edit = BASE.replace("fee(amount: Int)", "fee(amount: Int, extra: Int)");
    assert_ne!(item_tree(BASE), item_tree(&signature_edit));
}

#[test]
fn moving_text_keeps_bodies() {
    let shifted = format!("// a new first line\n{BASE}").replace("fee(100)", "fee( 100 )");
    assert_eq!(fn_body(BASE, "main"), fn_body(&shifted, "main"));
    assert_eq!(fn_body(BASE, "fee"), fn_body(&shifted.replace("amount * 3", "amount*3"), "fee"));
    assert_ne!(fn_body(BASE, "fee"), fn_body(&BASE.replace("* 3", "* 4"), "fee"));
}

#[test]
fn cursor_finds_the_innermost_expression() {
    let (files, cursor) = parse_fixture(
        r#"
type Quote = { asset: String, price: Int }
fn main(q: Quote) -> Int {
    let doubled = map([q], |x| x.pr$0ice * 2);
    0
}
"#,
    );
    let project = Project::new(files);
    let (path, offset) = cursor.unwrap();
    let (file, id) = project.item_at(&path, offset).unwrap();
    let checked = project.check_item(file, id).unwrap();
    let (body, sm, infer) = checked.body.as_ref().unwrap();
    let e = sm.expr_at_offset(offset).unwrap();
    let text = &file.text[sm.exprs[e]];
    let shown = format!("{text}: {}\n{:?}", infer.type_of_expr(e), &body.exprs[e]);
    expect![[r#"
        x.price: Int
        Field { expr: Idx::<Expr>(3), name: "price" }"#]]
    .assert_eq(&shown);
}
