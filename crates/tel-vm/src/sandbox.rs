//! The security sandbox: which host effects a run may use at all (`tel run --allow`), and
//! the limits and wall-clock timeout the CLI hands to the machine.
//!
//! A forbidden effect is refused where it is performed: [`Sandboxed`] answers the machine's
//! first question about it (its cost, or for `Sleep` the effect itself) with a [`HostError`],
//! which ends the run with `RuntimeError::Host` naming the effect and the place. The host
//! behind the sandbox never sees it.

use crate::host::{Host, HostError};
use crate::program::HostEffect;
use crate::value::Value;
use crate::vm::Limits;
use std::time::Duration;
use tel_hash::CodeHash;

/// A run's security settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecuritySandbox {
    /// Allowed host effects, in [`HostEffect::ALL`] order.
    allowed: [bool; 8],
    /// The machine's limits (fuel, heap bytes, effects, call depth).
    pub limits: Limits,
    /// Wall-clock time the run may take; `None` for no limit. Virtual time is unrelated.
    pub timeout: Option<Duration>,
}

/// An `--allow` list that names something other than a host effect.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{name}` is not a host effect (the host effects are {})", all_names())]
pub struct UnknownEffect {
    pub name: String,
}

fn all_names() -> String {
    HostEffect::ALL.map(|e| e.name()).join(", ")
}

fn index(effect: HostEffect) -> usize {
    HostEffect::ALL.iter().position(|e| *e == effect).expect("every host effect is in ALL")
}

impl Default for SecuritySandbox {
    /// Every host effect allowed, default limits, no timeout.
    fn default() -> Self {
        SecuritySandbox { allowed: [true; 8], limits: Limits::default(), timeout: None }
    }
}

impl SecuritySandbox {
    /// A sandbox allowing exactly `allowed`, with default limits and no timeout.
    pub fn allowing(allowed: impl IntoIterator<Item = HostEffect>) -> SecuritySandbox {
        let mut sandbox = SecuritySandbox { allowed: [false; 8], ..SecuritySandbox::default() };
        for e in allowed {
            sandbox.allowed[index(e)] = true;
        }
        sandbox
    }

    /// Parses an `--allow` list: effect names separated by commas (`Log,Observe`); spaces
    /// around names are ignored, and an empty list allows nothing.
    pub fn parse_allow(list: &str) -> Result<Vec<HostEffect>, UnknownEffect> {
        list.split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(|n| {
                HostEffect::ALL
                    .into_iter()
                    .find(|e| e.name() == n)
                    .ok_or_else(|| UnknownEffect { name: n.to_string() })
            })
            .collect()
    }

    pub fn allows(&self, effect: HostEffect) -> bool {
        self.allowed[index(effect)]
    }

    /// The allowed effects, in [`HostEffect::ALL`] order.
    pub fn allowed(&self) -> Vec<HostEffect> {
        HostEffect::ALL.into_iter().filter(|e| self.allows(*e)).collect()
    }

    /// `host`, with every effect this sandbox forbids refused before it reaches it.
    pub fn wrap<H: Host>(&self, host: H) -> Sandboxed<H> {
        Sandboxed { allowed: self.allowed, inner: host }
    }
}

/// A host behind a sandbox.
pub struct Sandboxed<H> {
    allowed: [bool; 8],
    inner: H,
}

impl<H> Sandboxed<H> {
    pub fn inner(&mut self) -> &mut H {
        &mut self.inner
    }

    pub fn into_inner(self) -> H {
        self.inner
    }

    fn check(&self, effect: HostEffect) -> Result<(), HostError> {
        if self.allowed[index(effect)] {
            return Ok(());
        }
        let allowed: Vec<&str> =
            HostEffect::ALL.iter().filter(|e| self.allowed[index(**e)]).map(|e| e.name()).collect();
        let allowed = if allowed.is_empty() { "none".to_string() } else { allowed.join(", ") };
        Err(HostError(format!("the sandbox does not allow {} (allowed: {allowed})", effect.name())))
    }
}

impl<H: Host> Host for Sandboxed<H> {
    fn cost(&mut self, effect: HostEffect, args: &[Value]) -> Result<i64, HostError> {
        self.check(effect)?;
        self.inner.cost(effect, args)
    }

    fn perform(
        &mut self,
        effect: HostEffect,
        args: &[Value],
        now: i64,
    ) -> Result<Value, HostError> {
        self.check(effect)?;
        self.inner.perform(effect, args, now)
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
