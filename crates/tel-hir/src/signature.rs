//! Resolving written types into [`Ty`], and items' declarations into [`Signature`]s.

use std::sync::Arc;

use smol_str::SmolStr;
use tel_hash::core::DefKind;
use tel_hash::{CodeHash, HashPrefix, ResolveError as HashResolveError};

use crate::def_map::{BuiltinType, DefMap, Ns, Resolution};
use crate::diagnostics::{Anchored, codes};
use crate::item_tree::{Item, ItemKind, ItemPart};
use crate::ty::{
    DefId, DefRef, EffectSet, EffectSig, EnumSig, FnSig, SchemaFieldSig, SchemaSig, Signature, Ty,
    kind_name,
};
use crate::type_ref::{TypeRef, TypeRefAnchor, TypeRefId, TypeRefs};

/// A stored definition found by hash prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HashDef {
    pub hash: CodeHash,
    pub kind: DefKind,
}

/// What checking needs to know beyond the definition being checked. `tel-ide` implements it
/// with salsa queries; [`crate::project::Project`] with plain memoization.
pub trait HirDatabase {
    /// Name resolution for the whole project.
    fn def_map(&self) -> Arc<DefMap>;
    /// The signature of a project definition or of a stored one; `None` if unknown.
    fn signature(&self, def: &DefRef) -> Option<Arc<Signature>>;
    /// Finds the stored definition a `#prefix` (or `#comp.i`) names.
    fn resolve_hash(&self, prefix: &HashPrefix) -> Result<HashDef, HashResolveError>;
}

/// Resolves a `#…` reference and checks it names the right kind of thing.
pub(crate) fn resolve_hash_ref(
    db: &dyn HirDatabase,
    text: &str,
    ns: Ns,
) -> Result<(DefRef, DefKind), Option<(&'static str, String)>> {
    // A malformed literal was reported by the lexer: no second message here.
    let prefix = HashPrefix::parse(text).map_err(|_| None)?;
    match db.resolve_hash(&prefix) {
        Ok(found) => {
            let ok = match ns {
                Ns::Type => matches!(found.kind, DefKind::Type | DefKind::Enum | DefKind::Schema),
                Ns::Value => found.kind == DefKind::Fn,
                Ns::Effect => found.kind == DefKind::Effect,
            };
            if ok {
                Ok((DefRef::Hash(found.hash), found.kind))
            } else {
                let wanted = match ns {
                    Ns::Type => "a type",
                    Ns::Value => "a function",
                    Ns::Effect => "an effect",
                };
                Err(Some((
                    codes::WRONG_KIND,
                    format!(
                        "`{prefix}` is {} {}, not {wanted}",
                        article(found.kind),
                        kind_name(found.kind)
                    ),
                )))
            }
        }
        Err(e @ HashResolveError::NotFound { .. }) => {
            Err(Some((codes::UNKNOWN_HASH, e.to_string())))
        }
        Err(e @ HashResolveError::Ambiguous { .. }) => {
            Err(Some((codes::AMBIGUOUS_HASH, e.to_string())))
        }
    }
}

fn article(kind: DefKind) -> &'static str {
    match kind {
        DefKind::Enum | DefKind::Effect => "an",
        _ => "a",
    }
}

/// Lowers written types of one arena (an item's or a body's) in one module's scope.
pub struct TyLowerer<'a> {
    pub db: &'a dyn HirDatabase,
    pub def_map: &'a DefMap,
    pub module: &'a str,
    pub type_refs: &'a TypeRefs,
    pub diagnostics: Vec<Anchored<TypeRefAnchor>>,
}

impl<'a> TyLowerer<'a> {
    pub fn new(
        db: &'a dyn HirDatabase,
        def_map: &'a DefMap,
        module: &'a str,
        type_refs: &'a TypeRefs,
    ) -> Self {
        TyLowerer { db, def_map, module, type_refs, diagnostics: Vec::new() }
    }

