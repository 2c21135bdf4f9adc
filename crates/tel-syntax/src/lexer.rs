//! The lexer: text to a flat list of `(kind, len)` tokens covering every byte.
//!
//! It never fails: anything it cannot read becomes an ERROR token (or a token of the
//! intended kind, such as an unterminated STRING) plus a [`SyntaxError`] naming the problem.

use rowan::{TextRange, TextSize};

use crate::SyntaxError;
use crate::SyntaxKind::{self, *};
use crate::lit;

/// One token: its kind and its length in bytes. Tokens are contiguous, so offsets are the
/// running sum of lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: SyntaxKind,
    pub len: u32,
}

/// The tokens of `text` (covering it exactly) and the lexical errors found.
pub fn lex(text: &str) -> (Vec<Token>, Vec<SyntaxError>) {
    let mut lexer = Lexer::new(text);
    // Typical TEL averages more than 2 bytes per token: this avoids most regrowth.
    let mut tokens = Vec::with_capacity(text.len() / 2 + 1);
    let mut start = 0;
    while let Some(kind) = lexer.next_token() {
        tokens.push(Token { kind, len: (lexer.pos - start) as u32 });
        start = lexer.pos;
    }
    (tokens, lexer.finish())
}

/// The lexer as a cursor: the parser pulls tokens from it as it goes, so that no list of
/// all tokens is ever built (on a large file that list alone was megabytes to allocate and
/// fill, and the parser's time went as much to those pages as to parsing).
pub(crate) struct Lexer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    errors: Vec<SyntaxError>,
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_continue(b: u8) -> bool {
    // a table: one load per byte of a name instead of three range tests
    IDENT_CONTINUE[b as usize]
}

static IDENT_CONTINUE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = byte.is_ascii_alphanumeric() || byte == b'_';
        b += 1;
    }
    table
};

impl<'a> Lexer<'a> {
    pub(crate) fn new(text: &'a str) -> Lexer<'a> {
        Lexer { text, bytes: text.as_bytes(), pos: 0, errors: Vec::new() }
    }

    /// The kind of the next token, which ends at [`Lexer::pos`] afterwards; `None` at the
    /// end of the text.
    #[inline]
    pub(crate) fn next_token(&mut self) -> Option<SyntaxKind> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let start = self.pos;
        let kind = self.next_kind();
        debug_assert!(self.pos > start);
        Some(kind)
    }

    /// The offset where the next token starts.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// The lexical errors found, in text order.
    pub(crate) fn finish(self) -> Vec<SyntaxError> {
        self.errors
    }

    fn peek(&self, n: usize) -> u8 {
        self.bytes.get(self.pos + n).copied().unwrap_or(0)
    }

    fn eat_while(&mut self, pred: impl Fn(u8) -> bool) {
        let rest = &self.bytes[self.pos..];
        self.pos += rest.iter().position(|&b| !pred(b)).unwrap_or(rest.len());
    }

    fn error(&mut self, start: usize, end: usize, message: impl Into<String>) {
        let range = TextRange::new(TextSize::from(start as u32), TextSize::from(end as u32));
        self.errors.push(SyntaxError::new(message, range));
    }

