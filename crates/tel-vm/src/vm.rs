//! The interpreter. Its whole state — the value stack, frames, marks (handlers and deadlines),
//! the virtual clock, resource usage — is the plain data of [`Vm`], so a run can be
//! single-stepped, serialized, restored and resumed. TEL calls push frames on `Vm::frames`;
//! the interpreter never recurses in Rust per TEL call, so runaway recursion meets the
//! call-depth limit, not the Rust stack. `map`, `filter` and `fold` run as *loop frames* that
//! call their function argument through ordinary frames, one element at a time.
//!
//! **Speed.** One contiguous value stack holds every frame's slots and operands (a frame is a
//! base offset), so a call allocates nothing. The dispatch loop keeps the running unit's ops,
//! pc and base in locals and touches the frame vector only on calls and returns. Fuel is a
//! countdown over a slice of instructions; the slow checks (wall time) run between slices.

use crate::host::{Host, HostError};
use crate::program::{Code, HostEffect, IntArg, Op, Program, TAIL_INT_ARGS};
use crate::resources::{
    Amounts, Grant, Resource, ResourceAllocator, ResourceError, ResourceRequest,
};
use crate::show::show;
use crate::value::{RecordType, Value, WORD, freed_bytes};
use smol_str::SmolStr;
use std::collections::BTreeMap;
use std::sync::Arc;
use tel_hash::CodeHash;
use tel_hash::core::{BinOp, Builtin, Pat, VariantOwner};

/// Resource limits of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Instructions (every instruction costs 1).
    pub fuel: u64,
    /// Bytes of live values (by [`Value`]'s size estimate: counted when a value is built,
    /// given back when the run frees it; docs/vm.md, "Resources").
    pub heap_bytes: u64,
    /// Effects performed (handled in the program or by the host).
    pub effects: u64,
    /// Frames on the call stack.
    pub call_depth: u32,
    /// Wall-clock milliseconds spent in [`Vm::run`] (checked between slices of
    /// instructions, so a little more may pass).
    pub wall_ms: u64,
}

impl Default for Limits {
    /// A runaway loop stops within about a second: 10^8 instructions take well under a second
    /// in a release build, and the wall-time limit stops a slower (debug) build.
    fn default() -> Self {
        Limits {
            fuel: 100_000_000,
            heap_bytes: 1 << 30,
            effects: 1_000_000,
            call_depth: 100_000,
            wall_ms: 1_000,
        }
    }
}

impl Limits {
    /// What a run with these limits asks of an allocator, once it has used `usage`.
    pub fn request(&self, usage: &Usage) -> ResourceRequest {
        // An unlimited resource asks for all there is (which keeps it unlimited).
        let left = |limit: u64, used: u64| (limit != u64::MAX).then(|| limit.saturating_sub(used));
        ResourceRequest {
            fuel: left(self.fuel, usage.fuel),
            heap_bytes: left(self.heap_bytes, usage.heap_bytes),
            effects: left(self.effects, usage.effects),
            wall_ms: left(self.wall_ms, usage.wall_us / 1000),
        }
    }
}

/// What a run has used so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    pub fuel: u64,
    /// Live heap bytes, by the estimate [`Limits::heap_bytes`] limits.
    pub heap_bytes: u64,
    pub effects: u64,
    /// Wall-clock microseconds spent in [`Vm::run`].
    #[serde(default)]
    pub wall_us: u64,
}

/// Where the in-loop checks of heap bytes and effects stop a run: at the run's own limit or
/// at what its grant has left, whichever comes first (recomputed at every slice).
#[derive(Clone, Copy, Debug)]
struct Budget {
    heap_until: u64,
    heap_limit: u64,
    effects_until: u64,
    effects_limit: u64,
    /// The reading of [`freed_bytes`] up to which the run's frees are counted in
    /// `Usage::heap_bytes`; moved past whatever the host frees while it is asked something.
    freed_at: u64,
}

impl Budget {
    /// Counts what the run freed since the last time: the live heap shrinks by it.
    fn reclaim(&mut self, usage: &mut Usage) {
        let now = freed_bytes();
        let freed = now.wrapping_sub(self.freed_at);
        self.freed_at = now;
        usage.heap_bytes = usage.heap_bytes.saturating_sub(freed);
    }
}

/// Asks the host something: what it frees meanwhile (its own values, its copies of the
/// run's) is not counted as the run's.
#[inline]
fn outside<R>(budget: &mut Budget, ask: impl FnOnce() -> R) -> R {
    let before = freed_bytes();
    let r = ask();
    budget.freed_at = budget.freed_at.wrapping_add(freed_bytes().wrapping_sub(before));
    r
}

/// Derived from the limits and the grant at every slice: not part of what a state is.
impl PartialEq for Budget {
    fn eq(&self, _: &Budget) -> bool {
        true
    }
}

impl Eq for Budget {}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            heap_until: u64::MAX,
            heap_limit: u64::MAX,
            effects_until: u64::MAX,
            effects_limit: u64::MAX,
            freed_at: freed_bytes(),
        }
    }
}

/// The grants a run charges: its own (`root`), and a child of it for each `within` body
/// that is running (by mark id). Not part of the saved state: a restored machine gets a new
/// grant for what its limits leave when it runs again.
#[derive(Default)]
struct Grants {
    root: Option<Grant>,
    within: Vec<(u32, Grant)>,
    /// How much of `Vm::usage` the grants have been charged.
    charged: Usage,
}

impl Clone for Grants {
    /// A copy of a machine runs under a grant of its own.
    fn clone(&self) -> Grants {
        Grants::default()
    }
}

impl PartialEq for Grants {
    fn eq(&self, _: &Grants) -> bool {
        true
    }
}

impl Eq for Grants {}

impl std::fmt::Debug for Grants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grants")
            .field("root", &self.root.is_some())
            .field("within", &self.within.len())
            .finish()
    }
}

/// A place in a running program: the top-level definition (a lambda belongs to the
/// definition whose body contains it) and the expression id — the index, in
/// `tel_hash::core::preorder` of that definition's body, of the expression whose code was
/// running. A debugger maps (definition hash, expression id) to a source range.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Location {
    pub def: CodeHash,
    pub name: Option<SmolStr>,
    /// The code was a lambda (or handler clause) inside the definition.
    pub lambda: bool,
    pub expr: u32,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(n) => write!(f, "{n} (#{})", self.def.short())?,
            None => write!(f, "#{}", self.def.short())?,
        }
        if self.lambda {
            f.write_str("/lambda")?;
        }
        write!(f, " expr {}", self.expr)
    }
}

/// The TEL call stack when an error happened, innermost first. `map`, `filter` and `fold`
/// have no frame of their own here: their call site is the caller's location.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallStack(pub Vec<Location>);

impl CallStack {
    /// Where the error happened.
    pub fn innermost(&self) -> Option<&Location> {
        self.0.first()
    }
}

