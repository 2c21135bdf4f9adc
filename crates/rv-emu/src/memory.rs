//! Memory: the [`Bus`] the processor reads and writes through, and [`Memory`], a flat address
//! space cut into named segments with permissions.
//!
//! Every access is checked: an unmapped address, a misaligned access, a write to code or a
//! fetch from data is a [`Fault`] naming the address, the kind of access and the segment,
//! never a panic. A segment marked as a guard (below the stack) turns an access into a
//! stack overflow.
//!
//! [`Memory`] keeps track of the pages written since it was built, so a snapshot holds only
//! those pages and a restore rewrites only the pages written since (docs/riscv.md).

use std::fmt;

/// Pages are the unit of permissions and of snapshots.
pub const PAGE_SIZE: u32 = 4096;
const PAGE_SHIFT: u32 = 12;

/// What a segment allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Perm(pub(crate) u8);

impl Perm {
    pub const NONE: Perm = Perm(0);
    pub const R: Perm = Perm(1);
    pub const W: Perm = Perm(2);
    pub const X: Perm = Perm(4);
    /// Code: read and execute.
    pub const RX: Perm = Perm(5);
    /// Data and stack: read and write.
    pub const RW: Perm = Perm(3);

    pub fn allows(self, other: Perm) -> bool {
        self.0 & other.0 == other.0
    }
}

impl fmt::Display for Perm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = |p: Perm, ch: char| if self.allows(p) { ch } else { '-' };
        write!(f, "{}{}{}", c(Perm::R, 'r'), c(Perm::W, 'w'), c(Perm::X, 'x'))
    }
}

/// The size of a load or store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Width {
    Byte = 1,
    Half = 2,
    Word = 4,
}

impl Width {
    pub fn bytes(self) -> u32 {
        self as u32
    }
}

/// The kind of access that faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Access {
    Fetch,
    Load,
    Store,
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Fetch => "instruction fetch",
            Access::Load => "load",
            Access::Store => "store",
        })
    }
}

/// Why an access faulted.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum FaultKind {
    /// No segment holds the address.
    Unmapped,
    /// The address is not a multiple of the access width (or a jump target is not a
    /// multiple of 4).
    Misaligned,
    /// The segment does not allow this access (a write to code, a fetch from data).
    Denied { perm: Perm },
    /// The access fell in the guard below the stack: the stack overflowed.
    StackOverflow,
    /// The word at the address is not an RV32IM instruction.
    IllegalInstruction { word: u32 },
}

/// A failed access. The processor is left exactly as it was before the instruction (its pc
/// is the faulting instruction's).
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Fault {
    /// The instruction that faulted.
    pub pc: u32,
    /// The address accessed (for a fetch, the instruction's address).
    pub addr: u32,
    pub access: Access,
    pub kind: FaultKind,
    /// The segment holding the address, if any.
    pub segment: Option<String>,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let place = match &self.segment {
            Some(s) => format!(" in segment `{s}`"),
            None => String::new(),
        };
        let what = match &self.kind {
            FaultKind::Unmapped => "unmapped address".to_string(),
            FaultKind::Misaligned => "misaligned address".to_string(),
            FaultKind::Denied { perm } => format!("not allowed (the segment is {perm})"),
            FaultKind::StackOverflow => "stack overflow".to_string(),
            FaultKind::IllegalInstruction { word } => format!("illegal instruction {word:#010x}"),
        };
        write!(f, "{} at {:#010x}{place}: {what} (pc {:#010x})", self.access, self.addr, self.pc)
    }
}

/// The memory a processor is attached to. The processor is generic over its bus, so these
/// calls are static and inlined into the interpreter's loop.
pub trait Bus {
    /// The snapshot type of [`Bus::snapshot`].
    type Snapshot: Clone;

    /// Reads `width` bytes at `addr`, zero-extended. `pc` is only for the fault.
    fn load(&mut self, pc: u32, addr: u32, width: Width) -> Result<u32, Fault>;
    /// Writes the low `width` bytes of `value` at `addr`.
    fn store(&mut self, pc: u32, addr: u32, width: Width, value: u32) -> Result<(), Fault>;
    /// Reads without any permission check (for the undo log and debuggers); `None` when
    /// the address is not backed.
    fn peek(&self, addr: u32, width: Width) -> Option<u32>;
    /// Writes without any permission check (the undo log's restores).
    fn poke(&mut self, addr: u32, width: Width, value: u32) -> bool;
    /// The executable segment: its base address and contents. Code is never writable, so
    /// the processor decodes it once.
    fn code(&self) -> (u32, &[u8]);
    /// The name of the segment holding `addr`, for messages.
    fn segment_at(&self, addr: u32) -> Option<&Segment>;
    fn snapshot(&self) -> Self::Snapshot;
    fn restore(&mut self, snapshot: &Self::Snapshot);
}

