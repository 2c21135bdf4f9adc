//! Handlers that help write code: completion, signature help, code actions, formatting, and
//! the `tel.storeAdd` command the Store lens and action run.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tel_ide::features::{AssistKind, CompletionKind, StoreInfo};
use tel_ide::{FileId, Severity, TextRange};
use tower_lsp_server::ls_types::*;

use crate::convert::Encoding;
use crate::error::{HandlerError, HandlerResult};
use crate::handlers::{position_of, store};
use crate::world::Snapshot;

/// The command that stores a definition (or a file's definitions) in the codebase.
pub const STORE_ADD: &str = "tel.storeAdd";

/// The code action kind of "Store this definition": a source action, as it changes the
/// codebase rather than the text.
pub const STORE_ACTION_KIND: &str = "source.tel.storeAdd";

pub fn completion(
    snap: &Snapshot,
    params: CompletionParams,
) -> HandlerResult<Option<CompletionResponse>> {
    let (file, offset) = position_of(snap, &params.text_document_position)?;
    let guard = store(snap);
    let store = guard.as_deref().map(|s| s as &dyn StoreInfo);
    let items = snap.analysis.completions(file, offset, store)?;
    let mut out = Vec::with_capacity(items.len());
    for (i, c) in items.into_iter().enumerate() {
        out.push(CompletionItem {
            kind: Some(completion_kind(c.kind)),
            detail: c.detail,
            label_details: c
                .label_detail
                .map(|d| CompletionItemLabelDetails { detail: None, description: Some(d) }),
            documentation: c.documentation.map(|value| {
                Documentation::MarkupContent(MarkupContent { kind: MarkupKind::Markdown, value })
            }),
            // The engine's order (locals first, keywords last) is the order to show.
            sort_text: Some(format!("{i:05}")),
            text_edit: Some(CompletionTextEdit::Edit(TextEdit {
                range: snap.range(file, c.range)?,
                new_text: c.insert,
            })),
            label: c.label,
            ..Default::default()
        });
    }
    Ok(Some(CompletionResponse::List(CompletionList { is_incomplete: false, items: out })))
}

fn completion_kind(kind: CompletionKind) -> CompletionItemKind {
    match kind {
        CompletionKind::Local | CompletionKind::Parameter => CompletionItemKind::VARIABLE,
        CompletionKind::Field => CompletionItemKind::FIELD,
        CompletionKind::Function | CompletionKind::Builtin => CompletionItemKind::FUNCTION,
        CompletionKind::Variant => CompletionItemKind::ENUM_MEMBER,
        CompletionKind::Type | CompletionKind::BuiltinType => CompletionItemKind::STRUCT,
        CompletionKind::Enum => CompletionItemKind::ENUM,
        CompletionKind::Schema => CompletionItemKind::CLASS,
        CompletionKind::Effect => CompletionItemKind::INTERFACE,
        CompletionKind::Module => CompletionItemKind::MODULE,
        CompletionKind::Keyword => CompletionItemKind::KEYWORD,
        CompletionKind::Hash => CompletionItemKind::REFERENCE,
    }
}

/// A column count in the negotiated encoding.
fn units(text: &str, enc: Encoding) -> u32 {
    match enc {
        Encoding::Utf8 => text.len() as u32,
        Encoding::Utf16 => text.encode_utf16().count() as u32,
    }
}

pub fn signature_help(
    snap: &Snapshot,
    params: SignatureHelpParams,
) -> HandlerResult<Option<SignatureHelp>> {
    let (file, offset) = position_of(snap, &params.text_document_position_params)?;
    let Some(help) = snap.analysis.signature_help(file, offset)? else { return Ok(None) };
    let label = help.label;
    let parameters = help
        .parameters
        .iter()
        .map(|r| {
            let start = units(&label[..usize::from(r.start())], snap.encoding);
            let end = units(&label[..usize::from(r.end())], snap.encoding);
            ParameterInformation {
                label: ParameterLabel::LabelOffsets([start, end]),
                documentation: None,
            }
        })
        .collect();
    let active = help.active_parameter.map(|a| a as u32);
    Ok(Some(SignatureHelp {
        signatures: vec![SignatureInformation {
            label,
            documentation: help.documentation.map(|value| {
                Documentation::MarkupContent(MarkupContent { kind: MarkupKind::Markdown, value })
            }),
            parameters: Some(parameters),
            active_parameter: active,
        }],
        active_signature: Some(0),
        active_parameter: active,
    }))
}

/// What `tel.storeAdd` takes: a definition with the hash the lens or action showed, or a
/// whole document (a bare URI, or `{uri}`), as `tel store add FILE` stores it.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct StoreAddArgs {
    pub uri: Uri,
    /// `module::name`.
    pub name: Option<String>,
    /// The 52-character hash the definition had when the command was offered.
    pub hash: Option<String>,
}

