//! Values of literal tokens: integers, durations, strings and hash references.
//!
//! The lexer uses the same functions to validate tokens, so a literal the lexer accepts
//! decodes here without error, except for range checks (integer and duration overflow),
//! which are reported when the value is taken.

use std::fmt;
use std::ops::Range;

use smol_str::SmolStr;

/// Why a literal has no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LitError {
    /// The literal does not fit in a 64-bit signed integer (milliseconds for durations).
    Overflow { literal: String },
    /// Not a well-formed literal of the expected kind.
    Malformed { message: String },
}

impl fmt::Display for LitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LitError::Overflow { literal } => {
                write!(f, "literal `{literal}` does not fit in a 64-bit signed integer")
            }
            LitError::Malformed { message } => f.write_str(message),
        }
    }
}

impl std::error::Error for LitError {}

fn malformed(message: impl Into<String>) -> LitError {
    LitError::Malformed { message: message.into() }
}

/// The magnitude of an integer literal (`42`, `1_000`, `0xff`), before any sign.
///
/// It is a `u64` so that `-9223372036854775808` can be checked by the caller that sees
/// the minus sign.
pub fn parse_int_magnitude(text: &str) -> Result<u64, LitError> {
    let (digits, radix) = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (text, 10),
    };
    let mut value: u64 = 0;
    let mut any = false;
    for c in digits.chars() {
        if c == '_' {
            continue;
        }
        let d = c
            .to_digit(radix)
            .ok_or_else(|| malformed(format!("invalid digit `{c}` in integer literal `{text}`")))?;
        any = true;
        value = value
            .checked_mul(u64::from(radix))
            .and_then(|v| v.checked_add(u64::from(d)))
            .ok_or_else(|| LitError::Overflow { literal: text.to_owned() })?;
    }
    if !any {
        return Err(malformed(format!("integer literal `{text}` has no digits")));
    }
    Ok(value)
}

/// The value of a (non-negated) integer literal as TEL's 64-bit signed `Int`.
pub fn parse_int(text: &str) -> Result<i64, LitError> {
    let magnitude = parse_int_magnitude(text)?;
    i64::try_from(magnitude).map_err(|_| LitError::Overflow { literal: text.to_owned() })
}

/// The value of `-literal`: accepts `9223372036854775808`, whose negation is `i64::MIN`.
pub fn parse_negated_int(text: &str) -> Result<i64, LitError> {
    let magnitude = parse_int_magnitude(text)?;
    0i64.checked_sub_unsigned(magnitude)
        .ok_or_else(|| LitError::Overflow { literal: format!("-{text}") })
}

/// Duration units and their length in milliseconds. The lexer reads a number followed
/// directly by one of these as a DURATION token.
pub const DURATION_UNITS: &[(&str, i64)] =
    &[("ms", 1), ("s", 1_000), ("min", 60_000), ("h", 3_600_000), ("d", 86_400_000)];

/// Milliseconds in one `unit`, if it is a duration unit.
pub fn duration_unit(unit: &str) -> Option<i64> {
    DURATION_UNITS.iter().find(|(name, _)| *name == unit).map(|&(_, ms)| ms)
}

/// A duration literal (`250ms`, `10s`, `15min`, `2h`, `1d`, `1_000ms`) in milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<i64, LitError> {
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let ms = duration_unit(unit).ok_or_else(|| {
        malformed(format!(
            "`{text}` is not a duration: expected a number followed by one of ms, s, min, h, d"
        ))
    })?;
    if number.starts_with("0x") {
        return Err(malformed(format!("duration `{text}` must be written in decimal")));
    }
    let amount = parse_int(number).map_err(|_| LitError::Overflow { literal: text.to_owned() })?;
    amount.checked_mul(ms).ok_or_else(|| LitError::Overflow { literal: text.to_owned() })
}

/// Why an escape sequence in a string is invalid. The message names the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscapeError {
    pub message: String,
}

