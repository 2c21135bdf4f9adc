//! What a name in the text means, where that is defined, and where it is used: the one place
//! hover, go to definition, references, highlight and rename ask.
//!
//! Classification works on identifier tokens: it finds the top-level item around the token,
//! then reads the token's place in the tree. Names in bodies are answered by the body's
//! inference (which knows locals); names in signatures, `use`, patterns, `perform` and
//! handlers by the module's def map. Both shapes of paths are understood: segments as
//! `NAME_REF` nodes under a `PATH`, or as identifier tokens directly under `PATH`,
//! `PATH_EXPR` and `PATH_TYPE`.

use smol_str::SmolStr;
use tel_hash::core::{Builtin, DefKind};
use tel_hir::body::{BindingId, Expr};
use tel_hir::def_map::{BuiltinType, VariantOwner, VariantRef};
use tel_hir::type_ref::Path;
use tel_hir::{DefId, DefRef, HirDatabase, Ns, Res, Resolution};
use tel_syntax::{SyntaxKind, SyntaxNode, SyntaxToken, TextRange, TextSize};

use crate::db::{Project, RootDatabase, SourceFile, parse};
use crate::queries::{self, DefLoc, HirDb, ModuleLoc};
use crate::{Analysis, Cancellable, FileId};

/// Something a name can mean.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// A definition of the project or the prelude, or a stored one named by hash.
    Def(DefRef, DefKind),
    /// A parameter or local of a definition's body.
    Local {
        owner: DefId,
        binding: BindingId,
        name: SmolStr,
    },
    /// An enum variant (or `Some`/`None`).
    Variant(VariantRef),
    /// A builtin function (`show`, `len`, …).
    Builtin(Builtin),
    /// A builtin type (`Int`, `List`, …).
    BuiltinType(SmolStr),
    Module(SmolStr),
}

/// A name at a place in a file and what it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub target: Target,
    /// The identifier (or hash literal) itself.
    pub range: TextRange,
    /// Whether this is where the target is defined rather than used.
    pub is_definition: bool,
}

/// A range in a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileRange {
    pub file: FileId,
    pub range: TextRange,
}

/// A place that names a target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Reference {
    pub file: FileId,
    pub range: TextRange,
    pub is_definition: bool,
}

/// Where a target is defined: its name, and the whole declaration around it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NavTarget {
    pub file: FileId,
    pub name_range: TextRange,
    pub full_range: TextRange,
}

/// One file seen from its project: what classification needs at hand.
pub(crate) struct FileCtx<'a> {
    pub db: &'a RootDatabase,
    pub file: FileId,
    pub input: SourceFile,
    pub project: Project,
    pub module: SmolStr,
    pub root: SyntaxNode,
}

impl<'a> FileCtx<'a> {
    pub fn new(analysis: &Analysis, db: &'a RootDatabase, file: FileId) -> FileCtx<'a> {
        let entry = analysis.entry(file);
        let (input, project) = (entry.input, entry.project);
        FileCtx {
            db,
            file,
            input,
            project,
            module: queries::module_name(db, input),
            root: parse(db, input).syntax_node(),
        }
    }

    pub fn def_loc(&self, def: DefId) -> DefLoc<'a> {
        DefLoc::new(self.db, self.project, def)
    }

