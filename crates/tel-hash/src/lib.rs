//! tel-hash
