//! Schema evolution in the editor (docs/schema.md, "In the editor"): each `schema` of a
//! project is compared with the version the codebase's name pointer holds, the way
//! `tel schema diff #STORED FILE` compares them, and each change the program's rules refuse
//! becomes a warning on the field's name; a hover on a field shows its change class.
//!
//! Everything is a salsa query, split so that typing costs nothing here:
//! - the stored version ([`stored_schema`]) depends on the codebase only;
//! - the version in the sources ([`current_schema`]) on the schema and the types it names,
//!   not on any function body;
//! - which fields the project's functions read ([`fn_reads`], one scan per function,
//!   merged by [`project_reads`]) is asked only when the comparison removes a field, and a
//!   body edit that reads the same fields as before is backdated there;
//! - the migration configured in `tel.toml` ([`schema_migration`]) is looked for only when
//!   a change needs one.
//!
//! `tel.toml` enters the database as an input ([`Manifests`]): the host reads it when a
//! project is added, and [`AnalysisHost::set_manifest`] replaces it.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustc_hash::FxHashSet;
use salsa::{Durability, Setter};
use smol_str::SmolStr;
use tel_hash::CodeHash;
use tel_hash::core::DefKind;
use tel_hir::DefId;
use tel_hir::item_tree::ItemKind;
use tel_schema::{ChangeClass, Code, Diff, Manifest, Reads, Rule, Rules, SchemaVersion, Violation};
use tel_syntax::ast::{self, AstNode};
use tel_syntax::{SyntaxKind, SyntaxToken};
use tel_vm::{HostEffect, StoredDef};

use crate::db::{Db, Project, SourceFile};
use crate::features::HoverResult;
use crate::features::target::FileCtx;
use crate::queries::{self, DefLoc};
use crate::{AnalysisHost, Diagnostic, FileId, Severity, TextRange};

/// A change the rules do not allow (`[schema.evolution] allowed`).
pub const NOT_ALLOWED: &str = "W0601";
/// A change that needs a migration function, and `[schema] migrations` has none that fits.
pub const NEEDS_MIGRATION: &str = "W0602";
/// The evolution could not be checked: `tel.toml` or its migrations cannot be used, or the
/// stored version cannot be read.
pub const UNCHECKED: &str = "W0603";

/// The `tel.toml` text of each project root, as saved. One input for all projects: it
/// changes rarely, and each project's parse ([`project_manifest`]) is backdated when its own
/// text did not change.
#[salsa::input(singleton, debug)]
pub struct Manifests {
    #[returns(ref)]
    pub texts: BTreeMap<PathBuf, String>,
}

/// Creates the [`Manifests`] input of a new database (empty: no project has a `tel.toml` yet).
pub(crate) fn init(db: &dyn Db) {
    // A singleton: queries and the host find it again with `Manifests::get`.
    let _ = Manifests::builder(BTreeMap::new()).texts_durability(Durability::MEDIUM).new(db);
}

impl AnalysisHost {
    /// Sets (or, with `None`, removes) the `tel.toml` text of the project rooted at `root`:
    /// its evolution rules and migrations decide the schema warnings. Projects added with a
    /// root get the file on disk ([`AnalysisHost::add_project`]); an editor calls this for a
    /// `tel.toml` edited but not saved, a test for its fixture's.
    pub fn set_manifest(&mut self, root: &Path, text: Option<String>) {
        let input = Manifests::get(&self.db);
        let current = input.texts(&self.db);
        if current.get(root) == text.as_ref() {
            return;
        }
        let mut texts = current.clone();
        match text {
            Some(text) => texts.insert(root.to_path_buf(), text),
            None => texts.remove(root),
        };
        input.set_texts(&mut self.db).with_durability(Durability::MEDIUM).to(texts);
    }

