//! Completion: what may be written at the cursor — names in scope, record fields after `.`,
//! effects after `perform`, type names in types, variants in patterns, keywords, and stored
//! definitions after `#`.
//!
//! The text being typed is rarely valid, so the item around the cursor is parsed again on its
//! own with a placeholder identifier inserted at the cursor (rust-analyzer's trick). The
//! parser recovers from errors and puts a name exactly where the cursor is; the nodes around
//! it say what may go there. The same copy is lowered and inferred, which gives the type of
//! the value before a `.` and the locals the cursor sees, even while the item does not parse.

use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use smol_str::SmolStr;
use tel_hash::CodeHash;
use tel_hash::core::{Builtin, DefKind};
use tel_hir::def_map::{BuiltinType, DefMap, ScopeEntry, VariantOwner, VariantRef};
use tel_hir::item_tree::Visibility;
use tel_hir::signature::expand_alias;
use tel_hir::type_ref::Path;
use tel_hir::{
    Body, BodySourceMap, DefId, DefRef, HirDatabase, InferenceResult, Ns, PRELUDE_MODULE,
    Resolution, Signature, Ty,
};
use tel_syntax::ast::{self, AstNode};
use tel_syntax::{SyntaxKind, SyntaxNode, SyntaxToken, TextRange, TextSize};

use super::render;
use super::store::StoreInfo;
use super::target::{FileCtx, builtin_type_name, name_text, segment_tokens};
use crate::queries::{self, HirDb, ModuleLoc};
use crate::{Analysis, Cancellable, FileId};

/// What a completion inserts names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CompletionKind {
    Local,
    Parameter,
    Field,
    Function,
    Builtin,
    Variant,
    Type,
    Enum,
    Schema,
    Effect,
    BuiltinType,
    Module,
    Keyword,
    /// A `#hash` reference to a stored definition.
    Hash,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: CompletionKind,
    /// The signature of a definition, the type of a local or field.
    pub detail: Option<String>,
    /// Shown beside the label: a definition's short hash (`#s451ehd0`); for a `#hash`
    /// completion, the names the definition has.
    pub label_detail: Option<String>,
    pub hash: Option<CodeHash>,
    /// Markdown: a definition's doc comment.
    pub documentation: Option<String>,
    /// The text the completion replaces: the part of the name typed so far (and the rest of
    /// the word when the cursor is inside one).
    pub range: TextRange,
    pub insert: String,
}

/// The identifier inserted at the cursor. No program names anything so.
const PLACEHOLDER: &str = "__tel_completion__";

/// How many `#hash` completions one answer holds at most.
const MAX_HASHES: usize = 200;

impl Analysis {
    /// Completions at `offset`, most relevant first: locals and fields, the module's items,
    /// imported items, the prelude and variants, builtins, modules, keywords. `store` answers
    /// `#` completions.
    pub fn completions(
        &self,
        file: FileId,
        offset: TextSize,
        store: Option<&dyn StoreInfo>,
    ) -> Cancellable<Vec<CompletionItem>> {
        let store = std::panic::AssertUnwindSafe(store);
        self.with_db(|db| {
            let store = *store;
            let ctx = FileCtx::new(self, db, file);
            if offset > ctx.root.text_range().end() {
                return Vec::new();
            }
            if let Some(items) = self.hash_completions(&ctx, offset, store) {
                return items;
            }
            let site = Site::find(&ctx, offset);
            let mut acc = Acc::new(self, &ctx, word_range(&ctx.root, offset));
            acc.complete(&site);
            acc.finish()
        })
    }
}

/// The word the cursor is in or after (an identifier or a keyword being typed), or an empty
/// range at the cursor.
fn word_range(root: &SyntaxNode, offset: TextSize) -> TextRange {
    let is_word = |t: &SyntaxToken| {
        t.kind() == SyntaxKind::IDENT || SyntaxKind::from_keyword(t.text()) == Some(t.kind())
    };
    root.token_at_offset(offset)
        .find(|t| is_word(t) && t.text_range().start() < offset)
        .map_or(TextRange::empty(offset), |t| t.text_range())
}

