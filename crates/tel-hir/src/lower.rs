//! From the typed AST (`tel_syntax::ast`) to the item tree and bodies, with their source maps.

use la_arena::ArenaMap;
use smol_str::SmolStr;
use tel_hash::core::{BinOp, UnOp};
use tel_syntax::ast::{self, AstNode, HasName, HasSegments, HasVisibility};
use tel_syntax::lit::LitError;
use tel_syntax::{SyntaxNode, SyntaxToken};

use crate::body::{
    Binding, BindingId, Body, BodyAnchor, BodyRoot, BodySourceMap, EffectName, Expr, ExprId,
    HandlerClause, Literal, MatchArm, Pat, PatId, Stmt,
};
use crate::diagnostics::{Anchored, TextRange, codes};
use crate::item_tree::{
    EffectDecl, FnDecl, Item, ItemAnchor, ItemKind, ItemPart, ItemSourceMap, ItemTree,
    ItemTreeSourceMap, SchemaFieldDecl, UseDecl, UseName, UseSourceMap, VariantDecl, Visibility,
};
use crate::type_ref::{Path, TypeRef, TypeRefId, TypeRefs};

fn path_of(p: &impl HasSegments) -> Path {
    Path { segments: p.segment_texts() }
}

/// The path of an expression or type, or `None` when a parse error left it without segments.
fn nonempty_path_of(p: &impl HasSegments) -> Option<Path> {
    Some(path_of(p)).filter(|path| !path.segments.is_empty())
}

fn range(node: &SyntaxNode) -> TextRange {
    node.text_range()
}

/// The first token that is not whitespace or a comment.
fn first_significant_token(node: &SyntaxNode) -> Option<SyntaxToken> {
    node.children_with_tokens().filter_map(|e| e.into_token()).find(|t| !t.kind().is_trivia())
}

/// Collects written types into an arena, recording each one's range.
struct TypeCollector<'a> {
    arena: &'a mut TypeRefs,
    ranges: &'a mut ArenaMap<TypeRefId, TextRange>,
    /// For each record-type field, keyed by the field's type: the field name's range.
    field_names: &'a mut ArenaMap<TypeRefId, TextRange>,
}

impl TypeCollector<'_> {
    fn alloc(&mut self, t: TypeRef, r: Option<TextRange>) -> TypeRefId {
        let id = self.arena.alloc(t);
        if let Some(r) = r {
            self.ranges.insert(id, r);
        }
        id
    }

    fn ty(&mut self, t: Option<ast::Type>) -> TypeRefId {
        let Some(t) = t else { return self.alloc(TypeRef::Missing, None) };
        let r = Some(range(t.syntax()));
        let tr = match &t {
            ast::Type::Path(p) => self.path_type(p),
            ast::Type::Hash(h) => hash_ref(h.hash_token()),
            ast::Type::Option(o) => TypeRef::Option(self.ty(o.inner())),
            ast::Type::Unit(_) => TypeRef::Unit,
            ast::Type::Paren(p) => return self.ty(p.ty()),
            ast::Type::Record(rec) => TypeRef::Record(
                rec.fields()
                    .filter_map(|f| {
                        let name = f.name()?;
                        let ty = self.ty(f.ty());
                        self.field_names.insert(ty, range(name.syntax()));
                        Some((name.text(), ty))
                    })
                    .collect(),
            ),
            ast::Type::Fn(f) => {
                let params = f.params().map(|p| self.ty(Some(p))).collect();
                let ret = self.ty(f.ret_type());
                let effects = f.effect_row().map(|row| self.effect_row(&row)).unwrap_or_default();
                TypeRef::Fn { params, ret, effects }
            }
        };
        self.alloc(tr, r)
    }

    fn path_type(&mut self, p: &ast::PathType) -> TypeRef {
        match nonempty_path_of(p) {
            Some(path) => TypeRef::Path {
                path,
                args: p
                    .generic_args()
                    .map(|g| g.types().map(|t| self.ty(Some(t))).collect())
                    .unwrap_or_default(),
            },
            None => TypeRef::Missing,
        }
    }

    fn effect_row(&mut self, row: &ast::EffectRow) -> Vec<TypeRefId> {
        row.effects()
            .map(|e| {
                let r = Some(range(e.syntax()));
                let tr = match &e {
                    ast::EffectRef::Path(p) => self.path_type(p),
                    ast::EffectRef::Hash(h) => hash_ref(h.hash_token()),
                };
                self.alloc(tr, r)
            })
            .collect()
    }
}

