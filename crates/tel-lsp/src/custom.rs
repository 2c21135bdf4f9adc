//! The custom requests (docs/lsp.md, "Custom requests"): `tel/hashOf`, `tel/dependents`,
//! `tel/history`, `tel/viewDefinition`.

use serde::{Deserialize, Serialize};
use tel_hash::CodeHash;
use tel_hir::{DefId, DefRef};
use tel_ide::features::{StoreInfo, StoreStatus, Target};
use tower_lsp_server::ls_types::{Location, TextDocumentPositionParams};

use crate::error::{HandlerError, HandlerResult};
use crate::handlers::PRELUDE_URI;
use crate::world::Snapshot;

/// A definition and how it stands against the codebase.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HashOf {
    /// `module::name`; for a stored definition, its first name (if any).
    pub name: Option<String>,
    pub kind: String,
    /// All 52 characters; `null` while the definition has errors.
    pub hash: Option<String>,
    pub short: Option<String>,
    /// `stored`, `new`, `changed`, `unhashed`, or `codebase` (a `#hash` reference).
    pub status: String,
    /// For `changed`: the hash the codebase has under this name.
    pub stored_hash: Option<String>,
}

fn store_guard(snap: &Snapshot) -> Option<std::sync::MutexGuard<'_, tel_store::Store>> {
    snap.store.as_ref().map(|s| s.lock().unwrap_or_else(|e| e.into_inner()))
}

fn describe(
    snap: &Snapshot,
    file: tel_ide::FileId,
    target: &Target,
    store: Option<&dyn StoreInfo>,
) -> HandlerResult<Option<(HashOf, Option<DefId>)>> {
    let (def, kind) = match target {
        Target::Def(DefRef::Def(def), kind) => (def.clone(), *kind),
        Target::Def(DefRef::Hash(hash), kind) => {
            let names = store.map(|s| s.names_of(hash)).unwrap_or_default();
            let of = HashOf {
                name: names.into_iter().next(),
                kind: kind.as_str().to_owned(),
                hash: Some(hash.to_base32hex()),
                short: Some(hash.short()),
                status: "codebase".into(),
                stored_hash: None,
            };
            return Ok(Some((of, None)));
        }
        _ => return Ok(None),
    };
    let hash = snap.analysis.hash_of(file, &def)?;
    let status = StoreStatus::of(store, &def.qualified(), hash);
    let of = HashOf {
        name: Some(def.qualified().to_string()),
        kind: kind.as_str().to_owned(),
        hash: hash.map(|h| h.to_base32hex()),
        short: hash.map(|h| h.short()),
        status: match status {
            StoreStatus::Stored => "stored",
            StoreStatus::Changed { .. } => "changed",
            StoreStatus::New { .. } => "new",
            StoreStatus::Unhashed => "unhashed",
        }
        .into(),
        stored_hash: match status {
            StoreStatus::Changed { old } => Some(old.to_base32hex()),
            _ => None,
        },
    };
    Ok(Some((of, Some(def))))
}

fn target_at(
    snap: &Snapshot,
    params: &TextDocumentPositionParams,
) -> HandlerResult<Option<(tel_ide::FileId, Target)>> {
    let file = snap.file_id(&params.text_document.uri)?;
    let offset = snap.offset(file, params.position)?;
    Ok(snap.analysis.classify(file, offset)?.map(|f| (file, f.target)))
}

