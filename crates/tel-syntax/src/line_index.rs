//! Conversion between byte offsets and line/column positions.
//!
//! Columns come in three units: UTF-8 bytes (what rowan ranges use), UTF-16 code units
//! (what LSP clients use by default) and characters (what a person counts; used in
//! messages as 1-based `line:col`).

use rowan::{TextRange, TextSize};

/// A 0-based line and column. The unit of `col` depends on the method that produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineCol {
    pub line: u32,
    pub col: u32,
}

/// A character that takes more than one byte in UTF-8, at `col` bytes into its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WideChar {
    col: u32,
    len_utf8: u8,
    len_utf16: u8,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIndex {
    /// Offset of the first byte of every line; `line_starts[0] == 0`.
    line_starts: Vec<TextSize>,
    /// Per line, its multi-byte characters in order (absent entries: an ASCII line).
    wide: Vec<(u32, Vec<WideChar>)>,
    len: TextSize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![TextSize::from(0)];
        let mut wide = Vec::new();
        let mut line_wide = Vec::new();
        let mut line = 0u32;
        let mut line_start = 0usize;
        let bytes = text.as_bytes();
        // Fast path over ASCII; decode only around multi-byte characters.
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'\n' {
                if !line_wide.is_empty() {
                    wide.push((line, std::mem::take(&mut line_wide)));
                }
                line += 1;
                i += 1;
                line_start = i;
                line_starts.push(TextSize::from(i as u32));
            } else if b < 0x80 {
                i += 1;
            } else {
                let c = text[i..].chars().next().unwrap_or('\u{FFFD}');
                let len_utf8 = c.len_utf8();
                line_wide.push(WideChar {
                    col: (i - line_start) as u32,
                    len_utf8: len_utf8 as u8,
                    len_utf16: c.len_utf16() as u8,
                });
                i += len_utf8;
            }
        }
        if !line_wide.is_empty() {
            wide.push((line, line_wide));
        }
        LineIndex { line_starts, wide, len: TextSize::of(text) }
    }

    /// Number of lines (a text ending in `\n` has an empty last line).
    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Length of the indexed text.
    pub fn len(&self) -> TextSize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == TextSize::from(0)
    }

    /// The range of `line`, including its `\n` if any.
    pub fn line_range(&self, line: u32) -> Option<TextRange> {
        let start = *self.line_starts.get(line as usize)?;
        let end = self.line_starts.get(line as usize + 1).copied().unwrap_or(self.len);
        Some(TextRange::new(start, end))
    }

    fn wide_chars(&self, line: u32) -> &[WideChar] {
        match self.wide.binary_search_by_key(&line, |(l, _)| *l) {
            Ok(i) => &self.wide[i].1,
            Err(_) => &[],
        }
    }

    /// Line and UTF-8 byte column of `offset` (clamped to the text's end).
    pub fn line_col(&self, offset: TextSize) -> LineCol {
        let offset = offset.min(self.len);
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let col = offset - self.line_starts[line];
        LineCol { line: line as u32, col: col.into() }
    }

    /// Line and UTF-16 column of `offset`. An offset inside a character counts as its start.
    pub fn line_col_utf16(&self, offset: TextSize) -> LineCol {
        self.line_col_in(offset, |w| u32::from(w.len_utf16))
    }

    /// Line and character column of `offset`.
    pub fn line_col_chars(&self, offset: TextSize) -> LineCol {
        self.line_col_in(offset, |_| 1)
    }

    fn line_col_in(&self, offset: TextSize, width: impl Fn(&WideChar) -> u32) -> LineCol {
        let LineCol { line, col } = self.line_col(offset);
        let mut out = col;
        for w in self.wide_chars(line) {
            if w.col >= col {
                break;
            }
            let inside = col < w.col + u32::from(w.len_utf8);
            // subtract the bytes this char has beyond its width in the target unit
            out -= if inside { col - w.col } else { u32::from(w.len_utf8) - width(w) };
        }
        LineCol { line, col: out }
    }

    /// The offset of a UTF-8 line/column, or `None` if the line does not exist or the
    /// column is past its end.
    pub fn offset(&self, pos: LineCol) -> Option<TextSize> {
        let range = self.line_range(pos.line)?;
        let offset = range.start() + TextSize::from(pos.col);
        (offset <= range.end()).then_some(offset)
    }

    /// The offset of a UTF-16 line/column (as sent by an LSP client).
    pub fn offset_utf16(&self, pos: LineCol) -> Option<TextSize> {
        let mut col = pos.col;
        for w in self.wide_chars(pos.line) {
            if w.col >= col {
                break;
            }
            col += u32::from(w.len_utf8) - u32::from(w.len_utf16);
        }
        self.offset(LineCol { line: pos.line, col })
    }

    /// `line:col`, both 1-based, the column in characters: how messages name a position.
    pub fn human(&self, offset: TextSize) -> String {
        let LineCol { line, col } = self.line_col_chars(offset);
        format!("{}:{}", line + 1, col + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii() {
        let index = LineIndex::new("ab\ncd\n");
        assert_eq!(index.line_count(), 3);
        assert_eq!(index.line_col(3.into()), LineCol { line: 1, col: 0 });
        assert_eq!(index.line_col(5.into()), LineCol { line: 1, col: 2 });
        assert_eq!(index.line_col(6.into()), LineCol { line: 2, col: 0 });
        assert_eq!(index.line_col(99.into()), LineCol { line: 2, col: 0 });
        assert_eq!(index.offset(LineCol { line: 1, col: 1 }), Some(4.into()));
        assert_eq!(index.offset(LineCol { line: 1, col: 4 }), None);
        assert_eq!(index.offset(LineCol { line: 7, col: 0 }), None);
        assert_eq!(index.human(4.into()), "2:2");
    }

    #[test]
    fn wide() {
        // é: 2 bytes, 1 utf16; 😀: 4 bytes, 2 utf16
        let text = "x\né😀z";
        let index = LineIndex::new(text);
        let z = TextSize::from(text.find('z').unwrap() as u32);
        assert_eq!(index.line_col(z), LineCol { line: 1, col: 6 });
        assert_eq!(index.line_col_utf16(z), LineCol { line: 1, col: 3 });
        assert_eq!(index.line_col_chars(z), LineCol { line: 1, col: 2 });
        assert_eq!(index.offset_utf16(LineCol { line: 1, col: 3 }), Some(z));
        assert_eq!(index.offset_utf16(LineCol { line: 1, col: 1 }), Some(4.into()));
        assert_eq!(index.human(z), "2:3");
        // inside the emoji: counts as its start
        assert_eq!(index.line_col_utf16(5.into()), LineCol { line: 1, col: 1 });
    }
}