/// What may be written at the cursor.
#[derive(Debug)]
enum Context {
    /// Between items: item keywords.
    TopLevel,
    /// A name in an expression; `stmt` when a statement may start here, `clause` inside a
    /// handler clause (`resume`, `abort`).
    Expr {
        stmt: bool,
        clause: bool,
    },
    /// `a::b::|`: what the qualifier holds, of namespace `ns`.
    Qualified {
        qualifier: Vec<SmolStr>,
        ns: Ns,
    },
    /// `receiver.|`
    Field {
        receiver: TextRange,
    },
    Type,
    Effect,
    Pattern,
    /// A field name in a record literal or record pattern.
    RecordField {
        record: SyntaxNode,
    },
    /// `use m::{|}` (or `use m::|`): what module `m` exports; `use |`: modules.
    Use {
        module: Vec<SmolStr>,
    },
    /// Where a new name is being declared, or nothing fits.
    Nothing,
}

/// The cursor's place, seen in a copy of its item with the placeholder inserted.
struct Site {
    context: Context,
    /// The copy of the item (a root of its own: offsets count from the item's start).
    item: Option<SyntaxNode>,
    /// Where the placeholder starts in the copy.
    at: TextSize,
    /// The original item's definition, when it is one.
    def: Option<DefId>,
}

impl Site {
    fn find(ctx: &FileCtx<'_>, offset: TextSize) -> Site {
        let nothing = |context| Site { context, item: None, at: offset, def: None };
        let Some(original) = ctx.root.children().find(|n| {
            let r = n.text_range();
            r.start() < offset && offset <= r.end()
        }) else {
            return nothing(Context::TopLevel);
        };
        let start = original.text_range().start();
        let mut text = original.text().to_string();
        // A UTF-8 client may name a byte inside a character: complete before it.
        let mut at = usize::from(offset - start);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.insert_str(at, PLACEHOLDER);
        let at = TextSize::from(at as u32);
        let root = tel_syntax::parse(&text).syntax_node();
        let placeholder = TextRange::at(at, TextSize::of(PLACEHOLDER));
        let Some(token) = root
            .token_at_offset(at + TextSize::from(1))
            .find(|t| t.kind() == SyntaxKind::IDENT && t.text_range().contains_range(placeholder))
        else {
            return nothing(Context::Nothing);
        };
        let item = token
            .parent_ancestors()
            .find(|n| n.parent().is_some_and(|p| p.kind() == SyntaxKind::SOURCE_FILE));
        Site { context: classify(&token), item, at, def: ctx.item_def(&original) }
    }
}

fn classify(token: &SyntaxToken) -> Context {
    let Some(parent) = token.parent() else { return Context::Nothing };
    let grand = parent.parent();
    let grand_kind = grand.as_ref().map(|g| g.kind());
    match parent.kind() {
        SyntaxKind::SOURCE_FILE => Context::TopLevel,
        SyntaxKind::ERROR if grand_kind == Some(SyntaxKind::SOURCE_FILE) => Context::TopLevel,
        SyntaxKind::NAME_REF => {
            let Some(grand) = grand else { return Context::Nothing };
            match grand.kind() {
                SyntaxKind::FIELD_EXPR => match grand.children().next() {
                    Some(receiver) => Context::Field { receiver: receiver.text_range() },
                    None => Context::Nothing,
                },
                SyntaxKind::RECORD_FIELD => match grand.parent().and_then(|f| f.parent()) {
                    Some(record) => Context::RecordField { record },
                    None => Context::Nothing,
                },
                SyntaxKind::FIELD_PAT => match grand.parent() {
                    Some(record) => Context::RecordField { record },
                    None => Context::Nothing,
                },
                SyntaxKind::USE_NAME => {
                    let path = grand
                        .ancestors()
                        .find(|n| n.kind() == SyntaxKind::USE_ITEM)
                        .and_then(|u| u.children().find(|n| n.kind() == SyntaxKind::PATH));
                    Context::Use {
                        module: path.map(|p| texts(&segment_tokens(&p))).unwrap_or_default(),
                    }
                }
                SyntaxKind::PATH => path_context(token, &grand),
                _ => Context::Nothing,
            }
        }
        SyntaxKind::PATH | SyntaxKind::PATH_EXPR | SyntaxKind::PATH_TYPE => {
            path_context(token, &parent)
        }
        SyntaxKind::NAME if grand_kind == Some(SyntaxKind::BIND_PAT) => Context::Pattern,
        _ => Context::Nothing,
    }
}

fn texts(tokens: &[SyntaxToken]) -> Vec<SmolStr> {
    tokens.iter().map(|t| SmolStr::new(t.text())).collect()
}

