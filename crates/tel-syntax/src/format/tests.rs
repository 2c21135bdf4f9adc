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
