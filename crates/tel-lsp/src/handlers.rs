//! Request handlers: LSP parameters in, `tel_ide` features on a snapshot, LSP results out.
//! Every handler runs on the blocking pool (see `Backend::run`).

use std::sync::MutexGuard;

use serde_json::json;
use tel_hir::DefRef;
use tel_ide::features::Target;
use tel_ide::features::{
    Destination, FoldKind, InlayConfig, InlayKind, LensConfig, LensKind, StoreInfo, StoreStatus,
    SymbolKind as TelSymbolKind, TokenKind, semantic_tokens::modifiers,
};
use tel_ide::{FileId, LineIndex, TextRange, TextSize};
use tower_lsp_server::ls_types::*;

use crate::convert::{self, Encoding};
use crate::editing;
use crate::error::{HandlerError, HandlerResult};
use crate::world::Snapshot;

/// The URI of the prelude, served by `tel/viewDefinition`.
pub const PRELUDE_URI: &str = "tel-store:///prelude.tel";

pub fn capabilities(encoding: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(encoding.kind()),
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::INCREMENTAL),
            ..Default::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        inlay_hint_provider: Some(OneOf::Left(true)),
        code_lens_provider: Some(CodeLensOptions { resolve_provider: Some(false) }),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_highlight_provider: Some(OneOf::Left(true)),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: Default::default(),
        })),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(vec![".".into(), ":".into(), "#".into()]),
            completion_item: Some(CompletionOptionsCompletionItem {
                label_details_support: Some(true),
            }),
            ..Default::default()
        }),
        signature_help_provider: Some(SignatureHelpOptions {
            trigger_characters: Some(vec!["(".into(), ",".into()]),
            retrigger_characters: None,
            work_done_progress_options: Default::default(),
        }),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![
                CodeActionKind::QUICKFIX,
                CodeActionKind::new(editing::STORE_ACTION_KIND),
            ]),
            work_done_progress_options: Default::default(),
            resolve_provider: Some(false),
        })),
        execute_command_provider: Some(ExecuteCommandOptions {
            // `tel.debug` and `tel.showHistory` are the client's (a debug session, a view of
            // `tel/history`): the server executes what changes or runs something.
            commands: vec![editing::STORE_ADD.into(), crate::running::RUN.into()],
            work_done_progress_options: Default::default(),
        }),
        document_formatting_provider: Some(OneOf::Left(true)),
        document_range_formatting_provider: Some(OneOf::Left(true)),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                legend: legend(),
                range: Some(true),
                full: Some(SemanticTokensFullOptions::Bool(true)),
                ..Default::default()
            },
        )),
        ..Default::default()
    }
}

/// The code store, locked for one request.
pub(crate) fn store(snap: &Snapshot) -> Option<MutexGuard<'_, tel_store::Store>> {
    snap.store.as_ref().map(|s| s.lock().unwrap_or_else(|e| e.into_inner()))
}

pub(crate) fn position_of(
    snap: &Snapshot,
    p: &TextDocumentPositionParams,
) -> HandlerResult<(FileId, TextSize)> {
    let file = snap.file_id(&p.text_document.uri)?;
    Ok((file, snap.offset(file, p.position)?))
}

pub fn hover(snap: &Snapshot, params: HoverParams) -> HandlerResult<Option<Hover>> {
    let (file, offset) = position_of(snap, &params.text_document_position_params)?;
    let guard = store(snap);
    let store = guard.as_deref().map(|s| s as &dyn StoreInfo);
    let Some(h) = snap.analysis.hover(file, offset, store)? else { return Ok(None) };
    Ok(Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: h.markup,
        }),
        range: Some(snap.range(file, h.range)?),
    }))
}

