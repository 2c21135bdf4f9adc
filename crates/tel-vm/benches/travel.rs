//! Time travel on a run of 10^7 VM steps (a trading loop over a list of 5 000 quotes, with a
//! host effect every 10 000 iterations): the cost of preparing the run, a reverse step and a
//! jump from random positions (p50, p99, max over 400 positions, printed before criterion's
//! own figures), and snapshot storage against the untraced run's peak heap, measured by a
//! counting allocator. docs/debugging.md reports the figures.
//!
//! `cargo bench -p tel-vm --bench travel`; `TRAVEL_EVERY=65536` overrides the snapshot
//! interval, `TRAVEL_SPACING` the steps per stored byte, `TRAVEL_SAMPLES` the number of random
//! positions, `TRAVEL_PROGRAM=churn` runs the worst case for snapshots instead.

#[path = "../tests/support/mod.rs"]
mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tel_vm::travel::{Config, Granularity, Navigator, StepKind};
use tel_vm::{HostFile, Limits, Program, RunMeta, Vm};

/// Live heap bytes and their peak since the last reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
        unsafe { System.dealloc(p, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const PROGRAM: &str = r#"
type Quote = { t: Int, price: Int }

fn quotes(i: Int, n: Int, acc: List<Quote>) -> List<Quote> {
    if i >= n { acc } else { quotes(i + 1, n, acc ++ [Quote { t: i, price: 1000 + (i * 7919) % 500 }]) }
}

fn price_at(qs: List<Quote>, i: Int) -> Int {
    match get(qs, i % len(qs)) {
        Some(q) => q.price,
        None => 0,
    }
}

fn trade(i: Int, n: Int, qs: List<Quote>, cash: Int, units: Int) -> Int ! {Deposit} {
    if i >= n {
        cash + units * price_at(qs, i)
    } else {
        let p = price_at(qs, i);
        if i % 10_000 == 0 {
            perform Deposit("fund", cash);
        }
        if p < 1100 && cash >= p {
            trade(i + 1, n, qs, cash - p, units + 1)
        } else {
            if p > 1400 && units > 0 {
                trade(i + 1, n, qs, cash + p, units - 1)
            } else {
                trade(i + 1, n, qs, cash, units)
            }
        }
    }
}

fn main() -> Int ! {Deposit, Log} {
    let qs = quotes(0, 5_000, []);
    perform Log("quotes ready");
    let r = trade(0, 333_500, qs, 100_000, 0);
    perform Log("done " ++ show(r));
    r
}
"#;

/// The worst case for snapshots: a map of 2 000 balances rewritten all the time, so a delta is
/// nearly a whole state (`TRAVEL_PROGRAM=churn`).
const CHURN: &str = r#"
fn fill(i: Int, m: Map<Int, Int>) -> Map<Int, Int> {
    if i >= 2_000 { m } else { fill(i + 1, insert(m, i, i)) }
}

fn churn(i: Int, n: Int, m: Map<Int, Int>) -> Int {
    if i >= n {
        len(m)
    } else {
        let k = (i * 7919) % 2_000;
        let v = match get(m, k) { Some(v) => v, None => 0 };
        churn(i + 1, n, insert(m, k, v + i))
    }
}

fn main() -> Int {
    churn(0, 588_000, fill(0, empty_map()))
}
"#;

fn limits() -> Limits {
    Limits { wall_ms: u64::MAX, ..Limits::default() }
}

fn config() -> Config {
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
    let mut config = Config::default();
    if let Some(every) = var("TRAVEL_EVERY") {
        config = Config { every, effect_gap: every / 4, ..config };
    }
    if let Some(spacing) = var("TRAVEL_SPACING") {
        config.spacing = spacing;
    }
    config
}

/// SplitMix64: random positions, the same on every run.
fn positions(n: usize, end: u64) -> Vec<u64> {
    let mut x = 0x5eed_u64;
    (0..n)
        .map(|_| {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            1 + (z ^ (z >> 31)) % end
        })
        .collect()
}

/// The wall-clock time of `op` after `setup`, the least of `REPEAT` runs: each operation
/// measured here does the same work every time, and the least time is the one the machine's
/// other work (this runs on a shared machine) did not stretch. Also the first run's time.
fn timed(mut setup: impl FnMut(), mut op: impl FnMut()) -> (Duration, Duration) {
    let mut times = (0..REPEAT).map(|_| {
        setup();
        let start = Instant::now();
        op();
        start.elapsed()
    });
    let first = times.next().expect("one run");
    (first, times.fold(first, Duration::min))
}

const REPEAT: usize = 5;

fn report(what: &str, d: Vec<(Duration, Duration)>) {
    let (first, best): (Vec<Duration>, Vec<Duration>) = d.into_iter().unzip();
    eprintln!(
        "travel: {what}: {} (first of {REPEAT} runs: {})",
        percentiles(best),
        percentiles(first)
    );
}

fn percentiles(mut d: Vec<Duration>) -> String {
    d.sort();
    let at = |q: f64| d[((d.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    format!("p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms", at(0.5), at(0.99), at(1.0))
}

#[inline(never)]
fn measured_step_back(nav: &mut Navigator) {
    black_box(nav.step_back().unwrap());
}

#[inline(never)]
fn measured_jump(nav: &mut Navigator, p: u64) {
    black_box(nav.goto(p).unwrap());
}

fn bench(c: &mut Criterion) {
    let source = match std::env::var("TRAVEL_PROGRAM").as_deref() {
        Ok("churn") => CHURN,
        _ => PROGRAM,
    };
    let (defs, main) = support::stored(source);
    let program = Arc::new(Program::load(&defs, main).unwrap());
    let mut meta = RunMeta::new(&program);
    meta.limits = limits();
    meta.host = Some(HostFile::default());

    // The untraced run: its time and its peak heap (the machine and everything it allocates,
    // from creation to result; the loaded program is not counted).
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let start = Instant::now();
    let mut vm = Vm::new(&program, limits(), 0);
    let mut host = HostFile::default().host();
    black_box(vm.run_to_end(&program, &mut host).unwrap());
    let untraced = start.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    let steps = vm.usage.fuel;
    drop(vm);

    let start = Instant::now();
    let base = LIVE.load(Ordering::Relaxed);
    let nav = Navigator::record(program.clone(), &defs, meta.clone(), config()).unwrap();
    let prepared = start.elapsed();
    let held = LIVE.load(Ordering::Relaxed) - base;
    let stored = nav.snapshot_bytes();
    let snaps = nav.snapshots();
    let keyframes = snaps.iter().filter(|s| s.1.is_none()).count();
    let trace_bytes = nav.trace().to_bytes().len();
    let gap = snaps
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .max()
        .unwrap_or(0)
        .max(nav.end() - snaps.last().unwrap().0);
    eprintln!("travel: {steps} steps, untraced run {untraced:.2?}, peak heap {peak} bytes");
    eprintln!(
        "travel: prepared (record + snapshots) in {prepared:.2?} ({:.2}x the untraced run)",
        prepared.as_secs_f64() / untraced.as_secs_f64()
    );
    eprintln!(
        "travel: {} snapshots ({keyframes} keyframes) every {} steps (longest interval {gap}): {stored} bytes = {:.2}% of the peak heap; \
         trace {trace_bytes} bytes; navigator heap {held} bytes",
        snaps.len(),
        nav.config().every,
        100.0 * stored as f64 / peak as f64
    );

    let samples = std::env::var("TRAVEL_SAMPLES").ok().and_then(|v| v.parse().ok()).unwrap_or(400);
    let targets = positions(samples, nav.end());
    if std::env::var("TRAVEL_COUNT").is_ok() {
        // Under callgrind, one dump per measured operation: instruction counts, which the
        // machine's other work does not change (docs/debugging.md gives the command).
        let mut nav = nav;
        for &p in &targets {
            nav.goto(p).unwrap();
            measured_step_back(&mut nav);
            measured_jump(&mut nav, p);
        }
        return;
    }
    let (mut back, mut jumps, mut back_over, mut restores) = (vec![], vec![], vec![], vec![]);
    // `nav` is used by both closures of `timed`, one at a time.
    let nav = std::cell::RefCell::new(nav);
    for &p in &targets {
        jumps.push(timed(|| {}, || drop(nav.borrow_mut().goto(p).unwrap())));
        back.push(timed(
            || drop(nav.borrow_mut().goto(p).unwrap()),
            || drop(nav.borrow_mut().step_back().unwrap()),
        ));
    }
    for &p in targets.iter().take(samples / 4) {
        back_over.push(timed(
            || drop(nav.borrow_mut().goto(p).unwrap()),
            || {
                let back =
                    nav.borrow_mut().step(StepKind::Over, Granularity::Statement, true, None);
                drop(back.unwrap())
            },
        ));
    }
    for (position, _, _) in snaps.iter().step_by(3) {
        restores.push(timed(|| {}, || drop(nav.borrow_mut().goto(*position).unwrap())));
    }
    let mut nav = nav.into_inner();
    report("restore a snapshot (jump to its position)", restores);
    report("reverse step (one instruction)", back);
    report("jump to a position", jumps);
    report("reverse statement step (step back over)", back_over);
    let held = LIVE.load(Ordering::Relaxed) - base;
    eprintln!(
        "travel: navigator heap after the jumps {held} bytes (snapshots, caches, the machine at its position)"
    );

    let mut group = c.benchmark_group("travel");
    group.sample_size(10);
    let mut i = 0;
    group.bench_function("reverse_step", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                i = (i + 1) % targets.len();
                nav.goto(targets[i]).unwrap();
                let start = Instant::now();
                black_box(nav.step_back().unwrap());
                total += start.elapsed();
            }
            total
        })
    });
    let mut j = 0;
    group.bench_function("jump", |b| {
        b.iter(|| {
            j = (j + 7) % targets.len();
            black_box(nav.goto(targets[j]).unwrap())
        })
    });
    group.bench_function("prepare", |b| {
        b.iter(|| {
            black_box(Navigator::record(program.clone(), &defs, meta.clone(), config()).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
