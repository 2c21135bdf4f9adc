//! Tracked queries over `tel-hir`: parse → item tree → def map → signature → body →
//! inference → core IR → hash, each memoized per file or per definition.
//!
//! The split of every "thing with positions" into a position-free value and a separate source
//! map is what makes editing one function body cheap: the item tree and the other bodies of
//! the file compare equal after the edit, salsa backdates them, and nothing that depends
//! only on them re-runs.

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use smol_str::SmolStr;
use tel_hash::core::CoreDef;
use tel_hash::{CodeHash, HashedMember};
use tel_hir::diagnostics::{
    Anchored, item_has_syntax_error, render_infer_diagnostic, render_item_diagnostic,
};
use tel_hir::item_tree::{ItemKind, ItemPart};
use tel_hir::{
    Body, BodySourceMap, DefId, DefMap, DefRef, HashDef, HirDatabase, InferenceResult, ItemTree,
    ItemTreeSourceMap, LowerError, ModuleInput, Signature,
};

use crate::db::{Db, Project, SourceFile, parse};

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

/// The declarations of a file without positions: equal across edits inside bodies.
#[salsa::tracked(returns(clone))]
pub fn item_tree(db: &dyn Db, file: SourceFile) -> Arc<ItemTree> {
    item_tree_with_map(db, file).0.clone()
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

#[salsa::tracked(returns(clone))]
pub fn def_map(db: &dyn Db, project: Project) -> Arc<DefMap> {
    let inputs: Vec<ModuleInput> = project
        .files(db)
        .iter()
        .enumerate()
        .map(|(i, &file)| ModuleInput {
            file: tel_hir::FileId(i as u32),
            name: module_name(db, file),
            item_tree: item_tree(db, file),
        })
        .collect();
    Arc::new(DefMap::build(&inputs))
}

/// The file defining `module` in `project`.
pub fn module_file(db: &dyn Db, project: Project, module: &str) -> Option<SourceFile> {
    let data = def_map(db, project).module(module)?.file;
    project.files(db).get(data.0 as usize).copied()
}

/// Answers hir's questions about other definitions with salsa queries.
pub struct HirDb<'db> {
    pub db: &'db dyn Db,
    pub project: Project,
}

impl HirDatabase for HirDb<'_> {
    fn def_map(&self) -> Arc<DefMap> {
        def_map(self.db, self.project)
    }

    fn signature(&self, def: &DefRef) -> Option<Arc<Signature>> {
        match def {
            DefRef::Def(d) => signature(self.db, DefLoc::new(self.db, self.project, d.clone())),
            // Stored definitions arrive with the store integration.
            DefRef::Hash(_) => None,
        }
    }

    fn resolve_hash(
        &self,
        prefix: &tel_hash::HashPrefix,
    ) -> Result<HashDef, tel_hash::ResolveError> {
        tel_hash::resolve_prefix(prefix, std::iter::empty())
            .map(|hash| HashDef { hash, kind: tel_hash::core::DefKind::Fn })
    }
}

type SigEntry = (Arc<Signature>, Arc<[Anchored<ItemPart>]>);

#[salsa::tracked(returns(clone))]
fn signature_with_diagnostics<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Option<SigEntry> {
    let d = def.def(db);
    let file = module_file(db, def.project(db), &d.module)?;
    let tree = item_tree(db, file);
    let (_, item) = tree.item_by_name(&d.name)?;
    let hir = HirDb { db, project: def.project(db) };
    let (sig, diags) = tel_hir::item_signature(&hir, &d.module, item);
    Some((Arc::new(sig), diags.into()))
}

pub fn signature<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Option<Arc<Signature>> {
    signature_with_diagnostics(db, def).map(|(s, _)| s)
}

#[salsa::tracked(returns(ref), no_eq)]
pub fn body_with_source_map<'db>(
    db: &'db dyn Db,
    def: DefLoc<'db>,
) -> Option<(Arc<Body>, Arc<BodySourceMap>)> {
    let d = def.def(db);
    let file = module_file(db, def.project(db), &d.module)?;
    let node = tel_hir::find_item(&parse(db, file).tree(), &d.name)?;
    let (body, map) = Body::lower_item(&node)?;
    Some((Arc::new(body), Arc::new(map)))
}

/// A body without positions: equal when only other items of the file changed.
#[salsa::tracked(returns(clone))]
pub fn body<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Option<Arc<Body>> {
    body_with_source_map(db, def).as_ref().map(|(b, _)| b.clone())
}

#[salsa::tracked(returns(clone))]
pub fn infer<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Option<Arc<InferenceResult>> {
    let body = body(db, def)?;
    let d = def.def(db);
    let file = module_file(db, def.project(db), &d.module)?;
    let tree = item_tree(db, file);
    let (_, item) = tree.item_by_name(&d.name)?;
    let hir = HirDb { db, project: def.project(db) };
    Some(Arc::new(tel_hir::infer(&hir, d, item, &body)))
}