/// Walks the body of a string literal (the text between the quotes) and calls `each`
/// with every character it denotes, or with an escape error, and the byte range of the
/// body it came from. This is the single definition of TEL's string escapes
/// (`\n \t \" \\ \u{…}`), shared by the lexer (validation) and [`unescape_string`].
pub fn unescape(body: &str, mut each: impl FnMut(Range<usize>, Result<char, EscapeError>)) {
    let mut chars = body.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if c != '\\' {
            each(start..start + c.len_utf8(), Ok(c));
            continue;
        }
        let Some((i, e)) = chars.next() else {
            each(
                start..body.len(),
                Err(EscapeError {
                    message: "a `\\` must be followed by an escape character".into(),
                }),
            );
            return;
        };
        let end = i + e.len_utf8();
        let simple = match e {
            'n' => Some('\n'),
            't' => Some('\t'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            _ => None,
        };
        if let Some(ch) = simple {
            each(start..end, Ok(ch));
            continue;
        }
        if e != 'u' {
            let shown: String = e.escape_debug().collect();
            each(
                start..end,
                Err(EscapeError {
                    message: format!(
                        "unknown escape `\\{shown}`: strings know \\n, \\t, \\\", \\\\ and \\u{{…}}"
                    ),
                }),
            );
            continue;
        }
        // \u{XXXX}
        if chars.peek().map(|&(_, c)| c) != Some('{') {
            each(
                start..end,
                Err(EscapeError {
                    message: "expected `{` after `\\u`: write a unicode escape as `\\u{1F600}`"
                        .into(),
                }),
            );
            continue;
        }
        chars.next();
        let mut digits = String::new();
        let mut end = end + 1;
        let mut closed = false;
        let mut bad_char = None;
        while let Some(&(j, d)) = chars.peek() {
            if d == '}' {
                chars.next();
                end = j + 1;
                closed = true;
                break;
            }
            if d == '"' || d.is_whitespace() {
                break;
            }
            chars.next();
            end = j + d.len_utf8();
            if d.is_ascii_hexdigit() {
                digits.push(d);
            } else if d != '_' && bad_char.is_none() {
                bad_char = Some(d);
            }
        }
        let result = if !closed {
            Err("unterminated unicode escape: expected `}`".to_owned())
        } else if let Some(d) = bad_char {
            Err(format!(
                "invalid character `{}` in unicode escape: expected hex digits",
                d.escape_debug()
            ))
        } else if digits.is_empty() || digits.len() > 6 {
            Err("a unicode escape must have 1 to 6 hex digits".to_owned())
        } else {
            let code = u32::from_str_radix(&digits, 16).unwrap_or(u32::MAX);
            char::from_u32(code)
                .ok_or_else(|| format!("`\\u{{{digits}}}` is not a Unicode scalar value"))
        };
        each(start..end, result.map_err(|message| EscapeError { message }));
    }
}

/// The value of a string literal token (with its quotes), escapes decoded.
pub fn unescape_string(text: &str) -> Result<String, LitError> {
    let body = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .filter(|_| text.len() >= 2)
        .ok_or_else(|| malformed("unterminated string literal"))?;
    let mut out = String::with_capacity(body.len());
    let mut error = None;
    unescape(body, |_, r| match r {
        Ok(c) => out.push(c),
        Err(e) => {
            error.get_or_insert(e);
        }
    });
    match error {
        Some(e) => Err(malformed(e.message)),
        None => Ok(out),
    }
}

/// The parts of a hash literal `#a7f3b2c1` or `#a7f3b2c1.2`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HashLit {
    /// The base32hex digits (a prefix of a full 52-character hash), without `#`.
    pub digits: SmolStr,
    /// The member index of a mutually recursive component (`.2`).
    pub member: Option<u32>,
}

pub const HASH_MIN_DIGITS: usize = 4;
pub const HASH_MAX_DIGITS: usize = 52;

