//! Request handlers: LSP parameters in, `tel_ide` features on a snapshot, LSP results out.

use tower_lsp_server::ls_types::*;

use crate::convert::Encoding;

pub fn capabilities(encoding: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(encoding.kind()),
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::INCREMENTAL),
            ..Default::default()
        })),
        ..Default::default()
    }
}
