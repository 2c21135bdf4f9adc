//! The interpreter. Its whole state — frames, marks (handlers and deadlines), the virtual
//! clock, resource usage — is the plain data of [`Vm`], so a run can be single-stepped,
//! serialized, restored and resumed. TEL calls push frames on `Vm::frames`; the interpreter
//! never recurses in Rust per TEL call, so runaway recursion meets the call-depth limit, not
//! the Rust stack. `map`, `filter` and `fold` run as *loop frames* that call their function
//! argument through ordinary frames, one element at a time.

use crate::host::{Host, HostError};
use crate::program::{HostEffect, Op, Program, binds};
use crate::show::show;
use crate::value::{RecordType, Value, WORD};
use std::collections::BTreeMap;
use std::sync::Arc;
use tel_hash::CodeHash;
use tel_hash::core::{BinOp, Builtin, Pat, VariantOwner};

/// Resource limits of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Instructions (every instruction costs 1).
    pub fuel: u64,
    /// Bytes of values built (cumulative, by [`Value`]'s size estimate).
    pub heap_bytes: u64,
    /// Effects performed (handled in the program or by the host).
    pub effects: u64,
    /// Frames on the call stack.
    pub call_depth: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { fuel: 100_000_000, heap_bytes: 1 << 30, effects: 1_000_000, call_depth: 10_000 }
    }
}

/// What a run has used so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    pub fuel: u64,
    pub heap_bytes: u64,
    pub effects: u64,
}

/// A place in the program: a code unit's name and an instruction index.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Location {
    pub code: String,
    pub pc: u32,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} at instruction {}", self.code, self.pc)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum RuntimeError {
    #[error("{resource} exhausted (limit {limit}) in {at}")]
    ResourceExhausted { resource: String, limit: u64, at: Location },
    #[error("{message} in {at}")]
    Trap { message: String, at: Location },
    #[error("host effect {effect} failed: {message} (in {at})")]
    Host { effect: String, message: String, at: Location },
    #[error("this state was saved for program {expected}, not {found}")]
    WrongProgram { expected: String, found: String },
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
    locals: Vec<Value>,
    stack: Vec<Value>,
    /// Set when this frame runs a handler clause.
    clause: Option<ClauseCtx>,
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
    Loop(LoopFrame),
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
enum MarkKind {
    Handle { table: u32, env: Vec<Value> },
    Within { deadline: i64 },
}

/// An installed handler or deadline, with where to unwind to.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Mark {
    kind: MarkKind,
    frame: usize,
    code: u32,
    stack_len: usize,
    locals_len: usize,
    /// Where `abort` (Handle) or the timeout (Within) continues.
    target: u32,
}

/// A running (or finished) TEL program's state.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Vm {
    program: CodeHash,
    frames: Vec<Frame>,
    marks: Vec<Mark>,
    /// The virtual clock, in milliseconds.
    pub clock: i64,
    pub usage: Usage,
    pub limits: Limits,
    result: Option<Value>,
}

/// A pending effect answer after its arguments were popped.
enum Flow {
    Continue,
    Done(Value),
}

impl Vm {
    /// A machine about to run `program`'s entry point with the clock at `clock_start`.
    pub fn new(program: &Program, limits: Limits, clock_start: i64) -> Vm {
        let frame = CodeFrame {
            code: program.entry_code,
            pc: 0,
            locals: Vec::new(),
            stack: Vec::new(),
            clause: None,
        };
        Vm {
            program: program.entry,
            frames: vec![Frame::Code(frame)],
            marks: Vec::new(),
            clock: clock_start,
            usage: Usage::default(),
            limits,
            result: None,
        }
    }

    /// The result, once the run has finished.
    pub fn result(&self) -> Option<&Value> {
        self.result.as_ref()
    }

