//! Time travel: a recorded run that a debugger can move through in both directions.
//!
//! A [`Navigator`] records a run once (the live host answers its effects, `trace::record`
//! keeps them), then re-executes it with the answers taken from that log
//! ([`ReplayHost`](crate::replay::ReplayHost)) and keeps [snapshots](SavedSnapshot) of the
//! machine on the way: at effect boundaries and every [`Config::every`] instructions, each
//! stored as the byte delta against its keyframe. A *position* is the global step index: the
//! number of VM instructions executed, so position `p` is the machine after `p` instructions
//! and every position from 0 to [`Navigator::end`] can be reached. Going to a position
//! restores the nearest earlier snapshot and replays forward; stepping backward is going to an
//! earlier position; searching backward (reverse-continue, stepping back over a call) scans
//! the snapshot intervals before the current position, latest first.
//!
//! Source-level stepping and breakpoints work on the places the bytecode knows (a definition
//! hash and an expression id, [`Location`]); mapping source lines to expression ids is the
//! front end's (tel-ide's span tables). docs/debugging.md describes the whole design and its
//! figures.

mod delta;
mod info;
mod snaps;

pub use info::{Binder, DebugInfo};
pub use snaps::SavedSnapshot;

use crate::host::{Host, HostError};
use crate::hostfile::StandardHost;
use crate::program::{HostEffect, Op, Program, StoredDef};
use crate::replay::{Divergence, ReplayHost};
use crate::sandbox::{Sandboxed, SecuritySandbox};
use crate::trace::{Event, RunMeta, Trace, TraceError};
use crate::value::Value;
use crate::vm::{FrameInfo, Location, MarkInfo, RuntimeError, Status, Usage, Vm};
use rustc_hash::FxHashMap;
use smol_str::SmolStr;
use snaps::Snapshots;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tel_hash::CodeHash;
use tel_hash::core::Builtin;

/// How densely a run is snapshotted. docs/debugging.md gives the measurements behind the
/// defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Config {
    /// At most this many instructions between two snapshots (more when
    /// [`Config::spacing`] asks for it): a backward step replays at most this far.
    pub every: u64,
    /// A snapshot is also taken at a host effect when at least this many instructions ran
    /// since the last one.
    pub effect_gap: u64,
    /// A snapshot of `n` stored bytes delays the next one by at least `n * spacing`
    /// instructions, so a machine whose state churns is not stored over and over: snapshot
    /// bytes stay below one per `spacing` instructions.
    pub spacing: u64,
}

impl Default for Config {
    fn default() -> Config {
        Config { every: 1 << 16, effect_gap: 1 << 14, spacing: 2 }
    }
}

/// What a fork changes: the answer to one host effect, or its arguments.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Override {
    /// The effect answers this value; the host does not perform it.
    Answer(Value),
    /// The host refuses the effect with this message (the run ends with that error).
    Refuse(String),
    /// The host performs the effect with these arguments instead of the program's.
    Args(Vec<Value>),
}

/// Why navigation failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TravelError {
    #[error("position {position} is past the end of the run ({end} instructions)")]
    PastEnd { position: u64, end: u64 },
    #[error(
        "a memoized run cannot be navigated: cached calls skip instructions, so positions would not be the program's"
    )]
    Memo,
    #[error("the program is #{found}, but the run was recorded for #{expected}")]
    WrongProgram { expected: String, found: String },
    #[error(
        "re-executing the run departed from its recording ({0}): the program is not deterministic"
    )]
    Diverged(String),
    #[error("the run has no {effect} effect number {occurrence}: it performed {count}")]
    NoSuchEffect { effect: &'static str, occurrence: usize, count: usize },
    #[error("no host effect is performed at or after position {0}: there is nothing to fork on")]
    NothingToFork(u64),
    #[error("definition #{def} has no expression {expr}")]
    NoSuchExpr { def: String, expr: u32 },
    #[error("no function #{0} in the program")]
    NoSuchFunction(String),
    #[error("the stored session is damaged: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Trace(#[from] TraceError),
}

impl From<Divergence> for TravelError {
    fn from(d: Divergence) -> TravelError {
        TravelError::Diverged(d.to_string())
    }
}

/// How far a step goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Granularity {
    /// One VM instruction.
    Instruction,
    /// To where another expression's code starts.
    Expression,
    /// To where a statement's code starts: a statement of a block (`e;`, `let x = e;`, the
    /// block's value) or a body (of a function, lambda, arm, clause, `if` branch, `handle`,
    /// `within`, `after`).
    Statement,
}

/// A step: into calls, over them, or out of the running frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StepKind {
    In,
    Over,
    Out,
}

/// A place to stop at.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Breakpoint {
    /// Where the code of expression `expr` of definition `def` is entered (a source line maps
    /// to the expressions starting on it).
    Expr { def: CodeHash, expr: u32 },
    /// The entry of a top-level function (a tail call enters it too).
    Function { def: CodeHash },
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct BreakpointId(pub u32);

/// Why a motion stopped where it did.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StopReason {
    /// A step or a jump arrived.
    Step,
    /// These breakpoints hit (their filter accepted them).
    Breakpoint(Vec<BreakpointId>),
    /// `jump_to_effect` arrived before the effect (`description` is the event's, e.g.
    /// "effect 3 of Deposit: Deposit(\"alice\", 5) at 0ms -> ()").
    Effect { ordinal: usize, description: String },
    /// Forward motion reached the end of the run.
    End,
    /// Backward motion reached position 0.
    Start,
    /// [`Navigator::interrupt_handle`] was set while the motion ran.
    Interrupted,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stop {
    pub position: u64,
    pub reason: StopReason,
}

/// The kind of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum FrameKind {
    Function,
    Lambda,
    /// A handler clause.
    Handler,
    /// `map`, `filter` or `fold` between calls of its function: `next` of `len` elements
    /// handed out.
    Loop {
        builtin: Builtin,
        next: usize,
        len: usize,
    },
}

/// A local of a frame.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Local {
    pub binder: Binder,
    /// From the front end's namer ([`Navigator::set_namer`]), when it knows the name.
    pub name: Option<SmolStr>,
    /// The slot in the frame.
    pub slot: u32,
    /// A value the code moved out on its last use reads `()`.
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FrameState {
    pub kind: FrameKind,
    /// Where the frame is: the next op of the innermost frame, the call of the others.
    /// `None` for a loop frame.
    pub location: Option<Location>,
    /// The frame's code unit and the start of its slots on the value stack: together they
    /// tell one activation from another at one moment (a debugger's frame id).
    pub code: Option<u32>,
    pub base: Option<u32>,
    /// The binders in scope whose slot is known, outermost first.
    pub locals: Vec<Local>,
}

