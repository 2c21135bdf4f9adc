//! The host file (`tel run --host host.json`) and [`StandardHost`], the one implementation of
//! the prelude's host effects (language.md §8.2): a ledger, price feeds (fixed or a series
//! over virtual time), the log, an event stream, a seeded generator and per-effect virtual
//! latencies. docs/tracing.md ("Host file") documents the format.

use crate::host::{Host, HostError};
use crate::program::HostEffect;
use crate::value::Value;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use std::collections::BTreeMap;
use std::fmt;

/// A run's host configuration, as read from a host file. Every field is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostFile {
    /// Where the virtual clock starts, in milliseconds.
    #[serde(default)]
    pub clock_start: i64,
    /// The seed of `Random`'s generator.
    #[serde(default)]
    pub seed: u64,
    /// Opening ledger balances (`Deposit`/`Withdraw`); an account not listed starts at 0.
    #[serde(default)]
    pub balances: BTreeMap<String, i64>,
    /// What `Observe(feed)` answers.
    #[serde(default)]
    pub feeds: BTreeMap<String, Feed>,
    /// The virtual time an effect takes, in milliseconds, by effect name (`{"Observe": 250}`):
    /// an oracle's latency. Absent effects cost nothing; `Sleep` costs its duration and `Now`
    /// reads the clock, so neither may be listed.
    #[serde(default)]
    pub costs: BTreeMap<String, i64>,
}

/// A price feed: one price for the whole run, or a step function of the virtual clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Feed {
    Fixed(i64),
    /// `(from_ms, price)` points, strictly increasing in time: at time `t` the feed answers
    /// the price of the last point with `from_ms <= t`; before the first point it has none.
    Series(Vec<(i64, i64)>),
}

/// Why a host file was refused: the file, the place in it (a path such as
/// `feeds.BTC/USD[1]`, empty for the whole document) and the problem.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", file.as_deref().unwrap_or("host file"), if at.is_empty() { String::new() } else { format!(": at `{at}`") })]
pub struct HostFileError {
    pub file: Option<String>,
    pub at: String,
    pub message: String,
}

impl HostFile {
    /// Parses and checks a host file's JSON text.
    pub fn parse(text: &str) -> Result<HostFile, HostFileError> {
        let de = &mut serde_json::Deserializer::from_str(text);
        let file: HostFile = serde_path_to_error::deserialize(de).map_err(|e| {
            let at = e.path().to_string();
            HostFileError {
                file: None,
                at: if at == "." { String::new() } else { at },
                message: e.into_inner().to_string(),
            }
        })?;
        file.validate()?;
        Ok(file)
    }

