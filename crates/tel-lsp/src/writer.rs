//! The one writer: a thread that owns the engine (`AnalysisHost`) and applies changes in the
//! order the client sent them.
//!
//! Changes and snapshot requests travel down one channel, so a request always sees every edit
//! sent before it. Applying a change cancels the queries running on older snapshots and waits
//! until they have let go of them (salsa's rule), which is why this is a thread of its own and
//! not a task on the async runtime.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;
use tel_ide::project::{self, ProjectSpec};
use tel_ide::{AnalysisHost, FileId, LineIndex, TextRange};
use tower_lsp_server::ls_types::{
    FileChangeType, FileEvent, MessageType, TextDocumentContentChangeEvent, Uri,
};

use crate::config::Config;
use crate::convert::{self, Encoding};
use crate::world::{FileInfo, FileMap, Snapshot, StoreHandle, path_to_uri, uri_to_path};

pub enum Task {
    /// Load the projects below these folders (the workspace folders).
    Load {
        roots: Vec<PathBuf>,
        encoding: Encoding,
    },
    Open {
        uri: Uri,
        text: String,
        version: i32,
    },
    Change {
        uri: Uri,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    },
    Close {
        uri: Uri,
    },
    Watched {
        changes: Vec<FileEvent>,
    },
    Config(Config),
    /// The server itself wrote to the codebase (`tel.storeAdd`): read it again.
    StoreChanged,
    Snapshot(tokio::sync::oneshot::Sender<Snapshot>),
}

/// What the writer tells the rest of the server.
pub trait Events: Send + 'static {
    /// The engine's contents changed (generation counts changes).
    fn changed(&self, generation: u64);
    fn log(&self, level: MessageType, message: String);
}

#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Task>,
}

impl WriterHandle {
    pub fn spawn(events: impl Events) -> WriterHandle {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("tel-lsp writer".into())
            .spawn(move || Workspace::new(events).run(rx))
            .expect("spawning the writer thread");
        WriterHandle { tx }
    }

    /// Queues a change; it applies after every change queued before it.
    pub fn send(&self, task: Task) {
        // The writer only stops when every handle is gone, so sending cannot fail while
        // this handle lives.
        let _ = self.tx.send(task);
    }

    /// A snapshot reflecting every change queued so far.
    pub async fn snapshot(&self) -> Option<Snapshot> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Task::Snapshot(tx));
        rx.await.ok()
    }
}

struct Doc {
    version: i32,
}

struct Workspace<E> {
    events: E,
    host: AnalysisHost,
    files: Arc<FileMap>,
    config: Arc<Config>,
    encoding: Encoding,
    /// The workspace folders, and project roots and loose files opened outside them.
    roots: Vec<PathBuf>,
    extra_roots: Vec<PathBuf>,
    loose: Vec<PathBuf>,
    /// Projects as loaded: the rebuild after a file appears or disappears starts from here.
    specs: Vec<ProjectSpec>,
    docs: FxHashMap<PathBuf, Doc>,
    codebase_path: Option<PathBuf>,
    store: Option<StoreHandle>,
    generation: u64,
}

impl<E: Events> Workspace<E> {
    fn new(events: E) -> Self {
        let host = AnalysisHost::default();
        let files = Arc::new(Self::file_map(&host, &FxHashMap::default()));
        Workspace {
            events,
            host,
            files,
            config: Arc::default(),
            encoding: Encoding::Utf16,
            roots: Vec::new(),
            extra_roots: Vec::new(),
            loose: Vec::new(),
            specs: Vec::new(),
            docs: FxHashMap::default(),
            codebase_path: None,
            store: None,
            generation: 0,
        }
    }

    fn run(mut self, rx: mpsc::Receiver<Task>) {
        while let Ok(task) = rx.recv() {
            let changed = match task {
                Task::Snapshot(reply) => {
                    let _ = reply.send(self.snapshot());
                    false
                }
                Task::Load { roots, encoding } => {
                    let start = std::time::Instant::now();
                    self.encoding = encoding;
                    self.roots = roots;
                    self.rebuild();
                    let files = self.files.iter().count() - 1;
                    eprintln!("tel-lsp: loaded {files} files in {:.1?}", start.elapsed());
                    true
                }
                Task::Open { uri, text, version } => self.open(uri, text, version),
                Task::Change { uri, version, changes } => self.change(&uri, version, changes),
                Task::Close { uri } => self.close(&uri),
                Task::Watched { changes } => self.watched(changes),
                Task::StoreChanged => {
                    self.codebase_path =
                        self.codebase_path.clone().or_else(|| self.find_codebase());
                    self.attach_codebase();
                    true
                }
                Task::Config(config) => {
                    let changed = *self.config != config;
                    self.config = Arc::new(config);
                    changed
                }
            };
            if changed {
                self.generation += 1;
                self.events.changed(self.generation);
            }
        }
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot {
            analysis: self.host.analysis(),
            files: self.files.clone(),
            config: self.config.clone(),
            encoding: self.encoding,
            store: self.store.clone(),
            codebase_path: self.codebase_path.clone(),
        }
    }