/// An installed handler or deadline.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum HandlerState {
    /// A `handle` (at `location`) with clauses for these effects, installed by frame `frame`
    /// (counted from the innermost, like [`State::frames`]).
    Handle { location: Location, effects: Vec<SmolStr>, frame: usize },
    /// A `within` whose deadline is `deadline` (virtual ms).
    Within { deadline: i64, frame: usize },
}

/// The machine at a position, as a debugger shows it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct State {
    pub position: u64,
    /// Innermost first.
    pub frames: Vec<FrameState>,
    /// Visible to the running code, innermost first.
    pub handlers: Vec<HandlerState>,
    /// The virtual clock (ms).
    pub clock: i64,
    /// Resources used so far (wall time left out: it is not part of a position).
    pub usage: Usage,
    /// Ledger balances after the host effects before this position.
    pub balances: BTreeMap<String, i64>,
    /// How the run ended, at its end.
    pub outcome: Option<Result<Value, RuntimeError>>,
}

impl State {
    /// Where the run is: the innermost code frame's place.
    pub fn location(&self) -> Option<&Location> {
        self.frames.iter().find_map(|f| f.location.as_ref())
    }
}

/// A local that differs between two positions. `None` when the binder is not in scope.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LocalChange {
    /// The frame, counted from the innermost at the later position.
    pub frame: usize,
    pub function: String,
    pub binder: Binder,
    pub name: Option<SmolStr>,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BalanceChange {
    pub account: String,
    pub old: i64,
    pub new: i64,
}

/// What changed between two positions ([`Navigator::compare`]).
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Comparison {
    pub from: u64,
    pub to: u64,
    /// Frames of the earlier position gone at the later one, innermost first.
    pub frames_left: Vec<String>,
    /// Frames of the later position not there at the earlier one, innermost first.
    pub frames_entered: Vec<String>,
    /// Locals of the frames both positions share (same activation), old → new.
    pub locals: Vec<LocalChange>,
    pub balances: Vec<BalanceChange>,
    pub clock: Option<(i64, i64)>,
}

/// A host effect of the run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EffectEntry {
    /// Its rank among the run's host effects (0-based).
    pub ordinal: usize,
    /// The position before the instruction that asked the host.
    pub position: u64,
    pub effect: HostEffect,
    /// Performed or refused (an `EffectApplied`); `false` for a `Now` or an effect a
    /// deadline abandoned.
    pub applied: bool,
    pub description: String,
}

/// An entry of [`Navigator::timeline`]. `position` is where the entry's state first holds.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum TimelineEntry {
    /// A frame was pushed: its first op is next (`tail`: it replaced its caller's frame).
    Call {
        position: u64,
        depth: usize,
        kind: FrameKind,
        location: Option<Location>,
        tail: bool,
    },
    /// `frames` frames were popped (more than one: `abort` or a timeout unwound them).
    Return {
        position: u64,
        depth: usize,
        frames: usize,
    },
    Effect(EffectEntry),
}

/// A session as it is stored: a row of tel-store's `sessions` table and its snapshots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedSession {
    /// The content address of `setup` (52 base32hex characters).
    pub id: String,
    pub entry: CodeHash,
    pub entry_name: Option<SmolStr>,
    pub position: u64,
    /// tel-vm's encoding of the run: its trace (program entry, arguments, host, limits and
    /// every host answer), the positions of its effects, the snapshot configuration.
    pub setup: Vec<u8>,
    pub snapshots: Vec<SavedSnapshot>,
}

/// Names locals for display: given the definition and the binder, the source's name.
pub type Namer = dyn Fn(&CodeHash, &Binder) -> Option<SmolStr> + Send + Sync;

/// Decides whether a breakpoint that hit counts (a condition, a hit count): called with the
/// machine where it hit, as a [`View`].
pub type Filter<'f> = dyn FnMut(&View<'_>, BreakpointId) -> bool + 'f;

/// The machine at a position where a breakpoint hit, for a [`Filter`].
pub struct View<'a> {
    nav: &'a Navigator,
    vm: &'a Vm,
}

impl View<'_> {
    pub fn position(&self) -> u64 {
        self.vm.usage.fuel
    }

    pub fn state(&self) -> State {
        self.nav.state_of(self.vm)
    }

    pub fn vm(&self) -> &Vm {
        self.vm
    }
}

/// The recorded run: its trace and where its host effects happened.
struct Run {
    trace: Trace,
    /// For each host effect (the `k`-th is event `k + 1` of the trace), the position before
    /// the instruction that asked the host.
    effects: Vec<u64>,
    end: u64,
    /// The forks this run descends from: (effect ordinal, override), in order.
    overrides: Vec<(usize, Override)>,
}

const SETUP_VERSION: u16 = 1;

#[derive(serde::Serialize, serde::Deserialize)]
struct Setup {
    version: u16,
    config: Config,
    trace: Vec<u8>,
    /// Differences between consecutive effect positions (small numbers, short varints).
    effect_gaps: Vec<u64>,
    end: u64,
    overrides: Vec<(usize, Override)>,
}

/// The first window a backward search watches, in instructions, and how much each next one
/// grows: a step back mostly stops within a few hundred instructions, and watching costs
/// several times what replaying does.
const FIRST_WINDOW: u64 = 1024;
const WINDOW_GROWTH: u64 = 16;

/// Bit of [`Navigator`]'s probe table: a breakpoint is entered at this op.
const BREAK: u8 = 4;

/// A recorded run and a position in it. See the module documentation.
pub struct Navigator {
    program: Arc<Program>,
    info: Arc<DebugInfo>,
    run: Arc<Run>,
    config: Config,
    snaps: Snapshots,
    pos: u64,
    /// The machine at `pos`.
    vm: Vm,
    /// The last keyframe decompressed.
    key_cache: Option<(u64, Arc<Vec<u8>>)>,
    breakpoints: Vec<(BreakpointId, Breakpoint)>,
    next_id: u32,
    /// Per code unit and op: the stop bits of `info` and [`BREAK`].
    probe: Vec<Box<[u8]>>,
    hits: FxHashMap<(u32, u32), Vec<BreakpointId>>,
    interrupt: Arc<AtomicBool>,
    namer: Option<Arc<Namer>>,
}

const _: () = {
    const fn send<T: Send>() {}
    send::<Navigator>();
};

/// The host a run talks to live: its host file's [`StandardHost`] (the default host when it
/// has none) behind the sandbox of its allowed effects.
fn live_host(meta: &RunMeta) -> Sandboxed<StandardHost> {
    SecuritySandbox::allowing(meta.allowed.iter().copied())
        .wrap(meta.host.clone().unwrap_or_default().host())
}

/// The live host of a fork: answers as `inner` except for the overridden effects, counted
/// as the recorder counts events (a cost question and the perform that follows it are one).
struct ForkHost<H> {
    inner: H,
    overrides: Vec<(usize, Override)>,
    asked: usize,
    pending: Option<HostEffect>,
}

