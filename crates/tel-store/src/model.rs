//! What goes into the store and what comes out. Every report serializes to JSON (`--json`,
//! hashes as their 52-character text) and displays as the CLI's text output, so each
//! `tel store` command is one call and one print.

use crate::hash_text::{serde_text, short, to_text};
use std::fmt;
use tel_hash::CodeHash;
use tel_hash::core::DefKind;

/// Member `index` of a mutually recursive component (`#component.index`). Its hash is
/// `tel_hash::member_hash(component, index)`; the component hash covers every member's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct ComponentMember {
    #[serde(serialize_with = "serde_text::serialize")]
    pub component: CodeHash,
    pub index: u32,
}

/// A definition to add: produced by lowering and hashing a source file.
///
/// The store checks the hash against the content: `tel_hash::hash_bytes(canonical)` for a
/// definition alone, and for a component member the member hash plus the component hash over
/// all members' bytes (so a component is added whole, in one batch).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDefinition {
    pub hash: CodeHash,
    /// `None` for a definition alone in its component (the usual case).
    pub component: Option<ComponentMember>,
    pub kind: DefKind,
    /// Fully qualified (`treasury::fee`).
    pub name: String,
    /// tel-hash's canonical serialization (`HashedMember::bytes`).
    pub canonical: Vec<u8>,
    /// The definition's source text, kept as metadata (shown by `view`, never hashed).
    pub source: String,
    /// Hashes this definition refers to; each must be in the same batch or already stored.
    pub dependencies: Vec<CodeHash>,
}

/// A stored definition, as the engine and the runtime load it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StoredDefinition {
    #[serde(serialize_with = "serde_text::serialize")]
    pub hash: CodeHash,
    pub component: Option<ComponentMember>,
    #[serde(serialize_with = "kind_serde")]
    pub kind: DefKind,
    #[serde(skip)]
    pub canonical: Vec<u8>,
    /// The source text stored when the hash was first seen.
    pub source: String,
    /// Unix seconds.
    pub first_seen: i64,
    /// Direct dependencies, sorted by hash. A component member depends on its siblings.
    #[serde(serialize_with = "hash_list_serde")]
    pub dependencies: Vec<CodeHash>,
}

/// A definition with the names that currently point at it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DefRef {
    #[serde(serialize_with = "serde_text::serialize")]
    pub hash: CodeHash,
    #[serde(serialize_with = "kind_serde")]
    pub kind: DefKind,
    /// Sorted; empty for a definition whose names all moved on.
    pub names: Vec<String>,
}

/// One current name.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct NameEntry {
    pub name: String,
    #[serde(serialize_with = "serde_text::serialize")]
    pub hash: CodeHash,
    #[serde(serialize_with = "kind_serde")]
    pub kind: DefKind,
}

/// What adding did to one definition's name.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Outcome {
    /// The name did not exist; it now points at the definition.
    New,
    /// The name existed and now points at this new hash instead of `old`.
    Updated {
        #[serde(serialize_with = "serde_text::serialize")]
        old: CodeHash,
    },
    /// The name already pointed at this hash.
    Unchanged,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Added {
    pub name: String,
    #[serde(serialize_with = "serde_text::serialize")]
    pub hash: CodeHash,
    #[serde(serialize_with = "kind_serde")]
    pub kind: DefKind,
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Whether the definition itself was new to the store (a new name can point at a
    /// definition stored before under another name).
    pub stored: bool,
}

/// The result of `add_definitions`, in input order.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AddReport {
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub definitions: Vec<Added>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RenameReport {
    pub old: String,
    pub new: String,
    #[serde(serialize_with = "serde_text::serialize")]
    pub hash: CodeHash,
}

/// `tel store view`: a definition, its names, its source and what it depends on.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DefinitionView {
    #[serde(serialize_with = "serde_text::serialize")]
    pub hash: CodeHash,
    pub component: Option<ComponentMember>,
    #[serde(serialize_with = "kind_serde")]
    pub kind: DefKind,
    pub names: Vec<String>,
    pub first_seen: i64,
    pub canonical_bytes: usize,
    pub source: String,
    pub dependencies: Vec<DefRef>,
}

