//! The typed AST: one wrapper per node kind over rowan's untyped [`SyntaxNode`], with
//! accessors that return `Option` (a tree with errors may lack any part).
//!
//! Node wrappers are cheap to clone (a reference-counted pointer). Every accessor reads
//! the tree; nothing is cached.

use std::fmt;
use std::marker::PhantomData;

use smol_str::SmolStr;

use crate::SyntaxKind::{self, *};
use crate::lit::{self, HashLit, LitError};
use crate::{SyntaxNode, SyntaxNodeChildren, SyntaxToken};

/// A typed view of a syntax node.
pub trait AstNode: Sized {
    fn can_cast(kind: SyntaxKind) -> bool;
    fn cast(node: SyntaxNode) -> Option<Self>;
    fn syntax(&self) -> &SyntaxNode;
}

/// The children of a node that cast to `N`.
#[derive(Debug, Clone)]
pub struct AstChildren<N> {
    inner: SyntaxNodeChildren,
    _n: PhantomData<N>,
}

impl<N: AstNode> Iterator for AstChildren<N> {
    type Item = N;
    fn next(&mut self) -> Option<N> {
        self.inner.find_map(N::cast)
    }
}

mod support {
    use super::*;

    pub(super) fn child<N: AstNode>(parent: &SyntaxNode) -> Option<N> {
        parent.children().find_map(N::cast)
    }

    pub(super) fn nth_child<N: AstNode>(parent: &SyntaxNode, n: usize) -> Option<N> {
        parent.children().filter_map(N::cast).nth(n)
    }

    pub(super) fn children<N: AstNode>(parent: &SyntaxNode) -> AstChildren<N> {
        AstChildren { inner: parent.children(), _n: PhantomData }
    }

    pub(super) fn token(parent: &SyntaxNode, kind: SyntaxKind) -> Option<SyntaxToken> {
        parent.children_with_tokens().filter_map(|e| e.into_token()).find(|t| t.kind() == kind)
    }

    /// The first node child after the first direct `kind` token.
    pub(super) fn child_after<N: AstNode>(parent: &SyntaxNode, kind: SyntaxKind) -> Option<N> {
        parent
            .children_with_tokens()
            .skip_while(|e| e.kind() != kind)
            .filter_map(|e| e.into_node())
            .find_map(N::cast)
    }

    /// The first significant direct token.
    pub(super) fn first_significant_token(parent: &SyntaxNode) -> Option<SyntaxToken> {
        parent.children_with_tokens().filter_map(|e| e.into_token()).find(|t| !t.kind().is_trivia())
    }
}

/// Declares wrapper structs: `Name => KIND { accessor: Child, … } [ many: Child, … ]`.
/// A `{}` accessor returns the first child of that type; a `[]` accessor all of them.
macro_rules! ast_nodes {
    ($(
        $(#[$meta:meta])*
        $name:ident => $kind:ident
            $({ $($one:ident : $one_ty:ident),* $(,)? })?
            $([ $($many:ident : $many_ty:ident),* $(,)? ])?
    ;)*) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name {
            pub(crate) syntax: SyntaxNode,
        }

        impl AstNode for $name {
            fn can_cast(kind: SyntaxKind) -> bool {
                kind == $kind
            }
            fn cast(node: SyntaxNode) -> Option<Self> {
                Self::can_cast(node.kind()).then(|| $name { syntax: node })
            }
            fn syntax(&self) -> &SyntaxNode {
                &self.syntax
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.syntax, f)
            }
        }

        #[allow(dead_code)]
        impl $name {
            $($(
                pub fn $one(&self) -> Option<$one_ty> {
                    support::child(&self.syntax)
                }
            )*)?
            $($(
                pub fn $many(&self) -> AstChildren<$many_ty> {
                    support::children(&self.syntax)
                }
            )*)?
        }
    )*};
}

