//! Runtime values. Every value is plain data (no pointers into the VM, no Rust closures), so a
//! paused machine serializes as it is. Closures name their code by the index it has in the
//! loaded [`crate::Program`]; a snapshot is therefore resumed against the same program.

use smol_str::SmolStr;
use std::collections::BTreeMap;
use std::sync::Arc;
use tel_hash::CodeHash;
use tel_hash::core::Builtin;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum Value {
    Int(i64),
    Bool(bool),
    String(SmolStr),
    /// Milliseconds.
    Duration(i64),
    Unit,
    /// Compound values are shared: reading a local or passing an argument is O(1), and an
    /// update copies only when the value is shared (`Arc::make_mut`).
    List(Arc<Vec<Value>>),
    /// Ordered by key, so iteration, `keys` and `show` are deterministic. Serialized as a list
    /// of pairs: JSON objects only take string keys.
    Map(#[serde(with = "pairs")] Arc<BTreeMap<Value, Value>>),
    /// Fields sorted by name; `ty` is the nominal type when the literal has one.
    Record {
        ty: RecordType,
        fields: Arc<Vec<(SmolStr, Value)>>,
    },
    /// A variant of a user enum (`owner` is the enum's hash).
    Variant {
        owner: CodeHash,
        index: u32,
        fields: Arc<Vec<Value>>,
    },
    /// The builtin option type.
    Option(Option<Arc<Value>>),
    /// A function value: a loaded code unit and the locals it captured.
    Closure {
        code: u32,
        env: Arc<Vec<Value>>,
    },
    /// A builtin used as a value (`map(xs, show)`).
    Builtin(Builtin),
}

impl Value {
    /// The kind of value, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Int(_) => "Int",
            Value::Bool(_) => "Bool",
            Value::String(_) => "String",
            Value::Duration(_) => "Duration",
            Value::Unit => "()",
            Value::List(_) => "List",
            Value::Map(_) => "Map",
            Value::Record { .. } => "record",
            Value::Variant { .. } => "enum value",
            Value::Option(_) => "option",
            Value::Closure { .. } | Value::Builtin(_) => "function",
        }
    }

    /// A rough size in bytes, charged against the heap limit when the value is built.
    pub(crate) fn heap_size(&self) -> u64 {
        match self {
            Value::String(s) => WORD + s.len() as u64,
            Value::List(xs) => WORD + WORD * xs.len() as u64,
            Value::Map(m) => WORD + 2 * WORD * m.len() as u64,
            Value::Record { fields, .. } => WORD + 2 * WORD * fields.len() as u64,
            Value::Variant { fields, .. } => WORD + WORD * fields.len() as u64,
            Value::Closure { env, .. } => WORD + WORD * env.len() as u64,
            _ => WORD,
        }
    }
}

/// The size the heap estimate gives one word (a value slot).
pub(crate) const WORD: u64 = 16;

impl Value {
    pub fn list(xs: Vec<Value>) -> Value {
        Value::List(Arc::new(xs))
    }

    pub fn map(m: BTreeMap<Value, Value>) -> Value {
        Value::Map(Arc::new(m))
    }

    /// Moves the value out of its slot, leaving `()`.
    pub fn take(&mut self) -> Value {
        std::mem::replace(self, Value::Unit)
    }
}

/// The nominal type a record literal was built with. `show` prints it; `==` and ordering
/// ignore it, because a structural record meets a nominal one with the same fields
/// (language.md §3): a `Quote` made by a function returning `{ asset: String, price: Int }`
/// equals a `Quote { .. }` literal with the same fields.
#[derive(Clone, Copy, Debug, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct RecordType(pub Option<CodeHash>);

impl PartialEq for RecordType {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for RecordType {}

impl PartialOrd for RecordType {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RecordType {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

mod pairs {
    use super::Value;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use std::collections::BTreeMap;
    use std::sync::Arc;

    pub fn serialize<S: Serializer>(
        m: &Arc<BTreeMap<Value, Value>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let v: Vec<(&Value, &Value)> = m.iter().collect();
        v.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Arc<BTreeMap<Value, Value>>, D::Error> {
        Ok(Arc::new(Vec::<(Value, Value)>::deserialize(d)?.into_iter().collect()))
    }
}

/// Dropping a value frees its children from an explicit stack: a value nested a million deep
/// (a chain of enum values built by `fold`) must not recurse a million times in Rust.
impl Drop for Value {
    #[inline]
    fn drop(&mut self) {
        if !self.owns_values() {
            return;
        }
        drop_children(self);
    }
}

impl Value {
    /// Whether the value holds other values (and so needs the iterative drop).
    #[inline(always)]
    fn owns_values(&self) -> bool {
        !matches!(
            self,
            Value::Int(_)
                | Value::Bool(_)
                | Value::String(_)
                | Value::Duration(_)
                | Value::Unit
                | Value::Builtin(_)
                | Value::Option(None)
        )
    }

    /// Drops the value; a scalar (no heap memory at all) without calling the drop glue,
    /// which matters in the interpreter's hottest paths.
    #[inline(always)]
    pub(crate) fn discard(self) {
        if matches!(
            self,
            Value::Int(_) | Value::Bool(_) | Value::Duration(_) | Value::Unit | Value::Builtin(_)
        ) {
            std::mem::forget(self);
        } else {
            drop(self);
        }
    }
}

#[inline(never)]
fn drop_children(v: &mut Value) {
    let mut stack = Vec::new();
    take_children(v, &mut stack);
    while let Some(mut v) = stack.pop() {
        take_children(&mut v, &mut stack);
    }
}

/// Moves out the children this value owns alone (a shared list or map stays with its other
/// owners).
fn take_children(v: &mut Value, out: &mut Vec<Value>) {
    match v {
        Value::List(xs) => {
            if let Some(xs) = Arc::get_mut(xs) {
                out.append(xs);
            }
        }
        Value::Map(m) => {
            if let Some(m) = Arc::get_mut(m) {
                for (k, v) in std::mem::take(m) {
                    out.push(k);
                    out.push(v);
                }
            }
        }
        Value::Record { fields, .. } => {
            if let Some(fields) = Arc::get_mut(fields) {
                out.extend(fields.drain(..).map(|(_, v)| v));
            }
        }
        Value::Variant { fields, .. } => {
            if let Some(fields) = Arc::get_mut(fields) {
                out.append(fields);
            }
        }
        Value::Option(Some(x)) => {
            if let Some(x) = Arc::get_mut(x) {
                out.push(x.take());
            }
        }
        Value::Option(None) => {}
        Value::Closure { env, .. } => {
            if let Some(env) = Arc::get_mut(env) {
                out.append(env);
            }
        }
        Value::Int(_)
        | Value::Bool(_)
        | Value::String(_)
        | Value::Duration(_)
        | Value::Unit
        | Value::Builtin(_) => {}
    }
}
