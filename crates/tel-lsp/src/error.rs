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
}

pub type HandlerResult<T> = Result<T, HandlerError>;

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
