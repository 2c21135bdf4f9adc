//! The trace recorder: what a run did, recorded cheaply enough to leave on, and replayable.
//!
//! A run is a pure function of its program, its configuration ([`RunMeta`]) and the answers
//! of the host, so a trace records exactly what cannot be recomputed: every interaction with
//! the host (effect, arguments, virtual time, cost and answer), the entry call and its return
//! (or error), and periodic [snapshots](Event::Snapshot) of the machine. Per-call events of
//! the whole run are regenerated on demand by deterministic re-execution
//! ([`Trace::events_full`]). The events form a BLAKE3 hash chain, so a trace altered after
//! recording is refused on load with the index of the first bad event. docs/tracing.md
//! describes the format.

use crate::host::{Host, HostError};
use crate::hostfile::HostFile;
use crate::program::{HostEffect, Program, StoredDef};
use crate::value::Value;
use crate::vm::{Limits, RuntimeError, Status, Vm};
use smol_str::SmolStr;
use std::collections::{HashMap, HashSet};
use tel_hash::CodeHash;

/// The version of the trace format ([`Trace::to_bytes`]). It covers the serialization of
/// values, errors and VM snapshots, so it changes whenever those do.
pub const FORMAT_VERSION: u16 = 1;
/// The first bytes of a trace.
pub const MAGIC: [u8; 8] = *b"TELTRACE";
/// The first bytes of an exported run ([`ExportedRun`]).
pub const EXPORT_MAGIC: [u8; 8] = *b"TELRUNX\0";
/// Default number of instructions between snapshots (see [`RunMeta::snapshot_every`]).
pub const DEFAULT_SNAPSHOT_EVERY: u64 = 1_000_000;
/// A snapshot of `n` bytes delays the next one by at least `n * SNAPSHOT_SPACING`
/// instructions, so a machine with a large state is not serialized over and over: snapshot
/// bytes stay below 1/16 of a byte per instruction run.
pub const SNAPSHOT_SPACING: u64 = 16;

/// What a run was started with: everything besides the program and the host's answers that
/// its outcome depends on.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RunMeta {
    /// The entry point's hash and, for display, its name.
    pub entry: CodeHash,
    pub entry_name: Option<SmolStr>,
    /// The entry point's arguments (`--args`).
    pub args: Vec<Value>,
    /// The host configuration, when the host was a [`HostFile`]'s.
    #[serde(with = "host_json")]
    pub host: Option<HostFile>,
    pub limits: Limits,
    /// The virtual clock's start, in milliseconds.
    pub clock_start: i64,
    /// The host effects the sandbox allowed.
    pub allowed: Vec<HostEffect>,
    /// Whether pure calls were answered from a memo cache. Such a run skips the instructions
    /// of cached calls, so its snapshots are not compared on replay (its effects and result
    /// are: memoization never changes them).
    pub memo: bool,
    /// Instructions between snapshots (at least; see [`SNAPSHOT_SPACING`]).
    pub snapshot_every: u64,
    /// The `tel-vm` version that recorded the trace.
    pub vm_version: SmolStr,
    /// What ran the code. Not a serde field: the metadata's bytes carry it after the
    /// fields above, and only when it is not the VM, so every VM trace written before it
    /// existed reads, links and gets its run id as before (see [`meta_bytes`]).
    #[serde(skip)]
    pub backend: Backend,
}

/// What ran a recorded run. Fuel counts the machine's own instructions, so a run stopped by
/// its fuel replays only on the backend that recorded it; `tel replay` uses this.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Backend {
    /// The bytecode VM.
    #[default]
    Vm,
    /// The RISC-V emulator, on the code compiled for it (`tel-riscv`).
    Riscv,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Vm => "vm",
            Backend::Riscv => "riscv",
        }
    }
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Backend, String> {
        match s {
            "vm" => Ok(Backend::Vm),
            "riscv" => Ok(Backend::Riscv),
            _ => Err(format!("no backend `{s}`: expected vm or riscv")),
        }
    }
}

impl RunMeta {
    /// A run of `entry` with the default limits, no host file, every host effect allowed and
    /// no memo cache; set the other fields as needed.
    pub fn new(program: &Program) -> RunMeta {
        RunMeta {
            entry: program.entry,
            entry_name: program.names.get(&program.entry).cloned(),
            args: Vec::new(),
            host: None,
            limits: Limits::default(),
            clock_start: 0,
            allowed: HostEffect::ALL.to_vec(),
            memo: false,
            snapshot_every: DEFAULT_SNAPSHOT_EVERY,
            vm_version: env!("CARGO_PKG_VERSION").into(),
            backend: Backend::Vm,
        }
    }

    /// The machine this run starts from; refused when the arguments do not fit the entry.
    pub fn try_start(&self, program: &Program) -> Result<Vm, crate::LoadError> {
        Vm::with_args(program, self.limits, self.clock_start, self.args.clone())
    }
}

/// A host file inside a binary trace is kept as its JSON text: its feeds read "a number or a
/// series", which only a self-describing format can express.
mod host_json {
    use crate::hostfile::HostFile;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(h: &Option<HostFile>, s: S) -> Result<S::Ok, S::Error> {
        let text = match h {
            Some(h) => Some(serde_json::to_string(h).map_err(serde::ser::Error::custom)?),
            None => None,
        };
        text.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<HostFile>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => HostFile::parse(&text).map(Some).map_err(serde::de::Error::custom),
            None => Ok(None),
        }
    }
}

/// One event of a run.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Event {
    /// A call of a top-level definition. A recorded trace holds the entry point's; the others
    /// are regenerated by [`Trace::events_full`].
    FunctionCall { hash: CodeHash, name: Option<SmolStr>, args: Vec<Value> },
    /// The matching return.
    FunctionReturn { hash: CodeHash, result: Value },
    /// A host effect the host performed (`result` is its answer) or refused (`Err`, which
    /// ends the run). `now` is the virtual time it was performed at; `cost` is the cost the
    /// host gave it beforehand (`None` for `Sleep`, which costs its duration).
    EffectApplied {
        effect: HostEffect,
        args: Vec<Value>,
        cost: Option<i64>,
        now: i64,
        result: Result<Value, String>,
    },
    /// The host was asked for an effect's cost, but the effect was not performed: a `Now`
    /// (the machine reads its own clock), an effect that would have passed a `within`
    /// deadline (language.md §9.1), or a refusal of the cost (`Err`, which ends the run).
    EffectNotPerformed { effect: HostEffect, args: Vec<Value>, cost: Result<i64, String> },
    /// The run ended with a runtime error.
    Error { error: RuntimeError },
    /// The machine's state after `steps` more instructions (`vm` is its postcard
    /// serialization); `fuel` is the instruction count so far. Replay resumes or compares
    /// here.
    Snapshot { steps: u64, fuel: u64, vm: Vec<u8> },
    /// The run was moved to its declared degraded state before an upgrade because what it
    /// waited on outlived the safe-state timeout (docs/schema.md, "tel schema upgrade").
    /// Only in an upgraded run's trace, right before its [`Event::Upgraded`].
    Degraded(Degradation),
    /// The run was stopped after `fuel` instructions, at `now` on its clock, and its state
    /// upgraded from schema version `from` to `to` under the safe-state `strategy`. The last
    /// event of an upgraded run's trace (see [`crate::travel::Navigator::upgraded_trace`]):
    /// the events before it are the run's up to that instruction.
    Upgraded { fuel: u64, now: i64, strategy: String, from: CodeHash, to: CodeHash },
}