/// A named range of the address space with its permissions.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Segment {
    pub name: String,
    pub base: u32,
    pub size: u32,
    pub perm: Perm,
    /// A guard: any access is a stack overflow.
    pub guard: bool,
}

impl Segment {
    pub fn end(&self) -> u64 {
        u64::from(self.base) + u64::from(self.size)
    }

    pub fn contains(&self, addr: u32) -> bool {
        addr >= self.base && u64::from(addr) < self.end()
    }
}

/// Why a memory layout was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    #[error("segment `{0}` does not start on a page boundary (pages are 4096 bytes)")]
    Unaligned(String),
    #[error("segments `{0}` and `{1}` overlap")]
    Overlap(String, String),
    #[error("segment `{0}`: its initial contents are larger than the segment")]
    TooLarge(String),
    #[error("segment `{0}` ends past the 4 GiB address space")]
    PastEnd(String),
    #[error("more than one executable segment (`{0}` and `{1}`)")]
    TwoCodeSegments(String, String),
    #[error("no executable segment")]
    NoCode,
    #[error("the address space would be {0} bytes, more than the {1} allowed")]
    TooBig(u64, u64),
    #[error("more than 254 segments")]
    TooManySegments,
}

/// The largest address space [`Memory`] backs (its highest segment end): the bytes are
/// allocated zeroed, so untouched pages cost no physical memory, but the page tables do.
pub const MAX_SPACE: u64 = 1 << 30;

const NO_SEGMENT: u8 = u8::MAX;

/// The page-flag bit of a page written since the memory was built.
const DIRTY: u8 = 0x80;

/// Pages in the 32-bit address space.
const ALL_PAGES: usize = 1 << (32 - PAGE_SHIFT);

/// A flat address space from 0 to the end of its highest segment, with per-page
/// permissions and dirty tracking.
#[derive(Clone, Debug)]
pub struct Memory {
    /// The bytes, page by page (one zeroed allocation, so untouched pages cost nothing): an
    /// aligned access within a page needs no bounds check beyond the page's.
    pages: Vec<[u8; PAGE_SIZE as usize]>,
    /// Per page: the permissions of its segment (`Perm::NONE` when unmapped or a guard) in
    /// the low bits, and [`DIRTY`] once written: a store tests both with one load.
    /// (One byte for every page of the 32-bit space, zero beyond the segments: indexed by
    /// `addr >> 12`, it needs no bounds check, and an address past the memory is a page
    /// without permissions.)
    perms: Box<[u8; ALL_PAGES]>,
    /// Per page: the index of its segment in `segments`, or `NO_SEGMENT`.
    seg_of_page: Vec<u8>,
    segments: Vec<Segment>,
    code: usize,
    /// The pages written since the memory was built (each has [`DIRTY`] set).
    dirty_pages: Vec<u32>,
    /// Initial contents of segments built with some, to restore pages a snapshot does not
    /// hold. Every other page starts zeroed.
    initial: Vec<(u32, Vec<u8>)>,
}

/// The pages of a [`Memory`] written since it was built, with their contents.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MemorySnapshot {
    pub pages: Vec<(u32, Vec<u8>)>,
}

impl MemorySnapshot {
    /// Bytes of page contents held.
    pub fn bytes(&self) -> usize {
        self.pages.iter().map(|(_, p)| p.len()).sum()
    }
}

