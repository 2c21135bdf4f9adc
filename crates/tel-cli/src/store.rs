//! `tel store …`: the codebase on the command line. Every command is one call on
//! `tel_store::Store`, whose reports display as the text output and serialize as `--json`;
//! this module only turns checked source into `NewDefinition`s and errors into exit codes.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde::Serialize;
use tel_ide::features::BatchError;
use tel_ide::{Analysis, FileId, Severity};
use tel_store::{Error, Store};

use crate::{exit, load};

#[derive(Args)]
pub struct StoreArgs {
    /// The codebase file [default: $TEL_CODEBASE, else .tel/codebase.sqlite under the
    /// folder holding tel.toml].
    #[arg(long, global = true, value_name = "PATH")]
    codebase: Option<PathBuf>,
    #[command(subcommand)]
    cmd: StoreCommand,
}

#[derive(Subcommand)]
pub enum StoreCommand {
    /// Check, hash and store every definition of the named files, with what they depend on.
    Add {
        /// `.tel` files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Every name in the codebase, with its hash and kind.
    List {
        #[arg(long)]
        json: bool,
    },
    /// A definition's source, full hash and dependencies.
    View {
        /// A name (`treasury::fee`) or a hash prefix (`#a7f3…`, `#comp.1`).
        query: String,
        #[arg(long)]
        json: bool,
    },
    /// Point a new name at a definition and drop the old name (no hash changes).
    Rename {
        old: String,
        new: String,
        #[arg(long)]
        json: bool,
    },
    /// A definition's dependencies, dependents and transitive dependents.
    Deps {
        /// A name or a hash prefix.
        query: String,
        #[arg(long)]
        json: bool,
    },
    /// Everything that happened to a name, newest first, through earlier names.
    History {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Names containing TEXT (ignoring case).
    Find {
        text: String,
        #[arg(long)]
        json: bool,
    },
    /// Counts and sizes: definitions, names, history, bytes.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Forget the RISC-V functions compiled by another code generator (another tel): only
    /// that tel could use them.
    Prune {
        #[arg(long)]
        json: bool,
    },
    /// The most recent changes to names, newest first.
    Log {
        /// How many events to show.
        #[arg(long, short = 'n', default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: StoreArgs) -> Result<u8, String> {
    let codebase = args.codebase.as_deref();
    match args.cmd {
        StoreCommand::Add { paths, json } => add(codebase, paths, json),
        StoreCommand::List { json } => read(codebase, json, |s| {
            let names = s.list()?;
            if names.names.is_empty() && !json {
                eprintln!("{} has no names yet", s.path().display());
            }
            Ok((names, exit::OK))
        }),
        StoreCommand::View { query, json } => read(codebase, json, |s| ok(s.view(&query))),
        StoreCommand::Rename { old, new, json } => {
            let mut store = open(codebase, false)?;
            let reason = format!("tel store rename {old} {new}");
            finish(store.rename(&old, &new, &reason).map(|r| (r, exit::OK)), json)
        }
        StoreCommand::Deps { query, json } => read(codebase, json, |s| ok(s.deps(&query))),
        StoreCommand::History { name, json } => read(codebase, json, |s| ok(s.history(&name))),
        StoreCommand::Find { text, json } => read(codebase, json, |s| {
            let names = s.find(&text)?;
            if names.names.is_empty() {
                eprintln!("no name contains `{text}`");
                return Ok((names, exit::FAILED));
            }
            Ok((names, exit::OK))
        }),
        StoreCommand::Stats { json } => read(codebase, json, |s| ok(s.stats())),
        StoreCommand::Log { limit, json } => read(codebase, json, |s| ok(s.log(limit))),
        StoreCommand::Prune { json } => {
            let mut store = open(codebase, false)?;
            let forgotten = store.prune_compiled(&tel_riscv::CODEGEN);
            finish(forgotten.map(|n| (Pruned { compiled_functions: n }, exit::OK)), json)
        }
    }
}

fn ok<T>(result: tel_store::Result<T>) -> tel_store::Result<(T, u8)> {
    result.map(|r| (r, exit::OK))
}

/// The codebase file for this command: `--codebase`, else `TEL_CODEBASE`, else the one of
/// the project holding the working directory.
fn codebase_path(codebase: Option<&Path>) -> Result<PathBuf, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the working directory: {e}"))?;
    match codebase {
        Some(path) => Ok(cwd.join(path)),
        None => tel_store::location::codebase_path(&cwd).map_err(|e| e.to_string()),
    }
}

/// Opens the codebase; read commands never create it.
fn open(codebase: Option<&Path>, create: bool) -> Result<Store, String> {
    let path = codebase_path(codebase)?;
    let opened = if create { Store::open(&path) } else { Store::open_existing(&path) };
    opened.map_err(|e| e.to_string())
}

fn read<T: Serialize + std::fmt::Display>(
    codebase: Option<&Path>,
    json: bool,
    query: impl FnOnce(&Store) -> tel_store::Result<(T, u8)>,
) -> Result<u8, String> {
    let store = open(codebase, false)?;
    finish(query(&store), json)
}

/// Prints a report (text or JSON) and picks the exit status; an error about what was asked
/// for (not found, ambiguous, a name taken) is a failed command, anything else means the
/// command could not run.
fn finish<T: Serialize + std::fmt::Display>(
    result: tel_store::Result<(T, u8)>,
    json: bool,
) -> Result<u8, String> {
    match result {
        Ok((report, code)) => {
            let text = if json {
                let mut text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
                text.push('\n');
                text
            } else {
                report.to_string()
            };
            emit(&text)?;
            Ok(code)
        }
        Err(e) if is_failure(&e) => {
            eprintln!("error: {e}");
            Ok(exit::FAILED)
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Writes to stdout; a reader that stopped early (`tel store list | head`) is not an error.
fn emit(text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(format!("cannot write the output: {e}"))
        }
        _ => Ok(()),
    }
}

fn is_failure(e: &Error) -> bool {
    matches!(
        e,
        Error::NameNotFound { .. }
            | Error::HashNotFound { .. }
            | Error::NoSuchMember { .. }
            | Error::AmbiguousHash { .. }
            | Error::NameTaken { .. }
            | Error::MissingDependency { .. }
            | Error::DuplicateName { .. }
            | Error::HashConflict { .. }
            | Error::HashMismatch { .. }
            | Error::ComponentMismatch { .. }
    )
}

// ------------------------------------------------------------------------------------ add

fn add(codebase: Option<&Path>, paths: Vec<PathBuf>, json: bool) -> Result<u8, String> {
    let reason = format!(
        "tel store add {}",
        paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" ")
    );
    // Where the definitions go is settled first: a codebase that cannot take them fails the
    // command before a long analysis, and an existing one must be sound before anything
    // else happens. It is created only once the sources are known to be fine.
    let path = codebase_path(codebase)?;
    let existing = match path.exists() {
        true => Some(Store::open_existing(&path).map_err(|e| e.to_string())?),
        false => None,
    };
    // `#hash` references in the sources resolve against the codebase being written.
    let loaded = load::load_with(paths, Some(&path))?;
    let analysis = &loaded.analysis;
    let mut reported = loaded.reported.clone();
    let mut seen = HashSet::new();
    reported.retain(|f| seen.insert(*f));

    if let Some(list) = files_with_errors(analysis, &reported)? {
        eprint!("error: nothing was added, because files have errors:\n{list}");
        return Ok(exit::FAILED);
    }
    // The named files' definitions in source order; the engine adds what they depend on.
    let mut roots = Vec::new();
    for &file in &reported {
        let mut defs = analysis.definitions(file).map_err(|_| "analysis was cancelled")?;
        defs.sort_by_key(|d| d.range.start());
        roots.extend(defs.into_iter().map(|d| (file, d)));
    }
    let batch = match analysis.store_batch(&roots).map_err(|_| "analysis was cancelled")? {
        Ok(batch) => batch,
        // A definition of a named file without a hash, although its file has no errors: it
        // depends on a file that has some.
        Err(BatchError::Unhashed(names)) => {
            let named: HashSet<FileId> = reported.iter().copied().collect();
            let others: Vec<FileId> = analysis.files().filter(|f| !named.contains(f)).collect();
            let why = match files_with_errors(analysis, &others)? {
                Some(list) => format!(" until these files have no errors:\n{list}"),
                None => "\n".to_owned(),
            };
            eprint!("error: nothing was added: {} cannot be hashed{why}", names.join(", "));
            return Ok(exit::FAILED);
        }
        Err(e) => return Err(e.to_string()),
    };

    let mut store = match existing {
        Some(store) => store,
        None => Store::open(&path).map_err(|e| e.to_string())?,
    };
    // Said before the write so that a long add shows where it is going.
    eprintln!("storing {} definitions in {}", batch.len(), store.path().display());
    finish(ok(store.add_definitions(&batch, &reason)), json)
}

/// One line per file of `files` with errors (its path and how many), or `None`.
fn files_with_errors(analysis: &Analysis, files: &[FileId]) -> Result<Option<String>, String> {
    let mut out = String::new();
    for &file in files {
        let errors = analysis
            .diagnostics(file)
            .map_err(|_| "analysis was cancelled")?
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        if errors > 0 {
            let path = analysis.file_path(file).display();
            out.push_str(&format!("{path}: {errors} error(s); see `tel check {path}`\n"));
        }
    }
    Ok((!out.is_empty()).then_some(out))
}

/// What `tel store prune` forgot.
#[derive(Serialize)]
struct Pruned {
    compiled_functions: u64,
}

impl std::fmt::Display for Pruned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "forgot {} RISC-V functions compiled by another tel", self.compiled_functions)
    }
}