/// A move to the degraded state: how long the run had waited on its clock, the timeout it
/// passed, the degraded-state function applied (`fn(S) -> S`) and what was abandoned, as the
/// upgrade described it (`Observe("ETH/USD") pending since 0 ms`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Degradation {
    pub waited_ms: i64,
    pub timeout_ms: i64,
    pub function: CodeHash,
    pub abandoned: Vec<String>,
}

impl Event {
    /// A one-line description; values are shown as `show` does (language.md §8.3), with the
    /// enum and record names `program` knows.
    pub fn describe(&self, program: &Program) -> String {
        let show = |v: &Value| match v {
            Value::String(s) => format!("{:?}", s.as_str()),
            v => crate::show::show(program, v),
        };
        let list = |args: &[Value]| args.iter().map(show).collect::<Vec<_>>().join(", ");
        match self {
            Event::FunctionCall { hash, name, args } => {
                let name = name.as_ref().map_or_else(
                    || format!("#{}", hash.short()),
                    |n| format!("{n} #{}", hash.short()),
                );
                format!("call {name}({})", list(args))
            }
            Event::FunctionReturn { hash, result } => {
                format!("return #{} = {}", hash.short(), show(result))
            }
            Event::EffectApplied { effect, args, cost, now, result } => {
                let cost = match cost {
                    Some(c) if *c != 0 => format!(", cost {c}ms"),
                    _ => String::new(),
                };
                let result = match result {
                    Ok(v) => format!("-> {}", show(v)),
                    Err(e) => format!("refused: {e}"),
                };
                format!("{}({}) at {now}ms{cost} {result}", effect.name(), list(args))
            }
            Event::EffectNotPerformed { effect, args, cost } => match cost {
                Ok(c) => format!("{}({}) not performed (cost {c}ms)", effect.name(), list(args)),
                Err(e) => format!("{}({}) refused: {e}", effect.name(), list(args)),
            },
            Event::Error { error } => format!("error: {error}"),
            Event::Snapshot { fuel, vm, .. } => {
                format!("snapshot at instruction {fuel} ({} bytes)", vm.len())
            }
            Event::Degraded(d) => format!(
                "degraded: waited {} ms, past the timeout of {} ms; moved to its degraded state #{}, abandoning {}",
                d.waited_ms,
                d.timeout_ms,
                d.function.short(),
                if d.abandoned.is_empty() { "nothing".into() } else { d.abandoned.join("; ") }
            ),
            Event::Upgraded { fuel, now, strategy, from, to } => format!(
                "upgraded at instruction {fuel} ({now}ms): schema #{} -> #{} ({strategy})",
                from.short(),
                to.short()
            ),
        }
    }
}

/// An [`Event`] by reference: the recorder writes events without building them.
enum EventRef<'a> {
    FunctionCall {
        hash: &'a CodeHash,
        name: Option<&'a str>,
        args: &'a [Value],
    },
    FunctionReturn {
        hash: &'a CodeHash,
        result: &'a Value,
    },
    EffectApplied {
        effect: HostEffect,
        args: &'a [Value],
        cost: Option<i64>,
        now: i64,
        result: Result<&'a Value, &'a str>,
    },
    EffectNotPerformed {
        effect: HostEffect,
        args: &'a [Value],
        cost: Result<i64, &'a str>,
    },
    Error {
        error: &'a RuntimeError,
    },
    Snapshot {
        steps: u64,
        fuel: u64,
        vm: &'a [u8],
    },
    Degraded(&'a Degradation),
    Upgraded {
        fuel: u64,
        now: i64,
        strategy: &'a str,
        from: &'a CodeHash,
        to: &'a CodeHash,
    },
}

impl Event {
    fn as_ref(&self) -> EventRef<'_> {
        match self {
            Event::FunctionCall { hash, name, args } => {
                EventRef::FunctionCall { hash, name: name.as_deref(), args }
            }
            Event::FunctionReturn { hash, result } => EventRef::FunctionReturn { hash, result },
            Event::EffectApplied { effect, args, cost, now, result } => EventRef::EffectApplied {
                effect: *effect,
                args,
                cost: *cost,
                now: *now,
                result: result.as_ref().map_err(String::as_str),
            },
            Event::EffectNotPerformed { effect, args, cost } => EventRef::EffectNotPerformed {
                effect: *effect,
                args,
                cost: cost.as_ref().copied().map_err(String::as_str),
            },
            Event::Error { error } => EventRef::Error { error },
            Event::Snapshot { steps, fuel, vm } => {
                EventRef::Snapshot { steps: *steps, fuel: *fuel, vm }
            }
            Event::Degraded(d) => EventRef::Degraded(d),
            Event::Upgraded { fuel, now, strategy, from, to } => {
                EventRef::Upgraded { fuel: *fuel, now: *now, strategy, from, to }
            }
        }
    }
}

/// The canonical bytes of events (docs/tracing.md, "Event encoding"). Written by hand rather
/// than through serde: effect events are small and many, and a generic serializer cost more
/// per event than the rest of the recording. Values of the kinds host effects exchange (Int,
/// Bool, String, Duration, Unit) have their own short forms; any other value, a runtime error
/// and a machine are their postcard bytes.
mod codec {
    use super::{Degradation, EventRef, put_bytes, put_varint};
    use crate::program::HostEffect;
    use crate::trace::Event;
    use crate::value::Value;
    use tel_hash::CodeHash;

    fn zigzag(n: i64) -> u64 {
        ((n << 1) ^ (n >> 63)) as u64
    }

    fn unzigzag(n: u64) -> i64 {
        ((n >> 1) as i64) ^ -((n & 1) as i64)
    }

    fn effect_id(e: HostEffect) -> u8 {
        HostEffect::ALL.iter().position(|x| *x == e).expect("a host effect") as u8
    }

