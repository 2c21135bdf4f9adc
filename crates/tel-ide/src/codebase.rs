//! The code store as the engine sees it: what `#hash` references in source resolve against.
//!
//! The store is outside the database, so it enters salsa as an input (`CodebaseInput`) that
//! the host re-sets whenever the store may have changed (after `tel store add`, on a file
//! watcher event); every query that looked something up in it then re-runs.

use std::sync::{Arc, Mutex};

use tel_hash::core::DefKind;
use tel_hash::{CodeHash, HashPrefix, ResolveError};
use tel_hir::{HashDef, Signature};
use tel_store::Store;

/// A read handle on a codebase file.
pub struct Codebase {
    store: Mutex<Store>,
}

impl std::fmt::Debug for Codebase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        write!(f, "Codebase({})", store.path().display())
    }
}

impl Codebase {
    pub fn new(store: Store) -> Codebase {
        Codebase { store: Mutex::new(store) }
    }

    pub(crate) fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        // A panic while holding the lock leaves the connection usable: reads are transactions.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The one stored definition a prefix (`#a7f3`, `#comp.i`) names, with its kind.
    pub fn resolve(&self, prefix: &HashPrefix) -> Result<HashDef, ResolveError> {
        let store = self.store();
        let not_found = || ResolveError::NotFound { prefix: prefix.clone() };
        let hash = match store.resolve_prefix(&prefix.to_string()) {
            Ok(hash) => hash,
            Err(tel_store::Error::AmbiguousHash { candidates, .. }) => {
                return Err(ResolveError::Ambiguous {
                    prefix: prefix.clone(),
                    candidates: candidates.into_iter().map(|c| c.hash).collect(),
                });
            }
            Err(_) => return Err(not_found()),
        };
        let def = store.get_by_hash(&hash).ok().flatten().ok_or_else(not_found)?;
        Ok(HashDef { hash, kind: def.kind })
    }

    /// A stored definition's signature, read off its normalized form.
    pub fn signature(&self, hash: &CodeHash) -> Option<(DefKind, Signature)> {
        let def = self.store().get_by_hash(hash).ok().flatten()?;
        let core = tel_hash::decode(&def.canonical).ok()?;
        let component = def.component.as_ref().map(|c| c.component);
        Some((def.kind, tel_hir::stored::signature_from_core(&core, component.as_ref())))
    }
}

/// The salsa face of the codebase: `None` when the project has none yet.
#[salsa::input(debug)]
pub struct CodebaseInput {
    #[returns(ref)]
    pub codebase: Option<Arc<Codebase>>,
}
