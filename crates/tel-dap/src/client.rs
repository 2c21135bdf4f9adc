//! A small synchronous DAP client: what the end-to-end tests (and any tool that scripts the
//! adapter) use to talk to `tel dap`. Requests are answered in order; events are kept in
//! arrival order until asked for, so a test reads "the next `stopped` event" without any
//! timing assumption.

use std::collections::VecDeque;
use std::io::{self, BufRead, Write};

use serde_json::{Value as Json, json};

use crate::transport::{Frame, read_frame};

pub struct Client<R, W> {
    input: R,
    output: W,
    seq: i64,
    /// Messages read but not asked for yet (events, mostly).
    pending: VecDeque<Json>,
}

impl<R: BufRead, W: Write> Client<R, W> {
    pub fn new(input: R, output: W) -> Client<R, W> {
        Client { input, output, seq: 0, pending: VecDeque::new() }
    }

    /// Writes raw bytes (a test's malformed message).
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.output.write_all(bytes)?;
        self.output.flush()
    }

    /// Sends a message body with its header.
    pub fn send_body(&mut self, body: &[u8]) -> io::Result<()> {
        let mut frame = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        frame.extend_from_slice(body);
        self.send_raw(&frame)
    }

    /// Sends a request; returns its `seq`.
    pub fn send(&mut self, command: &str, arguments: Json) -> io::Result<i64> {
        self.seq += 1;
        let mut message = json!({ "seq": self.seq, "type": "request", "command": command });
        if !arguments.is_null() {
            message["arguments"] = arguments;
        }
        self.send_body(message.to_string().as_bytes())?;
        Ok(self.seq)
    }

    fn read(&mut self) -> io::Result<Json> {
        match read_frame(&mut self.input)? {
            Some(Frame::Body(body)) => serde_json::from_slice(&body)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            Some(Frame::Bad(problem)) => Err(io::Error::new(io::ErrorKind::InvalidData, problem)),
            None => {
                Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the adapter closed its output"))
            }
        }
    }

    /// The first message (kept or new) that `wanted` accepts; the others stay kept.
    pub fn next_matching(&mut self, wanted: impl Fn(&Json) -> bool) -> io::Result<Json> {
        if let Some(i) = self.pending.iter().position(&wanted) {
            return Ok(self.pending.remove(i).expect("found"));
        }
        loop {
            let m = self.read()?;
            if wanted(&m) {
                return Ok(m);
            }
            self.pending.push_back(m);
        }
    }

    /// The response to request `seq` (successful or not).
    pub fn response(&mut self, seq: i64) -> io::Result<Json> {
        self.next_matching(|m| m["type"] == "response" && m["request_seq"] == seq)
    }

    /// Sends a request and waits for its response.
    pub fn request(&mut self, command: &str, arguments: Json) -> io::Result<Json> {
        let seq = self.send(command, arguments)?;
        self.response(seq)
    }

    /// The next event named `event`.
    pub fn event(&mut self, event: &str) -> io::Result<Json> {
        self.next_matching(|m| m["type"] == "event" && m["event"] == event)
    }

    /// Every kept event named `event`, in order (without reading further).
    pub fn take_events(&mut self, event: &str) -> Vec<Json> {
        let (taken, kept): (Vec<Json>, Vec<Json>) =
            self.pending.drain(..).partition(|m| m["type"] == "event" && m["event"] == event);
        self.pending = kept.into();
        taken
    }

    /// Messages read and not asked for.
    pub fn pending(&self) -> impl Iterator<Item = &Json> {
        self.pending.iter()
    }
}
