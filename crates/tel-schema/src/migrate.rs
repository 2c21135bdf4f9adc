//! Moving stored state (JSON, language.md §10) from one schema version to the next.
//!
//! The state is first checked against the old version: anything that does not match is
//! refused with the JSON path of the first mismatch. Then either every change is automatic
//! and the [`Plan`] of the comparison is applied (defaults filled, optional fields absent,
//! unused fields dropped, values widened), or a migration function `fn(Old) -> New` runs in
//! the VM sandbox. Either way the result is checked against the new version before it is
//! returned: a migration cannot produce state the new program would not read.

use serde::Serialize;
use serde_json::{Map, Value as Json};
use tel_hash::CodeHash;
use tel_hash::core::{CoreDef, Ref, Type};

use crate::code::{Code, SchemaVersion, absolute};
use crate::diff::{Evolution, FieldPlan, Plan, Verdict};
use crate::eval::{self, EvalError};

/// State that does not match its schema: the JSON path of the first mismatch and what is
/// wrong there (`$.orders[3].price: expected an integer (64-bit), found a string`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct StateMismatch {
    pub path: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MigrateError {
    #[error("the state does not match {schema}: {mismatch}")]
    OldState { schema: String, mismatch: StateMismatch },
    #[error(
        "{from} to {to} needs a migration function (changes: {changes}); list a pure fn(Old) -> New in tel.toml, [schema] migrations"
    )]
    NeedsMigration { from: String, to: String, changes: String },
    #[error("the migration function {function}: {problem}")]
    BadFunction { function: String, problem: String },
    #[error(transparent)]
    Eval(#[from] EvalError),
    #[error("the migrated state does not match {schema} ({how}): {mismatch}")]
    NewState { schema: String, how: String, mismatch: StateMismatch },
}

/// How a state was migrated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "how", rename_all = "kebab-case")]
pub enum Method {
    /// Nothing to do: the same version.
    Identical,
    /// The automatic changes were applied.
    Automatic,
    /// A migration function ran.
    Function {
        #[serde(serialize_with = "crate::diff::full_hash")]
        function: CodeHash,
        name: String,
    },
}

/// A migrated state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Migrated {
    pub state: Json,
    pub method: Method,
}

/// Checks `state` against `schema` (in `code`); the decoded value on success.
pub fn check_state(
    code: &Code,
    schema: &SchemaVersion,
    state: &Json,
) -> Result<tel_vm::Value, StateMismatch> {
    tel_vm::json::decode(&code.defs, &Type::Named(Ref::Hash(schema.hash)), state)
        .map_err(|e| StateMismatch { path: e.at, message: e.message })
}

/// A migration function's fitness for `old` → `new`: a function of one parameter of type
/// `old`, returning `new`, with an empty effect row. `Err` says what is wrong.
pub fn check_function(
    code: &Code,
    function: &CodeHash,
    old: &CodeHash,
    new: &CodeHash,
) -> Result<(), String> {
    let stored = code
        .defs
        .get(function)
        .ok_or_else(|| "it is not in the program or the codebase".to_owned())?;
    let CoreDef::Fn { params, ret, effects, .. } = &stored.def else {
        let kind = stored.def.kind().as_str();
        return Err(format!("it is {} {kind}, not a function", crate::code::article(kind)));
    };
    let c = stored.component;
    let params: Vec<Type> = params.iter().map(|t| absolute(t, c)).collect();
    let ret = absolute(ret, c);
    let shown = format!(
        "fn({}) -> {}",
        params.iter().map(|t| code.render_type(t)).collect::<Vec<_>>().join(", "),
        code.render_type(&ret)
    );
    if !effects.is_empty() {
        return Err(format!("it is {shown} with effects; a migration must be pure"));
    }
    let want_old = Type::Named(Ref::Hash(*old));
    let want_new = Type::Named(Ref::Hash(*new));
    if params.as_slice() != [want_old] || ret != want_new {
        return Err(format!("it is {shown}, not fn(#{}) -> #{}", old.short(), new.short()));
    }
    Ok(())
}