/// Declares an enum over node wrappers, each variant one node kind (or a nested enum).
macro_rules! ast_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident($node:ident)),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant($node),)*
        }

        impl AstNode for $name {
            fn can_cast(kind: SyntaxKind) -> bool {
                $($node::can_cast(kind))||*
            }
            fn cast(node: SyntaxNode) -> Option<Self> {
                $(if $node::can_cast(node.kind()) {
                    return $node::cast(node).map($name::$variant);
                })*
                None
            }
            fn syntax(&self) -> &SyntaxNode {
                match self {
                    $($name::$variant(n) => n.syntax(),)*
                }
            }
        }

        $(impl From<$node> for $name {
            fn from(node: $node) -> $name {
                $name::$variant(node)
            }
        })*

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self.syntax(), f)
            }
        }
    };
}

// ---- items -----------------------------------------------------------------------------

ast_nodes! {
    /// The root: a whole file.
    SourceFile => SOURCE_FILE [items: Item];
    /// `module a::b`
    ModuleDecl => MODULE_DECL { path: Path };
    /// `use a::b` or `use a::{b, c as d}`
    UseItem => USE_ITEM { path: Path, use_tree: UseTree };
    UseTree => USE_TREE [names: UseName];
    /// `b` or `b as c` in a use tree.
    UseName => USE_NAME { name_ref: NameRef, alias: Name };
    FnItem => FN_ITEM { param_list: ParamList, ret_type: Type, effect_row: EffectRow, body: BlockExpr };
    ParamList => PARAM_LIST [params: Param];
    /// A function, effect or lambda parameter (`x: Int` or `_: Int`; lambda parameters may
    /// omit the type).
    Param => PARAM { ty: Type };
    /// `! {Log, #a7f3}`
    EffectRow => EFFECT_ROW [effects: EffectRef];
    TypeItem => TYPE_ITEM { ty: Type };
    EnumItem => ENUM_ITEM [variants: Variant];
    Variant => VARIANT { fields: VariantFields };
    VariantFields => VARIANT_FIELDS [types: Type];
    EffectItem => EFFECT_ITEM { param_list: ParamList, ret_type: Type };
    SchemaItem => SCHEMA_ITEM [fields: SchemaField];
    /// `name: Type = default`
    SchemaField => SCHEMA_FIELD { ty: Type, default: Expr };
}

ast_enum! {
    /// A top-level item.
    Item {
        Fn(FnItem),
        Type(TypeItem),
        Enum(EnumItem),
        Effect(EffectItem),
        Schema(SchemaItem),
        Module(ModuleDecl),
        Use(UseItem),
    }
}

impl Item {
    /// The defined name (`None` for `module` and `use`, and when missing).
    pub fn name(&self) -> Option<Name> {
        match self {
            Item::Module(_) | Item::Use(_) => None,
            _ => support::child(self.syntax()),
        }
    }
}

impl UseItem {
    /// The imported names: the last path segment for `use a::b`, the tree's names for
    /// `use a::{b, c}`. Each is `(imported, local alias if any)`.
    pub fn imports(&self) -> Vec<(SyntaxToken, Option<Name>)> {
        match self.use_tree() {
            Some(tree) => tree
                .names()
                .filter_map(|n| Some((n.name_ref()?.ident_token()?, n.alias())))
                .collect(),
            None => self
                .path()
                .and_then(|p| p.segments().last())
                .map(|last| vec![(last, None)])
                .unwrap_or_default(),
        }
    }

    /// The module the names come from: the path without its last segment for
    /// `use a::b`, the whole path for `use a::{…}`.
    pub fn module_segments(&self) -> Vec<SyntaxToken> {
        let mut segments: Vec<SyntaxToken> =
            self.path().map(|p| p.segments().collect()).unwrap_or_default();
        if self.use_tree().is_none() {
            segments.pop();
        }
        segments
    }
}

/// Nodes with a defining name.
pub trait HasName: AstNode {
    fn name(&self) -> Option<Name> {
        support::child(self.syntax())
    }
}

/// Nodes that may be marked `pub`.
pub trait HasVisibility: AstNode {
    fn pub_token(&self) -> Option<SyntaxToken> {
        support::first_significant_token(self.syntax()).filter(|t| t.kind() == PUB_KW)
    }
    fn is_pub(&self) -> bool {
        self.pub_token().is_some()
    }
}

