//! Semantic types, definitions' identities, and resolved signatures.

use std::collections::BTreeSet;
use std::fmt;

use smol_str::SmolStr;
use tel_hash::CodeHash;
use tel_hash::core::DefKind;

/// A module's full name: `treasury`, `a::b`.
pub type ModuleName = SmolStr;

/// The module that declares the host effects (see [`crate::PRELUDE_SOURCE`]).
pub const PRELUDE_MODULE: &str = "prelude";

/// A definition of the project, by module and name. Names (not positions) identify
/// definitions so that inserting an item does not change every other item's id.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DefId {
    pub module: ModuleName,
    pub name: SmolStr,
}

impl DefId {
    pub fn new(module: impl Into<SmolStr>, name: impl Into<SmolStr>) -> DefId {
        DefId { module: module.into(), name: name.into() }
    }

    /// `module::name`, the form core IR refers to project definitions by.
    pub fn qualified(&self) -> SmolStr {
        SmolStr::from(format!("{}::{}", self.module, self.name))
    }

    pub fn prelude(name: &str) -> DefId {
        DefId::new(PRELUDE_MODULE, name)
    }
}

impl fmt::Debug for DefId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}", self.module, self.name)
    }
}

/// Any definition: one of the project, or a stored one named by hash.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DefRef {
    Def(DefId),
    Hash(CodeHash),
}

impl DefRef {
    /// How messages name it: the item name, or `#` + the short hash.
    pub fn display_name(&self) -> String {
        match self {
            DefRef::Def(d) => d.name.to_string(),
            DefRef::Hash(h) => format!("#{}", h.short()),
        }
    }

    pub fn to_core(&self) -> tel_hash::core::Ref {
        match self {
            DefRef::Def(d) => tel_hash::core::Ref::Def(d.qualified()),
            DefRef::Hash(h) => tel_hash::core::Ref::Hash(*h),
        }
    }
}

impl fmt::Debug for DefRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DefRef::Def(d) => write!(f, "{d:?}"),
            DefRef::Hash(h) => write!(f, "#{}", h.short()),
        }
    }
}

/// A set of effects, ordered so that equal sets compare and display equally.
pub type EffectSet = BTreeSet<DefRef>;

/// An inference variable (only inside [`crate::infer`]; never in a finished result).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TyVar(pub u32);

#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Ty {
    Int,
    Bool,
    String,
    Duration,
    Unit,
    Hash,
    List(Box<Ty>),
    Map(Box<Ty>, Box<Ty>),
    Option(Box<Ty>),
    /// A structural record; fields sorted by name.
    Record(Vec<(SmolStr, Ty)>),
    /// A nominal type: a record `type`, an `enum` or a `schema`.
    Named(DefRef),
    Fn(Box<FnTy>),
    Var(TyVar),
    /// The type of something already reported as wrong; it agrees with every type, so one
    /// mistake gives one diagnostic.
    Error,
}

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct FnTy {
    pub params: Vec<Ty>,
    pub ret: Ty,
    pub effects: EffectSet,
}

impl Ty {
    pub fn list(t: Ty) -> Ty {
        Ty::List(Box::new(t))
    }
    pub fn option(t: Ty) -> Ty {
        Ty::Option(Box::new(t))
    }
    pub fn map(k: Ty, v: Ty) -> Ty {
        Ty::Map(Box::new(k), Box::new(v))
    }
    pub fn func(params: Vec<Ty>, ret: Ty, effects: EffectSet) -> Ty {
        Ty::Fn(Box::new(FnTy { params, ret, effects }))
    }

    pub fn contains_error(&self) -> bool {
        self.any(&mut |t| matches!(t, Ty::Error))
    }

    /// Whether a function type occurs in it (such values have no equality).
    pub fn contains_fn(&self) -> bool {
        self.any(&mut |t| matches!(t, Ty::Fn(_)))
    }

    pub fn contains_var(&self) -> bool {
        self.any(&mut |t| matches!(t, Ty::Var(_)))
    }

