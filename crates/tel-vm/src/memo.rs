//! `--memo`: answering calls of pure functions from a bounded cache.
//!
//! A function whose effect row is empty computes its result from its arguments alone (TEL has
//! no effect polymorphism: a function-typed parameter of a pure function is itself pure), so
//! a call can be answered by an earlier call's result. [`Memo`] is a host wrapper: the
//! machine reports each call of a top-level definition through [`Host::on_call`]; for a pure
//! one the cache is looked up by (function hash, BLAKE3 of the canonical argument bytes), and
//! a miss is stored when the call returns ([`Host::on_return`]).
//!
//! Why no call is ever left half-recorded: frames are only abandoned by an `abort` or a
//! `within` deadline, and both need an effect that escapes the frames they unwind. No effect
//! escapes a pure function, so every pure call that starts either returns or ends the run.
//!
//! Values that hold functions (closures name code by its index in one loaded program) are
//! neither keys nor results: such calls always run. Records are keyed with their nominal type,
//! so a cached result shows exactly as a computed one.

use crate::host::{Host, HostError};
use crate::program::{HostEffect, StoredDef};
use crate::value::Value;
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::HashMap;
use tel_hash::CodeHash;
use tel_hash::core::CoreDef;

/// Default bound of a cache, in entries.
pub const DEFAULT_CAPACITY: usize = 65_536;

/// What a cached result is found by.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct MemoKey {
    /// The function's hash.
    pub def: CodeHash,
    /// BLAKE3 (derived key "tel-vm memo arguments v1") of the arguments' canonical bytes
    /// ([`args_digest`]).
    pub args: [u8; 32],
}

/// One cached call, as the store persists it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MemoEntry {
    pub key: MemoKey,
    pub result: Value,
}

/// Counters of a cache since it was created.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemoStats {
    pub hits: u64,
    pub misses: u64,
    /// Entries dropped to make room.
    pub evictions: u64,
}

#[derive(Clone, Debug)]
struct Slot {
    key: MemoKey,
    result: Value,
    /// Set on use, cleared as the clock hand passes (second chance).
    referenced: bool,
}

/// A bounded map from calls to results, evicting by the CLOCK policy (an approximation of
/// least-recently-used that costs one bit per entry and no reordering on a hit).
#[derive(Clone, Debug)]
pub struct MemoCache {
    capacity: usize,
    slots: Vec<Slot>,
    index: FxHashMap<MemoKey, usize>,
    hand: usize,
    stats: MemoStats,
}

impl Default for MemoCache {
    fn default() -> Self {
        MemoCache::new(DEFAULT_CAPACITY)
    }
}

