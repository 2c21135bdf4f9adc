//! The TEL engine: a salsa database of source files and the `Analysis` API that the command
//! line, the language server and the debugger all ask.
//!
//! `AnalysisHost` owns the database and applies changes; `Analysis` is a snapshot that
//! answers questions. A change made through the host cancels the queries running on older
//! snapshots: they return `Err(Cancelled)` and the caller retries or answers
//! "content modified".

pub mod codebase;
mod db;
pub mod debug_info;
mod diagnostics;
pub mod features;
pub mod fixture;
pub mod load;
pub mod project;
mod queries;
pub mod run;
pub mod schema_check;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use salsa::{Durability, Setter};

pub use db::{Db, Project, RootDatabase, SourceFile};
pub use diagnostics::{Diagnostic, Related, Severity};
pub use queries::DefLoc;
pub use salsa::Cancelled;
pub use tel_syntax::{LineCol, LineIndex, TextRange, TextSize};

/// Result of a query on a snapshot that a concurrent change may cancel.
pub type Cancellable<T> = Result<T, Cancelled>;

/// A file known to the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

#[derive(Clone, Default)]
struct FileTable {
    files: Vec<FileEntry>,
    projects: Vec<Project>,
}

#[derive(Clone)]
struct FileEntry {
    path: PathBuf,
    input: SourceFile,
    project: Project,
}

impl FileTable {
    fn by_path(&self, path: &Path) -> Option<FileId> {
        self.files.iter().position(|f| f.path == path).map(|i| FileId(i as u32))
    }
}

/// Owns the database; the only place changes happen.
pub struct AnalysisHost {
    db: RootDatabase,
    table: Arc<FileTable>,
    prelude: SourceFile,
    codebase: codebase::CodebaseInput,
}

impl Default for AnalysisHost {
    fn default() -> Self {
        AnalysisHost::new(RootDatabase::default())
    }
}

/// Where the prelude "lives", for diagnostics and go-to-definition.
pub const PRELUDE_PATH: &str = "<prelude>";

impl AnalysisHost {
    fn new(db: RootDatabase) -> Self {
        schema_check::init(&db);
        let path = PathBuf::from(PRELUDE_PATH);
        let source = tel_hir::PRELUDE_SOURCE.to_owned();
        let prelude = SourceFile::builder(path.clone(), source, None, Arc::default())
            .path_durability(Durability::HIGH)
            .text_durability(Durability::HIGH)
            .reparsed_durability(Durability::HIGH)
            .items_durability(Durability::HIGH)
            .new(&db);
        // The prelude is FileId(0) and the first module of every project.
        let codebase =
            codebase::CodebaseInput::builder(None).codebase_durability(Durability::MEDIUM).new(&db);
        let project = Project::builder(None, vec![prelude], db::Layout::default(), codebase)
            .root_durability(Durability::HIGH)
            .files_durability(Durability::HIGH)
            .layout_durability(Durability::HIGH)
            .new(&db);
        let entry = FileEntry { path, input: prelude, project };
        let table = Arc::new(FileTable { files: vec![entry], projects: Vec::new() });
        let mut host = AnalysisHost { db, table, prelude, codebase };
        host.refresh_items(prelude, Durability::HIGH);
        host.refresh_layout(project);
        host
    }

    /// A host whose database records query executions (see `RootDatabase::with_execution_log`).
    pub fn with_execution_log() -> Self {
        AnalysisHost::new(RootDatabase::with_execution_log())
    }

    /// Adds a project (`root` is its `tel.toml` folder, `None` for a loose file) with its files.
    pub fn add_project(
        &mut self,
        root: Option<PathBuf>,
        files: Vec<(PathBuf, String)>,
    ) -> Vec<FileId> {
        self.read_manifest(root.as_deref());
        let inputs: Vec<SourceFile> = files
            .iter()
            .map(|(path, text)| {
                // MEDIUM until first edited: typing in one file then re-verifies only what
                // depends on that file, not every query about the untouched ones.
                SourceFile::builder(path.clone(), text.clone(), None, Arc::default())
                    .path_durability(Durability::MEDIUM)
                    .text_durability(Durability::MEDIUM)
                    .reparsed_durability(Durability::MEDIUM)
                    .items_durability(Durability::MEDIUM)
                    .new(&self.db)
            })
            .collect();
        for &input in &inputs {
            self.refresh_items(input, Durability::MEDIUM);
        }
        let modules = std::iter::once(self.prelude).chain(inputs.iter().copied()).collect();
        let project = Project::builder(root, modules, db::Layout::default(), self.codebase)
            .root_durability(Durability::MEDIUM)
            .files_durability(Durability::MEDIUM)
            .layout_durability(Durability::MEDIUM)
            .new(&self.db);
        self.refresh_layout(project);
        let table = Arc::make_mut(&mut self.table);
        table.projects.push(project);
        let mut ids = Vec::with_capacity(files.len());
        for ((path, _), input) in files.into_iter().zip(inputs) {
            ids.push(FileId(table.files.len() as u32));
            table.files.push(FileEntry { path, input, project });
        }
        ids
    }