impl<H: Host> Host for ForkHost<H> {
    fn cost(&mut self, effect: HostEffect, args: &[Value]) -> Result<i64, HostError> {
        self.asked += 1;
        self.pending = Some(effect);
        self.inner.cost(effect, args)
    }

    fn perform(
        &mut self,
        effect: HostEffect,
        args: &[Value],
        now: i64,
    ) -> Result<Value, HostError> {
        if self.pending.take() != Some(effect) {
            self.asked += 1;
        }
        let ordinal = self.asked - 1;
        match self.overrides.iter().find(|(k, _)| *k == ordinal) {
            Some((_, Override::Answer(v))) => Ok(v.clone()),
            Some((_, Override::Refuse(m))) => Err(HostError(m.clone())),
            Some((_, Override::Args(a))) => self.inner.perform(effect, a, now),
            None => self.inner.perform(effect, args, now),
        }
    }
}

impl Navigator {
    /// Runs `program` as `meta` describes (its host file's host answers the effects live) and
    /// prepares to navigate the run: records it, then re-executes it from the recording to
    /// take the snapshots. `defs` are the definitions the program was loaded from (for
    /// statements and locals). A wall-clock limit would make the run irreproducible, so it
    /// is lifted; a memoized run is refused.
    pub fn record(
        program: Arc<Program>,
        defs: &HashMap<CodeHash, StoredDef>,
        meta: RunMeta,
        config: Config,
    ) -> Result<Navigator, TravelError> {
        let info = Arc::new(DebugInfo::new(&program, defs));
        let meta = Self::prepare(&program, meta)?;
        let mut host = live_host(&meta);
        let trace = crate::trace::record(&program, meta, &mut host).trace;
        let run = Run { trace, effects: Vec::new(), end: 0, overrides: Vec::new() };
        Self::build(program, info, config, run, Snapshots::default())
    }

    fn prepare(program: &Program, mut meta: RunMeta) -> Result<RunMeta, TravelError> {
        if meta.memo {
            return Err(TravelError::Memo);
        }
        if meta.entry != program.entry {
            return Err(TravelError::WrongProgram {
                expected: meta.entry.short(),
                found: program.entry.short(),
            });
        }
        meta.limits.wall_ms = u64::MAX;
        // The trace is the log of answers; the navigator keeps snapshots of its own.
        meta.snapshot_every = u64::MAX;
        Ok(meta)
    }

    /// Takes the snapshots of `run` after those already in `snaps` (all of them when it is
    /// empty), finding where its effects happen on the way.
    fn build(
        program: Arc<Program>,
        info: Arc<DebugInfo>,
        config: Config,
        mut run: Run,
        mut snaps: Snapshots,
    ) -> Result<Navigator, TravelError> {
        let mut vm = match snaps.list.len() {
            // A saved session's arguments come from the store: ones that do not fit its entry
            // are a damaged session, not a machine reading a missing parameter.
            0 => run
                .trace
                .meta()
                .try_start(&program)
                .map_err(|e| TravelError::Corrupt(e.to_string()))?,
            n => snaps.restore(n - 1, &mut None).map_err(TravelError::Corrupt)?,
        };
        let start = vm.usage.fuel;
        run.effects.retain(|q| *q < start);
        let events = run.trace.events();
        let mut host =
            ReplayHost::new(&run.trace, &program, 1 + run.effects.len()).past_snapshots();
        vm.pause_on_host_effects(true);
        if snaps.list.is_empty() {
            snaps.push(&mut vm).map_err(TravelError::Corrupt)?;
        }
        let (mut last, mut gap, mut effect_gap) = (start, config.every.max(1), config.effect_gap);
        let outcome = loop {
            let asked = host.position();
            let r = vm.run(&program, &mut host, last + gap - vm.usage.fuel);
            if let Some(d) = host.divergence() {
                return Err(d.clone().into());
            }
            let now = vm.usage.fuel;
            for _ in asked..host.position() {
                run.effects.push(now - 1);
            }
            match r {
                Ok(Status::Running) => {
                    let effect = host.position() != asked;
                    if now == last + gap || (effect && now - last >= effect_gap) {
                        let n = snaps.push(&mut vm).map_err(TravelError::Corrupt)? as u64;
                        let spaced = n.saturating_mul(config.spacing);
                        (last, gap, effect_gap) =
                            (now, config.every.max(spaced).max(1), config.effect_gap.max(spaced));
                    }
                }
                Ok(Status::Done(v)) => break Ok(v),
                Err(e) => break Err(e),
            }
        };
        let recorded = run.trace.outcome();
        let same = match (&outcome, &recorded) {
            (Ok(v), Some(Ok(r))) => v == *r,
            (Err(e), Some(Err(r))) => e == *r,
            _ => false,
        };
        if !same || host.position() + 1 != events.len() {
            return Err(TravelError::Diverged(format!(
                "the re-execution ended with {outcome:?} after {} events, the recording with {recorded:?} after {}",
                host.position(),
                events.len() - 1
            )));
        }
        run.end = vm.usage.fuel;
        drop(host);
        Navigator::assemble(program, info, Arc::new(run), config, snaps)
    }

    fn assemble(
        program: Arc<Program>,
        info: Arc<DebugInfo>,
        run: Arc<Run>,
        config: Config,
        snaps: Snapshots,
    ) -> Result<Navigator, TravelError> {
        if snaps.list.first().is_none_or(|s| s.position != 0) {
            return Err(TravelError::Corrupt("no snapshot at position 0".into()));
        }
        let vm = snaps.restore(0, &mut None).map_err(TravelError::Corrupt)?;
        let probe = info.units.iter().map(|u| u.stops.clone()).collect();
        Ok(Navigator {
            program,
            info,
            run,
            config,
            snaps,
            pos: 0,
            vm,
            key_cache: None,
            breakpoints: Vec::new(),
            next_id: 1,
            probe,
            hits: FxHashMap::default(),
            interrupt: Arc::new(AtomicBool::new(false)),
            namer: None,
        })
    }

    // ---- what the run is ----

    pub fn program(&self) -> &Arc<Program> {
        &self.program
    }

    pub fn trace(&self) -> &Trace {
        &self.run.trace
    }

    pub fn meta(&self) -> &RunMeta {
        self.run.trace.meta()
    }

    pub fn config(&self) -> Config {
        self.config
    }

    /// The current position.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The last position: the number of instructions the run executed.
    pub fn end(&self) -> u64 {
        self.run.end
    }

    /// How the run ended.
    pub fn outcome(&self) -> Result<&Value, &RuntimeError> {
        self.run.trace.outcome().expect("a recorded run has an end")
    }

    /// The machine at the current position.
    pub fn vm(&self) -> &Vm {
        &self.vm
    }

    /// Where the run is: the innermost code frame's next op.
    pub fn location(&self) -> Option<Location> {
        self.location_of(&self.vm)
    }

    /// The overrides of the forks this run descends from: (effect ordinal, override).
    pub fn overrides(&self) -> &[(usize, Override)] {
        &self.run.overrides
    }

