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
    /// Upgrade a paused run to a new schema version when it is in its safe state
    /// (`[program] safe-state` of tel.toml); otherwise say what is pending.
    Upgrade {
        /// The paused run: a debug session kept in the codebase (`save` in `tel debug`), by
        /// its id or a prefix of it (4 characters at least).
        session: String,
        /// The version to upgrade to (forms as for `diff`).
        #[arg(long, value_name = "VERSION")]
        to: String,
        /// The running program's sources: a `.tel` file or a project folder. Its schema
        /// (`[program] schema`) is the version the state is in; its tel.toml gives the
        /// safe-state strategy, the timeout and the degraded state.
        #[arg(long, value_name = "PATH", default_value = ".")]
        program: PathBuf,
        /// The run's stored state (never modified); without it only the decision is made.
        #[arg(long, value_name = "FILE")]
        state: Option<PathBuf>,
        /// Where to write the upgraded state (atomically) [default: standard output].
        #[arg(long, value_name = "FILE", requires = "state")]
        out: Option<PathBuf>,
        #[command(flatten)]
        at: Where,
        /// Print `{"session","position","strategy","run","pending","within","decision",
        /// "upgrade","notes"}`.
        #[arg(long)]
        json: bool,
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
        SchemaCommand::Upgrade { session, to, program, state, out, at, json } => {
            upgrade(&Upgrade {
                session: &session,
                to: &to,
                program: &program,
                state: state.as_deref(),
                out: out.as_deref(),
                at: &at,
                json,
            })
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

/// A definition of the loaded sources (the engine gives the store what it keeps of it).
pub(crate) struct SourceDef {
    pub file: FileId,
    pub def: Definition,
    pub hash: CodeHash,
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
            source.defs.push(SourceDef { file, hash: member.hash, def });
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
    let state = read_state(state_path, out)?;
    let c = check(from, to, at)?;
    let (text, how) = migrate_checked(&c, state_path, &state)?;
    write_state(&c, state_path, out, &text, &how)?;
    Ok(exit::OK)
}

/// Reads and parses the state file, refusing an `--out` that names it.
fn read_state(state_path: &Path, out: Option<&Path>) -> Result<Json, Stop> {
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
    serde_json::from_str(&text)
        .map_err(|e| Stop::Refused(format!("{}: not JSON: {e}", state_path.display())))
}

/// Refuses an evolution that breaks the rules or lacks a migration, listing why.
fn accepted(c: &Checked) -> Result<(), Stop> {
    if c.violations.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = c.violations.iter().map(|v| format!("  {}", v.message)).collect();
    Err(Stop::Refused(format!(
        "the upgrade from {} to {} is refused ({}):\n{}",
        c.old.schema.label(),
        c.new.schema.label(),
        rules_text(&c.rules),
        list.join("\n")
    )))
}

/// Migrates `state` (read from `state_path`) as `c` says: refused on a rule violation or a
/// mismatch. The canonical text of the new state, and how it was migrated.
fn migrate_checked(c: &Checked, state_path: &Path, state: &Json) -> Result<(String, String), Stop> {
    accepted(c)?;
    let migrated = migrate::migrate(&c.evolution, &c.code, &c.code, state, c.migration.as_ref())
        .map_err(|e| match e {
            migrate::MigrateError::OldState { schema, mismatch } => Stop::Refused(format!(
                "{} does not match {schema}: {mismatch}",
                state_path.display()
            )),
            e => Stop::Refused(e.to_string()),
        })?;
    let text = tel_schema::artifact::canonical_pretty(&migrated.state);
    let how = match &migrated.method {
        Method::Identical => "the same version: nothing to change".to_owned(),
        Method::Automatic => format!("{} automatic change(s)", c.evolution.diff.changes.len()),
        Method::Function { name, function } => format!("by {name} #{}", function.short()),
    };
    Ok((text, how))
}

/// Writes the new state to `out` atomically (else to standard output) and says so on
/// standard error.
fn write_state(
    c: &Checked,
    state_path: &Path,
    out: Option<&Path>,
    text: &str,
    how: &str,
) -> Result<(), Stop> {
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
            emit(text)?;
            eprintln!("{} migrated to {} ({how})", state_path.display(), c.new.schema.label());
        }
    }
    Ok(())
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

// ------------------------------------------------------------------------ upgrade

/// `tel schema upgrade`'s arguments.
struct Upgrade<'a> {
    session: &'a str,
    to: &'a str,
    program: &'a Path,
    state: Option<&'a Path>,
    out: Option<&'a Path>,
    at: &'a Where,
    json: bool,
}