/// Nodes that own the `///` comments written before them.
pub trait HasDocComments: AstNode {
    /// The leading `///` tokens of the node, in order.
    fn doc_comments(&self) -> impl Iterator<Item = SyntaxToken> {
        self.syntax()
            .children_with_tokens()
            .map_while(|e| e.into_token().filter(|t| t.kind().is_trivia()))
            .filter(|t| t.kind() == DOC_COMMENT)
    }

    /// The documentation text: each line without `///` and one following space, joined
    /// by `\n`; `None` when there is no doc comment.
    fn doc_text(&self) -> Option<String> {
        let mut lines = self.doc_comments().peekable();
        lines.peek()?;
        let text: Vec<String> = lines
            .map(|t| {
                let line = t.text().strip_prefix("///").unwrap_or(t.text());
                line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned()
            })
            .collect();
        Some(text.join("\n"))
    }
}

macro_rules! impl_traits {
    ($trait:ident: $($t:ident),*) => { $(impl $trait for $t {})* };
}

impl_traits!(HasName: FnItem, TypeItem, EnumItem, EffectItem, SchemaItem, Variant, SchemaField, Param, FieldType, LetStmt, BindPat);
impl_traits!(HasVisibility: Item, FnItem, TypeItem, EnumItem, EffectItem, SchemaItem, ModuleDecl, UseItem);
impl_traits!(HasDocComments: Item, FnItem, TypeItem, EnumItem, EffectItem, SchemaItem, ModuleDecl, UseItem, SchemaField);

// ---- names and paths -------------------------------------------------------------------

ast_nodes! {
    /// A defining identifier, or `_` in a binder position (see [`Name::is_wildcard`]).
    Name => NAME;
    /// A referring identifier.
    NameRef => NAME_REF;
    /// `a::b::C` in `use`, `module`, patterns, record literals, `perform` and handlers.
    /// Expressions and types hold their segments directly (see [`PathExpr`], [`PathType`]).
    Path => PATH;
}

impl Name {
    pub fn ident_token(&self) -> Option<SyntaxToken> {
        support::token(&self.syntax, IDENT)
    }
    /// The `_` of a wildcard binder (`let _ = e;`, `_: Int`, `|_|`, `Op(_)`): a binding
    /// that no name refers to. Only binder positions hold one.
    pub fn underscore_token(&self) -> Option<SyntaxToken> {
        support::token(&self.syntax, UNDERSCORE)
    }
    pub fn is_wildcard(&self) -> bool {
        self.underscore_token().is_some()
    }
    /// The identifier, or `_` for a wildcard binder (never an identifier's text).
    pub fn text(&self) -> SmolStr {
        self.ident_token()
            .or_else(|| self.underscore_token())
            .map(|t| SmolStr::new(t.text()))
            .unwrap_or_default()
    }
}

impl NameRef {
    pub fn ident_token(&self) -> Option<SyntaxToken> {
        support::token(&self.syntax, IDENT)
    }
    pub fn text(&self) -> SmolStr {
        self.ident_token().map(|t| SmolStr::new(t.text())).unwrap_or_default()
    }
}

/// A node whose direct IDENT tokens are a path's segments: [`Path`], and the path
/// expressions and types that hold their segments without a PATH node of their own.
pub trait HasSegments: AstNode {
    /// The segments' identifier tokens, in order.
    fn segments(&self) -> impl Iterator<Item = SyntaxToken> {
        self.syntax()
            .children_with_tokens()
            .filter_map(|e| e.into_token())
            .filter(|t| t.kind() == IDENT)
    }

    /// The segments' text, e.g. `["Outcome", "Filled"]`.
    fn segment_texts(&self) -> Vec<SmolStr> {
        self.segments().map(|s| SmolStr::new(s.text())).collect()
    }

    /// The last segment (the name the path denotes).
    fn last_segment(&self) -> Option<SyntaxToken> {
        self.segments().last()
    }
}

impl_traits!(HasSegments: Path, PathExpr, PathType);

// ---- types -----------------------------------------------------------------------------

