//! `tel build`: check a project, keep its definitions in the codebase, and write its
//! content-addressed artifact there (docs/schema.md, "Artifacts"): the program hash, the
//! effect dependency DAG, every dependency hash, the schema hash, the evolution rules, and
//! the earlier schema versions this build can upgrade stored state from.

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

use clap::Args;
use serde_json::{Value as Json, json};
use tel_hash::CodeHash;
use tel_hash::core::{CoreDef, DefKind, Ref, Type};
use tel_schema::artifact::{self, Compatible, Input};
use tel_schema::code::absolute;
use tel_schema::manifest::Manifest;
use tel_schema::migrate::check_function;
use tel_schema::{Code, Reads};
use tel_store::artifacts::NewArtifact;
use tel_store::{NewDefinition, Store};

use crate::exit;
use crate::run::{Stop, codebase_for, stopped};
use crate::schema::{Source, emit, load_source, resolve_ref};

#[derive(Args)]
pub struct BuildArgs {
    /// The project: its folder, or a file in it [default: the current folder].
    path: Option<PathBuf>,
    /// The codebase to write into [default: $TEL_CODEBASE, else .tel/codebase.sqlite under
    /// the folder holding tel.toml].
    #[arg(long, alias = "store", value_name = "PATH")]
    codebase: Option<PathBuf>,
    /// Print `{"hash","new","codebase","definitions","manifest"}` instead of the hash.
    #[arg(long)]
    json: bool,
}

/// Earlier artifacts of the program looked at for compatible versions.
const HISTORY: usize = 1_000;

pub fn run(args: BuildArgs) -> Result<u8, String> {
    Ok(build(args).unwrap_or_else(stopped))
}

fn build(a: BuildArgs) -> Result<u8, Stop> {
    let path = a.path.unwrap_or_else(|| PathBuf::from("."));
    if !path.exists() {
        return Err(Stop::Usage(format!("{}: no such file or folder", path.display())));
    }
    let root = tel_ide::project::find_root(&path).ok_or_else(|| {
        Stop::Usage(format!(
            "{}: no tel.toml here or in any parent folder: tel build builds a project",
            path.display()
        ))
    })?;
    let toml = root.join("tel.toml");
    let manifest = Manifest::load(&toml).map_err(|e| Stop::Refused(e.to_string()))?;
    let codebase = codebase_for(a.codebase.as_deref(), &root)?
        .ok_or_else(|| Stop::Usage("no codebase for this project".into()))?;
    let mut source = load_source(&root, Some(&codebase))?;

    let one = |found: Vec<&crate::schema::SourceDef>, what: String| -> Result<CodeHash, Stop> {
        match found.as_slice() {
            [d] => Ok(d.hash),
            [] => Err(Stop::Refused(what)),
            several => Err(Stop::Refused(format!("{what}: it is defined {} times", several.len()))),
        }
    };
    let entry = one(
        source.find("main::main", DefKind::Fn),
        format!(
            "{}: no function main in module main: tel build builds a program, whose entry point that is (language.md §13)",
            root.display()
        ),
    )?;
    let schema = match &manifest.schema {
        Some(name) => Some(one(
            source.find(name, DefKind::Schema),
            format!("{}: [program] schema `{name}` names no schema of the project", toml.display()),
        )?),
        None => None,
    };
    let codebase_ref = Some(codebase.as_path());
    let mut migrations = Vec::new();
    for r in &manifest.migrations {
        let hash = resolve_ref(r, &mut source.code, codebase_ref)?;
        let Some(current) = schema else {
            return Err(Stop::Refused(format!(
                "{}: a migration needs a schema to migrate to: set [program] schema",
                r.place
            )));
        };
        let from = single_param(&source.code, &hash).unwrap_or(current);
        check_function(&source.code, &hash, &from, &current).map_err(|problem| {
            Stop::Refused(format!(
                "{}: {} ({}): {problem}",
                r.place,
                r.text(),
                source.code.name(&hash)
            ))
        })?;
        migrations.push(hash);
    }
    let degraded = match &manifest.degraded {
        Some(r) => {
            let hash = resolve_ref(r, &mut source.code, codebase_ref)?;
            let Some(current) = schema else {
                return Err(Stop::Refused(format!(
                    "{}: a degraded state needs a schema: set [program] schema",
                    r.place
                )));
            };
            check_function(&source.code, &hash, &current, &current).map_err(|problem| {
                Stop::Refused(format!(
                    "{}: {} ({}) must be a pure fn(S) -> S over the schema: {problem}",
                    r.place,
                    r.text(),
                    source.code.name(&hash)
                ))
            })?;
            Some(hash)
        }
        None => None,
    };

    let mut store = Store::open(&codebase).map_err(|e| Stop::Usage(e.to_string()))?;
    let mut roots = vec![entry];
    roots.extend(schema);
    roots.extend(&migrations);
    roots.extend(degraded);
    let batch = new_definitions(&source, &artifact::closure(&source.code, &roots))?;
    let stored = batch.len();
    store
        .add_definitions(&batch, &format!("tel build {}", root.display()))
        .map_err(|e| Stop::Refused(e.to_string()))?;

    let compatible = match schema {
        Some(current) => compatible(&store, &manifest, &mut source, current, &migrations)?,
        None => Vec::new(),
    };
    let built = artifact::build(&Input {
        manifest: &manifest,
        code: &source.code,
        entry,
        schema,
        migrations: migrations.clone(),
        degraded,
        compatible: compatible.clone(),
    });
    let new = store
        .add_artifact(&NewArtifact {
            hash: built.hash,
            program: &manifest.name,
            version: Some(&manifest.version),
            manifest: &built.text,
        })
        .map_err(|e| Stop::Usage(e.to_string()))?;

    let kept = store.path().display().to_string();
    if a.json {
        let out = json!({
            "hash": built.hash.to_base32hex(),
            "new": new,
            "codebase": kept,
            "definitions": stored,
            "manifest": built.manifest,
        });
        emit(&format!("{}\n", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?))?;
    } else {
        emit(&format!("{}\n", built.hash.full()))?;
        let already = if new { "" } else { " (already there)" };
        eprintln!(
            "{} {}: {stored} definitions and the artifact kept in {kept}{already}",
            manifest.name, manifest.version
        );
        for c in &compatible {
            let how = match &c.migration {
                Some(m) => format!("through {} #{}", source.code.name(m), m.short()),
                None => "automatically".to_owned(),
            };
            eprintln!("  upgrades state of schema #{} {how}", c.schema.short());
        }
    }
    Ok(exit::OK)
}

