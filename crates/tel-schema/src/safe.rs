//! Safe states: when a paused run may have its state upgraded (language.md §10), and the
//! rule against hostage situations — a pending call that outlives `[safe-state] timeout`
//! moves the program to its declared degraded state, after which the upgrade proceeds.
//!
//! The strategies read a [`RunView`]: what is pending, open and installed in a paused run.
//! It is plain data so that any paused machine can be described by it; [`paused`] reads one
//! from tel-vm's time-travel navigator (a debug session kept in the codebase), which is what
//! `tel schema upgrade` decides on.

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
    /// state (abandoning what is pending), record it, then upgrade.
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

// ------------------------------------------------------------------------ paused runs

/// A host effect pending in a paused run, with where it is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PendingAt {
    pub effect: PendingEffect,
    /// The position (tel-vm's instruction count) where it waits.
    pub position: u64,
    /// The perform's place: the innermost frame's next op.
    pub location: Option<tel_vm::Location>,
    /// When the recording answered it, on the run's clock (an `after` waiting out a delay
    /// is answered when the delay ends).
    pub answered_ms: i64,
}

/// An open `within` in a paused run, with where it was opened.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WithinAt {
    pub within: OpenWithin,
    /// The first position at which it is installed.
    pub opened_at: u64,
    /// Where the run was when it was opened: the first op of its block.
    pub location: Option<tel_vm::Location>,
}

/// A paused run read from tel-vm's time-travel navigator at its current position.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Paused {
    pub position: u64,
    pub end: u64,
    pub view: RunView,
    /// "Now" on the run's virtual clock for [`decide`]: the clock at the position, or, when
    /// an effect is pending, the time the recording answered it — how long the pending call
    /// really took decides whether it outlived the timeout.
    pub now_ms: i64,
    pub pending: Vec<PendingAt>,
    /// Outermost first, as in [`RunView::within`].
    pub within: Vec<WithinAt>,
}

/// Reads `nav`'s run at its current position (the position does not change).
///
/// - A host effect is pending when the next instruction asks the host for it: the VM asks
///   and receives an answer in one instruction, so "performed and not yet answered" is the
///   machine right before that instruction (where a debugger stops on an effect). An `after`
///   there is a pending `Sleep`.
/// - An open `within` is a `within` mark visible at the position; it was opened at the
///   first position of the run from which that mark (same frame, same deadline) stays
///   installed up to here (found by bisection: a mark stays put while its block runs).
/// - The handler stack is the visible `handle` marks.
pub fn paused(nav: &mut tel_vm::travel::Navigator) -> Result<Paused, tel_vm::travel::TravelError> {
    use tel_vm::trace::Event;
    use tel_vm::travel::HandlerState;
    let position = nav.position();
    let end = nav.end();
    let state = nav.inspect();
    let finished = position == end;
    let mut pending = Vec::new();
    if !finished && let Some(e) = nav.effects().into_iter().find(|e| e.position == position) {
        let args = match &nav.trace().events()[e.ordinal + 1] {
            Event::EffectApplied { args, .. } | Event::EffectNotPerformed { args, .. } => {
                args.clone()
            }
            _ => Vec::new(),
        };
        let program = nav.program().clone();
        // As the trace describes effects: a string argument quoted.
        let shown: Vec<String> = args
            .iter()
            .map(|v| match v {
                tel_vm::Value::String(s) => format!("{:?}", s.as_str()),
                v => tel_vm::show::show(&program, v),
            })
            .collect();
        let answered_ms = nav.inspect_at(position + 1)?.clock;
        pending.push(PendingAt {
            effect: PendingEffect {
                effect: format!("{}({})", e.effect.name(), shown.join(", ")),
                since_ms: state.clock,
            },
            position,
            location: state.location().cloned(),
            answered_ms,
        });
    }
    // `state.handlers` is innermost first, frames counted from the innermost.
    let frames = state.frames.len();
    let mut within = Vec::new();
    let mut handlers = Vec::new();
    for h in state.handlers.iter().rev() {
        match h {
            HandlerState::Handle { effects, .. } => {
                handlers.push(effects.iter().map(|e| e.to_string()).collect());
            }
            HandlerState::Within { deadline, frame } => {
                let outer = frames - 1 - frame;
                let installed = |s: &tel_vm::travel::State| {
                    s.handlers.iter().any(|h| {
                        matches!(h, HandlerState::Within { deadline: d, frame: f }
                            if d == deadline && s.frames.len().checked_sub(1 + f) == Some(outer))
                    })
                };
                let (mut lo, mut hi) = (0, position);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if installed(&nav.inspect_at(mid)?) {
                        hi = mid;
                    } else {
                        lo = mid + 1;
                    }
                }
                let opened = nav.inspect_at(lo)?;
                within.push(WithinAt {
                    within: OpenWithin { opened_ms: opened.clock, deadline_ms: *deadline },
                    opened_at: lo,
                    location: opened.location().cloned(),
                });
            }
        }
    }
    let now_ms = pending.iter().map(|p| p.answered_ms).fold(state.clock, i64::max);
    let view = RunView {
        finished,
        started_ms: nav.meta().clock_start,
        frames: if finished { 0 } else { frames },
        pending: pending.iter().map(|p| p.effect.clone()).collect(),
        within: if finished {
            Vec::new()
        } else {
            within.iter().map(|w| w.within.clone()).collect()
        },
        handlers: if finished { Vec::new() } else { handlers },
    };
    Ok(Paused { position, end, view, now_ms, pending, within })
}
