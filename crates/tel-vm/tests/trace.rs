//! Traces: what a recorded run holds, the file format round trip, snapshots, export, and
//! tampering (an altered byte, reordered or missing events, altered metadata) being refused.

mod support;

use expect_test::expect;
use tel_vm::trace::{Compression, EXPORT_MAGIC, MAGIC, decode_vm};
use tel_vm::{Event, ExportedRun, HostFile, Program, Trace, TraceError, replay};

const HOST: &str = r#"{
    "seed": 7,
    "balances": { "treasury": 100 },
    "feeds": { "ETH/USD": 3000, "BTC/USD": [[0, 64000], [60000, 65000]] },
    "costs": { "Observe": 100 }
}"#;

const PROGRAM: &str = r#"
    fn price(feed: String) -> Int ! {Observe, Log} {
        let p = perform Observe(feed);
        perform Log(feed ++ " at " ++ show(p));
        p
    }
    fn main() -> Int ! {Observe, Log, Sleep, Random, Deposit, Withdraw, Now} {
        let a = price("ETH/USD");
        let b = after 1min { price("BTC/USD") };
        let late = within 50ms { price("ETH/USD") } else { -1 };
        perform Deposit("treasury", 5);
        let r = perform Random(10);
        perform Withdraw("treasury", 200 + r);
        a + b + late + now()
    }
"#;

fn listing(program: &Program, events: &[Event]) -> String {
    let lines: Vec<String> =
        events.iter().enumerate().map(|(i, e)| format!("{i}: {}", e.describe(program))).collect();
    lines.join("\n")
}

#[test]
fn a_trace_records_every_host_interaction_and_the_outcome() {
    let (program, rec) = support::recorded(PROGRAM, HOST, 1_000_000);
    // The refused withdrawal ends the run; the timed-out Observe was asked its cost but not
    // performed; `now()` asks the cost of Now, which the machine answers itself.
    let listing = listing(&program, rec.trace.events());
    let listing = listing.replace(&format!("#{}", program.entry.short()), "#main");
    expect![[r#"
        0: call main #main()
        1: Observe("ETH/USD") at 0ms, cost 100ms -> 3000
        2: Log("ETH/USD at 3000") at 100ms -> ()
        3: Sleep(1min) at 100ms -> ()
        4: Observe("BTC/USD") at 60100ms, cost 100ms -> 65000
        5: Log("BTC/USD at 65000") at 60200ms -> ()
        6: Observe("ETH/USD") not performed (cost 100ms)
        7: Deposit("treasury", 5) at 60250ms -> ()
        8: Random(10) at 60250ms -> 7
        9: Withdraw("treasury", 207) at 60250ms refused: withdrawing 207 from "treasury", whose balance is 105"#]]
    .assert_eq(&listing.lines().take(10).collect::<Vec<_>>().join("\n"));
    assert!(matches!(rec.trace.events().last(), Some(Event::Error { .. })));
    assert_eq!(rec.trace.outcome().unwrap().unwrap_err(), rec.outcome.as_ref().unwrap_err());
    assert_eq!(rec.trace.effect_count(), 9);
}

#[test]
fn the_file_format_round_trips_and_is_deterministic() {
    let (_, rec) = support::recorded(PROGRAM, HOST, 1_000_000);
    let bytes = rec.trace.to_bytes();
    assert_eq!(&bytes[..8], &MAGIC);
    assert_eq!(Trace::from_bytes(&bytes).unwrap(), rec.trace);
    let raw = rec.trace.to_bytes_with(Compression::None);
    assert_eq!(Trace::from_bytes(&raw).unwrap(), rec.trace);
    // The same run records the same bytes: no wall clock, no randomness, no map order.
    let (_, again) = support::recorded(PROGRAM, HOST, 1_000_000);
    assert_eq!(again.trace.to_bytes(), bytes);
    assert_eq!(again.trace.id(), rec.trace.id());
    // The metadata comes back whole, host file included.
    let back = Trace::from_bytes(&bytes).unwrap();
    assert_eq!(back.meta().host, Some(HostFile::parse(HOST).unwrap()));
}

/// Tens of thousands of instructions with a small machine state (a tail-recursive loop),
/// logging as it goes.
const LONG_LOOP: &str = "
    fn work(n: Int) -> Int { if n == 0 { 0 } else { 1 + work(n - 1) } }
    fn go(i: Int, acc: Int) -> Int ! {Log} {
        if i == 0 { acc } else {
            if i % 50 == 0 { perform Log(show(i)); }
            go(i - 1, acc + work(30))
        }
    }
    fn main() -> Int ! {Log} { go(300, 0) }
";

#[test]
fn snapshots_hold_the_machine_and_resume_to_the_same_end() {
    let (program, rec) = support::recorded(LONG_LOOP, "{}", 2_000);
    let snaps: Vec<(usize, u64)> = rec
        .trace
        .events()
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            Event::Snapshot { fuel, .. } => Some((i, *fuel)),
            _ => None,
        })
        .collect();
    assert!(snaps.len() >= 3, "{snaps:?}");
    // Snapshots are spaced by at least `snapshot_every` instructions.
    assert!(snaps.windows(2).all(|w| w[1].1 - w[0].1 >= 2_000), "{snaps:?}");
    // Resuming the machine of a middle snapshot, with the host answering from the trace,
    // reaches the recorded result.
    let (mut vm, mut host) = tel_vm::replay::resume_at(&rec.trace, &program, 1).unwrap().unwrap();
    let v = vm.run_to_end(&program, &mut host).unwrap();
    assert_eq!(Ok(&v), rec.outcome.as_ref());
    assert_eq!(vm.usage.fuel, rec.vm.usage.fuel);
    assert!(host.divergence().is_none());
    // A snapshot is the machine itself.
    let Some(Event::Snapshot { vm: bytes, fuel, .. }) = rec.trace.events().get(snaps[0].0) else {
        unreachable!()
    };
    assert_eq!(decode_vm(bytes).unwrap().usage.fuel, *fuel);
}

