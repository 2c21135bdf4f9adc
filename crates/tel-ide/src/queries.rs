//! Tracked queries over `tel-hir`: parse → item tree → def map → signature → body →
//! inference → core IR → hash, each memoized per file or per definition.
//!
//! The split of every "thing with positions" into a position-free value and a separate source
//! map is what makes editing one function body cheap: the item tree and the other bodies of
//! the file compare equal after the edit, salsa backdates them, and nothing that depends
//! only on them re-runs.

use std::collections::BTreeSet;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use smol_str::SmolStr;
use tel_hash::core::CoreDef;
use tel_hash::{CodeHash, HashedComponent, HashedMember};
use tel_hir::diagnostics::{Anchored, CheckedItems, file_diagnostics};
use tel_hir::item_tree::{ItemPart, LocalItemId};
use tel_hir::{
    Body, BodySourceMap, DefId, DefMap, DefRef, HashDef, HirDatabase, InferenceResult, ItemTree,
    ItemTreeSourceMap, LowerError, ModuleInput, Signature,
};
use tel_syntax::ast::AstNode;

use crate::db::{Db, LayoutEntry, Project, SourceFile, parse};

/// A definition of a project, by module and name (stable across edits of other items).
#[salsa::interned(debug)]
pub struct DefLoc<'db> {
    #[returns(copy)]
    pub project: Project,
    #[returns(ref)]
    pub def: DefId,
}

#[salsa::tracked(returns(ref), no_eq)]
pub fn item_tree_with_map(
    db: &dyn Db,
    file: SourceFile,
) -> (Arc<ItemTree>, Arc<ItemTreeSourceMap>) {
    let (tree, map) = ItemTree::lower(&parse(db, file).tree());
    (Arc::new(tree), Arc::new(map))
}

/// The declarations of a file without positions: equal across edits inside bodies. The
/// host's copy ([`SourceFile::items`]), so that reading it does not depend on the text.
pub fn item_tree(db: &dyn Db, file: SourceFile) -> Arc<ItemTree> {
    file.items(db)
}

#[salsa::tracked(returns(clone))]
pub fn module_name(db: &dyn Db, file: SourceFile) -> SmolStr {
    let path = file.path(db).to_string_lossy();
    tel_hir::project::module_name(&path, &item_tree(db, file))
}

/// hir's file ids are positions in the project's file list (the prelude is position 0).
fn hir_file(project_files: &[SourceFile], file: SourceFile) -> tel_hir::FileId {
    let pos = project_files.iter().position(|f| *f == file).expect("file belongs to project");
    tel_hir::FileId(pos as u32)
}

/// What the host keeps of a file for the project layout: its module and the modules it may
/// import (over-approximated: `use a::b` names module `a`, or module `a::b`).
#[salsa::tracked(returns(clone))]
pub fn file_layout(db: &dyn Db, file: SourceFile) -> LayoutEntry {
    let tree = item_tree(db, file);
    let mut imports: Vec<SmolStr> = Vec::new();
    for (_, u) in tree.uses.iter() {
        let mut segments = u.module.segments.clone();
        if !segments.is_empty() {
            imports.push(join(&segments));
        }
        if let Some(first) = u.names.first() {
            segments.push(first.name.clone());
            imports.push(join(&segments));
        }
    }
    imports.sort();
    imports.dedup();
    LayoutEntry { file, module: module_name(db, file), imports }
}

fn join(segments: &[SmolStr]) -> SmolStr {
    SmolStr::new(segments.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("::"))
}

/// A module of a project.
#[salsa::interned(debug)]
pub struct ModuleLoc<'db> {
    #[returns(copy)]
    pub project: Project,
    #[returns(ref)]
    pub name: SmolStr,
}