/// Migrates `state` from `evolution.old` (its types in `old_code`) to `evolution.new` (in
/// `new_code`). `function`, when given, is a migration function (checked with
/// [`check_function`]) in `new_code`; it is used whenever the versions differ. Without one,
/// the changes must all be automatic.
pub fn migrate(
    evolution: &Evolution,
    old_code: &Code,
    new_code: &Code,
    state: &Json,
    function: Option<&CodeHash>,
) -> Result<Migrated, MigrateError> {
    let (old, new) = (&evolution.old, &evolution.new);
    let value = check_state(old_code, old, state)
        .map_err(|mismatch| MigrateError::OldState { schema: old.label(), mismatch })?;
    let (migrated, method) = if old.hash == new.hash {
        (state.clone(), Method::Identical)
    } else if let Some(f) = function {
        check_function(new_code, f, &old.hash, &new.hash)
            .map_err(|problem| MigrateError::BadFunction { function: new_code.name(f), problem })?;
        let mut code = new_code.clone();
        code.extend(old_code);
        let what = format!("the migration {}", code.name(f));
        let out = eval::call(&code, *f, value, &what)?;
        (out, Method::Function { function: *f, name: new_code.name(f) })
    } else if evolution.diff.verdict == Verdict::NeedsMigration || evolution.plan.needs_migration()
    {
        let changes: Vec<String> = evolution
            .diff
            .changes
            .iter()
            .filter(|c| !c.automatic)
            .map(|c| format!("{} {}", c.class, c.path))
            .collect();
        return Err(MigrateError::NeedsMigration {
            from: old.label(),
            to: new.label(),
            changes: changes.join(", "),
        });
    } else {
        let defaults = Eval::defaults(new_code, &evolution.plan)?;
        let out = apply(&evolution.plan, state.clone(), &defaults).map_err(|message| {
            MigrateError::NewState {
                schema: new.label(),
                how: "automatic".into(),
                mismatch: StateMismatch { path: "$".into(), message },
            }
        })?;
        (out, Method::Automatic)
    };
    check_state(new_code, new, &migrated).map_err(|mismatch| MigrateError::NewState {
        schema: new.label(),
        how: match &method {
            Method::Function { name, .. } => format!("made by {name}"),
            _ => "automatic".into(),
        },
        mismatch,
    })?;
    Ok(Migrated { state: migrated, method })
}

/// The values of the defaults a plan fills, by the address of their expression in the plan
/// (one plan may fill the same default in every element of a list).
type Defaults = std::collections::HashMap<*const tel_hash::core::Expr, Json>;

struct Eval;

impl Eval {
    /// Evaluates every default of `plan` in one sandboxed run: a structural record with a
    /// field per default (`d000000`, …), so the program is loaded once.
    fn defaults(code: &Code, plan: &Plan) -> Result<Defaults, MigrateError> {
        let mut found = Vec::new();
        collect_defaults(plan, &mut found);
        if found.is_empty() {
            return Ok(Defaults::new());
        }
        let names: Vec<String> = (0..found.len()).map(|i| format!("d{i:06}")).collect();
        let mut fields = Vec::with_capacity(found.len());
        let mut types = Vec::with_capacity(found.len());
        for ((name, expr, ty, component), key) in found.iter().zip(&names) {
            if component.is_some() && has_member_ref(expr) {
                return Err(EvalError::Load(format!(
                    "the default of `{name}` refers into its schema's mutually recursive component, which cannot be run alone"
                ))
                .into());
            }
            fields.push((key.as_str().into(), (*expr).clone()));
            types.push((key.as_str().into(), (*ty).clone()));
        }
        let what = if found.len() == 1 {
            format!("the default of `{}`", found[0].0)
        } else {
            "the defaults of the added fields".to_owned()
        };
        let body = tel_hash::core::Expr::Record { ty: None, fields };
        let value = eval::run(code, body, &Type::Record(types), &what)?;
        let Json::Object(mut m) = value else {
            return Err(EvalError::Runtime { what, message: "did not give a record".into() }.into());
        };
        Ok(found
            .iter()
            .zip(&names)
            .map(|((_, expr, _, _), k)| (*expr as *const _, m.remove(k).unwrap_or(Json::Null)))
            .collect())
    }
}

type DefaultRef<'a> = (&'a str, &'a tel_hash::core::Expr, &'a Type, Option<CodeHash>);

