//! The JSON form of TEL values (`tel run --args`, `--json`): language.md §10's canonical
//! form of stored state, extended to every runtime value. docs/values-json.md is the
//! reference.
//!
//! Encoding needs no type: a value carries its record field names, its enum and variant, and
//! whether it is an option. Decoding goes against a type (the entry point's parameter types
//! for `--args`): `null` is `()` or `None`, an integer is an `Int` or a `Duration`, and a
//! variant name needs its enum. So the round trip is `decode(ty, encode(v)) == v` for a value
//! `v` of type `ty`.

use crate::program::{Program, StoredDef};
use crate::value::{RecordType, Value};
use serde_json::{Map, Value as Json};
use smol_str::SmolStr;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tel_hash::CodeHash;
use tel_hash::core::{CoreDef, Ref, Type};

/// JSON documents nest at most this deep, counting arrays and objects: what `serde_json`'s
/// parser reads back (128) less room for an envelope such as `{"value": …}`. A deeper value
/// is refused when encoding, so everything encoded can be decoded.
pub const MAX_DEPTH: usize = 120;

/// A value that has no JSON form, or JSON that is not a value of the expected type. `at` is
/// a JSON path: `$` the document, `$[2]` an element, `$.price` a member.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("at {at}: {message}")]
pub struct JsonError {
    pub at: String,
    pub message: String,
}

fn fail<T>(at: &str, message: impl Into<String>) -> Result<T, JsonError> {
    Err(JsonError { at: at.to_string(), message: message.into() })
}

/// The JSON form of `v`. `program` names enum variants (a value's enum is loaded with the
/// program that produced it).
pub fn encode(program: &Program, v: &Value) -> Result<Json, JsonError> {
    encode_at(program, v, "$", 0)
}

/// [`encode`] as compact JSON text.
pub fn encode_string(program: &Program, v: &Value) -> Result<String, JsonError> {
    Ok(encode(program, v)?.to_string())
}

/// Opens a JSON container at `depth` (the number of containers around it): the depth of
/// its children, or an error past [`MAX_DEPTH`].
fn open(at: &str, depth: usize) -> Result<usize, JsonError> {
    if depth >= MAX_DEPTH {
        return fail(at, format!("the value nests deeper than {MAX_DEPTH} JSON levels"));
    }
    Ok(depth + 1)
}

fn encode_at(program: &Program, v: &Value, at: &str, depth: usize) -> Result<Json, JsonError> {
    let array = |xs: &mut dyn Iterator<Item = &Value>, at: &str, depth: usize| {
        let d = open(at, depth)?;
        let items = xs.enumerate().map(|(i, x)| encode_at(program, x, &format!("{at}[{i}]"), d));
        items.collect::<Result<Vec<_>, _>>().map(Json::Array)
    };
    Ok(match v {
        Value::Int(i) | Value::Duration(i) => Json::from(*i),
        Value::Bool(b) => Json::Bool(*b),
        Value::String(s) => Json::String(s.to_string()),
        Value::Unit | Value::Option(None) => Json::Null,
        Value::List(xs) => array(&mut xs.iter(), at, depth)?,
        Value::Map(m) if m.keys().all(|k| matches!(k, Value::String(_))) => {
            let d = open(at, depth)?;
            let mut out = Map::new();
            for (k, x) in m.iter() {
                let Value::String(k) = k else { unreachable!("all keys are strings") };
                out.insert(k.to_string(), encode_at(program, x, &member(at, k), d)?);
            }
            Json::Object(out)
        }
        Value::Map(m) => {
            let d = open(at, depth)?;
            let pairs = m
                .iter()
                .enumerate()
                .map(|(i, (k, x))| array(&mut [k, x].into_iter(), &format!("{at}[{i}]"), d));
            Json::Array(pairs.collect::<Result<_, _>>()?)
        }
        Value::Record { fields, .. } => {
            let d = open(at, depth)?;
            let mut out = Map::new();
            for (name, x) in fields.iter() {
                out.insert(name.to_string(), encode_at(program, x, &member(at, name), d)?);
            }
            Json::Object(out)
        }
        Value::Variant { owner, index, fields } => {
            let Some(name) = program.enums.get(owner).and_then(|vs| vs.get(*index as usize)) else {
                return fail(at, format!("variant {index} of enum #{} is unknown", owner.short()));
            };
            if fields.is_empty() {
                Json::String(name.to_string())
            } else {
                let d = open(at, depth)?;
                let mut out = Map::new();
                let fields = array(&mut fields.iter(), &member(at, name), d)?;
                out.insert(name.to_string(), fields);
                Json::Object(out)
            }
        }
        Value::Option(Some(x)) => {
            // `Some(())` and `Some(None)` would both read back as `null`: tag them.
            if matches!(**x, Value::Unit | Value::Option(_)) {
                let d = open(at, depth)?;
                let mut out = Map::new();
                out.insert("Some".into(), encode_at(program, x, &member(at, "Some"), d)?);
                Json::Object(out)
            } else {
                encode_at(program, x, at, depth)?
            }
        }
        Value::Closure { .. } | Value::Builtin(_) => {
            return fail(at, "a function has no JSON form");
        }
    })
}