impl std::fmt::Display for CallStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.innermost() {
            Some(l) => l.fmt(f),
            None => f.write_str("the entry point"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum RuntimeError {
    #[error("{resource} exhausted (limit {limit}) in {at}")]
    ResourceExhausted { resource: Resource, limit: u64, at: CallStack },
    #[error("{message} in {at}")]
    Trap { message: String, at: CallStack },
    #[error("host effect {effect} failed: {message} (in {at})")]
    Host { effect: String, message: String, at: CallStack },
    #[error("this state was saved for program {expected}, not {found}")]
    WrongProgram { expected: String, found: String },
}

impl RuntimeError {
    /// The TEL call stack (innermost first); empty for errors that are not about a place.
    pub fn stack(&self) -> &[Location] {
        match self {
            RuntimeError::ResourceExhausted { at, .. }
            | RuntimeError::Trap { at, .. }
            | RuntimeError::Host { at, .. } => &at.0,
            RuntimeError::WrongProgram { .. } => &[],
        }
    }
}

/// What went wrong, before the place is attached.
enum Fault {
    Trap(String),
    Exhausted(Resource, u64),
    Host(HostEffect, HostError),
}

fn trap<T>(message: impl Into<String>) -> Result<T, Fault> {
    Err(Fault::Trap(message.into()))
}

/// The outcome of [`Vm::step`] and [`Vm::run`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Running,
    Done(Value),
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct CodeFrame {
    code: u32,
    pc: u32,
    /// Where the frame's slots start on the value stack.
    base: u32,
    /// The stack length to restore when the frame returns (below its arguments, and below
    /// the callee value of a dynamic call).
    ret: u32,
    /// `Host::on_call` was told about this call, so `on_return` is owed.
    observed: bool,
    /// Set when this frame runs a handler clause.
    clause: Option<Box<ClauseCtx>>,
}

/// A clause runs with the handlers outside its `handle` (language.md §7.2): the marks from
/// its handler up are set aside while it runs and restored when it resumes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct ClauseCtx {
    base: usize,
    saved: Vec<Mark>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Loop {
    Map { xs: Arc<Vec<Value>>, out: Vec<Value> },
    Filter { xs: Arc<Vec<Value>>, out: Vec<Value> },
    Fold { xs: Arc<Vec<Value>>, acc: Value },
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct LoopFrame {
    f: Value,
    next: usize,
    kind: Loop,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum Frame {
    Code(CodeFrame),
    Loop(Box<LoopFrame>),
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum MarkKind {
    Handle {
        table: u32,
        env: Vec<Value>,
    },
    /// `grant` names the child grant the body runs under (see `Grants`).
    Within {
        deadline: i64,
        #[serde(default)]
        grant: u32,
    },
    /// Where a running handler clause set marks aside (its frame is the mark's `frame`):
    /// it stands for them in the search for the earliest deadline, which a clause's effects
    /// still meet (language.md §9.1). `earliest` is the earliest deadline set aside.
    Clause {
        earliest: Option<i64>,
    },
}

/// An installed handler or deadline, with where to unwind to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Mark {
    kind: MarkKind,
    frame: usize,
    code: u32,
    stack_len: usize,
    /// Where `abort` (Handle) or the timeout (Within) continues.
    target: u32,
}

/// In an observed run, a tail call from an observed frame still owes its caller's
/// `on_return`: these are reported, innermost first, when the frame at `frame` returns.
/// Consecutive tail calls of one definition (a self-recursive loop) share one entry.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Owed {
    frame: u32,
    code: u32,
    count: u64,
}

/// The value stack: every frame's slots and operands. The slots past `sp` hold scalars
/// (values that own nothing), so a push is a store into memory that is already there,
/// without dropping what was there, and growing is a rare, separate step. Only
/// `slots[..sp]` is state: that is what serializes and compares.
#[derive(Clone, Default)]
struct Stack {
    slots: Vec<Value>,
    sp: usize,
}

impl Stack {
    #[inline(always)]
    fn push(&mut self, v: Value) {
        if self.sp == self.slots.len() {
            self.grow();
        }
        // The slot holds a scalar: overwrite it without running drop glue.
        std::mem::forget(std::mem::replace(&mut self.slots[self.sp], v));
        self.sp += 1;
    }

    /// `push(Value::Int(x))`, written so that the compiler stores the Int directly instead
    /// of building a whole value and copying it.
    #[inline(always)]
    fn push_int(&mut self, x: i64) {
        if self.sp == self.slots.len() {
            self.grow();
        }
        std::mem::forget(std::mem::replace(&mut self.slots[self.sp], Value::Int(x)));
        self.sp += 1;
    }

    #[inline(always)]
    fn push_bool(&mut self, x: bool) {
        if self.sp == self.slots.len() {
            self.grow();
        }
        std::mem::forget(std::mem::replace(&mut self.slots[self.sp], Value::Bool(x)));
        self.sp += 1;
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let n = (self.slots.len() * 2).max(256);
        self.slots.resize(n, Value::Unit);
    }

    #[inline(always)]
    fn pop(&mut self) -> Option<Value> {
        if self.sp == 0 {
            return None;
        }
        self.sp -= 1;
        Some(self.slots[self.sp].take())
    }

    #[inline(always)]
    fn len(&self) -> usize {
        self.sp
    }

    #[inline(always)]
    fn truncate(&mut self, n: usize) {
        if n < self.sp {
            self.slots[n..self.sp].iter_mut().for_each(clear);
            self.sp = n;
        }
    }

    /// Moves the `n` topmost values down to `to`, dropping what was there and everything
    /// between (a tail call's arguments becoming the frame's parameters).
    #[inline(always)]
    fn slide_down(&mut self, to: usize, n: usize) {
        let from = self.sp - n;
        if to + n > from {
            // The caller's frame is smaller than the callee's parameters: move one by one
            // (downwards, so a value is read before its slot is written).
            for j in 0..n {
                let v = self.slots[from + j].take();
                std::mem::replace(&mut self.slots[to + j], v).discard();
            }
        } else if from != to {
            let (below, above) = self.slots.split_at_mut(from);
            for (dst, src) in below[to..to + n].iter_mut().zip(&mut above[..n]) {
                // An Int is stored as an Int: no whole-value copy through memory.
                if let Value::Int(x) = *src {
                    clear(dst);
                    std::mem::forget(std::mem::replace(dst, Value::Int(x)));
                } else {
                    std::mem::replace(dst, src.take()).discard();
                }
            }
        }
        self.truncate(to + n);
    }

    fn last_mut(&mut self) -> Option<&mut Value> {
        self.sp.checked_sub(1).map(|i| &mut self.slots[i])
    }

    /// Moves `slots[at..]` out.
    fn split_off(&mut self, at: usize) -> Vec<Value> {
        let out = self.slots[at..self.sp].iter_mut().map(Value::take).collect();
        self.sp = at;
        out
    }

    /// Moves `slots[at..]` out, in order.
    fn drain(&mut self, at: std::ops::RangeFrom<usize>) -> impl Iterator<Item = Value> + '_ {
        let end = self.sp;
        self.sp = at.start;
        self.slots[at.start..end].iter_mut().map(Value::take)
    }

    /// Removes `slots[from..to]`, moving what is above down.
    fn remove(&mut self, from: usize, to: usize) {
        for i in 0..self.sp - to {
            self.slots.swap(from + i, to + i);
        }
        self.truncate(self.sp - (to - from));
    }

    /// Inserts `values` at `at`, moving what is above up.
    fn insert(&mut self, at: usize, values: Vec<Value>) {
        let above = self.split_off(at);
        self.extend(values);
        self.extend(above);
    }

    fn extend(&mut self, values: impl IntoIterator<Item = Value>) {
        values.into_iter().for_each(|v| self.push(v));
    }
}

/// Frees a slot: drops the value it holds unless it is a scalar, which owns nothing and may
/// stay there as it is.
#[inline(always)]
fn clear(v: &mut Value) {
    match v {
        Value::Int(_) | Value::Bool(_) | Value::Duration(_) | Value::Unit | Value::Builtin(_) => {}
        v => drop(v.take()),
    }
}

impl std::ops::Index<usize> for Stack {
    type Output = Value;
    #[inline(always)]
    fn index(&self, i: usize) -> &Value {
        &self.slots[i]
    }
}

impl std::ops::IndexMut<usize> for Stack {
    #[inline(always)]
    fn index_mut(&mut self, i: usize) -> &mut Value {
        &mut self.slots[i]
    }
}

impl std::ops::Index<std::ops::RangeFrom<usize>> for Stack {
    type Output = [Value];
    fn index(&self, r: std::ops::RangeFrom<usize>) -> &[Value] {
        &self.slots[r.start..self.sp]
    }
}

impl std::ops::IndexMut<std::ops::RangeFrom<usize>> for Stack {
    fn index_mut(&mut self, r: std::ops::RangeFrom<usize>) -> &mut [Value] {
        &mut self.slots[r.start..self.sp]
    }
}

impl PartialEq for Stack {
    fn eq(&self, other: &Stack) -> bool {
        self[0..] == other[0..]
    }
}

impl Eq for Stack {}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(&self[0..]).finish()
    }
}

impl serde::Serialize for Stack {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(&self[0..])
    }
}

impl<'de> serde::Deserialize<'de> for Stack {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Stack, D::Error> {
        let slots = Vec::<Value>::deserialize(d)?;
        Ok(Stack { sp: slots.len(), slots })
    }
}

/// A running (or finished) TEL program's state.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Vm {
    program: CodeHash,
    stack: Stack,
    frames: Vec<Frame>,
    marks: Vec<Mark>,
    owed: Vec<Owed>,
    /// The virtual clock, in milliseconds.
    pub clock: i64,
    pub usage: Usage,
    pub limits: Limits,
    result: Option<Value>,
    /// The id the next `within` grant gets.
    #[serde(default)]
    next_grant: u32,
    #[serde(skip)]
    grants: Grants,
    #[serde(skip)]
    budget: Budget,
    /// The fuel used before the running slice, and the slice's length.
    #[serde(skip)]
    meter: (u64, u64),
    #[serde(skip)]
    pause: Pause,
}

/// A debugger's requests (see [`Vm::pause_on_host_effects`] and [`Vm::run_watched`]): not
/// part of what a state is.
#[derive(Clone, Copy, Debug, Default)]
struct Pause {
    /// Stop after an instruction that asked the host.
    on_host: bool,
    /// The running slice must end after the current instruction.
    paused: bool,
}

impl PartialEq for Pause {
    fn eq(&self, _: &Pause) -> bool {
        true
    }
}

impl Eq for Pause {}

/// A frame as a debugger sees it ([`Vm::frame_info`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameInfo {
    /// Code unit `code` of the program, about to run op `pc` (a caller's `pc` is past its
    /// call); its slots start at `base` on the value stack. `clause`: it runs a handler clause.
    Code { code: u32, pc: u32, base: u32, clause: bool },
    /// `map`, `filter` or `fold` between two calls of its function: `next` elements of `len`
    /// handed out so far.
    Loop { builtin: Builtin, next: usize, len: usize },
}

/// An installed handler or deadline, as a debugger sees it ([`Vm::mark_info`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkInfo {
    /// Handler table `table` of code unit `code`, installed by frame `frame` (0 = outermost).
    Handle { code: u32, table: u32, frame: usize },
    /// A `within` whose deadline (virtual ms) is `deadline`, installed by frame `frame`.
    Within { deadline: i64, frame: usize },
}

/// Instructions run between two checks of the slow limits.
const SLICE: u64 = 1 << 16;

impl Vm {
    /// A machine about to run `program`'s entry point with the clock at `clock_start`.
    /// A machine about to run the program's entry point with `args` as its parameters.
    pub fn with_args(
        program: &Program,
        limits: Limits,
        clock_start: i64,
        args: Vec<Value>,
    ) -> Result<Vm, crate::LoadError> {
        program.check_entry_args(&args)?;
        let mut vm = Vm::new(program, limits, clock_start);
        // Arguments are live values the run holds, built outside it.
        vm.usage.heap_bytes = args.iter().map(Value::deep_heap_size).sum();
        // The entry frame's slots start at 0: its parameters are the first of them.
        for arg in args {
            vm.stack.push(arg);
        }
        Ok(vm)
    }

    /// A machine about to run the program's entry point, which takes no parameters (else
    /// see [`Vm::with_args`]).
    pub fn new(program: &Program, limits: Limits, clock_start: i64) -> Vm {
        let frame = CodeFrame {
            code: program.entry_code,
            pc: 0,
            base: 0,
            ret: 0,
            observed: false,
            clause: None,
        };
        Vm {
            program: program.entry,
            stack: Stack::default(),
            frames: vec![Frame::Code(frame)],
            marks: Vec::new(),
            owed: Vec::new(),
            clock: clock_start,
            usage: Usage::default(),
            limits,
            result: None,
            next_grant: 0,
            grants: Grants::default(),
            budget: Budget::default(),
            meter: (0, 0),
            pause: Pause::default(),
        }
    }

    /// Makes [`Vm::run`] return `Status::Running` right after any instruction that asked the
    /// host something (an effect performed or refused, a `Now`, an effect a deadline
    /// abandoned), so a debugger learns the instruction count of every host effect. Not part
    /// of the saved state.
    pub fn pause_on_host_effects(&mut self, on: bool) {
        self.pause.on_host = on;
    }

