//! The seeds' `CodeRepository`: what the engine and the runtime need from a code store.

use crate::model::{AddReport, NewDefinition, StoredDefinition};
use crate::{Result, Store};
use tel_hash::CodeHash;

/// Content-addressed code: definitions by hash, names as pointers to them.
pub trait CodeRepository {
    /// Stores definitions and points their names at them, all or nothing.
    fn store(&mut self, defs: &[NewDefinition], reason: &str) -> Result<AddReport>;
    fn get_by_hash(&self, hash: &CodeHash) -> Result<Option<StoredDefinition>>;
    fn get_by_name(&self, name: &str) -> Result<Option<StoredDefinition>>;
    /// Direct dependencies, sorted by hash.
    fn get_dependencies(&self, hash: &CodeHash) -> Result<Vec<CodeHash>>;
    /// The definition and everything it needs, dependencies first, `hash` last.
    fn load_closure(&self, hash: &CodeHash) -> Result<Vec<StoredDefinition>>;
    /// [`CodeRepository::load_closure`] of the definition a name points at.
    fn load_closure_by_name(&self, name: &str) -> Result<Vec<StoredDefinition>>;
}

impl CodeRepository for Store {
    fn store(&mut self, defs: &[NewDefinition], reason: &str) -> Result<AddReport> {
        self.add_definitions(defs, reason)
    }

    fn get_by_hash(&self, hash: &CodeHash) -> Result<Option<StoredDefinition>> {
        Store::get_by_hash(self, hash)
    }

    fn get_by_name(&self, name: &str) -> Result<Option<StoredDefinition>> {
        Store::get_by_name(self, name)
    }

    fn get_dependencies(&self, hash: &CodeHash) -> Result<Vec<CodeHash>> {
        Store::get_dependencies(self, hash)
    }

    fn load_closure(&self, hash: &CodeHash) -> Result<Vec<StoredDefinition>> {
        Store::load_closure(self, hash)
    }

    fn load_closure_by_name(&self, name: &str) -> Result<Vec<StoredDefinition>> {
        let hash = self.resolve(name)?;
        Store::load_closure(self, &hash)
    }
}