    /// Runs at most `steps` instructions (less when the program finishes first).
    pub fn run(
        &mut self,
        program: &Program,
        host: &mut dyn Host,
        steps: u64,
    ) -> Result<Status, RuntimeError> {
        self.check_program(program)?;
        for _ in 0..steps {
            if let Status::Done(v) = self.step_unchecked(program, host)? {
                return Ok(Status::Done(v));
            }
        }
        Ok(self.result.clone().map_or(Status::Running, Status::Done))
    }

    /// Runs to the end (the limits still apply).
    pub fn run_to_end(
        &mut self,
        program: &Program,
        host: &mut dyn Host,
    ) -> Result<Value, RuntimeError> {
        self.check_program(program)?;
        loop {
            if let Status::Done(v) = self.step_unchecked(program, host)? {
                return Ok(v);
            }
        }
    }

    fn location(&self, program: &Program) -> Location {
        for frame in self.frames.iter().rev() {
            if let Frame::Code(f) = frame {
                let name = program.codes.get(f.code as usize).map_or("?", |c| c.name.as_str());
                return Location { code: name.to_string(), pc: f.pc.saturating_sub(1) };
            }
        }
        Location { code: program.name_of(&program.entry), pc: 0 }
    }

    fn trap(&self, program: &Program, message: impl Into<String>) -> RuntimeError {
        RuntimeError::Trap { message: message.into(), at: self.location(program) }
    }

    fn exhausted(&self, program: &Program, resource: &str, limit: u64) -> RuntimeError {
        RuntimeError::ResourceExhausted {
            resource: resource.into(),
            limit,
            at: self.location(program),
        }
    }

    fn charge_heap(&mut self, program: &Program, v: &Value) -> Result<(), RuntimeError> {
        self.charge(program, v.heap_size())
    }

    /// Updating a shared list or map copies its `words` slots first.
    fn charge_copy<T>(
        &mut self,
        program: &Program,
        rc: &Arc<T>,
        words: u64,
    ) -> Result<(), RuntimeError> {
        if Arc::strong_count(rc) > 1 {
            self.charge(program, WORD + WORD * words)?;
        }
        Ok(())
    }

    fn charge(&mut self, program: &Program, bytes: u64) -> Result<(), RuntimeError> {
        self.usage.heap_bytes += bytes;
        if self.usage.heap_bytes > self.limits.heap_bytes {
            return Err(self.exhausted(program, "heap bytes", self.limits.heap_bytes));
        }
        Ok(())
    }

    fn top(&mut self) -> &mut CodeFrame {
        match self.frames.last_mut() {
            Some(Frame::Code(f)) => f,
            _ => unreachable!("the running frame is a code frame"),
        }
    }

    fn pop(&mut self) -> Value {
        self.top().stack.pop().expect("the compiler keeps the operand stack balanced")
    }

    fn push(&mut self, v: Value) {
        self.top().stack.push(v);
    }

    fn pop_n(&mut self, n: u32) -> Vec<Value> {
        let stack = &mut self.top().stack;
        stack.split_off(stack.len() - n as usize)
    }

