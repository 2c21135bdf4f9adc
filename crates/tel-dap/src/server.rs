//! The DAP session: requests in order on one thread, answered from the [`Debugger`].
//!
//! The input is read on a thread of its own, which does one thing besides reading: a
//! `pause` request sets the navigator's interrupt flag at once, so a long `continue` stops
//! where it is (the request itself is answered in order, after the motion). Everything else
//! waits its turn, so responses and events come out in the order the protocol requires.
//!
//! Order of a session: `initialize` (answered with the capabilities), `launch` (the program
//! is loaded and recorded; then the `initialized` event), configuration requests
//! (`setBreakpoints`, `setFunctionBreakpoints`), `configurationDone` (the run starts: a
//! `stopped` event at the entry or at the first breakpoint), then any inspection or motion,
//! and `disconnect`. A request out of this order, an unknown command, bad arguments or a
//! malformed message get an error response that says what is wrong, and the session goes on.

use std::io::{self, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use serde_json::{Value as Json, json};
use tel_vm::travel::{Comparison, FrameKind, Granularity, HandlerState, StepKind, TimelineEntry};
use tel_vm::{HostEffect, Value};

use crate::debugger::{
    BreakpointSpec, BreakpointStatus, Debugger, FrameView, LaunchSpec, Motion, Reason, Stopped,
};
use crate::protocol::{self as p, Capabilities, Request, arguments};
use crate::riscv::{RvDebugger, Step};
use crate::sources::ClientBases;
use crate::transport::{Frame, Outbox, read_frame};
use tel_ide::run::Backend;

/// The single thread a TEL run has.
const THREAD: i64 = 1;

/// Entries `tel/timeline` answers at most unless asked for fewer.
pub const TIMELINE_LIMIT: usize = 10_000;

enum Incoming {
    Message(Result<Request, p::BadMessage>),
    Bad(String),
    End,
}

/// The interrupt flag of the run being debugged, shared with the input thread.
type InterruptSlot = Arc<Mutex<Option<Arc<AtomicBool>>>>;

/// Serves one debug session on `input`/`output` until the client disconnects or the input
/// ends.
pub fn serve<R, W>(input: R, output: W)
where
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    let out = Outbox::new(output);
    let (tx, rx) = mpsc::channel();
    let slot: InterruptSlot = Arc::default();
    let reader_slot = slot.clone();
    std::thread::spawn(move || {
        let mut input = BufReader::new(input);
        loop {
            let incoming = match read_frame(&mut input) {
                Ok(Some(Frame::Body(body))) => {
                    let m = Request::parse(&body);
                    if let Ok(r) = &m
                        && r.command == "pause"
                        && let Some(flag) =
                            reader_slot.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
                    {
                        flag.store(true, Ordering::Relaxed);
                    }
                    Incoming::Message(m)
                }
                Ok(Some(Frame::Bad(problem))) => Incoming::Bad(problem),
                Ok(None) | Err(_) => Incoming::End,
            };
            let end = matches!(incoming, Incoming::End);
            if tx.send(incoming).is_err() || end {
                return;
            }
        }
    });
    let mut session = Session::new(out, slot);
    for incoming in rx {
        match incoming {
            Incoming::Message(Ok(request)) => session.handle(request),
            Incoming::Message(Err(bad)) => {
                let command = bad.command.clone().unwrap_or_else(|| "unknown".into());
                session.out.fail(
                    bad.seq.unwrap_or(0),
                    &command,
                    &format!("malformed message: {}", bad.problem),
                );
            }
            Incoming::Bad(problem) => {
                session.out.fail(0, "unknown", &format!("malformed message: {problem}"));
            }
            Incoming::End => break,
        }
        if session.disconnected {
            break;
        }
    }
}

/// Serves sessions over TCP on `127.0.0.1:port` (0: any free port), one thread per
/// connection. `listening` is told the address before the first connection is accepted.
pub fn serve_tcp(port: u16, listening: impl FnOnce(std::net::SocketAddr)) -> io::Result<()> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
    listening(listener.local_addr()?);
    for stream in listener.incoming() {
        let stream = stream?;
        std::thread::spawn(move || {
            let (Ok(input), Ok(closer)) = (stream.try_clone(), stream.try_clone()) else {
                return;
            };
            serve(input, stream);
            // Ends the input thread's read.
            let _ = closer.shutdown(std::net::Shutdown::Both);
        });
    }
    Ok(())
}

/// What a `variablesReference` stands for (valid until the next motion).
#[derive(Clone)]
enum VarRef {
    Locals(usize),
    Ledger,
    Run,
    Value { value: Value, path: Option<String> },
}

struct Session {
    out: Outbox,
    slot: InterruptSlot,
    initialized: bool,
    bases: ClientBases,
    invalidated_event: bool,
    debugger: Option<Debugger>,
    /// A RISC-V launch's debugger (then `debugger` is `None`).
    rv: Option<RvDebugger>,
    stop_on_entry: bool,
    started: bool,
    terminated: bool,
    disconnected: bool,
    frames: Option<Vec<FrameView>>,
    refs: Vec<VarRef>,
    goto_targets: Vec<u64>,
}

impl Session {
    fn new(out: Outbox, slot: InterruptSlot) -> Session {
        Session {
            out,
            slot,
            initialized: false,
            bases: ClientBases::default(),
            invalidated_event: false,
            debugger: None,
            rv: None,
            stop_on_entry: true,
            started: false,
            terminated: false,
            disconnected: false,
            frames: None,
            refs: Vec::new(),
            goto_targets: Vec::new(),
        }
    }

    fn handle(&mut self, r: Request) {
        match self.dispatch(&r) {
            Ok(Answered::Body(body)) => self.out.respond(r.seq, &r.command, body),
            Ok(Answered::Then(body, after)) => {
                self.out.respond(r.seq, &r.command, body);
                after(self);
            }
            Err(message) => self.out.fail(r.seq, &r.command, &message),
        }
    }

