//! Incremental reparsing of the most frequent keystroke: an edit inside one token (a digit
//! of a literal, a letter of a name, a space). The new tree is the old one with that token
//! replaced, which rebuilds only the token's ancestors; everything else keeps its green
//! node, and the answer is exactly what a full parse would give. Anything less certain
//! falls back to [`crate::parse`].

use rowan::{GreenToken, NodeOrToken, TextRange, TextSize};

use crate::lexer;
use crate::{Parse, SyntaxKind, SyntaxNode, SyntaxToken};

/// Parses `new_text`, reusing `old` (the parse of `old_text`) when the two texts differ
/// inside one token.
pub fn reparse(old: &Parse, old_text: &str, new_text: &str) -> Parse {
    relex_token(old, old_text, new_text).unwrap_or_else(|| crate::parse(new_text))
}

/// The parse of `new_text` as `old` with one token replaced, when that is certainly what a
/// full parse would give; `None` otherwise.
fn relex_token(old: &Parse, old_text: &str, new_text: &str) -> Option<Parse> {
    // A tree with errors may recover differently once a token changes: parse it anew.
    if !old.errors.is_empty() || old_text.len() > u32::MAX as usize / 2 {
        return None;
    }
    let (start, old_end, new_end) = changed_span(old_text, new_text)?;
    let root = SyntaxNode::new_root(old.green.clone());
    let edit = TextRange::new(size(start), size(old_end));
    let token = match root.covering_element(edit) {
        NodeOrToken::Token(t) => t,
        NodeOrToken::Node(_) => return None,
    };
    let range = token.text_range();
    let new_range = start_end(range.start(), range.end() + size(new_end) - size(old_end));
    let new_token_text = new_text.get(new_range.0..new_range.1)?;
    if !lexes_alone_as(&token, new_token_text)? {
        return None;
    }
    let green = token.replace_with(GreenToken::new(token.kind().into(), new_token_text));
    Some(Parse { green, errors: Vec::new() })
}

/// Whether `text` in `token`'s place lexes as one token of the same kind, with the
/// neighbouring tokens unchanged (a longest match cannot reach across the edit), and the
/// parser would treat it the same.
fn lexes_alone_as(token: &SyntaxToken, text: &str) -> Option<bool> {
    let kind = token.kind();
    // The parser looks at the text of a few identifiers (`as` in a use, the case of a
    // pattern's name): keep to edits that cannot change what it sees.
    if kind == SyntaxKind::IDENT {
        let lower = |s: &str| s.starts_with(|c: char| c.is_ascii_lowercase() || c == '_');
        if text == "as" || token.text() == "as" || lower(text) != lower(token.text()) {
            return Some(false);
        }
    }
    let prev = token.prev_token();
    let next = token.next_token();
    let mut joined = String::new();
    let mut expected = Vec::new();
    for (t, part) in [(prev.as_ref(), None), (None, Some(text)), (next.as_ref(), None)] {
        match (t, part) {
            (Some(t), _) => {
                joined.push_str(t.text());
                expected.push((t.kind(), t.text().len()));
            }
            (None, Some(part)) => {
                joined.push_str(part);
                expected.push((kind, part.len()));
            }
            (None, None) => {}
        }
    }
    let (tokens, errors) = lexer::lex(&joined);
    let found: Vec<(SyntaxKind, usize)> = tokens.iter().map(|t| (t.kind, t.len as usize)).collect();
    Some(errors.is_empty() && found == expected)
}

