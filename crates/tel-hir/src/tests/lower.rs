//! Lowering to core IR: shape (via tel-hash's normalized rendering), invariance under
//! renaming, and that lowered programs hash.

use expect_test::expect;
use smol_str::SmolStr;

use super::parse_fixture;
use crate::project::Project;

/// The normalized text of every definition of `/main.tel`'s module.
fn core_of(fixture: &str) -> String {
    let (files, _) = parse_fixture(fixture);
    let project = Project::new(files);
    let module = project.file("/main.tel").unwrap().module.clone();
    let mut out = String::new();
    for (name, def) in project.core_defs() {
        if !name.starts_with(&format!("{module}::")) {
            continue;
        }
        match def {
            Ok(def) => out.push_str(&format!("{name} = {}\n", tel_hash::render(&def))),
            Err(e) => out.push_str(&format!("{name}: {e}\n")),
        }
    }
    out
}

#[test]
fn functions_lower_with_de_bruijn_locals() {
    let out = core_of(
        r#"
enum Outcome { Filled(Int), Expired }
type Quote = { price: Int, asset: String }
fn fee(amount: Int) -> Int { let f = amount * 3; f / 1000 }
fn pick(o: Outcome, q: Quote) -> Int ! {Log} {
    perform Log(q.asset);
    match o {
        Filled(n) if n > q.price => n,
        Filled(n) => fee(n),
        Expired => 0,
    }
}
fn lists(xs: List<Int>) -> List<Int> { map(xs, |x| x + 1) }
fn rec(p: Int) -> Quote { { price: p, asset: "ETH" } }
fn opt(p: Int?) -> Int { match p { Some(v) => v, None => 0 } }
fn q(r: Quote) -> Int { match r { { price, asset: a } => price } }
fn ctor(xs: List<Int>) -> List<Outcome> { map(xs, Filled) }
"#,
    );
    expect![[r#"
        main::Outcome = enum {
            Filled(Int),
            Expired,
        }
        main::Quote = type = { asset: String, price: Int }
        main::ctor = fn(List<Int>) -> List<main::Outcome> {
            map(%0, |Int| -> main::Outcome {
                main::Outcome::0(%0)
            })
        }
        main::fee = fn(Int) -> Int {
            let: Int = (%0 * 3);
            (%0 / 1000)
        }
        main::lists = fn(List<Int>) -> List<Int> {
            map(%0, |Int| -> Int {
                (%0 + 1)
            })
        }
        main::opt = fn(Int?) -> Int {
            match %0 {
                Some(%) => %0,
                None => 0,
            }
        }
        main::pick = fn(main::Outcome, main::Quote) -> Int ! {prelude::Log} {
            perform prelude::Log(%0.asset);
            match %1 {
                main::Outcome::0(%) if (%0 > %1.price) => %0,
                main::Outcome::0(%) => main::fee(%0),
                main::Outcome::1 => 0,
            }
        }
        main::q = fn(main::Quote) -> Int {
            match %0 {
                { asset: %, price: % } => %0,
            }
        }
        main::rec = fn(Int) -> main::Quote {
            main::Quote { asset: "ETH", price: %0 }
        }
    "#]]
    .assert_eq(&out);
}

#[test]
fn handlers_time_and_items_lower() {
    let out = core_of(
        r#"
effect Approve(amount: Int) -> Bool
schema State { count: Int = 1 + 1, note: String? }
type Price = Int
fn approved(a: Price) -> Bool ! {Sleep} {
    handle { perform Approve(a) } with {
        Approve(x) => if x > 10 { abort(false) } else { resume(true) },
    };
    within 5s { after 1s { true } } else { false }
}
"#,
    );
    expect![[r#"
        main::Approve = effect Approve(Int) -> Bool
        main::Price = type = Int
        main::State = schema {
            count: Int = (1 + 1),
            note: String?,
        }
        main::approved = fn(Int) -> Bool ! {prelude::Sleep} {
            handle {
                perform main::Approve(%0)
            } with {
                main::Approve/1 => if (%0 > 10) {
                    abort(false)
                } else {
                    resume(true)
                },
            };
            within 5000ms {
                after 1000ms {
                    true
                }
            } else {
                false
            }
        }
    "#]]
    .assert_eq(&out);
}

#[test]
fn renaming_locals_and_the_definition_keeps_the_core_def() {
    let a = r#"
fn fee(amount: Int, rate: Int) -> Int {
    let raw = amount * rate;
    let g = |x: Int| x + raw;
    match Some(raw) { Some(v) => g(v), None => 0 }
}
"#;
    let b = r#"
fn charge(n: Int, bps: Int) -> Int {
    let product = n * bps;
    let add = |y: Int| y + product;
    match Some(product) { Some(w) => add(w), None => 0 }
}
"#;
    let core = |src: &str, name: &str| {
        let project = Project::new(parse_fixture(src).0);
        project.core_defs().remove(&SmolStr::from(format!("main::{name}"))).unwrap().unwrap()
    };
    assert_eq!(core(a, "fee"), core(b, "charge"));
    let c = a.replace("amount * rate", "rate * amount");
    assert_ne!(core(a, "fee"), core(&c, "fee"));
}

#[test]
fn wildcard_binders_keep_their_slots() {
    let out = core_of(
        r#"
//- /main.tel
effect Pay(to: String, amount: Int) -> Int
fn second(_: Int, y: Int) -> Int { y }
fn main(x: Int) -> Int ! {Log, Pay} {
    let _ = perform Log("still evaluated");
    let _: Int = second(1, x);
    let ys = map([1, 2], |_| x);
    handle { perform Pay("a", len(ys)) } with { Pay(_, amount) => amount + x }
}
"#,
    );
    expect![[r#"
        main::Pay = effect Pay(String, Int) -> Int
        main::main = fn(Int) -> Int ! {main::Pay, prelude::Log} {
            let: () = perform prelude::Log("still evaluated");
            let: Int = main::second(1, %1);
            let: List<Int> = map([1, 2], |Int| -> Int {
                %3
            });
            handle {
                perform main::Pay("a", len(%0))
            } with {
                main::Pay/2 => (%0 + %5),
            }
        }
        main::second = fn(Int, Int) -> Int {
            %0
        }
    "#]]
    .assert_eq(&out);
}

/// Names never reach the hash: a `_` parameter hashes as a named one the body never uses,
/// and still takes its de Bruijn slot (so which parameter is `_` matters).
#[test]
fn wildcard_binders_hash_like_unused_names() {
    let hash = |src: &str| {
        let project = Project::new(parse_fixture(src).0);
        let defs: Vec<(SmolStr, tel_hash::core::CoreDef)> = project
            .core_defs()
            .into_iter()
            .filter(|(n, _)| n.starts_with("main::"))
            .map(|(n, d)| (n, d.unwrap()))
            .collect();
        let hashes = tel_hash::hash_program(&defs, &|_| None).unwrap();
        hashes.into_iter().find(|(n, _)| n == "main::f").unwrap().1
    };
    let named = hash("//- /main.tel\nfn f(x: Int) -> Int { 1 }\n");
    let wild = hash("//- /main.tel\nfn f(_: Int) -> Int { 1 }\n");
    assert_eq!(named, wild);
    assert_eq!(
        hash("//- /main.tel\nfn f(x: Int, y: Int) -> Int { y }\n"),
        hash("//- /main.tel\nfn f(_: Int, y: Int) -> Int { y }\n"),
    );
    assert_ne!(
        hash("//- /main.tel\nfn f(_: Int, y: Int) -> Int { y }\n"),
        hash("//- /main.tel\nfn f(y: Int, _: Int) -> Int { y }\n"),
    );
    assert_eq!(
        hash(
            "//- /main.tel\nfn f() -> Int { let unused = 2; let g = |a: Int, b: Int| a; g(1, 3) }\n"
        ),
        hash("//- /main.tel\nfn f() -> Int { let _ = 2; let g = |a: Int, _: Int| a; g(1, 3) }\n"),
    );
}

#[test]
fn aliases_of_record_types_build_records() {
    let out = core_of(
        r#"
type Quote = { price: Int }
type Q = Quote
fn f(p: Int) -> Q { Q { price: p } }
fn g(q: Q) -> Int { match q { { price } => price } }
"#,
    );
    expect![[r#"
        main::Q = type = main::Quote
        main::Quote = type = { price: Int }
        main::f = fn(Int) -> main::Quote {
            main::Quote { price: %0 }
        }
        main::g = fn(main::Quote) -> Int {
            match %0 {
                { price: % } => %0,
            }
        }
    "#]]
    .assert_eq(&out);
}

#[test]
fn valid_projects_hash() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/projects");
    for name in ["exchange", "ledger"] {
        let dir = root.join(name);
        let mut files = Vec::new();
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "tel") {
                    let rel = p.strip_prefix(&dir).unwrap().to_string_lossy().to_string();
                    files.push((rel, std::fs::read_to_string(&p).unwrap()));
                }
            }
        }
        files.sort();
        let project = Project::new(files);
        let defs: Vec<(SmolStr, tel_hash::core::CoreDef)> =
            project.core_defs().into_iter().map(|(n, d)| (n, d.unwrap())).collect();
        let hashes =
            tel_hash::hash_program(&defs, &|_| None).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(hashes.len(), defs.len());
    }
}

#[test]
fn valid_fixtures_hash() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/valid");
    let mut names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    for path in names {
        let text = std::fs::read_to_string(&path).unwrap();
        let project =
            Project::new([(path.file_name().unwrap().to_string_lossy().to_string(), text)]);
        let defs: Vec<(SmolStr, tel_hash::core::CoreDef)> =
            project.core_defs().into_iter().map(|(n, d)| (n, d.unwrap())).collect();
        let hashes = tel_hash::hash_program(&defs, &|_| None)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(hashes.len(), defs.len());
    }
}

/// A long block lowers without recursing once per statement.
#[test]
fn long_blocks_lower() {
    let mut text = String::from("fn main() -> Int {\n    let x0 = 0;\n");
    for i in 1..5000 {
        text.push_str(&format!("    let x{i} = x{} + 1;\n    show(x{i});\n", i - 1));
    }
    text.push_str("    x4999\n}\n");
    let project = Project::new([("main.tel".to_string(), text)]);
    let core = project.core_defs().remove("main::main").unwrap().unwrap();
    let tel_hash::core::CoreDef::Fn { body, .. } = core else { panic!("a function") };
    assert!(matches!(body, tel_hash::core::Expr::Let { .. }));
}
