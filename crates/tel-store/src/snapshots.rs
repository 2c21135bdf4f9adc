//! Persisted VM snapshots of paused runs (being built).