ast_nodes! {
    /// `Int`, `List<T>`, `other::Quote`
    PathType => PATH_TYPE { generic_args: GenericArgs };
    GenericArgs => GENERIC_ARGS [types: Type];
    /// A type or effect named by hash: `#a7f3b2c1`.
    HashRef => HASH_REF;
    /// `T?`
    OptionType => OPTION_TYPE { inner: Type };
    /// `()`
    UnitType => UNIT_TYPE;
    ParenType => PAREN_TYPE { ty: Type };
    /// `{ asset: String, price: Int }`
    RecordType => RECORD_TYPE [fields: FieldType];
    FieldType => FIELD_TYPE { ty: Type };
    /// `fn(A, B) -> C ! {E}`
    FnType => FN_TYPE { effect_row: EffectRow };
}

ast_enum! {
    Type {
        Path(PathType),
        Hash(HashRef),
        Option(OptionType),
        Unit(UnitType),
        Paren(ParenType),
        Record(RecordType),
        Fn(FnType),
    }
}

ast_enum! {
    /// An entry of an effect row.
    EffectRef {
        Path(PathType),
        Hash(HashRef),
    }
}

impl FnType {
    /// The parameter types (those before `->`).
    pub fn params(&self) -> impl Iterator<Item = Type> {
        self.syntax
            .children_with_tokens()
            .take_while(|e| e.kind() != THIN_ARROW)
            .filter_map(|e| e.into_node())
            .filter_map(Type::cast)
    }

    pub fn ret_type(&self) -> Option<Type> {
        support::child_after(&self.syntax, THIN_ARROW)
    }
}

impl HashRef {
    pub fn hash_token(&self) -> Option<SyntaxToken> {
        support::token(&self.syntax, HASH)
    }
    /// The referenced hash prefix and member index.
    pub fn hash(&self) -> Option<Result<HashLit, LitError>> {
        self.hash_token().map(|t| lit::parse_hash(t.text()))
    }
}

// ---- expressions -----------------------------------------------------------------------

ast_nodes! {
    /// `a + b`, `x == y`, `p && q`
    BinExpr => BIN_EXPR;
    /// `-x`, `!b`
    PrefixExpr => PREFIX_EXPR { expr: Expr };
    /// `f(a, b)`, `#a7f3(x)`
    CallExpr => CALL_EXPR { callee: Expr, arg_list: ArgList };
    /// `q.price`
    FieldExpr => FIELD_EXPR { receiver: Expr, name_ref: NameRef };
    ArgList => ARG_LIST [args: Expr];
    /// `42`, `250ms`, `"text"`, `true`
    Literal => LITERAL;
    /// `()`
    UnitExpr => UNIT_EXPR;
    ParenExpr => PAREN_EXPR { expr: Expr };
    /// `x`, `Outcome::Filled`
    PathExpr => PATH_EXPR;
    /// `Quote { asset: "ETH", price: 1 }` or `{ asset: "ETH", price: 1 }`
    RecordExpr => RECORD_EXPR { path: Path, fields: RecordFields };
    RecordFields => RECORD_FIELDS [fields: RecordField];
    /// `name: value` in a record literal
    RecordField => RECORD_FIELD { name_ref: NameRef, expr: Expr };
    /// `#a7f3b2c1`
    HashExpr => HASH_EXPR;
    /// `[1, 2, 3]`
    ListExpr => LIST_EXPR [items: Expr];
    /// `{ stmt; stmt; tail }`
    BlockExpr => BLOCK_EXPR { tail_expr: Expr } [stmts: Stmt];
    /// `let x: T = e;` or `let _ = e;`
    LetStmt => LET_STMT { ty: Type, init: Expr };
    /// `e;`, or a block-like expression without `;`
    ExprStmt => EXPR_STMT { expr: Expr };
    IfExpr => IF_EXPR;
    MatchExpr => MATCH_EXPR { scrutinee: Expr, arm_list: MatchArmList };
    MatchArmList => MATCH_ARM_LIST [arms: MatchArm];
    /// `pattern if guard => value`
    MatchArm => MATCH_ARM { pat: Pat, guard: MatchGuard, expr: Expr };
    MatchGuard => MATCH_GUARD { condition: Expr };
    /// `handle { body } with { Op(x) => e, … }`
    HandleExpr => HANDLE_EXPR { body: BlockExpr, clauses: HandlerClauses };
    HandlerClauses => HANDLER_CLAUSES [clauses: HandlerClause];
    /// `Op(x, _) => e`
    HandlerClause => HANDLER_CLAUSE { path: Path, params: ClauseParams, expr: Expr };
    ClauseParams => CLAUSE_PARAMS [names: Name];
    /// `within D { body } else { fallback }`
    WithinExpr => WITHIN_EXPR;
    /// `after D { body }`
    AfterExpr => AFTER_EXPR;
    /// `perform Op(args)`
    PerformExpr => PERFORM_EXPR { path: Path, arg_list: ArgList };
    /// `resume(v)`
    ResumeExpr => RESUME_EXPR { arg_list: ArgList };
    /// `abort(v)`
    AbortExpr => ABORT_EXPR { arg_list: ArgList };
    /// `|x: Int| x + 1`, `|| e`
    LambdaExpr => LAMBDA_EXPR { params: LambdaParams, body: Expr };
    LambdaParams => LAMBDA_PARAMS [params: Param];
}

