//! `tel schema`: compare two versions of a schema and move stored state between them
//! (docs/schema.md). The classification, the rules and the migrations are tel-schema's; this
//! module finds the versions (in sources or in the codebase), the program's `tel.toml`, and
//! turns the answers into output and exit statuses. It also loads a project's sources into
//! tel-schema's `Code`, for `tel build` as well.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde_json::{Value as Json, json};
use tel_hash::CodeHash;
use tel_hash::core::DefKind;
use tel_ide::{Analysis, Definition, FileId, Severity};
use tel_schema::manifest::{HashRef, Manifest};
use tel_schema::migrate::{self, Method};
use tel_schema::{Code, Evolution, Reads, Rules, SchemaVersion, Violation};
use tel_store::{ComponentMember, Store};
use tel_vm::{HostEffect, StoredDef};

use crate::run::{Stop, codebase_for, stopped};
use crate::{exit, load, render};

#[derive(Args)]
pub struct SchemaArgs {
    #[command(subcommand)]
    cmd: SchemaCommand,
}

#[derive(Subcommand)]
enum SchemaCommand {
    /// Compare two versions of a schema: every change with its class, and the verdict.
    Diff {
        /// The old version: FILE.tel, FILE.tel::Name, a project folder, or #HASH (codebase).
        old: String,
        /// The new version, in the same forms. A file with several schemas gives the one
        /// named like the old version.
        new: String,
        #[command(flatten)]
        at: Where,
        /// Print `{"old","new","verdict","changes","rules","migration","violations","accepted"}`.
        #[arg(long)]
        json: bool,
    },
    /// Move stored state (a JSON file) from one schema version to another.
    Migrate {
        /// The version the state is in (forms as for `diff`).
        #[arg(long, value_name = "VERSION")]
        from: String,
        /// The version to move it to.
        #[arg(long, value_name = "VERSION")]
        to: String,
        /// The state, in the JSON form of language.md §10. Never modified.
        #[arg(long, value_name = "FILE")]
        state: PathBuf,
        /// Where to write the new state (atomically) [default: standard output].
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        at: Where,
    },
}

#[derive(Args)]
struct Where {
    /// The tel.toml whose evolution rules and migrations apply [default: the one of the new
    /// version's project, else the one of the current folder's].
    #[arg(long, value_name = "PATH")]
    manifest: Option<PathBuf>,
    /// The codebase that `#HASH` versions and `#hash` references are read from [default:
    /// $TEL_CODEBASE, else .tel/codebase.sqlite under the folder holding tel.toml].
    #[arg(long, alias = "store", value_name = "PATH")]
    codebase: Option<PathBuf>,
}

pub fn run(args: SchemaArgs) -> Result<u8, String> {
    let result = match args.cmd {
        SchemaCommand::Diff { old, new, at, json } => diff(&old, &new, &at, json),
        SchemaCommand::Migrate { from, to, state, out, at } => {
            migrate_state(&from, &to, &state, out.as_deref(), &at)
        }
    };
    Ok(result.unwrap_or_else(stopped))
}

/// Writes to standard output; a reader that stopped early (`| head`) is not an error.
pub(crate) fn emit(text: &str) -> Result<(), Stop> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Stop::Usage(format!("cannot write the output: {e}")))
        }
        _ => Ok(()),
    }
}

fn cancelled(_: tel_ide::Cancelled) -> String {
    "analysis was cancelled".to_owned()
}

// ------------------------------------------------------------------------ sources

/// A definition of the loaded sources, with what the store needs to keep it.
pub(crate) struct SourceDef {
    pub file: FileId,
    pub def: Definition,
    pub hash: CodeHash,
    /// tel-hash's canonical bytes.
    pub bytes: Vec<u8>,
    pub member: Option<ComponentMember>,
}

/// A project (or a loose file) checked, hashed and decoded.
pub(crate) struct Source {
    pub code: Code,
    pub analysis: Analysis,
    /// The folder holding `tel.toml`, for a project.
    pub root: Option<PathBuf>,
    /// The files named on the command line.
    pub reported: Vec<FileId>,
    pub defs: Vec<SourceDef>,
    /// The program's functions: what reads of a schema's fields are looked for in.
    pub functions: Vec<CodeHash>,
}

