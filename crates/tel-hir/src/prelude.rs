//! The prelude module: the host effects, as ordinary TEL source so they are parsed, checked
//! and hashed like any module (a program refers to `Log` as `Ref::Def("prelude::Log")`).

/// Source of module [`crate::ty::PRELUDE_MODULE`]. Its public items are in scope everywhere.
pub const PRELUDE_SOURCE: &str = r#"// The TEL prelude: effects the host answers (docs/language.md, Decision 2).
module prelude

/// Writes a line to the run's trace.
pub effect Log(message: String) -> ()

/// Reads the current value of a price or data feed.
pub effect Observe(feed: String) -> Int

/// Credits `amount` to a host ledger account.
pub effect Deposit(account: String, amount: Int) -> ()

/// Debits `amount` from a host ledger account; more than the balance is a runtime error.
pub effect Withdraw(account: String, amount: Int) -> ()

/// The virtual clock, in milliseconds.
pub effect Now() -> Int

/// Advances the virtual clock by `d`.
pub effect Sleep(d: Duration) -> ()

/// A seeded random number in `0..bound`.
pub effect Random(bound: Int) -> Int

/// Publishes an event to the host.
pub effect Emit(event: String) -> ()
"#;

/// The host effects' names, in the order the prelude declares them.
pub const HOST_EFFECTS: [&str; 8] =
    ["Log", "Observe", "Deposit", "Withdraw", "Now", "Sleep", "Random", "Emit"];
