//! Stepping forward and back over every valid fixture, through the debugger both front ends
//! drive: every statement stop reached by a step in is left by a step back in to exactly the
//! stop before it, with the same frames and locals; a step over that stays in its frame is
//! undone by a step back over. (A step over that leaves its frame is not: stepping back over
//! from the caller goes to the caller's previous statement, as in gdb and rr.)

use std::path::PathBuf;

use tel_dap::debugger::{Debugger, Motion};
use tel_vm::travel::{Granularity, StepKind};

/// The frames with their places and locals, as text.
fn snapshot(d: &Debugger) -> String {
    let mut out = format!("@{}", d.position());
    for f in d.frames() {
        out.push_str(&format!("\n{}", f.name));
        if let Some(p) = &f.place {
            out.push_str(&format!(" {}:{}", p.line, p.column));
        }
        for l in &f.locals {
            let v = if l.moved { "<moved>".to_string() } else { d.show(&l.value) };
            out.push_str(&format!(" {}={v}", l.name));
        }
    }
    out
}

fn step(d: &mut Debugger, kind: StepKind, back: bool) -> u64 {
    let m = Motion::Step { kind, granularity: Granularity::Statement, back };
    d.motion(m).expect("a step").position
}

/// At most this many stops of a fixture are walked (recursion.tel has thousands).
const STOPS: usize = 400;

#[test]
fn steps_forward_are_undone_by_steps_back_in_every_fixture() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/valid");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tel"))
        .collect();
    files.sort();
    let mut walked = 0;
    for file in files {
        let spec =
            tel_dap::LaunchSpec { program: file.display().to_string(), ..Default::default() };
        // A fixture without `main` (a library) has nothing to run.
        let Ok(mut d) = Debugger::launch(&spec) else { continue };
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let mut stops = vec![(d.position(), snapshot(&d))];
        while stops.len() < STOPS {
            let p = step(&mut d, StepKind::In, false);
            if p == stops.last().unwrap().0 {
                break;
            }
            stops.push((p, snapshot(&d)));
        }
        for w in stops.windows(2).rev() {
            let ((a, sa), (b, sb)) = (&w[0], &w[1]);
            d.motion(Motion::Goto(*b)).unwrap();
            assert_eq!(&snapshot(&d), sb, "{name}: the state at {b} differs when jumped to");
            step(&mut d, StepKind::In, true);
            assert_eq!(&snapshot(&d), sa, "{name}: a step back in from {b}");

            d.motion(Motion::Goto(*a)).unwrap();
            let frame = d.frames().first().map(|f| f.name.clone());
            let depth = d.navigator().vm().depth();
            let over = step(&mut d, StepKind::Over, false);
            if d.navigator().vm().depth() == depth
                && d.frames().first().map(|f| f.name.clone()) == frame
            {
                step(&mut d, StepKind::Over, true);
                assert_eq!(&snapshot(&d), sa, "{name}: a step back over from {over}");
            }
        }
        walked += stops.len();
    }
    assert!(walked > 500, "only {walked} stops walked");
}