/// The modules `module` reaches through `use`, transitively (itself only if it is in a cycle),
/// plus the prelude. Reads only the layout, which changes when imports change.
#[salsa::tracked(returns(clone))]
pub fn reachable_modules<'db>(db: &'db dyn Db, module: ModuleLoc<'db>) -> Arc<BTreeSet<SmolStr>> {
    let layout = module.project(db).layout(db);
    let mut seen = BTreeSet::new();
    let mut stack: Vec<SmolStr> = layout.imports_of(module.name(db)).cloned().collect();
    while let Some(m) = stack.pop() {
        if layout.defines(&m) && seen.insert(m.clone()) {
            stack.extend(layout.imports_of(&m).cloned());
        }
    }
    if module.name(db) != tel_hir::PRELUDE_MODULE {
        seen.insert(SmolStr::new(tel_hir::PRELUDE_MODULE));
    }
    Arc::new(seen)
}

/// The scopes a module sees: a def map over the module and what it reaches only, so an edit
/// in a module leaves the def maps of modules that do not import it untouched (and their
/// durability MEDIUM, which lets salsa skip verifying everything built on them).
#[salsa::tracked(returns(clone))]
pub fn module_def_map<'db>(db: &'db dyn Db, module: ModuleLoc<'db>) -> Arc<DefMap> {
    let project = module.project(db);
    let reach = reachable_modules(db, module);
    let inputs: Vec<ModuleInput> = project
        .layout(db)
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.module == *module.name(db) || reach.contains(&e.module))
        .map(|(i, e)| ModuleInput {
            file: tel_hir::FileId(i as u32),
            name: e.module.clone(),
            item_tree: item_tree(db, e.file),
        })
        .collect();
    Arc::new(DefMap::build(&inputs))
}

/// The file defining `module` in `project` (the first, if several claim it).
pub fn module_file(db: &dyn Db, project: Project, module: &str) -> Option<SourceFile> {
    project.layout(db).entries.iter().find(|e| e.module == module).map(|e| e.file)
}

/// Modules in dependency order (imports first); modules in an import cycle come last.
#[salsa::tracked(returns(clone))]
pub fn module_order(db: &dyn Db, project: Project) -> Arc<[SmolStr]> {
    let layout = project.layout(db);
    let mut names: Vec<SmolStr> = layout.entries.iter().map(|e| e.module.clone()).collect();
    names.sort();
    names.dedup();
    let mut done: BTreeSet<SmolStr> = BTreeSet::new();
    let mut order = Vec::with_capacity(names.len());
    // Repeatedly take every module whose imports are all done: deterministic, and cycles
    // (which never become ready) are appended at the end.
    loop {
        let ready: Vec<SmolStr> = names
            .iter()
            .filter(|m| !done.contains(*m))
            .filter(|m| {
                layout.imports_of(m).all(|i| done.contains(i) || !layout.defines(i) || i == *m)
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            break;
        }
        for m in ready {
            done.insert(m.clone());
            order.push(m);
        }
    }
    order.extend(names.into_iter().filter(|m| !done.contains(m)));
    order.into()
}

/// Answers hir's questions about other definitions with salsa queries, from the point of view
/// of one module.
pub struct HirDb<'db> {
    pub db: &'db dyn Db,
    pub project: Project,
    pub module: SmolStr,
}

impl<'db> HirDb<'db> {
    pub fn new(db: &'db dyn Db, project: Project, module: &SmolStr) -> Self {
        HirDb { db, project, module: module.clone() }
    }
}

impl HirDatabase for HirDb<'_> {
    fn def_map(&self) -> Arc<DefMap> {
        module_def_map(self.db, ModuleLoc::new(self.db, self.project, self.module.clone()))
    }

    fn signature(&self, def: &DefRef) -> Option<Arc<Signature>> {
        match def {
            DefRef::Def(d) => signature(self.db, DefLoc::new(self.db, self.project, d.clone())),
            DefRef::Hash(h) => stored_signature(self.db, StoredLoc::new(self.db, self.project, *h)),
        }
    }

    fn resolve_hash(
        &self,
        prefix: &tel_hash::HashPrefix,
    ) -> Result<HashDef, tel_hash::ResolveError> {
        match self.project.codebase(self.db).codebase(self.db) {
            Some(codebase) => codebase.resolve(prefix),
            None => Err(tel_hash::ResolveError::NotFound { prefix: prefix.clone() }),
        }
    }
}

