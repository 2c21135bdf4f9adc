//! Name resolution across the project: what each name means in each module.
//!
//! [`DefMap::build`] looks only at item trees (names, kinds, visibility, `use`s), never at
//! signatures or bodies, so it stays equal while a user edits inside definitions.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use smol_str::SmolStr;
use tel_hash::core::{Builtin, DefKind};

use crate::diagnostics::{Anchored, codes};
use crate::item_tree::{ItemAnchor, ItemKind, ItemPart, ItemTree, Visibility};
use crate::ty::{DefId, DefRef, ModuleName, PRELUDE_MODULE, kind_name};
use crate::type_ref::Path;

/// Identifies a file for diagnostics; chosen by the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// One module of the project, as handed to [`DefMap::build`].
#[derive(Clone, Debug)]
pub struct ModuleInput {
    pub file: FileId,
    /// From `module a::b`, else the file stem (the caller decides).
    pub name: ModuleName,
    pub item_tree: Arc<ItemTree>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DefMap {
    modules: BTreeMap<ModuleName, ModuleData>,
    diagnostics: Vec<(FileId, Anchored<ItemAnchor>)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleData {
    pub file: FileId,
    /// The module's own items (the first of each name).
    pub items: BTreeMap<SmolStr, ItemInfo>,
    pub scope: ModuleScope,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemInfo {
    pub kind: DefKind,
    pub visibility: Visibility,
    /// Variant names, for an enum.
    pub variants: Vec<SmolStr>,
    /// A `type` that is a transparent alias (not a record).
    pub is_alias: bool,
}

/// What names mean inside one module (besides locals, the prelude and builtins).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModuleScope {
    /// Own items, imported items and imported modules.
    pub names: BTreeMap<SmolStr, ScopeEntry>,
    /// Bare variant names of the enums in scope; more than one candidate is ambiguous.
    pub variants: BTreeMap<SmolStr, Vec<VariantRef>>,
    /// Modules this one depends on through `use` (qualified paths may only name these).
    pub imported_modules: BTreeSet<ModuleName>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopeEntry {
    Item(DefId, DefKind),
    Module(ModuleName),
}

/// Who owns a variant: a user enum, or the builtin option type (`Some` = 0, `None` = 1).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VariantOwner {
    Enum(DefRef),
    Option,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VariantRef {
    pub owner: VariantOwner,
    pub index: u32,
    pub name: SmolStr,
}

impl VariantRef {
    pub fn some() -> VariantRef {
        VariantRef { owner: VariantOwner::Option, index: 0, name: "Some".into() }
    }
    pub fn none() -> VariantRef {
        VariantRef { owner: VariantOwner::Option, index: 1, name: "None".into() }
    }
}

/// What kind of thing a path is expected to name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ns {
    /// Types, enums, schemas, builtin types.
    Type,
    /// Functions, variants, builtin functions.
    Value,
    Effect,
}

impl Ns {
    fn describe(self) -> &'static str {
        match self {
            Ns::Type => "a type",
            Ns::Value => "a value",
            Ns::Effect => "an effect",
        }
    }

    fn admits(self, kind: DefKind) -> bool {
        match self {
            Ns::Type => matches!(kind, DefKind::Type | DefKind::Enum | DefKind::Schema),
            Ns::Value => kind == DefKind::Fn,
            Ns::Effect => kind == DefKind::Effect,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuiltinType {
    Int,
    Bool,
    String,
    Duration,
    Hash,
    List,
    Map,
}

impl BuiltinType {
    pub fn from_name(name: &str) -> Option<BuiltinType> {
        Some(match name {
            "Int" => BuiltinType::Int,
            "Bool" => BuiltinType::Bool,
            "String" => BuiltinType::String,
            "Duration" => BuiltinType::Duration,
            "Hash" => BuiltinType::Hash,
            "List" => BuiltinType::List,
            "Map" => BuiltinType::Map,
            _ => return None,
        })
    }

    /// How many type arguments it takes.
    pub fn arity(self) -> usize {
        match self {
            BuiltinType::List => 1,
            BuiltinType::Map => 2,
            _ => 0,
        }
    }
}

/// What a path names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Resolution {
    Def(DefRef, DefKind),
    Variant(VariantRef),
    Builtin(Builtin),
    BuiltinType(BuiltinType),
    Module(ModuleName),
}

/// Why a path does not resolve. [`ResolveError::message`] says it for a person.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ResolveError {
    Unknown { name: SmolStr, ns: Ns, in_module: Option<ModuleName> },
    UnknownModule { module: SmolStr },
    NotImported { module: ModuleName },
    Private { def: DefId },
    AmbiguousVariant { name: SmolStr, owners: Vec<SmolStr> },
    NoSuchVariant { owner: SmolStr, name: SmolStr },
    WrongKind { name: SmolStr, found: &'static str, expected: Ns },
}

impl ResolveError {
    pub fn message(&self) -> String {
        match self {
            ResolveError::Unknown { name, ns, in_module: None } => {
                format!("cannot find {} `{name}` in this scope", ns_noun(*ns))
            }
            ResolveError::Unknown { name, ns, in_module: Some(m) } => {
                format!("module `{m}` has no {} `{name}`", ns_noun(*ns))
            }
            ResolveError::UnknownModule { module } => format!("no module named `{module}`"),
            ResolveError::NotImported { module } => {
                format!("module `{module}` is not imported here; add `use {module}`")
            }
            ResolveError::Private { def } => {
                format!(
                    "`{}` is private to module `{}`; mark it `pub` to use it here",
                    def.name, def.module
                )
            }
            ResolveError::AmbiguousVariant { name, owners } => format!(
                "variant `{name}` is ambiguous: it exists in {}; qualify it, e.g. `{}::{name}`",
                owners.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(" and "),
                owners[0]
            ),
            ResolveError::NoSuchVariant { owner, name } => {
                format!("enum `{owner}` has no variant `{name}`")
            }
            ResolveError::WrongKind { name, found, expected } => {
                format!("expected {}, found {found} `{name}`", expected.describe())
            }
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ResolveError::Unknown { .. } | ResolveError::NoSuchVariant { .. } => {
                codes::UNKNOWN_NAME
            }
            ResolveError::UnknownModule { .. } => codes::UNKNOWN_MODULE,
            ResolveError::NotImported { .. } => codes::MODULE_NOT_IMPORTED,
            ResolveError::Private { .. } => codes::PRIVATE_ITEM,
            ResolveError::AmbiguousVariant { .. } => codes::AMBIGUOUS_VARIANT,
            ResolveError::WrongKind { .. } => codes::WRONG_KIND,
        }
    }
}

fn ns_noun(ns: Ns) -> &'static str {
    match ns {
        Ns::Type => "type",
        Ns::Value => "value",
        Ns::Effect => "effect",
    }
}

impl DefMap {
    /// Builds every module's scope. The prelude module (named [`PRELUDE_MODULE`]) is expected
    /// among `modules`; its public items are visible everywhere.
    pub fn build(modules: &[ModuleInput]) -> DefMap {
        let mut diagnostics = Vec::new();
        let mut map: BTreeMap<ModuleName, ModuleData> = BTreeMap::new();
        let mut trees: BTreeMap<ModuleName, &ModuleInput> = BTreeMap::new();

        // Own items first: imports need every module's item table.
        let mut ordered: Vec<&ModuleInput> = modules.iter().collect();
        ordered.sort_by_key(|m| m.file);
        for input in ordered {
            if trees.contains_key(&input.name) {
                diagnostics.push((
                    input.file,
                    Anchored::error(
                        ItemAnchor::ModuleDecl,
                        codes::DUPLICATE_MODULE,
                        format!("module `{}` is defined by more than one file", input.name),
                    ),
                ));
                continue;
            }
            trees.insert(input.name.clone(), input);
            let mut items: BTreeMap<SmolStr, ItemInfo> = BTreeMap::new();
            for (id, item) in input.item_tree.items.iter() {
                if items.contains_key(&item.name) {
                    diagnostics.push((
                        input.file,
                        Anchored::error(
                            ItemAnchor::Item(id, ItemPart::Name),
                            codes::DUPLICATE_DEFINITION,
                            format!(
                                "`{}` is defined more than once in module `{}`",
                                item.name, input.name
                            ),
                        ),
                    ));
                    continue;
                }
                let variants = match &item.kind {
                    ItemKind::Enum(vs) => vs.iter().map(|v| v.name.clone()).collect(),
                    _ => Vec::new(),
                };
                let is_alias = matches!(&item.kind, ItemKind::Type(t)
                    if !matches!(item.type_refs[*t], crate::type_ref::TypeRef::Record(_)));
                items.insert(
                    item.name.clone(),
                    ItemInfo {
                        kind: item.def_kind(),
                        visibility: item.visibility,
                        variants,
                        is_alias,
                    },
                );
            }
            map.insert(
                input.name.clone(),
                ModuleData { file: input.file, items, scope: ModuleScope::default() },
            );
        }

        // Scopes: own items, then imports.
        let mut scopes: BTreeMap<ModuleName, ModuleScope> = BTreeMap::new();
        for (name, input) in &trees {
            let scope = build_scope(name, input, &map, &mut diagnostics);
            scopes.insert(name.clone(), scope);
        }
        for (name, scope) in scopes {
            map.get_mut(&name).expect("built above").scope = scope;
        }

        report_cycles(&trees, &map, &mut diagnostics);
        diagnostics.sort_by_key(|(file, _)| *file);
        DefMap { modules: map, diagnostics }
    }

    pub fn module(&self, name: &str) -> Option<&ModuleData> {
        self.modules.get(name)
    }

    pub fn modules(&self) -> impl Iterator<Item = (&ModuleName, &ModuleData)> {
        self.modules.iter()
    }

    /// Diagnostics about modules, imports and duplicate definitions, by file.
    pub fn diagnostics(&self) -> &[(FileId, Anchored<ItemAnchor>)] {
        &self.diagnostics
    }

    pub fn item(&self, def: &DefId) -> Option<&ItemInfo> {
        self.modules.get(&def.module)?.items.get(&def.name)
    }

    /// Resolves `path` as seen from inside `module`, looking for something of namespace `ns`.
    /// Locals are not considered (bodies resolve those first).
    pub fn resolve_path(
        &self,
        module: &str,
        path: &Path,
        ns: Ns,
    ) -> Result<Resolution, ResolveError> {
        match path.segments.as_slice() {
            [] => Err(ResolveError::Unknown { name: SmolStr::default(), ns, in_module: None }),
            [name] => self.resolve_single(module, name, ns),
            [prefix @ .., last] => match self.resolve_prefix(module, prefix)? {
                Prefix::Module(m) => self.resolve_in_module(module, &m, last, ns),
                Prefix::Enum(def) => self.resolve_variant_of(&def, last, ns),
            },
        }
    }

    fn resolve_single(
        &self,
        module: &str,
        name: &SmolStr,
        ns: Ns,
    ) -> Result<Resolution, ResolveError> {
        let scope = self.modules.get(module).map(|m| &m.scope);
        let mut wrong_kind = None;
        if let Some(entry) = scope.and_then(|s| s.names.get(name)) {
            match entry {
                ScopeEntry::Item(def, kind) if ns.admits(*kind) => {
                    return Ok(Resolution::Def(DefRef::Def(def.clone()), *kind));
                }
                ScopeEntry::Item(_, kind) => wrong_kind = Some(kind_name(*kind)),
                ScopeEntry::Module(_) => wrong_kind = Some("module"),
            }
        }
        if ns == Ns::Value {
            if let Some(cands) = scope.and_then(|s| s.variants.get(name)) {
                return self.pick_variant(name, cands);
            }
            match name.as_str() {
                "Some" => return Ok(Resolution::Variant(VariantRef::some())),
                "None" => return Ok(Resolution::Variant(VariantRef::none())),
                _ => {}
            }
        }
        if module != PRELUDE_MODULE
            && let Some(info) = self.modules.get(PRELUDE_MODULE).and_then(|p| p.items.get(name))
            && info.visibility == Visibility::Public
        {
            if ns.admits(info.kind) {
                return Ok(Resolution::Def(DefRef::Def(DefId::prelude(name)), info.kind));
            }
            wrong_kind.get_or_insert(kind_name(info.kind));
        }
        match ns {
            Ns::Value => {
                if let Some(b) = Builtin::from_name(name) {
                    return Ok(Resolution::Builtin(b));
                }
            }
            Ns::Type => {
                if let Some(t) = BuiltinType::from_name(name) {
                    return Ok(Resolution::BuiltinType(t));
                }
            }
            Ns::Effect => {}
        }
        if wrong_kind.is_none() && ns != Ns::Type && BuiltinType::from_name(name).is_some() {
            wrong_kind = Some("type");
        }
        if wrong_kind.is_none() && ns != Ns::Value {
            let is_variant = scope.is_some_and(|s| s.variants.contains_key(name))
                || name == "Some"
                || name == "None";
            if is_variant {
                wrong_kind = Some("variant");
            } else if Builtin::from_name(name).is_some() {
                wrong_kind = Some("function");
            }
        }
        match wrong_kind {
            Some(found) => Err(ResolveError::WrongKind { name: name.clone(), found, expected: ns }),
            None => Err(ResolveError::Unknown { name: name.clone(), ns, in_module: None }),
        }
    }

    fn pick_variant(
        &self,
        name: &SmolStr,
        cands: &[VariantRef],
    ) -> Result<Resolution, ResolveError> {
        match cands {
            [one] => Ok(Resolution::Variant(one.clone())),
            _ => Err(ResolveError::AmbiguousVariant {
                name: name.clone(),
                owners: cands
                    .iter()
                    .map(|v| match &v.owner {
                        VariantOwner::Enum(d) => SmolStr::from(d.display_name()),
                        VariantOwner::Option => SmolStr::new_static("Option"),
                    })
                    .collect(),
            }),
        }
    }

    fn resolve_prefix(&self, module: &str, prefix: &[SmolStr]) -> Result<Prefix, ResolveError> {
        let scope = self.modules.get(module).map(|m| &m.scope);
        if let [single] = prefix {
            match scope.and_then(|s| s.names.get(single)) {
                Some(ScopeEntry::Module(m)) => return Ok(Prefix::Module(m.clone())),
                Some(ScopeEntry::Item(def, DefKind::Enum)) => return Ok(Prefix::Enum(def.clone())),
                Some(ScopeEntry::Item(def, kind)) => {
                    return Err(ResolveError::WrongKind {
                        name: def.name.clone(),
                        found: kind_name(*kind),
                        expected: Ns::Type,
                    });
                }
                None => {}
            }
        }
        let full: SmolStr = Path { segments: prefix.to_vec() }.to_string().into();
        if self.modules.contains_key(&full) {
            let allowed = full == module
                || full == PRELUDE_MODULE
                || scope.is_some_and(|s| s.imported_modules.contains(&full));
            return if allowed {
                Ok(Prefix::Module(full))
            } else {
                Err(ResolveError::NotImported { module: full })
            };
        }
        if let [single] = prefix {
            // An enum of the prelude or an unknown name.
            if let Ok(Resolution::Def(DefRef::Def(def), DefKind::Enum)) =
                self.resolve_single(module, single, Ns::Type)
            {
                return Ok(Prefix::Enum(def));
            }
            return Err(ResolveError::Unknown {
                name: single.clone(),
                ns: Ns::Type,
                in_module: None,
            });
        }
        match self.resolve_prefix(module, &prefix[..prefix.len() - 1])? {
            Prefix::Module(m) => {
                match self.resolve_in_module(module, &m, &prefix[prefix.len() - 1], Ns::Type)? {
                    Resolution::Def(DefRef::Def(def), DefKind::Enum) => Ok(Prefix::Enum(def)),
                    _ => Err(ResolveError::UnknownModule { module: full }),
                }
            }
            Prefix::Enum(_) => Err(ResolveError::UnknownModule { module: full }),
        }
    }

    fn resolve_in_module(
        &self,
        from: &str,
        target: &str,
        name: &SmolStr,
        ns: Ns,
    ) -> Result<Resolution, ResolveError> {
        let data = self
            .modules
            .get(target)
            .ok_or_else(|| ResolveError::UnknownModule { module: target.into() })?;
        let Some(info) = data.items.get(name) else {
            return Err(ResolveError::Unknown {
                name: name.clone(),
                ns,
                in_module: Some(target.into()),
            });
        };
        let def = DefId::new(target, name.clone());
        if info.visibility == Visibility::Private && from != target {
            return Err(ResolveError::Private { def });
        }
        if !ns.admits(info.kind) {
            return Err(ResolveError::WrongKind {
                name: name.clone(),
                found: kind_name(info.kind),
                expected: ns,
            });
        }
        Ok(Resolution::Def(DefRef::Def(def), info.kind))
    }

    fn resolve_variant_of(
        &self,
        def: &DefId,
        name: &SmolStr,
        ns: Ns,
    ) -> Result<Resolution, ResolveError> {
        let variants = self.item(def).map(|i| i.variants.as_slice()).unwrap_or(&[]);
        let Some(index) = variants.iter().position(|v| v == name) else {
            return Err(ResolveError::NoSuchVariant {
                owner: def.name.clone(),
                name: name.clone(),
            });
        };
        if ns != Ns::Value {
            return Err(ResolveError::WrongKind {
                name: name.clone(),
                found: "variant",
                expected: ns,
            });
        }
        Ok(Resolution::Variant(VariantRef {
            owner: VariantOwner::Enum(DefRef::Def(def.clone())),
            index: index as u32,
            name: name.clone(),
        }))
    }
}

enum Prefix {
    Module(ModuleName),
    Enum(DefId),
}

fn build_scope(
    name: &ModuleName,
    input: &ModuleInput,
    map: &BTreeMap<ModuleName, ModuleData>,
    diagnostics: &mut Vec<(FileId, Anchored<ItemAnchor>)>,
) -> ModuleScope {
    let mut scope = ModuleScope::default();
    let own = &map[name];
    for (item_name, info) in &own.items {
        scope.names.insert(
            item_name.clone(),
            ScopeEntry::Item(DefId::new(name.clone(), item_name.clone()), info.kind),
        );
        add_variants(&mut scope, &DefId::new(name.clone(), item_name.clone()), info);
    }
    let tree = &input.item_tree;
    for (use_id, use_decl) in tree.uses.iter() {
        let module_path: SmolStr = use_decl.module.to_string().into();
        for (i, use_name) in use_decl.names.iter().enumerate() {
            let anchor = ItemAnchor::UseName(use_id, i as u32);
            let local = use_name.local_name().clone();
            // `use a::b`: item `b` of module `a`, else module `a::b` itself.
            let as_module: SmolStr = if module_path.is_empty() {
                use_name.name.clone()
            } else {
                format!("{module_path}::{}", use_name.name).into()
            };
            let entry = match map.get(&module_path) {
                Some(target) if target.items.contains_key(&use_name.name) => {
                    let info = &target.items[&use_name.name];
                    let def = DefId::new(module_path.clone(), use_name.name.clone());
                    if info.visibility == Visibility::Private && module_path != *name {
                        diagnostics.push((
                            input.file,
                            Anchored::error(
                                anchor,
                                codes::PRIVATE_ITEM,
                                ResolveError::Private { def }.message(),
                            ),
                        ));
                        continue;
                    }
                    scope.imported_modules.insert(module_path.clone());
                    add_variants(&mut scope, &def, info);
                    ScopeEntry::Item(def, info.kind)
                }
                _ if map.contains_key(&as_module) => {
                    scope.imported_modules.insert(as_module.clone());
                    ScopeEntry::Module(as_module)
                }
                Some(_) => {
                    diagnostics.push((
                        input.file,
                        Anchored::error(
                            anchor,
                            codes::UNKNOWN_NAME,
                            format!("module `{module_path}` has no item `{}`", use_name.name),
                        ),
                    ));
                    continue;
                }
                None => {
                    let missing =
                        if module_path.is_empty() { as_module } else { module_path.clone() };
                    let anchor =
                        if module_path.is_empty() { anchor } else { ItemAnchor::UseModule(use_id) };
                    diagnostics.push((
                        input.file,
                        Anchored::error(
                            anchor,
                            codes::UNKNOWN_MODULE,
                            format!("no module named `{missing}`"),
                        ),
                    ));
                    continue;
                }
            };
            if let Some(existing) = scope.names.get(&local) {
                let what = match existing {
                    ScopeEntry::Item(def, _) if def.module == *name => "defined in this module",
                    _ => "already imported",
                };
                diagnostics.push((
                    input.file,
                    Anchored::error(
                        anchor,
                        codes::DUPLICATE_DEFINITION,
                        format!("`{local}` is {what}; import it under another name with `as`"),
                    ),
                ));
                continue;
            }
            scope.names.insert(local, entry);
        }
    }
    for cands in scope.variants.values_mut() {
        cands.sort();
        cands.dedup();
    }
    scope
}

fn add_variants(scope: &mut ModuleScope, def: &DefId, info: &ItemInfo) {
    for (i, v) in info.variants.iter().enumerate() {
        scope.variants.entry(v.clone()).or_default().push(VariantRef {
            owner: VariantOwner::Enum(DefRef::Def(def.clone())),
            index: i as u32,
            name: v.clone(),
        });
    }
}

/// Reports every `use` that closes a cycle in the module import graph, naming the cycle.
fn report_cycles(
    trees: &BTreeMap<ModuleName, &ModuleInput>,
    map: &BTreeMap<ModuleName, ModuleData>,
    diagnostics: &mut Vec<(FileId, Anchored<ItemAnchor>)>,
) {
    // Edges in a deterministic order, each with the `use` that makes it.
    let mut edges: BTreeMap<&ModuleName, Vec<(ModuleName, crate::item_tree::UseId)>> =
        BTreeMap::new();
    for (name, input) in trees {
        let mut out = Vec::new();
        let scope = &map[name.as_str()].scope;
        for (use_id, use_decl) in input.item_tree.uses.iter() {
            let module_path: SmolStr = use_decl.module.to_string().into();
            for use_name in &use_decl.names {
                let as_module: SmolStr = if module_path.is_empty() {
                    use_name.name.clone()
                } else {
                    format!("{module_path}::{}", use_name.name).into()
                };
                let target = if map
                    .get(&module_path)
                    .is_some_and(|m| m.items.contains_key(&use_name.name))
                {
                    module_path.clone()
                } else if map.contains_key(&as_module) {
                    as_module
                } else {
                    continue;
                };
                if scope.imported_modules.contains(&target) || target == *name {
                    out.push((target, use_id));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out.dedup_by(|a, b| a.0 == b.0);
        edges.insert(name, out);
    }
    let sccs = tarjan(&edges);
    for scc in sccs {
        let members: BTreeSet<&ModuleName> = scc.iter().copied().collect();
        let self_loop = scc.len() == 1 && edges[scc[0]].iter().any(|(t, _)| t == scc[0]);
        if scc.len() < 2 && !self_loop {
            continue;
        }
        // For each module in the cycle, the first `use` that stays inside it, with a concrete
        // cycle through that edge for the message.
        for &module in &scc {
            let Some((next, use_id)) = edges[module].iter().find(|(t, _)| members.contains(t))
            else {
                continue;
            };
            let mut cycle = vec![module.clone()];
            cycle.extend(path_back(&edges, &members, next, module));
            let text = cycle.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(" → ");
            diagnostics.push((
                trees[module].file,
                Anchored::error(
                    ItemAnchor::Use(*use_id),
                    codes::CYCLIC_USE,
                    format!("cyclic `use` between modules: {text}"),
                ),
            ));
        }
    }
}

/// A shortest path from `from` to `to` inside `members` (breadth first), ending with `to`.
fn path_back(
    edges: &BTreeMap<&ModuleName, Vec<(ModuleName, crate::item_tree::UseId)>>,
    members: &BTreeSet<&ModuleName>,
    from: &ModuleName,
    to: &ModuleName,
) -> Vec<ModuleName> {
    let mut prev: BTreeMap<ModuleName, ModuleName> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([from.clone()]);
    let mut seen = BTreeSet::from([from.clone()]);
    while let Some(m) = queue.pop_front() {
        if m == *to {
            break;
        }
        for (t, _) in edges.get(&m).map(Vec::as_slice).unwrap_or(&[]) {
            if members.contains(t) && seen.insert(t.clone()) {
                prev.insert(t.clone(), m.clone());
                queue.push_back(t.clone());
            }
        }
    }
    let mut path = vec![to.clone()];
    let mut cur = to.clone();
    while cur != *from {
        match prev.get(&cur) {
            Some(p) => {
                cur = p.clone();
                path.push(cur.clone());
            }
            None => break,
        }
    }
    path.reverse();
    path
}

/// Strongly connected components, each sorted, in a deterministic order.
fn tarjan<'a>(
    edges: &BTreeMap<&'a ModuleName, Vec<(ModuleName, crate::item_tree::UseId)>>,
) -> Vec<Vec<&'a ModuleName>> {
    struct State<'a> {
        index: BTreeMap<&'a ModuleName, usize>,
        low: BTreeMap<&'a ModuleName, usize>,
        stack: Vec<&'a ModuleName>,
        on_stack: BTreeSet<&'a ModuleName>,
        next: usize,
        out: Vec<Vec<&'a ModuleName>>,
    }
    fn visit<'a>(
        v: &'a ModuleName,
        edges: &BTreeMap<&'a ModuleName, Vec<(ModuleName, crate::item_tree::UseId)>>,
        st: &mut State<'a>,
    ) {
        st.index.insert(v, st.next);
        st.low.insert(v, st.next);
        st.next += 1;
        st.stack.push(v);
        st.on_stack.insert(v);
        for (w, _) in &edges[v] {
            let Some((&w, _)) = edges.get_key_value(w) else { continue };
            if !st.index.contains_key(w) {
                visit(w, edges, st);
                let lw = st.low[w];
                let lv = st.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if st.on_stack.contains(w) {
                let iw = st.index[w];
                let lv = st.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if st.low[v] == st.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = st.stack.pop() {
                st.on_stack.remove(w);
                comp.push(w);
                if w == v {
                    break;
                }
            }
            comp.sort();
            st.out.push(comp);
        }
    }
    let mut st = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for &v in edges.keys() {
        if !st.index.contains_key(v) {
            visit(v, edges, &mut st);
        }
    }
    st.out.sort();
    st.out
}
