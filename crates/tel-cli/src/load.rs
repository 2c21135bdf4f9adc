//! Loading command-line paths into the engine.

use std::path::{Path, PathBuf};

use tel_ide::project::{self, Selection};
use tel_ide::{Analysis, AnalysisHost, FileId};

pub struct Loaded {
    pub analysis: Analysis,
    /// The files the command should report on, in command-line order.
    pub reported: Vec<FileId>,
}

/// Reads every file of every selected project into a fresh engine, with the codebase of the
/// first project (or of the current folder) attached.
pub fn load(paths: Vec<PathBuf>) -> Result<Loaded, String> {
    load_with(paths, None)
}

/// [`load`], with `#hash` references resolved against the codebase file `codebase` when given.
pub fn load_with(paths: Vec<PathBuf>, codebase: Option<&Path>) -> Result<Loaded, String> {
    let paths = if paths.is_empty() { vec![PathBuf::from(".")] } else { paths };
    let Selection { projects, reported } = project::select(&paths).map_err(|e| e.to_string())?;
    let mut host = AnalysisHost::default();
    match codebase {
        Some(path) => attach_codebase_at(&mut host, path),
        None => attach_codebase(&mut host, projects.iter().find_map(|p| p.root.clone())),
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
    Ok(Loaded { analysis, reported })
}

/// Attaches the codebase (`TEL_CODEBASE`, else `.tel/codebase.sqlite` of the project) if one
/// exists, so `#hash` references resolve. A codebase that cannot be opened is reported and
/// left out: checking source must not depend on it.
fn attach_codebase(host: &mut AnalysisHost, project_root: Option<PathBuf>) {
    let start = match project_root {
        Some(root) => root,
        None => match std::env::current_dir() {
            Ok(dir) => dir,
            Err(_) => return,
        },
    };
    if let Ok(path) = tel_store::location::codebase_path(&start) {
        attach_codebase_at(host, &path);
    }
}

/// Attaches the codebase file at `path` if it exists.
fn attach_codebase_at(host: &mut AnalysisHost, path: &Path) {
    if !path.exists() {
        return;
    }
    match tel_store::Store::open_existing(path) {
        Ok(store) => host.set_codebase(Some(tel_ide::codebase::Codebase::new(store))),
        Err(e) => eprintln!("warning: `#hash` references cannot be resolved: {e}"),
    }
}