fn member(at: &str, name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!("{at}.{name}")
    } else {
        format!("{at}[{}]", Json::String(name.to_string()))
    }
}

/// The definitions a decoder looks named types up in (the store's, or a loaded project's).
pub type Defs = HashMap<CodeHash, StoredDef>;

/// Decodes `json` as a value of type `ty`. Named types are looked up in `defs`.
pub fn decode(defs: &Defs, ty: &Type, json: &Json) -> Result<Value, JsonError> {
    Decoder { defs }.value(ty, json, "$", None)
}

/// Decodes `--args`: a JSON array with one element per parameter.
pub fn decode_args(defs: &Defs, params: &[Type], text: &str) -> Result<Vec<Value>, JsonError> {
    let json: Json = serde_json::from_str(text)
        .map_err(|e| JsonError { at: "$".into(), message: format!("not JSON: {e}") })?;
    let Json::Array(items) = &json else {
        return fail("$", format!("expected an array of {} arguments", params.len()));
    };
    if items.len() != params.len() {
        return fail("$", format!("expected {} arguments, found {}", params.len(), items.len()));
    }
    let d = Decoder { defs };
    params
        .iter()
        .zip(items)
        .enumerate()
        .map(|(i, (ty, x))| d.value(ty, x, &format!("$[{i}]"), None))
        .collect()
}

struct Decoder<'a> {
    defs: &'a Defs,
}