    fn value(out: &mut Vec<u8>, v: &Value) {
        match v {
            Value::Int(i) => {
                out.push(0);
                put_varint(out, zigzag(*i));
            }
            Value::Bool(b) => out.extend_from_slice(&[1, u8::from(*b)]),
            Value::String(s) => {
                out.push(2);
                put_bytes(out, s.as_bytes());
            }
            Value::Duration(d) => {
                out.push(3);
                put_varint(out, zigzag(*d));
            }
            Value::Unit => out.push(4),
            other => {
                out.push(5);
                put_bytes(out, &postcard::to_allocvec(other).expect("values serialize"));
            }
        }
    }

    fn values(out: &mut Vec<u8>, vs: &[Value]) {
        put_varint(out, vs.len() as u64);
        vs.iter().for_each(|v| value(out, v));
    }

    /// An effect whose cost was answered: the bytes of `EffectNotPerformed { cost: Ok(c) }`.
    /// When the effect is then performed, the recorder turns them into the `EffectApplied`
    /// with `cost: Some(c)` by changing the kind byte to 2 and appending [`performed`]: the
    /// two share this prefix, so the arguments are written once and never copied.
    pub(super) fn asked(out: &mut Vec<u8>, effect: HostEffect, args: &[Value], cost: i64) {
        out.extend_from_slice(&[3, effect_id(effect)]);
        values(out, args);
        out.push(1);
        put_varint(out, zigzag(cost));
    }

    /// The end of an `EffectApplied`: the time and the answer.
    pub(super) fn performed(out: &mut Vec<u8>, now: i64, result: Result<&Value, &str>) {
        put_varint(out, zigzag(now));
        match result {
            Ok(v) => {
                out.push(0);
                value(out, v);
            }
            Err(m) => {
                out.push(1);
                put_bytes(out, m.as_bytes());
            }
        }
    }

    pub(super) fn encode(out: &mut Vec<u8>, e: &EventRef<'_>) {
        match e {
            EventRef::FunctionCall { hash, name, args } => {
                out.push(0);
                out.extend_from_slice(&hash.0);
                match name {
                    None => out.push(0),
                    Some(n) => {
                        out.push(1);
                        put_bytes(out, n.as_bytes());
                    }
                }
                values(out, args);
            }
            EventRef::FunctionReturn { hash, result } => {
                out.push(1);
                out.extend_from_slice(&hash.0);
                value(out, result);
            }
            EventRef::EffectApplied { effect, args, cost, now, result } => {
                match cost {
                    None => {
                        out.extend_from_slice(&[2, effect_id(*effect)]);
                        values(out, args);
                        out.push(0);
                    }
                    Some(c) => {
                        let at = out.len();
                        asked(out, *effect, args, *c);
                        out[at] = 2;
                    }
                }
                performed(out, *now, *result);
            }
            EventRef::EffectNotPerformed { effect, args, cost } => match cost {
                Ok(c) => asked(out, *effect, args, *c),
                Err(m) => {
                    out.extend_from_slice(&[3, effect_id(*effect)]);
                    values(out, args);
                    out.push(2);
                    put_bytes(out, m.as_bytes());
                }
            },
            EventRef::Error { error } => {
                out.push(4);
                put_bytes(out, &postcard::to_allocvec(error).expect("errors serialize"));
            }
            EventRef::Snapshot { steps, fuel, vm } => {
                out.push(5);
                put_varint(out, *steps);
                put_varint(out, *fuel);
                put_bytes(out, vm);
            }
            EventRef::Degraded(d) => {
                out.push(6);
                put_varint(out, zigzag(d.waited_ms));
                put_varint(out, zigzag(d.timeout_ms));
                out.extend_from_slice(&d.function.0);
                put_varint(out, d.abandoned.len() as u64);
                d.abandoned.iter().for_each(|a| put_bytes(out, a.as_bytes()));
            }
            EventRef::Upgraded { fuel, now, strategy, from, to } => {
                out.push(7);
                put_varint(out, *fuel);
                put_varint(out, zigzag(*now));
                put_bytes(out, strategy.as_bytes());
                out.extend_from_slice(&from.0);
                out.extend_from_slice(&to.0);
            }
        }
    }

