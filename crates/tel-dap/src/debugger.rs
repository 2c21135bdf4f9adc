//! The debugger both front ends drive (the DAP server and `tel debug`): a program loaded
//! the way `tel run` loads it, recorded once, and navigated with tel-vm's time-travel
//! [`Navigator`]; breakpoints by source line or function, with conditions and hit counts;
//! frames and locals placed in the sources; forks kept as separate timelines.
//!
//! Everything is a function of the position: a hit count is "how many times this
//! breakpoint's condition held at or before this position", so it means the same going
//! forward or backward, and a Log line is shown once, when the position first passes it.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use serde_json::Value as Json;
use smol_str::SmolStr;
use tel_hash::CodeHash;
use tel_hash::core::CoreDef;
use tel_ide::run::{Code, RunSettings, Stop, codebase_for};
use tel_ide::{Analysis, FileId};
use tel_vm::trace::Event;
use tel_vm::travel::{
    Breakpoint, BreakpointId, Comparison, Config, EffectEntry, FrameKind, Granularity, Navigator,
    Override, State, StepKind, StopReason, TimelineEntry, View,
};
use tel_vm::{HostEffect, HostFile, Location, Program, RuntimeError, Value};

use crate::eval::{self, Ast, Scope};
use crate::sources::{Place, SourceMap};

/// What to debug: `launch`'s configuration, or `tel debug`'s flags.
#[derive(Clone, Debug, Default)]
pub struct LaunchSpec {
    /// A `.tel` file, a project folder, or `#PREFIX` of a stored definition.
    pub program: String,
    pub entry: Option<String>,
    /// The entry point's arguments as JSON text (an array).
    pub args: Option<String>,
    pub host: Option<PathBuf>,
    pub codebase: Option<PathBuf>,
    pub fuel: Option<u64>,
    pub memory: Option<u64>,
    pub allow: Option<String>,
    /// Resume this stored session (an id or a prefix) instead of recording a new run.
    pub session: Option<String>,
    /// Relative paths are taken from here (default: the working directory).
    pub cwd: Option<PathBuf>,
}

/// Why a motion stopped, as the front ends name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Before the first instruction, by request.
    Entry,
    Step,
    Breakpoint,
    FunctionBreakpoint,
    /// A jump (to a position, an effect, a goto target, a fork).
    Goto,
    /// The end of a run that failed.
    Exception,
    Pause,
    /// The end of a run that returned.
    End,
    /// Backward motion reached the start of the run.
    Start,
    /// A frame was restarted (time went back to its entry).
    Restart,
}

impl Reason {
    /// The DAP `stopped` reason.
    pub fn dap(self) -> &'static str {
        match self {
            Reason::Entry | Reason::Start => "entry",
            Reason::Step => "step",
            Reason::Breakpoint => "breakpoint",
            Reason::FunctionBreakpoint => "function breakpoint",
            Reason::Goto => "goto",
            Reason::Exception => "exception",
            Reason::Pause => "pause",
            Reason::End => "end",
            Reason::Restart => "restart",
        }
    }
}

/// Where and why a motion stopped, and what the program logged on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct Stopped {
    pub position: u64,
    pub reason: Reason,
    pub description: Option<String>,
    /// The user breakpoints that hit.
    pub breakpoints: Vec<u32>,
    /// Log lines the run reached for the first time.
    pub output: Vec<String>,
    /// Problems to tell the user (a breakpoint condition that failed to evaluate).
    pub notes: Vec<String>,
}

/// A motion through the run.
#[derive(Clone, Debug)]
pub enum Motion {
    Continue,
    ReverseContinue,
    Step {
        kind: StepKind,
        granularity: Granularity,
        back: bool,
    },
    Goto(u64),
    Effect {
        effect: HostEffect,
        occurrence: usize,
    },
    /// Back to where frame `n` (from the innermost) was entered.
    RestartFrame(usize),
}

/// A frame as the front ends show it.
#[derive(Clone, Debug)]
pub struct FrameView {
    /// `treasury::fee`, `treasury::main/lambda`, `handler in treasury::main`, `fold [2/5]`.
    pub name: String,
    pub hash: Option<CodeHash>,
    pub location: Option<Location>,
    pub place: Option<Place>,
    /// Locals in scope, outermost first (a shadowed name appears twice).
    pub locals: Vec<LocalView>,
}

/// A local of a frame.
#[derive(Clone, Debug)]
pub struct LocalView {
    pub name: SmolStr,
    pub value: Value,
    /// The code moved the value out on its last use: `value` is a leftover `()`.
    pub moved: bool,
}

impl LocalView {
    fn new(name: &str, value: Value) -> LocalView {
        LocalView { name: name.into(), value, moved: false }
    }
}

/// A breakpoint as set, for the front ends' answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BreakpointStatus {
    pub id: u32,
    pub verified: bool,
    /// Where it is (a line breakpoint may move to the next line with code).
    pub line: Option<u32>,
    pub message: Option<String>,
}

/// A line or function breakpoint to set.
#[derive(Clone, Debug, Default)]
pub struct BreakpointSpec {
    /// The line (1-based) or the function (`name`, `module::name` or `#hash`).
    pub line: Option<u32>,
    pub function: Option<String>,
    pub condition: Option<String>,
    pub hit_condition: Option<String>,
}

/// When a hit counts: `N` or `== N` (the Nth hit only), `>= N`, `> N`, `<= N`, `< N`,
/// `% N` (every Nth).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HitCondition {
    Eq(u64),
    Ge(u64),
    Gt(u64),
    Le(u64),
    Lt(u64),
    Every(u64),
}

impl HitCondition {
    fn parse(text: &str) -> Result<HitCondition, String> {
        let t = text.trim();
        let (op, rest) = ["==", ">=", "<=", ">", "<", "%", "="]
            .iter()
            .find_map(|op| t.strip_prefix(op).map(|r| (*op, r)))
            .unwrap_or(("==", t));
        let n: u64 = rest.trim().parse().map_err(|_| {
            format!("hit condition `{text}`: expected a count, e.g. `3`, `>= 3` or `% 2`")
        })?;
        Ok(match op {
            "==" | "=" => HitCondition::Eq(n),
            ">=" => HitCondition::Ge(n),
            ">" => HitCondition::Gt(n),
            "<=" => HitCondition::Le(n),
            "<" => HitCondition::Lt(n),
            _ if n == 0 => return Err(format!("hit condition `{text}`: `% 0` never holds")),
            _ => HitCondition::Every(n),
        })
    }

