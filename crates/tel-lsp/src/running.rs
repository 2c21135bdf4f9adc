//! The `tel.run` command behind the `▶ Run` lens: the definition runs through the same
//! pipeline as `tel run` (`tel_ide::run`), its trace is kept in the workspace's codebase, and
//! the client is told the value (or the runtime error with its TEL stack trace) in a message
//! and, with the lines the program logged, in its log.
//!
//! A run takes three steps so that edits are never held up by it: the code is gathered on a
//! snapshot ([`prepare`]), run with no snapshot held ([`execute`]: an edit arriving meanwhile
//! is applied at once), and the outcome placed in the sources on a fresh snapshot
//! ([`report`]).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tel_ide::run::report::Summary;
use tel_ide::run::{Code, Finished, RunSettings, Stop};
use tower_lsp_server::ls_types::Uri;

use crate::error::{HandlerError, HandlerResult};
use crate::world::{Snapshot, uri_to_path};

/// The command that runs an entry point.
pub const RUN: &str = "tel.run";

/// What `tel.run` takes.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct RunArgs {
    /// The document defining the entry point.
    pub uri: Uri,
    /// `module::name`.
    pub name: String,
    /// The entry point's arguments as a JSON array (docs/values-json.md), when it takes some.
    #[serde(default)]
    pub args: Option<Value>,
    /// A host file (opening balances, price feeds, clock start, seed), as `tel run --host`.
    #[serde(default)]
    pub host: Option<PathBuf>,
}

/// A run ready to start: nothing in it refers to the engine.
pub struct Prepared {
    code: Code,
    args: Vec<tel_vm::Value>,
    host: Option<tel_vm::HostFile>,
    codebase: Option<PathBuf>,
}

/// A run that happened.
pub struct Ran {
    code: Code,
    finished: Finished,
}

fn refused(stop: Stop) -> HandlerError {
    match stop {
        Stop::Usage(m) if m == "analysis was cancelled" => HandlerError::ContentModified,
        stop => HandlerError::Failed(format!("cannot run: {stop}")),
    }
}

/// Gathers the entry point and everything it reaches from the workspace (and the codebase,
/// for `#hash` references), checks the arguments against its parameters.
pub fn prepare(snap: &Snapshot, arguments: Vec<Value>) -> HandlerResult<Prepared> {
    let args: RunArgs = match arguments.into_iter().next() {
        Some(v) => serde_json::from_value(v).map_err(|e| {
            HandlerError::InvalidParams(format!("{RUN} takes {{uri, name, args?, host?}}: {e}"))
        })?,
        None => return Err(HandlerError::InvalidParams(format!("{RUN} takes {{uri, name}}"))),
    };
    let file = snap.file_id(&args.uri)?;
    let path = uri_to_path(&args.uri);
    let what =
        path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into());
    let codebase = snap.codebase_path.clone();
    let code = Code::from_analysis(&snap.analysis, &[file], &args.name, codebase.as_deref(), &what)
        .map_err(refused)?;
    let json = args.args.as_ref().map(Value::to_string);
    let values = code.decode_args(json.as_deref()).map_err(refused)?;
    let host = match &args.host {
        Some(path) => Some(
            tel_vm::HostFile::load(path)
                .map_err(|e| HandlerError::Failed(format!("cannot run: {e}")))?,
        ),
        None => None,
    };
    Ok(Prepared { code, args: values, host, codebase })
}

/// Runs prepared code in the default sandbox (all host effects, the default limits, which
/// include a one-second wall-clock limit) and keeps its trace in the codebase.
pub fn execute(p: Prepared) -> HandlerResult<Ran> {
    let finished = tel_ide::run::execute(
        &p.code,
        p.args,
        &RunSettings::default(),
        p.host,
        p.codebase.as_deref(),
        None,
    )
    .map_err(refused)?;
    Ok(Ran { code: p.code, finished })
}

/// The run as the editor shows it, its frames placed in the current sources.
pub fn report(snap: &Snapshot, ran: Ran) -> HandlerResult<Summary> {
    Ok(tel_ide::run::report::summary(&ran.code, &ran.finished, Some(&snap.analysis)))
}
