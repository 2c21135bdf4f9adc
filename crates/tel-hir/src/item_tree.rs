//! The item tree: what a file declares, without bodies and without positions.
//!
//! Editing inside a function body (or moving items around by whitespace) leaves the item
//! tree equal, so everything computed from it (name resolution, signatures) stays valid.
//! Positions live in [`ItemTreeSourceMap`], built by the same walk.

use la_arena::{Arena, ArenaMap, Idx};
use smol_str::SmolStr;

use crate::diagnostics::{Anchored, TextRange};
use crate::type_ref::{Path, TypeRefAnchor, TypeRefId, TypeRefs};

pub type LocalItemId = Idx<Item>;
pub type UseId = Idx<UseDecl>;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemTree {
    /// The path of `module a::b`, if the file declares one.
    pub module_decl: Option<Path>,
    pub uses: Arena<UseDecl>,
    pub items: Arena<Item>,
    /// The first item of each name (later ones are duplicates): lookups by name are the
    /// engine's hot path, and a file may hold thousands of items.
    pub by_name: rustc_hash::FxHashMap<SmolStr, LocalItemId>,
    /// Rules about declarations the parser does not check (naming case, `pub` placement).
    pub diagnostics: Vec<Anchored<ItemAnchor>>,
}

/// `use a::b` or `use a::{b, c as d}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UseDecl {
    /// `a` in `use a::b` (empty for `use a`, which imports the module `a` itself).
    pub module: Path,
    pub names: Vec<UseName>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UseName {
    pub name: SmolStr,
    pub alias: Option<SmolStr>,
}

impl UseName {
    /// The name this import binds in the importing module.
    pub fn local_name(&self) -> &SmolStr {
        self.alias.as_ref().unwrap_or(&self.name)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Visibility {
    Private,
    Public,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub name: SmolStr,
    pub visibility: Visibility,
    pub kind: ItemKind,
    /// Every type written in the item's signature (see [`TypeRef`]).
    pub type_refs: TypeRefs,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ItemKind {
    Fn(FnDecl),
    /// `type Name = T`.
    Type(TypeRefId),
    Enum(Vec<VariantDecl>),
    Effect(EffectDecl),
    Schema(Vec<SchemaFieldDecl>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FnDecl {
    pub params: Vec<(SmolStr, TypeRefId)>,
    /// `None` when `-> T` is omitted: the function returns `()`.
    pub ret: Option<TypeRefId>,
    /// The effect row `! {A, B}`; empty when omitted (pure).
    pub effects: Vec<TypeRefId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VariantDecl {
    pub name: SmolStr,
    pub fields: Vec<TypeRefId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EffectDecl {
    pub params: Vec<(SmolStr, TypeRefId)>,
    pub ret: Option<TypeRefId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaFieldDecl {
    pub name: SmolStr,
    pub ty: TypeRefId,
    pub has_default: bool,
}

impl ItemTree {
    /// The first item called `name` (later ones with that name are duplicates).
    pub fn item_by_name(&self, name: &str) -> Option<(LocalItemId, &Item)> {
        let id = *self.by_name.get(name)?;
        Some((id, &self.items[id]))
    }
}

impl Item {
    pub fn def_kind(&self) -> tel_hash::core::DefKind {
        use tel_hash::core::DefKind;
        match self.kind {
            ItemKind::Fn(_) => DefKind::Fn,
            ItemKind::Type(_) => DefKind::Type,
            ItemKind::Enum(_) => DefKind::Enum,
            ItemKind::Effect(_) => DefKind::Effect,
            ItemKind::Schema(_) => DefKind::Schema,
        }
    }
}

/// A place in an item's signature, relative to the item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemPart {
    /// The item's name.
    Name,
    TypeRef(TypeRefId),
    /// The name of the record-type field whose type is this.
    FieldName(TypeRefId),
    /// The name of parameter / variant / schema field number `i`.
    Member(u32),
}

/// A place in a file's item tree, for diagnostics about declarations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ItemAnchor {
    ModuleDecl,
    /// The whole `use` item.
    Use(UseId),
    /// The module path of a `use`.
    UseModule(UseId),
    /// Imported name `i` of a `use`.
    UseName(UseId, u32),
    Item(LocalItemId, ItemPart),
}

/// Positions of everything in an [`ItemTree`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemTreeSourceMap {
    pub module_decl: Option<TextRange>,
    pub uses: ArenaMap<UseId, UseSourceMap>,
    pub items: ArenaMap<LocalItemId, ItemSourceMap>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UseSourceMap {
    pub range: TextRange,
    pub module: TextRange,
    pub names: Vec<TextRange>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ItemSourceMap {
    /// The whole item, doc comments included.
    pub range: TextRange,
    pub name: TextRange,
    pub type_refs: ArenaMap<TypeRefId, TextRange>,
    /// Record-type field names, by the field's type.
    pub field_names: ArenaMap<TypeRefId, TextRange>,
    /// Parameter / variant / schema field names, by index.
    pub members: Vec<TextRange>,
}

impl From<TypeRefAnchor> for ItemPart {
    fn from(a: TypeRefAnchor) -> ItemPart {
        match a {
            TypeRefAnchor::Type(t) => ItemPart::TypeRef(t),
            TypeRefAnchor::FieldName(t) => ItemPart::FieldName(t),
        }
    }
}

impl ItemSourceMap {
    pub fn part(&self, part: ItemPart) -> TextRange {
        match part {
            ItemPart::Name => self.name,
            ItemPart::TypeRef(id) => self.type_refs.get(id).copied().unwrap_or(self.name),
            ItemPart::FieldName(id) => self
                .field_names
                .get(id)
                .or_else(|| self.type_refs.get(id))
                .copied()
                .unwrap_or(self.name),
            ItemPart::Member(i) => self.members.get(i as usize).copied().unwrap_or(self.name),
        }
    }
}

impl ItemTreeSourceMap {
    pub fn range(&self, anchor: ItemAnchor) -> TextRange {
        let empty = TextRange::default();
        match anchor {
            ItemAnchor::ModuleDecl => self.module_decl.unwrap_or(empty),
            ItemAnchor::Use(id) => self.uses.get(id).map_or(empty, |u| u.range),
            ItemAnchor::UseModule(id) => self.uses.get(id).map_or(empty, |u| u.module),
            ItemAnchor::UseName(id, i) => self
                .uses
                .get(id)
                .map_or(empty, |u| u.names.get(i as usize).copied().unwrap_or(u.range)),
            ItemAnchor::Item(id, part) => self.items.get(id).map_or(empty, |it| it.part(part)),
        }
    }
}
