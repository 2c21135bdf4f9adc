//! The host: who answers the host effects that the program does not handle itself.

use crate::program::HostEffect;
use crate::value::Value;
use std::collections::BTreeMap;
use tel_hash::CodeHash;

/// Why the host refused an effect; the VM reports it with the effect and the place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostError(pub String);

/// Answers host effects. The VM owns the virtual clock: it answers `Now` itself and advances
/// the clock by an effect's [`Host::cost`] (a `Sleep`'s cost is its duration) *before* asking
/// the host to perform it, so an effect that would pass a `within` deadline is never
/// performed (language.md §9.1).
pub trait Host {
    /// The virtual time an effect takes, in milliseconds. `Sleep` never reaches this.
    fn cost(&mut self, _effect: HostEffect, _args: &[Value]) -> Result<i64, HostError> {
        Ok(0)
    }

    /// Performs the effect at virtual time `now` and answers it.
    fn perform(&mut self, effect: HostEffect, args: &[Value], now: i64)
    -> Result<Value, HostError>;

    /// Whether the VM should report calls of top-level definitions through [`Host::on_call`]
    /// and [`Host::on_return`]. Asked once per [`crate::Vm::run`], so a host that does not
    /// observe calls (the common case) costs nothing per call.
    fn observes_calls(&self) -> bool {
        false
    }

    /// A top-level definition `def` is about to be called with `args`. Answering `Some(v)`
    /// skips the call and makes `v` its result (a memo cache hit); `on_return` is then not
    /// called for it.
    fn on_call(&mut self, _def: &CodeHash, _args: &[Value]) -> Option<Value> {
        None
    }

    /// A call of `def` that `on_call` let run has returned `result`.
    fn on_return(&mut self, _def: &CodeHash, _result: &Value) {}
}

/// An in-memory host with the documented semantics (language.md §8.2): a ledger, feeds, the
/// log, an event stream and a seeded generator. Plain data, so it serializes with the VM.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TestHost {
    pub balances: BTreeMap<String, i64>,
    pub feeds: BTreeMap<String, i64>,
    pub log: Vec<String>,
    pub events: Vec<String>,
    /// The generator's state (SplitMix64), initially the run's seed.
    pub rng: u64,
}

impl TestHost {
    pub fn new(seed: u64) -> TestHost {
        TestHost { rng: seed, ..TestHost::default() }
    }

    fn next_u64(&mut self) -> u64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, HostError> {
    Err(HostError(msg.into()))
}

impl Host for TestHost {
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
                return match self.feeds.get(feed.as_str()) {
                    Some(v) => Ok(Value::Int(*v)),
                    None => err(format!("unknown feed \"{feed}\"")),
                };
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