impl Memory {
    /// Builds an address space from segments and their initial contents (shorter than the
    /// segment: the rest is zero). Exactly one segment must be executable.
    pub fn new(segments: Vec<(Segment, Vec<u8>)>) -> Result<Memory, LayoutError> {
        if segments.len() >= usize::from(NO_SEGMENT) {
            return Err(LayoutError::TooManySegments);
        }
        let mut code: Option<usize> = None;
        for (i, (s, init)) in segments.iter().enumerate() {
            if s.base % PAGE_SIZE != 0 {
                return Err(LayoutError::Unaligned(s.name.clone()));
            }
            if init.len() as u64 > u64::from(s.size) {
                return Err(LayoutError::TooLarge(s.name.clone()));
            }
            if s.end() > 1 << 32 {
                return Err(LayoutError::PastEnd(s.name.clone()));
            }
            if s.perm.allows(Perm::X) && !s.guard {
                if let Some(c) = code {
                    let other: &Segment = &segments[c].0;
                    return Err(LayoutError::TwoCodeSegments(other.name.clone(), s.name.clone()));
                }
                code = Some(i);
            }
            for (t, _) in &segments[..i] {
                let overlap = s.size > 0
                    && t.size > 0
                    && u64::from(s.base) < t.end()
                    && u64::from(t.base) < s.end();
                if overlap {
                    return Err(LayoutError::Overlap(t.name.clone(), s.name.clone()));
                }
            }
        }
        let code = code.ok_or(LayoutError::NoCode)?;
        let end = segments.iter().map(|(s, _)| s.end()).max().unwrap_or(0);
        let end = end.div_ceil(u64::from(PAGE_SIZE)) * u64::from(PAGE_SIZE);
        if end > MAX_SPACE {
            return Err(LayoutError::TooBig(end, MAX_SPACE));
        }
        let pages = (end >> PAGE_SHIFT) as usize;
        let mut mem = Memory {
            pages: vec![[0; PAGE_SIZE as usize]; pages],
            perms: vec![0; ALL_PAGES].into_boxed_slice().try_into().expect("ALL_PAGES bytes"),
            seg_of_page: vec![NO_SEGMENT; pages],
            segments: Vec::with_capacity(segments.len()),
            code,
            dirty_pages: Vec::new(),
            initial: Vec::new(),
        };
        for (i, (s, init)) in segments.into_iter().enumerate() {
            let first = (s.base >> PAGE_SHIFT) as usize;
            let last = (s.end().div_ceil(u64::from(PAGE_SIZE))) as usize;
            for p in first..last {
                mem.perms[p] = if s.guard { 0 } else { s.perm.0 };
                mem.seg_of_page[p] = i as u8;
            }
            let at = s.base as usize;
            mem.pages.as_flattened_mut()[at..at + init.len()].copy_from_slice(&init);
            if !init.is_empty() {
                mem.initial.push((s.base, init));
            }
            mem.segments.push(s);
        }
        Ok(mem)
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The bytes at `addr..addr + len`, when they are backed.
    pub fn read_bytes(&self, addr: u32, len: usize) -> Option<&[u8]> {
        self.pages.as_flattened().get(addr as usize..(addr as usize).checked_add(len)?)
    }

    /// Pages written since the memory was built.
    pub fn dirty_pages(&self) -> usize {
        self.dirty_pages.len()
    }

    #[cold]
    fn fault(&self, pc: u32, addr: u32, access: Access, width: Width) -> Fault {
        let seg = self.segment_at(addr);
        let kind = match seg {
            _ if !addr.is_multiple_of(width.bytes()) => FaultKind::Misaligned,
            None => FaultKind::Unmapped,
            Some(s) if s.guard => FaultKind::StackOverflow,
            Some(s) => FaultKind::Denied { perm: s.perm },
        };
        Fault { pc, addr, access, kind, segment: seg.map(|s| s.name.clone()) }
    }

    /// The page index of an access allowed by `need`, or its fault.
    #[inline(always)]
    fn check(
        &self,
        pc: u32,
        addr: u32,
        width: Width,
        need: Perm,
        access: Access,
    ) -> Result<usize, Fault> {
        let page = (addr >> PAGE_SHIFT) as usize;
        let ok = addr & (width.bytes() - 1) == 0 && self.perms[page] & need.0 == need.0;
        if ok { Ok(page) } else { Err(self.fault(pc, addr, access, width)) }
    }

    /// Reads an aligned value within page `page` (the offset is masked to alignment, so the
    /// page's bounds are the only check).
    #[inline(always)]
    fn read(&self, page: usize, addr: u32, width: Width) -> u32 {
        let p = &self.pages[page];
        let off = (addr & (PAGE_SIZE - 1)) as usize;
        match width {
            Width::Byte => u32::from(p[off]),
            Width::Half => {
                let off = off & !1;
                u32::from(u16::from_le_bytes([p[off], p[off + 1]]))
            }
            // As one 4-byte chunk: the index is below 1024 by construction, so no check
            // and one host load.
            Width::Word => u32::from_le_bytes(p.as_chunks::<4>().0[off >> 2]),
        }
    }

    #[inline(always)]
    fn write(&mut self, page: usize, addr: u32, width: Width, value: u32) {
        let p = &mut self.pages[page];
        let off = (addr & (PAGE_SIZE - 1)) as usize;
        match width {
            Width::Byte => p[off] = value as u8,
            Width::Half => {
                let off = off & !1;
                p[off..off + 2].copy_from_slice(&(value as u16).to_le_bytes());
            }
            Width::Word => p.as_chunks_mut::<4>().0[off >> 2] = value.to_le_bytes(),
        }
    }

    /// The contents page `page` had when the memory was built.
    fn initial_page(&self, page: u32, out: &mut [u8]) {
        out.fill(0);
        let start = page << PAGE_SHIFT;
        let end = u64::from(start) + u64::from(PAGE_SIZE);
        for (base, init) in &self.initial {
            let (b, e) = (u64::from(*base), u64::from(*base) + init.len() as u64);
            let (lo, hi) = (b.max(u64::from(start)), e.min(end));
            if lo < hi {
                out[(lo - u64::from(start)) as usize..(hi - u64::from(start)) as usize]
                    .copy_from_slice(&init[(lo - b) as usize..(hi - b) as usize]);
            }
        }
    }
}

impl Bus for Memory {
    type Snapshot = MemorySnapshot;