    fn error(&mut self, id: TypeRefId, code: &'static str, msg: impl Into<String>) {
        self.diagnostics.push(Anchored::error(TypeRefAnchor::Type(id), code, msg));
    }

    pub fn lower_ty(&mut self, id: TypeRefId) -> Ty {
        match &self.type_refs[id] {
            TypeRef::Missing => Ty::Error,
            TypeRef::Unit => Ty::Unit,
            TypeRef::Option(inner) => Ty::option(self.lower_ty(*inner)),
            TypeRef::Record(fields) => {
                let mut out: Vec<(SmolStr, Ty)> = Vec::new();
                for (name, t) in fields {
                    let ty = self.lower_ty(*t);
                    if out.iter().any(|(n, _)| n == name) {
                        self.diagnostics.push(Anchored::error(
                            TypeRefAnchor::FieldName(*t),
                            codes::DUPLICATE_FIELD,
                            format!("field `{name}` is declared twice"),
                        ));
                        continue;
                    }
                    out.push((name.clone(), ty));
                }
                out.sort_by(|a, b| a.0.cmp(&b.0));
                Ty::Record(out)
            }
            TypeRef::Fn { params, ret, effects } => {
                let params = params.iter().map(|p| self.lower_ty(*p)).collect();
                let ret = self.lower_ty(*ret);
                let effects = self.lower_effects(effects);
                Ty::func(params, ret, effects)
            }
            TypeRef::Hash(text) => match resolve_hash_ref(self.db, text, Ns::Type) {
                Ok((def, _)) => Ty::Named(def),
                Err(e) => {
                    if let Some((code, msg)) = e {
                        self.error(id, code, msg);
                    }
                    Ty::Error
                }
            },
            TypeRef::Path { path, args } => {
                let args = args.clone();
                let res = self.def_map.resolve_path(self.module, path, Ns::Type);
                match res {
                    Ok(Resolution::BuiltinType(b)) => {
                        if args.len() != b.arity() {
                            let msg = match b.arity() {
                                0 => format!("`{path}` takes no type arguments"),
                                1 => {
                                    format!("`{path}` takes 1 type argument, found {}", args.len())
                                }
                                n => format!(
                                    "`{path}` takes {n} type arguments, found {}",
                                    args.len()
                                ),
                            };
                            self.error(id, codes::GENERIC_ARGS, msg);
                            for a in &args {
                                self.lower_ty(*a);
                            }
                            return Ty::Error;
                        }
                        let lowered: Vec<Ty> = args.iter().map(|a| self.lower_ty(*a)).collect();
                        let mut a = lowered.into_iter();
                        match b {
                            BuiltinType::Int => Ty::Int,
                            BuiltinType::Bool => Ty::Bool,
                            BuiltinType::String => Ty::String,
                            BuiltinType::Duration => Ty::Duration,
                            BuiltinType::Hash => Ty::Hash,
                            BuiltinType::List => Ty::list(a.next().expect("arity 1")),
                            BuiltinType::Map => {
                                let k = a.next().expect("arity 2");
                                self.check_map_key(args[0], &k);
                                Ty::map(k, a.next().expect("arity 2"))
                            }
                        }
                    }
                    Ok(Resolution::Def(def, _)) => {
                        if !args.is_empty() {
                            self.error(
                                id,
                                codes::GENERIC_ARGS,
                                format!("`{path}` takes no type arguments"),
                            );
                        }
                        Ty::Named(def)
                    }
                    Ok(other) => {
                        self.error(
                            id,
                            codes::WRONG_KIND,
                            format!("expected a type, found {}", describe_resolution(&other)),
                        );
                        Ty::Error
                    }
                    Err(e) => {
                        self.error(id, e.code(), e.message());
                        Ty::Error
                    }
                }
            }
        }
    }

