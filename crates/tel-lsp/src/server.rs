//! The protocol face: `LanguageServer` for tower-lsp-server.
//!
//! Notifications (edits) are queued to the writer thread in the order they arrive — each
//! handler queues before its first `.await`, and tower-lsp-server starts handlers in arrival
//! order, so order is kept. Requests take a snapshot (which reflects every edit queued before
//! them) and run on the blocking pool; an edit meanwhile cancels them (ContentModified), and
//! a panic becomes an internal error. Requests to the client (registration, configuration,
//! refreshes) are always spawned with a timeout, never awaited by a notification handler.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio::sync::watch;
use tower_lsp_server::jsonrpc::{self, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use crate::config::Config;
use crate::convert::Encoding;
use crate::error::{HandlerError, HandlerResult};
use crate::world::{Snapshot, uri_to_path};
use crate::writer::{Events, Task, WriterHandle};
use crate::{custom, diagnostics, editing, handlers};

/// How long the server waits for the client to answer one of its requests.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Backend {
    client: Client,
    writer: WriterHandle,
    shared: Arc<Shared>,
    changes: std::sync::Mutex<Option<watch::Receiver<u64>>>,
}

/// What the client can do, learnt at `initialize`.
#[derive(Default, Debug, Clone, Copy)]
pub struct ClientCaps {
    pub configuration: bool,
    pub watch_files: bool,
    pub inlay_refresh: bool,
    pub lens_refresh: bool,
    pub semantic_refresh: bool,
}

pub struct Shared {
    debounce_ms: AtomicU64,
    caps: OnceLock<ClientCaps>,
}

impl Shared {
    pub fn debounce_ms(&self) -> u64 {
        self.debounce_ms.load(Ordering::Relaxed)
    }

    fn caps(&self) -> ClientCaps {
        self.caps.get().copied().unwrap_or_default()
    }

    /// Asks the client to re-request hints, lenses and tokens (hashes change with the text).
    pub fn refresh_views(&self, client: &Client) {
        let caps = self.caps();
        if caps.inlay_refresh {
            spawn_client_request(client.clone(), |c| async move { c.inlay_hint_refresh().await });
        }
        if caps.lens_refresh {
            spawn_client_request(client.clone(), |c| async move { c.code_lens_refresh().await });
        }
        if caps.semantic_refresh {
            spawn_client_request(
                client.clone(),
                |c| async move { c.semantic_tokens_refresh().await },
            );
        }
    }
}

/// Sends a request to the client in the background; an error or a client that does not
/// answer in time is logged, never waited on.
fn spawn_client_request<F, Fut, T>(client: Client, f: F)
where
    F: FnOnce(Client) -> Fut + Send + 'static,
    Fut: Future<Output = jsonrpc::Result<T>> + Send,
    T: Send,
{
    tokio::spawn(async move {
        match tokio::time::timeout(CLIENT_TIMEOUT, f(client)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => eprintln!("tel-lsp: the client refused a request: {}", e.message),
            Err(_) => eprintln!("tel-lsp: the client did not answer within {CLIENT_TIMEOUT:?}"),
        }
    });
}

struct EventSink {
    changes: watch::Sender<u64>,
    client: Client,
    runtime: tokio::runtime::Handle,
}

impl Events for EventSink {
    fn changed(&self, generation: u64) {
        self.changes.send_replace(generation);
    }

    fn log(&self, level: MessageType, message: String) {
        eprintln!("tel-lsp: {message}");
        let client = self.client.clone();
        self.runtime.spawn(async move { client.log_message(level, message).await });
    }
}

impl Backend {
    pub fn new(client: Client) -> Backend {
        let (tx, rx) = watch::channel(0);
        let sink = EventSink {
            changes: tx,
            client: client.clone(),
            runtime: tokio::runtime::Handle::current(),
        };
        let shared = Arc::new(Shared {
            debounce_ms: AtomicU64::new(Config::default().diagnostics.debounce_ms),
            caps: OnceLock::new(),
        });
        Backend {
            client,
            writer: WriterHandle::spawn(sink),
            shared,
            changes: std::sync::Mutex::new(Some(rx)),
        }
    }

    fn set_config(&self, config: Config) {
        self.shared.debounce_ms.store(config.diagnostics.debounce_ms, Ordering::Relaxed);
        self.writer.send(Task::Config(config));
    }

    /// Pulls the `tel` section of the client's settings, in the background.
    fn pull_config(&self) {
        if !self.shared.caps().configuration {
            return;
        }
        let writer = self.writer.clone();
        let shared = self.shared.clone();
        spawn_client_request(self.client.clone(), move |client| async move {
            let item = ConfigurationItem { scope_uri: None, section: Some("tel".into()) };
            let values = client.configuration(vec![item]).await?;
            match values.first().map(Config::from_json) {
                Some(Ok(config)) => {
                    shared.debounce_ms.store(config.diagnostics.debounce_ms, Ordering::Relaxed);
                    writer.send(Task::Config(config));
                }
                Some(Err(e)) => client.show_message(MessageType::WARNING, e).await,
                None => {}
            }
            Ok(())
        });
    }