    /// Sets the function that names locals (the front end knows the source).
    pub fn set_namer(&mut self, namer: Arc<Namer>) {
        self.namer = Some(namer);
    }

    /// A flag that stops a running motion (continue, a step, a timeline) at the position it
    /// has reached, with [`StopReason::Interrupted`]: a debugger's "pause". Cleared when a
    /// motion starts.
    pub fn interrupt_handle(&self) -> Arc<AtomicBool> {
        self.interrupt.clone()
    }

    /// The snapshots kept: (position, keyframe position for a delta, stored bytes).
    pub fn snapshots(&self) -> Vec<(u64, Option<u64>, usize)> {
        self.snaps.list.iter().map(|s| (s.position, s.base, s.bytes.len())).collect()
    }

    /// Bytes of snapshots kept.
    pub fn snapshot_bytes(&self) -> usize {
        self.snaps.stored_bytes()
    }

    /// Every host effect of the run, in order.
    pub fn effects(&self) -> Vec<EffectEntry> {
        (0..self.run.effects.len()).map(|k| self.effect(k)).collect()
    }

    fn effect(&self, k: usize) -> EffectEntry {
        let event = &self.run.trace.events()[k + 1];
        let (effect, applied) = match event {
            Event::EffectApplied { effect, .. } => (*effect, true),
            Event::EffectNotPerformed { effect, .. } => (*effect, false),
            e => unreachable!("event {} of a navigated run is {e:?}", k + 1),
        };
        EffectEntry {
            ordinal: k,
            position: self.run.effects[k],
            effect,
            applied,
            description: event.describe(&self.program),
        }
    }

    // ---- moving ----

    /// The number of host effects asked before `position`: the trace event to answer next
    /// is the one after them.
    fn asked_before(&self, position: u64) -> usize {
        self.run.effects.partition_point(|q| *q < position)
    }

