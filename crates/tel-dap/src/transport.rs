//! Content-Length framing (the base protocol DAP shares with LSP), over any byte stream.
//!
//! A frame that cannot be read is reported as such, not as the end of the input: the server
//! answers it with an error response and reads on. Only the end of the input, or a read
//! error, ends a session. Every message is written as one `write_all` of header and body
//! under a lock, so events sent from the input thread never interleave with responses.

use std::io::{self, BufRead, Write};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde_json::Value as Json;

use crate::protocol::{Event, Response, error_body};

/// The largest body the adapter accepts: a client message is a few kilobytes; a damaged
/// header must not make the adapter allocate gigabytes.
pub const MAX_BODY: usize = 64 << 20;

/// What the next frame of the input is.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    Body(Vec<u8>),
    /// A header block without a usable `Content-Length` (the body, if any, is skipped up to
    /// the next header block).
    Bad(String),
}

/// Reads the next frame; `Ok(None)` at the end of the input.
pub fn read_frame(input: &mut impl BufRead) -> io::Result<Option<Frame>> {
    let mut length: Option<Result<usize, String>> = None;
    let mut saw_header = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(match (saw_header, length) {
                (false, _) => None,
                (true, _) => Some(Frame::Bad("the input ended inside a header block".into())),
            });
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        saw_header = true;
        match text.split_once(':') {
            Some((name, value)) if name.trim().eq_ignore_ascii_case("content-length") => {
                let value = value.trim();
                length = Some(match value.parse::<usize>() {
                    Ok(n) if n <= MAX_BODY => Ok(n),
                    Ok(n) => Err(format!("Content-Length {n} is more than {MAX_BODY} bytes")),
                    Err(_) => Err(format!("invalid Content-Length `{value}`")),
                });
            }
            // Other headers (Content-Type) are allowed and ignored.
            Some(_) => {}
            None => {
                length.get_or_insert(Err(format!("`{text}` is not a header line")));
            }
        }
    }
    match length {
        Some(Ok(n)) => {
            let mut body = vec![0; n];
            input.read_exact(&mut body)?;
            Ok(Some(Frame::Body(body)))
        }
        Some(Err(e)) => Ok(Some(Frame::Bad(e))),
        None => Ok(Some(Frame::Bad("a message without a Content-Length header".into()))),
    }
}

/// The writing half of a session: numbers and frames every message.
#[derive(Clone)]
pub struct Outbox {
    out: Arc<Mutex<Box<dyn Write + Send>>>,
    seq: Arc<AtomicI64>,
}

impl Outbox {
    pub fn new(out: impl Write + Send + 'static) -> Outbox {
        Outbox { out: Arc::new(Mutex::new(Box::new(out))), seq: Arc::new(AtomicI64::new(1)) }
    }

    fn next_seq(&self) -> i64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    fn send(&self, message: &impl Serialize) {
        let body = serde_json::to_vec(message).expect("a protocol message serializes");
        let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        frame.extend_from_slice(&body);
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        // A client that went away is noticed by the reader (end of input); nothing to do
        // here with a failed write.
        let _ = out.write_all(&frame).and_then(|()| out.flush());
    }

    pub fn respond(&self, request_seq: i64, command: &str, body: Option<Json>) {
        self.send(&Response {
            seq: self.next_seq(),
            kind: "response",
            request_seq,
            success: true,
            command: command.to_owned(),
            message: None,
            body,
        });
    }

    pub fn fail(&self, request_seq: i64, command: &str, message: &str) {
        self.send(&Response {
            seq: self.next_seq(),
            kind: "response",
            request_seq,
            success: false,
            command: command.to_owned(),
            message: Some(message.to_owned()),
            body: Some(error_body(1, message)),
        });
    }

    pub fn event(&self, event: &str, body: Option<Json>) {
        self.send(&Event { seq: self.next_seq(), kind: "event", event: event.to_owned(), body });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &str) -> Vec<Frame> {
        let mut reader = io::BufReader::new(input.as_bytes());
        let mut out = Vec::new();
        while let Some(f) = read_frame(&mut reader).unwrap() {
            out.push(f);
        }
        out
    }

    #[test]
    fn frames_are_read_with_or_without_other_headers() {
        let got = frames(
            "Content-Length: 2\r\n\r\n{}Content-Type: application/json\r\nContent-Length: 4\r\n\r\nnull",
        );
        assert_eq!(got, vec![Frame::Body(b"{}".to_vec()), Frame::Body(b"null".to_vec())]);
    }

    #[test]
    fn a_bad_header_is_a_frame_of_its_own_and_reading_goes_on() {
        let got = frames("Content-Length: x\r\n\r\nContent-Length: 2\r\n\r\n{}");
        assert_eq!(
            got,
            vec![Frame::Bad("invalid Content-Length `x`".into()), Frame::Body(b"{}".to_vec())]
        );
        let got = frames("Hello\r\n\r\n");
        assert_eq!(got, vec![Frame::Bad("`Hello` is not a header line".into())]);
        let got = frames("Content-Length: 99999999999\r\n\r\n");
        assert!(matches!(&got[..], [Frame::Bad(m)] if m.contains("more than")));
    }

    #[test]
    fn the_end_of_the_input_inside_a_header_is_reported() {
        assert_eq!(
            frames("Content-Length: 2\r\n"),
            vec![Frame::Bad("the input ended inside a header block".into())]
        );
        assert_eq!(frames(""), vec![]);
    }
}