/// Loads `path` (a `.tel` file or a folder) with every module of its project. A project
/// with errors is refused with its diagnostics. Definitions named by `#hash` come from the
/// codebase at `codebase`.
pub(crate) fn load_source(path: &Path, codebase: Option<&Path>) -> Result<Source, Stop> {
    if !path.exists() {
        return Err(Stop::Usage(format!("{}: no such file or folder", path.display())));
    }
    let loaded = load::load_with(vec![path.to_path_buf()], codebase)?;
    let analysis = loaded.analysis;
    let mut errors = Vec::new();
    for file in analysis.files() {
        let diagnostics = analysis.diagnostics(file).map_err(cancelled)?;
        errors.extend(diagnostics.into_iter().filter(|d| d.severity == Severity::Error));
    }
    if !errors.is_empty() {
        eprint!("{}", render::to_text(&analysis, &errors));
        let files: HashSet<FileId> = errors.iter().map(|d| d.file).collect();
        return Err(Stop::Refused(format!(
            "{} has {} error(s) in {} file(s) (see `tel check`)",
            path.display(),
            errors.len(),
            files.len()
        )));
    }
    let mut source = Source {
        code: Code::default(),
        root: tel_ide::project::find_root(path),
        reported: loaded.reported,
        defs: Vec::new(),
        functions: Vec::new(),
        analysis,
    };
    let analysis = &source.analysis;
    for file in analysis.files() {
        let prelude = analysis.file_path(file) == Path::new(tel_ide::PRELUDE_PATH);
        for def in analysis.definitions(file).map_err(cancelled)? {
            let member = analysis
                .hashed(file, &def.name)
                .map_err(cancelled)?
                .ok_or_else(|| format!("{}: the engine gave no hash", def.qualified()))?;
            let core =
                tel_hash::decode(&member.bytes).map_err(|e| format!("{}: {e}", def.qualified()))?;
            let component = if member.hash == tel_hash::hash_bytes(&member.bytes) {
                None
            } else {
                let hashed = analysis
                    .component(file, &def.name)
                    .map_err(cancelled)?
                    .ok_or_else(|| format!("{}: its component has no hash", def.qualified()))?;
                let index = hashed.members.iter().position(|m| m.hash == member.hash);
                hashed
                    .component
                    .zip(index)
                    .map(|(component, index)| ComponentMember { component, index: index as u32 })
            };
            if def.kind == DefKind::Fn && !prelude {
                source.functions.push(member.hash);
            }
            source.code.insert(
                member.hash,
                StoredDef {
                    def: core,
                    component: component.as_ref().map(|c| c.component),
                    name: Some(def.name.clone()),
                },
                Some(def.qualified()),
            );
            source.defs.push(SourceDef {
                file,
                hash: member.hash,
                bytes: member.bytes.clone(),
                member: component,
                def,
            });
        }
    }
    // `#hash` references: the checker found them in the codebase; load them from there.
    let wanted: Vec<CodeHash> = {
        let mut all: Vec<CodeHash> = source
            .code
            .defs
            .values()
            .flat_map(|d| tel_hash::hash_deps(&d.def))
            .filter(|h| !source.code.defs.contains_key(h) && HostEffect::from_hash(h).is_none())
            .collect();
        all.sort();
        all.dedup();
        all
    };
    if !wanted.is_empty() {
        let store = open_codebase(
            codebase,
            &format!("{} refers to #{} by hash", path.display(), wanted[0].short()),
        )?;
        for hash in &wanted {
            source.code.add_closure(&store, hash).map_err(|e| Stop::Usage(e.to_string()))?;
        }
    }
    source.functions.sort();
    source.functions.dedup();
    Ok(source)
}

/// Opens the codebase at `path`, which must exist; `why` says what needs it.
fn open_codebase(path: Option<&Path>, why: &str) -> Result<Store, Stop> {
    let Some(path) = path.filter(|p| p.exists()) else {
        return Err(Stop::Usage(format!(
            "{why}, and there is no codebase to read it from: run inside a TEL project, or set \
             TEL_CODEBASE (or --codebase) to the codebase file"
        )));
    };
    Store::open_existing(path).map_err(|e| Stop::Usage(e.to_string()))
}

impl Source {
    /// The schemas of the named files (of the whole project when a folder was named).
    fn schemas(&self) -> Vec<&SourceDef> {
        let reported: HashSet<FileId> = self.reported.iter().copied().collect();
        self.defs
            .iter()
            .filter(|d| d.def.kind == DefKind::Schema && reported.contains(&d.file))
            .collect()
    }

