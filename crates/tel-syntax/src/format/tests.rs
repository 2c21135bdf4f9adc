//! Unit tests of the layout rules, one construct at a time (the fixtures under
//! `fixtures/format/` and the properties in `tests/format*.rs` cover whole files).

use expect_test::{Expect, expect};

use super::*;

fn check(input: &str, expect: Expect) {
    let out = format(input).unwrap_or_else(|e| panic!("{e}"));
    expect.assert_eq(&out);
    assert_eq!(format(&out).unwrap(), out, "not idempotent");
}

#[test]
fn smoke() {
    check(
        "fn f(x:Int)->Int{x+1}",
        expect![[r#"
            fn f(x: Int) -> Int {
                x + 1
            }
        "#]],
    );
}

#[test]
fn comments_everywhere() {
    check(
        "// header\n\n\nmodule m;   // trailing\n/// doc\npub fn f(a: Int, // after a\n b: Int /* after b */) -> Int {\n    // first\n    let x = a + // plus\n      b;\n\n\n    /* block */ x // end\n    // last\n}\n// eof\n",
        expect![[r#"
            // header

            module m // trailing

            /// doc
            pub fn f(
                a: Int, // after a
                b: Int, /* after b */
            ) -> Int {
                // first
                let x = a + // plus
                    b;

                /* block */ x // end
                // last
            }
            // eof
        "#]],
    );
}

#[test]
fn comments_in_lists() {
    check(
        "fn f() -> Int { g(a, /* c */ b, c /* d */, // e\n d) }\nenum E { A, // a\n B }\nfn h() { foo(\n    // leading\n    x,\n    // before close\n) }",
        expect![[r#"
            fn f() -> Int {
                g(
                    a, /* c */
                    b,
                    c /* d */, // e
                    d,
                )
            }

            enum E {
                A, // a
                B,
            }

            fn h() {
                foo(
                    // leading
                    x,
                    // before close
                )
            }
        "#]],
    );
}

#[test]
fn empty_things() {
    check(
        "fn f() {}\nfn g() { /* nothing */ }\nfn h() {\n // nothing\n}\nenum E {}\nfn i() -> Int { f(); {} }",
        expect![[r#"
            fn f() {}

            fn g() {
                /* nothing */
            }

            fn h() {
                // nothing
            }

            enum E {}

            fn i() -> Int {
                f();
                {}
            }
        "#]],
    );
}

#[test]
fn only_comments_and_empty() {
    check("", expect![[r#""#]]);
    check("  \n\n ", expect![[r#""#]]);
    check(
        "\n\n// just a comment   \n\n",
        expect![[r#"
        // just a comment
    "#]],
    );
    check(
        "/* a */ /* b */",
        expect![[r#"
        /* a */ /* b */
    "#]],
    );
}

// Cases the property tests once found not idempotent, pinned.

#[test]
fn an_empty_list_written_across_lines_forces_nothing() {
    check(
        "fn f(n: Int) -> List<Int> { if n > 0 { [\n] } else { [n] } }",
        expect![[r#"
            fn f(n: Int) -> List<Int> {
                if n > 0 { [] } else { [n] }
            }
        "#]],
    );
}

#[test]
fn a_break_after_a_trailing_block_comment_is_the_layouts() {
    check(
        "fn f() -> Bool { g(aaaaaaaaaaaaaaaaaaaa) /* why */\n == hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh }",
        expect![[r#"
            fn f() -> Bool {
                g(aaaaaaaaaaaaaaaaaaaa) /* why */
                    == hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh
            }
        "#]],
    );
}

#[test]
fn a_semicolon_after_a_doc_comment_stays() {
    // dropped, the `;` would let `/// d` document `f`
    check(
        "type A = Int /// d\n;\nfn f() {}",
        expect![[r#"
        type A = Int
        /// d
        ;

        fn f() {}
    "#]],
    );
}

#[test]
fn a_kept_list_in_an_operator_chain_breaks_the_chain_as_a_long_one_would() {
    let long = "fn f() -> List<Int> { aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ++ bbbbbbbbbbbbbbbbbbbbbbbbbb ++ [cccccccccccccccccc, dddddddddddddddddddd] }";
    let kept = long.replace("++ [", "++ [\n");
    let a = format(long).unwrap();
    let b = format(&kept).unwrap();
    expect![[r#"
        fn f() -> List<Int> {
            aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ++ bbbbbbbbbbbbbbbbbbbbbbbbbb
                ++ [
                    cccccccccccccccccc,
                    dddddddddddddddddddd,
                ]
        }
    "#]]
    .assert_eq(&b);
    // the chain breaks before the list in both; only the list's own layout differs
    assert_eq!(a.lines().nth(1), b.lines().nth(1));
}

#[test]
fn functions_are_set_apart_unless_a_comment_stands_between() {
    check(
        "fn a() {}\nfn b() {}\n// about c\nfn c() {}\ntype T = Int\ntype U = Int",
        expect![[r#"
            fn a() {}

            fn b() {}
            // about c
            fn c() {}

            type T = Int
            type U = Int
        "#]],
    );
}

#[test]
fn crlf_byte_order_mark_and_wide_characters() {
    // CRLF becomes LF, the mark goes, and `é` counts as one column
    check(
        "\u{FEFF}fn f() -> String { // café\r\n    \"caf\u{e9} \u{1F600}\" }\r\n",
        expect![[r#"
            fn f() -> String { // café
                "café 😀"
            }
        "#]],
    );
    let long = format!("fn f() -> String {{ g(\"{}\", x) }}", "é".repeat(80));
    let out = format(&long).unwrap();
    assert!(out.lines().nth(1).unwrap().ends_with(", x)"), "{out}");
}