    struct Dec<'a> {
        bytes: &'a [u8],
        pos: usize,
    }

    type R<T> = Result<T, String>;

    impl<'a> Dec<'a> {
        fn byte(&mut self) -> R<u8> {
            let b = *self.bytes.get(self.pos).ok_or("it is cut short")?;
            self.pos += 1;
            Ok(b)
        }

        fn take(&mut self, n: usize) -> R<&'a [u8]> {
            if self.bytes.len() - self.pos < n {
                return Err("it is cut short".into());
            }
            self.pos += n;
            Ok(&self.bytes[self.pos - n..self.pos])
        }

        fn varint(&mut self) -> R<u64> {
            let mut n = 0u64;
            for shift in (0..64).step_by(7) {
                let b = self.byte()?;
                n |= u64::from(b & 0x7f) << shift;
                if b & 0x80 == 0 {
                    return Ok(n);
                }
            }
            Err("a number is too long".into())
        }

        fn int(&mut self) -> R<i64> {
            Ok(unzigzag(self.varint()?))
        }

        fn bytes(&mut self) -> R<&'a [u8]> {
            let n = usize::try_from(self.varint()?).map_err(|_| "a length is too large")?;
            self.take(n)
        }

        fn str(&mut self) -> R<String> {
            String::from_utf8(self.bytes()?.to_vec()).map_err(|_| "a string is not UTF-8".into())
        }

        fn hash(&mut self) -> R<CodeHash> {
            Ok(CodeHash(self.take(32)?.try_into().expect("32 bytes")))
        }

        fn flag(&mut self) -> R<bool> {
            match self.byte()? {
                0 => Ok(false),
                1 => Ok(true),
                b => Err(format!("{b} is not 0 or 1")),
            }
        }

        fn effect(&mut self) -> R<HostEffect> {
            let b = self.byte()?;
            HostEffect::ALL.get(usize::from(b)).copied().ok_or(format!("no host effect {b}"))
        }

        fn postcard<T: serde::de::DeserializeOwned>(&mut self) -> R<T> {
            super::decode_exact(self.bytes()?)
        }

        fn value(&mut self) -> R<Value> {
            Ok(match self.byte()? {
                0 => Value::Int(self.int()?),
                1 => Value::Bool(self.flag()?),
                2 => Value::String(self.str()?.into()),
                3 => Value::Duration(self.int()?),
                4 => Value::Unit,
                5 => self.postcard()?,
                b => return Err(format!("no value kind {b}")),
            })
        }

        fn values(&mut self) -> R<Vec<Value>> {
            let n = self.varint()?;
            if n > (self.bytes.len() - self.pos) as u64 {
                return Err("too many values".into());
            }
            (0..n).map(|_| self.value()).collect()
        }
    }

    pub(super) fn decode(bytes: &[u8]) -> R<Event> {
        let mut d = Dec { bytes, pos: 0 };
        let event = match d.byte()? {
            0 => {
                let hash = d.hash()?;
                let name = if d.flag()? { Some(d.str()?.into()) } else { None };
                Event::FunctionCall { hash, name, args: d.values()? }
            }
            1 => Event::FunctionReturn { hash: d.hash()?, result: d.value()? },
            2 => {
                let effect = d.effect()?;
                let args = d.values()?;
                let cost = if d.flag()? { Some(d.int()?) } else { None };
                let now = d.int()?;
                let result = if d.flag()? { Err(d.str()?) } else { Ok(d.value()?) };
                Event::EffectApplied { effect, args, cost, now, result }
            }
            3 => {
                let effect = d.effect()?;
                let args = d.values()?;
                let cost = match d.byte()? {
                    1 => Ok(d.int()?),
                    2 => Err(d.str()?),
                    b => return Err(format!("{b} is not a cost's tag")),
                };
                Event::EffectNotPerformed { effect, args, cost }
            }
            4 => Event::Error { error: d.postcard()? },
            5 => Event::Snapshot { steps: d.varint()?, fuel: d.varint()?, vm: d.bytes()?.to_vec() },
            6 => {
                let (waited_ms, timeout_ms, function) = (d.int()?, d.int()?, d.hash()?);
                let n = d.varint()?;
                if n > (d.bytes.len() - d.pos) as u64 {
                    return Err("too many abandoned entries".into());
                }
                let abandoned = (0..n).map(|_| d.str()).collect::<R<_>>()?;
                Event::Degraded(Degradation { waited_ms, timeout_ms, function, abandoned })
            }
            7 => Event::Upgraded {
                fuel: d.varint()?,
                now: d.int()?,
                strategy: d.str()?,
                from: d.hash()?,
                to: d.hash()?,
            },
            k => return Err(format!("no event kind {k}")),
        };
        if d.pos != bytes.len() {
            return Err(format!("{} bytes left over", bytes.len() - d.pos));
        }
        Ok(event)
    }
}

/// A link of the BLAKE3 hash chain: `link[b] = BLAKE3(link[b-1] ‖ bytes of block b)`,
/// starting from the metadata's link. The last link (the trace's [`Trace::head`]) commits
/// to the metadata and every event.
pub type Link = [u8; 32];

/// A block of the chain closes after the event that brings it to this many encoded bytes
/// (and after the last event). One BLAKE3 link per block instead of per event: hashing
/// every small event separately cost more than the rest of the recording together.
pub const BLOCK_BYTES: usize = 16 * 1024;

/// Each event also carries a 4-byte tag chained from the previous one (a fast 64-bit hash
/// of the event's bytes and the previous tag, truncated): it names the first altered event
/// exactly, where the block links alone would only name the block.
pub const TAG_BYTES: usize = 4;

fn meta_link(meta_bytes: &[u8]) -> Link {
    let mut h = blake3::Hasher::new_derive_key("tel-vm trace metadata v1");
    h.update(meta_bytes);
    *h.finalize().as_bytes()
}

/// `BLAKE3(prev ‖ block)` in effect, computed as BLAKE3 keyed by `prev`: the block's bytes
/// then start on a chunk boundary, so BLAKE3 hashes its chunks in parallel.
fn next_link(prev: &Link, block: &[u8]) -> Link {
    *blake3::keyed_hash(prev, block).as_bytes()
}

fn next_tag(prev: u64, event: &[u8]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    h.write_u64(prev);
    h.write(event);
    h.write_usize(event.len());
    h.finish()
}

/// The events section being written: each event as `length ‖ postcard bytes ‖ tag`, the
/// chain's tag and the links of the closed blocks.
#[derive(Clone, Debug, PartialEq)]
struct Chain {
    encoded: Vec<u8>,
    count: usize,
    tag: u64,
    links: Vec<Link>,
    /// The chain's last link (the metadata's before the first block closes).
    last: Link,
    block_start: usize,
}

impl Chain {
    fn new(meta: &RunMeta) -> Chain {
        Chain {
            encoded: Vec::new(),
            count: 0,
            tag: 0,
            links: Vec::new(),
            last: meta_link(&meta_bytes(meta)),
            block_start: 0,
        }
    }

    fn push(&mut self, event: &EventRef<'_>) {
        let start = self.begin();
        codec::encode(&mut self.encoded, event);
        self.finish(start);
    }

    /// Starts an event: a one-byte length placeholder, then the caller writes the event's
    /// bytes and calls [`Chain::finish`] with the returned start.
    fn begin(&mut self) -> usize {
        self.encoded.push(0);
        self.encoded.len() - 1
    }

    fn finish(&mut self, start: usize) {
        let len = self.encoded.len() - start - 1;
        if len < 0x80 {
            self.encoded[start] = len as u8;
        } else {
            // Rare (snapshots, long values): widen the length in place.
            let mut prefix = Vec::new();
            put_varint(&mut prefix, len as u64);
            self.encoded.splice(start..start + 1, prefix);
        }
        let body = self.encoded.len() - len;
        self.tag = next_tag(self.tag, &self.encoded[body..]);
        self.encoded.extend_from_slice(&self.tag.to_le_bytes()[..TAG_BYTES]);
        self.count += 1;
        if self.encoded.len() - self.block_start >= BLOCK_BYTES {
            self.close_block();
        }
    }

    fn close_block(&mut self) {
        if self.block_start < self.encoded.len() {
            self.last = next_link(&self.last, &self.encoded[self.block_start..]);
            self.links.push(self.last);
            self.block_start = self.encoded.len();
        }
    }
}

/// A recorded run: its metadata and its hash-chained events.
#[derive(Clone, Debug)]
pub struct Trace {
    meta: RunMeta,
    /// The events section, closed.
    chain: Chain,
    /// The events, decoded when first asked for (the recorder only writes bytes).
    events: std::sync::OnceLock<Vec<Event>>,
}

impl PartialEq for Trace {
    fn eq(&self, other: &Trace) -> bool {
        self.meta == other.meta && self.chain == other.chain
    }
}

