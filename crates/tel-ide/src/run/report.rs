//! What a run looks like to a person or a script: values, effects and usage as JSON, and
//! runtime errors as TEL stack traces placed in the sources when they are at hand.

use serde_json::{Value as Json, json};
use tel_vm::trace::Event;
use tel_vm::{Location, Program, RuntimeError, Value};

use super::code::Code;
use super::execute::{Backend, Finished};
use crate::Analysis;

/// The run's resource usage and limits, with what `--memo` did, and for a RISC-V run the
/// backend and what compiling it did (fuel counts RISC-V instructions there).
pub fn usage_json(run: &Finished) -> Json {
    let (u, l) = (&run.usage, &run.limits);
    let mut usage = json!({
        "fuel": u.fuel,
        "heap_bytes": u.heap_bytes,
        "effects": u.effects,
        "clock_ms": run.clock,
        "limits": {
            "fuel": l.fuel,
            "heap_bytes": l.heap_bytes,
            "effects": l.effects,
            "call_depth": l.call_depth,
            "wall_ms": (l.wall_ms != u64::MAX).then_some(l.wall_ms),
        },
    });
    if run.backend != Backend::Vm {
        usage["backend"] = json!(run.backend.name());
    }
    if let Some(c) = &run.compiled {
        usage["compiled"] = json!({
            "functions": c.functions(),
            "reused": c.reused,
            "loaded": c.loaded,
            "compiled": c.compiled,
        });
    }
    if let Some(m) = &run.memo {
        usage["memo"] = json!({
            "hits": m.stats.hits,
            "misses": m.stats.misses,
            "evictions": m.stats.evictions,
            "loaded": m.loaded,
            "added": m.saved.as_ref().map(|(_, s)| s.added),
        });
    }
    usage
}

/// A value in the documented JSON encoding, or its `show` text when it has none (a function).
pub fn value_json(program: &Program, v: &Value) -> Json {
    tel_vm::json::encode(program, v).unwrap_or_else(|_| json!(tel_vm::show::show(program, v)))
}

/// The host effects the run performed, in order.
pub fn effects_json(program: &Program, events: &[Event]) -> Json {
    let list = events.iter().filter_map(|e| match e {
        Event::EffectApplied { effect, args, now, result, .. } => {
            let args: Vec<Json> = args.iter().map(|v| value_json(program, v)).collect();
            Some(match result {
                Ok(v) => json!({"effect": effect.name(), "args": args, "at_ms": now,
                                "result": value_json(program, v)}),
                Err(e) => json!({"effect": effect.name(), "args": args, "at_ms": now,
                                 "refused": e}),
            })
        }
        _ => None,
    });
    Json::Array(list.collect())
}

/// The lines the run logged (`perform Log(…)`), in order.
pub fn log_lines(program: &Program, events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::EffectApplied { effect: tel_vm::HostEffect::Log, args, .. } => {
                Some(match args.as_slice() {
                    [Value::String(s)] => s.to_string(),
                    args => {
                        let shown: Vec<String> =
                            args.iter().map(|v| tel_vm::show::show(program, v)).collect();
                        shown.join(", ")
                    }
                })
            }
            _ => None,
        })
        .collect()
}

/// The error without its place (the stack trace says where).
pub fn error_message(e: &RuntimeError) -> String {
    match e {
        RuntimeError::ResourceExhausted { resource, limit, .. } => {
            format!("{resource} exhausted (limit {limit})")
        }
        RuntimeError::Trap { message, .. } => message.clone(),
        RuntimeError::Host { effect, message, .. } => {
            format!("host effect {effect} failed: {message}")
        }
        RuntimeError::WrongProgram { .. } => e.to_string(),
    }
}

fn frame_name(code: &Code, l: &Location) -> String {
    let name = code
        .names
        .get(&l.def)
        .cloned()
        .or_else(|| l.name.as_ref().map(|n| n.to_string()))
        .unwrap_or_else(|| "?".into());
    if l.lambda { format!("{name}/lambda") } else { name }
}

/// Where a frame is in the sources, `(file, line, column)` 1-based, when `sources` still
/// define its definition. Paths under the working directory are shown relative to it.
pub fn position(sources: Option<&Analysis>, l: &Location) -> Option<(String, u32, u32)> {
    let analysis = sources?;
    let (file, range) = analysis.locate_expr(&l.def, l.expr).ok()??;
    let lc = analysis.line_index(file).line_col(range.start());
    let path = analysis.file_path(file);
    let cwd = std::env::current_dir().ok();
    let shown = cwd.as_deref().and_then(|cwd| path.strip_prefix(cwd).ok()).unwrap_or(path);
    Some((shown.display().to_string(), lc.line + 1, lc.col + 1))
}

/// Frames shown at each end of a long stack trace.
const STACK_ENDS: usize = 20;

