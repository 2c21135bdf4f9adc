//! Byte deltas between two serialized machines: what a snapshot stores when its keyframe is
//! close to it. An rsync-style match of fixed blocks of the base found anywhere in the target
//! by a rolling hash, so edits that shift the bytes after them (an Int whose varint grows, a
//! list that grows in the middle of the stack) still share everything around them.
//!
//! Format: `(literal_len literal copy_offset copy_len)* literal_len literal`, lengths and
//! offsets as unsigned LEB128.

use rustc_hash::FxHashMap;

/// Bytes per matched block: small, so that the bytes after an edit match again soon (a
/// machine's edits are many small ones: counters, a pc, a few locals); matches are extended
/// both ways past the block, so a copy instruction (2-6 bytes) covers long runs.
const BLOCK: usize = 8;
const P: u64 = 0x100_0000_01b3;

fn hash(block: &[u8]) -> u64 {
    block.iter().fold(0u64, |h, b| h.wrapping_mul(P).wrapping_add(u64::from(*b)))
}

fn put(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// The delta that turns `base` into `target`.
pub(crate) fn diff(base: &[u8], target: &[u8]) -> Vec<u8> {
    let mut index: FxHashMap<u64, u32> = FxHashMap::default();
    if base.len() >= BLOCK {
        for i in (0..=base.len() - BLOCK).step_by(BLOCK) {
            index.entry(hash(&base[i..i + BLOCK])).or_insert(i as u32);
        }
    }
    // P^(BLOCK-1), to take the leaving byte out of the rolling hash.
    let top = (1..BLOCK).fold(1u64, |p, _| p.wrapping_mul(P));
    let mut out = Vec::new();
    let (mut lit, mut j) = (0usize, 0usize);
    let mut h = if target.len() >= BLOCK { hash(&target[..BLOCK]) } else { 0 };
    while j + BLOCK <= target.len() {
        if let Some(&off) = index.get(&h) {
            let off = off as usize;
            if base[off..off + BLOCK] == target[j..j + BLOCK] {
                let (mut s, mut o) = (j, off);
                while s > lit && o > 0 && base[o - 1] == target[s - 1] {
                    s -= 1;
                    o -= 1;
                }
                let (mut e, mut oe) = (j + BLOCK, off + BLOCK);
                while e < target.len() && oe < base.len() && base[oe] == target[e] {
                    e += 1;
                    oe += 1;
                }
                put(&mut out, s - lit);
                out.extend_from_slice(&target[lit..s]);
                put(&mut out, o);
                put(&mut out, e - s);
                (lit, j) = (e, e);
                if j + BLOCK <= target.len() {
                    h = hash(&target[j..j + BLOCK]);
                }
                continue;
            }
        }
        if j + BLOCK < target.len() {
            h = h
                .wrapping_sub(u64::from(target[j]).wrapping_mul(top))
                .wrapping_mul(P)
                .wrapping_add(u64::from(target[j + BLOCK]));
        }
        j += 1;
    }
    put(&mut out, target.len() - lit);
    out.extend_from_slice(&target[lit..]);
    out
}

/// Applies `delta` to `base`. Stored deltas may be damaged: every length is checked.
pub(crate) fn patch(base: &[u8], delta: &[u8]) -> Result<Vec<u8>, String> {
    let mut pos = 0usize;
    let read = |pos: &mut usize| -> Result<usize, String> {
        let mut n = 0usize;
        for shift in (0..64).step_by(7) {
            let b = *delta.get(*pos).ok_or("the delta is cut short")?;
            *pos += 1;
            n |= usize::from(b & 0x7f).checked_shl(shift).ok_or("a number is too long")?;
            if b & 0x80 == 0 {
                return Ok(n);
            }
        }
        Err("a number is too long".into())
    };
    let mut out = Vec::with_capacity(base.len());
    loop {
        let n = read(&mut pos)?;
        let lit = delta.get(pos..pos.saturating_add(n)).ok_or("a literal runs past the delta")?;
        out.extend_from_slice(lit);
        pos += n;
        if pos == delta.len() {
            return Ok(out);
        }
        let off = read(&mut pos)?;
        let len = read(&mut pos)?;
        let copy = base.get(off..off.saturating_add(len)).ok_or("a copy runs past the base")?;
        out.extend_from_slice(copy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the two byte strings, patching the base with the delta gives the target;
        /// and a target that is the base with a few edits has a short delta.
        #[test]
        fn patch_inverts_diff(base in proptest::collection::vec(any::<u8>(), 0..2000),
                              edits in proptest::collection::vec((any::<u16>(), any::<u8>(), 0u8..3), 0..8)) {
            let mut target = base.clone();
            for (at, b, kind) in edits {
                let at = usize::from(at) % (target.len() + 1);
                match kind {
                    0 => target.insert(at, b),
                    1 if at < target.len() => { target.remove(at); }
                    _ if at < target.len() => target[at] = b,
                    _ => target.push(b),
                }
            }
            let d = diff(&base, &target);
            prop_assert_eq!(patch(&base, &d).unwrap(), target.clone());
            if base.len() >= 1000 {
                prop_assert!(d.len() < 8 * (2 * BLOCK + 16), "{} bytes of delta", d.len());
            }
        }

        /// Damaged deltas are refused or give some bytes, never a panic.
        #[test]
        fn damaged_deltas_do_not_panic(base in proptest::collection::vec(any::<u8>(), 0..300),
                                       delta in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = patch(&base, &delta);
        }
    }
}
