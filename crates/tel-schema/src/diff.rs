//! Comparing two schema versions: every change with its class, and the plan that moves
//! stored state from one to the other when every change is automatic.
//!
//! Fields are matched by name. A field whose type changed is compared structurally: lists,
//! maps' values and options are followed, and a record type (a `type` or a schema) that
//! changed is compared field by field, so a field added to `Order` inside
//! `orders: List<Order>` is reported as `orders[].note`, with its own class. One function
//! ([`compare`]) produces both the report and the [`Plan`], so what is reported is what
//! [`crate::migrate`] does.

use std::collections::BTreeSet;

use serde::Serialize;
use smol_str::SmolStr;
use tel_hash::CodeHash;
use tel_hash::core::{Expr, Ref, SchemaField, Type};

use crate::code::{Code, SchemaVersion};
use crate::reads::Reads;

/// The class of a change. The kebab-case names ([`ChangeClass::as_str`]) are what
/// `tel.toml`'s `[schema.evolution] allowed` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ChangeClass {
    /// `f: T?` added: stored state gets `None`.
    AddOptionalField,
    /// `f: T = e` added: stored state gets the value of `e`.
    AddDefaultField,
    /// A field removed that no function of the program reads: its value is dropped.
    RemoveUnusedField,
    /// A lossless type change (`T` to `T?`, an enum gaining variants): values carry over.
    WidenType,
    /// Only a field's default changed (added, removed or edited): stored values stay.
    ChangeDefault,
    /// A field without a default and not optional added: old state has no value for it.
    AddRequiredField,
    /// A field removed that the program reads: dropping it changes what the program does.
    RemoveUsedField,
    /// A field removed and a required field of the same type added: probably a rename.
    RenameField,
    /// Any other type change (`T?` to `T`, `Int` to `String`, an enum losing a variant).
    ChangeType,
}

impl ChangeClass {
    pub const ALL: [ChangeClass; 9] = [
        ChangeClass::AddOptionalField,
        ChangeClass::AddDefaultField,
        ChangeClass::RemoveUnusedField,
        ChangeClass::WidenType,
        ChangeClass::ChangeDefault,
        ChangeClass::AddRequiredField,
        ChangeClass::RemoveUsedField,
        ChangeClass::RenameField,
        ChangeClass::ChangeType,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeClass::AddOptionalField => "add-optional-field",
            ChangeClass::AddDefaultField => "add-default-field",
            ChangeClass::RemoveUnusedField => "remove-unused-field",
            ChangeClass::WidenType => "widen-type",
            ChangeClass::ChangeDefault => "change-default",
            ChangeClass::AddRequiredField => "add-required-field",
            ChangeClass::RemoveUsedField => "remove-used-field",
            ChangeClass::RenameField => "rename-field",
            ChangeClass::ChangeType => "change-type",
        }
    }

    pub fn parse(text: &str) -> Option<ChangeClass> {
        ChangeClass::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// Whether stored state can follow the change without a migration function.
    pub fn automatic(self) -> bool {
        matches!(
            self,
            ChangeClass::AddOptionalField
                | ChangeClass::AddDefaultField
                | ChangeClass::RemoveUnusedField
                | ChangeClass::WidenType
                | ChangeClass::ChangeDefault
        )
    }
}

impl std::fmt::Display for ChangeClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change between two versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// Where: a field (`note`), a field of a record inside one (`orders[].note`: `[]` is
    /// every element of a list, `{}` every value of a map).
    pub path: String,
    /// The schema field the change is under: what an editor underlines.
    pub field: SmolStr,
    pub class: ChangeClass,
    pub automatic: bool,
    /// The field before (`Bool`, `Int = 5`); `None` when it did not exist.
    pub old: Option<String>,
    /// The field after; `None` when it no longer exists.
    pub new: Option<String>,
    /// What happens to stored state (`gets None`, `dropped`, `needs a migration`).
    pub state: String,
    /// For a removed field: the functions reading it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub read_by: Vec<String>,
    /// A remark (a possible rename behind an automatic change).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The overall answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The same version (same hash).
    Identical,
    /// Every change is automatic: stored state evolves without a migration function.
    Automatic,
    /// At least one change needs a migration function `fn(Old) -> New`.
    NeedsMigration,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Identical => "identical",
            Verdict::Automatic => "automatic",
            Verdict::NeedsMigration => "needs-migration",
        }
    }
}

