//! Synthetic definitions with real content hashes (`tel_hash::hash_bytes`), for tests, benchmarks and the
//! `tel-store-torture` binary. Deterministic: the same seed gives the same definitions.

use crate::model::NewDefinition;
use tel_hash::CodeHash;
use tel_hash::core::DefKind;

/// splitmix64: a tiny deterministic generator, enough to pick dependencies.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform enough in `0..n` for test data (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// The canonical bytes of synthetic definition `index` of batch `seed`: they embed the
/// dependencies' hashes, as a real serialization does, so the hash covers them.
pub fn canonical(seed: u64, index: usize, dependencies: &[CodeHash]) -> Vec<u8> {
    let mut bytes = format!("synthetic {seed} {index}").into_bytes();
    for d in dependencies {
        bytes.extend_from_slice(&d.0);
    }
    bytes
}

/// `count` definitions named `s{seed}::d{i}`. Definition 0 depends on nothing; each later
/// one depends on 1 to `max_deps` earlier ones (the first chosen at random), so every
/// definition transitively depends on definition 0.
pub fn batch(seed: u64, count: usize, max_deps: usize) -> Vec<NewDefinition> {
    let mut rng = Rng::new(seed);
    let mut out: Vec<NewDefinition> = Vec::with_capacity(count);
    for i in 0..count {
        let mut dependencies = Vec::new();
        if i > 0 {
            let n = 1 + rng.below(max_deps.max(1) as u64) as usize;
            for _ in 0..n {
                let j = rng.below(i as u64) as usize;
                dependencies.push(out[j].hash);
            }
            dependencies.sort();
            dependencies.dedup();
        }
        let canonical = canonical(seed, i, &dependencies);
        out.push(NewDefinition {
            hash: tel_hash::hash_bytes(&canonical),
            component: None,
            kind: DefKind::Fn,
            name: format!("s{seed}::d{i}"),
            canonical,
            source: format!("fn d{i}() -> Int {{ {i} }}\n"),
            dependencies,
        });
    }
    out
}
