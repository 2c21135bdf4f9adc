//! A program's code as this crate reads it: hashed definitions with their display names,
//! and the schema versions among them.

use std::collections::HashMap;

use smol_str::SmolStr;
use tel_hash::CodeHash;
use tel_hash::core::{CoreDef, Ref, SchemaField, Type};
use tel_store::Store;
use tel_vm::{HostEffect, StoredDef};

/// Definitions by hash (core IR whose references are hashes) and their qualified names.
/// The same map the VM loads programs from and the JSON decoder reads types in.
#[derive(Clone, Debug, Default)]
pub struct Code {
    pub defs: HashMap<CodeHash, StoredDef>,
    /// Qualified names (`vault::Vault`), for messages; names are metadata, never identity.
    pub names: HashMap<CodeHash, String>,
}

/// One version of a schema: its hash and its fields (sorted by name, as in core IR).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaVersion {
    pub hash: CodeHash,
    /// The qualified name it had where it was found, when known.
    pub name: Option<String>,
    /// Field types are absolute (see [`absolute`]): they mean the same wherever they go.
    pub fields: Vec<SchemaField>,
    /// The schema's component, which its default expressions' `Ref::Member`s refer into.
    pub component: Option<CodeHash>,
}

impl SchemaVersion {
    /// `vault::Vault #a1b2c3d4`, or the hash alone.
    pub fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("{n} #{}", self.hash.short()),
            None => format!("#{}", self.hash.short()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CodeError {
    #[error("{name} is {article} {kind}, not a schema")]
    NotASchema { name: String, article: &'static str, kind: &'static str },
    #[error("#{hash} is not among the loaded definitions", hash = .0.to_base32hex())]
    Missing(CodeHash),
    #[error("{0}")]
    Store(#[from] tel_store::Error),
    #[error("{hash} in the codebase does not decode: {message}")]
    Corrupt { hash: String, message: String },
}

/// `a`/`an` before a definition kind (`an enum`, `a fn`).
pub fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }
}

/// The hash a reference names, with `Ref::Member`s taken in `component`. `None` for a
/// builtin, an unhashed name, or a member without its component.
pub fn resolve(r: &Ref, component: Option<CodeHash>) -> Option<CodeHash> {
    match r {
        Ref::Hash(h) => Some(*h),
        Ref::Member(i) => component.map(|c| tel_hash::member_hash(&c, *i)),
        Ref::Def(_) | Ref::Builtin(_) => None,
    }
}

/// `ty` with every `Ref::Member` replaced by the member's hash, so that it means the same
/// outside the definition (of component `component`) it was read from.
pub fn absolute(ty: &Type, component: Option<CodeHash>) -> Type {
    let Some(c) = component else { return ty.clone() };
    let abs = |t: &Type| Box::new(absolute(t, Some(c)));
    let r = |r: &Ref| match r {
        Ref::Member(i) => Ref::Hash(tel_hash::member_hash(&c, *i)),
        other => other.clone(),
    };
    match ty {
        Type::List(t) => Type::List(abs(t)),
        Type::Map(k, v) => Type::Map(abs(k), abs(v)),
        Type::Option(t) => Type::Option(abs(t)),
        Type::Record(fields) => {
            Type::Record(fields.iter().map(|(n, t)| (n.clone(), absolute(t, Some(c)))).collect())
        }
        Type::Named(x) => Type::Named(r(x)),
        Type::Fn { params, ret, effects } => Type::Fn {
            params: params.iter().map(|t| absolute(t, Some(c))).collect(),
            ret: abs(ret),
            effects: effects.iter().map(r).collect(),
        },
        scalar => scalar.clone(),
    }
}

/// What a record-like type holds: its nominal owner (a `type` or `schema` hash, `None` for a
/// structural record) and its fields with absolute types.
#[derive(Clone, Debug)]
pub struct RecordShape {
    pub owner: Option<CodeHash>,
    pub fields: Vec<(SmolStr, Type)>,
}

impl Code {
    pub fn insert(&mut self, hash: CodeHash, def: StoredDef, name: Option<String>) {
        if let Some(name) = name {
            self.names.entry(hash).or_insert(name);
        }
        self.defs.entry(hash).or_insert(def);
    }