    fn holds(self, count: u64) -> bool {
        match self {
            HitCondition::Eq(n) => count == n,
            HitCondition::Ge(n) => count >= n,
            HitCondition::Gt(n) => count > n,
            HitCondition::Le(n) => count <= n,
            HitCondition::Lt(n) => count < n,
            HitCondition::Every(n) => count.is_multiple_of(n),
        }
    }
}

#[derive(Clone, Debug)]
enum Target {
    Line { file: FileId, line: u32 },
    Function { name: String },
}

#[derive(Clone, Debug)]
struct UserBreakpoint {
    id: u32,
    target: Target,
    places: Vec<Breakpoint>,
    condition: Option<(String, Ast)>,
    hit: Option<HitCondition>,
}

/// A run and what the debugger keeps about it.
struct Timeline {
    nav: Navigator,
    /// `main`, or `fork 1 of main at effect 3 (Observe)`.
    label: String,
    effects: Vec<EffectEntry>,
    /// The furthest position reached: Log lines before it were shown.
    frontier: u64,
    /// Navigator breakpoint → user breakpoint.
    ids: HashMap<BreakpointId, u32>,
    /// Per user breakpoint with a hit condition: the positions where it hit (its condition
    /// holding), in order.
    hits: HashMap<u32, Vec<u64>>,
}

/// The debugger. See the module documentation.
pub struct Debugger {
    code: Code,
    program: Arc<Program>,
    map: SourceMap,
    codebase: Option<PathBuf>,
    timelines: Vec<Timeline>,
    current: usize,
    breakpoints: Vec<UserBreakpoint>,
    next_breakpoint: u32,
    /// Warnings from loading, for the user.
    pub notes: Vec<String>,
}

/// Problems before the program runs: the message, and diagnostics rendered as text.
#[derive(Clone, Debug)]
pub struct LaunchError {
    pub message: String,
    pub details: Vec<String>,
}

impl From<String> for LaunchError {
    fn from(message: String) -> LaunchError {
        LaunchError { message, details: Vec::new() }
    }
}

impl std::fmt::Display for LaunchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        for d in &self.details {
            write!(f, "\n{d}")?;
        }
        Ok(())
    }
}

pub(crate) fn stop_error(stop: Stop, sources: Option<&Analysis>) -> LaunchError {
    match stop {
        Stop::Refused(m) | Stop::Usage(m) => LaunchError::from(m),
        // Placed in the sources by the RISC-V launch, which compiles.
        stop @ Stop::NotCompiled(_) => LaunchError::from(stop.to_string()),
        Stop::Diagnostics { message, diagnostics } => {
            let details = diagnostics
                .iter()
                .take(20)
                .map(|d| match sources {
                    Some(a) => {
                        let lc = a.line_index(d.file).line_col(d.range.start());
                        format!(
                            "{}:{}:{}: error[{}]: {}",
                            a.file_path(d.file).display(),
                            lc.line + 1,
                            lc.col + 1,
                            d.code,
                            d.message
                        )
                    }
                    None => format!("error[{}]: {}", d.code, d.message),
                })
                .collect();
            LaunchError { message, details }
        }
    }
}

fn absolute(cwd: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) }
}

/// What a launch loads before anything runs: the code, the sources that define it, the
/// settings of the run (as `tel run` builds them); both backends start from it.
pub(crate) struct Loaded {
    pub code: Code,
    pub sources: Option<Analysis>,
    pub codebase: Option<PathBuf>,
    pub args: Vec<Value>,
    pub sandbox: tel_vm::SecuritySandbox,
    pub host_file: Option<HostFile>,
    /// The stored session to resume.
    pub stored: Option<StoredSession>,
    pub notes: Vec<String>,
}

impl Loaded {
    pub(crate) fn load(spec: &LaunchSpec) -> Result<Loaded, LaunchError> {
        let cwd = match &spec.cwd {
            Some(c) => c.clone(),
            None => std::env::current_dir()
                .map_err(|e| format!("cannot read the working directory: {e}"))?,
        };
        let settings = RunSettings {
            fuel: spec.fuel,
            memory: spec.memory,
            timeout: None,
            allow: spec.allow.clone(),
            memo: false,
            ..RunSettings::default()
        };
        let sandbox = settings.sandbox()?;
        let host_file = match &spec.host {
            Some(p) => Some(HostFile::load(&absolute(&cwd, p)).map_err(|e| e.to_string())?),
            None => None,
        };
        let by_hash = spec.program.starts_with('#');
        let start = if by_hash { cwd.clone() } else { absolute(&cwd, Path::new(&spec.program)) };
        let explicit = spec.codebase.as_ref().map(|c| absolute(&cwd, c));
        let codebase = codebase_for(explicit.as_deref(), &start)?;

        // A resumed session names its entry point.
        let stored = match &spec.session {
            Some(id) => Some(load_session(codebase.as_deref(), id)?),
            None => None,
        };
        let mut notes = Vec::new();
        let (code, sources) = if by_hash {
            if spec.entry.is_some() {
                return Err(format!(
                    "`entry` names a function of a file or folder; {} already is the entry point",
                    spec.program
                )
                .into());
            }
            let code = Code::from_codebase(&spec.program, codebase.as_deref())
                .map_err(|s| stop_error(s, None))?;
            // The project around the working directory, if it still defines the code, places
            // the frames in the sources.
            let sources = tel_store::location::find_project_root(&cwd)
                .and_then(|root| tel_ide::load::load(&[root], codebase.as_deref()).ok())
                .map(|l| l.analysis);
            (code, sources)
        } else {
            if !start.exists() {
                return Err(format!("{}: no such file or folder", spec.program).into());
            }
            let loaded = tel_ide::load::load(std::slice::from_ref(&start), codebase.as_deref())?;
            notes.extend(loaded.warnings.iter().cloned());
            let entry = spec
                .entry
                .clone()
                .or_else(|| stored.as_ref().and_then(|s| s.0.entry_name.clone()))
                .unwrap_or_else(|| "main".into());
            let code = Code::from_analysis(
                &loaded.analysis,
                &loaded.reported,
                &entry,
                codebase.as_deref(),
                &spec.program,
            )
            .map_err(|s| stop_error(s, Some(&loaded.analysis)))?;
            (code, Some(loaded.analysis))
        };
        let args = code.decode_args(spec.args.as_deref()).map_err(|s| stop_error(s, None))?;
        Ok(Loaded { code, sources, codebase, args, sandbox, host_file, stored, notes })
    }
}

