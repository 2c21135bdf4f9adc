//! Document symbols: the outline of a file — its definitions, with enum variants and schema
//! fields beneath them, each with its short hash as detail.

use smol_str::SmolStr;
use tel_hash::core::DefKind;
use tel_hir::DefId;
use tel_hir::item_tree::ItemKind;

use super::target::FileCtx;
use crate::queries;
use crate::{Analysis, Cancellable, FileId, TextRange};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SymbolKind {
    Module,
    Function,
    Type,
    Enum,
    Variant,
    Effect,
    Schema,
    Field,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symbol {
    pub name: SmolStr,
    pub kind: SymbolKind,
    /// The short hash of a hashed definition.
    pub detail: Option<String>,
    /// The whole declaration.
    pub range: TextRange,
    /// The name.
    pub selection_range: TextRange,
    pub children: Vec<Symbol>,
}

impl Analysis {
    pub fn document_symbols(&self, file: FileId) -> Cancellable<Vec<Symbol>> {
        self.with_db(|db| {
            let ctx = FileCtx::new(self, db, file);
            let hashes = queries::project_hashes(db, ctx.project);
            let (tree, map) = queries::item_tree_with_map(db, ctx.input).clone();
            let mut out = Vec::new();
            if let (Some(decl), Some(range)) = (&tree.module_decl, map.module_decl) {
                out.push(Symbol {
                    name: decl.to_string().into(),
                    kind: SymbolKind::Module,
                    detail: None,
                    range,
                    selection_range: range,
                    children: Vec::new(),
                });
            }
            for (id, item) in tree.items.iter() {
                let m = &map.items[id];
                let def = DefId::new(ctx.module.clone(), item.name.clone());
                let member = |name: &SmolStr, i: usize, kind| {
                    let r = m.members.get(i).copied().unwrap_or(m.name);
                    Symbol {
                        name: name.clone(),
                        kind,
                        detail: None,
                        range: r,
                        selection_range: r,
                        children: Vec::new(),
                    }
                };
                let children = match &item.kind {
                    ItemKind::Enum(variants) => variants
                        .iter()
                        .enumerate()
                        .map(|(i, v)| member(&v.name, i, SymbolKind::Variant))
                        .collect(),
                    ItemKind::Schema(fields) => fields
                        .iter()
                        .enumerate()
                        .map(|(i, f)| member(&f.name, i, SymbolKind::Field))
                        .collect(),
                    _ => Vec::new(),
                };
                out.push(Symbol {
                    name: item.name.clone(),
                    kind: match item.def_kind() {
                        DefKind::Fn => SymbolKind::Function,
                        DefKind::Type => SymbolKind::Type,
                        DefKind::Enum => SymbolKind::Enum,
                        DefKind::Effect => SymbolKind::Effect,
                        DefKind::Schema => SymbolKind::Schema,
                    },
                    detail: hashes.get(&def).map(|h| format!("#{}", h.short())),
                    range: m.range,
                    selection_range: m.name,
                    children,
                });
            }
            out
        })
    }
}
