//! Parser tests over inline snippets: one per construct and per recovery case.

use expect_test::{Expect, expect};

use crate::parse;

/// Parses `text`, checks losslessness, and compares the tree dump and errors.
fn check(text: &str, expect: Expect) {
    let parse = parse(text);
    assert_eq!(parse.syntax_node().to_string(), text, "tree text differs from input");
    expect.assert_eq(&parse.debug_tree());
}

/// Like [`check`] but only the errors (for recovery cases where the tree is long).
fn check_errors(text: &str, expect: Expect) {
    let parse = parse(text);
    assert_eq!(parse.syntax_node().to_string(), text, "tree text differs from input");
    let index = crate::LineIndex::new(text);
    let errors: String = parse
        .errors
        .iter()
        .map(|e| format!("{:?} ({}): {}\n", e.range, index.human(e.range.start()), e.message))
        .collect();
    expect.assert_eq(&errors);
}

#[test]
fn empty_file() {
    check(
        "",
        expect![[r#"
        SOURCE_FILE@0..0
    "#]],
    );
}

#[test]
fn fn_item_full() {
    check(
        "/// Adds.\n/// Twice.\npub fn add(a: Int, b: Int,) -> Int ! {Log, #a7f3b2c1} { a + b }",
        expect![[r##"
            SOURCE_FILE@0..84
              FN_ITEM@0..84
                DOC_COMMENT@0..9 "/// Adds."
                WHITESPACE@9..10 "\n"
                DOC_COMMENT@10..20 "/// Twice."
                WHITESPACE@20..21 "\n"
                PUB_KW@21..24 "pub"
                WHITESPACE@24..25 " "
                FN_KW@25..27 "fn"
                WHITESPACE@27..28 " "
                NAME@28..31
                  IDENT@28..31 "add"
                PARAM_LIST@31..48
                  L_PAREN@31..32 "("
                  PARAM@32..38
                    NAME@32..33
                      IDENT@32..33 "a"
                    COLON@33..34 ":"
                    WHITESPACE@34..35 " "
                    PATH_TYPE@35..38
                      IDENT@35..38 "Int"
                  COMMA@38..39 ","
                  WHITESPACE@39..40 " "
                  PARAM@40..46
                    NAME@40..41
                      IDENT@40..41 "b"
                    COLON@41..42 ":"
                    WHITESPACE@42..43 " "
                    PATH_TYPE@43..46
                      IDENT@43..46 "Int"
                  COMMA@46..47 ","
                  R_PAREN@47..48 ")"
                WHITESPACE@48..49 " "
                THIN_ARROW@49..51 "->"
                WHITESPACE@51..52 " "
                PATH_TYPE@52..55
                  IDENT@52..55 "Int"
                WHITESPACE@55..56 " "
                EFFECT_ROW@56..74
                  BANG@56..57 "!"
                  WHITESPACE@57..58 " "
                  L_CURLY@58..59 "{"
                  PATH_TYPE@59..62
                    IDENT@59..62 "Log"
                  COMMA@62..63 ","
                  WHITESPACE@63..64 " "
                  HASH_REF@64..73
                    HASH@64..73 "#a7f3b2c1"
                  R_CURLY@73..74 "}"
                WHITESPACE@74..75 " "
                BLOCK_EXPR@75..84
                  L_CURLY@75..76 "{"
                  WHITESPACE@76..77 " "
                  BIN_EXPR@77..82
                    PATH_EXPR@77..78
                      IDENT@77..78 "a"
                    WHITESPACE@78..79 " "
                    PLUS@79..80 "+"
                    WHITESPACE@80..81 " "
                    PATH_EXPR@81..82
                      IDENT@81..82 "b"
                  WHITESPACE@82..83 " "
                  R_CURLY@83..84 "}"
        "##]],
    );
}

#[test]
fn module_and_use() {
    check(
        "module treasury::core;\nuse other::fee\nuse a::{b, c as d,};",
        expect![[r#"
            SOURCE_FILE@0..58
              MODULE_DECL@0..22
                MODULE_KW@0..6 "module"
                WHITESPACE@6..7 " "
                PATH@7..21
                  IDENT@7..15 "treasury"
                  COLON2@15..17 "::"
                  IDENT@17..21 "core"
                SEMICOLON@21..22 ";"
              WHITESPACE@22..23 "\n"
              USE_ITEM@23..37
                USE_KW@23..26 "use"
                WHITESPACE@26..27 " "
                PATH@27..37
                  IDENT@27..32 "other"
                  COLON2@32..34 "::"
                  IDENT@34..37 "fee"
              WHITESPACE@37..38 "\n"
              USE_ITEM@38..58
                USE_KW@38..41 "use"
                WHITESPACE@41..42 " "
                PATH@42..43
                  IDENT@42..43 "a"
                COLON2@43..45 "::"
                USE_TREE@45..57
                  L_CURLY@45..46 "{"
                  USE_NAME@46..47
                    NAME_REF@46..47
                      IDENT@46..47 "b"
                  COMMA@47..48 ","
                  WHITESPACE@48..49 " "
                  USE_NAME@49..55
                    NAME_REF@49..50
                      IDENT@49..50 "c"
                    WHITESPACE@50..51 " "
                    AS_KW@51..53 "as"
                    WHITESPACE@53..54 " "
                    NAME@54..55
                      IDENT@54..55 "d"
                  COMMA@55..56 ","
                  R_CURLY@56..57 "}"
                SEMICOLON@57..58 ";"
        "#]],
    );
}

#[test]
fn type_items() {
    check(
        "type Quote = { asset: String, price: Int? }\ntype F = fn(Int, String) -> Bool ! {Log}\ntype L = List<Map<String, Int>>??;\ntype U = ()\ntype P = (Int)\ntype H = #a7f3b2c1.2",
        expect![[r##"
            SOURCE_FILE@0..167
              TYPE_ITEM@0..43
                TYPE_KW@0..4 "type"
                WHITESPACE@4..5 " "
                NAME@5..10
                  IDENT@5..10 "Quote"
                WHITESPACE@10..11 " "
                EQ@11..12 "="
                WHITESPACE@12..13 " "
                RECORD_TYPE@13..43
                  L_CURLY@13..14 "{"
                  WHITESPACE@14..15 " "
                  FIELD_TYPE@15..28
                    NAME@15..20
                      IDENT@15..20 "asset"
                    COLON@20..21 ":"
                    WHITESPACE@21..22 " "
                    PATH_TYPE@22..28
                      IDENT@22..28 "String"
                  COMMA@28..29 ","
                  WHITESPACE@29..30 " "
                  FIELD_TYPE@30..41
                    NAME@30..35
                      IDENT@30..35 "price"
                    COLON@35..36 ":"
                    WHITESPACE@36..37 " "
                    OPTION_TYPE@37..41
                      PATH_TYPE@37..40
                        IDENT@37..40 "Int"
                      QUESTION@40..41 "?"
                  WHITESPACE@41..42 " "
                  R_CURLY@42..43 "}"
              WHITESPACE@43..44 "\n"
              TYPE_ITEM@44..84
                TYPE_KW@44..48 "type"
                WHITESPACE@48..49 " "
                NAME@49..50
                  IDENT@49..50 "F"
                WHITESPACE@50..51 " "
                EQ@51..52 "="
                WHITESPACE@52..53 " "
                FN_TYPE@53..84
                  FN_KW@53..55 "fn"
                  L_PAREN@55..56 "("
                  PATH_TYPE@56..59
                    IDENT@56..59 "Int"
                  COMMA@59..60 ","
                  WHITESPACE@60..61 " "
                  PATH_TYPE@61..67
                    IDENT@61..67 "String"
                  R_PAREN@67..68 ")"
                  WHITESPACE@68..69 " "
                  THIN_ARROW@69..71 "->"
                  WHITESPACE@71..72 " "
                  PATH_TYPE@72..76
                    IDENT@72..76 "Bool"
                  WHITESPACE@76..77 " "
                  EFFECT_ROW@77..84
                    BANG@77..78 "!"
                    WHITESPACE@78..79 " "
                    L_CURLY@79..80 "{"
                    PATH_TYPE@80..83
                      IDENT@80..83 "Log"
                    R_CURLY@83..84 "}"
              WHITESPACE@84..85 "\n"
              TYPE_ITEM@85..119
                TYPE_KW@85..89 "type"
                WHITESPACE@89..90 " "
                NAME@90..91
                  IDENT@90..91 "L"
                WHITESPACE@91..92 " "
                EQ@92..93 "="
                WHITESPACE@93..94 " "
                OPTION_TYPE@94..118
                  OPTION_TYPE@94..117
                    PATH_TYPE@94..116
                      IDENT@94..98 "List"
                      GENERIC_ARGS@98..116
                        LT@98..99 "<"
                        PATH_TYPE@99..115
                          IDENT@99..102 "Map"
                          GENERIC_ARGS@102..115
                            LT@102..103 "<"
                            PATH_TYPE@103..109
                              IDENT@103..109 "String"
                            COMMA@109..110 ","
                            WHITESPACE@110..111 " "
                            PATH_TYPE@111..114
                              IDENT@111..114 "Int"
                            GT@114..115 ">"
                        GT@115..116 ">"
                    QUESTION@116..117 "?"
                  QUESTION@117..118 "?"
                SEMICOLON@118..119 ";"
              WHITESPACE@119..120 "\n"
              TYPE_ITEM@120..131
                TYPE_KW@120..124 "type"
                WHITESPACE@124..125 " "
                NAME@125..126
                  IDENT@125..126 "U"
                WHITESPACE@126..127 " "
                EQ@127..128 "="
                WHITESPACE@128..129 " "
                UNIT_TYPE@129..131
                  L_PAREN@129..130 "("
                  R_PAREN@130..131 ")"
              WHITESPACE@131..132 "\n"
              TYPE_ITEM@132..146
                TYPE_KW@132..136 "type"
                WHITESPACE@136..137 " "
                NAME@137..138
                  IDENT@137..138 "P"
                WHITESPACE@138..139 " "
                EQ@139..140 "="
                WHITESPACE@140..141 " "
                PAREN_TYPE@141..146
                  L_PAREN@141..142 "("
                  PATH_TYPE@142..145
                    IDENT@142..145 "Int"
                  R_PAREN@145..146 ")"
              WHITESPACE@146..147 "\n"
              TYPE_ITEM@147..167
                TYPE_KW@147..151 "type"
                WHITESPACE@151..152 " "
                NAME@152..153
                  IDENT@152..153 "H"
                WHITESPACE@153..154 " "
                EQ@154..155 "="
                WHITESPACE@155..156 " "
                HASH_REF@156..167
                  HASH@156..167 "#a7f3b2c1.2"
        "##]],
    );
}

#[test]
fn enum_effect_schema() {
    check(
        "enum Outcome { Filled(Int), Rejected(String,), Expired, }\neffect Approve(amount: Int) -> Bool\nschema Treasury {\n    /// Balances.\n    balances: Map<String, Int>,\n    risk: Int = 5,\n    note: String?,\n}",
        expect![[r#"
            SOURCE_FILE@0..201
              ENUM_ITEM@0..57
                ENUM_KW@0..4 "enum"
                WHITESPACE@4..5 " "
                NAME@5..12
                  IDENT@5..12 "Outcome"
                WHITESPACE@12..13 " "
                L_CURLY@13..14 "{"
                WHITESPACE@14..15 " "
                VARIANT@15..26
                  NAME@15..21
                    IDENT@15..21 "Filled"
                  VARIANT_FIELDS@21..26
                    L_PAREN@21..22 "("
                    PATH_TYPE@22..25
                      IDENT@22..25 "Int"
                    R_PAREN@25..26 ")"
                COMMA@26..27 ","
                WHITESPACE@27..28 " "
                VARIANT@28..45
                  NAME@28..36
                    IDENT@28..36 "Rejected"
                  VARIANT_FIELDS@36..45
                    L_PAREN@36..37 "("
                    PATH_TYPE@37..43
                      IDENT@37..43 "String"
                    COMMA@43..44 ","
                    R_PAREN@44..45 ")"
                COMMA@45..46 ","
                WHITESPACE@46..47 " "
                VARIANT@47..54
                  NAME@47..54
                    IDENT@47..54 "Expired"
                COMMA@54..55 ","
                WHITESPACE@55..56 " "
                R_CURLY@56..57 "}"
              WHITESPACE@57..58 "\n"
              EFFECT_ITEM@58..93
                EFFECT_KW@58..64 "effect"
                WHITESPACE@64..65 " "
                NAME@65..72
                  IDENT@65..72 "Approve"
                PARAM_LIST@72..85
                  L_PAREN@72..73 "("
                  PARAM@73..84
                    NAME@73..79
                      IDENT@73..79 "amount"
                    COLON@79..80 ":"
                    WHITESPACE@80..81 " "
                    PATH_TYPE@81..84
                      IDENT@81..84 "Int"
                  R_PAREN@84..85 ")"
                WHITESPACE@85..86 " "
                THIN_ARROW@86..88 "->"
                WHITESPACE@88..89 " "
                PATH_TYPE@89..93
                  IDENT@89..93 "Bool"
              WHITESPACE@93..94 "\n"
              SCHEMA_ITEM@94..201
                SCHEMA_KW@94..100 "schema"
                WHITESPACE@100..101 " "
                NAME@101..109
                  IDENT@101..109 "Treasury"
                WHITESPACE@109..110 " "
                L_CURLY@110..111 "{"
                WHITESPACE@111..116 "\n    "
                SCHEMA_FIELD@116..160
                  DOC_COMMENT@116..129 "/// Balances."
                  WHITESPACE@129..134 "\n    "
                  NAME@134..142
                    IDENT@134..142 "balances"
                  COLON@142..143 ":"
                  WHITESPACE@143..144 " "
                  PATH_TYPE@144..160
                    IDENT@144..147 "Map"
                    GENERIC_ARGS@147..160
                      LT@147..148 "<"
                      PATH_TYPE@148..154
                        IDENT@148..154 "String"
                      COMMA@154..155 ","
                      WHITESPACE@155..156 " "
                      PATH_TYPE@156..159
                        IDENT@156..159 "Int"
                      GT@159..160 ">"
                COMMA@160..161 ","
                WHITESPACE@161..166 "\n    "
                SCHEMA_FIELD@166..179
                  NAME@166..170
                    IDENT@166..170 "risk"
                  COLON@170..171 ":"
                  WHITESPACE@171..172 " "
                  PATH_TYPE@172..175
                    IDENT@172..175 "Int"
                  WHITESPACE@175..176 " "
                  EQ@176..177 "="
                  WHITESPACE@177..178 " "
                  LITERAL@178..179
                    INT@178..179 "5"
                COMMA@179..180 ","
                WHITESPACE@180..185 "\n    "
                SCHEMA_FIELD@185..198
                  NAME@185..189
                    IDENT@185..189 "note"
                  COLON@189..190 ":"
                  WHITESPACE@190..191 " "
                  OPTION_TYPE@191..198
                    PATH_TYPE@191..197
                      IDENT@191..197 "String"
                    QUESTION@197..198 "?"
                COMMA@198..199 ","
                WHITESPACE@199..200 "\n"
                R_CURLY@200..201 "}"
        "#]],
    );
}

#[test]
fn precedence() {
    check(
        "fn f() -> Bool { a || b && c == d + e * -f.g(h) ++ i % j }",
        expect![[r#"
            SOURCE_FILE@0..58
              FN_ITEM@0..58
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "f"
                PARAM_LIST@4..6
                  L_PAREN@4..5 "("
                  R_PAREN@5..6 ")"
                WHITESPACE@6..7 " "
                THIN_ARROW@7..9 "->"
                WHITESPACE@9..10 " "
                PATH_TYPE@10..14
                  IDENT@10..14 "Bool"
                WHITESPACE@14..15 " "
                BLOCK_EXPR@15..58
                  L_CURLY@15..16 "{"
                  WHITESPACE@16..17 " "
                  BIN_EXPR@17..56
                    PATH_EXPR@17..18
                      IDENT@17..18 "a"
                    WHITESPACE@18..19 " "
                    PIPE2@19..21 "||"
                    WHITESPACE@21..22 " "
                    BIN_EXPR@22..56
                      PATH_EXPR@22..23
                        IDENT@22..23 "b"
                      WHITESPACE@23..24 " "
                      AMP2@24..26 "&&"
                      WHITESPACE@26..27 " "
                      BIN_EXPR@27..56
                        PATH_EXPR@27..28
                          IDENT@27..28 "c"
                        WHITESPACE@28..29 " "
                        EQ2@29..31 "=="
                        WHITESPACE@31..32 " "
                        BIN_EXPR@32..56
                          BIN_EXPR@32..47
                            PATH_EXPR@32..33
                              IDENT@32..33 "d"
                            WHITESPACE@33..34 " "
                            PLUS@34..35 "+"
                            WHITESPACE@35..36 " "
                            BIN_EXPR@36..47
                              PATH_EXPR@36..37
                                IDENT@36..37 "e"
                              WHITESPACE@37..38 " "
                              STAR@38..39 "*"
                              WHITESPACE@39..40 " "
                              PREFIX_EXPR@40..47
                                MINUS@40..41 "-"
                                CALL_EXPR@41..47
                                  FIELD_EXPR@41..44
                                    PATH_EXPR@41..42
                                      IDENT@41..42 "f"
                                    DOT@42..43 "."
                                    NAME_REF@43..44
                                      IDENT@43..44 "g"
                                  ARG_LIST@44..47
                                    L_PAREN@44..45 "("
                                    PATH_EXPR@45..46
                                      IDENT@45..46 "h"
                                    R_PAREN@46..47 ")"
                          WHITESPACE@47..48 " "
                          PLUS2@48..50 "++"
                          WHITESPACE@50..51 " "
                          BIN_EXPR@51..56
                            PATH_EXPR@51..52
                              IDENT@51..52 "i"
                            WHITESPACE@52..53 " "
                            PERCENT@53..54 "%"
                            WHITESPACE@54..55 " "
                            PATH_EXPR@55..56
                              IDENT@55..56 "j"
                  WHITESPACE@56..57 " "
                  R_CURLY@57..58 "}"
        "#]],
    );
}

#[test]
fn left_associative() {
    check(
        "fn f() -> Int { a - b - c }",
        expect![[r#"
            SOURCE_FILE@0..27
              FN_ITEM@0..27
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "f"
                PARAM_LIST@4..6
                  L_PAREN@4..5 "("
                  R_PAREN@5..6 ")"
                WHITESPACE@6..7 " "
                THIN_ARROW@7..9 "->"
                WHITESPACE@9..10 " "
                PATH_TYPE@10..13
                  IDENT@10..13 "Int"
                WHITESPACE@13..14 " "
                BLOCK_EXPR@14..27
                  L_CURLY@14..15 "{"
                  WHITESPACE@15..16 " "
                  BIN_EXPR@16..25
                    BIN_EXPR@16..21
                      PATH_EXPR@16..17
                        IDENT@16..17 "a"
                      WHITESPACE@17..18 " "
                      MINUS@18..19 "-"
                      WHITESPACE@19..20 " "
                      PATH_EXPR@20..21
                        IDENT@20..21 "b"
                    WHITESPACE@21..22 " "
                    MINUS@22..23 "-"
                    WHITESPACE@23..24 " "
                    PATH_EXPR@24..25
                      IDENT@24..25 "c"
                  WHITESPACE@25..26 " "
                  R_CURLY@26..27 "}"
        "#]],
    );
}

#[test]
fn chained_comparison_is_an_error() {
    check_errors(
        "fn f() -> Bool { a < b < c }",
        expect![[r#"
            23..24 (1:24): comparison operators cannot be chained: use `&&` or parentheses
        "#]],
    );
}

#[test]
fn statements() {
    check(
        "fn f() -> Int {\n    let x = 1;\n    let y: Int = x;\n    g(y);\n    if x > 0 { log() } else { () }\n    match y { _ => 1 }\n    {}\n    x\n}",
        expect![[r#"
            SOURCE_FILE@0..133
              FN_ITEM@0..133
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "f"
                PARAM_LIST@4..6
                  L_PAREN@4..5 "("
                  R_PAREN@5..6 ")"
                WHITESPACE@6..7 " "
                THIN_ARROW@7..9 "->"
                WHITESPACE@9..10 " "
                PATH_TYPE@10..13
                  IDENT@10..13 "Int"
                WHITESPACE@13..14 " "
                BLOCK_EXPR@14..133
                  L_CURLY@14..15 "{"
                  WHITESPACE@15..20 "\n    "
                  LET_STMT@20..30
                    LET_KW@20..23 "let"
                    WHITESPACE@23..24 " "
                    NAME@24..25
                      IDENT@24..25 "x"
                    WHITESPACE@25..26 " "
                    EQ@26..27 "="
                    WHITESPACE@27..28 " "
                    LITERAL@28..29
                      INT@28..29 "1"
                    SEMICOLON@29..30 ";"
                  WHITESPACE@30..35 "\n    "
                  LET_STMT@35..50
                    LET_KW@35..38 "let"
                    WHITESPACE@38..39 " "
                    NAME@39..40
                      IDENT@39..40 "y"
                    COLON@40..41 ":"
                    WHITESPACE@41..42 " "
                    PATH_TYPE@42..45
                      IDENT@42..45 "Int"
                    WHITESPACE@45..46 " "
                    EQ@46..47 "="
                    WHITESPACE@47..48 " "
                    PATH_EXPR@48..49
                      IDENT@48..49 "x"
                    SEMICOLON@49..50 ";"
                  WHITESPACE@50..55 "\n    "
                  EXPR_STMT@55..60
                    CALL_EXPR@55..59
                      PATH_EXPR@55..56
                        IDENT@55..56 "g"
                      ARG_LIST@56..59
                        L_PAREN@56..57 "("
                        PATH_EXPR@57..58
                          IDENT@57..58 "y"
                        R_PAREN@58..59 ")"
                    SEMICOLON@59..60 ";"
                  WHITESPACE@60..65 "\n    "
                  EXPR_STMT@65..95
                    IF_EXPR@65..95
                      IF_KW@65..67 "if"
                      WHITESPACE@67..68 " "
                      BIN_EXPR@68..73
                        PATH_EXPR@68..69
                          IDENT@68..69 "x"
                        WHITESPACE@69..70 " "
                        GT@70..71 ">"
                        WHITESPACE@71..72 " "
                        LITERAL@72..73
                          INT@72..73 "0"
                      WHITESPACE@73..74 " "
                      BLOCK_EXPR@74..83
                        L_CURLY@74..75 "{"
                        WHITESPACE@75..76 " "
                        CALL_EXPR@76..81
                          PATH_EXPR@76..79
                            IDENT@76..79 "log"
                          ARG_LIST@79..81
                            L_PAREN@79..80 "("
                            R_PAREN@80..81 ")"
                        WHITESPACE@81..82 " "
                        R_CURLY@82..83 "}"
                      WHITESPACE@83..84 " "
                      ELSE_KW@84..88 "else"
                      WHITESPACE@88..89 " "
                      BLOCK_EXPR@89..95
                        L_CURLY@89..90 "{"
                        WHITESPACE@90..91 " "
                        UNIT_EXPR@91..93
                          L_PAREN@91..92 "("
                          R_PAREN@92..93 ")"
                        WHITESPACE@93..94 " "
                        R_CURLY@94..95 "}"
                  WHITESPACE@95..100 "\n    "
                  EXPR_STMT@100..118
                    MATCH_EXPR@100..118
                      MATCH_KW@100..105 "match"
                      WHITESPACE@105..106 " "
                      PATH_EXPR@106..107
                        IDENT@106..107 "y"
                      WHITESPACE@107..108 " "
                      MATCH_ARM_LIST@108..118
                        L_CURLY@108..109 "{"
                        WHITESPACE@109..110 " "
                        MATCH_ARM@110..116
                          WILDCARD_PAT@110..111
                            UNDERSCORE@110..111 "_"
                          WHITESPACE@111..112 " "
                          FAT_ARROW@112..114 "=>"
                          WHITESPACE@114..115 " "
                          LITERAL@115..116
                            INT@115..116 "1"
                        WHITESPACE@116..117 " "
                        R_CURLY@117..118 "}"
                  WHITESPACE@118..123 "\n    "
                  EXPR_STMT@123..125
                    BLOCK_EXPR@123..125
                      L_CURLY@123..124 "{"
                      R_CURLY@124..125 "}"
                  WHITESPACE@125..130 "\n    "
                  PATH_EXPR@130..131
                    IDENT@130..131 "x"
                  WHITESPACE@131..132 "\n"
                  R_CURLY@132..133 "}"
        "#]],
    );
}

#[test]
fn literals() {
    check(
        "fn f() -> Int { [42, 1_000, 0xff, 250ms, 15min, \"a\\n\", true, false, (), #a7f3b2c1] }",
        expect![[r##"
            SOURCE_FILE@0..84
              FN_ITEM@0..84
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "f"
                PARAM_LIST@4..6
                  L_PAREN@4..5 "("
                  R_PAREN@5..6 ")"
                WHITESPACE@6..7 " "
                THIN_ARROW@7..9 "->"
                WHITESPACE@9..10 " "
                PATH_TYPE@10..13
                  IDENT@10..13 "Int"
                WHITESPACE@13..14 " "
                BLOCK_EXPR@14..84
                  L_CURLY@14..15 "{"
                  WHITESPACE@15..16 " "
                  LIST_EXPR@16..82
                    L_BRACK@16..17 "["
                    LITERAL@17..19
                      INT@17..19 "42"
                    COMMA@19..20 ","
                    WHITESPACE@20..21 " "
                    LITERAL@21..26
                      INT@21..26 "1_000"
                    COMMA@26..27 ","
                    WHITESPACE@27..28 " "
                    LITERAL@28..32
                      INT@28..32 "0xff"
                    COMMA@32..33 ","
                    WHITESPACE@33..34 " "
                    LITERAL@34..39
                      DURATION@34..39 "250ms"
                    COMMA@39..40 ","
                    WHITESPACE@40..41 " "
                    LITERAL@41..46
                      DURATION@41..46 "15min"
                    COMMA@46..47 ","
                    WHITESPACE@47..48 " "
                    LITERAL@48..53
                      STRING@48..53 "\"a\\n\""
                    COMMA@53..54 ","
                    WHITESPACE@54..55 " "
                    LITERAL@55..59
                      TRUE_KW@55..59 "true"
                    COMMA@59..60 ","
                    WHITESPACE@60..61 " "
                    LITERAL@61..66
                      FALSE_KW@61..66 "false"
                    COMMA@66..67 ","
                    WHITESPACE@67..68 " "
                    UNIT_EXPR@68..70
                      L_PAREN@68..69 "("
                      R_PAREN@69..70 ")"
                    COMMA@70..71 ","
                    WHITESPACE@71..72 " "
                    HASH_EXPR@72..81
                      HASH@72..81 "#a7f3b2c1"
                    R_BRACK@81..82 "]"
                  WHITESPACE@82..83 " "
                  R_CURLY@83..84 "}"
        "##]],
    );
}

#[test]
fn records() {
    check(
        "fn f() -> Quote { let a = { asset: \"ETH\", price: 1 }; let b = Quote { asset: a.asset, price: 2, }; b }",
        expect![[r#"
            SOURCE_FILE@0..102
              FN_ITEM@0..102
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "f"
                PARAM_LIST@4..6
                  L_PAREN@4..5 "("
                  R_PAREN@5..6 ")"
                WHITESPACE@6..7 " "
                THIN_ARROW@7..9 "->"
                WHITESPACE@9..10 " "
                PATH_TYPE@10..15
                  IDENT@10..15 "Quote"
                WHITESPACE@15..16 " "
                BLOCK_EXPR@16..102
                  L_CURLY@16..17 "{"
                  WHITESPACE@17..18 " "
                  LET_STMT@18..53
                    LET_KW@18..21 "let"
                    WHITESPACE@21..22 " "
                    NAME@22..23
                      IDENT@22..23 "a"
                    WHITESPACE@23..24 " "
                    EQ@24..25 "="
                    WHITESPACE@25..26 " "
                    RECORD_EXPR@26..52
                      RECORD_FIELDS@26..52
                        L_CURLY@26..27 "{"
                        WHITESPACE@27..28 " "
                        RECORD_FIELD@28..40
                          NAME_REF@28..33
                            IDENT@28..33 "asset"
                          COLON@33..34 ":"
                          WHITESPACE@34..35 " "
                          LITERAL@35..40
                            STRING@35..40 "\"ETH\""
                        COMMA@40..41 ","
                        WHITESPACE@41..42 " "
                        RECORD_FIELD@42..50
                          NAME_REF@42..47
                            IDENT@42..47 "price"
                          COLON@47..48 ":"
                          WHITESPACE@48..49 " "
                          LITERAL@49..50
                            INT@49..50 "1"
                        WHITESPACE@50..51 " "
                        R_CURLY@51..52 "}"
                    SEMICOLON@52..53 ";"
                  WHITESPACE@53..54 " "
                  LET_STMT@54..98
                    LET_KW@54..57 "let"
                    WHITESPACE@57..58 " "
                    NAME@58..59
                      IDENT@58..59 "b"
                    WHITESPACE@59..60 " "
                    EQ@60..61 "="
                    WHITESPACE@61..62 " "
                    RECORD_EXPR@62..97
                      PATH@62..67
                        IDENT@62..67 "Quote"
                      WHITESPACE@67..68 " "
                      RECORD_FIELDS@68..97
                        L_CURLY@68..69 "{"
                        WHITESPACE@69..70 " "
                        RECORD_FIELD@70..84
                          NAME_REF@70..75
                            IDENT@70..75 "asset"
                          COLON@75..76 ":"
                          WHITESPACE@76..77 " "
                          FIELD_EXPR@77..84
                            PATH_EXPR@77..78
                              IDENT@77..78 "a"
                            DOT@78..79 "."
                            NAME_REF@79..84
                              IDENT@79..84 "asset"
                        COMMA@84..85 ","
                        WHITESPACE@85..86 " "
                        RECORD_FIELD@86..94
                          NAME_REF@86..91
                            IDENT@86..91 "price"
                          COLON@91..92 ":"
                          WHITESPACE@92..93 " "
                          LITERAL@93..94
                            INT@93..94 "2"
                        COMMA@94..95 ","
                        WHITESPACE@95..96 " "
                        R_CURLY@96..97 "}"
                    SEMICOLON@97..98 ";"
                  WHITESPACE@98..99 " "
                  PATH_EXPR@99..100
                    IDENT@99..100 "b"
                  WHITESPACE@100..101 " "
                  R_CURLY@101..102 "}"
        "#]],
    );
}

#[test]
fn no_record_in_head_position() {
    check(
        "fn f() -> Int { if x == Y { 1 } else { 2 } match Z { _ => 3 } within d { 4 } else { 5 } }",
        expect![[r#"
            SOURCE_FILE@0..89
              FN_ITEM@0..89
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "f"
                PARAM_LIST@4..6
                  L_PAREN@4..5 "("
                  R_PAREN@5..6 ")"
                WHITESPACE@6..7 " "
                THIN_ARROW@7..9 "->"
                WHITESPACE@9..10 " "
                PATH_TYPE@10..13
                  IDENT@10..13 "Int"
                WHITESPACE@13..14 " "
                BLOCK_EXPR@14..89
                  L_CURLY@14..15 "{"
                  WHITESPACE@15..16 " "
                  EXPR_STMT@16..42
                    IF_EXPR@16..42
                      IF_KW@16..18 "if"
                      WHITESPACE@18..19 " "
                      BIN_EXPR@19..25
                        PATH_EXPR@19..20
                          IDENT@19..20 "x"
                        WHITESPACE@20..21 " "
                        EQ2@21..23 "=="
                        WHITESPACE@23..24 " "
                        PATH_EXPR@24..25
                          IDENT@24..25 "Y"
                      WHITESPACE@25..26 " "
                      BLOCK_EXPR@26..31
                        L_CURLY@26..27 "{"
                        WHITESPACE@27..28 " "
                        LITERAL@28..29
                          INT@28..29 "1"
                        WHITESPACE@29..30 " "
                        R_CURLY@30..31 "}"
                      WHITESPACE@31..32 " "
                      ELSE_KW@32..36 "else"
                      WHITESPACE@36..37 " "
                      BLOCK_EXPR@37..42
                        L_CURLY@37..38 "{"
                        WHITESPACE@38..39 " "
                        LITERAL@39..40
                          INT@39..40 "2"
                        WHITESPACE@40..41 " "
                        R_CURLY@41..42 "}"
                  WHITESPACE@42..43 " "
                  EXPR_STMT@43..61
                    MATCH_EXPR@43..61
                      MATCH_KW@43..48 "match"
                      WHITESPACE@48..49 " "
                      PATH_EXPR@49..50
                        IDENT@49..50 "Z"
                      WHITESPACE@50..51 " "
                      MATCH_ARM_LIST@51..61
                        L_CURLY@51..52 "{"
                        WHITESPACE@52..53 " "
                        MATCH_ARM@53..59
                          WILDCARD_PAT@53..54
                            UNDERSCORE@53..54 "_"
                          WHITESPACE@54..55 " "
                          FAT_ARROW@55..57 "=>"
                          WHITESPACE@57..58 " "
                          LITERAL@58..59
                            INT@58..59 "3"
                        WHITESPACE@59..60 " "
                        R_CURLY@60..61 "}"
                  WHITESPACE@61..62 " "
                  WITHIN_EXPR@62..87
                    WITHIN_KW@62..68 "within"
                    WHITESPACE@68..69 " "
                    PATH_EXPR@69..70
                      IDENT@69..70 "d"
                    WHITESPACE@70..71 " "
                    BLOCK_EXPR@71..76
                      L_CURLY@71..72 "{"
                      WHITESPACE@72..73 " "
                      LITERAL@73..74
                        INT@73..74 "4"
                      WHITESPACE@74..75 " "
                      R_CURLY@75..76 "}"
                    WHITESPACE@76..77 " "
                    ELSE_KW@77..81 "else"
                    WHITESPACE@81..82 " "
                    BLOCK_EXPR@82..87
                      L_CURLY@82..83 "{"
                      WHITESPACE@83..84 " "
                      LITERAL@84..85
                        INT@84..85 "5"
                      WHITESPACE@85..86 " "
                      R_CURLY@86..87 "}"
                  WHITESPACE@87..88 " "
                  R_CURLY@88..89 "}"
        "#]],
    );
}

#[test]
fn record_in_head_position_is_an_error_that_recovers() {
    check_errors(
        "fn f() -> Int { if q == Quote { a: 1 } { 1 } else { 2 } }\nfn g() -> Int { match { a: 1 } { _ => 1 } }",
        expect![[r#"
            30..31 (1:31): a record literal is not allowed here, where `{` would open the body: wrap the literal in parentheses
            80..81 (2:23): a record literal is not allowed here, where `{` would open the body: wrap the literal in parentheses
        "#]],
    );
}

#[test]
fn record_allowed_in_parens_in_head() {
    check(
        "fn f() -> Int { if (Q { a: 1 }).a > 0 { 1 } else { 2 } }",
        expect![[r#"
            SOURCE_FILE@0..56
              FN_ITEM@0..56
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "f"
                PARAM_LIST@4..6
                  L_PAREN@4..5 "("
                  R_PAREN@5..6 ")"
                WHITESPACE@6..7 " "
                THIN_ARROW@7..9 "->"
                WHITESPACE@9..10 " "
                PATH_TYPE@10..13
                  IDENT@10..13 "Int"
                WHITESPACE@13..14 " "
                BLOCK_EXPR@14..56
                  L_CURLY@14..15 "{"
                  WHITESPACE@15..16 " "
                  IF_EXPR@16..54
                    IF_KW@16..18 "if"
                    WHITESPACE@18..19 " "
                    BIN_EXPR@19..37
                      FIELD_EXPR@19..33
                        PAREN_EXPR@19..31
                          L_PAREN@19..20 "("
                          RECORD_EXPR@20..30
                            PATH@20..21
                              IDENT@20..21 "Q"
                            WHITESPACE@21..22 " "
                            RECORD_FIELDS@22..30
                              L_CURLY@22..23 "{"
                              WHITESPACE@23..24 " "
                              RECORD_FIELD@24..28
                                NAME_REF@24..25
                                  IDENT@24..25 "a"
                                COLON@25..26 ":"
                                WHITESPACE@26..27 " "
                                LITERAL@27..28
                                  INT@27..28 "1"
                              WHITESPACE@28..29 " "
                              R_CURLY@29..30 "}"
                          R_PAREN@30..31 ")"
                        DOT@31..32 "."
                        NAME_REF@32..33
                          IDENT@32..33 "a"
                      WHITESPACE@33..34 " "
                      GT@34..35 ">"
                      WHITESPACE@35..36 " "
                      LITERAL@36..37
                        INT@36..37 "0"
                    WHITESPACE@37..38 " "
                    BLOCK_EXPR@38..43
                      L_CURLY@38..39 "{"
                      WHITESPACE@39..40 " "
                      LITERAL@40..41
                        INT@40..41 "1"
                      WHITESPACE@41..42 " "
                      R_CURLY@42..43 "}"
                    WHITESPACE@43..44 " "
                    ELSE_KW@44..48 "else"
                    WHITESPACE@48..49 " "
                    BLOCK_EXPR@49..54
                      L_CURLY@49..50 "{"
                      WHITESPACE@50..51 " "
                      LITERAL@51..52
                        INT@51..52 "2"
                      WHITESPACE@52..53 " "
                      R_CURLY@53..54 "}"
                  WHITESPACE@54..55 " "
                  R_CURLY@55..56 "}"
        "#]],
    );
}

#[test]
fn match_with_patterns() {
    check(
        "fn f(o: Outcome) -> Int {\n    match o {\n        Outcome::Filled(n) if n > 0 => n,\n        Filled(_) => { 0 }\n        Rejected(\"x\") => -1,\n        Some(-5) => 5,\n        Quote { price, asset: a, .. } => price,\n        { price } => 1,\n        x => 2,\n        None => 3,\n        10s => 4,\n        true => 5,\n        () => 6\n    }\n}",
        expect![[r#"
            SOURCE_FILE@0..328
              FN_ITEM@0..328
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "f"
                PARAM_LIST@4..16
                  L_PAREN@4..5 "("
                  PARAM@5..15
                    NAME@5..6
                      IDENT@5..6 "o"
                    COLON@6..7 ":"
                    WHITESPACE@7..8 " "
                    PATH_TYPE@8..15
                      IDENT@8..15 "Outcome"
                  R_PAREN@15..16 ")"
                WHITESPACE@16..17 " "
                THIN_ARROW@17..19 "->"
                WHITESPACE@19..20 " "
                PATH_TYPE@20..23
                  IDENT@20..23 "Int"
                WHITESPACE@23..24 " "
                BLOCK_EXPR@24..328
                  L_CURLY@24..25 "{"
                  WHITESPACE@25..30 "\n    "
                  MATCH_EXPR@30..326
                    MATCH_KW@30..35 "match"
                    WHITESPACE@35..36 " "
                    PATH_EXPR@36..37
                      IDENT@36..37 "o"
                    WHITESPACE@37..38 " "
                    MATCH_ARM_LIST@38..326
                      L_CURLY@38..39 "{"
                      WHITESPACE@39..48 "\n        "
                      MATCH_ARM@48..80
                        VARIANT_PAT@48..66
                          PATH@48..63
                            IDENT@48..55 "Outcome"
                            COLON2@55..57 "::"
                            IDENT@57..63 "Filled"
                          L_PAREN@63..64 "("
                          BIND_PAT@64..65
                            NAME@64..65
                              IDENT@64..65 "n"
                          R_PAREN@65..66 ")"
                        WHITESPACE@66..67 " "
                        MATCH_GUARD@67..75
                          IF_KW@67..69 "if"
                          WHITESPACE@69..70 " "
                          BIN_EXPR@70..75
                            PATH_EXPR@70..71
                              IDENT@70..71 "n"
                            WHITESPACE@71..72 " "
                            GT@72..73 ">"
                            WHITESPACE@73..74 " "
                            LITERAL@74..75
                              INT@74..75 "0"
                        WHITESPACE@75..76 " "
                        FAT_ARROW@76..78 "=>"
                        WHITESPACE@78..79 " "
                        PATH_EXPR@79..80
                          IDENT@79..80 "n"
                      COMMA@80..81 ","
                      WHITESPACE@81..90 "\n        "
                      MATCH_ARM@90..108
                        VARIANT_PAT@90..99
                          PATH@90..96
                            IDENT@90..96 "Filled"
                          L_PAREN@96..97 "("
                          WILDCARD_PAT@97..98
                            UNDERSCORE@97..98 "_"
                          R_PAREN@98..99 ")"
                        WHITESPACE@99..100 " "
                        FAT_ARROW@100..102 "=>"
                        WHITESPACE@102..103 " "
                        BLOCK_EXPR@103..108
                          L_CURLY@103..104 "{"
                          WHITESPACE@104..105 " "
                          LITERAL@105..106
                            INT@105..106 "0"
                          WHITESPACE@106..107 " "
                          R_CURLY@107..108 "}"
                      WHITESPACE@108..117 "\n        "
                      MATCH_ARM@117..136
                        VARIANT_PAT@117..130
                          PATH@117..125
                            IDENT@117..125 "Rejected"
                          L_PAREN@125..126 "("
                          LITERAL_PAT@126..129
                            STRING@126..129 "\"x\""
                          R_PAREN@129..130 ")"
                        WHITESPACE@130..131 " "
                        FAT_ARROW@131..133 "=>"
                        WHITESPACE@133..134 " "
                        PREFIX_EXPR@134..136
                          MINUS@134..135 "-"
                          LITERAL@135..136
                            INT@135..136 "1"
                      COMMA@136..137 ","
                      WHITESPACE@137..146 "\n        "
                      MATCH_ARM@146..159
                        VARIANT_PAT@146..154
                          PATH@146..150
                            IDENT@146..150 "Some"
                          L_PAREN@150..151 "("
                          LITERAL_PAT@151..153
                            MINUS@151..152 "-"
                            INT@152..153 "5"
                          R_PAREN@153..154 ")"
                        WHITESPACE@154..155 " "
                        FAT_ARROW@155..157 "=>"
                        WHITESPACE@157..158 " "
                        LITERAL@158..159
                          INT@158..159 "5"
                      COMMA@159..160 ","
                      WHITESPACE@160..169 "\n        "
                      MATCH_ARM@169..207
                        RECORD_PAT@169..198
                          PATH@169..174
                            IDENT@169..174 "Quote"
                          WHITESPACE@174..175 " "
                          L_CURLY@175..176 "{"
                          WHITESPACE@176..177 " "
                          FIELD_PAT@177..182
                            NAME_REF@177..182
                              IDENT@177..182 "price"
                          COMMA@182..183 ","
                          WHITESPACE@183..184 " "
                          FIELD_PAT@184..192
                            NAME_REF@184..189
                              IDENT@184..189 "asset"
                            COLON@189..190 ":"
                            WHITESPACE@190..191 " "
                            BIND_PAT@191..192
                              NAME@191..192
                                IDENT@191..192 "a"
                          COMMA@192..193 ","
                          WHITESPACE@193..194 " "
                          DOT2@194..196 ".."
                          WHITESPACE@196..197 " "
                          R_CURLY@197..198 "}"
                        WHITESPACE@198..199 " "
                        FAT_ARROW@199..201 "=>"
                        WHITESPACE@201..202 " "
                        PATH_EXPR@202..207
                          IDENT@202..207 "price"
                      COMMA@207..208 ","
                      WHITESPACE@208..217 "\n        "
                      MATCH_ARM@217..231
                        RECORD_PAT@217..226
                          L_CURLY@217..218 "{"
                          WHITESPACE@218..219 " "
                          FIELD_PAT@219..224
                            NAME_REF@219..224
                              IDENT@219..224 "price"
                          WHITESPACE@224..225 " "
                          R_CURLY@225..226 "}"
                        WHITESPACE@226..227 " "
                        FAT_ARROW@227..229 "=>"
                        WHITESPACE@229..230 " "
                        LITERAL@230..231
                          INT@230..231 "1"
                      COMMA@231..232 ","
                      WHITESPACE@232..241 "\n        "
                      MATCH_ARM@241..247
                        BIND_PAT@241..242
                          NAME@241..242
                            IDENT@241..242 "x"
                        WHITESPACE@242..243 " "
                        FAT_ARROW@243..245 "=>"
                        WHITESPACE@245..246 " "
                        LITERAL@246..247
                          INT@246..247 "2"
                      COMMA@247..248 ","
                      WHITESPACE@248..257 "\n        "
                      MATCH_ARM@257..266
                        VARIANT_PAT@257..261
                          PATH@257..261
                            IDENT@257..261 "None"
                        WHITESPACE@261..262 " "
                        FAT_ARROW@262..264 "=>"
                        WHITESPACE@264..265 " "
                        LITERAL@265..266
                          INT@265..266 "3"
                      COMMA@266..267 ","
                      WHITESPACE@267..276 "\n        "
                      MATCH_ARM@276..284
                        LITERAL_PAT@276..279
                          DURATION@276..279 "10s"
                        WHITESPACE@279..280 " "
                        FAT_ARROW@280..282 "=>"
                        WHITESPACE@282..283 " "
                        LITERAL@283..284
                          INT@283..284 "4"
                      COMMA@284..285 ","
                      WHITESPACE@285..294 "\n        "
                      MATCH_ARM@294..303
                        LITERAL_PAT@294..298
                          TRUE_KW@294..298 "true"
                        WHITESPACE@298..299 " "
                        FAT_ARROW@299..301 "=>"
                        WHITESPACE@301..302 " "
                        LITERAL@302..303
                          INT@302..303 "5"
                      COMMA@303..304 ","
                      WHITESPACE@304..313 "\n        "
                      MATCH_ARM@313..320
                        LITERAL_PAT@313..315
                          L_PAREN@313..314 "("
                          R_PAREN@314..315 ")"
                        WHITESPACE@315..316 " "
                        FAT_ARROW@316..318 "=>"
                        WHITESPACE@318..319 " "
                        LITERAL@319..320
                          INT@319..320 "6"
                      WHITESPACE@320..325 "\n    "
                      R_CURLY@325..326 "}"
                  WHITESPACE@326..327 "\n"
                  R_CURLY@327..328 "}"
        "#]],
    );
}

#[test]
fn handlers_and_effects() {
    check(
        "fn f() -> Bool ! {Log} {\n    handle { perform Approve(1) } with {\n        Approve(a) => a <= 10_000,\n        Other(x, y) => { abort(false) }\n        Third() => resume(true),\n    }\n}",
        expect![[r#"
            SOURCE_FILE@0..181
              FN_ITEM@0..181
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "f"
                PARAM_LIST@4..6
                  L_PAREN@4..5 "("
                  R_PAREN@5..6 ")"
                WHITESPACE@6..7 " "
                THIN_ARROW@7..9 "->"
                WHITESPACE@9..10 " "
                PATH_TYPE@10..14
                  IDENT@10..14 "Bool"
                WHITESPACE@14..15 " "
                EFFECT_ROW@15..22
                  BANG@15..16 "!"
                  WHITESPACE@16..17 " "
                  L_CURLY@17..18 "{"
                  PATH_TYPE@18..21
                    IDENT@18..21 "Log"
                  R_CURLY@21..22 "}"
                WHITESPACE@22..23 " "
                BLOCK_EXPR@23..181
                  L_CURLY@23..24 "{"
                  WHITESPACE@24..29 "\n    "
                  HANDLE_EXPR@29..179
                    HANDLE_KW@29..35 "handle"
                    WHITESPACE@35..36 " "
                    BLOCK_EXPR@36..58
                      L_CURLY@36..37 "{"
                      WHITESPACE@37..38 " "
                      PERFORM_EXPR@38..56
                        PERFORM_KW@38..45 "perform"
                        WHITESPACE@45..46 " "
                        PATH@46..53
                          IDENT@46..53 "Approve"
                        ARG_LIST@53..56
                          L_PAREN@53..54 "("
                          LITERAL@54..55
                            INT@54..55 "1"
                          R_PAREN@55..56 ")"
                      WHITESPACE@56..57 " "
                      R_CURLY@57..58 "}"
                    WHITESPACE@58..59 " "
                    WITH_KW@59..63 "with"
                    WHITESPACE@63..64 " "
                    HANDLER_CLAUSES@64..179
                      L_CURLY@64..65 "{"
                      WHITESPACE@65..74 "\n        "
                      HANDLER_CLAUSE@74..99
                        PATH@74..81
                          IDENT@74..81 "Approve"
                        CLAUSE_PARAMS@81..84
                          L_PAREN@81..82 "("
                          NAME@82..83
                            IDENT@82..83 "a"
                          R_PAREN@83..84 ")"
                        WHITESPACE@84..85 " "
                        FAT_ARROW@85..87 "=>"
                        WHITESPACE@87..88 " "
                        BIN_EXPR@88..99
                          PATH_EXPR@88..89
                            IDENT@88..89 "a"
                          WHITESPACE@89..90 " "
                          LTEQ@90..92 "<="
                          WHITESPACE@92..93 " "
                          LITERAL@93..99
                            INT@93..99 "10_000"
                      COMMA@99..100 ","
                      WHITESPACE@100..109 "\n        "
                      HANDLER_CLAUSE@109..140
                        PATH@109..114
                          IDENT@109..114 "Other"
                        CLAUSE_PARAMS@114..120
                          L_PAREN@114..115 "("
                          NAME@115..116
                            IDENT@115..116 "x"
                          COMMA@116..117 ","
                          WHITESPACE@117..118 " "
                          NAME@118..119
                            IDENT@118..119 "y"
                          R_PAREN@119..120 ")"
                        WHITESPACE@120..121 " "
                        FAT_ARROW@121..123 "=>"
                        WHITESPACE@123..124 " "
                        BLOCK_EXPR@124..140
                          L_CURLY@124..125 "{"
                          WHITESPACE@125..126 " "
                          ABORT_EXPR@126..138
                            ABORT_KW@126..131 "abort"
                            ARG_LIST@131..138
                              L_PAREN@131..132 "("
                              LITERAL@132..137
                                FALSE_KW@132..137 "false"
                              R_PAREN@137..138 ")"
                          WHITESPACE@138..139 " "
                          R_CURLY@139..140 "}"
                      WHITESPACE@140..149 "\n        "
                      HANDLER_CLAUSE@149..172
                        PATH@149..154
                          IDENT@149..154 "Third"
                        CLAUSE_PARAMS@154..156
                          L_PAREN@154..155 "("
                          R_PAREN@155..156 ")"
                        WHITESPACE@156..157 " "
                        FAT_ARROW@157..159 "=>"
                        WHITESPACE@159..160 " "
                        RESUME_EXPR@160..172
                          RESUME_KW@160..166 "resume"
                          ARG_LIST@166..172
                            L_PAREN@166..167 "("
                            LITERAL@167..171
                              TRUE_KW@167..171 "true"
                            R_PAREN@171..172 ")"
                      COMMA@172..173 ","
                      WHITESPACE@173..178 "\n    "
                      R_CURLY@178..179 "}"
                  WHITESPACE@179..180 "\n"
                  R_CURLY@180..181 "}"
        "#]],
    );
}

#[test]
fn temporal() {
    check(
        "fn f() -> Int ! {Sleep} { within 30s { after 1s { 1 } } else { 2 } }",
        expect![[r#"
            SOURCE_FILE@0..68
              FN_ITEM@0..68
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "f"
                PARAM_LIST@4..6
                  L_PAREN@4..5 "("
                  R_PAREN@5..6 ")"
                WHITESPACE@6..7 " "
                THIN_ARROW@7..9 "->"
                WHITESPACE@9..10 " "
                PATH_TYPE@10..13
                  IDENT@10..13 "Int"
                WHITESPACE@13..14 " "
                EFFECT_ROW@14..23
                  BANG@14..15 "!"
                  WHITESPACE@15..16 " "
                  L_CURLY@16..17 "{"
                  PATH_TYPE@17..22
                    IDENT@17..22 "Sleep"
                  R_CURLY@22..23 "}"
                WHITESPACE@23..24 " "
                BLOCK_EXPR@24..68
                  L_CURLY@24..25 "{"
                  WHITESPACE@25..26 " "
                  WITHIN_EXPR@26..66
                    WITHIN_KW@26..32 "within"
                    WHITESPACE@32..33 " "
                    LITERAL@33..36
                      DURATION@33..36 "30s"
                    WHITESPACE@36..37 " "
                    BLOCK_EXPR@37..55
                      L_CURLY@37..38 "{"
                      WHITESPACE@38..39 " "
                      AFTER_EXPR@39..53
                        AFTER_KW@39..44 "after"
                        WHITESPACE@44..45 " "
                        LITERAL@45..47
                          DURATION@45..47 "1s"
                        WHITESPACE@47..48 " "
                        BLOCK_EXPR@48..53
                          L_CURLY@48..49 "{"
                          WHITESPACE@49..50 " "
                          LITERAL@50..51
                            INT@50..51 "1"
                          WHITESPACE@51..52 " "
                          R_CURLY@52..53 "}"
                      WHITESPACE@53..54 " "
                      R_CURLY@54..55 "}"
                    WHITESPACE@55..56 " "
                    ELSE_KW@56..60 "else"
                    WHITESPACE@60..61 " "
                    BLOCK_EXPR@61..66
                      L_CURLY@61..62 "{"
                      WHITESPACE@62..63 " "
                      LITERAL@63..64
                        INT@63..64 "2"
                      WHITESPACE@64..65 " "
                      R_CURLY@65..66 "}"
                  WHITESPACE@66..67 " "
                  R_CURLY@67..68 "}"
        "#]],
    );
}

#[test]
fn lambdas() {
    check(
        "fn f() -> Int { fold(xs, 0, |acc, x: Int| acc + x) + g(|| 1) }",
        expect![[r#"
            SOURCE_FILE@0..62
              FN_ITEM@0..62
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "f"
                PARAM_LIST@4..6
                  L_PAREN@4..5 "("
                  R_PAREN@5..6 ")"
                WHITESPACE@6..7 " "
                THIN_ARROW@7..9 "->"
                WHITESPACE@9..10 " "
                PATH_TYPE@10..13
                  IDENT@10..13 "Int"
                WHITESPACE@13..14 " "
                BLOCK_EXPR@14..62
                  L_CURLY@14..15 "{"
                  WHITESPACE@15..16 " "
                  BIN_EXPR@16..60
                    CALL_EXPR@16..50
                      PATH_EXPR@16..20
                        IDENT@16..20 "fold"
                      ARG_LIST@20..50
                        L_PAREN@20..21 "("
                        PATH_EXPR@21..23
                          IDENT@21..23 "xs"
                        COMMA@23..24 ","
                        WHITESPACE@24..25 " "
                        LITERAL@25..26
                          INT@25..26 "0"
                        COMMA@26..27 ","
                        WHITESPACE@27..28 " "
                        LAMBDA_EXPR@28..49
                          LAMBDA_PARAMS@28..41
                            PIPE@28..29 "|"
                            PARAM@29..32
                              NAME@29..32
                                IDENT@29..32 "acc"
                            COMMA@32..33 ","
                            WHITESPACE@33..34 " "
                            PARAM@34..40
                              NAME@34..35
                                IDENT@34..35 "x"
                              COLON@35..36 ":"
                              WHITESPACE@36..37 " "
                              PATH_TYPE@37..40
                                IDENT@37..40 "Int"
                            PIPE@40..41 "|"
                          WHITESPACE@41..42 " "
                          BIN_EXPR@42..49
                            PATH_EXPR@42..45
                              IDENT@42..45 "acc"
                            WHITESPACE@45..46 " "
                            PLUS@46..47 "+"
                            WHITESPACE@47..48 " "
                            PATH_EXPR@48..49
                              IDENT@48..49 "x"
                        R_PAREN@49..50 ")"
                    WHITESPACE@50..51 " "
                    PLUS@51..52 "+"
                    WHITESPACE@52..53 " "
                    CALL_EXPR@53..60
                      PATH_EXPR@53..54
                        IDENT@53..54 "g"
                      ARG_LIST@54..60
                        L_PAREN@54..55 "("
                        LAMBDA_EXPR@55..59
                          LAMBDA_PARAMS@55..57
                            PIPE2@55..57 "||"
                          WHITESPACE@57..58 " "
                          LITERAL@58..59
                            INT@58..59 "1"
                        R_PAREN@59..60 ")"
                  WHITESPACE@60..61 " "
                  R_CURLY@61..62 "}"
        "#]],
    );
}

#[test]
fn hash_call() {
    check(
        "fn f() -> Int { #a7f3b2c1(1) }",
        expect![[r##"
            SOURCE_FILE@0..30
              FN_ITEM@0..30
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "f"
                PARAM_LIST@4..6
                  L_PAREN@4..5 "("
                  R_PAREN@5..6 ")"
                WHITESPACE@6..7 " "
                THIN_ARROW@7..9 "->"
                WHITESPACE@9..10 " "
                PATH_TYPE@10..13
                  IDENT@10..13 "Int"
                WHITESPACE@13..14 " "
                BLOCK_EXPR@14..30
                  L_CURLY@14..15 "{"
                  WHITESPACE@15..16 " "
                  CALL_EXPR@16..28
                    HASH_EXPR@16..25
                      HASH@16..25 "#a7f3b2c1"
                    ARG_LIST@25..28
                      L_PAREN@25..26 "("
                      LITERAL@26..27
                        INT@26..27 "1"
                      R_PAREN@27..28 ")"
                  WHITESPACE@28..29 " "
                  R_CURLY@29..30 "}"
        "##]],
    );
}

#[test]
fn else_if_chain() {
    check(
        "fn f() -> Int { if a { 1 } else if b { 2 } else { 3 } }",
        expect![[r#"
            SOURCE_FILE@0..55
              FN_ITEM@0..55
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "f"
                PARAM_LIST@4..6
                  L_PAREN@4..5 "("
                  R_PAREN@5..6 ")"
                WHITESPACE@6..7 " "
                THIN_ARROW@7..9 "->"
                WHITESPACE@9..10 " "
                PATH_TYPE@10..13
                  IDENT@10..13 "Int"
                WHITESPACE@13..14 " "
                BLOCK_EXPR@14..55
                  L_CURLY@14..15 "{"
                  WHITESPACE@15..16 " "
                  IF_EXPR@16..53
                    IF_KW@16..18 "if"
                    WHITESPACE@18..19 " "
                    PATH_EXPR@19..20
                      IDENT@19..20 "a"
                    WHITESPACE@20..21 " "
                    BLOCK_EXPR@21..26
                      L_CURLY@21..22 "{"
                      WHITESPACE@22..23 " "
                      LITERAL@23..24
                        INT@23..24 "1"
                      WHITESPACE@24..25 " "
                      R_CURLY@25..26 "}"
                    WHITESPACE@26..27 " "
                    ELSE_KW@27..31 "else"
                    WHITESPACE@31..32 " "
                    IF_EXPR@32..53
                      IF_KW@32..34 "if"
                      WHITESPACE@34..35 " "
                      PATH_EXPR@35..36
                        IDENT@35..36 "b"
                      WHITESPACE@36..37 " "
                      BLOCK_EXPR@37..42
                        L_CURLY@37..38 "{"
                        WHITESPACE@38..39 " "
                        LITERAL@39..40
                          INT@39..40 "2"
                        WHITESPACE@40..41 " "
                        R_CURLY@41..42 "}"
                      WHITESPACE@42..43 " "
                      ELSE_KW@43..47 "else"
                      WHITESPACE@47..48 " "
                      BLOCK_EXPR@48..53
                        L_CURLY@48..49 "{"
                        WHITESPACE@49..50 " "
                        LITERAL@50..51
                          INT@50..51 "3"
                        WHITESPACE@51..52 " "
                        R_CURLY@52..53 "}"
                  WHITESPACE@53..54 " "
                  R_CURLY@54..55 "}"
        "#]],
    );
}

#[test]
fn block_like_statement_ends_at_its_brace() {
    check_errors(
        "fn f() -> Int { match x { _ => q }.price }\nfn g() -> Int { (match x { _ => q }).price }",
        expect![[r#"
            34..35 (1:35): a statement starting with `match` ends at its closing `}`: wrap the expression in parentheses to use it as an operand
        "#]],
    );
}

#[test]
fn comments_and_trivia() {
    check(
        "// leading\n/* block /* nested */ */\n/// doc\nfn f() -> Int { // inside\n    1 /* tail */ }\n// trailing\n",
        expect![[r#"
            SOURCE_FILE@0..101
              COMMENT@0..10 "// leading"
              WHITESPACE@10..11 "\n"
              BLOCK_COMMENT@11..35 "/* block /* nested */ */"
              WHITESPACE@35..36 "\n"
              FN_ITEM@36..88
                DOC_COMMENT@36..43 "/// doc"
                WHITESPACE@43..44 "\n"
                FN_KW@44..46 "fn"
                WHITESPACE@46..47 " "
                NAME@47..48
                  IDENT@47..48 "f"
                PARAM_LIST@48..50
                  L_PAREN@48..49 "("
                  R_PAREN@49..50 ")"
                WHITESPACE@50..51 " "
                THIN_ARROW@51..53 "->"
                WHITESPACE@53..54 " "
                PATH_TYPE@54..57
                  IDENT@54..57 "Int"
                WHITESPACE@57..58 " "
                BLOCK_EXPR@58..88
                  L_CURLY@58..59 "{"
                  WHITESPACE@59..60 " "
                  COMMENT@60..69 "// inside"
                  WHITESPACE@69..74 "\n    "
                  LITERAL@74..75
                    INT@74..75 "1"
                  WHITESPACE@75..76 " "
                  BLOCK_COMMENT@76..86 "/* tail */"
                  WHITESPACE@86..87 " "
                  R_CURLY@87..88 "}"
              WHITESPACE@88..89 "\n"
              COMMENT@89..100 "// trailing"
              WHITESPACE@100..101 "\n"
        "#]],
    );
}

// ---- recovery ------------------------------------------------------------------------

#[test]
fn missing_close_paren_names_opener() {
    check_errors(
        "fn main() -> Int {\n    f(1, 2\n}\nfn g() -> Int { 1 }",
        expect![[r#"
        29..29 (2:11): expected `)` to close the argument list opened at 2:6, found `}`
    "#]],
    );
}

#[test]
fn missing_semicolon() {
    check_errors(
        "fn f() -> Int {\n    let x = 1\n    let y = 2;\n    x\n}",
        expect![[r#"
        29..29 (2:14): expected `;` after the `let` statement, found `let`
    "#]],
    );
}

#[test]
fn unclosed_block_recovers_at_next_item() {
    check(
        "fn a() -> Int {\n    let x = \nfn b() -> Int { 2 }",
        expect![[r#"
            SOURCE_FILE@0..48
              FN_ITEM@0..27
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "a"
                PARAM_LIST@4..6
                  L_PAREN@4..5 "("
                  R_PAREN@5..6 ")"
                WHITESPACE@6..7 " "
                THIN_ARROW@7..9 "->"
                WHITESPACE@9..10 " "
                PATH_TYPE@10..13
                  IDENT@10..13 "Int"
                WHITESPACE@13..14 " "
                BLOCK_EXPR@14..27
                  L_CURLY@14..15 "{"
                  WHITESPACE@15..20 "\n    "
                  LET_STMT@20..27
                    LET_KW@20..23 "let"
                    WHITESPACE@23..24 " "
                    NAME@24..25
                      IDENT@24..25 "x"
                    WHITESPACE@25..26 " "
                    EQ@26..27 "="
              WHITESPACE@27..29 " \n"
              FN_ITEM@29..48
                FN_KW@29..31 "fn"
                WHITESPACE@31..32 " "
                NAME@32..33
                  IDENT@32..33 "b"
                PARAM_LIST@33..35
                  L_PAREN@33..34 "("
                  R_PAREN@34..35 ")"
                WHITESPACE@35..36 " "
                THIN_ARROW@36..38 "->"
                WHITESPACE@38..39 " "
                PATH_TYPE@39..42
                  IDENT@39..42 "Int"
                WHITESPACE@42..43 " "
                BLOCK_EXPR@43..48
                  L_CURLY@43..44 "{"
                  WHITESPACE@44..45 " "
                  LITERAL@45..46
                    INT@45..46 "2"
                  WHITESPACE@46..47 " "
                  R_CURLY@47..48 "}"
            error 27..27 (2:12): expected an expression, found `fn`
            error 27..27 (2:12): expected `}` to close the block opened at 1:15, found `fn`
        "#]],
    );
}

#[test]
fn garbage_between_items() {
    check(
        "fn a() -> Int { 1 }\n$$ let x = 1; }\nfn b() -> Int { 2 }",
        expect![[r#"
            SOURCE_FILE@0..55
              FN_ITEM@0..19
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "a"
                PARAM_LIST@4..6
                  L_PAREN@4..5 "("
                  R_PAREN@5..6 ")"
                WHITESPACE@6..7 " "
                THIN_ARROW@7..9 "->"
                WHITESPACE@9..10 " "
                PATH_TYPE@10..13
                  IDENT@10..13 "Int"
                WHITESPACE@13..14 " "
                BLOCK_EXPR@14..19
                  L_CURLY@14..15 "{"
                  WHITESPACE@15..16 " "
                  LITERAL@16..17
                    INT@16..17 "1"
                  WHITESPACE@17..18 " "
                  R_CURLY@18..19 "}"
              WHITESPACE@19..20 "\n"
              ERROR@20..35
                ERROR@20..22 "$$"
                WHITESPACE@22..23 " "
                LET_KW@23..26 "let"
                WHITESPACE@26..27 " "
                IDENT@27..28 "x"
                WHITESPACE@28..29 " "
                EQ@29..30 "="
                WHITESPACE@30..31 " "
                INT@31..32 "1"
                SEMICOLON@32..33 ";"
                WHITESPACE@33..34 " "
                R_CURLY@34..35 "}"
              WHITESPACE@35..36 "\n"
              FN_ITEM@36..55
                FN_KW@36..38 "fn"
                WHITESPACE@38..39 " "
                NAME@39..40
                  IDENT@39..40 "b"
                PARAM_LIST@40..42
                  L_PAREN@40..41 "("
                  R_PAREN@41..42 ")"
                WHITESPACE@42..43 " "
                THIN_ARROW@43..45 "->"
                WHITESPACE@45..46 " "
                PATH_TYPE@46..49
                  IDENT@46..49 "Int"
                WHITESPACE@49..50 " "
                BLOCK_EXPR@50..55
                  L_CURLY@50..51 "{"
                  WHITESPACE@51..52 " "
                  LITERAL@52..53
                    INT@52..53 "2"
                  WHITESPACE@53..54 " "
                  R_CURLY@54..55 "}"
            error 20..22 (2:1): unexpected characters `$$`
        "#]],
    );
}

#[test]
fn missing_param_type_and_name() {
    check_errors(
        "fn f(a, : Int, b: ) -> { }\nfn (x: Int) -> Int { x }",
        expect![[r#"
        6..6 (1:7): expected `:` and the parameter's type, found `,`
        8..9 (1:9): expected a parameter, found `:`
        13..13 (1:14): expected `:` and the parameter's type, found `,`
        17..17 (1:18): expected the parameter's type, found `)`
        22..22 (1:23): expected the return type after `->`, found `{`
        29..29 (2:3): expected a function name, found `(`
    "#]],
    );
}

#[test]
fn wildcard_let() {
    check(
        "fn f() -> Int { let _ = g(); let _: Int = 1; 2 }",
        expect![[r#"
            SOURCE_FILE@0..48
              FN_ITEM@0..48
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "f"
                PARAM_LIST@4..6
                  L_PAREN@4..5 "("
                  R_PAREN@5..6 ")"
                WHITESPACE@6..7 " "
                THIN_ARROW@7..9 "->"
                WHITESPACE@9..10 " "
                PATH_TYPE@10..13
                  IDENT@10..13 "Int"
                WHITESPACE@13..14 " "
                BLOCK_EXPR@14..48
                  L_CURLY@14..15 "{"
                  WHITESPACE@15..16 " "
                  LET_STMT@16..28
                    LET_KW@16..19 "let"
                    WHITESPACE@19..20 " "
                    NAME@20..21
                      UNDERSCORE@20..21 "_"
                    WHITESPACE@21..22 " "
                    EQ@22..23 "="
                    WHITESPACE@23..24 " "
                    CALL_EXPR@24..27
                      PATH_EXPR@24..25
                        IDENT@24..25 "g"
                      ARG_LIST@25..27
                        L_PAREN@25..26 "("
                        R_PAREN@26..27 ")"
                    SEMICOLON@27..28 ";"
                  WHITESPACE@28..29 " "
                  LET_STMT@29..44
                    LET_KW@29..32 "let"
                    WHITESPACE@32..33 " "
                    NAME@33..34
                      UNDERSCORE@33..34 "_"
                    COLON@34..35 ":"
                    WHITESPACE@35..36 " "
                    PATH_TYPE@36..39
                      IDENT@36..39 "Int"
                    WHITESPACE@39..40 " "
                    EQ@40..41 "="
                    WHITESPACE@41..42 " "
                    LITERAL@42..43
                      INT@42..43 "1"
                    SEMICOLON@43..44 ";"
                  WHITESPACE@44..45 " "
                  LITERAL@45..46
                    INT@45..46 "2"
                  WHITESPACE@46..47 " "
                  R_CURLY@47..48 "}"
        "#]],
    );
}

#[test]
fn wildcard_fn_params() {
    check(
        "fn f(_: Int, y: Int) -> Int { y }",
        expect![[r#"
            SOURCE_FILE@0..33
              FN_ITEM@0..33
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "f"
                PARAM_LIST@4..20
                  L_PAREN@4..5 "("
                  PARAM@5..11
                    NAME@5..6
                      UNDERSCORE@5..6 "_"
                    COLON@6..7 ":"
                    WHITESPACE@7..8 " "
                    PATH_TYPE@8..11
                      IDENT@8..11 "Int"
                  COMMA@11..12 ","
                  WHITESPACE@12..13 " "
                  PARAM@13..19
                    NAME@13..14
                      IDENT@13..14 "y"
                    COLON@14..15 ":"
                    WHITESPACE@15..16 " "
                    PATH_TYPE@16..19
                      IDENT@16..19 "Int"
                  R_PAREN@19..20 ")"
                WHITESPACE@20..21 " "
                THIN_ARROW@21..23 "->"
                WHITESPACE@23..24 " "
                PATH_TYPE@24..27
                  IDENT@24..27 "Int"
                WHITESPACE@27..28 " "
                BLOCK_EXPR@28..33
                  L_CURLY@28..29 "{"
                  WHITESPACE@29..30 " "
                  PATH_EXPR@30..31
                    IDENT@30..31 "y"
                  WHITESPACE@31..32 " "
                  R_CURLY@32..33 "}"
        "#]],
    );
}

#[test]
fn wildcard_lambda_params() {
    check(
        "fn f() -> Int { g(|_| 1, |_: Int, b| b) }",
        expect![[r#"
            SOURCE_FILE@0..41
              FN_ITEM@0..41
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "f"
                PARAM_LIST@4..6
                  L_PAREN@4..5 "("
                  R_PAREN@5..6 ")"
                WHITESPACE@6..7 " "
                THIN_ARROW@7..9 "->"
                WHITESPACE@9..10 " "
                PATH_TYPE@10..13
                  IDENT@10..13 "Int"
                WHITESPACE@13..14 " "
                BLOCK_EXPR@14..41
                  L_CURLY@14..15 "{"
                  WHITESPACE@15..16 " "
                  CALL_EXPR@16..39
                    PATH_EXPR@16..17
                      IDENT@16..17 "g"
                    ARG_LIST@17..39
                      L_PAREN@17..18 "("
                      LAMBDA_EXPR@18..23
                        LAMBDA_PARAMS@18..21
                          PIPE@18..19 "|"
                          PARAM@19..20
                            NAME@19..20
                              UNDERSCORE@19..20 "_"
                          PIPE@20..21 "|"
                        WHITESPACE@21..22 " "
                        LITERAL@22..23
                          INT@22..23 "1"
                      COMMA@23..24 ","
                      WHITESPACE@24..25 " "
                      LAMBDA_EXPR@25..38
                        LAMBDA_PARAMS@25..36
                          PIPE@25..26 "|"
                          PARAM@26..32
                            NAME@26..27
                              UNDERSCORE@26..27 "_"
                            COLON@27..28 ":"
                            WHITESPACE@28..29 " "
                            PATH_TYPE@29..32
                              IDENT@29..32 "Int"
                          COMMA@32..33 ","
                          WHITESPACE@33..34 " "
                          PARAM@34..35
                            NAME@34..35
                              IDENT@34..35 "b"
                          PIPE@35..36 "|"
                        WHITESPACE@36..37 " "
                        PATH_EXPR@37..38
                          IDENT@37..38 "b"
                      R_PAREN@38..39 ")"
                  WHITESPACE@39..40 " "
                  R_CURLY@40..41 "}"
        "#]],
    );
}

#[test]
fn wildcard_clause_params() {
    check(
        "fn f() -> Int { handle { 1 } with { Op(_, x) => x } }",
        expect![[r#"
            SOURCE_FILE@0..53
              FN_ITEM@0..53
                FN_KW@0..2 "fn"
                WHITESPACE@2..3 " "
                NAME@3..4
                  IDENT@3..4 "f"
                PARAM_LIST@4..6
                  L_PAREN@4..5 "("
                  R_PAREN@5..6 ")"
                WHITESPACE@6..7 " "
                THIN_ARROW@7..9 "->"
                WHITESPACE@9..10 " "
                PATH_TYPE@10..13
                  IDENT@10..13 "Int"
                WHITESPACE@13..14 " "
                BLOCK_EXPR@14..53
                  L_CURLY@14..15 "{"
                  WHITESPACE@15..16 " "
                  HANDLE_EXPR@16..51
                    HANDLE_KW@16..22 "handle"
                    WHITESPACE@22..23 " "
                    BLOCK_EXPR@23..28
                      L_CURLY@23..24 "{"
                      WHITESPACE@24..25 " "
                      LITERAL@25..26
                        INT@25..26 "1"
                      WHITESPACE@26..27 " "
                      R_CURLY@27..28 "}"
                    WHITESPACE@28..29 " "
                    WITH_KW@29..33 "with"
                    WHITESPACE@33..34 " "
                    HANDLER_CLAUSES@34..51
                      L_CURLY@34..35 "{"
                      WHITESPACE@35..36 " "
                      HANDLER_CLAUSE@36..49
                        PATH@36..38
                          IDENT@36..38 "Op"
                        CLAUSE_PARAMS@38..44
                          L_PAREN@38..39 "("
                          NAME@39..40
                            UNDERSCORE@39..40 "_"
                          COMMA@40..41 ","
                          WHITESPACE@41..42 " "
                          NAME@42..43
                            IDENT@42..43 "x"
                          R_PAREN@43..44 ")"
                        WHITESPACE@44..45 " "
                        FAT_ARROW@45..47 "=>"
                        WHITESPACE@47..48 " "
                        PATH_EXPR@48..49
                          IDENT@48..49 "x"
                      WHITESPACE@49..50 " "
                      R_CURLY@50..51 "}"
                  WHITESPACE@51..52 " "
                  R_CURLY@52..53 "}"
        "#]],
    );
}

#[test]
fn missing_binders_name_the_wildcard() {
    check_errors(
        "fn f() -> Int {\n    let = 1;\n    let 3 = 1;\n    handle { 1 } with { Op(1, x) => x }\n}",
        expect![[r#"
            23..23 (2:8): expected a variable name or `_` after `let`, found `=`
            37..38 (3:9): expected a variable name or `_` after `let`, found `3`
            71..72 (4:28): expected a parameter name or `_`, found `1`
        "#]],
    );
}

#[test]
fn underscore_is_not_an_expression_or_item_name() {
    check_errors(
        "fn _() -> Int { _ }\nfn g(_: Int) -> Int { let _ = 1; _ + 1 }",
        expect![[r#"
            2..2 (1:3): expected a function name, found `_`
            3..4 (1:4): expected an item (`fn`, `type`, `enum`, `effect`, `schema`, `module` or `use`), found `_`
            53..54 (2:34): expected a statement or expression, found `_`
            55..56 (2:36): expected a statement or expression, found `+`
        "#]],
    );
}

#[test]
fn stray_tokens_in_arg_list() {
    check_errors(
        "fn f() -> Int { g(1 2, =, 3) }",
        expect![[r#"
        19..19 (1:20): expected `,` or `)`, found `2`
        23..24 (1:24): expected an argument, found `=`
    "#]],
    );
}

#[test]
fn within_without_else() {
    check_errors(
        "fn f() -> Int { within 1s { 1 } }",
        expect![[r#"
        31..31 (1:32): expected `else` and the fallback block (a `within` needs both), found `}`
    "#]],
    );
}

#[test]
fn pub_without_item() {
    check_errors(
        "pub let x = 1;\npub fn f() -> Int { 1 }",
        expect![[r#"
        3..3 (1:4): expected an item after `pub`, found `let`
        4..7 (1:5): expected an item (`fn`, `type`, `enum`, `effect`, `schema`, `module` or `use`), found `let`: statements belong inside a function body
    "#]],
    );
}

#[test]
fn bad_tokens_reported_once() {
    check_errors(
        "fn f() -> Int { 1 & 2 + #xyz + \"\\q\" }",
        expect![[r#"
            17..17 (1:18): expected `;` or `}` after the expression
            18..19 (1:19): unexpected `&`: did you mean `&&`?
            24..28 (1:25): invalid hash literal `#xyz`: `x` is not a base32hex digit (0-9, a-v)
            32..34 (1:33): unknown escape `\q`: strings know \n, \t, \", \\ and \u{…}
        "#]],
    );
}

#[test]
fn tuple_hint() {
    check_errors(
        "fn f() -> Int { let p = (1, 2); 0 }",
        expect![[r#"
        26..27 (1:27): TEL has no tuples: use a record `{ a: x, b: y }`
    "#]],
    );
}

#[test]
fn match_arm_errors() {
    check_errors(
        "fn f() -> Int { match x { A => 1 B => 2, C 3, => 4 } }",
        expect![[r#"
            32..32 (1:33): expected `,` or `}`, found `B`
            42..42 (1:43): expected `=>`, found `3`
            46..48 (1:47): expected a match arm (`pattern => value`), found `=>`
            50..50 (1:51): expected `=>`, found `}`
        "#]],
    );
}

#[test]
fn record_pattern_rest_must_be_last() {
    check_errors(
        "fn f() -> Int { match q { Q { .., a } => 1 } }",
        expect![[r#"
        34..35 (1:35): `..` must be the last thing in a record pattern
    "#]],
    );
}

#[test]
fn unterminated_string_does_not_eat_file() {
    check_errors(
        "fn f() -> String { \"abc }\nfn g() -> Int { 1 }",
        expect![[r#"
            19..25 (1:20): unterminated string literal: a string must end on the line where it starts (use `\n` for a line break)
            25..25 (1:26): expected `}` to close the block opened at 1:18, found `fn`
        "#]],
    );
}

#[test]
fn top_level_let_hint() {
    check_errors(
        "let x = 1;",
        expect![[r#"
        0..3 (1:1): expected an item (`fn`, `type`, `enum`, `effect`, `schema`, `module` or `use`), found `let`: statements belong inside a function body
    "#]],
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for open in ["(", "[", "{", "-", "!", "|x| ", "if a { 1 } else "] {
        let text = format!("fn f() -> Int {{ {} }}", open.repeat(100_000));
        let result = std::thread::Builder::new()
            // a debug build on a small stack: the depth limit must hold there too
            .stack_size(2 << 20)
            .spawn(move || {
                let parse = parse(&text);
                assert_eq!(parse.syntax_node().to_string(), text);
                parse.errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>()
            })
            .unwrap()
            .join()
            .unwrap();
        assert!(result.iter().any(|m| m.contains("nested too deeply")), "{open}: {result:?}");
        assert!(result.len() < 10, "{open}: too many errors: {result:?}");
    }
}

#[test]
fn deep_types_and_patterns() {
    let ty = format!("fn f(x: {}Int) -> Int {{ 1 }}", "List<".repeat(50_000));
    let pat = format!("fn f() -> Int {{ match x {{ {} => 1 }} }}", "Some(".repeat(50_000));
    for text in [ty, pat] {
        let result = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || {
                let parse = parse(&text);
                assert_eq!(parse.syntax_node().to_string(), text);
                parse.errors.len()
            })
            .unwrap()
            .join()
            .unwrap();
        assert!((1..10).contains(&result), "{result}");
    }
}

// ---- typed AST -----------------------------------------------------------------------

mod ast_access {
    use crate::ast::*;
    use crate::parse;

    fn file(text: &str) -> SourceFile {
        let parse = parse(text);
        assert!(parse.errors.is_empty(), "{:?}", parse.errors);
        parse.tree()
    }

    fn only_fn(text: &str) -> FnItem {
        match file(text).items().next() {
            Some(Item::Fn(f)) => f,
            other => panic!("{other:?}"),
        }
    }

    fn tail(f: &FnItem) -> Expr {
        f.body().unwrap().tail_expr().unwrap()
    }

    #[test]
    fn items_and_names() {
        let file = file(
            "module m\nuse a::{b, c as d}\nuse x::y\n/// Doc one.\n///   Indented.\npub fn f(a: Int) -> Int ! {Log} { a }\ntype T = Int\nenum E { A(Int), B }\neffect Op(x: Int) -> Bool\nschema S { /// F.\n f: Int = 1 }",
        );
        let items: Vec<Item> = file.items().collect();
        assert_eq!(items.len(), 8);
        assert_eq!(file.module_decl().unwrap().path().unwrap().segment_texts(), ["m"]);
        let Item::Use(u) = &items[1] else { panic!() };
        let imports: Vec<_> = u
            .imports()
            .iter()
            .map(|(n, a)| (n.text().to_owned(), a.as_ref().map(|a| a.text())))
            .collect();
        assert_eq!(imports, [("b".to_owned(), None), ("c".to_owned(), Some("d".into()))]);
        assert_eq!(u.module_segments().iter().map(|s| s.text()).collect::<Vec<_>>(), ["a"]);
        let Item::Use(u) = &items[2] else { panic!() };
        assert_eq!(u.imports()[0].0.text(), "y");
        assert_eq!(u.module_segments().iter().map(|s| s.text()).collect::<Vec<_>>(), ["x"]);

        let Item::Fn(f) = &items[3] else { panic!() };
        assert!(f.is_pub());
        assert!(items[3].is_pub());
        assert!(!items[4].is_pub());
        assert_eq!(f.name().unwrap().text(), "f");
        assert_eq!(items[3].name().unwrap().text(), "f");
        assert_eq!(f.doc_text().as_deref(), Some("Doc one.\n  Indented."));
        assert_eq!(items[4].doc_text(), None);
        let params: Vec<Param> = f.param_list().unwrap().params().collect();
        assert_eq!(params.len(), 1);
        assert_eq!(params[0].name().unwrap().text(), "a");
        assert_eq!(params[0].ty().unwrap().to_string(), "Int");
        assert_eq!(f.ret_type().unwrap().to_string(), "Int");
        let effects: Vec<String> =
            f.effect_row().unwrap().effects().map(|e| e.to_string()).collect();
        assert_eq!(effects, ["Log"]);

        let Item::Enum(e) = &items[5] else { panic!() };
        let variants: Vec<(String, usize)> = e
            .variants()
            .map(|v| {
                (v.name().unwrap().text().to_string(), v.fields().map_or(0, |f| f.types().count()))
            })
            .collect();
        assert_eq!(variants, [("A".to_string(), 1), ("B".to_string(), 0)]);

        let Item::Effect(op) = &items[6] else { panic!() };
        assert_eq!(op.ret_type().unwrap().to_string(), "Bool");
        let Item::Schema(s) = &items[7] else { panic!() };
        let field = s.fields().next().unwrap();
        assert_eq!(field.doc_text().as_deref(), Some("F."));
        assert_eq!(field.ty().unwrap().to_string(), "Int");
        assert_eq!(field.default().unwrap().to_string(), "1");
    }

    #[test]
    fn binary_and_calls() {
        let f = only_fn("fn f() -> Int { g(1, x) - -2 * y.z }");
        let Expr::Bin(bin) = tail(&f) else { panic!() };
        assert_eq!(bin.op_kind(), Some(BinOp::Sub));
        let Expr::Call(call) = bin.lhs().unwrap() else { panic!() };
        assert_eq!(call.callee().unwrap().to_string(), "g");
        assert_eq!(call.arg_list().unwrap().args().count(), 2);
        assert_eq!(call.args().map(|a| a.to_string()).collect::<Vec<_>>(), ["1", "x"]);
        let Expr::Bin(mul) = bin.rhs().unwrap() else { panic!() };
        assert_eq!(mul.op_kind(), Some(BinOp::Mul));
        let Expr::Prefix(neg) = mul.lhs().unwrap() else { panic!() };
        assert_eq!(neg.op_kind(), Some(UnaryOp::Neg));
        let Expr::Field(field) = mul.rhs().unwrap() else { panic!() };
        assert_eq!(field.receiver().unwrap().to_string(), "y");
        assert_eq!(field.name_ref().unwrap().text(), "z");
    }

    #[test]
    fn literal_values() {
        let f = only_fn(
            "fn f() -> Int { [1_000, 0xff, 15min, \"a\\u{e9}\\n\", true, 9223372036854775808] }",
        );
        let Expr::List(list) = tail(&f) else { panic!() };
        let values: Vec<_> = list
            .items()
            .map(|e| match e {
                Expr::Literal(l) => l.value(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(values[0], Ok(LiteralValue::Int(1000)));
        assert_eq!(values[1], Ok(LiteralValue::Int(255)));
        assert_eq!(values[2], Ok(LiteralValue::Duration(900_000)));
        assert_eq!(values[3], Ok(LiteralValue::String("aé\n".into())));
        assert_eq!(values[4], Ok(LiteralValue::Bool(true)));
        assert!(matches!(values[5], Err(crate::lit::LitError::Overflow { .. })));
    }

    #[test]
    fn control_flow() {
        let f = only_fn(
            "fn f() -> Int { let q: Quote = Quote { a: 1 }; if c { 1 } else if d { 2 } else { within 1s { after 2s { 3 } } else { 4 } } }",
        );
        let body = f.body().unwrap();
        let Some(Stmt::Let(l)) = body.stmts().next() else { panic!() };
        assert_eq!(l.name().unwrap().text(), "q");
        assert_eq!(l.ty().unwrap().to_string(), "Quote");
        let Expr::Record(r) = l.init().unwrap() else { panic!() };
        assert_eq!(r.path().unwrap().to_string(), "Quote");
        let field = r.fields().unwrap().fields().next().unwrap();
        assert_eq!(
            (field.name_ref().unwrap().text().as_str(), field.expr().unwrap().to_string()),
            ("a", "1".into())
        );

        let Expr::If(i) = body.tail_expr().unwrap() else { panic!() };
        assert_eq!(i.condition().unwrap().to_string(), "c");
        assert_eq!(i.then_branch().unwrap().to_string(), "{ 1 }");
        let Some(ElseBranch::If(i2)) = i.else_branch() else { panic!() };
        let Some(ElseBranch::Block(b)) = i2.else_branch() else { panic!() };
        let Expr::Within(w) = b.tail_expr().unwrap() else { panic!() };
        assert_eq!(w.deadline().unwrap().to_string(), "1s");
        assert_eq!(w.fallback().unwrap().to_string(), "{ 4 }");
        let Expr::After(a) = w.body().unwrap().tail_expr().unwrap() else { panic!() };
        assert_eq!(a.delay().unwrap().to_string(), "2s");
        assert_eq!(a.body().unwrap().to_string(), "{ 3 }");
    }

    #[test]
    fn match_and_patterns() {
        let f = only_fn(
            "fn f() -> Int { match o { Outcome::Filled(n) if n > 0 => n, Q { price, a: _, .. } => price, -5 => 0, None => 1 } }",
        );
        let Expr::Match(m) = tail(&f) else { panic!() };
        assert_eq!(m.scrutinee().unwrap().to_string(), "o");
        let arms: Vec<MatchArm> = m.arm_list().unwrap().arms().collect();
        assert_eq!(arms.len(), 4);
        let Some(Pat::Variant(v)) = arms[0].pat() else { panic!() };
        assert_eq!(v.path().unwrap().segment_texts(), ["Outcome", "Filled"]);
        assert!(v.has_parens());
        assert!(matches!(v.fields().next(), Some(Pat::Bind(_))));
        assert_eq!(arms[0].guard().unwrap().condition().unwrap().to_string(), "n > 0");
        assert_eq!(arms[0].expr().unwrap().to_string(), "n");
        let Some(Pat::Record(r)) = arms[1].pat() else { panic!() };
        assert!(r.has_rest());
        let fields: Vec<FieldPat> = r.fields().collect();
        assert_eq!(fields[0].shorthand_binding().unwrap().text(), "price");
        assert!(fields[1].shorthand_binding().is_none());
        assert!(matches!(fields[1].pat(), Some(Pat::Wildcard(_))));
        let Some(Pat::Literal(l)) = arms[2].pat() else { panic!() };
        assert_eq!(l.value(), Ok(LiteralValue::Int(-5)));
        let Some(Pat::Variant(none)) = arms[3].pat() else { panic!() };
        assert!(!none.has_parens());
    }

    #[test]
    fn handlers_lambdas_hashes() {
        let f = only_fn(
            "fn f() -> Int { let v = handle { perform Op(1) } with { Op(x, y) => resume(x), Other() => abort(0) } + #a7f3b2c1.1(|a: Int, b| a); v }",
        );
        let Some(Stmt::Let(l)) = f.body().unwrap().stmts().next() else { panic!() };
        let Expr::Bin(bin) = l.init().unwrap() else { panic!() };
        let Expr::Handle(h) = bin.lhs().unwrap() else { panic!() };
        let Expr::Perform(perf) = h.body().unwrap().tail_expr().unwrap() else { panic!() };
        assert_eq!(perf.path().unwrap().to_string(), "Op");
        assert_eq!(perf.args().count(), 1);
        let clauses: Vec<HandlerClause> = h.clauses().unwrap().clauses().collect();
        let names: Vec<_> = clauses[0].params().unwrap().names().map(|n| n.text()).collect();
        assert_eq!(names, ["x", "y"]);
        let Some(Expr::Resume(resume)) = clauses[0].expr() else { panic!() };
        assert_eq!(resume.value().unwrap().to_string(), "x");
        assert!(matches!(clauses[1].expr(), Some(Expr::Abort(_))));
        let Expr::Call(call) = bin.rhs().unwrap() else { panic!() };
        let Expr::Hash(hash) = call.callee().unwrap() else { panic!() };
        let value = hash.hash().unwrap().unwrap();
        assert_eq!((value.digits.as_str(), value.member), ("a7f3b2c1", Some(1)));
        let Some(Expr::Lambda(lambda)) = call.arg_list().unwrap().args().next() else { panic!() };
        let params: Vec<Param> = lambda.params().unwrap().params().collect();
        assert_eq!(params.len(), 2);
        assert!(params[0].ty().is_some() && params[1].ty().is_none());
        assert_eq!(lambda.body().unwrap().to_string(), "a");
    }

    #[test]
    fn wildcard_binders() {
        let f = only_fn(
            "fn f(_: Int, x: Int) -> Int { let _: Int = 1; let y = |_| 0; handle { y(x) } with { Op(_, z) => z } }",
        );
        let names: Vec<(String, bool)> = f
            .param_list()
            .unwrap()
            .params()
            .map(|p| {
                let n = p.name().unwrap();
                (n.text().to_string(), n.is_wildcard())
            })
            .collect();
        assert_eq!(names, [("_".to_string(), true), ("x".to_string(), false)]);
        let wild = f.param_list().unwrap().params().next().unwrap().name().unwrap();
        assert!(wild.ident_token().is_none());
        assert_eq!(wild.underscore_token().unwrap().text(), "_");
        let stmts: Vec<Stmt> = f.body().unwrap().stmts().collect();
        let Stmt::Let(l) = &stmts[0] else { panic!() };
        assert!(l.name().unwrap().is_wildcard() && l.ty().is_some());
        let Stmt::Let(l) = &stmts[1] else { panic!() };
        assert!(!l.name().unwrap().is_wildcard());
        let Some(Expr::Lambda(lambda)) = l.init() else { panic!() };
        let p = lambda.params().unwrap().params().next().unwrap();
        assert!(p.name().unwrap().is_wildcard() && p.ty().is_none());
        let Some(Expr::Handle(h)) = f.body().unwrap().tail_expr() else { panic!() };
        let clause = h.clauses().unwrap().clauses().next().unwrap();
        let names: Vec<bool> = clause.params().unwrap().names().map(|n| n.is_wildcard()).collect();
        assert_eq!(names, [true, false]);
    }

    #[test]
    fn fn_type_parts() {
        let file = file("type F = fn(Int, String) -> Bool ! {Log}");
        let Some(Item::Type(t)) = file.items().next() else { panic!() };
        let Some(Type::Fn(f)) = t.ty() else { panic!() };
        assert_eq!(f.params().map(|p| p.to_string()).collect::<Vec<_>>(), ["Int", "String"]);
        assert_eq!(f.ret_type().unwrap().to_string(), "Bool");
        assert_eq!(f.effect_row().unwrap().effects().count(), 1);
    }
}
