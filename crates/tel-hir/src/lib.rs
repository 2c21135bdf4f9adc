//! tel-hir