impl Debugger {
    /// Loads the program (sources or codebase), records its run and prepares to navigate it,
    /// at position 0; or resumes a stored session, at the position it was kept at. The run's
    /// configuration is built as `tel run` builds it (tel_ide::run's settings and loading).
    pub fn launch(spec: &LaunchSpec) -> Result<Debugger, LaunchError> {
        let Loaded { code, sources, codebase, args, sandbox, host_file, stored, mut notes } =
            Loaded::load(spec)?;
        let program = Program::load(&code.defs, code.entry).map_err(|e| e.to_string())?;
        let program = Arc::new(program);
        let map = SourceMap::new(sources.as_ref(), &code);
        let nav = match stored {
            Some((info, setup, snapshots)) => {
                if info.entry != code.entry {
                    return Err(format!(
                        "session {} ran #{} ({}), but {} is #{} now: the code changed since",
                        info.id,
                        info.entry.short(),
                        info.entry_name.as_deref().unwrap_or("?"),
                        code.name(&code.entry),
                        code.entry.short()
                    )
                    .into());
                }
                let snapshots = snapshots
                    .into_iter()
                    .map(|s| tel_vm::travel::SavedSnapshot {
                        position: s.position,
                        base: s.base,
                        bytes: s.bytes.into(),
                    })
                    .collect();
                let nav = Navigator::resume(
                    program.clone(),
                    &code.defs,
                    &setup,
                    snapshots,
                    info.position,
                )
                .map_err(|e| format!("session {}: {e}", info.id))?;
                notes.push(format!("resumed session {} at position {}", info.id, info.position));
                nav
            }
            None => {
                let meta = tel_ide::run::run_meta(&code, &program, args, &sandbox, host_file);
                Navigator::record(program.clone(), &code.defs, meta, Config::default())
                    .map_err(|e| e.to_string())?
            }
        };
        let mut debugger = Debugger {
            code,
            program,
            map,
            codebase,
            timelines: Vec::new(),
            current: 0,
            breakpoints: Vec::new(),
            next_breakpoint: 1,
            notes,
        };
        let label = debugger.code.name(&debugger.code.entry);
        debugger.add_timeline(nav, label);
        Ok(debugger)
    }

    fn add_timeline(&mut self, mut nav: Navigator, label: String) -> usize {
        let names = self.map.binder_names();
        nav.set_namer(Arc::new(move |def, binder| names.get(&(*def, *binder)).cloned()));
        let effects = nav.effects();
        let frontier = nav.position();
        self.timelines.push(Timeline {
            nav,
            label,
            effects,
            frontier,
            ids: HashMap::new(),
            hits: HashMap::new(),
        });
        let i = self.timelines.len() - 1;
        self.sync_breakpoints(i);
        i
    }

    // ---- what is being debugged ----

    pub fn program(&self) -> &Program {
        &self.program
    }

    pub fn code(&self) -> &Code {
        &self.code
    }

    pub fn sources(&self) -> &SourceMap {
        &self.map
    }

    fn timeline(&self) -> &Timeline {
        &self.timelines[self.current]
    }

    pub fn navigator(&self) -> &Navigator {
        &self.timeline().nav
    }

    pub fn position(&self) -> u64 {
        self.navigator().position()
    }

    pub fn end(&self) -> u64 {
        self.navigator().end()
    }

    /// The flag that interrupts the motion under way (a DAP `pause`).
    pub fn interrupt_handle(&self) -> Arc<AtomicBool> {
        self.navigator().interrupt_handle()
    }

    pub fn show(&self, v: &Value) -> String {
        tel_vm::show::show(&self.program, v)
    }

    /// The run's outcome as text: the value shown, or the error.
    pub fn outcome_text(&self) -> String {
        match self.navigator().outcome() {
            Ok(v) => format!("the run returned {}", self.show(v)),
            Err(e) => format!("the run failed: {}", tel_ide::run::report::error_message(e)),
        }
    }

    pub fn outcome(&self) -> Result<&Value, &RuntimeError> {
        self.navigator().outcome()
    }

    /// The host effects of the current timeline, in order.
    pub fn effects(&self) -> &[EffectEntry] {
        &self.timeline().effects
    }

    // ---- breakpoints ----

    /// Replaces the line breakpoints of the file at `path` with `specs`.
    pub fn set_line_breakpoints(
        &mut self,
        path: &Path,
        specs: &[BreakpointSpec],
    ) -> Vec<BreakpointStatus> {
        let file = self.map.file_for_path(path);
        self.breakpoints.retain(|b| match (&b.target, file) {
            (Target::Line { file: f, .. }, Some(file)) => *f != file,
            _ => true,
        });
        let out = specs.iter().map(|spec| self.new_line_breakpoint(path, file, spec)).collect();
        self.sync_all();
        out
    }

    /// Replaces the function breakpoints with `specs`.
    pub fn set_function_breakpoints(&mut self, specs: &[BreakpointSpec]) -> Vec<BreakpointStatus> {
        self.breakpoints.retain(|b| !matches!(b.target, Target::Function { .. }));
        let out = specs.iter().map(|spec| self.new_function_breakpoint(spec)).collect();
        self.sync_all();
        out
    }

    /// Adds one breakpoint, keeping the others (`tel debug`'s `break`). A line breakpoint
    /// needs `file` when the program has several files.
    pub fn add_breakpoint(
        &mut self,
        file: Option<&Path>,
        spec: BreakpointSpec,
    ) -> BreakpointStatus {
        let status = if spec.function.is_some() {
            self.new_function_breakpoint(&spec)
        } else {
            let path = match file {
                Some(p) => p.to_path_buf(),
                None => self.default_file().unwrap_or_default(),
            };
            let fid = self.map.file_for_path(&path);
            self.new_line_breakpoint(&path, fid, &spec)
        };
        self.sync_all();
        status
    }

    fn fresh_id(&mut self) -> u32 {
        let id = self.next_breakpoint;
        self.next_breakpoint += 1;
        id
    }

    /// Adds a line breakpoint (the navigators are synchronized by the caller).
    fn new_line_breakpoint(
        &mut self,
        path: &Path,
        file: Option<FileId>,
        spec: &BreakpointSpec,
    ) -> BreakpointStatus {
        let id = self.fresh_id();
        let line = spec.line.unwrap_or(0);
        let unverified = |message: String| BreakpointStatus {
            id,
            verified: false,
            line: Some(line),
            message: Some(message),
        };
        let Some(file) = file else {
            return unverified(format!(
                "{} is not part of the program being debugged",
                path.display()
            ));
        };
        let (condition, hit) = match parse_filters(spec) {
            Ok(f) => f,
            Err(e) => return unverified(e),
        };
        let Some(at) = self.map.code_line_from(file, line) else {
            return unverified(format!("no code of the running program on line {line}"));
        };
        let places = self
            .map
            .line_exprs(file, at)
            .iter()
            .map(|(def, expr)| Breakpoint::Expr { def: *def, expr: *expr })
            .collect();
        self.breakpoints.push(UserBreakpoint {
            id,
            target: Target::Line { file, line: at },
            places,
            condition,
            hit,
        });
        BreakpointStatus { id, verified: true, line: Some(at), message: None }
    }

