//! Rename: a local, or a top-level definition across the project.
//!
//! Names are not part of a definition's hash (references are by content), so renaming a
//! top-level definition changes no hash; [`Analysis::rehashed_by`] checks that on the edited
//! text rather than assuming it. A rename that would collide with another name, or make a
//! reference mean something else (shadowing), is refused with the reason.

use rustc_hash::FxHashMap;
use smol_str::SmolStr;
use tel_hash::core::DefKind;
use tel_hir::{DefId, DefRef};
use tel_syntax::{SyntaxKind, TextRange, TextSize};

use super::target::{FileCtx, Target, top_level_item};
use crate::db::RootDatabase;
use crate::queries;
use crate::{Analysis, AnalysisHost, Cancellable, FileId};

/// A rename the engine accepted: the text edits, and for a top-level definition its
/// qualified names before and after (what the code store's name pointer moves between).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenameEdit {
    /// `(file, range, new text)`, sorted by file and position.
    pub edits: Vec<(FileId, TextRange, String)>,
    pub definition: Option<(DefId, DefId)>,
}

impl Analysis {
    /// What a rename at `offset` would rename: the name's range and text, or why it cannot
    /// be renamed.
    pub fn prepare_rename(
        &self,
        file: FileId,
        offset: TextSize,
    ) -> Cancellable<Result<(TextRange, SmolStr), String>> {
        self.with_db(|db| {
            let ctx = FileCtx::new(self, db, file);
            let token = ctx.token_at(offset).ok_or("there is no name here")?;
            let found = ctx.classify(&token).ok_or("there is no name here to rename")?;
            renameable(&found.target)?;
            if token.kind() != SyntaxKind::IDENT {
                return Err("only names can be renamed".to_owned());
            }
            Ok((found.range, SmolStr::new(token.text())))
        })
    }

    /// The edits renaming the name at `offset` to `new_name` everywhere, or why not.
    pub fn rename(
        &self,
        file: FileId,
        offset: TextSize,
        new_name: &str,
    ) -> Cancellable<Result<RenameEdit, String>> {
        self.with_db(|db| {
            let ctx = FileCtx::new(self, db, file);
            let token = ctx.token_at(offset).ok_or("there is no name here")?;
            let found = ctx.classify(&token).ok_or("there is no name here to rename")?;
            let kind = renameable(&found.target)?;
            let old_name: SmolStr = match &found.target {
                Target::Def(DefRef::Def(d), _) => d.name.clone(),
                Target::Local { owner, binding, .. } => {
                    let loc = ctx.def_loc(owner.clone());
                    let (body, _) = queries::body_with_source_map(db, loc)
                        .as_ref()
                        .ok_or("the definition has no body")?;
                    body.bindings[*binding].name.clone()
                }
                _ => unreachable!("renameable() admits definitions and locals only"),
            };
            check_name(new_name, kind)?;
            if new_name == old_name {
                return Ok(RenameEdit { edits: Vec::new(), definition: None });
            }
            let files = match &found.target {
                Target::Local { owner, .. } => self.def_file(db, file, owner).into_iter().collect(),
                _ => self.project_files(file),
            };
            let refs = self.references_in(db, file, &files, &found.target);
            check_collisions(self, db, file, &found.target, &old_name, new_name, &refs)?;
            let mut edits: Vec<(FileId, TextRange, String)> = Vec::new();
            for r in refs {
                let text = self.file_text(r.file);
                // Uses through an alias (`use m::{fee as f}` … `f(x)`) keep the alias.
                if text[r.range] == *old_name {
                    edits.push((r.file, r.range, new_name.to_owned()));
                }
            }
            edits.sort_by_key(|(f, r, _)| (*f, r.start()));
            edits.dedup();
            let definition = match &found.target {
                Target::Def(DefRef::Def(d), _) => {
                    Some((d.clone(), DefId::new(d.module.clone(), new_name)))
                }
                _ => None,
            };
            Ok(RenameEdit { edits, definition })
        })
    }

    /// How many definitions of `file`'s project would get another hash if `edits` were
    /// applied (`renamed` maps old definitions to their new names). Checks the edited text
    /// in an engine of its own, so the answer is computed, not assumed.
    pub fn rehashed_by(
        &self,
        file: FileId,
        edits: &[(FileId, TextRange, String)],
        renamed: &FxHashMap<DefId, DefId>,
    ) -> Cancellable<usize> {
        let files = self.project_files(file);
        let before: Vec<(DefId, Option<tel_hash::CodeHash>)> = {
            let mut out = Vec::new();
            for &f in &files {
                for d in self.definitions(f)? {
                    out.push((DefId::new(d.module, d.name), d.hash));
                }
            }
            out
        };
        let root = self.with_db(|db| self.entry(file).project.root(db).clone())?;
        let mut texts = Vec::new();
        for &f in &files {
            let mut text = self.file_text(f);
            let mut mine: Vec<&(FileId, TextRange, String)> =
                edits.iter().filter(|(ef, _, _)| *ef == f).collect();
            mine.sort_by_key(|(_, r, _)| std::cmp::Reverse(r.start()));
            for (_, range, new) in mine {
                text.replace_range(std::ops::Range::<usize>::from(*range), new);
            }
            texts.push((self.file_path(f).to_path_buf(), text));
        }
        let mut scratch = AnalysisHost::default();
        let ids = scratch.add_project(root, texts);
        let after = scratch.analysis();
        let mut hashes: FxHashMap<DefId, Option<tel_hash::CodeHash>> = FxHashMap::default();
        for id in ids {
            for d in after.definitions(id)? {
                hashes.insert(DefId::new(d.module, d.name), d.hash);
            }
        }
        let changed = before
            .iter()
            .filter(|(def, hash)| {
                let now = renamed.get(def).unwrap_or(def);
                hashes.get(now) != Some(hash)
            })
            .count();
        Ok(changed)
    }
}

