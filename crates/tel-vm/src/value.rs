//! Runtime values. Every value is plain data (no pointers into the VM, no Rust closures), so a
//! paused machine serializes as it is. Closures name their code by the index it has in the
//! loaded [`crate::Program`]; a snapshot is therefore resumed against the same program.

use smol_str::SmolStr;
use std::collections::BTreeMap;
use std::sync::Arc;
use tel_hash::CodeHash;
use tel_hash::core::Builtin;

/// `==`, ordering, serde and drop work without recursion over the value's depth (a chain of
/// a million enum values must not overflow the Rust stack): see the impls below.
#[derive(Clone, Debug)]
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
    /// Ordered by key, so iteration, `keys` and `show` are deterministic.
    Map(Arc<BTreeMap<Value, Value>>),
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
    // Only children that own values go on the stack; the others are dropped where they are
    // (a list of a million Ints is freed without moving a million values).
    let mut keep = |x: &mut Value| {
        if x.owns_values() {
            out.push(x.take());
        }
    };
    match v {
        Value::List(xs) => {
            if let Some(xs) = Arc::get_mut(xs) {
                xs.iter_mut().for_each(&mut keep);
            }
        }
        Value::Map(m) => {
            if let Some(m) = Arc::get_mut(m) {
                for (mut k, mut v) in std::mem::take(m) {
                    keep(&mut k);
                    keep(&mut v);
                }
            }
        }
        Value::Record { fields, .. } => {
            if let Some(fields) = Arc::get_mut(fields) {
                fields.iter_mut().for_each(|(_, x)| keep(x));
            }
        }
        Value::Variant { fields, .. } => {
            if let Some(fields) = Arc::get_mut(fields) {
                fields.iter_mut().for_each(&mut keep);
            }
        }
        Value::Option(Some(x)) => {
            if let Some(x) = Arc::get_mut(x) {
                keep(x);
            }
        }
        Value::Option(None) => {}
        Value::Closure { env, .. } => {
            if let Some(env) = Arc::get_mut(env) {
                env.iter_mut().for_each(&mut keep);
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

/// The order of the kinds of values (`Int < Bool < String < … < Builtin`), then within a kind
/// by content, lexicographically: what `#[derive(Ord)]` would give, without its recursion.
fn rank(v: &Value) -> u8 {
    match v {
        Value::Int(_) => 0,
        Value::Bool(_) => 1,
        Value::String(_) => 2,
        Value::Duration(_) => 3,
        Value::Unit => 4,
        Value::List(_) => 5,
        Value::Map(_) => 6,
        Value::Record { .. } => 7,
        Value::Variant { .. } => 8,
        Value::Option(_) => 9,
        Value::Closure { .. } => 10,
        Value::Builtin(_) => 11,
    }
}

/// One step of comparing two values: a pair of values, or (after a sequence's common
/// prefix) the lengths that decide when the prefix is equal.
enum Cmp<'a> {
    Values(&'a Value, &'a Value),
    Names(&'a SmolStr, &'a SmolStr),
    Lengths(usize, usize),
}

/// Compares two values with an explicit stack of pending pairs, depth-first and left to
/// right, so the first difference decides as in a lexicographic (derived) order.
fn compare(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering::Equal;
    let mut todo = vec![Cmp::Values(a, b)];
    while let Some(step) = todo.pop() {
        let (a, b) = match step {
            Cmp::Lengths(x, y) => match x.cmp(&y) {
                Equal => continue,
                o => return o,
            },
            Cmp::Names(x, y) => match x.cmp(y) {
                Equal => continue,
                o => return o,
            },
            Cmp::Values(a, b) => (a, b),
        };
        // The same shared value is equal to itself without a walk.
        let scalar = match (a, b) {
            (Value::Int(x), Value::Int(y)) | (Value::Duration(x), Value::Duration(y)) => x.cmp(y),
            (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
            (Value::String(x), Value::String(y)) => x.cmp(y),
            (Value::Unit, Value::Unit) => Equal,
            (Value::Builtin(x), Value::Builtin(y)) => x.cmp(y),
            (Value::List(x), Value::List(y)) => {
                if !Arc::ptr_eq(x, y) {
                    seq(&mut todo, x.iter(), y.iter(), x.len(), y.len());
                }
                Equal
            }
            (Value::Map(x), Value::Map(y)) => {
                if !Arc::ptr_eq(x, y) {
                    todo.push(Cmp::Lengths(x.len(), y.len()));
                    let pairs: Vec<_> = x.iter().zip(y.iter()).collect();
                    for ((k1, v1), (k2, v2)) in pairs.into_iter().rev() {
                        todo.push(Cmp::Values(v1, v2));
                        todo.push(Cmp::Values(k1, k2));
                    }
                }
                Equal
            }
            (Value::Record { fields: x, .. }, Value::Record { fields: y, .. }) => {
                if !Arc::ptr_eq(x, y) {
                    todo.push(Cmp::Lengths(x.len(), y.len()));
                    for ((n1, v1), (n2, v2)) in x.iter().zip(y.iter()).rev() {
                        todo.push(Cmp::Values(v1, v2));
                        todo.push(Cmp::Names(n1, n2));
                    }
                }
                Equal
            }
            (
                Value::Variant { owner: o1, index: i1, fields: x },
                Value::Variant { owner: o2, index: i2, fields: y },
            ) => match (o1, i1).cmp(&(o2, i2)) {
                Equal => {
                    if !Arc::ptr_eq(x, y) {
                        seq(&mut todo, x.iter(), y.iter(), x.len(), y.len());
                    }
                    Equal
                }
                o => o,
            },
            (Value::Option(x), Value::Option(y)) => match (x, y) {
                (None, None) => Equal,
                (None, Some(_)) => std::cmp::Ordering::Less,
                (Some(_), None) => std::cmp::Ordering::Greater,
                (Some(x), Some(y)) => {
                    if !Arc::ptr_eq(x, y) {
                        todo.push(Cmp::Values(x, y));
                    }
                    Equal
                }
            },
            (Value::Closure { code: c1, env: x }, Value::Closure { code: c2, env: y }) => {
                match c1.cmp(c2) {
                    Equal => {
                        seq(&mut todo, x.iter(), y.iter(), x.len(), y.len());
                        Equal
                    }
                    o => o,
                }
            }
            (a, b) => rank(a).cmp(&rank(b)),
        };
        if scalar != Equal {
            return scalar;
        }
    }
    Equal
}

/// Schedules the lexicographic comparison of two sequences.
fn seq<'a>(
    todo: &mut Vec<Cmp<'a>>,
    x: impl DoubleEndedIterator<Item = &'a Value> + ExactSizeIterator,
    y: impl DoubleEndedIterator<Item = &'a Value> + ExactSizeIterator,
    nx: usize,
    ny: usize,
) {
    todo.push(Cmp::Lengths(nx, ny));
    let pairs: Vec<_> = x.zip(y).collect();
    todo.extend(pairs.into_iter().rev().map(|(a, b)| Cmp::Values(a, b)));
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Int(x), Value::Int(y)) | (Value::Duration(x), Value::Duration(y)) => x == y,
            (Value::Bool(x), Value::Bool(y)) => x == y,
            (Value::String(x), Value::String(y)) => x == y,
            _ => compare(self, other) == std::cmp::Ordering::Equal,
        }
    }
}