    fn new_function_breakpoint(&mut self, spec: &BreakpointSpec) -> BreakpointStatus {
        let id = self.fresh_id();
        let name = spec.function.clone().unwrap_or_default();
        let unverified = |message: String| BreakpointStatus {
            id,
            verified: false,
            line: None,
            message: Some(message),
        };
        let (condition, hit) = match parse_filters(spec) {
            Ok(f) => f,
            Err(e) => return unverified(e),
        };
        let defs = self.functions_matching(&name);
        if defs.is_empty() {
            return unverified(format!("no function `{name}` in the running program"));
        }
        let line = defs.first().and_then(|d| self.map.locate_def(d)).map(|p| p.line);
        self.breakpoints.push(UserBreakpoint {
            id,
            target: Target::Function { name },
            places: defs.into_iter().map(|def| Breakpoint::Function { def }).collect(),
            condition,
            hit,
        });
        BreakpointStatus { id, verified: true, line, message: None }
    }

    /// Removes a breakpoint by id; `false` when there is none.
    pub fn remove_breakpoint(&mut self, id: u32) -> bool {
        let before = self.breakpoints.len();
        self.breakpoints.retain(|b| b.id != id);
        self.sync_all();
        before != self.breakpoints.len()
    }

    /// The breakpoints, as `tel debug` lists them.
    pub fn breakpoint_list(&self) -> Vec<String> {
        self.breakpoints
            .iter()
            .map(|b| {
                let mut s = match &b.target {
                    Target::Line { file, line } => {
                        let path = self.map.path(*file).map(shown_path).unwrap_or_default();
                        format!("{}: {path}:{line}", b.id)
                    }
                    Target::Function { name } => format!("{}: function {name}", b.id),
                };
                if let Some((c, _)) = &b.condition {
                    s.push_str(&format!(" if {c}"));
                }
                if let Some(h) = &b.hit {
                    s.push_str(&format!(" hit {h:?}"));
                }
                s
            })
            .collect()
    }

    fn default_file(&self) -> Option<PathBuf> {
        let place = self.map.locate_def(&self.code.entry)?;
        Some(place.path)
    }

    /// Functions of the program named `name` (`fee`, `treasury::fee`) or `#prefix`.
    fn functions_matching(&self, name: &str) -> Vec<CodeHash> {
        let name = name.trim();
        let mut out: Vec<CodeHash> = Vec::new();
        for c in &self.program.codes {
            if c.lambda || out.contains(&c.def) {
                continue;
            }
            let qualified = self.code.names.get(&c.def).map(String::as_str);
            let matches = match name.strip_prefix('#') {
                Some(prefix) => {
                    !prefix.is_empty()
                        && c.def.to_base32hex().starts_with(&prefix.to_ascii_lowercase())
                }
                None => {
                    qualified == Some(name)
                        || c.def_name.as_deref() == Some(name)
                        || qualified.is_some_and(|q| q.rsplit("::").next() == Some(name))
                }
            };
            if matches {
                out.push(c.def);
            }
        }
        out
    }

    fn sync_all(&mut self) {
        for i in 0..self.timelines.len() {
            self.sync_breakpoints(i);
        }
    }

    /// Gives timeline `i`'s navigator the user breakpoints.
    fn sync_breakpoints(&mut self, i: usize) {
        let t = &mut self.timelines[i];
        t.nav.clear_breakpoints();
        t.ids.clear();
        t.hits.clear();
        for b in &self.breakpoints {
            for place in &b.places {
                // A place the navigator refuses (an expression it has no code for) is left
                // out; the others of the breakpoint still hold.
                if let Ok(id) = t.nav.add_breakpoint(place.clone()) {
                    t.ids.insert(id, b.id);
                }
            }
        }
    }

    // ---- motion ----

    /// Where a run starts: at position 0 when `stop_on_entry`, else at the first breakpoint
    /// (or the end).
    pub fn start(&mut self, stop_on_entry: bool) -> Result<Stopped, String> {
        if stop_on_entry {
            let position = self.position();
            let mut s = self.stopped(position, Reason::Entry, None, Vec::new(), Vec::new());
            if position != 0 {
                s.reason = Reason::Goto;
                s.description = Some(format!("resumed at position {position}"));
            }
            return Ok(s);
        }
        // A breakpoint at position 0 itself: a continue only looks after the current
        // position, so look back from position 1.
        if self.position() == 0 && self.end() > 0 && !self.breakpoints.is_empty() {
            self.timelines[self.current].nav.goto(1).map_err(|e| e.to_string())?;
            let s = self.motion(Motion::ReverseContinue)?;
            if matches!(s.reason, Reason::Breakpoint | Reason::FunctionBreakpoint) {
                return Ok(s);
            }
        }
        self.motion(Motion::Continue)
    }

