//! Loading command-line paths into the engine (`tel_ide::load`), with its warnings on stderr.

use std::path::{Path, PathBuf};

pub use tel_ide::load::Loaded;

/// Reads every file of every selected project into a fresh engine, with the codebase of the
/// first project (or of the current folder) attached.
pub fn load(paths: Vec<PathBuf>) -> Result<Loaded, String> {
    load_with(paths, None)
}

/// [`load`], with `#hash` references resolved against the codebase file `codebase` when given.
pub fn load_with(paths: Vec<PathBuf>, codebase: Option<&Path>) -> Result<Loaded, String> {
    let loaded = tel_ide::load::load(&paths, codebase)?;
    for warning in &loaded.warnings {
        eprintln!("{warning}");
    }
    Ok(loaded)
}