pub fn inlay_hints(
    snap: &Snapshot,
    params: InlayHintParams,
) -> HandlerResult<Option<Vec<InlayHint>>> {
    let file = snap.file_id(&params.text_document.uri)?;
    let range = snap.text_range(file, params.range)?;
    let config = InlayConfig {
        hashes: snap.config.inlay_hints.hashes,
        let_types: snap.config.inlay_hints.let_types,
    };
    let hints = snap.analysis.inlay_hints(file, Some(range), config)?;
    let index = snap.line_index(file)?;
    Ok(Some(
        hints
            .into_iter()
            .map(|h| InlayHint {
                position: convert::position(index, h.offset, snap.encoding),
                label: InlayHintLabel::String(h.label),
                kind: match h.kind {
                    InlayKind::Type => Some(InlayHintKind::TYPE),
                    InlayKind::Hash => None,
                },
                text_edits: None,
                tooltip: h.tooltip.map(InlayHintTooltip::String),
                padding_left: Some(h.kind == InlayKind::Hash),
                padding_right: None,
                data: None,
            })
            .collect(),
    ))
}

pub fn code_lenses(
    snap: &Snapshot,
    params: CodeLensParams,
) -> HandlerResult<Option<Vec<CodeLens>>> {
    let file = snap.file_id(&params.text_document.uri)?;
    let uri = params.text_document.uri;
    let config = LensConfig {
        hashes: snap.config.lens.hashes,
        run: snap.config.lens.run,
        store: snap.config.lens.store,
    };
    let guard = store(snap);
    let store = guard.as_deref().map(|s| s as &dyn StoreInfo);
    let lenses = snap.analysis.code_lenses(file, store, config)?;
    let path = snap.analysis.file_path(file).to_path_buf();
    let mut out = Vec::with_capacity(lenses.len());
    for lens in lenses {
        let range = snap.range(file, lens.range)?;
        let name = lens.def.qualified().to_string();
        let command = match lens.kind {
            LensKind::Hash { hash, dependents } => Command {
                title: format!("#{} · {}", hash.short(), plural(dependents, "dependent")),
                command: "tel.showReferences".into(),
                arguments: Some(vec![json!(uri), json!(range.start)]),
            },
            LensKind::Unhashed { dependents } => Command {
                title: format!("no hash (errors) · {}", plural(dependents, "dependent")),
                command: "tel.showReferences".into(),
                arguments: Some(vec![json!(uri), json!(range.start)]),
            },
            LensKind::Run => Command {
                title: "▶ Run".into(),
                command: crate::running::RUN.into(),
                arguments: Some(vec![json!({ "uri": uri, "name": name })]),
            },
            LensKind::Store(status) => {
                let Some(hash) = snap.analysis.hash_of(file, &lens.def)? else { continue };
                let old = match &status {
                    StoreStatus::Changed { old } => Some(old),
                    _ => None,
                };
                editing::store_lens(&uri, name, &hash, old)
            }
            LensKind::Debug => Command {
                title: "⏵ Debug".into(),
                command: "tel.debug".into(),
                arguments: Some(vec![json!({
                    "type": "tel",
                    "request": "launch",
                    "name": format!("Debug {name}"),
                    "program": path,
                    "entry": name,
                })]),
            },
        };
        out.push(CodeLens { range, command: Some(command), data: None });
    }
    Ok(Some(out))
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}

/// The URI of a stored definition, served read-only by `tel/viewDefinition`.
pub fn stored_uri(hash: &tel_hash::CodeHash) -> Uri {
    format!("tel-store:///{}.tel", hash.to_base32hex()).parse().expect("a valid URI")
}

pub fn goto_definition(
    snap: &Snapshot,
    params: GotoDefinitionParams,
) -> HandlerResult<Option<GotoDefinitionResponse>> {
    let (file, offset) = position_of(snap, &params.text_document_position_params)?;
    let Some((origin, dest)) = snap.analysis.goto_definition(file, offset)? else {
        return Ok(None);
    };
    let origin = snap.range(file, origin)?;
    let link = match dest {
        Destination::Source(nav) => {
            let Some(uri) = snap.uri(nav.file) else { return Ok(None) };
            LocationLink {
                origin_selection_range: Some(origin),
                target_uri: uri,
                target_range: snap.range(nav.file, nav.full_range)?,
                target_selection_range: snap.range(nav.file, nav.name_range)?,
            }
        }
        Destination::Stored(hash) => LocationLink {
            origin_selection_range: Some(origin),
            target_uri: stored_uri(&hash),
            target_range: Range::default(),
            target_selection_range: Range::default(),
        },
    };
    Ok(Some(GotoDefinitionResponse::Link(vec![link])))
}