    fn dispatch(&mut self, r: &Request) -> Result<Answered, String> {
        let command = r.command.as_str();
        if command != "initialize" && !self.initialized && command != "disconnect" {
            return Err(format!("`{command}` before `initialize`: send `initialize` first"));
        }
        if self.rv.is_some() && !matches!(command, "initialize" | "launch" | "disconnect") {
            return self.riscv_request(r);
        }
        match command {
            "initialize" => self.initialize(r),
            "launch" => self.launch(r),
            "attach" => Err("`attach` is not supported: a TEL run is debugged by `launch`".into()),
            "setBreakpoints" => self.set_breakpoints(r),
            "setFunctionBreakpoints" => self.set_function_breakpoints(r),
            "setExceptionBreakpoints" => Ok(Answered::Body(Some(json!({ "breakpoints": [] })))),
            "configurationDone" => self.configuration_done(),
            "threads" => {
                let threads = match &self.debugger {
                    Some(d) => {
                        vec![json!({ "id": THREAD, "name": d.code().name(&d.code().entry) })]
                    }
                    None => Vec::new(),
                };
                Ok(Answered::Body(Some(json!({ "threads": threads }))))
            }
            "stackTrace" => self.stack_trace(r),
            "scopes" => self.scopes(r),
            "variables" => self.variables(r),
            "evaluate" => self.evaluate(r),
            "exceptionInfo" => self.exception_info(),
            "continue" => self.step_request(r, Motion::Continue),
            "reverseContinue" => self.step_request(r, Motion::ReverseContinue),
            "next" | "stepIn" | "stepOut" | "stepBack" => {
                let args: p::StepArguments = arguments(r)?;
                let granularity = match args.granularity.as_deref() {
                    None | Some("statement") | Some("line") => Granularity::Statement,
                    Some("instruction") => Granularity::Instruction,
                    Some(g) => return Err(format!("unknown granularity `{g}`")),
                };
                let (kind, back) = match command {
                    "next" => (StepKind::Over, false),
                    "stepIn" => (StepKind::In, false),
                    "stepOut" => (StepKind::Out, false),
                    _ => (StepKind::Over, true),
                };
                self.step_request(r, Motion::Step { kind, granularity, back })
            }
            "restartFrame" => {
                let args: p::RestartFrameArguments = arguments(r)?;
                let frame = self.frame_index(args.frame_id)?;
                self.step_request(r, Motion::RestartFrame(frame))
            }
            "gotoTargets" => self.goto_targets(r),
            "goto" => {
                let args: p::GotoArguments = arguments(r)?;
                let position = usize::try_from(args.target_id - 1)
                    .ok()
                    .and_then(|i| self.goto_targets.get(i).copied())
                    .ok_or_else(|| format!("no goto target {}", args.target_id))?;
                self.step_request(r, Motion::Goto(position))
            }
            "pause" => {
                // The input thread has set the interrupt flag: a motion under way has already
                // stopped with reason `pause`. Between motions there is nothing to pause.
                self.running()?;
                Ok(Answered::Body(None))
            }
            "terminate" => {
                self.running()?;
                Ok(Answered::Then(None, Box::new(|s: &mut Session| s.finish())))
            }
            "disconnect" => {
                let _: p::DisconnectArguments = arguments(r)?;
                self.disconnected = true;
                Ok(Answered::Body(None))
            }
            "tel/timeline" => self.timeline(r),
            "tel/jumpToPosition" => {
                let args: p::JumpToPositionArguments = arguments(r)?;
                self.step_request(r, Motion::Goto(args.position))
            }
            "tel/jumpToEffect" => {
                let args: p::JumpToEffectArguments = arguments(r)?;
                let effect = parse_effect(&args.effect)?;
                let occurrence = args.occurrence.unwrap_or(1);
                self.step_request(r, Motion::Effect { effect, occurrence })
            }
            "tel/compareStates" => {
                let args: p::CompareStatesArguments = arguments(r)?;
                let d = self.debugger_mut()?;
                let (c, frames) = d.compare(args.from, args.to)?;
                Ok(Answered::Body(Some(comparison_json(d, &c, &frames))))
            }
            "tel/fork" => self.fork(r),
            "tel/timelines" => {
                let d = self.debugger()?;
                let list: Vec<Json> = d
                    .timelines()
                    .into_iter()
                    .enumerate()
                    .map(|(i, (label, position, end, current))| {
                        json!({ "timeline": i, "label": label, "position": position, "end": end, "current": current })
                    })
                    .collect();
                Ok(Answered::Body(Some(json!({ "timelines": list }))))
            }
            "tel/switchTimeline" => {
                let args: p::SwitchTimelineArguments = arguments(r)?;
                self.running()?;
                let stopped = self.debugger_mut()?.switch(args.timeline)?;
                let body = json!({ "timeline": args.timeline, "position": stopped.position });
                Ok(Answered::Then(
                    Some(body),
                    Box::new(move |s: &mut Session| {
                        s.invalidate();
                        s.report(stopped);
                    }),
                ))
            }
            "tel/snapshots" => {
                let d = self.debugger()?;
                let nav = d.navigator();
                let list: Vec<Json> = nav
                    .snapshots()
                    .into_iter()
                    .map(|(position, base, bytes)| json!({ "position": position, "base": base, "bytes": bytes }))
                    .collect();
                let config = nav.config();
                Ok(Answered::Body(Some(json!({
                    "snapshots": list,
                    "totalBytes": nav.snapshot_bytes(),
                    "end": nav.end(),
                    "config": { "every": config.every, "effectGap": config.effect_gap, "spacing": config.spacing },
                }))))
            }
            "tel/save" => {
                let id = self.debugger()?.save()?;
                Ok(Answered::Body(Some(json!({ "session": id }))))
            }
            other => Err(format!(
                "unknown request `{other}`: this adapter does not support it (docs/debugging.md lists the requests)"
            )),
        }
    }

    fn debugger(&self) -> Result<&Debugger, String> {
        self.debugger
            .as_ref()
            .ok_or_else(|| "no program is being debugged: send `launch` first".into())
    }

    fn debugger_mut(&mut self) -> Result<&mut Debugger, String> {
        self.debugger
            .as_mut()
            .ok_or_else(|| "no program is being debugged: send `launch` first".into())
    }

