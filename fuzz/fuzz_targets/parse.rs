//! Any UTF-8 input parses without panicking, and the tree is the input byte for byte.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parse = tel_syntax::parse(text);
    assert_eq!(parse.syntax_node().to_string(), text, "parse is not lossless");
    for e in &parse.errors {
        assert!(usize::from(e.range.end()) <= text.len(), "error range past the end: {e:?}");
    }
});
