//! Running a [`Module`] on rv-emu with the VM's host, limits and errors.
//!
//! The machine answers the program's `ecall`s: a host effect goes through the same protocol
//! as the VM's `perform` (count it, ask the host its cost, advance the virtual clock, answer
//! `Now` from the clock, ask the host the rest), so a recording host sees the same questions
//! in the same order. Fuel is RISC-V instructions. Errors are `tel_vm::RuntimeError`s with
//! the TEL call stack rebuilt from the frames (each holds its return address at `0(sp)`).

use std::time::Instant;

use rv_emu::{Bus, Cpu, Fault, FaultKind, Memory, Perm, Reg, Segment, Stop, Width};
use tel_hash::core::{CoreDef, Type};
use tel_vm::resources::{Amounts, Grant, ResourceAllocator, ResourceError};
use tel_vm::{CallStack, Host, HostEffect, Limits, Location, Resource, RuntimeError, Usage, Value};

use crate::abi::{self, CODE_BASE, Kind, Layout, REG_ARGS, SERVICE_EXIT, SERVICE_TRAP};
use crate::asm::FrameState;
use crate::module::Module;

/// Instructions between two checks of the wall clock and the grant.
const SLICE: u64 = 1 << 16;

/// How a run stopped without an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// The instructions asked for ran; the program goes on.
    Running,
    /// pc is at a breakpoint (its instruction has not run).
    Breakpoint,
    Done(Value),
}

/// Why a machine could not be started.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    #[error("the entry point takes {expected} argument(s), not {found}")]
    Arity { expected: usize, found: usize },
    #[error("argument {index}: expected {expected:?}, found {found}")]
    Kind { index: usize, expected: Kind, found: String },
    #[error("the memory layout was refused: {0}")]
    Layout(String),
}

/// A run of a module: the processor and memory, the virtual clock, the usage and limits.
pub struct Machine {
    cpu: Cpu,
    layout: Layout,
    /// The virtual clock, in milliseconds.
    pub clock: i64,
    pub usage: Usage,
    pub limits: Limits,
    result: Option<Value>,
    grant: Option<Grant>,
    charged: Usage,
    /// Where the effect count stops the run in this slice, and the limit it names.
    effects_until: u64,
    effects_limit: u64,
}

fn value_words(v: &Value) -> Option<(u32, u32)> {
    match v {
        Value::Int(n) => Some((*n as u32, (*n >> 32) as u32)),
        Value::Bool(b) => Some((u32::from(*b), 0)),
        Value::Unit => Some((0, 0)),
        _ => None,
    }
}

fn kind_matches(k: Kind, v: &Value) -> bool {
    matches!(
        (k, v),
        (Kind::Int, Value::Int(_)) | (Kind::Bool, Value::Bool(_)) | (Kind::Unit, Value::Unit)
    )
}

fn value_of(kind: Kind, lo: u32, hi: u32) -> Value {
    match kind {
        Kind::Int => Value::Int((u64::from(hi) << 32 | u64::from(lo)) as i64),
        Kind::Bool => Value::Bool(lo != 0),
        Kind::Unit => Value::Unit,
    }
}