/// `tel store deps`: direct dependencies, direct dependents, and every transitive dependent
/// (what a change to this definition would reach).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DepsReport {
    pub definition: DefRef,
    pub dependencies: Vec<DefRef>,
    pub dependents: Vec<DefRef>,
    pub transitive_dependents: Vec<DefRef>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Bind,
    Update,
    Rename,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Bind => "bind",
            Action::Update => "update",
            Action::Rename => "rename",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Action> {
        Some(match text {
            "bind" => Action::Bind,
            "update" => Action::Update,
            "rename" => Action::Rename,
            _ => return None,
        })
    }
}

/// One entry of the append-only name history.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct HistoryEvent {
    /// Order of events across the whole codebase.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    pub action: Action,
    /// The name after the event.
    pub name: String,
    /// For a rename: the name before.
    pub old_name: Option<String>,
    /// The definition the name points at after the event.
    #[serde(serialize_with = "serde_text::serialize")]
    pub hash: CodeHash,
    /// For an update: the definition it pointed at before.
    #[serde(serialize_with = "serde_text::option::serialize")]
    pub old_hash: Option<CodeHash>,
    pub reason: String,
}

/// `tel store history NAME`: newest first, following renames back to the first binding.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct History {
    pub name: String,
    pub events: Vec<HistoryEvent>,
}

/// `tel store log`: the most recent changes to names, newest first.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Log {
    pub events: Vec<HistoryEvent>,
}

/// `tel store list` and `tel store find`: current names, sorted.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Names {
    pub names: Vec<NameEntry>,
}

/// `tel store stats`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Stats {
    pub path: std::path::PathBuf,
    pub format_version: i64,
    pub definitions: i64,
    pub names: i64,
    pub history_events: i64,
    pub dependency_edges: i64,
    /// Sum of the canonical serializations.
    pub canonical_bytes: i64,
    /// Sum of the stored source texts.
    pub source_bytes: i64,
    /// The database's size in pages (including what is still in the write-ahead log).
    pub file_bytes: i64,
    /// Compiled RISC-V functions kept (of every code generator) and their bytes.
    pub compiled_functions: i64,
    pub compiled_bytes: i64,
}

impl Stats {
    /// File bytes per stored definition (0 for an empty codebase).
    pub fn bytes_per_definition(&self) -> f64 {
        if self.definitions == 0 { 0.0 } else { self.file_bytes as f64 / self.definitions as f64 }
    }
}

pub(crate) fn parse_kind(text: &str) -> Option<DefKind> {
    Some(match text {
        "fn" => DefKind::Fn,
        "type" => DefKind::Type,
        "enum" => DefKind::Enum,
        "effect" => DefKind::Effect,
        "schema" => DefKind::Schema,
        _ => return None,
    })
}

fn kind_serde<S: serde::Serializer>(kind: &DefKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(kind.as_str())
}

fn hash_list_serde<S: serde::Serializer>(hashes: &[CodeHash], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(hashes.iter().map(to_text))
}

/// `2026-11-22 04:35:00Z` from unix seconds, without a date library: days to civil date by
/// Howard Hinnant's algorithm (proleptic Gregorian, UTC).
pub fn format_time(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn names_or_dash(names: &[String]) -> String {
    if names.is_empty() { "-".to_owned() } else { names.join(", ") }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::New => "new",
            Outcome::Updated { .. } => "updated",
            Outcome::Unchanged => "unchanged",
        })
    }
}

impl fmt::Display for AddReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Added {} new, updated {}, unchanged {}",
            self.new, self.updated, self.unchanged
        )?;
        for d in &self.definitions {
            writeln!(f, "{} {} ({})", short(&d.hash), d.name, d.outcome)?;
        }
        Ok(())
    }
}