fn hash_ref(token: Option<SyntaxToken>) -> TypeRef {
    match token {
        Some(t) => TypeRef::Hash(SmolStr::new(t.text().trim_start_matches('#'))),
        None => TypeRef::Missing,
    }
}

impl ItemTree {
    /// Collects a file's declarations (see the module docs of [`crate::item_tree`]).
    pub fn lower(file: &ast::SourceFile) -> (ItemTree, ItemTreeSourceMap) {
        let mut tree = ItemTree::default();
        let mut sm = ItemTreeSourceMap::default();
        let mut seen_other_item = false;
        for item in file.items() {
            let vis = if item.is_pub() { Visibility::Public } else { Visibility::Private };
            if !matches!(item, ast::Item::Module(_)) {
                seen_other_item = true;
            }
            match &item {
                ast::Item::Module(m) => {
                    let anchor = ItemAnchor::ModuleDecl;
                    if tree.module_decl.is_some() {
                        tree.diagnostics
                            .push(misplaced(anchor, "a file has at most one `module` item"));
                        continue;
                    }
                    let Some(p) = m.path() else { continue };
                    let path = path_of(&p);
                    tree.module_decl = Some(path.clone());
                    sm.module_decl = Some(range(p.syntax()));
                    if seen_other_item {
                        tree.diagnostics.push(misplaced(
                            anchor,
                            "the `module` item must come before every other item",
                        ));
                    }
                    if vis == Visibility::Public {
                        tree.diagnostics.push(misplaced(
                            anchor,
                            "`pub` applies to definitions, not to `module`",
                        ));
                    }
                    if let Some(bad) = path.segments.iter().find(|s| !is_lower(s)) {
                        tree.diagnostics.push(Anchored::error(
                            anchor,
                            codes::NAMING_CASE,
                            format!("module names are `lower_snake`: `{bad}` starts with an uppercase letter"),
                        ));
                    }
                }
                ast::Item::Use(u) => {
                    let module_segments = u.module_segments();
                    let imports = u.imports();
                    if imports.is_empty() {
                        continue;
                    }
                    let module = Path {
                        segments: module_segments.iter().map(|s| s.text().into()).collect(),
                    };
                    let module_range = match (module_segments.first(), module_segments.last()) {
                        (Some(a), Some(b)) => a.text_range().cover(b.text_range()),
                        _ => range(u.syntax()),
                    };
                    let names = imports
                        .iter()
                        .map(|(n, alias)| UseName {
                            name: n.text().into(),
                            alias: alias.as_ref().map(|a| a.text()),
                        })
                        .collect();
                    let id = tree.uses.alloc(UseDecl { module, names });
                    if vis == Visibility::Public {
                        tree.diagnostics.push(misplaced(
                            ItemAnchor::Use(id),
                            "`pub` applies to definitions, not to `use` (v1 has no re-exports)",
                        ));
                    }
                    sm.uses.insert(
                        id,
                        UseSourceMap {
                            range: range(u.syntax()),
                            module: module_range,
                            names: imports.iter().map(|(n, _)| n.text_range()).collect(),
                        },
                    );
                }
                _ => {
                    let Some(name) = item.name() else { continue };
                    let name_text = name.text();
                    if name_text.is_empty() {
                        continue;
                    }
                    let mut type_refs = TypeRefs::default();
                    let mut ism = ItemSourceMap {
                        range: range(item.syntax()),
                        name: range(name.syntax()),
                        ..Default::default()
                    };
                    let mut tc = TypeCollector {
                        arena: &mut type_refs,
                        ranges: &mut ism.type_refs,
                        field_names: &mut ism.field_names,
                    };
                    let mut members = Vec::new();
                    let kind = match &item {
                        ast::Item::Fn(f) => {
                            let params = params(&mut tc, f.param_list(), &mut members);
                            let ret = f.ret_type().map(|t| tc.ty(Some(t)));
                            let effects =
                                f.effect_row().map(|row| tc.effect_row(&row)).unwrap_or_default();
                            ItemKind::Fn(FnDecl { params, ret, effects })
                        }
                        ast::Item::Type(t) => ItemKind::Type(tc.ty(t.ty())),
                        ast::Item::Enum(e) => ItemKind::Enum(
                            e.variants()
                                .filter_map(|v| {
                                    let n = v.name()?;
                                    members.push(range(n.syntax()));
                                    let fields = v
                                        .fields()
                                        .map(|f| f.types().map(|t| tc.ty(Some(t))).collect())
                                        .unwrap_or_default();
                                    Some(VariantDecl { name: n.text(), fields })
                                })
                                .collect(),
                        ),
                        ast::Item::Effect(e) => {
                            let params = params(&mut tc, e.param_list(), &mut members);
                            let ret = e.ret_type().map(|t| tc.ty(Some(t)));
                            ItemKind::Effect(EffectDecl { params, ret })
                        }
                        ast::Item::Schema(s) => ItemKind::Schema(
                            s.fields()
                                .filter_map(|f| {
                                    let n = f.name()?;
                                    members.push(range(n.syntax()));
                                    Some(SchemaFieldDecl {
                                        name: n.text(),
                                        ty: tc.ty(f.ty()),
                                        has_default: f.default().is_some(),
                                    })
                                })
                                .collect(),
                        ),
                        ast::Item::Module(_) | ast::Item::Use(_) => unreachable!("handled above"),
                    };
                    ism.members = members;
                    let rule_diags = declaration_rules(&name_text, &kind);
                    let id = tree.items.alloc(Item {
                        name: name_text,
                        visibility: vis,
                        kind,
                        type_refs,
                    });
                    sm.items.insert(id, ism);
                    for (part, code, msg) in rule_diags {
                        tree.diagnostics.push(Anchored::error(
                            ItemAnchor::Item(id, part),
                            code,
                            msg,
                        ));
                    }
                }
            }
        }
        for (id, item) in tree.items.iter() {
            tree.by_name.entry(item.name.clone()).or_insert(id);
        }
        (tree, sm)
    }
}