impl Machine {
    /// A machine about to run `module`'s entry point with `args`, the clock at
    /// `clock_start`.
    pub fn new(
        module: &Module,
        args: &[Value],
        limits: Limits,
        clock_start: i64,
    ) -> Result<Machine, StartError> {
        let entry = module.entry_fn();
        if entry.params.len() != args.len() {
            return Err(StartError::Arity { expected: entry.params.len(), found: args.len() });
        }
        for (index, (k, v)) in entry.params.iter().zip(args).enumerate() {
            if !kind_matches(*k, v) {
                return Err(StartError::Kind { index, expected: *k, found: v.kind().to_string() });
            }
        }
        let layout = Layout::new(
            module.code.len() as u32,
            module.rodata.len() as u32,
            module.frame,
            limits.call_depth,
        );
        let seg = |name: &str, base, size, perm, guard| Segment {
            name: name.into(),
            base,
            size,
            perm,
            guard,
        };
        let mut segments = vec![(
            seg("code", CODE_BASE, layout.code_size.max(4), Perm::RX, false),
            module.code.clone(),
        )];
        if !module.rodata.is_empty() {
            segments.push((
                seg("rodata", layout.rodata, layout.rodata_size, Perm::R, false),
                module.rodata.clone(),
            ));
        }
        segments.push((
            seg("stack guard", layout.guard, layout.guard_size, Perm::NONE, true),
            Vec::new(),
        ));
        segments.push((
            seg("stack", layout.stack, layout.top - layout.stack, Perm::RW, false),
            Vec::new(),
        ));
        let memory = Memory::new(segments).map_err(|e| StartError::Layout(e.to_string()))?;
        let mut cpu = Cpu::new(memory, CODE_BASE);
        cpu.set_reg(Reg::SP, layout.top);
        // Arguments as the start-up stub's call passes them: registers, then the entry's
        // frame (just below the top).
        for (i, v) in args.iter().enumerate() {
            let (lo, hi) = value_words(v).expect("checked above");
            if i < REG_ARGS {
                let (rlo, rhi) = abi::pair(i);
                cpu.set_reg(rlo, lo);
                cpu.set_reg(rhi, hi);
            } else {
                let at = layout.top - module.frame + abi::slot_offset(i as u32) as u32;
                cpu.bus_mut().poke(at, Width::Word, lo);
                cpu.bus_mut().poke(at + 4, Width::Word, hi);
            }
        }
        Ok(Machine {
            cpu,
            layout,
            clock: clock_start,
            usage: Usage::default(),
            limits,
            result: None,
            grant: None,
            charged: Usage::default(),
            effects_until: limits.effects,
            effects_limit: limits.effects,
        })
    }

    pub fn cpu(&self) -> &Cpu {
        &self.cpu
    }

