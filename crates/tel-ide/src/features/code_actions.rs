//! Code actions (being built).
