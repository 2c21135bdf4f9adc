//! `--memo`: memoized and plain runs agree (on every fixture and on fib), hits are counted,
//! only pure calls are cached, the cache stays within its bound, and it persists across runs.

mod support;

use std::collections::HashMap;
use tel_hash::CodeHash;
use tel_vm::memo::{DEFAULT_CAPACITY, MemoKey, args_digest, pure_functions};
use tel_vm::{
    HostFile, Limits, Memo, MemoCache, MemoStats, Program, RunMeta, StoredDef, TestHost, Value, Vm,
    record, replay,
};

struct Run {
    shown: String,
    host: TestHost,
    fuel: u64,
}

fn plain(program: &Program, host: TestHost) -> Run {
    let mut host = host;
    let mut vm = Vm::new(program, Limits::default(), 0);
    let v = vm.run_to_end(program, &mut host);
    let shown = match v {
        Ok(v) => tel_vm::show::show(program, &v),
        Err(e) => format!("error: {e}"),
    };
    Run { shown, host, fuel: vm.usage.fuel }
}

fn memoized(
    program: &Program,
    defs: &HashMap<CodeHash, StoredDef>,
    host: TestHost,
    cache: MemoCache,
) -> (Run, MemoCache) {
    let mut memo = Memo::new(host, pure_functions(defs), cache);
    let mut vm = Vm::new(program, Limits::default(), 0);
    let v = vm.run_to_end(program, &mut memo);
    let shown = match v {
        Ok(v) => tel_vm::show::show(program, &v),
        Err(e) => format!("error: {e}"),
    };
    let (host, cache) = memo.into_parts();
    (Run { shown, host, fuel: vm.usage.fuel }, cache)
}

const FIB: &str = "
    fn fib(n: Int) -> Int { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }
    fn main() -> Int { fib(25) }
";

#[test]
fn fib_agrees_with_and_without_memo_and_hits_are_counted() {
    let (defs, main) = support::stored(FIB);
    let program = Program::load(&defs, main).unwrap();
    let a = plain(&program, TestHost::new(0));
    let (b, cache) = memoized(&program, &defs, TestHost::new(0), MemoCache::default());
    assert_eq!(a.shown, "75025");
    assert_eq!(b.shown, a.shown);
    // fib(0..=25): each computed once (26 misses; fib(n-2) is then a hit for every n >= 2).
    let stats = cache.stats();
    assert_eq!((stats.misses, stats.hits, cache.len()), (26, 23, 26), "{stats:?}");
    assert!(b.fuel * 100 < a.fuel, "memo {} vs plain {} instructions", b.fuel, a.fuel);
}

#[test]
fn every_fixture_agrees_with_and_without_memo() {
    let file = HostFile::parse(
        r#"{"seed": 7, "feeds": { "ETH/USD": 3000, "BTC/USD": 64000, "ETH/USD@ethereum": 3000, "ETH/USD@osmosis": 3050 }}"#,
    )
    .unwrap();
    let dir = format!("{}/../../fixtures/valid", env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    let mut hits = 0;
    for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "tel")) {
        let (defs, main) = support::stored(&std::fs::read_to_string(path).unwrap());
        let program = Program::load(&defs, main).unwrap();
        let a = plain(&program, file.host());
        let (b, cache) = memoized(&program, &defs, file.host(), MemoCache::default());
        // Same value, and the host saw the same effects (log, events, ledger, generator).
        assert_eq!(b.shown, a.shown, "{}", path.display());
        assert_eq!(b.host, a.host, "{}", path.display());
        hits += cache.stats().hits;
    }
    // recursion.tel's fib and ackermann repeat themselves (55 hits when this was written).
    assert!(hits >= 50, "{hits} hits over the fixtures");
}

#[test]
fn only_pure_calls_are_cached() {
    let src = r#"
        fn noisy(x: Int) -> Int ! {Log} { perform Log(show(x)); x * 2 }
        fn twice(f: fn(Int) -> Int, x: Int) -> Int { f(f(x)) }
        fn square(x: Int) -> Int { x * x }
        fn main() -> List<Int> ! {Log} {
            [noisy(1), noisy(1), twice(square, 3), twice(square, 3), square(3), square(3)]
        }"#;
    let (defs, main) = support::stored(src);
    let program = Program::load(&defs, main).unwrap();
    let pure = pure_functions(&defs);
    let name = |h: &CodeHash| defs[h].name.clone().unwrap_or_default();
    let mut names: Vec<_> = pure.iter().map(name).collect();
    names.sort();
    assert_eq!(names, ["square", "twice"]);
    let (run, cache) = memoized(&program, &defs, TestHost::new(0), MemoCache::default());
    assert_eq!(run.shown, "[2, 2, 81, 81, 9, 9]");
    // The effectful function ran (and logged) both times.
    assert_eq!(run.host.log, ["1", "1"]);
    // `twice` takes a function: never cached. `square(3)` is computed inside the first
    // `twice`, then hit at the top level twice; `square(9)` once.
    let entries: Vec<_> = cache.entries().map(|e| (name(&e.key.def), e.result)).collect();
    assert!(entries.iter().all(|(n, _)| n == "square"), "{entries:?}");
    assert_eq!(cache.stats(), MemoStats { hits: 4, misses: 2, evictions: 0 });
}