    /// The run may move: launched, configured, not terminated.
    fn running(&self) -> Result<(), String> {
        self.debugger()?;
        if !self.started {
            return Err("the run has not started: send `configurationDone` first".into());
        }
        if self.terminated {
            return Err("the run was terminated".into());
        }
        Ok(())
    }

    fn initialize(&mut self, r: &Request) -> Result<Answered, String> {
        if self.initialized {
            return Err("the session is already initialized".into());
        }
        let args: p::InitializeArguments = arguments(r)?;
        self.bases = ClientBases {
            lines_at1: args.lines_start_at1.unwrap_or(true),
            columns_at1: args.columns_start_at1.unwrap_or(true),
        };
        self.invalidated_event = args.supports_invalidated_event.unwrap_or(false);
        if args.path_format.as_deref().is_some_and(|f| f != "path") {
            return Err("only `pathFormat: path` is supported".into());
        }
        self.initialized = true;
        let caps = Capabilities {
            supports_configuration_done_request: true,
            supports_function_breakpoints: true,
            supports_conditional_breakpoints: true,
            supports_hit_conditional_breakpoints: true,
            supports_evaluate_for_hovers: true,
            supports_step_back: true,
            supports_restart_frame: true,
            supports_goto_targets_request: true,
            supports_stepping_granularity: true,
            supports_terminate_request: true,
            supports_exception_info_request: true,
            supports_delayed_stack_trace_loading: true,
            supports_value_formatting_options: false,
            // A RISC-V launch turns it on (a `capabilities` event): the VM has no machine code.
            supports_disassemble_request: false,
        };
        Ok(Answered::Body(Some(serde_json::to_value(caps).expect("capabilities serialize"))))
    }

    fn launch(&mut self, r: &Request) -> Result<Answered, String> {
        if self.debugger.is_some() || self.rv.is_some() {
            return Err("a program is already being debugged in this session".into());
        }
        let args = p::LaunchArguments::from_json(r.arguments.clone())?;
        let backend = match args.backend.as_deref() {
            None => Backend::Vm,
            Some(b) => b.parse::<Backend>().map_err(|e| format!("launch: backend: {e}"))?,
        };
        let limits = args.limits.clone().unwrap_or_default();
        let spec = LaunchSpec {
            program: args.program.clone(),
            entry: args.entry.clone(),
            args: args.args.as_ref().map(|a| a.to_string()),
            host: args.host.as_ref().map(PathBuf::from),
            codebase: args.codebase.as_ref().map(PathBuf::from),
            fuel: limits.fuel,
            memory: limits.memory,
            allow: limits.allow.clone(),
            session: args.session.clone(),
            cwd: args.cwd.as_ref().map(PathBuf::from),
        };
        if backend == Backend::Riscv {
            return self.launch_riscv(&spec, args.stop_on_entry.unwrap_or(true));
        }
        let debugger = match Debugger::launch(&spec) {
            Ok(d) => d,
            Err(e) => {
                for d in &e.details {
                    self.output("stderr", &format!("{d}\n"));
                }
                return Err(e.message);
            }
        };
        for note in &debugger.notes {
            self.output("console", &format!("{note}\n"));
        }
        if limits.timeout.is_some() {
            self.output(
                "console",
                "limits.timeout does not apply to a debugged run: a wall-clock limit would make it irreproducible\n",
            );
        }
        *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(debugger.interrupt_handle());
        self.debugger = Some(debugger);
        self.stop_on_entry = args.stop_on_entry.unwrap_or(true);
        Ok(Answered::Then(None, Box::new(|s: &mut Session| s.out.event("initialized", None))))
    }

    fn configuration_done(&mut self) -> Result<Answered, String> {
        self.debugger()?;
        if self.started {
            return Err("`configurationDone` was already sent".into());
        }
        self.started = true;
        Ok(Answered::Then(
            None,
            Box::new(|s: &mut Session| {
                let stop_on_entry = s.stop_on_entry;
                let result = s.debugger.as_mut().expect("launched").start(stop_on_entry);
                match result {
                    Ok(stopped) => s.report(stopped),
                    Err(e) => s.output("stderr", &format!("{e}\n")),
                }
            }),
        ))
    }

    fn set_breakpoints(&mut self, r: &Request) -> Result<Answered, String> {
        let args: p::SetBreakpointsArguments = arguments(r)?;
        let Some(path) = args.source.path.clone() else {
            return Err("setBreakpoints: the source has no `path`".into());
        };
        let specs: Vec<BreakpointSpec> = match (&args.breakpoints, &args.lines) {
            (Some(bs), _) => bs
                .iter()
                .map(|b| BreakpointSpec {
                    line: Some(self.bases.line_in(b.line)),
                    function: None,
                    condition: b.condition.clone(),
                    hit_condition: b.hit_condition.clone(),
                })
                .collect(),
            (None, Some(lines)) => lines
                .iter()
                .map(|l| BreakpointSpec {
                    line: Some(self.bases.line_in(*l)),
                    ..BreakpointSpec::default()
                })
                .collect(),
            (None, None) => Vec::new(),
        };
        let source = args.source.clone();
        let statuses =
            self.debugger_mut()?.set_line_breakpoints(std::path::Path::new(&path), &specs);
        let list: Vec<Json> = statuses
            .iter()
            .zip(args.breakpoints.iter().flatten().map(Some).chain(std::iter::repeat(None)))
            .map(|(s, b)| {
                let mut j = self.breakpoint_json(s);
                if b.is_some_and(|b| b.log_message.is_some()) {
                    j["message"] =
                        json!("log points are not supported: this one stops like a breakpoint");
                }
                j["source"] = serde_json::to_value(&source).expect("a source serializes");
                j
            })
            .collect();
        Ok(Answered::Body(Some(json!({ "breakpoints": list }))))
    }

