//! A small LSP client that drives a server process over stdio: the end-to-end tests and the
//! benchmark talk to the real binary through it.
//!
//! A reader thread parses every message the server sends; responses are matched to requests
//! by id, and notifications and server-to-client requests are kept in arrival order for the
//! test to inspect. Server-to-client requests are answered at once (`null`, or the settings
//! given for `workspace/configuration`). Waiting has a generous limit so a broken server
//! fails a test instead of hanging it; nothing is timed.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long to wait for the server before declaring it stuck.
pub const PATIENCE: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Inbox {
    /// Notifications and server requests, in arrival order.
    messages: VecDeque<Value>,
    responses: Vec<Value>,
    closed: bool,
}

pub struct LspClient {
    child: Child,
    stdin: Arc<Mutex<ChildStdin>>,
    inbox: Arc<(Mutex<Inbox>, Condvar)>,
    next_id: i64,
}

/// Writes one framed message.
pub fn write_message(out: &mut impl Write, body: &str) -> std::io::Result<()> {
    write!(out, "Content-Length: {}\r\n\r\n{}", body.len(), body)?;
    out.flush()
}

fn read_message(input: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if input.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            length = v.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    input.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

impl LspClient {
    /// Starts `command` (a language server speaking on stdio).
    pub fn spawn(mut command: Command, settings: Value) -> LspClient {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("starting the language server");
        let stdin = Arc::new(Mutex::new(child.stdin.take().expect("piped stdin")));
        let stdout = child.stdout.take().expect("piped stdout");
        let inbox: Arc<(Mutex<Inbox>, Condvar)> = Arc::default();
        let (reader_inbox, reader_stdin) = (inbox.clone(), stdin.clone());
        std::thread::spawn(move || {
            let mut input = BufReader::new(stdout);
            while let Some(msg) = read_message(&mut input) {
                // A request from the server: answer it so it never waits on us.
                if msg.get("method").is_some() && msg.get("id").is_some() {
                    let result = match msg["method"].as_str() {
                        Some("workspace/configuration") => json!([settings.clone()]),
                        _ => Value::Null,
                    };
                    let reply = json!({"jsonrpc": "2.0", "id": msg["id"], "result": result});
                    let mut out = reader_stdin.lock().unwrap();
                    let _ = write_message(&mut *out, &reply.to_string());
                }
                let (lock, cvar) = &*reader_inbox;
                let mut inbox = lock.lock().unwrap();
                if msg.get("method").is_some() {
                    inbox.messages.push_back(msg);
                } else {
                    inbox.responses.push(msg);
                }
                cvar.notify_all();
            }
            let (lock, cvar) = &*reader_inbox;
            lock.lock().unwrap().closed = true;
            cvar.notify_all();
        });
        LspClient { child, stdin, inbox, next_id: 1 }
    }

    /// Sends raw bytes (for malformed-input tests).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        let mut out = self.stdin.lock().unwrap();
        out.write_all(bytes).expect("writing to the server");
        out.flush().expect("flushing to the server");
    }

    fn send(&mut self, msg: &Value) {
        let mut out = self.stdin.lock().unwrap();
        write_message(&mut *out, &msg.to_string()).expect("writing to the server");
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its id without waiting.
    pub fn send_request(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// The whole response (`result` or `error`) to request `id`.
    pub fn response(&mut self, id: i64) -> Value {
        self.response_to(json!(id))
    }

    /// The response with id `id` (`null` for the answer to a message without a usable id).
    pub fn response_to(&mut self, id: Value) -> Value {
        self.wait(|inbox| {
            let at = inbox.responses.iter().position(|r| r["id"] == id)?;
            Some(inbox.responses.remove(at))
        })
        .unwrap_or_else(|| panic!("no response to request {id}"))
    }

    /// Sends a request and waits for its response.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.send_request(method, params);
        self.response(id)
    }

    /// Sends a request and returns its result, failing on an error response.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let response = self.request(method, params);
        if let Some(e) = response.get("error") {
            panic!("{method} failed: {e}");
        }
        response["result"].clone()
    }

    /// Waits for a notification (or server request) satisfying `pred`, dropping the ones
    /// before it.
    pub fn wait_for(&mut self, mut pred: impl FnMut(&Value) -> bool) -> Value {
        self.wait(|inbox| {
            while let Some(msg) = inbox.messages.pop_front() {
                if pred(&msg) {
                    return Some(msg);
                }
            }
            None
        })
        .expect("the server stopped before sending the expected message")
    }

    /// The next `tel/status` notification saying every change up to now is checked.
    pub fn wait_quiescent(&mut self) -> Value {
        self.wait_for(|m| m["method"] == "tel/status" && m["params"]["quiescent"] == json!(true))
    }

    /// The next diagnostics published for `uri`.
    pub fn wait_diagnostics(&mut self, uri: &str) -> Vec<Value> {
        let msg = self.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == json!(uri)
        });
        msg["params"]["diagnostics"].as_array().cloned().unwrap_or_default()
    }

    /// Every message received and not yet consumed.
    pub fn drain(&mut self) -> Vec<Value> {
        let (lock, _) = &*self.inbox;
        lock.lock().unwrap().messages.drain(..).collect()
    }

    fn wait<T>(&mut self, mut take: impl FnMut(&mut Inbox) -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + PATIENCE;
        let (lock, cvar) = &*self.inbox;
        let mut inbox = lock.lock().unwrap();
        loop {
            if let Some(found) = take(&mut inbox) {
                return Some(found);
            }
            if inbox.closed {
                return None;
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            inbox = cvar.wait_timeout(inbox, deadline - now).unwrap().0;
        }
    }

    /// `initialize` + `initialized` with the capabilities an editor like VS Code sends.
    pub fn initialize(&mut self, root_uri: &str, utf8: bool) -> Value {
        let encodings = if utf8 { json!(["utf-8", "utf-16"]) } else { json!(["utf-16"]) };
        let result = self.call(
            "initialize",
            json!({
                "processId": null,
                "rootUri": root_uri,
                "workspaceFolders": [{"uri": root_uri, "name": "root"}],
                "capabilities": {
                    "general": {"positionEncodings": encodings},
                    "workspace": {
                        "configuration": true,
                        "didChangeWatchedFiles": {"dynamicRegistration": true},
                        "inlayHint": {"refreshSupport": true},
                        "codeLens": {"refreshSupport": true}
                    },
                    "textDocument": {"hover": {"contentFormat": ["markdown", "plaintext"]}}
                }
            }),
        );
        self.notify("initialized", json!({}));
        result
    }

    pub fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "tel", "version": 1, "text": text}}),
        );
    }

    /// `shutdown` + `exit`; returns the exit status.
    pub fn shutdown(mut self) -> std::process::ExitStatus {
        self.call("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        self.child.wait().expect("waiting for the server")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the server process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_none()
    }
}

impl Drop for LspClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
