//! Test fixtures (rust-analyzer style: `//- /path.tel` headers, a `$0` cursor; the format is
//! `tel_testgen::fixture`'s) loaded into an engine.
//!
//! A fixture with a `/tel.toml` file is one project rooted at `/`; otherwise its `.tel` files
//! are the modules of one project without a root.

use std::path::PathBuf;

use crate::{AnalysisHost, FileId, TextSize};

pub use tel_testgen::fixture::CURSOR;

#[derive(Debug)]
pub struct Fixture {
    pub files: Vec<(PathBuf, String)>,
    /// The file and offset of `$0`, if the fixture has one (the marker is removed).
    pub cursor: Option<(PathBuf, TextSize)>,
}

impl Fixture {
    pub fn parse(text: &str) -> Fixture {
        let f = tel_testgen::fixture::parse(text);
        Fixture {
            files: f.files.into_iter().map(|(p, t)| (PathBuf::from(p), t)).collect(),
            cursor: f.cursor.map(|(p, at)| (PathBuf::from(p), TextSize::from(at))),
        }
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