    pub fn hir(&self) -> HirDb<'a> {
        HirDb::new(self.db, self.project, &self.module)
    }

    fn resolve(&self, path: &Path, ns: Ns) -> Option<Target> {
        let map = queries::module_def_map(
            self.db,
            ModuleLoc::new(self.db, self.project, self.module.clone()),
        );
        map.resolve_path(&self.module, path, ns).ok().map(from_resolution)
    }

    /// The first of `Value`, `Type`, `Effect` in which `path` means something.
    fn resolve_any(&self, path: &Path) -> Option<Target> {
        [Ns::Value, Ns::Type, Ns::Effect].into_iter().find_map(|ns| self.resolve(path, ns))
    }

    fn is_module(&self, name: &str) -> bool {
        self.project.layout(self.db).defines(name)
    }

    /// The identifier (or hash) token at `offset`: on a boundary between two tokens, the one
    /// that is a name.
    pub fn token_at(&self, offset: TextSize) -> Option<SyntaxToken> {
        if offset > self.root.text_range().end() {
            return None;
        }
        self.root.token_at_offset(offset).max_by_key(|t| match t.kind() {
            SyntaxKind::IDENT | SyntaxKind::HASH => 2,
            k if k.is_trivia() => 0,
            _ => 1,
        })
    }

    pub fn classify(&self, token: &SyntaxToken) -> Option<Found> {
        let range = token.text_range();
        let found = |target, is_definition| Some(Found { target, range, is_definition });
        if token.kind() == SyntaxKind::HASH {
            return found(self.classify_hash(token.text())?, false);
        }
        if token.kind() != SyntaxKind::IDENT {
            return None;
        }
        let item = top_level_item(token)?;
        let parent = token.parent()?;
        // The item's own name.
        if parent.kind() == SyntaxKind::NAME && parent.parent().as_ref() == Some(&item) {
            let def = self.item_def(&item)?;
            let kind = item_kind(&item)?;
            return found(Target::Def(DefRef::Def(def), kind), true);
        }
        // A binder of the item's body (parameter, `let`, pattern, lambda or clause parameter).
        let owner = self.item_def(&item);
        if let Some(owner) = &owner
            && let Some((body, sm)) =
                queries::body_with_source_map(self.db, self.def_loc(owner.clone()))
        {
            let binder = sm.bindings.iter().find(|(_, r)| r.contains_range(range));
            if let Some((b, _)) = binder {
                let name = body.bindings[b].name.clone();
                return found(Target::Local { owner: owner.clone(), binding: b, name }, true);
            }
        }
        match parent.kind() {
            SyntaxKind::NAME => {
                let target = self.classify_name(&parent, owner)?;
                found(target, true)
            }
            SyntaxKind::NAME_REF => {
                let container = parent.parent()?;
                match container.kind() {
                    SyntaxKind::PATH => {
                        found(self.classify_segment(token, &container, owner)?, false)
                    }
                    SyntaxKind::USE_NAME => {
                        let use_item =
                            container.ancestors().find(|n| n.kind() == SyntaxKind::USE_ITEM)?;
                        let mut segments = path_segments(&use_path(&use_item)?);
                        segments.push(SmolStr::new(token.text()));
                        found(self.resolve_any(&Path { segments })?, false)
                    }
                    _ => None,
                }
            }
            SyntaxKind::PATH | SyntaxKind::PATH_EXPR | SyntaxKind::PATH_TYPE => {
                found(self.classify_segment(token, &parent, owner)?, false)
            }
            _ => None,
        }
    }

    /// The definition a top-level item node declares (the first item of its name only: a
    /// duplicate defines nothing).
    pub fn item_def(&self, item: &SyntaxNode) -> Option<DefId> {
        let name = item_name(item)?;
        let ptr = queries::item_ptrs(self.db, self.input).get(name.as_str())?;
        (ptr.text_range() == item.text_range()).then(|| DefId::new(self.module.clone(), name))
    }

    /// A `NAME` that is not an item's name nor a body's binder: an enum variant, a `use`
    /// alias.
    fn classify_name(&self, name: &SyntaxNode, owner: Option<DefId>) -> Option<Target> {
        let parent = name.parent()?;
        match parent.kind() {
            SyntaxKind::VARIANT => {
                let owner = owner?;
                let index = parent
                    .parent()?
                    .children()
                    .filter(|n| n.kind() == SyntaxKind::VARIANT)
                    .position(|v| v == parent)?;
                let text = name_text(name)?;
                Some(Target::Variant(VariantRef {
                    owner: VariantOwner::Enum(DefRef::Def(owner)),
                    index: index as u32,
                    name: text,
                }))
            }
            SyntaxKind::USE_NAME => {
                // `use m::{a as b}`: `b` means what `a` does.
                let imported = parent.children().find(|n| n.kind() == SyntaxKind::NAME_REF)?;
                let use_item = parent.ancestors().find(|n| n.kind() == SyntaxKind::USE_ITEM)?;
                let mut segments = path_segments(&use_path(&use_item)?);
                segments.push(name_text(&imported)?);
                self.resolve_any(&Path { segments })
            }
            _ => None,
        }
    }

    /// One segment of a path: a prefix names a module or an enum; the last segment is asked
    /// of the body's inference (in an expression) or of the def map.
    fn classify_segment(
        &self,
        token: &SyntaxToken,
        path: &SyntaxNode,
        owner: Option<DefId>,
    ) -> Option<Target> {
        let tokens = segment_tokens(path);
        let index = tokens.iter().position(|t| t == token)?;
        let segments: Vec<SmolStr> = tokens.iter().map(|t| SmolStr::new(t.text())).collect();
        let context = if path.kind() == SyntaxKind::PATH { path.parent()? } else { path.clone() };
        let joined = |n: usize| SmolStr::new(segments[..n].join("::"));
        let whole_is_module = match context.kind() {
            SyntaxKind::MODULE_DECL => true,
            SyntaxKind::USE_ITEM => context.children().any(|n| n.kind() == SyntaxKind::USE_TREE),
            _ => false,
        };
        let is_last = index + 1 == segments.len();
        if !is_last || whole_is_module {
            let prefix = joined(index + 1);
            if self.is_module(&prefix) || whole_is_module {
                return Some(Target::Module(prefix));
            }
            return self.resolve(&Path { segments: segments[..=index].to_vec() }, Ns::Type);
        }
        let path = Path { segments };
        match context.kind() {
            SyntaxKind::PATH_EXPR => {
                let owner = owner?;
                let loc = self.def_loc(owner.clone());
                let (body, sm) = queries::body_with_source_map(self.db, loc).as_ref()?;
                let expr = sm.expr_at(context.text_range())?;
                if let Expr::Local(b) = body.exprs[expr] {
                    let name = body.bindings[b].name.clone();
                    return Some(Target::Local { owner, binding: b, name });
                }
                let inferred = queries::infer(self.db, loc)?;
                Some(from_res(inferred.expr_res.get(&expr)?.clone(), owner))
            }
            SyntaxKind::PATH_TYPE => {
                let in_row = context.parent().is_some_and(|p| p.kind() == SyntaxKind::EFFECT_ROW);
                self.resolve(&path, if in_row { Ns::Effect } else { Ns::Type })
            }
            SyntaxKind::PERFORM_EXPR | SyntaxKind::HANDLER_CLAUSE => {
                self.resolve(&path, Ns::Effect)
            }
            SyntaxKind::RECORD_EXPR | SyntaxKind::RECORD_PAT => self.resolve(&path, Ns::Type),
            SyntaxKind::VARIANT_PAT => self.resolve(&path, Ns::Value),
            SyntaxKind::USE_ITEM => self.resolve_any(&path),
            _ => None,
        }
    }

    fn classify_hash(&self, text: &str) -> Option<Target> {
        let prefix = tel_hash::HashPrefix::parse(text).ok()?;
        let found = self.hir().resolve_hash(&prefix).ok()?;
        Some(Target::Def(DefRef::Hash(found.hash), found.kind))
    }

    /// The identifier tokens of the file that may name `target`: its name and the aliases
    /// `use` gives it here.
    pub fn candidate_tokens(&self, name: &str) -> Vec<SyntaxToken> {
        let mut names: Vec<SmolStr> = vec![SmolStr::new(name)];
        for node in self.root.descendants().filter(|n| n.kind() == SyntaxKind::USE_NAME) {
            let imported = node.children().find(|n| n.kind() == SyntaxKind::NAME_REF);
            let alias = node.children().find(|n| n.kind() == SyntaxKind::NAME);
            if let (Some(imported), Some(alias)) = (imported, alias)
                && name_text(&imported).as_deref() == Some(name)
                && let Some(alias) = name_text(&alias)
            {
                names.push(alias);
            }
        }
        self.root
            .descendants_with_tokens()
            .filter_map(|e| e.into_token())
            .filter(|t| t.kind() == SyntaxKind::IDENT && names.iter().any(|n| n == t.text()))
            .collect()
    }
}

