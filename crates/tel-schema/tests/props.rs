//! Property: an automatic migration never loses a field value that the new schema still has.
//! Random schemas (built as core IR), random automatic evolutions of them (fields kept,
//! widened to options or removed; optional and defaulted fields added), random states.

use std::collections::BTreeMap;

use proptest::prelude::*;
use serde_json::{Value as Json, json};
use tel_hash::core::{CoreDef, Expr, Lit, SchemaField, Type};
use tel_schema::{Code, Reads, Verdict, compare};
use tel_vm::StoredDef;

#[derive(Clone, Copy, Debug)]
enum Ty {
    Int,
    Bool,
    Str,
    OptInt,
    ListInt,
    MapStrInt,
}

impl Ty {
    fn core(self) -> Type {
        match self {
            Ty::Int => Type::Int,
            Ty::Bool => Type::Bool,
            Ty::Str => Type::String,
            Ty::OptInt => Type::Option(Box::new(Type::Int)),
            Ty::ListInt => Type::List(Box::new(Type::Int)),
            Ty::MapStrInt => Type::Map(Box::new(Type::String), Box::new(Type::Int)),
        }
    }

    fn value(self) -> BoxedStrategy<Json> {
        match self {
            Ty::Int => any::<i64>().prop_map(Json::from).boxed(),
            Ty::Bool => any::<bool>().prop_map(Json::from).boxed(),
            Ty::Str => "[a-z ]{0,6}".prop_map(Json::from).boxed(),
            Ty::OptInt => prop_oneof![Just(Json::Null), any::<i64>().prop_map(Json::from)].boxed(),
            Ty::ListInt => prop::collection::vec(any::<i64>(), 0..4).prop_map(|v| json!(v)).boxed(),
            Ty::MapStrInt => prop::collection::btree_map("[a-z]{1,3}", any::<i64>(), 0..3)
                .prop_map(|m| json!(m))
                .boxed(),
        }
    }
}

fn ty() -> impl Strategy<Value = Ty> {
    prop_oneof![
        Just(Ty::Int),
        Just(Ty::Bool),
        Just(Ty::Str),
        Just(Ty::OptInt),
        Just(Ty::ListInt),
        Just(Ty::MapStrInt)
    ]
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Evo {
    Keep,
    Widen,
    Remove,
}

#[derive(Clone, Debug)]
enum Added {
    Optional(Ty),
    Default(i64),
}

#[derive(Debug)]
struct Case {
    old: Vec<(Ty, Evo)>,
    added: Vec<Added>,
    state: BTreeMap<String, Json>,
}

fn case() -> impl Strategy<Value = Case> {
    let evo = prop_oneof![Just(Evo::Keep), Just(Evo::Widen), Just(Evo::Remove)];
    let added = prop_oneof![ty().prop_map(Added::Optional), any::<i64>().prop_map(Added::Default)];
    (prop::collection::vec((ty(), evo), 1..6), prop::collection::vec(added, 0..3)).prop_flat_map(
        |(old, added)| {
            let values: Vec<BoxedStrategy<Json>> = old.iter().map(|(t, _)| t.value()).collect();
            (Just(old), Just(added), values).prop_map(|(old, added, values)| Case {
                state: values.into_iter().enumerate().map(|(i, v)| (format!("f{i}"), v)).collect(),
                old,
                added,
            })
        },
    )
}

fn schema(code: &mut Code, fields: Vec<SchemaField>) -> tel_schema::SchemaVersion {
    let mut fields = fields;
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    let def = CoreDef::Schema { fields };
    let bytes = tel_hash::encode(&def, &|_| None).unwrap();
    let hash = tel_hash::hash_bytes(&bytes);
    code.insert(hash, StoredDef { def, component: None, name: Some("S".into()) }, None);
    code.schema(&hash).unwrap()
}

proptest! {
    #[test]
    fn automatic_migration_keeps_every_value_the_new_schema_still_has(c in case()) {
        let mut code = Code::default();
        let field = |name: String, ty: Type, default: Option<Expr>| SchemaField { name: name.into(), ty, default };
        let old_fields = c.old.iter().enumerate().map(|(i, (t, _))| field(format!("f{i}"), t.core(), None)).collect();
        let mut new_fields: Vec<SchemaField> = Vec::new();
        for (i, (t, e)) in c.old.iter().enumerate() {
            match e {
                Evo::Keep => new_fields.push(field(format!("f{i}"), t.core(), None)),
                Evo::Widen => {
                    // `T??` is not a schema field type: an option stays as it is.
                    let ty = match t.core() { Type::Option(x) => Type::Option(x), other => Type::Option(Box::new(other)) };
                    new_fields.push(field(format!("f{i}"), ty, None));
                }
                Evo::Remove => {}
            }
        }
        for (i, a) in c.added.iter().enumerate() {
            new_fields.push(match a {
                Added::Optional(t) => {
                    let ty = match t.core() { Type::Option(x) => Type::Option(x), other => Type::Option(Box::new(other)) };
                    field(format!("g{i}"), ty, None)
                }
                Added::Default(v) => field(format!("g{i}"), Type::Int, Some(Expr::Lit(Lit::Int(*v)))),
            });
        }
        let old = schema(&mut code, old_fields);
        let new = schema(&mut code, new_fields);
        let evolution = compare(&code, &old, &code, &new, &Reads::default());
        prop_assert!(evolution.diff.verdict != Verdict::NeedsMigration, "{}", evolution.diff.table());

        let state = Json::Object(c.state.clone().into_iter().collect());
        let out = tel_schema::migrate::migrate(&evolution, &code, &code, &state, None)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let Json::Object(out) = out.state else { return Err(TestCaseError::fail("not an object")) };
        // Exactly the new schema's fields…
        let mut names: Vec<&str> = out.keys().map(String::as_str).collect();
        names.sort();
        let mut want: Vec<&str> = new.fields.iter().map(|f| f.name.as_str()).collect();
        want.sort();
        prop_assert_eq!(names, want);
        // …every kept one with its old value (a widened non-null value reads the same as
        // `Some(v)`), every added one with its default or None.
        for (i, (_, e)) in c.old.iter().enumerate() {
            let name = format!("f{i}");
            if *e != Evo::Remove {
                prop_assert_eq!(&out[&name], &c.state[&name], "field {}", name);
            }
        }
        for (i, a) in c.added.iter().enumerate() {
            let got = &out[&format!("g{i}")];
            match a {
                Added::Optional(_) => prop_assert_eq!(got, &Json::Null),
                Added::Default(v) => prop_assert_eq!(got, &json!(v)),
            }
        }
    }
}