impl Eq for Value {}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Value {
    fn cmp(&self, other: &Value) -> std::cmp::Ordering {
        compare(self, other)
    }
}

/// A value serializes as the flat list of its nodes in preorder, each with the number of
/// children that follow it, so that writing and reading never recurse over its depth (and
/// formats with a nesting limit, like serde_json's 128, take any value). Enum hashes and
/// record shapes, repeated across a list of records or a chain of variants, are written once
/// in tables that the nodes index.
#[derive(serde::Serialize, serde::Deserialize)]
struct Flat {
    hashes: Vec<CodeHash>,
    shapes: Vec<Vec<SmolStr>>,
    nodes: Vec<Node>,
}

/// What a value serializes as: a scalar as its one node (as compact as a derived encoding),
/// anything with children as a [`Flat`] tree.
#[derive(serde::Serialize, serde::Deserialize)]
enum Repr {
    Leaf(Node),
    Tree(Flat),
}

/// Interns table entries while a value is flattened.
struct Tables<'a> {
    hashes: Vec<CodeHash>,
    hash_ids: rustc_hash::FxHashMap<CodeHash, u32>,
    shapes: Vec<Vec<SmolStr>>,
    shape_ids: rustc_hash::FxHashMap<Vec<&'a SmolStr>, u32>,
}

impl<'a> Tables<'a> {
    fn hash(&mut self, h: CodeHash) -> u32 {
        *self.hash_ids.entry(h).or_insert_with(|| {
            self.hashes.push(h);
            self.hashes.len() as u32 - 1
        })
    }

