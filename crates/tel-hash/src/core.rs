//! The core IR: the normalized form of a TEL definition.
//!
//! This is what a definition *means*, with everything that does not affect meaning removed:
//! locals are de Bruijn indices, references to other definitions are [`Ref`]s (a qualified
//! name before hashing, a [`CodeHash`] or a component member after), record fields are sorted
//! by name, and there are no source positions, comments or local names. `tel-hir` lowers to
//! it, this crate serializes and hashes it, and the VM compiles it.
//!
//! Binding discipline (de Bruijn): `Local(0)` is the innermost binder in scope. Binders are
//! introduced by `Fn` parameters (the last parameter is innermost), `Lambda` parameters (same),
//! `Let` (one), `Match` arm patterns (each `Bind` in the pattern's canonical left-to-right
//! order, record sub-patterns in sorted field order; the last one bound is innermost) and
//! handler clauses (the operation's arguments, last innermost).

use crate::CodeHash;
use smol_str::SmolStr;

/// A reference from one definition to another.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Ref {
    /// A definition of the project, by its fully qualified name (`module::item`). Only exists
    /// before hashing; the serializer resolves it to `Hash` or `Member`.
    Def(SmolStr),
    /// A definition by content hash (a stored definition, or a resolved project definition).
    Hash(CodeHash),
    /// Member `i` of the mutually recursive component being hashed (canonical order).
    Member(u32),
    /// A builtin function; ids are frozen per format version.
    Builtin(Builtin),
}

/// Builtin functions. The discriminants are part of the hash format: never renumber.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[repr(u8)]
pub enum Builtin {
    Show = 0,
    Len = 1,
    Map = 2,
    Filter = 3,
    Fold = 4,
    Get = 5,
    Insert = 6,
    EmptyMap = 7,
    Keys = 8,
    Now = 9,
}

impl Builtin {
    /// Every builtin, in id order.
    pub const ALL: [Builtin; 10] = [
        Builtin::Show,
        Builtin::Len,
        Builtin::Map,
        Builtin::Filter,
        Builtin::Fold,
        Builtin::Get,
        Builtin::Insert,
        Builtin::EmptyMap,
        Builtin::Keys,
        Builtin::Now,
    ];

    /// The frozen id (the discriminant) that the serialization stores.
    pub fn id(self) -> u8 {
        self as u8
    }

    pub fn from_id(id: u8) -> Option<Builtin> {
        Builtin::ALL.get(usize::from(id)).copied()
    }

    /// The name a TEL program calls it by.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Show => "show",
            Builtin::Len => "len",
            Builtin::Map => "map",
            Builtin::Filter => "filter",
            Builtin::Fold => "fold",
            Builtin::Get => "get",
            Builtin::Insert => "insert",
            Builtin::EmptyMap => "empty_map",
            Builtin::Keys => "keys",
            Builtin::Now => "now",
        }
    }

    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }
}

/// What kind of definition this is.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum DefKind {
    Fn,
    Type,
    Enum,
    Effect,
    Schema,
}

/// A top-level definition in normalized form. The definition's own name is not here, except
/// for effects: an effect is an operation, and two operations with one signature (`Deposit`
/// and `Withdraw`) must stay distinct for handlers, so its name is part of its meaning.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum CoreDef {
    Fn {
        params: Vec<Type>,
        ret: Type,
        effects: Vec<Ref>,
        body: Expr,
    },
    /// `type Name = T` (usually a record type).
    Type {
        ty: Type,
    },
    Enum {
        variants: Vec<Variant>,
    },
    Effect {
        name: SmolStr,
        params: Vec<Type>,
        ret: Type,
    },
    /// Fields sorted by name.
    Schema {
        fields: Vec<SchemaField>,
    },
}

impl DefKind {
    /// The keyword that declares this kind of definition (`fn`, `type`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DefKind::Fn => "fn",
            DefKind::Type => "type",
            DefKind::Enum => "enum",
            DefKind::Effect => "effect",
            DefKind::Schema => "schema",
        }
    }
}

impl CoreDef {
    pub fn kind(&self) -> DefKind {
        match self {
            CoreDef::Fn { .. } => DefKind::Fn,
            CoreDef::Type { .. } => DefKind::Type,
            CoreDef::Enum { .. } => DefKind::Enum,
            CoreDef::Effect { .. } => DefKind::Effect,
            CoreDef::Schema { .. } => DefKind::Schema,
        }
    }
}

/// Enum variants keep their declared order: the index is what `match` and construction use.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Variant {
    pub name: SmolStr,
    pub fields: Vec<Type>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct SchemaField {
    pub name: SmolStr,
    /// For an optional field (`note: String?`) this is `Type::Option(..)`.
    pub ty: Type,
    pub default: Option<Expr>,
}