    /// Moves through the run.
    pub fn motion(&mut self, m: Motion) -> Result<Stopped, String> {
        let filtered =
            matches!(m, Motion::Continue | Motion::ReverseContinue | Motion::Step { .. });
        if filtered {
            self.count_hits()?;
        }
        let notes = RefCell::new(Vec::new());
        let program = self.program.clone();
        let t = &mut self.timelines[self.current];
        let (bps, ids, hits, map) = (&self.breakpoints, &t.ids, &t.hits, &self.map);
        let mut filter = |view: &View<'_>, id: BreakpointId| {
            accept(bps, ids, hits, &program, map, &notes, view, id)
        };
        let from = t.nav.position();
        let mut stop = match m {
            Motion::Continue => t.nav.continue_forward(Some(&mut filter)),
            Motion::ReverseContinue => t.nav.reverse_continue(Some(&mut filter)),
            Motion::Step { kind, granularity, back } => {
                t.nav.step(kind, granularity, back, Some(&mut filter))
            }
            Motion::Goto(p) => t.nav.goto(p),
            Motion::Effect { effect, occurrence } => t.nav.jump_to_effect(effect, occurrence),
            Motion::RestartFrame(n) => t.nav.restart_frame(n),
        }
        .map_err(|e| e.to_string())?;
        // A step that ends on a breakpoint where it would have stopped anyway is a step: the
        // breakpoint did not cut it short.
        if let (Motion::Step { kind, granularity, back }, StopReason::Breakpoint(_)) =
            (&m, &stop.reason)
        {
            let err = |e: tel_vm::travel::TravelError| e.to_string();
            t.nav.goto(from).map_err(err)?;
            let plain = t
                .nav
                .step(*kind, *granularity, *back, Some(&mut |_: &View<'_>, _| false))
                .map_err(err)?;
            if plain.position == stop.position {
                stop.reason = StopReason::Step;
            } else {
                t.nav.goto(stop.position).map_err(err)?;
            }
        }
        let (reason, mut description, hit) = match stop.reason {
            StopReason::Step => match m {
                Motion::Goto(_) => (Reason::Goto, None, Vec::new()),
                Motion::RestartFrame(_) => (Reason::Restart, None, Vec::new()),
                _ => (Reason::Step, None, Vec::new()),
            },
            StopReason::Breakpoint(ids) => {
                let mut users: Vec<u32> =
                    ids.iter().filter_map(|i| t.ids.get(i).copied()).collect();
                users.sort();
                users.dedup();
                let function = users.iter().all(|u| {
                    self.breakpoints
                        .iter()
                        .any(|b| b.id == *u && matches!(b.target, Target::Function { .. }))
                });
                let reason = if function { Reason::FunctionBreakpoint } else { Reason::Breakpoint };
                let names: Vec<String> = users.iter().map(|u| u.to_string()).collect();
                let plural = if users.len() == 1 { "" } else { "s" };
                (reason, Some(format!("breakpoint{plural} {}", names.join(", "))), users)
            }
            StopReason::Effect { description, .. } => (Reason::Goto, Some(description), Vec::new()),
            StopReason::End => match t.nav.outcome() {
                Ok(_) => (Reason::End, None, Vec::new()),
                Err(_) => (Reason::Exception, None, Vec::new()),
            },
            StopReason::Start => (Reason::Start, Some("the start of the run".into()), Vec::new()),
            StopReason::Interrupted => (Reason::Pause, None, Vec::new()),
        };
        if matches!(reason, Reason::End | Reason::Exception) {
            description = Some(self.outcome_text());
        }
        let notes = notes.into_inner();
        let position = stop.position;
        Ok(self.stopped(position, reason, description, hit, notes))
    }

    fn stopped(
        &mut self,
        position: u64,
        reason: Reason,
        description: Option<String>,
        breakpoints: Vec<u32>,
        notes: Vec<String>,
    ) -> Stopped {
        let output = self.pass(position);
        // At an effect, say which (a jump's own description already says where it went).
        let at_effect = match reason {
            Reason::Goto | Reason::Entry | Reason::Start | Reason::End | Reason::Exception => None,
            _ => self.effect_here(position),
        };
        let description = match (description, at_effect) {
            (Some(d), Some(e)) => Some(format!("{d}; {e}")),
            (None, Some(e)) => Some(e),
            (d, None) => d,
        };
        Stopped { position, reason, description, breakpoints, output, notes }
    }

    /// "effect 3 of Deposit" when the next instruction asks the host for an effect.
    pub fn effect_here(&self, position: u64) -> Option<String> {
        let effects = &self.timeline().effects;
        let k = effects.partition_point(|e| e.position < position);
        let e = effects.get(k).filter(|e| e.position == position)?;
        Some(if e.applied {
            let n = effects[..=k].iter().filter(|x| x.applied && x.effect == e.effect).count();
            format!("effect {n} of {}", e.effect.name())
        } else {
            format!("{} (not performed)", e.effect.name())
        })
    }

    /// The Log lines between the frontier and `position`, moving the frontier there.
    fn pass(&mut self, position: u64) -> Vec<String> {
        let t = &mut self.timelines[self.current];
        if position <= t.frontier {
            return Vec::new();
        }
        let events = t.nav.trace().events();
        let lines = t
            .effects
            .iter()
            .filter(|e| e.applied && e.effect == HostEffect::Log)
            .filter(|e| e.position >= t.frontier && e.position < position)
            .filter_map(|e| match &events[e.ordinal + 1] {
                Event::EffectApplied { args, result: Ok(_), .. } => Some(match args.as_slice() {
                    [Value::String(s)] => s.to_string(),
                    args => args
                        .iter()
                        .map(|v| tel_vm::show::show(&self.program, v))
                        .collect::<Vec<_>>()
                        .join(", "),
                }),
                _ => None,
            })
            .collect();
        t.frontier = position;
        lines
    }

    /// Computes the hit positions of the breakpoints with a hit condition that the current
    /// timeline does not know yet: one pass over the whole run.
    fn count_hits(&mut self) -> Result<(), String> {
        let t = &mut self.timelines[self.current];
        let wanted: Vec<u32> = self
            .breakpoints
            .iter()
            .filter(|b| b.hit.is_some() && !t.hits.contains_key(&b.id))
            .map(|b| b.id)
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let notes = RefCell::new(Vec::new());
        let found: RefCell<BTreeMap<u32, Vec<u64>>> =
            RefCell::new(wanted.iter().map(|w| (*w, Vec::new())).collect());
        let (bps, ids, program, map) = (&self.breakpoints, &t.ids, &self.program, &self.map);
        let mut record = |view: &View<'_>, id: BreakpointId| {
            if let Some(user) = ids.get(&id)
                && wanted.contains(user)
                && let Some(b) = bps.iter().find(|b| b.id == *user)
                && condition_holds(b, program, map, &notes, view)
            {
                found.borrow_mut().entry(*user).or_default().push(view.position());
            }
            false
        };
        let here = t.nav.position();
        let err = |e: tel_vm::travel::TravelError| e.to_string();
        if t.nav.end() > 0 {
            // Position 0 (a continue looks after its start), then the rest.
            t.nav.goto(1).map_err(err)?;
            t.nav.reverse_continue(Some(&mut record)).map_err(err)?;
            t.nav.continue_forward(Some(&mut record)).map_err(err)?;
        }
        t.nav.goto(here).map_err(err)?;
        for (user, mut positions) in found.into_inner() {
            positions.sort();
            positions.dedup();
            t.hits.insert(user, positions);
        }
        Ok(())
    }

    // ---- looking ----

    /// The machine at the current position.
    pub fn state(&self) -> State {
        self.navigator().inspect()
    }