    fn warn(&self, message: String) {
        self.events.log(MessageType::WARNING, message);
    }

    fn file_map(host: &AnalysisHost, docs: &FxHashMap<PathBuf, (Uri, i32)>) -> FileMap {
        let analysis = host.analysis();
        let mut map = FileMap::default();
        for file in analysis.files() {
            let path = analysis.file_path(file).to_path_buf();
            let (uri, version) = match docs.get(&path) {
                Some((uri, version)) => (Some(uri.clone()), Some(*version)),
                None if file == FileId(0) => (crate::handlers::PRELUDE_URI.parse().ok(), None),
                None => (path_to_uri(&path), None),
            };
            let line_index = Arc::new(analysis.line_index(file));
            map.push(file, FileInfo { path, uri, line_index, version });
        }
        map
    }

    /// Reads a file of a project, preferring the editor's text of an open document.
    fn read(&self, path: &Path) -> Option<String> {
        if let Some(id) = self.files.by_path(path)
            && self.docs.contains_key(path)
        {
            return Some(self.host.analysis().file_text(id));
        }
        match std::fs::read(path) {
            Ok(bytes) => Some(match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(e) => {
                    self.warn(format!("{}: not UTF-8; invalid bytes replaced", path.display()));
                    String::from_utf8_lossy(e.as_bytes()).into_owned()
                }
            }),
            Err(e) => {
                self.warn(format!("{}: cannot read: {e}", path.display()));
                None
            }
        }
    }

    /// Loads everything again: the projects below the roots, the ones opened outside them
    /// and the loose documents. Needed when files appear or disappear, which the engine's
    /// projects cannot follow in place.
    fn rebuild(&mut self) {
        let mut specs: Vec<ProjectSpec> = Vec::new();
        for root in self.roots.iter().chain(&self.extra_roots) {
            match project::select(std::slice::from_ref(root)) {
                Ok(sel) => {
                    for spec in sel.projects {
                        if !specs.contains(&spec) {
                            specs.push(spec);
                        }
                    }
                }
                Err(e) => self.warn(format!("cannot load {}: {e}", root.display())),
            }
        }
        // Open documents not on disk yet belong to their project all the same.
        for path in self.docs.keys() {
            if let Some(root) = project::find_root(path)
                && let Some(spec) = specs.iter_mut().find(|s| s.root.as_deref() == Some(&root))
                && !spec.files.contains(path)
            {
                spec.files.push(path.clone());
                spec.files.sort();
            }
        }
        let covered =
            |p: &PathBuf, specs: &[ProjectSpec]| specs.iter().any(|s| s.files.contains(p));
        self.loose.retain(|p| self.docs.contains_key(p));
        for path in self.loose.clone() {
            if !covered(&path, &specs) {
                specs.push(ProjectSpec { root: None, files: vec![path] });
            }
        }
        let mut texts = Vec::new();
        for spec in &specs {
            let files: Vec<(PathBuf, String)> =
                spec.files.iter().filter_map(|p| Some((p.clone(), self.read(p)?))).collect();
            texts.push((spec.root.clone(), files));
        }
        let doc_uris: FxHashMap<PathBuf, (Uri, i32)> = self
            .docs
            .iter()
            .filter_map(|(p, d)| {
                let info = self.files.by_path(p).and_then(|id| self.files.get(id))?;
                Some((p.clone(), (info.uri.clone()?, d.version)))
            })
            .collect();
        self.host = AnalysisHost::default();
        self.specs = specs;
        self.codebase_path = self.find_codebase();
        self.attach_codebase();
        for (root, files) in texts {
            self.host.add_project(root, files);
        }
        self.files = Arc::new(Self::file_map(&self.host, &doc_uris));
    }

    /// The codebase of the workspace: `TEL_CODEBASE`, else `.tel/codebase.sqlite` in the
    /// first project's root (as `tel check` does).
    fn find_codebase(&self) -> Option<PathBuf> {
        let start = self
            .specs
            .iter()
            .find_map(|s| s.root.clone())
            .or_else(|| self.roots.first().cloned())?;
        tel_store::location::codebase_path(&start).ok()
    }

    /// (Re)attaches the codebase to the engine and reopens the server's own connection: after
    /// a `tel store add` elsewhere, `#hash` references and store status must be re-read.
    fn attach_codebase(&mut self) {
        let Some(path) = self.codebase_path.clone() else { return };
        if !path.exists() {
            if self.store.take().is_some() {
                self.warn(format!(
                    "the codebase {} is gone; `#hash` references no longer resolve",
                    path.display()
                ));
            }
            self.host.set_codebase(None);
            return;
        }
        match tel_store::Store::open_existing(&path) {
            Ok(store) => self.host.set_codebase(Some(tel_ide::codebase::Codebase::new(store))),
            Err(e) => {
                self.warn(format!("`#hash` references cannot be resolved: {e}"));
                self.host.set_codebase(None);
            }
        }
        self.store = tel_store::Store::open_existing(&path).ok().map(|s| Arc::new(Mutex::new(s)));
    }

    fn set_text(&mut self, file: FileId, text: String, version: Option<i32>) {
        let line_index = Arc::new(LineIndex::new(&text));
        self.host.set_file_text(file, text);
        let files = Arc::make_mut(&mut self.files);
        if let Some(info) = files.get_mut(file) {
            info.line_index = line_index;
            info.version = version;
        }
    }

    fn open(&mut self, uri: Uri, text: String, version: i32) -> bool {
        let path = uri_to_path(&uri);
        self.docs.insert(path.clone(), Doc { version });
        if let Some(file) = self.files.by_path(&path) {
            if let Some(info) = Arc::make_mut(&mut self.files).get_mut(file) {
                info.uri = Some(uri);
            }
            self.set_text(file, text, Some(version));
            return true;
        }
        // A file the workspace does not have: load its project, or check it alone.
        match project::find_root(&path) {
            Some(root) if !self.specs.iter().any(|s| s.root.as_deref() == Some(&root)) => {
                self.extra_roots.push(root);
            }
            Some(_) => {}
            None => self.loose.push(path.clone()),
        }
        // The rebuild reads the text of open documents from the engine: put it there first
        // by treating it as a loose file until the rebuild places it.
        let ids = self.host.add_project(None, vec![(path.clone(), text)]);
        let files = Arc::make_mut(&mut self.files);
        for id in ids {
            let line_index = Arc::new(self.host.analysis().line_index(id));
            files.push(
                id,
                FileInfo {
                    path: path.clone(),
                    uri: Some(uri.clone()),
                    line_index,
                    version: Some(version),
                },
            );
        }
        if !self.loose.contains(&path) {
            self.rebuild();
        } else {
            self.specs.push(ProjectSpec { root: None, files: vec![path] });
        }
        true
    }

    fn change(
        &mut self,
        uri: &Uri,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    ) -> bool {
        let path = uri_to_path(uri);
        let (Some(doc), Some(file)) = (self.docs.get_mut(&path), self.files.by_path(&path)) else {
            self.warn(format!(
                "textDocument/didChange for {}, which is not open: ignored (send didOpen first)",
                uri.as_str()
            ));
            return false;
        };
        doc.version = version;
        let mut text = self.host.analysis().file_text(file);
        for change in changes {
            match change.range {
                None => text = change.text,
                Some(range) => {
                    let index = LineIndex::new(&text);
                    let start = convert::offset_clamped(&index, range.start, self.encoding);
                    let end = convert::offset_clamped(&index, range.end, self.encoding);
                    let start = convert::floor_char_boundary(&text, start);
                    let end = convert::floor_char_boundary(&text, end);
                    let range = TextRange::new(start.min(end), end.max(start));
                    text.replace_range(std::ops::Range::<usize>::from(range), &change.text);
                }
            }
        }
        self.set_text(file, text, Some(version));
        true
    }

    fn close(&mut self, uri: &Uri) -> bool {
        let path = uri_to_path(uri);
        if self.docs.remove(&path).is_none() {
            self.warn(format!(
                "textDocument/didClose for {}, which is not open: ignored",
                uri.as_str()
            ));
            return false;
        }
        let Some(file) = self.files.by_path(&path) else { return false };
        // The file on disk is the truth again (unsaved edits are dropped, as the editor did).
        match std::fs::read_to_string(&path) {
            Ok(text) => self.set_text(file, text, None),
            Err(_) => {
                if let Some(info) = Arc::make_mut(&mut self.files).get_mut(file) {
                    info.version = None;
                }
            }
        }
        true
    }

    fn watched(&mut self, changes: Vec<FileEvent>) -> bool {
        let mut rebuild = false;
        let mut store = false;
        let mut changed = false;
        for event in changes {
            let path = uri_to_path(&event.uri);
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with("codebase.sqlite") {
                store = true;
                continue;
            }
            if name == project::MANIFEST {
                rebuild = true;
                continue;
            }
            if path.extension().is_none_or(|e| e != "tel") {
                continue;
            }
            match event.typ {
                FileChangeType::CREATED | FileChangeType::DELETED => {
                    let known = self.files.by_path(&path).is_some();
                    // A created file inside the workspace, or a known file gone.
                    let inside =
                        self.roots.iter().chain(&self.extra_roots).any(|r| path.starts_with(r));
                    if known || inside {
                        rebuild = true;
                    }
                }
                _ => {
                    // An open document's text is the editor's, not the disk's.
                    if self.docs.contains_key(&path) {
                        continue;
                    }
                    if let Some(file) = self.files.by_path(&path)
                        && let Ok(text) = std::fs::read_to_string(&path)
                        && text != self.host.analysis().file_text(file)
                    {
                        self.set_text(file, text, None);
                        changed = true;
                    }
                }
            }
        }
        if rebuild {
            self.rebuild();
        } else if store {
            self.codebase_path = self.codebase_path.clone().or_else(|| self.find_codebase());
            self.attach_codebase();
        }
        rebuild || store || changed
    }
}