/// A stored definition, seen from a project.
#[salsa::interned(debug)]
pub struct StoredLoc<'db> {
    #[returns(copy)]
    pub project: Project,
    #[returns(copy)]
    pub hash: CodeHash,
}

/// The signature of a stored definition, with the prelude's hashes mapped back to the
/// prelude's definitions, so that a stored function performing `Log` is seen to perform
/// the `Log` that source code names. (Other project definitions it names stay hashes.)
#[salsa::tracked(returns(clone))]
fn stored_signature<'db>(db: &'db dyn Db, stored: StoredLoc<'db>) -> Option<Arc<Signature>> {
    let project = stored.project(db);
    let codebase = project.codebase(db).codebase(db).clone()?;
    let (_, sig) = codebase.signature(&stored.hash(db))?;
    let prelude = prelude_hashes(db, project);
    let sig = tel_hir::stored::map_refs(&sig, &mut |r| match r {
        DefRef::Hash(h) => prelude.get(h).map_or_else(|| r.clone(), |d| DefRef::Def(d.clone())),
        DefRef::Def(_) => r.clone(),
    });
    Some(Arc::new(sig))
}

/// The prelude's definitions by hash. The prelude depends on nothing, so this never
/// depends on the code being checked.
#[salsa::tracked(returns(clone))]
fn prelude_hashes(db: &dyn Db, project: Project) -> Arc<FxHashMap<CodeHash, DefId>> {
    let prelude = ModuleLoc::new(db, project, SmolStr::new(tel_hir::PRELUDE_MODULE));
    let comps = module_components(db, prelude);
    let defs = comps.members.iter().flatten();
    let hashes =
        defs.filter_map(|d| Some((def_hash(db, DefLoc::new(db, project, d.clone()))?, d.clone())));
    Arc::new(hashes.collect())
}

type SigEntry = (Arc<Signature>, Arc<[Anchored<ItemPart>]>);

#[salsa::tracked(returns(clone))]
fn signature_with_diagnostics<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Option<SigEntry> {
    let d = def.def(db);
    let file = module_file(db, def.project(db), &d.module)?;
    let tree = item_tree(db, file);
    let (_, item) = tree.item_by_name(&d.name)?;
    let hir = HirDb::new(db, def.project(db), &d.module);
    let (sig, diags) = tel_hir::item_signature(&hir, &d.module, item);
    Some((Arc::new(sig), diags.into()))
}

pub fn signature<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Option<Arc<Signature>> {
    signature_with_diagnostics(db, def).map(|(s, _)| s)
}

/// A body with its positions in the file. Lowering runs on the item alone ([`item_body`]),
/// so an edit elsewhere in the file only moves the ranges of this one.
#[salsa::tracked(returns(ref), no_eq)]
pub fn body_with_source_map<'db>(
    db: &'db dyn Db,
    def: DefLoc<'db>,
) -> Option<(Arc<Body>, Arc<BodySourceMap>)> {
    let (body, relative) = item_body(db, def).as_ref()?;
    let d = def.def(db);
    let file = module_file(db, def.project(db), &d.module)?;
    let start = item_ptrs(db, file).get(&d.name)?.text_range().start();
    Some((body.clone(), Arc::new(relative.shifted(start))))
}

/// An item's syntax as a tree of its own: the green node, which an edit elsewhere in the
/// file leaves as it was (the reparse keeps unchanged subtrees), so what depends on it is
/// not recomputed.
#[salsa::tracked(returns(clone))]
pub fn item_syntax<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Option<ItemGreen> {
    let d = def.def(db);
    let file = module_file(db, def.project(db), &d.module)?;
    let ptr = item_ptrs(db, file).get(&d.name)?;
    Some(ItemGreen(ptr.to_node(&parse(db, file).syntax_node()).green().into_owned()))
}

