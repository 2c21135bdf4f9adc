//! The snapshots of a run: serialized machines, each either whole (a keyframe) or the byte
//! delta against its keyframe, LZ4-compressed. A snapshot is restored with at most one patch:
//! deltas are taken against the keyframe, not the previous snapshot, and a new keyframe is
//! started when the delta would be more than half its keyframe's size.

use super::delta;
use crate::trace::{decode_vm, encode_vm};
use crate::vm::Vm;
use std::sync::Arc;

/// One snapshot as it is kept and stored (a row of tel-store's `snapshots` table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedSnapshot {
    /// The global step index of the machine it holds.
    pub position: u64,
    /// The position of its keyframe when it is a delta; `None` for a keyframe.
    pub base: Option<u64>,
    /// LZ4 (size-prefixed) of the machine's bytes (`trace::encode_vm`) or of the delta.
    pub bytes: Arc<[u8]>,
}

/// The largest machine a snapshot may claim to decompress to: damaged sizes must not
/// allocate.
const MAX_RAW: usize = 1 << 32;

fn decompress(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let (size, _) = lz4_flex::block::uncompressed_size(bytes)
        .map_err(|e| format!("a snapshot does not decompress: {e}"))?;
    if size > MAX_RAW || size > bytes.len().saturating_mul(256) + 64 {
        return Err(format!("a snapshot claims {size} bytes"));
    }
    lz4_flex::block::decompress_size_prepended(bytes)
        .map_err(|e| format!("a snapshot does not decompress: {e}"))
}

/// The snapshots of one run, by position.
#[derive(Clone, Default)]
pub(crate) struct Snapshots {
    pub(crate) list: Vec<SavedSnapshot>,
    /// The keyframe new deltas are taken against: its position, raw bytes and stored size.
    key: Option<(u64, Arc<Vec<u8>>, usize)>,
}

impl Snapshots {
    /// Snapshots read back from storage, checked: positions strictly increasing, every delta's
    /// keyframe present before it.
    pub(crate) fn from_saved(mut list: Vec<SavedSnapshot>) -> Result<Snapshots, String> {
        list.sort_by_key(|s| s.position);
        for (i, s) in list.iter().enumerate() {
            if i > 0 && list[i - 1].position == s.position {
                return Err(format!("two snapshots at position {}", s.position));
            }
            if let Some(b) = s.base {
                let k = list[..i].binary_search_by_key(&b, |k| k.position);
                if !k.is_ok_and(|k| list[k].base.is_none()) {
                    return Err(format!(
                        "the snapshot at {} is a delta against {b}, which is not a keyframe",
                        s.position
                    ));
                }
            }
        }
        Ok(Snapshots { list, key: None })
    }

    /// The index of the last snapshot at or before `position`.
    pub(crate) fn at_or_before(&self, position: u64) -> Option<usize> {
        self.list.partition_point(|s| s.position <= position).checked_sub(1)
    }

    /// Keeps only the snapshots at or before `position` (a fork shares them).
    pub(crate) fn truncate_after(&mut self, position: u64) {
        let n = self.list.partition_point(|s| s.position <= position);
        self.list.truncate(n);
        self.key = None;
    }

    /// Adds a snapshot of `vm` (at a position past every snapshot so far). Returns its
    /// stored size.
    pub(crate) fn push(&mut self, vm: &mut Vm) -> Result<usize, String> {
        let position = vm.usage.fuel;
        let raw = encode_vm(vm);
        if self.key.is_none()
            && let Some(i) = self.list.iter().rposition(|s| s.base.is_none())
        {
            // Continuing after snapshots read back or shared: deltas go on against the last
            // keyframe.
            let k = &self.list[i];
            self.key = Some((k.position, Arc::new(decompress(&k.bytes)?), k.bytes.len()));
        }
        let delta = match &self.key {
            Some((base, key, key_len)) => {
                let d = lz4_flex::block::compress_prepend_size(&delta::diff(key, &raw));
                (d.len() * 2 <= *key_len).then_some((*base, d))
            }
            None => None,
        };
        let snap = match delta {
            Some((base, bytes)) => {
                SavedSnapshot { position, base: Some(base), bytes: bytes.into() }
            }
            None => {
                let bytes: Arc<[u8]> = lz4_flex::block::compress_prepend_size(&raw).into();
                self.key = Some((position, Arc::new(raw), bytes.len()));
                SavedSnapshot { position, base: None, bytes }
            }
        };
        let n = snap.bytes.len();
        self.list.push(snap);
        Ok(n)
    }

    /// The raw bytes of keyframe `i`, through a one-entry cache (consecutive restores mostly
    /// share their keyframe).
    fn key_raw(
        &self,
        i: usize,
        cache: &mut Option<(u64, Arc<Vec<u8>>)>,
    ) -> Result<Arc<Vec<u8>>, String> {
        let s = &self.list[i];
        if let Some((p, raw)) = cache
            && *p == s.position
        {
            return Ok(raw.clone());
        }
        let raw = Arc::new(decompress(&s.bytes)?);
        *cache = Some((s.position, raw.clone()));
        Ok(raw)
    }

    /// The machine of snapshot `i`.
    pub(crate) fn restore(
        &self,
        i: usize,
        cache: &mut Option<(u64, Arc<Vec<u8>>)>,
    ) -> Result<Vm, String> {
        let s = &self.list[i];
        let raw = match s.base {
            None => self.key_raw(i, cache)?,
            Some(b) => {
                let k = self
                    .list
                    .binary_search_by_key(&b, |k| k.position)
                    .map_err(|_| format!("the keyframe at {b} is missing"))?;
                let key = self.key_raw(k, cache)?;
                Arc::new(delta::patch(&key, &decompress(&s.bytes)?)?)
            }
        };
        let vm = decode_vm(&raw).map_err(|e| e.to_string())?;
        if vm.usage.fuel != s.position {
            return Err(format!(
                "the snapshot at {} holds the machine at {}",
                s.position, vm.usage.fuel
            ));
        }
        Ok(vm)
    }

    /// Bytes stored, over every snapshot.
    pub(crate) fn stored_bytes(&self) -> usize {
        self.list.iter().map(|s| s.bytes.len()).sum()
    }
}