/// Why bytes are not a valid trace. `Tampered` means the bytes decode but the hash chain
/// does not hold: the trace was altered after it was recorded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    #[error("not a TEL trace (the file does not start with {expected:?})")]
    BadMagic { expected: String },
    #[error(
        "trace format version {found} is not supported (this tel-vm reads version {supported})"
    )]
    UnsupportedVersion { found: u16, supported: u16 },
    #[error("the trace is truncated or corrupt: {0}")]
    Corrupt(String),
    #[error("the trace's run metadata was altered (its hash does not match)")]
    MetaTampered,
    #[error("the trace was altered: event {index} does not match the hash chain ({reason})")]
    Tampered { index: usize, reason: String },
    #[error("the trace ends after {found} of its {expected} events")]
    Truncated { expected: usize, found: usize },
    #[error("exported definition {hash}: {reason}")]
    BadDefinition { hash: String, reason: String },
}

/// How the payload of a trace file is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None = 0,
    /// LZ4 block format (`lz4_flex`, pure Rust).
    Lz4 = 1,
}

impl Trace {
    pub fn meta(&self) -> &RunMeta {
        &self.meta
    }

    /// The recorded events, in order (see [`Trace::events_full`] for every call too).
    pub fn events(&self) -> &[Event] {
        self.events.get_or_init(|| {
            let mut r = Reader { bytes: &self.chain.encoded, pos: 0 };
            (0..self.chain.count)
                .map(|_| {
                    let bytes = r.bytes("an event").expect("the recorder's own events");
                    r.take(TAG_BYTES).expect("the recorder's own tags");
                    codec::decode(bytes).expect("the recorder's own events decode")
                })
                .collect()
        })
    }

    /// The last link of the hash chain: it commits to the metadata and every event. The store
    /// can keep it beside the trace (or use it as the run's id) so that even a trace whose
    /// chain was recomputed after an alteration is caught.
    pub fn head(&self) -> Link {
        self.chain.last
    }

    /// [`Trace::head`] as lowercase hex.
    pub fn id(&self) -> String {
        self.head().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// How the run ended: its value or its error (`None` for a run stopped to be upgraded,
    /// see [`Trace::upgrade`], and for a trace without an end, which [`record`] never
    /// produces).
    pub fn outcome(&self) -> Option<Result<&Value, &RuntimeError>> {
        match self.events().last()? {
            Event::FunctionReturn { result, .. } => Some(Ok(result)),
            Event::Error { error } => Some(Err(error)),
            _ => None,
        }
    }

    /// For the trace of a run stopped to be upgraded: the index of its first upgrade event
    /// ([`Event::Degraded`] or [`Event::Upgraded`]) and the instruction it stopped after.
    pub fn upgrade(&self) -> Option<(usize, u64)> {
        let events = self.events();
        let Some(Event::Upgraded { fuel, .. }) = events.last() else { return None };
        let first = match events.len().checked_sub(2).map(|i| &events[i]) {
            Some(Event::Degraded(_)) => events.len() - 2,
            _ => events.len() - 1,
        };
        Some((first, *fuel))
    }

    /// A new trace with the same metadata: the first `kept` events of this one, then
    /// `appended` (the chain is computed afresh, so it is a run of its own, with its own id).
    pub(crate) fn continued(&self, kept: usize, appended: &[Event]) -> Trace {
        let mut chain = Chain::new(&self.meta);
        for e in self.events()[..kept].iter().chain(appended) {
            chain.push(&e.as_ref());
        }
        chain.close_block();
        Trace { meta: self.meta.clone(), chain, events: std::sync::OnceLock::new() }
    }

    /// The number of host effects recorded (performed, refused or not performed).
    pub fn effect_count(&self) -> usize {
        self.events()
            .iter()
            .filter(|e| matches!(e, Event::EffectApplied { .. } | Event::EffectNotPerformed { .. }))
            .count()
    }

    /// The machine at the `n`th snapshot (counting from 0), with the index of its event.
    pub fn snapshot(&self, n: usize) -> Option<Result<(usize, Vm), TraceError>> {
        let (index, bytes) = self
            .events()
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match e {
                Event::Snapshot { vm, .. } => Some((i, vm)),
                _ => None,
            })
            .nth(n)?;
        Some(decode_vm(bytes).map(|vm| (index, vm)))
    }

    /// Every event of the run, with a [`Event::FunctionCall`] and [`Event::FunctionReturn`]
    /// for each call of a top-level definition, regenerated by re-running the program with
    /// the host's answers taken from the trace.
    pub fn events_full(&self, program: &Program) -> Result<Vec<Event>, crate::replay::Divergence> {
        crate::replay::events_full(self, program)
    }

    /// The trace file: [`MAGIC`], the format version, and the LZ4-compressed payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_bytes_with(Compression::Lz4)
    }

    /// [`Trace::to_bytes`] with a chosen compression (`None` is for inspection and tests).
    pub fn to_bytes_with(&self, compression: Compression) -> Vec<u8> {
        let meta = meta_bytes(&self.meta);
        let c = &self.chain;
        let mut payload =
            Vec::with_capacity(meta.len() + c.encoded.len() + 32 * c.links.len() + 64);
        put_bytes(&mut payload, &meta);
        payload.extend_from_slice(&meta_link(&meta));
        put_varint(&mut payload, c.links.len() as u64);
        c.links.iter().for_each(|l| payload.extend_from_slice(l));
        put_varint(&mut payload, c.count as u64);
        payload.extend_from_slice(&c.encoded);
        frame(MAGIC, compression, &payload)
    }

    /// Reads a trace file and checks its hash chain.
    pub fn from_bytes(bytes: &[u8]) -> Result<Trace, TraceError> {
        let payload = unframe(MAGIC, bytes)?;
        let mut r = Reader { bytes: &payload, pos: 0 };
        let meta_bytes = r.bytes("the run metadata")?;
        let meta = decode_meta(meta_bytes)
            .map_err(|e| TraceError::Corrupt(format!("the run metadata does not decode: {e}")))?;
        let mut chain = Chain::new(&meta);
        if r.take(32)? != chain.last {
            return Err(TraceError::MetaTampered);
        }
        let blocks = r.varint("the block count")? as usize;
        if blocks > (payload.len() - r.pos) / 32 {
            return Err(TraceError::Corrupt(format!("{blocks} blocks cannot fit the trace")));
        }
        let stored: Vec<&[u8]> = (0..blocks).map(|_| r.take(32)).collect::<Result<_, _>>()?;
        let count = r.varint("the event count")? as usize;
        let mut events = Vec::with_capacity(count.min(1 << 16));
        // The first event of the block being read, for a block whose link fails.
        let mut block_first = 0;
        for index in 0..count {
            // Running out of bytes inside the events means they were cut short.
            let truncated = |_| TraceError::Truncated { expected: count, found: index };
            let start = r.pos;
            let body = r.bytes("an event").map_err(truncated)?;
            let tag = r.take(TAG_BYTES).map_err(truncated)?;
            let tampered = |reason: &str| TraceError::Tampered { index, reason: reason.into() };
            chain.tag = next_tag(chain.tag, body);
            if chain.tag.to_le_bytes()[..TAG_BYTES] != *tag {
                return Err(tampered("its tag does not follow from the previous event"));
            }
            let event =
                codec::decode(body).map_err(|e| tampered(&format!("it does not decode: {e}")))?;
            events.push(event);
            chain.encoded.extend_from_slice(&payload[start..r.pos]);
            chain.count += 1;
            let last = index + 1 == count;
            if chain.encoded.len() - chain.block_start >= BLOCK_BYTES || last {
                chain.close_block();
                let b = chain.links.len() - 1;
                if stored.get(b).is_none_or(|l| *l != chain.last) {
                    return Err(TraceError::Tampered {
                        index: block_first,
                        reason: format!(
                            "the block of events {block_first}..={index} does not match its link"
                        ),
                    });
                }
                block_first = index + 1;
            }
        }
        if chain.links.len() != blocks {
            return Err(TraceError::Corrupt(format!(
                "{blocks} block links for {} blocks of events",
                chain.links.len()
            )));
        }
        if !r.at_end() {
            return Err(TraceError::Corrupt(format!(
                "{} bytes after the last event",
                payload.len() - r.pos
            )));
        }
        Ok(Trace { meta, chain, events: events.into() })
    }
}

