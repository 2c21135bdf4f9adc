//! Code actions: quick fixes for two errors whose fix the engine knows — an effect performed
//! but missing from the function's row (E0301), a `match` missing cases (E0401) — and
//! storing a definition that is new or changed against the codebase.

use tel_hash::CodeHash;
use tel_hir::body::{Expr, Literal, Pat};
use tel_hir::def_map::{DefMap, ScopeEntry, VariantOwner};
use tel_hir::signature::expand_alias;
use tel_hir::{DefId, DefRef, HirDatabase, PRELUDE_MODULE, Signature, Ty};
use tel_syntax::{SyntaxKind, SyntaxNode, TextRange, TextSize};

use super::inlay_hints::signature_end;
use super::store::{StoreInfo, StoreStatus};
use super::target::FileCtx;
use crate::queries::{self, ModuleLoc};
use crate::{Analysis, Cancellable, Diagnostic, FileId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssistKind {
    /// Fixes the diagnostics in [`Assist::fixes`] by editing the file.
    QuickFix,
    /// Stores a definition (and what it uses) in the codebase: [`Assist::store`].
    Store,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assist {
    pub label: String,
    pub kind: AssistKind,
    /// The diagnostics it fixes: code (`E0301`) and range.
    pub fixes: Vec<(&'static str, TextRange)>,
    /// Edits of the file, in text order, not overlapping.
    pub edits: Vec<(TextRange, String)>,
    /// The definition to store and the hash it has now.
    pub store: Option<(DefId, CodeHash)>,
}

/// What a match arm added for a missing case evaluates to when the arm's type has no simple
/// value: a name that does not resolve, so the program does not check until it is replaced.
const NO_VALUE: &str = "todo";

impl Analysis {
    /// The actions for `range` of `file`: fixes for the diagnostics it touches, and storing
    /// the definition it is in (when that is new or changed against `store`).
    pub fn code_actions(
        &self,
        file: FileId,
        range: TextRange,
        store: Option<&dyn StoreInfo>,
    ) -> Cancellable<Vec<Assist>> {
        let diagnostics = self.diagnostics(file)?;
        let definitions = self.definitions(file)?;
        let store = std::panic::AssertUnwindSafe(store);
        self.with_db(|db| {
            let store = *store;
            let ctx = FileCtx::new(self, db, file);
            let touched: Vec<&Diagnostic> =
                diagnostics.iter().filter(|d| d.range.intersect(range).is_some()).collect();
            let mut out = Vec::new();
            let mut rows_fixed: Vec<SyntaxNode> = Vec::new();
            for d in &touched {
                let Some(item) = item_around(&ctx, d.range) else { continue };
                match d.code {
                    "E0301" if !rows_fixed.contains(&item) => {
                        // One fix per function, naming every effect its row lacks.
                        let fixes: Vec<(&'static str, TextRange)> = diagnostics
                            .iter()
                            .filter(|o| {
                                o.code == "E0301" && item.text_range().contains_range(o.range)
                            })
                            .map(|o| (o.code, o.range))
                            .collect();
                        if let Some(mut assist) = add_effects(&ctx, &item) {
                            assist.fixes = fixes;
                            out.push(assist);
                        }
                        rows_fixed.push(item);
                    }
                    "E0401" => {
                        if let Some(mut assist) = add_match_arms(&ctx, &item, d) {
                            assist.fixes = vec![(d.code, d.range)];
                            out.push(assist);
                        }
                    }
                    _ => {}
                }
            }
            let def = definitions.iter().find(|d| d.range.contains_range(range));
            if let Some(def) = def
                && let Some(hash) = def.hash
            {
                let name = def.qualified();
                let status = StoreStatus::of(store, &name, Some(hash));
                let label = match &status {
                    StoreStatus::Changed { old } => {
                        Some(format!("Store `{name}` in the codebase (replaces #{})", old.short()))
                    }
                    StoreStatus::New { .. } => Some(format!("Store `{name}` in the codebase")),
                    _ => None,
                };
                if let Some(label) = label {
                    out.push(Assist {
                        label,
                        kind: AssistKind::Store,
                        fixes: Vec::new(),
                        edits: Vec::new(),
                        store: Some((DefId::new(def.module.clone(), def.name.clone()), hash)),
                    });
                }
            }
            out
        })
    }
}

/// The top-level item around a range.
fn item_around(ctx: &FileCtx<'_>, range: TextRange) -> Option<SyntaxNode> {
    ctx.root.children().find(|n| n.text_range().contains_range(range))
}

/// How `def` is written in `module`: the name the module's scope gives it (an alias, an
/// import, its own name), else qualified by its module.
fn name_in(map: &DefMap, module: &str, def: &DefRef) -> String {
    let d = match def {
        DefRef::Hash(h) => return format!("#{}", h.short()),
        DefRef::Def(d) => d,
    };
    let scope = map.module(module).map(|m| &m.scope);
    if let Some(scope) = scope {
        let named = scope.names.iter().find(|(_, e)| matches!(e, ScopeEntry::Item(x, _) if x == d));
        if let Some((name, _)) = named {
            return name.to_string();
        }
        if d.module == PRELUDE_MODULE && !scope.names.contains_key(&d.name) {
            return d.name.to_string();
        }
    }
    d.qualified().to_string()
}

/// Adds the effects the function performs and its row lacks.
fn add_effects(ctx: &FileCtx<'_>, item: &SyntaxNode) -> Option<Assist> {
    if item.kind() != SyntaxKind::FN_ITEM {
        return None;
    }
    let owner = ctx.item_def(item)?;
    let loc = ctx.def_loc(owner.clone());
    let performed = queries::infer(ctx.db, loc)?.effects.clone();
    let Signature::Fn(sig) = &*queries::signature(ctx.db, loc)? else { return None };
    let map =
        queries::module_def_map(ctx.db, ModuleLoc::new(ctx.db, ctx.project, ctx.module.clone()));
    let missing: Vec<String> = performed
        .iter()
        .filter(|e| !sig.effects.contains(*e))
        .map(|e| name_in(&map, &ctx.module, e))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let list = missing.join(", ");
    let edit = match item.children().find(|n| n.kind() == SyntaxKind::EFFECT_ROW) {
        Some(row) => {
            let parts: Vec<_> =
                row.children_with_tokens().filter(|e| !e.kind().is_trivia()).collect();
            let close = parts.iter().rposition(|e| e.kind() == SyntaxKind::R_CURLY)?;
            let before = parts.get(close.checked_sub(1)?)?;
            let at = before.text_range().end();
            let text = match before.kind() {
                SyntaxKind::L_CURLY => list.clone(),
                SyntaxKind::COMMA => format!(" {list}"),
                _ => format!(", {list}"),
            };
            (TextRange::empty(at), text)
        }
        None => (TextRange::empty(signature_end(item)), format!(" ! {{{list}}}")),
    };
    let shown: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
    Some(Assist {
        label: format!("Add {} to the effect row of `{}`", shown.join(", "), owner.name),
        kind: AssistKind::QuickFix,
        fixes: Vec::new(),
        edits: vec![edit],
        store: None,
    })
}

/// Adds an arm for each case the `match` at `d` misses.
fn add_match_arms(ctx: &FileCtx<'_>, item: &SyntaxNode, d: &Diagnostic) -> Option<Assist> {
    let token = ctx.root.token_at_offset(d.range.start()).right_biased()?;
    let match_node = token.parent_ancestors().find(|n| n.kind() == SyntaxKind::MATCH_EXPR)?;
    let owner = ctx.item_def(item)?;
    let loc = ctx.def_loc(owner);
    let (body, sm) = queries::body_with_source_map(ctx.db, loc).as_ref()?;
    let inferred = queries::infer(ctx.db, loc)?;
    let m = sm.expr_at(match_node.text_range())?;
    let Expr::Match { scrutinee, arms } = &body.exprs[m] else { return None };
    let hir = ctx.hir();
    let map =
        queries::module_def_map(ctx.db, ModuleLoc::new(ctx.db, ctx.project, ctx.module.clone()));
    let namer = Namer { hir: &hir, map: &map, module: &ctx.module };

    // Constructors of the scrutinee's type no arm starts with: each is missing whole (the
    // checker reports the same, but lists at most a few). Otherwise the cases are deeper,
    // and the checker's own list (in its message) is what is missing.
    let ty = expand_alias(&hir, inferred.type_of_expr(*scrutinee));
    let ctors = namer.constructors(&ty);
    let mut covered = vec![false; ctors.len()];
    let mut all = false;
    for arm in arms.iter().filter(|a| a.guard.is_none()) {
        match &body.pats[arm.pat] {
            Pat::Wild | Pat::Bind(_) | Pat::Missing => all = true,
            Pat::Variant { .. } => {
                if let Some(tel_hir::Res::Variant(v)) = inferred.pat_res.get(&arm.pat)
                    && let Some(c) = covered.get_mut(v.index as usize)
                {
                    *c = true;
                }
            }
            Pat::Lit(Literal::Bool(b)) => {
                if let Some(c) = covered.get_mut(usize::from(!*b)) {
                    *c = true;
                }
            }
            Pat::Lit(Literal::Unit) | Pat::Record { .. } => all = true,
            Pat::Lit(_) => {}
        }
    }
    let mut missing: Vec<String> = Vec::new();
    if !all {
        missing =
            ctors.iter().zip(&covered).filter(|(_, c)| !**c).map(|(p, _)| p.clone()).collect();
    }
    if missing.is_empty() {
        missing = witnesses(&d.message);
    }
    if missing.is_empty() {
        return None;
    }
    let value = namer.value_of(inferred.type_of_expr(m), 0);

    // Where the arms go: after the last arm (and its comma), each on a line of its own.
    let list = match_node.children().find(|n| n.kind() == SyntaxKind::MATCH_ARM_LIST)?;
    let close = list.children_with_tokens().find(|e| e.kind() == SyntaxKind::R_CURLY)?;
    let last_arm = list.children().filter(|n| n.kind() == SyntaxKind::MATCH_ARM).last();
    let text = ctx.root.text().to_string();
    let match_indent = indent_at(&text, match_node.text_range().start());
    let (at, needs_comma, arm_indent) = match &last_arm {
        Some(arm) => {
            let comma =
                std::iter::successors(arm.next_sibling_or_token(), |e| e.next_sibling_or_token())
                    .find(|e| !e.kind().is_trivia());
            match comma {
                Some(c) if c.kind() == SyntaxKind::COMMA => {
                    (c.text_range().end(), false, indent_at(&text, arm.text_range().start()))
                }
                _ => (arm.text_range().end(), true, indent_at(&text, arm.text_range().start())),
            }
        }
        None => {
            let open = list.children_with_tokens().find(|e| e.kind() == SyntaxKind::L_CURLY)?;
            (open.text_range().end(), false, format!("{match_indent}    "))
        }
    };
    let arm_indent = if last_arm
        .as_ref()
        .is_some_and(|a| same_line(&text, a.text_range().start(), match_node.text_range().start()))
    {
        format!("{match_indent}    ")
    } else {
        arm_indent
    };
    let mut insert = String::new();
    if needs_comma {
        insert.push(',');
    }
    for pat in &missing {
        insert.push('\n');
        insert.push_str(&arm_indent);
        match &value {
            Some(v) => insert.push_str(&format!("{pat} => {v}, // TODO: handle `{pat}`")),
            None => insert.push_str(&format!("{pat} => {NO_VALUE},")),
        }
    }
    // The `}` goes on a line of its own; what was between (only blanks) is replaced.
    let gap = TextRange::new(at, close.text_range().start());
    let edit = if text[gap].trim().is_empty() {
        insert.push('\n');
        insert.push_str(&match_indent);
        (gap, insert)
    } else {
        (TextRange::empty(at), insert)
    };
    let shown: Vec<String> = missing.iter().map(|p| format!("`{p}`")).collect();
    let s = if missing.len() == 1 { "" } else { "s" };
    Some(Assist {
        label: format!("Add the missing match arm{s} {}", shown.join(", ")),
        kind: AssistKind::QuickFix,
        fixes: Vec::new(),
        edits: vec![edit],
        store: None,
    })
}

/// The patterns a non-exhaustive-match message lists (`missing cases `A`, `B(_)``), without
/// its hint in parentheses.
fn witnesses(message: &str) -> Vec<String> {
    let Some((_, list)) = message.split_once("missing case") else { return Vec::new() };
    let list = list.split(" (").next().unwrap_or(list);
    list.split('`').skip(1).step_by(2).map(str::to_owned).collect()
}

/// The whitespace a line starts with, for the line holding `offset`.
fn indent_at(text: &str, offset: TextSize) -> String {
    let start = text[..usize::from(offset)].rfind('\n').map_or(0, |i| i + 1);
    text[start..].chars().take_while(|c| *c == ' ' || *c == '\t').collect()
}

fn same_line(text: &str, a: TextSize, b: TextSize) -> bool {
    let (lo, hi) = (a.min(b), a.max(b));
    !text[usize::from(lo)..usize::from(hi)].contains('\n')
}

/// Writes patterns and values the way the module can name them.
struct Namer<'a> {
    hir: &'a dyn HirDatabase,
    map: &'a DefMap,
    module: &'a str,
}

impl Namer<'_> {
    /// A variant as this module writes it: bare when that is unambiguous, else qualified by
    /// its enum.
    fn variant(&self, owner: &VariantOwner, index: usize, name: &str) -> String {
        let VariantOwner::Enum(e) = owner else { return name.to_owned() };
        let scope = self.map.module(self.module).map(|m| &m.scope);
        let bare = scope.and_then(|s| s.variants.get(name)).is_some_and(
            |c| matches!(c.as_slice(), [v] if v.owner == *owner && v.index as usize == index),
        );
        if bare {
            name.to_owned()
        } else {
            format!("{}::{name}", name_in(self.map, self.module, e))
        }
    }

    /// The constructors of a type with finitely many, as patterns with `_` for their fields
    /// (index = variant index; `true` before `false`).
    fn constructors(&self, ty: &Ty) -> Vec<String> {
        let with_fields = |name: String, n: usize| {
            if n == 0 { name } else { format!("{name}({})", vec!["_"; n].join(", ")) }
        };
        match ty {
            Ty::Bool => vec!["true".into(), "false".into()],
            Ty::Option(_) => vec!["Some(_)".into(), "None".into()],
            Ty::Named(d) => match self.hir.signature(d).as_deref() {
                Some(Signature::Enum(e)) => {
                    let owner = VariantOwner::Enum(d.clone());
                    e.variants
                        .iter()
                        .enumerate()
                        .map(|(i, (name, fields))| {
                            with_fields(self.variant(&owner, i, name), fields.len())
                        })
                        .collect()
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// A simple value of `ty` that checks (zero, empty, the first variant), if it has one.
    fn value_of(&self, ty: &Ty, depth: usize) -> Option<String> {
        if depth > 4 {
            return None;
        }
        let fields = |fs: &[(smol_str::SmolStr, Ty)]| -> Option<String> {
            let values: Option<Vec<String>> = fs
                .iter()
                .map(|(n, t)| Some(format!("{n}: {}", self.value_of(t, depth + 1)?)))
                .collect();
            Some(values?.join(", "))
        };
        Some(match expand_alias(self.hir, ty) {
            Ty::Int => "0".into(),
            Ty::Bool => "false".into(),
            Ty::String => "\"\"".into(),
            Ty::Duration => "0ms".into(),
            Ty::Unit => "()".into(),
            Ty::List(_) => "[]".into(),
            Ty::Option(_) => "None".into(),
            Ty::Map(..) => "empty_map()".into(),
            Ty::Record(fs) if fs.is_empty() => "{}".into(),
            Ty::Record(fs) => format!("{{ {} }}", fields(&fs)?),
            Ty::Named(d) => match self.hir.signature(&d).as_deref()? {
                Signature::Enum(e) => {
                    let (name, args) = e.variants.first()?;
                    let name = self.variant(&VariantOwner::Enum(d.clone()), 0, name);
                    if args.is_empty() {
                        name
                    } else {
                        let args: Option<Vec<String>> =
                            args.iter().map(|t| self.value_of(t, depth + 1)).collect();
                        format!("{name}({})", args?.join(", "))
                    }
                }
                sig => {
                    let fs = sig.record_fields()?;
                    format!("{} {{ {} }}", name_in(self.map, self.module, &d), fields(&fs)?)
                }
            },
            Ty::Hash | Ty::Fn(_) | Ty::Var(_) | Ty::Error => return None,
        })
    }
}
