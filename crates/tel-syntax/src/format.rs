//! The canonical formatter (being built).
