//! `show`: the textual form of a value (language.md §8.3). Iterative, so a deeply nested value
//! (a long chain of enum values built by a loop) cannot overflow the Rust stack.

use crate::program::Program;
use crate::value::Value;
use std::fmt::Write;

enum Work<'a> {
    Value(&'a Value),
    Text(&'static str),
    Owned(String),
}

/// `show(v)`: a top-level string is its text; everything else (and strings nested in other
/// values) in the form the language reference documents.
pub fn show(program: &Program, v: &Value) -> String {
    if let Value::String(s) = v {
        return s.to_string();
    }
    let mut out = String::new();
    let mut work = vec![Work::Value(v)];
    while let Some(w) = work.pop() {
        let v = match w {
            Work::Text(t) => {
                out.push_str(t);
                continue;
            }
            Work::Owned(t) => {
                out.push_str(&t);
                continue;
            }
            Work::Value(v) => v,
        };
        // Items are pushed in reverse: the work list is a stack.
        let mut items: Vec<Work<'_>> = Vec::new();
        match v {
            Value::Int(i) => write!(out, "{i}").unwrap(),
            Value::Bool(b) => write!(out, "{b}").unwrap(),
            Value::Unit => out.push_str("()"),
            Value::String(s) => quote(&mut out, s),
            Value::Duration(d) => out.push_str(&duration(*d)),
            Value::List(xs) => {
                items.push(Work::Text("["));
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        items.push(Work::Text(", "));
                    }
                    items.push(Work::Value(x));
                }
                items.push(Work::Text("]"));
            }
            Value::Map(m) => {
                items.push(Work::Text("{"));
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        items.push(Work::Text(", "));
                    }
                    items.push(Work::Value(k));
                    items.push(Work::Text(": "));
                    items.push(Work::Value(x));
                }
                items.push(Work::Text("}"));
            }
            Value::Record { ty, fields } => {
                if let Some(ty) = &ty.0 {
                    items.push(Work::Owned(format!("{} ", program.name_of(ty))));
                }
                if fields.is_empty() {
                    items.push(Work::Text("{}"));
                } else {
                    items.push(Work::Text("{ "));
                    for (i, (name, x)) in fields.iter().enumerate() {
                        if i > 0 {
                            items.push(Work::Text(", "));
                        }
                        items.push(Work::Owned(format!("{name}: ")));
                        items.push(Work::Value(x));
                    }
                    items.push(Work::Text(" }"));
                }
            }
            Value::Variant { owner, index, fields } => {
                let name = program
                    .enums
                    .get(owner)
                    .and_then(|vs| vs.get(*index as usize))
                    .map_or_else(|| format!("#{}.{index}", owner.short()), |n| n.to_string());
                items.push(Work::Owned(name));
                args(&mut items, fields);
            }
            Value::Option(None) => out.push_str("None"),
            Value::Option(Some(x)) => {
                items.push(Work::Text("Some"));
                args(&mut items, std::slice::from_ref(x.as_ref()));
            }
            Value::Closure { .. } | Value::Builtin(_) => out.push_str("<function>"),
        }
        work.extend(items.into_iter().rev());
    }
    out
}

fn args<'a>(items: &mut Vec<Work<'a>>, fields: &'a [Value]) {
    if fields.is_empty() {
        return;
    }
    items.push(Work::Text("("));
    for (i, x) in fields.iter().enumerate() {
        if i > 0 {
            items.push(Work::Text(", "));
        }
        items.push(Work::Value(x));
    }
    items.push(Work::Text(")"));
}

/// A string as a TEL literal, with the escapes the lexer accepts.
fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => write!(out, "\\u{{{:x}}}", c as u32).unwrap(),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The largest unit that divides the duration exactly: `90s`, `2h`, `250ms`, `0ms`, `-5s`.
pub fn duration(ms: i64) -> String {
    const UNITS: [(i64, &str); 4] =
        [(86_400_000, "d"), (3_600_000, "h"), (60_000, "min"), (1_000, "s")];
    if ms != 0 {
        for (size, unit) in UNITS {
            if ms % size == 0 {
                return format!("{}{unit}", ms / size);
            }
        }
    }
    format!("{ms}ms")
}