/// A segment of a path: what the path's place admits, qualified by the segments before it.
fn path_context(token: &SyntaxToken, path: &SyntaxNode) -> Context {
    let segments = segment_tokens(path);
    let index = segments.iter().position(|t| t == token).unwrap_or(segments.len());
    let qualifier = texts(&segments[..index]);
    let container =
        if path.kind() == SyntaxKind::PATH { path.parent() } else { Some(path.clone()) };
    let Some(container) = container else { return Context::Nothing };
    let ns = match container.kind() {
        SyntaxKind::PATH_EXPR => Ns::Value,
        SyntaxKind::PATH_TYPE => {
            let in_row = container.parent().is_some_and(|p| p.kind() == SyntaxKind::EFFECT_ROW);
            if in_row { Ns::Effect } else { Ns::Type }
        }
        SyntaxKind::PERFORM_EXPR | SyntaxKind::HANDLER_CLAUSE => Ns::Effect,
        SyntaxKind::RECORD_EXPR | SyntaxKind::RECORD_PAT => Ns::Type,
        SyntaxKind::VARIANT_PAT => {
            if qualifier.is_empty() {
                return Context::Pattern;
            }
            Ns::Value
        }
        SyntaxKind::USE_ITEM => return Context::Use { module: qualifier },
        _ => return Context::Nothing,
    };
    if !qualifier.is_empty() {
        return Context::Qualified { qualifier, ns };
    }
    match ns {
        Ns::Effect => Context::Effect,
        Ns::Type => Context::Type,
        Ns::Value => {
            let parent = container.parent();
            let stmt = match parent.as_ref().map(|p| p.kind()) {
                Some(SyntaxKind::BLOCK_EXPR) => true,
                Some(SyntaxKind::EXPR_STMT) => {
                    parent.as_ref().and_then(|p| p.first_child()).as_ref() == Some(&container)
                        && parent
                            .and_then(|p| p.parent())
                            .is_some_and(|b| b.kind() == SyntaxKind::BLOCK_EXPR)
                }
                _ => false,
            };
            let clause = container.ancestors().any(|n| n.kind() == SyntaxKind::HANDLER_CLAUSE);
            Context::Expr { stmt, clause }
        }
    }
}

/// How relevant a completion is: lower comes first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    Local,
    Module,
    Imported,
    Prelude,
    Builtin,
    ModuleName,
    Keyword,
}

/// Completions being collected.
struct Acc<'a, 'db> {
    analysis: &'a Analysis,
    ctx: &'a FileCtx<'db>,
    range: TextRange,
    items: Vec<(Rank, CompletionItem)>,
    map: Arc<DefMap>,
    /// Asked for only when a definition is offered (a field or keyword needs no hash).
    hashes: Option<Arc<FxHashMap<DefId, CodeHash>>>,
}

impl<'a, 'db> Acc<'a, 'db> {
    fn new(analysis: &'a Analysis, ctx: &'a FileCtx<'db>, range: TextRange) -> Self {
        let db = ctx.db;
        let map = queries::module_def_map(db, ModuleLoc::new(db, ctx.project, ctx.module.clone()));
        Acc { analysis, ctx, range, items: Vec::new(), map, hashes: None }
    }

