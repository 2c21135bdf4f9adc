//! Finding TEL projects on disk.
//!
//! A *project* is a folder with a `tel.toml`: every `.tel` file below it (outside hidden
//! folders such as `.tel/`, and outside nested projects) is one of its modules, and modules
//! may `use` each other. A `.tel` file that belongs to no project is checked alone, as a
//! one-module project — the way an editor treats a file opened outside any workspace.

use std::fmt;
use std::path::{Path, PathBuf};

pub const MANIFEST: &str = "tel.toml";

/// A set of files that are analysed together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSpec {
    /// The folder holding `tel.toml`, or `None` for a standalone file.
    pub root: Option<PathBuf>,
    pub files: Vec<PathBuf>,
}

/// What a command asked for: the projects to load and, of their files, the ones to report on.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Selection {
    pub projects: Vec<ProjectSpec>,
    pub reported: Vec<PathBuf>,
}

#[derive(Debug)]
pub enum LoadError {
    NotFound(PathBuf),
    NotTel(PathBuf),
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotFound(p) => write!(f, "{}: no such file or directory", p.display()),
            LoadError::NotTel(p) => {
                write!(
                    f,
                    "{}: not a TEL source file (expected a `.tel` file or a folder)",
                    p.display()
                )
            }
            LoadError::Io(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

impl std::error::Error for LoadError {}

/// The project folder containing `path`: the nearest ancestor (or `path` itself) with a `tel.toml`.
pub fn find_root(path: &Path) -> Option<PathBuf> {
    let start = if path.is_dir() { path } else { path.parent()? };
    // `lib.tel` has the empty path as its parent: that is the current folder.
    let start = if start.as_os_str().is_empty() { Path::new(".") } else { start };
    start.ancestors().find(|dir| dir.join(MANIFEST).is_file()).map(clean)
}

/// `./a/./b.tel` → `a/b.tel`: one spelling per file, so a file named on the command line
/// is recognised among the files found by walking its project.
pub fn clean(path: &Path) -> PathBuf {
    let cleaned: PathBuf =
        path.components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect();
    if cleaned.as_os_str().is_empty() { PathBuf::from(".") } else { cleaned }
}

/// Resolves command-line paths: each file is reported in the context of its project; each
/// folder contributes every project below it and every loose `.tel` file as its own project.
pub fn select(paths: &[PathBuf]) -> Result<Selection, LoadError> {
    let mut sel = Selection::default();
    for path in paths {
        let path = &clean(path);
        if !path.exists() {
            return Err(LoadError::NotFound(path.clone()));
        }
        if path.is_file() {
            if path.extension().is_none_or(|e| e != "tel") {
                return Err(LoadError::NotTel(path.clone()));
            }
            let project = match find_root(path) {
                Some(root) => project_at(&root)?,
                None => ProjectSpec { root: None, files: vec![path.clone()] },
            };
            sel.add_project(project);
            sel.reported.push(path.clone());
        } else {
            // A folder inside a project means that whole project.
            if let Some(root) = find_root(path) {
                let project = project_at(&root)?;
                // Walked files are spelled relative to the same place as `path` (cleaned), and
                // `.` is the prefix of every relative path.
                let inside = |f: &&PathBuf| path == Path::new(".") || f.starts_with(path);
                sel.reported.extend(project.files.iter().filter(inside).cloned());
                sel.add_project(project);
                continue;
            }
            let mut found = Vec::new();
            walk(path, &mut found, true)?;
            for entry in found {
                match entry {
                    Found::Project(root) => {
                        let project = project_at(&root)?;
                        sel.reported.extend(project.files.iter().cloned());
                        sel.add_project(project);
                    }
                    Found::Loose(file) => {
                        sel.reported.push(file.clone());
                        sel.add_project(ProjectSpec { root: None, files: vec![file] });
                    }
                }
            }
        }
    }
    sel.reported.dedup();
    Ok(sel)
}

impl Selection {
    fn add_project(&mut self, project: ProjectSpec) {
        if !self.projects.contains(&project) {
            self.projects.push(project);
        }
    }
}

/// All modules of the project rooted at `root` (sorted, so analysis order is deterministic).
pub fn project_at(root: &Path) -> Result<ProjectSpec, LoadError> {
    let mut found = Vec::new();
    walk(root, &mut found, false)?;
    let files = found
        .into_iter()
        .filter_map(|f| match f {
            Found::Loose(file) => Some(file),
            Found::Project(_) => None,
        })
        .collect();
    Ok(ProjectSpec { root: Some(root.to_path_buf()), files })
}

enum Found {
    Project(PathBuf),
    Loose(PathBuf),
}

/// Collects `.tel` files below `dir` in sorted order. Nested folders with a `tel.toml` are
/// reported as projects rather than entered; `dir` itself is one when `top_is_project` is
/// set and it holds a manifest.
fn walk(dir: &Path, out: &mut Vec<Found>, top_is_project: bool) -> Result<(), LoadError> {
    if top_is_project && dir.join(MANIFEST).is_file() {
        out.push(Found::Project(dir.to_path_buf()));
        return Ok(());
    }
    let io = |e| LoadError::Io(dir.to_path_buf(), e);
    let mut entries: Vec<_> =
        std::fs::read_dir(dir).map_err(io)?.collect::<Result<_, _>>().map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') || name == "node_modules" || name == "target" {
            continue;
        }
        if path.is_dir() {
            walk(&path, out, true)?;
        } else if path.extension().is_some_and(|e| e == "tel") {
            out.push(Found::Loose(clean(&path)));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "").unwrap();
    }

    #[test]
    fn folders_split_into_projects_and_loose_files() {
        let tmp = std::env::temp_dir().join(format!("tel-project-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        touch(&tmp.join("a.tel"));
        touch(&tmp.join("p/tel.toml"));
        touch(&tmp.join("p/m1.tel"));
        touch(&tmp.join("p/sub/m2.tel"));
        touch(&tmp.join("p/.tel/ignored.tel"));
        touch(&tmp.join("z/b.tel"));

        let sel = select(std::slice::from_ref(&tmp)).unwrap();
        assert_eq!(sel.projects.len(), 3);
        assert_eq!(sel.projects[0].files, vec![tmp.join("a.tel")]);
        assert_eq!(sel.projects[1].root.as_deref(), Some(tmp.join("p").as_path()));
        assert_eq!(sel.projects[1].files, vec![tmp.join("p/m1.tel"), tmp.join("p/sub/m2.tel")]);
        assert_eq!(sel.reported.len(), 4);

        // A file inside a project loads the whole project but reports only itself.
        let sel = select(&[tmp.join("p/sub/m2.tel")]).unwrap();
        assert_eq!(sel.projects[0].files.len(), 2);
        assert_eq!(sel.reported, vec![tmp.join("p/sub/m2.tel")]);

        assert!(matches!(select(&[tmp.join("nope.tel")]), Err(LoadError::NotFound(_))));
        assert!(matches!(select(&[tmp.join("p/tel.toml")]), Err(LoadError::NotTel(_))));
        std::fs::remove_dir_all(&tmp).unwrap();
    }
}