/// The parameter type of a one-parameter function, when it is a named type.
fn single_param(code: &Code, f: &CodeHash) -> Option<CodeHash> {
    let stored = code.defs.get(f)?;
    let CoreDef::Fn { params, .. } = &stored.def else { return None };
    match params.as_slice() {
        [t] => match absolute(t, stored.component) {
            Type::Named(Ref::Hash(h)) => Some(h),
            _ => None,
        },
        _ => None,
    }
}

/// What the store keeps of `hashes`: those the sources define (the others came from the
/// codebase, where they are already), as `tel store add` writes them.
fn new_definitions(source: &Source, hashes: &[CodeHash]) -> Result<Vec<NewDefinition>, Stop> {
    let by_hash: HashMap<CodeHash, &crate::schema::SourceDef> =
        source.defs.iter().map(|d| (d.hash, d)).collect();
    let roots: Vec<(tel_ide::FileId, tel_ide::Definition)> =
        hashes.iter().filter_map(|h| by_hash.get(h)).map(|d| (d.file, d.def.clone())).collect();
    source
        .analysis
        .store_batch(&roots)
        .map_err(|_| Stop::Usage("analysis was cancelled".into()))?
        .map_err(|e| Stop::Refused(e.to_string()))
}

/// The earlier schema versions of this program (from its earlier artifacts in the
/// codebase, and the migrations' parameter types) whose stored state this build can
/// upgrade under its rules.
fn compatible(
    store: &Store,
    manifest: &Manifest,
    source: &mut Source,
    current: CodeHash,
    migrations: &[CodeHash],
) -> Result<Vec<Compatible>, Stop> {
    let mut olds: BTreeSet<CodeHash> = BTreeSet::new();
    let earlier =
        store.artifacts(Some(&manifest.name), HISTORY).map_err(|e| Stop::Usage(e.to_string()))?;
    for a in earlier {
        let parsed: Json = serde_json::from_str(&a.manifest).unwrap_or(Json::Null);
        if let Some(h) = parsed["schema"]["hash"].as_str().and_then(|t| CodeHash::parse(t).ok()) {
            olds.insert(h);
        }
    }
    olds.extend(migrations.iter().filter_map(|m| single_param(&source.code, m)));
    olds.remove(&current);
    let new_schema = source.code.schema(&current).map_err(|e| Stop::Usage(e.to_string()))?;
    let mut out = Vec::new();
    for old in olds {
        let mut code = source.code.clone();
        if !code.defs.contains_key(&old) && code.add_closure(store, &old).is_err() {
            eprintln!(
                "warning: schema #{} of an earlier build is not in the codebase: skipped",
                old.short()
            );
            continue;
        }
        let Ok(old_schema) = code.schema(&old) else { continue };
        let readers = code.add_dependents(store, &old).unwrap_or_default();
        let reads =
            Reads::of_functions(&code, readers.into_iter().chain(source.functions.iter().copied()));
        let evolution = tel_schema::compare(&code, &old_schema, &code, &new_schema, &reads);
        let migration =
            migrations.iter().find(|m| check_function(&code, m, &old, &current).is_ok()).copied();
        let violations =
            tel_schema::check_evolution(&evolution.diff, &manifest.rules, migration.as_ref());
        if violations.is_empty() {
            out.push(Compatible { schema: old, migration });
        } else {
            eprintln!(
                "note: state of schema #{} cannot be upgraded by this build: {}",
                old.short(),
                violations[0].message
            );
        }
        source.code.extend(&code);
    }
    Ok(out)
}