    /// Reads and parses the host file at `path`; errors name the file.
    pub fn load(path: &std::path::Path) -> Result<HostFile, HostFileError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| HostFileError {
            file: Some(shown.clone()),
            at: String::new(),
            message: format!("cannot read it: {e}"),
        })?;
        HostFile::parse(&text).map_err(|e| HostFileError { file: Some(shown), ..e })
    }

    /// The checks serde's types cannot express.
    pub fn validate(&self) -> Result<(), HostFileError> {
        let bad = |at: String, message: String| Err(HostFileError { file: None, at, message });
        for (account, balance) in &self.balances {
            if *balance < 0 {
                return bad(
                    format!("balances.{account}"),
                    format!("an opening balance cannot be negative ({balance})"),
                );
            }
        }
        for (name, feed) in &self.feeds {
            let Feed::Series(points) = feed else { continue };
            if points.is_empty() {
                return bad(format!("feeds.{name}"), "a series needs at least one point".into());
            }
            for (i, w) in points.windows(2).enumerate() {
                if w[1].0 <= w[0].0 {
                    return bad(
                        format!("feeds.{name}[{}]", i + 1),
                        format!(
                            "series times must increase: {}ms comes after {}ms",
                            w[1].0, w[0].0
                        ),
                    );
                }
            }
        }
        for (name, cost) in &self.costs {
            let at = format!("costs.{name}");
            match HostEffect::ALL.iter().find(|e| e.name() == name) {
                None => {
                    let all: Vec<_> = HostEffect::ALL.iter().map(|e| e.name()).collect();
                    return bad(
                        at,
                        format!("unknown host effect `{name}` (one of {})", all.join(", ")),
                    );
                }
                Some(HostEffect::Sleep | HostEffect::Now) => {
                    return bad(
                        at,
                        format!(
                            "`{name}` cannot be given a cost: Sleep costs its duration and Now reads the clock"
                        ),
                    );
                }
                Some(_) if *cost < 0 => {
                    return bad(at, format!("a cost cannot be negative ({cost}ms)"));
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    /// The host this file configures, in its opening state.
    pub fn host(&self) -> StandardHost {
        let mut host = StandardHost::new(self.seed);
        host.balances = self.balances.clone();
        for (name, feed) in &self.feeds {
            match feed {
                Feed::Fixed(p) => {
                    host.feeds.insert(name.clone(), *p);
                }
                Feed::Series(points) => {
                    host.series.insert(name.clone(), points.clone());
                }
            }
        }
        for (name, cost) in &self.costs {
            if let Some(i) = HostEffect::ALL.iter().position(|e| e.name() == name) {
                host.costs[i] = *cost;
            }
        }
        host
    }
}

impl serde::Serialize for Feed {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Feed::Fixed(p) => s.serialize_i64(*p),
            Feed::Series(points) => points.serialize(s),
        }
    }
}

/// A number or an array of `[time, price]` pairs. Written by hand so that a mistake gets
/// "expected a price ... or a series ..." rather than serde's "did not match any variant".
impl<'de> serde::Deserialize<'de> for Feed {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Feed, D::Error> {
        struct FeedVisitor;
        impl<'de> Visitor<'de> for FeedVisitor {
            type Value = Feed;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a price (an integer) or a series of [time_ms, price] pairs")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Feed, E> {
                Ok(Feed::Fixed(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Feed, E> {
                i64::try_from(v)
                    .map(Feed::Fixed)
                    .map_err(|_| E::custom(format!("the price {v} does not fit a TEL Int")))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Feed, A::Error> {
                let mut points = Vec::new();
                while let Some(p) = seq.next_element::<(i64, i64)>()? {
                    points.push(p);
                }
                Ok(Feed::Series(points))
            }
        }
        d.deserialize_any(FeedVisitor)
    }
}

/// The host that answers the prelude's host effects with the documented semantics
/// (language.md §8.2). Plain data, so it serializes with a paused machine. `TestHost` is
/// this type: tests configure it field by field, `tel run` through a [`HostFile`].
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StandardHost {
    pub balances: BTreeMap<String, i64>,
    /// Feeds with one price for the whole run.
    pub feeds: BTreeMap<String, i64>,
    /// Feeds whose price changes with the virtual clock (see [`Feed::Series`]).
    pub series: BTreeMap<String, Vec<(i64, i64)>>,
    /// Virtual latency per effect, in [`HostEffect::ALL`] order.
    pub costs: [i64; 8],
    pub log: Vec<String>,
    pub events: Vec<String>,
    /// The generator's state (SplitMix64), initially the run's seed.
    pub rng: u64,
}

impl StandardHost {
    pub fn new(seed: u64) -> StandardHost {
        StandardHost { rng: seed, ..StandardHost::default() }
    }

    fn next_u64(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn observe(&self, feed: &str, now: i64) -> Result<i64, HostError> {
        if let Some(p) = self.feeds.get(feed) {
            return Ok(*p);
        }
        let Some(points) = self.series.get(feed) else {
            return err(format!("unknown feed \"{feed}\""));
        };
        // The last point at or before `now`.
        let i = points.partition_point(|(t, _)| *t <= now);
        match i.checked_sub(1) {
            Some(i) => Ok(points[i].1),
            None => err(format!(
                "feed \"{feed}\" has no price before {}ms (asked at {now}ms)",
                points.first().map_or(0, |p| p.0)
            )),
        }
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, HostError> {
    Err(HostError(msg.into()))
}

impl Host for StandardHost {
    fn cost(&mut self, effect: HostEffect, _args: &[Value]) -> Result<i64, HostError> {
        Ok(HostEffect::ALL.iter().position(|e| *e == effect).map_or(0, |i| self.costs[i]))
    }

    fn perform(
        &mut self,
        effect: HostEffect,
        args: &[Value],
        now: i64,
    ) -> Result<Value, HostError> {
        match (effect, args) {
            (HostEffect::Log, [Value::String(s)]) => self.log.push(s.to_string()),
            (HostEffect::Emit, [Value::String(s)]) => self.events.push(s.to_string()),
            (HostEffect::Observe, [Value::String(feed)]) => {
                return self.observe(feed, now).map(Value::Int);
            }
            (HostEffect::Deposit | HostEffect::Withdraw, [Value::String(acct), Value::Int(n)]) => {
                if *n < 0 {
                    return err(format!("negative amount {n} for account \"{acct}\""));
                }
                let balance = self.balances.entry(acct.to_string()).or_insert(0);
                let new = if effect == HostEffect::Deposit {
                    balance.checked_add(*n)
                } else if *n > *balance {
                    return err(format!(
                        "withdrawing {n} from \"{acct}\", whose balance is {balance}"
                    ));
                } else {
                    Some(*balance - n)
                };
                match new {
                    Some(b) => *balance = b,
                    None => return err(format!("balance of \"{acct}\" overflows")),
                }
            }
            (HostEffect::Now, []) => return Ok(Value::Int(now)),
            (HostEffect::Sleep, [Value::Duration(_)]) => {}
            (HostEffect::Random, [Value::Int(bound)]) => {
                if *bound <= 0 {
                    return err(format!("Random with a non-positive bound ({bound})"));
                }
                // Rejection sampling: every number below `bound` equally likely.
                let bound = *bound as u64;
                let zone = u64::MAX - u64::MAX % bound;
                loop {
                    let x = self.next_u64();
                    if x < zone {
                        return Ok(Value::Int((x % bound) as i64));
                    }
                }
            }
            _ => return err(format!("bad arguments to {}", effect.name())),
        }
        Ok(Value::Unit)
    }
}
