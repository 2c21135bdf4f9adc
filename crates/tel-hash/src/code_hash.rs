//! `CodeHash`: the 256-bit BLAKE3 identity of a definition, its base32hex text form, and
//! hash prefixes as users type them (`#a7f3`, `#a7f3b2c1.1`).
//!
//! Text form: lowercase RFC 4648 "extended hex" base32 (`0-9a-v`), most significant bit
//! first, no padding. 256 bits take 52 characters; the 52nd carries a single bit, so it is
//! always `0` or `g`. The alphabet is in ascending ASCII order, so sorting hashes as text
//! sorts them as bytes — prefix ranges in a store index are contiguous.

use smol_str::SmolStr;
use std::fmt;
use std::str::FromStr;

/// The BLAKE3 hash of a definition's canonical serialization.
///
/// `Display` shows `#` + the first 8 base32hex characters; the alternate form (`{:#}`) shows
/// `#` + all 52. `Debug` shows the full text form too (a byte array is unreadable in
/// snapshots).
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct CodeHash(pub [u8; 32]);

/// Number of base32hex characters of a full hash.
pub const FULL_LEN: usize = 52;
/// Number of characters shown by default (`CodeHash::short`).
pub const SHORT_LEN: usize = 8;
/// Shortest prefix accepted when resolving `#…` (TEL.md §8).
pub const MIN_PREFIX_LEN: usize = 4;

const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";

/// The 5-bit value of a lowercase base32hex digit.
fn digit_value(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        'a'..='v' => Some(c as u8 - b'a' + 10),
        _ => None,
    }
}

/// Lowercase base32hex of arbitrary bytes, no padding (RFC 4648 §7, lowercased).
pub(crate) fn encode_base32hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity((bytes.len() * 8).div_ceil(5));
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &b in bytes {
        acc = (acc << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((acc >> bits) & 31) as usize] as char);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(ALPHABET[((acc << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Inverse of [`encode_base32hex`] for input already checked to hold only digits; `None`
/// if the trailing bits that do not fill a byte are not zero (a non-canonical encoding).
pub(crate) fn decode_base32hex(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for c in text.chars() {
        acc = (acc << 5) | u32::from(digit_value(c)?);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (acc == 0).then_some(out)
}

impl CodeHash {
    /// All 52 lowercase base32hex characters, without `#`.
    pub fn to_base32hex(&self) -> String {
        encode_base32hex(&self.0)
    }

    /// The first 8 characters, without `#` (what editors and CLI tables show).
    pub fn short(&self) -> String {
        self.prefix_str(SHORT_LEN)
    }

    /// `#` + all 52 characters (what `--full` shows).
    pub fn full(&self) -> String {
        format!("#{}", self.to_base32hex())
    }

    /// The first `n` characters (clamped to 52), without `#`.
    pub fn prefix_str(&self, n: usize) -> String {
        let mut s = self.to_base32hex();
        s.truncate(n.min(FULL_LEN));
        s
    }

    /// Parses a full hash, with or without the leading `#`: exactly 52 base32hex characters.
    pub fn parse(text: &str) -> Result<CodeHash, HashParseError> {
        let digits = text.strip_prefix('#').unwrap_or(text);
        let offset = text.len() - digits.len();
        check_digits(text, digits, offset)?;
        if digits.len() != FULL_LEN {
            return Err(HashParseError::new(
                text,
                HashParseErrorKind::NotFull { len: digits.len() },
            ));
        }
        check_last_digit(text, digits, offset)?;
        let bytes = decode_base32hex(digits).expect("digits and last digit were checked");
        Ok(CodeHash(bytes.try_into().expect("52 digits decode to 32 bytes")))
    }
}

impl fmt::Display for CodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            write!(f, "#{}", self.to_base32hex())
        } else {
            write!(f, "#{}", self.short())
        }
    }
}

impl fmt::Debug for CodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CodeHash(#{})", self.to_base32hex())
    }
}

impl FromStr for CodeHash {
    type Err = HashParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CodeHash::parse(s)
    }
}

/// A hash as a user writes it: `#` + 4..=52 base32hex characters, optionally followed by
/// `.i`, member `i` of a mutually recursive component (`#a7f3b2c1.1`).
///
/// The digits of a `#comp.i` form are a prefix of the *component* hash (see
/// docs/hashing.md); the member's own hash is derived from the component hash and `i`. So
/// with a member index, [`HashPrefix::matches`] and [`resolve_prefix`] are to be given
/// component hashes, and the member is then selected by the caller, who knows the
/// component's size.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HashPrefix {
    digits: SmolStr,
    member: Option<u32>,
}