/// The item node (a child of the file) around `token`.
pub(crate) fn top_level_item(token: &SyntaxToken) -> Option<SyntaxNode> {
    token
        .parent_ancestors()
        .find(|n| n.parent().is_some_and(|p| p.kind() == SyntaxKind::SOURCE_FILE))
}

/// The kind of definition an item node declares (`None` for `module` and `use`).
pub(crate) fn item_kind(item: &SyntaxNode) -> Option<DefKind> {
    Some(match item.kind() {
        SyntaxKind::FN_ITEM => DefKind::Fn,
        SyntaxKind::TYPE_ITEM => DefKind::Type,
        SyntaxKind::ENUM_ITEM => DefKind::Enum,
        SyntaxKind::EFFECT_ITEM => DefKind::Effect,
        SyntaxKind::SCHEMA_ITEM => DefKind::Schema,
        _ => return None,
    })
}

pub(crate) fn item_name(item: &SyntaxNode) -> Option<SmolStr> {
    name_text(&item.children().find(|n| n.kind() == SyntaxKind::NAME)?)
}

/// The identifier of a `NAME` or `NAME_REF`.
pub(crate) fn name_text(node: &SyntaxNode) -> Option<SmolStr> {
    node.children_with_tokens()
        .filter_map(|e| e.into_token())
        .find(|t| t.kind() == SyntaxKind::IDENT)
        .map(|t| SmolStr::new(t.text()))
}

