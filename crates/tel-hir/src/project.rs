//! The whole pipeline over a fixed set of files, without salsa: for tests, benchmarks and
//! tools that check a project once. Signatures are memoized; everything else is computed on
//! demand. `tel-ide` does the same incrementally.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use smol_str::SmolStr;
use tel_hash::core::CoreDef;
use tel_hash::{CodeHash, HashPrefix, ResolveError as HashResolveError};
use tel_syntax::ast;

use crate::body::{Body, BodySourceMap};
use crate::def_map::{DefMap, FileId, ModuleInput};
use crate::diagnostics::{Anchored, CheckedItems, Diagnostic, file_diagnostics};
use crate::infer::{InferenceResult, infer};
use crate::item_tree::{Item, ItemPart, ItemTree, ItemTreeSourceMap, LocalItemId};
use crate::lower_core::{LowerError, lower_to_core};
use crate::prelude::PRELUDE_SOURCE;
use crate::signature::{HashDef, HirDatabase, check_type_alias, item_signature};
use crate::ty::{DefId, DefRef, ModuleName, Signature};

/// A signature with the diagnostics about its written types.
type SignatureEntry = (Arc<Signature>, Vec<crate::diagnostics::Anchored<ItemPart>>);

/// One parsed file of a [`Project`].
pub struct ProjectFile {
    pub id: FileId,
    pub path: String,
    pub text: String,
    pub module: ModuleName,
    pub syntax_errors: Vec<tel_syntax::SyntaxError>,
    pub tree: ast::SourceFile,
    pub item_tree: Arc<ItemTree>,
    pub source_map: ItemTreeSourceMap,
    /// The syntax node of the first item of each name.
    items_by_name: FxHashMap<SmolStr, ast::Item>,
}

/// A definition checked end to end.
pub struct CheckedDef {
    pub def: DefId,
    pub signature: Arc<Signature>,
    pub body: Option<(Body, BodySourceMap, InferenceResult)>,
}

pub struct Project {
    files: Vec<ProjectFile>,
    def_map: Arc<DefMap>,
    stored: BTreeMap<CodeHash, Arc<Signature>>,
    signatures: RefCell<FxHashMap<DefRef, SignatureEntry>>,
}

/// The module a file defines: its `module` declaration, else its file stem.
pub fn module_name(path: &str, tree: &ItemTree) -> ModuleName {
    if let Some(decl) = &tree.module_decl {
        return decl.to_string().into();
    }
    let file = path.rsplit('/').next().unwrap_or(path);
    SmolStr::new(file.strip_suffix(".tel").unwrap_or(file))
}

impl Project {
    /// Parses and indexes `files` (`(path, text)`); the prelude is added as file 0.
    pub fn new(files: impl IntoIterator<Item = (String, String)>) -> Project {
        Project::with_stored(files, BTreeMap::new())
    }

    /// Like [`Project::new`], with stored definitions that `#hash` references can name.
    pub fn with_stored(
        files: impl IntoIterator<Item = (String, String)>,
        stored: BTreeMap<CodeHash, Arc<Signature>>,
    ) -> Project {
        let all =
            std::iter::once(("<prelude>".to_string(), PRELUDE_SOURCE.to_string())).chain(files);
        let mut out = Vec::new();
        for (i, (path, text)) in all.enumerate() {
            let parse = tel_syntax::parse(&text);
            let tree = parse.tree();
            let (item_tree, source_map) = ItemTree::lower(&tree);
            let module = module_name(&path, &item_tree);
            let mut items_by_name = FxHashMap::default();
            for node in tree.items() {
                if let Some(name) = node.name() {
                    items_by_name.entry(name.text()).or_insert(node);
                }
            }
            out.push(ProjectFile {
                items_by_name,
                id: FileId(i as u32),
                path,
                text,
                module,
                syntax_errors: parse.errors,
                tree,
                item_tree: Arc::new(item_tree),
                source_map,
            });
        }
        let inputs: Vec<ModuleInput> = out
            .iter()
            .map(|f| ModuleInput {
                file: f.id,
                name: f.module.clone(),
                item_tree: f.item_tree.clone(),
            })
            .collect();
        let def_map = Arc::new(DefMap::build(&inputs));
        Project { files: out, def_map, stored, signatures: RefCell::new(FxHashMap::default()) }
    }

    pub fn files(&self) -> &[ProjectFile] {
        &self.files
    }

    pub fn file(&self, path: &str) -> Option<&ProjectFile> {
        self.files.iter().find(|f| f.path == path)
    }

    /// The file that defines `module` (the first, if several do).
    fn module_file(&self, module: &str) -> Option<&ProjectFile> {
        let data = self.def_map.module(module)?;
        self.files.iter().find(|f| f.id == data.file)
    }

    fn signature_with_diagnostics(&self, def: &DefId) -> Option<SignatureEntry> {
        let key = DefRef::Def(def.clone());
        if let Some(hit) = self.signatures.borrow().get(&key) {
            return Some(hit.clone());
        }
        let file = self.module_file(&def.module)?;
        let (_, item) = file.item_tree.item_by_name(&def.name)?;
        let (sig, diags) = item_signature(self, &def.module, item);
        let entry = (Arc::new(sig), diags);
        self.signatures.borrow_mut().insert(key, entry.clone());
        Some(entry)
    }