    /// Reads `root/tel.toml` from disk into the engine (none there: none in the engine).
    pub(crate) fn read_manifest(&mut self, root: Option<&Path>) {
        let Some(root) = root else { return };
        let text = std::fs::read_to_string(root.join(crate::project::MANIFEST)).ok();
        self.set_manifest(root, text);
    }
}

/// A project's `tel.toml`, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ManifestState {
    /// A loose file, or a project folder without one: every class allowed, no migrations.
    Absent,
    Parsed(Arc<Manifest>),
    /// Unusable: the parse error, naming `tel.toml:line:column`.
    Invalid(String),
}

#[salsa::tracked(returns(ref))]
fn project_manifest(db: &dyn Db, project: Project) -> ManifestState {
    let Some(root) = project.root(db) else { return ManifestState::Absent };
    let Some(text) = Manifests::get(db).texts(db).get(root) else {
        return ManifestState::Absent;
    };
    match Manifest::parse(text, &root.join(crate::project::MANIFEST)) {
        Ok(m) => ManifestState::Parsed(Arc::new(m)),
        Err(e) => ManifestState::Invalid(e.to_string()),
    }
}

// ------------------------------------------------------------------------ code

/// A definition of the project as tel-schema reads code: its hash, its hashed core IR (with
/// its component, whose `Ref::Member`s it may use) and its qualified name. `None` while it
/// has no hash.
fn project_def(db: &dyn Db, loc: DefLoc<'_>) -> Option<(CodeHash, StoredDef, String)> {
    let def = loc.def(db);
    let qualified = def.qualified();
    let component = queries::hashed_component(db, loc)?;
    let member = component.members.iter().find(|m| m.name == qualified)?;
    let core = tel_hash::decode(&member.bytes).ok()?;
    let stored =
        StoredDef { def: core, component: component.component, name: Some(def.name.clone()) };
    Some((member.hash, stored, qualified.to_string()))
}

/// `module::item` (module paths contain `::`, item names never do).
fn def_id(qualified: &str) -> Option<DefId> {
    let (module, item) = qualified.rsplit_once("::")?;
    Some(DefId::new(module, item))
}

/// How far [`add_closure`] follows a definition's dependencies.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Follow {
    /// Everything it names: a function being scanned needs its callees' signatures.
    All,
    /// Types, schemas, enums and effects only: what a type's meaning depends on.
    Types,
}

/// Adds `root` to `code` with what tel-schema looks at around it: the definitions `root`
/// names (`first`), and through types, schemas, enums and effects — never through another
/// function's body — every type those name. Definitions named by `#hash` come from the
/// codebase. Returns the root's hash; `None` while the root, or a definition it needs, has
/// errors.
fn add_closure(
    db: &dyn Db,
    project: Project,
    root: &DefId,
    first: Follow,
    code: &mut Code,
) -> Option<CodeHash> {
    let mut root_hash = None;
    let mut seen: FxHashSet<DefId> = FxHashSet::default();
    // The hashes of the project's definitions named along the way, followed or not: the
    // other hashes the code names are `#hash` references into the codebase.
    let mut named: FxHashSet<CodeHash> = FxHashSet::default();
    // (definition, how its dependencies are followed, whether it is the root)
    let mut stack: Vec<(DefId, Follow, bool)> = vec![(root.clone(), first, true)];
    while let Some((def, follow, is_root)) = stack.pop() {
        if seen.contains(&def) || (!is_root && follow == Follow::Types && is_fn(db, project, &def))
        {
            continue;
        }
        let loc = DefLoc::new(db, project, def.clone());
        let (hash, stored, name) = project_def(db, loc)?;
        seen.insert(def);
        if is_root {
            root_hash = Some(hash);
        }
        code.insert(hash, stored, Some(name));
        let next = if is_root { first } else { Follow::Types };
        for dep in queries::def_deps(db, loc).iter() {
            let Some(dep) = def_id(dep) else { continue };
            if let Some(h) = queries::def_hash(db, DefLoc::new(db, project, dep.clone())) {
                named.insert(h);
            }
            stack.push((dep, next, false));
        }
    }
    let mut missing: Vec<CodeHash> = code
        .defs
        .values()
        .flat_map(|d| tel_hash::hash_deps(&d.def))
        .filter(|h| {
            !code.defs.contains_key(h) && !named.contains(h) && HostEffect::from_hash(h).is_none()
        })
        .collect();
    missing.sort();
    missing.dedup();
    if !missing.is_empty() {
        let codebase = project.codebase(db).codebase(db).clone()?;
        let store = codebase.store();
        for hash in missing {
            code.add_closure(&store, &hash).ok()?;
        }
    }
    root_hash
}