    /// The definition `name` (`Name` or `module::Name`) of the named files, else of the project.
    pub(crate) fn find(&self, name: &str, kind: DefKind) -> Vec<&SourceDef> {
        let matches = |d: &&SourceDef| {
            d.def.kind == kind && (d.def.name == name || d.def.qualified() == name)
        };
        let reported: HashSet<FileId> = self.reported.iter().copied().collect();
        let here: Vec<&SourceDef> =
            self.defs.iter().filter(|d| reported.contains(&d.file)).filter(matches).collect();
        if !here.is_empty() || !name.contains("::") {
            return here;
        }
        self.defs.iter().filter(matches).collect()
    }
}

// ------------------------------------------------------------------------ versions

/// A schema version and the code around it.
struct Version {
    schema: SchemaVersion,
    code: Code,
    /// The functions of its program (for a codebase version: everything stored that
    /// depends on it).
    functions: Vec<CodeHash>,
    /// Its project's root, when it came from a project's sources.
    root: Option<PathBuf>,
}

/// `FILE.tel`, `FILE.tel::Name`, `FILE.tel::module::Name`, `FOLDER`, `FOLDER::Name`, `#HASH`.
fn split_spec(text: &str) -> (PathBuf, Option<String>) {
    if let Some(i) = text.find(".tel::") {
        return (PathBuf::from(&text[..i + 4]), Some(text[i + 6..].to_owned()));
    }
    if let Some((dir, name)) = text.split_once("::")
        && Path::new(dir).is_dir()
    {
        return (PathBuf::from(dir), Some(name.to_owned()));
    }
    (PathBuf::from(text), None)
}

/// Finds the version `spec` names. `like` is the other version's simple name (a file with
/// several schemas gives the one so named); `explicit` is `--codebase`.
fn version(spec: &str, like: Option<&str>, explicit: Option<&Path>) -> Result<Version, Stop> {
    if spec.starts_with('#') {
        let codebase = codebase_for(explicit, Path::new("."))?;
        let store = open_codebase(codebase.as_deref(), &format!("{spec} is a hash"))?;
        let hash = store.resolve_prefix(spec).map_err(|e| match e {
            tel_store::Error::HashNotFound { .. }
            | tel_store::Error::AmbiguousHash { .. }
            | tel_store::Error::InvalidHash(_)
            | tel_store::Error::NoSuchMember { .. } => Stop::Refused(e.to_string()),
            e => Stop::Usage(e.to_string()),
        })?;
        let mut code = Code::default();
        code.add_closure(&store, &hash).map_err(|e| Stop::Usage(e.to_string()))?;
        let schema = code.schema(&hash).map_err(|e| Stop::Refused(format!("{spec}: {e}")))?;
        let functions =
            code.add_dependents(&store, &hash).map_err(|e| Stop::Usage(e.to_string()))?;
        return Ok(Version { schema, code, functions, root: None });
    }
    let (path, name) = split_spec(spec);
    let codebase = codebase_for(explicit, &path)?;
    let source = load_source(&path, codebase.as_deref())?;
    let manifest_schema = match source.root.as_ref().map(|r| r.join("tel.toml")) {
        Some(p) if p.is_file() => Manifest::load(&p).ok().and_then(|m| m.schema),
        _ => None,
    };
    let candidates: Vec<&SourceDef> = match &name {
        Some(n) => source.find(n, DefKind::Schema),
        None => {
            let all = source.schemas();
            let pick = |n: &str| -> Vec<&SourceDef> {
                all.iter().copied().filter(|d| d.def.name == n || d.def.qualified() == n).collect()
            };
            match (like.map(pick), manifest_schema.as_deref().map(pick)) {
                (Some(found), _) if found.len() == 1 => found,
                (_, Some(found)) if found.len() == 1 => found,
                _ => all,
            }
        }
    };
    let chosen = match candidates.as_slice() {
        [one] => *one,
        [] => {
            return Err(Stop::Refused(match &name {
                Some(n) => format!("{}: no schema named `{n}`", path.display()),
                None => format!("{}: no schema in it", path.display()),
            }));
        }
        several => {
            let names: Vec<String> = several.iter().map(|d| d.def.qualified()).collect();
            return Err(Stop::Refused(format!(
                "{}: {} schemas ({}); name one: {}::{}",
                path.display(),
                several.len(),
                names.join(", "),
                path.display(),
                several[0].def.name
            )));
        }
    };
    let schema = source.code.schema(&chosen.hash).map_err(|e| Stop::Refused(e.to_string()))?;
    Ok(Version { schema, functions: source.functions, root: source.root, code: source.code })
}