    /// The frames, outermost first.
    pub fn frame_info(&self) -> impl ExactSizeIterator<Item = FrameInfo> + '_ {
        self.frames.iter().map(|f| match f {
            Frame::Code(f) => {
                FrameInfo::Code { code: f.code, pc: f.pc, base: f.base, clause: f.clause.is_some() }
            }
            Frame::Loop(l) => {
                let (builtin, xs) = match &l.kind {
                    Loop::Map { xs, .. } => (Builtin::Map, xs),
                    Loop::Filter { xs, .. } => (Builtin::Filter, xs),
                    Loop::Fold { xs, .. } => (Builtin::Fold, xs),
                };
                FrameInfo::Loop { builtin, next: l.next, len: xs.len() }
            }
        })
    }

    /// The number of frames (code and loop frames).
    #[inline]
    pub fn depth(&self) -> usize {
        self.frames.len()
    }

    /// The innermost frame's code unit and the op it runs next, when it is a code frame.
    #[inline]
    pub fn top(&self) -> Option<(u32, u32)> {
        match self.frames.last() {
            Some(Frame::Code(f)) => Some((f.code, f.pc)),
            _ => None,
        }
    }

    /// The value stack: every frame's slots and operands, from the bottom.
    pub fn stack(&self) -> &[Value] {
        &self.stack[0..]
    }

    /// The handlers and deadlines visible to the running code, outermost first (those a
    /// running handler clause set aside are not visible).
    pub fn mark_info(&self) -> impl Iterator<Item = MarkInfo> + '_ {
        self.marks.iter().filter_map(|m| match m.kind {
            MarkKind::Handle { table, .. } => {
                Some(MarkInfo::Handle { code: m.code, table, frame: m.frame })
            }
            MarkKind::Within { deadline, .. } => {
                Some(MarkInfo::Within { deadline, frame: m.frame })
            }
            MarkKind::Clause { .. } => None,
        })
    }

    /// Runs the machine under `grant` (from now on, until it finishes): its use is charged
    /// there and it stops at whichever comes first, its own limits or the grant's. Without
    /// one, a run takes a grant for its limits from [`ResourceAllocator::global`].
    pub fn attach(&mut self, grant: Grant) {
        self.grants = Grants { root: Some(grant), within: Vec::new(), charged: self.usage };
    }

    /// The grant the run is charged to, while it runs.
    pub fn grant(&self) -> Option<&Grant> {
        self.grants.root.as_ref()
    }

    /// The grant the running code is charged to: the innermost visible `within`'s, else the
    /// run's.
    fn current_grant(&self) -> Option<&Grant> {
        let within = self.marks.iter().rev().find_map(|m| match m.kind {
            MarkKind::Within { grant, .. } => {
                self.grants.within.iter().find(|(id, _)| *id == grant).map(|(_, g)| g)
            }
            MarkKind::Handle { .. } | MarkKind::Clause { .. } => None,
        });
        within.or(self.grants.root.as_ref())
    }

    /// Charges what the run used since the last time to the current grant.
    fn settle(&mut self) -> Result<(), Fault> {
        self.budget.reclaim(&mut self.usage);
        let (u, c) = (self.usage, self.grants.charged);
        self.grants.charged = u;
        let Some(g) = self.current_grant() else { return Ok(()) };
        let delta = Amounts {
            fuel: u.fuel - c.fuel,
            heap_bytes: u.heap_bytes.saturating_sub(c.heap_bytes),
            effects: u.effects - c.effects,
            wall_ms: u.wall_us / 1000 - c.wall_us / 1000,
        };
        // The live heap shrank: give the grant back what was freed.
        let freed = c.heap_bytes.saturating_sub(u.heap_bytes);
        if freed > 0 {
            g.allocator().refund(g, Resource::HeapBytes, freed);
        }
        match g.allocator().charge(g, delta) {
            Ok(()) | Err(ResourceError::Released) => Ok(()),
            Err(ResourceError::Exhausted { resource, limit }) => {
                Err(Fault::Exhausted(resource, limit))
            }
            Err(ResourceError::Insufficient { resource, available, .. }) => {
                Err(Fault::Exhausted(resource, available))
            }
        }
    }

    /// Releases the grants of `within` bodies that are no longer running (their marks were
    /// popped or abandoned), after charging what was used under them.
    fn sweep_grants(&mut self) -> Result<(), Fault> {
        let r = self.settle();
        let mut live: Vec<u32> = Vec::new();
        let saved = self.frames.iter().filter_map(|f| match f {
            Frame::Code(CodeFrame { clause: Some(c), .. }) => Some(c.saved.iter()),
            _ => None,
        });
        for m in self.marks.iter().chain(saved.flatten()) {
            if let MarkKind::Within { grant, .. } = m.kind {
                live.push(grant);
            }
        }
        self.grants.within.retain(|(id, _)| live.contains(id));
        r
    }

    /// The budget for the next slice: how many instructions, and where heap bytes and
    /// effects stop, from the run's limits and its grant's remainder.
    fn plan(&mut self, program: &Program) -> Result<u64, RuntimeError> {
        if self.grants.root.is_none() {
            let request = self.limits.request(&self.usage);
            let grant = ResourceAllocator::global().allocate(request).map_err(|e| {
                let fault = match e {
                    ResourceError::Insufficient { resource, available, .. }
                    | ResourceError::Exhausted { resource, limit: available } => {
                        Fault::Exhausted(resource, available)
                    }
                    ResourceError::Released => Fault::Trap("the allocator refused a grant".into()),
                };
                self.error(program, fault)
            })?;
            self.attach(grant);
        }
        let own = |limit: u64, used: u64| (limit, limit.saturating_sub(used));
        let mut fuel = own(self.limits.fuel, self.usage.fuel);
        let mut heap = own(self.limits.heap_bytes, self.usage.heap_bytes);
        let mut effects = own(self.limits.effects, self.usage.effects);
        if let Some(g) = self.current_grant() {
            let a = g.allocator();
            let bind = |mine: &mut (u64, u64), r: Resource| {
                let (left, limit) = a.binding(g, r);
                if left < mine.1 {
                    *mine = (limit, left);
                }
            };
            bind(&mut fuel, Resource::Fuel);
            bind(&mut heap, Resource::HeapBytes);
            bind(&mut effects, Resource::Effects);
        }
        self.budget = Budget {
            heap_until: self.usage.heap_bytes.saturating_add(heap.1),
            heap_limit: heap.0,
            effects_until: self.usage.effects.saturating_add(effects.1),
            effects_limit: effects.0,
            freed_at: self.budget.freed_at,
        };
        if fuel.1 == 0 {
            return Err(self.error(program, Fault::Exhausted(Resource::Fuel, fuel.0)));
        }
        Ok(fuel.1)
    }

    /// The run is over (finished or failed): charge the last use and give the grants back.
    fn finish(&mut self, program: &Program) -> Result<(), RuntimeError> {
        let r = self.settle();
        self.grants = Grants::default();
        r.map_err(|f| self.error(program, f))
    }

    /// The result, once the run has finished.
    pub fn result(&self) -> Option<&Value> {
        self.result.as_ref()
    }

    /// Executes one instruction.
    pub fn step(&mut self, program: &Program, host: &mut dyn Host) -> Result<Status, RuntimeError> {
        self.run(program, host, 1)
    }

    /// Runs to the end (the limits still apply).
    pub fn run_to_end(
        &mut self,
        program: &Program,
        host: &mut dyn Host,
    ) -> Result<Value, RuntimeError> {
        loop {
            if let Status::Done(v) = self.run(program, host, u64::MAX)? {
                return Ok(v);
            }
        }
    }

    /// Runs at most `steps` instructions (less when the program finishes first).
    pub fn run(
        &mut self,
        program: &Program,
        host: &mut dyn Host,
        steps: u64,
    ) -> Result<Status, RuntimeError> {
        self.run_with(program, host, steps, None)
    }

    /// [`Vm::run`] one instruction at a time, asking `stop` after each whether to stop there
    /// (it sees the machine; `usage.fuel` counts the instructions run so far). A debugger's
    /// way to find the first instruction where something holds; much slower than `run`, whose
    /// path it leaves as it is.
    pub fn run_watched(
        &mut self,
        program: &Program,
        host: &mut dyn Host,
        steps: u64,
        stop: &mut dyn FnMut(&Vm) -> bool,
    ) -> Result<Status, RuntimeError> {
        self.run_with(program, host, steps, Some(stop))
    }

    fn run_with(
        &mut self,
        program: &Program,
        host: &mut dyn Host,
        steps: u64,
        watch: Option<&mut dyn FnMut(&Vm) -> bool>,
    ) -> Result<Status, RuntimeError> {
        self.check_program(program)?;
        if let Some(v) = &self.result {
            return Ok(Status::Done(v.clone()));
        }
        self.pause.paused = false;
        // Only what the run frees from now on is the run's.
        self.budget.freed_at = freed_bytes();
        let observe = host.observes_calls();
        let r = self.run_slices(program, host, observe, steps, watch);
        match r {
            Ok(Status::Running) => Ok(Status::Running),
            Ok(done) => {
                self.finish(program)?;
                Ok(done)
            }
            Err(e) => {
                // The error stands; what the run used is still charged.
                let _ = self.finish(program);
                Err(e)
            }
        }
    }

    fn run_slices(
        &mut self,
        program: &Program,
        host: &mut dyn Host,
        observe: bool,
        steps: u64,
        mut watch: Option<&mut dyn FnMut(&Vm) -> bool>,
    ) -> Result<Status, RuntimeError> {
        let mut left = steps;
        while left > 0 {
            let slice = left.min(self.plan(program)?).min(SLICE);
            let mut fuel = slice;
            let start = std::time::Instant::now();
            let before = self.usage.fuel;
            self.meter = (before, slice);
            let r = match watch.as_deref_mut() {
                None => self.interp(program, host, observe, &mut fuel),
                Some(stop) => self.interp_each(program, host, observe, &mut fuel, stop),
            };
            self.usage.fuel = before + (slice - fuel);
            self.usage.wall_us += start.elapsed().as_micros() as u64;
            self.budget.reclaim(&mut self.usage);
            left -= slice - fuel;
            if let Some(v) = r? {
                return Ok(Status::Done(v));
            }
            if self.usage.wall_us > self.limits.wall_ms.saturating_mul(1000) {
                let fault = Fault::Exhausted(Resource::WallTime, self.limits.wall_ms);
                return Err(self.error(program, fault));
            }
            self.settle().map_err(|f| self.error(program, f))?;
            if self.pause.paused {
                self.pause.paused = false;
                break;
            }
        }
        Ok(Status::Running)
    }

    /// [`Vm::interp`] one instruction at a time, with `stop` asked after each; a stop ends
    /// the slice as a pause does. Kept out of line: only a debugger's runs take it.
    #[inline(never)]
    #[cold]
    fn interp_each(
        &mut self,
        program: &Program,
        host: &mut dyn Host,
        observe: bool,
        fuel: &mut u64,
        stop: &mut dyn FnMut(&Vm) -> bool,
    ) -> Result<Option<Value>, RuntimeError> {
        while *fuel > 0 {
            let mut one = 1;
            self.meter = (self.usage.fuel, 1);
            let r = self.interp(program, host, observe, &mut one);
            self.usage.fuel = self.meter.0 + (1 - one);
            *fuel -= 1 - one;
            if let Some(v) = r? {
                return Ok(Some(v));
            }
            if self.pause.paused || stop(self) {
                self.pause.paused = true;
                return Ok(None);
            }
        }
        Ok(None)
    }

    /// A state runs only against the program it was started with: closures and frames hold
    /// code indices of that program.
    fn check_program(&self, program: &Program) -> Result<(), RuntimeError> {
        if program.entry != self.program {
            return Err(RuntimeError::WrongProgram {
                expected: format!("#{}", self.program.short()),
                found: format!("#{}", program.entry.short()),
            });
        }
        Ok(())
    }

    /// The TEL call stack, innermost first. A frame's pc is past its running op (a caller's
    /// is past its call).
    fn call_stack(&self, program: &Program) -> CallStack {
        let frames = self.frames.iter().rev().filter_map(|f| match f {
            Frame::Code(f) => Some(f),
            Frame::Loop(_) => None,
        });
        CallStack(
            frames
                .map(|f| {
                    let code = &program.codes[f.code as usize];
                    let at = (f.pc as usize).saturating_sub(1);
                    Location {
                        def: code.def,
                        name: code.def_name.clone(),
                        lambda: code.lambda,
                        expr: code.exprs.get(at).copied().unwrap_or(0),
                    }
                })
                .collect(),
        )
    }

    fn error(&self, program: &Program, fault: Fault) -> RuntimeError {
        let at = self.call_stack(program);
        match fault {
            Fault::Trap(message) => RuntimeError::Trap { message, at },
            Fault::Exhausted(resource, limit) => {
                RuntimeError::ResourceExhausted { resource, limit, at }
            }
            Fault::Host(effect, e) => {
                RuntimeError::Host { effect: effect.name().into(), message: e.0, at }
            }
        }
    }

    fn set_pc(&mut self, pc: usize) {
        if let Some(Frame::Code(f)) = self.frames.last_mut() {
            f.pc = pc as u32;
        }
    }

    fn pop(&mut self) -> Value {
        self.stack.pop().expect("the compiler keeps the operand stack balanced")
    }

    /// The dispatch loop: runs until `fuel` is spent (`Ok(None)`) or the program finishes.
    fn interp(
        &mut self,
        program: &Program,
        host: &mut dyn Host,
        observe: bool,
        fuel: &mut u64,
    ) -> Result<Option<Value>, RuntimeError> {
        'frame: loop {
            let (mut code, mut pc, mut base) = match self.frames.last() {
                Some(Frame::Code(f)) => {
                    (&program.codes[f.code as usize], f.pc as usize, f.base as usize)
                }
                Some(Frame::Loop(_)) => {
                    if *fuel == 0 {
                        return Ok(None);
                    }
                    *fuel -= 1;
                    if let Some(v) = self.step_loop(program, host, observe)? {
                        return Ok(Some(v));
                    }
                    continue 'frame;
                }
                None => return Ok(self.result.clone()),
            };
            // The fuel countdown lives in a register; `*fuel` is written back whenever the
            // loop is left.
            let mut left = *fuel;
            // Leaving the loop: the remaining fuel, and the run's usage, become exact (a
            // `within` charges its grant the use so far).
            macro_rules! sync {
                () => {{
                    *fuel = left;
                    self.usage.fuel = self.meter.0 + (self.meter.1 - left);
                }};
            }
            macro_rules! fail {
                ($fault:expr) => {{
                    let fault = $fault;
                    sync!();
                    self.set_pc(pc);
                    return Err(self.error(program, fault));
                }};
            }
            macro_rules! tri {
                ($e:expr) => {
                    match $e {
                        Ok(v) => v,
                        Err(f) => fail!(f),
                    }
                };
            }
            // Int arithmetic without building a `Result<Value, _>`: the common case stays in
            // registers, and only a trap takes the slow path for its message.
            macro_rules! int {
                ($op:expr, $a:expr, $b:expr) => {{
                    let (op, a, b) = ($op, $a, $b);
                    match int_fast(op, a, b) {
                        IntResult::Int(x) => Value::Int(x),
                        IntResult::Bool(x) => Value::Bool(x),
                        IntResult::Trap => fail!(int_op(op, a, b).err().expect("a trap")),
                    }
                }};
            }
            // Pushes an Int operation's result straight into the stack.
            macro_rules! push_int {
                ($op:expr, $a:expr, $b:expr) => {{
                    let (op, a, b) = ($op, $a, $b);
                    match int_fast(op, a, b) {
                        IntResult::Int(x) => self.stack.push_int(x),
                        IntResult::Bool(x) => self.stack.push_bool(x),
                        IntResult::Trap => fail!(int_op(op, a, b).err().expect("a trap")),
                    }
                }};
            }
            loop {
                // The hot ops run in a small loop of their own (its state fits in registers);
                // it hands back the first op it does not take, already charged and past.
                let exit = hot_loop(
                    &mut self.stack,
                    &mut self.frames,
                    self.owed.is_empty() && !observe,
                    self.limits.call_depth as usize,
                    program,
                    &mut code,
                    &mut pc,
                    &mut base,
                    &mut left,
                );
                let op = match exit {
                    Exit::Op(op) => op,
                    Exit::Fuel => {
                        *fuel = 0;
                        self.set_pc(pc);
                        return Ok(None);
                    }
                    Exit::End => fail!(Fault::Trap("ran past the end of the code".into())),
                };
                match op {
                    Op::PopN(n) => {
                        let len = self.stack.len();
                        self.stack.truncate(len - n as usize);
                    }
                    Op::JumpIfFalse(t) => match self.stack.pop() {
                        Some(Value::Bool(b)) => {
                            if !b {
                                pc = t as usize;
                            }
                        }
                        v => fail!(not_bool(v.as_ref())),
                    },
                    Op::JumpUnlessLI { op, slot, imm, target } => {
                        let b = match &self.stack[base + slot as usize] {
                            Value::Int(a) => int_cmp(op, *a, i64::from(imm)),
                            v => tri!(compare(op, v, &Value::Int(i64::from(imm)))),
                        };
                        if !b {
                            pc = target as usize;
                        }
                    }
                    Op::JumpUnlessLL { op, a, b, target } => {
                        let (l, r) =
                            (&self.stack[base + a as usize], &self.stack[base + b as usize]);
                        let b = match (l, r) {
                            (Value::Int(l), Value::Int(r)) => int_cmp(op, *l, *r),
                            (l, r) => tri!(compare(op, l, r)),
                        };
                        if !b {
                            pc = target as usize;
                        }
                    }
                    Op::JumpUnless { op, target } => {
                        let r = self.pop();
                        let l = self.pop();
                        let b = tri!(compare(op, &l, &r));
                        l.discard();
                        r.discard();
                        if !b {
                            pc = target as usize;
                        }
                    }
                    Op::BinLI { op, slot, imm } => match &self.stack[base + slot as usize] {
                        Value::Int(a) => push_int!(op, *a, i64::from(imm)),
                        v => {
                            let v = tri!(binary(op, v.clone(), Value::Int(i64::from(imm))));
                            self.stack.push(v);
                        }
                    },
                    Op::BinLL { op, a, b } => {
                        match (&self.stack[base + a as usize], &self.stack[base + b as usize]) {
                            (Value::Int(l), Value::Int(r)) => push_int!(op, *l, *r),
                            (l, r) => {
                                let v = tri!(binary(op, l.clone(), r.clone()));
                                self.stack.push(v);
                            }
                        }
                    }
                    Op::BinI { op, imm } => {
                        let top = self.stack.last_mut().expect("an operand");
                        let v = match top {
                            Value::Int(a) => int!(op, *a, i64::from(imm)),
                            v => tri!(binary(op, v.take(), Value::Int(i64::from(imm)))),
                        };
                        *self.stack.last_mut().expect("an operand") = v;
                    }
                    Op::Bin(op) => {
                        let len = self.stack.len();
                        let v = match (&self.stack[len - 2], &self.stack[len - 1]) {
                            (Value::Int(l), Value::Int(r)) => int!(op, *l, *r),
                            _ => {
                                let r = self.pop();
                                let l = self.pop();
                                let v = match op {
                                    BinOp::Concat => {
                                        tri!(concat(&mut self.usage, &mut self.budget, l, r))
                                    }
                                    _ => tri!(binary(op, l, r)),
                                };
                                self.stack.push(v);
                                continue;
                            }
                        };
                        self.stack.pop().expect("an operand").discard();
                        std::mem::replace(&mut self.stack[len - 2], v).discard();
                    }
                    Op::CallDef { code: c, argc } => {
                        let at = self.stack.len() - argc as usize;
                        sync!();
                        self.set_pc(pc);
                        if let Some(v) =
                            self.enter_code(program, host, observe, c, &[], at, at, false)?
                        {
                            return Ok(Some(v));
                        }
                        continue 'frame;
                    }
                    Op::TailCallDef { code: c, argc } => {
                        sync!();
                        self.set_pc(pc);
                        let at = self.stack.len() - argc as usize;
                        if let Some(v) =
                            self.enter_code(program, host, observe, c, &[], at, at, true)?
                        {
                            return Ok(Some(v));
                        }
                        continue 'frame;
                    }
                    Op::Call(argc) | Op::TailCall(argc) => {
                        sync!();
                        self.set_pc(pc);
                        let at = self.stack.len() - argc as usize;
                        let callee = self.stack[at - 1].take();
                        let tail = matches!(op, Op::TailCall(_));
                        if let Some(v) =
                            self.call_value(program, host, observe, callee, at, at - 1, tail)?
                        {
                            return Ok(Some(v));
                        }
                        // `now()` asks the host through a call.
                        if self.pause.paused {
                            return Ok(None);
                        }
                        continue 'frame;
                    }
                    Op::CallBuiltin { builtin, argc } => {
                        sync!();
                        self.set_pc(pc);
                        let at = self.stack.len() - argc as usize;
                        let f = Value::Builtin(builtin);
                        if let Some(v) =
                            self.call_value(program, host, observe, f, at, at, false)?
                        {
                            return Ok(Some(v));
                        }
                        if self.pause.paused {
                            return Ok(None);
                        }
                        continue 'frame;
                    }
                    Op::Ret | Op::Resume => {
                        let v = self.pop();
                        sync!();
                        if let Some(v) = self.ret(program, host, v) {
                            return Ok(Some(v));
                        }
                        continue 'frame;
                    }
                    Op::Perform { effect, argc } => {
                        sync!();
                        self.set_pc(pc);
                        let at = self.stack.len() - argc as usize;
                        self.perform(program, host, code.effects[effect as usize], at)?;
                        if self.pause.paused {
                            return Ok(None);
                        }
                        continue 'frame;
                    }
                    Op::Abort => {
                        sync!();
                        let v = self.pop();
                        let ctx = match self.frames.last_mut() {
                            Some(Frame::Code(f)) => f.clause.take(),
                            _ => None,
                        };
                        let Some(ctx) = ctx else {
                            fail!(Fault::Trap("abort outside a handler clause".into()))
                        };
                        let ClauseCtx { base: mark_base, saved } = *ctx;
                        let mark = saved.into_iter().next().expect("the clause's own handler");
                        self.marks.truncate(mark_base);
                        self.unwind_to(mark);
                        self.stack.push(v);
                        tri!(self.sweep_grants());
                        continue 'frame;
                    }
                    op => {
                        sync!();
                        tri!(self.slow_op(program, code, op, &mut pc, base))
                    }
                }
            }
        }
    }

    /// The ops that stay in their frame and are not the hot ones: kept out of the dispatch
    /// loop so that its few hot paths get the registers.
    #[inline(never)]
    fn slow_op(
        &mut self,
        program: &Program,
        code: &Code,
        op: Op,
        pc: &mut usize,
        base: usize,
    ) -> Result<(), Fault> {
        macro_rules! fail {
            ($fault:expr) => {
                return Err($fault)
            };
        }
        macro_rules! tri {
            ($e:expr) => {
                $e?
            };
        }
        match op {
            Op::Neg => {
                let v = match self.pop() {
                    Value::Int(i) => Value::Int(tri!(checked(i.checked_neg(), "negation"))),
                    Value::Duration(d) => {
                        Value::Duration(tri!(checked(d.checked_neg(), "negation")))
                    }
                    v => fail!(Fault::Trap(format!("cannot negate a {}", v.kind()))),
                };
                self.stack.push(v);
            }
            Op::Not => match self.pop() {
                Value::Bool(b) => self.stack.push(Value::Bool(!b)),
                v => fail!(not_bool(Some(&v))),
            },
            Op::Def(c) => {
                if c as usize >= program.codes.len() {
                    fail!(Fault::Trap("a non-function definition used as a value".into()));
                }
                let v = Value::Closure { code: c, env: Arc::default() };
                tri!(charge(&mut self.usage, &mut self.budget, v.heap_size()));
                self.stack.push(v);
            }
            Op::Builtin(b) => self.stack.push(Value::Builtin(b)),
            Op::Closure { code: c, captures } => {
                let at = self.stack.len() - captures as usize;
                let env = self.stack.split_off(at);
                let v = Value::Closure { code: c, env: Arc::new(env) };
                tri!(charge(&mut self.usage, &mut self.budget, v.heap_size()));
                self.stack.push(v);
            }
            Op::List(n) => {
                let at = self.stack.len() - n as usize;
                let v = Value::list(self.stack.split_off(at));
                tri!(charge(&mut self.usage, &mut self.budget, v.heap_size()));
                self.stack.push(v);
            }
            Op::Record(s) => {
                let (ty, names) = &code.shapes[s as usize];
                let at = self.stack.len() - names.len();
                let fields = names.iter().cloned().zip(self.stack.drain(at..)).collect();
                let v = Value::Record { ty: RecordType(*ty), fields: Arc::new(fields) };
                tri!(charge(&mut self.usage, &mut self.budget, v.heap_size()));
                self.stack.push(v);
            }
            Op::Field(n) => {
                let v = self.pop();
                let v = tri!(field(&v, &code.names[n as usize]));
                self.stack.push(v);
            }
            Op::GetField { slot, name } => {
                let v = tri!(field(&self.stack[base + slot as usize], &code.names[name as usize]));
                self.stack.push(v);
            }
            Op::Variant { owner, index, argc } => {
                let at = self.stack.len() - argc as usize;
                let v = match code.owners[owner as usize] {
                    Some(owner) => {
                        Value::Variant { owner, index, fields: Arc::new(self.stack.split_off(at)) }
                    }
                    None if index == 0 && argc == 1 => Value::Option(Some(Arc::new(self.pop()))),
                    None => Value::Option(None),
                };
                tri!(charge(&mut self.usage, &mut self.budget, v.heap_size()));
                self.stack.push(v);
            }
            Op::Match { pat, fail } => {
                let pat = &code.pats[pat as usize];
                let at = self.stack.len();
                let scrutinee = self.stack[at - 1].clone();
                if !matches(pat, &scrutinee, &mut self.stack) {
                    self.stack.truncate(at);
                    *pc = fail as usize;
                }
            }
            Op::NoMatch => fail!(Fault::Trap("no match arm matched the value".into())),
            Op::Handle { table, end } => {
                let env = self.stack[base..].to_vec();
                self.push_mark(MarkKind::Handle { table, env }, end);
            }
            Op::Within { fallback } => {
                let d = match self.pop() {
                    Value::Duration(d) => d,
                    v => fail!(Fault::Trap(format!("within needs a Duration, not {}", v.kind()))),
                };
                if d < 0 {
                    fail!(Fault::Trap(format!("within with a negative duration ({d}ms)")));
                }
                let deadline = tri!(checked(self.clock.checked_add(d), "the deadline"));
                // The body runs under a child of the current grant that may use all that
                // is left (the split docs/vm.md documents); charge the use so far first.
                self.settle()?;
                let grant = self.next_grant;
                self.next_grant = self.next_grant.wrapping_add(1);
                if let Some(g) = self.current_grant()
                    && let Ok(child) = g.allocator().subdivide(g, ResourceRequest::REST)
                {
                    self.grants.within.push((grant, child));
                }
                self.push_mark(MarkKind::Within { deadline, grant }, fallback);
            }
            Op::PopMark => {
                if let Some(Mark { kind: MarkKind::Within { grant, .. }, .. }) = self.marks.last() {
                    let grant = *grant;
                    let r = self.settle();
                    self.marks.pop();
                    self.grants.within.retain(|(id, _)| *id != grant);
                    r?;
                } else {
                    self.marks.pop();
                }
            }
            _ => unreachable!("{op:?} is dispatched in the loop"),
        }
        Ok(())
    }

    fn push_mark(&mut self, kind: MarkKind, target: u32) {
        let frame = self.frames.len() - 1;
        let Some(Frame::Code(f)) = self.frames.last() else {
            unreachable!("marks are set by code frames")
        };
        let mark = Mark { kind, frame, code: f.code, stack_len: self.stack.len(), target };
        self.marks.push(mark);
    }

    /// `marks[i]` is the earliest deadline or a clause's stand-in for it: finds the `within`
    /// it means and brings it back into `marks` (the clauses it is abandoned with give their
    /// marks back as if they had returned). Answers its index.
    fn expose_deadline(&mut self, i: usize) -> usize {
        // Follow the stand-ins down to the `within`.
        let mut marks = &self.marks;
        let mut i = i;
        let (grant, frame) = loop {
            let m = &marks[i];
            match m.kind {
                MarkKind::Within { grant, .. } => break (grant, m.frame),
                MarkKind::Clause { .. } => {
                    let Some(Frame::Code(CodeFrame { clause: Some(ctx), .. })) =
                        self.frames.get(m.frame)
                    else {
                        unreachable!("a clause mark names its clause's frame")
                    };
                    marks = &ctx.saved;
                    i = earliest_deadline(marks).expect("a clause mark with a deadline").1;
                }
                MarkKind::Handle { .. } => unreachable!("a handler has no deadline"),
            }
        };
        // Every clause above the `within`'s frame is abandoned with its body, innermost
        // first; one of them set the `within` aside.
        for f in (frame + 1..self.frames.len()).rev() {
            if let Frame::Code(CodeFrame { clause, .. }) = &mut self.frames[f]
                && let Some(ctx) = clause.take()
            {
                self.marks.truncate(ctx.base);
                self.marks.extend(ctx.saved);
            }
        }
        self.marks
            .iter()
            .rposition(|m| {
                m.frame == frame
                    && matches!(m.kind, MarkKind::Within { grant: g, .. } if g == grant)
            })
            .expect("the deadline is back among the marks")
    }

    /// Abandons everything above `mark`'s frame and continues at its target.
    fn unwind_to(&mut self, mark: Mark) {
        self.frames.truncate(mark.frame + 1);
        self.owed.retain(|o| o.frame as usize <= mark.frame);
        self.stack.truncate(mark.stack_len);
        if let Some(Frame::Code(f)) = self.frames.last_mut() {
            debug_assert_eq!(f.code, mark.code);
            f.pc = mark.target;
        }
    }

    /// Returns `v` from the running code frame to whatever is below it.
    fn ret(&mut self, program: &Program, host: &mut dyn Host, v: Value) -> Option<Value> {
        let Some(Frame::Code(frame)) = self.frames.pop() else {
            unreachable!("returning from a code frame");
        };
        self.stack.truncate(frame.ret as usize);
        if let Some(ctx) = frame.clause {
            self.marks.truncate(ctx.base);
            self.marks.extend(ctx.saved);
        }
        if frame.observed {
            outside(&mut self.budget, || {
                host.on_return(&program.codes[frame.code as usize].def, &v)
            });
        }
        let depth = self.frames.len() as u32;
        while let Some(o) = self.owed.last()
            && o.frame == depth
        {
            let def = &program.codes[o.code as usize].def;
            outside(&mut self.budget, || (0..o.count).for_each(|_| host.on_return(def, &v)));
            self.owed.pop();
        }
        self.deliver(v)
    }

    /// Hands a call's result to the frame below: a code frame's stack, or a loop frame.
    fn deliver(&mut self, v: Value) -> Option<Value> {
        match self.frames.last_mut() {
            None => {
                self.result = Some(v.clone());
                Some(v)
            }
            Some(Frame::Code(_)) => {
                self.stack.push(v);
                None
            }
            Some(Frame::Loop(l)) => {
                match &mut l.kind {
                    Loop::Map { out, .. } => out.push(v),
                    Loop::Filter { xs, out } => {
                        if v == Value::Bool(true) {
                            out.push(xs[l.next - 1].clone());
                        }
                    }
                    Loop::Fold { acc, .. } => *acc = v,
                }
                None
            }
        }
    }

    /// Calls code unit `c` with the arguments at `stack[at..]`; `ret` is the stack length to
    /// restore when it returns. A tail call replaces the running frame.
    #[allow(clippy::too_many_arguments)]
    fn enter_code(
        &mut self,
        program: &Program,
        host: &mut dyn Host,
        observe: bool,
        c: u32,
        env: &[Value],
        at: usize,
        ret: usize,
        tail: bool,
    ) -> Result<Option<Value>, RuntimeError> {
        let callee = &program.codes[c as usize];
        let tail = tail && matches!(self.frames.last(), Some(Frame::Code(f)) if f.clause.is_none());
        if !tail && self.frames.len() >= self.limits.call_depth as usize {
            let limit = u64::from(self.limits.call_depth);
            return Err(self.error(program, Fault::Exhausted(Resource::CallDepth, limit)));
        }
        let observed = observe && !callee.lambda;
        if observed
            && let Some(v) =
                outside(&mut self.budget, || host.on_call(&callee.def, &self.stack[at..]))
        {
            // A cached result: the call is skipped. The value was built outside the run.
            charge(&mut self.usage, &mut self.budget, v.deep_heap_size())
                .map_err(|fault| self.error(program, fault))?;
            self.stack.truncate(ret);
            return Ok(if tail { self.ret(program, host, v) } else { self.deliver(v) });
        }
        if !tail {
            self.frames.push(Frame::Code(CodeFrame {
                code: c,
                pc: 0,
                base: at as u32,
                ret: ret as u32,
                observed,
                clause: None,
            }));
            if !env.is_empty() {
                self.stack.extend(env.iter().cloned());
            }
            return Ok(None);
        }
        let depth = self.frames.len() as u32 - 1;
        let Some(Frame::Code(f)) = self.frames.last_mut() else { unreachable!() };
        if f.observed {
            match self.owed.last_mut() {
                Some(o) if o.frame == depth && o.code == f.code => o.count += 1,
                _ => self.owed.push(Owed { frame: depth, code: f.code, count: 1 }),
            }
        }
        let base = f.base as usize;
        *f = CodeFrame { code: c, pc: 0, base: f.base, ret: f.ret, observed, clause: None };
        self.stack.remove(base, at);
        self.stack.extend(env.iter().cloned());
        Ok(None)
    }

    /// Calls a function value with the arguments at `stack[at..]`.
    #[allow(clippy::too_many_arguments)]
    fn call_value(
        &mut self,
        program: &Program,
        host: &mut dyn Host,
        observe: bool,
        f: Value,
        at: usize,
        ret: usize,
        tail: bool,
    ) -> Result<Option<Value>, RuntimeError> {
        let argc = (self.stack.len() - at) as u32;
        match &f {
            Value::Closure { code, env } => {
                let callee = &program.codes[*code as usize];
                if callee.arity != argc {
                    let msg =
                        format!("{} takes {} arguments, not {argc}", callee.name, callee.arity);
                    return Err(self.error(program, Fault::Trap(msg)));
                }
                self.enter_code(program, host, observe, *code, env, at, ret, tail)
            }
            Value::Builtin(b @ (Builtin::Map | Builtin::Filter | Builtin::Fold)) => {
                let args: Vec<Value> = self.stack.drain(at..).collect();
                self.stack.truncate(ret);
                self.start_loop(program, *b, args)?;
                Ok(None)
            }
            Value::Builtin(Builtin::Now) => {
                self.stack.truncate(ret);
                let at = self.stack.len();
                self.perform(program, host, HostEffect::Now.hash(), at)?;
                Ok(None)
            }
            Value::Builtin(b) => {
                let v =
                    builtin(program, *b, &mut self.stack[at..], &mut self.usage, &mut self.budget)
                        .map_err(|fault| self.error(program, fault))?;
                self.stack.truncate(ret);
                Ok(self.deliver(v))
            }
            v => Err(self.error(program, Fault::Trap(format!("cannot call a {}", v.kind())))),
        }
    }

    fn step_loop(
        &mut self,
        program: &Program,
        host: &mut dyn Host,
        observe: bool,
    ) -> Result<Option<Value>, RuntimeError> {
        let Some(Frame::Loop(l)) = self.frames.last_mut() else { unreachable!() };
        let xs = match &l.kind {
            Loop::Map { xs, .. } | Loop::Filter { xs, .. } | Loop::Fold { xs, .. } => xs,
        };
        if l.next == xs.len() {
            let Some(Frame::Loop(l)) = self.frames.pop() else { unreachable!() };
            // The input list goes back through `Value`'s drop, which counts it freed when
            // this was its last owner.
            let (v, xs, built) = match l.kind {
                Loop::Map { out, xs } | Loop::Filter { out, xs } => (Value::list(out), xs, true),
                // The accumulator was counted when it was built.
                Loop::Fold { acc, xs } => (acc, xs, false),
            };
            drop(Value::List(xs));
            if built {
                charge(&mut self.usage, &mut self.budget, v.heap_size())
                    .map_err(|fault| self.error(program, fault))?;
            }
            return Ok(self.deliver(v));
        }
        let x = xs[l.next].clone();
        l.next += 1;
        let at = self.stack.len();
        if let Loop::Fold { acc, .. } = &mut l.kind {
            // The call's result replaces the accumulator: move it rather than copy it.
            self.stack.push(acc.take());
        }
        self.stack.push(x);
        let f = l.f.clone();
        self.call_value(program, host, observe, f, at, at, false)
    }

    fn start_loop(
        &mut self,
        program: &Program,
        b: Builtin,
        args: Vec<Value>,
    ) -> Result<(), RuntimeError> {
        let mut args = args.into_iter();
        let xs = match args.next() {
            Some(Value::List(ref xs)) => xs.clone(),
            _ => {
                let msg = format!("{} needs a list", b.name());
                return Err(self.error(program, Fault::Trap(msg)));
            }
        };
        let (kind, f) = match b {
            Builtin::Map => (Loop::Map { out: Vec::with_capacity(xs.len()), xs }, args.next()),
            Builtin::Filter => (Loop::Filter { out: Vec::new(), xs }, args.next()),
            _ => {
                let acc = args.next().unwrap_or(Value::Unit);
                (Loop::Fold { xs, acc }, args.next())
            }
        };
        let Some(f) = f else {
            let msg = format!("{} needs a function", b.name());
            return Err(self.error(program, Fault::Trap(msg)));
        };
        if self.frames.len() >= self.limits.call_depth as usize {
            let limit = u64::from(self.limits.call_depth);
            return Err(self.error(program, Fault::Exhausted(Resource::CallDepth, limit)));
        }
        self.frames.push(Frame::Loop(Box::new(LoopFrame { f, next: 0, kind })));
        Ok(())
    }

    /// Performs `effect` with the arguments at `stack[at..]`.
    fn perform(
        &mut self,
        program: &Program,
        host: &mut dyn Host,
        effect: CodeHash,
        at: usize,
    ) -> Result<(), RuntimeError> {
        let fail = |vm: &Vm, f: Fault| vm.error(program, f);
        self.usage.effects += 1;
        if self.usage.effects > self.budget.effects_until {
            return Err(fail(self, Fault::Exhausted(Resource::Effects, self.budget.effects_limit)));
        }
        let argc = self.stack.len() - at;
        // The nearest visible handler with a clause for this operation.
        for h in (0..self.marks.len()).rev() {
            let MarkKind::Handle { table, env } = &self.marks[h].kind else { continue };
            let code = &program.codes[self.marks[h].code as usize];
            let Some(clause) = code.handlers[*table as usize].iter().find(|c| c.effect == effect)
            else {
                continue;
            };
            if clause.arity as usize != argc {
                return Err(fail(
                    self,
                    Fault::Trap("a handler clause with the wrong arity".into()),
                ));
            }
            if self.frames.len() >= self.limits.call_depth as usize {
                let limit = u64::from(self.limits.call_depth);
                return Err(fail(self, Fault::Exhausted(Resource::CallDepth, limit)));
            }
            // The clause's frame: a copy of the handle site's slots, then the arguments.
            let pc = clause.pc;
            let code = self.marks[h].code;
            let env = env.clone();
            self.stack.insert(at, env);
            let saved = self.marks.split_off(h);
            let earliest = earliest_deadline(&saved).map(|(d, _)| d);
            self.frames.push(Frame::Code(CodeFrame {
                code,
                pc,
                base: at as u32,
                ret: at as u32,
                observed: false,
                clause: Some(Box::new(ClauseCtx { base: h, saved })),
            }));
            self.push_mark(MarkKind::Clause { earliest }, 0);
            return Ok(());
        }
        let Some(op) = HostEffect::from_hash(&effect) else {
            let name = program
                .effect_names
                .get(&effect)
                .map_or_else(|| format!("#{}", effect.short()), |n| n.to_string());
            return Err(fail(self, Fault::Trap(format!("unhandled effect {name}"))));
        };
        self.pause.paused = self.pause.on_host;
        let cost = match (op, &self.stack[at..]) {
            (HostEffect::Sleep, [Value::Duration(d)]) if *d < 0 => {
                let msg = format!("Sleep with a negative duration ({d}ms)");
                return Err(fail(self, Fault::Trap(msg)));
            }
            (HostEffect::Sleep, [Value::Duration(d)]) => *d,
            (_, args) => outside(&mut self.budget, || host.cost(op, args))
                .map_err(|e| fail(self, Fault::Host(op, e)))?,
        };
        let when = checked(self.clock.checked_add(cost), "the virtual clock")
            .map_err(|f| fail(self, f))?;
        // The earliest deadline, set aside by a running clause or not; among equal ones the
        // outermost is abandoned.
        if let Some((deadline, i)) = earliest_deadline(&self.marks)
            && when > deadline
        {
            self.clock = deadline;
            let i = self.expose_deadline(i);
            let mark = self.marks[i].clone();
            self.settle().map_err(|f| fail(self, f))?;
            self.marks.truncate(i);
            self.unwind_to(mark);
            return self.sweep_grants().map_err(|f| fail(self, f));
        }
        let value = match op {
            HostEffect::Now => Value::Int(self.clock),
            _ => {
                let v =
                    outside(&mut self.budget, || host.perform(op, &self.stack[at..], self.clock))
                        .map_err(|e| fail(self, Fault::Host(op, e)))?;
                // The answer was built outside the run.
                charge(&mut self.usage, &mut self.budget, v.deep_heap_size())
                    .map_err(|f| fail(self, f))?;
                v
            }
        };
        self.clock = when;
        self.stack.truncate(at);
        self.stack.push(value);
        Ok(())
    }
}

