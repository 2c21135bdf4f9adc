//! Running pure TEL code in the VM sandbox: a schema field's default, a migration function
//! applied to stored state.
//!
//! The VM starts only entry points without parameters (docs/vm.md, "Not done yet"), so a
//! call `f(state)` runs as a synthesized parameterless function whose body is the call with
//! the state *quoted*: rebuilt as a core expression (records, lists, variants, literals;
//! a map as a `fold` of `insert`s over a list of key-value records). The synthesized
//! function is hashed like any definition and loaded with the program's code; the sandbox
//! allows no host effect at all, so the code runs as the pure function it claims to be.

use std::collections::HashMap;

use tel_hash::CodeHash;
use tel_hash::core::{Builtin, CoreDef, Expr, Lit, Ref, Type, VariantOwner};
use tel_vm::{Limits, Program, SecuritySandbox, StandardHost, StoredDef, Value, Vm};

use crate::code::Code;

/// The limits a migration or a default runs under: the VM's defaults, with more wall time
/// (a large state in a debug build).
pub fn limits() -> Limits {
    Limits { wall_ms: 30_000, ..Limits::default() }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    #[error("{0}")]
    Quote(String),
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
    // The synthesized caller goes in beside the program's code (a shallow copy of the map;
    // the definitions are shared by the program loader anyway).
    let mut defs: HashMap<CodeHash, StoredDef> = code.defs.clone();
    defs.insert(hash, StoredDef { def, component: None, name: Some(what.into()) });
    let program = Program::load(&defs, hash).map_err(|e| EvalError::Load(e.to_string()))?;
    let mut vm = Vm::new(&program, limits(), 0);
    let mut host = SecuritySandbox::allowing([]).wrap(StandardHost::default());
    let value = vm
        .run_to_end(&program, &mut host)
        .map_err(|e| EvalError::Runtime { what: what.to_owned(), message: e.to_string() })?;
    tel_vm::json::encode(&program, &value)
        .map_err(|e| EvalError::Encode { what: what.to_owned(), message: e.to_string() })
}

/// `function(arg)`, with `arg` a value of type `arg_ty` (see [`quote`]).
pub fn call(
    code: &Code,
    function: CodeHash,
    arg: &Value,
    arg_ty: &Type,
    ret: &Type,
    what: &str,
) -> Result<serde_json::Value, EvalError> {
    let body = Expr::Call {
        callee: Box::new(Expr::Ref(Ref::Hash(function))),
        args: vec![quote(code, arg_ty, arg)?],
    };
    run(code, body, ret, what)
}

/// A core expression that evaluates to `v`, a value of type `ty` (absolute, its named
/// types in `code`).
pub fn quote(code: &Code, ty: &Type, v: &Value) -> Result<Expr, EvalError> {
    let bad = |what: &str| {
        Err(EvalError::Quote(format!("a {} value cannot be passed as a {what}", v.kind())))
    };
    Ok(match (ty, v) {
        (Type::Int, Value::Int(i)) => Expr::Lit(Lit::Int(*i)),
        (Type::Duration, Value::Duration(d)) => Expr::Lit(Lit::Duration(*d)),
        (Type::Bool, Value::Bool(b)) => Expr::Lit(Lit::Bool(*b)),
        (Type::String, Value::String(s)) => Expr::Lit(Lit::String(s.clone())),
        (Type::Unit, Value::Unit) => Expr::Lit(Lit::Unit),
        (Type::List(t), Value::List(xs)) => {
            Expr::List(xs.iter().map(|x| quote(code, t, x)).collect::<Result<_, _>>()?)
        }
        (Type::Map(k, t), Value::Map(m)) => {
            let entry_ty =
                Type::Record(vec![("k".into(), (**k).clone()), ("v".into(), (**t).clone())]);
            let entries = m
                .iter()
                .map(|(key, x)| {
                    Ok(Expr::Record {
                        ty: None,
                        fields: vec![
                            ("k".into(), quote(code, k, key)?),
                            ("v".into(), quote(code, t, x)?),
                        ],
                    })
                })
                .collect::<Result<Vec<_>, EvalError>>()?;
            let builtin = |b: Builtin| Box::new(Expr::Ref(Ref::Builtin(b)));
            // fold(entries, empty_map(), |m, e| insert(m, e.k, e.v)); `Local(0)` is `e`.
            let step = Expr::Lambda {
                params: vec![ty.clone(), entry_ty],
                ret: ty.clone(),
                body: Box::new(Expr::Call {
                    callee: builtin(Builtin::Insert),
                    args: vec![
                        Expr::Local(1),
                        Expr::Field { expr: Box::new(Expr::Local(0)), name: "k".into() },
                        Expr::Field { expr: Box::new(Expr::Local(0)), name: "v".into() },
                    ],
                }),
            };
            Expr::Call {
                callee: builtin(Builtin::Fold),
                args: vec![
                    Expr::List(entries),
                    Expr::Call { callee: builtin(Builtin::EmptyMap), args: Vec::new() },
                    step,
                ],
            }
        }
        (Type::Option(_), Value::Option(None)) => {
            Expr::Variant { owner: VariantOwner::Option, index: 1, args: Vec::new() }
        }
        (Type::Option(t), Value::Option(Some(x))) => {
            Expr::Variant { owner: VariantOwner::Option, index: 0, args: vec![quote(code, t, x)?] }
        }
        (_, Value::Record { fields, .. }) => {
            let Some(shape) = code.record_shape(ty) else { return bad("record") };
            let mut out = Vec::with_capacity(fields.len());
            for (name, x) in fields.iter() {
                let Some((_, t)) = shape.fields.iter().find(|(n, _)| n == name) else {
                    return Err(EvalError::Quote(format!(
                        "a record with an unknown field `{name}`"
                    )));
                };
                out.push((name.clone(), quote(code, t, x)?));
            }
            out.sort_by(|a, b| a.0.cmp(&b.0));
            Expr::Record { ty: shape.owner.map(Ref::Hash), fields: out }
        }
        (Type::Named(Ref::Hash(h)), Value::Variant { owner, index, fields }) if h == owner => {
            let variants = code.enum_variants(ty).unwrap_or_default();
            let Some((_, types)) = variants.get(*index as usize) else {
                return Err(EvalError::Quote(format!(
                    "variant {index} of enum #{} is unknown",
                    h.short()
                )));
            };
            let args = types
                .iter()
                .zip(fields.iter())
                .map(|(t, x)| quote(code, t, x))
                .collect::<Result<_, _>>()?;
            Expr::Variant { owner: VariantOwner::Enum(Ref::Hash(*h)), index: *index, args }
        }
        _ => return bad(&code.render_type(ty)),
    })
}
