//! Signature help (being built).