    fn replay_host(&self, position: u64) -> ReplayHost<'_> {
        ReplayHost::new(&self.run.trace, &self.program, 1 + self.asked_before(position))
            .past_snapshots()
    }

    /// Runs `vm` forward to position `to` (at most the end), answering from the recording;
    /// with `watch`, one instruction at a time, stopping at the first position after the
    /// first where it answers true. Returns whether `watch` stopped it.
    fn replay(
        &self,
        vm: &mut Vm,
        to: u64,
        watch: Option<&mut dyn FnMut(&Vm) -> bool>,
    ) -> Result<bool, TravelError> {
        let from = vm.usage.fuel;
        let to = to.min(self.run.end);
        if to <= from {
            return Ok(false);
        }
        let mut host = self.replay_host(from);
        let mut hit = false;
        let r = match watch {
            None => vm.run(&self.program, &mut host, to - from),
            Some(w) => vm.run_watched(&self.program, &mut host, to - from, &mut |vm| {
                hit = w(vm);
                hit
            }),
        };
        if let Some(d) = host.divergence() {
            return Err(d.clone().into());
        }
        let at = vm.usage.fuel;
        match r {
            Ok(Status::Running) if at == to || hit => Ok(hit),
            Ok(Status::Done(_)) | Err(_) if at == self.run.end => Ok(hit),
            r => Err(TravelError::Diverged(format!(
                "the re-execution stopped at {at} ({r:?}) on its way to {to}"
            ))),
        }
    }

    /// The machine at `position`, restored from the nearest snapshot at or before it and
    /// replayed forward. Never continued from a machine kept elsewhere: the VM's heap estimate
    /// counts a copy when an update finds a list or map shared, so a machine whose values
    /// someone else holds (a [`State`] a front end kept, another machine) would count
    /// differently. With every position computed from its nearest snapshot, a position
    /// always gives the same machine (see [`Navigator::canonical`]).
    fn machine_at(&mut self, position: u64) -> Result<Vm, TravelError> {
        if position > self.run.end {
            return Err(TravelError::PastEnd { position, end: self.run.end });
        }
        let mut vm = self.restore(self.interval(position))?;
        self.replay(&mut vm, position, None)?;
        Ok(vm)
    }

    /// The index of the snapshot interval holding `position`.
    fn interval(&self, position: u64) -> usize {
        self.snaps.at_or_before(position).expect("a snapshot at position 0")
    }

    /// Makes `vm`, which reached a snapshot's position by replaying, the snapshot's own
    /// machine. A restored machine does not know which values the original shared (the
    /// serialization copies them apart), so a later copy-on-write can be counted in
    /// `usage.heap_bytes` on one path and not on the other; taking every position from its
    /// nearest snapshot keeps each position's state one and the same.
    fn canonical(&mut self, vm: Vm) -> Result<Vm, TravelError> {
        let i = self.interval(vm.usage.fuel);
        if self.snaps.list[i].position == vm.usage.fuel {
            return self.restore(i);
        }
        Ok(vm)
    }

    fn restore(&mut self, i: usize) -> Result<Vm, TravelError> {
        self.snaps.restore(i, &mut self.key_cache).map_err(TravelError::Corrupt)
    }

    /// Goes to `position` (0 to [`Navigator::end`]).
    pub fn goto(&mut self, position: u64) -> Result<Stop, TravelError> {
        self.vm = self.machine_at(position)?;
        self.pos = position;
        Ok(Stop { position, reason: StopReason::Step })
    }

    /// One instruction forward (at the end: stays, [`StopReason::End`]).
    pub fn step_forward(&mut self) -> Result<Stop, TravelError> {
        if self.pos == self.run.end {
            return Ok(Stop { position: self.pos, reason: StopReason::End });
        }
        self.goto(self.pos + 1)
    }

    /// One instruction back (at 0: stays, [`StopReason::Start`]).
    pub fn step_back(&mut self) -> Result<Stop, TravelError> {
        if self.pos == 0 {
            return Ok(Stop { position: 0, reason: StopReason::Start });
        }
        self.goto(self.pos - 1)
    }

    /// Goes to the `occurrence`-th (from 1) performed (or refused) `effect` of the run,
    /// stopping before the instruction that asks the host: the arguments are on the stack
    /// and one step over shows the answer.
    pub fn jump_to_effect(
        &mut self,
        effect: HostEffect,
        occurrence: usize,
    ) -> Result<Stop, TravelError> {
        let events = self.run.trace.events();
        let matching: Vec<usize> = (0..self.run.effects.len())
            .filter(|k| matches!(&events[k + 1], Event::EffectApplied { effect: e, .. } if *e == effect))
            .collect();
        let Some(&k) = occurrence.checked_sub(1).and_then(|i| matching.get(i)) else {
            return Err(TravelError::NoSuchEffect {
                effect: effect.name(),
                occurrence,
                count: matching.len(),
            });
        };
        let position = self.run.effects[k];
        self.goto(position)?;
        let description =
            format!("effect {occurrence} of {}: {}", effect.name(), self.effect(k).description);
        Ok(Stop { position, reason: StopReason::Effect { ordinal: k, description } })
    }

    // ---- breakpoints and searches ----

    /// Adds a breakpoint. An expression the definition does not have, or a function the
    /// program does not load, is refused.
    pub fn add_breakpoint(&mut self, bp: Breakpoint) -> Result<BreakpointId, TravelError> {
        match &bp {
            Breakpoint::Expr { def, expr } if !self.info.has_expr(def, *expr) => {
                return Err(TravelError::NoSuchExpr { def: def.short(), expr: *expr });
            }
            Breakpoint::Function { def }
                if !self.program.codes.iter().any(|c| c.def == *def && !c.lambda) =>
            {
                return Err(TravelError::NoSuchFunction(def.short()));
            }
            _ => {}
        }
        let id = BreakpointId(self.next_id);
        self.next_id += 1;
        self.breakpoints.push((id, bp));
        self.reprobe();
        Ok(id)
    }

    /// Removes a breakpoint; `false` when there was none with this id.
    pub fn remove_breakpoint(&mut self, id: BreakpointId) -> bool {
        let before = self.breakpoints.len();
        self.breakpoints.retain(|(b, _)| *b != id);
        self.reprobe();
        before != self.breakpoints.len()
    }

    pub fn clear_breakpoints(&mut self) {
        self.breakpoints.clear();
        self.reprobe();
    }

    pub fn breakpoints(&self) -> &[(BreakpointId, Breakpoint)] {
        &self.breakpoints
    }

    /// The top-level functions of the program called `name`.
    pub fn functions_named(&self, name: &str) -> Vec<CodeHash> {
        let mut out: Vec<CodeHash> = self
            .program
            .codes
            .iter()
            .filter(|c| !c.lambda && c.def_name.as_deref() == Some(name))
            .map(|c| c.def)
            .collect();
        out.dedup();
        out
    }

    fn reprobe(&mut self) {
        self.hits.clear();
        for (id, bp) in &self.breakpoints {
            let places = match bp {
                Breakpoint::Expr { def, expr } => self.info.entries(&self.program, def, *expr),
                Breakpoint::Function { def } => (0..self.program.codes.len() as u32)
                    .filter(|c| {
                        let c = &self.program.codes[*c as usize];
                        c.def == *def && !c.lambda
                    })
                    .map(|c| (c, 0))
                    .collect(),
            };
            for p in places {
                self.hits.entry(p).or_default().push(*id);
            }
        }
        for (c, unit) in self.info.units.iter().enumerate() {
            let mut flags = unit.stops.clone();
            for (pc, f) in flags.iter_mut().enumerate() {
                if self.hits.contains_key(&(c as u32, pc as u32)) {
                    *f |= BREAK;
                }
            }
            self.probe[c] = flags;
        }
    }

    #[inline]
    fn flags(&self, vm: &Vm) -> u8 {
        match vm.top() {
            Some((c, pc)) => self.probe[c as usize].get(pc as usize).copied().unwrap_or(0),
            None => 0,
        }
    }

    /// The breakpoints that hit at `vm`'s position and that `filter` accepts.
    fn hit(&self, vm: &Vm, filter: &mut Option<&mut Filter<'_>>) -> Option<Vec<BreakpointId>> {
        if self.flags(vm) & BREAK == 0 {
            return None;
        }
        let ids = self.hits.get(&vm.top()?)?;
        let view = View { nav: self, vm };
        let accepted: Vec<BreakpointId> = match filter {
            Some(f) => ids.iter().copied().filter(|id| f(&view, *id)).collect(),
            None => ids.clone(),
        };
        (!accepted.is_empty()).then_some(accepted)
    }

    /// Whether `vm` is at a place a step of granularity `g` stops at.
    fn at_stop(&self, vm: &Vm, g: Granularity) -> bool {
        match g {
            Granularity::Instruction => true,
            Granularity::Expression => self.flags(vm) & info::EXPRESSION != 0,
            Granularity::Statement => self.flags(vm) & info::STATEMENT != 0,
        }
    }

    /// Moves forward to the first position after the current one where `stop` gives a reason,
    /// or to the end. The run goes interval by interval, each from its snapshot (see
    /// [`Navigator::canonical`]).
    fn forward(
        &mut self,
        stop: &mut dyn FnMut(&Navigator, &Vm) -> Option<StopReason>,
    ) -> Result<Stop, TravelError> {
        self.interrupt.store(false, Ordering::Relaxed);
        let mut vm = self.machine_at(self.pos)?;
        let mut reason = None;
        let result = loop {
            let at = vm.usage.fuel;
            let to = match self.snaps.list.get(self.interval(at) + 1) {
                Some(s) => s.position.min(self.run.end),
                None => self.run.end,
            };
            let this = &*self;
            let r = this.replay(
                &mut vm,
                to,
                Some(&mut |vm: &Vm| {
                    reason = if this.interrupt.load(Ordering::Relaxed) {
                        Some(StopReason::Interrupted)
                    } else {
                        stop(this, vm)
                    };
                    reason.is_some()
                }),
            );
            match r {
                Ok(false) if vm.usage.fuel < self.run.end => match self.canonical(vm) {
                    Ok(next) => vm = next,
                    Err(e) => break Err(e),
                },
                Ok(_) => break self.canonical(vm),
                Err(e) => break Err(e),
            }
        };
        let vm = result?;
        self.pos = vm.usage.fuel;
        self.vm = vm;
        Ok(Stop { position: self.pos, reason: reason.unwrap_or(StopReason::End) })
    }

    /// Moves backward to the last position before the current one where `stop` gives a
    /// reason, or to 0. The run before the current position is searched in windows, latest
    /// first: each window's machine is restored from its snapshot, replayed at full speed to
    /// the window's start, then watched one instruction at a time to its end. Windows start
    /// small and grow (most backward steps stop a few instructions back) up to whole
    /// snapshot intervals.
    fn backward(
        &mut self,
        stop: &mut dyn FnMut(&Navigator, &Vm) -> Option<StopReason>,
    ) -> Result<Stop, TravelError> {
        self.interrupt.store(false, Ordering::Relaxed);
        let mut hi = self.pos;
        let mut window = FIRST_WINDOW;
        while hi > 0 {
            if self.interrupt.load(Ordering::Relaxed) {
                self.goto(hi)?;
                return Ok(Stop { position: hi, reason: StopReason::Interrupted });
            }
            let i = self.interval(hi - 1);
            let lo = self.snaps.list[i].position.max(hi.saturating_sub(window));
            let mut vm = self.restore(i)?;
            self.replay(&mut vm, lo, None)?;
            // The window's start, kept to replay to the position found. Once the watched
            // machine is dropped it holds its values alone again, as a restored one would.
            let start = vm.clone();
            let mut best = stop(self, &vm).map(|r| (lo, r));
            let this = &*self;
            this.replay(
                &mut vm,
                hi - 1,
                Some(&mut |vm: &Vm| {
                    if let Some(r) = stop(this, vm) {
                        best = Some((vm.usage.fuel, r));
                    }
                    false
                }),
            )?;
            drop(vm);
            if let Some((position, reason)) = best {
                let mut vm = start;
                self.replay(&mut vm, position, None)?;
                (self.vm, self.pos) = (vm, position);
                return Ok(Stop { position, reason });
            }
            window = window.saturating_mul(WINDOW_GROWTH);
            hi = lo;
        }
        self.goto(0)?;
        Ok(Stop { position: 0, reason: StopReason::Start })
    }

    /// Continues forward to the next breakpoint `filter` accepts (all of them without a
    /// filter), or to the end.
    pub fn continue_forward(
        &mut self,
        mut filter: Option<&mut Filter<'_>>,
    ) -> Result<Stop, TravelError> {
        self.forward(&mut |nav, vm| nav.hit(vm, &mut filter).map(StopReason::Breakpoint))
    }

    /// Continues backward to the previous breakpoint `filter` accepts, or to position 0.
    pub fn reverse_continue(
        &mut self,
        mut filter: Option<&mut Filter<'_>>,
    ) -> Result<Stop, TravelError> {
        self.backward(&mut |nav, vm| nav.hit(vm, &mut filter).map(StopReason::Breakpoint))
    }

    /// A source-level step forward (`back`: backward). In: to the next stop point of the
    /// granularity, into calls. Over: the same without stopping deeper than the current
    /// frame, and stopping in the caller when the frame returns. Out: to the caller after the
    /// frame returns. Backward, each goes to the last such position before the current one
    /// (back over: the previous statement of this frame or its callers; back out: the call
    /// of this frame). Breakpoints that hit on the way stop the step.
    pub fn step(
        &mut self,
        kind: StepKind,
        g: Granularity,
        back: bool,
        mut filter: Option<&mut Filter<'_>>,
    ) -> Result<Stop, TravelError> {
        // At the end the entry frame is gone; a step back from there is one in main.
        let d = self.vm.depth().max(1);
        let mut stop = |nav: &Navigator, vm: &Vm| {
            if let Some(ids) = nav.hit(vm, &mut filter) {
                return Some(StopReason::Breakpoint(ids));
            }
            let returned = vm.depth() < d && vm.top().is_some();
            let arrived = match kind {
                StepKind::In => nav.at_stop(vm, g),
                StepKind::Over if back => vm.depth() <= d && nav.at_stop(vm, g),
                StepKind::Over => returned || (vm.depth() <= d && nav.at_stop(vm, g)),
                StepKind::Out => returned,
            };
            arrived.then_some(StopReason::Step)
        };
        if back { self.backward(&mut stop) } else { self.forward(&mut stop) }
    }

    /// Goes back to where frame `frame` (counted from the innermost, as in
    /// [`State::frames`]) was entered: a debugger's "restart frame" (the run's later
    /// positions stay as they are).
    pub fn restart_frame(&mut self, frame: usize) -> Result<Stop, TravelError> {
        let depth = self.vm.depth();
        let level = depth.saturating_sub(frame);
        if frame >= depth {
            return Ok(Stop { position: self.pos, reason: StopReason::Step });
        }
        // The last position before this one where the frame did not exist; it was pushed by
        // the next instruction.
        let stop = self.backward(&mut |_, vm| (vm.depth() < level).then_some(StopReason::Step))?;
        let entered = match stop.reason {
            StopReason::Step => stop.position + 1,
            StopReason::Interrupted => return Ok(stop),
            _ => 0,
        };
        self.goto(entered)
    }

    // ---- looking ----

    fn location_of(&self, vm: &Vm) -> Option<Location> {
        let frames: Vec<FrameInfo> = vm.frame_info().collect();
        let n = frames.len();
        frames.iter().enumerate().rev().find_map(|(i, f)| match f {
            FrameInfo::Code { code, pc, .. } => Some(self.place(*code, *pc, i + 1 == n)),
            FrameInfo::Loop { .. } => None,
        })
    }

    /// The location of unit `code` at `pc`: the op there when the frame runs, the call
    /// before it when the frame waits for a callee.
    fn place(&self, code: u32, pc: u32, running: bool) -> Location {
        let c = &self.program.codes[code as usize];
        let at = if running { pc } else { pc.saturating_sub(1) };
        Location {
            def: c.def,
            name: c.def_name.clone(),
            lambda: c.lambda,
            expr: c.exprs.get(at as usize).copied().unwrap_or(0),
        }
    }

    /// The machine at the current position, as a debugger shows it.
    pub fn inspect(&self) -> State {
        self.state_of(&self.vm)
    }

    /// The machine at `position` (the current position does not change).
    pub fn inspect_at(&mut self, position: u64) -> Result<State, TravelError> {
        if position == self.pos {
            return Ok(self.inspect());
        }
        let vm = self.machine_at(position)?;
        Ok(self.state_of(&vm))
    }

    fn state_of(&self, vm: &Vm) -> State {
        let frames: Vec<FrameInfo> = vm.frame_info().collect();
        let n = frames.len();
        let stack = vm.stack();
        let mut out = Vec::with_capacity(n);
        for (i, f) in frames.iter().enumerate().rev() {
            out.push(match *f {
                FrameInfo::Code { code, pc, base, clause } => {
                    let location = self.place(code, pc, i + 1 == n);
                    let end = frames[i + 1..]
                        .iter()
                        .find_map(|f| match f {
                            FrameInfo::Code { base, .. } => Some(*base as usize),
                            FrameInfo::Loop { .. } => None,
                        })
                        .unwrap_or(stack.len());
                    let locals = self
                        .info
                        .locals(&self.program, code, location.expr)
                        .into_iter()
                        .filter_map(|(binder, slot)| {
                            let at = base as usize + slot as usize;
                            (at < end).then(|| Local {
                                binder,
                                name: self.namer.as_ref().and_then(|f| f(&location.def, &binder)),
                                slot,
                                value: stack[at].clone(),
                            })
                        })
                        .collect();
                    let kind = if clause {
                        FrameKind::Handler
                    } else if location.lambda {
                        FrameKind::Lambda
                    } else {
                        FrameKind::Function
                    };
                    FrameState {
                        kind,
                        location: Some(location),
                        code: Some(code),
                        base: Some(base),
                        locals,
                    }
                }
                FrameInfo::Loop { builtin, next, len } => FrameState {
                    kind: FrameKind::Loop { builtin, next, len },
                    location: None,
                    code: None,
                    base: None,
                    locals: Vec::new(),
                },
            });
        }
        let handlers =
            vm.mark_info()
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .map(|m| match m {
                    MarkInfo::Handle { code, table, frame } => {
                        let c = &self.program.codes[code as usize];
                        let at = c.ops.iter().position(
                            |op| matches!(op, Op::Handle { table: t, .. } if *t == table),
                        );
                        let location = Location {
                            def: c.def,
                            name: c.def_name.clone(),
                            lambda: c.lambda,
                            expr: at.map_or(0, |pc| c.exprs[pc]),
                        };
                        let effects = c.handlers[table as usize]
                            .iter()
                            .map(|cl| {
                                HostEffect::from_hash(&cl.effect)
                                    .map(|e| SmolStr::new(e.name()))
                                    .or_else(|| self.program.effect_names.get(&cl.effect).cloned())
                                    .unwrap_or_else(|| format!("#{}", cl.effect.short()).into())
                            })
                            .collect();
                        HandlerState::Handle { location, effects, frame: n - 1 - frame }
                    }
                    MarkInfo::Within { deadline, frame } => {
                        HandlerState::Within { deadline, frame: n - 1 - frame }
                    }
                })
                .collect();
        let position = vm.usage.fuel;
        let outcome = (position == self.run.end).then(|| match self.outcome() {
            Ok(v) => Ok(v.clone()),
            Err(e) => Err(e.clone()),
        });
        State {
            position,
            frames: out,
            handlers,
            clock: vm.clock,
            usage: Usage { wall_us: 0, ..vm.usage },
            balances: self.balances(position),
            outcome,
        }
    }

    /// The ledger after the host effects asked before `position`: the host file's opening
    /// balances and every deposit and withdrawal the host performed, through the host's own
    /// implementation (an overridden answer was not performed; overridden arguments were).
    pub fn balances(&self, position: u64) -> BTreeMap<String, i64> {
        let mut host = self.meta().host.clone().unwrap_or_default().host();
        let events = self.run.trace.events();
        for k in 0..self.asked_before(position) {
            let Event::EffectApplied {
                effect: effect @ (HostEffect::Deposit | HostEffect::Withdraw),
                args,
                now,
                result: Ok(_),
                ..
            } = &events[k + 1]
            else {
                continue;
            };
            let args = match self.run.overrides.iter().find(|(o, _)| *o == k) {
                Some((_, Override::Args(a))) => a,
                Some(_) => continue,
                None => args,
            };
            let _ = host.perform(*effect, args, *now);
        }
        host.balances
    }

    /// What changed from position `a` to position `b`.
    pub fn compare(&mut self, a: u64, b: u64) -> Result<Comparison, TravelError> {
        let (sa, sb) = (self.inspect_at(a)?, self.inspect_at(b)?);
        Ok(compare_states(&sa, &sb))
    }

    // ---- the run as a whole ----

    /// Calls, returns and host effects between positions `from` and `to` (at most `limit`
    /// entries), by re-executing that part of the run one instruction at a time.
    pub fn timeline(
        &mut self,
        from: u64,
        to: u64,
        limit: usize,
    ) -> Result<Vec<TimelineEntry>, TravelError> {
        self.interrupt.store(false, Ordering::Relaxed);
        let to = to.min(self.run.end);
        let mut vm = self.machine_at(from.min(to))?;
        let mut out = Vec::new();
        let first = self.asked_before(from);
        let mut effects =
            (first..self.run.effects.len()).take_while(|k| self.run.effects[*k] < to).peekable();
        let mut prev = (vm.depth(), vm.top());
        let this = &*self;
        this.replay(
            &mut vm,
            to,
            Some(&mut |vm: &Vm| {
                let position = vm.usage.fuel;
                // Effects asked by the instruction just run come first.
                while let Some(k) = effects.next_if(|k| this.run.effects[*k] < position) {
                    out.push(TimelineEntry::Effect(this.effect(k)));
                }
                let (depth, top) = (vm.depth(), vm.top());
                let kind = || {
                    let f = vm.frame_info().last().expect("a frame");
                    match f {
                        FrameInfo::Code { clause: true, .. } => FrameKind::Handler,
                        FrameInfo::Code { code, .. }
                            if this.program.codes[code as usize].lambda =>
                        {
                            FrameKind::Lambda
                        }
                        FrameInfo::Code { .. } => FrameKind::Function,
                        FrameInfo::Loop { builtin, next, len } => {
                            FrameKind::Loop { builtin, next, len }
                        }
                    }
                };
                let location = top.map(|(c, pc)| this.place(c, pc, true));
                if depth > prev.0 {
                    out.push(TimelineEntry::Call {
                        position,
                        depth,
                        kind: kind(),
                        location,
                        tail: false,
                    });
                } else if depth < prev.0 {
                    out.push(TimelineEntry::Return { position, depth, frames: prev.0 - depth });
                } else if let (Some((_, 0)), Some((_, p))) = (top, prev.1)
                    && p != 0
                {
                    out.push(TimelineEntry::Call {
                        position,
                        depth,
                        kind: kind(),
                        location,
                        tail: true,
                    });
                }
                prev = (depth, top);
                out.len() >= limit || this.interrupt.load(Ordering::Relaxed)
            }),
        )?;
        if out.len() < limit {
            for k in effects {
                out.push(TimelineEntry::Effect(self.effect(k)));
            }
            // The last instruction of a finished run returns from the entry frame; a watch does
            // not see it.
            if vm.usage.fuel == self.run.end && vm.depth() < prev.0 {
                out.push(TimelineEntry::Return {
                    position: vm.usage.fuel,
                    depth: vm.depth(),
                    frames: prev.0 - vm.depth(),
                });
            }
        }
        out.truncate(limit);
        Ok(out)
    }

    /// A new run that is this one up to `position`, then goes its own way: the first host
    /// effect performed at or after `position` gets `with`, and the run continues live from
    /// there (re-executed from the start with a fresh host, which answers exactly as before
    /// up to that effect). This navigator and its run are left as they are; the fork shares
    /// the snapshots before the effect, and starts at its position.
    pub fn fork(&self, position: u64, with: Override) -> Result<Navigator, TravelError> {
        let events = self.run.trace.events();
        let Some(k) = (self.asked_before(position)..self.run.effects.len())
            .find(|k| matches!(events[k + 1], Event::EffectApplied { .. }))
        else {
            return Err(TravelError::NothingToFork(position));
        };
        let mut overrides: Vec<(usize, Override)> =
            self.run.overrides.iter().filter(|(o, _)| *o < k).cloned().collect();
        overrides.push((k, with));
        let meta = self.meta().clone();
        let mut host = ForkHost {
            inner: live_host(&meta),
            overrides: overrides.clone(),
            asked: 0,
            pending: None,
        };
        let trace = crate::trace::record(&self.program, meta, &mut host).trace;
        // Up to the effect's instruction the fork is this run: share those snapshots.
        let at = self.run.effects[k];
        let mut snaps = self.snaps.clone();
        snaps.truncate_after(at);
        let run = Run { trace, effects: self.run.effects.clone(), end: 0, overrides };
        let mut fork =
            Navigator::build(self.program.clone(), self.info.clone(), self.config, run, snaps)?;
        fork.namer = self.namer.clone();
        fork.goto(at)?;
        Ok(fork)
    }

    /// The trace of this run stopped at the current position to be upgraded
    /// (`tel schema upgrade`, docs/schema.md): the recorded events up to the position (the
    /// entry call and every effect asked before it, and the outcome when the run had ended
    /// there), then `degraded` when the run was moved to its degraded state first, then the
    /// [`Event::Upgraded`] with the position and the clock. A session's own trace is its
    /// content address and never changes: the upgrade is a new run, whose replay re-runs the
    /// program to the position and checks everything before it.
    pub fn upgraded_trace(
        &self,
        strategy: &str,
        from: CodeHash,
        to: CodeHash,
        degraded: Option<crate::trace::Degradation>,
    ) -> Trace {
        let trace = &self.run.trace;
        let mut kept = 1 + self.asked_before(self.pos);
        if self.pos >= self.run.end {
            kept = trace.events().len();
        }
        let mut appended: Vec<Event> = degraded.into_iter().map(Event::Degraded).collect();
        appended.push(Event::Upgraded {
            fuel: self.pos,
            now: self.vm.clock,
            strategy: strategy.to_owned(),
            from,
            to,
        });
        trace.continued(kept, &appended)
    }

    // ---- persistence ----

    /// The session as it is stored: the setup (run and configuration), the current position
    /// and the snapshots.
    pub fn save(&self) -> SavedSession {
        let mut prev = 0;
        let effect_gaps = self
            .run
            .effects
            .iter()
            .map(|q| {
                let gap = q - prev;
                prev = *q;
                gap
            })
            .collect();
        let setup = Setup {
            version: SETUP_VERSION,
            config: self.config,
            trace: self.run.trace.to_bytes(),
            effect_gaps,
            end: self.run.end,
            overrides: self.run.overrides.clone(),
        };
        let setup = postcard::to_allocvec(&setup).expect("a session setup serializes");
        let meta = self.meta();
        SavedSession {
            id: CodeHash(*blake3::hash(&setup).as_bytes()).to_base32hex(),
            entry: meta.entry,
            entry_name: meta.entry_name.clone(),
            position: self.pos,
            setup,
            snapshots: self.snaps.list.clone(),
        }
    }

    /// A session saved by [`Navigator::save`] (possibly by another process), at `position`.
    /// `program` and `defs` are the run's program, loaded again.
    pub fn resume(
        program: Arc<Program>,
        defs: &HashMap<CodeHash, StoredDef>,
        setup: &[u8],
        snapshots: Vec<SavedSnapshot>,
        position: u64,
    ) -> Result<Navigator, TravelError> {
        let corrupt = |e: String| TravelError::Corrupt(e);
        let setup: Setup = match postcard::take_from_bytes(setup) {
            Ok((s, [])) => s,
            Ok(_) => return Err(corrupt("bytes after the setup".into())),
            Err(e) => return Err(corrupt(format!("the setup does not decode: {e}"))),
        };
        if setup.version != SETUP_VERSION {
            return Err(corrupt(format!(
                "setup version {} (this tel-vm reads {SETUP_VERSION})",
                setup.version
            )));
        }
        let trace = Trace::from_bytes(&setup.trace)?;
        if trace.meta().entry != program.entry {
            return Err(TravelError::WrongProgram {
                expected: trace.meta().entry.short(),
                found: program.entry.short(),
            });
        }
        let mut effects = Vec::with_capacity(setup.effect_gaps.len());
        let mut q = 0u64;
        for g in setup.effect_gaps {
            q = q.checked_add(g).ok_or_else(|| corrupt("an effect position overflows".into()))?;
            effects.push(q);
        }
        if effects.len() + 2 != trace.events().len() || q > setup.end {
            return Err(corrupt("the effect positions do not match the trace".into()));
        }
        let run = Run { trace, effects, end: setup.end, overrides: setup.overrides };
        let info = Arc::new(DebugInfo::new(&program, defs));
        let snaps = Snapshots::from_saved(snapshots).map_err(corrupt)?;
        let mut nav = Navigator::assemble(program, info, Arc::new(run), setup.config, snaps)?;
        nav.goto(position)?;
        Ok(nav)
    }
}

