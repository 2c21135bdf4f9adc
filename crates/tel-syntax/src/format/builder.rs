//! Building the command stream token by token, with the comments of each gap placed
//! where they belong.
//!
//! Layout code emits (or drops) every significant token in order; the builder emits the
//! comments of the gap before each one:
//! - *trailing* comments (on the line of the previous token) right after that token, just
//!   before the next text, space or line break — past any group and indentation brackets
//!   and a trailing comma. If the layout then breaks the line after the comment, the next
//!   run sees a line break after it and puts a hard break at that very place, inside the
//!   same (already broken) groups and at the same indentation: the output is the same.
//!   So a comment after `)` stays outside the argument list's group, and one after the
//!   last element comes after its trailing comma;
//! - *leading* comments (on lines of their own) just before the token, but before any
//!   group that opens right there — so a comment above a statement does not force the
//!   statement's groups to break.
//!
//! Line comments are always followed by a line break; a block comment trailing a token is
//! part of that token's line, and whether a break follows it is the layout's decision.
//! Blank lines around leading comments are kept (at most one). Whether a comment trails or leads is reproduced in the output,
//! so formatting the output again places every comment the same way.

use super::doc::{Cmd, Doc, Group, GroupKind};
use super::tokens::{Comment, Tok, Tokens};
use crate::SyntaxKind::{self, *};

pub(crate) struct Builder<'t, 's> {
    pub(crate) toks: &'t Tokens<'s>,
    cmds: Vec<Cmd>,
    groups: Vec<Group>,
    /// The next significant token to emit.
    cursor: usize,
    /// The gap whose trailing comments are not emitted yet.
    trailing_pending: Option<usize>,
    /// The last gap whose leading comments were emitted.
    leading_done: Option<usize>,
    /// Commas and semicolons dropped (the guard in `format` counts them).
    pub(crate) dropped_commas: usize,
    pub(crate) dropped_semicolons: usize,
}

fn is_opener(kind: SyntaxKind) -> bool {
    matches!(kind, L_CURLY | L_PAREN | L_BRACK | LT | PIPE)
}

fn is_closer(kind: SyntaxKind) -> bool {
    matches!(kind, R_CURLY | R_PAREN | R_BRACK | GT)
}

impl<'t, 's> Builder<'t, 's> {
    pub(crate) fn new(toks: &'t Tokens<'s>) -> Builder<'t, 's> {
        Builder {
            toks,
            // about two commands per token
            cmds: Vec::with_capacity(toks.len() * 3 + 16),
            groups: Vec::new(),
            cursor: 0,
            trailing_pending: None,
            leading_done: None,
            dropped_commas: 0,
            dropped_semicolons: 0,
        }
    }

