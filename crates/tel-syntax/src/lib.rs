//! tel-syntax