/// An uncompressed trace with its payload edited: the header's length follows, so only the
/// hash chain can notice.
fn edited(raw: &[u8], pieces: &[&[u8]]) -> Vec<u8> {
    let payload: Vec<u8> = pieces.concat();
    let mut out = raw[..11].to_vec();
    out.extend_from_slice(&((payload.len() - 19) as u64).to_le_bytes());
    out.extend_from_slice(&payload[19..]);
    out
}

fn varint(b: &[u8], pos: &mut usize) -> usize {
    let (mut n, mut shift) = (0usize, 0);
    loop {
        let x = b[*pos];
        *pos += 1;
        n |= usize::from(x & 0x7f) << shift;
        shift += 7;
        if x & 0x80 == 0 {
            return n;
        }
    }
}

/// The payload offsets of each event record in an uncompressed trace.
fn records(raw: &[u8]) -> Vec<std::ops::Range<usize>> {
    let mut pos = 19; // header
    let meta = varint(raw, &mut pos);
    pos += meta + 32;
    let blocks = varint(raw, &mut pos);
    pos += 32 * blocks;
    let count = varint(raw, &mut pos);
    (0..count)
        .map(|_| {
            let start = pos;
            let len = varint(raw, &mut pos);
            pos += len + tel_vm::trace::TAG_BYTES;
            start..pos
        })
        .collect()
}