fn collect_defaults<'a>(plan: &'a Plan, out: &mut Vec<DefaultRef<'a>>) {
    match plan {
        Plan::Keep | Plan::Migrate => {}
        Plan::Some { inner, .. } | Plan::List(inner) | Plan::Map(inner) => {
            collect_defaults(inner, out)
        }
        Plan::Option { inner, .. } => collect_defaults(inner, out),
        Plan::Record(fields) => {
            for f in fields {
                match f {
                    FieldPlan::Copy(_, p) => collect_defaults(p, out),
                    FieldPlan::FillDefault { name, expr, ty, component } => {
                        out.push((name.as_str(), expr, ty, *component))
                    }
                    FieldPlan::FillNone(_) | FieldPlan::Drop { .. } | FieldPlan::Missing(_) => {}
                }
            }
        }
    }
}

fn has_member_ref(e: &tel_hash::core::Expr) -> bool {
    use tel_hash::core::Expr;
    tel_hash::core::preorder(e).into_iter().any(|x| {
        matches!(
            x,
            Expr::Ref(Ref::Member(_))
                | Expr::Record { ty: Some(Ref::Member(_)), .. }
                | Expr::Perform { effect: Ref::Member(_), .. }
        )
    })
}

/// Applies an automatic plan to a JSON value already checked against the old type.
/// `defaults` holds the evaluated defaults. A plan that needs a migration never gets here;
/// `Err` means a shape the check should have refused.
fn apply(plan: &Plan, json: Json, defaults: &Defaults) -> Result<Json, String> {
    Ok(match plan {
        Plan::Keep => json,
        Plan::Migrate => return Err("a change that needs a migration".into()),
        Plan::Some { inner, tagged } => {
            let v = apply(inner, json, defaults)?;
            if *tagged { tag_some(v) } else { v }
        }
        Plan::List(inner) => match json {
            Json::Array(xs) => Json::Array(
                xs.into_iter().map(|x| apply(inner, x, defaults)).collect::<Result<_, _>>()?,
            ),
            other => return Err(format!("expected an array, found {other}")),
        },
        Plan::Map(inner) => match json {
            Json::Object(m) => {
                let mut out = Map::new();
                for (k, v) in m {
                    out.insert(k, apply(inner, v, defaults)?);
                }
                Json::Object(out)
            }
            Json::Array(pairs) => {
                let mut out = Vec::with_capacity(pairs.len());
                for p in pairs {
                    let Json::Array(mut kv) = p else {
                        return Err("expected a [key, value] pair".into());
                    };
                    let (Some(v), Some(k)) = (kv.pop(), kv.pop()) else {
                        return Err("expected a [key, value] pair".into());
                    };
                    out.push(Json::Array(vec![k, apply(inner, v, defaults)?]));
                }
                Json::Array(out)
            }
            other => return Err(format!("expected a map, found {other}")),
        },
        Plan::Option { inner, old_tagged, new_tagged } => {
            if json.is_null() {
                Json::Null
            } else {
                let x = if *old_tagged { untag_some(json)? } else { json };
                let v = apply(inner, x, defaults)?;
                if *new_tagged { tag_some(v) } else { v }
            }
        }
        Plan::Record(fields) => {
            let Json::Object(mut m) = json else { return Err("expected an object".into()) };
            let mut out = Map::new();
            for f in fields {
                match f {
                    FieldPlan::Copy(name, p) => {
                        let v = m
                            .remove(name.as_str())
                            .ok_or_else(|| format!("missing field `{name}`"))?;
                        out.insert(name.to_string(), apply(p, v, defaults)?);
                    }
                    FieldPlan::FillNone(name) => {
                        out.insert(name.to_string(), Json::Null);
                    }
                    FieldPlan::FillDefault { name, expr, .. } => {
                        let v = defaults
                            .get(&(expr as *const _))
                            .ok_or_else(|| format!("the default of `{name}` was not evaluated"))?;
                        out.insert(name.to_string(), v.clone());
                    }
                    FieldPlan::Drop { used: false, .. } => {}
                    FieldPlan::Drop { name, used: true } => {
                        return Err(format!(
                            "`{name}` is read by the program: dropping it needs a migration"
                        ));
                    }
                    FieldPlan::Missing(name) => {
                        return Err(format!("no value for the new field `{name}`"));
                    }
                }
            }
            Json::Object(out)
        }
    })
}

fn tag_some(v: Json) -> Json {
    let mut m = Map::new();
    m.insert("Some".into(), v);
    Json::Object(m)
}

fn untag_some(json: Json) -> Result<Json, String> {
    match json {
        Json::Object(mut m) if m.len() == 1 => {
            m.remove("Some").ok_or_else(|| "expected {\"Some\": …}".into())
        }
        _ => Err("expected {\"Some\": …}".into()),
    }
}