    /// Runs a request on a snapshot on the blocking pool.
    pub async fn run<P, R>(
        &self,
        method: &'static str,
        params: P,
        f: fn(&Snapshot, P) -> HandlerResult<R>,
    ) -> Result<R>
    where
        P: Send + 'static,
        R: Send + 'static,
    {
        let snap = self.writer.snapshot().await.ok_or_else(|| {
            HandlerError::Internal("the server is shutting down".into()).into_jsonrpc()
        })?;
        let joined = tokio::task::spawn_blocking(move || f(&snap, params)).await;
        let result = match joined {
            Ok(result) => result,
            Err(join) => Err(match join.try_into_panic() {
                Ok(payload) => HandlerError::from_panic(method, payload),
                Err(e) => HandlerError::Internal(format!("{method} did not finish: {e}")),
            }),
        };
        result.map_err(|e| {
            if let HandlerError::Internal(m) = &e {
                eprintln!("tel-lsp: {m}");
            }
            e.into_jsonrpc()
        })
    }
}

impl Backend {
    /// `tel.run`: gathers the code on a snapshot, runs it with no snapshot held (so an edit
    /// meanwhile is applied at once), and places the outcome on a fresh one.
    async fn run_entry(&self, arguments: Vec<LSPAny>) -> Result<tel_ide::run::report::Summary> {
        let method = "workspace/executeCommand";
        let prepared = self.run(method, arguments, crate::running::prepare).await?;
        let ran =
            match tokio::task::spawn_blocking(move || crate::running::execute(prepared)).await {
                Ok(ran) => ran,
                Err(join) => Err(match join.try_into_panic() {
                    Ok(payload) => HandlerError::from_panic(method, payload),
                    Err(e) => HandlerError::Internal(format!("{method} did not finish: {e}")),
                }),
            }
            .map_err(HandlerError::into_jsonrpc)?;
        self.run(method, ran, crate::running::report).await
    }
}

