//! Hover: what the name under the cursor is — its signature and effect row, its hash (short
//! and full), whether the store has it, how many definitions use it, and its doc comment.

use std::fmt::Write;

use tel_hash::CodeHash;
use tel_hash::core::DefKind;
use tel_hir::def_map::VariantOwner;
use tel_hir::ty::kind_name;
use tel_hir::{DefId, DefRef, HirDatabase, Signature};
use tel_syntax::ast::{self, AstNode, HasDocComments};

use super::dependents::dependents_index;
use super::render;
use super::store::{StoreInfo, StoreStatus};
use super::target::{FileCtx, Target};
use crate::db::{RootDatabase, parse};
use crate::queries;
use crate::{Analysis, Cancellable, FileId, TextRange, TextSize};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HoverResult {
    /// The name the hover is about.
    pub range: TextRange,
    /// Markdown.
    pub markup: String,
}

impl Analysis {
    /// The hover for the name at `offset`; `store` is the code store to compare with.
    pub fn hover(
        &self,
        file: FileId,
        offset: TextSize,
        store: Option<&dyn StoreInfo>,
    ) -> Cancellable<Option<HoverResult>> {
        // A store read that panics is a bug reported like any other; it leaves no state
        // behind that a retry could observe half-changed.
        let store = std::panic::AssertUnwindSafe(store);
        self.with_db(|db| {
            let store = *store;
            let ctx = FileCtx::new(self, db, file);
            let token = ctx.token_at(offset)?;
            // A schema or schema field: its change class against the stored version.
            let evolution = crate::schema_check::hover(&ctx, &token);
            let Some(found) = ctx.classify(&token) else { return evolution.map(|e| e.alone()) };
            let markup = match &found.target {
                Target::Def(DefRef::Def(def), kind) => self.hover_def(&ctx, def, *kind, store),
                Target::Def(DefRef::Hash(hash), kind) => hover_stored(&ctx, hash, *kind, store),
                Target::Local { owner, binding, .. } => {
                    let loc = ctx.def_loc(owner.clone());
                    let (body, _) = queries::body_with_source_map(db, loc).as_ref()?;
                    let ty = queries::infer(db, loc)
                        .map(|i| i.type_of_binding(*binding).to_string())
                        .unwrap_or_else(|| "{unknown}".to_owned());
                    let what = if body.params.contains(binding) { "parameter" } else { "local" };
                    let name = &body.bindings[*binding].name;
                    format!("```tel\n{name}: {ty}\n```\n{what} of `{}`", owner.qualified())
                }
                Target::Variant(v) => {
                    let owner = match &v.owner {
                        VariantOwner::Enum(e) => e.clone(),
                        VariantOwner::Option => {
                            return Some(HoverResult {
                                range: found.range,
                                markup: format!(
                                    "```tel\n{}\n```\nvariant of the builtin option type `T?`",
                                    v.name
                                ),
                            });
                        }
                    };
                    let sig = ctx.hir().signature(&owner);
                    let fields = match sig.as_deref() {
                        Some(Signature::Enum(e)) => {
                            e.variants.get(v.index as usize).map(|(_, f)| f.clone())
                        }
                        _ => None,
                    }
                    .unwrap_or_default();
                    let fields: Vec<String> = fields.iter().map(ToString::to_string).collect();
                    let shape = if fields.is_empty() {
                        String::new()
                    } else {
                        format!("({})", fields.join(", "))
                    };
                    format!(
                        "```tel\n{}::{}{shape}\n```\nvariant {} of enum `{}`",
                        owner.display_name(),
                        v.name,
                        v.index,
                        owner.display_name()
                    )
                }
                Target::Builtin(b) => format!("```tel\n{}\n```\nbuiltin function", b.name()),
                Target::BuiltinType(t) => format!("```tel\n{t}\n```\nbuiltin type"),
                Target::Module(m) => format!("```tel\nmodule {m}\n```"),
            };
            let markup = crate::schema_check::EvolutionHover::append(markup, evolution);
            Some(HoverResult { range: found.range, markup })
        })
    }