    #[inline(always)]
    fn load(&mut self, pc: u32, addr: u32, width: Width) -> Result<u32, Fault> {
        let page = self.check(pc, addr, width, Perm::R, Access::Load)?;
        Ok(self.read(page, addr, width))
    }

    #[inline(always)]
    fn store(&mut self, pc: u32, addr: u32, width: Width, value: u32) -> Result<(), Fault> {
        // The check and the dirty mark read the page's flags once.
        let page = (addr >> PAGE_SHIFT) as usize;
        let aligned = addr & (width.bytes() - 1) == 0;
        match &mut self.perms[page] {
            flags if aligned && *flags & Perm::W.0 != 0 => {
                if *flags & DIRTY == 0 {
                    *flags |= DIRTY;
                    self.dirty_pages.push(page as u32);
                }
            }
            _ => return Err(self.fault(pc, addr, Access::Store, width)),
        }
        self.write(page, addr, width, value);
        Ok(())
    }

    fn peek(&self, addr: u32, width: Width) -> Option<u32> {
        let bytes = self.read_bytes(addr, width.bytes() as usize)?;
        let mut word = [0u8; 4];
        word[..bytes.len()].copy_from_slice(bytes);
        Some(u32::from_le_bytes(word))
    }

    fn poke(&mut self, addr: u32, width: Width, value: u32) -> bool {
        let (at, n) = (addr as usize, width.bytes() as usize);
        // Code is decoded once: a write there would not be seen, so it is refused.
        let code = &self.segments[self.code];
        let ok = at + n <= self.pages.len() * PAGE_SIZE as usize
            && !(code.contains(addr) || code.contains(addr + width.bytes() - 1));
        if ok {
            for (i, byte) in value.to_le_bytes().into_iter().take(n).enumerate() {
                let a = at + i;
                let page = a >> PAGE_SHIFT;
                if self.perms[page] & DIRTY == 0 {
                    self.perms[page] |= DIRTY;
                    self.dirty_pages.push(page as u32);
                }
                self.pages[page][a & (PAGE_SIZE as usize - 1)] = byte;
            }
        }
        ok
    }

    fn code(&self) -> (u32, &[u8]) {
        let s = &self.segments[self.code];
        (s.base, &self.pages.as_flattened()[s.base as usize..s.end() as usize])
    }

    fn segment_at(&self, addr: u32) -> Option<&Segment> {
        let i = *self.seg_of_page.get((addr >> PAGE_SHIFT) as usize)?;
        self.segments.get(usize::from(i)).filter(|s| s.contains(addr))
    }

    fn snapshot(&self) -> MemorySnapshot {
        let mut pages: Vec<(u32, Vec<u8>)> =
            self.dirty_pages.iter().map(|&p| (p, self.pages[p as usize].to_vec())).collect();
        pages.sort_by_key(|(p, _)| *p);
        MemorySnapshot { pages }
    }

    fn restore(&mut self, snapshot: &MemorySnapshot) {
        // Pages written since the snapshot but not in it go back to their initial contents.
        let mut page_buf = vec![0u8; PAGE_SIZE as usize];
        for p in std::mem::take(&mut self.dirty_pages) {
            self.perms[p as usize] &= !DIRTY;
            if snapshot.pages.binary_search_by_key(&p, |(q, _)| *q).is_err() {
                self.initial_page(p, &mut page_buf);
                self.pages[p as usize].copy_from_slice(&page_buf);
            }
        }
        for (p, contents) in &snapshot.pages {
            let Some(page) = self.pages.get_mut(*p as usize) else { continue };
            if contents.len() != PAGE_SIZE as usize {
                continue;
            }
            page.copy_from_slice(contents);
            self.perms[*p as usize] |= DIRTY;
            self.dirty_pages.push(*p);
        }
    }
}