    /// Attaches the code store that `#hash` references resolve against (or detaches it).
    /// Call again after the store changed: everything that looked into it is re-checked.
    pub fn set_codebase(&mut self, codebase: Option<codebase::Codebase>) {
        self.codebase
            .set_codebase(&mut self.db)
            .with_durability(Durability::MEDIUM)
            .to(codebase.map(Arc::new));
    }

    /// Replaces a file's text (an edit in the editor, a save on disk).
    ///
    /// An edit inside one token (most keystrokes) reuses the previous tree: only the
    /// token's ancestors are rebuilt, and unchanged items keep their green nodes.
    pub fn set_file_text(&mut self, file: FileId, text: String) {
        let input = self.table.files[file.0 as usize].input;
        let old = db::parse(&self.db, input);
        let new = tel_syntax::reparse(old, input.text(&self.db), &text);
        input.set_text(&mut self.db).with_durability(Durability::LOW).to(text);
        input.set_reparsed(&mut self.db).with_durability(Durability::LOW).to(Some(new));
        self.refresh_items(input, Durability::MEDIUM);
        let project = self.table.files[file.0 as usize].project;
        self.refresh_layout(project);
    }

    /// Brings the file's declarations ([`SourceFile::items`]) in line with its text, writing
    /// them only when they changed (an edit inside a body leaves them alone).
    fn refresh_items(&mut self, file: SourceFile, durability: Durability) {
        let tree = queries::item_tree_with_map(&self.db, file).0.clone();
        let old = file.items(&self.db);
        if !Arc::ptr_eq(&old, &tree) && *old != *tree {
            file.set_items(&mut self.db).with_durability(durability).to(tree);
        }
    }

    /// Brings the project's layout in line with its files' module names and imports, writing
    /// it only when it changed (an edit inside a body leaves it alone).
    fn refresh_layout(&mut self, project: Project) {
        let entries =
            project.files(&self.db).iter().map(|&f| queries::file_layout(&self.db, f)).collect();
        let layout = db::Layout { entries };
        if *project.layout(&self.db) != layout {
            project.set_layout(&mut self.db).with_durability(Durability::MEDIUM).to(layout);
        }
    }

    pub fn file_for_path(&self, path: &Path) -> Option<FileId> {
        self.table.by_path(path)
    }

    /// A snapshot for answering questions, possibly on another thread.
    pub fn analysis(&self) -> Analysis {
        Analysis { db: self.db.clone(), table: self.table.clone() }
    }

    /// Query executions recorded since the last call (hosts built `with_execution_log`).
    pub fn take_executions(&self) -> Vec<String> {
        self.db.take_executions()
    }
}

/// A consistent snapshot of the engine's knowledge.
#[derive(Clone)]
pub struct Analysis {
    db: RootDatabase,
    table: Arc<FileTable>,
}

impl Analysis {
    fn with_db<T>(
        &self,
        f: impl FnOnce(&RootDatabase) -> T + std::panic::UnwindSafe,
    ) -> Cancellable<T> {
        let db = &self.db;
        Cancelled::catch(std::panic::AssertUnwindSafe(|| f(db)))
    }

    fn entry(&self, file: FileId) -> &FileEntry {
        &self.table.files[file.0 as usize]
    }