    fn set_function_breakpoints(&mut self, r: &Request) -> Result<Answered, String> {
        let args: p::SetFunctionBreakpointsArguments = arguments(r)?;
        let specs: Vec<BreakpointSpec> = args
            .breakpoints
            .iter()
            .map(|b| BreakpointSpec {
                line: None,
                function: Some(b.name.clone()),
                condition: b.condition.clone(),
                hit_condition: b.hit_condition.clone(),
            })
            .collect();
        let statuses = self.debugger_mut()?.set_function_breakpoints(&specs);
        let list: Vec<Json> = statuses.iter().map(|s| self.breakpoint_json(s)).collect();
        Ok(Answered::Body(Some(json!({ "breakpoints": list }))))
    }

    fn breakpoint_json(&self, s: &BreakpointStatus) -> Json {
        let mut j = json!({ "id": s.id, "verified": s.verified });
        if let Some(line) = s.line {
            j["line"] = json!(self.bases.line_out(line));
        }
        if let Some(m) = &s.message {
            j["message"] = json!(m);
        }
        j
    }

    fn current_frames(&mut self) -> Result<&[FrameView], String> {
        if self.frames.is_none() {
            self.frames = Some(self.debugger()?.frames());
        }
        Ok(self.frames.as_deref().expect("just computed"))
    }

    /// A frame id (1 = innermost) as an index.
    fn frame_index(&mut self, id: i64) -> Result<usize, String> {
        let n = self.current_frames()?.len();
        usize::try_from(id - 1)
            .ok()
            .filter(|i| *i < n)
            .ok_or_else(|| format!("no frame {id} at this position ({n} frames)"))
    }

    fn stack_trace(&mut self, r: &Request) -> Result<Answered, String> {
        let args: p::StackTraceArguments = arguments(r)?;
        if args.thread_id != THREAD {
            return Err(format!(
                "no thread {} (a TEL run has one thread, {THREAD})",
                args.thread_id
            ));
        }
        let frames = self.current_frames()?.to_vec();
        let start = args.start_frame.unwrap_or(0).max(0) as usize;
        let levels = match args.levels.unwrap_or(0) {
            n if n <= 0 => usize::MAX,
            n => n as usize,
        };
        let list: Vec<Json> = frames
            .iter()
            .enumerate()
            .skip(start)
            .take(levels)
            .map(|(i, f)| {
                let name = match &f.hash {
                    Some(h) => format!("{} #{}", f.name, h.short()),
                    None => f.name.clone(),
                };
                self.bases.stack_frame(i + 1, name, f.place.as_ref())
            })
            .collect();
        Ok(Answered::Body(Some(json!({ "stackFrames": list, "totalFrames": frames.len() }))))
    }

    fn new_ref(&mut self, r: VarRef) -> i64 {
        self.refs.push(r);
        self.refs.len() as i64
    }

    fn scopes(&mut self, r: &Request) -> Result<Answered, String> {
        let args: p::ScopesArguments = arguments(r)?;
        let frame = self.frame_index(args.frame_id)?;
        let n = self.current_frames()?[frame].locals.len();
        let locals = self.new_ref(VarRef::Locals(frame));
        let ledger = self.new_ref(VarRef::Ledger);
        let run = self.new_ref(VarRef::Run);
        let accounts = self.debugger()?.state().balances.len();
        Ok(Answered::Body(Some(json!({ "scopes": [
            { "name": "Locals", "presentationHint": "locals", "variablesReference": locals, "namedVariables": n, "expensive": false },
            { "name": "Ledger", "variablesReference": ledger, "namedVariables": accounts, "expensive": false },
            { "name": "Run", "variablesReference": run, "expensive": false },
        ] }))))
    }

    /// A value as a DAP variable (compound values get a reference to expand them).
    fn variable(&mut self, name: String, value: Value, path: Option<String>) -> Json {
        let d = self.debugger.as_ref().expect("launched");
        let shown = d.show(&value);
        let kind = match &value {
            Value::Record { ty: tel_vm::value::RecordType(Some(h)), .. } => d.program().name_of(h),
            Value::Variant { owner, .. } => d.program().name_of(owner),
            v => v.kind().to_string(),
        };
        let (expandable, indexed, named) = match &value {
            Value::List(xs) => (!xs.is_empty(), Some(xs.len()), None),
            Value::Map(m) => (!m.is_empty(), None, Some(m.len())),
            Value::Record { fields, .. } => (!fields.is_empty(), None, Some(fields.len())),
            Value::Variant { fields, .. } => (!fields.is_empty(), Some(fields.len()), None),
            Value::Option(Some(_)) => (true, Some(1), None),
            _ => (false, None, None),
        };
        let mut j = json!({ "name": name, "value": shown, "type": kind, "variablesReference": 0 });
        if expandable {
            j["variablesReference"] =
                json!(self.new_ref(VarRef::Value { value, path: path.clone() }));
            if let Some(n) = indexed {
                j["indexedVariables"] = json!(n);
            }
            if let Some(n) = named {
                j["namedVariables"] = json!(n);
            }
        }
        if let Some(p) = path {
            j["evaluateName"] = json!(p);
        }
        j
    }

    fn variables(&mut self, r: &Request) -> Result<Answered, String> {
        let args: p::VariablesArguments = arguments(r)?;
        let target = usize::try_from(args.variables_reference - 1)
            .ok()
            .and_then(|i| self.refs.get(i).cloned())
            .ok_or_else(|| {
                format!("no variables reference {} at this position", args.variables_reference)
            })?;
        let start = args.start.unwrap_or(0).max(0) as usize;
        let count = match args.count.unwrap_or(0) {
            n if n <= 0 => usize::MAX,
            n => n as usize,
        };
        // (name, value, expression; `None` value: moved out)
        let children: Vec<(String, Option<Value>, Option<String>)> = match target {
            VarRef::Locals(frame) => self.current_frames()?[frame]
                .locals
                .iter()
                .map(|l| {
                    let value = (!l.moved).then(|| l.value.clone());
                    (l.name.to_string(), value, Some(l.name.to_string()))
                })
                .collect(),
            VarRef::Ledger => self
                .debugger()?
                .state()
                .balances
                .into_iter()
                .map(|(k, v)| {
                    let path = format!("$balances[{}]", Json::String(k.clone()));
                    (k, Some(Value::Int(v)), Some(path))
                })
                .collect(),
            VarRef::Run => run_variables(self.debugger()?)
                .into_iter()
                .map(|(n, v, p)| (n, Some(v), p))
                .collect(),
            VarRef::Value { value, path } => children(self.debugger()?, &value, path.as_deref())
                .into_iter()
                .map(|(n, v, p)| (n, Some(v), p))
                .collect(),
        };
        let filter = args.filter.as_deref();
        let list: Vec<Json> = children
            .into_iter()
            .filter(|(name, _, _)| match filter {
                Some("indexed") => name.starts_with('['),
                Some("named") => !name.starts_with('['),
                _ => true,
            })
            .skip(start)
            .take(count)
            .map(|(name, value, path)| match value {
                Some(v) => self.variable(name, v, path),
                None => json!({
                    "name": name,
                    "value": "<moved>",
                    "type": "moved out on its last use",
                    "variablesReference": 0,
                }),
            })
            .collect();
        Ok(Answered::Body(Some(json!({ "variables": list }))))
    }

