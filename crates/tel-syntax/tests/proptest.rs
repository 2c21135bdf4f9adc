//! Properties of the parser on any input: it never panics, the tree's text is the input
//! byte for byte, and error ranges lie inside the text on character boundaries.

use proptest::prelude::*;
use std::path::Path;

fn check_invariants(text: &str) {
    let parse = tel_syntax::parse(text);
    let root = parse.syntax_node();
    assert_eq!(root.to_string(), text, "tree text differs from input");
    assert_eq!(usize::from(root.text_range().end()), text.len());
    for e in &parse.errors {
        let (start, end) = (usize::from(e.range.start()), usize::from(e.range.end()));
        assert!(end <= text.len(), "error {e:?} past the end");
        assert!(text.is_char_boundary(start) && text.is_char_boundary(end), "{e:?}");
        assert!(!e.message.is_empty());
    }
    // the typed layer must not panic on whatever tree came out
    walk_ast(&parse.tree());
}

/// Calls every accessor kind on every node, which exercises the AST's casts on broken trees.
fn walk_ast(file: &tel_syntax::ast::SourceFile) {
    use tel_syntax::ast::*;
    for node in file.syntax().descendants() {
        if let Some(e) = Expr::cast(node.clone()) {
            match e {
                Expr::Bin(b) => {
                    let _ = (b.lhs(), b.rhs(), b.op_kind());
                }
                Expr::Literal(l) => {
                    let _ = l.value();
                }
                Expr::Hash(h) => {
                    let _ = h.hash();
                }
                Expr::If(i) => {
                    let _ = (i.condition(), i.then_branch(), i.else_branch());
                }
                Expr::Block(b) => {
                    let _ = (b.stmts().count(), b.tail_expr());
                }
                _ => {}
            }
        } else if let Some(p) = Pat::cast(node.clone()) {
            if let Pat::Literal(l) = p {
                let _ = l.value();
            }
        } else if let Some(item) = Item::cast(node.clone()) {
            let _ = (item.name(), item.doc_text(), item.is_pub());
            if let Item::Use(u) = item {
                let _ = (u.imports(), u.module_segments());
            }
        }
    }
}

/// Fragments of TEL that random concatenation turns into plausible and broken programs.
const FRAGMENTS: &[&str] = &[
    "fn",
    "f",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "x",
    ":",
    "Int",
    "->",
    "!",
    "{Log}",
    ",",
    ";",
    "let",
    "=",
    "==",
    "<",
    ">",
    "+",
    "++",
    "-",
    "*",
    "/",
    "%",
    "&&",
    "||",
    "|",
    "if",
    "else",
    "match",
    "=>",
    "_",
    "Some",
    "None",
    "handle",
    "with",
    "perform",
    "resume",
    "abort",
    "within",
    "after",
    "10s",
    "250ms",
    "42",
    "0xff",
    "\"s\"",
    "\"\\n\"",
    "\"open",
    "#a7f3b2c1",
    "#zz",
    "type",
    "enum",
    "effect",
    "schema",
    "module",
    "use",
    "pub",
    "::",
    ".",
    "..",
    "?",
    "as",
    "/// doc\n",
    "// c\n",
    "/*",
    "*/",
    "true",
    "false",
    "Quote",
    "{ a: 1 }",
    "é",
    "\u{1F600}",
    "\n",
    " ",
    "$",
];

fn fragment_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..120).prop_map(|parts| {
        let mut out = String::new();
        for (i, p) in parts.iter().enumerate() {
            out.push_str(p);
            if i % 3 != 0 {
                out.push(' ');
            }
        }
        out
    })
}