#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Type {
    Int,
    Bool,
    String,
    Duration,
    Unit,
    Hash,
    List(Box<Type>),
    Map(Box<Type>, Box<Type>),
    Option(Box<Type>),
    /// Fields sorted by name.
    Record(Vec<(SmolStr, Type)>),
    /// A user type, enum or schema.
    Named(Ref),
    /// `effects` sorted canonically (see the serializer).
    Fn {
        params: Vec<Type>,
        ret: Box<Type>,
        effects: Vec<Ref>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Lit {
    Int(i64),
    Bool(bool),
    String(SmolStr),
    /// Milliseconds.
    Duration(i64),
    Unit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    /// The operator as written in TEL source.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Concat => "++",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum UnOp {
    Neg,
    Not,
}

impl UnOp {
    /// The operator as written in TEL source.
    pub fn symbol(self) -> &'static str {
        match self {
            UnOp::Neg => "-",
            UnOp::Not => "!",
        }
    }
}

/// Who owns a variant: a user enum, or the builtin option type (`Some` = 0, `None` = 1).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum VariantOwner {
    Enum(Ref),
    Option,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Expr {
    Local(u32),
    /// A function definition or builtin used as a value or callee.
    Ref(Ref),
    Lit(Lit),
    Call {
        callee: Box<Expr>,
        args: Vec<Expr>,
    },
    Lambda {
        params: Vec<Type>,
        ret: Type,
        body: Box<Expr>,
    },
    /// `let x: ty = value; body` — `body` sees `value` as `Local(0)`. `ty` is the inferred type.
    Let {
        ty: Type,
        value: Box<Expr>,
        body: Box<Expr>,
    },
    /// `first; then` — a statement whose value is discarded.
    Seq {
        first: Box<Expr>,
        then: Box<Expr>,
    },
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        else_: Box<Expr>,
    },
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<Arm>,
    },
    /// Fields sorted by name, and evaluated in that order. `ty` is the nominal record type
    /// (a `type` or `schema`) when the literal has one.
    Record {
        ty: Option<Ref>,
        fields: Vec<(SmolStr, Expr)>,
    },
    Field {
        expr: Box<Expr>,
        name: SmolStr,
    },
    List(Vec<Expr>),
    Variant {
        owner: VariantOwner,
        index: u32,
        args: Vec<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Unary {
        op: UnOp,
        expr: Box<Expr>,
    },
    Perform {
        effect: Ref,
        args: Vec<Expr>,
    },
    /// Clauses sorted by effect (canonical order, see the serializer).
    Handle {
        body: Box<Expr>,
        clauses: Vec<Clause>,
    },
    Resume(Box<Expr>),
    Abort(Box<Expr>),
    Within {
        deadline: Box<Expr>,
        body: Box<Expr>,
        fallback: Box<Expr>,
    },
    After {
        delay: Box<Expr>,
        body: Box<Expr>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Arm {
    pub pat: Pat,
    /// Sees the pattern's bindings.
    pub guard: Option<Expr>,
    pub body: Expr,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Clause {
    pub effect: Ref,
    /// Number of operation arguments bound in `body`.
    pub arity: u32,
    pub body: Expr,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Pat {
    Wildcard,
    /// Binds the matched value.
    Bind,
    Lit(Lit),
    Variant {
        owner: VariantOwner,
        index: u32,
        fields: Vec<Pat>,
    },
    /// Sorted by field name; fields not mentioned are ignored.
    Record {
        fields: Vec<(SmolStr, Pat)>,
    },
}

impl Expr {
    /// The direct subexpressions, in source order (guards before arm bodies, clause bodies in
    /// canonical clause order). This order defines [`preorder`]'s numbering.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Local(_) | Expr::Ref(_) | Expr::Lit(_) => Vec::new(),
            Expr::Call { callee, args } => std::iter::once(&**callee).chain(args).collect(),
            Expr::Lambda { body, .. } => vec![body],
            Expr::Let { value, body, .. } => vec![value, body],
            Expr::Seq { first, then } => vec![first, then],
            Expr::If { cond, then, else_ } => vec![cond, then, else_],
            Expr::Match { scrutinee, arms } => std::iter::once(&**scrutinee)
                .chain(arms.iter().flat_map(|a| a.guard.iter().chain(std::iter::once(&a.body))))
                .collect(),
            Expr::Record { fields, .. } => fields.iter().map(|(_, e)| e).collect(),
            Expr::Field { expr, .. } | Expr::Unary { expr, .. } => vec![expr],
            Expr::List(items) | Expr::Variant { args: items, .. } => items.iter().collect(),
            Expr::Perform { args, .. } => args.iter().collect(),
            Expr::Binary { lhs, rhs, .. } => vec![lhs, rhs],
            Expr::Handle { body, clauses } => {
                std::iter::once(&**body).chain(clauses.iter().map(|c| &c.body)).collect()
            }
            Expr::Resume(e) | Expr::Abort(e) => vec![e],
            Expr::Within { deadline, body, fallback } => vec![deadline, body, fallback],
            Expr::After { delay, body } => vec![delay, body],
        }
    }
}

/// Every expression of `root` in preorder (a node, then its [`Expr::children`] in order).
/// A node's index in this list is its *expression id*: the position-free key by which
/// debug information (source ranges kept beside the hash, never in it) and the VM's
/// instruction table refer to it. Iterative, so a long `let` chain cannot overflow the stack.
pub fn preorder(root: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    let mut todo = vec![root];
    while let Some(e) = todo.pop() {
        out.push(e);
        todo.extend(e.children().into_iter().rev());
    }
    out
}
