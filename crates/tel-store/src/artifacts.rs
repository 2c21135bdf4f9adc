//! Compiled program artifacts (`tel build`; being built).
