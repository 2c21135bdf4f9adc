//! The compiled program artifact `tel build` writes: everything a deployment needs to know
//! about a program version, as canonical JSON, identified by the hash of that text.
//!
//! Canonical JSON here: objects with their members sorted by name (bytewise), no
//! insignificant whitespace, integers only, strings escaped as `serde_json` escapes them.
//! The artifact hash is BLAKE3 over the domain tag `tel/v1/artifact\0` and the text.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value as Json, json};
use tel_hash::CodeHash;
use tel_hash::core::{CoreDef, Expr, Ref};
use tel_vm::HostEffect;

use crate::code::{Code, resolve};
use crate::manifest::Manifest;

/// Domain tag of an artifact hash (docs/schema.md, "Artifacts").
const DOMAIN_ARTIFACT: &[u8] = b"tel/v1/artifact\0";

/// The artifact format version, inside the manifest.
pub const FORMAT: u32 = 1;

/// A built artifact: its canonical text and hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    pub hash: CodeHash,
    pub manifest: Json,
    /// The canonical JSON text that was hashed (what the store keeps).
    pub text: String,
}

/// An older schema version this build can upgrade stored state from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Compatible {
    pub schema: CodeHash,
    /// The migration function used, or `None` when every change is automatic.
    pub migration: Option<CodeHash>,
}

/// What goes into an artifact.
pub struct Input<'a> {
    pub manifest: &'a Manifest,
    /// The program's code: the entry point and everything below are looked up here.
    pub code: &'a Code,
    pub entry: CodeHash,
    pub schema: Option<CodeHash>,
    /// `[schema] migrations`, resolved.
    pub migrations: Vec<CodeHash>,
    /// `[safe-state] degraded`, resolved.
    pub degraded: Option<CodeHash>,
    pub compatible: Vec<Compatible>,
}

/// Builds the artifact of `input`.
pub fn build(input: &Input<'_>) -> Artifact {
    let code = input.code;
    let hex = |h: &CodeHash| Json::String(h.to_base32hex());
    let mut roots: Vec<CodeHash> = vec![input.entry];
    roots.extend(input.schema);
    roots.extend(&input.migrations);
    roots.extend(input.degraded);
    let closure = closure(code, &roots);

    let definitions: Vec<Json> = closure
        .iter()
        .map(|h| {
            let stored = &code.defs[h];
            let deps: Vec<Json> = deps_of(code, h).iter().map(hex).collect();
            json!({
                "hash": hex(h),
                "kind": stored.def.kind().as_str(),
                "name": code.names.get(h),
                "deps": deps,
            })
        })
        .collect();

    // The effect dependency DAG: every function with a non-empty row, the effects it
    // declares and performs itself, and the effectful functions it calls.
    let effectful: BTreeSet<CodeHash> = closure
        .iter()
        .filter(
            |h| matches!(&code.defs[*h].def, CoreDef::Fn { effects, .. } if !effects.is_empty()),
        )
        .copied()
        .collect();
    let effects: Vec<Json> = effectful
        .iter()
        .map(|h| {
            let stored = &code.defs[h];
            let CoreDef::Fn { effects, body, .. } = &stored.def else { unreachable!("filtered") };
            let c = stored.component;
            let name = |r: &Ref| resolve(r, c).map(|e| effect_name(code, &e)).unwrap_or_default();
            let row: BTreeSet<String> = effects.iter().map(name).collect();
            let mut performs = BTreeSet::new();
            let mut calls = BTreeSet::new();
            for e in tel_hash::core::preorder(body) {
                match e {
                    Expr::Perform { effect, .. } => {
                        performs.insert(name(effect));
                    }
                    Expr::Ref(r) => {
                        if let Some(callee) =
                            resolve(r, c).filter(|x| effectful.contains(x) && x != h)
                        {
                            calls.insert(callee.to_base32hex());
                        }
                    }
                    _ => {}
                }
            }
            json!({
                "hash": hex(h),
                "name": code.names.get(h),
                "row": row,
                "performs": performs,
                "calls": calls,
            })
        })
        .collect();

    let m = input.manifest;
    let compatible: Vec<Json> = input
        .compatible
        .iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .map(|c| json!({"schema": hex(&c.schema), "migration": c.migration.as_ref().map(hex)}))
        .collect();
    let manifest = json!({
        "format": FORMAT,
        "program": {
            "name": m.name,
            "version": m.version,
            "hash": hex(&input.entry),
            "entry": code.names.get(&input.entry),
        },
        "definitions": definitions,
        "effects": effects,
        "schema": input.schema.map(|h| json!({"hash": hex(&h), "name": code.names.get(&h)})),
        "evolution": {
            "allowed": m.rules.allowed_list().iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "migrations": input.migrations.iter().map(hex).collect::<Vec<_>>(),
        },
        "safe_state": {
            "strategy": m.safe_state.as_str(),
            "timeout_ms": m.timeout_ms,
            "degraded": input.degraded.as_ref().map(hex),
        },
        "compatible": compatible,
    });
    let text = canonical(&manifest);
    Artifact { hash: hash(&text), manifest, text }
}

