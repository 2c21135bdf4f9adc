//! The machine as a debugger drives it: breakpoints at a function, the TEL call stack there,
//! stepping back with the undo log (host answers included) and running on to the same end.

mod support;

use support::{host, limits, stored};
use tel_riscv::{Machine, Status};
use tel_vm::Value;

const SRC: &str = "fn fib(n: Int) -> Int ! {Observe} { if n < 2 { n + perform Observe(\"ETH\") - 3000 } else { fib(n - 1) + fib(n - 2) } }
                   fn main() -> Int ! {Observe} { fib(6) }";

#[test]
fn a_breakpoint_stops_at_a_function_with_its_stack() {
    let (defs, names) = stored(SRC);
    let module = tel_riscv::compile(&defs, names["main"]).unwrap();
    let fib = module.function(&names["fib"]).unwrap().start;
    let mut m = Machine::new(&module, &[], limits(), 0).unwrap();
    assert!(m.cpu_mut().add_breakpoint(fib));
    let mut h = host();
    assert_eq!(m.run(&module, &mut h, u64::MAX), Ok(Status::Breakpoint));
    let stack: Vec<String> =
        m.call_stack(&module).0.iter().map(|l| l.name.clone().unwrap().to_string()).collect();
    // main called fib in tail position: its frame is fib's now, as in the VM.
    assert_eq!(stack, ["fib"]);
    // The third stop is two calls deeper.
    for _ in 0..2 {
        let _ = m.cpu_mut().step();
        assert_eq!(m.run(&module, &mut h, u64::MAX), Ok(Status::Breakpoint));
    }
    assert_eq!(m.call_stack(&module).0.len(), 3);
    // Running to the end goes through every breakpoint.
    assert_eq!(m.run_to_end(&module, &mut h), Ok(Value::Int(8)));
}

#[test]
fn stepping_back_and_forth_gives_the_same_end() {
    let (defs, names) = stored(SRC);
    let module = tel_riscv::compile(&defs, names["main"]).unwrap();
    let mut m = Machine::new(&module, &[], limits(), 0).unwrap();
    m.cpu_mut().record_undo(Some(1 << 16));
    let mut h = host();
    // Well into the run, past some effects.
    assert_eq!(m.run(&module, &mut h, 300), Ok(Status::Running));
    let at = (m.cpu().regs(), m.cpu().pc(), m.cpu().instret());
    for _ in 0..120 {
        m.cpu_mut().step_back().unwrap();
    }
    assert_eq!(m.cpu().instret(), at.2 - 120);
    // Forward again, one instruction at a time through the machine, which answers the
    // effects met again (a debugger would answer them from the trace): the same state.
    while m.cpu().instret() < at.2 {
        assert_eq!(m.run(&module, &mut h, 1), Ok(Status::Running));
    }
    assert_eq!((m.cpu().regs(), m.cpu().pc(), m.cpu().instret()), at);
}
