//! Parser infrastructure: a cursor over the significant (non-trivia) tokens that builds the
//! rowan tree directly, attaching trivia as it goes.
//!
//! Invariants the grammar functions rely on:
//! - every token of the input reaches the tree exactly once, in order (losslessness);
//! - trivia before a node's first token goes *outside* the node, except the doc comments
//!   of items and schema fields, which [`Parser::start_with_docs`] pulls inside;
//! - every loop in the grammar consumes a token per iteration or stops;
//! - recursion goes through [`Parser::nested`], which caps the depth.

use rowan::{GreenNode, TextRange, TextSize};

use crate::SyntaxError;
use crate::SyntaxKind::{self, *};
use crate::builder::{Checkpoint, TreeBuilder};
use crate::lexer::Token;
use crate::line_index::LineIndex;

/// Deepest nesting of expressions, types and patterns the parser follows. Deeper input is
/// skipped with an error; the limit keeps recursion well inside a 2 MiB thread stack.
pub const MAX_DEPTH: u32 = 256;

/// A set of token kinds (token discriminants are all below 128).
#[derive(Clone, Copy)]
pub(crate) struct TokenSet(u128);

impl TokenSet {
    pub(crate) const fn new(kinds: &[SyntaxKind]) -> TokenSet {
        let mut bits = 0u128;
        let mut i = 0;
        while i < kinds.len() {
            bits |= 1u128 << (kinds[i] as u16);
            i += 1;
        }
        TokenSet(bits)
    }

    pub(crate) const fn union(self, other: TokenSet) -> TokenSet {
        TokenSet(self.0 | other.0)
    }

    pub(crate) const fn contains(self, kind: SyntaxKind) -> bool {
        let k = kind as u16;
        k < 128 && self.0 & (1u128 << k) != 0
    }
}

pub(crate) struct Parser<'t> {
    text: &'t str,
    tokens: &'t [Token],
    /// Start offset of every raw token, plus the text length at the end.
    offsets: Vec<u32>,
    /// Raw indices of the significant tokens, plus `tokens.len()` as an EOF sentinel.
    significant: Vec<u32>,
    /// The kinds of the significant tokens, plus EOF: lookahead is one index.
    kinds: Vec<SyntaxKind>,
    /// Index into `significant` of the current token.
    pos: usize,
    /// Raw tokens already added to the tree.
    emitted: usize,
    builder: TreeBuilder<'t>,
    errors: Vec<SyntaxError>,
    depth: u32,
    /// Whether the last error was about an unclosed delimiter (see [`Parser::push_error`]).
    last_error_unclosed: bool,
    line_index: Option<LineIndex>,
}

