//! The ABI of compiled TEL (docs/riscv.md is the reference): values, registers, frames,
//! services and the memory layout.

use rv_emu::{PAGE_SIZE, Reg};
use tel_hash::core::Type;

/// What a value of the subset is. Every value occupies a pair of registers (or a frame
/// slot of 8 bytes): an `Int` is its low word then its high word (two's complement); a
/// `Bool` is 0 or 1 in the low word, and its high word is not defined; a `()` has no
/// defined word at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Int,
    Bool,
    Unit,
}

impl Kind {
    pub fn of(ty: &Type) -> Option<Kind> {
        match ty {
            Type::Int => Some(Kind::Int),
            Type::Bool => Some(Kind::Bool),
            Type::Unit => Some(Kind::Unit),
            _ => None,
        }
    }

    /// Words of the pair that carry the value.
    pub fn words(self) -> usize {
        match self {
            Kind::Int => 2,
            Kind::Bool => 1,
            Kind::Unit => 0,
        }
    }
}

/// Where code starts; the pages below are unmapped, so a jump to a small address faults.
pub const CODE_BASE: u32 = 0x0001_0000;

/// Services an `ecall` asks for in `a7`. Host effects are `0..8`, in
/// `tel_vm::HostEffect::ALL` order.
pub const SERVICE_EXIT: i32 = 64;
pub const SERVICE_TRAP: i32 = 65;

/// Arguments passed in registers: value `i < REG_ARGS` in `(a[2i], a[2i+1])`.
pub const REG_ARGS: usize = 4;

/// The first frame slot's offset from `sp`; slot `k` is at `SLOT0 + 8k` (low word, then
/// high word). `0(sp)` holds the return address.
pub const SLOT0: i32 = 8;

/// The largest frame: slot offsets and the next frame's slots (`offset - F`) must fit a
/// 12-bit displacement.
pub const MAX_FRAME: u32 = 2040;

/// The stack never takes more than this, whatever the call-depth limit (the effective limit
/// is then what fits).
pub const MAX_STACK: u64 = 256 << 20;

pub fn slot_offset(slot: u32) -> i32 {
    SLOT0 + 8 * slot as i32
}

pub fn pair(i: usize) -> (Reg, Reg) {
    (Reg::arg(2 * i as u8), Reg::arg(2 * i as u8 + 1))
}

pub fn page_up(n: u64) -> u64 {
    n.div_ceil(u64::from(PAGE_SIZE)) * u64::from(PAGE_SIZE)
}

/// Where everything is in a run's address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub code: u32,
    pub code_size: u32,
    pub rodata: u32,
    pub rodata_size: u32,
    pub guard: u32,
    pub guard_size: u32,
    /// The lowest address frames may use: `top - frames * frame`.
    pub stack: u32,
    /// `sp` at the start; the entry's frame is just below.
    pub top: u32,
    /// Frames the stack holds: the call-depth limit, or what fits in [`MAX_STACK`].
    pub frames: u32,
}

impl Layout {
    pub fn new(code_size: u32, rodata_size: u32, frame: u32, call_depth: u32) -> Layout {
        let rodata = page_up(u64::from(CODE_BASE) + u64::from(code_size)) as u32;
        let guard = page_up(u64::from(rodata) + u64::from(rodata_size)) as u32;
        let guard_size = page_up(u64::from(frame)).max(u64::from(PAGE_SIZE)) as u32;
        let stack = guard + guard_size;
        // The entry's frame always exists (the VM creates it without a depth check).
        let frames = u64::from(call_depth.max(1)).min(MAX_STACK / u64::from(frame.max(8))) as u32;
        let top = stack + frames * frame;
        Layout {
            code: CODE_BASE,
            code_size,
            rodata,
            rodata_size,
            guard,
            guard_size,
            stack,
            top,
            frames,
        }
    }
}
