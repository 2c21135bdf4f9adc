//! Loading command-line paths into the engine.

use std::path::PathBuf;

use tel_ide::project::{self, Selection};
use tel_ide::{Analysis, AnalysisHost, FileId};

pub struct Loaded {
    pub analysis: Analysis,
    /// The files the command should report on, in command-line order.
    pub reported: Vec<FileId>,
}

/// Reads every file of every selected project into a fresh engine.
pub fn load(paths: Vec<PathBuf>) -> Result<Loaded, String> {
    let paths = if paths.is_empty() { vec![PathBuf::from(".")] } else { paths };
    let Selection { projects, reported } = project::select(&paths).map_err(|e| e.to_string())?;
    let mut host = AnalysisHost::default();
    for spec in projects {
        let mut files = Vec::with_capacity(spec.files.len());
        for path in spec.files {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
            files.push((path, text));
        }
        host.add_project(spec.root, files);
    }
    let analysis = host.analysis();
    let reported = reported.iter().filter_map(|p| analysis.file_for_path(p)).collect();
    Ok(Loaded { analysis, reported })
}