/// The earliest deadline among `marks` (a clause's stand-in counts with the earliest it set
/// aside) and its index; the outermost of equal ones.
fn earliest_deadline(marks: &[Mark]) -> Option<(i64, usize)> {
    marks
        .iter()
        .enumerate()
        .filter_map(|(i, m)| match m.kind {
            MarkKind::Within { deadline, .. } => Some((deadline, i)),
            MarkKind::Clause { earliest } => earliest.map(|d| (d, i)),
            MarkKind::Handle { .. } => None,
        })
        .min()
}

fn not_bool(v: Option<&Value>) -> Fault {
    Fault::Trap(format!("expected a Bool, found {}", v.map_or("nothing", |v| v.kind())))
}

fn checked<T>(v: Option<T>, what: &str) -> Result<T, Fault> {
    v.ok_or_else(|| Fault::Trap(format!("integer overflow in {what}")))
}

#[inline]
fn charge(usage: &mut Usage, budget: &mut Budget, bytes: u64) -> Result<(), Fault> {
    usage.heap_bytes += bytes;
    if usage.heap_bytes > budget.heap_until {
        return over_heap(usage, budget);
    }
    Ok(())
}

/// The heap count passed its limit: it stands only when what the run has freed since the
/// last count does not bring it back under.
#[cold]
fn over_heap(usage: &mut Usage, budget: &mut Budget) -> Result<(), Fault> {
    budget.reclaim(usage);
    if usage.heap_bytes > budget.heap_until {
        return Err(Fault::Exhausted(Resource::HeapBytes, budget.heap_limit));
    }
    Ok(())
}