impl Decoder<'_> {
    /// `component` resolves `Ref::Member`s of the definition whose types are being read.
    fn value(
        &self,
        ty: &Type,
        json: &Json,
        at: &str,
        component: Option<CodeHash>,
    ) -> Result<Value, JsonError> {
        let expected = |what: &str| fail(at, format!("expected {what}, found {}", kind(json)));
        Ok(match ty {
            Type::Int => match json.as_i64() {
                Some(i) => Value::Int(i),
                None => return expected("an integer (64-bit)"),
            },
            Type::Bool => match json {
                Json::Bool(b) => Value::Bool(*b),
                _ => return expected("true or false"),
            },
            Type::String => match json {
                Json::String(s) => Value::String(s.into()),
                _ => return expected("a string"),
            },
            Type::Duration => match json {
                Json::String(s) => match parse_duration(s) {
                    Some(ms) => Value::Duration(ms),
                    None => {
                        return fail(
                            at,
                            format!(
                                "\"{s}\" is not a duration (milliseconds, or a TEL literal such as \"90s\")"
                            ),
                        );
                    }
                },
                _ => match json.as_i64() {
                    Some(ms) => Value::Duration(ms),
                    None => return expected("a duration in milliseconds"),
                },
            },
            Type::Unit => match json {
                Json::Null => Value::Unit,
                _ => return expected("null (the unit value)"),
            },
            Type::Hash => return fail(at, "Hash values have no runtime form yet"),
            Type::List(t) => match json {
                Json::Array(xs) => Value::list(
                    xs.iter()
                        .enumerate()
                        .map(|(i, x)| self.value(t, x, &format!("{at}[{i}]"), component))
                        .collect::<Result<_, _>>()?,
                ),
                _ => return expected("an array"),
            },
            Type::Map(k, v) => {
                let mut out = BTreeMap::new();
                match json {
                    Json::Object(m) if m.is_empty() => {}
                    Json::Object(m) if **k == Type::String => {
                        for (key, x) in m {
                            let x = self.value(v, x, &member(at, key), component)?;
                            out.insert(Value::String(key.into()), x);
                        }
                    }
                    Json::Object(_) => {
                        return fail(
                            at,
                            "only maps with String keys are JSON objects; write [[key, value], …]",
                        );
                    }
                    Json::Array(pairs) => {
                        for (i, p) in pairs.iter().enumerate() {
                            let at = format!("{at}[{i}]");
                            let Json::Array(kv) = p else {
                                return fail(
                                    &at,
                                    format!("expected a [key, value] pair, found {}", kind(p)),
                                );
                            };
                            let [key, x] = kv.as_slice() else {
                                return fail(
                                    &at,
                                    format!(
                                        "expected a [key, value] pair, found {} elements",
                                        kv.len()
                                    ),
                                );
                            };
                            let key = self.value(k, key, &format!("{at}[0]"), component)?;
                            let x = self.value(v, x, &format!("{at}[1]"), component)?;
                            if out.insert(key, x).is_some() {
                                return fail(&at, "a key appears twice");
                            }
                        }
                    }
                    _ => return expected("an object or an array of [key, value] pairs"),
                }
                Value::map(out)
            }
            Type::Option(t) => {
                let nullable = matches!(**t, Type::Unit | Type::Option(_));
                match json {
                    Json::Null => Value::Option(None),
                    Json::Object(m) if nullable => match (m.len(), m.get("Some")) {
                        (1, Some(x)) => Value::Option(Some(Arc::new(self.value(
                            t,
                            x,
                            &member(at, "Some"),
                            component,
                        )?))),
                        _ => return fail(at, "expected null or {\"Some\": …}"),
                    },
                    _ if nullable => return expected("null or {\"Some\": …}"),
                    x => Value::Option(Some(Arc::new(self.value(t, x, at, component)?))),
                }
            }
            Type::Record(fields) => self.record(RecordType(None), fields, json, at, component)?,
            Type::Named(r) => {
                let hash = match r {
                    Ref::Hash(h) => *h,
                    Ref::Member(i) => match component {
                        Some(c) => tel_hash::member_hash(&c, *i),
                        None => return fail(at, "a component member outside its component"),
                    },
                    Ref::Def(n) => return fail(at, format!("the type `{n}` is not hashed")),
                    Ref::Builtin(b) => return fail(at, format!("`{}` is not a type", b.name())),
                };
                let Some(stored) = self.defs.get(&hash) else {
                    return fail(at, format!("the type #{} is not in the codebase", hash.short()));
                };
                let component = stored.component;
                match &stored.def {
                    CoreDef::Type { ty: Type::Record(fields) } => {
                        self.record(RecordType(Some(hash)), fields, json, at, component)?
                    }
                    CoreDef::Type { ty } => self.value(ty, json, at, component)?,
                    CoreDef::Schema { fields } => {
                        let fields: Vec<_> =
                            fields.iter().map(|f| (f.name.clone(), f.ty.clone())).collect();
                        self.record(RecordType(Some(hash)), &fields, json, at, component)?
                    }
                    CoreDef::Enum { variants } => {
                        let (name, args) = match json {
                            Json::String(s) => (s.as_str(), None),
                            Json::Object(m) if m.len() == 1 => {
                                let (k, v) = m.iter().next().unwrap();
                                (k.as_str(), Some(v))
                            }
                            _ => {
                                return expected(
                                    "an enum value (\"Variant\" or {\"Variant\": [fields…]})",
                                );
                            }
                        };
                        let Some(index) = variants.iter().position(|v| v.name == name) else {
                            let names: Vec<_> = variants.iter().map(|v| v.name.as_str()).collect();
                            return fail(
                                at,
                                format!("unknown variant `{name}` (one of {})", names.join(", ")),
                            );
                        };
                        let tys = &variants[index].fields;
                        let at = member(at, name);
                        let fields = match (args, tys.is_empty()) {
                            (None, true) => Vec::new(),
                            (None, false) => {
                                return fail(
                                    &at,
                                    format!(
                                        "`{name}` has {} fields: write {{\"{name}\": […]}}",
                                        tys.len()
                                    ),
                                );
                            }
                            (Some(Json::Array(xs)), false) if xs.len() == tys.len() => tys
                                .iter()
                                .zip(xs)
                                .enumerate()
                                .map(|(i, (t, x))| {
                                    self.value(t, x, &format!("{at}[{i}]"), component)
                                })
                                .collect::<Result<_, _>>()?,
                            (Some(_), true) => {
                                return fail(
                                    &at,
                                    format!("`{name}` has no fields: write \"{name}\""),
                                );
                            }
                            (Some(_), false) => {
                                return fail(
                                    &at,
                                    format!(
                                        "expected an array of the {} fields of `{name}`",
                                        tys.len()
                                    ),
                                );
                            }
                        };
                        Value::Variant {
                            owner: hash,
                            index: index as u32,
                            fields: Arc::new(fields),
                        }
                    }
                    CoreDef::Fn { .. } | CoreDef::Effect { .. } => {
                        return fail(at, format!("#{} is not a type", hash.short()));
                    }
                }
            }
            Type::Fn { .. } => return fail(at, "a function has no JSON form"),
        })
    }

    fn record(
        &self,
        ty: RecordType,
        fields: &[(SmolStr, Type)],
        json: &Json,
        at: &str,
        component: Option<CodeHash>,
    ) -> Result<Value, JsonError> {
        let Json::Object(m) = json else {
            return fail(at, format!("expected an object (a record), found {}", kind(json)));
        };
        if let Some(extra) = m.keys().find(|k| !fields.iter().any(|(n, _)| n == k.as_str())) {
            return fail(at, format!("unknown field `{extra}`"));
        }
        let mut out = Vec::with_capacity(fields.len());
        for (name, t) in fields {
            let Some(x) = m.get(name.as_str()) else {
                return fail(at, format!("missing field `{name}`"));
            };
            out.push((name.clone(), self.value(t, x, &member(at, name), component)?));
        }
        // Records keep their fields sorted by name (the core IR's order).
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(Value::Record { ty, fields: Arc::new(out) })
    }
}

fn kind(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Json::Number(_) => "a non-integer number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// A TEL duration literal (`250ms`, `90s`, `15min`, `2h`, `1d`, digits may hold `_`, an
/// optional leading `-`) in milliseconds.
pub fn parse_duration(text: &str) -> Option<i64> {
    let (neg, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let split = rest.find(|c: char| !c.is_ascii_digit() && c != '_')?;
    let (digits, unit) = rest.split_at(split);
    if digits.is_empty() || digits.starts_with('_') {
        return None;
    }
    let n: i64 = digits.replace('_', "").parse().ok()?;
    let scale = match unit {
        "ms" => 1,
        "s" => 1_000,
        "min" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return None,
    };
    let ms = n.checked_mul(scale)?;
    Some(if neg { -ms } else { ms })
}