ast_enum! {
    Expr {
        Bin(BinExpr),
        Prefix(PrefixExpr),
        Call(CallExpr),
        Field(FieldExpr),
        Literal(Literal),
        Unit(UnitExpr),
        Paren(ParenExpr),
        Path(PathExpr),
        Record(RecordExpr),
        Hash(HashExpr),
        List(ListExpr),
        Block(BlockExpr),
        If(IfExpr),
        Match(MatchExpr),
        Handle(HandleExpr),
        Within(WithinExpr),
        After(AfterExpr),
        Perform(PerformExpr),
        Resume(ResumeExpr),
        Abort(AbortExpr),
        Lambda(LambdaExpr),
    }
}

ast_enum! {
    Stmt {
        Let(LetStmt),
        Expr(ExprStmt),
    }
}

impl Expr {
    /// Whether the expression ends in a block and so needs no `;` as a statement.
    pub fn is_block_like(&self) -> bool {
        matches!(
            self,
            Expr::Block(_)
                | Expr::If(_)
                | Expr::Match(_)
                | Expr::Handle(_)
                | Expr::Within(_)
                | Expr::After(_)
        )
    }
}

/// A binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Concat,
    Mul,
    Div,
    Rem,
}

impl BinOp {
    pub fn from_kind(kind: SyntaxKind) -> Option<BinOp> {
        Some(match kind {
            PIPE2 => BinOp::Or,
            AMP2 => BinOp::And,
            EQ2 => BinOp::Eq,
            NEQ => BinOp::Ne,
            LT => BinOp::Lt,
            LTEQ => BinOp::Le,
            GT => BinOp::Gt,
            GTEQ => BinOp::Ge,
            PLUS => BinOp::Add,
            MINUS => BinOp::Sub,
            PLUS2 => BinOp::Concat,
            STAR => BinOp::Mul,
            SLASH => BinOp::Div,
            PERCENT => BinOp::Rem,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Concat => "++",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }
}

impl fmt::Display for BinOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A prefix operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `-`
    Neg,
    /// `!`
    Not,
}

impl BinExpr {
    pub fn lhs(&self) -> Option<Expr> {
        support::nth_child(&self.syntax, 0)
    }
    pub fn rhs(&self) -> Option<Expr> {
        support::child_after(&self.syntax, self.op_token()?.kind())
    }
    pub fn op_token(&self) -> Option<SyntaxToken> {
        support::first_significant_token(&self.syntax)
    }
    pub fn op_kind(&self) -> Option<BinOp> {
        BinOp::from_kind(self.op_token()?.kind())
    }
}

impl PrefixExpr {
    pub fn op_token(&self) -> Option<SyntaxToken> {
        support::first_significant_token(&self.syntax)
    }
    pub fn op_kind(&self) -> Option<UnaryOp> {
        match self.op_token()?.kind() {
            MINUS => Some(UnaryOp::Neg),
            BANG => Some(UnaryOp::Not),
            _ => None,
        }
    }
}

/// The kind of a literal token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LiteralKind {
    Int,
    Duration,
    String,
    Bool(bool),
    /// `()` (in patterns only; expressions have [`UnitExpr`])
    Unit,
}

