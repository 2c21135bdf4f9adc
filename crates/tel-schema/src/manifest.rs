//! `tel.toml`: the program settings schema evolution reads (language.md §11.3 and
//! docs/schema.md). Unknown keys are errors, and every error names the file, the line and
//! the column.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tel_hash::HashPrefix;
use toml::Spanned;

use crate::diff::ChangeClass;
use crate::rules::Rules;
use crate::safe::SafeState;

/// A parsed `tel.toml`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifest {
    pub path: PathBuf,
    pub name: String,
    pub version: String,
    /// `module::Name` of the stored state's schema.
    pub schema: Option<String>,
    pub safe_state: SafeState,
    /// `[safe-state] timeout`, in milliseconds.
    pub timeout_ms: Option<u64>,
    /// `[safe-state] degraded`: a pure `fn(S) -> S` (S the schema) giving the state a run is
    /// moved to when a pending call outlives the timeout.
    pub degraded: Option<HashRef>,
    /// `[schema.evolution] allowed`.
    pub rules: Rules,
    /// `[schema] migrations`: pure `fn(Old) -> New` functions by hash.
    pub migrations: Vec<HashRef>,
}

/// A `#hash` prefix written in `tel.toml`, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HashRef {
    pub prefix: HashPrefix,
    /// `exchange/tel.toml:12:15`.
    pub place: String,
}

impl HashRef {
    pub fn text(&self) -> String {
        format!("#{}", self.prefix.digits())
    }
}

/// A `tel.toml` that cannot be used: the message names the file and the place.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {message}")]
pub struct ManifestError {
    /// `path:line:column`, or the path alone.
    pub place: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    program: RawProgram,
    #[serde(rename = "safe-state")]
    safe_state: Option<RawSafeState>,
    schema: Option<RawSchema>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProgram {
    name: Spanned<String>,
    version: Spanned<String>,
    schema: Option<Spanned<String>>,
    #[serde(rename = "safe-state")]
    safe_state: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSafeState {
    timeout: Option<Spanned<String>>,
    degraded: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchema {
    migrations: Option<Vec<Spanned<String>>>,
    evolution: Option<RawEvolution>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvolution {
    allowed: Vec<Spanned<String>>,
}

/// `path:line:column` of byte `offset` in `text` (1-based, columns in characters).
fn place(path: &Path, text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    format!("{}:{line}:{col}", path.display())
}

impl Manifest {
    /// Reads and parses the `tel.toml` at `path`.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path).map_err(|e| ManifestError {
            place: path.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        Manifest::parse(&text, path)
    }

    /// The `tel.toml` of the project holding `start` (a file or folder), if any.
    pub fn find(start: &Path) -> Option<PathBuf> {
        let dir = if start.is_dir() { start } else { start.parent()? };
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        tel_store::location::find_project_root(dir).map(|root| root.join("tel.toml"))
    }

    pub fn parse(text: &str, path: &Path) -> Result<Manifest, ManifestError> {
        let at = |span: Range<usize>, message: String| ManifestError {
            place: place(path, text, span.start),
            message,
        };
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let message = e.message().trim_end().to_owned();
            match e.span() {
                Some(span) => at(span, message),
                None => ManifestError { place: path.display().to_string(), message },
            }
        })?;
        let p = raw.program;
        if p.name.get_ref().trim().is_empty() {
            return Err(at(p.name.span(), "[program] name is empty".into()));
        }
        if !is_semver(p.version.get_ref()) {
            return Err(at(
                p.version.span(),
                format!(
                    "[program] version `{}` is not a semantic version (MAJOR.MINOR.PATCH, such as 0.1.0)",
                    p.version.get_ref()
                ),
            ));
        }
        let schema = match p.schema {
            Some(s) => {
                let text = s.get_ref();
                let ok = text.split_once("::").is_some_and(|(m, n)| {
                    !m.is_empty()
                        && m.split("::").all(is_ident)
                        && is_ident(n)
                        && n.starts_with(|c: char| c.is_ascii_uppercase())
                });
                if !ok {
                    return Err(at(
                        s.span(),
                        format!(
                            "[program] schema `{text}` is not `module::Name` (such as \"state::Book\")"
                        ),
                    ));
                }
                Some(text.clone())
            }
            None => None,
        };
        let safe_state = match p.safe_state {
            Some(s) => SafeState::parse(s.get_ref()).ok_or_else(|| {
                at(
                    s.span(),
                    format!(
                        "[program] safe-state `{}` is not one of {}",
                        s.get_ref(),
                        SafeState::ALL.map(|s| format!("\"{}\"", s.as_str())).join(", ")
                    ),
                )
            })?,
            None => SafeState::default(),
        };
        let hash_ref = |s: &Spanned<String>, what: &str| -> Result<HashRef, ManifestError> {
            let value = s.get_ref();
            if !value.starts_with('#') {
                return Err(at(s.span(), format!("{what} `{value}` is not a `#hash` reference")));
            }
            let prefix = HashPrefix::parse(value)
                .map_err(|e| at(s.span(), format!("{what} `{value}`: {e}")))?;
            Ok(HashRef { prefix, place: place(path, text, s.span().start) })
        };
        let (mut timeout_ms, mut degraded) = (None, None);
        if let Some(s) = raw.safe_state {
            if let Some(t) = s.timeout {
                match tel_vm::json::parse_duration(t.get_ref()) {
                    Some(ms) if ms > 0 => timeout_ms = Some(ms as u64),
                    _ => {
                        return Err(at(
                            t.span(),
                            format!(
                                "[safe-state] timeout `{}` is not a positive duration (such as \"15min\", \"30s\")",
                                t.get_ref()
                            ),
                        ));
                    }
                }
            }
            if let Some(d) = &s.degraded {
                degraded = Some(hash_ref(d, "[safe-state] degraded")?);
            }
        }
        let mut rules = Rules { allowed: None, origin: Some(path.display().to_string()) };
        let mut migrations = Vec::new();
        if let Some(schema_table) = raw.schema {
            for m in schema_table.migrations.iter().flatten() {
                migrations.push(hash_ref(m, "[schema] migrations:")?);
            }
            if let Some(e) = schema_table.evolution {
                let mut allowed = BTreeSet::new();
                for c in &e.allowed {
                    let class = ChangeClass::parse(c.get_ref()).ok_or_else(|| {
                        at(
                            c.span(),
                            format!(
                                "[schema.evolution] allowed: `{}` is not a change class (the classes are {})",
                                c.get_ref(),
                                ChangeClass::ALL.map(|c| c.as_str()).join(", ")
                            ),
                        )
                    })?;
                    allowed.insert(class);
                }
                rules.allowed = Some(allowed);
            }
        }
        Ok(Manifest {
            path: path.to_path_buf(),
            name: p.name.into_inner(),
            version: p.version.into_inner(),
            schema,
            safe_state,
            timeout_ms,
            degraded,
            rules,
            migrations,
        })
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `MAJOR.MINOR.PATCH`, each a number without leading zeros, optionally followed by
/// `-prerelease` and `+build` (semver.org's grammar, loosely on the suffixes).
fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let suffix_ok = v[core.len()..]
        .split(['-', '+', '.'])
        .all(|s| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
        && suffix_ok
        && !v.ends_with(['-', '+'])
}
