//! The debugger of a RISC-V launch (`"backend": "riscv"`): the program compiled to RV32IM
//! (tel-riscv) runs on rv-emu under the debugger, one machine instruction at a time when
//! asked.
//!
//! The run is recorded first, with the real host in the sandbox, as `tel run --backend
//! riscv` runs it; the machine being debugged then takes every host answer from that
//! recording, so going back and forth never asks the host twice and always sees the same
//! run. Going back is rv-emu's undo log (the last [`UNDO_STEPS`] instructions); the machine's
//! own accounts (instructions, effects, virtual clock) are rewound with it, an `ecall` of an
//! effect taking back the effect's cost.
//!
//! The run ends *at* the start-up stub's exit `ecall` (the machine never executes it), so the
//! end is a position like any other: one can step back from it.
//!
//! Requests: breakpoints by source line (each maps to the first instruction of every stretch
//! of code compiled from that line), `continue`, `reverseContinue`, `next`/`stepIn`/`stepOut`
//! (by line, or by instruction with `granularity: "instruction"`), `stepBack`, `stackTrace`
//! (with each frame's `instructionPointerReference`), `scopes`/`variables` (the registers,
//! the run's counters), `disassemble` (disc-v's text, as objdump prints it).

use serde_json::{Value as Json, json};
use tel_ide::run::riscv::{CompileStats, refusal};
use tel_ide::run::{Code, Stop};
use tel_riscv::abi::CODE_BASE;
use tel_riscv::{Machine, Module};
use tel_vm::trace::Event;
use tel_vm::{Host, HostEffect, HostError, Location, Program, RuntimeError, Value};

use crate::debugger::{LaunchError, LaunchSpec, Loaded, stop_error};
use crate::sources::{ClientBases, Place, SourceMap};

/// Instructions the undo log keeps (20 bytes each, allocated at launch).
pub const UNDO_STEPS: usize = 1 << 20;

/// The start-up stub's exit `ecall` (`jal ra, entry; li a7, 64; ecall`): the end of a run.
const EXIT_PC: u32 = CODE_BASE + 8;

/// Instructions a line step runs at most before it stops where it is.
const STEP_LIMIT: u64 = 50_000_000;

const THREAD: i64 = 1;

/// References of the `variables` request.
const REGISTERS: i64 = 1;
const RUN: i64 = 2;

/// A line breakpoint: where the client put it, and the instructions it stops at.
struct LineBreakpoint {
    id: i64,
    pcs: Vec<u32>,
}

/// Answers the machine's host questions from the recording: the `k`th effect gets the
/// `k`th recorded answer.
struct Recorded<'a> {
    effects: &'a [Event],
    next: usize,
}

impl Recorded<'_> {
    fn diverged(&self, effect: HostEffect) -> HostError {
        HostError(format!(
            "the debugged run asked {} as effect {} where its recording has {}",
            effect.name(),
            self.next + 1,
            match self.effects.get(self.next) {
                Some(
                    Event::EffectApplied { effect, .. } | Event::EffectNotPerformed { effect, .. },
                ) => {
                    effect.name()
                }
                _ => "no more effects",
            }
        ))
    }
}

impl Host for Recorded<'_> {
    fn cost(&mut self, effect: HostEffect, _args: &[Value]) -> Result<i64, HostError> {
        match self.effects.get(self.next) {
            Some(Event::EffectApplied { effect: e, cost: Some(c), .. }) if *e == effect => Ok(*c),
            Some(Event::EffectNotPerformed { effect: e, cost, .. }) if *e == effect => {
                self.next += 1;
                cost.clone().map_err(HostError)
            }
            _ => Err(self.diverged(effect)),
        }
    }

    fn perform(
        &mut self,
        effect: HostEffect,
        _args: &[Value],
        _now: i64,
    ) -> Result<Value, HostError> {
        match self.effects.get(self.next) {
            Some(Event::EffectApplied { effect: e, result, .. }) if *e == effect => {
                self.next += 1;
                result.clone().map_err(HostError)
            }
            _ => Err(self.diverged(effect)),
        }
    }
}

/// The cost an effect event moved the clock by (none when it failed).
fn clock_cost(e: Option<&Event>) -> i64 {
    match e {
        Some(Event::EffectApplied { cost: Some(c), result: Ok(_), .. }) => *c,
        Some(Event::EffectNotPerformed { cost: Ok(c), .. }) => *c,
        _ => 0,
    }
}