/// Whether a definition of the project is a function (from its file's declarations, without
/// lowering it).
fn is_fn(db: &dyn Db, project: Project, def: &DefId) -> bool {
    let Some(file) = queries::module_file(db, project, &def.module) else { return false };
    let tree = queries::item_tree(db, file);
    tree.item_by_name(&def.name).is_some_and(|(_, item)| matches!(item.kind, ItemKind::Fn(_)))
}

/// The schema as the sources have it, with the types it names.
#[derive(Debug)]
struct Current {
    schema: SchemaVersion,
    code: Code,
}

impl PartialEq for Current {
    /// A hash determines its closure; only names (shown in messages) can differ beside it.
    fn eq(&self, other: &Current) -> bool {
        self.schema == other.schema && self.code.names == other.code.names
    }
}

#[salsa::tracked(returns(clone))]
fn current_schema<'db>(db: &'db dyn Db, loc: DefLoc<'db>) -> Option<Arc<Current>> {
    let mut code = Code::default();
    let hash = add_closure(db, loc.project(db), loc.def(db), Follow::Types, &mut code)?;
    let schema = code.schema(&hash).ok()?;
    Some(Arc::new(Current { schema, code }))
}

/// The version the codebase's name pointer holds, with the codebase's functions that depend
/// on it (the program that wrote its state: what reads its fields).
#[derive(Debug)]
struct Stored {
    schema: SchemaVersion,
    code: Code,
    reads: Reads,
}

impl PartialEq for Stored {
    fn eq(&self, other: &Stored) -> bool {
        self.schema == other.schema
            && self.reads == other.reads
            && self.code.names == other.code.names
    }
}

/// `None`: no codebase, or the name points at no schema (the schema is new). `Err`: the
/// codebase could not be read.
#[salsa::tracked(returns(clone))]
fn stored_schema<'db>(db: &'db dyn Db, loc: DefLoc<'db>) -> Option<Result<Arc<Stored>, String>> {
    let codebase = loc.project(db).codebase(db).codebase(db).clone()?;
    let store = codebase.store();
    let name = loc.def(db).qualified();
    let found = match store.get_by_name(&name) {
        Ok(found) => found?,
        Err(e) => return Some(Err(format!("the codebase cannot be read: {e}"))),
    };
    if found.kind != DefKind::Schema {
        return None;
    }
    let load = || -> Result<Stored, String> {
        let mut code = Code::default();
        code.add_closure(&store, &found.hash).map_err(|e| e.to_string())?;
        let readers = code.add_dependents(&store, &found.hash).map_err(|e| e.to_string())?;
        let schema = code.schema(&found.hash).map_err(|e| e.to_string())?;
        let reads = Reads::of_functions(&code, readers);
        Ok(Stored { schema, code, reads })
    };
    Some(load().map(Arc::new).map_err(|e| format!("the stored `{name}` cannot be read: {e}")))
}

/// The fields one function reads. Its callees are loaded for their signatures only, so an
/// edit inside a callee's body does not change this answer (it re-runs, for the callee's
/// new hash, and is backdated).
#[salsa::tracked(returns(clone))]
fn fn_reads<'db>(db: &'db dyn Db, loc: DefLoc<'db>) -> Option<Arc<Reads>> {
    let mut code = Code::default();
    let hash = add_closure(db, loc.project(db), loc.def(db), Follow::All, &mut code)?;
    Some(Arc::new(Reads::of_functions(&code, [hash])))
}