/// The custom requests (see `custom.rs`).
impl Backend {
    pub async fn hash_of(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<custom::HashOf>> {
        self.run("tel/hashOf", params, custom::hash_of).await
    }

    pub async fn dependents(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<custom::Dependents>> {
        self.run("tel/dependents", params, custom::dependents).await
    }

    pub async fn history(&self, params: custom::HistoryParams) -> Result<serde_json::Value> {
        self.run("tel/history", params, custom::history).await
    }

    pub async fn view_definition(&self, params: custom::ViewParams) -> Result<custom::View> {
        self.run("tel/viewDefinition", params, custom::view_definition).await
    }
}

fn workspace_roots(params: &InitializeParams) -> Vec<PathBuf> {
    if let Some(folders) = &params.workspace_folders {
        return folders.iter().map(|f| uri_to_path(&f.uri)).collect();
    }
    #[allow(deprecated)]
    let root = params.root_uri.as_ref().map(uri_to_path);
    root.into_iter().collect()
}

fn client_caps(params: &InitializeParams) -> ClientCaps {
    let ws = params.capabilities.workspace.as_ref();
    ClientCaps {
        configuration: ws.and_then(|w| w.configuration).unwrap_or(false),
        watch_files: ws
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false),
        inlay_refresh: ws
            .and_then(|w| w.inlay_hint.as_ref())
            .and_then(|c| c.refresh_support)
            .unwrap_or(false),
        lens_refresh: ws
            .and_then(|w| w.code_lens.as_ref())
            .and_then(|c| c.refresh_support)
            .unwrap_or(false),
        semantic_refresh: ws
            .and_then(|w| w.semantic_tokens.as_ref())
            .and_then(|c| c.refresh_support)
            .unwrap_or(false),
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let encoding = Encoding::negotiate(
            params.capabilities.general.as_ref().and_then(|g| g.position_encodings.as_deref()),
        );
        let _ = self.shared.caps.set(client_caps(&params));
        if let Some(options) = &params.initialization_options {
            match Config::from_json(options) {
                Ok(config) => self.set_config(config),
                Err(e) => {
                    let client = self.client.clone();
                    tokio::spawn(async move { client.show_message(MessageType::WARNING, e).await });
                }
            }
        }
        self.writer.send(Task::Load { roots: workspace_roots(&params), encoding });
        if let Some(rx) = self.changes.lock().unwrap_or_else(|e| e.into_inner()).take() {
            tokio::spawn(diagnostics::run(
                self.client.clone(),
                self.writer.clone(),
                self.shared.clone(),
                rx,
            ));
        }
        Ok(InitializeResult {
            capabilities: handlers::capabilities(encoding),
            server_info: Some(ServerInfo {
                name: "tel-lsp".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        if self.shared.caps().watch_files {
            let watchers = ["**/*.tel", "**/tel.toml", "**/.tel/codebase.sqlite*"]
                .into_iter()
                .map(|glob| FileSystemWatcher {
                    glob_pattern: GlobPattern::String(glob.into()),
                    kind: None,
                })
                .collect();
            let registration = Registration {
                id: "tel-watched-files".into(),
                method: "workspace/didChangeWatchedFiles".into(),
                register_options: serde_json::to_value(DidChangeWatchedFilesRegistrationOptions {
                    watchers,
                })
                .ok(),
            };
            spawn_client_request(self.client.clone(), move |c| async move {
                c.register_capability(vec![registration]).await
            });
        }
        self.pull_config();
    }

    async fn shutdown(&self) -> Result<()> {
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        self.writer.send(Task::Open { uri: doc.uri, text: doc.text, version: doc.version });
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let doc = params.text_document;
        self.writer.send(Task::Change {
            uri: doc.uri,
            version: doc.version,
            changes: params.content_changes,
        });
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        self.writer.send(Task::Close { uri: params.text_document.uri });
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        self.writer.send(Task::Watched { changes: params.changes });
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        self.run("textDocument/hover", params, handlers::hover).await
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        self.run("textDocument/inlayHint", params, handlers::inlay_hints).await
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        self.run("textDocument/codeLens", params, handlers::code_lenses).await
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        self.run("textDocument/definition", params, handlers::goto_definition).await
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        self.run("textDocument/references", params, handlers::references).await
    }

    async fn document_highlight(
        &self,
        params: DocumentHighlightParams,
    ) -> Result<Option<Vec<DocumentHighlight>>> {
        self.run("textDocument/documentHighlight", params, handlers::document_highlight).await
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        self.run("textDocument/documentSymbol", params, handlers::document_symbols).await
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        self.run("workspace/symbol", params, handlers::workspace_symbols).await
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        self.run("textDocument/foldingRange", params, handlers::folding_ranges).await
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        self.run("textDocument/semanticTokens/full", params, handlers::semantic_tokens_full).await
    }

    async fn semantic_tokens_range(
        &self,
        params: SemanticTokensRangeParams,
    ) -> Result<Option<SemanticTokensRangeResult>> {
        self.run("textDocument/semanticTokens/range", params, handlers::semantic_tokens_range).await
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        self.run("textDocument/prepareRename", params, handlers::prepare_rename).await
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let renamed = self.run("textDocument/rename", params, handlers::rename).await?;
        if let Some(message) = renamed.message {
            let client = self.client.clone();
            tokio::spawn(async move {
                client.log_message(MessageType::INFO, message.clone()).await;
                client.show_message(MessageType::INFO, message).await;
            });
        }
        Ok(renamed.edit)
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        self.run("textDocument/completion", params, editing::completion).await
    }

    async fn signature_help(&self, params: SignatureHelpParams) -> Result<Option<SignatureHelp>> {
        self.run("textDocument/signatureHelp", params, editing::signature_help).await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        self.run("textDocument/codeAction", params, editing::code_actions).await
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.run("textDocument/formatting", params, editing::formatting).await
    }

    async fn range_formatting(
        &self,
        params: DocumentRangeFormattingParams,
    ) -> Result<Option<Vec<TextEdit>>> {
        self.run("textDocument/rangeFormatting", params, editing::range_formatting).await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        match params.command.as_str() {
            editing::STORE_ADD => {
                let stored = self
                    .run("workspace/executeCommand", params.arguments, editing::store_add)
                    .await?;
                // The codebase changed under the engine: status, lenses and `#hash`
                // references are read again (and the views refreshed once checked).
                self.writer.send(Task::StoreChanged);
                let client = self.client.clone();
                let message = stored.message;
                tokio::spawn(async move {
                    client.log_message(MessageType::INFO, message.clone()).await;
                    client.show_message(MessageType::INFO, message).await;
                });
                Ok(Some(stored.report))
            }
            crate::running::RUN => {
                let summary = self.run_entry(params.arguments).await?;
                let client = self.client.clone();
                let shown = summary.clone();
                tokio::spawn(async move {
                    let mut log =
                        shown.logs.iter().map(|l| format!("  log: {l}")).collect::<Vec<_>>();
                    log.insert(0, shown.headline.clone());
                    log.extend(shown.stack_trace.iter().cloned());
                    log.extend(shown.notes.iter().cloned());
                    client.log_message(MessageType::INFO, log.join("\n")).await;
                    let kind = if shown.ok { MessageType::INFO } else { MessageType::ERROR };
                    client.show_message(kind, shown.headline).await;
                });
                serde_json::to_value(summary)
                    .map(Some)
                    .map_err(|e| HandlerError::Internal(e.to_string()).into_jsonrpc())
            }
            other => Err(HandlerError::InvalidParams(format!(
                "unknown command `{other}` (this server executes {} and {})",
                editing::STORE_ADD,
                crate::running::RUN
            ))
            .into_jsonrpc()),
        }
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        // Settings sent along are the new settings; `null` (the pull model) means "ask me".
        if params.settings.is_null() {
            self.pull_config();
            return;
        }
        match Config::from_json(&params.settings) {
            Ok(config) => self.set_config(config),
            Err(e) => {
                let client = self.client.clone();
                tokio::spawn(async move { client.show_message(MessageType::WARNING, e).await });
            }
        }
    }
}
