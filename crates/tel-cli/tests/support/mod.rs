//! What the integration tests share: the repository's root, the real `tel` binary run in a
//! folder and its output, a temporary folder to run in, and a `tel dap` session.

// Every test binary compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};

use serde_json::Value as Json;
use tel_dap::client::Client;

pub const TEL: &str = env!("CARGO_BIN_EXE_tel");

/// The repository's root, where `fixtures/` is.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// What a `tel` process that ran to its end did.
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Runs `cmd` to its end.
    pub fn of(cmd: &mut Command) -> Out {
        cmd.output().expect("tel runs").into()
    }

    pub fn both(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl From<Output> for Out {
    fn from(out: Output) -> Out {
        Out {
            code: out.status.code().expect("tel exits, it is not killed"),
            stdout: String::from_utf8(out.stdout).unwrap(),
            stderr: String::from_utf8(out.stderr).unwrap(),
        }
    }
}

/// `tel ARGS` in `dir`, without the caller's `TEL_CODEBASE`: a test never reads or writes the
/// codebase of whoever runs it.
pub fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(TEL);
    cmd.args(args).current_dir(dir).env_remove("TEL_CODEBASE");
    cmd
}

pub fn tel_in(dir: &Path, args: &[&str]) -> Out {
    Out::of(&mut command(dir, args))
}

/// `tel ARGS` from the repository's root (so fixture paths show relative to it).
pub fn tel(args: &[&str]) -> Out {
    tel_in(&repo(), args)
}

/// A temporary folder to run in, removed with it.
pub struct Env {
    pub dir: tempfile::TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env { dir: tempfile::tempdir().unwrap() }
    }

    /// A TEL project (a `tel.toml`): its codebase keeps runs and definitions.
    pub fn project() -> Env {
        let env = Env::new();
        env.write("tel.toml", "[program]\nname = \"t\"\n");
        env
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Writes `text` to `rel`, creating its folders; its path.
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }
}

/// A `tel dap` process and a client on its stdio. The process is killed when the test ends,
/// whatever happened.
pub struct Session {
    pub child: Child,
    pub client: Client<BufReader<ChildStdout>, ChildStdin>,
    /// Where the adapter runs.
    pub dir: tempfile::TempDir,
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl std::ops::Deref for Session {
    type Target = Client<BufReader<ChildStdout>, ChildStdin>;
    fn deref(&self) -> &Self::Target {
        &self.client
    }
}

impl std::ops::DerefMut for Session {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.client
    }
}

/// `tel dap` in `dir`, its stderr the test's.
pub fn dap(dir: tempfile::TempDir) -> Session {
    let mut child = command(dir.path(), &["dap"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("tel dap starts");
    let stdin = child.stdin.take().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    Session { child, client: Client::new(stdout, stdin), dir }
}

/// The body of a DAP response that must have succeeded.
pub fn ok(response: Json) -> Json {
    assert_eq!(response["success"], true, "request failed: {response:#}");
    response["body"].clone()
}

/// A folder holding `oracle.tel` (`main` logs, observes a price and reads the clock; `quiet`
/// only observes) and `host.json` (the clock starting at 1000 ms, ETH/USD at 3000, an
/// observation costing 250 ms): the host effects both backends must perform alike.
pub fn oracle() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("oracle.tel"),
        "fn main() -> Int ! {Log, Observe, Now} {
             perform Log(\"asking\");
             let p = perform Observe(\"ETH/USD\");
             p * 2 + now()
         }
         fn quiet() -> Int ! {Observe} { perform Observe(\"ETH/USD\") }",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("host.json"),
        r#"{"clock_start": 1000, "feeds": {"ETH/USD": 3000}, "costs": {"Observe": 250}}"#,
    )
    .unwrap();
    dir
}
