//! Where the codebase file is: `TEL_CODEBASE` if set, else `.tel/codebase.sqlite` under the
//! project root, the nearest directory at or above the start that holds `tel.toml`.

use crate::{Error, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// Overrides the codebase location (a file path; relative to the working directory).
pub const ENV_VAR: &str = "TEL_CODEBASE";
/// The file that marks a project root.
pub const PROJECT_FILE: &str = "tel.toml";
/// The codebase's place under the project root.
pub const DEFAULT_RELATIVE: &str = ".tel/codebase.sqlite";

/// The nearest directory at or above `start` holding `tel.toml`.
pub fn find_project_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find(|dir| dir.join(PROJECT_FILE).is_file()).map(Path::to_path_buf)
}

/// The codebase path for a command run in `cwd`, reading `TEL_CODEBASE` from the environment.
pub fn codebase_path(cwd: &Path) -> Result<PathBuf> {
    codebase_path_with(std::env::var_os(ENV_VAR), cwd)
}

/// [`codebase_path`] with the variable's value given (an empty value counts as unset).
pub fn codebase_path_with(env: Option<OsString>, cwd: &Path) -> Result<PathBuf> {
    if let Some(value) = env.filter(|v| !v.is_empty()) {
        return Ok(cwd.join(value));
    }
    match find_project_root(cwd) {
        Some(root) => Ok(root.join(DEFAULT_RELATIVE)),
        None => Err(Error::NoProject { start: cwd.to_path_buf() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_up_to_tel_toml() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("proj");
        let deep = root.join("src/a/b");
        std::fs::create_dir_all(&deep).unwrap();
        std::fs::write(root.join("tel.toml"), "").unwrap();
        assert_eq!(codebase_path_with(None, &deep).unwrap(), root.join(".tel/codebase.sqlite"));
        assert_eq!(
            codebase_path_with(Some("".into()), &root).unwrap(),
            root.join(".tel/codebase.sqlite")
        );
        // The override wins, relative to the working directory.
        assert_eq!(
            codebase_path_with(Some("x/cb.sqlite".into()), &deep).unwrap(),
            deep.join("x/cb.sqlite")
        );
        assert_eq!(
            codebase_path_with(Some("/abs/cb".into()), &deep).unwrap(),
            PathBuf::from("/abs/cb")
        );
        // A directory named tel.toml is not a project file.
        let other = tmp.path().join("other");
        std::fs::create_dir_all(other.join("tel.toml")).unwrap();
        let err = codebase_path_with(None, &other).unwrap_err();
        assert!(matches!(err, Error::NoProject { .. }));
        assert!(err.to_string().contains("set TEL_CODEBASE"), "{err}");
    }
}