#[test]
fn an_altered_trace_is_refused_with_the_first_bad_event() {
    let (_, rec) = support::recorded(PROGRAM, HOST, 1_000_000);
    let raw = rec.trace.to_bytes_with(Compression::None);
    let recs = records(&raw);
    assert_eq!(recs.len(), rec.trace.events().len());

    // One byte of event 4's content flipped (the price 65000 becomes another number).
    let mut flipped = raw.clone();
    flipped[recs[4].end - tel_vm::trace::TAG_BYTES - 1] ^= 1;
    expect![[r#"the trace was altered: event 4 does not match the hash chain (its tag does not follow from the previous event)"#]]
        .assert_eq(&Trace::from_bytes(&flipped).unwrap_err().to_string());

    // Events 2 and 3 swapped.
    let swapped = edited(
        &raw,
        &[&raw[..recs[2].start], &raw[recs[3].clone()], &raw[recs[2].clone()], &raw[recs[3].end..]],
    );
    assert!(matches!(Trace::from_bytes(&swapped), Err(TraceError::Tampered { index: 2, .. })));

    // Event 5 removed (the next one's link no longer follows).
    let removed = edited(&raw, &[&raw[..recs[5].start], &raw[recs[5].end..]]);
    let err = Trace::from_bytes(&removed).unwrap_err();
    assert!(matches!(err, TraceError::Tampered { index: 5, .. }), "{err}");

    // The last events cut off.
    let cut = edited(&raw, &[&raw[..recs[7].start]]);
    let n = rec.trace.events().len();
    assert_eq!(Trace::from_bytes(&cut), Err(TraceError::Truncated { expected: n, found: 7 }));
    // Cut without fixing the header: the length says so first.
    assert!(matches!(Trace::from_bytes(&raw[..recs[7].start]), Err(TraceError::Corrupt(_))));

    // The run's metadata altered (the seed is inside the host file's JSON).
    let mut meta = raw.clone();
    let at = meta.windows(8).position(|w| w == b"\"seed\":7").unwrap() + 7;
    meta[at] = b'8';
    assert_eq!(Trace::from_bytes(&meta), Err(TraceError::MetaTampered));
}

#[test]
fn a_long_trace_is_chained_in_blocks_and_an_altered_block_link_is_found() {
    let xs: Vec<String> = (0..1500).map(|i| i.to_string()).collect();
    let src = format!(
        "fn main() -> Int ! {{Log}} {{
            fold([{}], 0, |n: Int, x: Int| {{ perform Log(\"line \" ++ show(x) ++ \" of a long log\"); n + 1 }})
        }}",
        xs.join(", ")
    );
    let (_, rec) = support::recorded(&src, "{}", 1_000_000_000);
    let raw = rec.trace.to_bytes_with(Compression::None);
    assert_eq!(Trace::from_bytes(&raw).unwrap(), rec.trace);
    // The metadata, then the block links (at least three blocks of 16 KiB here).
    let mut pos = 19;
    let meta = varint(&raw, &mut pos);
    pos += meta + 32;
    let blocks = varint(&raw, &mut pos);
    assert!(blocks >= 3, "{blocks} blocks");
    // The second block's link altered: the error names that block's first event.
    let mut altered = raw.clone();
    altered[pos + 32 + 5] ^= 1;
    let err = Trace::from_bytes(&altered).unwrap_err();
    let TraceError::Tampered { index, reason } = &err else { panic!("{err}") };
    assert!(*index > 100 && reason.contains("does not match its link"), "{err}");
}

#[test]
fn every_single_byte_change_of_a_trace_file_is_refused() {
    let (_, rec) = support::recorded(
        r#"fn main() -> Int ! {Observe, Log} { perform Log("x"); perform Observe("ETH/USD") }"#,
        HOST,
        1_000_000,
    );
    for compression in [Compression::Lz4, Compression::None] {
        let bytes = rec.trace.to_bytes_with(compression);
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x55;
            assert!(Trace::from_bytes(&b).is_err(), "byte {i} of {} changed", bytes.len());
        }
        for len in 0..bytes.len() {
            assert!(Trace::from_bytes(&bytes[..len]).is_err(), "cut at {len}");
        }
    }
}

#[test]
fn files_that_are_not_traces_get_clear_errors() {
    let (_, rec) = support::recorded(r#"fn main() -> Int { 1 }"#, "{}", 1_000_000);
    let bytes = rec.trace.to_bytes();
    let errs: Vec<String> = [
        b"PNG\x89 not a trace".to_vec(),
        bytes[..12].to_vec(),
        [&bytes[..8], &[9, 0], &bytes[10..]].concat(),
        [&bytes[..10], &[7], &bytes[11..]].concat(),
        [&bytes[..11], &1_000_000_000u64.to_le_bytes(), &bytes[19..]].concat(),
    ]
    .iter()
    .map(|b| Trace::from_bytes(b).unwrap_err().to_string())
    .collect();
    expect![[r#"
        not a TEL trace (the file does not start with "TELTRACE")
        the trace is truncated or corrupt: the header is cut short
        trace format version 9 is not supported (this tel-vm reads version 1)
        the trace is truncated or corrupt: unknown compression 7
        the trace is truncated or corrupt: NNN bytes cannot come from NNN compressed bytes"#]]
    .assert_eq(
        &errs
            .join("\n")
            .replace(&(bytes.len() - 19).to_string(), "NNN")
            .replace("1000000000", "NNN"),
    );
}

#[test]
fn an_exported_run_carries_its_definitions_and_replays_alone() {
    let (defs, _) = support::stored(PROGRAM);
    let (_, rec) = support::recorded(PROGRAM, HOST, 1_000_000);
    let export = ExportedRun::new(rec.trace.clone(), &defs);
    // Only what the entry point reaches: main, price and the prelude's host effects it uses.
    let mut names: Vec<_> = export.defs.values().filter_map(|d| d.name.clone()).collect();
    names.sort();
    expect![[
        r#"["Deposit", "Log", "Now", "Observe", "Random", "Sleep", "Withdraw", "main", "price"]"#
    ]]
    .assert_eq(&format!("{names:?}"));
    let bytes = export.to_bytes();
    assert_eq!(&bytes[..8], &EXPORT_MAGIC);
    let back = ExportedRun::from_bytes(&bytes).unwrap();
    assert_eq!(back.trace, rec.trace);
    let program = Program::load(&back.defs, back.trace.meta().entry).unwrap();
    expect!["replayed 11 events: identical"].assert_eq(&replay(&rec.trace, &program).to_string());
    // A trace file is not an export, nor the other way round.
    assert!(matches!(
        ExportedRun::from_bytes(&rec.trace.to_bytes()),
        Err(TraceError::BadMagic { .. })
    ));
}

/// The backend is part of the run's metadata: kept through the file format, and another
/// backend makes another run (another head, so another run id). A VM trace's bytes have no
/// trace of the field (traces written before it read as before).
#[test]
fn the_backend_that_ran_is_part_of_the_run() {
    use tel_vm::trace::{Backend, RunMeta, TraceWriter};
    use tel_vm::{TestHost, Value};
    let program = support::load("fn main() -> Int { 1 }");
    let written = |backend: Backend| {
        let meta = RunMeta { backend, ..RunMeta::new(&program) };
        let mut host = TestHost::new(0);
        TraceWriter::start(meta, &mut host).finish(&Ok(Value::Int(1)))
    };
    let (vm, rv) = (written(Backend::Vm), written(Backend::Riscv));
    assert_eq!(Trace::from_bytes(&rv.to_bytes()).unwrap().meta().backend, Backend::Riscv);
    assert_eq!(Trace::from_bytes(&vm.to_bytes()).unwrap().meta().backend, Backend::Vm);
    assert_ne!(vm.head(), rv.head());
    // The VM's metadata bytes are the serde fields alone: one byte more (the backend's tag)
    // for the RISC-V run.
    let (vm_raw, rv_raw) =
        (vm.to_bytes_with(Compression::None), rv.to_bytes_with(Compression::None));
    assert_eq!(rv_raw.len(), vm_raw.len() + 1);
    // And the VM's own recorder says VM, whatever the metadata it is given.
    let meta = RunMeta { backend: Backend::Riscv, ..RunMeta::new(&program) };
    let rec = tel_vm::trace::record(&program, meta, &mut TestHost::new(0));
    assert_eq!(rec.trace.meta().backend, Backend::Vm);
    assert_eq!(rec.trace.head(), vm.head());
}
