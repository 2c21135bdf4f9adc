//! Completion (being built).
