//! The canonical formatter: one layout for every TEL file, not configurable (docs/formatting.md).
//!
//! ```
//! let formatted = tel_syntax::format::format("fn f(x:Int)->Int{x+1}").unwrap();
//! assert_eq!(formatted, "fn f(x: Int) -> Int {\n    x + 1\n}\n");
//! ```
//!
//! It works on the lossless syntax tree, so every comment is kept, in its place relative to
//! the tokens around it. Formatting never changes the program: the output has the same
//! tokens in the same order (only trailing commas in lists that break, and the optional
//! `;` after `module`, `use`, `type` and `effect` items, come and go), so it has the same
//! definition hashes. It is idempotent: formatting formatted text changes nothing. Like
//! gofmt, it refuses a file with syntax errors rather than guess at what was meant.

mod builder;
mod doc;
mod layout;
mod tokens;

#[cfg(test)]
mod tests;

use std::fmt;

use crate::SyntaxKind::{self, *};
use crate::{LineIndex, Parse, TextRange, TextSize};

/// The widest line the formatter aims for, in characters. Longer lines remain where
/// nothing can break: a long string literal, a long signature's effect row.
pub const MAX_WIDTH: u32 = doc::MAX_WIDTH;

/// Why a file was not formatted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    pub kind: FormatErrorKind,
    /// The first syntax error (or, for [`FormatErrorKind::Internal`], the first token the
    /// formatter would have changed).
    pub range: TextRange,
    /// 1-based line and column (in characters) of `range.start()`.
    pub line: u32,
    pub col: u32,
    pub message: String,
    /// How many syntax errors the file has (0 for an internal error).
    pub syntax_errors: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatErrorKind {
    /// The file does not parse; the formatter never rewrites a broken file.
    Syntax,
    /// The formatter's output would not have had the input's tokens: a bug in the
    /// formatter, caught before any text was returned.
    Internal,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.col, self.message)?;
        if self.syntax_errors > 1 {
            let more = self.syntax_errors - 1;
            write!(f, " (and {more} more syntax error{})", if more == 1 { "" } else { "s" })?;
        }
        Ok(())
    }
}

impl std::error::Error for FormatError {}

impl FormatError {
    fn new(kind: FormatErrorKind, source: &str, range: TextRange, message: String) -> Self {
        let start = range.start().min(TextSize::of(source));
        let lc = LineIndex::new(source).line_col_chars(start);
        FormatError { kind, range, line: lc.line + 1, col: lc.col + 1, message, syntax_errors: 0 }
    }
}

/// Formats a whole file. Refuses (with the first syntax error) a file that does not parse.
pub fn format(source: &str) -> Result<String, FormatError> {
    format_parsed(source, &crate::parse(source))
}

/// [`format`] for a file already parsed: `parse` must be the parse of `source`.
pub fn format_parsed(source: &str, parse: &Parse) -> Result<String, FormatError> {
    if let Some(first) = parse.errors.first() {
        let mut error =
            FormatError::new(FormatErrorKind::Syntax, source, first.range, first.message.clone());
        error.syntax_errors = parse.errors.len();
        return Err(error);
    }
    let toks = tokens::Tokens::new(source, &parse.green);
    let mut b = builder::Builder::new(&toks);
    b.source_file(&parse.green);
    let (dropped_commas, dropped_semicolons) = (b.dropped_commas, b.dropped_semicolons);
    let internal = |range: TextRange, what: &str| {
        FormatError::new(
            FormatErrorKind::Internal,
            source,
            range,
            format!(
                "internal formatter error ({what}): the file is left as it is; please report it"
            ),
        )
    };
    let Some(doc) = b.finish() else {
        return Err(internal(TextRange::empty(TextSize::of(source)), "a token was not laid out"));
    };
    let (out, added_commas) = doc.print();
    check_same_program(source, &toks, &out, dropped_commas, dropped_semicolons, added_commas)
        .map_err(|range| internal(range, "the output's tokens differ"))?;
    Ok(out)
}

/// Kinds the formatter may add or drop: trailing commas, optional semicolons.
fn optional(kind: SyntaxKind) -> bool {
    matches!(kind, COMMA | SEMICOLON)
}

/// The input's tokens and comments in text order.
struct InputTokens<'t, 's> {
    toks: &'t tokens::Tokens<'s>,
    sig: usize,
    trivia: usize,
}

impl Iterator for InputTokens<'_, '_> {
    type Item = tokens::Tok;

    fn next(&mut self) -> Option<tokens::Tok> {
        while self.trivia < self.toks.trivia.len()
            && self.toks.trivia[self.trivia].kind == WHITESPACE
        {
            self.trivia += 1;
        }
        let comment = self.toks.trivia.get(self.trivia);
        match (self.toks.sig.get(self.sig), comment) {
            (Some(s), Some(c)) if c.start > s.start => {
                self.sig += 1;
                Some(*s)
            }
            (_, Some(c)) => {
                self.trivia += 1;
                Some(self.toks.comment_text(*c))
            }
            (Some(s), None) => {
                self.sig += 1;
                Some(*s)
            }
            (None, None) => None,
        }
    }
}