    /// Adds `other`'s definitions (the ones already here stay: a hash means one content).
    pub fn extend(&mut self, other: &Code) {
        for (h, d) in &other.defs {
            self.defs.entry(*h).or_insert_with(|| d.clone());
        }
        for (h, n) in &other.names {
            self.names.entry(*h).or_insert_with(|| n.clone());
        }
    }

    /// The definition of `hash`; the prelude's host effects are known without being loaded.
    pub fn def(&self, hash: &CodeHash) -> Option<std::borrow::Cow<'_, CoreDef>> {
        match self.defs.get(hash) {
            Some(d) => Some(std::borrow::Cow::Borrowed(&d.def)),
            None => HostEffect::from_hash(hash).map(|e| std::borrow::Cow::Owned(e.def())),
        }
    }

    pub fn component(&self, hash: &CodeHash) -> Option<CodeHash> {
        self.defs.get(hash).and_then(|d| d.component)
    }

    /// The qualified name of `hash`, else `#` and its short form.
    pub fn name(&self, hash: &CodeHash) -> String {
        if let Some(n) = self.names.get(hash) {
            return n.clone();
        }
        if let Some(e) = HostEffect::from_hash(hash) {
            return e.name().to_owned();
        }
        format!("#{}", hash.short())
    }

    /// The last segment of [`Code::name`] (`Vault` for `vault::Vault`): how a type is shown.
    pub fn short_name(&self, hash: &CodeHash) -> String {
        let name = self.name(hash);
        match name.rsplit_once("::") {
            Some((_, last)) => last.to_owned(),
            None => name,
        }
    }

    /// Every function, sorted by hash (a deterministic order for scans).
    pub fn functions(&self) -> Vec<CodeHash> {
        let mut out: Vec<CodeHash> = self
            .defs
            .iter()
            .filter(|(_, d)| matches!(d.def, CoreDef::Fn { .. }))
            .map(|(h, _)| *h)
            .collect();
        out.sort();
        out
    }

    /// The schema version `hash`.
    pub fn schema(&self, hash: &CodeHash) -> Result<SchemaVersion, CodeError> {
        let stored = self.defs.get(hash).ok_or(CodeError::Missing(*hash))?;
        let CoreDef::Schema { fields } = &stored.def else {
            let kind = stored.def.kind().as_str();
            return Err(CodeError::NotASchema {
                name: self.name(hash),
                article: article(kind),
                kind,
            });
        };
        let component = stored.component;
        let fields = fields
            .iter()
            .map(|f| SchemaField {
                name: f.name.clone(),
                ty: absolute(&f.ty, component),
                default: f.default.clone(),
            })
            .collect();
        Ok(SchemaVersion { hash: *hash, name: self.names.get(hash).cloned(), fields, component })
    }

    /// The fields of a record-like type: a structural record, a `type` naming one, or a
    /// schema. `None` for anything else (an enum, a scalar) or an unknown definition.
    pub fn record_shape(&self, ty: &Type) -> Option<RecordShape> {
        match ty {
            Type::Record(fields) => Some(RecordShape { owner: None, fields: fields.clone() }),
            Type::Named(Ref::Hash(h)) => {
                let stored = self.defs.get(h)?;
                let c = stored.component;
                let fields = match &stored.def {
                    CoreDef::Schema { fields } => {
                        fields.iter().map(|f| (f.name.clone(), absolute(&f.ty, c))).collect()
                    }
                    CoreDef::Type { ty: Type::Record(fields) } => {
                        fields.iter().map(|(n, t)| (n.clone(), absolute(t, c))).collect()
                    }
                    CoreDef::Type { ty } => return self.record_shape(&absolute(ty, c)),
                    _ => return None,
                };
                Some(RecordShape { owner: Some(*h), fields })
            }
            _ => None,
        }
    }