/// An item's green node, compared by identity first: after a reparse an unchanged item has
/// the very same node, and a deep comparison of every item of the file on each keystroke
/// would cost more than the reparse.
#[derive(Clone, Debug, Eq)]
pub struct ItemGreen(pub tel_syntax::GreenNode);

impl PartialEq for ItemGreen {
    fn eq(&self, other: &ItemGreen) -> bool {
        std::ptr::eq::<tel_syntax::GreenNodeData>(&*self.0, &*other.0) || self.0 == other.0
    }
}

/// A body lowered from its item alone: the source map's ranges count from the item's start.
#[salsa::tracked(returns(ref), no_eq)]
fn item_body<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Option<(Arc<Body>, Arc<BodySourceMap>)> {
    let root = tel_syntax::SyntaxNode::new_root(item_syntax(db, def)?.0);
    let node = tel_syntax::ast::Item::cast(root)?;
    let (body, map) = Body::lower_item(&node)?;
    Some((Arc::new(body), Arc::new(map)))
}

/// Where each item of a file is (the first of each name), so finding one item's syntax is
/// not a walk over all of them.
/// Compared after each run: when an edit moved no item, nothing that places a body in the
/// file runs again.
#[salsa::tracked(returns(ref))]
pub fn item_ptrs(db: &dyn Db, file: SourceFile) -> FxHashMap<SmolStr, tel_syntax::SyntaxNodePtr> {
    let mut out = FxHashMap::default();
    for item in parse(db, file).tree().items() {
        if let Some(name) = item.name() {
            out.entry(SmolStr::new(name.text()))
                .or_insert_with(|| tel_syntax::SyntaxNodePtr::new(item.syntax()));
        }
    }
    out
}

/// A body without positions: equal when only other items of the file changed.
#[salsa::tracked(returns(clone))]
pub fn body<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Option<Arc<Body>> {
    item_body(db, def).as_ref().map(|(b, _)| b.clone())
}

#[salsa::tracked(returns(clone))]
pub fn infer<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Option<Arc<InferenceResult>> {
    let body = body(db, def)?;
    let d = def.def(db);
    let file = module_file(db, def.project(db), &d.module)?;
    let tree = item_tree(db, file);
    let (_, item) = tree.item_by_name(&d.name)?;
    let hir = HirDb::new(db, def.project(db), &d.module);
    Some(Arc::new(tel_hir::infer(&hir, d, item, &body)))
}

/// The normalized form, or why there is none (errors in the definition).
#[salsa::tracked(returns(clone))]
pub fn core_def<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Result<Arc<CoreDef>, LowerError> {
    let no_def = || LowerError { reason: format!("`{}` is not defined", def.def(db).qualified()) };
    let sig = signature(db, def).ok_or_else(no_def)?;
    let body = body(db, def);
    let inferred = infer(db, def);
    let hir = HirDb::new(db, def.project(db), &def.def(db).module);
    let pair = body.as_deref().zip(inferred.as_deref());
    tel_hir::lower_to_core(&hir, &sig, pair).map(Arc::new)
}

/// The project definitions a definition refers to (backdated when only its body's constants
/// changed, so the dependency graph stays put).
#[salsa::tracked(returns(clone))]
pub fn def_deps<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Arc<[SmolStr]> {
    match core_def(db, def) {
        Ok(core) => tel_hash::deps(&core).into(),
        Err(_) => Arc::from([]),
    }
}

/// The mutually recursive components of one module's definitions. Mutual recursion never
/// crosses modules: that would need a cycle of `use`s, which is an error.
#[derive(Debug, PartialEq, Eq)]
pub struct Components {
    pub component_of: FxHashMap<DefId, u32>,
    /// Dependencies first.
    pub members: Vec<Vec<DefId>>,
}

