//! Loading paths from disk into a fresh engine: what the command line and the debug adapter
//! do before they check, hash or run anything.

use std::path::{Path, PathBuf};

use crate::project::{self, Selection};
use crate::{Analysis, AnalysisHost, FileId};

pub struct Loaded {
    pub analysis: Analysis,
    /// The files the command should report on, in command-line order.
    pub reported: Vec<FileId>,
    /// Things the caller should tell the user (a codebase that could not be attached).
    pub warnings: Vec<String>,
}

/// Reads every file of every selected project into a fresh engine, with the codebase file
/// `codebase` attached when given, else the one of the first project (or of the current
/// folder), so `#hash` references resolve.
pub fn load(paths: &[PathBuf], codebase: Option<&Path>) -> Result<Loaded, String> {
    let default = [PathBuf::from(".")];
    let paths = if paths.is_empty() { &default[..] } else { paths };
    let Selection { projects, reported } = project::select(paths).map_err(|e| e.to_string())?;
    let mut host = AnalysisHost::default();
    let mut warnings = Vec::new();
    let codebase = match codebase {
        Some(path) => Some(path.to_path_buf()),
        None => default_codebase(projects.iter().find_map(|p| p.root.clone())),
    };
    if let Some(path) = codebase {
        warnings.extend(attach_codebase(&mut host, &path));
    }
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
    Ok(Loaded { analysis, reported, warnings })
}

/// `TEL_CODEBASE`, else `.tel/codebase.sqlite` of the project (or of the current folder).
fn default_codebase(project_root: Option<PathBuf>) -> Option<PathBuf> {
    let start = match project_root {
        Some(root) => root,
        None => std::env::current_dir().ok()?,
    };
    tel_store::location::codebase_path(&start).ok()
}

/// Attaches the codebase file at `path` if it exists. One that cannot be opened is left out
/// with a warning: checking source must not depend on it.
fn attach_codebase(host: &mut AnalysisHost, path: &Path) -> Option<String> {
    if !path.exists() {
        return None;
    }
    match tel_store::Store::open_existing(path) {
        Ok(store) => {
            host.set_codebase(Some(crate::codebase::Codebase::new(store)));
            None
        }
        Err(e) => Some(format!("warning: `#hash` references cannot be resolved: {e}")),
    }
}