/// The hash of an artifact's canonical text.
pub fn hash(text: &str) -> CodeHash {
    let mut h = blake3::Hasher::new();
    h.update(DOMAIN_ARTIFACT);
    h.update(text.as_bytes());
    CodeHash(*h.finalize().as_bytes())
}

fn effect_name(code: &Code, hash: &CodeHash) -> String {
    if let Some(e) = HostEffect::from_hash(hash) {
        return e.name().to_owned();
    }
    match code.defs.get(hash).map(|d| &d.def) {
        Some(CoreDef::Effect { name, .. }) => name.to_string(),
        _ => code.name(hash),
    }
}

/// The hashes `hash` refers to, members of its component included, sorted.
fn deps_of(code: &Code, hash: &CodeHash) -> Vec<CodeHash> {
    let Some(stored) = code.defs.get(hash) else { return Vec::new() };
    let mut out: BTreeSet<CodeHash> = tel_hash::hash_deps(&stored.def).into_iter().collect();
    if let Some(c) = stored.component {
        // Siblings are referred to as members: the loaded ones of the same component.
        out.extend(
            code.defs.iter().filter(|(h, d)| d.component == Some(c) && *h != hash).map(|(h, _)| *h),
        );
    }
    out.into_iter().collect()
}

/// `roots` and every definition they reach in `code`, sorted by hash. Hashes not in `code`
/// (the prelude's host effects, when not loaded) are left out.
pub fn closure(code: &Code, roots: &[CodeHash]) -> Vec<CodeHash> {
    let mut seen: BTreeSet<CodeHash> = BTreeSet::new();
    let mut todo: Vec<CodeHash> = roots.to_vec();
    while let Some(h) = todo.pop() {
        if !code.defs.contains_key(&h) || !seen.insert(h) {
            continue;
        }
        todo.extend(deps_of(code, &h));
    }
    seen.into_iter().collect()
}

/// Canonical JSON text (see the module comment).
pub fn canonical(v: &Json) -> String {
    let mut out = String::new();
    write(v, &mut out, None, 0);
    out
}

/// Canonical members order, two-space indentation and a final newline: how state files are
/// written (stable to diff, and the same bytes for the same state).
pub fn canonical_pretty(v: &Json) -> String {
    let mut out = String::new();
    write(v, &mut out, Some(2), 0);
    out.push('\n');
    out
}

fn write(v: &Json, out: &mut String, indent: Option<usize>, depth: usize) {
    let newline = |out: &mut String, depth: usize| {
        if let Some(n) = indent {
            out.push('\n');
            out.extend(std::iter::repeat_n(' ', n * depth));
        }
    };
    match v {
        Json::Array(xs) if !xs.is_empty() => {
            out.push('[');
            for (i, x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write(x, out, indent, depth + 1);
            }
            newline(out, depth);
            out.push(']');
        }
        Json::Object(m) if !m.is_empty() => {
            let sorted: BTreeMap<&String, &Json> = m.iter().collect();
            out.push('{');
            for (i, (k, x)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                out.push_str(&Json::String(k.clone()).to_string());
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write(x, out, indent, depth + 1);
            }
            newline(out, depth);
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}