    /// Executes one instruction.
    pub fn step(&mut self, program: &Program, host: &mut dyn Host) -> Result<Status, RuntimeError> {
        self.check_program(program)?;
        self.step_unchecked(program, host)
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

    fn step_unchecked(
        &mut self,
        program: &Program,
        host: &mut dyn Host,
    ) -> Result<Status, RuntimeError> {
        if let Some(v) = &self.result {
            return Ok(Status::Done(v.clone()));
        }
        if self.usage.fuel >= self.limits.fuel {
            return Err(self.exhausted(program, "fuel", self.limits.fuel));
        }
        self.usage.fuel += 1;
        let flow = match self.frames.last_mut() {
            Some(Frame::Loop(_)) => self.step_loop(program)?,
            Some(Frame::Code(f)) => {
                let code = &program.codes[f.code as usize];
                let Some(&op) = code.ops.get(f.pc as usize) else {
                    return Err(self.trap(program, "ran past the end of the code"));
                };
                f.pc += 1;
                self.exec(program, host, op)?
            }
            None => unreachable!("a finished machine keeps its result"),
        };
        match flow {
            Flow::Continue => Ok(Status::Running),
            Flow::Done(v) => {
                self.result = Some(v.clone());
                Ok(Status::Done(v))
            }
        }
    }

    fn exec(
        &mut self,
        program: &Program,
        host: &mut dyn Host,
        op: Op,
    ) -> Result<Flow, RuntimeError> {
        let code_id = self.top().code;
        let code = &program.codes[code_id as usize];
        match op {
            Op::Const(i) => {
                let v = code.consts[i as usize].clone();
                self.push(v);
            }
            Op::Local(i) => {
                let locals = &self.top().locals;
                let v = locals[locals.len() - 1 - i as usize].clone();
                self.push(v);
            }
            Op::Bind => {
                let v = self.pop();
                self.top().locals.push(v);
            }
            Op::Unbind(n) => {
                let locals = &mut self.top().locals;
                locals.truncate(locals.len() - n as usize);
            }
            Op::Pop => {
                self.pop();
            }
            Op::Nip => {
                let v = self.pop();
                self.pop();
                self.push(v);
            }
            Op::Jump(t) => self.top().pc = t,
            Op::JumpIfFalse(t) => {
                if !self.pop_bool(program)? {
                    self.top().pc = t;
                }
            }
            Op::Def(c) => {
                if c as usize >= program.codes.len() {
                    return Err(self.trap(program, "a non-function definition used as a value"));
                }
                self.push(Value::Closure { code: c, env: Vec::new() });
            }
            Op::Builtin(b) => self.push(Value::Builtin(b)),
            Op::Lambda(c) => {
                let env = self.top().locals.clone();
                let v = Value::Closure { code: c, env };
                self.charge_heap(program, &v)?;
                self.push(v);
            }
            Op::Call(argc) => {
                let args = self.pop_n(argc);
                let callee = self.pop();
                return self.call(program, host, callee, args);
            }
            Op::Ret | Op::Resume => {
                let v = self.pop();
                return Ok(self.ret(v));
            }
            Op::List(n) => {
                let v = Value::list(self.pop_n(n));
                self.charge_heap(program, &v)?;
                self.push(v);
            }
            Op::Record(s) => {
                let (ty, names) = &code.shapes[s as usize];
                let values = self.pop_n(names.len() as u32);
                let v = Value::Record {
                    ty: RecordType(*ty),
                    fields: Arc::new(names.iter().cloned().zip(values).collect()),
                };
                self.charge_heap(program, &v)?;
                self.push(v);
            }
            Op::Field(n) => {
                let name = &code.names[n as usize];
                let v = match &self.pop() {
                    Value::Record { fields, .. } => {
                        fields.iter().find(|(f, _)| f == name).map(|(_, v)| v.clone())
                    }
                    _ => None,
                };
                let v = v.ok_or_else(|| self.trap(program, format!("no field `{name}`")))?;
                self.push(v);
            }
            Op::Variant { owner, index, argc } => {
                let mut fields = self.pop_n(argc);
                let v = match code.owners[owner as usize] {
                    Some(owner) => Value::Variant { owner, index, fields: Arc::new(fields) },
                    None if index == 0 && fields.len() == 1 => {
                        Value::Option(Some(Arc::new(fields.pop().unwrap())))
                    }
                    None => Value::Option(None),
                };
                self.charge_heap(program, &v)?;
                self.push(v);
            }
            Op::Bin(op) => {
                let r = self.pop();
                let l = self.pop();
                let v = match op {
                    BinOp::Concat => self.concat(program, l, r)?,
                    _ => self.binary(program, op, l, r)?,
                };
                self.push(v);
            }
            Op::Neg => {
                let v = match self.pop() {
                    Value::Int(i) => {
                        Value::Int(self.checked(program, i.checked_neg(), "negation")?)
                    }
                    Value::Duration(d) => {
                        Value::Duration(self.checked(program, d.checked_neg(), "negation")?)
                    }
                    v => return Err(self.trap(program, format!("cannot negate a {}", v.kind()))),
                };
                self.push(v);
            }
            Op::Not => {
                let b = self.pop_bool(program)?;
                self.push(Value::Bool(!b));
            }
            Op::Match { pat, fail } => {
                let pat = &code.pats[pat as usize];
                let frame = self.top();
                let scrutinee = frame.stack.last().expect("a scrutinee");
                let mut bound = Vec::with_capacity(binds(pat) as usize);
                if matches(pat, scrutinee, &mut bound) {
                    frame.locals.extend(bound);
                } else {
                    frame.pc = fail;
                }
            }
            Op::NoMatch => return Err(self.trap(program, "no match arm matched the value")),
            Op::Perform { effect, argc } => {
                let args = self.pop_n(argc);
                return self.perform(program, host, code.effects[effect as usize], args);
            }
            Op::Handle { table, end } => {
                let env = self.top().locals.clone();
                self.push_mark(MarkKind::Handle { table, env }, end);
            }
            Op::Within { fallback } => {
                let d = match self.pop() {
                    Value::Duration(d) => d,
                    v => {
                        return Err(self
                            .trap(program, format!("within needs a Duration, not {}", v.kind())));
                    }
                };
                if d < 0 {
                    return Err(
                        self.trap(program, format!("within with a negative duration ({d}ms)"))
                    );
                }
                let deadline = self.checked(program, self.clock.checked_add(d), "the deadline")?;
                self.push_mark(MarkKind::Within { deadline }, fallback);
            }
            Op::PopMark => {
                self.marks.pop();
            }
            Op::Abort => {
                let v = self.pop();
                let Some(ctx) = self.top().clause.take() else {
                    return Err(self.trap(program, "abort outside a handler clause"));
                };
                let mark = ctx.saved.into_iter().next().expect("the clause's own handler");
                self.marks.truncate(ctx.base);
                self.unwind_to(mark);
                self.push(v);
            }
        }
        Ok(Flow::Continue)
    }

    fn push_mark(&mut self, kind: MarkKind, target: u32) {
        let frame = self.frames.len() - 1;
        let f = self.top();
        let mark = Mark {
            kind,
            frame,
            code: f.code,
            stack_len: f.stack.len(),
            locals_len: f.locals.len(),
            target,
        };
        self.marks.push(mark);
    }

    /// Abandons everything above `mark`'s frame and continues at its target.
    fn unwind_to(&mut self, mark: Mark) {
        self.frames.truncate(mark.frame + 1);
        let f = self.top();
        debug_assert_eq!(f.code, mark.code);
        f.stack.truncate(mark.stack_len);
        f.locals.truncate(mark.locals_len);
        f.pc = mark.target;
    }

    fn pop_bool(&mut self, program: &Program) -> Result<bool, RuntimeError> {
        match self.pop() {
            Value::Bool(b) => Ok(b),
            v => Err(self.trap(program, format!("expected a Bool, found {}", v.kind()))),
        }
    }

    fn checked<T>(&self, program: &Program, v: Option<T>, what: &str) -> Result<T, RuntimeError> {
        v.ok_or_else(|| self.trap(program, format!("integer overflow in {what}")))
    }

    /// Returns `v` from the running frame to its caller.
    fn ret(&mut self, v: Value) -> Flow {
        let Some(Frame::Code(frame)) = self.frames.pop() else {
            unreachable!("returning from a code frame");
        };
        if let Some(ctx) = frame.clause {
            self.marks.truncate(ctx.base);
            self.marks.extend(ctx.saved);
        }
        self.deliver(v)
    }

    fn deliver(&mut self, v: Value) -> Flow {
        match self.frames.last_mut() {
            None => Flow::Done(v),
            Some(Frame::Code(f)) => {
                f.stack.push(v);
                Flow::Continue
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
                Flow::Continue
            }
        }
    }

    fn step_loop(&mut self, program: &Program) -> Result<Flow, RuntimeError> {
        let Some(Frame::Loop(l)) = self.frames.last_mut() else { unreachable!() };
        let xs = match &l.kind {
            Loop::Map { xs, .. } | Loop::Filter { xs, .. } | Loop::Fold { xs, .. } => xs,
        };
        if l.next == xs.len() {
            let Some(Frame::Loop(l)) = self.frames.pop() else { unreachable!() };
            let v = match l.kind {
                Loop::Map { out, .. } | Loop::Filter { out, .. } => Value::list(out),
                Loop::Fold { acc, .. } => acc,
            };
            self.charge_heap(program, &v)?;
            return Ok(self.deliver(v));
        }
        let x = xs[l.next].clone();
        l.next += 1;
        let args = match &mut l.kind {
            // The call's result replaces the accumulator: move it rather than copy it.
            Loop::Fold { acc, .. } => vec![acc.take(), x],
            _ => vec![x],
        };
        let f = l.f.clone();
        self.enter(program, f, args)
    }

    /// Calls a function value from a loop frame: a closure gets a frame, a builtin answers.
    fn enter(
        &mut self,
        program: &Program,
        mut f: Value,
        args: Vec<Value>,
    ) -> Result<Flow, RuntimeError> {
        match &mut f {
            Value::Closure { code, env } => {
                let (code, env) = (*code, std::mem::take(env));
                self.push_frame(program, code, env, args)?;
                Ok(Flow::Continue)
            }
            &mut Value::Builtin(b)
                if !matches!(b, Builtin::Map | Builtin::Filter | Builtin::Fold) =>
            {
                let v = self.builtin(program, b, args)?;
                Ok(self.deliver(v))
            }
            &mut Value::Builtin(b) => self.start_loop(program, b, args),
            v => Err(self.trap(program, format!("cannot call a {}", v.kind()))),
        }
    }

    fn push_frame(
        &mut self,
        program: &Program,
        code: u32,
        mut locals: Vec<Value>,
        args: Vec<Value>,
    ) -> Result<(), RuntimeError> {
        if self.frames.len() >= self.limits.call_depth as usize {
            return Err(self.exhausted(program, "call depth", u64::from(self.limits.call_depth)));
        }
        if locals.is_empty() {
            locals = args;
        } else {
            locals.extend(args);
        }
        self.frames.push(Frame::Code(CodeFrame {
            code,
            pc: 0,
            locals,
            stack: Vec::new(),
            clause: None,
        }));
        Ok(())
    }

    fn call(
        &mut self,
        program: &Program,
        host: &mut dyn Host,
        callee: Value,
        args: Vec<Value>,
    ) -> Result<Flow, RuntimeError> {
        match callee {
            Value::Builtin(Builtin::Now) => {
                self.perform(program, host, HostEffect::Now.hash(), Vec::new())
            }
            Value::Builtin(b @ (Builtin::Map | Builtin::Filter | Builtin::Fold)) => {
                self.start_loop(program, b, args)
            }
            callee => self.enter(program, callee, args),
        }
    }

    fn start_loop(
        &mut self,
        program: &Program,
        b: Builtin,
        args: Vec<Value>,
    ) -> Result<Flow, RuntimeError> {
        let mut args = args.into_iter();
        let xs = match args.next() {
            Some(Value::List(ref xs)) => xs.clone(),
            _ => return Err(self.trap(program, format!("{} needs a list", b.name()))),
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
            return Err(self.trap(program, format!("{} needs a function", b.name())));
        };
        if self.frames.len() >= self.limits.call_depth as usize {
            return Err(self.exhausted(program, "call depth", u64::from(self.limits.call_depth)));
        }
        self.frames.push(Frame::Loop(LoopFrame { f, next: 0, kind }));
        Ok(Flow::Continue)
    }

    fn builtin(
        &mut self,
        program: &Program,
        b: Builtin,
        args: Vec<Value>,
    ) -> Result<Value, RuntimeError> {
        let bad = |vm: &Vm| vm.trap(program, format!("bad arguments to {}", b.name()));
        let mut args = args;
        // Values cannot be destructured by move (they free their children iteratively in
        // `Drop`); an updated map is taken out of its slot so that it stays unshared.
        let v = match (b, args.as_mut_slice()) {
            (Builtin::Show, [v]) => {
                let v = Value::String(show(program, v).into());
                self.charge_heap(program, &v)?;
                v
            }
            (Builtin::Len, [v]) => Value::Int(match v {
                Value::List(xs) => xs.len() as i64,
                Value::String(s) => s.chars().count() as i64,
                Value::Map(m) => m.len() as i64,
                _ => return Err(bad(self)),
            }),
            (Builtin::Get, [Value::Map(m), k]) => Value::Option(m.get(k).cloned().map(Arc::new)),
            (Builtin::Get, [Value::List(xs), Value::Int(i)]) => Value::Option(
                usize::try_from(*i).ok().and_then(|i| xs.get(i)).cloned().map(Arc::new),
            ),
            (Builtin::Insert, [Value::Map(m), k, v]) => {
                let mut m = std::mem::take(m);
                self.charge_copy(program, &m, m.len() as u64 * 2)?;
                self.charge(program, 2 * WORD)?;
                Arc::make_mut(&mut m).insert(k.take(), v.take());
                Value::Map(m)
            }
            (Builtin::EmptyMap, []) => Value::map(BTreeMap::new()),
            (Builtin::Keys, [Value::Map(m)]) => {
                let v = Value::list(m.keys().cloned().collect());
                self.charge_heap(program, &v)?;
                v
            }
            _ => return Err(bad(self)),
        };
        Ok(v)
    }

    fn concat(&mut self, program: &Program, mut l: Value, r: Value) -> Result<Value, RuntimeError> {
        Ok(match (&mut l, &r) {
            (Value::String(a), Value::String(b)) => {
                let mut s = String::with_capacity(a.len() + b.len());
                s.push_str(a);
                s.push_str(b);
                let v = Value::String(s.into());
                self.charge_heap(program, &v)?;
                v
            }
            (Value::List(a), Value::List(b)) => {
                let mut a = std::mem::take(a);
                self.charge_copy(program, &a, a.len() as u64)?;
                self.charge(program, WORD * b.len() as u64)?;
                Arc::make_mut(&mut a).extend(b.iter().cloned());
                Value::List(a)
            }
            (a, b) => {
                return Err(self.trap(
                    program,
                    format!("`++` is not defined on {} and {}", a.kind(), b.kind()),
                ));
            }
        })
    }

    fn binary(
        &self,
        program: &Program,
        op: BinOp,
        l: Value,
        r: Value,
    ) -> Result<Value, RuntimeError> {
        use Value::{Bool, Duration as D, Int};
        let ov = |v: Option<i64>| self.checked(program, v, op.symbol());
        let div = |a: i64, b: i64, f: fn(i64, i64) -> Option<i64>| {
            if b == 0 { Err(self.trap(program, "division by zero")) } else { ov(f(a, b)) }
        };
        Ok(match (op, l, r) {
            (BinOp::Add, Int(a), Int(b)) => Int(ov(a.checked_add(b))?),
            (BinOp::Sub, Int(a), Int(b)) => Int(ov(a.checked_sub(b))?),
            (BinOp::Mul, Int(a), Int(b)) => Int(ov(a.checked_mul(b))?),
            (BinOp::Div, Int(a), Int(b)) => Int(div(a, b, i64::checked_div)?),
            (BinOp::Rem, Int(a), Int(b)) => Int(div(a, b, i64::checked_rem)?),
            (BinOp::Add, D(a), D(b)) => D(ov(a.checked_add(b))?),
            (BinOp::Sub, D(a), D(b)) => D(ov(a.checked_sub(b))?),
            (BinOp::Mul, D(a), Int(b)) => D(ov(a.checked_mul(b))?),
            (BinOp::Div, D(a), Int(b)) => D(div(a, b, i64::checked_div)?),
            (BinOp::Eq, a, b) => Bool(a == b),
            (BinOp::Ne, a, b) => Bool(a != b),
            (BinOp::Lt, a, b) if comparable(&a, &b) => Bool(a < b),
            (BinOp::Le, a, b) if comparable(&a, &b) => Bool(a <= b),
            (BinOp::Gt, a, b) if comparable(&a, &b) => Bool(a > b),
            (BinOp::Ge, a, b) if comparable(&a, &b) => Bool(a >= b),
            (op, a, b) => {
                return Err(self.trap(
                    program,
                    format!("`{}` is not defined on {} and {}", op.symbol(), a.kind(), b.kind()),
                ));
            }
        })
    }

    fn perform(
        &mut self,
        program: &Program,
        host: &mut dyn Host,
        effect: CodeHash,
        args: Vec<Value>,
    ) -> Result<Flow, RuntimeError> {
        self.usage.effects += 1;
        if self.usage.effects > self.limits.effects {
            return Err(self.exhausted(program, "effects", self.limits.effects));
        }
        // The nearest visible handler with a clause for this operation.
        for h in (0..self.marks.len()).rev() {
            let MarkKind::Handle { table, env } = &self.marks[h].kind else { continue };
            let code = &program.codes[self.marks[h].code as usize];
            let Some(clause) = code.handlers[*table as usize].iter().find(|c| c.effect == effect)
            else {
                continue;
            };
            if clause.arity as usize != args.len() {
                return Err(self.trap(program, "a handler clause with the wrong arity"));
            }
            let (code, pc, env) = (self.marks[h].code, clause.pc, env.clone());
            self.push_frame(program, code, env, args)?;
            let saved = self.marks.split_off(h);
            let f = self.top();
            f.pc = pc;
            f.clause = Some(ClauseCtx { base: h, saved });
            return Ok(Flow::Continue);
        }
        let name = || {
            program
                .effect_names
                .get(&effect)
                .map_or_else(|| format!("#{}", effect.short()), |n| n.to_string())
        };
        let Some(op) = HostEffect::from_hash(&effect) else {
            return Err(self.trap(program, format!("unhandled effect {}", name())));
        };
        let host_err = |vm: &Vm, e: HostError| RuntimeError::Host {
            effect: op.name().into(),
            message: e.0,
            at: vm.location(program),
        };
        let cost = match (op, args.as_slice()) {
            (HostEffect::Sleep, [Value::Duration(d)]) if *d < 0 => {
                return Err(self.trap(program, format!("Sleep with a negative duration ({d}ms)")));
            }
            (HostEffect::Sleep, [Value::Duration(d)]) => *d,
            _ => host.cost(op, &args).map_err(|e| host_err(self, e))?,
        };
        let when = self.checked(program, self.clock.checked_add(cost), "the virtual clock")?;
        // The earliest visible deadline; among equal ones the outermost is abandoned.
        let earliest = self
            .marks
            .iter()
            .enumerate()
            .filter_map(|(i, m)| match m.kind {
                MarkKind::Within { deadline } => Some((deadline, i)),
                MarkKind::Handle { .. } => None,
            })
            .min();
        if let Some((deadline, i)) = earliest
            && when > deadline
        {
            self.clock = deadline;
            let mark = self.marks[i].clone();
            self.marks.truncate(i);
            self.unwind_to(mark);
            return Ok(Flow::Continue);
        }
        let value = match op {
            HostEffect::Now => Value::Int(self.clock),
            _ => host.perform(op, &args, self.clock).map_err(|e| host_err(self, e))?,
        };
        self.clock = when;
        self.push(value);
        Ok(Flow::Continue)
    }
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

/// Matches `v` against `p`, collecting bindings in the pattern's canonical order. Recursion
/// follows the pattern (bounded by the source), never the value.
fn matches(p: &Pat, v: &Value, out: &mut Vec<Value>) -> bool {
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