/// The evolution from `old` to `new`, with the reads of both programs.
fn evolution(old: &Version, new: &Version) -> Evolution {
    let mut all = old.code.clone();
    all.extend(&new.code);
    let reads = Reads::of_functions(&all, old.functions.iter().chain(&new.functions).copied());
    tel_schema::compare(&old.code, &old.schema, &new.code, &new.schema, &reads)
}

/// The `tel.toml` that governs an evolution to `new`: `--manifest`, else the new version's
/// project's, else the current folder's project's.
fn manifest_for(explicit: Option<&Path>, new: &Version) -> Result<Option<Manifest>, Stop> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => new
            .root
            .as_ref()
            .map(|r| r.join("tel.toml"))
            .or_else(|| Manifest::find(Path::new(".")))
            .map(|p| tel_ide::project::clean(&p)),
    };
    match path {
        Some(p) if explicit.is_some() || p.is_file() => {
            Manifest::load(&p).map(Some).map_err(|e| Stop::Refused(e.to_string()))
        }
        _ => Ok(None),
    }
}

/// The definition a `tel.toml` hash reference names: among `code`'s definitions, else in
/// the codebase (whose closure is then added to `code`).
pub(crate) fn resolve_ref(
    r: &HashRef,
    code: &mut Code,
    codebase: Option<&Path>,
) -> Result<CodeHash, Stop> {
    let mut found: Vec<CodeHash> =
        code.defs.keys().filter(|h| r.prefix.matches(h)).copied().collect();
    found.sort();
    match found.as_slice() {
        [one] => return Ok(*one),
        [] => {}
        several => {
            let list: Vec<String> =
                several.iter().map(|h| format!("{} {}", h.full(), code.name(h))).collect();
            return Err(Stop::Refused(format!(
                "{}: {} matches {} definitions; write more digits:\n  {}",
                r.place,
                r.text(),
                several.len(),
                list.join("\n  ")
            )));
        }
    }
    let store = open_codebase(
        codebase,
        &format!("{}: {} is not a definition of the program", r.place, r.text()),
    )?;
    let hash =
        store.resolve_prefix(&r.text()).map_err(|e| Stop::Refused(format!("{}: {e}", r.place)))?;
    code.add_closure(&store, &hash).map_err(|e| Stop::Usage(e.to_string()))?;
    Ok(hash)
}