    fn evaluate(&mut self, r: &Request) -> Result<Answered, String> {
        let args: p::EvaluateArguments = arguments(r)?;
        let frame = match args.frame_id {
            Some(id) => self.frame_index(id)?,
            None => 0,
        };
        let value = self.debugger()?.evaluate(&args.expression, frame)?;
        let v = self.variable(args.expression.clone(), value, Some(args.expression.clone()));
        Ok(Answered::Body(Some(json!({
            "result": v["value"],
            "type": v["type"],
            "variablesReference": v["variablesReference"],
            "indexedVariables": v.get("indexedVariables"),
            "namedVariables": v.get("namedVariables"),
        }))))
    }

    fn exception_info(&mut self) -> Result<Answered, String> {
        let d = self.debugger()?;
        if d.position() != d.end() {
            return Err("no exception here: the run stops with its error at its end".into());
        }
        let Err(e) = d.outcome() else {
            return Err("no exception: the run returned a value".into());
        };
        let kind = match e {
            tel_vm::RuntimeError::ResourceExhausted { .. } => "resource",
            tel_vm::RuntimeError::Trap { .. } => "trap",
            tel_vm::RuntimeError::Host { .. } => "host",
            tel_vm::RuntimeError::WrongProgram { .. } => "program",
        };
        let message = tel_ide::run::report::error_message(e);
        let mut stack = format!("error: {message}\n");
        for f in d.frames() {
            let hash = f.hash.map(|h| format!(" #{}", h.short())).unwrap_or_default();
            let place = f
                .place
                .map(|p| format!(" {}:{}:{}", p.path.display(), p.line, p.column))
                .unwrap_or_default();
            stack.push_str(&format!("  at {}{hash}{place}\n", f.name));
        }
        Ok(Answered::Body(Some(json!({
            "exceptionId": kind,
            "description": message,
            "breakMode": "always",
            "details": { "message": message, "stackTrace": stack },
        }))))
    }

    fn goto_targets(&mut self, r: &Request) -> Result<Answered, String> {
        let args: p::GotoTargetsArguments = arguments(r)?;
        self.running()?;
        let path = args.source.path.clone().ok_or("gotoTargets: the source has no `path`")?;
        let line = self.bases.line_in(args.line);
        let targets = self.debugger_mut()?.line_visits(std::path::Path::new(&path), line)?;
        self.goto_targets.clear();
        let mut list = Vec::new();
        for (label, position) in targets {
            self.goto_targets.push(position);
            let id = self.goto_targets.len();
            list.push(json!({
                "id": id,
                "label": format!("{label}: position {position}"),
                "line": self.bases.line_out(line),
            }));
        }
        Ok(Answered::Body(Some(json!({ "targets": list }))))
    }

    fn timeline(&mut self, r: &Request) -> Result<Answered, String> {
        let args: p::TimelineArguments = arguments(r)?;
        let d = self.debugger_mut()?;
        let from = args.from.unwrap_or(0);
        let to = args.to.unwrap_or(d.end());
        let limit = args.limit.unwrap_or(TIMELINE_LIMIT);
        let entries = d.timeline_entries(from, to, limit.saturating_add(1))?;
        let truncated = entries.len() > limit;
        let d = self.debugger()?;
        let list: Vec<Json> = timeline_json(d, &entries[..entries.len().min(limit)]);
        Ok(Answered::Body(Some(json!({
            "entries": list,
            "current": d.position(),
            "end": d.end(),
            "truncated": truncated,
        }))))
    }

    fn fork(&mut self, r: &Request) -> Result<Answered, String> {
        let mut args: p::ForkArguments = arguments(r)?;
        self.running()?;
        // The effect may also be named inside the override (`{"effect": "Observe",
        // "occurrence": 1, "result": 3100}`), as an editor's one-field form has it.
        if let Json::Object(o) = &mut args.with {
            if let Some(e) = o.remove("effect") {
                let e = e.as_str().ok_or("override.effect: expected an effect's name")?.to_string();
                args.effect = Some(e);
                args.position = None;
            }
            if let Some(n) = o.remove("occurrence") {
                let n = n
                    .as_u64()
                    .filter(|n| *n >= 1)
                    .ok_or("override.occurrence: expected a count from 1")?;
                args.occurrence = Some(n as usize);
            }
        }
        let d = self.debugger_mut()?;
        let position = match (&args.effect, args.position) {
            (Some(e), None) => d.effect_position(parse_effect(e)?, args.occurrence.unwrap_or(1))?,
            (None, Some(p)) => p,
            (None, None) => d.position(),
            (Some(_), Some(_)) => {
                return Err("tel/fork: give `position` or `effect`, not both".into());
            }
        };
        let point = d
            .fork_point(position)
            .cloned()
            .ok_or_else(|| format!("no host effect is performed at or after position {position}: there is nothing to fork on"))?;
        let with = d.decode_override(point.effect, &args.with)?;
        let (timeline, stopped) = d.fork(position, with)?;
        let body = json!({
            "timeline": timeline,
            "position": stopped.position,
            "end": d.end(),
            "effect": { "name": point.effect.name(), "ordinal": point.ordinal, "position": point.position },
            "outcome": d.outcome_text(),
        });
        Ok(Answered::Then(
            Some(body),
            Box::new(move |s: &mut Session| {
                s.invalidate();
                s.report(stopped);
            }),
        ))
    }

