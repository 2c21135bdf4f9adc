//! Shared helpers: definitions with chosen hashes, and fresh codebases in temp dirs.
#![allow(dead_code)]

use tel_hash::CodeHash;
use tel_hash::core::DefKind;
use tel_store::{Clock, NewDefinition, Store};

/// A definition whose hash is the real hash of its bytes (`body` and its dependencies).
pub fn real(name: &str, body: &str, deps: &[CodeHash]) -> NewDefinition {
    let mut canonical = body.as_bytes().to_vec();
    for d in deps {
        canonical.extend_from_slice(&d.0);
    }
    NewDefinition {
        hash: tel_hash::hash_bytes(&canonical),
        component: None,
        kind: DefKind::Fn,
        name: name.to_owned(),
        canonical,
        source: format!("fn {}() {{ {body} }}", name.rsplit("::").next().unwrap()),
        dependencies: deps.to_vec(),
    }
}

pub struct Fresh {
    pub dir: tempfile::TempDir,
    pub store: Store,
}

/// A new codebase with a fixed clock (reproducible output).
pub fn fresh() -> Fresh {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join(".tel/codebase.sqlite")).unwrap();
    store.set_clock(Clock::Fixed(1_795_320_000));
    Fresh { dir, store }
}

/// A mutually recursive component: member `i` has `bodies[i]` (and the shared `deps`), its
/// hash derived from the component hash as tel-hash does. Names are `names[i]`.
pub fn component(names: &[&str], bodies: &[&str], deps: &[CodeHash]) -> Vec<NewDefinition> {
    let bytes: Vec<Vec<u8>> = bodies.iter().map(|b| b.as_bytes().to_vec()).collect();
    let comp = tel_hash::component_hash(&bytes);
    names
        .iter()
        .zip(bytes)
        .enumerate()
        .map(|(i, (name, canonical))| NewDefinition {
            hash: tel_hash::member_hash(&comp, i as u32),
            component: Some(tel_store::ComponentMember { component: comp, index: i as u32 }),
            kind: DefKind::Fn,
            name: (*name).to_owned(),
            canonical,
            source: format!("fn {name}() {{ }}"),
            dependencies: deps.to_vec(),
        })
        .collect()
}

/// `count` definitions whose hashes all start with the same `chars` characters (found by
/// trying bodies in order: deterministic).
pub fn colliding(chars: usize, count: usize) -> Vec<NewDefinition> {
    let mut by_prefix: std::collections::HashMap<String, Vec<NewDefinition>> = Default::default();
    for i in 0.. {
        let d = real(&format!("p::d{i}"), &format!("body {i}"), &[]);
        let key = d.hash.prefix_str(chars);
        let group = by_prefix.entry(key).or_default();
        group.push(d);
        if group.len() == count {
            return group.clone();
        }
    }
    unreachable!()
}