/// A path's segment tokens, whether they sit directly under the path node or in `NAME_REF`s.
pub(crate) fn segment_tokens(path: &SyntaxNode) -> Vec<SyntaxToken> {
    let mut out = Vec::new();
    for child in path.children_with_tokens() {
        if let Some(t) = child.as_token().filter(|t| t.kind() == SyntaxKind::IDENT) {
            out.push(t.clone());
        } else if let Some(n) = child.as_node().filter(|n| n.kind() == SyntaxKind::NAME_REF)
            && let Some(t) = n
                .children_with_tokens()
                .filter_map(|e| e.into_token())
                .find(|t| t.kind() == SyntaxKind::IDENT)
        {
            out.push(t);
        }
    }
    out
}

fn path_segments(path: &SyntaxNode) -> Vec<SmolStr> {
    segment_tokens(path).iter().map(|t| SmolStr::new(t.text())).collect()
}

/// The module path of a `use` with a brace tree (`use a::{…}`: the whole path).
fn use_path(use_item: &SyntaxNode) -> Option<SyntaxNode> {
    use_item.children().find(|n| n.kind() == SyntaxKind::PATH)
}

fn from_resolution(r: Resolution) -> Target {
    match r {
        Resolution::Def(d, kind) => Target::Def(d, kind),
        Resolution::Variant(v) => Target::Variant(v),
        Resolution::Builtin(b) => Target::Builtin(b),
        Resolution::BuiltinType(t) => Target::BuiltinType(builtin_type_name(t).into()),
        Resolution::Module(m) => Target::Module(m),
    }
}

fn from_res(r: Res, owner: DefId) -> Target {
    match r {
        Res::Local(binding) => Target::Local { owner, binding, name: SmolStr::default() },
        Res::Def(d, kind) => Target::Def(d, kind),
        Res::Builtin(b) => Target::Builtin(b),
        Res::Variant(v) => Target::Variant(v),
    }
}

pub(crate) fn builtin_type_name(t: BuiltinType) -> &'static str {
    match t {
        BuiltinType::Int => "Int",
        BuiltinType::Bool => "Bool",
        BuiltinType::String => "String",
        BuiltinType::Duration => "Duration",
        BuiltinType::Hash => "Hash",
        BuiltinType::List => "List",
        BuiltinType::Map => "Map",
    }
}

impl Analysis {
    /// What the name at `offset` means.
    pub fn classify(&self, file: FileId, offset: TextSize) -> Cancellable<Option<Found>> {
        self.with_db(|db| {
            let ctx = FileCtx::new(self, db, file);
            ctx.token_at(offset).and_then(|t| ctx.classify(&t))
        })
    }

    /// The file of a definition of the project `file` belongs to.
    pub(crate) fn def_file(&self, db: &RootDatabase, file: FileId, def: &DefId) -> Option<FileId> {
        let project = self.entry(file).project;
        let input = queries::module_file(db, project, &def.module)?;
        self.table
            .files
            .iter()
            .position(|e| {
                e.input == input
                    && (e.project == project || e.path.as_os_str() == crate::PRELUDE_PATH)
            })
            .map(|i| FileId(i as u32))
    }

    /// Where `target` (found in `file`) is defined. Stored definitions, builtins and modules
    /// without a declaration have no place in the workspace.
    pub fn definition_of(&self, file: FileId, target: &Target) -> Cancellable<Option<NavTarget>> {
        self.with_db(|db| self.nav_target(db, file, target))
    }

    /// Where a definition of `file`'s project is declared.
    pub(crate) fn def_nav(
        &self,
        db: &RootDatabase,
        file: FileId,
        def: &DefId,
    ) -> Option<NavTarget> {
        let def_file = self.def_file(db, file, def)?;
        let (tree, map) = queries::item_tree_with_map(db, self.entry(def_file).input).clone();
        let (id, _) = tree.item_by_name(&def.name)?;
        let m = map.items.get(id)?;
        Some(NavTarget { file: def_file, name_range: m.name, full_range: m.range })
    }