#[salsa::tracked(returns(clone))]
pub fn module_components<'db>(db: &'db dyn Db, module: ModuleLoc<'db>) -> Arc<Components> {
    let project = module.project(db);
    let name = module.name(db);
    let map = module_def_map(db, module);
    let defs: Vec<DefId> = map
        .module(name)
        .map(|data| data.items.keys().map(|item| DefId::new(name.clone(), item.clone())).collect())
        .unwrap_or_default();
    let index: FxHashMap<SmolStr, usize> =
        defs.iter().enumerate().map(|(i, d)| (d.qualified(), i)).collect();
    let successors: Vec<Vec<usize>> = defs
        .iter()
        .map(|d| {
            let deps = def_deps(db, DefLoc::new(db, project, d.clone()));
            deps.iter().filter_map(|n| index.get(n).copied()).collect()
        })
        .collect();
    let mut component_of = FxHashMap::default();
    let mut members = Vec::new();
    for (c, scc) in tel_hash::sccs(&successors).into_iter().enumerate() {
        let scc: Vec<DefId> = scc.into_iter().map(|i| defs[i].clone()).collect();
        for d in &scc {
            component_of.insert(d.clone(), c as u32);
        }
        members.push(scc);
    }
    Arc::new(Components { component_of, members })
}

/// `module::item` → its parts (module paths contain `::`, item names never do).
fn split_qualified(name: &str) -> Option<DefId> {
    let (module, item) = name.rsplit_once("::")?;
    Some(DefId::new(module, item))
}

/// How a definition is hashed, from its own core IR and its module's components only: what
/// stays put when a dependency's hash changes, so that re-hashing a dependent is filling
/// its template's holes and one BLAKE3, not a walk over its core IR.
#[derive(Debug, PartialEq, Eq, salsa::SalsaValue)]
pub enum HashPlan<'db> {
    /// Alone in its component: the hash is `template.hash(hashes of deps)`, with `deps` in
    /// the order of [`tel_hash::DefTemplate::deps`].
    Alone { template: Arc<tel_hash::DefTemplate>, deps: Vec<DefLoc<'db>> },
    /// A member of a mutually recursive component (or a definition whose bytes a template
    /// cannot give): hashed with its component by [`hashed_component`].
    InComponent,
    /// It has errors, or refers to a definition it may not depend on.
    Unhashable,
}

#[salsa::tracked(returns(ref))]
pub fn hash_plan<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> HashPlan<'db> {
    let project = def.project(db);
    let d = def.def(db);
    let here = ModuleLoc::new(db, project, d.module.clone());
    let comps = module_components(db, here);
    let Some(&c) = comps.component_of.get(d) else { return HashPlan::Unhashable };
    if comps.members[c as usize].len() != 1 {
        return HashPlan::InComponent;
    }
    let Ok(core) = core_def(db, def) else { return HashPlan::Unhashable };
    let template = match tel_hash::DefTemplate::new(&d.qualified(), &core) {
        Ok(Some(template)) => template,
        Ok(None) => return HashPlan::InComponent,
        Err(_) => return HashPlan::Unhashable,
    };
    let reach = reachable_modules(db, here);
    let mut deps = Vec::with_capacity(template.deps().len());
    for dep in template.deps() {
        match dependency(db, project, &d.module, &reach, dep) {
            Some(dep) => deps.push(DefLoc::new(db, project, dep)),
            None => return HashPlan::Unhashable,
        }
    }
    HashPlan::Alone { template: Arc::new(template), deps }
}

/// A dependency `dep` (qualified) of a definition of `module`, if it may depend on it:
/// across modules only along acyclic imports. A `use` cycle is an error, and following it
/// would make a hash depend on itself.
fn dependency(
    db: &dyn Db,
    project: Project,
    module: &SmolStr,
    reach: &BTreeSet<SmolStr>,
    dep: &str,
) -> Option<DefId> {
    let dep_def = split_qualified(dep)?;
    if dep_def.module != *module {
        let there = ModuleLoc::new(db, project, dep_def.module.clone());
        if !reach.contains(&dep_def.module) || reachable_modules(db, there).contains(module) {
            return None;
        }
    }
    Some(dep_def)
}

