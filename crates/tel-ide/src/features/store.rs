//! What the editor features ask of the code store, and how a definition in source stands
//! against it (stored, new, changed).
//!
//! The features take the store as a [`StoreInfo`] argument rather than reading the engine's
//! codebase input: the engine's handle answers `#hash` resolution for checking, while the
//! editor also wants names, history and dependents, which a language server reads through a
//! connection of its own.
//!
//! [`Analysis::store_batch`] is what storing means, for `tel store add` and the editor's
//! `tel.storeAdd` alike: a definition with everything it depends on.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tel_hash::core::DefKind;
use tel_hash::{CodeHash, HashedMember};
use tel_store::{ComponentMember, NewDefinition};

use crate::{Analysis, Cancellable, Definition, FileId};

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
    /// Every name with the hash it points at and its kind, sorted by name.
    fn named_definitions(&self) -> Vec<(String, CodeHash, DefKind)>;
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

    fn named_definitions(&self) -> Vec<(String, CodeHash, DefKind)> {
        let names = self.list().map(|l| l.names).unwrap_or_default();
        names.into_iter().map(|n| (n.name, n.hash, n.kind)).collect()
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

/// Why [`Analysis::store_batch`] has nothing to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BatchError {
    /// These definitions (`module::name`) have no hash: they, or definitions they use,
    /// have errors.
    Unhashed(Vec<String>),
    /// The engine's own output did not hold together (a bug, said as such).
    Engine(String),
}

impl std::fmt::Display for BatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BatchError::Unhashed(names) => write!(
                f,
                "{} cannot be hashed: it, or something it uses, has errors",
                names.join(", ")
            ),
            BatchError::Engine(m) => f.write_str(m),
        }
    }
}

/// One definition the engine checked and hashed.
struct Hashed {
    file: FileId,
    def: Definition,
    member: Arc<HashedMember>,
}

impl Analysis {
    /// What storing `roots` writes, the way `tel store add` does: each root and, transitively,
    /// every definition it depends on (from other modules and the prelude), in a
    /// deterministic order — the roots as given, then their dependencies by name. A mutually
    /// recursive component's members come together. Dependencies named by `#hash` only are in
    /// the codebase already (the store refuses the batch otherwise).
    pub fn store_batch(
        &self,
        roots: &[(FileId, Definition)],
    ) -> Cancellable<Result<Vec<NewDefinition>, BatchError>> {
        let defs = match self.collect_for_store(roots)? {
            Ok(defs) => defs,
            Err(e) => return Ok(Err(e)),
        };
        let mut texts: HashMap<FileId, String> = HashMap::new();
        let mut out = Vec::with_capacity(defs.len());
        for h in &defs {
            let name = h.def.qualified();
            let core = match tel_hash::decode(&h.member.bytes) {
                Ok(core) => core,
                Err(e) => return Ok(Err(BatchError::Engine(format!("{name}: {e}")))),
            };
            let component = if h.member.hash == tel_hash::hash_bytes(&h.member.bytes) {
                None
            } else {
                match self.component_of(h.file, &h.def)? {
                    Ok(c) => Some(c.member),
                    Err(e) => return Ok(Err(e)),
                }
            };
            let text = texts.entry(h.file).or_insert_with(|| self.file_text(h.file));
            let source = text
                .get(std::ops::Range::<usize>::from(h.def.range))
                .unwrap_or_default()
                .to_owned();
            out.push(NewDefinition {
                hash: h.member.hash,
                component,
                kind: h.def.kind,
                name,
                canonical: h.member.bytes.clone(),
                source,
                dependencies: tel_hash::hash_deps(&core),
            });
        }
        Ok(Ok(out))
    }

    fn collect_for_store(
        &self,
        roots: &[(FileId, Definition)],
    ) -> Cancellable<Result<Vec<Hashed>, BatchError>> {
        let stuck: Vec<String> =
            roots.iter().filter(|(_, d)| d.hash.is_none()).map(|(_, d)| d.qualified()).collect();
        if !stuck.is_empty() {
            return Ok(Err(BatchError::Unhashed(stuck)));
        }
        let mut by_hash: HashMap<CodeHash, Vec<(FileId, Definition)>> = HashMap::new();
        for file in self.files() {
            for def in self.definitions(file)? {
                if let Some(h) = def.hash {
                    by_hash.entry(h).or_default().push((file, def));
                }
            }
        }
        let mut out: Vec<Hashed> = Vec::new();
        // By name and hash: one file reached by two spellings of its path is loaded twice, but
        // two different definitions under one name must both reach the store, which refuses.
        let mut taken: HashSet<(String, CodeHash)> = HashSet::new();
        let mut queue: Vec<(FileId, Definition)> = roots.to_vec();
        let mut pending: Vec<(FileId, Definition)> = Vec::new();
        // Each dependency's holders are queued once, however many definitions use it.
        let mut expanded: HashSet<CodeHash> = HashSet::new();
        let mut want = |hash: CodeHash, pending: &mut Vec<(FileId, Definition)>| {
            if expanded.insert(hash) {
                pending.extend(by_hash.get(&hash).into_iter().flatten().cloned());
            }
        };
        loop {
            for (file, def) in queue.drain(..) {
                if def.hash.is_some_and(|h| !taken.insert((def.qualified(), h))) {
                    continue;
                }
                let Some(member) = self.hashed(file, &def.name)? else {
                    return Ok(Err(BatchError::Engine(format!(
                        "{}: the engine gave no hash",
                        def.qualified()
                    ))));
                };
                let core = match tel_hash::decode(&member.bytes) {
                    Ok(core) => core,
                    Err(e) => {
                        return Ok(Err(BatchError::Engine(format!("{}: {e}", def.qualified()))));
                    }
                };
                for dep in tel_hash::hash_deps(&core) {
                    want(dep, &mut pending);
                }
                if member.hash != tel_hash::hash_bytes(&member.bytes) {
                    // A member of a mutually recursive component: its siblings go in too.
                    match self.component_of(file, &def)? {
                        Ok(c) => c.members.into_iter().for_each(|s| want(s, &mut pending)),
                        Err(e) => return Ok(Err(e)),
                    }
                }
                out.push(Hashed { file, def, member });
            }
            if pending.is_empty() {
                break;
            }
            pending.sort_by_cached_key(|(_, d)| d.qualified());
            queue.append(&mut pending);
        }
        Ok(Ok(out))
    }

    /// A definition's place in its mutually recursive component, from the engine (which
    /// hashes whole components anyway).
    fn component_of(
        &self,
        file: FileId,
        def: &Definition,
    ) -> Cancellable<Result<ComponentOf, BatchError>> {
        let name = def.qualified();
        let engine = |m: String| Ok(Err(BatchError::Engine(format!("{name}: {m}"))));
        let Some(hashed) = self.component(file, &def.name)? else {
            return Ok(Err(BatchError::Unhashed(vec![name])));
        };
        let Some(component) = hashed.component else {
            return engine("not a member of a mutually recursive component".into());
        };
        let Some(index) = hashed.members.iter().position(|m| m.name == name.as_str()) else {
            return engine("missing from its own component".into());
        };
        Ok(Ok(ComponentOf {
            member: ComponentMember { component, index: index as u32 },
            members: hashed.members.iter().map(|m| m.hash).collect(),
        }))
    }
}

struct ComponentOf {
    member: ComponentMember,
    members: Vec<CodeHash>,
}
