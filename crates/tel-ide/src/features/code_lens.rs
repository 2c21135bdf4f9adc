//! Code lenses above each definition: `#hash · N dependents`, `▶ Run` / `⏵ Debug` on entry
//! points (once they have a hash: code with errors cannot run), and `Store` when the definition is new or changed against the store.

use tel_hash::CodeHash;
use tel_hir::{DefId, DefRef, PRELUDE_MODULE, Signature};

use super::dependents::dependents_index;
use super::store::{StoreInfo, StoreStatus};
use super::target::FileCtx;
use crate::queries;
use crate::{Analysis, Cancellable, FileId, TextRange};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LensConfig {
    pub hashes: bool,
    pub run: bool,
    pub store: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LensKind {
    /// The definition's hash and how many definitions of the project use it.
    Hash {
        hash: CodeHash,
        dependents: usize,
    },
    /// The definition has no hash yet (it or a dependency has errors).
    Unhashed {
        dependents: usize,
    },
    Run,
    Debug,
    /// Storing would add the name, or move it from `StoreStatus::Changed::old`.
    Store(StoreStatus),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lens {
    /// The definition's name.
    pub range: TextRange,
    pub def: DefId,
    pub kind: LensKind,
}

impl Analysis {
    /// The lenses of `file`, definitions in source order.
    pub fn code_lenses(
        &self,
        file: FileId,
        store: Option<&dyn StoreInfo>,
        config: LensConfig,
    ) -> Cancellable<Vec<Lens>> {
        let store = std::panic::AssertUnwindSafe(store);
        self.with_db(|db| {
            let store = *store;
            let ctx = FileCtx::new(self, db, file);
            let hashes = queries::project_hashes(db, ctx.project);
            let users = dependents_index(db, ctx.project);
            let (tree, map) = queries::item_tree_with_map(db, ctx.input).clone();
            let mut out = Vec::new();
            for (id, item) in tree.items.iter() {
                if tree.by_name.get(&item.name) != Some(&id) {
                    continue;
                }
                let range = map.items[id].name;
                let def = DefId::new(ctx.module.clone(), item.name.clone());
                let hash = hashes.get(&def).copied();
                let lens = |kind| Lens { range, def: def.clone(), kind };
                if config.hashes {
                    let dependents = users.get(&def).map_or(0, Vec::len);
                    out.push(lens(match hash {
                        Some(hash) => LensKind::Hash { hash, dependents },
                        None => LensKind::Unhashed { dependents },
                    }));
                }
                if config.run
                    && hash.is_some()
                    && is_entry_point(queries::signature(db, ctx.def_loc(def.clone())).as_deref())
                {
                    out.push(lens(LensKind::Run));
                    out.push(lens(LensKind::Debug));
                }
                if config.store {
                    let status = StoreStatus::of(store, &def.qualified(), hash);
                    if status.can_store() {
                        out.push(lens(LensKind::Store(status)));
                    }
                }
            }
            out
        })
    }
}

/// A function the host can run by itself: no parameters, and only host effects (the
/// prelude's) in its row.
pub fn is_entry_point(sig: Option<&Signature>) -> bool {
    match sig {
        Some(Signature::Fn(f)) => {
            f.params.is_empty()
                && f.effects
                    .iter()
                    .all(|e| matches!(e, DefRef::Def(d) if d.module == PRELUDE_MODULE))
        }
        _ => false,
    }
}