/// The mutually recursive component a definition belongs to, hashed (a definition alone is a
/// component of one with no component hash). `None` while a member, or a definition they
/// depend on, has errors.
#[salsa::tracked(returns(clone))]
pub fn hashed_component<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Option<Arc<HashedComponent>> {
    match hash_plan(db, def) {
        HashPlan::Alone { template, deps } => {
            let bytes = template.bytes(&dep_hashes(db, deps)?);
            let name = def.def(db).qualified();
            let member = HashedMember { name, hash: tel_hash::hash_bytes(&bytes), bytes };
            return Some(Arc::new(HashedComponent { component: None, members: vec![member] }));
        }
        HashPlan::Unhashable => return None,
        HashPlan::InComponent => {}
    }
    let project = def.project(db);
    let module = &def.def(db).module;
    let here = ModuleLoc::new(db, project, module.clone());
    let comps = module_components(db, here);
    let c = *comps.component_of.get(def.def(db))?;
    let members = &comps.members[c as usize];
    let mut cores = Vec::with_capacity(members.len());
    let mut member_deps = Vec::with_capacity(members.len());
    for m in members {
        let loc = DefLoc::new(db, project, m.clone());
        cores.push((m.qualified(), core_def(db, loc).ok()?));
        // memoized: a dependency's new hash re-runs this query, not the walk for names
        member_deps.push(def_deps(db, loc));
    }
    let in_component: FxHashSet<&SmolStr> = cores.iter().map(|(n, _)| n).collect();
    let reach = reachable_modules(db, here);
    // Hash every external dependency first; a missing one makes this definition unhashable.
    let mut external: FxHashMap<SmolStr, CodeHash> = FxHashMap::default();
    for deps in &member_deps {
        for dep in deps.iter() {
            if in_component.contains(dep) || external.contains_key(dep) {
                continue;
            }
            let dep_def = dependency(db, project, module, &reach, dep)?;
            external.insert(dep.clone(), def_hash(db, DefLoc::new(db, project, dep_def))?);
        }
    }
    let pairs: Vec<(SmolStr, &CoreDef)> = cores.iter().map(|(n, c)| (n.clone(), &**c)).collect();
    tel_hash::hash_component_full(&pairs, &|n| external.get(n).copied()).ok().map(Arc::new)
}

/// The hashes of `deps`, or `None` if one has none.
fn dep_hashes(db: &dyn Db, deps: &[DefLoc<'_>]) -> Option<Vec<CodeHash>> {
    deps.iter().map(|&d| def_hash(db, d)).collect()
}

/// A definition hashed within its component: its hash and canonical bytes (what the store
/// keeps). `None` while it, or a definition it depends on, has errors.
///
/// Not a query of its own: the component's memo already stops re-hashing when a component
/// comes out equal.
pub fn hashed<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Option<Arc<HashedMember>> {
    let me = def.def(db).qualified();
    let component = hashed_component(db, def)?;
    component.members.iter().find(|m| m.name == me).cloned().map(Arc::new)
}

/// The content hash of a definition; `None` while it (or a dependency) has errors. A query:
/// every dependent asks for it. A definition alone in its component (most are) is hashed
/// here from its [`hash_plan`], so a dependency's new hash re-runs this one query per
/// dependent, which compares and returns 32 bytes.
#[salsa::tracked(returns(copy))]
pub fn def_hash<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Option<CodeHash> {
    match hash_plan(db, def) {
        HashPlan::Alone { template, deps } => Some(template.hash(&dep_hashes(db, deps)?)),
        HashPlan::Unhashable => None,
        HashPlan::InComponent => {
            let me = def.def(db).qualified();
            let component = hashed_component(db, def)?;
            component.members.iter().find(|m| m.name == me).map(|m| m.hash)
        }
    }
}

/// Every diagnostic of a file from resolution, signatures and inference (not syntax).
#[salsa::tracked(returns(ref))]
pub fn semantic_diagnostics(
    db: &dyn Db,
    project: Project,
    file: SourceFile,
) -> Vec<tel_hir::Diagnostic> {
    let hir_id = hir_file(project.files(db), file);
    let (tree, map) = item_tree_with_map(db, file).clone();
    let module = module_name(db, file);
    let dm = module_def_map(db, ModuleLoc::new(db, project, module.clone()));
    // The module's def map numbers files by their position in the project, like `hir_file`.
    let scope = dm.diagnostics().iter().filter(|(f, _)| *f == hir_id).map(|(_, d)| d);
    let defines_module = dm.module(&module).is_some_and(|m| m.file == hir_id);
    let checked = FileChecks { db, project, module };
    file_diagnostics(&tree, &map, &parse(db, file).errors, scope, defines_module, &checked)
}

/// One file's items as the engine checks them: each answer is a memoized query.
struct FileChecks<'db> {
    db: &'db dyn Db,
    project: Project,
    module: SmolStr,
}