    /// Checks one item of a file: its signature and, if it has one, its body.
    pub fn check_item(&self, file: &ProjectFile, id: LocalItemId) -> Option<CheckedDef> {
        let item = &file.item_tree.items[id];
        let def = DefId::new(file.module.clone(), item.name.clone());
        // A duplicate (a later item with a taken name) is only reported, not checked.
        if file.item_tree.item_by_name(&item.name).map(|(first, _)| first) != Some(id) {
            return None;
        }
        if self.def_map.module(&file.module)?.file != file.id {
            return None;
        }
        let (signature, _) = self.signature_with_diagnostics(&def)?;
        let body =
            file.items_by_name.get(&item.name).and_then(Body::lower_item).map(|(body, sm)| {
                let result = infer(self, &def, item, &body);
                (body, sm, result)
            });
        Some(CheckedDef { def, signature, body })
    }

    /// Every diagnostic of the project, by file path, each list sorted by position.
    pub fn diagnostics(&self) -> BTreeMap<String, Vec<Diagnostic>> {
        let mut out: BTreeMap<String, Vec<Diagnostic>> = BTreeMap::new();
        for file in &self.files {
            let list = out.entry(file.path.clone()).or_default();
            for e in &file.syntax_errors {
                list.push(Diagnostic {
                    range: e.range,
                    severity: crate::diagnostics::Severity::Error,
                    message: e.message.clone(),
                    code: "E0001 syntax",
                });
            }
            let defines_module =
                self.def_map.module(&file.module).is_some_and(|m| m.file == file.id);
            let scope = self.def_map.diagnostics().iter().filter(|(f, _)| *f == file.id);
            list.extend(file_diagnostics(
                &file.item_tree,
                &file.source_map,
                &file.syntax_errors,
                scope.map(|(_, d)| d),
                defines_module,
                &FileChecks { project: self, file },
            ));
            list.sort_by_key(|d| (d.range.start(), d.range.end()));
        }
        out
    }

    /// Every project definition (prelude included) lowered to core IR, by qualified name.
    pub fn core_defs(&self) -> BTreeMap<SmolStr, Result<CoreDef, LowerError>> {
        let mut out = BTreeMap::new();
        for file in &self.files {
            for (id, _) in file.item_tree.items.iter() {
                let Some(checked) = self.check_item(file, id) else { continue };
                let body = checked.body.as_ref().map(|(b, _, r)| (b, r));
                out.insert(checked.def.qualified(), lower_to_core(self, &checked.signature, body));
            }
        }
        out
    }

    /// Checks the item at `$0`-style `offset` of `path`, for tests and tools.
    pub fn item_at(
        &self,
        path: &str,
        offset: crate::TextSize,
    ) -> Option<(&ProjectFile, LocalItemId)> {
        let file = self.file(path)?;
        let id = file
            .source_map
            .items
            .iter()
            .find(|(_, sm)| sm.range.contains_inclusive(offset))
            .map(|(id, _)| id)?;
        Some((file, id))
    }
}

/// One file's items as [`Project`] checks them.
struct FileChecks<'a> {
    project: &'a Project,
    file: &'a ProjectFile,
}

impl FileChecks<'_> {
    fn def(&self, item: &Item) -> DefId {
        DefId::new(self.file.module.clone(), item.name.clone())
    }
}

impl CheckedItems for FileChecks<'_> {
    fn signature_diagnostics(&self, _: LocalItemId, item: &Item) -> Vec<Anchored<ItemPart>> {
        self.project.signature_with_diagnostics(&self.def(item)).map(|(_, d)| d).unwrap_or_default()
    }

    fn alias_diagnostic(&self, _: LocalItemId, item: &Item) -> Option<Anchored<ItemPart>> {
        check_type_alias(self.project, &self.def(item))
    }

    fn with_body(
        &self,
        id: LocalItemId,
        _: &Item,
        f: &mut dyn FnMut(&InferenceResult, &BodySourceMap),
    ) {
        if let Some(CheckedDef { body: Some((_, bsm, result)), .. }) =
            self.project.check_item(self.file, id)
        {
            f(&result, &bsm);
        }
    }
}

impl HirDatabase for Project {
    fn def_map(&self) -> Arc<DefMap> {
        self.def_map.clone()
    }

    fn signature(&self, def: &DefRef) -> Option<Arc<Signature>> {
        match def {
            DefRef::Def(d) => self.signature_with_diagnostics(d).map(|(s, _)| s),
            DefRef::Hash(h) => self.stored.get(h).cloned(),
        }
    }

    fn resolve_hash(&self, prefix: &HashPrefix) -> Result<HashDef, HashResolveError> {
        let hash = tel_hash::resolve_prefix(prefix, self.stored.keys().copied())?;
        Ok(HashDef { hash, kind: self.stored[&hash].kind() })
    }
}
