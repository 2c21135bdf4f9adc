//! Debug information: from what a running program knows of a place — a definition's hash
//! and an expression id (the index in `tel_hash::core::preorder` of the definition's
//! hashed body, lambdas included) — back to a file and a range.
//!
//! Nothing here is stored or hashed: the spans are recomputed from the source on demand
//! (they are needed when an error is printed, not while typing), so moving code never
//! changes a hash and a stack trace always points into the text as it is now.

use std::sync::Arc;

use rustc_hash::FxHashMap;
use smol_str::SmolStr;
use tel_hash::CodeHash;
use tel_hash::core::CoreDef;
use tel_hash::serialize::ResolvedRef;
use tel_hir::DefId;
use tel_hir::lower_core::{lower_to_core_with_spans, spans_in_canonical_order};

use crate::db::{Db, Project, SourceFile};
use crate::queries::{self, DefLoc, HirDb};
use crate::{Analysis, Cancellable, FileId, TextRange};

/// The source range of every expression of a function, by expression id: indexed like
/// `preorder` of its *hashed* body (handler clauses in canonical order), which is what the
/// VM numbers. `None` for a definition that is not a function or does not hash (errors).
#[salsa::tracked(returns(clone))]
pub fn span_table<'db>(db: &'db dyn Db, def: DefLoc<'db>) -> Option<Arc<[Option<TextRange>]>> {
    let sig = queries::signature(db, def)?;
    let (body, source_map) = queries::body_with_source_map(db, def).as_ref()?;
    let inferred = queries::infer(db, def)?;
    let project = def.project(db);
    let hir = HirDb::new(db, project, &def.def(db).module);
    let (lowered, spans) =
        lower_to_core_with_spans(&hir, &sig, Some((body, &inferred)), source_map).ok()?;
    let CoreDef::Fn { body: lowered, .. } = lowered else { return None };
    let component = queries::hashed_component(db, def)?;
    let me = def.def(db).qualified();
    let member = component.members.iter().find(|m| m.name == me)?;
    let CoreDef::Fn { body: canonical, .. } = tel_hash::decode(&member.bytes).ok()? else {
        return None;
    };
    // Resolves names as hashing did: members of the component by canonical index, other
    // definitions by their hash.
    let resolve = |name: &SmolStr| {
        if let Some(i) = component.members.iter().position(|m| m.name == *name) {
            return Some(ResolvedRef::Member(i as u32));
        }
        let (module, item) = name.rsplit_once("::")?;
        let loc = DefLoc::new(db, project, DefId::new(module, item));
        queries::def_hash(db, loc).map(ResolvedRef::Hash)
    };
    spans_in_canonical_order(&lowered, &spans, &canonical, &resolve).map(Arc::from)
}

/// A project's definitions by hash. Two definitions with one meaning share a hash; the
/// first by (module, name) stands for both, so the answer does not depend on map order.
#[salsa::tracked(returns(clone))]
fn defs_by_hash(db: &dyn Db, project: Project) -> Arc<FxHashMap<CodeHash, DefId>> {
    let mut out: FxHashMap<CodeHash, DefId> = FxHashMap::default();
    for (def, hash) in queries::project_hashes(db, project).iter() {
        out.entry(*hash)
            .and_modify(|d| {
                if def < d {
                    *d = def.clone();
                }
            })
            .or_insert_with(|| def.clone());
    }
    Arc::new(out)
}

/// The definition with `hash` in the first of `projects` that has one, with its file.
fn find_def<'db>(
    db: &'db dyn Db,
    projects: &[Project],
    hash: &CodeHash,
) -> Option<(DefLoc<'db>, SourceFile)> {
    projects.iter().find_map(|&project| {
        let def = defs_by_hash(db, project).get(hash)?.clone();
        let file = queries::module_file(db, project, &def.module)?;
        Some((DefLoc::new(db, project, def), file))
    })
}

/// The range of a definition's name in its file.
fn name_range(db: &dyn Db, def: DefLoc<'_>, file: SourceFile) -> Option<TextRange> {
    let (tree, map) = queries::item_tree_with_map(db, file);
    let (id, _) = tree.item_by_name(&def.def(db).name)?;
    Some(map.items[id].name)
}

impl Analysis {
    /// Where a place of a running program is: the file and range of expression `expr` (an
    /// expression id, see the module docs) of the definition with `hash`, searched in every
    /// loaded project. An id the definition does not have gives the definition's name.
    /// `None` when no loaded definition has this hash (or the file changed so that it no
    /// longer does).
    pub fn locate_expr(
        &self,
        hash: &CodeHash,
        expr: u32,
    ) -> Cancellable<Option<(FileId, TextRange)>> {
        let projects = self.table.projects.clone();
        let hash = *hash;
        let found = self.with_db(move |db| {
            let (def, file) = find_def(db, &projects, &hash)?;
            let range = span_table(db, def)
                .and_then(|spans| spans.get(expr as usize).copied().flatten())
                .or_else(|| name_range(db, def, file))?;
            Some((file, range))
        })?;
        Ok(found.and_then(|(input, range)| Some((self.file_of(input)?, range))))
    }

    /// The definition with `hash` in the loaded projects: its file, the range of its name,
    /// and its name.
    pub fn locate_def(&self, hash: &CodeHash) -> Cancellable<Option<(FileId, TextRange, SmolStr)>> {
        let projects = self.table.projects.clone();
        let hash = *hash;
        let found = self.with_db(move |db| {
            let (def, file) = find_def(db, &projects, &hash)?;
            Some((file, name_range(db, def, file)?, def.def(db).name.clone()))
        })?;
        Ok(found.and_then(|(input, range, name)| Some((self.file_of(input)?, range, name))))
    }

    fn file_of(&self, input: SourceFile) -> Option<FileId> {
        self.table.files.iter().position(|f| f.input == input).map(|i| FileId(i as u32))
    }
}
