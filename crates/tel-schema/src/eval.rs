//! Running pure TEL code in the VM sandbox: a migration function applied to stored state,
//! a schema field's default.
//!
//! A default is a closed expression, not a definition, so it runs as the body of a
//! synthesized parameterless function, hashed like any definition and loaded beside the
//! program's code. The sandbox allows no host effect at all, so the code runs as the pure
//! function it claims to be.

use std::collections::HashMap;

use tel_hash::CodeHash;
use tel_hash::core::{CoreDef, Expr, Type};
use tel_vm::{Limits, Program, SecuritySandbox, StandardHost, StoredDef, Value, Vm};

use crate::code::Code;

/// The limits a migration or a default runs under: the VM's defaults, with more wall time
/// (a large state in a debug build).
pub fn limits() -> Limits {
    Limits { wall_ms: 30_000, ..Limits::default() }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("cannot load the code to run: {0}")]
    Load(String),
    #[error("{what} failed: {message}")]
    Runtime { what: String, message: String },
    #[error("{what} returned a value without a JSON form: {message}")]
    Encode { what: String, message: String },
}

/// Runs `body` (a closed, pure expression of type `ty`, over `code`'s definitions) in the
/// sandbox and returns its value in the JSON form of stored state. `what` names it in
/// errors (`the default of risk_tolerance`).
pub fn run(code: &Code, body: Expr, ty: &Type, what: &str) -> Result<serde_json::Value, EvalError> {
    let def = CoreDef::Fn { params: Vec::new(), ret: ty.clone(), effects: Vec::new(), body };
    let bytes = tel_hash::encode(&def, &|_| None).map_err(|e| EvalError::Load(e.to_string()))?;
    let hash = tel_hash::hash_bytes(&bytes);
    // The synthesized function goes in beside the program's code.
    let mut defs: HashMap<CodeHash, StoredDef> = code.defs.clone();
    defs.insert(hash, StoredDef { def, component: None, name: Some(what.into()) });
    let program = Program::load(&defs, hash).map_err(|e| EvalError::Load(e.to_string()))?;
    let vm = Vm::new(&program, limits(), 0);
    finish(&program, vm, what)
}

/// `function(arg)`: a function of `code` (of one parameter) applied to `arg`, in the
/// sandbox; its result in the JSON form of stored state.
pub fn call(
    code: &Code,
    function: CodeHash,
    arg: Value,
    what: &str,
) -> Result<serde_json::Value, EvalError> {
    let program =
        Program::load(&code.defs, function).map_err(|e| EvalError::Load(e.to_string()))?;
    let vm = Vm::with_args(&program, limits(), 0, vec![arg])
        .map_err(|e| EvalError::Load(e.to_string()))?;
    finish(&program, vm, what)
}

/// Runs `vm` to its end in a sandbox that allows no host effect.
fn finish(program: &Program, mut vm: Vm, what: &str) -> Result<serde_json::Value, EvalError> {
    let mut host = SecuritySandbox::allowing([]).wrap(StandardHost::default());
    let value = vm
        .run_to_end(program, &mut host)
        .map_err(|e| EvalError::Runtime { what: what.to_owned(), message: e.to_string() })?;
    tel_vm::json::encode(program, &value)
        .map_err(|e| EvalError::Encode { what: what.to_owned(), message: e.to_string() })
}