    fn step_request(&mut self, r: &Request, m: Motion) -> Result<Answered, String> {
        let _: p::StepArguments = match r.command.as_str() {
            "continue" | "reverseContinue" | "next" | "stepIn" | "stepOut" | "stepBack" => {
                arguments(r)?
            }
            _ => p::StepArguments::default(),
        };
        self.running()?;
        let d = self.debugger()?;
        // `continue` at the end of the run ends the session (there is nothing further).
        if matches!(m, Motion::Continue) && d.position() == d.end() {
            let body = json!({ "allThreadsContinued": true });
            return Ok(Answered::Then(Some(body), Box::new(|s: &mut Session| s.finish())));
        }
        if let Motion::Goto(p) = m
            && p > d.end()
        {
            return Err(format!(
                "position {p} is past the end of the run ({} instructions)",
                d.end()
            ));
        }
        let body = match m {
            Motion::Continue | Motion::ReverseContinue => {
                Some(json!({ "allThreadsContinued": true }))
            }
            _ => None,
        };
        // Custom jumps answer where they landed.
        let custom = r.command.starts_with("tel/");
        if custom {
            let stopped = self.debugger_mut()?.motion(m)?;
            let body = json!({ "position": stopped.position, "description": stopped.description });
            return Ok(Answered::Then(
                Some(body),
                Box::new(move |s: &mut Session| s.report(stopped)),
            ));
        }
        Ok(Answered::Then(
            body,
            Box::new(move |s: &mut Session| {
                let result = s.debugger.as_mut().expect("launched").motion(m);
                match result {
                    Ok(stopped) => s.report(stopped),
                    Err(e) => {
                        s.output("stderr", &format!("{e}\n"));
                        let position = s.debugger.as_ref().map_or(0, |d| d.position());
                        s.report(Stopped {
                            position,
                            reason: Reason::Pause,
                            description: Some(e),
                            breakpoints: Vec::new(),
                            output: Vec::new(),
                            notes: Vec::new(),
                        });
                    }
                }
            }),
        ))
    }

    fn launch_riscv(&mut self, spec: &LaunchSpec, stop_on_entry: bool) -> Result<Answered, String> {
        let rv = match RvDebugger::launch(spec, stop_on_entry, self.bases) {
            Ok(rv) => rv,
            Err(e) => {
                for d in &e.details {
                    self.output("stderr", &format!("{d}\n"));
                }
                return Err(e.message);
            }
        };
        for note in &rv.notes {
            self.output("console", &format!("{note}\n"));
        }
        let c = rv.compiled;
        self.output(
            "console",
            &format!(
                "compiled to RV32IM: {} functions ({} compiled, {} from the cache, {} from the codebase), {} bytes of code\n",
                c.functions(),
                c.compiled,
                c.reused,
                c.loaded,
                rv.module().code.len()
            ),
        );
        self.rv = Some(rv);
        Ok(Answered::Then(
            None,
            Box::new(|s: &mut Session| {
                let caps = json!({ "capabilities": { "supportsDisassembleRequest": true } });
                s.out.event("capabilities", Some(caps));
                s.out.event("initialized", None);
            }),
        ))
    }