/// Keeps the trace of an upgraded run (`Navigator::upgraded_trace`) with the code it ran, as
/// `tel run` keeps a run; returns its run id.
fn keep_upgraded(
    store: &mut Store,
    trace: tel_vm::Trace,
    defs: &std::collections::HashMap<CodeHash, StoredDef>,
    session: &tel_store::snapshots::SessionInfo,
) -> Result<String, Stop> {
    let id = tel_ide::run::run_id(&trace);
    let events = trace.events().len() as u64;
    let entry = trace.meta().entry;
    let bytes = tel_vm::ExportedRun::new(trace, defs).to_bytes();
    let new = tel_store::NewTrace {
        id: &id,
        entry,
        entry_name: session.entry_name.as_deref(),
        events,
        outcome: tel_store::RunOutcome::Upgraded,
        bytes: &bytes,
    };
    store
        .add_trace(&new)
        .map_err(|e| Stop::Refused(format!("the upgraded run could not be kept: {e}")))?;
    Ok(id)
}

/// Upgrades a paused run (a debug session kept in the codebase) to version `to` when
/// `[program] safe-state` allows it at the session's position; docs/schema.md, "tel schema
/// upgrade".
fn upgrade(u: &Upgrade<'_>) -> Result<u8, Stop> {
    use tel_schema::safe::{Decision, decide};
    let state = match u.state {
        Some(p) => Some(read_state(p, u.out)?),
        None => None,
    };
    if !u.program.exists() {
        return Err(Stop::Usage(format!("{}: no such file or folder", u.program.display())));
    }
    // The session first: a missing codebase is a usage error, an unknown id a refusal.
    let codebase = codebase_for(u.at.codebase.as_deref(), u.program)?;
    let mut store =
        open_codebase(codebase.as_deref(), &format!("session {} is kept there", u.session))?;
    let (info, setup, rows) = store.session(u.session).map_err(|e| match e {
        tel_store::snapshots::SessionError::InvalidId { .. } => Stop::Usage(e.to_string()),
        e => Stop::Refused(e.to_string()),
    })?;
    // The program and its sources, loaded as `tel debug --resume` loads them.
    let spec = tel_dap::LaunchSpec {
        program: u.program.display().to_string(),
        codebase: u.at.codebase.clone(),
        session: Some(info.id.clone()),
        ..Default::default()
    };
    let debugger = tel_dap::Debugger::launch(&spec).map_err(|e| Stop::Refused(e.to_string()))?;
    // A navigator of our own: reading the run moves through it, which the debugger's API
    // does only as a front end's motions.
    let snapshots = rows
        .into_iter()
        .map(|s| tel_vm::travel::SavedSnapshot {
            position: s.position,
            base: s.base,
            bytes: s.bytes.into(),
        })
        .collect();
    let damaged =
        |e: tel_vm::travel::TravelError| Stop::Refused(format!("session {}: {e}", info.id));
    let mut nav = tel_vm::travel::Navigator::resume(
        std::sync::Arc::new(debugger.program().clone()),
        &debugger.code().defs,
        &setup,
        snapshots,
        info.position,
    )
    .map_err(damaged)?;
    let paused = tel_schema::safe::paused(&mut nav).map_err(damaged)?;

    // The running program's tel.toml says when it is safe.
    let manifest_path = match &u.at.manifest {
        Some(p) => Some(p.clone()),
        None => tel_ide::project::find_root(u.program)
            .map(|r| r.join("tel.toml"))
            .filter(|p| p.is_file()),
    };
    let manifest = match &manifest_path {
        Some(p) => Some(Manifest::load(p).map_err(|e| Stop::Refused(e.to_string()))?),
        None => None,
    };
    let strategy = manifest.as_ref().map(|m| m.safe_state).unwrap_or_default();
    let timeout_ms = manifest.as_ref().and_then(|m| m.timeout_ms);
    let degraded_ref = manifest.as_ref().and_then(|m| m.degraded.clone());
    let decision = decide(
        strategy,
        &paused.view,
        paused.now_ms,
        timeout_ms,
        degraded_ref.as_ref().map(|r| r.text()).as_deref(),
    );

    let place = |l: &Option<tel_vm::Location>| -> Json {
        let Some(l) = l else { return Json::Null };
        let name = match debugger.code().names.get(&l.def) {
            Some(n) => n.clone(),
            None => format!("#{}", l.def.short()),
        };
        let function = if l.lambda { format!("{name}/lambda") } else { name };
        match debugger.sources().locate(l) {
            Some(p) => json!({"function": function, "file": tel_dap::debugger::shown_path(&p.path),
                              "line": p.line, "column": p.column}),
            None => json!({"function": function, "file": null, "line": null, "column": null}),
        }
    };
    let place_text = |p: &Json| -> String {
        match (&p["function"], &p["file"]) {
            (Json::String(f), Json::String(file)) => {
                format!(" in {f} ({file}:{}:{})", p["line"], p["column"])
            }
            (Json::String(f), _) => format!(" in {f}"),
            _ => String::new(),
        }
    };
    let pending: Vec<Json> = paused
        .pending
        .iter()
        .map(|p| {
            json!({"effect": p.effect.effect, "since_ms": p.effect.since_ms, "position": p.position,
                   "answered_ms": p.answered_ms, "place": place(&p.location)})
        })
        .collect();
    let within: Vec<Json> = paused
        .within
        .iter()
        .map(|w| {
            json!({"opened_ms": w.within.opened_ms, "deadline_ms": w.within.deadline_ms,
                   "opened_at": w.opened_at, "place": place(&w.location)})
        })
        .collect();
    let mut lines = vec![format!(
        "session {} ({}) at position {} of {}, now {} ms on the run's clock; safe-state {} ({})",
        &info.id[..8.min(info.id.len())],
        info.entry_name.as_deref().unwrap_or("?"),
        paused.position,
        paused.end,
        paused.now_ms,
        strategy.as_str(),
        manifest_path
            .as_ref()
            .map_or("the default: no tel.toml".to_owned(), |p| p.display().to_string()),
    )];
    let blockers = match &decision {
        Decision::Upgrade => Vec::new(),
        Decision::Wait { blockers, .. }
        | Decision::Degrade { blockers, .. }
        | Decision::Refuse { blockers, .. } => blockers.clone(),
    };
    for b in &blockers {
        use tel_schema::safe::Blocker;
        let line = match b {
            Blocker::PendingReturn { effect, since_ms } => {
                let p =
                    paused.pending.iter().zip(&pending).find(|(p, _)| &p.effect.effect == effect);
                match p {
                    Some((p, j)) => format!(
                        "pending: {effect}, performed at {since_ms} ms{} at position {}, is waiting for its answer (the recording answers it at {} ms)",
                        place_text(&j["place"]),
                        p.position,
                        p.answered_ms
                    ),
                    None => format!("pending: {b}"),
                }
            }
            Blocker::OpenWithin { opened_ms, deadline_ms } => {
                let w = paused.within.iter().zip(&within).find(|(w, _)| {
                    w.within.opened_ms == *opened_ms && w.within.deadline_ms == *deadline_ms
                });
                match w {
                    Some((w, j)) => format!(
                        "open: a `within` block{} opened at {opened_ms} ms (position {}) runs until its deadline at {deadline_ms} ms",
                        place_text(&j["place"]),
                        w.opened_at
                    ),
                    None => format!("open: {b}"),
                }
            }
            Blocker::ActiveRun { .. } => format!("active: {b}"),
        };
        lines.push(format!("  {line}"));
    }
    let mut notes: Vec<String> = Vec::new();
    let proceed = match &decision {
        Decision::Upgrade => {
            lines.push(format!("safe: the run is in its safe state ({})", strategy.as_str()));
            true
        }
        Decision::Wait { remaining_ms, .. } => {
            lines.push(format!(
                "wait: the run is not in its safe state ({}); [safe-state] timeout ({} ms) leaves {remaining_ms} ms on the run's clock before its degraded state is used",
                strategy.as_str(),
                timeout_ms.unwrap_or(0)
            ));
            false
        }
        Decision::Refuse { reason, .. } => {
            lines.push(format!("refused: {reason}"));
            false
        }
        Decision::Degrade { waited_ms, timeout_ms, degraded, .. } => {
            lines.push(format!(
                "timeout: the run waited {waited_ms} ms, past [safe-state] timeout ({timeout_ms} ms): it moves to its degraded state {degraded}, abandoning what is pending, then upgrades"
            ));
            notes.push(format!(
                "degraded: timeout {timeout_ms} ms passed after {waited_ms} ms on the run's clock; degraded state {degraded}; abandoned: {}",
                blockers.iter().map(|b| b.to_string()).collect::<Vec<_>>().join("; "),
            ));
            true
        }
    };

    // The decision before what the upgrade says about the state.
    if !u.json {
        eprintln!("{}", lines.join("\n"));
        lines.clear();
    }
    let mut upgrade_json = Json::Null;
    let mut new_state: Option<String> = None;
    if proceed {
        let old_spec = u.program.display().to_string();
        let mut c = check(&old_spec, u.to, u.at)?;
        // The degraded state first (over the old version), then the upgrade.
        let mut current = state.clone();
        let mut degraded_json = Json::Null;
        let mut degradation = None;
        if let (Decision::Degrade { .. }, Some(r)) = (&decision, &degraded_ref) {
            let codebase = codebase_for(u.at.codebase.as_deref(), u.program)?;
            let h = resolve_ref(r, &mut c.code, codebase.as_deref())?;
            let old = c.old.schema.hash;
            migrate::check_function(&c.code, &h, &old, &old).map_err(|problem| {
                Stop::Refused(format!(
                    "{}: {} ({}) must be a pure fn(S) -> S over {}: {problem}",
                    r.place,
                    r.text(),
                    c.code.name(&h),
                    c.old.schema.label()
                ))
            })?;
            let name = c.code.name(&h);
            degraded_json = json!({"hash": h.to_base32hex(), "name": name});
            if let Decision::Degrade { waited_ms, timeout_ms, .. } = &decision {
                degradation = Some(tel_vm::trace::Degradation {
                    waited_ms: *waited_ms as i64,
                    timeout_ms: *timeout_ms as i64,
                    function: h,
                    abandoned: blockers.iter().map(|b| b.to_string()).collect(),
                });
            }
            if let (Some(s), Some(path)) = (&current, u.state) {
                let value = migrate::check_state(&c.code, &c.old.schema, s).map_err(|m| {
                    Stop::Refused(format!(
                        "{} does not match {}: {m}",
                        path.display(),
                        c.old.schema.label()
                    ))
                })?;
                let moved = tel_schema::eval::call(
                    &c.code,
                    h,
                    value,
                    &format!("the degraded state {name}"),
                )
                .map_err(|e| Stop::Refused(e.to_string()))?;
                current = Some(moved);
                lines.push(format!("degraded: {} moved to {name} #{}", path.display(), h.short()));
            }
        }
        let mut how = Json::Null;
        if let (Some(s), Some(path)) = (&current, u.state) {
            let (text, method) = migrate_checked(&c, path, s)?;
            if u.json && u.out.is_none() {
                new_state = Some(text);
            } else {
                write_state(&c, path, u.out, &text, &method)?;
            }
            how = Json::String(method);
        } else {
            accepted(&c)?;
        }
        lines.push(format!(
            "upgrade: {} -> {} ({}){}",
            c.old.schema.label(),
            c.new.schema.label(),
            serde_json::to_value(c.evolution.diff.verdict)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            match (&how, u.state) {
                (Json::String(m), _) => format!(": state migrated, {m}"),
                (_, None) => ": allowed (no --state given: nothing migrated)".to_owned(),
                _ => String::new(),
            }
        ));
        // A migrated state is an upgraded run: kept in the codebase as a run of its own (the
        // session's trace is its content address and never changes).
        let mut run = Json::Null;
        if u.state.is_some() {
            nav.goto(info.position).map_err(damaged)?;
            let trace = nav.upgraded_trace(
                strategy.as_str(),
                c.old.schema.hash,
                c.new.schema.hash,
                degradation,
            );
            let id = keep_upgraded(&mut store, trace, &debugger.code().defs, &info)?;
            lines.push(format!(
                "run {id} kept in the codebase: the run up to position {}{}, then the upgrade",
                info.position,
                if degraded_json.is_null() { "" } else { ", its move to the degraded state" }
            ));
            run = Json::String(id);
        }
        upgrade_json = json!({
            "run": run,
            "from": c.evolution.diff.old,
            "to": c.evolution.diff.new,
            "verdict": c.evolution.diff.verdict,
            "degraded": degraded_json,
            "migrated": how,
            "out": u.out.map(|p| p.display().to_string()),
            "state": new_state.as_deref().map(serde_json::from_str::<Json>).transpose().map_err(|e| e.to_string())?,
        });
    }
    if u.json {
        let out = json!({
            "session": info.id,
            "entry": info.entry_name,
            "position": paused.position,
            "end": paused.end,
            "clock_ms": paused.now_ms,
            "strategy": strategy.as_str(),
            "manifest": manifest_path.map(|p| p.display().to_string()),
            "timeout_ms": timeout_ms,
            "run": paused.view,
            "pending": pending,
            "within": within,
            "decision": decision,
            "upgrade": upgrade_json,
            "notes": notes,
        });
        emit(&format!("{}\n", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?))?;
    } else {
        for n in &notes {
            lines.push(format!("note: {n}"));
        }
        if !lines.is_empty() {
            eprintln!("{}", lines.join("\n"));
        }
    }
    Ok(if proceed { exit::OK } else { exit::FAILED })
}
