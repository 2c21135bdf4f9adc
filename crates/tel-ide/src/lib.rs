//! tel-ide
