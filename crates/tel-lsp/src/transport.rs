//! Framing between the client and the server, with malformed messages answered here.
//!
//! tower-lsp-server stops reading its input at the first message it cannot decode (its
//! framed reader ends after an error), so one bad message from a client would leave the
//! server deaf. This layer reads the client's frames itself: a frame that tower-lsp-server
//! would accept is passed on; anything else is answered with a JSON-RPC error (`-32700`
//! for text that is not JSON, `-32600` for JSON that is not a request or response) and the
//! session goes on. Answers and the server's own messages are written whole frames at a
//! time, so they never interleave.

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{Request, Response};

/// One frame's body, or why there is none.
enum Frame {
    Body(Vec<u8>),
    /// Headers without a usable `Content-Length`.
    BadHeader(String),
}

/// Reads the next frame; `None` at the end of the input.
async fn read_frame<R: AsyncRead + Unpin>(input: &mut BufReader<R>) -> Option<Frame> {
    let mut length: Option<Result<usize, String>> = None;
    let mut saw_header = false;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        saw_header = true;
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = Some(
                value
                    .trim()
                    .parse()
                    .map_err(|_| format!("invalid Content-Length `{}`", value.trim())),
            );
        }
    }
    match length {
        Some(Ok(n)) => {
            let mut body = vec![0; n];
            input.read_exact(&mut body).await.ok()?;
            Some(Frame::Body(body))
        }
        Some(Err(e)) => Some(Frame::BadHeader(e)),
        None => Some(Frame::BadHeader("a message without a Content-Length header".into())),
    }
}

fn frame(body: &str) -> Vec<u8> {
    format!("Content-Length: {}\r\n\r\n{}", body.len(), body).into_bytes()
}

/// The error answer for a body the server cannot take, or `None` when it can.
fn reject(body: &[u8]) -> Option<String> {
    if serde_json::from_slice::<Request>(body).is_ok()
        || serde_json::from_slice::<Response>(body).is_ok()
    {
        return None;
    }
    let (code, message, id) = match serde_json::from_slice::<serde_json::Value>(body) {
        Err(e) => (-32700, format!("Parse error: {e}"), serde_json::Value::Null),
        Ok(v) => {
            let id = v.get("id").filter(|id| id.is_number() || id.is_string()).cloned();
            (
                -32600,
                "Invalid request: not a JSON-RPC 2.0 request, notification or response".to_owned(),
                id.unwrap_or(serde_json::Value::Null),
            )
        }
    };
    let error = serde_json::json!({
        "jsonrpc": "2.0",
        "id": id,
        "error": {"code": code, "message": message},
    });
    Some(error.to_string())
}

fn with_header(body: &[u8]) -> Vec<u8> {
    let mut bytes = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// What the output pump writes.
pub enum Out {
    Frame(Vec<u8>),
    /// The server has written its last message.
    ServerDone,
}

/// Passes valid frames from `input` to `to_server`, and answers for the others to `out`.
pub async fn pump_input<R, W>(input: R, mut to_server: W, out: mpsc::UnboundedSender<Out>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut input = BufReader::new(input);
    while let Some(f) = read_frame(&mut input).await {
        let answer = match f {
            Frame::Body(body) => match reject(&body) {
                None => {
                    if to_server.write_all(&with_header(&body)).await.is_err() {
                        break;
                    }
                    continue;
                }
                Some(answer) => answer,
            },
            Frame::BadHeader(problem) => serde_json::json!({
                "jsonrpc": "2.0",
                "id": null,
                "error": {"code": -32700, "message": format!("Parse error: {problem}")},
            })
            .to_string(),
        };
        eprintln!("tel-lsp: answered a malformed message: {answer}");
        let _ = out.send(Out::Frame(frame(&answer)));
    }
    // End of input: closing `to_server` lets the server stop.
    let _ = to_server.shutdown().await;
}

/// Passes the server's frames to `out`.
pub async fn pump_server<R: AsyncRead + Unpin>(from_server: R, out: mpsc::UnboundedSender<Out>) {
    let mut from_server = BufReader::new(from_server);
    while let Some(f) = read_frame(&mut from_server).await {
        if let Frame::Body(body) = f
            && out.send(Out::Frame(with_header(&body))).is_err()
        {
            return;
        }
    }
    let _ = out.send(Out::ServerDone);
}

/// Writes whole frames to `output` until the server is done.
pub async fn pump_output<W: AsyncWrite + Unpin>(
    mut frames: mpsc::UnboundedReceiver<Out>,
    mut output: W,
) {
    while let Some(Out::Frame(bytes)) = frames.recv().await {
        if output.write_all(&bytes).await.is_err() || output.flush().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_the_server_cannot_take_is_rejected() {
        assert!(reject(br#"{"jsonrpc":"2.0","id":1,"method":"x"}"#).is_none());
        assert!(reject(br#"{"jsonrpc":"2.0","method":"x","params":{}}"#).is_none());
        assert!(reject(br#"{"jsonrpc":"2.0","id":1,"result":null}"#).is_none());
        let parse = reject(br#"{"jsonrpc": "2.0", "id": 9, "method": "#).unwrap();
        assert!(parse.contains("-32700") && parse.contains("\"id\":null"), "{parse}");
        let invalid = reject(br#"{"id": 9, "method": 3}"#).unwrap();
        assert!(invalid.contains("-32600") && invalid.contains("\"id\":9"), "{invalid}");
    }
}