/// Updating a shared list or map copies its `words` slots first.
fn charge_copy<T>(
    usage: &mut Usage,
    budget: &mut Budget,
    rc: &Arc<T>,
    words: u64,
) -> Result<(), Fault> {
    if Arc::strong_count(rc) > 1 {
        charge(usage, budget, WORD + WORD * words)?;
    }
    Ok(())
}

/// Why [`hot_loop`] stopped.
enum Exit {
    /// This op (charged, `pc` past it) is for the general dispatch.
    Op(Op),
    /// The fuel slice is spent.
    Fuel,
    /// `pc` ran past the unit's ops.
    End,
}

/// The interpreter's fast path: straight-line Int code, slot reads, jumps, and calls and
/// returns between plain code frames (`plain`: no observer, no owed returns). Anything else
/// — another op, a non-Int operand, a trap — goes back to [`Vm::interp`] before changing
/// any state, which then runs the op in full.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
fn hot_loop<'p>(
    stack: &mut Stack,
    frames: &mut Vec<Frame>,
    plain: bool,
    call_depth: usize,
    program: &'p Program,
    code_out: &mut &'p Code,
    pc_out: &mut usize,
    base_out: &mut usize,
    left_out: &mut u64,
) -> Exit {
    let (mut code, mut pc, mut base, mut left) = (*code_out, *pc_out, *base_out, *left_out);
    // A tail call runs the callee `c` in the frame: its code becomes the frame's, from its
    // first op.
    macro_rules! tail_into {
        ($c:expr) => {{
            let c = $c;
            let callee = &program.codes[c as usize];
            if !std::ptr::eq(callee, code) {
                code = callee;
                if let Some(Frame::Code(f)) = frames.last_mut() {
                    f.code = c;
                }
            }
            pc = 0;
        }};
    }
    let exit = loop {
        if left == 0 {
            break Exit::Fuel;
        }
        let Some(op_at) = code.ops.get(pc) else { break Exit::End };
        left -= 1;
        pc += 1;
        // Matching on the op in place lets each arm load only its own fields.
        match *op_at {
            Op::Int(i) => stack.push_int(i64::from(i)),
            Op::Const(i) => stack.push(code.consts[i as usize].clone()),
            Op::Get(s) => match &stack[base + s as usize] {
                Value::Int(x) => stack.push_int(*x),
                v => {
                    let v = v.clone();
                    stack.push(v);
                }
            },
            Op::Move(s) => match &mut stack[base + s as usize] {
                &mut Value::Int(x) => stack.push_int(x),
                v => {
                    let v = v.take();
                    stack.push(v);
                }
            },
            Op::Slide(n) => stack.slide_down(stack.len() - 1 - n as usize, 1),
            Op::GetField { slot, name } => {
                match field(&stack[base + slot as usize], &code.names[name as usize]) {
                    Ok(v) => stack.push(v),
                    Err(_) => break Exit::Op(*op_at),
                }
            }
            Op::Pop => {
                if let Some(v) = stack.pop() {
                    v.discard();
                }
            }
            Op::Jump(t) => pc = t as usize,
            Op::JumpIfFalse(t) => match stack.pop() {
                Some(Value::Bool(b)) => {
                    if !b {
                        pc = t as usize;
                    }
                }
                Some(v) => {
                    stack.push(v);
                    break Exit::Op(*op_at);
                }
                None => break Exit::Op(*op_at),
            },
            Op::JumpUnlessLI { op: cmp, slot, imm, target } => match stack[base + slot as usize] {
                Value::Int(a) => {
                    if !int_cmp(cmp, a, i64::from(imm)) {
                        pc = target as usize;
                    }
                }
                _ => break Exit::Op(*op_at),
            },
            Op::JumpUnlessLL { op: cmp, a, b, target } => {
                match (&stack[base + a as usize], &stack[base + b as usize]) {
                    (Value::Int(l), Value::Int(r)) => {
                        if !int_cmp(cmp, *l, *r) {
                            pc = target as usize;
                        }
                    }
                    _ => break Exit::Op(*op_at),
                }
            }
            Op::BinLI { op: bin, slot, imm } => match stack[base + slot as usize] {
                Value::Int(a) => match int_fast(bin, a, i64::from(imm)) {
                    IntResult::Int(x) => stack.push_int(x),
                    IntResult::Bool(x) => stack.push_bool(x),
                    IntResult::Trap => break Exit::Op(*op_at),
                },
                _ => break Exit::Op(*op_at),
            },
            Op::BinLL { op: bin, a, b } => {
                match (&stack[base + a as usize], &stack[base + b as usize]) {
                    (&Value::Int(l), &Value::Int(r)) => match int_fast(bin, l, r) {
                        IntResult::Int(x) => stack.push_int(x),
                        IntResult::Bool(x) => stack.push_bool(x),
                        IntResult::Trap => break Exit::Op(*op_at),
                    },
                    _ => break Exit::Op(*op_at),
                }
            }
            Op::Bin(bin) => {
                let len = stack.len();
                match (&stack[len - 2], &stack[len - 1]) {
                    (&Value::Int(l), &Value::Int(r)) => match int_fast(bin, l, r) {
                        IntResult::Int(x) => {
                            stack.truncate(len - 2);
                            stack.push_int(x);
                        }
                        IntResult::Bool(x) => {
                            stack.truncate(len - 2);
                            stack.push_bool(x);
                        }
                        IntResult::Trap => break Exit::Op(*op_at),
                    },
                    _ => break Exit::Op(*op_at),
                }
            }
            Op::CallDef { code: c, argc } if plain && frames.len() < call_depth => {
                let at = stack.len() - argc as usize;
                if let Some(Frame::Code(f)) = frames.last_mut() {
                    f.pc = pc as u32;
                }
                frames.push(Frame::Code(CodeFrame {
                    code: c,
                    pc: 0,
                    base: at as u32,
                    ret: at as u32,
                    observed: false,
                    clause: None,
                }));
                code = &program.codes[c as usize];
                pc = 0;
                base = at;
            }
            Op::TailCallInts { code: c, args, argc } => {
                let n = argc as usize;
                // Every argument is computed before any slot is written: they read the
                // frame's slots as they were.
                let mut ints = [0i64; TAIL_INT_ARGS];
                // (A frame with fewer slots than the callee's parameters takes the plain way.)
                let mut done = plain && left >= argc as u64 && base + n <= stack.len();
                if done {
                    let recipes = &code.int_args[args as usize..args as usize + n];
                    for (out, r) in ints.iter_mut().zip(recipes) {
                        let x = match *r {
                            IntArg::Imm(i) => Some(i64::from(i)),
                            IntArg::Slot(s) => match stack[base + s as usize] {
                                Value::Int(x) => Some(x),
                                _ => None,
                            },
                            IntArg::AddLI { slot, imm } => match stack[base + slot as usize] {
                                Value::Int(a) => a.checked_add(imm),
                                _ => None,
                            },
                            IntArg::AddLL { a, b } => {
                                match (&stack[base + a as usize], &stack[base + b as usize]) {
                                    (&Value::Int(a), &Value::Int(b)) => a.checked_add(b),
                                    _ => None,
                                }
                            }
                            IntArg::SubLL { a, b } => {
                                match (&stack[base + a as usize], &stack[base + b as usize]) {
                                    (&Value::Int(a), &Value::Int(b)) => a.checked_sub(b),
                                    _ => None,
                                }
                            }
                            IntArg::LI { op, slot, imm } => match stack[base + slot as usize] {
                                Value::Int(a) => int_arith(op, a, i64::from(imm)),
                                _ => None,
                            },
                            IntArg::LL { op, a, b } => {
                                match (&stack[base + a as usize], &stack[base + b as usize]) {
                                    (&Value::Int(a), &Value::Int(b)) => int_arith(op, a, b),
                                    _ => None,
                                }
                            }
                        };
                        match x {
                            Some(x) => *out = x,
                            None => {
                                done = false;
                                break;
                            }
                        }
                    }
                }
                if !done {
                    // The ops it stands for run one by one; this one was free.
                    left += 1;
                    continue;
                }
                // This op was charged as one of the ops it stands for: the arguments' ops
                // and the call.
                left -= argc as u64;
                for (slot, x) in stack.slots[base..base + n].iter_mut().zip(&ints) {
                    clear(slot);
                    std::mem::forget(std::mem::replace(slot, Value::Int(*x)));
                }
                stack.truncate(base + n);
                tail_into!(c);
                // A loop's function starts by testing whether to go on: that op runs here,
                // saving a trip through the dispatch (same fuel, same result as there).
                if left > 0
                    && let Some(&Op::JumpUnlessLI { op: cmp, slot, imm, target }) = code.ops.first()
                    && let Value::Int(a) = stack[base + slot as usize]
                {
                    left -= 1;
                    pc = if int_cmp(cmp, a, i64::from(imm)) { 1 } else { target as usize };
                }
            }
            Op::TailCallDef { code: c, argc } if plain => {
                // The callee's arguments become the frame's first slots.
                stack.slide_down(base, argc as usize);
                tail_into!(c);
            }
            Op::Ret if plain => {
                let n = frames.len();
                let (caller, f) = match &frames[n.saturating_sub(2)..] {
                    [Frame::Code(caller), Frame::Code(f)] if f.clause.is_none() && !f.observed => {
                        (caller, f)
                    }
                    _ => break Exit::Op(*op_at),
                };
                let ret = f.ret as usize;
                code = &program.codes[caller.code as usize];
                pc = caller.pc as usize;
                base = caller.base as usize;
                let v = stack.pop().expect("a result");
                frames.pop();
                stack.truncate(ret);
                stack.push(v);
            }
            _ => break Exit::Op(*op_at),
        }
    };
    (*code_out, *pc_out, *base_out, *left_out) = (code, pc, base, left);
    exit
}