/// The value of a literal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum LiteralValue {
    Int(i64),
    /// In milliseconds.
    Duration(i64),
    String(String),
    Bool(bool),
    Unit,
}

fn literal_kind(token: &SyntaxToken) -> Option<LiteralKind> {
    Some(match token.kind() {
        INT => LiteralKind::Int,
        DURATION => LiteralKind::Duration,
        STRING => LiteralKind::String,
        TRUE_KW => LiteralKind::Bool(true),
        FALSE_KW => LiteralKind::Bool(false),
        L_PAREN => LiteralKind::Unit,
        _ => return None,
    })
}

/// The value of a literal token, negated if `negative` (only integers can be).
fn literal_value(token: &SyntaxToken, negative: bool) -> Result<LiteralValue, LitError> {
    let text = token.text();
    let kind = literal_kind(token)
        .ok_or_else(|| LitError::Malformed { message: format!("`{text}` is not a literal") })?;
    Ok(match kind {
        LiteralKind::Int if negative => LiteralValue::Int(lit::parse_negated_int(text)?),
        LiteralKind::Int => LiteralValue::Int(lit::parse_int(text)?),
        LiteralKind::Duration => LiteralValue::Duration(lit::parse_duration_ms(text)?),
        LiteralKind::String => LiteralValue::String(lit::unescape_string(text)?),
        LiteralKind::Bool(b) => LiteralValue::Bool(b),
        LiteralKind::Unit => LiteralValue::Unit,
    })
}

impl Literal {
    pub fn token(&self) -> Option<SyntaxToken> {
        support::first_significant_token(&self.syntax)
    }
    pub fn kind(&self) -> Option<LiteralKind> {
        literal_kind(&self.token()?)
    }
    /// The literal's value; integer and duration overflow and bad escapes are errors.
    pub fn value(&self) -> Result<LiteralValue, LitError> {
        let token =
            self.token().ok_or_else(|| LitError::Malformed { message: "empty literal".into() })?;
        literal_value(&token, false)
    }
}

/// The arguments of an optional argument list (none when it is missing).
fn args_of(list: Option<ArgList>) -> impl Iterator<Item = Expr> {
    list.into_iter().flat_map(|l| l.args())
}

impl CallExpr {
    pub fn args(&self) -> impl Iterator<Item = Expr> {
        args_of(self.arg_list())
    }
}

impl PerformExpr {
    pub fn args(&self) -> impl Iterator<Item = Expr> {
        args_of(self.arg_list())
    }
}

impl ResumeExpr {
    /// The value resumed with (the first argument; `resume` takes exactly one).
    pub fn value(&self) -> Option<Expr> {
        args_of(self.arg_list()).next()
    }
}

impl AbortExpr {
    /// The value the `handle` returns (the first argument; `abort` takes exactly one).
    pub fn value(&self) -> Option<Expr> {
        args_of(self.arg_list()).next()
    }
}

impl HashExpr {
    pub fn hash_token(&self) -> Option<SyntaxToken> {
        support::token(&self.syntax, HASH)
    }
    pub fn hash(&self) -> Option<Result<HashLit, LitError>> {
        self.hash_token().map(|t| lit::parse_hash(t.text()))
    }
}

impl ExprStmt {
    pub fn semicolon_token(&self) -> Option<SyntaxToken> {
        support::token(&self.syntax, SEMICOLON)
    }
}

/// The branch after `else`: a block or another `if`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ElseBranch {
    Block(BlockExpr),
    If(IfExpr),
}