    /// Emits the comments after the last token and returns the stream, or `None` when the
    /// layout did not emit every token (a bug the caller reports).
    pub(crate) fn finish(mut self) -> Option<Doc<'s>> {
        if self.cursor != self.toks.len() {
            return None;
        }
        self.flush_trailing();
        self.leading(self.cursor);
        Some(Doc { source: self.toks.source, cmds: self.cmds, groups: self.groups })
    }

    /// The index of the next token, which is also the index of the gap before it.
    pub(crate) fn cursor(&self) -> usize {
        self.cursor
    }

    pub(crate) fn push(&mut self, cmd: Cmd) {
        // only text, spaces and lines place a trailing comment: group and indentation
        // brackets between it and them do not (see the module documentation)
        if !matches!(cmd, Cmd::Begin(_) | Cmd::End | Cmd::Indent | Cmd::Dedent | Cmd::IfBreakComma)
        {
            self.flush_trailing();
        }
        self.cmds.push(cmd);
    }

    pub(crate) fn space(&mut self) {
        self.push(Cmd::Space);
    }

    pub(crate) fn begin(&mut self, kind: GroupKind) {
        let index = self.groups.len() as u32;
        self.groups.push(Group::new(kind));
        self.push(Cmd::Begin(index));
    }

    pub(crate) fn end(&mut self) {
        self.push(Cmd::End);
    }

    /// Emits the next token, which the layout expects to be of kind `kind`.
    pub(crate) fn tok(&mut self, kind: SyntaxKind) {
        let Some(&tok) = self.toks.sig.get(self.cursor) else { return };
        debug_assert_eq!(tok.kind, kind, "layout and tree disagree at token {}", self.cursor);
        self.comments_before();
        let cmd = self.toks.text_cmd(tok);
        self.cmds.push(cmd);
        self.advance();
    }

    /// Drops the next token (an optional `;`, a trailing comma), keeping its comments.
    pub(crate) fn drop_tok(&mut self) {
        let Some(&tok) = self.toks.sig.get(self.cursor) else { return };
        match tok.kind {
            COMMA => self.dropped_commas += 1,
            SEMICOLON => self.dropped_semicolons += 1,
            _ => {}
        }
        self.comments_before();
        self.advance();
    }

    fn advance(&mut self) {
        self.cursor += 1;
        self.trailing_pending = Some(self.cursor);
    }

    /// Emits now every comment before the next token: before a closing delimiter, so that
    /// they are indented with the list's elements rather than with the delimiter.
    pub(crate) fn comments_before(&mut self) {
        self.flush_trailing();
        self.leading(self.cursor);
    }

    fn text(&mut self, tok: Tok) {
        let cmd = self.toks.text_cmd(self.toks.comment_text(tok));
        self.cmds.push(cmd);
    }

    fn flush_trailing(&mut self) {
        let Some(g) = self.trailing_pending.take() else { return };
        if self.toks.gap_is_bare(g) {
            return;
        }
        let gap = self.toks.gap(g);
        let Some(last) = gap.trailing.last().copied() else { return };
        for c in &gap.trailing {
            if c.space_before {
                self.cmds.push(Cmd::Space);
            }
            self.text(c.tok);
        }
        // a line break after a trailing block comment is the layout's to decide: kept, the
        // next run could not tell it from one the layout made
        if last.is_line() {
            self.cmds.push(Cmd::HardLine);
        } else if gap.leading.is_empty() && gap.space_after {
            self.cmds.push(Cmd::Space);
        }
    }

    /// Whether the next token has comments before it.
    pub(crate) fn comments_ahead(&self) -> bool {
        !self.toks.gap_is_bare(self.cursor)
    }

    /// The inside of an empty block or list with comments in it: every comment of the gap
    /// on the inner side of `line` (which breaks with the enclosing group), trailing ones
    /// included, so `{ /* nothing */ }` breaks as `{`, `/* nothing */`, `}`.
    pub(crate) fn comments_inside(&mut self, line: Cmd) {
        let g = self.cursor;
        if self.trailing_pending == Some(g) {
            self.trailing_pending = None;
        }
        self.push(Cmd::Indent);
        self.push(line);
        self.comment_lines(g, true);
        self.push(Cmd::Dedent);
        self.push(line);
    }

    /// The leading comments of gap `g`, inserted before any groups opened just before.
    fn leading(&mut self, g: usize) {
        self.comment_lines(g, false);
    }

    /// The comments of gap `g` that stand on lines of their own (with `all`, every comment
    /// of the gap, laid out the same way).
    fn comment_lines(&mut self, g: usize, all: bool) {
        if self.leading_done == Some(g) {
            return;
        }
        self.leading_done = Some(g);
        if self.toks.gap_is_bare(g) {
            return;
        }
        let mut gap = self.toks.gap(g);
        if all {
            let mut comments = std::mem::take(&mut gap.trailing);
            comments.append(&mut gap.leading);
            gap.leading = comments;
        }
        if gap.leading.is_empty() {
            return;
        }
        let after_opener = g > 0 && is_opener(self.toks.sig[g - 1].kind);
        let before_closer = self.toks.sig.get(g).is_none_or(|t| is_closer(t.kind));
        let mut out = Vec::with_capacity(gap.leading.len() * 2 + 1);
        let mut previous: Option<Comment> = None;
        for (i, c) in gap.leading.iter().enumerate() {
            let mut n = c.newlines_before;
            if i == 0 && after_opener {
                n = n.min(1);
            }
            if previous.is_some_and(|p| p.is_line()) || c.tok.kind == DOC_COMMENT {
                n = n.max(1);
            }
            out.push(separator(n, c.space_before));
            self.text_into(&mut out, c.tok);
            previous = Some(*c);
        }
        let mut n = gap.newlines_after;
        if previous.is_some_and(|p| p.is_line()) {
            n = n.max(1);
        }
        if before_closer {
            n = n.min(1);
        }
        out.push(separator(n, gap.space_after));
        out.retain(|c| *c != Cmd::SoftLine);
        let mut at = self.cmds.len();
        while at > 0 && matches!(self.cmds[at - 1], Cmd::Begin(_)) {
            at -= 1;
        }
        self.cmds.splice(at..at, out);
    }

    fn text_into(&self, out: &mut Vec<Cmd>, tok: Tok) {
        out.push(self.toks.text_cmd(self.toks.comment_text(tok)));
    }
}

/// What separates a comment from what precedes or follows it; `SoftLine` stands for
/// nothing and is removed.
fn separator(newlines: u32, space: bool) -> Cmd {
    match newlines {
        0 if space => Cmd::Space,
        0 => Cmd::SoftLine,
        1 => Cmd::HardLine,
        _ => Cmd::BlankLine,
    }
}
