//! The file as the formatter sees it: significant tokens in order, and between each two
//! a *gap* of trivia (whitespace and comments). Layout decides the whitespace; the gaps
//! decide where comments go and which blank lines survive.

use rowan::{GreenNodeData, NodeOrToken};

use super::doc::Cmd;
use crate::SyntaxKind::{self, *};

#[derive(Debug, Clone, Copy)]
pub(crate) struct Tok {
    pub(crate) kind: SyntaxKind,
    pub(crate) start: u32,
    pub(crate) len: u32,
}

pub(crate) struct Tokens<'s> {
    pub(crate) source: &'s str,
    /// The significant tokens.
    pub(crate) sig: Vec<Tok>,
    /// Every trivia token, in order.
    pub(crate) trivia: Vec<Tok>,
    /// `gap_end[g]`: end (in `trivia`) of the trivia before significant token `g`; the
    /// last entry closes the gap before the end of the file.
    gap_end: Vec<u32>,
    /// Whether gap `g` holds a comment (most hold whitespace only).
    commented: Vec<bool>,
}

/// A comment in a gap, with the whitespace around it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Comment {
    pub(crate) tok: Tok,
    /// Whitespace directly before it, and how many line breaks that holds.
    pub(crate) space_before: bool,
    pub(crate) newlines_before: u32,
}

impl Comment {
    pub(crate) fn is_line(&self) -> bool {
        matches!(self.tok.kind, COMMENT | DOC_COMMENT)
    }
}

/// The trivia between two significant tokens, split at its first line break: comments
/// before it stay on the line of the previous token (*trailing*), comments after it are on
/// lines of their own (*leading* the next token).
#[derive(Debug, Default)]
pub(crate) struct Gap {
    pub(crate) trailing: Vec<Comment>,
    pub(crate) leading: Vec<Comment>,
    /// Line breaks in the whitespace that ends the trailing part (the separator between
    /// the previous token's line and what follows).
    pub(crate) separator_newlines: u32,
    /// Whitespace after the last comment, and its line breaks.
    pub(crate) space_after: bool,
    pub(crate) newlines_after: u32,
}

fn newlines(text: &str) -> u32 {
    text.bytes().filter(|&b| b == b'\n').count() as u32
}

impl<'s> Tokens<'s> {
    pub(crate) fn new(source: &'s str, root: &GreenNodeData) -> Tokens<'s> {
        let mut t = Tokens {
            source,
            sig: Vec::with_capacity(source.len() / 4),
            trivia: Vec::with_capacity(source.len() / 8),
            gap_end: Vec::with_capacity(source.len() / 4),
            commented: Vec::with_capacity(source.len() / 4),
        };
        let mut commented = false;
        let mut offset = 0u32;
        // iterative: deep trees must not overflow the stack here
        let mut stack = vec![root.children()];
        while let Some(top) = stack.last_mut() {
            let Some(child) = top.next() else {
                stack.pop();
                continue;
            };
            match child {
                NodeOrToken::Node(node) => stack.push(node.children()),
                NodeOrToken::Token(token) => {
                    let kind = SyntaxKind::from_raw(token.kind().0).unwrap_or(ERROR);
                    let len = u32::from(token.text_len());
                    let tok = Tok { kind, start: offset, len };
                    offset += len;
                    if kind.is_trivia() {
                        commented |= kind != WHITESPACE;
                        t.trivia.push(tok);
                    } else {
                        t.sig.push(tok);
                        t.gap_end.push(t.trivia.len() as u32);
                        t.commented.push(std::mem::take(&mut commented));
                    }
                }
            }
        }
        t.gap_end.push(t.trivia.len() as u32);
        t.commented.push(commented);
        t
    }

    /// The command printing `tok`: [`Cmd::Text`] unless it needs measuring.
    pub(crate) fn text_cmd(&self, tok: Tok) -> Cmd {
        let (start, len) = (tok.start, tok.len);
        // identifiers, keywords, numbers and punctuation are ASCII by construction
        let plain = !matches!(tok.kind, STRING | COMMENT | DOC_COMMENT | BLOCK_COMMENT | ERROR)
            || (self.text(tok).is_ascii() && !self.text(tok).contains('\n'));
        if plain { Cmd::Text { start, len } } else { Cmd::Wide { start, len } }
    }

    pub(crate) fn text(&self, tok: Tok) -> &'s str {
        &self.source[tok.start as usize..(tok.start + tok.len) as usize]
    }

    /// Number of significant tokens; gap `len()` is the one before the end of the file.
    pub(crate) fn len(&self) -> usize {
        self.sig.len()
    }

    fn gap_trivia(&self, g: usize) -> &[Tok] {
        let start = if g == 0 { 0 } else { self.gap_end[g - 1] as usize };
        &self.trivia[start..self.gap_end[g] as usize]
    }

    /// Line breaks in the whitespace separating token `g` from the line of the token before
    /// it (0 when they share a line).
    pub(crate) fn separator_newlines(&self, g: usize) -> u32 {
        self.gap_trivia(g)
            .iter()
            .find(|t| t.kind == WHITESPACE && self.text(**t).contains('\n'))
            .map_or(0, |t| newlines(self.text(*t)))
    }

    /// Whether a comment other than a doc comment stands on a line of its own in the gap
    /// before token `g`.
    pub(crate) fn gap_has_plain_leading(&self, g: usize) -> bool {
        self.commented[g] && self.gap(g).leading.iter().any(|c| c.tok.kind != DOC_COMMENT)
    }

    /// Whether the gap before token `g` holds a doc comment.
    pub(crate) fn gap_has_doc(&self, g: usize) -> bool {
        self.commented[g] && self.gap_trivia(g).iter().any(|t| t.kind == DOC_COMMENT)
    }

    /// Whether the gap before token `g` has no comments.
    pub(crate) fn gap_is_bare(&self, g: usize) -> bool {
        !self.commented[g]
    }

    pub(crate) fn gap(&self, g: usize) -> Gap {
        let trivia = self.gap_trivia(g);
        let mut gap = Gap::default();
        // the first gap has no previous token: all of its comments lead
        let mut trailing = g != 0;
        let mut space = false;
        let mut nl = 0;
        for &t in trivia {
            if t.kind == WHITESPACE {
                let n = newlines(self.text(t));
                if trailing && n > 0 {
                    trailing = false;
                    gap.separator_newlines = n;
                }
                space = true;
                nl += n;
                continue;
            }
            // a doc comment documents what follows: it always starts a line
            if t.kind == DOC_COMMENT {
                trailing = false;
            }
            let comment = Comment { tok: t, space_before: space, newlines_before: nl };
            if trailing {
                gap.trailing.push(comment)
            } else {
                gap.leading.push(comment)
            }
            space = false;
            nl = 0;
        }
        gap.space_after = space;
        gap.newlines_after = nl;
        gap
    }

    /// A comment's text as printed: a line comment without trailing whitespace (which
    /// includes the `\r` of a CRLF file).
    pub(crate) fn comment_text(&self, tok: Tok) -> Tok {
        if tok.kind == BLOCK_COMMENT {
            return tok;
        }
        let trimmed = self.text(tok).trim_end();
        Tok { len: trimmed.len() as u32, ..tok }
    }
}