/// How a motion moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// One instruction.
    Instruction,
    /// To the next line, calls included.
    In,
    /// To the next line of this function or a caller.
    Over,
    /// Out of this function.
    Out,
}

/// The RISC-V debugger. See the module documentation.
pub struct RvDebugger {
    code: Code,
    program: Program,
    module: Module,
    machine: Machine,
    map: SourceMap,
    /// The recorded run's effect events, in order, and its outcome.
    effects: Vec<Event>,
    outcome: Result<Value, RuntimeError>,
    /// The error the machine stopped with here, when it did.
    error: Option<RuntimeError>,
    /// Each code word's source place (1-based line).
    places: Vec<Option<Place>>,
    breakpoints: Vec<LineBreakpoint>,
    /// Effects whose `Log` line was shown: each is shown once, when the run first passes it.
    shown: usize,
    next_id: i64,
    started: bool,
    stop_on_entry: bool,
    bases: ClientBases,
    pub compiled: CompileStats,
    pub notes: Vec<String>,
}

impl RvDebugger {
    /// Loads the program as a VM launch does, compiles it (a construct outside the subset is
    /// refused with its place), records its run and prepares a machine at its start.
    pub fn launch(
        spec: &LaunchSpec,
        stop_on_entry: bool,
        bases: ClientBases,
    ) -> Result<RvDebugger, LaunchError> {
        let Loaded { code, sources, codebase, args, sandbox, host_file, stored, mut notes } =
            Loaded::load(spec)?;
        if stored.is_some() {
            return Err("a stored debug session is a VM session: resume it without \
                        \"backend\": \"riscv\""
                .to_string()
                .into());
        }
        let compiled = tel_ide::run::riscv::compile_beside(&code, codebase.as_deref(), &mut notes);
        let (module, compiled) = compiled.map_err(|s| match s {
            Stop::NotCompiled(e) => LaunchError::from(refusal(sources.as_ref(), &code, &e)),
            s => stop_error(s, None),
        })?;
        let program = Program::load(&code.defs, code.entry).map_err(|e| e.to_string())?;
        let mut meta = tel_ide::run::run_meta(&code, &program, args, &sandbox, host_file);
        // A wall-clock limit would make the debugged run irreproducible.
        meta.limits.wall_ms = u64::MAX;
        let mut host = sandbox.wrap(meta.host.clone().unwrap_or_default().host());
        let rec = tel_riscv::record(&module, &meta, &mut host).map_err(|e| e.to_string())?;
        let effects = rec
            .trace
            .events()
            .iter()
            .filter(|e| matches!(e, Event::EffectApplied { .. } | Event::EffectNotPerformed { .. }))
            .cloned()
            .collect();
        let mut machine = Machine::new(&module, &meta.args, meta.limits, meta.clock_start)
            .map_err(|e| e.to_string())?;
        machine.cpu_mut().record_undo(Some(UNDO_STEPS));
        machine.cpu_mut().add_breakpoint(EXIT_PC);
        let map = SourceMap::new(sources.as_ref(), &code);
        let places = (0..module.code.len() as u32 / 4)
            .map(|w| {
                let (f, expr) = module.place(CODE_BASE + 4 * w)?;
                map.locate(&Location { def: f.hash, name: f.name.clone(), lambda: false, expr })
            })
            .collect();
        Ok(RvDebugger {
            code,
            program,
            module,
            machine,
            map,
            effects,
            outcome: rec.outcome,
            error: None,
            places,
            breakpoints: Vec::new(),
            shown: 0,
            next_id: 1,
            started: false,
            stop_on_entry,
            bases,
            compiled,
            notes,
        })
    }

    pub fn code(&self) -> &Code {
        &self.code
    }

    pub fn module(&self) -> &Module {
        &self.module
    }

    pub fn machine(&self) -> &Machine {
        &self.machine
    }

    /// Instructions run so far: the position in the run.
    pub fn position(&self) -> u64 {
        self.machine.cpu().instret()
    }

    pub fn at_end(&self) -> bool {
        self.machine.cpu().pc() == EXIT_PC || self.error.is_some()
    }

    /// How the recorded run ended.
    pub fn outcome_text(&self) -> String {
        let name = self.code.name(&self.code.entry);
        match &self.outcome {
            Ok(v) => format!("{name} → {}", tel_vm::show::show(&self.program, v)),
            Err(e) => format!("the run failed: {}", tel_ide::run::report::error_message(e)),
        }
    }