    /// The processor, for a debugger: breakpoints, stepping, the undo log.
    pub fn cpu_mut(&mut self) -> &mut Cpu {
        &mut self.cpu
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    pub fn result(&self) -> Option<&Value> {
        self.result.as_ref()
    }

    /// Runs under `grant` from now on: its use is charged there, and the run stops at its
    /// limits too. Without one, a run takes a grant for its limits from the global
    /// allocator, as the VM does.
    pub fn attach(&mut self, grant: Grant) {
        self.grant = Some(grant);
        self.charged = self.usage;
    }

    /// Takes back the last instruction (rv-emu's undo log, which [`Cpu::record_undo`] turns
    /// on) with the machine's accounts: the instruction count and, when it was the `ecall`
    /// of a host effect, the effect's count and the time it moved the clock by, which
    /// `cost(k)` gives for the `k`th effect (0-based; a debugger knows it from the run's
    /// recording; 0 for one that failed). An error the machine stopped with is gone with it.
    pub fn step_back(&mut self, cost: impl FnOnce(u64) -> i64) -> Result<(), rv_emu::NoHistory> {
        self.cpu.step_back()?;
        self.usage.fuel = self.usage.fuel.saturating_sub(1);
        let a7 = self.cpu.reg(Reg::A7) as usize;
        if matches!(self.cpu.insn_at(self.cpu.pc()), Some(rv_emu::Insn::Ecall))
            && a7 < HostEffect::ALL.len()
            && self.usage.effects > 0
        {
            self.usage.effects -= 1;
            self.clock -= cost(self.usage.effects);
        }
        // Instructions run again are charged again.
        self.charged.fuel = self.charged.fuel.min(self.usage.fuel);
        self.charged.effects = self.charged.effects.min(self.usage.effects);
        self.result = None;
        Ok(())
    }

    /// Runs until the result or an error.
    pub fn run_to_end(
        &mut self,
        module: &Module,
        host: &mut dyn Host,
    ) -> Result<Value, RuntimeError> {
        loop {
            match self.run(module, host, u64::MAX)? {
                Status::Done(v) => return Ok(v),
                // A breakpoint set by a debugger: run through it.
                Status::Breakpoint => {
                    let before = self.cpu.instret();
                    let stop = self.cpu.step();
                    self.usage.fuel += self.cpu.instret() - before;
                    if let Some(s) = stop
                        && let Some(v) = self.stopped(module, host, s)?
                    {
                        return Ok(v);
                    }
                }
                Status::Running => {}
            }
        }
    }

    /// Runs at most `steps` instructions (less when the program finishes or reaches a
    /// breakpoint).
    pub fn run(
        &mut self,
        module: &Module,
        host: &mut dyn Host,
        steps: u64,
    ) -> Result<Status, RuntimeError> {
        if let Some(v) = &self.result {
            return Ok(Status::Done(v.clone()));
        }
        if host.observes_calls() {
            // The frames of compiled code are not reported to a host (a memo cache).
            return Err(RuntimeError::Trap {
                message:
                    "the RISC-V backend does not report calls to a host that observes them (--memo)"
                        .into(),
                at: CallStack::default(),
            });
        }
        let r = self.run_slices(module, host, steps);
        if !matches!(r, Ok(Status::Running | Status::Breakpoint)) {
            let settled = self.settle();
            self.grant = None;
            if let (Ok(_), Err(resource_error)) = (&r, settled) {
                return Err(self.exhausted(module, resource_error));
            }
        }
        r
    }

    fn run_slices(
        &mut self,
        module: &Module,
        host: &mut dyn Host,
        steps: u64,
    ) -> Result<Status, RuntimeError> {
        let mut left = steps;
        while left > 0 {
            let budget = self.plan(module)?;
            let slice = left.min(budget).min(SLICE);
            let start = Instant::now();
            let before = self.cpu.instret();
            let stop = self.cpu.run(slice);
            let ran = self.cpu.instret() - before;
            self.usage.fuel += ran;
            self.usage.wall_us += start.elapsed().as_micros() as u64;
            left = left.saturating_sub(ran);
            match stop {
                Stop::OutOfFuel => {}
                Stop::Breakpoint => return Ok(Status::Breakpoint),
                other => {
                    if let Some(v) = self.stopped(module, host, other)? {
                        return Ok(Status::Done(v));
                    }
                }
            }
            if self.usage.wall_us > self.limits.wall_ms.saturating_mul(1000) {
                return Err(self.error(module, Resource::WallTime, self.limits.wall_ms));
            }
            self.settle().map_err(|e| self.exhausted(module, e))?;
        }
        Ok(Status::Running)
    }

    /// Handles a stop of the processor other than the end of its fuel or a breakpoint.
    fn stopped(
        &mut self,
        module: &Module,
        host: &mut dyn Host,
        stop: Stop,
    ) -> Result<Option<Value>, RuntimeError> {
        match stop {
            Stop::Ecall => self.service(module, host),
            Stop::Completed => Ok(self.result.clone()),
            Stop::Fault(f) => Err(self.fault(module, &f)),
            Stop::Ebreak => Err(self.trap(module, "ebreak in compiled code".into())),
            Stop::OutOfFuel | Stop::Breakpoint => Ok(None),
        }
    }

    /// The fuel the next slice may use, after taking a grant when the run has none.
    fn plan(&mut self, module: &Module) -> Result<u64, RuntimeError> {
        if self.grant.is_none() {
            let request = self.limits.request(&self.usage);
            match ResourceAllocator::global().allocate(request) {
                Ok(g) => self.attach(g),
                Err(e) => return Err(self.exhausted(module, e)),
            }
        }
        let mut fuel = (self.limits.fuel, self.limits.fuel.saturating_sub(self.usage.fuel));
        let mut effects =
            (self.limits.effects, self.limits.effects.saturating_sub(self.usage.effects));
        if let Some(g) = &self.grant {
            let a = g.allocator();
            for (mine, r) in [(&mut fuel, Resource::Fuel), (&mut effects, Resource::Effects)] {
                let (left, limit) = a.binding(g, r);
                if left < mine.1 {
                    *mine = (limit, left);
                }
            }
        }
        self.effects_until = self.usage.effects.saturating_add(effects.1);
        self.effects_limit = effects.0;
        if fuel.1 == 0 {
            return Err(self.error(module, Resource::Fuel, fuel.0));
        }
        Ok(fuel.1)
    }

    /// Charges what the run used since the last time to its grant.
    fn settle(&mut self) -> Result<(), ResourceError> {
        let (u, c) = (self.usage, self.charged);
        self.charged = u;
        let Some(g) = &self.grant else { return Ok(()) };
        let delta = Amounts {
            fuel: u.fuel - c.fuel,
            heap_bytes: 0,
            effects: u.effects - c.effects,
            wall_ms: u.wall_us / 1000 - c.wall_us / 1000,
        };
        match g.allocator().charge(g, delta) {
            Err(ResourceError::Released) => Ok(()),
            r => r,
        }
    }

    fn exhausted(&self, module: &Module, e: ResourceError) -> RuntimeError {
        match e {
            ResourceError::Insufficient { resource, available, .. } => {
                self.error(module, resource, available)
            }
            ResourceError::Exhausted { resource, limit } => self.error(module, resource, limit),
            ResourceError::Released => self.trap(module, "the allocator refused a grant".into()),
        }
    }

    fn error(&self, module: &Module, resource: Resource, limit: u64) -> RuntimeError {
        RuntimeError::ResourceExhausted { resource, limit, at: self.call_stack(module) }
    }

    fn trap(&self, module: &Module, message: String) -> RuntimeError {
        RuntimeError::Trap { message, at: self.call_stack(module) }
    }

    /// A fault of compiled code: the stack guard is the call-depth limit (the stack holds
    /// exactly that many frames); anything else is a bug of the compiler, reported as a trap.
    fn fault(&self, module: &Module, f: &Fault) -> RuntimeError {
        if f.kind == FaultKind::StackOverflow {
            let mut at = self.call_stack(module);
            // A function's first instruction probes its frame: when that faults, the call
            // did not happen, and the stack is the caller's, at its call.
            if module.functions.iter().any(|g| g.start == f.pc) {
                at.0.remove(0);
            }
            return RuntimeError::ResourceExhausted {
                resource: Resource::CallDepth,
                limit: u64::from(self.layout.frames),
                at,
            };
        }
        self.trap(module, format!("machine fault: {f}"))
    }

    /// Answers the `ecall` at pc. `Some(result)` when the program finished.
    fn service(
        &mut self,
        module: &Module,
        host: &mut dyn Host,
    ) -> Result<Option<Value>, RuntimeError> {
        let pc = self.cpu.pc();
        let a7 = self.cpu.reg(Reg::A7) as i32;
        match a7 {
            SERVICE_EXIT => {
                let v =
                    value_of(module.entry_fn().ret, self.cpu.reg(Reg::A0), self.cpu.reg(Reg::A1));
                self.result = Some(v.clone());
                self.cpu.complete();
                Ok(Some(v))
            }
            SERVICE_TRAP => {
                let message = module
                    .trap_at(pc)
                    .map_or_else(|| format!("a trap at {pc:#x}"), |t| t.message());
                Err(self.trap(module, message))
            }
            n if (0..HostEffect::ALL.len() as i32).contains(&n) => {
                let op = HostEffect::ALL[n as usize];
                self.perform(module, host, op)?;
                self.cpu.advance();
                Ok(None)
            }
            n => Err(self.trap(module, format!("unknown service {n} in a7"))),
        }
    }

    /// The VM's protocol for a host effect (tel_vm's `Vm::perform`, without handlers or
    /// deadlines, which the subset has not).
    fn perform(
        &mut self,
        module: &Module,
        host: &mut dyn Host,
        op: HostEffect,
    ) -> Result<(), RuntimeError> {
        self.usage.effects += 1;
        if self.usage.effects > self.effects_until {
            return Err(self.error(module, Resource::Effects, self.effects_limit));
        }
        let args = self.effect_args(op);
        let host_error = |m: &Machine, e: tel_vm::HostError| RuntimeError::Host {
            effect: op.name().into(),
            message: e.0,
            at: m.call_stack(module),
        };
        let cost = host.cost(op, &args).map_err(|e| host_error(self, e))?;
        let Some(when) = self.clock.checked_add(cost) else {
            return Err(self.trap(module, "integer overflow in the virtual clock".into()));
        };
        let value = match op {
            HostEffect::Now => Value::Int(self.clock),
            _ => host.perform(op, &args, self.clock).map_err(|e| host_error(self, e))?,
        };
        self.clock = when;
        if let Some((lo, hi)) = value_words(&value) {
            self.cpu.set_reg(Reg::A0, lo);
            self.cpu.set_reg(Reg::A1, hi);
        }
        Ok(())
    }

    /// The arguments of an effect, from the registers, by the effect's parameter types.
    fn effect_args(&self, op: HostEffect) -> Vec<Value> {
        let CoreDef::Effect { params, .. } = op.def() else { unreachable!("an effect") };
        params
            .iter()
            .enumerate()
            .map(|(k, ty)| {
                let (rlo, rhi) = abi::pair(k);
                let (lo, hi) = (self.cpu.reg(rlo), self.cpu.reg(rhi));
                match ty {
                    Type::String => {
                        let bytes = self.cpu.bus().read_bytes(lo, hi as usize).unwrap_or_default();
                        Value::String(String::from_utf8_lossy(bytes).as_ref().into())
                    }
                    Type::Int => Value::Int((u64::from(hi) << 32 | u64::from(lo)) as i64),
                    Type::Bool => Value::Bool(lo != 0),
                    _ => Value::Unit,
                }
            })
            .collect()
    }

    /// The TEL call stack at pc, innermost first.
    pub fn call_stack(&self, module: &Module) -> CallStack {
        CallStack(self.frames(module).into_iter().map(|(_, l)| l).collect())
    }

    /// The frames at pc, innermost first: where each is (pc, the call for a caller) and its
    /// place in TEL terms.
    pub fn frames(&self, module: &Module) -> Vec<(u32, Location)> {
        let mut out = Vec::new();
        let at = |pc: u32, f: &crate::module::FnInfo, expr: u32| {
            (pc, Location { def: f.hash, name: f.name.clone(), lambda: false, expr })
        };
        let (pc, sp) = (self.cpu.pc(), self.cpu.reg(Reg::SP));
        let Some((f, tag)) = module.tagged(pc) else { return out };
        out.push(at(pc, f, tag.expr));
        // Where the innermost function's return address is (see asm::FrameState); every
        // caller is at a call, with its frame complete.
        let ra = self.cpu.reg(Reg::RA);
        let (mut pc, mut sp) = match tag.frame {
            FrameState::None => (ra.wrapping_sub(4), sp),
            FrameState::Partial => (ra.wrapping_sub(4), sp.wrapping_add(module.frame)),
            FrameState::Full => match self.cpu.bus().peek(sp, Width::Word) {
                Some(ra) => (ra.wrapping_sub(4), sp.wrapping_add(module.frame)),
                None => return out,
            },
        };
        while let Some((f, tag)) = module.tagged(pc) {
            out.push(at(pc, f, tag.expr));
            if sp.wrapping_add(module.frame) > self.layout.top
                || out.len() as u32 > self.layout.frames
            {
                break;
            }
            let Some(ra) = self.cpu.bus().peek(sp, Width::Word) else { break };
            pc = ra.wrapping_sub(4);
            sp = sp.wrapping_add(module.frame);
        }
        out
    }
}
