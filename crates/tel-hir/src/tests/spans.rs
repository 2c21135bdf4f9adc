//! Span tables: the source range of every core expression of a function, by expression id
//! (`tel_hash::core::preorder`), which is how runtime errors find their place in the source.

use std::fmt::Write as _;

use expect_test::{Expect, expect};
use tel_hash::CodeHash;
use tel_hash::core::{CoreDef, Expr, Ref, preorder};
use tel_hash::serialize::ResolvedRef;

use super::fixtures::{fixtures_dir, project_files, read_dir_sorted};
use super::parse_fixture;
use crate::TextRange;
use crate::lower_core::{SpanTable, lower_to_core_with_spans, spans_in_canonical_order};
use crate::project::Project;
use crate::ty::Signature;

/// One lowered function: qualified name, its file's text, the item's range, core, spans.
struct Lowered {
    name: String,
    text: String,
    item: TextRange,
    body: Expr,
    spans: SpanTable,
}

fn lowered_fns(project: &Project) -> Vec<Lowered> {
    let mut out = Vec::new();
    for file in project.files() {
        for (id, _) in file.item_tree.items.iter() {
            let Some(checked) = project.check_item(file, id) else { continue };
            if !matches!(*checked.signature, Signature::Fn(_)) {
                continue;
            }
            let Some((body, sm, infer)) = &checked.body else { continue };
            let name = checked.def.qualified().to_string();
            match lower_to_core_with_spans(project, &checked.signature, Some((body, infer)), sm) {
                Ok((CoreDef::Fn { body, .. }, spans)) => out.push(Lowered {
                    name,
                    text: file.text.clone(),
                    item: file.source_map.items[id].range,
                    body,
                    spans,
                }),
                Ok((other, _)) => panic!("{name}: a function lowered to {other:?}"),
                Err(e) => panic!("{name}: {e}"),
            }
        }
    }
    out
}

#[test]
fn every_expression_of_every_fixture_function_has_a_range_inside_it() {
    let mut projects: Vec<(String, Project)> = Vec::new();
    for path in read_dir_sorted(&fixtures_dir().join("valid")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        projects.push((name.clone(), Project::new([(name, text)])));
    }
    for dir in read_dir_sorted(&fixtures_dir().join("projects")) {
        if dir.is_dir() && !dir.ends_with("cyclic_use") {
            projects.push((dir.display().to_string(), Project::new(project_files(&dir))));
        }
    }
    let mut failures = String::new();
    let mut checked = 0;
    for (origin, project) in &projects {
        for f in lowered_fns(project) {
            let ids = preorder(&f.body).len();
            if f.spans.len() != ids {
                writeln!(failures, "{origin}: {}: {} spans for {ids} ids", f.name, f.spans.len())
                    .unwrap();
                continue;
            }
            for (id, span) in f.spans.iter().enumerate() {
                match span {
                    None => writeln!(failures, "{origin}: {}: id {id} has no range", f.name),
                    Some(r) if !f.item.contains_range(*r) => writeln!(
                        failures,
                        "{origin}: {}: id {id} at {r:?} is outside the function ({:?})",
                        f.name, f.item
                    ),
                    Some(_) => Ok(()),
                }
                .unwrap();
            }
            checked += ids;
        }
    }
    assert!(failures.is_empty(), "{failures}");
    // the fixtures are not trivially small: this checked real bodies
    assert!(checked > 1000, "only {checked} expressions checked");
}

/// A short name of a core node's kind and payload (children are the following lines).
fn kind(e: &Expr) -> String {
    let r = |r: &Ref| match r {
        Ref::Def(n) => n.to_string(),
        Ref::Hash(h) => format!("#{}", h.short()),
        Ref::Member(i) => format!("member {i}"),
        Ref::Builtin(b) => b.name().to_string(),
    };
    match e {
        Expr::Local(i) => format!("Local({i})"),
        Expr::Ref(x) => format!("Ref({})", r(x)),
        Expr::Lit(l) => format!("Lit({l:?})"),
        Expr::Call { .. } => "Call".into(),
        Expr::Lambda { params, .. } => format!("Lambda/{}", params.len()),
        Expr::Let { .. } => "Let".into(),
        Expr::Seq { .. } => "Seq".into(),
        Expr::If { .. } => "If".into(),
        Expr::Match { arms, .. } => format!("Match/{}", arms.len()),
        Expr::Record { fields, .. } => format!("Record/{}", fields.len()),
        Expr::Field { name, .. } => format!("Field(.{name})"),
        Expr::List(items) => format!("List/{}", items.len()),
        Expr::Variant { index, .. } => format!("Variant({index})"),
        Expr::Binary { op, .. } => format!("Binary({})", op.symbol()),
        Expr::Unary { op, .. } => format!("Unary({})", op.symbol()),
        Expr::Perform { effect, .. } => format!("Perform({})", r(effect)),
        Expr::Handle { clauses, .. } => {
            let effects: Vec<String> = clauses.iter().map(|c| r(&c.effect)).collect();
            format!("Handle[{}]", effects.join(", "))
        }
        Expr::Resume(_) => "Resume".into(),
        Expr::Abort(_) => "Abort".into(),
        Expr::Within { .. } => "Within".into(),
        Expr::After { .. } => "After".into(),
    }
}