/// Sample programs to mutate: the repository's fixtures, plus inline ones.
fn samples() -> Vec<String> {
    let mut out = vec![
        "fn main() -> Int ! {Log} { let x = 1; perform Log(show(x)); if x > 0 { x } else { -x } }"
            .to_owned(),
        "enum E { A(Int), B }\nfn f(e: E) -> Int { match e { A(n) if n > 1 => n, A(_) => 0, B => { 1 } } }"
            .to_owned(),
        "type Q = { a: String, b: Int? }\nschema S { /// d\n f: Map<String, Int> = 1 }\nuse m::{a, b as c}"
            .to_owned(),
        "fn g() -> Int ! {Sleep} { handle { within 1s { after 2s { perform Op(1) } } else { 0 } } with { Op(x) => resume(x) } }"
            .to_owned(),
        tel_testgen::generate_file(2),
    ];
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let mut stack = vec![dir];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for path in paths {
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "tel")
                && let Ok(text) = std::fs::read_to_string(&path)
            {
                out.push(text);
            }
        }
    }
    out
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize),
    Duplicate(usize),
    Insert(usize, &'static str),
    Swap(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Duplicate),
        (any::<usize>(), prop::sample::select(FRAGMENTS)).prop_map(|(i, f)| Mutation::Insert(i, f)),
        (any::<usize>(), any::<usize>()).prop_map(|(i, j)| Mutation::Swap(i, j)),
    ]
}

/// Applies token-level mutations to `text`.
fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let (tokens, _) = tel_syntax::lexer::lex(text);
    let mut pieces: Vec<String> = Vec::with_capacity(tokens.len());
    let mut offset = 0usize;
    for t in &tokens {
        let end = offset + t.len as usize;
        pieces.push(text[offset..end].to_owned());
        offset = end;
    }
    for m in mutations {
        let n = pieces.len().max(1);
        match *m {
            Mutation::Delete(i) if !pieces.is_empty() => {
                pieces.remove(i % n);
            }
            Mutation::Duplicate(i) if !pieces.is_empty() => {
                let p = pieces[i % n].clone();
                pieces.insert(i % n, p);
            }
            Mutation::Insert(i, f) => pieces.insert(i % (pieces.len() + 1), f.to_owned()),
            Mutation::Swap(i, j) if !pieces.is_empty() => pieces.swap(i % n, j % n),
            _ => {}
        }
    }
    pieces.concat()
}

proptest! {
    #[test]
    fn any_string(text in any::<String>()) {
        check_invariants(&text);
    }

    #[test]
    fn any_ascii_punctuation_heavy(text in "[ -~\n\t]{0,400}") {
        check_invariants(&text);
    }

    #[test]
    fn fragment_soups(text in fragment_soup()) {
        check_invariants(&text);
    }

    #[test]
    fn mutated_samples(
        index in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..12),
    ) {
        let samples = samples();
        let sample = index.get(&samples);
        check_invariants(&mutate(sample, &mutations));
    }
}

#[test]
fn samples_are_clean_before_mutation() {
    // a broken base sample would make the mutation test weaker without anyone noticing
    for sample in samples().iter().take(5) {
        assert!(tel_syntax::parse(sample).errors.is_empty(), "{sample}");
    }
}

proptest! {
    /// Every character boundary survives offset → line/col → offset, in both column units,
    /// and the character column agrees with counting characters.
    #[test]
    fn line_index_round_trips(text in "(\\PC|\n|\r\n){0,200}") {
        let index = tel_syntax::LineIndex::new(&text);
        for (offset, _) in text.char_indices().chain([(text.len(), ' ')]) {
            let at = tel_syntax::TextSize::from(offset as u32);
            prop_assert_eq!(index.offset(index.line_col(at)), Some(at));
            prop_assert_eq!(index.offset_utf16(index.line_col_utf16(at)), Some(at));
            let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
            let chars = text[line_start..offset].chars().count() as u32;
            prop_assert_eq!(index.line_col_chars(at).col, chars);
            let utf16 = text[line_start..offset].encode_utf16().count() as u32;
            prop_assert_eq!(index.line_col_utf16(at).col, utf16);
        }
    }
}
