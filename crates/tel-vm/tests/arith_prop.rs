//! Property: the VM's Int arithmetic is Rust's checked i64 arithmetic, evaluated left to right,
//! with the first trap (overflow or a zero divisor) ending the run.

mod support;

use proptest::prelude::*;
use tel_vm::{Limits, TestHost, Value, Vm};

#[derive(Clone, Debug)]
enum E {
    Lit(i64),
    Bin(Box<E>, &'static str, Box<E>),
    Neg(Box<E>),
}

fn expr() -> impl Strategy<Value = E> {
    let leaf =
        prop_oneof![(-1000i64..1000).prop_map(E::Lit), Just(E::Lit(i64::MAX)), Just(E::Lit(0)),];
    leaf.prop_recursive(6, 48, 2, |inner| {
        prop_oneof![
            (inner.clone(), prop::sample::select(vec!["+", "-", "*", "/", "%"]), inner.clone())
                .prop_map(|(l, op, r)| E::Bin(Box::new(l), op, Box::new(r))),
            inner.prop_map(|e| E::Neg(Box::new(e))),
        ]
    })
}

fn source(e: &E) -> String {
    match e {
        E::Lit(i) if *i < 0 => format!("(0 - {})", -i),
        E::Lit(i) => i.to_string(),
        E::Bin(l, op, r) => format!("({} {op} {})", source(l), source(r)),
        E::Neg(e) => format!("(-{})", source(e)),
    }
}

/// The reference: `Err` names the trap.
fn eval(e: &E) -> Result<i64, &'static str> {
    match e {
        E::Lit(i) => Ok(*i),
        E::Neg(e) => eval(e)?.checked_neg().ok_or("integer overflow"),
        E::Bin(l, op, r) => {
            let (a, b) = (eval(l)?, eval(r)?);
            let v = match *op {
                "+" => a.checked_add(b),
                "-" => a.checked_sub(b),
                "*" => a.checked_mul(b),
                "/" | "%" if b == 0 => return Err("division by zero"),
                "/" => a.checked_div(b),
                _ => a.checked_rem(b),
            };
            v.ok_or("integer overflow")
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn int_arithmetic_is_checked_i64(e in expr()) {
        let src = format!("fn main() -> Int {{ {} }}", source(&e));
        let program = support::load(&src);
        let mut vm = Vm::new(&program, Limits::default(), 0);
        let got = vm.run_to_end(&program, &mut TestHost::new(0));
        match eval(&e) {
            Ok(v) => prop_assert_eq!(got.unwrap(), Value::Int(v), "{}", src),
            Err(trap) => {
                let err = got.unwrap_err().to_string();
                prop_assert!(err.contains(trap), "{}: expected {}, got {}", src, trap, err);
            }
        }
    }
}
