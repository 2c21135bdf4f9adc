//! Test fixtures in rust-analyzer style: several files in one string, each introduced by a
//! `//- /path.tel` header line, with an optional `$0` cursor marker.
//!
//! ```text
//! //- /tel.toml
//! [program]
//! name = "demo"
//! //- /main.tel
//! fn main() -> Int { f$0ee(1) }
//! ```
//!
//! A fixture with a `/tel.toml` file is one project rooted at `/`; otherwise every file is a
//! project of its own unless they are all modules of one project (`project: true`).

use std::path::PathBuf;

use crate::{AnalysisHost, FileId, TextSize};

pub const CURSOR: &str = "$0";

#[derive(Debug)]
pub struct Fixture {
    pub files: Vec<(PathBuf, String)>,
    /// The file and offset of `$0`, if the fixture has one (the marker is removed).
    pub cursor: Option<(PathBuf, TextSize)>,
}

impl Fixture {
    pub fn parse(text: &str) -> Fixture {
        let text = trim_indent(text);
        let mut files: Vec<(PathBuf, String)> = Vec::new();
        for line in text.split_inclusive('\n') {
            if let Some(path) = line.strip_prefix("//- ") {
                files.push((PathBuf::from(path.trim()), String::new()));
            } else if let Some((_, body)) = files.last_mut() {
                body.push_str(line);
            } else if !line.trim().is_empty() {
                // No header: the whole fixture is one file.
                files.push((PathBuf::from("/main.tel"), line.to_owned()));
            }
        }
        let mut cursor = None;
        for (path, body) in &mut files {
            if let Some(at) = body.find(CURSOR) {
                body.replace_range(at..at + CURSOR.len(), "");
                cursor = Some((path.clone(), TextSize::from(at as u32)));
            }
        }
        Fixture { files, cursor }
    }

    /// Loads every `.tel` file as one project and returns the host with the file ids in
    /// fixture order.
    pub fn into_host(
        self,
        mut host: AnalysisHost,
    ) -> (AnalysisHost, Vec<FileId>, Option<(FileId, TextSize)>) {
        let root =
            self.files.iter().any(|(p, _)| p.ends_with("tel.toml")).then(|| PathBuf::from("/"));
        let tel: Vec<_> = self
            .files
            .into_iter()
            .filter(|(p, _)| p.extension().is_some_and(|e| e == "tel"))
            .collect();
        let ids = host.add_project(root, tel);
        let cursor =
            self.cursor.and_then(|(path, offset)| Some((host.file_for_path(&path)?, offset)));
        (host, ids, cursor)
    }
}

/// Removes the common leading indentation so fixtures can be indented in test code.
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
