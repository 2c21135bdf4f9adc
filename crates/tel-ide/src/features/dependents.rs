//! Who uses a definition: the reverse of the dependency graph, per project.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use tel_hir::DefId;

use crate::db::{Db, Project};
use crate::queries::{self, DefLoc, ModuleLoc};
use crate::{Analysis, Cancellable, FileId};

/// For each definition of the project (the prelude's included), the definitions that refer
/// to it directly, sorted. Built from every definition's dependencies, which are memoized and
/// backdated when an edit leaves them alone, so after a keystroke this re-verifies rather
/// than re-lowers.
#[salsa::tracked(returns(clone))]
pub(crate) fn dependents_index(db: &dyn Db, project: Project) -> Arc<FxHashMap<DefId, Vec<DefId>>> {
    let mut out: FxHashMap<DefId, Vec<DefId>> = FxHashMap::default();
    for module in queries::module_order(db, project).iter() {
        let comps = queries::module_components(db, ModuleLoc::new(db, project, module.clone()));
        for def in comps.members.iter().flatten() {
            for dep in queries::def_deps(db, DefLoc::new(db, project, def.clone())).iter() {
                if let Some((m, n)) = dep.rsplit_once("::") {
                    out.entry(DefId::new(m, n)).or_default().push(def.clone());
                }
            }
        }
    }
    for users in out.values_mut() {
        users.sort();
        users.dedup();
    }
    Arc::new(out)
}

impl Analysis {
    /// The hash of a definition of `file`'s project (`None` while it has errors).
    pub fn hash_of(&self, file: FileId, def: &DefId) -> Cancellable<Option<tel_hash::CodeHash>> {
        let project = self.entry(file).project;
        self.with_db(|db| queries::project_hashes(db, project).get(def).copied())
    }

    /// Where a definition of `file`'s project is declared (its name), if it is in a file.
    pub fn def_location(&self, file: FileId, def: &DefId) -> Cancellable<Option<super::NavTarget>> {
        self.with_db(|db| self.def_nav(db, file, def))
    }

    /// The definitions of `file`'s project that use `def` directly.
    pub fn dependents(&self, file: FileId, def: &DefId) -> Cancellable<Vec<DefId>> {
        let project = self.entry(file).project;
        self.with_db(|db| dependents_index(db, project).get(def).cloned().unwrap_or_default())
    }
}