impl MemoCache {
    /// A cache holding at most `capacity` entries (at least 1).
    pub fn new(capacity: usize) -> MemoCache {
        MemoCache {
            capacity: capacity.max(1),
            slots: Vec::new(),
            index: FxHashMap::default(),
            hand: 0,
            stats: MemoStats::default(),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn stats(&self) -> MemoStats {
        self.stats
    }

    /// The cached result of a call, counting a hit or a miss.
    pub fn get(&mut self, key: &MemoKey) -> Option<&Value> {
        match self.index.get(key) {
            Some(&i) => {
                self.stats.hits += 1;
                let slot = &mut self.slots[i];
                slot.referenced = true;
                Some(&slot.result)
            }
            None => {
                self.stats.misses += 1;
                None
            }
        }
    }

    /// Caches a result, evicting an entry when the cache is full.
    pub fn insert(&mut self, key: MemoKey, result: Value) {
        if let Some(&i) = self.index.get(&key) {
            self.slots[i].result = result;
            return;
        }
        let slot = Slot { key, result, referenced: false };
        if self.slots.len() < self.capacity {
            self.index.insert(key, self.slots.len());
            self.slots.push(slot);
            return;
        }
        // Advance the hand past referenced entries, giving each a second chance.
        while self.slots[self.hand].referenced {
            self.slots[self.hand].referenced = false;
            self.hand = (self.hand + 1) % self.slots.len();
        }
        let old = std::mem::replace(&mut self.slots[self.hand], slot);
        self.index.remove(&old.key);
        self.index.insert(key, self.hand);
        self.hand = (self.hand + 1) % self.slots.len();
        self.stats.evictions += 1;
    }

    /// Every entry, for the store to persist (in no particular order).
    pub fn entries(&self) -> impl Iterator<Item = MemoEntry> + '_ {
        self.slots.iter().map(|s| MemoEntry { key: s.key, result: s.result.clone() })
    }

    /// Adds persisted entries (up to the capacity; later ones evict earlier ones). Entries
    /// whose result holds a function are skipped: they cannot come from a cache.
    pub fn load(&mut self, entries: impl IntoIterator<Item = MemoEntry>) {
        for e in entries {
            if portable(&e.result) {
                self.insert(e.key, e.result);
            }
        }
    }
}

/// The functions of `defs` whose effect row is empty: the ones a cache may answer.
pub fn pure_functions(defs: &HashMap<CodeHash, StoredDef>) -> FxHashSet<CodeHash> {
    defs.iter()
        .filter(|(_, d)| matches!(&d.def, CoreDef::Fn { effects, .. } if effects.is_empty()))
        .map(|(h, _)| *h)
        .collect()
}

/// The digest of a call's arguments: BLAKE3 of their postcard serialization (the same bytes
/// a trace stores), which includes record type names.
pub fn args_digest(args: &[Value]) -> [u8; 32] {
    let bytes = postcard::to_allocvec(args).expect("values serialize");
    let mut h = blake3::Hasher::new_derive_key("tel-vm memo arguments v1");
    h.update(&bytes);
    *h.finalize().as_bytes()
}

/// Whether a value holds no function (and so means the same in any program).
fn portable(v: &Value) -> bool {
    let mut work = vec![v];
    while let Some(v) = work.pop() {
        match v {
            Value::Closure { .. } | Value::Builtin(_) => return false,
            Value::List(xs) => work.extend(xs.iter()),
            Value::Map(m) => m.iter().for_each(|(k, x)| work.extend([k, x])),
            Value::Record { fields, .. } => work.extend(fields.iter().map(|(_, x)| x)),
            Value::Variant { fields, .. } => work.extend(fields.iter()),
            Value::Option(Some(x)) => work.push(x),
            Value::Option(None)
            | Value::Int(_)
            | Value::Bool(_)
            | Value::String(_)
            | Value::Duration(_)
            | Value::Unit => {}
        }
    }
    true
}

/// A host wrapper answering pure calls from a [`MemoCache`]; every other question goes to
/// the inner host.
pub struct Memo<H> {
    inner: H,
    cache: MemoCache,
    pure: FxHashSet<CodeHash>,
    /// Pure calls running, innermost last, with the key their result will be cached under
    /// (`None`: an argument holds a function).
    running: Vec<(CodeHash, Option<MemoKey>)>,
}

impl<H: Host> Memo<H> {
    /// `pure` are the functions that may be cached ([`pure_functions`]).
    pub fn new(inner: H, pure: FxHashSet<CodeHash>, cache: MemoCache) -> Memo<H> {
        Memo { inner, cache, pure, running: Vec::new() }
    }

    pub fn cache(&self) -> &MemoCache {
        &self.cache
    }

    pub fn inner(&mut self) -> &mut H {
        &mut self.inner
    }

    /// The inner host and the cache (to persist).
    pub fn into_parts(self) -> (H, MemoCache) {
        (self.inner, self.cache)
    }
}

impl<H: Host> Host for Memo<H> {
    fn cost(&mut self, effect: HostEffect, args: &[Value]) -> Result<i64, HostError> {
        self.inner.cost(effect, args)
    }

    fn perform(
        &mut self,
        effect: HostEffect,
        args: &[Value],
        now: i64,
    ) -> Result<Value, HostError> {
        self.inner.perform(effect, args, now)
    }

    fn observes_calls(&self) -> bool {
        true
    }

    fn on_call(&mut self, def: &CodeHash, args: &[Value]) -> Option<Value> {
        if !self.pure.contains(def) {
            return self.inner.on_call(def, args);
        }
        let key = args.iter().all(portable).then(|| MemoKey { def: *def, args: args_digest(args) });
        if let Some(key) = &key
            && let Some(v) = self.cache.get(key)
        {
            return Some(v.clone());
        }
        // An inner observer (a trace's call log) sees the call that runs.
        if let Some(v) = self.inner.on_call(def, args) {
            return Some(v);
        }
        self.running.push((*def, key));
        None
    }

    fn on_return(&mut self, def: &CodeHash, result: &Value) {
        if self.pure.contains(def)
            && let Some((top, key)) = self.running.last()
            && top == def
        {
            if let Some(key) = *key
                && portable(result)
            {
                self.cache.insert(key, result.clone());
            }
            self.running.pop();
        }
        self.inner.on_return(def, result)
    }
}