/// `tel/hashOf`: the definition at a position, its hash and its status in the codebase.
pub fn hash_of(
    snap: &Snapshot,
    params: TextDocumentPositionParams,
) -> HandlerResult<Option<HashOf>> {
    let Some((file, target)) = target_at(snap, &params)? else { return Ok(None) };
    let guard = store_guard(snap);
    let store = guard.as_deref().map(|s| s as &dyn StoreInfo);
    Ok(describe(snap, file, &target, store)?.map(|(of, _)| of))
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Dependents {
    pub definition: HashOf,
    /// Definitions of the project that use it directly.
    pub workspace: Vec<WorkspaceDependent>,
    /// Stored definitions that use its hash directly.
    pub codebase: Vec<StoredDependent>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceDependent {
    pub name: String,
    pub hash: Option<String>,
    pub location: Option<Location>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StoredDependent {
    pub hash: String,
    pub kind: String,
    pub names: Vec<String>,
}

/// `tel/dependents`: who uses the definition at a position, in the project and the codebase.
pub fn dependents(
    snap: &Snapshot,
    params: TextDocumentPositionParams,
) -> HandlerResult<Option<Dependents>> {
    let Some((file, target)) = target_at(snap, &params)? else { return Ok(None) };
    let guard = store_guard(snap);
    let store = guard.as_deref().map(|s| s as &dyn StoreInfo);
    let Some((definition, def)) = describe(snap, file, &target, store)? else { return Ok(None) };
    let mut workspace = Vec::new();
    if let Some(def) = &def {
        for user in snap.analysis.dependents(file, def)? {
            let location = match snap.analysis.def_location(file, &user)? {
                Some(nav) => snap.location(nav.file, nav.name_range)?,
                None => None,
            };
            let hash = snap.analysis.hash_of(file, &user)?.map(|h| h.to_base32hex());
            workspace.push(WorkspaceDependent {
                name: user.qualified().to_string(),
                hash,
                location,
            });
        }
    }
    let mut codebase = Vec::new();
    if let (Some(store), Some(hash)) = (guard.as_deref(), definition.hash.as_deref())
        && let Ok(report) = store.deps(&format!("#{hash}"))
    {
        for d in report.dependents {
            codebase.push(StoredDependent {
                hash: d.hash.to_base32hex(),
                kind: d.kind.as_str().to_owned(),
                names: d.names,
            });
        }
    }
    Ok(Some(Dependents { definition, workspace, codebase }))
}

#[derive(Deserialize, Debug)]
pub struct HistoryParams {
    pub name: String,
}

/// `tel/history`: everything that happened to a name in the codebase, newest first.
pub fn history(snap: &Snapshot, params: HistoryParams) -> HandlerResult<serde_json::Value> {
    let guard = store_guard(snap)
        .ok_or_else(|| HandlerError::InvalidParams("there is no codebase yet".into()))?;
    let history =
        guard.history(&params.name).map_err(|e| HandlerError::InvalidParams(e.to_string()))?;
    serde_json::to_value(history).map_err(|e| HandlerError::Internal(e.to_string()))
}

#[derive(Deserialize, Debug)]
pub struct ViewParams {
    pub uri: String,
}

#[derive(Serialize, Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
pub struct View {
    pub uri: String,
    pub language_id: String,
    pub text: String,
}

/// `tel/viewDefinition`: the text of a `tel-store:///<hash>.tel` document (a stored
/// definition, read-only) or of `tel-store:///prelude.tel`.
pub fn view_definition(snap: &Snapshot, params: ViewParams) -> HandlerResult<View> {
    let view = |text: String| View { uri: params.uri.clone(), language_id: "tel".into(), text };
    if params.uri == PRELUDE_URI {
        return Ok(view(tel_hir::PRELUDE_SOURCE.to_owned()));
    }
    let hash_text = params
        .uri
        .strip_prefix("tel-store:///")
        .and_then(|rest| rest.strip_suffix(".tel"))
        .ok_or_else(|| {
            HandlerError::InvalidParams(format!(
                "`{}` is not a tel-store:///<hash>.tel document",
                params.uri
            ))
        })?;
    let hash = CodeHash::parse(hash_text)
        .map_err(|e| HandlerError::InvalidParams(format!("`{}`: {e}", params.uri)))?;
    let guard = store_guard(snap)
        .ok_or_else(|| HandlerError::InvalidParams("there is no codebase yet".into()))?;
    let def =
        guard.get_by_hash(&hash).map_err(|e| HandlerError::Internal(e.to_string()))?.ok_or_else(
            || HandlerError::InvalidParams(format!("the codebase has no definition {hash:#}")),
        )?;
    let names = guard.names_of(&hash);
    let header = format!(
        "// {hash:#} ({}{}) — stored, read-only\n",
        def.kind.as_str(),
        if names.is_empty() { String::new() } else { format!(", named {}", names.join(", ")) }
    );
    Ok(view(format!("{header}{}\n", def.source.trim_end())))
}