impl fmt::Display for RenameReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Renamed {} to {} ({})", self.old, self.new, short(&self.hash))
    }
}

impl fmt::Display for Names {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for n in &self.names {
            writeln!(f, "{} {:<6} {}", short(&n.hash), n.kind.as_str(), n.name)?;
        }
        Ok(())
    }
}

impl fmt::Display for DefRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {:<6} {}",
            to_text(&self.hash),
            self.kind.as_str(),
            names_or_dash(&self.names)
        )
    }
}

impl fmt::Display for DefinitionView {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} ({})", names_or_dash(&self.names), self.kind.as_str())?;
        writeln!(f, "hash        #{}", to_text(&self.hash))?;
        if let Some(m) = &self.component {
            writeln!(f, "member      #{}.{}", to_text(&m.component), m.index)?;
        }
        writeln!(f, "first seen  {}", format_time(self.first_seen))?;
        writeln!(f, "canonical   {} bytes", self.canonical_bytes)?;
        if self.dependencies.is_empty() {
            writeln!(f, "depends on  nothing")?;
        } else {
            writeln!(f, "depends on")?;
            for d in &self.dependencies {
                writeln!(f, "  {d}")?;
            }
        }
        writeln!(f)?;
        f.write_str(&self.source)?;
        if !self.source.ends_with('\n') {
            writeln!(f)?;
        }
        Ok(())
    }
}

impl fmt::Display for DepsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.definition)?;
        let section = |f: &mut fmt::Formatter<'_>, title: &str, list: &[DefRef]| {
            writeln!(f, "{title} ({}):", list.len())?;
            for d in list {
                writeln!(f, "  {d}")?;
            }
            Ok(())
        };
        section(f, "dependencies", &self.dependencies)?;
        section(f, "dependents", &self.dependents)?;
        section(f, "transitive dependents", &self.transitive_dependents)
    }
}

impl fmt::Display for HistoryEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}  ", format_time(self.at))?;
        match (self.action, &self.old_name, &self.old_hash) {
            (Action::Rename, Some(old), _) => {
                write!(f, "rename  {old} -> {} ({})", self.name, short(&self.hash))?
            }
            (Action::Update, _, Some(old)) => {
                write!(f, "update  {} {} -> {}", self.name, short(old), short(&self.hash))?
            }
            _ => write!(f, "{:<6}  {} {}", self.action.as_str(), self.name, short(&self.hash))?,
        }
        if !self.reason.is_empty() {
            write!(f, "  [{}]", self.reason)?;
        }
        Ok(())
    }
}

impl fmt::Display for History {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.events {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Log {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.events {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "codebase         {}", self.path.display())?;
        writeln!(f, "format version   {}", self.format_version)?;
        writeln!(f, "definitions      {}", self.definitions)?;
        writeln!(f, "names            {}", self.names)?;
        writeln!(f, "history events   {}", self.history_events)?;
        writeln!(f, "dependency edges {}", self.dependency_edges)?;
        writeln!(f, "canonical bytes  {}", self.canonical_bytes)?;
        writeln!(f, "source bytes     {}", self.source_bytes)?;
        writeln!(f, "file bytes       {}", self.file_bytes)?;
        writeln!(f, "bytes/definition {:.0}", self.bytes_per_definition())?;
        writeln!(
            f,
            "compiled code    {} RISC-V functions, {} bytes",
            self.compiled_functions, self.compiled_bytes
        )
    }
}

#[cfg(test)]
mod tests {
    use super::format_time;

    #[test]
    fn times() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00Z");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00:00Z");
        assert_eq!(format_time(1_795_320_000), "2026-11-22 04:00:00Z");
        assert_eq!(format_time(-1), "1969-12-31 23:59:59Z");
    }
}