impl<'db> FileChecks<'db> {
    fn loc(&self, item: &tel_hir::item_tree::Item) -> DefLoc<'db> {
        DefLoc::new(self.db, self.project, DefId::new(self.module.clone(), item.name.clone()))
    }
}

impl CheckedItems for FileChecks<'_> {
    fn signature_diagnostics(
        &self,
        _: LocalItemId,
        item: &tel_hir::item_tree::Item,
    ) -> Vec<Anchored<ItemPart>> {
        signature_with_diagnostics(self.db, self.loc(item))
            .map(|(_, diags)| diags.to_vec())
            .unwrap_or_default()
    }

    fn alias_diagnostic(
        &self,
        _: LocalItemId,
        item: &tel_hir::item_tree::Item,
    ) -> Option<Anchored<ItemPart>> {
        let hir = HirDb::new(self.db, self.project, &self.module);
        tel_hir::check_type_alias(&hir, self.loc(item).def(self.db))
    }

    fn with_body(
        &self,
        _: LocalItemId,
        item: &tel_hir::item_tree::Item,
        f: &mut dyn FnMut(&InferenceResult, &BodySourceMap),
    ) {
        let loc = self.loc(item);
        // Placing a body in its file costs a copy of its source map: only for a body that
        // has something to report.
        let Some(result) = infer(self.db, loc).filter(|r| !r.diagnostics.is_empty()) else {
            return;
        };
        if let Some((_, bsm)) = body_with_source_map(self.db, loc) {
            f(&result, bsm);
        }
    }
}

/// Every definition's hash, computed dependencies first so that no single hash query recurses
/// through a long dependency chain (each finds its dependencies memoized). Readers take
/// hashes from here: one memo to validate after an edit instead of one per definition.
#[salsa::tracked(returns(clone))]
pub fn project_hashes(db: &dyn Db, project: Project) -> Arc<FxHashMap<DefId, CodeHash>> {
    let mut out = FxHashMap::default();
    for module in module_order(db, project).iter() {
        let hashes = module_hashes(db, ModuleLoc::new(db, project, module.clone()));
        out.extend(hashes.iter().cloned());
    }
    Arc::new(out)
}

/// The hashes of one module's definitions, dependencies first. A query of its own so that
/// after an edit only the modules whose hashes changed are walked again, not every
/// definition of the project.
#[salsa::tracked(returns(clone))]
fn module_hashes<'db>(db: &'db dyn Db, module: ModuleLoc<'db>) -> Arc<[(DefId, CodeHash)]> {
    let project = module.project(db);
    let comps = module_components(db, module);
    let hash =
        |def: &DefId| Some((def.clone(), def_hash(db, DefLoc::new(db, project, def.clone()))?));
    comps.members.iter().flatten().filter_map(hash).collect()
}
