//! Parser infrastructure: a cursor over the significant (non-trivia) tokens that builds the
//! rowan tree directly, attaching trivia as it goes.
//!
//! Invariants the grammar functions rely on:
//! - every token of the input reaches the tree exactly once, in order (losslessness);
//! - trivia before a node's first token goes *outside* the node, except the doc comments
//!   of items and schema fields, which [`Parser::start_with_docs`] pulls inside;
//! - every loop in the grammar consumes a token per iteration or stops;
//! - recursion goes through [`Parser::nested`], which caps the depth.

use std::collections::VecDeque;

use rowan::{GreenNode, TextRange, TextSize};

use crate::SyntaxError;
use crate::SyntaxKind::{self, *};
use crate::builder::{Checkpoint, TreeBuilder};
use crate::lexer::Lexer;
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

/// A token pulled from the lexer and not yet added to the tree.
#[derive(Clone, Copy)]
struct Raw {
    kind: SyntaxKind,
    start: u32,
    end: u32,
}

/// A significant token ahead, with the number of trivia tokens before it that are still
/// waiting in [`Parser::trivia`].
#[derive(Clone, Copy)]
struct Ahead {
    token: Raw,
    trivia: u32,
}

/// How many significant tokens the parser keeps lexed ahead, the current one included:
/// the grammar looks at most at `nth(2)`.
const LOOKAHEAD: usize = 3;

/// The size of the ring that holds them (a power of two: the index wraps with a mask).
const RING: usize = 4;

pub(crate) struct Parser<'t> {
    text: &'t str,
    lexer: Lexer<'t>,
    /// Trivia lexed and not yet added to the tree, in order: that of `ahead[0]`, then of
    /// `ahead[1]`, …; at the end of the input, the trailing trivia.
    trivia: VecDeque<Raw>,
    /// The next significant tokens, the current one at `head`, in a ring; fewer than
    /// [`LOOKAHEAD`] only once the lexer has reached the end (the missing ones are EOF).
    ahead: [Ahead; RING],
    head: usize,
    ahead_len: usize,
    /// Significant tokens consumed so far.
    pos: usize,
    /// Kind and end of the last consumed significant token (EOF and 0 before the first).
    prev_kind: SyntaxKind,
    prev_end: TextSize,
    builder: TreeBuilder<'t>,
    errors: Vec<SyntaxError>,
    depth: u32,
    /// Whether the last error was about an unclosed delimiter (see [`Parser::push_error`]).
    last_error_unclosed: bool,
    line_index: Option<LineIndex>,
}

impl<'t> Parser<'t> {
    pub(crate) fn new(text: &'t str) -> Parser<'t> {
        Self::with_builder(text, TreeBuilder::new(text))
    }

    pub(crate) fn with_builder(text: &'t str, builder: TreeBuilder<'t>) -> Parser<'t> {
        let none = Ahead { token: Raw { kind: EOF, start: 0, end: 0 }, trivia: 0 };
        let mut p = Parser {
            text,
            lexer: Lexer::new(text),
            trivia: VecDeque::with_capacity(16),
            ahead: [none; RING],
            head: 0,
            ahead_len: 0,
            pos: 0,
            prev_kind: EOF,
            prev_end: TextSize::from(0),
            builder,
            errors: Vec::new(),
            depth: 0,
            last_error_unclosed: false,
            line_index: None,
        };
        p.fill();
        p
    }

    /// The tree and the errors: the lexer's, then the parser's (each in text order).
    pub(crate) fn finish_tree(self) -> (GreenNode, Vec<SyntaxError>) {
        let mut errors = self.lexer.finish();
        errors.extend(self.errors);
        (self.builder.finish(), errors)
    }

    /// Lexes until [`LOOKAHEAD`] significant tokens are ahead or the text ends.
    fn fill(&mut self) {
        let mut trivia = 0;
        while self.ahead_len < LOOKAHEAD {
            // offsets fit in u32: `crate::parse` cuts longer text
            let start = self.lexer.pos() as u32;
            let Some(kind) = self.lexer.next_token() else { break };
            let token = Raw { kind, start, end: self.lexer.pos() as u32 };
            if kind.is_trivia() {
                self.trivia.push_back(token);
                trivia += 1;
            } else {
                self.ahead[(self.head + self.ahead_len) % RING] = Ahead { token, trivia };
                self.ahead_len += 1;
                trivia = 0;
            }
        }
    }