/// The migration function of `manifest` for `old` → `new`, if one fits.
fn migration_for(
    manifest: Option<&Manifest>,
    code: &mut Code,
    codebase: Option<&Path>,
    old: &CodeHash,
    new: &CodeHash,
) -> Result<Option<CodeHash>, Stop> {
    let Some(m) = manifest else { return Ok(None) };
    let mut fitting = Vec::new();
    for r in &m.migrations {
        let hash = resolve_ref(r, code, codebase)?;
        if migrate::check_function(code, &hash, old, new).is_ok() {
            fitting.push(hash);
        }
    }
    match fitting.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        several => Err(Stop::Refused(format!(
            "{}: {} migrations fit #{} -> #{} ({}); keep one",
            m.path.display(),
            several.len(),
            old.short(),
            new.short(),
            several.iter().map(|h| code.name(h)).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Both versions, the evolution, the rules and the migration, checked.
struct Checked {
    old: Version,
    new: Version,
    evolution: Evolution,
    rules: Rules,
    migration: Option<CodeHash>,
    /// All code: both versions' and the migration's.
    code: Code,
    violations: Vec<Violation>,
}

fn check(old_spec: &str, new_spec: &str, at: &Where) -> Result<Checked, Stop> {
    let old = version(old_spec, None, at.codebase.as_deref())?;
    let like = old.schema.name.as_deref().map(|n| n.rsplit("::").next().unwrap_or(n).to_owned());
    let new = version(new_spec, like.as_deref(), at.codebase.as_deref())?;
    let evolution = evolution(&old, &new);
    let manifest = manifest_for(at.manifest.as_deref(), &new)?;
    let rules = manifest.as_ref().map(|m| m.rules.clone()).unwrap_or_default();
    let mut code = new.code.clone();
    code.extend(&old.code);
    let start = new.root.clone().unwrap_or_else(|| PathBuf::from("."));
    let codebase = codebase_for(at.codebase.as_deref(), &start)?;
    let migration = if old.schema.hash == new.schema.hash {
        None
    } else {
        migration_for(
            manifest.as_ref(),
            &mut code,
            codebase.as_deref(),
            &old.schema.hash,
            &new.schema.hash,
        )?
    };
    let violations = tel_schema::check_evolution(&evolution.diff, &rules, migration.as_ref());
    Ok(Checked { old, new, evolution, rules, migration, code, violations })
}

// ------------------------------------------------------------------------ diff

fn diff(old: &str, new: &str, at: &Where, json: bool) -> Result<u8, Stop> {
    let c = check(old, new, at)?;
    let accepted = c.violations.is_empty();
    if json {
        let out = json!({
            "old": c.evolution.diff.old,
            "new": c.evolution.diff.new,
            "verdict": c.evolution.diff.verdict,
            "changes": c.evolution.diff.changes,
            "rules": {
                "origin": c.rules.origin,
                "allowed": c.rules.allowed_list().iter().map(|x| x.as_str()).collect::<Vec<_>>(),
            },
            "migration": c.migration.map(|h| json!({"hash": h.to_base32hex(), "name": c.code.name(&h)})),
            "violations": c.violations,
            "accepted": accepted,
        });
        emit(&format!("{}\n", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?))?;
    } else {
        let mut text = c.evolution.diff.table();
        if let Some(h) = &c.migration {
            text.push_str(&format!(
                "migration: {} #{} covers the changes that need one\n",
                c.code.name(h),
                h.short()
            ));
        }
        if accepted {
            text.push_str(&format!("accepted ({})\n", rules_text(&c.rules)));
        } else {
            text.push_str(&format!("refused ({}):\n", rules_text(&c.rules)));
            for v in &c.violations {
                text.push_str(&format!("  {}\n", v.message));
            }
        }
        emit(&text)?;
    }
    Ok(if accepted { exit::OK } else { exit::FAILED })
}

fn rules_text(rules: &Rules) -> String {
    rules.describe()
}

// ------------------------------------------------------------------------ migrate

fn migrate_state(
    from: &str,
    to: &str,
    state_path: &Path,
    out: Option<&Path>,
    at: &Where,
) -> Result<u8, Stop> {
    // The files first: a mistake there fails before any loading.
    let text = std::fs::read_to_string(state_path)
        .map_err(|e| Stop::Usage(format!("{}: cannot read: {e}", state_path.display())))?;
    if let Some(out) = out
        && same_file(state_path, out)
    {
        return Err(Stop::Usage(format!(
            "--out {} is the state file itself: the old state is never modified; write the new one elsewhere",
            out.display()
        )));
    }
    let state: Json = serde_json::from_str(&text)
        .map_err(|e| Stop::Refused(format!("{}: not JSON: {e}", state_path.display())))?;
    let c = check(from, to, at)?;
    if !c.violations.is_empty() {
        let list: Vec<String> = c.violations.iter().map(|v| format!("  {}", v.message)).collect();
        return Err(Stop::Refused(format!(
            "the upgrade from {} to {} is refused ({}):\n{}",
            c.old.schema.label(),
            c.new.schema.label(),
            rules_text(&c.rules),
            list.join("\n")
        )));
    }
    let migrated = migrate::migrate(&c.evolution, &c.code, &c.code, &state, c.migration.as_ref())
        .map_err(|e| match e {
        migrate::MigrateError::OldState { schema, mismatch } => {
            Stop::Refused(format!("{} does not match {schema}: {mismatch}", state_path.display()))
        }
        e => Stop::Refused(e.to_string()),
    })?;
    let text = tel_schema::artifact::canonical_pretty(&migrated.state);
    let how = match &migrated.method {
        Method::Identical => "the same version: nothing to change".to_owned(),
        Method::Automatic => format!("{} automatic change(s)", c.evolution.diff.changes.len()),
        Method::Function { name, function } => format!("by {name} #{}", function.short()),
    };
    match out {
        Some(out) => {
            write_atomically(out, text.as_bytes())
                .map_err(|e| Stop::Usage(format!("cannot write {}: {e}", out.display())))?;
            eprintln!(
                "{} ({}) migrated to {} ({how}): {}",
                state_path.display(),
                c.old.schema.label(),
                c.new.schema.label(),
                out.display()
            );
        }
        None => {
            emit(&text)?;
            eprintln!("{} migrated to {} ({how})", state_path.display(), c.new.schema.label());
        }
    }
    Ok(exit::OK)
}

/// Whether two paths name one file (the second may not exist yet).
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Writes `bytes` to `path` so that a reader sees the old file or the whole new one, never
/// a part: a temporary file beside it, flushed to disk, then renamed over it.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tel-tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
