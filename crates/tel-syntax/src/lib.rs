//! TEL syntax: lexer, resilient recursive-descent parser over rowan, and a typed AST.
//!
//! ```
//! let parse = tel_syntax::parse("fn main() -> Int { 1 + 2 }");
//! assert!(parse.errors.is_empty());
//! let file = parse.tree();
//! use tel_syntax::ast::HasName;
//! let tel_syntax::ast::Item::Fn(f) = file.items().next().unwrap() else { panic!() };
//! assert_eq!(f.name().unwrap().text(), "main");
//! ```
//!
//! Parsing never fails and never panics: the tree always covers the input byte for byte,
//! and every problem is a [`SyntaxError`] with a range and a message.

pub mod ast;
mod builder;
pub mod format;
mod grammar;
pub mod lexer;
mod line_index;
pub mod lit;
mod parser;
mod reparse;
mod syntax_kind;

use std::fmt;
use std::fmt::Write as _;

pub use line_index::{LineCol, LineIndex};
pub use parser::MAX_DEPTH;
pub use reparse::reparse;
pub use rowan::{GreenNode, GreenNodeData, TextRange, TextSize};
pub use syntax_kind::{
    SyntaxElement, SyntaxKind, SyntaxNode, SyntaxNodeChildren, SyntaxNodePtr, SyntaxToken,
    TelLanguage,
};

/// A problem found while lexing or parsing, with the range of text it concerns (empty
/// when something is missing: the range then sits where it was expected).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SyntaxError {
    pub range: TextRange,
    pub message: String,
}

impl SyntaxError {
    pub fn new(message: impl Into<String>, range: TextRange) -> SyntaxError {
        SyntaxError { range, message: message.into() }
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SyntaxError {}

/// The result of parsing one file: an immutable green tree and the errors, in text order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Parse {
    pub green: GreenNode,
    pub errors: Vec<SyntaxError>,
}

/// Parses a whole TEL source file. Never fails: see the crate documentation.
pub fn parse(text: &str) -> Parse {
    // rowan ranges are u32; larger input is cut off with an error rather than a panic.
    let limit = u32::MAX as usize;
    if text.len() > limit {
        let mut end = limit;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mut parse = parse(&text[..end]);
        let at = TextSize::from(end as u32);
        parse.errors.push(SyntaxError::new(
            "file too large: only the first 4 GiB are read",
            TextRange::empty(at),
        ));
        return parse;
    }
    let mut p = parser::Parser::new(text);
    grammar::source_file(&mut p);
    let (green, mut errors) = p.finish_tree();
    // stable: at one offset the lexer's complaint comes before the parser's
    errors.sort_by_key(|e| e.range.start());
    Parse { green, errors }
}

impl Parse {
    pub fn syntax_node(&self) -> SyntaxNode {
        SyntaxNode::new_root(self.green.clone())
    }

    pub fn tree(&self) -> ast::SourceFile {
        ast::SourceFile { syntax: self.syntax_node() }
    }

    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// An indented dump of the tree (`KIND@start..end` per node, `KIND@range "text"` per
    /// token) followed by the errors (`error start..end (line:col): message`). This is the
    /// format of the parser's snapshot tests.
    pub fn debug_tree(&self) -> String {
        let root = self.syntax_node();
        let mut out = debug_node(&root);
        if !self.errors.is_empty() {
            let text = root.text().to_string();
            let index = LineIndex::new(&text);
            for e in &self.errors {
                let _ = writeln!(
                    out,
                    "error {:?} ({}): {}",
                    e.range,
                    index.human(e.range.start()),
                    e.message
                );
            }
        }
        out
    }
}

/// An indented dump of a syntax node, as in [`Parse::debug_tree`] (without errors).
pub fn debug_node(node: &SyntaxNode) -> String {
    let mut out = String::new();
    let mut indent = 0usize;
    // iterative: the dump must not be the thing that overflows the stack
    for event in node.preorder_with_tokens() {
        match event {
            rowan::WalkEvent::Enter(element) => {
                for _ in 0..indent {
                    out.push_str("  ");
                }
                match element {
                    rowan::NodeOrToken::Node(n) => {
                        let _ = writeln!(out, "{:?}@{:?}", n.kind(), n.text_range());
                        indent += 1;
                    }
                    rowan::NodeOrToken::Token(t) => {
                        let _ = writeln!(out, "{:?}@{:?} {:?}", t.kind(), t.text_range(), t.text());
                    }
                }
            }
            rowan::WalkEvent::Leave(rowan::NodeOrToken::Node(_)) => indent -= 1,
            rowan::WalkEvent::Leave(rowan::NodeOrToken::Token(_)) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests;
