//! Snapshots and the time-travel navigator (being built).
