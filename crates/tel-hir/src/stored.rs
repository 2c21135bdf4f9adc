//! Signatures of stored definitions, so that `#hash` references in source are checked
//! against stored code.
//!
//! A stored definition is core IR whose references are already hashes ([`Ref::Hash`], or
//! [`Ref::Member`] for a sibling in its mutually recursive component). Its signature is read
//! straight off the core form: what lowering to core kept of the declaration is exactly what
//! callers need. Three things lowering dropped do not come back: parameter names (`_0`, `_1`,
//! …), a schema's declared field order (the core order, by name, is used), and `type`
//! aliases, which lowering replaced by what they stand for.

use smol_str::SmolStr;
use tel_hash::CodeHash;
use tel_hash::core::{self, CoreDef, Ref};

use crate::ty::{
    DefId, DefRef, EffectSet, EffectSig, EnumSig, FnSig, FnTy, SchemaFieldSig, SchemaSig,
    Signature, Ty,
};

/// The signature of a stored definition. `component` is the hash of its mutually recursive
/// component when it is a member of one (`#component.i`), so that references to siblings
/// (`Ref::Member(i)`) become their member hashes; without it they are unknown types (which
/// agree with everything, as for any type already reported as wrong).
pub fn signature_from_core(def: &CoreDef, component: Option<&CodeHash>) -> Signature {
    let cx = Convert { component };
    let params = |types: &[core::Type]| -> Vec<(SmolStr, Ty)> {
        types.iter().enumerate().map(|(i, t)| (SmolStr::from(format!("_{i}")), cx.ty(t))).collect()
    };
    match def {
        CoreDef::Fn { params: ps, ret, effects, body: _ } => Signature::Fn(FnSig {
            params: params(ps),
            ret: cx.ty(ret),
            effects: cx.effects(effects),
        }),
        CoreDef::Type { ty } => Signature::Type(cx.ty(ty)),
        CoreDef::Enum { variants } => Signature::Enum(EnumSig {
            variants: variants
                .iter()
                .map(|v| (v.name.clone(), v.fields.iter().map(|t| cx.ty(t)).collect()))
                .collect(),
        }),
        CoreDef::Effect { name, params: ps, ret } => {
            Signature::Effect(EffectSig { name: name.clone(), params: params(ps), ret: cx.ty(ret) })
        }
        CoreDef::Schema { fields } => Signature::Schema(SchemaSig {
            fields: fields
                .iter()
                .map(|f| SchemaFieldSig {
                    name: f.name.clone(),
                    ty: cx.ty(&f.ty),
                    has_default: f.default.is_some(),
                })
                .collect(),
        }),
    }
}

/// `sig` with every definition it names (nominal types, effects) replaced by `f`'s answer.
///
/// A stored signature names the prelude's effects and other project definitions by hash;
/// the engine maps the hashes of definitions it knows back to them with this, so that a
/// stored function performing `#…` (the hash of `prelude::Log`) is seen to perform `Log`.
pub fn map_refs(sig: &Signature, f: &mut dyn FnMut(&DefRef) -> DefRef) -> Signature {
    let params = |ps: &[(SmolStr, Ty)], f: &mut dyn FnMut(&DefRef) -> DefRef| {
        ps.iter().map(|(n, t)| (n.clone(), map_ty(t, f))).collect()
    };
    match sig {
        Signature::Fn(s) => Signature::Fn(FnSig {
            params: params(&s.params, f),
            ret: map_ty(&s.ret, f),
            effects: s.effects.iter().map(&mut *f).collect(),
        }),
        Signature::Type(t) => Signature::Type(map_ty(t, f)),
        Signature::Enum(e) => Signature::Enum(EnumSig {
            variants: e
                .variants
                .iter()
                .map(|(n, ts)| (n.clone(), ts.iter().map(|t| map_ty(t, f)).collect()))
                .collect(),
        }),
        Signature::Effect(e) => Signature::Effect(EffectSig {
            name: e.name.clone(),
            params: params(&e.params, f),
            ret: map_ty(&e.ret, f),
        }),
        Signature::Schema(s) => Signature::Schema(SchemaSig {
            fields: s
                .fields
                .iter()
                .map(|x| SchemaFieldSig {
                    name: x.name.clone(),
                    ty: map_ty(&x.ty, f),
                    has_default: x.has_default,
                })
                .collect(),
        }),
    }
}