    /// The variants of an enum type, with absolute field types.
    pub fn enum_variants(&self, ty: &Type) -> Option<Vec<(SmolStr, Vec<Type>)>> {
        let Type::Named(Ref::Hash(h)) = ty else { return None };
        let stored = self.defs.get(h)?;
        let CoreDef::Enum { variants } = &stored.def else { return None };
        let c = stored.component;
        Some(
            variants
                .iter()
                .map(|v| (v.name.clone(), v.fields.iter().map(|t| absolute(t, c)).collect()))
                .collect(),
        )
    }

    /// TEL syntax for a type (absolute types; named ones by their short name).
    pub fn render_type(&self, ty: &Type) -> String {
        match ty {
            Type::Int => "Int".into(),
            Type::Bool => "Bool".into(),
            Type::String => "String".into(),
            Type::Duration => "Duration".into(),
            Type::Unit => "()".into(),
            Type::Hash => "Hash".into(),
            Type::List(t) => format!("List<{}>", self.render_type(t)),
            Type::Map(k, v) => format!("Map<{}, {}>", self.render_type(k), self.render_type(v)),
            Type::Option(t) if matches!(**t, Type::Fn { .. }) => {
                format!("({})?", self.render_type(t))
            }
            Type::Option(t) => format!("{}?", self.render_type(t)),
            Type::Record(fields) => {
                let fields: Vec<String> =
                    fields.iter().map(|(n, t)| format!("{n}: {}", self.render_type(t))).collect();
                format!("{{ {} }}", fields.join(", "))
            }
            Type::Named(r) => match r {
                Ref::Hash(h) => self.short_name(h),
                Ref::Def(n) => n.to_string(),
                Ref::Member(i) => format!("#member.{i}"),
                Ref::Builtin(b) => b.name().to_owned(),
            },
            Type::Fn { params, ret, effects } => {
                let params: Vec<String> = params.iter().map(|t| self.render_type(t)).collect();
                let mut out = format!("fn({}) -> {}", params.join(", "), self.render_type(ret));
                if !effects.is_empty() {
                    let names: Vec<String> = effects
                        .iter()
                        .map(|r| match resolve(r, None) {
                            Some(h) => self.short_name(&h),
                            None => "?".into(),
                        })
                        .collect();
                    out.push_str(&format!(" ! {{{}}}", names.join(", ")));
                }
                out
            }
        }
    }

    // ------------------------------------------------------------------ from the codebase

    /// Adds `hash` and everything it depends on from the codebase, with their names.
    pub fn add_closure(&mut self, store: &Store, hash: &CodeHash) -> Result<(), CodeError> {
        for stored in store.load_closure(hash)? {
            if self.defs.contains_key(&stored.hash) {
                continue;
            }
            let def = tel_hash::decode(&stored.canonical).map_err(|e| CodeError::Corrupt {
                hash: stored.hash.full(),
                message: e.to_string(),
            })?;
            let names = store.view(&stored.hash.full())?.names;
            let short = names.first().map(|n| SmolStr::new(n.rsplit("::").next().unwrap_or(n)));
            let def =
                StoredDef { def, component: stored.component.map(|c| c.component), name: short };
            self.insert(stored.hash, def, names.into_iter().next());
        }
        Ok(())
    }

    /// Adds every function of the codebase that depends on `hash`, directly or not, with
    /// their dependencies: the code that may read a schema stored there. Returns them.
    pub fn add_dependents(
        &mut self,
        store: &Store,
        hash: &CodeHash,
    ) -> Result<Vec<CodeHash>, CodeError> {
        let mut functions = Vec::new();
        for dependent in store.transitive_dependents(hash)? {
            self.add_closure(store, &dependent)?;
            if matches!(self.defs.get(&dependent).map(|d| &d.def), Some(CoreDef::Fn { .. })) {
                functions.push(dependent);
            }
        }
        Ok(functions)
    }
}