/// A stack trace to show: runs of one frame repeated (a recursion) fold into one entry with
/// its count, and of a still longer stack only both ends are shown. Returns the entries
/// (a frame and how many times it repeats) and how many entries were left out, after the
/// first `STACK_ENDS`.
fn folded(stack: &[Location]) -> (Vec<(&Location, usize)>, usize) {
    let mut runs: Vec<(&Location, usize)> = Vec::new();
    for l in stack {
        match runs.last_mut() {
            Some((last, n)) if *last == l => *n += 1,
            _ => runs.push((l, 1)),
        }
    }
    if runs.len() <= 2 * STACK_ENDS + 1 {
        return (runs, 0);
    }
    let omitted = runs.len() - 2 * STACK_ENDS;
    runs.drain(STACK_ENDS..runs.len() - STACK_ENDS);
    (runs, omitted)
}

/// The TEL stack trace of a runtime error, innermost call first: each frame's name, short
/// hash and place (`file:line:col`, or the expression id when the sources are not at hand).
pub fn stack_trace(code: &Code, sources: Option<&Analysis>, e: &RuntimeError) -> String {
    let mut out = format!("error: {}\n", error_message(e));
    let (runs, omitted) = folded(e.stack());
    for (i, (l, times)) in runs.iter().enumerate() {
        if i == STACK_ENDS && omitted > 0 {
            out.push_str(&format!("  … {omitted} more frames …\n"));
        }
        let place = match position(sources, l) {
            Some((file, line, col)) => format!("{file}:{line}:{col}"),
            None => format!("(expression {})", l.expr),
        };
        out.push_str(&format!("  at {} #{} {place}\n", frame_name(code, l), l.def.short()));
        if *times > 1 {
            out.push_str(&format!("  … the frame above {} more times\n", times - 1));
        }
    }
    out
}

/// A runtime error as JSON: message, kind, folded stack with places.
pub fn error_json(code: &Code, sources: Option<&Analysis>, e: &RuntimeError) -> Json {
    let (runs, omitted) = folded(e.stack());
    let stack: Vec<Json> = runs
        .iter()
        .map(|(l, times)| {
            let mut frame = json!({
                "name": frame_name(code, l),
                "hash": l.def.to_base32hex(),
                "lambda": l.lambda,
                "expr": l.expr,
                "times": times,
            });
            if let Some((file, line, column)) = position(sources, l) {
                frame["file"] = json!(file);
                frame["line"] = json!(line);
                frame["column"] = json!(column);
            }
            frame
        })
        .collect();
    let depth = e.stack().len();
    let mut out = json!({
        "message": error_message(e),
        "stack": stack,
        "depth": depth,
        "omitted": omitted,
    });
    match e {
        RuntimeError::ResourceExhausted { resource, limit, .. } => {
            out["kind"] = json!("resource");
            out["resource"] = json!(resource.name());
            out["limit"] = json!(limit);
        }
        RuntimeError::Trap { .. } => out["kind"] = json!("trap"),
        RuntimeError::Host { effect, .. } => {
            out["kind"] = json!("host");
            out["effect"] = json!(effect);
        }
        RuntimeError::WrongProgram { .. } => out["kind"] = json!("program"),
    }
    out
}

/// A run as an editor shows it: one line for a message, and the full text for a log.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// `treasury::main → 42 (run 0123…, 1234 steps)`, or the error's first line.
    pub headline: String,
    pub ok: bool,
    /// The value in TEL syntax, when the run returned one.
    pub value: Option<String>,
    /// The TEL stack trace, when the run stopped with an error.
    pub stack_trace: Option<String>,
    /// The lines the program logged, in order.
    pub logs: Vec<String>,
    pub run_id: String,
    pub steps: u64,
    /// Where the run was kept, warnings.
    pub notes: Vec<String>,
}

/// Sums up a finished run; `sources` place the frames of a stack trace.
pub fn summary(code: &Code, run: &super::Finished, sources: Option<&Analysis>) -> Summary {
    let name = code.name(&code.entry);
    let steps = run.usage.fuel;
    let (headline, value, stack) = match &run.outcome {
        Ok(v) => {
            let shown = tel_vm::show::show(&run.program, v);
            let headline = format!("{name} → {shown} (run {}, {steps} steps)", run.run_id);
            (headline, Some(shown), None)
        }
        Err(e) => {
            let headline = format!("{name} stopped: {} (run {})", error_message(e), run.run_id);
            (headline, None, Some(stack_trace(code, sources, e)))
        }
    };
    Summary {
        headline,
        ok: run.outcome.is_ok(),
        value,
        stack_trace: stack,
        logs: log_lines(&run.program, run.exported.trace.events()),
        run_id: run.run_id.clone(),
        steps,
        notes: run.notes.clone(),
    }
}