/// `id: kind 'source text'`, one line per expression id.
fn render(text: &str, body: &Expr, spans: &[Option<TextRange>]) -> String {
    let mut out = String::new();
    for (id, (e, span)) in preorder(body).into_iter().zip(spans).enumerate() {
        let src = match span {
            Some(r) => {
                let s: String = text[*r].split_whitespace().collect::<Vec<_>>().join(" ");
                match s.char_indices().nth(48) {
                    Some((cut, _)) => format!("{}…", &s[..cut]),
                    None => s,
                }
            }
            None => "<none>".into(),
        };
        writeln!(out, "{id}: {} '{src}'", kind(e)).unwrap();
    }
    out
}

fn check_spans(fixture: &str, function: &str, expect: Expect) {
    let (files, _) = parse_fixture(fixture);
    let project = Project::new(files);
    let f = lowered_fns(&project)
        .into_iter()
        .find(|f| f.name == function)
        .unwrap_or_else(|| panic!("no function {function}"));
    expect.assert_eq(&render(&f.text, &f.body, &f.spans));
}

#[test]
fn calls_operators_and_blocks_map_to_their_source() {
    check_spans(
        r#"
//- /main.tel
fn ratio(a: Int, b: Int) -> Int { a / b }

fn scaled(xs: List<Int>, n: Int) -> List<Int> ! {Log} {
    let r = ratio(n, 2);
    perform Log("r = " ++ show(r));
    if r > 0 { perform Log("positive"); }
    map(xs, |x| x * r)
}
"#,
        "main::scaled",
        expect![[r#"
            0: Let '{ let r = ratio(n, 2); perform Log("r = " ++ sho…'
            1: Call 'ratio(n, 2)'
            2: Ref(main::ratio) 'ratio'
            3: Local(0) 'n'
            4: Lit(Int(2)) '2'
            5: Seq '{ let r = ratio(n, 2); perform Log("r = " ++ sho…'
            6: Perform(prelude::Log) 'perform Log("r = " ++ show(r))'
            7: Binary(++) '"r = " ++ show(r)'
            8: Lit(String("r = ")) '"r = "'
            9: Call 'show(r)'
            10: Ref(show) 'show'
            11: Local(0) 'r'
            12: Seq '{ let r = ratio(n, 2); perform Log("r = " ++ sho…'
            13: If 'if r > 0 { perform Log("positive"); }'
            14: Binary(>) 'r > 0'
            15: Local(0) 'r'
            16: Lit(Int(0)) '0'
            17: Seq '{ perform Log("positive"); }'
            18: Perform(prelude::Log) 'perform Log("positive")'
            19: Lit(String("positive")) '"positive"'
            20: Lit(Unit) '{ perform Log("positive"); }'
            21: Lit(Unit) 'if r > 0 { perform Log("positive"); }'
            22: Call 'map(xs, |x| x * r)'
            23: Ref(map) 'map'
            24: Local(2) 'xs'
            25: Lambda/1 '|x| x * r'
            26: Binary(*) 'x * r'
            27: Local(0) 'x'
            28: Local(1) 'r'
        "#]],
    );
}

#[test]
fn synthesized_nodes_take_the_range_of_what_produced_them() {
    check_spans(
        r#"
//- /main.tel
type Pair = { right: Int, left: Int }

fn wrap(xs: List<Int>, p: Pair) -> List<Int?> {
    match p {
        { left: 0, .. } => map(xs, Some),
        Pair { right, left } if right > left => [Some(right / left), None],
        _ => { let q = Pair { right: p.left, left: p.right }; [Some(q.left)] },
    }
}
"#,
        "main::wrap",
        expect![[r#"
            0: Match/3 'match p { { left: 0, .. } => map(xs, Some), Pair…'
            1: Local(0) 'p'
            2: Call 'map(xs, Some)'
            3: Ref(map) 'map'
            4: Local(1) 'xs'
            5: Lambda/1 'Some'
            6: Variant(0) 'Some'
            7: Local(0) 'Some'
            8: Binary(>) 'right > left'
            9: Local(0) 'right'
            10: Local(1) 'left'
            11: List/2 '[Some(right / left), None]'
            12: Variant(0) 'Some(right / left)'
            13: Binary(/) 'right / left'
            14: Local(0) 'right'
            15: Local(1) 'left'
            16: Variant(1) 'None'
            17: Let '{ let q = Pair { right: p.left, left: p.right };…'
            18: Record/2 'Pair { right: p.left, left: p.right }'
            19: Field(.right) 'p.right'
            20: Local(0) 'p'
            21: Field(.left) 'p.left'
            22: Local(0) 'p'
            23: List/1 '[Some(q.left)]'
            24: Variant(0) 'Some(q.left)'
            25: Field(.left) 'q.left'
            26: Local(0) 'q'
        "#]],
    );
}

/// A `handle` whose clauses are in three different orders: as written, as lowered (by
/// name: `main::Ask` < `prelude::Log`) and as hashed (by resolved hash, chosen here so that
/// `Log` comes first). The VM numbers the hashed form.
const HANDLERS: &str = r#"
//- /main.tel
effect Ask(key: String) -> Int

fn asked() -> Int ! {Log} {
    handle {
        perform Log("asking");
        perform Ask("k")
    } with {
        Log(line) => resume(),
        Ask(key) => resume(len(key)),
    }
}
"#;

fn log_first(name: &smol_str::SmolStr) -> Option<ResolvedRef> {
    let byte = if name == "prelude::Log" { 0 } else { 0xff };
    Some(ResolvedRef::Hash(CodeHash([byte; 32])))
}

#[test]
fn handler_clauses_follow_the_lowered_order() {
    check_spans(
        HANDLERS,
        "main::asked",
        expect![[r#"
            0: Handle[main::Ask, prelude::Log] 'handle { perform Log("asking"); perform Ask("k")…'
            1: Seq '{ perform Log("asking"); perform Ask("k") }'
            2: Perform(prelude::Log) 'perform Log("asking")'
            3: Lit(String("asking")) '"asking"'
            4: Perform(main::Ask) 'perform Ask("k")'
            5: Lit(String("k")) '"k"'
            6: Resume 'resume(len(key))'
            7: Call 'len(key)'
            8: Ref(len) 'len'
            9: Local(0) 'key'
            10: Resume 'resume()'
            11: Lit(Unit) 'resume()'
        "#]],
    );
}

#[test]
fn spans_follow_handler_clauses_into_canonical_order() {
    let (files, _) = parse_fixture(HANDLERS);
    let project = Project::new(files);
    let f = lowered_fns(&project).into_iter().find(|f| f.name == "main::asked").unwrap();
    let def = CoreDef::Fn {
        params: Vec::new(),
        ret: tel_hash::core::Type::Int,
        effects: Vec::new(),
        body: f.body.clone(),
    };
    let CoreDef::Fn { body: canonical, .. } = tel_hash::canonicalize(&def, &log_first).unwrap()
    else {
        unreachable!()
    };
    let spans = spans_in_canonical_order(&f.body, &f.spans, &canonical, &log_first).unwrap();
    expect![[r#"
        0: Handle[#00000000, #vvvvvvvv] 'handle { perform Log("asking"); perform Ask("k")…'
        1: Seq '{ perform Log("asking"); perform Ask("k") }'
        2: Perform(#00000000) 'perform Log("asking")'
        3: Lit(String("asking")) '"asking"'
        4: Perform(#vvvvvvvv) 'perform Ask("k")'
        5: Lit(String("k")) '"k"'
        6: Resume 'resume()'
        7: Lit(Unit) 'resume()'
        8: Resume 'resume(len(key))'
        9: Call 'len(key)'
        10: Ref(len) 'len'
        11: Local(0) 'key'
    "#]]
    .assert_eq(&render(&f.text, &canonical, &spans));
}

#[test]
fn canonical_order_refuses_a_body_of_another_shape() {
    let (files, _) = parse_fixture(HANDLERS);
    let project = Project::new(files);
    let f = lowered_fns(&project).into_iter().find(|f| f.name == "main::asked").unwrap();
    let other = Expr::Lit(tel_hash::core::Lit::Unit);
    assert_eq!(spans_in_canonical_order(&f.body, &f.spans, &other, &log_first), None);
    // a table that is not the body's size
    assert_eq!(spans_in_canonical_order(&f.body, &f.spans[1..], &f.body, &log_first), None);
}
