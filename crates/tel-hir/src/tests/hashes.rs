//! `#hash` references against a store of definitions.

use std::collections::BTreeMap;
use std::sync::Arc;

use expect_test::expect;
use tel_hash::CodeHash;

use super::{parse_fixture, render_diagnostics};
use crate::project::Project;
use crate::ty::{DefId, DefRef, EffectSet, EffectSig, FnSig, Signature, Ty};

/// A hash starting with byte `first` and ending with byte `last`.
fn hash(first: u8, last: u8) -> CodeHash {
    let mut b = [0x11u8; 32];
    b[0] = first;
    b[31] = last;
    CodeHash(b)
}

fn store() -> BTreeMap<CodeHash, Arc<Signature>> {
    let log = DefRef::Def(DefId::prelude("Log"));
    let mut s = BTreeMap::new();
    // A function `fn(Int) -> Int ! {Log}`.
    s.insert(
        hash(0xa0, 0x00),
        Arc::new(Signature::Fn(FnSig {
            params: vec![("_0".into(), Ty::Int)],
            ret: Ty::Int,
            effects: EffectSet::from([log]),
        })),
    );
    // A record type `{ price: Int }`.
    s.insert(
        hash(0xb0, 0x00),
        Arc::new(Signature::Type(Ty::Record(vec![("price".into(), Ty::Int)]))),
    );
    // An effect `Ping() -> ()`.
    s.insert(
        hash(0xc0, 0x00),
        Arc::new(Signature::Effect(EffectSig {
            name: "Ping".into(),
            params: vec![],
            ret: Ty::Unit,
        })),
    );
    // Two functions whose hashes share their first 4 digits.
    for second in [0x10, 0x20] {
        s.insert(
            hash(0xd0, second),
            Arc::new(Signature::Fn(FnSig {
                params: vec![],
                ret: Ty::Int,
                effects: EffectSet::new(),
            })),
        );
    }
    s
}

#[test]
fn hash_references_resolve_and_report() {
    let store = store();
    let short = |h: CodeHash| h.short();
    let text = format!(
        r#"
fn ok(q: #{b}) -> Int ! {{Log, #{c}}} {{
    #{a}(q.price)
}}
fn pure(x: Int) -> Int {{ #{a}(x) }}
fn errors() -> Int {{
    let t = #{b}(1);
    let u = #{d};
    let v: #{a} = 1;
    #vvvv()
}}
"#,
        a = short(hash(0xa0, 0)),
        b = short(hash(0xb0, 0)),
        c = short(hash(0xc0, 0)),
        d = &short(hash(0xd0, 0x10))[..6],
    );
    let project = Project::with_stored(parse_fixture(&text).0, store);
    expect![[r#"
        /main.tel:1:36 W0302 warning: `ok` declares `#o08h248h` in its effect row but never performs it  [`#o08h248h`]
        /main.tel:4:26 E0301 error: `#k08h248h` performs `Log`, which is not in the effect row of `pure`  [`#k08h248h`]
        /main.tel:6:13 E0108 error: `#m08h248h` is a type, not a function  [`#m08h248h`]
        /main.tel:7:13 E0110 error: ambiguous: #q08h24 matches 2 definitions: #q08h248h248h248h248h248h248h248h248h248h248h248h248, #q08h248h248h248h248h248h248h248h248h248h248h248h24g  [`#q08h24`]
        /main.tel:8:12 E0108 error: `#k08h248h` is a function, not a type  [`#k08h248h`]
        /main.tel:9:5 E0109 error: no definition matches #vvvv  [`#vvvv`]
    "#]].assert_eq(&render_diagnostics(&project, false));
}