    /// The lines the program logged since the run last went further than ever.
    pub fn take_output(&mut self) -> Vec<String> {
        let done = (self.machine.usage.effects as usize).min(self.effects.len());
        if done <= self.shown {
            return Vec::new();
        }
        let lines = tel_ide::run::report::log_lines(&self.program, &self.effects[self.shown..done]);
        self.shown = done;
        lines
    }

    pub fn outcome_ok(&self) -> bool {
        self.outcome.is_ok()
    }

    fn place_at(&self, pc: u32) -> Option<&Place> {
        let w = pc.checked_sub(CODE_BASE)? / 4;
        self.places.get(w as usize)?.as_ref()
    }

    /// The source line of the instruction at `pc`.
    fn line_at(&self, pc: u32) -> Option<(tel_ide::FileId, u32)> {
        self.place_at(pc).map(|p| (p.file, p.line))
    }

    /// A client's line as a 1-based line.
    pub fn line_in(&self, line: i64) -> u32 {
        self.bases.line_in(line)
    }

    fn depth(&self) -> usize {
        self.machine.frames(&self.module).len()
    }

    // ---- breakpoints ----

    /// Replaces the line breakpoints of `path` (1-based lines); answers each one's status.
    pub fn set_line_breakpoints(&mut self, path: &std::path::Path, lines: &[u32]) -> Vec<Json> {
        let file = self.map.file_for_path(path);
        let cpu_pcs: Vec<u32> = self.breakpoints.iter().flat_map(|b| b.pcs.clone()).collect();
        for pc in cpu_pcs {
            self.machine.cpu_mut().remove_breakpoint(pc);
        }
        // Breakpoints of other files stay (their pcs come back below).
        self.breakpoints.retain(|b| {
            b.pcs
                .first()
                .and_then(|pc| self.places[((pc - CODE_BASE) / 4) as usize].as_ref())
                .is_some_and(|p| Some(p.file) != file)
        });
        let mut out = Vec::new();
        for &line in lines {
            let id = self.next_id;
            self.next_id += 1;
            let Some(file) = file else {
                out.push(json!({ "id": id, "verified": false, "line": self.bases.line_out(line),
                    "message": "this file is not part of the program being debugged" }));
                continue;
            };
            let target = self.map.code_line_from(file, line).unwrap_or(line);
            let mut pcs = self.stretch_starts(file, target);
            let mut at = target;
            if pcs.is_empty() && target != line {
                pcs = self.stretch_starts(file, line);
                at = line;
            }
            if pcs.is_empty() {
                out.push(json!({ "id": id, "verified": false, "line": self.bases.line_out(line),
                    "message": "no RISC-V code was compiled from this line" }));
                continue;
            }
            let first = pcs[0];
            out.push(json!({ "id": id, "verified": true, "line": self.bases.line_out(at),
                "instructionReference": format!("0x{first:x}") }));
            self.breakpoints.push(LineBreakpoint { id, pcs });
        }
        let pcs: Vec<u32> = self.breakpoints.iter().flat_map(|b| b.pcs.clone()).collect();
        for pc in pcs {
            self.machine.cpu_mut().add_breakpoint(pc);
        }
        out
    }

    /// The first instruction of each stretch of code compiled from `line` of `file`.
    fn stretch_starts(&self, file: tel_ide::FileId, line: u32) -> Vec<u32> {
        let here = Some((file, line));
        let mut out = Vec::new();
        let mut previous = None;
        for w in 0..self.places.len() {
            let pc = CODE_BASE + 4 * w as u32;
            let l = self.line_at(pc);
            let starts_function = self.module.functions.iter().any(|f| f.start == pc);
            if l == here && (previous != here || starts_function) {
                out.push(pc);
            }
            previous = l;
        }
        out
    }

    fn breakpoints_at(&self, pc: u32) -> Vec<i64> {
        self.breakpoints.iter().filter(|b| b.pcs.contains(&pc)).map(|b| b.id).collect()
    }

    // ---- motion ----

    /// One instruction forward. `false` when the run is at its end (or stopped with an error
    /// here, which is kept).
    fn forward_one(&mut self) -> bool {
        if self.at_end() {
            return false;
        }
        let mut host =
            Recorded { effects: &self.effects, next: self.machine.usage.effects as usize };
        match self.machine.run(&self.module, &mut host, 1) {
            Ok(_) => true,
            Err(e) => {
                self.error = Some(e);
                true
            }
        }
    }

