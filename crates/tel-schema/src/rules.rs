//! Evolution rules: which classes of change a program accepts (`tel.toml`,
//! `[schema.evolution] allowed`), and the check of a diff against them.

use std::collections::BTreeSet;

use serde::Serialize;
use smol_str::SmolStr;
use tel_hash::CodeHash;

use crate::diff::{ChangeClass, Diff};

/// The classes of change a program accepts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// `None`: `tel.toml` says nothing, and every class is accepted (a change that needs a
    /// migration still needs one).
    pub allowed: Option<BTreeSet<ChangeClass>>,
    /// The `tel.toml` the rules come from, for messages; `None` without one.
    pub origin: Option<String>,
}

impl Rules {
    pub fn allows(&self, class: ChangeClass) -> bool {
        self.allowed.as_ref().is_none_or(|a| a.contains(&class))
    }

    /// The accepted classes, in [`ChangeClass::ALL`] order.
    pub fn allowed_list(&self) -> Vec<ChangeClass> {
        ChangeClass::ALL.into_iter().filter(|c| self.allows(*c)).collect()
    }

    /// `exchange/tel.toml (allowed: add-optional-field)`, or what applies without one.
    pub fn describe(&self) -> String {
        let allowed =
            || self.allowed_list().iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ");
        match (&self.origin, &self.allowed) {
            (None, _) => "no tel.toml: every change class allowed".to_owned(),
            (Some(o), None) => format!("{o}: every change class allowed"),
            (Some(o), Some(a)) if a.is_empty() => format!("{o}: no change class allowed"),
            (Some(o), Some(_)) => format!("{o}, allowed: {}", allowed()),
        }
    }
}

/// Which rule a change breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Its class is not in `[schema.evolution] allowed`.
    NotAllowed,
    /// It needs a migration function, and `[schema] migrations` has none for this pair of
    /// versions.
    NeedsMigration,
}

/// A change refused, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub path: String,
    /// The schema field the change is under (what an editor underlines).
    pub field: SmolStr,
    pub class: ChangeClass,
    pub rule: Rule,
    pub message: String,
}

/// Checks every change of `diff` against `rules`. `migration` is the migration function
/// configured for this pair of versions, if any: it covers the changes that need one.
/// No violations means the upgrade is accepted.
pub fn check_evolution(diff: &Diff, rules: &Rules, migration: Option<&CodeHash>) -> Vec<Violation> {
    let mut out = Vec::new();
    for c in &diff.changes {
        if !rules.allows(c.class) {
            let allowed: Vec<&str> = rules.allowed_list().iter().map(|c| c.as_str()).collect();
            let allowed = if allowed.is_empty() { "none".to_owned() } else { allowed.join(", ") };
            let origin = rules.origin.as_deref().unwrap_or("tel.toml");
            out.push(Violation {
                path: c.path.clone(),
                field: c.field.clone(),
                class: c.class,
                rule: Rule::NotAllowed,
                message: format!(
                    "`{}`: {} is not allowed by [schema.evolution] allowed in {origin} (allowed: {allowed})",
                    c.path, c.class
                ),
            });
        } else if !c.automatic && migration.is_none() {
            let lists = match &rules.origin {
                Some(o) => format!("{o} lists none in [schema] migrations"),
                None => "there is no tel.toml to list one in ([schema] migrations)".to_owned(),
            };
            out.push(Violation {
                path: c.path.clone(),
                field: c.field.clone(),
                class: c.class,
                rule: Rule::NeedsMigration,
                message: format!(
                    "`{}`: {} needs a migration function fn(#{}) -> #{}, and {lists}",
                    c.path,
                    c.class,
                    diff.old.hash.short(),
                    diff.new.hash.short(),
                ),
            });
        }
    }
    out
}
