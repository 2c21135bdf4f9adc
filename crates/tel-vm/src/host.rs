//! The host: who answers the host effects that the program does not handle itself.

use crate::program::HostEffect;
use crate::value::Value;
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

/// A borrowed host is a host: wrappers (a sandbox, a memo cache, the recorder) can own their
/// inner host or borrow it.
impl<H: Host + ?Sized> Host for &mut H {
    fn cost(&mut self, effect: HostEffect, args: &[Value]) -> Result<i64, HostError> {
        (**self).cost(effect, args)
    }

    fn perform(
        &mut self,
        effect: HostEffect,
        args: &[Value],
        now: i64,
    ) -> Result<Value, HostError> {
        (**self).perform(effect, args, now)
    }

    fn observes_calls(&self) -> bool {
        (**self).observes_calls()
    }

    fn on_call(&mut self, def: &CodeHash, args: &[Value]) -> Option<Value> {
        (**self).on_call(def, args)
    }

    fn on_return(&mut self, def: &CodeHash, result: &Value) {
        (**self).on_return(def, result)
    }
}

/// The in-memory host the tests use: [`crate::hostfile::StandardHost`], configured field by
/// field instead of from a host file. One implementation of the host semantics.
pub type TestHost = crate::hostfile::StandardHost;