impl HashPrefix {
    /// Parses `#` + 4..=52 base32hex characters (the `#` may be omitted), with an optional
    /// `.i` member suffix.
    pub fn parse(text: &str) -> Result<HashPrefix, HashParseError> {
        let body = text.strip_prefix('#').unwrap_or(text);
        let offset = text.len() - body.len();
        let (digits, member_text) = match body.split_once('.') {
            Some((d, m)) => (d, Some(m)),
            None => (body, None),
        };
        check_digits(text, digits, offset)?;
        if digits.len() < MIN_PREFIX_LEN {
            return Err(HashParseError::new(
                text,
                HashParseErrorKind::TooShort { len: digits.len() },
            ));
        }
        if digits.len() > FULL_LEN {
            return Err(HashParseError::new(
                text,
                HashParseErrorKind::TooLong { len: digits.len() },
            ));
        }
        if digits.len() == FULL_LEN {
            check_last_digit(text, digits, offset)?;
        }
        let member = match member_text {
            None => None,
            Some(m) => Some(parse_member(text, m, offset + digits.len() + 1)?),
        };
        Ok(HashPrefix { digits: SmolStr::new(digits), member })
    }

    /// The base32hex digits, without `#` or member suffix.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// The member index of a `#comp.i` form.
    pub fn member(&self) -> Option<u32> {
        self.member
    }

    /// True if all 52 characters were given.
    pub fn is_full(&self) -> bool {
        self.digits.len() == FULL_LEN
    }

    /// The hash itself, when all 52 characters were given.
    pub fn to_full(&self) -> Option<CodeHash> {
        if self.is_full() { CodeHash::parse(&self.digits).ok() } else { None }
    }

    /// Whether `hash` starts with these digits. The member index is not looked at.
    pub fn matches(&self, hash: &CodeHash) -> bool {
        hash.to_base32hex().starts_with(self.digits.as_str())
    }

    /// The smallest and largest hashes this prefix matches, for a range scan over a sorted
    /// index of hashes (bytes order is text order).
    pub fn range(&self) -> (CodeHash, CodeHash) {
        let mut lo = [0u8; 32];
        let mut hi = [0xffu8; 32];
        for (i, c) in self.digits.chars().enumerate() {
            let v = digit_value(c).expect("checked at parse");
            for bit in 0..5 {
                let pos = i * 5 + bit;
                if pos >= 256 {
                    break;
                }
                let set = (v >> (4 - bit)) & 1 == 1;
                let (byte, mask) = (pos / 8, 0x80u8 >> (pos % 8));
                if set {
                    lo[byte] |= mask;
                } else {
                    hi[byte] &= !mask;
                }
            }
        }
        (CodeHash(lo), CodeHash(hi))
    }
}

impl From<CodeHash> for HashPrefix {
    fn from(hash: CodeHash) -> Self {
        HashPrefix { digits: SmolStr::new(hash.to_base32hex()), member: None }
    }
}

impl fmt::Display for HashPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.digits)?;
        if let Some(m) = self.member {
            write!(f, ".{m}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for HashPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HashPrefix({self})")
    }
}

impl FromStr for HashPrefix {
    type Err = HashParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HashPrefix::parse(s)
    }
}

/// Rejects the first character that is not a base32hex digit. `offset` is where `digits`
/// starts in `text`.
fn check_digits(text: &str, digits: &str, offset: usize) -> Result<(), HashParseError> {
    match digits.char_indices().find(|&(_, c)| digit_value(c).is_none()) {
        None => Ok(()),
        Some((i, ch)) => Err(HashParseError::new(
            text,
            HashParseErrorKind::InvalidChar { ch, offset: offset + i },
        )),
    }
}

/// The 52nd digit holds only the last bit of the hash; its four low bits must be zero.
fn check_last_digit(text: &str, digits: &str, offset: usize) -> Result<(), HashParseError> {
    let ch = digits[FULL_LEN - 1..].chars().next().expect("52 ASCII digits");
    if digit_value(ch).expect("checked") & 0b1111 != 0 {
        return Err(HashParseError::new(
            text,
            HashParseErrorKind::NonCanonicalLast { ch, offset: offset + FULL_LEN - 1 },
        ));
    }
    Ok(())
}