pub fn references(
    snap: &Snapshot,
    params: ReferenceParams,
) -> HandlerResult<Option<Vec<Location>>> {
    let (file, offset) = position_of(snap, &params.text_document_position)?;
    let refs =
        snap.analysis.find_all_references(file, offset, params.context.include_declaration)?;
    let mut out = Vec::with_capacity(refs.len());
    for r in refs {
        if let Some(location) = snap.location(r.file, r.range)? {
            out.push(location);
        }
    }
    out.extend(stored_dependents(snap, file, offset)?);
    Ok(Some(out))
}

/// The codebase's definitions that use the definition at `offset` and that no file of the
/// workspace defines (by hash): references no source file shows.
fn stored_dependents(
    snap: &Snapshot,
    file: FileId,
    offset: TextSize,
) -> HandlerResult<Vec<Location>> {
    let Some(store) = snap.store.as_ref() else { return Ok(Vec::new()) };
    let hash = match snap.analysis.classify(file, offset)?.map(|f| f.target) {
        Some(Target::Def(DefRef::Def(def), _)) => snap.analysis.hash_of(file, &def)?,
        Some(Target::Def(DefRef::Hash(hash), _)) => Some(hash),
        _ => None,
    };
    let Some(hash) = hash else { return Ok(Vec::new()) };
    let store = store.lock().unwrap_or_else(|e| e.into_inner());
    let Ok(report) = store.deps(&format!("{hash:#}")) else { return Ok(Vec::new()) };
    if report.dependents.is_empty() {
        return Ok(Vec::new());
    }
    let mut in_workspace = std::collections::HashSet::new();
    for f in snap.analysis.project_files(file) {
        in_workspace.extend(snap.analysis.definitions(f)?.into_iter().filter_map(|d| d.hash));
    }
    Ok(report
        .dependents
        .iter()
        .filter(|d| !in_workspace.contains(&d.hash))
        .map(|d| Location { uri: stored_uri(&d.hash), range: Range::default() })
        .collect())
}

pub fn document_highlight(
    snap: &Snapshot,
    params: DocumentHighlightParams,
) -> HandlerResult<Option<Vec<DocumentHighlight>>> {
    let (file, offset) = position_of(snap, &params.text_document_position_params)?;
    let ranges = snap.analysis.highlight_related(file, offset)?;
    ranges
        .into_iter()
        .map(|(r, def)| {
            Ok(DocumentHighlight {
                range: snap.range(file, r)?,
                kind: Some(if def {
                    DocumentHighlightKind::WRITE
                } else {
                    DocumentHighlightKind::READ
                }),
            })
        })
        .collect::<HandlerResult<Vec<_>>>()
        .map(Some)
}

pub fn document_symbols(
    snap: &Snapshot,
    params: DocumentSymbolParams,
) -> HandlerResult<Option<DocumentSymbolResponse>> {
    let file = snap.file_id(&params.text_document.uri)?;
    let symbols = snap.analysis.document_symbols(file)?;
    fn convert(
        snap: &Snapshot,
        file: FileId,
        s: tel_ide::features::Symbol,
    ) -> HandlerResult<DocumentSymbol> {
        #[allow(deprecated)]
        Ok(DocumentSymbol {
            name: s.name.to_string(),
            detail: s.detail,
            kind: symbol_kind(s.kind),
            tags: None,
            deprecated: None,
            range: snap.range(file, s.range)?,
            selection_range: snap.range(file, s.selection_range)?,
            children: Some(
                s.children
                    .into_iter()
                    .map(|c| convert(snap, file, c))
                    .collect::<HandlerResult<_>>()?,
            ),
        })
    }
    let out = symbols.into_iter().map(|s| convert(snap, file, s)).collect::<HandlerResult<_>>()?;
    Ok(Some(DocumentSymbolResponse::Nested(out)))
}

