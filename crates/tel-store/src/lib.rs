//! tel-store