fn misplaced(anchor: ItemAnchor, msg: &str) -> Anchored<ItemAnchor> {
    Anchored::error(anchor, codes::MISPLACED_ITEM, msg)
}

/// `lower_snake` (or `_`-prefixed) names: functions, parameters, locals, fields, modules.
pub(crate) fn is_lower(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
}

fn is_upper(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_uppercase())
}

/// Rules on the names an item declares: Decision 3 (the first letter of a declared name says
/// what it names) and no name declared twice among its parameters, variants or fields.
fn declaration_rules(name: &str, kind: &ItemKind) -> Vec<(ItemPart, &'static str, String)> {
    let mut out = Vec::new();
    let (what, want_upper) = match kind {
        ItemKind::Fn(_) => ("function", false),
        ItemKind::Type(_) => ("type", true),
        ItemKind::Enum(_) => ("enum", true),
        ItemKind::Effect(_) => ("effect", true),
        ItemKind::Schema(_) => ("schema", true),
    };
    if want_upper && !is_upper(name) {
        out.push((
            ItemPart::Name,
            codes::NAMING_CASE,
            format!("{what} names are `UpperCamel`: `{name}` must start with an uppercase letter"),
        ));
    } else if !want_upper && !is_lower(name) {
        out.push((
            ItemPart::Name,
            codes::NAMING_CASE,
            format!("{what} names are `lower_snake`: `{name}` must start with a lowercase letter"),
        ));
    }
    let members: Vec<(&str, bool, &str)> = match kind {
        ItemKind::Fn(f) => f.params.iter().map(|(n, _)| (n.as_str(), false, "parameter")).collect(),
        ItemKind::Effect(e) => {
            e.params.iter().map(|(n, _)| (n.as_str(), false, "parameter")).collect()
        }
        ItemKind::Enum(vs) => vs.iter().map(|v| (v.name.as_str(), true, "variant")).collect(),
        ItemKind::Schema(fs) => fs.iter().map(|f| (f.name.as_str(), false, "field")).collect(),
        ItemKind::Type(_) => Vec::new(),
    };
    let mut seen = rustc_hash::FxHashSet::default();
    for (i, (n, upper, what)) in members.into_iter().enumerate() {
        let part = ItemPart::Member(i as u32);
        if upper && !is_upper(n) {
            out.push((
                part,
                codes::NAMING_CASE,
                format!("{what} names are `UpperCamel`: `{n}` must start with an uppercase letter"),
            ));
        } else if !upper && !is_lower(n) {
            out.push((
                part,
                codes::NAMING_CASE,
                format!("{what} names are `lower_snake`: `{n}` must start with a lowercase letter"),
            ));
        }
        // `_` binds nothing, so it may appear any number of times; schema fields have their
        // own duplicate check with the record types (E0208).
        if n != "_" && what != "field" && !seen.insert(n) {
            out.push((
                part,
                codes::DUPLICATE_DEFINITION,
                format!("{what} `{n}` is declared twice"),
            ));
        }
    }
    out
}