impl<'t> Parser<'t> {
    pub(crate) fn new(text: &'t str, tokens: &'t [Token]) -> Parser<'t> {
        let mut offsets = Vec::with_capacity(tokens.len() + 1);
        let mut significant = Vec::with_capacity(tokens.len() + 1);
        let mut kinds = Vec::with_capacity(tokens.len() + 1);
        let mut offset = 0u32;
        for (i, t) in tokens.iter().enumerate() {
            offsets.push(offset);
            offset += t.len;
            if !t.kind.is_trivia() {
                significant.push(i as u32);
                kinds.push(t.kind);
            }
        }
        offsets.push(offset);
        significant.push(tokens.len() as u32);
        kinds.push(EOF);
        Parser {
            text,
            tokens,
            offsets,
            significant,
            kinds,
            pos: 0,
            emitted: 0,
            builder: TreeBuilder::new(tokens.len()),
            errors: Vec::new(),
            depth: 0,
            last_error_unclosed: false,
            line_index: None,
        }
    }

    pub(crate) fn finish_tree(self) -> (GreenNode, Vec<SyntaxError>) {
        (self.builder.finish(), self.errors)
    }

    // ---- looking ----------------------------------------------------------------------

    pub(crate) fn nth(&self, n: usize) -> SyntaxKind {
        self.kinds.get(self.pos + n).copied().unwrap_or(EOF)
    }

    pub(crate) fn current(&self) -> SyntaxKind {
        self.nth(0)
    }

    pub(crate) fn at(&self, kind: SyntaxKind) -> bool {
        self.current() == kind
    }

    pub(crate) fn at_ts(&self, set: TokenSet) -> bool {
        set.contains(self.current())
    }

    fn raw_range(&self, raw: usize) -> TextRange {
        TextRange::new(self.offsets[raw].into(), self.offsets[raw + 1].into())
    }

    /// Range of the n-th significant token ahead; an empty range at the end for EOF.
    pub(crate) fn nth_range(&self, n: usize) -> TextRange {
        match self.significant.get(self.pos + n) {
            Some(&raw) if (raw as usize) < self.tokens.len() => self.raw_range(raw as usize),
            _ => TextRange::empty(TextSize::of(self.text)),
        }
    }

    pub(crate) fn current_range(&self) -> TextRange {
        self.nth_range(0)
    }

    pub(crate) fn nth_text(&self, n: usize) -> &'t str {
        &self.text[self.nth_range(n)]
    }

    /// Kind of the last consumed significant token (EOF before the first).
    pub(crate) fn prev_kind(&self) -> SyntaxKind {
        match self.pos.checked_sub(1) {
            Some(i) => self.kinds[i],
            None => EOF,
        }
    }

    /// End offset of the last consumed significant token, where "expected X" errors point.
    fn prev_end(&self) -> TextSize {
        match self.pos.checked_sub(1) {
            Some(i) => self.raw_range(self.significant[i] as usize).end(),
            None => TextSize::from(0),
        }
    }

    /// A position marker that changes whenever a token is consumed (for progress checks).
    pub(crate) fn progress_mark(&self) -> usize {
        self.pos
    }

    // ---- building ---------------------------------------------------------------------

    fn emit_raw_until(&mut self, end: usize) {
        while self.emitted < end {
            let raw = self.emitted;
            let kind = self.tokens[raw].kind;
            let text = &self.text[self.raw_range(raw)];
            self.builder.token(kind, text);
            self.emitted += 1;
        }
    }

    /// Adds the trivia before the current token to the node being built.
    fn flush_trivia(&mut self) {
        let next = self.significant[self.pos] as usize;
        self.emit_raw_until(next);
    }

    /// Starts the root node without flushing: everything, leading trivia included, is
    /// inside the root.
    pub(crate) fn start_root(&mut self) {
        self.builder.start_node(SOURCE_FILE);
    }

    /// Adds all remaining tokens (trailing trivia) and closes the root node.
    pub(crate) fn finish_root(&mut self) {
        self.emit_raw_until(self.tokens.len());
        self.builder.finish_node();
    }

    pub(crate) fn start(&mut self, kind: SyntaxKind) {
        self.flush_trivia();
        self.builder.start_node(kind);
    }

    /// Starts a node that owns the doc comments written before it: the pending trivia up to
    /// the first doc comment stays outside, the rest goes in.
    pub(crate) fn start_with_docs(&mut self, kind: SyntaxKind) {
        let next = self.significant[self.pos] as usize;
        let first_doc =
            (self.emitted..next).find(|&raw| self.tokens[raw].kind == DOC_COMMENT).unwrap_or(next);
        self.emit_raw_until(first_doc);
        self.builder.start_node(kind);
    }

    pub(crate) fn finish(&mut self) {
        self.builder.finish_node();
    }

    /// A point a later node can start at (to wrap what is parsed from here on). Pending
    /// trivia is flushed first so that it stays outside the wrapping node.
    pub(crate) fn checkpoint(&mut self) -> Checkpoint {
        self.flush_trivia();
        self.builder.checkpoint()
    }

    pub(crate) fn start_at(&mut self, checkpoint: Checkpoint, kind: SyntaxKind) {
        self.builder.start_node_at(checkpoint, kind);
    }

    /// Consumes the current token (with the trivia before it). A no-op at EOF.
    pub(crate) fn bump(&mut self) {
        let kind = self.current();
        self.bump_remap(kind);
    }

    /// Consumes the current token, giving it `kind` in the tree (contextual keywords).
    pub(crate) fn bump_remap(&mut self, kind: SyntaxKind) {
        if self.at(EOF) {
            return;
        }
        self.flush_trivia();
        let raw = self.significant[self.pos] as usize;
        let text = &self.text[self.raw_range(raw)];
        self.builder.token(kind, text);
        self.emitted = raw + 1;
        self.pos += 1;
    }

    pub(crate) fn eat(&mut self, kind: SyntaxKind) -> bool {
        if self.at(kind) {
            self.bump();
            true
        } else {
            false
        }
    }

    /// Consumes `kind` or reports that it is missing.
    pub(crate) fn expect(&mut self, kind: SyntaxKind) -> bool {
        if self.eat(kind) {
            return true;
        }
        self.error_expected(kind.describe());
        false
    }

    /// Wraps `f` in a node of `kind` started at the current token.
    pub(crate) fn node(&mut self, kind: SyntaxKind, f: impl FnOnce(&mut Self)) {
        self.start(kind);
        f(self);
        self.finish();
    }

    /// A node of `kind` holding just the current token.
    pub(crate) fn token_node(&mut self, kind: SyntaxKind) {
        self.start(kind);
        self.bump();
        self.finish();
    }

    // ---- errors -----------------------------------------------------------------------

    /// How a message shows the current token: "`foo`" or "end of file".
    pub(crate) fn found(&self) -> String {
        if self.at(EOF) {
            return "end of file".to_owned();
        }
        let text = self.nth_text(0);
        let mut shown: String = text.chars().take(24).collect();
        if shown.len() < text.len() {
            shown.push('…');
        }
        format!("`{}`", shown.replace('\n', "\\n"))
    }

    /// Records an error unless one was already reported at the same place: a missing token
    /// usually makes every enclosing rule miss its own, and only the first says something.
    pub(crate) fn error_at(&mut self, range: TextRange, message: impl Into<String>) {
        self.push_error(range, message.into(), false);
    }

    /// An unclosed delimiter is worth reporting even after another error at the same place
    /// (the opener's position is news), but not after another unclosed delimiter there: at
    /// the end of a file with many open delimiters, the innermost is the one to name.
    fn push_error(&mut self, range: TextRange, message: String, unclosed: bool) {
        if let Some(last) = self.errors.last()
            && last.range.start() == range.start()
            && (!unclosed || self.last_error_unclosed)
        {
            return;
        }
        self.errors.push(SyntaxError::new(message, range));
        self.last_error_unclosed = unclosed;
    }

    /// "expected `what`, found …", pointing just after the previous token.
    pub(crate) fn error_expected(&mut self, what: &str) {
        let message = self.expected_message(what);
        self.error_at(TextRange::empty(self.prev_end()), message);
    }

    fn expected_message(&self, what: &str) -> String {
        if self.at(ERROR) {
            // the lexer already explained the bad token
            format!("expected {what}")
        } else {
            format!("expected {what}, found {}", self.found())
        }
    }

    /// An error about an unclosed delimiter, naming where it was opened.
    pub(crate) fn error_unclosed(&mut self, close: SyntaxKind, what: &str, opened_at: TextSize) {
        let position = self.human_pos(opened_at);
        let message = self.expected_message(&format!(
            "{} to close the {what} opened at {position}",
            close.describe()
        ));
        self.push_error(TextRange::empty(self.prev_end()), message, true);
    }

    /// Consumes `close`, or reports the unclosed delimiter opened at `opened_at`.
    pub(crate) fn expect_closing(&mut self, close: SyntaxKind, what: &str, opened_at: TextSize) {
        if !self.eat(close) {
            self.error_unclosed(close, what, opened_at);
        }
    }

    /// Wraps the current token in an ERROR node with `message` (no message for tokens the
    /// lexer already rejected). Does nothing at EOF.
    pub(crate) fn error_bump(&mut self, message: impl Into<String>) {
        if self.at(EOF) {
            return;
        }
        if !self.at(ERROR) {
            let range = self.current_range();
            self.error_at(range, message);
        }
        self.token_node(ERROR);
    }

    pub(crate) fn human_pos(&mut self, offset: TextSize) -> String {
        let text = self.text;
        self.line_index.get_or_insert_with(|| LineIndex::new(text)).human(offset)
    }

    // ---- recursion --------------------------------------------------------------------

    /// Runs a recursive rule one level deeper. Past [`MAX_DEPTH`] the rule is not run:
    /// the construct at the current token is skipped (to its matching closing delimiter)
    /// with an error, and `nested` answers whether anything was consumed.
    pub(crate) fn nested(&mut self, f: impl FnOnce(&mut Self) -> bool) -> bool {
        if self.depth >= MAX_DEPTH {
            return self.skip_too_deep();
        }
        self.depth += 1;
        let parsed = f(self);
        self.depth -= 1;
        parsed
    }

    /// Skips the rest of the construct that is too deep: up to a separator or closer at
    /// the nesting level where skipping started (or the next item), so one error covers it.
    fn skip_too_deep(&mut self) -> bool {
        const OPEN: TokenSet = TokenSet::new(&[L_PAREN, L_CURLY, L_BRACK]);
        const CLOSE: TokenSet = TokenSet::new(&[R_PAREN, R_CURLY, R_BRACK]);
        const STOP: TokenSet = TokenSet::new(&[
            COMMA, SEMICOLON, FAT_ARROW, FN_KW, TYPE_KW, ENUM_KW, EFFECT_KW, SCHEMA_KW, MODULE_KW,
            USE_KW, PUB_KW,
        ]);
        if self.at(EOF) || self.at_ts(CLOSE) || self.at_ts(STOP) {
            return false;
        }
        let range = self.current_range();
        self.error_at(
            range,
            format!("expression nested too deeply (more than {MAX_DEPTH} levels)"),
        );
        self.start(ERROR);
        let mut open = 0usize;
        while !self.at(EOF) {
            if self.at_ts(OPEN) {
                open += 1;
            } else if self.at_ts(CLOSE) {
                // a closer with nothing open here belongs to an enclosing rule
                if open == 0 {
                    break;
                }
                open -= 1;
            } else if open == 0 && self.at_ts(STOP) {
                break;
            }
            self.bump();
        }
        self.finish();
        true
    }
}
