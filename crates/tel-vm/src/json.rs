//! (being written: see docs/vm.md)