/// What can be renamed: a definition of the project (not the prelude's), or a local. Its
/// kind decides the case the new name must have.
fn renameable(target: &Target) -> Result<Option<DefKind>, String> {
    match target {
        Target::Def(DefRef::Def(d), _) if d.module == tel_hir::PRELUDE_MODULE => {
            Err(format!("`{}` belongs to the prelude and cannot be renamed", d.name))
        }
        Target::Def(DefRef::Def(_), kind) => Ok(Some(*kind)),
        Target::Def(DefRef::Hash(_), _) => Err(
            "a `#hash` reference names a definition by content; rename the stored name with `tel store rename`"
                .into(),
        ),
        Target::Local { .. } => Ok(None),
        Target::Variant(_) => Err("renaming enum variants is not supported yet".into()),
        Target::Builtin(b) => Err(format!("`{}` is a builtin and cannot be renamed", b.name())),
        Target::BuiltinType(t) => Err(format!("`{t}` is a builtin type and cannot be renamed")),
        Target::Module(m) => Err(format!("module `{m}` is named by its file or `module` line; rename the file")),
    }
}

/// A valid identifier of the right case for what it names.
fn check_name(name: &str, kind: Option<DefKind>) -> Result<(), String> {
    let mut chars = name.chars();
    let first = chars.next().ok_or("the new name is empty")?;
    let ident = (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ident || name == "_" {
        return Err(format!("`{name}` is not an identifier"));
    }
    if SyntaxKind::from_keyword(name).is_some() {
        return Err(format!("`{name}` is a keyword"));
    }
    let upper = first.is_ascii_uppercase();
    match kind {
        Some(DefKind::Fn) | None if upper => Err(format!(
            "`{name}` must start with a lowercase letter (functions and locals are `lower_snake`)"
        )),
        Some(k) if k != DefKind::Fn && !upper => Err(format!(
            "`{name}` must start with an uppercase letter ({}s are `UpperCamel`)",
            k.as_str()
        )),
        _ => Ok(()),
    }
}

/// Refuses a rename after which a name would mean two things, or a reference something
/// else.
fn check_collisions(
    analysis: &Analysis,
    db: &RootDatabase,
    file: FileId,
    target: &Target,
    old_name: &str,
    new_name: &str,
    refs: &[super::Reference],
) -> Result<(), String> {
    match target {
        Target::Local { owner, binding, .. } => {
            let project = analysis.entry(file).project;
            let loc = queries::DefLoc::new(db, project, owner.clone());
            let (body, _) = queries::body_with_source_map(db, loc).as_ref().ok_or("no body")?;
            if let Some((_, other)) =
                body.bindings.iter().find(|(b, x)| *b != *binding && x.name == new_name)
            {
                return Err(format!(
                    "`{}` already names another local of `{}`; pick another name",
                    other.name, owner.name
                ));
            }
            // A use of `new_name` in this body (an item, a builtin) would be shadowed.
            let def_file = analysis.def_file(db, file, owner).ok_or("no file")?;
            let ctx = FileCtx::new(analysis, db, def_file);
            let item = ctx.root.children().find(|i| ctx.item_def(i).as_ref() == Some(owner));
            if let Some(item) = item
                && item.descendants_with_tokens().filter_map(|e| e.into_token()).any(|t| {
                    t.kind() == SyntaxKind::IDENT
                        && t.text() == new_name
                        && top_level_item(&t).as_ref() == Some(&item)
                })
            {
                return Err(format!(
                    "`{new_name}` is already used in `{}`; renaming `{old_name}` would shadow it",
                    owner.name
                ));
            }
            Ok(())
        }
        Target::Def(DefRef::Def(def), _) => {
            let project = analysis.entry(file).project;
            // Another item of that name in the module, or imported into a module that
            // imports this one by name.
            for f in analysis.project_files(file) {
                let ctx = FileCtx::new(analysis, db, f);
                let map = queries::module_def_map(
                    db,
                    queries::ModuleLoc::new(db, project, ctx.module.clone()),
                );
                let Some(data) = map.module(&ctx.module) else { continue };
                let sees_it = ctx.module == def.module
                    || refs.iter().any(|r| r.file == f && !r.is_definition);
                if sees_it
                    && (data.items.contains_key(new_name)
                        || data.scope.names.contains_key(new_name))
                {
                    return Err(format!(
                        "module `{}` already has a `{new_name}`; renaming `{old_name}` would collide with it",
                        ctx.module
                    ));
                }
            }
            // A reference inside a body that binds `new_name` locally would be shadowed.
            for r in refs.iter().filter(|r| !r.is_definition) {
                let ctx = FileCtx::new(analysis, db, r.file);
                let Some(token) = ctx.root.token_at_offset(r.range.start()).right_biased() else {
                    continue;
                };
                let Some(item) = top_level_item(&token) else { continue };
                let Some(owner) = ctx.item_def(&item) else { continue };
                if let Some((body, _)) =
                    queries::body_with_source_map(db, ctx.def_loc(owner.clone()))
                    && body.bindings.iter().any(|(_, b)| b.name == new_name)
                {
                    return Err(format!(
                        "`{}` has a local `{new_name}` that would shadow the renamed `{old_name}`",
                        owner.name
                    ));
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