fn store_command(title: String, args: &StoreAddArgs) -> Command {
    Command { title, command: STORE_ADD.into(), arguments: Some(vec![json!(args)]) }
}

/// The lens command for a definition that is new or changed.
pub fn store_lens(
    uri: &Uri,
    name: String,
    hash: &tel_hash::CodeHash,
    old: Option<&tel_hash::CodeHash>,
) -> Command {
    let title = match old {
        Some(old) => format!("Store (replaces #{})", old.short()),
        None => "Store".to_owned(),
    };
    let args = StoreAddArgs { uri: uri.clone(), name: Some(name), hash: Some(hash.to_base32hex()) };
    store_command(title, &args)
}

fn kind_allowed(only: Option<&[CodeActionKind]>, kind: &CodeActionKind) -> bool {
    let Some(only) = only else { return true };
    only.iter().any(|o| {
        let o = o.as_str();
        o.is_empty() || kind.as_str() == o || kind.as_str().starts_with(&format!("{o}."))
    })
}

pub fn code_actions(
    snap: &Snapshot,
    params: CodeActionParams,
) -> HandlerResult<Option<CodeActionResponse>> {
    let file = snap.file_id(&params.text_document.uri)?;
    let uri = params.text_document.uri.clone();
    let range = snap.text_range(file, params.range)?;
    let guard = store(snap);
    let store = guard.as_deref().map(|s| s as &dyn StoreInfo);
    let assists = snap.analysis.code_actions(file, range, store)?;
    drop(guard);
    let only = params.context.only.as_deref();
    let mut out = Vec::new();
    for a in assists {
        let action = match a.kind {
            AssistKind::QuickFix => {
                let kind = CodeActionKind::QUICKFIX;
                if !kind_allowed(only, &kind) {
                    continue;
                }
                let mut fixed = Vec::new();
                for (code, r) in &a.fixes {
                    let r = snap.range(file, *r)?;
                    fixed.extend(
                        params
                            .context
                            .diagnostics
                            .iter()
                            .filter(|d| {
                                d.range == r
                                    && d.code == Some(NumberOrString::String((*code).to_owned()))
                            })
                            .cloned(),
                    );
                }
                let mut edits = Vec::with_capacity(a.edits.len());
                for (r, text) in a.edits {
                    edits.push(TextEdit { range: snap.range(file, r)?, new_text: text });
                }
                CodeAction {
                    title: a.label,
                    kind: Some(kind),
                    diagnostics: (!fixed.is_empty()).then_some(fixed),
                    edit: Some(WorkspaceEdit {
                        changes: Some([(uri.clone(), edits)].into_iter().collect()),
                        ..Default::default()
                    }),
                    is_preferred: Some(true),
                    ..Default::default()
                }
            }
            AssistKind::Store => {
                let kind = CodeActionKind::new(STORE_ACTION_KIND);
                if !kind_allowed(only, &kind) {
                    continue;
                }
                let Some((def, hash)) = a.store else { continue };
                let args = StoreAddArgs {
                    uri: uri.clone(),
                    name: Some(def.qualified().to_string()),
                    hash: Some(hash.to_base32hex()),
                };
                CodeAction {
                    command: Some(store_command(a.label.clone(), &args)),
                    title: a.label,
                    kind: Some(kind),
                    ..Default::default()
                }
            }
        };
        out.push(CodeActionOrCommand::CodeAction(action));
    }
    Ok(Some(out))
}

/// What `tel.storeAdd` did.
pub struct Stored {
    /// `tel store add --json`'s report, with the codebase's path.
    pub report: Value,
    pub message: String,
}