    /// One instruction back, with the machine's accounts. `false` at the start of what the
    /// undo log holds.
    fn back_one(&mut self) -> bool {
        let effects = &self.effects;
        let back = self.machine.step_back(|k| clock_cost(effects.get(k as usize)));
        if back.is_err() {
            return false;
        }
        self.error = None;
        true
    }

    /// Runs until a breakpoint, the end or an error.
    fn run_on(&mut self) {
        if self.at_end() {
            return;
        }
        let mut host =
            Recorded { effects: &self.effects, next: self.machine.usage.effects as usize };
        if let Err(e) = self.machine.run(&self.module, &mut host, u64::MAX) {
            self.error = Some(e);
        }
    }

    fn stopped(&self, reason: &str, description: Option<String>) -> Json {
        let mut body = json!({ "reason": reason, "threadId": THREAD, "allThreadsStopped": true });
        let pc = self.machine.cpu().pc();
        let description = match (&self.error, self.machine.cpu().pc() == EXIT_PC) {
            (Some(e), _) => Some(tel_ide::run::report::error_message(e)),
            (None, true) => Some(format!("the end of the run: {}", self.outcome_text())),
            _ => description,
        };
        if let Some(d) = description {
            body["description"] = json!(d);
            body["text"] = json!(d);
        }
        let hit = self.breakpoints_at(pc);
        if reason == "breakpoint" && !hit.is_empty() {
            body["hitBreakpointIds"] = json!(hit);
        }
        body
    }

    /// Where a forward motion stopped, as the `stopped` event says it.
    fn forward_stop(&self, default: &str) -> Json {
        let pc = self.machine.cpu().pc();
        if self.error.is_some() {
            self.stopped("exception", None)
        } else if pc == EXIT_PC {
            self.stopped("end", None)
        } else if default != "step" && !self.breakpoints_at(pc).is_empty() {
            self.stopped("breakpoint", None)
        } else {
            self.stopped(default, None)
        }
    }

    /// Steps forward (`back` false) or backward by `step`; the `stopped` event's body.
    pub fn step(&mut self, step: Step, back: bool) -> Json {
        let pc = self.machine.cpu().pc();
        let (line, depth) = (self.line_at(pc), self.depth());
        let mut n = 0u64;
        loop {
            let moved = if back { self.back_one() } else { self.forward_one() };
            if !moved {
                return if back { self.start_stop() } else { self.forward_stop("step") };
            }
            n += 1;
            let pc = self.machine.cpu().pc();
            if self.at_end() {
                return self.forward_stop("step");
            }
            let here = self.line_at(pc);
            let done = match step {
                Step::Instruction => true,
                Step::In => here.is_some() && here != line,
                Step::Over => here.is_some() && here != line && self.depth() <= depth,
                Step::Out => self.depth() < depth,
            };
            if done {
                return self.stopped("step", None);
            }
            // A breakpoint on the way stops a line step going forward.
            if !back && !self.breakpoints_at(pc).is_empty() && step != Step::Instruction {
                return self.stopped("breakpoint", None);
            }
            if n >= STEP_LIMIT {
                return self.stopped(
                    "pause",
                    Some(format!("stopped after {STEP_LIMIT} instructions of one step")),
                );
            }
        }
    }

    fn start_stop(&self) -> Json {
        let description = if self.position() == 0 {
            "the start of the run".to_string()
        } else {
            format!(
                "the undo log holds the last {UNDO_STEPS} instructions: this is as far back \
                 as it goes"
            )
        };
        self.stopped("entry", Some(description))
    }

    pub fn continue_forward(&mut self) -> Json {
        self.run_on();
        self.forward_stop("breakpoint")
    }

    /// Back to the previous breakpoint, or the start.
    pub fn continue_back(&mut self) -> Json {
        loop {
            if !self.back_one() {
                return self.start_stop();
            }
            if !self.breakpoints_at(self.machine.cpu().pc()).is_empty() {
                return self.stopped("breakpoint", None);
            }
        }
    }

    /// The run starts: stopped at the entry, or run to the first breakpoint.
    pub fn start(&mut self) -> Json {
        self.started = true;
        if self.stop_on_entry { self.stopped("entry", None) } else { self.continue_forward() }
    }

    // ---- inspection ----