    fn shape(&mut self, fields: &'a [(SmolStr, Value)]) -> u32 {
        let key: Vec<&SmolStr> = fields.iter().map(|(n, _)| n).collect();
        *self.shape_ids.entry(key).or_insert_with(|| {
            self.shapes.push(fields.iter().map(|(n, _)| n.clone()).collect());
            self.shapes.len() as u32 - 1
        })
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
enum Node {
    Int(i64),
    Bool(bool),
    String(SmolStr),
    Duration(i64),
    Unit,
    /// Its elements follow.
    List(u32),
    /// Key, value, key, value, … follow.
    Map(u32),
    /// The nominal type (an index into `hashes`) and the shape (into `shapes`); the field
    /// values follow, in the order of the shape's names.
    Record(Option<u32>, u32),
    /// The enum (into `hashes`), the variant's index and its number of fields, which follow.
    Variant(u32, u32, u32),
    /// `Some`: its content follows.
    Some,
    None,
    Closure(u32, u32),
    Builtin(Builtin),
}

impl serde::Serialize for Value {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let leaf = match self {
            Value::Int(i) => Some(Node::Int(*i)),
            Value::Bool(b) => Some(Node::Bool(*b)),
            Value::String(x) => Some(Node::String(x.clone())),
            Value::Duration(d) => Some(Node::Duration(*d)),
            Value::Unit => Some(Node::Unit),
            Value::Option(None) => Some(Node::None),
            Value::Builtin(b) => Some(Node::Builtin(*b)),
            _ => None,
        };
        if let Some(node) = leaf {
            return Repr::Leaf(node).serialize(s);
        }
        let mut nodes = Vec::new();
        let mut t = Tables {
            hashes: Vec::new(),
            hash_ids: Default::default(),
            shapes: Vec::new(),
            shape_ids: Default::default(),
        };
        let mut todo = vec![self];
        while let Some(v) = todo.pop() {
            let first = todo.len();
            nodes.push(match v {
                Value::Int(i) => Node::Int(*i),
                Value::Bool(b) => Node::Bool(*b),
                Value::String(x) => Node::String(x.clone()),
                Value::Duration(d) => Node::Duration(*d),
                Value::Unit => Node::Unit,
                Value::List(xs) => {
                    todo.extend(xs.iter());
                    Node::List(xs.len() as u32)
                }
                Value::Map(m) => {
                    for (k, v) in m.iter() {
                        todo.push(k);
                        todo.push(v);
                    }
                    Node::Map(m.len() as u32)
                }
                Value::Record { ty, fields } => {
                    todo.extend(fields.iter().map(|(_, v)| v));
                    Node::Record(ty.0.map(|h| t.hash(h)), t.shape(fields))
                }
                Value::Variant { owner, index, fields } => {
                    todo.extend(fields.iter());
                    Node::Variant(t.hash(*owner), *index, fields.len() as u32)
                }
                Value::Option(Some(x)) => {
                    todo.push(x);
                    Node::Some
                }
                Value::Option(None) => Node::None,
                Value::Closure { code, env } => {
                    todo.extend(env.iter());
                    Node::Closure(*code, env.len() as u32)
                }
                Value::Builtin(b) => Node::Builtin(*b),
            });
            // Children were pushed in order; the work list is a stack.
            todo[first..].reverse();
        }
        Repr::Tree(Flat { hashes: t.hashes, shapes: t.shapes, nodes }).serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Value {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        use serde::de::Error;
        let Flat { hashes, shapes, nodes } = match Repr::deserialize(d)? {
            Repr::Tree(flat) => flat,
            Repr::Leaf(node) => Flat { hashes: Vec::new(), shapes: Vec::new(), nodes: vec![node] },
        };
        let hash = |i: u32| {
            hashes
                .get(i as usize)
                .copied()
                .ok_or_else(|| D::Error::custom("a value node names a missing hash"))
        };
        // Build bottom-up: walking the preorder list backwards, a node's children are the
        // values most recently built, first child on top.
        let mut built: Vec<Value> = Vec::new();
        let take = |n: u32, built: &mut Vec<Value>| -> Result<Vec<Value>, D::Error> {
            let n = n as usize;
            if n > built.len() {
                return Err(D::Error::custom("a value node with missing children"));
            }
            let mut xs = built.split_off(built.len() - n);
            xs.reverse();
            Ok(xs)
        };
        for node in nodes.into_iter().rev() {
            let v = match node {
                Node::Int(i) => Value::Int(i),
                Node::Bool(b) => Value::Bool(b),
                Node::String(x) => Value::String(x),
                Node::Duration(x) => Value::Duration(x),
                Node::Unit => Value::Unit,
                Node::List(n) => Value::List(Arc::new(take(n, &mut built)?)),
                Node::Map(n) => {
                    let mut kv = take(n.saturating_mul(2), &mut built)?.into_iter();
                    let mut m = BTreeMap::new();
                    while let (Some(k), Some(v)) = (kv.next(), kv.next()) {
                        m.insert(k, v);
                    }
                    Value::Map(Arc::new(m))
                }
                Node::Record(ty, shape) => {
                    let ty = RecordType(ty.map(hash).transpose()?);
                    let names = shapes
                        .get(shape as usize)
                        .ok_or_else(|| D::Error::custom("a record node names a missing shape"))?;
                    let values = take(names.len() as u32, &mut built)?;
                    Value::Record {
                        ty,
                        fields: Arc::new(names.iter().cloned().zip(values).collect()),
                    }
                }
                Node::Variant(owner, index, n) => Value::Variant {
                    owner: hash(owner)?,
                    index,
                    fields: Arc::new(take(n, &mut built)?),
                },
                Node::Some => {
                    let x = take(1, &mut built)?.pop().expect("one child");
                    Value::Option(Some(Arc::new(x)))
                }
                Node::None => Value::Option(None),
                Node::Closure(code, n) => {
                    Value::Closure { code, env: Arc::new(take(n, &mut built)?) }
                }
                Node::Builtin(b) => Value::Builtin(b),
            };
            built.push(v);
        }
        match (built.pop(), built.is_empty()) {
            (Some(v), true) => Ok(v),
            _ => Err(D::Error::custom("a value must be exactly one tree of nodes")),
        }
    }
}