/// The normalized form, or why there is none (errors in the definition).
#[salsa::tracked(returns(clone))]
pub fn core_def<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Result<Arc<CoreDef>, LowerError> {
    let no_def = || LowerError { reason: format!("`{}` is not defined", def.def(db).qualified()) };
    let sig = signature(db, def).ok_or_else(no_def)?;
    let body = body(db, def);
    let inferred = infer(db, def);
    let hir = HirDb { db, project: def.project(db) };
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

/// Every definition of a project (prelude first), in a deterministic order.
#[salsa::tracked(returns(clone))]
pub fn project_defs(db: &dyn Db, project: Project) -> Arc<[DefId]> {
    let map = def_map(db, project);
    map.modules()
        .flat_map(|(module, data)| {
            data.items.keys().map(move |name| DefId::new(module.clone(), name.clone()))
        })
        .collect()
}

/// The mutually recursive components of a project's dependency graph.
#[derive(Debug, PartialEq, Eq)]
pub struct Components {
    pub by_name: FxHashMap<SmolStr, DefId>,
    pub component_of: FxHashMap<DefId, u32>,
    pub members: Vec<Vec<DefId>>,
}

#[salsa::tracked(returns(clone))]
pub fn components(db: &dyn Db, project: Project) -> Arc<Components> {
    let defs = project_defs(db, project);
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
    let by_name = defs.iter().map(|d| (d.qualified(), d.clone())).collect();
    Arc::new(Components { by_name, component_of, members })
}

/// A definition hashed within its component: its hash and canonical bytes (what the store
/// keeps). `None` while it, or a definition it depends on, has errors.
#[salsa::tracked(returns(clone))]
pub fn hashed<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Option<Arc<HashedMember>> {
    let project = def.project(db);
    let comps = components(db, project);
    let c = *comps.component_of.get(def.def(db))?;
    let members = &comps.members[c as usize];
    let mut cores = Vec::with_capacity(members.len());
    for m in members {
        cores.push((m.qualified(), core_def(db, DefLoc::new(db, project, m.clone())).ok()?));
    }
    let in_component: FxHashSet<&SmolStr> = cores.iter().map(|(n, _)| n).collect();
    // Hash every external dependency first; a missing one makes this definition unhashable.
    let mut external: FxHashMap<SmolStr, CodeHash> = FxHashMap::default();
    for (_, core) in &cores {
        for dep in tel_hash::deps(core) {
            if in_component.contains(&dep) || external.contains_key(&dep) {
                continue;
            }
            let dep_def = comps.by_name.get(&dep)?.clone();
            external.insert(dep.clone(), def_hash(db, DefLoc::new(db, project, dep_def))?);
        }
    }
    let pairs: Vec<(SmolStr, &CoreDef)> = cores.iter().map(|(n, c)| (n.clone(), &**c)).collect();
    let component = tel_hash::hash_component_full(&pairs, &|n| external.get(n).copied()).ok()?;
    let me = def.def(db).qualified();
    component.members.into_iter().find(|m| m.name == me).map(Arc::new)
}

/// The content hash of a definition; `None` while it (or a dependency) has errors.
#[salsa::tracked(returns(clone))]
pub fn def_hash<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Option<CodeHash> {
    hashed(db, def).map(|m| m.hash)
}

/// Every diagnostic of a file from resolution, signatures and inference (not syntax).
#[salsa::tracked(returns(ref))]
pub fn semantic_diagnostics(
    db: &dyn Db,
    project: Project,
    file: SourceFile,
) -> Vec<tel_hir::Diagnostic> {
    let files = project.files(db);
    let hir_id = hir_file(files, file);
    let (tree, map) = item_tree_with_map(db, file).clone();
    let syntax_errors = &parse(db, file).errors;
    let dm = def_map(db, project);
    let module = module_name(db, file);
    let mut out: Vec<tel_hir::Diagnostic> =
        tree.diagnostics.iter().map(|d| render_item_diagnostic(d, &map)).collect();
    out.extend(
        dm.diagnostics()
            .iter()
            .filter(|(f, _)| *f == hir_id)
            .map(|(_, d)| render_item_diagnostic(d, &map)),
    );
    // Only the module's defining file checks its items (a second file claiming the same
    // module name gets a def-map diagnostic instead).
    if dm.module(&module).is_some_and(|m| m.file == hir_id) {
        for (id, item) in tree.items.iter() {
            // Later items with a taken name are duplicates: reported by the def map only.
            if tree.item_by_name(&item.name).map(|(first, _)| first) != Some(id) {
                continue;
            }
            let ism = &map.items[id];
            // Semantic errors inside an item the parser could not read are mostly echoes.
            if item_has_syntax_error(ism, syntax_errors) {
                continue;
            }
            let loc = DefLoc::new(db, project, DefId::new(module.clone(), item.name.clone()));
            if let Some((_, diags)) = signature_with_diagnostics(db, loc) {
                out.extend(diags.iter().map(|d| d.at(ism.part(d.anchor))));
            }
            if matches!(item.kind, ItemKind::Type(_)) {
                let hir = HirDb { db, project };
                if let Some(d) = tel_hir::check_type_alias(&hir, loc.def(db)) {
                    out.push(d.at(ism.part(d.anchor)));
                }
            }
            if let (Some(result), Some((_, bsm))) = (infer(db, loc), body_with_source_map(db, loc))
            {
                out.extend(result.diagnostics.iter().map(|d| render_infer_diagnostic(d, ism, bsm)));
            }
        }
    }
    out.sort_by_key(|d| (d.range.start(), d.range.end()));
    out.dedup();
    out
}

/// Every definition's hash, computed dependencies first so that no single hash query recurses
/// through a long dependency chain (each finds its dependencies memoized). Readers take
/// hashes from here: one memo to validate after an edit instead of one per definition.
#[salsa::tracked(returns(clone))]
pub fn project_hashes(db: &dyn Db, project: Project) -> Arc<FxHashMap<DefId, CodeHash>> {
    let comps = components(db, project);
    let mut out = FxHashMap::default();
    for scc in &comps.members {
        for def in scc {
            if let Some(hash) = def_hash(db, DefLoc::new(db, project, def.clone())) {
                out.insert(def.clone(), hash);
            }
        }
    }
    Arc::new(out)
}