    pub fn files(&self) -> impl Iterator<Item = FileId> + '_ {
        (0..self.table.files.len() as u32).map(FileId)
    }

    pub fn file_for_path(&self, path: &Path) -> Option<FileId> {
        self.table.by_path(path)
    }

    pub fn file_path(&self, file: FileId) -> &Path {
        &self.entry(file).path
    }

    pub fn file_text(&self, file: FileId) -> String {
        self.entry(file).input.text(&self.db).clone()
    }

    pub fn line_index(&self, file: FileId) -> LineIndex {
        LineIndex::new(self.entry(file).input.text(&self.db))
    }

    /// The syntax tree of a file.
    pub fn parse(&self, file: FileId) -> Cancellable<tel_syntax::Parse> {
        let input = self.entry(file).input;
        self.with_db(|db| db::parse(db, input).clone())
    }

    /// Every problem in a file, in text order: syntax, resolution, types and effects.
    pub fn diagnostics(&self, file: FileId) -> Cancellable<Vec<Diagnostic>> {
        let FileEntry { input, project, .. } = *self.entry(file);
        self.with_db(|db| {
            let syntax = db::parse(db, input).errors.iter().map(|e| {
                let mut d = Diagnostic::error(file, e.range, "E0001", e.message.clone());
                d.label = "syntax error".to_owned();
                d
            });
            let semantic = queries::semantic_diagnostics(db, project, input).iter().map(|d| {
                // hir codes read "E0101 unknown-name": the id, then a slug that labels the range.
                let (code, slug) = d.code.split_once(' ').unwrap_or((d.code, ""));
                Diagnostic {
                    file,
                    range: d.range,
                    severity: match d.severity {
                        tel_hir::Severity::Error => Severity::Error,
                        tel_hir::Severity::Warning => Severity::Warning,
                    },
                    code,
                    message: d.message.clone(),
                    label: slug.replace('-', " "),
                    related: Vec::new(),
                }
            });
            let mut out: Vec<Diagnostic> = syntax.chain(semantic).collect();
            out.extend(schema_check::diagnostics(db, file, project, input));
            out.sort_by_key(|d| (d.range.start(), d.severity));
            out
        })
    }

    /// The definitions of a file with their kinds, hashes and ranges, in source order.
    pub fn definitions(&self, file: FileId) -> Cancellable<Vec<Definition>> {
        let FileEntry { input, project, .. } = *self.entry(file);
        self.with_db(|db| {
            let hashes = queries::project_hashes(db, project);
            let module = queries::module_name(db, input);
            let (tree, map) = queries::item_tree_with_map(db, input).clone();
            let mut seen = rustc_hash::FxHashSet::default();
            tree.items
                .iter()
                .filter(|(_, item)| seen.insert(item.name.clone()))
                .map(|(id, item)| {
                    let def = tel_hir::DefId::new(module.clone(), item.name.clone());
                    Definition {
                        module: module.clone(),
                        name: item.name.clone(),
                        kind: item.def_kind(),
                        hash: hashes.get(&def).copied(),
                        range: map.items[id].range,
                        name_range: map.items[id].name,
                    }
                })
                .collect()
        })
    }
}

impl Analysis {
    /// A definition of a file by name, hashed: its hash and canonical bytes.
    pub fn hashed(
        &self,
        file: FileId,
        name: &str,
    ) -> Cancellable<Option<Arc<tel_hash::HashedMember>>> {
        let FileEntry { input, project, .. } = *self.entry(file);
        self.with_db(|db| {
            queries::project_hashes(db, project);
            let module = queries::module_name(db, input);
            let loc = DefLoc::new(db, project, tel_hir::DefId::new(module, name));
            queries::hashed(db, loc)
        })
    }

    /// The mutually recursive component a definition of a file belongs to, hashed: the
    /// component hash (none for a definition alone) and every member in canonical order.
    pub fn component(
        &self,
        file: FileId,
        name: &str,
    ) -> Cancellable<Option<Arc<tel_hash::HashedComponent>>> {
        let FileEntry { input, project, .. } = *self.entry(file);
        self.with_db(|db| {
            queries::project_hashes(db, project);
            let module = queries::module_name(db, input);
            let loc = DefLoc::new(db, project, tel_hir::DefId::new(module, name));
            queries::hashed_component(db, loc)
        })
    }

    /// The hash of a file as a namespace: every definition's name bound to its hash.
    /// `None` while any definition of the file has errors.
    pub fn file_hash(&self, file: FileId) -> Cancellable<Option<tel_hash::CodeHash>> {
        let defs = self.definitions(file)?;
        let mut bindings = Vec::with_capacity(defs.len());
        for d in &defs {
            let Some(hash) = d.hash else { return Ok(None) };
            bindings.push((d.name.clone(), hash));
        }
        Ok(Some(namespace_hash(&mut bindings)))
    }
}

/// A top-level definition as the editor and the CLI show it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    pub module: smol_str::SmolStr,
    pub name: smol_str::SmolStr,
    pub kind: tel_hash::core::DefKind,
    /// `None` while the definition or one of its dependencies has errors.
    pub hash: Option<tel_hash::CodeHash>,
    pub range: TextRange,
    pub name_range: TextRange,
}

impl Definition {
    pub fn qualified(&self) -> String {
        format!("{}::{}", self.module, self.name)
    }
}

/// Domain tag of a namespace hash (docs/hashing.md, "File hashes").
const DOMAIN_NAMESPACE: &[u8] = b"tel/v1/namespace\0";

/// BLAKE3 over name → hash bindings sorted by name: unlike a definition's hash, a namespace's
/// hash changes when a name changes, because naming is what a namespace is.
fn namespace_hash(bindings: &mut [(smol_str::SmolStr, tel_hash::CodeHash)]) -> tel_hash::CodeHash {
    bindings.sort();
    let mut bytes = Vec::from(DOMAIN_NAMESPACE);
    bytes.extend((bindings.len() as u32).to_le_bytes());
    for (name, hash) in bindings.iter() {
        bytes.extend((name.len() as u32).to_le_bytes());
        bytes.extend(name.as_bytes());
        bytes.extend(hash.0);
    }
    tel_hash::CodeHash(*blake3::hash(&bytes).as_bytes())
}