/// The metadata's bytes: its serde fields, then the backend when it is not the VM.
fn meta_bytes(meta: &RunMeta) -> Vec<u8> {
    let mut bytes = postcard::to_allocvec(meta).expect("run metadata serializes");
    if meta.backend != Backend::Vm {
        bytes.extend(postcard::to_allocvec(&meta.backend).expect("a backend serializes"));
    }
    bytes
}

/// The inverse of [`meta_bytes`]. (A VM backend written out is not its form: the chain's
/// first link, made from the canonical bytes, then does not match.)
fn decode_meta(bytes: &[u8]) -> Result<RunMeta, String> {
    let (mut meta, rest) =
        postcard::take_from_bytes::<RunMeta>(bytes).map_err(|e| e.to_string())?;
    if !rest.is_empty() {
        meta.backend = decode_exact(rest).map_err(|e| format!("its backend: {e}"))?;
    }
    Ok(meta)
}

/// Decodes postcard bytes that must be consumed entirely.
fn decode_exact<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, String> {
    match postcard::take_from_bytes::<T>(bytes) {
        Ok((v, [])) => Ok(v),
        Ok((_, rest)) => Err(format!("{} bytes left over", rest.len())),
        Err(e) => Err(e.to_string()),
    }
}

/// A machine serialized into a snapshot. The wall-clock time it has used is left out (as 0):
/// it is the one part of a machine that differs from run to run, and a snapshot must be
/// the same whenever the run is.
pub fn encode_vm(vm: &mut Vm) -> Vec<u8> {
    let wall = std::mem::take(&mut vm.usage.wall_us);
    let bytes = postcard::to_allocvec(&*vm).expect("a machine serializes");
    vm.usage.wall_us = wall;
    bytes
}

/// A machine read back from a snapshot.
pub fn decode_vm(bytes: &[u8]) -> Result<Vm, TraceError> {
    decode_exact(bytes).map_err(|e| TraceError::Corrupt(format!("a snapshot does not decode: {e}")))
}

// ---- framing: magic, version, compression, length, payload ----

const HEADER_LEN: usize = 8 + 2 + 1 + 8;
/// LZ4 expands at most ~255x; a length claim beyond that is corrupt, not a reason to
/// allocate.
const MAX_RATIO: u64 = 256;

fn frame(magic: [u8; 8], compression: Compression, payload: &[u8]) -> Vec<u8> {
    let body = match compression {
        Compression::None => payload.to_vec(),
        Compression::Lz4 => lz4_flex::block::compress(payload),
    };
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(&magic);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.push(compression as u8);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

fn unframe(magic: [u8; 8], bytes: &[u8]) -> Result<Vec<u8>, TraceError> {
    if bytes.len() < 8 || bytes[..8] != magic {
        return Err(TraceError::BadMagic { expected: String::from_utf8_lossy(&magic).into() });
    }
    if bytes.len() < HEADER_LEN {
        return Err(TraceError::Corrupt("the header is cut short".into()));
    }
    let version = u16::from_le_bytes([bytes[8], bytes[9]]);
    if version != FORMAT_VERSION {
        return Err(TraceError::UnsupportedVersion { found: version, supported: FORMAT_VERSION });
    }
    let len = u64::from_le_bytes(bytes[11..19].try_into().expect("8 bytes"));
    let body = &bytes[HEADER_LEN..];
    match bytes[10] {
        0 if body.len() as u64 == len => Ok(body.to_vec()),
        0 => Err(TraceError::Corrupt(format!(
            "the payload is {} bytes, the header says {len}",
            body.len()
        ))),
        1 => {
            if len > (body.len() as u64 + 16) * MAX_RATIO {
                return Err(TraceError::Corrupt(format!(
                    "{len} bytes cannot come from {} compressed bytes",
                    body.len()
                )));
            }
            let payload = lz4_flex::block::decompress(body, len as usize).map_err(|e| {
                TraceError::Corrupt(format!("the payload does not decompress: {e}"))
            })?;
            if payload.len() as u64 != len {
                return Err(TraceError::Corrupt(format!(
                    "the payload is {} bytes, the header says {len}",
                    payload.len()
                )));
            }
            Ok(payload)
        }
        c => Err(TraceError::Corrupt(format!("unknown compression {c}"))),
    }
}

fn put_varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], TraceError> {
        if self.bytes.len() - self.pos < n {
            return Err(TraceError::Corrupt(format!(
                "{n} bytes needed at offset {}, {} left",
                self.pos,
                self.bytes.len() - self.pos
            )));
        }
        let s = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn varint(&mut self, what: &str) -> Result<u64, TraceError> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .take(1)
                .map_err(|_| {
                    TraceError::Corrupt(format!("{what} is cut short at offset {}", self.pos))
                })?
                .first()
                .expect("one byte");
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err(TraceError::Corrupt(format!("{what} is not a valid length")))
    }

    fn bytes(&mut self, what: &str) -> Result<&'a [u8], TraceError> {
        let n = self.varint(what)?;
        let n =
            usize::try_from(n).map_err(|_| TraceError::Corrupt(format!("{what} is too long")))?;
        self.take(n)
    }
}