    /// Map keys need an order that is the same everywhere (language.md §3).
    fn check_map_key(&mut self, id: TypeRefId, key: &Ty) {
        let ok = match key {
            t if crate::infer::is_map_key(t) => true,
            // An alias may stand for a valid key; which one is not known without expanding
            // it, and a signature is resolved without looking at other signatures.
            Ty::Named(DefRef::Def(d)) => self.def_map.item(d).is_some_and(|i| i.is_alias),
            Ty::Named(DefRef::Hash(_)) => true,
            _ => false,
        };
        if !ok {
            self.error(
                id,
                codes::BAD_MAP_KEY,
                format!("`{key}` cannot be a map key: keys are `Int`, `Bool`, `String`, `Duration` or `Hash`"),
            );
        }
    }

    pub fn lower_effect(&mut self, id: TypeRefId) -> Option<DefRef> {
        match &self.type_refs[id] {
            TypeRef::Missing => None,
            TypeRef::Hash(text) => match resolve_hash_ref(self.db, text, Ns::Effect) {
                Ok((def, _)) => Some(def),
                Err(e) => {
                    if let Some((code, msg)) = e {
                        self.error(id, code, msg);
                    }
                    None
                }
            },
            TypeRef::Path { path, args } => {
                if !args.is_empty() {
                    self.error(
                        id,
                        codes::GENERIC_ARGS,
                        format!("effect `{path}` takes no type arguments"),
                    );
                }
                match self.def_map.resolve_path(self.module, path, Ns::Effect) {
                    Ok(Resolution::Def(def, DefKind::Effect)) => Some(def),
                    Ok(other) => {
                        self.error(
                            id,
                            codes::WRONG_KIND,
                            format!("expected an effect, found {}", describe_resolution(&other)),
                        );
                        None
                    }
                    Err(e) => {
                        self.error(id, e.code(), e.message());
                        None
                    }
                }
            }
            _ => {
                self.error(id, codes::WRONG_KIND, "expected an effect name in the effect row");
                None
            }
        }
    }

    pub fn lower_effects(&mut self, ids: &[TypeRefId]) -> EffectSet {
        ids.iter().filter_map(|e| self.lower_effect(*e)).collect()
    }
}

pub(crate) fn describe_resolution(res: &Resolution) -> String {
    match res {
        Resolution::Def(def, kind) => format!("{} `{}`", kind_name(*kind), def.display_name()),
        Resolution::Variant(v) => format!("variant `{}`", v.name),
        Resolution::Builtin(b) => {
            format!("builtin function `{}`", b.name())
        }
        Resolution::BuiltinType(_) => "a builtin type".to_string(),
        Resolution::Module(m) => format!("module `{m}`"),
    }
}

