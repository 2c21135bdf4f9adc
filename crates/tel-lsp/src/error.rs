//! How a handler fails, and what the client is told.

use tel_ide::Cancelled;
use tower_lsp_server::jsonrpc::{Error, ErrorCode};

#[derive(Debug)]
pub enum HandlerError {
    /// An edit arrived while the request ran: the answer would describe old text.
    ContentModified,
    /// The request names something that is not there (a position past the end, a document
    /// never opened).
    InvalidParams(String),
    /// A failure of the server itself (a panic, a store that cannot be read).
    Internal(String),
    /// A well-formed request that could not be done, with the reason (a command refused:
    /// the definition has errors, the codebase refused the batch). LSP's `RequestFailed`.
    Failed(String),
}

pub type HandlerResult<T> = Result<T, HandlerError>;

/// LSP's `RequestFailed` error code.
pub const REQUEST_FAILED: i64 = -32803;

impl From<Cancelled> for HandlerError {
    fn from(_: Cancelled) -> Self {
        HandlerError::ContentModified
    }
}

impl HandlerError {
    pub fn into_jsonrpc(self) -> Error {
        match self {
            HandlerError::ContentModified => Error {
                code: ErrorCode::ContentModified,
                message: "the document changed while the request ran; ask again".into(),
                data: None,
            },
            HandlerError::InvalidParams(message) => {
                Error { code: ErrorCode::InvalidParams, message: message.into(), data: None }
            }
            HandlerError::Internal(message) => {
                Error { code: ErrorCode::InternalError, message: message.into(), data: None }
            }
            HandlerError::Failed(message) => Error {
                code: ErrorCode::ServerError(REQUEST_FAILED),
                message: message.into(),
                data: None,
            },
        }
    }

    /// What a caught panic means: a cancellation (salsa unwinds with `Cancelled`) or a bug,
    /// reported with its message so the user can file it.
    pub fn from_panic(method: &str, payload: Box<dyn std::any::Any + Send>) -> HandlerError {
        if payload.is::<Cancelled>() {
            return HandlerError::ContentModified;
        }
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        HandlerError::Internal(format!("internal error in {method}: {message}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_edit_cancels_a_read_on_an_older_snapshot_as_content_modified() {
        let mut host = tel_ide::AnalysisHost::default();
        let ids = host.add_project(None, vec![("/a.tel".into(), "fn f() -> Int { 1 }".into())]);
        let file = ids[0];
        let analysis = host.analysis();
        analysis.diagnostics(file).unwrap();
        // The writer sets the cancellation flag, then waits for this snapshot to go.
        let writer = std::thread::spawn(move || {
            host.set_file_text(file, "fn f() -> Int { 2 }".into());
            host
        });
        let outcome = loop {
            match analysis.diagnostics(file) {
                Ok(_) => std::thread::yield_now(),
                Err(cancelled) => break HandlerError::from(cancelled),
            }
        };
        drop(analysis);
        let host = writer.join().unwrap();
        assert!(matches!(outcome, HandlerError::ContentModified));
        assert_eq!(outcome.into_jsonrpc().code, ErrorCode::ContentModified);
        // The new snapshot answers.
        assert!(host.analysis().diagnostics(file).is_ok());
    }

    #[test]
    fn panics_are_internal_errors_with_their_message() {
        let e = HandlerError::from_panic("textDocument/hover", Box::new("index out of bounds"));
        let e = e.into_jsonrpc();
        assert_eq!(e.code, ErrorCode::InternalError);
        assert_eq!(e.message, "internal error in textDocument/hover: index out of bounds");
        let e = HandlerError::from_panic("x", Box::new(String::from("boom")));
        assert!(matches!(e, HandlerError::Internal(m) if m.ends_with("boom")));
    }
}