fn params(
    tc: &mut TypeCollector<'_>,
    list: Option<ast::ParamList>,
    members: &mut Vec<TextRange>,
) -> Vec<(SmolStr, TypeRefId)> {
    let Some(list) = list else { return Vec::new() };
    list.params()
        .filter_map(|p| {
            let n = p.name()?;
            members.push(range(n.syntax()));
            Some((n.text(), tc.ty(p.ty())))
        })
        .collect()
}

/// Finds an item's syntax node by its name (the first of that name), for body lowering.
pub fn find_item(file: &ast::SourceFile, name: &str) -> Option<ast::Item> {
    file.items().find(|it| it.name().is_some_and(|n| n.text() == name))
}

impl Body {
    /// Lowers a function's parameters and block.
    pub fn lower_fn(f: &ast::FnItem) -> (Body, BodySourceMap) {
        let mut cx = BodyLower::default();
        cx.scopes.push(Vec::new());
        if let Some(list) = f.param_list() {
            for p in list.params() {
                let Some(n) = p.name() else { continue };
                let b = cx.bind(n.text(), range(n.syntax()));
                cx.body.params.push(b);
            }
        }
        let root = match f.body() {
            Some(b) => cx.expr(Some(ast::Expr::Block(b))),
            None => cx.missing(None),
        };
        cx.body.root = BodyRoot::Expr(root);
        (cx.body, cx.sm)
    }

    /// Lowers a schema's field defaults. Field indices count the fields that have a name
    /// (as [`ItemTree::lower`] does).
    pub fn lower_schema(s: &ast::SchemaItem) -> (Body, BodySourceMap) {
        let mut cx = BodyLower::default();
        cx.scopes.push(Vec::new());
        let mut defaults = Vec::new();
        for (i, f) in s.fields().filter(|f| f.name().is_some()).enumerate() {
            if let Some(d) = f.default() {
                defaults.push((i as u32, cx.expr(Some(d))));
            }
        }
        cx.body.root = BodyRoot::SchemaDefaults(defaults);
        (cx.body, cx.sm)
    }

    /// Lowers the body of `item`, if it has one (functions, and schemas with defaults).
    pub fn lower_item(item: &ast::Item) -> Option<(Body, BodySourceMap)> {
        match item {
            ast::Item::Fn(f) => Some(Body::lower_fn(f)),
            ast::Item::Schema(s) if s.fields().any(|f| f.default().is_some()) => {
                Some(Body::lower_schema(s))
            }
            _ => None,
        }
    }
}

#[derive(Default)]
struct BodyLower {
    body: Body,
    sm: BodySourceMap,
    /// Names in scope, innermost scope last.
    scopes: Vec<Vec<(SmolStr, BindingId)>>,
    /// An out-of-range literal seen by [`Self::literal`], reported once the id exists.
    pending_literal_error: Option<String>,
}

impl BodyLower {
    /// Binds a local (a `let`, lambda or clause parameter, or pattern binding).
    fn bind_local(&mut self, name: SmolStr, r: TextRange) -> BindingId {
        let b = self.bind(name.clone(), r);
        if !is_lower(&name) {
            self.body.diagnostics.push(Anchored::error(
                BodyAnchor::Binding(b),
                codes::NAMING_CASE,
                format!(
                    "local names are `lower_snake`: `{name}` must start with a lowercase letter"
                ),
            ));
        }
        b
    }