/// A schema version as a diff names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VersionRef {
    pub name: Option<String>,
    #[serde(serialize_with = "full_hash")]
    pub hash: CodeHash,
}

pub(crate) fn full_hash<S: serde::Serializer>(h: &CodeHash, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&h.to_base32hex())
}

/// The changes between two versions, in path order, and the verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub old: VersionRef,
    pub new: VersionRef,
    pub verdict: Verdict,
    pub changes: Vec<Change>,
}

impl Diff {
    /// The changes under schema field `field` (what a hover on it shows).
    pub fn changes_of_field<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a Change> + 'a {
        self.changes.iter().filter(move |c| c.field == field)
    }
}

/// How one value moves from the old type to the new one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Same type: the value as it is.
    Keep,
    /// `T` to `T?`: convert the value, then wrap it in `Some`. `tagged` when the new inner
    /// type's JSON form needs the `{"Some": …}` tag (it is `()` or an option).
    Some {
        inner: Box<Plan>,
        tagged: bool,
    },
    List(Box<Plan>),
    /// A map's values (keys keep their type).
    Map(Box<Plan>),
    /// An option's value; `old_tagged`/`new_tagged` as for [`Plan::Some`].
    Option {
        inner: Box<Plan>,
        old_tagged: bool,
        new_tagged: bool,
    },
    /// A record (a schema, a `type`, a structural record) compared field by field.
    Record(Vec<FieldPlan>),
    /// No automatic conversion: only a migration function can make the new value.
    Migrate,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldPlan {
    /// The field is in both: its value, converted.
    Copy(SmolStr, Plan),
    /// New, optional: `None`.
    FillNone(SmolStr),
    /// New, with a default: the value of `expr` (evaluated in the sandbox), of type `ty`;
    /// `component` is the component of the schema that declares it.
    FillDefault { name: SmolStr, expr: Expr, ty: Type, component: Option<CodeHash> },
    /// Removed; `used` when the program reads it (dropping it is then not automatic).
    Drop { name: SmolStr, used: bool },
    /// New and required: no automatic value.
    Missing(SmolStr),
}

impl Plan {
    pub fn needs_migration(&self) -> bool {
        match self {
            Plan::Keep => false,
            Plan::Migrate => true,
            Plan::Some { inner, .. } | Plan::List(inner) | Plan::Map(inner) => {
                inner.needs_migration()
            }
            Plan::Option { inner, .. } => inner.needs_migration(),
            Plan::Record(fields) => fields.iter().any(|f| match f {
                FieldPlan::Copy(_, p) => p.needs_migration(),
                FieldPlan::Missing(_) => true,
                FieldPlan::Drop { used, .. } => *used,
                FieldPlan::FillNone(_) | FieldPlan::FillDefault { .. } => false,
            }),
        }
    }
}

/// Two versions compared: the report and the plan.
#[derive(Clone, Debug)]
pub struct Evolution {
    pub diff: Diff,
    pub plan: Plan,
    pub old: SchemaVersion,
    pub new: SchemaVersion,
}

/// Compares `old` (its types in `old_code`) with `new` (in `new_code`). `reads` holds the
/// reads of the program's functions (see [`Reads::of_functions`]): it decides whether a
/// removed field is used.
pub fn compare(
    old_code: &Code,
    old: &SchemaVersion,
    new_code: &Code,
    new: &SchemaVersion,
    reads: &Reads,
) -> Evolution {
    let mut cx = Cx { old_code, new_code, reads, changes: Vec::new(), visiting: BTreeSet::new() };
    let plan = if old.hash == new.hash {
        Plan::Keep
    } else {
        let fields = |s: &SchemaVersion| -> Vec<Field> {
            s.fields
                .iter()
                .map(|f: &SchemaField| Field {
                    name: f.name.clone(),
                    ty: f.ty.clone(),
                    default: f.default.clone(),
                    component: s.component,
                })
                .collect()
        };
        cx.records("", None, Some(old.hash), &fields(old), &fields(new))
    };
    let changes = cx.changes;
    let verdict = if old.hash == new.hash || changes.is_empty() {
        Verdict::Identical
    } else if changes.iter().all(|c| c.automatic) && !plan.needs_migration() {
        Verdict::Automatic
    } else {
        Verdict::NeedsMigration
    };
    let diff = Diff {
        old: VersionRef { name: old.name.clone(), hash: old.hash },
        new: VersionRef { name: new.name.clone(), hash: new.hash },
        verdict,
        changes,
    };
    Evolution { diff, plan, old: old.clone(), new: new.clone() }
}