    pub(crate) fn nav_target(
        &self,
        db: &RootDatabase,
        file: FileId,
        target: &Target,
    ) -> Option<NavTarget> {
        let item_nav = |def: &DefId| -> Option<(
            FileId,
            tel_hir::item_tree::LocalItemId,
            std::sync::Arc<tel_hir::ItemTreeSourceMap>,
        )> {
            let def_file = self.def_file(db, file, def)?;
            let (tree, map) = queries::item_tree_with_map(db, self.entry(def_file).input).clone();
            let (id, _) = tree.item_by_name(&def.name)?;
            Some((def_file, id, map))
        };
        match target {
            Target::Def(DefRef::Def(def), _) => self.def_nav(db, file, def),
            Target::Variant(VariantRef {
                owner: VariantOwner::Enum(DefRef::Def(def)),
                index,
                ..
            }) => {
                let (def_file, id, map) = item_nav(def)?;
                let m = map.items.get(id)?;
                let name_range = *m.members.get(*index as usize)?;
                Some(NavTarget { file: def_file, name_range, full_range: name_range })
            }
            Target::Local { owner, binding, .. } => {
                let def_file = self.def_file(db, file, owner)?;
                let project = self.entry(file).project;
                let loc = DefLoc::new(db, project, owner.clone());
                let (_, sm) = queries::body_with_source_map(db, loc).as_ref()?;
                let range = *sm.bindings.get(*binding)?;
                Some(NavTarget { file: def_file, name_range: range, full_range: range })
            }
            Target::Module(name) => {
                let project = self.entry(file).project;
                let input = queries::module_file(db, project, name)?;
                let def_file = self.table.files.iter().position(|e| e.input == input)?;
                let def_file = FileId(def_file as u32);
                let (_, map) = queries::item_tree_with_map(db, input).clone();
                let range = map.module_decl.unwrap_or_default();
                Some(NavTarget { file: def_file, name_range: range, full_range: range })
            }
            _ => None,
        }
    }

    /// Every place in the workspace that names `target` (found in `file`), definition
    /// included, in file then text order. A local is only looked for in its definition.
    pub fn references(&self, file: FileId, target: &Target) -> Cancellable<Vec<Reference>> {
        self.with_db(|db| {
            let files: Vec<FileId> = match target {
                Target::Local { owner, .. } => self.def_file(db, file, owner).into_iter().collect(),
                _ => self.project_files(file),
            };
            self.references_in(db, file, &files, target)
        })
    }

    /// The places in `files` that name `target` (found in `file`).
    pub(crate) fn references_in(
        &self,
        db: &RootDatabase,
        file: FileId,
        files: &[FileId],
        target: &Target,
    ) -> Vec<Reference> {
        let name: SmolStr = match target {
            Target::Def(DefRef::Def(d), _) => d.name.clone(),
            Target::Def(DefRef::Hash(_), _) => return self.hash_references(db, files, target),
            Target::Local { owner, binding, .. } => {
                let project = self.entry(file).project;
                let loc = DefLoc::new(db, project, owner.clone());
                match queries::body_with_source_map(db, loc) {
                    Some((body, _)) => body.bindings[*binding].name.clone(),
                    None => return Vec::new(),
                }
            }
            Target::Variant(v) => v.name.clone(),
            Target::Builtin(b) => SmolStr::new(b.name()),
            Target::BuiltinType(t) => t.clone(),
            Target::Module(m) => SmolStr::new(m.rsplit("::").next().unwrap_or(m)),
        };
        let mut out = Vec::new();
        for &f in files {
            let ctx = FileCtx::new(self, db, f);
            for token in ctx.candidate_tokens(&name) {
                if let Some(found) = ctx.classify(&token)
                    && same_target(&found.target, target)
                {
                    let is_definition = found.is_definition;
                    out.push(Reference { file: f, range: found.range, is_definition });
                }
            }
        }
        out
    }

    fn hash_references(
        &self,
        db: &RootDatabase,
        files: &[FileId],
        target: &Target,
    ) -> Vec<Reference> {
        let mut out = Vec::new();
        for &f in files {
            let ctx = FileCtx::new(self, db, f);
            for token in ctx.root.descendants_with_tokens().filter_map(|e| e.into_token()) {
                if token.kind() == SyntaxKind::HASH
                    && let Some(found) = ctx.classify(&token)
                    && found.target == *target
                {
                    out.push(Reference { file: f, range: found.range, is_definition: false });
                }
            }
        }
        out
    }

    /// The files of the project `file` belongs to (the prelude excluded).
    pub fn project_files(&self, file: FileId) -> Vec<FileId> {
        let project = self.entry(file).project;
        self.table
            .files
            .iter()
            .enumerate()
            .filter(|(i, e)| e.project == project && *i != 0)
            .map(|(i, _)| FileId(i as u32))
            .collect()
    }
}

/// Locals found through inference carry no name; compare them by owner and binding.
fn same_target(a: &Target, b: &Target) -> bool {
    match (a, b) {
        (
            Target::Local { owner: o1, binding: b1, .. },
            Target::Local { owner: o2, binding: b2, .. },
        ) => o1 == o2 && b1 == b2,
        _ => a == b,
    }
}