    fn any(&self, f: &mut impl FnMut(&Ty) -> bool) -> bool {
        if f(self) {
            return true;
        }
        match self {
            Ty::List(t) | Ty::Option(t) => t.any(f),
            Ty::Map(k, v) => k.any(f) || v.any(f),
            Ty::Record(fields) => fields.iter().any(|(_, t)| t.any(f)),
            Ty::Fn(func) => func.params.iter().any(|t| t.any(f)) || func.ret.any(f),
            _ => false,
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Int => f.write_str("Int"),
            Ty::Bool => f.write_str("Bool"),
            Ty::String => f.write_str("String"),
            Ty::Duration => f.write_str("Duration"),
            Ty::Unit => f.write_str("()"),
            Ty::Hash => f.write_str("Hash"),
            Ty::List(t) => write!(f, "List<{t}>"),
            Ty::Map(k, v) => write!(f, "Map<{k}, {v}>"),
            Ty::Option(t) => match **t {
                Ty::Fn(_) => write!(f, "({t})?"),
                _ => write!(f, "{t}?"),
            },
            Ty::Record(fields) => {
                if fields.is_empty() {
                    return f.write_str("{}");
                }
                f.write_str("{ ")?;
                for (i, (name, t)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}: {t}")?;
                }
                f.write_str(" }")
            }
            Ty::Named(d) => f.write_str(&d.display_name()),
            Ty::Fn(func) => {
                f.write_str("fn(")?;
                for (i, p) in func.params.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{p}")?;
                }
                write!(f, ") -> {}", func.ret)?;
                if !func.effects.is_empty() {
                    write!(f, " ! {}", DisplayEffects(&func.effects))?;
                }
                Ok(())
            }
            Ty::Var(_) => f.write_str("_"),
            Ty::Error => f.write_str("{unknown}"),
        }
    }
}

impl fmt::Debug for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Var(v) => write!(f, "?{}", v.0),
            _ => write!(f, "{self}"),
        }
    }
}

/// `{A, B}`.
pub struct DisplayEffects<'a>(pub &'a EffectSet);

impl fmt::Display for DisplayEffects<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(&e.display_name())?;
        }
        f.write_str("}")
    }
}

/// A definition's resolved declaration: everything other definitions need to know about it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Signature {
    Fn(FnSig),
    /// `type Name = T`. When `T` is a record the type is nominal (`Ty::Named` of this
    /// definition); otherwise `Name` is another name for `T`.
    Type(Ty),
    Enum(EnumSig),
    Effect(EffectSig),
    Schema(SchemaSig),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FnSig {
    /// Parameter names (`_0`, `_1`, … for stored definitions, whose names are not kept).
    pub params: Vec<(SmolStr, Ty)>,
    pub ret: Ty,
    pub effects: EffectSet,
}

impl FnSig {
    pub fn fn_ty(&self) -> Ty {
        Ty::func(
            self.params.iter().map(|(_, t)| t.clone()).collect(),
            self.ret.clone(),
            self.effects.clone(),
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EnumSig {
    pub variants: Vec<(SmolStr, Vec<Ty>)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EffectSig {
    /// The operation's name: part of its identity (see `tel_hash::core::CoreDef::Effect`).
    pub name: SmolStr,
    pub params: Vec<(SmolStr, Ty)>,
    pub ret: Ty,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SchemaSig {
    /// In declared order.
    pub fields: Vec<SchemaFieldSig>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SchemaFieldSig {
    pub name: SmolStr,
    /// `T?` fields have an option type here.
    pub ty: Ty,
    pub has_default: bool,
}

impl Signature {
    pub fn kind(&self) -> DefKind {
        match self {
            Signature::Fn(_) => DefKind::Fn,
            Signature::Type(_) => DefKind::Type,
            Signature::Enum(_) => DefKind::Enum,
            Signature::Effect(_) => DefKind::Effect,
            Signature::Schema(_) => DefKind::Schema,
        }
    }

    /// The fields of a record-like definition (a record `type` or a schema), sorted by name.
    pub fn record_fields(&self) -> Option<Vec<(SmolStr, Ty)>> {
        match self {
            Signature::Type(Ty::Record(fields)) => Some(fields.clone()),
            Signature::Schema(s) => {
                let mut fields: Vec<_> =
                    s.fields.iter().map(|f| (f.name.clone(), f.ty.clone())).collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                Some(fields)
            }
            _ => None,
        }
    }
}

/// How messages name a kind of definition.
pub fn kind_name(kind: DefKind) -> &'static str {
    match kind {
        DefKind::Fn => "function",
        DefKind::Type => "type",
        DefKind::Enum => "enum",
        DefKind::Effect => "effect",
        DefKind::Schema => "schema",
    }
}