// ---- recording ----

/// Wraps the run's host: passes every question on, and writes down the answers.
struct Recorder<'h> {
    inner: &'h mut dyn Host,
    chain: Chain,
    /// An effect whose cost was answered and which has not been performed (yet): its event
    /// is open at the end of the chain, written as not performed (see [`codec::asked`]).
    pending: Option<(HostEffect, usize)>,
}

impl Recorder<'_> {
    /// Closes an asked effect that was not performed.
    fn flush(&mut self) {
        if let Some((_, start)) = self.pending.take() {
            self.chain.finish(start);
        }
    }
}

impl Host for Recorder<'_> {
    fn cost(&mut self, effect: HostEffect, args: &[Value]) -> Result<i64, HostError> {
        self.flush();
        let answer = self.inner.cost(effect, args);
        match &answer {
            Ok(c) => {
                let start = self.chain.begin();
                codec::asked(&mut self.chain.encoded, effect, args, *c);
                self.pending = Some((effect, start));
            }
            Err(e) => {
                self.chain.push(&EventRef::EffectNotPerformed { effect, args, cost: Err(&e.0) })
            }
        }
        answer
    }

    fn perform(
        &mut self,
        effect: HostEffect,
        args: &[Value],
        now: i64,
    ) -> Result<Value, HostError> {
        let answer = self.inner.perform(effect, args, now);
        let result = match &answer {
            Ok(v) => Ok(v),
            Err(e) => Err(e.0.as_str()),
        };
        // The machine asks an effect's cost right before performing it; `Sleep` has none.
        match self.pending.take() {
            Some((e, start)) if e == effect => {
                self.chain.encoded[start + 1] = 2; // EffectApplied
                codec::performed(&mut self.chain.encoded, now, result);
                self.chain.finish(start);
            }
            other => {
                self.pending = other;
                self.flush();
                let event = EventRef::EffectApplied { effect, args, cost: None, now, result };
                self.chain.push(&event);
            }
        }
        answer
    }

    fn observes_calls(&self) -> bool {
        self.inner.observes_calls()
    }

    fn on_call(&mut self, def: &CodeHash, args: &[Value]) -> Option<Value> {
        self.inner.on_call(def, args)
    }

    fn on_return(&mut self, def: &CodeHash, result: &Value) {
        self.inner.on_return(def, result)
    }
}

/// A finished recorded run.
#[derive(Debug)]
pub struct Recording {
    pub trace: Trace,
    /// The machine at the end (its clock and usage are the run's).
    pub vm: Vm,
    pub outcome: Result<Value, RuntimeError>,
}

/// Runs `program` from the start `meta` describes, with `host` answering its effects (wrap
/// it in a sandbox or a memo cache first, as the run needs), and records the trace.
pub fn record(program: &Program, meta: RunMeta, host: &mut dyn Host) -> Recording {
    let meta = RunMeta { backend: Backend::Vm, ..meta };
    let mut rec = Recorder { inner: host, chain: Chain::new(&meta), pending: None };
    rec.chain.push(&EventRef::FunctionCall {
        hash: &meta.entry,
        name: meta.entry_name.as_deref(),
        args: &meta.args,
    });
    let mut vm = match meta.try_start(program) {
        Ok(vm) => vm,
        Err(e) => {
            let e = RuntimeError::Trap { message: e.to_string(), at: Default::default() };
            rec.chain.push(&EventRef::Error { error: &e });
            let mut chain = rec.chain;
            chain.close_block();
            let vm = Vm::new(program, meta.limits, meta.clock_start);
            let trace = Trace { meta, chain, events: std::sync::OnceLock::new() };
            return Recording { trace, vm, outcome: Err(e) };
        }
    };
    let every = meta.snapshot_every.max(1);
    let mut steps = every;
    let outcome = loop {
        let status = vm.run(program, &mut rec, steps);
        rec.flush();
        match status {
            Ok(Status::Running) => {
                let bytes = encode_vm(&mut vm);
                let fuel = vm.usage.fuel;
                rec.chain.push(&EventRef::Snapshot { steps, fuel, vm: &bytes });
                let spacing = (bytes.len() as u64).saturating_mul(SNAPSHOT_SPACING);
                steps = every.max(spacing);
            }
            Ok(Status::Done(v)) => {
                rec.chain.push(&EventRef::FunctionReturn { hash: &meta.entry, result: &v });
                break Ok(v);
            }
            Err(e) => {
                rec.chain.push(&EventRef::Error { error: &e });
                break Err(e);
            }
        }
    };
    let mut chain = rec.chain;
    chain.close_block();
    let trace = Trace { meta, chain, events: std::sync::OnceLock::new() };
    Recording { trace, vm, outcome }
}

/// The recorder for a machine other than [`Vm`] that runs the same programs with the same
/// host protocol (the RISC-V backend, `tel-riscv`): the entry call is written when it is
/// made, the machine asks its host questions through [`TraceWriter::host`], and
/// [`TraceWriter::finish`] writes the return or the error and closes the chain. The trace
/// is the one [`record`] writes for the same interactions, without snapshots (they are
/// this VM's state), so it keeps, exports and replays like any other.
pub struct TraceWriter<'h> {
    rec: Recorder<'h>,
    meta: RunMeta,
}

impl<'h> TraceWriter<'h> {
    /// Starts the trace of a run `meta` describes, answered by `host`.
    pub fn start(meta: RunMeta, host: &'h mut dyn Host) -> TraceWriter<'h> {
        let mut rec = Recorder { inner: host, chain: Chain::new(&meta), pending: None };
        rec.chain.push(&EventRef::FunctionCall {
            hash: &meta.entry,
            name: meta.entry_name.as_deref(),
            args: &meta.args,
        });
        TraceWriter { rec, meta }
    }

    /// The host the machine asks: the recorder in front of the run's host.
    pub fn host(&mut self) -> &mut dyn Host {
        &mut self.rec
    }

    /// Ends the trace with how the run ended.
    pub fn finish(mut self, outcome: &Result<Value, RuntimeError>) -> Trace {
        self.rec.flush();
        match outcome {
            Ok(v) => {
                self.rec.chain.push(&EventRef::FunctionReturn { hash: &self.meta.entry, result: v })
            }
            Err(e) => self.rec.chain.push(&EventRef::Error { error: e }),
        }
        let mut chain = self.rec.chain;
        chain.close_block();
        Trace { meta: self.meta, chain, events: std::sync::OnceLock::new() }
    }
}

// ---- export: a trace with the definitions it ran ----

/// A self-contained run: the trace and every definition its program needs, so it can be
/// replayed where the store is not. Each definition is checked against its hash on load.
#[derive(Clone, Debug)]
pub struct ExportedRun {
    pub trace: Trace,
    pub defs: HashMap<CodeHash, StoredDef>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ExportedComponent {
    /// `None` for a definition alone in its component.
    component: Option<CodeHash>,
    /// Canonical bytes (tel-hash's format) and name of each member, in member order.
    members: Vec<(Vec<u8>, Option<SmolStr>)>,
}

impl ExportedRun {
    /// The trace with the definitions reachable from its entry point in `defs`.
    pub fn new(trace: Trace, defs: &HashMap<CodeHash, StoredDef>) -> ExportedRun {
        let mut keep = HashMap::new();
        let mut seen = HashSet::new();
        let mut work = vec![trace.meta.entry];
        while let Some(h) = work.pop() {
            if !seen.insert(h) {
                continue;
            }
            let Some(d) = defs.get(&h) else { continue };
            work.extend(tel_hash::hash_deps(&d.def));
            if let Some(c) = d.component {
                work.extend(members(defs, &c));
            }
            keep.insert(h, d.clone());
        }
        ExportedRun { trace, defs: keep }
    }