    fn hir(&self) -> HirDb<'db> {
        self.ctx.hir()
    }

    fn push(
        &mut self,
        rank: Rank,
        label: impl Into<String>,
        kind: CompletionKind,
    ) -> &mut CompletionItem {
        let label = label.into();
        self.items.push((
            rank,
            CompletionItem {
                insert: label.clone(),
                label,
                kind,
                detail: None,
                label_detail: None,
                hash: None,
                documentation: None,
                range: self.range,
            },
        ));
        &mut self.items.last_mut().expect("just pushed").1
    }

    /// Sorted by rank then label (ignoring case); a name reached twice keeps its most relevant meaning (a
    /// local shadows an item of the same name).
    fn finish(mut self) -> Vec<CompletionItem> {
        self.items.sort_by_cached_key(|(rank, c)| (*rank, c.label.to_lowercase(), c.label.clone()));
        let mut seen = FxHashSet::default();
        self.items
            .into_iter()
            .filter(|(_, c)| seen.insert(c.label.clone()))
            .map(|(_, c)| c)
            .collect()
    }

    fn complete(&mut self, site: &Site) {
        match &site.context {
            Context::TopLevel => {
                for kw in ["fn", "pub", "type", "enum", "effect", "schema", "use", "module"] {
                    self.push(Rank::Keyword, kw, CompletionKind::Keyword);
                }
            }
            Context::Expr { stmt, clause } => {
                if let Some(lowered) = Lowered::of(self.ctx, site) {
                    self.locals(site, &lowered);
                }
                self.scope(Ns::Value);
                let mut keywords =
                    vec!["if", "match", "handle", "within", "after", "perform", "true", "false"];
                if *stmt {
                    keywords.push("let");
                }
                if *clause {
                    keywords.extend(["resume", "abort"]);
                }
                for kw in keywords {
                    self.push(Rank::Keyword, kw, CompletionKind::Keyword);
                }
            }
            Context::Type => self.scope(Ns::Type),
            Context::Effect => self.scope(Ns::Effect),
            Context::Pattern => {
                self.scope(Ns::Value);
                // A pattern names variants, and enums and record types to qualify or
                // destructure; functions and builtins have no place in one.
                self.items.retain(|(_, c)| {
                    !matches!(c.kind, CompletionKind::Function | CompletionKind::Builtin)
                });
                for kw in ["true", "false"] {
                    self.push(Rank::Keyword, kw, CompletionKind::Keyword);
                }
            }
            Context::Qualified { qualifier, ns } => self.qualified(qualifier, *ns),
            Context::Field { receiver } => {
                let Some(lowered) = Lowered::of(self.ctx, site) else { return };
                let Some(expr) = lowered.sm.expr_at(*receiver) else { return };
                let ty = lowered.inferred.type_of_expr(expr).clone();
                self.fields(&ty, &[]);
            }
            Context::RecordField { record } => self.record_fields(site, record),
            Context::Use { module } => self.use_names(module),
            Context::Nothing => {}
        }
    }

    /// The locals visible at the cursor (the innermost of each name), with their types.
    fn locals(&mut self, site: &Site, lowered: &Lowered) {
        let Some(item) = &site.item else { return };
        let mut visible: Vec<(TextSize, tel_hir::body::BindingId)> = Vec::new();
        for (b, range) in lowered.sm.bindings.iter() {
            if lowered.body.bindings[b].is_wildcard() {
                continue;
            }
            if binder_visible(item, *range, site.at) {
                visible.push((range.start(), b));
            }
        }
        // Later binders shadow earlier ones (an inner scope's binders come later in the text).
        visible.sort_by_key(|(start, _)| std::cmp::Reverse(*start));
        for (_, b) in visible {
            let name = lowered.body.bindings[b].name.clone();
            let ty = lowered.inferred.type_of_binding(b).clone();
            let kind = if lowered.body.params.contains(&b) {
                CompletionKind::Parameter
            } else {
                CompletionKind::Local
            };
            let item = self.push(Rank::Local, name.as_str(), kind);
            if !ty.contains_error() && !ty.contains_var() {
                item.detail = Some(format!("{name}: {ty}"));
            }
        }
    }

    /// Every name of namespace `ns` the module sees, unqualified.
    fn scope(&mut self, ns: Ns) {
        let map = self.map.clone();
        let module = self.ctx.module.clone();
        let Some(data) = map.module(&module) else { return };
        let mut names: FxHashSet<&SmolStr> = FxHashSet::default();
        for (name, entry) in &data.scope.names {
            names.insert(name);
            match entry {
                ScopeEntry::Item(def, kind) => {
                    if admits(&map, ns, def, *kind) {
                        let rank = if def.module == module { Rank::Module } else { Rank::Imported };
                        self.def(rank, name, def, *kind);
                    }
                }
                ScopeEntry::Module(m) => self.module_name(name, m),
            }
        }
        if let Some(prelude) = map.module(PRELUDE_MODULE)
            && module != PRELUDE_MODULE
        {
            for (name, info) in &prelude.items {
                let def = DefId::prelude(name);
                if info.visibility == Visibility::Public
                    && !names.contains(name)
                    && admits(&map, ns, &def, info.kind)
                {
                    self.def(Rank::Prelude, name, &def, info.kind);
                }
            }
        }
        match ns {
            Ns::Value => {
                for (name, candidates) in &data.scope.variants {
                    match candidates.as_slice() {
                        [one] => self.variant(name.to_string(), one),
                        // Ambiguous bare: offered qualified by each enum.
                        many => {
                            for v in many {
                                let owner = match &v.owner {
                                    VariantOwner::Enum(e) => e.display_name(),
                                    VariantOwner::Option => continue,
                                };
                                self.variant(format!("{owner}::{name}"), v);
                            }
                        }
                    }
                }
                for v in [VariantRef::some(), VariantRef::none()] {
                    if !data.scope.variants.contains_key(&v.name) {
                        self.variant(v.name.to_string(), &v);
                    }
                }
                for b in Builtin::ALL {
                    let item = self.push(Rank::Builtin, b.name(), CompletionKind::Builtin);
                    item.detail = Some(builtin_signature(b));
                }
            }
            Ns::Type => {
                for t in [
                    BuiltinType::Int,
                    BuiltinType::Bool,
                    BuiltinType::String,
                    BuiltinType::Duration,
                    BuiltinType::Hash,
                    BuiltinType::List,
                    BuiltinType::Map,
                ] {
                    let name = builtin_type_name(t);
                    let item = self.push(Rank::Builtin, name, CompletionKind::BuiltinType);
                    item.detail = Some(match t.arity() {
                        0 => format!("builtin type {name}"),
                        1 => format!("builtin type {name}<T>"),
                        _ => format!("builtin type {name}<K, V>"),
                    });
                }
            }
            Ns::Effect => {}
        }
    }

    /// A definition, with its signature, short hash and doc comment.
    fn def(&mut self, rank: Rank, label: &str, def: &DefId, kind: DefKind) {
        let sig = self.hir().signature(&DefRef::Def(def.clone()));
        // The project's hashes, computed dependencies first (a definition's own hash query
        // could recurse down a long chain of dependencies on a cold engine).
        let (db, project) = (self.ctx.db, self.ctx.project);
        let hashes = self.hashes.get_or_insert_with(|| queries::project_hashes(db, project));
        let hash = hashes.get(def).copied();
        let doc = self.analysis.doc_comment(self.ctx.db, self.ctx.file, def);
        let item = self.push(rank, label, def_kind(kind));
        item.detail = Some(match sig.as_deref() {
            Some(sig) => render::signature(&def.name, sig),
            None => format!("{} {}", kind.as_str(), def.name),
        });
        item.hash = hash;
        item.label_detail = hash.map(|h| format!("#{}", h.short()));
        item.documentation = doc;
    }

    fn variant(&mut self, label: String, v: &VariantRef) {
        let (owner, fields) = match &v.owner {
            VariantOwner::Option => {
                let fields = if v.index == 0 { "(T)" } else { "" };
                ("T?".to_owned(), fields.to_owned())
            }
            VariantOwner::Enum(e) => {
                let fields = match self.hir().signature(e).as_deref() {
                    Some(Signature::Enum(sig)) => sig
                        .variants
                        .get(v.index as usize)
                        .filter(|(_, f)| !f.is_empty())
                        .map(|(_, f)| {
                            format!(
                                "({})",
                                f.iter().map(Ty::to_string).collect::<Vec<_>>().join(", ")
                            )
                        })
                        .unwrap_or_default(),
                    _ => String::new(),
                };
                (e.display_name(), fields)
            }
        };
        let item = self.push(Rank::Prelude, label, CompletionKind::Variant);
        item.detail = Some(format!("{owner}::{}{fields}", v.name));
    }

    fn module_name(&mut self, label: &str, module: &str) {
        let item = self.push(Rank::ModuleName, label, CompletionKind::Module);
        item.detail = Some(format!("module {module}"));
    }

    /// `qualifier::|`: the variants of an enum, or what a module exports.
    fn qualified(&mut self, qualifier: &[SmolStr], ns: Ns) {
        let map = self.map.clone();
        let here = self.ctx.module.clone();
        let path = Path { segments: qualifier.to_vec() };
        if ns == Ns::Value
            && let Ok(Resolution::Def(owner, DefKind::Enum)) =
                map.resolve_path(&here, &path, Ns::Type)
        {
            if let Some(Signature::Enum(sig)) = self.hir().signature(&owner).as_deref() {
                for (i, (name, _)) in sig.variants.iter().enumerate() {
                    let v = VariantRef {
                        owner: VariantOwner::Enum(owner.clone()),
                        index: i as u32,
                        name: name.clone(),
                    };
                    self.variant(name.to_string(), &v);
                }
            }
            return;
        }
        let Some(module) = self.module_of(qualifier) else { return };
        self.module_items(&module, |kind, def| admits(&map, ns, def, kind));
    }

    /// The module a qualifier names from here: a module alias, or an imported module.
    fn module_of(&self, qualifier: &[SmolStr]) -> Option<SmolStr> {
        let here = &self.ctx.module;
        let scope = &self.map.module(here)?.scope;
        if let [single] = qualifier
            && let Some(ScopeEntry::Module(m)) = scope.names.get(single)
        {
            return Some(m.clone());
        }
        let full =
            SmolStr::new(qualifier.iter().map(SmolStr::as_str).collect::<Vec<_>>().join("::"));
        let visible =
            full == *here || full == PRELUDE_MODULE || scope.imported_modules.contains(&full);
        (self.map.module(&full).is_some() && visible).then_some(full)
    }

    /// The items `module` lets this module see that `wanted` admits, and its submodules.
    fn module_items(&mut self, module: &SmolStr, wanted: impl Fn(DefKind, &DefId) -> bool) {
        let map = self.map.clone();
        let Some(data) = map.module(module) else { return };
        let own = *module == self.ctx.module;
        for (name, info) in &data.items {
            let def = DefId::new(module.clone(), name.clone());
            if (own || info.visibility == Visibility::Public) && wanted(info.kind, &def) {
                let rank = if own { Rank::Module } else { Rank::Imported };
                self.def(rank, name, &def, info.kind);
            }
        }
        let prefix = format!("{module}::");
        for (name, _) in map.modules() {
            if let Some(rest) = name.strip_prefix(&prefix) {
                let first = rest.split("::").next().unwrap_or(rest).to_owned();
                self.module_name(&first, name);
            }
        }
    }

    fn use_names(&mut self, module: &[SmolStr]) {
        if module.is_empty() {
            let map = self.map.clone();
            let names: Vec<SmolStr> = self
                .ctx
                .project
                .layout(self.ctx.db)
                .entries
                .iter()
                .map(|e| e.module.clone())
                .filter(|m| *m != self.ctx.module)
                .collect();
            for m in names {
                let first = m.split("::").next().unwrap_or(&m).to_owned();
                if map.module(&m).is_some() || m == PRELUDE_MODULE {
                    self.module_name(&first, &m);
                }
            }
            return;
        }
        let full = SmolStr::new(module.iter().map(SmolStr::as_str).collect::<Vec<_>>().join("::"));
        self.module_items(&full, |_, _| true);
    }

    /// The fields of `ty`, except `written`.
    fn fields(&mut self, ty: &Ty, written: &[SmolStr]) {
        let hir = self.hir();
        let fields = match expand_alias(&hir, ty) {
            Ty::Record(fields) => fields,
            Ty::Named(d) => match hir.signature(&d).and_then(|s| s.record_fields()) {
                Some(fields) => fields,
                None => return,
            },
            _ => return,
        };
        for (name, ty) in fields {
            if written.contains(&name) {
                continue;
            }
            let item = self.push(Rank::Local, name.as_str(), CompletionKind::Field);
            item.detail = Some(format!("{name}: {ty}"));
        }
    }

    /// Field names in `Quote { … }` (literal or pattern): the record type's fields not written
    /// yet.
    fn record_fields(&mut self, site: &Site, record: &SyntaxNode) {
        // `Quote { a: 1, … }` holds its fields in a RECORD_FIELDS node; a pattern directly.
        let written: Vec<SmolStr> = record
            .children()
            .flat_map(|c| match c.kind() {
                SyntaxKind::RECORD_FIELDS => c.children().collect::<Vec<_>>(),
                _ => vec![c],
            })
            .filter(|n| matches!(n.kind(), SyntaxKind::RECORD_FIELD | SyntaxKind::FIELD_PAT))
            .filter_map(|n| n.children().find(|c| c.kind() == SyntaxKind::NAME_REF))
            .filter_map(|n| name_text(&n))
            .filter(|n| !n.contains(PLACEHOLDER))
            .collect();
        let path = record.children().find(|n| n.kind() == SyntaxKind::PATH);
        let ty = match path {
            Some(path) => {
                let path = Path { segments: texts(&segment_tokens(&path)) };
                match self.map.resolve_path(&self.ctx.module, &path, Ns::Type) {
                    Ok(Resolution::Def(d, _)) => Ty::Named(d),
                    _ => return,
                }
            }
            // `{ … }` alone: the type inference gave it.
            None => {
                let Some(lowered) = Lowered::of(self.ctx, site) else { return };
                let range = record.text_range();
                if let Some(e) = lowered.sm.expr_at(range) {
                    lowered.inferred.type_of_expr(e).clone()
                } else if let Some(p) = lowered.sm.pat_by_range.get(&range) {
                    lowered.inferred.type_of_pat(*p).clone()
                } else {
                    return;
                }
            }
        };
        self.fields(&ty, &written);
    }
}