fn parse_member(text: &str, member: &str, offset: usize) -> Result<u32, HashParseError> {
    if member.is_empty() {
        return Err(HashParseError::new(text, HashParseErrorKind::EmptyMember));
    }
    if let Some((i, ch)) = member.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        return Err(HashParseError::new(
            text,
            HashParseErrorKind::InvalidMemberChar { ch, offset: offset + i },
        ));
    }
    member.parse::<u32>().map_err(|_| HashParseError::new(text, HashParseErrorKind::MemberTooLarge))
}

/// Why a hash or hash prefix could not be parsed. Displays with the input, e.g.
/// ``invalid character 'w' at position 6 in `#a7f3w`: base32hex digits are 0-9 and a-v``.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashParseError {
    /// The text that was parsed.
    pub input: String,
    pub kind: HashParseErrorKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HashParseErrorKind {
    /// Fewer than 4 digits.
    TooShort {
        len: usize,
    },
    /// More than 52 digits.
    TooLong {
        len: usize,
    },
    /// `offset` is the byte offset of `ch` in the input (all bytes before it are ASCII, so
    /// it is also the 0-based character index); messages show it 1-based.
    InvalidChar {
        ch: char,
        offset: usize,
    },
    /// A full-length hash whose last digit is not `0` or `g`: no 256-bit hash encodes so.
    NonCanonicalLast {
        ch: char,
        offset: usize,
    },
    /// A full hash was required but `len` digits were given.
    NotFull {
        len: usize,
    },
    /// `#abcd.` with nothing after the dot.
    EmptyMember,
    InvalidMemberChar {
        ch: char,
        offset: usize,
    },
    MemberTooLarge,
}

impl HashParseError {
    fn new(input: &str, kind: HashParseErrorKind) -> Self {
        HashParseError { input: input.to_owned(), kind }
    }
}

impl fmt::Display for HashParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let input = &self.input;
        match &self.kind {
            HashParseErrorKind::TooShort { len } => write!(
                f,
                "hash prefix `{input}` is too short: {len} characters, at least {MIN_PREFIX_LEN} are needed"
            ),
            HashParseErrorKind::TooLong { len } => write!(
                f,
                "hash `{input}` is too long: {len} characters, a full hash has {FULL_LEN}"
            ),
            HashParseErrorKind::InvalidChar { ch, offset } => write!(
                f,
                "invalid character {ch:?} at position {} in `{input}`: base32hex digits are 0-9 and a-v (lowercase)",
                offset + 1
            ),
            HashParseErrorKind::NonCanonicalLast { ch, offset } => write!(
                f,
                "invalid last character {ch:?} at position {} in `{input}`: the 52nd character of a hash carries one bit and is always '0' or 'g'",
                offset + 1
            ),
            HashParseErrorKind::NotFull { len } => {
                write!(f, "`{input}` is not a full hash: {len} characters, expected {FULL_LEN}")
            }
            HashParseErrorKind::EmptyMember => {
                write!(f, "missing member index after `.` in `{input}`")
            }
            HashParseErrorKind::InvalidMemberChar { ch, offset } => write!(
                f,
                "invalid character {ch:?} at position {} in the member index of `{input}`: expected decimal digits",
                offset + 1
            ),
            HashParseErrorKind::MemberTooLarge => {
                write!(f, "member index in `{input}` is too large (at most {})", u32::MAX)
            }
        }
    }
}

impl std::error::Error for HashParseError {}

/// Why a prefix did not resolve to exactly one definition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolveError {
    NotFound {
        prefix: HashPrefix,
    },
    /// `candidates` are sorted and distinct.
    Ambiguous {
        prefix: HashPrefix,
        candidates: Vec<CodeHash>,
    },
}