fn map_ty(t: &Ty, f: &mut dyn FnMut(&DefRef) -> DefRef) -> Ty {
    match t {
        Ty::Int
        | Ty::Bool
        | Ty::String
        | Ty::Duration
        | Ty::Unit
        | Ty::Hash
        | Ty::Var(_)
        | Ty::Error => t.clone(),
        Ty::List(x) => Ty::list(map_ty(x, f)),
        Ty::Option(x) => Ty::option(map_ty(x, f)),
        Ty::Map(k, v) => Ty::map(map_ty(k, f), map_ty(v, f)),
        Ty::Record(fields) => {
            Ty::Record(fields.iter().map(|(n, t)| (n.clone(), map_ty(t, f))).collect())
        }
        Ty::Named(d) => Ty::Named(f(d)),
        Ty::Fn(func) => Ty::Fn(Box::new(FnTy {
            params: func.params.iter().map(|p| map_ty(p, f)).collect(),
            ret: map_ty(&func.ret, f),
            effects: func.effects.iter().map(&mut *f).collect(),
        })),
    }
}

struct Convert<'a> {
    component: Option<&'a CodeHash>,
}

impl Convert<'_> {
    fn def_ref(&self, r: &Ref) -> Option<DefRef> {
        match r {
            Ref::Hash(h) => Some(DefRef::Hash(*h)),
            Ref::Member(i) => self.component.map(|c| DefRef::Hash(tel_hash::member_hash(c, *i))),
            // Only unhashed core has names; accepted so that it converts too.
            Ref::Def(qualified) => {
                let (module, name) = qualified.rsplit_once("::").unwrap_or(("", qualified));
                Some(DefRef::Def(DefId::new(module, name)))
            }
            // Builtins are functions: never a type or an effect.
            Ref::Builtin(_) => None,
        }
    }

    /// Effects are effect definitions; an effect is never in a function's component (it
    /// refers to no function), so a sibling reference here cannot come from valid core.
    fn effects(&self, refs: &[Ref]) -> EffectSet {
        refs.iter().filter_map(|r| self.def_ref(r)).collect()
    }

    fn ty(&self, t: &core::Type) -> Ty {
        match t {
            core::Type::Int => Ty::Int,
            core::Type::Bool => Ty::Bool,
            core::Type::String => Ty::String,
            core::Type::Duration => Ty::Duration,
            core::Type::Unit => Ty::Unit,
            core::Type::Hash => Ty::Hash,
            core::Type::List(x) => Ty::list(self.ty(x)),
            core::Type::Map(k, v) => Ty::map(self.ty(k), self.ty(v)),
            core::Type::Option(x) => Ty::option(self.ty(x)),
            core::Type::Record(fields) => {
                Ty::Record(fields.iter().map(|(n, t)| (n.clone(), self.ty(t))).collect())
            }
            core::Type::Named(r) => self.def_ref(r).map_or(Ty::Error, Ty::Named),
            core::Type::Fn { params, ret, effects } => Ty::func(
                params.iter().map(|p| self.ty(p)).collect(),
                self.ty(ret),
                self.effects(effects),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use expect_test::expect;
    use rustc_hash::FxHashMap;

    use super::*;
    use crate::project::Project;
    use crate::signature::{HirDatabase, expand_alias};

    /// Every fixture of `fixtures/valid` and `fixtures/projects` (one project each, the
    /// ones without errors), plus mutually recursive functions and types.
    fn projects() -> Vec<Vec<(String, String)>> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
        fn tel_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    tel_files(&path, out);
                } else if path.extension().is_some_and(|e| e == "tel") {
                    out.push(path);
                }
            }
        }
        let read_dir = |dir: std::path::PathBuf| {
            let mut files = Vec::new();
            tel_files(&dir, &mut files);
            files.sort();
            files
                .into_iter()
                .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).unwrap()))
                .collect::<Vec<_>>()
        };
        let mut out: Vec<Vec<(String, String)>> =
            read_dir(root.join("valid")).into_iter().map(|f| vec![f]).collect();
        for name in ["exchange", "ledger"] {
            out.push(read_dir(root.join("projects").join(name)));
        }
        out.push(vec![(
            "/mutual.tel".into(),
            "module mutual\n\
             enum Tree { Leaf(Int), Node(Forest) }\n\
             type Forest = { trees: List<Tree>, size: Int }\n\
             fn is_even(n: Int) -> Bool ! {Log} { if n == 0 { true } else { is_odd(n - 1) } }\n\
             fn is_odd(n: Int) -> Bool ! {Log} { perform Log(\"odd\"); if n == 0 { false } else { is_even(n - 1) } }\n\
             fn sum(t: Tree) -> Int { match t { Leaf(n) => n, Node(f) => fold(f.trees, 0, |a: Int, x: Tree| a + sum(x)) } }\n"
                .into(),
        )]);
        out
    }

    /// hir's own signature of `def`, in the form a stored one has: references by hash,
    /// aliases expanded, parameters unnamed, schema fields by name.
    fn as_stored(
        project: &Project,
        sig: &Signature,
        hashes: &FxHashMap<SmolStr, CodeHash>,
    ) -> Signature {
        fn expand(db: &dyn HirDatabase, t: &Ty) -> Ty {
            match t {
                Ty::Named(_) => {
                    let e = expand_alias(db, t);
                    if e == *t { e } else { expand(db, &e) }
                }
                Ty::List(x) => Ty::list(expand(db, x)),
                Ty::Option(x) => Ty::option(expand(db, x)),
                Ty::Map(k, v) => Ty::map(expand(db, k), expand(db, v)),
                Ty::Record(fs) => {
                    Ty::Record(fs.iter().map(|(n, t)| (n.clone(), expand(db, t))).collect())
                }
                Ty::Fn(f) => Ty::func(
                    f.params.iter().map(|p| expand(db, p)).collect(),
                    expand(db, &f.ret),
                    f.effects.clone(),
                ),
                _ => t.clone(),
            }
        }
        let unnamed = |ps: &[(SmolStr, Ty)]| -> Vec<(SmolStr, Ty)> {
            ps.iter()
                .enumerate()
                .map(|(i, (_, t))| (SmolStr::from(format!("_{i}")), expand(project, t)))
                .collect()
        };
        let plain = match sig {
            Signature::Fn(s) => Signature::Fn(FnSig {
                params: unnamed(&s.params),
                ret: expand(project, &s.ret),
                effects: s.effects.clone(),
            }),
            Signature::Type(t) => Signature::Type(expand(project, t)),
            Signature::Enum(e) => Signature::Enum(EnumSig {
                variants: e
                    .variants
                    .iter()
                    .map(|(n, ts)| (n.clone(), ts.iter().map(|t| expand(project, t)).collect()))
                    .collect(),
            }),
            Signature::Effect(e) => Signature::Effect(EffectSig {
                name: e.name.clone(),
                params: unnamed(&e.params),
                ret: expand(project, &e.ret),
            }),
            Signature::Schema(s) => {
                let mut fields: Vec<SchemaFieldSig> = s
                    .fields
                    .iter()
                    .map(|f| SchemaFieldSig { ty: expand(project, &f.ty), ..f.clone() })
                    .collect();
                fields.sort_by(|a, b| a.name.cmp(&b.name));
                Signature::Schema(SchemaSig { fields })
            }
        };
        map_refs(&plain, &mut |r| match r {
            DefRef::Def(d) => DefRef::Hash(hashes[&d.qualified()]),
            DefRef::Hash(_) => r.clone(),
        })
    }

    #[test]
    fn stored_signatures_are_the_checked_ones() {
        let (mut compared, mut members) = (0, 0);
        for files in projects() {
            let project = Project::new(files.clone());
            let cores = project.core_defs();
            let defs: Vec<(SmolStr, CoreDef)> = cores
                .into_iter()
                .map(|(n, c)| (n.clone(), c.unwrap_or_else(|e| panic!("{n}: {e}"))))
                .collect();
            let components = tel_hash::hash_program_components(&defs, &|_| None).unwrap();
            let hashes: FxHashMap<SmolStr, CodeHash> = components
                .iter()
                .flat_map(|c| c.members.iter().map(|m| (m.name.clone(), m.hash)))
                .collect();
            for c in &components {
                for m in &c.members {
                    let stored = tel_hash::decode(&m.bytes).unwrap();
                    let got = signature_from_core(&stored, c.component.as_ref());
                    let (module, name) = m.name.rsplit_once("::").unwrap();
                    let checked =
                        project.signature(&DefRef::Def(DefId::new(module, name))).unwrap();
                    let want = as_stored(&project, &checked, &hashes);
                    assert_eq!(got, want, "{} in {}", m.name, files[0].0);
                    compared += 1;
                    members += usize::from(c.component.is_some());
                }
            }
        }
        assert!(compared > 80, "{compared} definitions compared");
        // Recursive functions of the fixtures, and is_even, is_odd, Tree, Forest and sum.
        assert!(members >= 5, "{members} component members");
    }

    /// Stored definitions named by hash check like project ones: the right uses pass, the
    /// wrong ones are reported against the stored types.
    #[test]
    fn hash_references_check_against_stored_signatures() {
        let lib = "module lib\n\
                   type Quote = { asset: String, price: Int }\n\
                   fn price_of(q: Quote) -> Int ! {Log} { perform Log(q.asset); q.price }\n";
        let project = Project::new([("/lib.tel".to_string(), lib.to_string())]);
        let defs: Vec<(SmolStr, CoreDef)> =
            project.core_defs().into_iter().map(|(n, c)| (n, c.unwrap())).collect();
        let components = tel_hash::hash_program_components(&defs, &|_| None).unwrap();
        // The engine's side: known hashes (the prelude's) map back to their definitions.
        let prelude: FxHashMap<CodeHash, DefRef> = components
            .iter()
            .flat_map(|c| &c.members)
            .filter_map(|m| {
                let name = m.name.strip_prefix("prelude::")?;
                Some((m.hash, DefRef::Def(DefId::prelude(name))))
            })
            .collect();
        let mut stored = BTreeMap::new();
        let mut hash_of = FxHashMap::default();
        for c in &components {
            for m in &c.members {
                let sig = signature_from_core(&tel_hash::decode(&m.bytes).unwrap(), None);
                let sig = map_refs(&sig, &mut |r| match r {
                    DefRef::Hash(h) => prelude.get(h).cloned().unwrap_or_else(|| r.clone()),
                    DefRef::Def(_) => r.clone(),
                });
                stored.insert(m.hash, Arc::new(sig));
                hash_of.insert(m.name.clone(), m.hash.short());
            }
        }
        let text = format!(
            "module app\n\
             fn good() -> Int ! {{Log}} {{ #{f}({{ asset: \"btc\", price: 3 }}) }}\n\
             fn typed(q: #{q}) -> Int ! {{Log}} {{ #{f}(q) + q.price }}\n\
             fn bad() -> Int {{ #{f}(1) }}\n",
            f = hash_of["lib::price_of"],
            q = hash_of["lib::Quote"],
        );
        let app = Project::with_stored([("/app.tel".to_string(), text)], stored);
        let mut out = String::new();
        for d in &app.diagnostics()["/app.tel"] {
            out.push_str(&format!("{} {}\n", d.code, d.message));
        }
        expect![[r#"
            E0301 effect-not-in-row `#s9q3np0s` performs `Log`, which is not in the effect row of `bad`
            E0201 type-mismatch expected `#hk4etlar`, found `Int`
        "#]].assert_eq(&out);
    }
}