    fn bind(&mut self, name: SmolStr, r: TextRange) -> BindingId {
        let b = self.body.bindings.alloc(Binding { name: name.clone() });
        self.sm.bindings.insert(b, r);
        // `_` keeps its binding (and so its slot in core IR) but enters no scope.
        if name != Binding::WILDCARD {
            self.scopes.last_mut().expect("a scope is open").push((name, b));
        }
        b
    }

    fn lookup(&self, name: &str) -> Option<BindingId> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|(n, _)| n == name)
            .map(|(_, b)| *b)
    }

    fn alloc_expr(&mut self, e: Expr, r: Option<TextRange>) -> ExprId {
        let id = self.body.exprs.alloc(e);
        if let Some(r) = r {
            self.sm.exprs.insert(id, r);
            self.sm.expr_by_range.insert(r, id);
        }
        id
    }

    fn missing(&mut self, r: Option<TextRange>) -> ExprId {
        self.alloc_expr(Expr::Missing, r)
    }

    fn token_range(&mut self, e: ExprId, t: Option<TextRange>) {
        if let Some(t) = t {
            self.sm.expr_tokens.insert(e, t);
        }
    }

    fn type_ref(&mut self, t: Option<ast::Type>) -> TypeRefId {
        TypeCollector {
            arena: &mut self.body.type_refs,
            ranges: &mut self.sm.type_refs,
            field_names: &mut self.sm.type_field_names,
        }
        .ty(t)
    }

    fn literal(&mut self, value: Result<ast::LiteralValue, LitError>) -> Option<Literal> {
        match value {
            Ok(v) => Some(match v {
                ast::LiteralValue::Int(i) => Literal::Int(i),
                ast::LiteralValue::Duration(d) => Literal::Duration(d),
                ast::LiteralValue::String(s) => Literal::String(s.into()),
                ast::LiteralValue::Bool(b) => Literal::Bool(b),
                ast::LiteralValue::Unit => Literal::Unit,
            }),
            Err(e @ LitError::Overflow { .. }) => {
                // Malformed literals were reported by the lexer; overflow is found here.
                self.pending_literal_error = Some(e.to_string());
                None
            }
            Err(LitError::Malformed { .. }) => None,
        }
    }

    fn args(&mut self, list: Option<ast::ArgList>) -> Vec<ExprId> {
        list.map(|l| l.args().map(|a| self.expr(Some(a))).collect()).unwrap_or_default()
    }

    fn expr(&mut self, e: Option<ast::Expr>) -> ExprId {
        let Some(e) = e else { return self.missing(None) };
        let r = Some(range(e.syntax()));
        match &e {
            ast::Expr::Paren(p) => {
                let inner = self.expr(p.expr());
                if let Some(r) = r {
                    self.sm.expr_by_range.insert(r, inner);
                }
                inner
            }
            ast::Expr::Literal(l) => {
                let lit = self.literal(l.value());
                self.lit_expr(lit, r)
            }
            ast::Expr::Unit(_) => self.alloc_expr(Expr::Lit(Literal::Unit), r),
            ast::Expr::Prefix(p) => {
                let op = match p.op_kind() {
                    Some(ast::UnaryOp::Neg) => UnOp::Neg,
                    Some(ast::UnaryOp::Not) => UnOp::Not,
                    None => return self.missing(r),
                };
                // `-9223372036854775808` is a literal, not the negation of an overflow; and
                // `-(5)` is the same literal as `-5` (parentheses never reach the hash).
                if op == UnOp::Neg
                    && let Some(ast::Expr::Literal(l)) = without_parens(p.expr())
                    && l.kind() == Some(ast::LiteralKind::Int)
                    && let Some(tok) = l.token()
                {
                    let lit = match tel_syntax::lit::parse_negated_int(tok.text()) {
                        Ok(v) => Some(Literal::Int(v)),
                        Err(e) => self.literal(Err(e)),
                    };
                    return self.lit_expr(lit, r);
                }
                let inner = self.expr(p.expr());
                let id = self.alloc_expr(Expr::Unary { op, expr: inner }, r);
                self.token_range(id, p.op_token().map(|t| t.text_range()));
                id
            }
            ast::Expr::Bin(b) => {
                let lhs = self.expr(b.lhs());
                let rhs = self.expr(b.rhs());
                let Some(op) = b.op_kind() else { return self.missing(r) };
                // `a < b < c` was reported by the parser; checking it would only add noise.
                if op.is_comparison()
                    && matches!(b.lhs(), Some(ast::Expr::Bin(l)) if l.op_kind().is_some_and(|o| o.is_comparison()))
                {
                    return self.missing(r);
                }
                let id = self.alloc_expr(Expr::Binary { op: binop(op), lhs, rhs }, r);
                self.token_range(id, b.op_token().map(|t| t.text_range()));
                id
            }
            ast::Expr::Call(c) => {
                let callee = self.expr(c.callee());
                let args = self.args(c.arg_list());
                self.alloc_expr(Expr::Call { callee, args }, r)
            }
            ast::Expr::Field(f) => {
                let recv = self.expr(f.receiver());
                let Some(name) = f.name_ref() else {
                    return self.alloc_expr(Expr::Missing, r);
                };
                let id = self.alloc_expr(Expr::Field { expr: recv, name: name.text() }, r);
                self.token_range(id, Some(range(name.syntax())));
                id
            }
            ast::Expr::Path(p) => {
                let Some(path) = nonempty_path_of(p) else { return self.missing(r) };
                if let Some(name) = path.as_single()
                    && let Some(b) = self.lookup(name)
                {
                    return self.alloc_expr(Expr::Local(b), r);
                }
                self.alloc_expr(Expr::Path(path), r)
            }
            ast::Expr::Hash(h) => match h.hash_token() {
                Some(t) => self
                    .alloc_expr(Expr::HashRef(SmolStr::new(t.text().trim_start_matches('#'))), r),
                None => self.missing(r),
            },
            ast::Expr::Record(rec) => {
                let path = rec.path();
                let mut fields = Vec::new();
                let mut field_ranges = Vec::new();
                for f in rec.fields().into_iter().flat_map(|fs| fs.fields()) {
                    let Some(name) = f.name_ref() else { continue };
                    let value = self.expr(f.expr());
                    fields.push((name.text(), value));
                    field_ranges.push(range(name.syntax()));
                }
                let id =
                    self.alloc_expr(Expr::Record { path: path.as_ref().map(path_of), fields }, r);
                for (i, fr) in field_ranges.into_iter().enumerate() {
                    self.sm.record_fields.insert((id, i as u32), fr);
                }
                self.token_range(id, path.map(|p| range(p.syntax())));
                id
            }
            ast::Expr::List(l) => {
                let items = l.items().map(|i| self.expr(Some(i))).collect();
                self.alloc_expr(Expr::List(items), r)
            }
            ast::Expr::Block(b) => self.block(b),
            ast::Expr::If(i) => self.if_expr(i),
            ast::Expr::Match(m) => {
                let scrutinee = self.expr(m.scrutinee());
                let mut arms = Vec::new();
                for arm in m.arm_list().into_iter().flat_map(|l| l.arms()) {
                    self.scopes.push(Vec::new());
                    let pat = self.pat(arm.pat());
                    let guard = arm.guard().map(|g| self.expr(g.condition()));
                    let body = self.expr(arm.expr());
                    self.scopes.pop();
                    arms.push(MatchArm { pat, guard, body });
                }
                let id = self.alloc_expr(Expr::Match { scrutinee, arms }, r);
                self.token_range(id, first_significant_token(m.syntax()).map(|t| t.text_range()));
                id
            }
            ast::Expr::Handle(h) => {
                let inner = match h.body() {
                    Some(b) => self.block(&b),
                    None => self.missing(None),
                };
                let mut clauses = Vec::new();
                let mut clause_ranges = Vec::new();
                for c in h.clauses().into_iter().flat_map(|cs| cs.clauses()) {
                    let effect = match c.path() {
                        Some(p) => {
                            clause_ranges.push(range(p.syntax()));
                            EffectName::Path(path_of(&p))
                        }
                        None => {
                            clause_ranges.push(range(c.syntax()));
                            EffectName::Missing
                        }
                    };
                    self.scopes.push(Vec::new());
                    let params = c
                        .params()
                        .into_iter()
                        .flat_map(|ps| ps.names())
                        .map(|n| self.bind_local(n.text(), range(n.syntax())))
                        .collect();
                    let body = self.expr(c.expr());
                    self.scopes.pop();
                    clauses.push(HandlerClause { effect, params, body });
                }
                let id = self.alloc_expr(Expr::Handle { body: inner, clauses }, r);
                for (i, cr) in clause_ranges.into_iter().enumerate() {
                    self.sm.clauses.insert((id, i as u32), cr);
                }
                id
            }
            ast::Expr::Within(w) => {
                let deadline = self.expr(w.deadline());
                let body = self.opt_block(w.body());
                let fallback = self.opt_block(w.fallback());
                self.alloc_expr(Expr::Within { deadline, body, fallback }, r)
            }
            ast::Expr::After(a) => {
                let delay = self.expr(a.delay());
                let body = self.opt_block(a.body());
                let id = self.alloc_expr(Expr::After { delay, body }, r);
                self.token_range(id, first_significant_token(a.syntax()).map(|t| t.text_range()));
                id
            }
            ast::Expr::Perform(p) => {
                let effect = match p.path() {
                    Some(path) => EffectName::Path(path_of(&path)),
                    None => EffectName::Missing,
                };
                let args = self.args(p.arg_list());
                let id = self.alloc_expr(Expr::Perform { effect, args }, r);
                self.token_range(id, p.path().map(|p| range(p.syntax())));
                id
            }
            ast::Expr::Resume(x) => {
                let args = self.args(x.arg_list());
                self.alloc_expr(Expr::Resume(args), r)
            }
            ast::Expr::Abort(x) => {
                let args = self.args(x.arg_list());
                self.alloc_expr(Expr::Abort(args), r)
            }
            ast::Expr::Lambda(l) => {
                self.scopes.push(Vec::new());
                let mut params = Vec::new();
                for p in l.params().into_iter().flat_map(|ps| ps.params()) {
                    let Some(n) = p.name() else { continue };
                    let ty = p.ty().map(|t| self.type_ref(Some(t)));
                    let b = self.bind_local(n.text(), range(n.syntax()));
                    params.push((b, ty));
                }
                let body = self.expr(l.body());
                self.scopes.pop();
                self.alloc_expr(Expr::Lambda { params, body }, r)
            }
        }
    }

    fn lit_expr(&mut self, lit: Option<Literal>, r: Option<TextRange>) -> ExprId {
        let id = match lit {
            Some(l) => self.alloc_expr(Expr::Lit(l), r),
            None => self.missing(r),
        };
        if let Some(msg) = self.pending_literal_error.take() {
            self.body.diagnostics.push(Anchored::error(
                BodyAnchor::Expr(id),
                codes::BAD_LITERAL,
                msg,
            ));
        }
        id
    }

    fn opt_block(&mut self, b: Option<ast::BlockExpr>) -> ExprId {
        match b {
            Some(b) => self.block(&b),
            None => self.missing(None),
        }
    }

    fn block(&mut self, b: &ast::BlockExpr) -> ExprId {
        let r = Some(range(b.syntax()));
        self.scopes.push(Vec::new());
        let mut stmts = Vec::new();
        for s in b.stmts() {
            match s {
                ast::Stmt::Let(l) => {
                    let ty = l.ty().map(|t| self.type_ref(Some(t)));
                    let init = self.expr(l.init());
                    let Some(n) = l.name() else { continue };
                    let binding = self.bind_local(n.text(), range(n.syntax()));
                    stmts.push(Stmt::Let { binding, ty, init });
                }
                ast::Stmt::Expr(e) => {
                    let x = self.expr(e.expr());
                    stmts.push(Stmt::Expr(x));
                }
            }
        }
        let tail = b.tail_expr().map(|t| self.expr(Some(t)));
        self.scopes.pop();
        self.alloc_expr(Expr::Block { stmts, tail }, r)
    }

    fn if_expr(&mut self, i: &ast::IfExpr) -> ExprId {
        let r = Some(range(i.syntax()));
        let cond = self.expr(i.condition());
        let then = self.opt_block(i.then_branch());
        let else_ = i.else_branch().map(|e| match e {
            ast::ElseBranch::Block(b) => self.block(&b),
            ast::ElseBranch::If(i) => self.if_expr(&i),
        });
        self.alloc_expr(Expr::If { cond, then, else_ }, r)
    }

    fn alloc_pat(&mut self, p: Pat, r: Option<TextRange>) -> PatId {
        let id = self.body.pats.alloc(p);
        if let Some(r) = r {
            self.sm.pats.insert(id, r);
            self.sm.pat_by_range.insert(r, id);
        }
        id
    }

    fn pat(&mut self, p: Option<ast::Pat>) -> PatId {
        let Some(p) = p else { return self.alloc_pat(Pat::Missing, None) };
        let r = Some(range(p.syntax()));
        match &p {
            ast::Pat::Wildcard(_) => self.alloc_pat(Pat::Wild, r),
            ast::Pat::Literal(l) => {
                let lit = self.literal(l.value());
                let id = match lit {
                    Some(lit) => self.alloc_pat(Pat::Lit(lit), r),
                    None => self.alloc_pat(Pat::Missing, r),
                };
                if let Some(msg) = self.pending_literal_error.take() {
                    self.body.diagnostics.push(Anchored::error(
                        BodyAnchor::Pat(id),
                        codes::BAD_LITERAL,
                        msg,
                    ));
                }
                id
            }
            ast::Pat::Bind(b) => {
                let Some(n) = b.name() else { return self.alloc_pat(Pat::Missing, r) };
                let name = n.text();
                // Decision 3: an UpperCamel name in a pattern is a variant, not a binding.
                if name.starts_with(|c: char| c.is_ascii_uppercase()) {
                    return self
                        .alloc_pat(Pat::Variant { path: Path::single(name), args: None }, r);
                }
                let binding = self.bind(name, range(n.syntax()));
                self.alloc_pat(Pat::Bind(binding), r)
            }
            ast::Pat::Variant(v) => {
                let Some(path) = v.path() else { return self.alloc_pat(Pat::Missing, r) };
                let path = path_of(&path);
                let args = if v.has_parens() {
                    Some(v.fields().map(|f| self.pat(Some(f))).collect())
                } else {
                    None
                };
                if args.is_none()
                    && let Some(name) = path.as_single()
                    && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                {
                    let binding = self.bind(name.clone(), range(p.syntax()));
                    return self.alloc_pat(Pat::Bind(binding), r);
                }
                self.alloc_pat(Pat::Variant { path, args }, r)
            }
            ast::Pat::Record(rec) => {
                let path = rec.path().map(|p| path_of(&p));
                let mut fields = Vec::new();
                let mut field_ranges = Vec::new();
                for f in rec.fields() {
                    let Some(name) = f.name_ref() else { continue };
                    let nr = range(name.syntax());
                    let sub = match f.shorthand_binding() {
                        Some(b) => {
                            let binding = self.bind(b.text(), nr);
                            self.alloc_pat(Pat::Bind(binding), Some(nr))
                        }
                        None => self.pat(f.pat()),
                    };
                    fields.push((name.text(), sub));
                    field_ranges.push(nr);
                }
                let id = self.alloc_pat(Pat::Record { path, fields, rest: rec.has_rest() }, r);
                for (i, fr) in field_ranges.into_iter().enumerate() {
                    self.sm.pat_fields.insert((id, i as u32), fr);
                }
                id
            }
        }
    }
}

fn binop(op: ast::BinOp) -> BinOp {
    match op {
        ast::BinOp::Or => BinOp::Or,
        ast::BinOp::And => BinOp::And,
        ast::BinOp::Eq => BinOp::Eq,
        ast::BinOp::Ne => BinOp::Ne,
        ast::BinOp::Lt => BinOp::Lt,
        ast::BinOp::Le => BinOp::Le,
        ast::BinOp::Gt => BinOp::Gt,
        ast::BinOp::Ge => BinOp::Ge,
        ast::BinOp::Add => BinOp::Add,
        ast::BinOp::Sub => BinOp::Sub,
        ast::BinOp::Concat => BinOp::Concat,
        ast::BinOp::Mul => BinOp::Mul,
        ast::BinOp::Div => BinOp::Div,
        ast::BinOp::Rem => BinOp::Rem,
    }
}

/// `((e))` → `e`.
fn without_parens(mut expr: Option<ast::Expr>) -> Option<ast::Expr> {
    while let Some(ast::Expr::Paren(p)) = &expr {
        expr = p.expr();
    }
    expr
}