/// Whether a name of namespace `ns` may be this definition. In an expression, record types
/// and enums are offered too: they start record literals and qualified variants.
fn admits(map: &DefMap, ns: Ns, def: &DefId, kind: DefKind) -> bool {
    match ns {
        Ns::Effect => kind == DefKind::Effect,
        Ns::Type => matches!(kind, DefKind::Type | DefKind::Enum | DefKind::Schema),
        Ns::Value => match kind {
            DefKind::Fn | DefKind::Enum | DefKind::Schema => true,
            DefKind::Type => map.item(def).is_some_and(|i| !i.is_alias),
            DefKind::Effect => false,
        },
    }
}

fn def_kind(kind: DefKind) -> CompletionKind {
    match kind {
        DefKind::Fn => CompletionKind::Function,
        DefKind::Type => CompletionKind::Type,
        DefKind::Enum => CompletionKind::Enum,
        DefKind::Effect => CompletionKind::Effect,
        DefKind::Schema => CompletionKind::Schema,
    }
}

/// `fn map(xs: List<A>, f: fn(A) -> B) -> List<B>`.
fn builtin_signature(b: Builtin) -> String {
    let (params, tail) = super::signature_help::builtin_parts(b);
    format!("fn {}({}){tail}", b.name(), params.join(", "))
}