/// The fields the project's functions read (the prelude's read none of the project's
/// types). Unchanged — and backdated — when an edit leaves every function's reads as they
/// were.
#[salsa::tracked(returns(clone))]
fn project_reads(db: &dyn Db, project: Project) -> Arc<Reads> {
    let mut reads = Reads::default();
    for entry in project.layout(db).entries.iter() {
        if entry.module == tel_hir::PRELUDE_MODULE {
            continue;
        }
        let tree = queries::item_tree(db, entry.file);
        for (id, item) in tree.items.iter() {
            // The first item of a name is the definition; later ones are duplicates.
            if !matches!(item.kind, ItemKind::Fn(_)) || tree.by_name.get(&item.name) != Some(&id) {
                continue;
            }
            let def = DefId::new(entry.module.clone(), item.name.clone());
            if let Some(r) = fn_reads(db, DefLoc::new(db, project, def)) {
                reads.extend(&r);
            }
        }
    }
    Arc::new(reads)
}

/// The migration function `tel.toml`'s `[schema] migrations` has for the stored version →
/// the version in the sources, as `tel schema migrate` finds it: each `#hash` among the
/// project's definitions first, else in the codebase; the one of type `fn(Old) -> New`.
/// `Err` names the `tel.toml` place of a reference that does not resolve, or says that two fit.
#[salsa::tracked(returns(clone))]
fn schema_migration<'db>(
    db: &'db dyn Db,
    loc: DefLoc<'db>,
) -> Result<Option<(CodeHash, String)>, String> {
    let project = loc.project(db);
    let ManifestState::Parsed(manifest) = project_manifest(db, project) else { return Ok(None) };
    if manifest.migrations.is_empty() {
        return Ok(None);
    }
    let (Some(Ok(stored)), Some(current)) = (stored_schema(db, loc), current_schema(db, loc))
    else {
        return Ok(None);
    };
    let (old, new) = (stored.schema.hash, current.schema.hash);
    let hashes = queries::project_hashes(db, project);
    let mut code = Code::default();
    let mut fitting: Vec<CodeHash> = Vec::new();
    for r in &manifest.migrations {
        let mut found: Vec<(&DefId, CodeHash)> =
            hashes.iter().filter(|(_, h)| r.prefix.matches(h)).map(|(d, h)| (d, *h)).collect();
        found.sort_by_key(|(d, h)| (*h, d.qualified()));
        found.dedup_by_key(|(_, h)| *h);
        let hash = match found.as_slice() {
            [(def, _)] => {
                let (hash, stored, name) =
                    project_def(db, DefLoc::new(db, project, (*def).clone()))
                        .ok_or_else(|| format!("{}: {} has errors", r.place, def.qualified()))?;
                code.insert(hash, stored, Some(name));
                hash
            }
            [] => {
                let Some(codebase) = project.codebase(db).codebase(db).clone() else {
                    return Err(format!(
                        "{}: {} is not a definition of the project, and there is no codebase",
                        r.place,
                        r.text()
                    ));
                };
                let store = codebase.store();
                let hash =
                    store.resolve_prefix(&r.text()).map_err(|e| format!("{}: {e}", r.place))?;
                code.add_closure(&store, &hash).map_err(|e| format!("{}: {e}", r.place))?;
                hash
            }
            several => {
                let names: Vec<String> =
                    several.iter().map(|(d, _)| d.qualified().to_string()).collect();
                return Err(format!(
                    "{}: {} matches {} definitions ({}); write more digits",
                    r.place,
                    r.text(),
                    several.len(),
                    names.join(", ")
                ));
            }
        };
        if tel_schema::migrate::check_function(&code, &hash, &old, &new).is_ok() {
            fitting.push(hash);
        }
    }
    fitting.sort();
    fitting.dedup();
    match fitting.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some((*one, format!("{} #{}", code.name(one), one.short())))),
        several => Err(format!(
            "{}: {} migrations fit #{} -> #{} ({}); keep one",
            manifest.path.display(),
            several.len(),
            old.short(),
            new.short(),
            several.iter().map(|h| code.name(h)).collect::<Vec<_>>().join(", ")
        )),
    }
}

