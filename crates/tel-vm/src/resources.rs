//! Resources a run consumes, and the allocator that grants them.

/// A resource a run consumes and may exhaust.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Resource {
    /// VM instructions.
    Fuel,
    /// Bytes of values built (cumulative, by the VM's size estimate).
    HeapBytes,
    /// Effects performed.
    Effects,
    /// Wall-clock milliseconds spent running.
    WallTime,
    /// Frames on the call stack (a limit of the run, not granted by the allocator).
    CallDepth,
}

impl Resource {
    pub fn name(self) -> &'static str {
        match self {
            Resource::Fuel => "fuel",
            Resource::HeapBytes => "heap bytes",
            Resource::Effects => "effects",
            Resource::WallTime => "wall time (ms)",
            Resource::CallDepth => "call depth",
        }
    }
}

impl std::fmt::Display for Resource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
