//! Bodies: a function's (or a schema's defaults') expressions in an arena, locals resolved
//! to binders. A [`Body`] holds no positions (so it is equal across edits that only move
//! it); [`BodySourceMap`] maps its ids back to ranges.

use la_arena::{Arena, ArenaMap, Idx};
use rustc_hash::FxHashMap;
use smol_str::SmolStr;
use tel_hash::core::{BinOp, UnOp};

use crate::diagnostics::{Anchored, TextRange};
use crate::type_ref::{Path, TypeRefAnchor, TypeRefId, TypeRefs};
use tel_syntax::TextSize;

pub type ExprId = Idx<Expr>;
pub type PatId = Idx<Pat>;
pub type BindingId = Idx<Binding>;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Body {
    pub exprs: Arena<Expr>,
    pub pats: Arena<Pat>,
    pub bindings: Arena<Binding>,
    pub type_refs: TypeRefs,
    /// A function's parameters, in order.
    pub params: Vec<BindingId>,
    /// What the body evaluates: a function's block, or a schema's field defaults.
    pub root: BodyRoot,
    /// Problems found while lowering (bad literals).
    pub diagnostics: Vec<Anchored<BodyAnchor>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyRoot {
    Expr(ExprId),
    /// `(field index in the schema declaration, default expression)`.
    SchemaDefaults(Vec<(u32, ExprId)>),
}

impl Default for BodyRoot {
    fn default() -> Self {
        BodyRoot::SchemaDefaults(Vec::new())
    }
}

/// A local variable: a parameter, `let`, lambda parameter, pattern binding or clause
/// parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub name: SmolStr,
}

impl Binding {
    /// The name of a `_` binder's binding (no identifier is spelled `_`).
    pub const WILDCARD: &'static str = "_";