    /// The frames at the current position, innermost first. At the end of a run the
    /// machine has none: a failed run shows its error's stack, a finished one a frame with
    /// its result.
    pub fn frames(&self) -> Vec<FrameView> {
        self.frames_of(&self.state())
    }

    /// A frame's name: `treasury::fee`, `treasury::main/lambda`, `handler in
    /// treasury::main`, `fold [2/5]`.
    pub fn frame_name(&self, kind: &FrameKind, location: Option<&Location>) -> String {
        match (kind, location) {
            (FrameKind::Loop { builtin, next, len }, _) => {
                format!("{} [{next}/{len}]", builtin.name())
            }
            (kind, Some(l)) => {
                let base = self.code.name(&l.def);
                match kind {
                    FrameKind::Handler => format!("handler in {base}"),
                    FrameKind::Lambda => format!("{base}/lambda"),
                    _ => base,
                }
            }
            (_, None) => "?".into(),
        }
    }

    pub fn frames_of(&self, state: &State) -> Vec<FrameView> {
        let mut out: Vec<FrameView> = Vec::new();
        // At the end of a failed run, the error's stack says where each code frame was (the
        // machine's frames stay where the error left them).
        let code_frames =
            state.frames.iter().filter(|f| !matches!(f.kind, FrameKind::Loop { .. })).count();
        let mut error_stack = match &state.outcome {
            Some(Err(e)) if e.stack().len() == code_frames => Some(e.stack().iter()),
            _ => None,
        };
        for f in &state.frames {
            let mut f = f.clone();
            if !matches!(f.kind, FrameKind::Loop { .. })
                && let Some(l) = error_stack.as_mut().and_then(|s| s.next())
            {
                f.location = Some(l.clone());
            }
            let f = &f;
            let name = self.frame_name(&f.kind, f.location.as_ref());
            let hash = match f.kind {
                FrameKind::Loop { .. } => None,
                _ => f.location.as_ref().map(|l| l.def),
            };
            let locals = f
                .locals
                .iter()
                .map(|l| LocalView {
                    name: l.name.clone().unwrap_or_else(|| SmolStr::new(l.binder.to_string())),
                    value: l.value.clone(),
                    moved: hash.is_some_and(|d| self.map.moved(&d, &l.binder, &l.value)),
                })
                .collect();
            out.push(FrameView {
                name,
                hash,
                place: f.location.as_ref().and_then(|l| self.map.locate(l)),
                location: f.location.clone(),
                locals,
            });
        }
        if out.is_empty() && state.outcome.is_some() {
            match self.outcome() {
                Err(e) => {
                    for l in e.stack() {
                        let mut name = self.code.name(&l.def);
                        if l.lambda {
                            name.push_str("/lambda");
                        }
                        out.push(FrameView {
                            name,
                            hash: Some(l.def),
                            place: self.map.locate(l),
                            location: Some(l.clone()),
                            locals: Vec::new(),
                        });
                    }
                }
                Ok(v) => {
                    let entry = self.code.entry;
                    out.push(FrameView {
                        name: format!("{} (returned)", self.code.name(&entry)),
                        hash: Some(entry),
                        place: self.map.locate_def(&entry),
                        location: None,
                        locals: vec![LocalView::new("result", v.clone())],
                    });
                }
            }
        }
        out
    }

    /// Evaluates `text` in frame `frame` (0: the innermost) at the current position.
    pub fn evaluate(&self, text: &str, frame: usize) -> Result<Value, String> {
        let ast = eval::parse(text)?;
        let state = self.state();
        let frames = self.frames_of(&state);
        let locals = frames.get(frame).map(|f| f.locals.clone()).unwrap_or_default();
        let scope = FrameScope { locals, state: &state, end: self.end() };
        eval::eval(&ast, &scope, &|v| self.show(v))
    }

    /// Whether a local's `value` is the `()` its binder's moved-out value leaves.
    pub fn is_moved(&self, def: &CodeHash, binder: &tel_vm::travel::Binder, value: &Value) -> bool {
        self.map.moved(def, binder, value)
    }

    // ---- the run as a whole ----