// ------------------------------------------------------------------------ the check

/// One schema of the sources against its stored version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaCheck {
    /// `vault::Vault #kpops9lj`: the stored version.
    pub stored: String,
    /// `None` when the stored version could not be read (see `problems`).
    pub diff: Option<Diff>,
    /// `None` when `tel.toml` cannot be read (see `problems`).
    pub rules: Option<Rules>,
    /// The migration covering the changes that need one, by name.
    pub migration: Option<String>,
    pub violations: Vec<Violation>,
    /// Why the check is incomplete (an unreadable `tel.toml`, a `[schema] migrations`
    /// reference that does not resolve, an unreadable codebase).
    pub problems: Vec<String>,
}

/// The schema `loc` compared with the version its name points at in the codebase. `None`
/// without a codebase, when the name points at no schema, or while the schema has errors.
#[salsa::tracked(returns(clone))]
pub(crate) fn schema_check<'db>(db: &'db dyn Db, loc: DefLoc<'db>) -> Option<Arc<SchemaCheck>> {
    let stored = stored_schema(db, loc)?;
    let current = current_schema(db, loc)?;
    let stored = match stored {
        Ok(stored) => stored,
        Err(problem) => {
            return Some(Arc::new(SchemaCheck {
                stored: loc.def(db).qualified().to_string(),
                diff: None,
                rules: None,
                migration: None,
                violations: Vec::new(),
                problems: vec![problem],
            }));
        }
    };
    let project = loc.project(db);
    let compare = |reads: &Reads| {
        tel_schema::compare(&stored.code, &stored.schema, &current.code, &current.schema, reads)
    };
    let mut diff = compare(&stored.reads).diff;
    // A removed field is read by the project's own code only through an access whose type
    // is unknown, or by a function taking the old version (a migration): look only then.
    if diff.changes.iter().any(|c| c.class == ChangeClass::RemoveUnusedField) {
        let project_reads = project_reads(db, project);
        if !project_reads.is_empty() {
            let mut reads = stored.reads.clone();
            reads.extend(&project_reads);
            diff = compare(&reads).diff;
        }
    }
    let mut problems = Vec::new();
    let rules = match project_manifest(db, project) {
        ManifestState::Absent => Some(Rules::default()),
        ManifestState::Parsed(m) => Some(m.rules.clone()),
        ManifestState::Invalid(e) => {
            problems.push(format!("the evolution rules cannot be read: {e}"));
            None
        }
    };
    let mut migration = None;
    let mut violations = Vec::new();
    if let Some(rules) = &rules {
        if diff.changes.iter().any(|c| !c.automatic && rules.allows(c.class)) {
            match schema_migration(db, loc) {
                Ok(found) => migration = found,
                Err(e) => problems.push(e),
            }
        }
        violations = tel_schema::check_evolution(&diff, rules, migration.as_ref().map(|(h, _)| h));
    }
    let migration = migration.map(|(_, name)| name);
    Some(Arc::new(SchemaCheck {
        stored: stored.schema.label(),
        diff: Some(diff),
        rules,
        migration,
        violations,
        problems,
    }))
}