pub fn folding_ranges(
    snap: &Snapshot,
    params: FoldingRangeParams,
) -> HandlerResult<Option<Vec<FoldingRange>>> {
    let file = snap.file_id(&params.text_document.uri)?;
    let folds = snap.analysis.folding_ranges(file)?;
    let index = snap.line_index(file)?;
    let text = snap.analysis.file_text(file);
    let mut out = Vec::new();
    for f in folds {
        let start = index.line_col(f.range.start()).line;
        let mut end = index.line_col(f.range.end()).line;
        // A region ending in a `}` alone on its line keeps that line visible.
        if f.kind == FoldKind::Region
            && let Some(line) = index.line_range(end)
            && text[line].trim().starts_with('}')
        {
            end = end.saturating_sub(1);
        }
        if end <= start {
            continue;
        }
        out.push(FoldingRange {
            start_line: start,
            start_character: None,
            end_line: end,
            end_character: None,
            kind: Some(match f.kind {
                FoldKind::Region => FoldingRangeKind::Region,
                FoldKind::Comment => FoldingRangeKind::Comment,
                FoldKind::Imports => FoldingRangeKind::Imports,
            }),
            collapsed_text: None,
        });
    }
    Ok(Some(out))
}

fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TokenKind::ALL.iter().map(|k| token_type(*k)).collect(),
        token_modifiers: modifiers::NAMES.iter().map(|m| SemanticTokenModifier::new(m)).collect(),
    }
}

fn token_type(kind: TokenKind) -> SemanticTokenType {
    match kind {
        TokenKind::Keyword => SemanticTokenType::KEYWORD,
        TokenKind::Comment => SemanticTokenType::COMMENT,
        TokenKind::String => SemanticTokenType::STRING,
        TokenKind::Number => SemanticTokenType::NUMBER,
        TokenKind::Operator => SemanticTokenType::OPERATOR,
        TokenKind::Namespace => SemanticTokenType::NAMESPACE,
        TokenKind::Function => SemanticTokenType::FUNCTION,
        TokenKind::Type => SemanticTokenType::TYPE,
        TokenKind::Enum => SemanticTokenType::ENUM,
        TokenKind::EnumMember => SemanticTokenType::ENUM_MEMBER,
        TokenKind::Effect => SemanticTokenType::INTERFACE,
        TokenKind::Schema => SemanticTokenType::STRUCT,
        TokenKind::Parameter => SemanticTokenType::PARAMETER,
        TokenKind::Variable => SemanticTokenType::VARIABLE,
        TokenKind::Property => SemanticTokenType::PROPERTY,
        TokenKind::Hash => SemanticTokenType::MACRO,
    }
}

/// The LSP's relative encoding; a token spanning lines (a block comment) is cut per line.
fn encode_tokens(
    index: &LineIndex,
    enc: Encoding,
    tokens: &[tel_ide::features::SemanticToken],
) -> Vec<SemanticToken> {
    let mut out = Vec::with_capacity(tokens.len());
    let (mut prev_line, mut prev_start) = (0u32, 0u32);
    let mut push = |range: TextRange, kind: u32, mods: u32, out: &mut Vec<SemanticToken>| {
        let start = convert::position(index, range.start(), enc);
        let end = convert::position(index, range.end(), enc);
        if end.character <= start.character {
            return;
        }
        let delta_line = start.line - prev_line;
        let delta_start =
            if delta_line == 0 { start.character - prev_start } else { start.character };
        out.push(SemanticToken {
            delta_line,
            delta_start,
            length: end.character - start.character,
            token_type: kind,
            token_modifiers_bitset: mods,
        });
        prev_line = start.line;
        prev_start = start.character;
    };
    for t in tokens {
        let kind = TokenKind::ALL.iter().position(|k| *k == t.kind).unwrap_or(0) as u32;
        let first = index.line_col(t.range.start()).line;
        let last = index.line_col(t.range.end()).line;
        for line in first..=last {
            let Some(line_range) = index.line_range(line) else { break };
            let Some(piece) = line_range.intersect(t.range) else { continue };
            // without the line's `\n`
            let piece_end = if line < last { piece.end() - TextSize::from(1) } else { piece.end() };
            if piece_end > piece.start() {
                push(TextRange::new(piece.start(), piece_end), kind, t.modifiers, &mut out);
            }
        }
    }
    out
}

