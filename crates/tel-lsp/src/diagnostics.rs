//! Diagnostics pushed to the client as the user types.
//!
//! After a change the publisher waits a little for more changes (the debounce), then checks
//! on a snapshot. A change during the check cancels it, and a check whose snapshot is older
//! than the latest change publishes nothing: the latest text wins. Files are published only
//! when their diagnostics differ from what the client last got, so a fixed error is cleared
//! (an empty list) exactly once.

use std::sync::Arc;
use std::time::Duration;

use rustc_hash::FxHashMap;
use tel_ide::{FileId, Severity};
use tokio::sync::watch;
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{
    self as lsp, DiagnosticRelatedInformation, DiagnosticSeverity, NumberOrString, Uri,
};

use crate::error::{HandlerError, HandlerResult};
use crate::server::Shared;
use crate::world::Snapshot;
use crate::writer::WriterHandle;

/// The custom notification `tel/status`: sent when the server has checked everything up to
/// a change (documented in docs/lsp.md; tests wait for it instead of sleeping).
pub enum Status {}

#[derive(serde::Serialize, serde::Deserialize, Debug)]
pub struct StatusParams {
    /// Nothing is left to check: the published diagnostics describe the latest text.
    pub quiescent: bool,
    /// How many changes the server has applied.
    pub generation: u64,
}

impl lsp::notification::Notification for Status {
    type Params = StatusParams;
    const METHOD: &'static str = "tel/status";
}

struct FileDiagnostics {
    uri: Uri,
    version: Option<i32>,
    diagnostics: Vec<lsp::Diagnostic>,
}

pub async fn run(
    client: Client,
    writer: WriterHandle,
    shared: Arc<Shared>,
    mut changes: watch::Receiver<u64>,
) {
    let mut published: FxHashMap<Uri, Vec<lsp::Diagnostic>> = FxHashMap::default();
    let mut first_round = true;
    while changes.changed().await.is_ok() {
        // Latest wins: wait until changes stop arriving for the debounce interval.
        loop {
            let debounce = shared.debounce_ms();
            tokio::time::sleep(Duration::from_millis(debounce)).await;
            if !changes.has_changed().unwrap_or(false) {
                break;
            }
            changes.borrow_and_update();
        }
        let generation = *changes.borrow_and_update();
        let round_start = std::time::Instant::now();
        let Some(snap) = writer.snapshot().await else { return };
        // Open documents first: the one being typed in must not wait for the others.
        let mut stale = false;
        for open in [true, false] {
            let snap = snap.clone();
            let checked = tokio::task::spawn_blocking(move || check(&snap, open)).await;
            let batch = match checked {
                Ok(Ok(batch)) => batch,
                // cancelled by a newer change, which has already woken this loop again
                Ok(Err(HandlerError::ContentModified)) => {
                    stale = true;
                    break;
                }
                Ok(Err(e)) => {
                    log_error(&client, e).await;
                    stale = true;
                    break;
                }
                Err(join) => {
                    let e = match join.try_into_panic() {
                        Ok(payload) => HandlerError::from_panic("diagnostics", payload),
                        Err(e) => HandlerError::Internal(format!("diagnostics task failed: {e}")),
                    };
                    log_error(&client, e).await;
                    stale = true;
                    break;
                }
            };
            if changes.has_changed().unwrap_or(false) {
                stale = true;
                break;
            }
            publish(&client, &mut published, batch).await;
        }
        drop(snap);
        if stale {
            continue;
        }
        if std::mem::take(&mut first_round) {
            eprintln!("tel-lsp: checked the workspace in {:.1?}", round_start.elapsed());
        }
        shared.refresh_views(&client);
        client.send_notification::<Status>(StatusParams { quiescent: true, generation }).await;
    }
}

async fn log_error(client: &Client, e: HandlerError) {
    let message = match e {
        HandlerError::ContentModified => return,
        HandlerError::InvalidParams(m) | HandlerError::Internal(m) | HandlerError::Failed(m) => m,
    };
    eprintln!("tel-lsp: {message}");
    client.log_message(lsp::MessageType::ERROR, message).await;
}

async fn publish(
    client: &Client,
    published: &mut FxHashMap<Uri, Vec<lsp::Diagnostic>>,
    batch: Vec<FileDiagnostics>,
) {
    for file in batch {
        if published.get(&file.uri) == Some(&file.diagnostics) {
            continue;
        }
        if file.diagnostics.is_empty() && !published.contains_key(&file.uri) {
            continue;
        }
        client.publish_diagnostics(file.uri.clone(), file.diagnostics.clone(), file.version).await;
        if file.diagnostics.is_empty() {
            published.remove(&file.uri);
        } else {
            published.insert(file.uri, file.diagnostics);
        }
    }
}

/// The diagnostics of the open documents (`open`) or of the other files; with the other
/// files, the definitions' hashes are computed too, so lenses and hints asked next find them
/// ready.
fn check(snap: &Snapshot, open: bool) -> HandlerResult<Vec<FileDiagnostics>> {
    let files: Vec<FileId> = snap
        .files
        .iter()
        .filter(|(id, info)| *id != FileId(0) && info.version.is_some() == open)
        .map(|(id, _)| id)
        .collect();
    // The files are independent past the project-wide queries (the first to ask computes
    // them, the others wait for it): check them on every core, each thread on its own
    // snapshot, and keep the files' order.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(files.len());
    if threads > 1 {
        let chunk = files.len().div_ceil(threads);
        let results: Vec<HandlerResult<Vec<FileDiagnostics>>> = std::thread::scope(|scope| {
            let workers: Vec<_> = files
                .chunks(chunk)
                .map(|part| {
                    let snap = snap.clone();
                    scope.spawn(move || check_files(&snap, part, open))
                })
                .collect();
            workers
                .into_iter()
                .map(|w| {
                    w.join().unwrap_or_else(|payload| {
                        Err(HandlerError::from_panic("diagnostics", payload))
                    })
                })
                .collect()
        });
        let mut out = Vec::with_capacity(files.len());
        for part in results {
            out.extend(part?);
        }
        return Ok(out);
    }
    check_files(snap, &files, open)
}

fn check_files(
    snap: &Snapshot,
    files: &[FileId],
    open: bool,
) -> HandlerResult<Vec<FileDiagnostics>> {
    let mut out = Vec::with_capacity(files.len());
    for &file in files {
        let Some(uri) = snap.uri(file) else { continue };
        let diagnostics = snap.analysis.diagnostics(file)?;
        if !open {
            // Warm the hashes (the whole project's, at the first file) after the open
            // documents' diagnostics are out.
            snap.analysis.definitions(file)?;
        }
        let diagnostics =
            diagnostics.iter().map(|d| to_lsp(snap, d)).collect::<HandlerResult<_>>()?;
        let version = snap.files.get(file).and_then(|i| i.version);
        out.push(FileDiagnostics { uri, version, diagnostics });
    }
    Ok(out)
}

fn to_lsp(snap: &Snapshot, d: &tel_ide::Diagnostic) -> HandlerResult<lsp::Diagnostic> {
    let mut related = Vec::new();
    for r in &d.related {
        if let Some(location) = snap.location(r.file, r.range)? {
            related.push(DiagnosticRelatedInformation { location, message: r.message.clone() });
        }
    }
    Ok(lsp::Diagnostic {
        range: snap.range(d.file, d.range)?,
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.to_owned())),
        source: Some("tel".to_owned()),
        message: d.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    })
}