    pub fn stack_trace(&self) -> Json {
        let frames = self.machine.frames(&self.module);
        let mut list: Vec<Json> = frames
            .iter()
            .enumerate()
            .map(|(i, (pc, l))| {
                let name = format!("{} #{}", self.code.name(&l.def), l.def.short());
                let mut j = self.bases.stack_frame(i + 1, name, self.map.locate(l).as_ref());
                j["instructionPointerReference"] = json!(format!("0x{pc:x}"));
                j
            })
            .collect();
        let pc = self.machine.cpu().pc();
        if list.is_empty() {
            // The start-up stub (before the entry's call, or at the exit).
            list.push(json!({
                "id": 1, "name": "<start>", "line": 0, "column": 0,
                "instructionPointerReference": format!("0x{pc:x}"),
                "presentationHint": "subtle",
            }));
        }
        let total = list.len();
        json!({ "stackFrames": list, "totalFrames": total })
    }

    pub fn scopes(&self, frame: i64) -> Json {
        let mut scopes = Vec::new();
        if frame == 1 {
            scopes.push(json!({ "name": "Registers", "presentationHint": "registers",
                "variablesReference": REGISTERS, "namedVariables": 33, "expensive": false }));
        }
        scopes.push(json!({ "name": "Run", "variablesReference": RUN, "expensive": false }));
        json!({ "scopes": scopes })
    }

    pub fn variables(&self, reference: i64) -> Result<Json, String> {
        let cpu = self.machine.cpu();
        let var = |name: &str, value: String| json!({ "name": name, "value": value, "variablesReference": 0 });
        let list: Vec<Json> = match reference {
            REGISTERS => std::iter::once(var("pc", format!("0x{:08x}", cpu.pc())))
                .chain((0..32u8).map(|i| {
                    let r = rv_emu::Reg::new(i).expect("32 registers");
                    let v = cpu.reg(r);
                    var(r.name(), format!("0x{v:08x} ({})", v as i32))
                }))
                .collect(),
            RUN => vec![
                var("instructions", self.position().to_string()),
                var("effects", self.machine.usage.effects.to_string()),
                var("clock_ms", self.machine.clock.to_string()),
                var("undo depth", cpu.undo_depth().to_string()),
            ],
            other => return Err(format!("no variables reference {other} at this position")),
        };
        Ok(json!({ "variables": list }))
    }

    /// `count` instructions from `address` plus `offset` instructions: disc-v's text (as
    /// objdump prints it), the word, the function's name at its start, and the source line
    /// where it changes. Addresses outside the code get an invalid entry, as DAP asks.
    pub fn disassemble(&self, address: i64, offset: i64, count: i64) -> Json {
        let mut out = Vec::new();
        let mut last_line = None;
        let code = &self.module.code;
        for i in 0..count.max(0) {
            let at = address + 4 * (offset + i);
            let word = u32::try_from(at)
                .ok()
                .and_then(|pc| pc.checked_sub(CODE_BASE).map(|o| (pc, o as usize)))
                .and_then(|(pc, o)| Some((pc, code.get(o..o + 4)?)));
            let Some((pc, bytes)) = word else {
                out.push(json!({ "address": format!("0x{:x}", at.max(0)), "instruction": "??",
                    "presentationHint": "invalid" }));
                continue;
            };
            let word = u32::from_le_bytes(bytes.try_into().expect("4 bytes"));
            let text =
                disc_v::decode(disc_v::Isa::Rv32, u64::from(pc), u64::from(word)).to_string();
            let mut j = json!({
                "address": format!("0x{pc:x}"),
                "instructionBytes": format!("{word:08x}"),
                "instruction": text,
            });
            if let Some(f) = self.module.functions.iter().find(|f| f.start == pc) {
                j["symbol"] = json!(self.code.name(&f.hash));
            } else if pc == CODE_BASE {
                j["symbol"] = json!("<start>");
            }
            if let Some(place) = self.place_at(pc) {
                if last_line != Some((place.file, place.line)) {
                    j["location"] = place.source();
                    j["line"] = json!(self.bases.line_out(place.line));
                    last_line = Some((place.file, place.line));
                }
            } else {
                last_line = None;
            }
            out.push(j);
        }
        json!({ "instructions": out })
    }

    pub fn started(&self) -> bool {
        self.started
    }
}

/// A memory reference (`0x101dc` or decimal) as an address.
pub fn parse_address(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let parsed = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16),
        None => t.parse(),
    };
    parsed.map_err(|_| format!("memoryReference `{text}` is not an address (0x… or decimal)"))
}
