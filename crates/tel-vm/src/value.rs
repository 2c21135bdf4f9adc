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
    /// Lists and maps are shared: reading a local or passing an argument is O(1), and an
    /// update copies only when the value is shared (`Arc::make_mut`).
    List(Arc<Vec<Value>>),
    /// Ordered by key, so iteration, `keys` and `show` are deterministic. Serialized as a list
    /// of pairs: JSON objects only take string keys.
    Map(#[serde(with = "pairs")] Arc<BTreeMap<Value, Value>>),
    /// Fields sorted by name; `ty` is the nominal type when the literal has one.
    Record {
        ty: RecordType,
        fields: Vec<(SmolStr, Value)>,
    },
    /// A variant of a user enum (`owner` is the enum's hash).
    Variant {
        owner: CodeHash,
        index: u32,
        fields: Vec<Value>,
    },
    /// The builtin option type.
    Option(Option<Box<Value>>),
    /// A function value: a loaded code unit and the locals it captured.
    Closure {
        code: u32,
        env: Vec<Value>,
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