/// `+ - * / %` on Ints, `None` on a trap (the unfused ops report it).
#[inline(always)]
fn int_arith(op: BinOp, a: i64, b: i64) -> Option<i64> {
    match int_fast(op, a, b) {
        IntResult::Int(x) => Some(x),
        _ => None,
    }
}

enum IntResult {
    Int(i64),
    Bool(bool),
    Trap,
}

#[inline(always)]
fn int_fast(op: BinOp, a: i64, b: i64) -> IntResult {
    let int = |v: Option<i64>| v.map_or(IntResult::Trap, IntResult::Int);
    match op {
        BinOp::Add => int(a.checked_add(b)),
        BinOp::Sub => int(a.checked_sub(b)),
        BinOp::Mul => int(a.checked_mul(b)),
        BinOp::Div => int(a.checked_div(b)),
        BinOp::Rem => int(a.checked_rem(b)),
        BinOp::Eq => IntResult::Bool(a == b),
        BinOp::Ne => IntResult::Bool(a != b),
        BinOp::Lt => IntResult::Bool(a < b),
        BinOp::Le => IntResult::Bool(a <= b),
        BinOp::Gt => IntResult::Bool(a > b),
        BinOp::Ge => IntResult::Bool(a >= b),
        BinOp::Concat | BinOp::And | BinOp::Or => IntResult::Trap,
    }
}