    /// Whether this is a `_` binder (`let _`, `_: Int`, `|_|`, `Op(_)`): it has its slot —
    /// the argument is still passed, the value still evaluated — but no name refers to it.
    pub fn is_wildcard(&self) -> bool {
        self.name == Self::WILDCARD
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Literal {
    Int(i64),
    Bool(bool),
    String(SmolStr),
    /// Milliseconds.
    Duration(i64),
    Unit,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// Unparsable or absent; the parser reported it.
    Missing,
    Lit(Literal),
    Local(BindingId),
    /// A path that is not a local: resolved against the module scope during inference.
    Path(Path),
    /// `#a7f3b2c1` (the text without `#`).
    HashRef(SmolStr),
    Call {
        callee: ExprId,
        args: Vec<ExprId>,
    },
    Field {
        expr: ExprId,
        name: SmolStr,
    },
    Binary {
        op: BinOp,
        lhs: ExprId,
        rhs: ExprId,
    },
    Unary {
        op: UnOp,
        expr: ExprId,
    },
    /// `Quote { .. }` (with path) or `{ .. }`.
    Record {
        path: Option<Path>,
        fields: Vec<(SmolStr, ExprId)>,
    },
    List(Vec<ExprId>),
    Block {
        stmts: Vec<Stmt>,
        tail: Option<ExprId>,
    },
    If {
        cond: ExprId,
        then: ExprId,
        else_: Option<ExprId>,
    },
    Match {
        scrutinee: ExprId,
        arms: Vec<MatchArm>,
    },
    Handle {
        body: ExprId,
        clauses: Vec<HandlerClause>,
    },
    Perform {
        effect: EffectName,
        args: Vec<ExprId>,
    },
    Resume(Vec<ExprId>),
    Abort(Vec<ExprId>),
    Within {
        deadline: ExprId,
        body: ExprId,
        fallback: ExprId,
    },
    After {
        delay: ExprId,
        body: ExprId,
    },
    Lambda {
        params: Vec<(BindingId, Option<TypeRefId>)>,
        body: ExprId,
    },
}

/// How a `perform` or a handler clause names its effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EffectName {
    Path(Path),
    Hash(SmolStr),
    Missing,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stmt {
    Let { binding: BindingId, ty: Option<TypeRefId>, init: ExprId },
    Expr(ExprId),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchArm {
    pub pat: PatId,
    pub guard: Option<ExprId>,
    pub body: ExprId,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerClause {
    pub effect: EffectName,
    pub params: Vec<BindingId>,
    pub body: ExprId,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pat {
    Missing,
    Wild,
    Lit(Literal),
    Bind(BindingId),
    /// `Outcome::Filled(x)`, `Some(x)`, `Expired` (`args` is `None` without parentheses).
    Variant {
        path: Path,
        args: Option<Vec<PatId>>,
    },
    /// `Quote { price, .. }`; `rest` is the `..`.
    Record {
        path: Option<Path>,
        fields: Vec<(SmolStr, PatId)>,
        rest: bool,
    },
}

/// A place in a body, for diagnostics.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BodyAnchor {
    Expr(ExprId),
    /// The operator of a binary/unary expression, the field name of a field access, the
    /// effect path of a `perform`, the path of a record literal.
    ExprToken(ExprId),
    /// Field initializer `i` of a record literal (its name).
    RecordField(ExprId, u32),
    /// The effect path of clause `i` of a `handle`.
    Clause(ExprId, u32),
    Pat(PatId),
    /// Field `i` of a record pattern (its name).
    PatField(PatId, u32),
    Binding(BindingId),
    TypeRef(TypeRefId),
    /// The name of the record-type field whose type is this.
    TypeFieldName(TypeRefId),
}

impl From<TypeRefAnchor> for BodyAnchor {
    fn from(a: TypeRefAnchor) -> BodyAnchor {
        match a {
            TypeRefAnchor::Type(t) => BodyAnchor::TypeRef(t),
            TypeRefAnchor::FieldName(t) => BodyAnchor::TypeFieldName(t),
        }
    }
}

/// Positions of everything in a [`Body`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BodySourceMap {
    pub exprs: ArenaMap<ExprId, TextRange>,
    pub expr_tokens: ArenaMap<ExprId, TextRange>,
    pub record_fields: FxHashMap<(ExprId, u32), TextRange>,
    pub clauses: FxHashMap<(ExprId, u32), TextRange>,
    pub pats: ArenaMap<PatId, TextRange>,
    pub pat_fields: FxHashMap<(PatId, u32), TextRange>,
    pub bindings: ArenaMap<BindingId, TextRange>,
    pub type_refs: ArenaMap<TypeRefId, TextRange>,
    pub type_field_names: ArenaMap<TypeRefId, TextRange>,
    /// Reverse maps, for the IDE (the node's full range → id).
    pub expr_by_range: FxHashMap<TextRange, ExprId>,
    pub pat_by_range: FxHashMap<TextRange, PatId>,
}

impl BodySourceMap {
    /// The same map with every range moved `by` bytes later: a body lowered from its item
    /// alone (ranges relative to the item's start) placed where the item is in its file.
    pub fn shifted(&self, by: TextSize) -> BodySourceMap {
        fn arena<K, const N: usize>(
            maps: [&ArenaMap<Idx<K>, TextRange>; N],
            by: TextSize,
        ) -> [ArenaMap<Idx<K>, TextRange>; N] {
            maps.map(|m| m.iter().map(|(k, r)| (k, *r + by)).collect())
        }
        fn keyed<K: Copy + Eq + std::hash::Hash>(
            m: &FxHashMap<K, TextRange>,
            by: TextSize,
        ) -> FxHashMap<K, TextRange> {
            m.iter().map(|(k, r)| (*k, *r + by)).collect()
        }
        fn reverse<V: Copy>(m: &FxHashMap<TextRange, V>, by: TextSize) -> FxHashMap<TextRange, V> {
            m.iter().map(|(r, v)| (*r + by, *v)).collect()
        }
        let [exprs, expr_tokens] = arena([&self.exprs, &self.expr_tokens], by);
        let [type_refs, type_field_names] = arena([&self.type_refs, &self.type_field_names], by);
        let [pats] = arena([&self.pats], by);
        let [bindings] = arena([&self.bindings], by);
        BodySourceMap {
            exprs,
            expr_tokens,
            record_fields: keyed(&self.record_fields, by),
            clauses: keyed(&self.clauses, by),
            pats,
            pat_fields: keyed(&self.pat_fields, by),
            bindings,
            type_refs,
            type_field_names,
            expr_by_range: reverse(&self.expr_by_range, by),
            pat_by_range: reverse(&self.pat_by_range, by),
        }
    }

    pub fn range(&self, anchor: BodyAnchor) -> TextRange {
        let empty = TextRange::default();
        match anchor {
            BodyAnchor::Expr(e) => self.exprs.get(e).copied().unwrap_or(empty),
            BodyAnchor::ExprToken(e) => {
                self.expr_tokens.get(e).or_else(|| self.exprs.get(e)).copied().unwrap_or(empty)
            }
            BodyAnchor::RecordField(e, i) => self
                .record_fields
                .get(&(e, i))
                .or_else(|| self.exprs.get(e))
                .copied()
                .unwrap_or(empty),
            BodyAnchor::Clause(e, i) => {
                self.clauses.get(&(e, i)).or_else(|| self.exprs.get(e)).copied().unwrap_or(empty)
            }
            BodyAnchor::Pat(p) => self.pats.get(p).copied().unwrap_or(empty),
            BodyAnchor::PatField(p, i) => {
                self.pat_fields.get(&(p, i)).or_else(|| self.pats.get(p)).copied().unwrap_or(empty)
            }
            BodyAnchor::Binding(b) => self.bindings.get(b).copied().unwrap_or(empty),
            BodyAnchor::TypeRef(t) => self.type_refs.get(t).copied().unwrap_or(empty),
            BodyAnchor::TypeFieldName(t) => self
                .type_field_names
                .get(t)
                .or_else(|| self.type_refs.get(t))
                .copied()
                .unwrap_or(empty),
        }
    }

    /// The expression whose range is exactly `range`.
    pub fn expr_at(&self, range: TextRange) -> Option<ExprId> {
        self.expr_by_range.get(&range).copied()
    }

    /// The smallest expression whose range contains `offset` (for hover and inlay hints).
    pub fn expr_at_offset(&self, offset: crate::TextSize) -> Option<ExprId> {
        self.exprs
            .iter()
            .filter(|(_, r)| r.contains_inclusive(offset))
            .min_by_key(|(_, r)| r.len())
            .map(|(e, _)| e)
    }
}
