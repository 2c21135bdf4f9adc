//! Declarations as the editor shows them: a signature rendered from its resolved types.

use std::fmt::Write;

use tel_hir::Signature;
use tel_hir::ty::{DisplayEffects, Ty};

/// `fn fee(amount: Int) -> Int ! {Log}`, `enum Side { Buy, Sell(Int) }`, …
pub fn signature(name: &str, sig: &Signature) -> String {
    let mut out = String::new();
    let params = |ps: &[(smol_str::SmolStr, Ty)]| {
        ps.iter().map(|(n, t)| format!("{n}: {t}")).collect::<Vec<_>>().join(", ")
    };
    match sig {
        Signature::Fn(f) => {
            let _ = write!(out, "fn {name}({}) -> {}", params(&f.params), f.ret);
            if !f.effects.is_empty() {
                let _ = write!(out, " ! {}", DisplayEffects(&f.effects));
            }
        }
        Signature::Type(ty) => {
            let _ = write!(out, "type {name} = {ty}");
        }
        Signature::Enum(e) => {
            let variants: Vec<String> = e
                .variants
                .iter()
                .map(|(v, fields)| {
                    if fields.is_empty() {
                        v.to_string()
                    } else {
                        let fields: Vec<String> = fields.iter().map(Ty::to_string).collect();
                        format!("{v}({})", fields.join(", "))
                    }
                })
                .collect();
            let _ = write!(out, "enum {name} {{ {} }}", variants.join(", "));
        }
        Signature::Effect(e) => {
            let _ = write!(out, "effect {name}({}) -> {}", params(&e.params), e.ret);
        }
        Signature::Schema(s) => {
            let fields: Vec<String> = s
                .fields
                .iter()
                .map(|f| {
                    let default = if f.has_default { " = …" } else { "" };
                    format!("{}: {}{default}", f.name, f.ty)
                })
                .collect();
            let _ = write!(out, "schema {name} {{ {} }}", fields.join(", "));
        }
    }
    out
}
