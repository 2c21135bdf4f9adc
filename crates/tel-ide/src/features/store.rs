//! What the editor features ask of the code store, and how a definition in source stands
//! against it (stored, new, changed).
//!
//! The features take the store as a [`StoreInfo`] argument rather than reading the engine's
//! codebase input: the engine's handle answers `#hash` resolution for checking, while the
//! editor also wants names, history and dependents, which a language server reads through a
//! connection of its own.

use tel_hash::CodeHash;
use tel_hash::core::DefKind;

/// Read access to a code store, by name and by hash.
pub trait StoreInfo {
    /// The hash a name (`module::item`) points at.
    fn hash_of_name(&self, name: &str) -> Option<CodeHash>;
    /// The names pointing at `hash` (sorted; empty when none does).
    fn names_of(&self, hash: &CodeHash) -> Vec<String>;
    /// How many stored definitions use `hash` directly.
    fn stored_dependents(&self, hash: &CodeHash) -> usize;
    /// The kind and the source text first stored for `hash`.
    fn stored_source(&self, hash: &CodeHash) -> Option<(DefKind, String)>;
}

impl StoreInfo for tel_store::Store {
    fn hash_of_name(&self, name: &str) -> Option<CodeHash> {
        self.resolve(name).ok()
    }

    fn names_of(&self, hash: &CodeHash) -> Vec<String> {
        self.view(&format!("{hash:#}")).map(|v| v.names).unwrap_or_default()
    }

    fn stored_dependents(&self, hash: &CodeHash) -> usize {
        self.deps(&format!("{hash:#}")).map(|d| d.dependents.len()).unwrap_or(0)
    }

    fn stored_source(&self, hash: &CodeHash) -> Option<(DefKind, String)> {
        let def = self.get_by_hash(hash).ok()??;
        Some((def.kind, def.source))
    }
}

/// How a definition in source stands against the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreStatus {
    /// Its name points at its hash.
    Stored,
    /// Its name points at another hash: storing it would update the name.
    Changed { old: CodeHash },
    /// Its name is not in the store (its hash may be, under other names).
    New { stored_as: Vec<String> },
    /// It has no hash while it (or a dependency) has errors.
    Unhashed,
}

impl StoreStatus {
    pub fn of(store: Option<&dyn StoreInfo>, name: &str, hash: Option<CodeHash>) -> StoreStatus {
        let Some(hash) = hash else { return StoreStatus::Unhashed };
        let Some(store) = store else { return StoreStatus::New { stored_as: Vec::new() } };
        match store.hash_of_name(name) {
            Some(h) if h == hash => StoreStatus::Stored,
            Some(old) => StoreStatus::Changed { old },
            None => StoreStatus::New { stored_as: store.names_of(&hash) },
        }
    }

    /// Whether a `Store` action makes sense (the definition is new or changed).
    pub fn can_store(&self) -> bool {
        matches!(self, StoreStatus::Changed { .. } | StoreStatus::New { .. })
    }
}