/// `tel.storeAdd`: stores a definition, or every definition of a document, with everything
/// they depend on, in the workspace's codebase (created if there is none yet) — what
/// `tel store add` does, through the same engine function.
pub fn store_add(snap: &Snapshot, arguments: Vec<Value>) -> HandlerResult<Stored> {
    let args = parse_store_args(arguments)?;
    let file = snap.file_id(&args.uri)?;
    let defs = snap.analysis.definitions(file)?;
    let roots: Vec<(FileId, tel_ide::Definition)> = match &args.name {
        Some(name) => {
            let def = defs.into_iter().find(|d| d.qualified() == *name).ok_or_else(|| {
                HandlerError::InvalidParams(format!(
                    "`{name}` is not defined in {}",
                    args.uri.as_str()
                ))
            })?;
            if let (Some(wanted), Some(now)) = (&args.hash, def.hash)
                && now.to_base32hex() != *wanted
            {
                return Err(HandlerError::Failed(format!(
                    "`{name}` changed since this was offered (it is #{} now, not #{}): nothing was stored; try again",
                    now.short(),
                    wanted.get(..8).unwrap_or(wanted)
                )));
            }
            vec![(file, def)]
        }
        None => {
            let errors = snap
                .analysis
                .diagnostics(file)?
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            if errors > 0 {
                return Err(HandlerError::Failed(format!(
                    "nothing was stored: {} has {errors} error{}",
                    args.uri.as_str(),
                    if errors == 1 { "" } else { "s" }
                )));
            }
            let mut defs = defs;
            defs.sort_by_key(|d| d.range.start());
            defs.into_iter().map(|d| (file, d)).collect()
        }
    };
    let what =
        args.name.clone().unwrap_or_else(|| snap.analysis.file_path(file).display().to_string());
    let batch = snap
        .analysis
        .store_batch(&roots)?
        .map_err(|e| HandlerError::Failed(format!("nothing was stored: {e}")))?;
    let reason = format!("tel.storeAdd {what} (editor)");
    let failed = |e: tel_store::Error| HandlerError::Failed(format!("nothing was stored: {e}"));
    let (report, path) = match &snap.store {
        Some(handle) => {
            let mut store = handle.lock().unwrap_or_else(|e| e.into_inner());
            (store.add_definitions(&batch, &reason).map_err(failed)?, store.path().to_path_buf())
        }
        None => {
            let path = snap.codebase_path.clone().ok_or_else(|| {
                HandlerError::Failed(
                    "there is no codebase for this workspace: open a folder with a tel.toml, or set TEL_CODEBASE"
                        .into(),
                )
            })?;
            let mut store = tel_store::Store::open(&path).map_err(failed)?;
            (store.add_definitions(&batch, &reason).map_err(failed)?, path)
        }
    };
    let hash = roots.first().and_then(|(_, d)| d.hash).filter(|_| args.name.is_some());
    let message = format!(
        "stored {what}{} in {}: {} new, {} updated, {} unchanged",
        hash.map(|h| format!(" #{}", h.short())).unwrap_or_default(),
        path.display(),
        report.new,
        report.updated,
        report.unchanged
    );
    let mut value =
        serde_json::to_value(&report).map_err(|e| HandlerError::Internal(e.to_string()))?;
    value["codebase"] = json!(path);
    value["message"] = json!(message);
    Ok(Stored { report: value, message })
}

fn parse_store_args(arguments: Vec<Value>) -> HandlerResult<StoreAddArgs> {
    let bad = |why: String| {
        HandlerError::InvalidParams(format!(
            "{STORE_ADD} takes {{uri, name, hash}} or a document URI: {why}"
        ))
    };
    match arguments.into_iter().next() {
        Some(Value::String(uri)) => {
            let uri = uri.parse().map_err(|e| bad(format!("`{uri}`: {e}")))?;
            Ok(StoreAddArgs { uri, name: None, hash: None })
        }
        Some(v @ Value::Object(_)) => serde_json::from_value(v).map_err(|e| bad(e.to_string())),
        Some(other) => Err(bad(format!("got {other}"))),
        None => Err(bad("got no arguments".into())),
    }
}

/// `textDocument/formatting`: the canonical layout, as one edit covering what changed (none
/// when the file is formatted already). A file with syntax errors is left alone.
pub fn formatting(
    snap: &Snapshot,
    params: DocumentFormattingParams,
) -> HandlerResult<Option<Vec<TextEdit>>> {
    let file = snap.file_id(&params.text_document.uri)?;
    let text = snap.analysis.file_text(file);
    let parse = snap.analysis.parse(file)?;
    let formatted = match tel_syntax::format::format_parsed(&text, &parse) {
        Ok(formatted) => formatted,
        // The diagnostics already show the syntax error; formatting says nothing more.
        Err(_) => return Ok(None),
    };
    let Some(edit) = tel_syntax::format::minimal_edit(&text, &formatted) else {
        return Ok(Some(Vec::new()));
    };
    Ok(Some(vec![TextEdit { range: snap.range(file, edit.range)?, new_text: edit.insert }]))
}

/// `textDocument/rangeFormatting`: the items the range touches.
pub fn range_formatting(
    snap: &Snapshot,
    params: DocumentRangeFormattingParams,
) -> HandlerResult<Option<Vec<TextEdit>>> {
    let file = snap.file_id(&params.text_document.uri)?;
    let range: TextRange = snap.text_range(file, params.range)?;
    let text = snap.analysis.file_text(file);
    match tel_syntax::format::format_range(&text, range) {
        Ok(Some(edit)) => {
            Ok(Some(vec![TextEdit { range: snap.range(file, edit.range)?, new_text: edit.insert }]))
        }
        Ok(None) => Ok(Some(Vec::new())),
        Err(_) => Ok(None),
    }
}