#[test]
fn a_cached_record_keeps_its_type_name() {
    // `same` returns its argument: a nominal Quote and a structural record with the same
    // fields are equal, but show differently, so they must not share a cache entry.
    let src = r#"
        type Quote = { asset: String, price: Int }
        fn same(q: { asset: String, price: Int }) -> { asset: String, price: Int } { q }
        fn main() -> String {
            let n: Quote = Quote { asset: "ETH", price: 1 };
            let s = { asset: "ETH", price: 1 };
            show([same(n), same(s), same(n)])
        }"#;
    let (defs, main) = support::stored(src);
    let program = Program::load(&defs, main).unwrap();
    let a = plain(&program, TestHost::new(0));
    let (b, cache) = memoized(&program, &defs, TestHost::new(0), MemoCache::default());
    assert_eq!(b.shown, a.shown);
    assert_eq!(cache.stats().hits, 1);
}

#[test]
fn the_cache_stays_within_its_bound() {
    let src = "
        fn sq(x: Int) -> Int { x * x }
        fn sum(n: Int) -> Int { if n == 0 { 0 } else { sq(n % 3) + sq(n) + sum(n - 1) } }
        fn main() -> Int { sum(200) }";
    let (defs, main) = support::stored(src);
    let program = Program::load(&defs, main).unwrap();
    let a = plain(&program, TestHost::new(0));
    let (b, cache) = memoized(&program, &defs, TestHost::new(0), MemoCache::new(8));
    assert_eq!(b.shown, a.shown);
    assert!(cache.len() <= 8);
    let stats = cache.stats();
    assert!(stats.evictions > 100, "{stats:?}");
    // Among the stream of one-off entries, sq(0), sq(1) and sq(2) come back every few calls:
    // CLOCK's second chance keeps them.
    assert!(stats.hits > 100, "{stats:?}");
    assert_eq!(MemoCache::default().capacity(), DEFAULT_CAPACITY);
}

#[test]
fn clock_eviction_spares_recently_used_entries() {
    let key = |i: i64| MemoKey { def: CodeHash([0; 32]), args: args_digest(&[Value::Int(i)]) };
    let mut cache = MemoCache::new(3);
    for i in 0..3 {
        cache.insert(key(i), Value::Int(i));
    }
    assert!(cache.get(&key(0)).is_some()); // 0 is referenced
    cache.insert(key(3), Value::Int(3)); // evicts 1 (0 gets a second chance)
    assert!(cache.get(&key(0)).is_some());
    assert!(cache.get(&key(1)).is_none());
    assert!(cache.get(&key(2)).is_some());
    assert_eq!(cache.get(&key(3)), Some(&Value::Int(3)));
    assert_eq!(cache.len(), 3);
}

#[test]
fn a_persisted_cache_answers_the_next_run() {
    let (defs, main) = support::stored(FIB);
    let program = Program::load(&defs, main).unwrap();
    let (_, first) = memoized(&program, &defs, TestHost::new(0), MemoCache::default());
    // What the store would keep, written and read back.
    let saved: Vec<_> = first.entries().collect();
    let bytes = serde_json::to_string(&saved).unwrap();
    let mut loaded = MemoCache::default();
    loaded.load(serde_json::from_str::<Vec<tel_vm::MemoEntry>>(&bytes).unwrap());
    let (run, second) = memoized(&program, &defs, TestHost::new(0), loaded);
    assert_eq!(run.shown, "75025");
    // The entry call fib(25) itself is a hit: nothing is computed again.
    assert_eq!((second.stats().hits, second.stats().misses), (1, 0));
}

#[test]
fn a_memoized_run_records_and_replays_identically() {
    let src = "
        fn fib(n: Int) -> Int { if n < 2 { n } else { fib(n - 1) + fib(n - 2) } }
        fn main() -> Int ! {Log} { perform Log(show(fib(20))); fib(21) }";
    let (defs, main) = support::stored(src);
    let program = Program::load(&defs, main).unwrap();
    let mut meta = RunMeta::new(&program);
    meta.memo = true;
    meta.snapshot_every = 10;
    let mut host = Memo::new(TestHost::new(0), pure_functions(&defs), MemoCache::default());
    let rec = record(&program, meta, &mut host);
    assert_eq!(rec.outcome, Ok(Value::Int(10946)));
    assert!(host.cache().stats().hits > 0);
    // Replayed without the cache: the same effects and result (snapshots, taken after fewer
    // instructions, are not compared).
    assert_eq!(replay(&rec.trace, &program).to_string(), "replayed 4 events: identical");
}