    /// A request of a RISC-V session (crate::riscv).
    fn riscv_request(&mut self, r: &Request) -> Result<Answered, String> {
        let command = r.command.as_str();
        let started = self.started;
        let terminated = self.terminated;
        let moving = || -> Result<(), String> {
            if !started {
                return Err("the run has not started: send `configurationDone` first".into());
            }
            if terminated {
                return Err("the run was terminated".into());
            }
            Ok(())
        };
        let rv = self.rv.as_mut().expect("a RISC-V session");
        let then_stop = |body: Option<Json>, motion: Box<dyn FnOnce(&mut RvDebugger) -> Json>| {
            Ok(Answered::Then(
                body,
                Box::new(move |s: &mut Session| {
                    let rv = s.rv.as_mut().expect("a RISC-V session");
                    let stopped = motion(rv);
                    for line in rv.take_output() {
                        s.output("stdout", &format!("{line}\n"));
                    }
                    s.out.event("stopped", Some(stopped));
                }),
            ))
        };
        match command {
            "threads" => {
                let name = rv.code().name(&rv.code().entry);
                Ok(Answered::Body(Some(json!({ "threads": [{ "id": THREAD, "name": name }] }))))
            }
            "setBreakpoints" => {
                let args: p::SetBreakpointsArguments = arguments(r)?;
                let Some(path) = args.source.path.clone() else {
                    return Err("setBreakpoints: the source has no `path`".into());
                };
                let lines: Vec<u32> = match (&args.breakpoints, &args.lines) {
                    (Some(bs), _) => bs.iter().map(|b| rv.line_in(b.line)).collect(),
                    (None, Some(lines)) => lines.iter().map(|l| rv.line_in(*l)).collect(),
                    (None, None) => Vec::new(),
                };
                let list = rv.set_line_breakpoints(std::path::Path::new(&path), &lines);
                Ok(Answered::Body(Some(json!({ "breakpoints": list }))))
            }
            "setFunctionBreakpoints" => {
                let args: p::SetFunctionBreakpointsArguments = arguments(r)?;
                let list: Vec<Json> = args.breakpoints.iter().map(|_| json!({
                    "verified": false,
                    "message": "function breakpoints are the VM's; in a RISC-V session put a line breakpoint",
                })).collect();
                Ok(Answered::Body(Some(json!({ "breakpoints": list }))))
            }
            "setExceptionBreakpoints" => Ok(Answered::Body(Some(json!({ "breakpoints": [] })))),
            "configurationDone" => {
                if started {
                    return Err("`configurationDone` was already sent".into());
                }
                self.started = true;
                then_stop(None, Box::new(|rv| rv.start()))
            }
            "stackTrace" => {
                let args: p::StackTraceArguments = arguments(r)?;
                if args.thread_id != THREAD {
                    return Err(format!("no thread {} (a TEL run has one thread, {THREAD})", args.thread_id));
                }
                Ok(Answered::Body(Some(rv.stack_trace())))
            }
            "scopes" => {
                let args: p::ScopesArguments = arguments(r)?;
                Ok(Answered::Body(Some(rv.scopes(args.frame_id))))
            }
            "variables" => {
                let args: p::VariablesArguments = arguments(r)?;
                Ok(Answered::Body(Some(rv.variables(args.variables_reference)?)))
            }
            "disassemble" => {
                let args: p::DisassembleArguments = arguments(r)?;
                let address = crate::riscv::parse_address(&args.memory_reference)?
                    + args.offset.unwrap_or(0);
                let body = rv.disassemble(
                    address,
                    args.instruction_offset.unwrap_or(0),
                    args.instruction_count,
                );
                Ok(Answered::Body(Some(body)))
            }
            "continue" => {
                moving()?;
                let body = Some(json!({ "allThreadsContinued": true }));
                // `continue` at the end of the run ends the session, as for the VM.
                if rv.at_end() {
                    return Ok(Answered::Then(body, Box::new(|s: &mut Session| s.finish())));
                }
                then_stop(body, Box::new(|rv| rv.continue_forward()))
            }
            "reverseContinue" => {
                moving()?;
                then_stop(Some(json!({ "allThreadsContinued": true })), Box::new(|rv| rv.continue_back()))
            }
            "next" | "stepIn" | "stepOut" | "stepBack" => {
                moving()?;
                let args: p::StepArguments = arguments(r)?;
                let instruction = match args.granularity.as_deref() {
                    None | Some("statement") | Some("line") => false,
                    Some("instruction") => true,
                    Some(g) => return Err(format!("unknown granularity `{g}`")),
                };
                let step = match (command, instruction) {
                    ("stepOut", _) => Step::Out,
                    (_, true) => Step::Instruction,
                    ("stepIn", false) => Step::In,
                    _ => Step::Over,
                };
                let back = command == "stepBack";
                then_stop(None, Box::new(move |rv| rv.step(step, back)))
            }
            "pause" => {
                moving()?;
                Ok(Answered::Body(None))
            }
            "terminate" => {
                moving()?;
                Ok(Answered::Then(None, Box::new(|s: &mut Session| s.finish())))
            }
            "exceptionInfo" => Err("no exception information in a RISC-V session: the stopped event describes the error".into()),
            "evaluate" => Err("expressions are not evaluated in a RISC-V session: the Registers scope shows the machine".into()),
            other => Err(format!(
                "`{other}` is not supported in a RISC-V session (docs/debugging.md, \"RISC-V\")"
            )),
        }
    }

    fn output(&self, category: &str, text: &str) {
        self.out.event("output", Some(json!({ "category": category, "output": text })));
    }

    fn invalidate(&self) {
        if self.invalidated_event {
            self.out.event("invalidated", Some(json!({ "areas": ["all"], "threadId": THREAD })));
        }
    }

    /// Tells the client where the run stopped (after what it logged on the way).
    fn report(&mut self, s: Stopped) {
        self.frames = None;
        self.refs.clear();
        // A fork or a switch changes the navigator a `pause` must reach.
        if let Some(d) = &self.debugger {
            *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(d.interrupt_handle());
        }
        for line in &s.output {
            self.output("stdout", &format!("{line}\n"));
        }
        for note in &s.notes {
            self.output("console", &format!("{note}\n"));
        }
        let mut body = json!({
            "reason": s.reason.dap(),
            "threadId": THREAD,
            "allThreadsStopped": true,
            "preserveFocusHint": false,
        });
        if let Some(d) = &s.description {
            body["description"] = json!(d);
            body["text"] = json!(d);
        }
        if !s.breakpoints.is_empty() {
            body["hitBreakpointIds"] = json!(s.breakpoints);
        }
        self.out.event("stopped", Some(body));
    }

    /// The end of the session's run: `exited` with the run's status, then `terminated`.
    fn finish(&mut self) {
        if self.terminated {
            return;
        }
        self.terminated = true;
        let (ok, text) = match (&self.debugger, &self.rv) {
            (Some(d), _) => (d.outcome().is_ok(), Some(d.outcome_text())),
            (None, Some(rv)) => (rv.outcome_ok(), Some(rv.outcome_text())),
            (None, None) => (false, None),
        };
        let code = if ok { 0 } else { 3 };
        if let Some(text) = text {
            self.output("console", &format!("{text}\n"));
        }
        self.out.event("exited", Some(json!({ "exitCode": code })));
        self.out.event("terminated", None);
    }
}

/// A handler's answer: a body, or a body and what to do once it is sent (events must follow
/// the response they belong to).
enum Answered {
    Body(Option<Json>),
    Then(Option<Json>, Box<dyn FnOnce(&mut Session)>),
}

/// An effect by name (`Deposit`, case-insensitive).
pub fn parse_effect(name: &str) -> Result<HostEffect, String> {
    HostEffect::ALL.into_iter().find(|e| e.name().eq_ignore_ascii_case(name.trim())).ok_or_else(
        || {
            let all: Vec<&str> = HostEffect::ALL.iter().map(|e| e.name()).collect();
            format!("unknown effect `{name}` (the host effects are {})", all.join(", "))
        },
    )
}

fn run_variables(d: &Debugger) -> Vec<(String, Value, Option<String>)> {
    let state = d.state();
    let int = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
    let mut out = vec![
        ("position".to_string(), int(state.position), Some("$position".to_string())),
        ("end".to_string(), int(d.end()), Some("$end".to_string())),
        ("clock".to_string(), Value::Duration(state.clock), Some("$clock".to_string())),
        ("heap bytes".to_string(), int(state.usage.heap_bytes), None),
        ("effects".to_string(), int(state.usage.effects), None),
    ];
    let (label, ..) = d.timelines().swap_remove(d.current_timeline());
    out.push((
        "timeline".into(),
        Value::String(format!("{}: {label}", d.current_timeline()).into()),
        None,
    ));
    let handlers: Vec<Value> = state
        .handlers
        .iter()
        .map(|h| {
            Value::String(
                match h {
                    HandlerState::Handle { location, effects, frame } => format!(
                        "handle {} in frame {} ({})",
                        effects.join(", "),
                        frame + 1,
                        d.code().name(&location.def)
                    ),
                    HandlerState::Within { deadline, frame } => {
                        format!("within, deadline {deadline}ms, in frame {}", frame + 1)
                    }
                }
                .into(),
            )
        })
        .collect();
    out.push(("handlers".into(), Value::list(handlers), None));
    if let Some(e) = d.effect_here(state.position) {
        out.push(("next effect".into(), Value::String(e.into()), None));
    }
    out
}