/// Int arithmetic and comparisons: checked, so overflow and a zero divisor trap.
fn int_op(op: BinOp, a: i64, b: i64) -> Result<Value, Fault> {
    let ov = |v: Option<i64>| checked(v, op.symbol()).map(Value::Int);
    match op {
        BinOp::Add => ov(a.checked_add(b)),
        BinOp::Sub => ov(a.checked_sub(b)),
        BinOp::Mul => ov(a.checked_mul(b)),
        BinOp::Div | BinOp::Rem if b == 0 => trap("division by zero"),
        BinOp::Div => ov(a.checked_div(b)),
        BinOp::Rem => ov(a.checked_rem(b)),
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            Ok(Value::Bool(int_cmp(op, a, b)))
        }
        BinOp::Concat | BinOp::And | BinOp::Or => {
            trap(format!("`{}` is not defined on Int and Int", op.symbol()))
        }
    }
}

#[inline(always)]
fn int_cmp(op: BinOp, a: i64, b: i64) -> bool {
    match op {
        BinOp::Eq => a == b,
        BinOp::Ne => a != b,
        BinOp::Lt => a < b,
        BinOp::Le => a <= b,
        BinOp::Gt => a > b,
        _ => a >= b,
    }
}

/// `== != < <= > >=` on any values (`<` and friends only between Ints, Durations or Strings).
fn compare(op: BinOp, a: &Value, b: &Value) -> Result<bool, Fault> {
    let ord = || a.cmp(b);
    Ok(match op {
        BinOp::Eq => a == b,
        BinOp::Ne => a != b,
        _ if !comparable(a, b) => {
            return trap(format!(
                "`{}` is not defined on {} and {}",
                op.symbol(),
                a.kind(),
                b.kind()
            ));
        }
        BinOp::Lt => ord().is_lt(),
        BinOp::Le => ord().is_le(),
        BinOp::Gt => ord().is_gt(),
        BinOp::Ge => ord().is_ge(),
        _ => return trap(format!("`{}` is not a comparison", op.symbol())),
    })
}

