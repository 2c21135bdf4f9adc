//! A definition's canonical bytes with holes where its dependencies' hashes go.
//!
//! When a dependency's hash changes, a dependent's bytes change only in the 32 bytes of
//! each reference to it: everything else is a function of the dependent's own core IR.
//! An engine that re-hashes a definition after each change of a dependency keeps its
//! [`DefTemplate`] and fills the holes, instead of serializing the definition again.
//! The bytes are exactly those of [`crate::hash_def`] (the format does not change);
//! docs/hashing.md, "Re-hashing a dependent", describes the scheme.

use std::cell::RefCell;

use rustc_hash::FxHashMap;
use smol_str::SmolStr;

use crate::code_hash::CodeHash;
use crate::core::CoreDef;
use crate::error::HashError;
use crate::hashing::hash_bytes;
use crate::serialize::{Target, encode_holed};

/// The serialization of a definition alone in its component, with a hole for every
/// reference to another definition (`Ref::Def`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefTemplate {
    /// The bytes with zeros in the holes.
    bytes: Vec<u8>,
    /// Each hole: the offset of its 32 bytes and the dependency (an index into `deps`)
    /// whose hash fills it, in increasing offset.
    holes: Vec<(u32, u32)>,
    /// The definitions referred to, each once, in order of first reference.
    deps: Vec<SmolStr>,
}

impl DefTemplate {
    /// The template of `def`, named `name`. `Ok(None)` when `def` is not hashed alone or
    /// its bytes around a reference depend on the referenced hash, so only a full
    /// serialization gives them: it refers to itself (a component of one), or an effect row
    /// or a handler sorts a reference to a definition with another hash. An error is one
    /// that serializing `def` with any hashes for its references would report.
    pub fn new(name: &SmolStr, def: &CoreDef) -> Result<Option<DefTemplate>, HashError> {
        let deps: RefCell<(Vec<SmolStr>, FxHashMap<SmolStr, u32>)> = RefCell::default();
        let recursive = std::cell::Cell::new(false);
        let holed = encode_holed(def, &|r| {
            if r == name {
                recursive.set(true);
            }
            let (list, index) = &mut *deps.borrow_mut();
            let slot = *index.entry(r.clone()).or_insert_with(|| {
                list.push(r.clone());
                list.len() as u32 - 1
            });
            Some(Target::Slot(slot))
        });
        if recursive.get() {
            return Ok(None);
        }
        let holed = holed.map_err(|e| e.in_def(name))?;
        if holed.order_dependent {
            return Ok(None);
        }
        let (deps, _) = deps.into_inner();
        Ok(Some(DefTemplate { bytes: holed.bytes, holes: holed.holes, deps }))
    }

    /// The qualified names of the definitions `def` refers to; [`DefTemplate::bytes`] and
    /// [`DefTemplate::hash`] take their hashes in this order.
    pub fn deps(&self) -> &[SmolStr] {
        &self.deps
    }

    /// The canonical bytes, with `hashes[i]` the hash of `deps()[i]`.
    /// Panics if `hashes` is shorter than [`DefTemplate::deps`].
    pub fn bytes(&self, hashes: &[CodeHash]) -> Vec<u8> {
        let mut out = self.bytes.clone();
        for &(at, dep) in &self.holes {
            let at = at as usize;
            out[at..at + 32].copy_from_slice(&hashes[dep as usize].0);
        }
        out
    }

    /// The definition's hash: [`crate::hash_bytes`] of [`DefTemplate::bytes`]. (Filling a
    /// copy and hashing it in one piece costs less than feeding BLAKE3 the pieces between
    /// the holes: each call of its `update` has a cost of its own.)
    /// Panics if `hashes` is shorter than [`DefTemplate::deps`].
    pub fn hash(&self, hashes: &[CodeHash]) -> CodeHash {
        hash_bytes(&self.bytes(hashes))
    }
}
