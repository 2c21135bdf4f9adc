//! Test fixtures in rust-analyzer style: several files in one string, each introduced by a
//! `//- /path.tel` header line, with an optional `$0` cursor marker. Without any header the
//! whole text is `/main.tel`. Indentation common to all lines is removed, so fixtures can be
//! written indented inside test code.

/// The cursor marker.
pub const CURSOR: &str = "$0";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fixture {
    /// `(path, text)` of each file, in fixture order.
    pub files: Vec<(String, String)>,
    /// The file and byte offset of `$0`, if the fixture has one (the marker is removed).
    pub cursor: Option<(String, u32)>,
}

pub fn parse(fixture: &str) -> Fixture {
    let fixture = trim_indent(fixture);
    let mut files: Vec<(String, String)> = Vec::new();
    if !fixture.trim_start().starts_with("//- ") {
        files.push(("/main.tel".into(), fixture));
    } else {
        for line in fixture.split_inclusive('\n') {
            if let Some(path) = line.strip_prefix("//- ") {
                files.push((path.trim().to_owned(), String::new()));
            } else if let Some((_, text)) = files.last_mut() {
                text.push_str(line);
            }
        }
    }
    let mut cursor = None;
    for (path, text) in &mut files {
        if let Some(at) = text.find(CURSOR) {
            text.replace_range(at..at + CURSOR.len(), "");
            cursor = Some((path.clone(), at as u32));
        }
    }
    Fixture { files, cursor }
}

fn trim_indent(text: &str) -> String {
    let text = text.strip_prefix('\n').unwrap_or(text);
    let indent = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    text.split_inclusive('\n')
        .map(|l| if l.len() >= indent { &l[indent..] } else { l.trim_start_matches(' ') })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn files_cursor_and_indent() {
        let f = super::parse(
            "
            //- /a.tel
            fn a() -> Int { 1 }
            //- /b.tel
            fn b() -> Int { a$0() }
            ",
        );
        assert_eq!(f.files.len(), 2);
        assert_eq!(f.files[0], ("/a.tel".to_owned(), "fn a() -> Int { 1 }\n".to_owned()));
        assert_eq!(f.files[1].1, "fn b() -> Int { a() }\n");
        assert_eq!(f.cursor, Some(("/b.tel".to_owned(), 17)));
        assert_eq!(super::parse("fn x() -> Int { 1 }").files[0].0, "/main.tel");
    }
}