/// The byte span where the texts differ: `(start, end in old, end in new)`, on character
/// boundaries; `None` when they are equal.
fn changed_span(old: &str, new: &str) -> Option<(usize, usize, usize)> {
    if old == new {
        return None;
    }
    let prefix = old.bytes().zip(new.bytes()).take_while(|(a, b)| a == b).count();
    let max_suffix = old.len().min(new.len()) - prefix;
    let suffix = old
        .bytes()
        .rev()
        .zip(new.bytes().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    let mut start = prefix;
    while !old.is_char_boundary(start) || !new.is_char_boundary(start) {
        start -= 1;
    }
    let (mut old_end, mut new_end) = (old.len() - suffix, new.len() - suffix);
    while !old.is_char_boundary(old_end) || !new.is_char_boundary(new_end) {
        old_end += 1;
        new_end += 1;
    }
    Some((start, old_end, new_end))
}

fn size(n: usize) -> TextSize {
    TextSize::from(n as u32)
}

fn start_end(start: TextSize, end: TextSize) -> (usize, usize) {
    (u32::from(start) as usize, u32::from(end) as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn reused(old_text: &str, new_text: &str) -> bool {
        relex_token(&crate::parse(old_text), old_text, new_text).is_some()
    }

    fn same_as_full_parse(old_text: &str, new_text: &str) {
        let incremental = reparse(&crate::parse(old_text), old_text, new_text);
        let full = crate::parse(new_text);
        assert_eq!(
            format!("{:#?}{:?}", incremental.syntax_node(), incremental.errors),
            format!("{:#?}{:?}", full.syntax_node(), full.errors),
            "{old_text:?} -> {new_text:?}"
        );
    }

    const SRC: &str = "fn f(base: Int) -> Int {\n    let x = base % 2;\n    x + foo(1)\n}\n";

    #[test]
    fn an_edit_inside_a_token_reuses_the_tree() {
        for new in [
            SRC.replace("% 2", "% 3"),
            SRC.replace("% 2", "% 23"),
            SRC.replace("foo(", "fooo("),
            SRC.replace("let x", "let xy"),
            SRC.replace("    x +", "      x +"),
        ] {
            assert!(reused(SRC, &new), "{new}");
            same_as_full_parse(SRC, &new);
        }
    }

    #[test]
    fn edits_that_change_tokens_or_structure_parse_anew() {
        for new in [
            SRC.replace("% 2", "% 2 + 1"),      // new tokens
            SRC.replace("foo(", "fo o("),       // splits a token
            SRC.replace("let x", "let as"),     // a contextual word
            SRC.replace("foo(", "Foo("),        // a name's case decides patterns
            SRC.replace("let x", "let fn"),     // a keyword
            SRC.replace("% 2", "% 2ms"),        // another kind of literal
            SRC.replace("base % 2", "base %2"), // merges with a neighbour? re-check
        ] {
            same_as_full_parse(SRC, &new);
        }
        assert!(!reused(SRC, &SRC.replace("% 2", "% 2 + 1")));
        assert!(!reused(SRC, &SRC.replace("let x", "let fn")));
    }

    #[test]
    fn a_tree_with_errors_is_parsed_anew() {
        let broken = "fn f( -> Int { 1 }";
        assert!(!reused(broken, &broken.replace('1', "2")));
    }

    proptest! {
        /// Whatever the edit, the result is the full parse's.
        #[test]
        fn reparse_equals_full_parse(at in 0usize..SRC.len(), del in 0usize..4, ins in "[a-z0-9 _%+(){}:;]{0,3}") {
            let at = (0..=at).rev().find(|&i| SRC.is_char_boundary(i)).unwrap();
            let end = (at + del).min(SRC.len());
            let mut new = SRC.to_owned();
            new.replace_range(at..end, &ins);
            same_as_full_parse(SRC, &new);
        }

        /// Over the fixtures, with edits that mostly stay inside a token (a character
        /// replaced by one of its class), so that the reusing path is the one exercised.
        #[test]
        fn fixture_edits_equal_full_parse(file in 0usize..64, at in 0usize..100_000, pick in 0usize..64) {
            let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/valid");
            let mut paths: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
            paths.sort();
            let text = std::fs::read_to_string(&paths[file % paths.len()]).unwrap();
            let at = at % text.len();
            // (the boundary first: slicing inside a character would panic)
            let Some(c) = text.get(at..).and_then(|rest| rest.chars().next()) else {
                return Ok(());
            };
            let class: &[char] = if c.is_ascii_digit() {
                &['0', '1', '7', '9']
            } else if c.is_ascii_alphabetic() || c == '_' {
                &['a', 'z', 'Q', '_', 'x']
            } else {
                &[' ', '\n', '(', ';']
            };
            let mut new = text.clone();
            new.replace_range(at..at + c.len_utf8(), &class[pick % class.len()].to_string());
            same_as_full_parse(&text, &new);
        }
    }
}