pub fn semantic_tokens_full(
    snap: &Snapshot,
    params: SemanticTokensParams,
) -> HandlerResult<Option<SemanticTokensResult>> {
    let file = snap.file_id(&params.text_document.uri)?;
    let tokens = snap.analysis.semantic_tokens(file, None)?;
    let data = encode_tokens(snap.line_index(file)?, snap.encoding, &tokens);
    Ok(Some(SemanticTokensResult::Tokens(SemanticTokens { result_id: None, data })))
}

pub fn semantic_tokens_range(
    snap: &Snapshot,
    params: SemanticTokensRangeParams,
) -> HandlerResult<Option<SemanticTokensRangeResult>> {
    let file = snap.file_id(&params.text_document.uri)?;
    let range = snap.text_range(file, params.range)?;
    let tokens = snap.analysis.semantic_tokens(file, Some(range))?;
    let data = encode_tokens(snap.line_index(file)?, snap.encoding, &tokens);
    Ok(Some(SemanticTokensRangeResult::Tokens(SemanticTokens { result_id: None, data })))
}

pub fn prepare_rename(
    snap: &Snapshot,
    params: TextDocumentPositionParams,
) -> HandlerResult<Option<PrepareRenameResponse>> {
    let (file, offset) = position_of(snap, &params)?;
    match snap.analysis.prepare_rename(file, offset)? {
        Ok((range, name)) => Ok(Some(PrepareRenameResponse::RangeWithPlaceholder {
            range: snap.range(file, range)?,
            placeholder: name.to_string(),
        })),
        Err(reason) => Err(HandlerError::InvalidParams(reason)),
    }
}

/// A rename: the workspace edit, and what to tell the user about the code store.
pub struct Renamed {
    pub edit: Option<WorkspaceEdit>,
    pub message: Option<String>,
}

/// Renames everywhere; a top-level definition's name pointer in the codebase moves too
/// (with history), which changes no hash — counted on the edited text, and reported.
pub fn rename(snap: &Snapshot, params: RenameParams) -> HandlerResult<Renamed> {
    let (file, offset) = position_of(snap, &params.text_document_position)?;
    let new_name = params.new_name;
    let rename =
        snap.analysis.rename(file, offset, &new_name)?.map_err(HandlerError::InvalidParams)?;
    let mut changes: std::collections::HashMap<Uri, Vec<TextEdit>> = Default::default();
    for (f, range, text) in &rename.edits {
        let Some(uri) = snap.uri(*f) else { continue };
        changes
            .entry(uri)
            .or_default()
            .push(TextEdit { range: snap.range(*f, *range)?, new_text: text.clone() });
    }
    let edit = Some(WorkspaceEdit { changes: Some(changes), ..Default::default() });
    let Some((old, new)) = rename.definition.clone() else {
        return Ok(Renamed { edit, message: None });
    };
    let (old_q, new_q) = (old.qualified().to_string(), new.qualified().to_string());
    let mut guard = snap.store.as_ref().map(|s| s.lock().unwrap_or_else(|e| e.into_inner()));
    if let Some(store) = guard.as_deref()
        && store.hash_of_name(&new_q).is_some()
    {
        return Err(HandlerError::InvalidParams(format!(
            "the codebase already has a name `{new_q}`; renaming `{old_q}` would collide with it"
        )));
    }
    let hash = snap.analysis.hash_of(file, &old)?;
    let renamed: rustc_hash::FxHashMap<_, _> = [(old.clone(), new.clone())].into_iter().collect();
    let rehashed = snap.analysis.rehashed_by(file, &rename.edits, &renamed)?;
    let hash_text =
        hash.map_or("(none yet: it has errors)".to_owned(), |h| format!("#{}", h.short()));
    let pointer = match guard.as_deref_mut() {
        Some(store) if store.hash_of_name(&old_q).is_some() => {
            let reason = format!("rename {old_q} {new_q} (editor)");
            match store.rename(&old_q, &new_q, &reason) {
                Ok(_) => format!("the codebase's name `{old_q}` now reads `{new_q}`"),
                Err(e) => format!("the codebase was not changed: {e}"),
            }
        }
        Some(_) => format!("`{old_q}` is not in the codebase: no name pointer to move"),
        None => "there is no codebase: no name pointer to move".to_owned(),
    };
    let message = format!(
        "renamed {} → {}: hash {hash_text} unchanged, {rehashed} definition{} rehashed; {pointer}",
        old.name,
        new.name,
        if rehashed == 1 { "" } else { "s" }
    );
    Ok(Renamed { edit, message: Some(message) })
}