/// The copy of the cursor's item, lowered and inferred.
struct Lowered {
    body: Body,
    sm: BodySourceMap,
    inferred: InferenceResult,
}

impl Lowered {
    fn of(ctx: &FileCtx<'_>, site: &Site) -> Option<Lowered> {
        let node = ast::Item::cast(site.item.clone()?)?;
        let (body, sm) = Body::lower_item(&node)?;
        let def = site.def.clone()?;
        let tree = queries::item_tree(ctx.db, ctx.input);
        let (_, item) = tree.item_by_name(&def.name)?;
        let inferred = tel_hir::infer(&ctx.hir(), &def, item, &body);
        Some(Lowered { body, sm, inferred })
    }
}

/// Whether the binder at `range` (in the item copy) is in scope at `at`.
fn binder_visible(item: &SyntaxNode, range: TextRange, at: TextSize) -> bool {
    let Some(start) = item.token_at_offset(range.start()).right_biased() else { return false };
    for node in start.parent_ancestors() {
        let r = node.text_range();
        match node.kind() {
            // A `let` is seen by the statements after it, in its block.
            SyntaxKind::LET_STMT => {
                return r.end() <= at
                    && node.parent().is_some_and(|b| b.text_range().contains_inclusive(at));
            }
            SyntaxKind::PARAM_LIST => return true,
            SyntaxKind::LAMBDA_PARAMS | SyntaxKind::CLAUSE_PARAMS => {
                return r.end() <= at
                    && node.parent().is_some_and(|l| l.text_range().contains_inclusive(at));
            }
            SyntaxKind::MATCH_ARM => {
                let in_pattern =
                    node.first_child().is_some_and(|p| p.text_range().contains_inclusive(at));
                return r.contains_inclusive(at) && !in_pattern;
            }
            _ => {}
        }
    }
    false
}