struct Field {
    name: SmolStr,
    ty: Type,
    default: Option<Expr>,
    component: Option<CodeHash>,
}

struct Cx<'a> {
    old_code: &'a Code,
    new_code: &'a Code,
    reads: &'a Reads,
    changes: Vec<Change>,
    /// Pairs of record types being compared, so a recursive type is compared once.
    visiting: BTreeSet<(CodeHash, CodeHash)>,
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() { name.to_owned() } else { format!("{prefix}.{name}") }
}

/// The JSON form of `Some(v)` needs a tag when `v`'s own form could be `null`.
fn nullable(ty: &Type) -> bool {
    matches!(ty, Type::Unit | Type::Option(_))
}

impl Cx<'_> {
    fn push(&mut self, change: Change) {
        self.changes.push(change);
    }

    fn change(
        &self,
        path: String,
        field: &SmolStr,
        class: ChangeClass,
        old: Option<String>,
        new: Option<String>,
        state: impl Into<String>,
    ) -> Change {
        Change {
            path,
            field: field.clone(),
            class,
            automatic: class.automatic(),
            old,
            new,
            state: state.into(),
            read_by: Vec::new(),
            note: None,
        }
    }

    fn show_old(&self, ty: &Type) -> String {
        self.old_code.render_type(ty)
    }

    fn show_new(&self, ty: &Type) -> String {
        self.new_code.render_type(ty)
    }

    /// Compares the fields of two record-like types. `prefix` is the path of the record,
    /// `top` the schema field it is under (`None` at the top), `owner` the old record's
    /// nominal type (whose reads decide removals).
    fn records(
        &mut self,
        prefix: &str,
        top: Option<&SmolStr>,
        owner: Option<CodeHash>,
        old: &[Field],
        new: &[Field],
    ) -> Plan {
        let first = self.changes.len();
        let mut names: Vec<&SmolStr> = old.iter().chain(new).map(|f| &f.name).collect();
        names.sort();
        names.dedup();
        let mut plans = Vec::new();
        for name in names {
            let path = join(prefix, name);
            let field = top.unwrap_or(name).clone();
            let o = old.iter().find(|f| &f.name == name);
            let n = new.iter().find(|f| &f.name == name);
            match (o, n) {
                (Some(o), Some(n)) => {
                    let plan = self.types(&path, &field, &o.ty, &n.ty);
                    if plan == Plan::Keep && o.ty == n.ty && o.default != n.default {
                        let change = self.change(
                            path,
                            &field,
                            ChangeClass::ChangeDefault,
                            Some(self.with_default(&o.ty, o.default.as_ref(), true)),
                            Some(self.with_default(&n.ty, n.default.as_ref(), false)),
                            "keeps its value (a default only fills a missing field)",
                        );
                        self.push(change);
                    }
                    plans.push(FieldPlan::Copy(name.clone(), plan));
                }
                (None, Some(n)) => {
                    let shown = Some(self.with_default(&n.ty, n.default.as_ref(), false));
                    if let Some(expr) = &n.default {
                        let state = format!("gets {}", expr);
                        let change = self.change(
                            path,
                            &field,
                            ChangeClass::AddDefaultField,
                            None,
                            shown,
                            state,
                        );
                        self.push(change);
                        plans.push(FieldPlan::FillDefault {
                            name: name.clone(),
                            expr: expr.clone(),
                            ty: n.ty.clone(),
                            component: n.component,
                        });
                    } else if matches!(n.ty, Type::Option(_)) {
                        let change = self.change(
                            path,
                            &field,
                            ChangeClass::AddOptionalField,
                            None,
                            shown,
                            "gets None",
                        );
                        self.push(change);
                        plans.push(FieldPlan::FillNone(name.clone()));
                    } else {
                        let change = self.change(
                            path,
                            &field,
                            ChangeClass::AddRequiredField,
                            None,
                            shown,
                            "needs a migration (no default, not optional)",
                        );
                        self.push(change);
                        plans.push(FieldPlan::Missing(name.clone()));
                    }
                }
                (Some(o), None) => {
                    let readers = self.reads.readers(owner.as_ref(), name);
                    let shown = Some(self.with_default(&o.ty, o.default.as_ref(), true));
                    let mut change = if readers.is_empty() {
                        self.change(
                            path,
                            &field,
                            ChangeClass::RemoveUnusedField,
                            shown,
                            None,
                            "dropped",
                        )
                    } else {
                        self.change(
                            path,
                            &field,
                            ChangeClass::RemoveUsedField,
                            shown,
                            None,
                            "needs a migration (the program reads it)",
                        )
                    };
                    let used = !readers.is_empty();
                    change.read_by = readers;
                    self.push(change);
                    plans.push(FieldPlan::Drop { name: name.clone(), used });
                }
                (None, None) => unreachable!("every name comes from one of the two lists"),
            }
        }
        self.pair_renames(prefix, first, old, new);
        Plan::Record(plans)
    }

    /// Among the changes of one record (from `first` on): a removed field and an added
    /// required field of the same type, each the only candidate of the other, are a rename.
    /// A removed field beside an added optional or defaulted field of its type gets a note.
    fn pair_renames(&mut self, prefix: &str, first: usize, old: &[Field], new: &[Field]) {
        // Only this record's own fields: nested changes (`orders[].note`) belong to theirs.
        let own = |c: &Change, fs: &[Field]| -> Option<Type> {
            fs.iter().find(|f| c.path == join(prefix, &f.name)).map(|f| f.ty.clone())
        };
        let pick = |classes: &[ChangeClass]| -> Vec<usize> {
            (first..self.changes.len())
                .filter(|&i| classes.contains(&self.changes[i].class))
                .collect()
        };
        let removed = pick(&[ChangeClass::RemoveUnusedField, ChangeClass::RemoveUsedField]);
        let added = pick(&[
            ChangeClass::AddRequiredField,
            ChangeClass::AddOptionalField,
            ChangeClass::AddDefaultField,
        ]);
        let types: Vec<(Option<Type>, Option<Type>)> =
            self.changes.iter().map(|c| (own(c, old), own(c, new))).collect();
        let type_of = |i: usize, side_old: bool| -> Option<Type> {
            let (o, n) = &types[i];
            if side_old { o.clone() } else { n.clone() }
        };
        let classes: Vec<ChangeClass> = self.changes.iter().map(|c| c.class).collect();
        let mut renames: Vec<(usize, usize)> = Vec::new();
        for &a in &added {
            let Some(at) = type_of(a, false) else { continue };
            let same: Vec<usize> = removed
                .iter()
                .copied()
                .filter(|&r| type_of(r, true).as_ref() == Some(&at))
                .collect();
            // A `T?` field added beside a removed `T` field may be the same data, too.
            let widened: Vec<usize> = match &at {
                Type::Option(inner) => removed
                    .iter()
                    .copied()
                    .filter(|&r| type_of(r, true).as_ref() == Some(&**inner))
                    .collect(),
                _ => Vec::new(),
            };
            if classes[a] == ChangeClass::AddRequiredField {
                let [r] = same.as_slice() else { continue };
                let back: Vec<&usize> = added
                    .iter()
                    .filter(|&&x| {
                        classes[x] == ChangeClass::AddRequiredField
                            && type_of(x, false) == type_of(*r, true)
                    })
                    .collect();
                if back.len() == 1 {
                    renames.push((*r, a));
                }
            } else if let Some(&r) = same.first().or(widened.first()) {
                let from = self.changes[r].path.rsplit('.').next().unwrap_or_default().to_owned();
                self.changes[a].note = Some(format!(
                    "may be a rename of `{from}`: if so, its values are lost; write a migration"
                ));
            }
        }
        let mut gone: Vec<usize> = Vec::new();
        for (r, a) in renames {
            let from = self.changes[r].clone();
            let to = &mut self.changes[a];
            let from_name = from.path.rsplit('.').next().unwrap_or_default().to_owned();
            to.class = ChangeClass::RenameField;
            to.automatic = false;
            to.old = from.old.map(|t| format!("{from_name}: {t}"));
            let to_name = to.path.rsplit('.').next().unwrap_or_default().to_owned();
            to.new = to.new.take().map(|t| format!("{to_name}: {t}"));
            to.state = format!("needs a migration (`{from_name}` renamed to `{to_name}`?)");
            to.read_by = from.read_by;
            gone.push(r);
        }
        gone.sort_unstable();
        for r in gone.into_iter().rev() {
            self.changes.remove(r);
        }
    }

    fn with_default(&self, ty: &Type, default: Option<&Expr>, old: bool) -> String {
        let t = if old { self.show_old(ty) } else { self.show_new(ty) };
        match default {
            Some(e) => format!("{t} = {}", e),
            None => t,
        }
    }

    /// Compares two types at `path`, recording the changes; the plan for its values.
    fn types(&mut self, path: &str, field: &SmolStr, old: &Type, new: &Type) -> Plan {
        if old == new {
            return Plan::Keep;
        }
        match (old, new) {
            (Type::List(a), Type::List(b)) => {
                return Plan::List(Box::new(self.types(&format!("{path}[]"), field, a, b)));
            }
            (Type::Map(k1, a), Type::Map(k2, b)) if k1 == k2 => {
                return Plan::Map(Box::new(self.types(&format!("{path}{{}}"), field, a, b)));
            }
            (Type::Option(a), Type::Option(b)) => {
                let inner = self.types(path, field, a, b);
                return Plan::Option {
                    inner: Box::new(inner),
                    old_tagged: nullable(a),
                    new_tagged: nullable(b),
                };
            }
            (a, Type::Option(b)) if !matches!(a, Type::Option(_)) => {
                let change = self.change(
                    path.to_owned(),
                    field,
                    ChangeClass::WidenType,
                    Some(self.show_old(a)),
                    Some(self.show_new(new)),
                    "each value v becomes Some(v)",
                );
                self.push(change);
                let inner = self.types(path, field, a, b);
                return Plan::Some { inner: Box::new(inner), tagged: nullable(b) };
            }
            _ => {}
        }
        let old_shape = self.old_code.record_shape(old);
        let new_shape = self.new_code.record_shape(new);
        if let (Some(o), Some(n)) = (old_shape, new_shape) {
            if let (Some(a), Some(b)) = (o.owner, n.owner)
                && !self.visiting.insert((a, b))
            {
                return Plan::Keep;
            }
            let fields = |fs: Vec<(SmolStr, Type)>| -> Vec<Field> {
                fs.into_iter()
                    .map(|(name, ty)| Field { name, ty, default: None, component: None })
                    .collect()
            };
            // A schema used as a field type keeps its defaults.
            let with_defaults =
                |code: &Code, owner: Option<CodeHash>, fs: Vec<Field>| -> Vec<Field> {
                    let Some(schema) = owner.and_then(|h| code.schema(&h).ok()) else { return fs };
                    fs.into_iter()
                        .map(|mut f| {
                            if let Some(s) = schema.fields.iter().find(|s| s.name == f.name) {
                                f.default = s.default.clone();
                                f.component = schema.component;
                            }
                            f
                        })
                        .collect()
                };
            let of = with_defaults(self.old_code, o.owner, fields(o.fields));
            let nf = with_defaults(self.new_code, n.owner, fields(n.fields));
            return self.records(path, Some(field), o.owner, &of, &nf);
        }
        if let (Some(ov), Some(nv)) =
            (self.old_code.enum_variants(old), self.new_code.enum_variants(new))
        {
            let kept =
                ov.iter().all(|(name, fields)| nv.iter().any(|(n, f)| n == name && f == fields));
            if kept {
                let added: Vec<String> = nv
                    .iter()
                    .filter(|(n, _)| !ov.iter().any(|(o, _)| o == n))
                    .map(|(n, _)| n.to_string())
                    .collect();
                let state = if added.is_empty() {
                    "keeps its value (the variants are the same)".to_owned()
                } else {
                    format!("keeps its value (variants added: {})", added.join(", "))
                };
                let change = self.change(
                    path.to_owned(),
                    field,
                    ChangeClass::WidenType,
                    Some(self.describe_named(self.old_code, old)),
                    Some(self.describe_named(self.new_code, new)),
                    state,
                );
                self.push(change);
                return Plan::Keep;
            }
            let lost: Vec<String> = ov
                .iter()
                .filter(|(name, fields)| !nv.iter().any(|(n, f)| n == name && f == fields))
                .map(|(n, _)| n.to_string())
                .collect();
            let change = self.change(
                path.to_owned(),
                field,
                ChangeClass::ChangeType,
                Some(self.describe_named(self.old_code, old)),
                Some(self.describe_named(self.new_code, new)),
                format!("needs a migration (variants removed or changed: {})", lost.join(", ")),
            );
            self.push(change);
            return Plan::Migrate;
        }
        let (mut a, mut b) = (self.show_old(old), self.show_new(new));
        if a == b {
            a = self.describe_named(self.old_code, old);
            b = self.describe_named(self.new_code, new);
        }
        let change = self.change(
            path.to_owned(),
            field,
            ChangeClass::ChangeType,
            Some(a),
            Some(b),
            "needs a migration (not a lossless change)",
        );
        self.push(change);
        Plan::Migrate
    }

    /// A named type shown with its short hash, where two versions share a name.
    fn describe_named(&self, code: &Code, ty: &Type) -> String {
        match ty {
            Type::Named(Ref::Hash(h)) => format!("{} #{}", code.short_name(h), h.short()),
            other => code.render_type(other),
        }
    }
}