    /// Calls, returns and effects between `from` and `to` (at most `limit` entries).
    pub fn timeline_entries(
        &mut self,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<Vec<TimelineEntry>, String> {
        let t = &mut self.timelines[self.current];
        t.nav.timeline(from, to, limit).map_err(|e| e.to_string())
    }

    /// What changed from position `from` to position `to`, with the names of the frames at
    /// `to` (a [`tel_vm::travel::LocalChange`]'s `frame` indexes them).
    pub fn compare(&mut self, from: u64, to: u64) -> Result<(Comparison, Vec<FrameView>), String> {
        let t = &mut self.timelines[self.current];
        let c = t.nav.compare(from, to).map_err(|e| e.to_string())?;
        let later = t.nav.inspect_at(to).map_err(|e| e.to_string())?;
        Ok((c, self.frames_of(&later)))
    }

    /// A changed local's values as text: `show`, `<moved>` for a value moved out, `None`
    /// when the local is not in scope.
    pub fn change_text(
        &self,
        change: &tel_vm::travel::LocalChange,
        frames: &[FrameView],
    ) -> (String, Option<String>, Option<String>) {
        let frame = frames.get(change.frame);
        let def = frame.and_then(|f| f.hash);
        let text = |v: &Option<Value>| {
            v.as_ref().map(|v| match def {
                Some(d) if self.is_moved(&d, &change.binder, v) => "<moved>".to_string(),
                _ => self.show(v),
            })
        };
        let name = frame.map_or_else(|| change.function.clone(), |f| f.name.clone());
        (name, text(&change.old), text(&change.new))
    }

    /// The positions nearest the current one, before and after, where a breakpoint on
    /// `line` of `path` would stop (conditions aside): the targets of a DAP `goto`.
    pub fn line_visits(&mut self, path: &Path, line: u32) -> Result<Vec<(String, u64)>, String> {
        let file = self.map.file_for_path(path).ok_or_else(|| {
            format!("{} is not part of the program being debugged", path.display())
        })?;
        let at = self
            .map
            .code_line_from(file, line)
            .ok_or_else(|| format!("no code of the running program on line {line}"))?;
        let places: Vec<Breakpoint> = self
            .map
            .line_exprs(file, at)
            .iter()
            .map(|(def, expr)| Breakpoint::Expr { def: *def, expr: *expr })
            .collect();
        let t = &mut self.timelines[self.current];
        let err = |e: tel_vm::travel::TravelError| e.to_string();
        let mut ours = Vec::new();
        for p in places {
            ours.push(t.nav.add_breakpoint(p).map_err(err)?);
        }
        let here = t.nav.position();
        let mut only = |_: &View<'_>, id: BreakpointId| ours.contains(&id);
        let mut out = Vec::new();
        let back = t.nav.reverse_continue(Some(&mut only));
        if let Ok(s) = &back
            && matches!(s.reason, StopReason::Breakpoint(_))
        {
            out.push((format!("line {at}, the last time before"), s.position));
        }
        let forward = t.nav.goto(here).and_then(|_| t.nav.continue_forward(Some(&mut only)));
        if let Ok(s) = &forward
            && matches!(s.reason, StopReason::Breakpoint(_))
        {
            out.push((format!("line {at}, the next time"), s.position));
        }
        for id in ours {
            t.nav.remove_breakpoint(id);
        }
        let restored = t.nav.goto(here).map_err(err);
        back.map_err(err)?;
        forward.map_err(err)?;
        restored?;
        if out.is_empty() {
            return Err(format!("line {at} does not run before or after this position"));
        }
        Ok(out)
    }

    /// The host effect a fork at `position` changes: the first performed at or after it.
    pub fn fork_point(&self, position: u64) -> Option<&EffectEntry> {
        self.effects().iter().find(|e| e.applied && e.position >= position)
    }

    /// The position of the `occurrence`-th (from 1) performed `effect`.
    pub fn effect_position(&self, effect: HostEffect, occurrence: usize) -> Result<u64, String> {
        let matching: Vec<&EffectEntry> =
            self.effects().iter().filter(|e| e.applied && e.effect == effect).collect();
        occurrence.checked_sub(1).and_then(|i| matching.get(i)).map(|e| e.position).ok_or_else(
            || {
                format!(
                    "the run has no {} effect number {occurrence}: it performed {}",
                    effect.name(),
                    matching.len()
                )
            },
        )
    }

    /// Decodes an override from JSON: `{"result": V}`, `{"refuse": "message"}` or
    /// `{"args": [V, …]}`, values typed by the effect it applies to.
    pub fn decode_override(&self, effect: HostEffect, with: &Json) -> Result<Override, String> {
        let CoreDef::Effect { params, ret, .. } = effect.def() else {
            unreachable!("a host effect's definition is an effect")
        };
        let Json::Object(map) = with else {
            return Err(
                "override: expected {\"result\": …}, {\"refuse\": \"message\"} or {\"args\": […]}"
                    .into(),
            );
        };
        let keys: Vec<&String> = map.keys().collect();
        match keys.as_slice() {
            [k] if *k == "result" => tel_vm::json::decode(&self.code.defs, &ret, &map["result"])
                .map(Override::Answer)
                .map_err(|e| {
                    format!("override.result: {} answers {}: {e}", effect.name(), type_name(&ret))
                }),
            [k] if *k == "refuse" => match &map["refuse"] {
                Json::String(m) => Ok(Override::Refuse(m.clone())),
                _ => Err("override.refuse: expected the refusal's message (a string)".into()),
            },
            [k] if *k == "args" => {
                let text = map["args"].to_string();
                tel_vm::json::decode_args(&self.code.defs, &params, &text)
                    .map(Override::Args)
                    .map_err(|e| format!("override.args of {}: {e}", effect.name()))
            }
            _ => Err("override: expected exactly one of `result`, `refuse` or `args`".into()),
        }
    }

    /// A new timeline: this run up to the first host effect performed at or after
    /// `position`, which answers as `with` says, then live. The current timeline is left as
    /// it is; the new one becomes current, at the effect.
    pub fn fork(&mut self, position: u64, with: Override) -> Result<(usize, Stopped), String> {
        let Some(point) = self.fork_point(position).cloned() else {
            return Err(format!(
                "no host effect is performed at or after position {position}: there is nothing to fork on"
            ));
        };
        let nav = self.navigator().fork(position, with.clone()).map_err(|e| e.to_string())?;
        let what = match &with {
            Override::Answer(v) => format!("answers {}", self.show(v)),
            Override::Refuse(m) => format!("refused: {m}"),
            Override::Args(a) => format!(
                "performed with ({})",
                a.iter()
                    .map(|v| match v {
                        Value::String(s) => format!("{:?}", s.as_str()),
                        v => self.show(v),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        let occurrence = self.effects()[..=point.ordinal]
            .iter()
            .filter(|e| e.applied && e.effect == point.effect)
            .count();
        let label = format!(
            "fork {} of timeline {}: effect {occurrence} of {} {what}",
            self.timelines.len(),
            self.current,
            point.effect.name()
        );
        let parent_frontier = self.timeline().frontier;
        let i = self.add_timeline(nav, label.clone());
        self.timelines[i].frontier = parent_frontier.min(self.timelines[i].nav.position());
        self.current = i;
        let position = self.position();
        let s = self.stopped(position, Reason::Goto, Some(label), Vec::new(), Vec::new());
        Ok((i, s))
    }

    /// The timelines: (label, position, end, current).
    pub fn timelines(&self) -> Vec<(String, u64, u64, bool)> {
        self.timelines
            .iter()
            .enumerate()
            .map(|(i, t)| (t.label.clone(), t.nav.position(), t.nav.end(), i == self.current))
            .collect()
    }

    pub fn current_timeline(&self) -> usize {
        self.current
    }

    /// Makes timeline `i` current (at the position it was left at).
    pub fn switch(&mut self, i: usize) -> Result<Stopped, String> {
        if i >= self.timelines.len() {
            return Err(format!("no timeline {i} (there are {})", self.timelines.len()));
        }
        self.current = i;
        let position = self.position();
        let label = self.timeline().label.clone();
        Ok(self.stopped(
            position,
            Reason::Goto,
            Some(format!("timeline {i}: {label}")),
            Vec::new(),
            Vec::new(),
        ))
    }

    /// Keeps the current timeline in the codebase so that another process can resume it.
    /// Returns the session id.
    pub fn save(&self) -> Result<String, String> {
        let Some(path) = &self.codebase else {
            return Err(
                "no codebase to keep the session in: run inside a TEL project, or set TEL_CODEBASE"
                    .into(),
            );
        };
        let saved = self.navigator().save();
        let mut store = tel_store::Store::open(path).map_err(|e| e.to_string())?;
        let snapshots: Vec<tel_store::snapshots::SessionSnapshot> = saved
            .snapshots
            .iter()
            .map(|s| tel_store::snapshots::SessionSnapshot {
                position: s.position,
                base: s.base,
                bytes: s.bytes.to_vec(),
            })
            .collect();
        let entry_name = saved.entry_name.as_ref().map(|n| n.as_str());
        store
            .save_session(
                &tel_store::snapshots::NewSession {
                    id: &saved.id,
                    entry: saved.entry,
                    entry_name,
                    position: saved.position,
                    setup: &saved.setup,
                },
                &snapshots,
            )
            .map_err(|e| e.to_string())?;
        Ok(saved.id)
    }
}

fn type_name(t: &tel_hash::core::Type) -> &'static str {
    use tel_hash::core::Type;
    match t {
        Type::Int => "an Int",
        Type::String => "a String",
        Type::Unit => "()",
        Type::Duration => "a Duration",
        Type::Bool => "a Bool",
        _ => "a value",
    }
}

pub(crate) type StoredSession =
    (tel_store::snapshots::SessionInfo, Vec<u8>, Vec<tel_store::snapshots::SessionSnapshot>);

fn load_session(codebase: Option<&Path>, id: &str) -> Result<StoredSession, LaunchError> {
    let Some(path) = codebase.filter(|p| p.exists()) else {
        return Err(
            "no codebase to resume a session from: run inside a TEL project, or set TEL_CODEBASE"
                .to_string()
                .into(),
        );
    };
    let store = tel_store::Store::open_existing(path).map_err(|e| e.to_string())?;
    store.session(id).map_err(|e| LaunchError::from(e.to_string()))
}

/// The stored sessions of the codebase, newest first.
pub fn list_sessions(
    codebase: Option<&Path>,
    limit: usize,
) -> Result<Vec<tel_store::snapshots::SessionInfo>, String> {
    let Some(path) = codebase.filter(|p| p.exists()) else {
        return Ok(Vec::new());
    };
    let store = tel_store::Store::open_existing(path).map_err(|e| e.to_string())?;
    store.sessions(limit).map_err(|e| e.to_string())
}

type Filters = (Option<(String, Ast)>, Option<HitCondition>);

fn parse_filters(spec: &BreakpointSpec) -> Result<Filters, String> {
    let condition = match spec.condition.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => {
            Some((c.to_owned(), eval::parse(c).map_err(|e| format!("condition `{c}`: {e}"))?))
        }
        None => None,
    };
    let hit = match spec.hit_condition.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(h) => Some(HitCondition::parse(h)?),
        None => None,
    };
    Ok((condition, hit))
}

/// A path as `tel debug` shows it: relative to the working directory when under it.
pub fn shown_path(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let shown = cwd.as_deref().and_then(|cwd| path.strip_prefix(cwd).ok()).unwrap_or(path);
    shown.display().to_string()
}

/// Whether a breakpoint's condition holds where `view` is (a condition that cannot be
/// evaluated stops, with a note: a silent skip would hide the mistake).
fn condition_holds(
    b: &UserBreakpoint,
    program: &Program,
    map: &SourceMap,
    notes: &RefCell<Vec<String>>,
    view: &View<'_>,
) -> bool {
    let Some((text, ast)) = &b.condition else { return true };
    let state = view.state();
    let def = state.frames.first().and_then(|f| f.location.as_ref()).map(|l| l.def);
    let locals = state
        .frames
        .first()
        .map(|f| {
            f.locals
                .iter()
                .map(|l| LocalView {
                    name: l.name.clone().unwrap_or_else(|| SmolStr::new(l.binder.to_string())),
                    value: l.value.clone(),
                    moved: def.is_some_and(|d| map.moved(&d, &l.binder, &l.value)),
                })
                .collect()
        })
        .unwrap_or_default();
    let scope = FrameScope { locals, state: &state, end: u64::MAX };
    match eval::eval(ast, &scope, &|v| tel_vm::show::show(program, v)) {
        Ok(Value::Bool(b)) => b,
        Ok(v) => {
            notes.borrow_mut().push(format!(
                "breakpoint {}: condition `{text}` is {}, not a Bool; stopping",
                b.id,
                tel_vm::show::show(program, &v)
            ));
            true
        }
        Err(e) => {
            notes
                .borrow_mut()
                .push(format!("breakpoint {}: condition `{text}`: {e}; stopping", b.id));
            true
        }
    }
}

/// The filter of every motion: whether navigator breakpoint `id`, hit where `view` is,
/// stops the motion.
#[allow(clippy::too_many_arguments)]
fn accept(
    bps: &[UserBreakpoint],
    ids: &HashMap<BreakpointId, u32>,
    hits: &HashMap<u32, Vec<u64>>,
    program: &Program,
    map: &SourceMap,
    notes: &RefCell<Vec<String>>,
    view: &View<'_>,
    id: BreakpointId,
) -> bool {
    let Some(b) = ids.get(&id).and_then(|u| bps.iter().find(|b| b.id == *u)) else {
        return false;
    };
    if let Some(h) = b.hit {
        // The hit count at this position, from the positions counted once for the run.
        return match hits.get(&b.id).map(|p| p.binary_search(&view.position())) {
            Some(Ok(i)) => h.holds(i as u64 + 1),
            // Not a hit where the condition holds.
            Some(Err(_)) => false,
            None => condition_holds(b, program, map, notes, view),
        };
    }
    condition_holds(b, program, map, notes, view)
}

/// Names in an evaluated expression: the frame's locals (the innermost binding of a name
/// wins) and the `$` names.
struct FrameScope<'a> {
    locals: Vec<LocalView>,
    state: &'a State,
    end: u64,
}

impl FrameScope<'_> {
    fn local(&self, name: &str) -> Option<&LocalView> {
        self.locals.iter().rev().find(|l| l.name == name)
    }
}

impl Scope for FrameScope<'_> {
    fn lookup(&self, name: &str, dollar: bool) -> Option<Value> {
        if !dollar {
            return self.local(name).filter(|l| !l.moved).map(|l| l.value.clone());
        }
        let int = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
        match name {
            "position" => Some(int(self.state.position)),
            "end" if self.end != u64::MAX => Some(int(self.end)),
            "clock" => Some(Value::Int(self.state.clock)),
            "balances" => Some(Value::map(
                self.state
                    .balances
                    .iter()
                    .map(|(k, v)| (Value::String(k.as_str().into()), Value::Int(*v)))
                    .collect(),
            )),
            _ => None,
        }
    }

    fn names(&self) -> Vec<String> {
        self.locals.iter().map(|l| l.name.to_string()).collect()
    }

    fn moved(&self, name: &str) -> bool {
        self.local(name).is_some_and(|l| l.moved)
    }
}