/// The checks of a file's schemas, by schema name, in source order. Depends on the file's
/// declarations (not its bodies) and nothing else while the project has no codebase.
#[salsa::tracked(returns(clone))]
fn file_checks(
    db: &dyn Db,
    project: Project,
    file: SourceFile,
) -> Arc<[(SmolStr, Arc<SchemaCheck>)]> {
    if project.codebase(db).codebase(db).is_none() {
        return Arc::from([]);
    }
    let tree = queries::item_tree(db, file);
    let module = queries::module_name(db, file);
    let mut out = Vec::new();
    for (id, item) in tree.items.iter() {
        if !matches!(item.kind, ItemKind::Schema(_)) || tree.by_name.get(&item.name) != Some(&id) {
            continue;
        }
        let loc = DefLoc::new(db, project, DefId::new(module.clone(), item.name.clone()));
        if let Some(check) = schema_check(db, loc) {
            out.push((item.name.clone(), check));
        }
    }
    out.into()
}

/// The warnings of `file`'s schemas (see the module docs), placed on field names: a change
/// under field `f` on `f`, a removed field on the schema's name.
pub(crate) fn diagnostics(
    db: &dyn Db,
    file: FileId,
    project: Project,
    input: SourceFile,
) -> Vec<Diagnostic> {
    let checks = file_checks(db, project, input);
    if checks.is_empty() {
        return Vec::new();
    }
    let (tree, map) = queries::item_tree_with_map(db, input).clone();
    let mut out = Vec::new();
    for (name, check) in checks.iter() {
        let Some((id, item)) = tree.item_by_name(name) else { continue };
        let ItemKind::Schema(fields) = &item.kind else { continue };
        let places = &map.items[id];
        let field_range = |field: &str| {
            fields
                .iter()
                .position(|f| f.name == field)
                .and_then(|i| places.members.get(i).copied())
                .unwrap_or(places.name)
        };
        let warning = |range, code, label: &str, message: String| Diagnostic {
            file,
            range,
            severity: Severity::Warning,
            code,
            message,
            label: label.to_owned(),
            related: Vec::new(),
        };
        for problem in &check.problems {
            out.push(warning(
                places.name,
                UNCHECKED,
                "schema evolution not checked",
                format!(
                    "schema evolution against the stored {} is not checked: {problem}",
                    check.stored
                ),
            ));
        }
        for v in &check.violations {
            let (code, label) = match v.rule {
                Rule::NotAllowed => (NOT_ALLOWED, "not allowed by the evolution rules"),
                Rule::NeedsMigration => (NEEDS_MIGRATION, "needs a migration"),
            };
            let mut message = format!("{} (against the stored {})", v.message, check.stored);
            let read_by = check.diff.iter().flat_map(|d| &d.changes).find(|c| c.path == v.path);
            if let Some(change) = read_by.filter(|c| !c.read_by.is_empty()) {
                let _ = write!(message, "; read by {}", change.read_by.join(", "));
            }
            out.push(warning(field_range(&v.field), code, label, message));
        }
    }
    out
}

// ------------------------------------------------------------------------ hover

/// What a hover on a schema's name or field adds: the change class against the stored
/// version.
pub(crate) struct EvolutionHover {
    range: TextRange,
    /// The field's declaration, for a hover that has nothing else to show.
    header: String,
    section: String,
}

impl EvolutionHover {
    /// The hover when nothing else is known about the name.
    pub(crate) fn alone(self) -> HoverResult {
        HoverResult {
            range: self.range,
            markup: format!("{}\n---\n\n{}", self.header, self.section),
        }
    }

    /// `markup` with the evolution appended.
    pub(crate) fn append(markup: String, extra: Option<EvolutionHover>) -> String {
        match extra {
            Some(e) => format!("{markup}\n---\n\n{}", e.section),
            None => markup,
        }
    }
}