    /// The export file: [`EXPORT_MAGIC`], the format version, and the compressed trace and
    /// definitions.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut comps: Vec<ExportedComponent> = Vec::new();
        let mut done = HashSet::new();
        let mut hashes: Vec<&CodeHash> = self.defs.keys().collect();
        hashes.sort();
        for h in hashes {
            if done.contains(h) {
                continue;
            }
            let d = &self.defs[h];
            let bytes = |d: &StoredDef| {
                tel_hash::encode(&d.def, &|_| None).expect("a stored definition encodes")
            };
            match d.component {
                None => {
                    done.insert(*h);
                    comps.push(ExportedComponent {
                        component: None,
                        members: vec![(bytes(d), d.name.clone())],
                    });
                }
                Some(c) => {
                    let ms = members(&self.defs, &c);
                    done.extend(ms.iter().copied());
                    let members =
                        ms.iter().map(|m| (bytes(&self.defs[m]), self.defs[m].name.clone()));
                    comps
                        .push(ExportedComponent { component: Some(c), members: members.collect() });
                }
            }
        }
        let mut payload = Vec::new();
        put_bytes(&mut payload, &self.trace.to_bytes_with(Compression::None));
        put_bytes(&mut payload, &postcard::to_allocvec(&comps).expect("definitions serialize"));
        frame(EXPORT_MAGIC, Compression::Lz4, &payload)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<ExportedRun, TraceError> {
        let payload = unframe(EXPORT_MAGIC, bytes)?;
        let mut r = Reader { bytes: &payload, pos: 0 };
        let trace = Trace::from_bytes(r.bytes("the trace")?)?;
        let comps: Vec<ExportedComponent> = decode_exact(r.bytes("the definitions")?)
            .map_err(|e| TraceError::Corrupt(format!("the definitions do not decode: {e}")))?;
        let mut defs = HashMap::new();
        for c in comps {
            let hashes: Vec<CodeHash> = match c.component {
                None if c.members.len() == 1 => vec![tel_hash::hash_bytes(&c.members[0].0)],
                None => {
                    return Err(TraceError::Corrupt(
                        "a lone definition with several members".into(),
                    ));
                }
                Some(comp) => {
                    let found = tel_hash::component_hash(
                        &c.members.iter().map(|m| &m.0).collect::<Vec<_>>(),
                    );
                    if found != comp {
                        return Err(TraceError::BadDefinition {
                            hash: format!("#{}", comp.short()),
                            reason: format!("its members hash to #{}", found.short()),
                        });
                    }
                    (0..c.members.len() as u32).map(|i| tel_hash::member_hash(&comp, i)).collect()
                }
            };
            for (hash, (bytes, name)) in hashes.into_iter().zip(c.members) {
                let def = tel_hash::decode(&bytes).map_err(|e| TraceError::BadDefinition {
                    hash: format!("#{}", hash.short()),
                    reason: e.to_string(),
                })?;
                defs.insert(hash, StoredDef { def, component: c.component, name });
            }
        }
        Ok(ExportedRun { trace, defs })
    }
}

/// The members of component `c` present in `defs`, in member order.
fn members(defs: &HashMap<CodeHash, StoredDef>, c: &CodeHash) -> Vec<CodeHash> {
    (0u32..).map(|i| tel_hash::member_hash(c, i)).take_while(|h| defs.contains_key(h)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Every kind of event, with every kind of value, decodes to itself.
    #[test]
    fn events_round_trip_through_their_bytes() {
        let h = CodeHash([7; 32]);
        let values = vec![
            Value::Int(i64::MIN),
            Value::Int(-1),
            Value::Bool(true),
            Value::String("ETH/USD ✓".into()),
            Value::Duration(90_000),
            Value::Unit,
            Value::list(vec![Value::Int(1), Value::Option(Some(Arc::new(Value::Unit)))]),
            Value::Variant { owner: h, index: 2, fields: Arc::new(vec![Value::Int(3)]) },
        ];
        let events = [
            Event::FunctionCall { hash: h, name: Some("main".into()), args: values.clone() },
            Event::FunctionCall { hash: h, name: None, args: vec![] },
            Event::FunctionReturn { hash: h, result: values[6].clone() },
            Event::EffectApplied {
                effect: HostEffect::Observe,
                args: values.clone(),
                cost: Some(-5),
                now: i64::MAX,
                result: Ok(Value::Int(3000)),
            },
            Event::EffectApplied {
                effect: HostEffect::Sleep,
                args: vec![Value::Duration(1)],
                cost: None,
                now: 0,
                result: Err("no".into()),
            },
            Event::EffectNotPerformed { effect: HostEffect::Now, args: vec![], cost: Ok(0) },
            Event::EffectNotPerformed {
                effect: HostEffect::Emit,
                args: vec![],
                cost: Err("x".into()),
            },
            Event::Snapshot { steps: 1, fuel: 1 << 40, vm: vec![1, 2, 3] },
        ];
        for e in events {
            let mut bytes = Vec::new();
            codec::encode(&mut bytes, &e.as_ref());
            assert_eq!(codec::decode(&bytes), Ok(e.clone()));
            // Anything cut short or with a byte too many is refused, never a panic.
            for n in 0..bytes.len() {
                assert!(codec::decode(&bytes[..n]).is_err(), "{e:?} cut at {n}");
            }
            bytes.push(0);
            assert!(codec::decode(&bytes).is_err());
        }
    }
}