/// The signature of `item` (declared in `module`), with diagnostics about its types.
/// Looks only at the item and name resolution, never at other signatures.
pub fn item_signature(
    db: &dyn HirDatabase,
    module: &str,
    item: &Item,
) -> (Signature, Vec<Anchored<ItemPart>>) {
    let def_map = db.def_map();
    let mut lower = TyLowerer::new(db, &def_map, module, &item.type_refs);
    let mut extra = Vec::new();
    let sig = match &item.kind {
        ItemKind::Fn(f) => {
            let params = f.params.iter().map(|(n, t)| (n.clone(), lower.lower_ty(*t))).collect();
            let ret = f.ret.map_or(Ty::Unit, |t| lower.lower_ty(t));
            let mut effects = EffectSet::new();
            for e in &f.effects {
                if let Some(def) = lower.lower_effect(*e)
                    && !effects.insert(def.clone())
                {
                    extra.push(Anchored::warning(
                        ItemPart::TypeRef(*e),
                        codes::DUPLICATE_DEFINITION,
                        format!("`{}` is listed twice in the effect row", def.display_name()),
                    ));
                }
            }
            Signature::Fn(FnSig { params, ret, effects })
        }
        ItemKind::Type(t) => {
            let ty = lower.lower_ty(*t);
            Signature::Type(ty)
        }
        ItemKind::Enum(variants) => {
            let mut out: Vec<(SmolStr, Vec<Ty>)> = Vec::new();
            for (i, v) in variants.iter().enumerate() {
                let fields = v.fields.iter().map(|t| lower.lower_ty(*t)).collect();
                if out.iter().any(|(n, _)| *n == v.name) {
                    extra.push(Anchored::error(
                        ItemPart::Member(i as u32),
                        codes::DUPLICATE_DEFINITION,
                        format!("variant `{}` is declared twice", v.name),
                    ));
                    continue;
                }
                out.push((v.name.clone(), fields));
            }
            Signature::Enum(EnumSig { variants: out })
        }
        ItemKind::Effect(e) => {
            let params = e.params.iter().map(|(n, t)| (n.clone(), lower.lower_ty(*t))).collect();
            let ret = e.ret.map_or(Ty::Unit, |t| lower.lower_ty(t));
            Signature::Effect(EffectSig { name: item.name.clone(), params, ret })
        }
        ItemKind::Schema(fields) => {
            let mut out: Vec<SchemaFieldSig> = Vec::new();
            for (i, f) in fields.iter().enumerate() {
                let ty = lower.lower_ty(f.ty);
                if let Ty::Option(inner) = &ty
                    && let Ty::Option(_) = **inner
                {
                    extra.push(Anchored::error(
                        ItemPart::TypeRef(f.ty),
                        codes::TYPE_MISMATCH,
                        format!("a schema field cannot have type `{ty}`: stored state could not tell `None` from `Some(None)`"),
                    ));
                }
                if out.iter().any(|o| o.name == f.name) {
                    extra.push(Anchored::error(
                        ItemPart::Member(i as u32),
                        codes::DUPLICATE_FIELD,
                        format!("field `{}` is declared twice", f.name),
                    ));
                    continue;
                }
                out.push(SchemaFieldSig { name: f.name.clone(), ty, has_default: f.has_default });
            }
            Signature::Schema(SchemaSig { fields: out })
        }
    };
    let mut diags: Vec<Anchored<ItemPart>> =
        lower.diagnostics.into_iter().map(|d| d.map_anchor(ItemPart::from)).collect();
    diags.extend(extra);
    (sig, diags)
}

/// Follows non-record `type` aliases to the type they stand for. Record types, enums and
/// schemas stay `Named`. A cycle of aliases gives `Ty::Error` (reported by [`check_type_alias`]).
pub fn expand_alias(db: &dyn HirDatabase, ty: &Ty) -> Ty {
    let mut cur = ty.clone();
    for _ in 0..64 {
        let Ty::Named(def) = &cur else { return cur };
        match db.signature(def).as_deref() {
            Some(Signature::Type(Ty::Record(_))) | None => return cur,
            Some(Signature::Type(inner)) => cur = inner.clone(),
            Some(_) => return cur,
        }
    }
    Ty::Error
}

/// Reports a `type` alias that expands to itself (`type A = B; type B = A`).
pub fn check_type_alias(db: &dyn HirDatabase, def: &DefId) -> Option<Anchored<ItemPart>> {
    let start = DefRef::Def(def.clone());
    let mut seen = vec![start.clone()];
    let mut cur = start;
    loop {
        let sig = db.signature(&cur)?;
        let Signature::Type(Ty::Named(next)) = &*sig else { return None };
        let next_sig = db.signature(next)?;
        if !matches!(&*next_sig, Signature::Type(t) if !matches!(t, Ty::Record(_))) {
            return None;
        }
        if *next == seen[0] {
            let names: Vec<String> = seen
                .iter()
                .chain(std::iter::once(next))
                .map(|d| format!("`{}`", d.display_name()))
                .collect();
            return Some(Anchored::error(
                ItemPart::Name,
                codes::TYPE_ALIAS_CYCLE,
                format!("type alias expands to itself: {}", names.join(" → ")),
            ));
        }
        if seen.contains(next) {
            // A cycle that does not pass through `def`: reported at its own members.
            return None;
        }
        seen.push(next.clone());
        cur = next.clone();
    }
}