    // ---- looking ----------------------------------------------------------------------

    pub(crate) fn nth(&self, n: usize) -> SyntaxKind {
        debug_assert!(n < LOOKAHEAD);
        if n < self.ahead_len { self.ahead[(self.head + n) % RING].token.kind } else { EOF }
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

    /// Range of the n-th significant token ahead; an empty range at the end for EOF.
    pub(crate) fn nth_range(&self, n: usize) -> TextRange {
        debug_assert!(n < LOOKAHEAD);
        if n < self.ahead_len {
            let t = self.ahead[(self.head + n) % RING].token;
            TextRange::new(t.start.into(), t.end.into())
        } else {
            TextRange::empty(TextSize::of(self.text))
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
        self.prev_kind
    }

    /// End offset of the last consumed significant token, where "expected X" errors point.
    fn prev_end(&self) -> TextSize {
        self.prev_end
    }

    /// A position marker that changes whenever a token is consumed (for progress checks).
    pub(crate) fn progress_mark(&self) -> usize {
        self.pos
    }

    // ---- building ---------------------------------------------------------------------

    #[inline]
    fn emit(&mut self, kind: SyntaxKind, token: Raw) {
        self.builder.token(kind, token.start, token.end);
    }

    /// Adds the first `n` waiting trivia tokens to the tree.
    #[inline(always)]
    fn emit_trivia(&mut self, n: usize) {
        for _ in 0..n {
            let Some(token) = self.trivia.pop_front() else { break };
            self.emit(token.kind, token);
        }
    }

    /// The number of waiting trivia tokens before the current token (at the end: all).
    fn leading_trivia(&self) -> usize {
        if self.ahead_len > 0 { self.ahead[self.head].trivia as usize } else { self.trivia.len() }
    }

    /// Adds the trivia before the current token to the node being built.
    #[inline]
    fn flush_trivia(&mut self) {
        // most calls find none (a node starting right after another): keep those cheap
        let n = self.leading_trivia();
        if n > 0 {
            self.flush_trivia_tokens(n);
        }
    }

    #[inline(never)]
    fn flush_trivia_tokens(&mut self, n: usize) {
        self.emit_trivia(n);
        self.ahead[self.head].trivia = 0;
    }

    /// Starts the root node without flushing: everything, leading trivia included, is
    /// inside the root.
    pub(crate) fn start_root(&mut self) {
        self.builder.start_node(SOURCE_FILE);
    }

    /// Adds all remaining tokens (trailing trivia) and closes the root node.
    pub(crate) fn finish_root(&mut self) {
        while self.ahead_len > 0 {
            self.bump();
        }
        self.flush_trivia();
        self.builder.finish_node();
    }

    pub(crate) fn start(&mut self, kind: SyntaxKind) {
        self.flush_trivia();
        self.builder.start_node(kind);
    }

    /// Starts a node that owns the doc comments written before it: the pending trivia up to
    /// the first doc comment stays outside, the rest goes in.
    pub(crate) fn start_with_docs(&mut self, kind: SyntaxKind) {
        let n = self.leading_trivia();
        let before_doc =
            self.trivia.iter().take(n).position(|t| t.kind == DOC_COMMENT).unwrap_or(n);
        self.emit_trivia(before_doc);
        if self.ahead_len > 0 {
            self.ahead[self.head].trivia -= before_doc as u32;
        }
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
        if self.ahead_len == 0 {
            return;
        }
        self.flush_trivia();
        let token = self.ahead[self.head].token;
        self.emit(kind, token);
        self.prev_kind = token.kind;
        self.prev_end = token.end.into();
        self.head = (self.head + 1) % RING;
        self.ahead_len -= 1;
        self.pos += 1;
        self.fill();
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
