//! Safe states: when a paused run may have its state upgraded (language.md §10), and the
//! rule against hostage situations — a pending call that outlives `[safe-state] timeout`
//! moves the program to its declared degraded state, after which the upgrade proceeds.
//!
//! The strategies read a [`RunView`]: what is pending, open and installed in a paused run.
//! It is plain data so that any paused machine can be described by it; tel-vm's `Vm`
//! keeps those parts private today (docs/schema.md, "What is not done yet").

use serde::Serialize;

/// `[program] safe-state`, from weakest to strongest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SafeState {
    /// No host effect performed by the run is waiting for its answer.
    NoPendingReturns,
    /// In addition, no `within` or `after` is outstanding (no deadline or delay).
    NoInFlightOperations,
    /// No run of the program is in progress at all (the default).
    #[default]
    NoActiveOperators,
}

impl SafeState {
    pub const ALL: [SafeState; 3] = [
        SafeState::NoPendingReturns,
        SafeState::NoInFlightOperations,
        SafeState::NoActiveOperators,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SafeState::NoPendingReturns => "no-pending-returns",
            SafeState::NoInFlightOperations => "no-in-flight-operations",
            SafeState::NoActiveOperators => "no-active-operators",
        }
    }

    pub fn parse(text: &str) -> Option<SafeState> {
        SafeState::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A host effect performed and not answered yet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PendingEffect {
    /// The effect and its arguments as shown (`Observe("ETH/USD")`).
    pub effect: String,
    /// When it was performed, on the run's clock (ms).
    pub since_ms: i64,
}

/// A `within` block whose body is running.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenWithin {
    pub opened_ms: i64,
    pub deadline_ms: i64,
}

/// What the safe-state strategies look at in a paused run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RunView {
    /// The run has ended (with a value or an error).
    pub finished: bool,
    /// When the run started, on its clock (ms).
    pub started_ms: i64,
    /// Frames on its call stack.
    pub frames: usize,
    /// Host effects waiting for their answer, oldest first. An `after` waiting out its delay
    /// is a pending `Sleep`.
    pub pending: Vec<PendingEffect>,
    /// Open `within` blocks, outermost first.
    pub within: Vec<OpenWithin>,
    /// Installed handlers, outermost first: the effects each one handles.
    pub handlers: Vec<Vec<String>>,
}

/// Why a run is not in its safe state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Blocker {
    PendingReturn { effect: String, since_ms: i64 },
    OpenWithin { opened_ms: i64, deadline_ms: i64 },
    ActiveRun { since_ms: i64, frames: usize, handlers: usize },
}

impl Blocker {
    /// When the condition began, on the run's clock.
    pub fn since_ms(&self) -> i64 {
        match self {
            Blocker::PendingReturn { since_ms, .. } | Blocker::ActiveRun { since_ms, .. } => {
                *since_ms
            }
            Blocker::OpenWithin { opened_ms, .. } => *opened_ms,
        }
    }
}

impl std::fmt::Display for Blocker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Blocker::PendingReturn { effect, since_ms } => {
                write!(f, "{effect}, performed at {since_ms} ms, is waiting for its answer")
            }
            Blocker::OpenWithin { opened_ms, deadline_ms } => write!(
                f,
                "a `within` block opened at {opened_ms} ms is running until its deadline at {deadline_ms} ms"
            ),
            Blocker::ActiveRun { since_ms, frames, handlers } => write!(
                f,
                "the run started at {since_ms} ms is in progress ({frames} frame(s), {handlers} handler(s) installed)"
            ),
        }
    }
}

/// What keeps `run` from `strategy`'s safe state; empty when it is in it.
pub fn blockers(strategy: SafeState, run: &RunView) -> Vec<Blocker> {
    if run.finished {
        return Vec::new();
    }
    let mut out: Vec<Blocker> = run
        .pending
        .iter()
        .map(|p| Blocker::PendingReturn { effect: p.effect.clone(), since_ms: p.since_ms })
        .collect();
    if strategy >= SafeState::NoInFlightOperations {
        out.extend(
            run.within.iter().map(|w| Blocker::OpenWithin {
                opened_ms: w.opened_ms,
                deadline_ms: w.deadline_ms,
            }),
        );
    }
    if strategy == SafeState::NoActiveOperators && run.frames > 0 {
        out.push(Blocker::ActiveRun {
            since_ms: run.started_ms,
            frames: run.frames,
            handlers: run.handlers.len(),
        });
    }
    out
}

/// The outcome of checking a paused run before an upgrade.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum Decision {
    /// In the safe state: upgrade now.
    Upgrade,
    /// Not yet; within the timeout. Check again after at most `remaining_ms`.
    Wait { blockers: Vec<Blocker>, remaining_ms: u64 },
    /// The oldest blocker has lasted the whole timeout: move the program to its degraded
    /// state (abandoning what is pending), record it in the trace, then upgrade.
    Degrade { blockers: Vec<Blocker>, waited_ms: u64, timeout_ms: u64, degraded: String },
    /// Not in the safe state, and waiting will not be tried or did not help.
    Refuse { blockers: Vec<Blocker>, reason: String },
}

/// Decides an upgrade of `run` at time `now_ms` (the run's clock) under `strategy`, with
/// `[safe-state] timeout` (`None`: the upgrade does not wait) and `degraded` (the declared
/// degraded-state function, `#hash`).
pub fn decide(
    strategy: SafeState,
    run: &RunView,
    now_ms: i64,
    timeout_ms: Option<u64>,
    degraded: Option<&str>,
) -> Decision {
    let blockers = blockers(strategy, run);
    let Some(oldest) = blockers.iter().map(Blocker::since_ms).min() else {
        return Decision::Upgrade;
    };
    let Some(timeout_ms) = timeout_ms else {
        return Decision::Refuse {
            blockers,
            reason: format!(
                "the run is not in its safe state ({}) and tel.toml sets no [safe-state] timeout to wait for it",
                strategy.as_str()
            ),
        };
    };
    let waited_ms = now_ms.saturating_sub(oldest).max(0) as u64;
    if waited_ms < timeout_ms {
        return Decision::Wait { blockers, remaining_ms: timeout_ms - waited_ms };
    }
    match degraded {
        Some(d) => Decision::Degrade { blockers, waited_ms, timeout_ms, degraded: d.to_owned() },
        None => Decision::Refuse {
            blockers,
            reason: format!(
                "the run has not reached its safe state ({}) within the {timeout_ms} ms timeout, \
                 and tel.toml declares no [safe-state] degraded state to move it to",
                strategy.as_str()
            ),
        },
    }
}
