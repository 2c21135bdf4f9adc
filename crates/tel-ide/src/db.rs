//! The salsa database: inputs and the tracked queries every front end shares.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use smol_str::SmolStr;

/// One source file. Its text is the only thing that changes as a person types.
#[salsa::input(debug)]
pub struct SourceFile {
    #[returns(ref)]
    pub path: PathBuf,
    #[returns(ref)]
    pub text: String,
    /// The text's tree when the host could build it from the previous one
    /// ([`tel_syntax::reparse`]: an edit inside one token); otherwise [`parse`] parses.
    #[returns(ref)]
    pub reparsed: Option<tel_syntax::Parse>,
    /// The file's declarations without positions, as [`crate::queries::item_tree_with_map`]
    /// computes them from the text. The host keeps them ([`crate::AnalysisHost`] sets them
    /// after every change of the text, and only when they changed) at the durability of a
    /// file not being edited: what other modules know of a file then does not become as
    /// volatile as its text, so a keystroke inside a body does not make salsa re-verify
    /// every query of every module that imports the file, only those that read its text.
    #[returns(clone)]
    pub items: Arc<tel_hir::ItemTree>,
}

/// A set of files analysed together: the modules of a `tel.toml` project, or one loose file.
#[salsa::input(debug)]
pub struct Project {
    #[returns(ref)]
    pub root: Option<PathBuf>,
    #[returns(ref)]
    pub files: Vec<SourceFile>,
    /// Which file is which module and what it imports. Derived from the files' text, but
    /// kept as an input the host updates only when a module name or import list changes,
    /// so that typing inside a body does not touch what every module's scope depends on.
    #[returns(ref)]
    pub layout: Layout,
    /// The code store `#hash` references resolve against.
    pub codebase: crate::codebase::CodebaseInput,
}

/// The project's modules, in the order of `Project::files`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Layout {
    pub entries: Vec<LayoutEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LayoutEntry {
    pub file: SourceFile,
    pub module: SmolStr,
    pub imports: Vec<SmolStr>,
}

impl Layout {
    pub fn defines(&self, module: &str) -> bool {
        self.entries.iter().any(|e| e.module == module)
    }

    /// Everything the files defining `module` import.
    pub fn imports_of<'a>(&'a self, module: &'a str) -> impl Iterator<Item = &'a SmolStr> + 'a {
        self.entries.iter().filter(move |e| e.module == module).flat_map(|e| e.imports.iter())
    }
}

#[salsa::db]
pub trait Db: salsa::Database {}

#[salsa::db]
impl Db for RootDatabase {}

/// The one database. Cloning it gives a snapshot that shares memoized results; a write to the
/// original cancels queries running on snapshots (they unwind with `salsa::Cancelled`).
#[salsa::db]
#[derive(Clone)]
pub struct RootDatabase {
    storage: salsa::Storage<Self>,
    executions: Option<Arc<Mutex<Vec<String>>>>,
}

#[salsa::db]
impl salsa::Database for RootDatabase {}

impl Default for RootDatabase {
    fn default() -> Self {
        RootDatabase { storage: salsa::Storage::new(None), executions: None }
    }
}

impl RootDatabase {
    /// A database that records every query execution (`"infer(Id(3))"`), so tests can
    /// prove what an edit recomputes without measuring time.
    pub fn with_execution_log() -> Self {
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let storage = salsa::Storage::new(Some(Box::new(move |event: salsa::Event| {
            if let salsa::EventKind::WillExecute { database_key } = event.kind {
                sink.lock().unwrap().push(format!("{database_key:?}"));
            }
        })));
        RootDatabase { storage, executions: Some(log) }
    }

    /// The executions recorded since the last call (empty unless built with the log).
    pub fn take_executions(&self) -> Vec<String> {
        self.executions
            .as_ref()
            .map(|log| std::mem::take(&mut *log.lock().unwrap()))
            .unwrap_or_default()
    }
}

/// `no_eq`: it runs again only when the text changed, and then so has the tree; comparing
/// two whole-file trees would only cost time.
#[salsa::tracked(returns(ref), no_eq)]
pub fn parse(db: &dyn Db, file: SourceFile) -> tel_syntax::Parse {
    match file.reparsed(db) {
        Some(parse) => parse.clone(),
        None => tel_syntax::parse(file.text(db)),
    }
}