fn binary(op: BinOp, l: Value, r: Value) -> Result<Value, Fault> {
    use Value::{Duration as D, Int};
    let ov = |v: Option<i64>| checked(v, op.symbol());
    let div = |a: i64, b: i64, f: fn(i64, i64) -> Option<i64>| {
        if b == 0 { trap("division by zero") } else { ov(f(a, b)) }
    };
    Ok(match (op, &l, &r) {
        (_, Int(a), Int(b)) => return int_op(op, *a, *b),
        (BinOp::Add, D(a), D(b)) => D(ov(a.checked_add(*b))?),
        (BinOp::Sub, D(a), D(b)) => D(ov(a.checked_sub(*b))?),
        (BinOp::Mul, D(a), Int(b)) => D(ov(a.checked_mul(*b))?),
        (BinOp::Div, D(a), Int(b)) => D(div(*a, *b, i64::checked_div)?),
        (BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge, a, b) => {
            Value::Bool(compare(op, a, b)?)
        }
        (op, a, b) => {
            return trap(format!(
                "`{}` is not defined on {} and {}",
                op.symbol(),
                a.kind(),
                b.kind()
            ));
        }
    })
}

/// `++`: a list held only here is extended in place.
fn concat(usage: &mut Usage, budget: &mut Budget, mut l: Value, r: Value) -> Result<Value, Fault> {
    Ok(match (&mut l, &r) {
        (Value::String(a), Value::String(b)) => {
            let mut s = String::with_capacity(a.len() + b.len());
            s.push_str(a);
            s.push_str(b);
            let v = Value::String(s.into());
            charge(usage, budget, v.heap_size())?;
            v
        }
        (Value::List(a), Value::List(b)) => {
            let mut a = std::mem::take(a);
            // The empty list left in `l` is a block of its own, freed (and so counted back)
            // when `l` is dropped.
            charge(usage, budget, WORD)?;
            charge_copy(usage, budget, &a, a.len() as u64)?;
            charge(usage, budget, WORD * b.len() as u64)?;
            Arc::make_mut(&mut a).extend(b.iter().cloned());
            Value::List(a)
        }
        (a, b) => {
            return trap(format!("`++` is not defined on {} and {}", a.kind(), b.kind()));
        }
    })
}

fn field(v: &Value, name: &SmolStr) -> Result<Value, Fault> {
    if let Value::Record { fields, .. } = v
        && let Some((_, x)) = fields.iter().find(|(f, _)| f == name)
    {
        return Ok(x.clone());
    }
    trap(format!("no field `{name}`"))
}

fn builtin(
    program: &Program,
    b: Builtin,
    args: &mut [Value],
    usage: &mut Usage,
    budget: &mut Budget,
) -> Result<Value, Fault> {
    let bad = || Fault::Trap(format!("bad arguments to {}", b.name()));
    // Values cannot be destructured by move (they free their children iteratively in
    // `Drop`); an updated map is taken out of its slot so that it stays unshared.
    let v = match (b, args) {
        (Builtin::Show, [v]) => {
            let v = Value::String(show(program, v).into());
            charge(usage, budget, v.heap_size())?;
            v
        }
        (Builtin::Len, [v]) => Value::Int(match v {
            Value::List(xs) => xs.len() as i64,
            Value::String(s) => s.chars().count() as i64,
            Value::Map(m) => m.len() as i64,
            _ => return Err(bad()),
        }),
        (Builtin::Get, [Value::Map(m), k]) => {
            let v = Value::Option(m.get(k).cloned().map(Arc::new));
            charge(usage, budget, v.heap_size())?;
            v
        }
        (Builtin::Get, [Value::List(xs), Value::Int(i)]) => {
            let v = Value::Option(
                usize::try_from(*i).ok().and_then(|i| xs.get(i)).cloned().map(Arc::new),
            );
            charge(usage, budget, v.heap_size())?;
            v
        }
        (Builtin::Insert, [Value::Map(m), k, v]) => {
            let mut m = std::mem::take(m);
            // The empty map left in the argument's slot is a block of its own.
            charge(usage, budget, WORD)?;
            charge_copy(usage, budget, &m, m.len() as u64 * 2)?;
            charge(usage, budget, 2 * WORD)?;
            Arc::make_mut(&mut m).insert(k.take(), v.take());
            Value::Map(m)
        }
        (Builtin::EmptyMap, []) => {
            let v = Value::map(BTreeMap::new());
            charge(usage, budget, v.heap_size())?;
            v
        }
        (Builtin::Keys, [Value::Map(m)]) => {
            let v = Value::list(m.keys().cloned().collect());
            charge(usage, budget, v.heap_size())?;
            v
        }
        _ => return Err(bad()),
    };
    Ok(v)
}

/// `< <= > >=` are defined on Int, Duration and String, between values of one type.
fn comparable(a: &Value, b: &Value) -> bool {
    matches!(
        (a, b),
        (Value::Int(_), Value::Int(_))
            | (Value::Duration(_), Value::Duration(_))
            | (Value::String(_), Value::String(_))
    )
}

/// Matches `v` against `p`, pushing bindings in the pattern's canonical order. Recursion
/// follows the pattern (bounded by the source), never the value.
fn matches(p: &Pat, v: &Value, out: &mut Stack) -> bool {
    match (p, v) {
        (Pat::Wildcard, _) => true,
        (Pat::Bind, v) => {
            out.push(v.clone());
            true
        }
        (Pat::Lit(l), v) => crate::program::lit_value(l) == *v,
        (Pat::Variant { owner: VariantOwner::Option, index, fields }, Value::Option(o)) => {
            match (index, o, fields.as_slice()) {
                (0, Some(x), [p]) => matches(p, x, out),
                (1, None, []) => true,
                _ => false,
            }
        }
        (
            Pat::Variant { owner: VariantOwner::Enum(_), index, fields },
            Value::Variant { index: vi, fields: vf, .. },
        ) => {
            index == vi
                && fields.len() == vf.len()
                && fields.iter().zip(vf.iter()).all(|(p, v)| matches(p, v, out))
        }
        (Pat::Record { fields }, Value::Record { fields: vf, .. }) => fields
            .iter()
            .all(|(n, p)| vf.iter().find(|(f, _)| f == n).is_some_and(|(_, v)| matches(p, v, out))),
        _ => false,
    }
}