/// How many candidates an ambiguity message lists before summarising the rest.
const AMBIGUITY_LIST_LIMIT: usize = 10;

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::NotFound { prefix } => write!(f, "no definition matches {prefix}"),
            ResolveError::Ambiguous { prefix, candidates } => {
                write!(f, "ambiguous: {prefix} matches {} definitions: ", candidates.len())?;
                // Show each candidate long enough to tell it from the others.
                let width = distinguishing_len(candidates).max(SHORT_LEN);
                for (i, c) in candidates.iter().take(AMBIGUITY_LIST_LIMIT).enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "#{}", c.prefix_str(width))?;
                }
                if candidates.len() > AMBIGUITY_LIST_LIMIT {
                    write!(f, " and {} more", candidates.len() - AMBIGUITY_LIST_LIMIT)?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ResolveError {}

/// The shortest prefix length at which all of `hashes` (sorted, distinct) differ.
pub fn distinguishing_len(hashes: &[CodeHash]) -> usize {
    let texts: Vec<String> = hashes.iter().map(CodeHash::to_base32hex).collect();
    let common = texts
        .windows(2)
        .map(|w| w[0].bytes().zip(w[1].bytes()).take_while(|(a, b)| a == b).count())
        .max()
        .unwrap_or(0);
    (common + 1).min(FULL_LEN)
}

/// Resolves `prefix` against `candidates` (duplicates are ignored): the unique match, or
/// `NotFound`, or `Ambiguous` listing every match in sorted order. The member index is not
/// looked at (see [`HashPrefix`]).
pub fn resolve_prefix(
    prefix: &HashPrefix,
    candidates: impl IntoIterator<Item = CodeHash>,
) -> Result<CodeHash, ResolveError> {
    let mut matches: Vec<CodeHash> = candidates.into_iter().filter(|h| prefix.matches(h)).collect();
    matches.sort_unstable();
    matches.dedup();
    match matches.len() {
        0 => Err(ResolveError::NotFound { prefix: prefix.clone() }),
        1 => Ok(matches[0]),
        _ => Err(ResolveError::Ambiguous { prefix: prefix.clone(), candidates: matches }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use expect_test::expect;

    fn h(byte: u8) -> CodeHash {
        CodeHash([byte; 32])
    }

    #[test]
    fn rfc4648_base32hex_vectors() {
        // RFC 4648 §10, lowercased and without padding.
        for (input, want) in [
            ("", ""),
            ("f", "co"),
            ("fo", "cpng"),
            ("foo", "cpnmu"),
            ("foob", "cpnmuog"),
            ("fooba", "cpnmuoj1"),
            ("foobar", "cpnmuoj1e8"),
        ] {
            assert_eq!(encode_base32hex(input.as_bytes()), want, "encoding {input:?}");
            assert_eq!(decode_base32hex(want).unwrap(), input.as_bytes(), "decoding {want:?}");
        }
    }

    #[test]
    fn full_hash_text() {
        let zero = h(0);
        assert_eq!(zero.to_base32hex(), "0".repeat(52));
        let ones = h(0xff);
        expect!["vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvg"]
            .assert_eq(&ones.to_base32hex());
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8 * 7 + 1;
        }
        let x = CodeHash(bytes);
        expect!["#0440u5gt"].assert_eq(&x.to_string());
        expect!["#0440u5gt4glj4ea08t75an33d9ongvs6hma9n8l9m2rrthecqfd0"]
            .assert_eq(&format!("{x:#}"));
        assert_eq!(format!("{x:#}"), x.full());
        expect!["CodeHash(#0440u5gt4glj4ea08t75an33d9ongvs6hma9n8l9m2rrthecqfd0)"]
            .assert_eq(&format!("{x:?}"));
        assert_eq!(CodeHash::parse(&x.full()).unwrap(), x);
        assert_eq!(CodeHash::parse(&x.to_base32hex()).unwrap(), x);
        assert_eq!(x.short().len(), 8);
        assert_eq!(x.to_base32hex().len(), 52);
    }

    #[test]
    fn text_order_is_byte_order() {
        let mut hashes: Vec<CodeHash> = (0..=255u8)
            .map(|i| {
                CodeHash([
                    i.wrapping_mul(37),
                    i,
                    0,
                    i ^ 0x55,
                    1,
                    2,
                    3,
                    4,
                    5,
                    6,
                    7,
                    8,
                    9,
                    10,
                    11,
                    12,
                    13,
                    14,
                    15,
                    16,
                    17,
                    18,
                    19,
                    20,
                    21,
                    22,
                    23,
                    24,
                    25,
                    26,
                    27,
                    i,
                ])
            })
            .collect();
        hashes.sort();
        let texts: Vec<String> = hashes.iter().map(CodeHash::to_base32hex).collect();
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted);
    }

    fn perr(text: &str) -> String {
        HashPrefix::parse(text).unwrap_err().to_string()
    }

    #[test]
    fn prefix_parse_errors() {
        expect!["hash prefix `#a7f` is too short: 3 characters, at least 4 are needed"]
            .assert_eq(&perr("#a7f"));
        expect!["hash prefix `#` is too short: 0 characters, at least 4 are needed"]
            .assert_eq(&perr("#"));
        expect!["hash `#00000000000000000000000000000000000000000000000000000` is too long: 53 characters, a full hash has 52"]
            .assert_eq(&perr(&format!("#{}", "0".repeat(53))));
        expect!["invalid character 'w' at position 6 in `#a7f3w1`: base32hex digits are 0-9 and a-v (lowercase)"]
            .assert_eq(&perr("#a7f3w1"));
        expect!["invalid character 'A' at position 2 in `#A7f3`: base32hex digits are 0-9 and a-v (lowercase)"]
            .assert_eq(&perr("#A7f3"));
        expect!["invalid character 'é' at position 3 in `a7é3`: base32hex digits are 0-9 and a-v (lowercase)"]
            .assert_eq(&perr("a7é3"));
        expect!["invalid last character '1' at position 53 in `#0000000000000000000000000000000000000000000000000001`: the 52nd character of a hash carries one bit and is always '0' or 'g'"]
            .assert_eq(&perr(&format!("#{}1", "0".repeat(51))));
        expect!["missing member index after `.` in `#a7f3.`"].assert_eq(&perr("#a7f3."));
        expect!["invalid character 'x' at position 8 in the member index of `#a7f3.1x`: expected decimal digits"]
            .assert_eq(&perr("#a7f3.1x"));
        expect!["member index in `#a7f3.99999999999` is too large (at most 4294967295)"]
            .assert_eq(&perr("#a7f3.99999999999"));
        expect!["`#a7f3b2c1` is not a full hash: 8 characters, expected 52"]
            .assert_eq(&CodeHash::parse("#a7f3b2c1").unwrap_err().to_string());
    }

    #[test]
    fn prefix_parse_ok() {
        let p = HashPrefix::parse("#a7f3b2c1").unwrap();
        assert_eq!((p.digits(), p.member(), p.is_full()), ("a7f3b2c1", None, false));
        assert_eq!(p.to_string(), "#a7f3b2c1");
        let p = HashPrefix::parse("a7f3.12").unwrap();
        assert_eq!((p.digits(), p.member()), ("a7f3", Some(12)));
        assert_eq!(p.to_string(), "#a7f3.12");
        let full = h(0xab);
        let p = HashPrefix::parse(&full.full()).unwrap();
        assert!(p.is_full());
        assert_eq!(p.to_full(), Some(full));
        assert_eq!(HashPrefix::from(full), p);
    }

    #[test]
    fn matching_and_range() {
        let x = h(0x5a);
        let text = x.to_base32hex();
        for n in MIN_PREFIX_LEN..=FULL_LEN {
            let p = HashPrefix::parse(&text[..n]).unwrap();
            assert!(p.matches(&x));
            let (lo, hi) = p.range();
            assert!(lo <= x && x <= hi, "range of {n} digits");
            assert!(p.matches(&lo) && p.matches(&hi), "range ends of {n} digits");
        }
        assert!(!HashPrefix::parse("0000").unwrap().matches(&x));
        let (lo, hi) = HashPrefix::parse("vvvv").unwrap().range();
        assert_eq!(lo.0[..3], [0xff, 0xff, 0xf0]);
        assert_eq!(hi, h(0xff));
    }

    #[test]
    fn resolution() {
        let mut a = [0u8; 32];
        a[0] = 0xab;
        a[1] = 0xcd;
        let mut b = a;
        b[6] = 0x80;
        let mut c = a;
        c[5] = 0x11;
        let (a, b, c) = (CodeHash(a), CodeHash(b), CodeHash(c));
        let other = h(0x01);
        let prefix = HashPrefix::parse(&a.prefix_str(4)).unwrap();
        assert_eq!(resolve_prefix(&prefix, [other, a, a]), Ok(a));
        let err = resolve_prefix(&prefix, [c, other, b, a]).unwrap_err();
        expect!["ambiguous: #lf6g matches 3 definitions: #lf6g000000, #lf6g000002, #lf6g000024"]
            .assert_eq(&err.to_string());
        let err = resolve_prefix(&prefix, [other]).unwrap_err();
        expect!["no definition matches #lf6g"].assert_eq(&err.to_string());
    }
}
