//! An RV32IM emulator with a memory bus, fuel, snapshots and an undo log
