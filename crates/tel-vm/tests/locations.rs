//! Error locations: every op carries the expression id (the `preorder` index in its top-level
//! definition's body) of the core expression it comes from, and a runtime error carries the
//! TEL call stack, innermost first.

mod support;

use std::collections::HashMap;
use tel_hash::CodeHash;
use tel_hash::core::{BinOp, CoreDef, Expr, Ref, preorder};
use tel_vm::{Limits, Location, RuntimeError, StoredDef, TestHost, Vm};

fn fail(src: &str) -> (RuntimeError, HashMap<CodeHash, StoredDef>) {
    let (defs, main) = support::stored(src);
    let program = tel_vm::Program::load(&defs, main).unwrap();
    let mut vm = Vm::new(&program, Limits { wall_ms: u64::MAX, ..Limits::default() }, 0);
    let err = vm.run_to_end(&program, &mut TestHost::new(0)).unwrap_err();
    (err, defs)
}

/// The core expression a location points at.
fn expr_at<'a>(defs: &'a HashMap<CodeHash, StoredDef>, at: &Location) -> &'a Expr {
    let CoreDef::Fn { body, .. } = &defs[&at.def].def else { panic!("not a function") };
    preorder(body)[at.expr as usize]
}

/// The name of the function a call expression calls, or `?` for any other callee.
fn callee(e: &Expr, defs: &HashMap<CodeHash, StoredDef>) -> String {
    match e {
        Expr::Call { callee, .. } => match &**callee {
            Expr::Ref(Ref::Hash(h)) => defs[h].name.as_deref().unwrap_or("?").to_string(),
            Expr::Ref(Ref::Builtin(b)) => b.name().to_string(),
            _ => "?".into(),
        },
        e => panic!("not a call: {e:?}"),
    }
}

#[test]
fn the_call_stack_names_each_frame_and_the_expression_it_was_running() {
    let (err, defs) = fail(
        "fn f(x: Int) -> Int { let y = x - 3; 10 / y }
         fn g(x: Int) -> Int { 1 + f(x) }
         fn main() -> Int { g(3) * 2 }",
    );
    let stack = err.stack();
    let names: Vec<_> = stack.iter().map(|l| l.name.as_deref().unwrap_or("?")).collect();
    assert_eq!(names, ["f", "g", "main"]);
    assert!(matches!(expr_at(&defs, &stack[0]), Expr::Binary { op: BinOp::Div, .. }));
    assert_eq!(callee(expr_at(&defs, &stack[1]), &defs), "f");
    assert_eq!(callee(expr_at(&defs, &stack[2]), &defs), "g");
    let msg = err.to_string();
    assert!(msg.starts_with("division by zero in f (#"), "{msg}");
    assert!(msg.ends_with(&format!(") expr {}", stack[0].expr)), "{msg}");
}

#[test]
fn a_lambda_counts_in_its_definition_and_map_has_no_frame_of_its_own() {
    let (err, defs) = fail(
        "fn main() -> List<Int> {
             let k = 0;
             map([1, 2], |x| x / k)
         }",
    );
    let stack = err.stack();
    assert_eq!(stack.len(), 2, "{stack:?}");
    assert!(stack[0].lambda);
    assert_eq!((stack[0].name.as_deref(), stack[1].name.as_deref()), (Some("main"), Some("main")));
    assert_eq!(stack[0].def, stack[1].def);
    assert!(matches!(expr_at(&defs, &stack[0]), Expr::Binary { op: BinOp::Div, .. }));
    assert_eq!(callee(expr_at(&defs, &stack[1]), &defs), "map");
    assert!(stack[0].to_string().contains(")/lambda expr "), "{}", stack[0]);
}

#[test]
fn a_tail_call_replaces_its_caller_in_the_stack() {
    let (err, _) = fail(
        "fn boom(n: Int) -> Int { 100 / n }
         fn count(n: Int) -> Int { if n == 0 { boom(n) } else { count(n - 1) } }
         fn main() -> Int { 1 + count(5) }",
    );
    let names: Vec<_> = err.stack().iter().map(|l| l.name.as_deref().unwrap_or("?")).collect();
    assert_eq!(names, ["boom", "main"]);
}

#[test]
fn every_op_of_every_fixture_has_an_expression_of_its_definition() {
    let dir = format!("{}/../../fixtures/valid", env!("CARGO_MANIFEST_DIR"));
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let src = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let (defs, main) = support::stored(&src);
        let program = tel_vm::Program::load(&defs, main).unwrap();
        for code in &program.codes {
            let CoreDef::Fn { body, .. } = &defs[&code.def].def else { panic!() };
            let n = preorder(body).len() as u32;
            assert_eq!(code.exprs.len(), code.ops.len(), "{}", code.name);
            assert!(code.exprs.iter().all(|&e| e < n), "{}: {:?} of {n}", code.name, code.exprs);
            checked += code.ops.len();
        }
    }
    assert!(checked > 1000, "{checked}");
}