/// Splits and checks a hash literal token (with its `#`).
pub fn parse_hash(text: &str) -> Result<HashLit, LitError> {
    let Some(rest) = text.strip_prefix('#') else {
        return Err(malformed(format!("`{text}` is not a hash literal: it must start with `#`")));
    };
    let (digits, member) = match rest.split_once('.') {
        Some((d, m)) => (d, Some(m)),
        None => (rest, None),
    };
    if digits.is_empty() {
        return Err(malformed(
            "expected base32hex characters (0-9, a-v) after `#`, as in `#a7f3b2c1`",
        ));
    }
    if digits.chars().any(|c| c.is_ascii_uppercase()) {
        return Err(malformed(format!(
            "invalid hash literal `{text}`: hashes are written in lowercase base32hex (0-9, a-v)"
        )));
    }
    if let Some(bad) = digits.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='v')) {
        return Err(malformed(format!(
            "invalid hash literal `{text}`: `{}` is not a base32hex digit (0-9, a-v)",
            bad.escape_debug()
        )));
    }
    if !(HASH_MIN_DIGITS..=HASH_MAX_DIGITS).contains(&digits.len()) {
        let which = if digits.len() < HASH_MIN_DIGITS { "too short" } else { "too long" };
        return Err(malformed(format!(
            "invalid hash literal `{text}`: {which} ({} characters; a hash reference has {HASH_MIN_DIGITS} to {HASH_MAX_DIGITS})",
            digits.len()
        )));
    }
    let member = match member {
        None => None,
        Some(m) => Some(m.parse::<u32>().map_err(|_| {
            malformed(format!("invalid member index `.{m}` in hash literal `{text}`"))
        })?),
    };
    Ok(HashLit { digits: digits.into(), member })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints() {
        assert_eq!(parse_int("42"), Ok(42));
        assert_eq!(parse_int("1_000_000"), Ok(1_000_000));
        assert_eq!(parse_int("0xff"), Ok(255));
        assert_eq!(parse_int("0xFF_FF"), Ok(65535));
        assert_eq!(parse_int("9223372036854775807"), Ok(i64::MAX));
        assert!(matches!(parse_int("9223372036854775808"), Err(LitError::Overflow { .. })));
        assert_eq!(parse_negated_int("9223372036854775808"), Ok(i64::MIN));
        assert!(matches!(parse_negated_int("9223372036854775809"), Err(LitError::Overflow { .. })));
        assert!(matches!(parse_int("99999999999999999999999"), Err(LitError::Overflow { .. })));
        assert!(matches!(parse_int("0x"), Err(LitError::Malformed { .. })));
        assert!(matches!(parse_int("0xfg"), Err(LitError::Malformed { .. })));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ms("250ms"), Ok(250));
        assert_eq!(parse_duration_ms("10s"), Ok(10_000));
        assert_eq!(parse_duration_ms("15min"), Ok(900_000));
        assert_eq!(parse_duration_ms("2h"), Ok(7_200_000));
        assert_eq!(parse_duration_ms("1d"), Ok(86_400_000));
        assert_eq!(parse_duration_ms("1_000ms"), Ok(1000));
        assert!(matches!(parse_duration_ms("10x"), Err(LitError::Malformed { .. })));
        assert!(matches!(
            parse_duration_ms("9223372036854775807d"),
            Err(LitError::Overflow { .. })
        ));
    }

    #[test]
    fn strings() {
        assert_eq!(unescape_string(r#""a\nb\t\"\\""#).as_deref(), Ok("a\nb\t\"\\"));
        assert_eq!(unescape_string(r#""\u{1F600}\u{e9}""#).as_deref(), Ok("😀é"));
        let err = |s: &str| match unescape_string(s) {
            Err(LitError::Malformed { message }) => message,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            err(r#""\q""#),
            "unknown escape `\\q`: strings know \\n, \\t, \\\", \\\\ and \\u{…}"
        );
        assert_eq!(err(r#""\u{D800}""#), "`\\u{D800}` is not a Unicode scalar value");
        assert_eq!(err(r#""\u{}""#), "a unicode escape must have 1 to 6 hex digits");
        assert_eq!(err(r#""\u{1234567}""#), "a unicode escape must have 1 to 6 hex digits");
        assert_eq!(err(r#""\u{12""#), "unterminated unicode escape: expected `}`");
        assert_eq!(
            err(r#""\u12""#),
            "expected `{` after `\\u`: write a unicode escape as `\\u{1F600}`"
        );
        assert_eq!(err(r#""abc"#), "unterminated string literal");
    }

    #[test]
    fn hashes() {
        assert_eq!(
            parse_hash("#a7f3b2c1"),
            Ok(HashLit { digits: "a7f3b2c1".into(), member: None })
        );
        assert_eq!(parse_hash("#a7f3.12"), Ok(HashLit { digits: "a7f3".into(), member: Some(12) }));
        assert!(parse_hash("#abc").is_err());
        assert!(parse_hash("#wxyz").is_err());
        assert!(parse_hash("#ABCD").is_err());
        assert!(parse_hash(&format!("#{}", "a".repeat(53))).is_err());
        assert!(parse_hash(&format!("#{}", "a".repeat(52))).is_ok());
    }
}
