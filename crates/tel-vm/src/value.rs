//! Runtime values. Every value is plain data (no pointers into the VM, no Rust closures), so a
//! paused machine serializes as it is. Closures name their code by the index it has in the
//! loaded [`crate::Program`]; a snapshot is therefore resumed against the same program.

use smol_str::SmolStr;
use std::collections::BTreeMap;
use std::sync::Arc;
use tel_hash::CodeHash;
use tel_hash::core::Builtin;

/// `==`, ordering, serde and drop work without recursion over the value's depth (a chain of
/// a million enum values must not overflow the Rust stack), and `{:?}` stops at a bounded
/// depth: see the impls below.
#[derive(Clone)]
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

    /// A rough size in bytes of the heap block the value itself owns (not its children's):
    /// counted against the heap limit when the value is built, and given back when it is
    /// freed. Scalars and short strings live inside the value and own no block.
    pub(crate) fn heap_size(&self) -> u64 {
        match self {
            Value::String(s) if s.is_heap_allocated() => WORD + s.len() as u64,
            Value::List(xs) => WORD + WORD * xs.len() as u64,
            Value::Map(m) => WORD + 2 * WORD * m.len() as u64,
            Value::Record { fields, .. } => WORD + 2 * WORD * fields.len() as u64,
            Value::Variant { fields, .. } => WORD + WORD * fields.len() as u64,
            Value::Closure { env, .. } => WORD + WORD * env.len() as u64,
            Value::Option(Some(_)) => WORD,
            _ => 0,
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

/// How deep `{:?}` goes into a value before it writes `…` for the rest. Formatting recurses
/// (it goes through `std::fmt`'s builders), so the bound keeps a value nested a million deep
/// from overflowing the stack; 100 levels is far more than a readable dump shows.
pub const DEBUG_DEPTH: u32 = 100;

thread_local! {
    /// The depth of the `{:?}` of a value running on this thread.
    static DEBUG_LEVEL: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// What `{:?}` prints for a value: the same text `#[derive(Debug)]` on [`Value`] would give
/// (each nested value goes back through [`Value`]'s bounded impl).
// The fields are read by the derived `Debug` only.
#[allow(dead_code)]
#[derive(Debug)]
enum Shape<'a> {
    Int(&'a i64),
    Bool(&'a bool),
    String(&'a SmolStr),
    Duration(&'a i64),
    Unit,
    List(&'a Arc<Vec<Value>>),
    Map(&'a Arc<BTreeMap<Value, Value>>),
    Record { ty: &'a RecordType, fields: &'a Arc<Vec<(SmolStr, Value)>> },
    Variant { owner: &'a CodeHash, index: &'a u32, fields: &'a Arc<Vec<Value>> },
    Option(&'a Option<Arc<Value>>),
    Closure { code: &'a u32, env: &'a Arc<Vec<Value>> },
    Builtin(&'a Builtin),
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = DEBUG_LEVEL.with(|l| l.get());
        if level >= DEBUG_DEPTH {
            return f.write_str("…");
        }
        let shape = match self {
            Value::Int(x) => Shape::Int(x),
            Value::Bool(x) => Shape::Bool(x),
            Value::String(x) => Shape::String(x),
            Value::Duration(x) => Shape::Duration(x),
            Value::Unit => Shape::Unit,
            Value::List(x) => Shape::List(x),
            Value::Map(x) => Shape::Map(x),
            Value::Record { ty, fields } => Shape::Record { ty, fields },
            Value::Variant { owner, index, fields } => Shape::Variant { owner, index, fields },
            Value::Option(x) => Shape::Option(x),
            Value::Closure { code, env } => Shape::Closure { code, env },
            Value::Builtin(x) => Shape::Builtin(x),
        };
        DEBUG_LEVEL.with(|l| l.set(level + 1));
        let r = shape.fmt(f);
        DEBUG_LEVEL.with(|l| l.set(level));
        r
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

thread_local! {
    /// Heap bytes (by [`Value::heap_size`]) of the compound values freed on this thread so
    /// far. The VM reads how much it grew while its own code ran to count the live heap
    /// (docs/vm.md, "Resources").
    static FREED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// [`FREED`]: a counter that only grows (wrapping), read as a difference of two readings.
pub(crate) fn freed_bytes() -> u64 {
    FREED.with(|f| f.get())
}

/// A value is freed when its last owner drops it. Every compound value reaches `Drop` once
/// as a whole (the children that [`drop_children`] moves out are dropped one by one), so its
/// size is counted here once, and only when this owner is the last one.
#[inline(never)]
fn drop_children(v: &mut Value) {
    if v.unique() {
        let size = v.heap_size();
        FREED.with(|f| f.set(f.get().wrapping_add(size)));
    }
    let mut stack = Vec::new();
    take_children(v, &mut stack);
    while let Some(mut v) = stack.pop() {
        take_children(&mut v, &mut stack);
    }
}

impl Value {
    /// This is the last owner of the value's heap block (false for scalars and strings).
    fn unique(&self) -> bool {
        // `Arc::get_mut` needs `&mut`; the counts answer the same for a shared borrow (no
        // weak references are ever made).
        fn one<T: ?Sized>(a: &Arc<T>) -> bool {
            Arc::strong_count(a) == 1
        }
        match self {
            Value::List(xs) => one(xs),
            Value::Map(m) => one(m),
            Value::Record { fields, .. } => one(fields),
            Value::Variant { fields, .. } => one(fields),
            Value::Option(Some(x)) => one(x),
            Value::Closure { env, .. } => one(env),
            _ => false,
        }
    }

    /// Whether one of the values this value holds holds values in turn.
    fn holds_owners(&self) -> bool {
        match self {
            Value::List(xs) => xs.iter().any(Value::owns_values),
            Value::Map(m) => m.iter().any(|(k, x)| k.owns_values() || x.owns_values()),
            Value::Record { fields, .. } => fields.iter().any(|(_, x)| x.owns_values()),
            Value::Variant { fields, .. } => fields.iter().any(Value::owns_values),
            Value::Option(Some(x)) => x.owns_values(),
            Value::Closure { env, .. } => env.iter().any(Value::owns_values),
            _ => false,
        }
    }

    /// What the heap estimate counts for the value and everything it holds (shared parts
    /// counted each time they appear): the charge for a value that comes from outside the
    /// machine (an argument, a host's answer), whose parts were never charged one by one.
    pub(crate) fn deep_heap_size(&self) -> u64 {
        let mut total = 0u64;
        let mut work = vec![self];
        while let Some(v) = work.pop() {
            total = total.saturating_add(v.heap_size());
            match v {
                Value::List(xs) => work.extend(xs.iter()),
                Value::Map(m) => m.iter().for_each(|(k, x)| work.extend([k, x])),
                Value::Record { fields, .. } => work.extend(fields.iter().map(|(_, x)| x)),
                Value::Variant { fields, .. } => work.extend(fields.iter()),
                Value::Option(Some(x)) => work.push(x),
                Value::Closure { env, .. } => work.extend(env.iter()),
                _ => {}
            }
        }
        total
    }
}

/// Moves out the children this value owns alone (a shared list or map stays with its other
/// owners).
fn take_children(v: &mut Value, out: &mut Vec<Value>) {
    // Only children whose drop would go deeper than one more level go on the stack; the
    // others are dropped where they are (a list of a million Ints, or of a hundred thousand
    // records of scalars, is freed without moving its elements).
    let mut keep = |x: &mut Value| {
        if x.owns_values() {
            if x.unique() && x.holds_owners() {
                out.push(x.take());
            } else {
                drop(x.take());
            }
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