impl Diff {
    /// The diff as a text table, then the verdict: what `tel schema diff` prints.
    pub fn table(&self) -> String {
        let version = |v: &VersionRef| match &v.name {
            Some(n) => format!("{n} #{}", v.hash.short()),
            None => format!("#{}", v.hash.short()),
        };
        let mut out = format!("{} -> {}\n", version(&self.old), version(&self.new));
        if !self.changes.is_empty() {
            let dash = || "-".to_owned();
            let rows: Vec<[String; 5]> =
                std::iter::once(["change", "path", "old", "new", "stored state"].map(String::from))
                    .chain(self.changes.iter().map(|c| {
                        [
                            c.class.as_str().to_owned(),
                            c.path.clone(),
                            c.old.clone().unwrap_or_else(dash),
                            c.new.clone().unwrap_or_else(dash),
                            c.state.clone(),
                        ]
                    }))
                    .collect();
            let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
            let widths = [width(0), width(1), width(2), width(3)];
            out.push('\n');
            for (n, r) in rows.iter().enumerate() {
                let mut line = String::new();
                for (i, w) in widths.iter().enumerate() {
                    line.push_str(&format!("{:<w$}  ", r[i], w = *w));
                }
                line.push_str(&r[4]);
                out.push_str(line.trim_end());
                out.push('\n');
                if n == 0 {
                    continue;
                }
                let c = &self.changes[n - 1];
                let indent = " ".repeat(widths[0] + 2);
                if !c.read_by.is_empty() {
                    out.push_str(&format!("{indent}read by {}\n", c.read_by.join(", ")));
                }
                if let Some(note) = &c.note {
                    out.push_str(&format!("{indent}note: {note}\n"));
                }
            }
        }
        let manual = self.changes.iter().filter(|c| !c.automatic).count();
        let total = self.changes.len();
        out.push('\n');
        out.push_str(&match self.verdict {
            Verdict::Identical => "verdict: identical (the same version)\n".to_owned(),
            Verdict::Automatic => format!(
                "verdict: automatic ({total} change{}, stored state evolves without a migration)\n",
                if total == 1 { "" } else { "s" }
            ),
            Verdict::NeedsMigration => format!(
                "verdict: needs-migration ({manual} of {total} change{} need{} a migration function fn(Old) -> New)\n",
                if total == 1 { "" } else { "s" },
                if manual == 1 { "s" } else { "" }
            ),
        });
        out
    }
}
