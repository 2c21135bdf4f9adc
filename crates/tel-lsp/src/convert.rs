//! Positions between the engine (UTF-8 byte offsets) and the client (line and column in the
//! negotiated encoding).
//!
//! The LSP default is UTF-16 columns; a client that offers `utf-8` gets byte columns, which
//! cost nothing to convert. Columns past the end of a line mean the end of the line (as the
//! specification says); a line past the end of the file is an error for a request and the
//! end of the file for an edit, which must always apply.

use tel_ide::{LineCol, LineIndex, TextRange, TextSize};
use tower_lsp_server::ls_types::{Position, PositionEncodingKind, Range};

/// The unit of a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
}

impl Encoding {
    /// UTF-8 when the client offers it, UTF-16 otherwise (which every client must support).
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
        match offered {
            Some(kinds) if kinds.contains(&PositionEncodingKind::UTF8) => Encoding::Utf8,
            _ => Encoding::Utf16,
        }
    }

    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
        }
    }
}

pub fn position(index: &LineIndex, offset: TextSize, enc: Encoding) -> Position {
    let LineCol { line, col } = match enc {
        Encoding::Utf8 => index.line_col(offset),
        Encoding::Utf16 => index.line_col_utf16(offset),
    };
    Position { line, character: col }
}

pub fn range(index: &LineIndex, range: TextRange, enc: Encoding) -> Range {
    Range { start: position(index, range.start(), enc), end: position(index, range.end(), enc) }
}

/// Where a position is not in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastEnd {
    pub line: u32,
    pub lines: usize,
}

impl std::fmt::Display for PastEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {} is past the end of the document ({} line{})",
            self.line,
            self.lines,
            if self.lines == 1 { "" } else { "s" }
        )
    }
}

/// The offset of a client position; a column past the end of its line is the line's end.
pub fn offset(index: &LineIndex, pos: Position, enc: Encoding) -> Result<TextSize, PastEnd> {
    let past = || PastEnd { line: pos.line, lines: index.line_count() };
    let line_range = index.line_range(pos.line).ok_or_else(past)?;
    // The line's content ends before its `\n` (the last line has none).
    let has_newline = (pos.line as usize) + 1 < index.line_count();
    let content_end = line_range.end() - TextSize::from(u32::from(has_newline));
    let end = position(index, content_end, enc);
    let col = pos.character.min(end.character);
    let at = LineCol { line: pos.line, col };
    let offset = match enc {
        Encoding::Utf8 => index.offset(at),
        Encoding::Utf16 => index.offset_utf16(at),
    };
    Ok(offset.ok_or_else(past)?.min(content_end))
}

/// [`offset`] for an edit: a position past the end of the file is the end of the file.
pub fn offset_clamped(index: &LineIndex, pos: Position, enc: Encoding) -> TextSize {
    offset(index, pos, enc).unwrap_or(index.len())
}

/// Rounds `offset` down to a character boundary of `text` (a UTF-8 client may name a byte
/// inside a character; an edit there must not split it).
pub fn floor_char_boundary(text: &str, offset: TextSize) -> TextSize {
    let mut at = usize::from(offset).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    TextSize::from(at as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    // "é" is 2 bytes and 1 UTF-16 unit; "😀" is 4 bytes and 2 UTF-16 units.
    const TEXT: &str = "fn f() {\n  \"é😀\" ++ x\n}";

    #[test]
    fn utf16_columns_count_code_units() {
        let index = LineIndex::new(TEXT);
        let x = TextSize::from(TEXT.find('x').unwrap() as u32);
        // `  "é😀" ++ x`: x is char 10, UTF-16 unit 11, byte 14
        assert_eq!(position(&index, x, Encoding::Utf16), pos(1, 11));
        assert_eq!(position(&index, x, Encoding::Utf8), pos(1, 14));
        assert_eq!(offset(&index, pos(1, 11), Encoding::Utf16), Ok(x));
        assert_eq!(offset(&index, pos(1, 14), Encoding::Utf8), Ok(x));
        // the emoji starts after `  "é`: UTF-16 column 4, byte column 5
        let emoji = TextSize::from(TEXT.find('😀').unwrap() as u32);
        assert_eq!(position(&index, emoji, Encoding::Utf16), pos(1, 4));
        assert_eq!(offset(&index, pos(1, 4), Encoding::Utf16), Ok(emoji));
        assert_eq!(offset(&index, pos(1, 6), Encoding::Utf16), Ok(emoji + TextSize::from(4)));
    }

    #[test]
    fn round_trips_every_character_boundary() {
        let index = LineIndex::new(TEXT);
        for enc in [Encoding::Utf8, Encoding::Utf16] {
            for (i, _) in TEXT.char_indices() {
                let at = TextSize::from(i as u32);
                assert_eq!(offset(&index, position(&index, at, enc), enc), Ok(at), "{enc:?} {i}");
            }
        }
    }

    #[test]
    fn columns_past_the_line_end_clamp_and_lines_past_the_end_fail() {
        let index = LineIndex::new(TEXT);
        let line1_end = TextSize::from(TEXT.find("\n}").unwrap() as u32);
        assert_eq!(offset(&index, pos(1, 999), Encoding::Utf16), Ok(line1_end));
        assert_eq!(offset(&index, pos(2, 999), Encoding::Utf8), Ok(TextSize::of(TEXT)));
        let err = offset(&index, pos(7, 0), Encoding::Utf16).unwrap_err();
        assert_eq!(err.to_string(), "line 7 is past the end of the document (3 lines)");
        assert_eq!(offset_clamped(&index, pos(7, 0), Encoding::Utf16), TextSize::of(TEXT));
    }

    #[test]
    fn utf8_offsets_inside_a_character_round_down_for_edits() {
        let e = TEXT.find('é').unwrap();
        assert_eq!(
            floor_char_boundary(TEXT, TextSize::from(e as u32 + 1)),
            TextSize::from(e as u32)
        );
    }

    #[test]
    fn negotiation_prefers_utf8() {
        let both = [PositionEncodingKind::UTF16, PositionEncodingKind::UTF8];
        assert_eq!(Encoding::negotiate(Some(&both)), Encoding::Utf8);
        assert_eq!(Encoding::negotiate(Some(&[PositionEncodingKind::UTF32])), Encoding::Utf16);
        assert_eq!(Encoding::negotiate(None), Encoding::Utf16);
    }
}