impl IfExpr {
    pub fn condition(&self) -> Option<Expr> {
        support::nth_child(&self.syntax, 0)
    }
    pub fn then_branch(&self) -> Option<BlockExpr> {
        support::nth_child::<Expr>(&self.syntax, 1).and_then(|e| match e {
            Expr::Block(b) => Some(b),
            _ => None,
        })
    }
    pub fn else_branch(&self) -> Option<ElseBranch> {
        match support::child_after::<Expr>(&self.syntax, ELSE_KW)? {
            Expr::Block(b) => Some(ElseBranch::Block(b)),
            Expr::If(i) => Some(ElseBranch::If(i)),
            _ => None,
        }
    }
}

impl WithinExpr {
    pub fn deadline(&self) -> Option<Expr> {
        support::nth_child(&self.syntax, 0)
    }
    pub fn body(&self) -> Option<BlockExpr> {
        support::nth_child::<Expr>(&self.syntax, 1).and_then(|e| match e {
            Expr::Block(b) => Some(b),
            _ => None,
        })
    }
    pub fn fallback(&self) -> Option<BlockExpr> {
        support::child_after(&self.syntax, ELSE_KW)
    }
}

impl AfterExpr {
    pub fn delay(&self) -> Option<Expr> {
        support::nth_child(&self.syntax, 0)
    }
    pub fn body(&self) -> Option<BlockExpr> {
        support::nth_child::<Expr>(&self.syntax, 1).and_then(|e| match e {
            Expr::Block(b) => Some(b),
            _ => None,
        })
    }
}

// ---- patterns --------------------------------------------------------------------------

ast_nodes! {
    /// `_`
    WildcardPat => WILDCARD_PAT;
    /// `42`, `-1`, `"s"`, `10s`, `true`, `()`
    LiteralPat => LITERAL_PAT;
    /// `x`: binds the matched value.
    BindPat => BIND_PAT;
    /// `None`, `Some(x)`, `Outcome::Filled(n)`
    VariantPat => VARIANT_PAT { path: Path } [fields: Pat];
    /// `Quote { price, asset: a, .. }` or `{ price }`
    RecordPat => RECORD_PAT { path: Path } [fields: FieldPat];
    /// `price` or `price: p`
    FieldPat => FIELD_PAT { name_ref: NameRef, pat: Pat };
}

ast_enum! {
    Pat {
        Wildcard(WildcardPat),
        Literal(LiteralPat),
        Bind(BindPat),
        Variant(VariantPat),
        Record(RecordPat),
    }
}

impl LiteralPat {
    pub fn is_negative(&self) -> bool {
        support::token(&self.syntax, MINUS).is_some()
    }
    /// The literal token (for `()`, the `(`).
    pub fn token(&self) -> Option<SyntaxToken> {
        self.syntax
            .children_with_tokens()
            .filter_map(|e| e.into_token())
            .find(|t| literal_kind(t).is_some())
    }
    pub fn kind(&self) -> Option<LiteralKind> {
        literal_kind(&self.token()?)
    }
    pub fn value(&self) -> Result<LiteralValue, LitError> {
        let token = self
            .token()
            .ok_or_else(|| LitError::Malformed { message: "empty literal pattern".into() })?;
        literal_value(&token, self.is_negative())
    }
}

impl VariantPat {
    /// Whether the pattern has a parenthesized field list (`Some(x)`, `X()`) rather than
    /// being a bare name (`None`).
    pub fn has_parens(&self) -> bool {
        support::token(&self.syntax, L_PAREN).is_some()
    }
}

impl RecordPat {
    /// Whether the pattern ends with `..` (other fields ignored).
    pub fn has_rest(&self) -> bool {
        support::token(&self.syntax, DOT2).is_some()
    }
}

impl FieldPat {
    /// The name a shorthand field pattern (`{ price }`) binds; `None` when a pattern
    /// follows the colon.
    pub fn shorthand_binding(&self) -> Option<NameRef> {
        if support::token(&self.syntax, COLON).is_some() { None } else { self.name_ref() }
    }
}

impl SourceFile {
    /// The module declaration, if the file has one.
    pub fn module_decl(&self) -> Option<ModuleDecl> {
        support::child(&self.syntax)
    }
}