/// What changed between two states: see [`Comparison`].
fn compare_states(a: &State, b: &State) -> Comparison {
    let name = |f: &FrameState| match (&f.kind, &f.location) {
        (FrameKind::Loop { builtin, .. }, _) => builtin.name().to_string(),
        (_, Some(l)) => l.to_string(),
        (_, None) => "?".into(),
    };
    // Frames are the same activation while the stacks agree from the outermost up.
    let (fa, fb): (Vec<&FrameState>, Vec<&FrameState>) =
        (a.frames.iter().rev().collect(), b.frames.iter().rev().collect());
    let shared = fa
        .iter()
        .zip(&fb)
        .take_while(|(x, y)| (x.code, x.base, &x.kind) == (y.code, y.base, &y.kind) || matches!((&x.kind, &y.kind), (FrameKind::Loop { builtin: p, .. }, FrameKind::Loop { builtin: q, .. }) if p == q))
        .count();
    let mut locals = Vec::new();
    for i in 0..shared {
        let (x, y) = (fa[i], fb[i]);
        let mut binders: Vec<Binder> = x.locals.iter().chain(&y.locals).map(|l| l.binder).collect();
        binders.sort();
        binders.dedup();
        for binder in binders {
            let find = |f: &FrameState| f.locals.iter().find(|l| l.binder == binder).cloned();
            let (old, new) = (find(x), find(y));
            if old.as_ref().map(|l| &l.value) != new.as_ref().map(|l| &l.value) {
                locals.push(LocalChange {
                    frame: fb.len() - 1 - i,
                    function: name(y),
                    binder,
                    name: new.as_ref().or(old.as_ref()).and_then(|l| l.name.clone()),
                    old: old.map(|l| l.value),
                    new: new.map(|l| l.value),
                });
            }
        }
    }
    let accounts: std::collections::BTreeSet<&String> =
        a.balances.keys().chain(b.balances.keys()).collect();
    let balances = accounts
        .into_iter()
        .filter_map(|acct| {
            let (old, new) = (
                a.balances.get(acct).copied().unwrap_or(0),
                b.balances.get(acct).copied().unwrap_or(0),
            );
            (old != new).then(|| BalanceChange { account: acct.clone(), old, new })
        })
        .collect();
    Comparison {
        from: a.position,
        to: b.position,
        frames_left: fa[shared..].iter().rev().map(|f| name(f)).collect(),
        frames_entered: fb[shared..].iter().rev().map(|f| name(f)).collect(),
        locals,
        balances,
        clock: (a.clock != b.clock).then_some((a.clock, b.clock)),
    }
}