/// The evolution of the schema (or schema field) whose name `token` is, against the stored
/// version; `None` elsewhere, and where there is no stored version.
pub(crate) fn hover(ctx: &FileCtx<'_>, token: &SyntaxToken) -> Option<EvolutionHover> {
    if token.kind() != SyntaxKind::IDENT {
        return None;
    }
    let name = token.parent().filter(|n| n.kind() == SyntaxKind::NAME)?;
    let owner = name.parent()?;
    let (item, field) = match owner.kind() {
        SyntaxKind::SCHEMA_ITEM => (owner, None),
        SyntaxKind::SCHEMA_FIELD => {
            (owner.parent().filter(|n| n.kind() == SyntaxKind::SCHEMA_ITEM)?, Some(owner))
        }
        _ => return None,
    };
    let def = ctx.item_def(&item)?;
    let check = schema_check(ctx.db, ctx.def_loc(def.clone()))?;
    let mut section = String::new();
    match field {
        Some(node) => {
            let field = ast::SchemaField::cast(node)?;
            let name = token.text();
            let mut header = format!("```tel\n{name}: ");
            header.push_str(&field.ty().map(|t| t.syntax().text().to_string()).unwrap_or_default());
            if let Some(default) = field.default() {
                let _ = write!(header, " = {}", default.syntax().text());
            }
            let _ = write!(header, "\n```\nfield of schema `{}`\n", def.qualified());
            field_section(&check, name, &mut section);
            Some(EvolutionHover { range: token.text_range(), header, section })
        }
        None => {
            schema_section(&check, &mut section);
            Some(EvolutionHover { range: token.text_range(), header: String::new(), section })
        }
    }
}

fn change_line(c: &tel_schema::Change, out: &mut String) {
    let side = |s: &Option<String>| s.as_deref().map_or("-".to_owned(), |t| format!("`{t}`"));
    let how = if c.automatic { "automatic" } else { "not automatic" };
    let _ = write!(
        out,
        "- `{}`: **{}** ({how}) · {} → {} · stored state: {}",
        c.path,
        c.class,
        side(&c.old),
        side(&c.new),
        c.state
    );
    if !c.read_by.is_empty() {
        let _ = write!(out, " · read by {}", c.read_by.join(", "));
    }
    if let Some(note) = &c.note {
        let _ = write!(out, " · note: {note}");
    }
    out.push('\n');
}

fn field_section(check: &SchemaCheck, field: &str, out: &mut String) {
    let Some(diff) = &check.diff else {
        let _ = writeln!(out, "schema evolution not checked: {}", check.problems.join("; "));
        return;
    };
    let changes: Vec<_> = diff.changes_of_field(field).collect();
    if changes.is_empty() {
        let _ = writeln!(out, "unchanged since the stored `{}`", check.stored);
        return;
    }
    let _ = writeln!(out, "against the stored `{}`:\n", check.stored);
    for c in changes {
        change_line(c, out);
    }
    refusals(check, Some(field), out);
}

fn schema_section(check: &SchemaCheck, out: &mut String) {
    let Some(diff) = &check.diff else {
        let _ = writeln!(out, "schema evolution not checked: {}", check.problems.join("; "));
        return;
    };
    let n = diff.changes.len();
    let _ = writeln!(
        out,
        "against the stored `{}`: **{}** ({n} change{})",
        check.stored,
        diff.verdict.as_str(),
        if n == 1 { "" } else { "s" }
    );
    if n > 0 {
        out.push('\n');
        for c in &diff.changes {
            change_line(c, out);
        }
    }
    if let Some(m) = &check.migration {
        let _ = writeln!(out, "\nmigration: `{m}` covers the changes that need one");
    }
    match &check.rules {
        Some(rules) if n > 0 => {
            let _ = writeln!(out, "\nrules: {}", rules.describe());
        }
        _ => {}
    }
    refusals(check, None, out);
}

/// The violations (of `field`, or all), and why the check is incomplete.
fn refusals(check: &SchemaCheck, field: Option<&str>, out: &mut String) {
    let refused: Vec<&Violation> =
        check.violations.iter().filter(|v| field.is_none_or(|f| v.field == f)).collect();
    if !refused.is_empty() {
        out.push('\n');
        for v in refused {
            let _ = writeln!(out, "**refused**: {}", v.message);
        }
    }
    for p in &check.problems {
        let _ = writeln!(out, "\nnot checked: {p}");
    }
}