/// The children of a compound value, with the expression that reads each.
fn children(d: &Debugger, v: &Value, path: Option<&str>) -> Vec<(String, Value, Option<String>)> {
    let sub = |suffix: String| path.map(|p| format!("{p}{suffix}"));
    match v {
        Value::List(xs) => xs
            .iter()
            .enumerate()
            .map(|(i, x)| (format!("[{i}]"), x.clone(), sub(format!("[{i}]"))))
            .collect(),
        Value::Map(m) => m
            .iter()
            .map(|(k, x)| {
                let key = match k {
                    Value::String(s) => Json::String(s.to_string()).to_string(),
                    k => d.show(k),
                };
                (key.clone(), x.clone(), sub(format!("[{key}]")))
            })
            .collect(),
        Value::Record { fields, .. } => {
            fields.iter().map(|(n, x)| (n.to_string(), x.clone(), sub(format!(".{n}")))).collect()
        }
        Value::Variant { fields, .. } => fields
            .iter()
            .enumerate()
            .map(|(i, x)| (format!("[{i}]"), x.clone(), sub(format!(".{i}"))))
            .collect(),
        Value::Option(Some(x)) => vec![("[0]".into(), (**x).clone(), sub(".0".into()))],
        _ => Vec::new(),
    }
}

/// `tel/timeline`'s entries (docs/debugging.md, "Custom requests").
pub fn timeline_json(d: &Debugger, entries: &[TimelineEntry]) -> Vec<Json> {
    let events = d.navigator().trace().events();
    let program = d.program();
    let value = |v: &Value| tel_ide::run::report::value_json(program, v);
    // Occurrences count from the start of the run, whatever range is asked.
    let before = d.effects();
    entries
        .iter()
        .map(|e| match e {
            TimelineEntry::Call { position, depth, kind, location, tail } => {
                let frame = match kind {
                    FrameKind::Function => "function",
                    FrameKind::Lambda => "lambda",
                    FrameKind::Handler => "handler",
                    FrameKind::Loop { .. } => "loop",
                };
                let mut j = json!({
                    "position": position, "kind": "call", "depth": depth, "frame": frame, "tail": tail,
                });
                match (kind, location) {
                    (FrameKind::Loop { builtin, .. }, _) => j["name"] = json!(builtin.name()),
                    (_, Some(l)) => {
                        j["name"] = json!(d.frame_name(kind, Some(l)));
                        j["hash"] = json!(l.def.to_base32hex());
                        if let Some(place) = d.sources().locate(l) {
                            j["source"] = json!({ "path": place.path.display().to_string() });
                            j["line"] = json!(place.line);
                            j["column"] = json!(place.column);
                        }
                    }
                    _ => j["name"] = json!("?"),
                }
                j
            }
            TimelineEntry::Return { position, depth, frames } => {
                json!({ "position": position, "kind": "return", "depth": depth, "frames": frames })
            }
            TimelineEntry::Effect(entry) => {
                let occurrence = if entry.applied {
                    let earlier = before[..entry.ordinal.min(before.len())]
                        .iter()
                        .filter(|x| x.applied && x.effect == entry.effect)
                        .count();
                    Some(earlier + 1)
                } else {
                    None
                };
                let mut j = json!({
                    "position": entry.position,
                    "kind": "effect",
                    "name": entry.effect.name(),
                    "effect": entry.effect.name(),
                    "ordinal": entry.ordinal,
                    "applied": entry.applied,
                    "description": entry.description,
                });
                if let Some(n) = occurrence {
                    j["occurrence"] = json!(n);
                }
                match &events[entry.ordinal + 1] {
                    tel_vm::Event::EffectApplied { args, now, result, .. } => {
                        j["args"] = Json::Array(args.iter().map(value).collect());
                        j["clockMs"] = json!(now);
                        match result {
                            Ok(v) => j["result"] = value(v),
                            Err(m) => j["refused"] = json!(m),
                        }
                    }
                    tel_vm::Event::EffectNotPerformed { args, .. } => {
                        j["args"] = Json::Array(args.iter().map(value).collect());
                    }
                    _ => {}
                }
                j
            }
        })
        .collect()
}

/// `tel/compareStates`' answer: every changed value, old → new, as `show` prints them.
/// `frames` names the frames at `to`.
pub fn comparison_json(d: &Debugger, c: &Comparison, frames: &[FrameView]) -> Json {
    let mut changes = Vec::new();
    for l in &c.locals {
        let name = l.name.as_ref().map_or_else(|| l.binder.to_string(), |n| n.to_string());
        let (frame, old, new) = d.change_text(l, frames);
        let mut j = json!({ "kind": "local", "frame": frame, "name": name });
        if let Some(v) = old {
            j["old"] = json!(v);
        }
        if let Some(v) = new {
            j["new"] = json!(v);
        }
        changes.push(j);
    }
    for b in &c.balances {
        changes.push(json!({ "kind": "balance", "name": b.account, "old": b.old.to_string(), "new": b.new.to_string() }));
    }
    if let Some((old, new)) = c.clock {
        changes.push(json!({
            "kind": "clock", "name": "clock",
            "old": tel_vm::show::duration(old), "new": tel_vm::show::duration(new),
        }));
    }
    json!({
        "from": c.from,
        "to": c.to,
        "changes": changes,
        "framesLeft": c.frames_left,
        "framesEntered": c.frames_entered,
    })
}
