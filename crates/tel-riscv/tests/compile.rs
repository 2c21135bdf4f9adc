//! The compiler's outputs other than a run: refusals of constructs outside the subset,
//! the artifact cache, and the machine code itself against disc-v.

mod support;

use expect_test::expect;
use rv_emu::Insn;
use support::stored;
use tel_riscv::{CompileError, Compiler};

/// The refusal of `main` of `src`, with the source text of the expression it names.
fn refusal(src: &str) -> String {
    let (defs, names) = stored(src);
    let err = tel_riscv::compile(&defs, names["main"]).expect_err("outside the subset");
    let CompileError::Unsupported { expr, construct, name, def } = &err else {
        return err.to_string();
    };
    let shown = match expr {
        Some(e) => {
            // The expression, as the VM's locations number it.
            let CoreDef::Fn { body, .. } = &defs[def].def else { unreachable!() };
            format!("{:?}", tel_hash::core::preorder(body)[*e as usize])
                .chars()
                .take(40)
                .collect::<String>()
        }
        None => "the signature".into(),
    };
    format!("{construct} in {} at {shown}", name.as_deref().unwrap_or("?"))
}

use tel_hash::core::CoreDef;

#[test]
fn constructs_outside_the_subset_are_named() {
    expect!["the builtin `len` in main at Call { callee: Ref(Builtin(Len)), args: "]
        .assert_eq(&refusal("fn main() -> Int { len([1]) }"));
    expect!["a String result in main at the signature"]
        .assert_eq(&refusal("fn main() -> String { \"x\" }"));
    expect!["a lambda in main at Lambda { params: [Int], ret: Int, body: "]
        .assert_eq(&refusal("fn main() -> Int { let f = |x: Int| x + 1; f(2) }"));
    expect!["a call of `g`, which has a List parameter in main at Call { callee: Ref(Hash(CodeHash(#s35lcu"]
        .assert_eq(&refusal("fn g(xs: List<Int>) -> Int { 1 } fn main() -> Int { g([]) }"));
    expect!["`handle` in main at Handle { body: Perform { effect: Hash(Co"].assert_eq(&refusal(
        "effect Ask() -> Int
         fn main() -> Int { handle { perform Ask() } with { Ask() => 1 } }",
    ));
    expect![[r#"a String in main at Lit(String("hi"))"#]]
        .assert_eq(&refusal("fn main() -> () ! {Log} { let s = \"hi\"; perform Log(s) }"));
    expect!["an enum variant in main at Variant { owner: Option, index: 0, args:"]
        .assert_eq(&refusal("fn main() -> Int { match Some(1) { Some(x) => x, None => 0 } }"));
}

#[test]
fn a_definition_is_compiled_once_whatever_calls_it() {
    let src = "fn sq(x: Int) -> Int { x * x }
               fn a() -> Int { sq(3) }
               fn b() -> Int { sq(4) + a() }";
    let (defs, names) = stored(src);
    let mut c = Compiler::new();
    let a = c.compile(&defs, names["a"]).unwrap();
    assert_eq!(c.compiled(), 2);
    let b = c.compile(&defs, names["b"]).unwrap();
    assert_eq!(c.compiled(), 3, "only b is new");
    assert_eq!(c.cached(), 3);
    // The same object, wherever it is linked.
    assert_eq!(
        a.function(&names["sq"]).unwrap().end - a.function(&names["sq"]).unwrap().start,
        b.function(&names["sq"]).unwrap().end - b.function(&names["sq"]).unwrap().start
    );
    let again = c.compile(&defs, names["b"]).unwrap();
    assert_eq!(c.compiled(), 3);
    assert_eq!(again.code, b.code);
}

#[test]
fn every_emitted_word_decodes_the_same_in_disc_v() {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/valid/recursion.tel"
    ))
    .unwrap();
    let (defs, names) = stored(&src);
    let mut words = 0;
    for f in ["fib", "fib_fast", "ackermann", "gcd", "power", "collatz", "is_even"] {
        let m = tel_riscv::compile(&defs, names[f]).unwrap();
        for (i, w) in m.code.chunks_exact(4).enumerate() {
            let pc = tel_riscv::abi::CODE_BASE + 4 * i as u32;
            let word = u32::from_le_bytes(w.try_into().unwrap());
            let insn = Insn::decode(word).unwrap_or_else(|| panic!("{f}: {word:#010x} at {pc:#x}"));
            assert_eq!(insn.encode(), Ok(word));
            let theirs =
                disc_v::decode(disc_v::Isa::Rv32, u64::from(pc), u64::from(word)).without_aliases();
            assert_eq!(insn.text(pc), theirs.to_string());
            words += 1;
        }
    }
    assert!(words > 500, "{words}");
}