    fn hover_def(
        &self,
        ctx: &FileCtx<'_>,
        def: &DefId,
        kind: DefKind,
        store: Option<&dyn StoreInfo>,
    ) -> String {
        let db = ctx.db;
        let mut out = String::new();
        let sig = queries::signature(db, ctx.def_loc(def.clone()));
        let shown = match sig.as_deref() {
            Some(sig) => render::signature(&def.name, sig),
            None => format!("{} {}", kind.as_str(), def.name),
        };
        let _ = writeln!(out, "```tel\n{shown}\n```");
        let hash = queries::project_hashes(db, ctx.project).get(def).copied();
        let _ = write!(out, "{} `{}`", kind_name(kind), def.qualified());
        match hash {
            Some(h) => {
                let _ = writeln!(out, " · `#{}`\n\nhash `{}`", h.short(), h.to_base32hex());
            }
            None => {
                let _ = writeln!(out, "\n\nno hash yet: it, or something it uses, has errors");
            }
        }
        let status = StoreStatus::of(store, &def.qualified(), hash);
        let status_line = match (&status, store) {
            (StoreStatus::Stored, _) => "**stored** in the codebase".to_owned(),
            (StoreStatus::Changed { old }, _) => {
                format!("**changed**: storing it replaces `#{}`", old.short())
            }
            (StoreStatus::New { stored_as }, Some(_)) if !stored_as.is_empty() => format!(
                "**new** name; the same definition is stored as {}",
                stored_as.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
            ),
            (StoreStatus::New { .. }, Some(_)) => "**new**: not in the codebase".to_owned(),
            (StoreStatus::New { .. }, None) => "**new**: there is no codebase yet".to_owned(),
            (StoreStatus::Unhashed, _) => String::new(),
        };
        if !status_line.is_empty() {
            let _ = writeln!(out, "\n{status_line}");
        }
        let users = dependents_index(db, ctx.project).get(def).map_or(0, Vec::len);
        let stored_users = match (store, hash, &status) {
            (Some(store), Some(h), StoreStatus::Stored) => store.stored_dependents(&h),
            _ => 0,
        };
        let _ = write!(out, "\n{}", plural(users, "dependent"));
        if stored_users > 0 {
            let _ = write!(out, " · {} in the codebase", plural(stored_users, "dependent"));
        }
        out.push('\n');
        if let Some(doc) = self.doc_comment(db, ctx.file, def) {
            let _ = write!(out, "\n---\n\n{doc}\n");
        }
        out
    }

    /// The `///` text of a definition of `file`'s project.
    pub(crate) fn doc_comment(
        &self,
        db: &RootDatabase,
        file: FileId,
        def: &DefId,
    ) -> Option<String> {
        let def_file = self.def_file(db, file, def)?;
        let input = self.entry(def_file).input;
        let ptr = queries::item_ptrs(db, input).get(&def.name)?;
        let node = ptr.to_node(&parse(db, input).syntax_node());
        ast::Item::cast(node)?.doc_text()
    }
}

fn hover_stored(
    ctx: &FileCtx<'_>,
    hash: &CodeHash,
    kind: DefKind,
    store: Option<&dyn StoreInfo>,
) -> String {
    let mut out = String::new();
    let names = store.map(|s| s.names_of(hash)).unwrap_or_default();
    let name = names.first().map(|n| n.rsplit("::").next().unwrap_or(n).to_owned());
    let shown_name = name.clone().unwrap_or_else(|| format!("#{}", hash.short()));
    if let Some(sig) = ctx.hir().signature(&DefRef::Hash(*hash)) {
        let _ = writeln!(out, "```tel\n{}\n```", render::signature(&shown_name, &sig));
    }
    let _ = writeln!(
        out,
        "stored {} `#{}`\n\nhash `{}`",
        kind_name(kind),
        hash.short(),
        hash.to_base32hex()
    );
    if !names.is_empty() {
        let names: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        let _ = writeln!(out, "\nnamed {}", names.join(", "));
    }
    if let Some((_, source)) = store.and_then(|s| s.stored_source(hash)) {
        let _ = write!(out, "\n---\n\n```tel\n{}\n```\n", source.trim_end());
    }
    out
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}
