//! `tel debug`: the debugger from a terminal or a script. Commands are read one a line;
//! after each motion the new position is printed with its place in the source. Nothing
//! depends on a terminal: a pipe works the same (the commands are echoed after a `(tel)`
//! prompt, so a transcript reads like a session), and the output is a function of the
//! program and the commands alone.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;

use tel_vm::HostEffect;
use tel_vm::travel::{Granularity, Override, StepKind, TimelineEntry};

use crate::debugger::{BreakpointSpec, Debugger, Motion, Reason, Stopped, shown_path};
use crate::server::parse_effect;

pub const HELP: &str = "\
commands (positions are instruction counts from the start of the run):
  step | s          step into the next statement       stepi | si   one instruction
  next | n          step over calls                    out          step out of the frame
  back | b          step back over calls               backin | bs  step back into calls
  backout | bo      back to where the frame was called backi | bi   one instruction back
  continue | c      run to the next breakpoint or the end
  rc                run backward to the previous breakpoint or the start
  jump N            go to position N                   restart N    back to the entry of frame N
  effect NAME [K]   go to the K-th (default 1st) performed NAME effect, before it runs
  print EXPR | p    evaluate in the innermost frame (locals, x.field, xs[0], m[\"k\"], $balances)
  locals            the innermost frame's locals       bt           the frames
  ledger            the balances                       effects      the run's host effects
  timeline [A [B]]  calls, returns and effects between positions A and B
  diff A [B]        what changed from position A to B (default: the current one)
  break LINE [if COND] | break FILE:LINE | break NAME | break #HASH
  breaks            list breakpoints                   delete ID    remove one
  fork [POS] result JSON | refuse TEXT | args JSON
                    a new timeline from the first effect at or after POS, answered differently
  timelines         list them                          switch N     go to timeline N
  snapshots         the navigator's snapshots          save         keep the session in the codebase
  where             the current position again         quit | q";

/// Runs the commands of `input` against `d`, writing to `out`. `echo`: print each command
/// after the prompt (when the input is not a terminal). Returns 0, or 1 if a command failed.
pub fn run(
    mut d: Debugger,
    input: impl BufRead,
    mut out: impl Write,
    echo: bool,
) -> io::Result<u8> {
    let effects = d.effects().iter().filter(|e| e.applied).count();
    writeln!(
        out,
        "debugging {}: {} instructions, {effects} host effects; {}",
        d.code().name(&d.code().entry),
        d.end(),
        d.outcome_text()
    )?;
    for note in std::mem::take(&mut d.notes) {
        writeln!(out, "{note}")?;
    }
    let stopped = d.start(true).map_err(io::Error::other)?;
    print_stop(&d, &stopped, &mut out).map_err(io::Error::other)?;
    let mut failed = false;
    let mut lines = input.lines();
    loop {
        if !echo {
            write!(out, "(tel) ")?;
            out.flush()?;
        }
        let Some(line) = lines.next() else { break };
        let line = line?;
        let line = line.trim();
        if echo {
            writeln!(out, "(tel) {line}")?;
        }
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match command(&mut d, line, &mut out) {
            Ok(Flow::Go) => {}
            Ok(Flow::Quit) => break,
            Err(e) => {
                failed = true;
                writeln!(out, "error: {e}")?;
            }
        }
    }
    out.flush()?;
    Ok(u8::from(failed))
}

enum Flow {
    Go,
    Quit,
}

fn number(word: Option<&str>, what: &str) -> Result<u64, String> {
    let w = word.ok_or_else(|| format!("{what} is missing"))?;
    w.replace('_', "").parse().map_err(|_| format!("{what}: `{w}` is not a number"))
}

fn command(d: &mut Debugger, line: &str, out: &mut impl Write) -> Result<Flow, String> {
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    let mut args = rest.split_whitespace();
    let step = |kind, granularity, back| Motion::Step { kind, granularity, back };
    let motion = match word {
        "quit" | "q" | "exit" => return Ok(Flow::Quit),
        "help" | "h" | "?" => {
            say(out, HELP)?;
            return Ok(Flow::Go);
        }
        "step" | "s" => step(StepKind::In, Granularity::Statement, false),
        "next" | "n" => step(StepKind::Over, Granularity::Statement, false),
        "out" | "finish" => step(StepKind::Out, Granularity::Statement, false),
        "stepi" | "si" => step(StepKind::In, Granularity::Instruction, false),
        "back" | "b" => step(StepKind::Over, Granularity::Statement, true),
        "backin" | "bs" => step(StepKind::In, Granularity::Statement, true),
        "backout" | "bo" => step(StepKind::Out, Granularity::Statement, true),
        "backi" | "bi" => step(StepKind::In, Granularity::Instruction, true),
        "continue" | "c" => Motion::Continue,
        "rc" | "reverse-continue" => Motion::ReverseContinue,
        "jump" | "j" => Motion::Goto(number(args.next(), "jump: the position")?),
        "restart" => {
            Motion::RestartFrame(number(args.next(), "restart: the frame number")? as usize)
        }
        "effect" | "e" => {
            let name = args
                .next()
                .ok_or("effect: the effect's name is missing (e.g. `effect Deposit 2`)")?;
            let effect = parse_effect(name)?;
            let occurrence = match args.next() {
                Some(k) => number(Some(k), "effect: the occurrence")? as usize,
                None => 1,
            };
            Motion::Effect { effect, occurrence }
        }
        "where" | "w" => {
            let position = d.position();
            let description = d.effect_here(position);
            let s = Stopped {
                position,
                reason: Reason::Step,
                description,
                breakpoints: Vec::new(),
                output: Vec::new(),
                notes: Vec::new(),
            };
            print_stop(d, &s, out)?;
            return Ok(Flow::Go);
        }
        "print" | "p" => {
            if rest.is_empty() {
                return Err("print: an expression is missing".into());
            }
            let v = d.evaluate(rest, 0)?;
            say(out, &d.show(&v))?;
            return Ok(Flow::Go);
        }
        "locals" => {
            let frames = d.frames();
            match frames.first() {
                Some(f) if !f.locals.is_empty() => {
                    for l in &f.locals {
                        let v = if l.moved { "<moved>".to_string() } else { d.show(&l.value) };
                        say(out, &format!("{} = {v}", l.name))?;
                    }
                }
                _ => say(out, "no locals here")?,
            }
            return Ok(Flow::Go);
        }
        "bt" | "backtrace" | "where-all" => {
            for (i, f) in d.frames().iter().enumerate() {
                let hash = f.hash.map(|h| format!(" #{}", h.short())).unwrap_or_default();
                let place = f
                    .place
                    .as_ref()
                    .map(|p| format!(" at {}:{}:{}", shown_path(&p.path), p.line, p.column))
                    .unwrap_or_default();
                say(out, &format!("#{i} {}{hash}{place}", f.name))?;
            }
            return Ok(Flow::Go);
        }
        "ledger" => {
            let balances = d.state().balances;
            if balances.is_empty() {
                say(out, "the ledger is empty")?;
            }
            for (account, amount) in balances {
                say(out, &format!("{account:?} = {amount}"))?;
            }
            return Ok(Flow::Go);
        }
        "effects" => {
            let mut counts: std::collections::HashMap<HostEffect, usize> = Default::default();
            for e in d.effects() {
                let tag = if e.applied {
                    let n = counts.entry(e.effect).or_default();
                    *n += 1;
                    format!("{} {}", e.effect.name(), n)
                } else {
                    format!("{} (not performed)", e.effect.name())
                };
                say(out, &format!("@{} {tag}: {}", e.position, e.description))?;
            }
            return Ok(Flow::Go);
        }
        "timeline" => {
            let from = match args.next() {
                Some(a) => number(Some(a), "timeline: the first position")?,
                None => 0,
            };
            let to = match args.next() {
                Some(b) => number(Some(b), "timeline: the last position")?,
                None => d.end(),
            };
            for e in d.timeline_entries(from, to, 1000)? {
                say(out, &timeline_line(d, &e))?;
            }
            return Ok(Flow::Go);
        }
        "diff" => {
            let a = number(args.next(), "diff: the first position")?;
            let b = match args.next() {
                Some(b) => number(Some(b), "diff: the second position")?,
                None => d.position(),
            };
            let (c, frames) = d.compare(a, b)?;
            say(out, &format!("from @{a} to @{b}:"))?;
            let mut any = false;
            for f in &c.frames_left {
                say(out, &format!("  left {f}"))?;
                any = true;
            }
            for f in &c.frames_entered {
                say(out, &format!("  entered {f}"))?;
                any = true;
            }
            for l in &c.locals {
                let name = l.name.as_ref().map_or_else(|| l.binder.to_string(), |n| n.to_string());
                let (frame, old, new) = d.change_text(l, &frames);
                let show = |v: Option<String>| v.unwrap_or_else(|| "(not in scope)".into());
                say(out, &format!("  {frame}: {name}: {} -> {}", show(old), show(new)))?;
                any = true;
            }
            for b in &c.balances {
                say(out, &format!("  ledger {:?}: {} -> {}", b.account, b.old, b.new))?;
                any = true;
            }
            if let Some((x, y)) = c.clock {
                say(
                    out,
                    &format!(
                        "  clock: {} -> {}",
                        tel_vm::show::duration(x),
                        tel_vm::show::duration(y)
                    ),
                )?;
                any = true;
            }
            if !any {
                say(out, "  nothing changed")?;
            }
            return Ok(Flow::Go);
        }
        "break" | "br" => {
            let (file, spec) = breakpoint_spec(rest)?;
            let status = d.add_breakpoint(file.as_deref(), spec);
            let at = status.line.map(|l| format!(" at line {l}")).unwrap_or_default();
            match (status.verified, status.message) {
                (true, _) => say(out, &format!("breakpoint {}{at}", status.id))?,
                (false, m) => {
                    d.remove_breakpoint(status.id);
                    return Err(m.unwrap_or_else(|| "the breakpoint cannot be set".into()));
                }
            }
            return Ok(Flow::Go);
        }
        "breaks" => {
            let list = d.breakpoint_list();
            if list.is_empty() {
                say(out, "no breakpoints")?;
            }
            for b in list {
                say(out, &b)?;
            }
            return Ok(Flow::Go);
        }
        "delete" | "del" => {
            let id = number(args.next(), "delete: the breakpoint's id")?;
            if !d.remove_breakpoint(id as u32) {
                return Err(format!("no breakpoint {id}"));
            }
            say(out, &format!("deleted breakpoint {id}"))?;
            return Ok(Flow::Go);
        }
        "fork" => {
            let (position, with) = fork_args(d, rest)?;
            let (i, stopped) = d.fork(position, with)?;
            say(out, &format!("timeline {i}: {}", d.outcome_text()))?;
            print_stop(d, &stopped, out)?;
            return Ok(Flow::Go);
        }
        "timelines" => {
            for (i, (label, position, end, current)) in d.timelines().into_iter().enumerate() {
                let mark = if current { "*" } else { " " };
                say(out, &format!("{mark}{i} {label} (@{position} of {end})"))?;
            }
            return Ok(Flow::Go);
        }
        "switch" => {
            let i = number(args.next(), "switch: the timeline")? as usize;
            let stopped = d.switch(i)?;
            print_stop(d, &stopped, out)?;
            return Ok(Flow::Go);
        }
        "snapshots" => {
            let nav = d.navigator();
            for (position, base, bytes) in nav.snapshots() {
                let kind = base.map_or("keyframe".to_string(), |b| format!("delta against @{b}"));
                say(out, &format!("@{position} {kind}, {bytes} bytes"))?;
            }
            say(out, &format!("{} bytes in all", nav.snapshot_bytes()))?;
            return Ok(Flow::Go);
        }
        "save" => {
            let id = d.save()?;
            say(out, &format!("session {id} kept (resume with `tel debug … --resume {id}`)"))?;
            return Ok(Flow::Go);
        }
        other => return Err(format!("unknown command `{other}` (`help` lists them)")),
    };
    let stopped = d.motion(motion)?;
    print_stop(d, &stopped, out)?;
    Ok(Flow::Go)
}

fn say(out: &mut impl Write, text: &str) -> Result<(), String> {
    writeln!(out, "{text}").map_err(|e| e.to_string())
}

/// `LINE`, `FILE:LINE`, `NAME` or `#HASH`, then optionally `if CONDITION`.
fn breakpoint_spec(text: &str) -> Result<(Option<PathBuf>, BreakpointSpec), String> {
    let (target, condition) = match text.split_once(" if ") {
        Some((t, c)) => (t.trim(), Some(c.trim().to_string())),
        None => (text.trim(), None),
    };
    if target.is_empty() {
        return Err("break: say where (LINE, FILE:LINE, a function's name or #HASH)".into());
    }
    let mut spec = BreakpointSpec { condition, ..BreakpointSpec::default() };
    let line = |t: &str| t.parse::<u32>().ok();
    let file = match target.rsplit_once(':') {
        Some((f, l)) if line(l).is_some() && !f.is_empty() && !f.ends_with(':') => {
            spec.line = line(l);
            Some(PathBuf::from(f))
        }
        _ => {
            match line(target) {
                Some(l) => spec.line = Some(l),
                None => spec.function = Some(target.to_string()),
            }
            None
        }
    };
    Ok((file, spec))
}

/// `[POS] result JSON`, `[POS] refuse TEXT`, `[POS] args JSON`.
fn fork_args(d: &Debugger, text: &str) -> Result<(u64, Override), String> {
    let usage = "fork [POSITION] result JSON | refuse TEXT | args JSON-ARRAY";
    let (first, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let (position, text) = match first.replace('_', "").parse::<u64>() {
        Ok(p) => (p, rest.trim()),
        Err(_) => (d.position(), text),
    };
    let (kind, value) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let value = value.trim();
    let point = d.fork_point(position).cloned().ok_or_else(|| {
        format!("no host effect is performed at or after position {position}: there is nothing to fork on")
    })?;
    let json = match kind {
        "result" | "answer" => {
            let v: serde_json::Value = serde_json::from_str(value)
                .map_err(|e| format!("fork: the result is not JSON: {e}"))?;
            serde_json::json!({ "result": v })
        }
        "refuse" => serde_json::json!({ "refuse": value }),
        "args" => {
            let v: serde_json::Value = serde_json::from_str(value)
                .map_err(|e| format!("fork: the args are not JSON: {e}"))?;
            serde_json::json!({ "args": v })
        }
        _ => return Err(format!("usage: {usage}")),
    };
    Ok((position, d.decode_override(point.effect, &json)?))
}

fn timeline_line(d: &Debugger, e: &TimelineEntry) -> String {
    match e {
        TimelineEntry::Call { position, depth, location, tail, kind } => {
            let mut name = d.frame_name(kind, location.as_ref());
            if let (tel_vm::travel::FrameKind::Loop { builtin, .. }, _) = (kind, location) {
                name = builtin.name().to_string();
            } else if let Some(l) = location {
                name.push_str(&format!(" #{}", l.def.short()));
            }
            let tail = if *tail { " (tail call)" } else { "" };
            format!("@{position} {}call {name}{tail}", "  ".repeat(depth.saturating_sub(1)))
        }
        TimelineEntry::Return { position, depth, frames } => {
            let n = if *frames > 1 { format!(" ({frames} frames)") } else { String::new() };
            format!("@{position} {}return{n}", "  ".repeat(*depth))
        }
        TimelineEntry::Effect(e) => format!("@{} effect {}", e.position, e.description),
    }
}

/// Prints a stop: what was logged on the way, the position with its reason and place, and
/// the source line.
fn print_stop(d: &Debugger, s: &Stopped, out: &mut impl Write) -> Result<(), String> {
    for line in &s.output {
        say(out, &format!("log: {line}"))?;
    }
    for note in &s.notes {
        say(out, &format!("note: {note}"))?;
    }
    let frames = d.frames();
    let top = frames.first();
    let mut text = format!("@{}/{}", s.position, d.end());
    let why = match s.reason {
        Reason::Step => String::new(),
        r => format!(" [{}]", r.dap()),
    };
    text.push_str(&why);
    if let Some(f) = top {
        text.push_str(&format!(" {}", f.name));
        if let Some(h) = f.hash {
            text.push_str(&format!(" #{}", h.short()));
        }
        if let Some(p) = &f.place {
            text.push_str(&format!(" at {}:{}:{}", shown_path(&p.path), p.line, p.column));
        }
    }
    if let Some(desc) = &s.description {
        text.push_str(&format!(" — {desc}"));
    }
    say(out, &text)?;
    if let Some(p) = top.and_then(|f| f.place.as_ref())
        && let Some(source) = d.sources().line_text(p.file, p.line)
    {
        say(out, &format!("{:>5} | {}", p.line, source))?;
    }
    Ok(())
}