fn symbol_kind(kind: TelSymbolKind) -> SymbolKind {
    match kind {
        TelSymbolKind::Module => SymbolKind::MODULE,
        TelSymbolKind::Function => SymbolKind::FUNCTION,
        TelSymbolKind::Type => SymbolKind::STRUCT,
        TelSymbolKind::Enum => SymbolKind::ENUM,
        TelSymbolKind::Variant => SymbolKind::ENUM_MEMBER,
        TelSymbolKind::Effect => SymbolKind::INTERFACE,
        TelSymbolKind::Schema => SymbolKind::CLASS,
        TelSymbolKind::Field => SymbolKind::FIELD,
    }
}

/// How many symbols one `workspace/symbol` answer holds at most.
const MAX_WORKSPACE_SYMBOLS: usize = 256;

/// Definitions of the workspace and names of the codebase containing the query.
pub fn workspace_symbols(
    snap: &Snapshot,
    params: WorkspaceSymbolParams,
) -> HandlerResult<Option<WorkspaceSymbolResponse>> {
    let symbols = snap.analysis.workspace_symbols(&params.query, MAX_WORKSPACE_SYMBOLS)?;
    let mut out = Vec::with_capacity(symbols.len());
    let mut seen = std::collections::HashSet::new();
    for s in symbols {
        let Some(location) = snap.location(s.file, s.range)? else { continue };
        seen.insert((s.name.clone(), s.hash));
        #[allow(deprecated)]
        out.push(SymbolInformation {
            name: s.name,
            kind: symbol_kind(s.kind),
            tags: None,
            deprecated: None,
            location,
            container_name: s.hash.map(|h| format!("#{}", h.short())),
        });
    }
    if let Some(store) = snap.store.as_ref().map(|s| s.lock().unwrap_or_else(|e| e.into_inner()))
        && let Ok(names) = store.find(&params.query)
    {
        for n in names.names.into_iter().take(MAX_WORKSPACE_SYMBOLS.saturating_sub(out.len())) {
            if seen.contains(&(n.name.clone(), Some(n.hash))) {
                continue;
            }
            let kind = match n.kind {
                tel_hash::core::DefKind::Fn => SymbolKind::FUNCTION,
                tel_hash::core::DefKind::Type => SymbolKind::STRUCT,
                tel_hash::core::DefKind::Enum => SymbolKind::ENUM,
                tel_hash::core::DefKind::Effect => SymbolKind::INTERFACE,
                tel_hash::core::DefKind::Schema => SymbolKind::CLASS,
            };
            #[allow(deprecated)]
            out.push(SymbolInformation {
                name: n.name,
                kind,
                tags: None,
                deprecated: None,
                location: Location { uri: stored_uri(&n.hash), range: Range::default() },
                container_name: Some(format!("codebase #{}", n.hash.short())),
            });
        }
    }
    Ok(Some(WorkspaceSymbolResponse::Flat(out)))
}