    /// Lexes one token starting at `self.pos`, advancing past it (always by at least one byte).
    #[inline(always)]
    fn next_kind(&mut self) -> SyntaxKind {
        let start = self.pos;
        let b = self.bytes[start];
        let punct = |lexer: &mut Self, len: usize, kind: SyntaxKind| {
            lexer.pos += len;
            kind
        };
        match b {
            // one space between tokens is the most frequent token of all
            b' ' if self.peek(1) != b' ' && self.peek(1) != b'\n' => {
                self.pos += 1;
                WHITESPACE
            }
            b' ' | b'\t' | b'\n' | b'\r' => {
                self.eat_while(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'));
                WHITESPACE
            }
            // A byte-order mark at the start of a file (editors on Windows write one) is
            // trivia, as rustc treats it; elsewhere it is an unknown character.
            0xEF if start == 0 && self.text.starts_with('\u{FEFF}') => {
                self.pos += '\u{FEFF}'.len_utf8();
                WHITESPACE
            }
            b'/' if self.peek(1) == b'/' => {
                let doc = self.peek(2) == b'/' && self.peek(3) != b'/';
                self.eat_while(|b| b != b'\n');
                if doc { DOC_COMMENT } else { COMMENT }
            }
            b'/' if self.peek(1) == b'*' => self.block_comment(),
            b'"' => self.string(),
            b'0'..=b'9' => self.number(),
            b'#' => self.hash(),
            _ if is_ident_start(b) => {
                self.eat_while(is_ident_continue);
                let word = &self.text[start..self.pos];
                if word == "_" {
                    UNDERSCORE
                } else if b.is_ascii_lowercase() {
                    SyntaxKind::from_keyword(word).unwrap_or(IDENT)
                } else {
                    // keywords are lower-case
                    IDENT
                }
            }
            b'(' => punct(self, 1, L_PAREN),
            b')' => punct(self, 1, R_PAREN),
            b'{' => punct(self, 1, L_CURLY),
            b'}' => punct(self, 1, R_CURLY),
            b'[' => punct(self, 1, L_BRACK),
            b']' => punct(self, 1, R_BRACK),
            b',' => punct(self, 1, COMMA),
            b';' => punct(self, 1, SEMICOLON),
            b'?' => punct(self, 1, QUESTION),
            b'*' => punct(self, 1, STAR),
            b'/' => punct(self, 1, SLASH),
            b'%' => punct(self, 1, PERCENT),
            b':' if self.peek(1) == b':' => punct(self, 2, COLON2),
            b':' => punct(self, 1, COLON),
            b'.' if self.peek(1) == b'.' => punct(self, 2, DOT2),
            b'.' => punct(self, 1, DOT),
            b'-' if self.peek(1) == b'>' => punct(self, 2, THIN_ARROW),
            b'-' => punct(self, 1, MINUS),
            b'=' if self.peek(1) == b'>' => punct(self, 2, FAT_ARROW),
            b'=' if self.peek(1) == b'=' => punct(self, 2, EQ2),
            b'=' => punct(self, 1, EQ),
            b'!' if self.peek(1) == b'=' => punct(self, 2, NEQ),
            b'!' => punct(self, 1, BANG),
            b'<' if self.peek(1) == b'=' => punct(self, 2, LTEQ),
            b'<' => punct(self, 1, LT),
            b'>' if self.peek(1) == b'=' => punct(self, 2, GTEQ),
            b'>' => punct(self, 1, GT),
            b'+' if self.peek(1) == b'+' => punct(self, 2, PLUS2),
            b'+' => punct(self, 1, PLUS),
            b'&' if self.peek(1) == b'&' => punct(self, 2, AMP2),
            b'|' if self.peek(1) == b'|' => punct(self, 2, PIPE2),
            b'|' => punct(self, 1, PIPE),
            b'&' => {
                self.pos += 1;
                self.error(start, self.pos, "unexpected `&`: did you mean `&&`?");
                ERROR
            }
            _ => self.unknown(),
        }
    }

    /// A run of characters that start no token, reported once.
    #[inline(never)]
    fn unknown(&mut self) -> SyntaxKind {
        let start = self.pos;
        loop {
            let c = self.text[self.pos..].chars().next().unwrap_or('\0');
            self.pos += c.len_utf8();
            if self.pos >= self.bytes.len() || !self.starts_unknown() {
                break;
            }
        }
        let run = &self.text[start..self.pos];
        let message = match run.chars().next() {
            Some(c) if run.chars().count() == 1 && !c.is_ascii_graphic() => {
                format!("unexpected character U+{:04X} `{}`", c as u32, c.escape_debug())
            }
            Some(c) if run.chars().count() == 1 => format!("unexpected character `{c}`"),
            _ => format!("unexpected characters `{}`", run.escape_debug()),
        };
        self.error(start, self.pos, message);
        ERROR
    }

    /// Whether the character at `self.pos` would also be lexed by [`Self::unknown`].
    fn starts_unknown(&self) -> bool {
        let b = self.bytes[self.pos];
        !(b.is_ascii_alphanumeric()
            || b.is_ascii_whitespace()
            || b"_\"#(){}[],;?*/%:.-=!<>+&|".contains(&b))
    }

    #[inline(never)]
    fn block_comment(&mut self) -> SyntaxKind {
        let start = self.pos;
        self.pos += 2;
        let mut depth = 1u32;
        while self.pos < self.bytes.len() {
            match (self.bytes[self.pos], self.peek(1)) {
                (b'/', b'*') => {
                    depth += 1;
                    self.pos += 2;
                }
                (b'*', b'/') => {
                    depth -= 1;
                    self.pos += 2;
                    if depth == 0 {
                        return BLOCK_COMMENT;
                    }
                }
                _ => self.pos += 1,
            }
        }
        self.error(start, start + 2, "unterminated block comment: `*/` missing");
        BLOCK_COMMENT
    }

    /// Strings end on their line: an unclosed quote must not swallow the rest of the file.
    #[inline(never)]
    fn string(&mut self) -> SyntaxKind {
        let start = self.pos;
        self.pos += 1;
        let mut terminated = false;
        while self.pos < self.bytes.len() {
            match self.bytes[self.pos] {
                b'"' => {
                    self.pos += 1;
                    terminated = true;
                    break;
                }
                b'\\' if matches!(self.peek(1), b'"' | b'\\') => self.pos += 2,
                b'\n' => break,
                _ => self.pos += 1,
            }
        }
        let body_end = if terminated { self.pos - 1 } else { self.pos };
        let body = &self.text[start + 1..body_end];
        let mut escape_errors = Vec::new();
        lit::unescape(body, |range, r| {
            if let Err(e) = r {
                escape_errors.push((range, e.message));
            }
        });
        for (range, message) in escape_errors {
            self.error(start + 1 + range.start, start + 1 + range.end, message);
        }
        if !terminated {
            let end = self.pos;
            let message = if self.pos < self.bytes.len() {
                "unterminated string literal: a string must end on the line where it starts (use `\\n` for a line break)"
            } else {
                "unterminated string literal: `\"` missing"
            };
            self.error(start, end, message);
        }
        STRING
    }

    #[inline(never)]
    fn number(&mut self) -> SyntaxKind {
        let start = self.pos;
        let hex = self.bytes[start] == b'0' && matches!(self.peek(1), b'x' | b'X');
        if hex {
            self.pos += 2;
            self.eat_while(|b| b.is_ascii_hexdigit() || b == b'_');
        } else {
            self.eat_while(|b| b.is_ascii_digit() || b == b'_');
        }
        let digits_end = self.pos;
        self.eat_while(is_ident_continue);
        let suffix = &self.text[digits_end..self.pos];
        if hex {
            if !self.text[start + 2..digits_end].bytes().any(|b| b.is_ascii_hexdigit()) {
                self.error(start, self.pos, "hexadecimal literal has no digits after `0x`");
            } else if !suffix.is_empty() {
                self.error(
                    digits_end,
                    self.pos,
                    format!("invalid suffix `{suffix}` on a hexadecimal literal"),
                );
            }
            return INT;
        }
        if suffix.is_empty() {
            return INT;
        }
        if lit::duration_unit(suffix).is_none() {
            let hint = match suffix {
                "sec" | "secs" | "second" | "seconds" => "use `s` (",
                "m" | "mins" | "minute" | "minutes" => "use `min` (",
                "hr" | "hrs" | "hour" | "hours" => "use `h` (",
                "day" | "days" => "use `d` (",
                "msec" | "msecs" | "millis" => "use `ms` (",
                _ => "(",
            };
            self.error(
                digits_end,
                self.pos,
                format!(
                    "unknown duration suffix `{suffix}`: {hint}the suffixes are ms, s, min, h and d)"
                ),
            );
        }
        DURATION
    }

    /// `#` and the alphanumeric run after it (plus an optional `.digits` member index) form
    /// one token even when malformed, so one clear error covers the whole literal.
    #[inline(never)]
    fn hash(&mut self) -> SyntaxKind {
        let start = self.pos;
        self.pos += 1;
        self.eat_while(|b| b.is_ascii_alphanumeric());
        if self.peek(0) == b'.' && self.peek(1).is_ascii_digit() && self.pos > start + 1 {
            self.pos += 1;
            self.eat_while(|b| b.is_ascii_digit());
        }
        if let Err(e) = lit::parse_hash(&self.text[start..self.pos]) {
            self.error(start, self.pos, e.to_string());
        }
        HASH
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::{Expect, expect};
    use std::fmt::Write;

    fn check(text: &str, expect: Expect) {
        let (tokens, errors) = lex(text);
        let mut out = String::new();
        let mut offset = 0usize;
        for t in tokens {
            let end = offset + t.len as usize;
            writeln!(out, "{:?} {:?}", t.kind, &text[offset..end]).unwrap();
            offset = end;
        }
        assert_eq!(offset, text.len());
        for e in errors {
            writeln!(out, "error {:?}: {}", e.range, e.message).unwrap();
        }
        expect.assert_eq(&out);
    }

    #[test]
    fn byte_order_mark_is_trivia_only_at_the_start() {
        check(
            "\u{FEFF}fn f \u{FEFF}",
            expect![[r#"
                WHITESPACE "\u{feff}"
                FN_KW "fn"
                WHITESPACE " "
                IDENT "f"
                WHITESPACE " "
                ERROR "\u{feff}"
                error 8..11: unexpected character U+FEFF `\u{feff}`
            "#]],
        );
    }

    #[test]
    fn punctuation_and_keywords() {
        check(
            "fn f(x: Int) -> Int ! {Log} { a::b => c == d != e <= f >= g && h || i ++ j .. _ | ? }",
            expect![[r#"
                FN_KW "fn"
                WHITESPACE " "
                IDENT "f"
                L_PAREN "("
                IDENT "x"
                COLON ":"
                WHITESPACE " "
                IDENT "Int"
                R_PAREN ")"
                WHITESPACE " "
                THIN_ARROW "->"
                WHITESPACE " "
                IDENT "Int"
                WHITESPACE " "
                BANG "!"
                WHITESPACE " "
                L_CURLY "{"
                IDENT "Log"
                R_CURLY "}"
                WHITESPACE " "
                L_CURLY "{"
                WHITESPACE " "
                IDENT "a"
                COLON2 "::"
                IDENT "b"
                WHITESPACE " "
                FAT_ARROW "=>"
                WHITESPACE " "
                IDENT "c"
                WHITESPACE " "
                EQ2 "=="
                WHITESPACE " "
                IDENT "d"
                WHITESPACE " "
                NEQ "!="
                WHITESPACE " "
                IDENT "e"
                WHITESPACE " "
                LTEQ "<="
                WHITESPACE " "
                IDENT "f"
                WHITESPACE " "
                GTEQ ">="
                WHITESPACE " "
                IDENT "g"
                WHITESPACE " "
                AMP2 "&&"
                WHITESPACE " "
                IDENT "h"
                WHITESPACE " "
                PIPE2 "||"
                WHITESPACE " "
                IDENT "i"
                WHITESPACE " "
                PLUS2 "++"
                WHITESPACE " "
                IDENT "j"
                WHITESPACE " "
                DOT2 ".."
                WHITESPACE " "
                UNDERSCORE "_"
                WHITESPACE " "
                PIPE "|"
                WHITESPACE " "
                QUESTION "?"
                WHITESPACE " "
                R_CURLY "}"
            "#]],
        );
    }

    #[test]
    fn comments() {
        check(
            "// line\n/// doc\n//// not doc\n/* a /* nested */ b */x /* open",
            expect![[r#"
                COMMENT "// line"
                WHITESPACE "\n"
                DOC_COMMENT "/// doc"
                WHITESPACE "\n"
                COMMENT "//// not doc"
                WHITESPACE "\n"
                BLOCK_COMMENT "/* a /* nested */ b */"
                IDENT "x"
                WHITESPACE " "
                BLOCK_COMMENT "/* open"
                error 53..55: unterminated block comment: `*/` missing
            "#]],
        );
    }

    #[test]
    fn numbers_and_durations() {
        check(
            "42 1_000_000 0xff 0x 0xfz 250ms 10s 15min 2h 1d 10x 1e5 10sec 5m",
            expect![[r#"
                INT "42"
                WHITESPACE " "
                INT "1_000_000"
                WHITESPACE " "
                INT "0xff"
                WHITESPACE " "
                INT "0x"
                WHITESPACE " "
                INT "0xfz"
                WHITESPACE " "
                DURATION "250ms"
                WHITESPACE " "
                DURATION "10s"
                WHITESPACE " "
                DURATION "15min"
                WHITESPACE " "
                DURATION "2h"
                WHITESPACE " "
                DURATION "1d"
                WHITESPACE " "
                DURATION "10x"
                WHITESPACE " "
                DURATION "1e5"
                WHITESPACE " "
                DURATION "10sec"
                WHITESPACE " "
                DURATION "5m"
                error 18..20: hexadecimal literal has no digits after `0x`
                error 24..25: invalid suffix `z` on a hexadecimal literal
                error 50..51: unknown duration suffix `x`: (the suffixes are ms, s, min, h and d)
                error 53..55: unknown duration suffix `e5`: (the suffixes are ms, s, min, h and d)
                error 58..61: unknown duration suffix `sec`: use `s` (the suffixes are ms, s, min, h and d)
                error 63..64: unknown duration suffix `m`: use `min` (the suffixes are ms, s, min, h and d)
            "#]],
        );
    }

    #[test]
    fn strings() {
        check(
            r#""ok\n\t\"\\\u{1F600}" "bad \q \u{D800} \u{zz}" "open
"also open"#,
            expect![[r#"
                STRING "\"ok\\n\\t\\\"\\\\\\u{1F600}\""
                WHITESPACE " "
                STRING "\"bad \\q \\u{D800} \\u{zz}\""
                WHITESPACE " "
                STRING "\"open"
                WHITESPACE "\n"
                STRING "\"also open"
                error 27..29: unknown escape `\q`: strings know \n, \t, \", \\ and \u{…}
                error 30..38: `\u{D800}` is not a Unicode scalar value
                error 39..45: invalid character `z` in unicode escape: expected hex digits
                error 47..52: unterminated string literal: a string must end on the line where it starts (use `\n` for a line break)
                error 53..63: unterminated string literal: `"` missing
            "#]],
        );
    }

    #[test]
    fn hashes() {
        check(
            "#a7f3b2c1 #a7f3.1 # #ab #wxyz #ABCD #a7f3.x",
            expect![[r##"
                HASH "#a7f3b2c1"
                WHITESPACE " "
                HASH "#a7f3.1"
                WHITESPACE " "
                HASH "#"
                WHITESPACE " "
                HASH "#ab"
                WHITESPACE " "
                HASH "#wxyz"
                WHITESPACE " "
                HASH "#ABCD"
                WHITESPACE " "
                HASH "#a7f3"
                DOT "."
                IDENT "x"
                error 18..19: expected base32hex characters (0-9, a-v) after `#`, as in `#a7f3b2c1`
                error 20..23: invalid hash literal `#ab`: too short (2 characters; a hash reference has 4 to 52)
                error 24..29: invalid hash literal `#wxyz`: `w` is not a base32hex digit (0-9, a-v)
                error 30..35: invalid hash literal `#ABCD`: hashes are written in lowercase base32hex (0-9, a-v)
            "##]],
        );
    }

    #[test]
    fn unknown_characters() {
        check(
            "a $@ b & é\u{a0}",
            expect![[r#"
                IDENT "a"
                WHITESPACE " "
                ERROR "$@"
                WHITESPACE " "
                IDENT "b"
                WHITESPACE " "
                ERROR "&"
                WHITESPACE " "
                ERROR "é\u{a0}"
                error 2..4: unexpected characters `$@`
                error 7..8: unexpected `&`: did you mean `&&`?
                error 9..13: unexpected characters `é\u{a0}`
            "#]],
        );
    }
}