impl Analysis {
    /// After `#`: stored definitions whose hash starts with the digits typed (with their
    /// names), and the workspace's definitions (marked when the codebase does not have them:
    /// a `#hash` reference resolves only against the codebase). `None` when the cursor is not
    /// in a hash literal.
    fn hash_completions(
        &self,
        ctx: &FileCtx<'_>,
        offset: TextSize,
        store: Option<&dyn StoreInfo>,
    ) -> Option<Vec<CompletionItem>> {
        let token = ctx
            .root
            .token_at_offset(offset)
            .find(|t| t.kind() == SyntaxKind::HASH && t.text_range().start() < offset)?;
        let range = token.text_range();
        let Some(typed) = token.text().get(1..usize::from(offset - range.start())) else {
            return Some(Vec::new());
        };
        let typed = typed.to_ascii_lowercase();
        if !typed.chars().all(|c| matches!(c, '0'..='9' | 'a'..='v')) {
            return Some(Vec::new());
        }
        let wanted: fn(DefKind) -> bool = match token
            .parent()
            .map(|p| (p.kind(), p.parent().map(|g| g.kind())))
        {
            Some((SyntaxKind::HASH_EXPR, _)) => |k| k == DefKind::Fn,
            Some((SyntaxKind::HASH_REF, Some(SyntaxKind::EFFECT_ROW))) => |k| k == DefKind::Effect,
            Some((SyntaxKind::PERFORM_EXPR | SyntaxKind::HANDLER_CLAUSE, _)) => {
                |k| k == DefKind::Effect
            }
            Some((SyntaxKind::HASH_REF, _)) => {
                |k| matches!(k, DefKind::Type | DefKind::Enum | DefKind::Schema)
            }
            _ => |_| true,
        };
        // hash → (kind, stored names, workspace names)
        let mut found: std::collections::BTreeMap<CodeHash, (DefKind, Vec<String>, Vec<DefId>)> =
            Default::default();
        for (name, hash, kind) in store.map(|s| s.named_definitions()).unwrap_or_default() {
            if wanted(kind) && hash.to_base32hex().starts_with(&typed) {
                found.entry(hash).or_insert((kind, Vec::new(), Vec::new())).1.push(name);
            }
        }
        let hashes = queries::project_hashes(ctx.db, ctx.project);
        let map = queries::module_def_map(
            ctx.db,
            ModuleLoc::new(ctx.db, ctx.project, ctx.module.clone()),
        );
        let mut defs: Vec<(&DefId, &CodeHash)> = hashes.iter().collect();
        defs.sort();
        for (def, hash) in defs {
            let Some(kind) = self.def_kind_of(ctx, &map, def) else { continue };
            if def.module != PRELUDE_MODULE
                && wanted(kind)
                && hash.to_base32hex().starts_with(&typed)
            {
                found.entry(*hash).or_insert((kind, Vec::new(), Vec::new())).2.push(def.clone());
            }
        }
        let width = typed.len().max(8);
        let mut stored = Vec::new();
        let mut unstored = Vec::new();
        for (hash, (kind, names, defs)) in found {
            let label = format!("#{}", hash.prefix_str(width));
            let in_store = !names.is_empty();
            let shown_name = names
                .first()
                .cloned()
                .or_else(|| defs.first().map(|d| d.qualified().to_string()))
                .unwrap_or_default();
            let sig = if in_store {
                ctx.hir().signature(&DefRef::Hash(hash))
            } else {
                defs.first().and_then(|d| ctx.hir().signature(&DefRef::Def(d.clone())))
            };
            let short_name = shown_name.rsplit("::").next().unwrap_or(&shown_name).to_owned();
            let mut all: Vec<String> = names;
            for d in &defs {
                let q = d.qualified().to_string();
                if !all.contains(&q) {
                    all.push(q);
                }
            }
            let label_detail = if in_store {
                all.join(", ")
            } else {
                format!(
                    "{} · not in the codebase (store it to refer to it by hash)",
                    all.join(", ")
                )
            };
            let item = CompletionItem {
                insert: label.clone(),
                label,
                kind: CompletionKind::Hash,
                detail: Some(match sig.as_deref() {
                    Some(sig) => render::signature(&short_name, sig),
                    None => format!("{} {short_name}", kind.as_str()),
                }),
                label_detail: Some(label_detail),
                hash: Some(hash),
                documentation: Some(format!("`{}`", hash.to_base32hex())),
                range,
            };
            if in_store { stored.push(item) } else { unstored.push(item) }
        }
        stored.extend(unstored);
        stored.truncate(MAX_HASHES);
        Some(stored)
    }

    fn def_kind_of(&self, ctx: &FileCtx<'_>, map: &DefMap, def: &DefId) -> Option<DefKind> {
        if let Some(info) = map.item(def) {
            return Some(info.kind);
        }
        let file = queries::module_file(ctx.db, ctx.project, &def.module)?;
        let tree = queries::item_tree(ctx.db, file);
        tree.item_by_name(&def.name).map(|(_, i)| i.def_kind())
    }
}