/// The guard behind the promise that formatting never changes the program: the output,
/// lexed again, has the input's tokens and comments in order (whitespace aside), with
/// exactly the commas and semicolons the layout meant to add or drop. Cheap (a lexer
/// pass), so it runs every time. On a mismatch, the range of the input token concerned.
fn check_same_program(
    source: &str,
    toks: &tokens::Tokens,
    out: &str,
    dropped_commas: usize,
    dropped_semicolons: usize,
    added_commas: usize,
) -> Result<(), TextRange> {
    let range = |t: Option<tokens::Tok>| match t {
        Some(t) => TextRange::at(t.start.into(), t.len.into()),
        None => TextRange::empty(TextSize::of(source)),
    };
    let (lexed, errors) = crate::lexer::lex(out);
    if !errors.is_empty() {
        return Err(range(toks.sig.first().copied()));
    }
    let mut input = InputTokens { toks, sig: 0, trivia: 0 };
    let (mut in_commas, mut in_semicolons, mut out_commas, mut out_semicolons) = (0, 0, 0, 0);
    let mut count = |kind: SyntaxKind| match kind {
        COMMA => in_commas += 1,
        SEMICOLON => in_semicolons += 1,
        _ => {}
    };
    let mut offset = 0usize;
    for t in &lexed {
        let text = &out[offset..offset + t.len as usize];
        offset += t.len as usize;
        match t.kind {
            WHITESPACE => continue,
            COMMA => out_commas += 1,
            SEMICOLON => out_semicolons += 1,
            _ => {
                let expected = input.by_ref().find(|i| {
                    count(i.kind);
                    !optional(i.kind)
                });
                let Some(expected) = expected else { return Err(range(None)) };
                // `as` is lexed as an identifier and made a keyword by the parser
                let kind = if expected.kind == AS_KW { IDENT } else { expected.kind };
                let text = if t.kind == BLOCK_COMMENT { text } else { text.trim_end() };
                if kind != t.kind || toks.text(expected) != text {
                    return Err(range(Some(expected)));
                }
            }
        }
    }
    for rest in input {
        if !optional(rest.kind) {
            return Err(range(Some(rest)));
        }
        count(rest.kind);
    }
    if in_commas + added_commas != out_commas + dropped_commas
        || in_semicolons != out_semicolons + dropped_semicolons
    {
        return Err(range(toks.sig.first().copied()));
    }
    Ok(())
}

/// A replacement of `range` (in the original text) by `insert`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub range: TextRange,
    pub insert: String,
}

/// The smallest single edit turning `before` into `after` (common prefix and suffix left
/// alone), or `None` when they are equal. An editor applying it keeps its cursor and
/// folds in the unchanged parts.
pub fn minimal_edit(before: &str, after: &str) -> Option<TextEdit> {
    if before == after {
        return None;
    }
    let mut prefix = before.bytes().zip(after.bytes()).take_while(|(a, b)| a == b).count();
    while !before.is_char_boundary(prefix) || !after.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = (before.len() - prefix).min(after.len() - prefix);
    let mut suffix = before
        .bytes()
        .rev()
        .zip(after.bytes().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    while !before.is_char_boundary(before.len() - suffix)
        || !after.is_char_boundary(after.len() - suffix)
    {
        suffix -= 1;
    }
    let range = TextRange::new(
        TextSize::from(prefix as u32),
        TextSize::from((before.len() - suffix) as u32),
    );
    Some(TextEdit { range, insert: after[prefix..after.len() - suffix].to_owned() })
}

/// Formats the top-level items that `range` touches (an empty range: the item it is in),
/// leaving the rest of the file as it is. Returns the edit to apply, `None` when those
/// items are already formatted (or the range touches no item). The whole file must
/// parse, since an item's layout can depend on nothing else but its own text.
pub fn format_range(source: &str, range: TextRange) -> Result<Option<TextEdit>, FormatError> {
    let parse = crate::parse(source);
    let formatted = format_parsed(source, &parse)?;
    let before = parse.syntax_node();
    let after = crate::parse(&formatted).syntax_node();
    let touched = |r: TextRange| match r.intersect(range) {
        Some(common) => !common.is_empty() || range.is_empty(),
        None => false,
    };
    let items_before: Vec<TextRange> = before.children().map(|n| n.text_range()).collect();
    let items_after: Vec<TextRange> = after.children().map(|n| n.text_range()).collect();
    if items_before.len() != items_after.len() {
        return Ok(None);
    }
    let mut picked = items_before.iter().enumerate().filter(|(_, r)| touched(**r));
    let Some((first, _)) = picked.next() else { return Ok(None) };
    let last = picked.next_back().map_or(first, |(i, _)| i);
    // from the start of the first item's line when only indentation precedes it
    let line_start = |text: &str, at: TextSize| {
        let at = usize::from(at);
        let start = text[..at].rfind('\n').map_or(0, |nl| nl + 1);
        if text[start..at].trim().is_empty() { start } else { at }
    };
    let from = line_start(source, items_before[first].start());
    let to = usize::from(items_before[last].end());
    let out_from = line_start(&formatted, items_after[first].start());
    let out_to = usize::from(items_after[last].end());
    let old = &source[from..to];
    let new = &formatted[out_from..out_to];
    Ok(minimal_edit(old, new)
        .map(|e| TextEdit { range: e.range + TextSize::from(from as u32), insert: e.insert }))
}
