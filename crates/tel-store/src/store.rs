//! [`Store`]: one connection to a codebase file, and every command as one transaction.

use crate::error::Candidate;
use crate::hash_text::to_text;
use crate::model::*;
use crate::schema::{self, Found};
use crate::{Error, Result, location};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tel_hash::{CodeHash, HashPrefix};

/// How long a command waits for another process's write transaction before giving up. Writes
/// are short (a 10,000-definition add commits in well under a second), so this only runs out
/// when a process is stuck holding the lock.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// At most this many candidates are listed for an ambiguous prefix (the count is exact).
pub const MAX_CANDIDATES: usize = 20;

/// Where event times come from. `Fixed` makes output reproducible (tests, golden files).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    System,
    Fixed(i64),
}

/// An open codebase.
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    pub(crate) clock: Clock,
}

/// Attaches the codebase path to SQLite errors, turning the ones a user can act on into
/// their own variants.
pub(crate) trait At<T> {
    fn at(self, path: &Path) -> Result<T>;
}

impl<T> At<T> for rusqlite::Result<T> {
    fn at(self, path: &Path) -> Result<T> {
        self.map_err(|e| classify(path, e))
    }
}

fn classify(path: &Path, err: rusqlite::Error) -> Error {
    let path_buf = path.to_path_buf();
    match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => {
            Error::NotACodebase { path: path_buf, detail: "not an SQLite database".into() }
        }
        Some(ErrorCode::DatabaseCorrupt) => {
            Error::Corrupt { path: path_buf, detail: err.to_string() }
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            Error::Busy { path: path_buf, seconds: BUSY_TIMEOUT.as_secs() }
        }
        Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen) => match readonly_place(path) {
            Some(place) => Error::ReadOnly { place, path: path_buf },
            None => Error::Sqlite { path: path_buf, source: err },
        },
        _ => Error::Sqlite { path: path_buf, source: err },
    }
}

/// Switches to WAL (a no-op when it already is). The switch needs an exclusive lock and
/// SQLite reports a conflict on it at once instead of calling the busy handler, which two
/// processes creating one codebase together can hit; so retry here, within the same timeout.
fn enable_wal(conn: &Connection) -> rusqlite::Result<String> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)) {
            Err(e)
                if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            result => return result,
        }
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// After SQLite refused to write or open: is the file or its directory read-only? (Checked
/// by trying, since permission bits do not tell for root or read-only mounts.) The WAL side files count: SQLite gives them the database file's permissions, so a
/// read-only open of a write-protected file leaves them read-only behind it.
fn readonly_place(path: &Path) -> Option<PathBuf> {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let file = PathBuf::from(file);
        if std::fs::OpenOptions::new().write(true).open(&file).is_err_and(|e| is_readonly(&e)) {
            return Some(file);
        }
    }
    let dir = parent_dir(path);
    let probe = dir.join(format!(".tel-write-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            None
        }
        Err(e) if is_readonly(&e) => Some(dir),
        Err(_) => None,
    }
}

fn is_readonly(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem
    )
}

/// Names are identifiers (`[A-Za-z_][A-Za-z0-9_]*`) joined by `::`.
pub fn validate_name(name: &str) -> Result<()> {
    let invalid = |reason: String| Err(Error::InvalidName { name: name.to_owned(), reason });
    if name.is_empty() {
        return invalid("a name cannot be empty".into());
    }
    for segment in name.split("::") {
        let mut chars = segment.chars();
        match chars.next() {
            None => return invalid("empty segment: names are identifiers joined by `::`".into()),
            Some(c) if c.is_ascii_digit() => {
                return invalid(format!("segment `{segment}` starts with a digit"));
            }
            _ => {}
        }
        if let Some(c) = segment.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_')) {
            return invalid(format!(
                "`{c}` cannot appear in a name: names are identifiers joined by `::`"
            ));
        }
    }
    Ok(())
}

const DEF_COLUMNS: &str =
    "d.id, d.hash, d.kind, d.canonical, d.source, d.first_seen, d.component, d.member";

/// The names of a definition, one per line, sorted (names never contain a newline).
const NAMES_OF: &str = "(SELECT group_concat(name, char(10)) FROM (SELECT name FROM names WHERE definition = d.id ORDER BY name))";

/// Every definition that reaches `?1` through dependencies, in one recursive query over the
/// `dependencies_by_dependency` index. UNION (not UNION ALL) stops at cycles.
const TRANSITIVE_DEPENDENTS: &str = "WITH RECURSIVE dependents(id) AS (
        SELECT dependent FROM dependencies WHERE dependency = ?1
        UNION
        SELECT x.dependent FROM dependencies x JOIN dependents ON x.dependency = dependents.id
    )";

const TRANSITIVE_DEPENDENCIES: &str = "WITH RECURSIVE closure(id) AS (
        SELECT ?1
        UNION
        SELECT x.dependency FROM dependencies x JOIN closure ON x.dependent = closure.id
    )";

const EVENT_SELECT: &str =
    "SELECT h.seq, h.at, h.action, h.name, h.old_name, d.hash, od.hash, h.reason
    FROM name_history h
    JOIN definitions d ON d.id = h.definition
    LEFT JOIN definitions od ON od.id = h.old_definition";

struct Row {
    id: i64,
    def: StoredDefinition,
}

fn read_hash(text: String) -> rusqlite::Result<CodeHash> {
    CodeHash::parse(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn read_kind(text: String) -> rusqlite::Result<tel_hash::core::DefKind> {
    parse_kind(&text).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            format!("unknown definition kind `{text}`").into(),
        )
    })
}

fn read_names(text: Option<String>) -> Vec<String> {
    text.map(|t| t.split('\n').map(str::to_owned).collect()).unwrap_or_default()
}

fn def_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        def: StoredDefinition {
            hash: read_hash(r.get(1)?)?,
            kind: read_kind(r.get(2)?)?,
            canonical: r.get(3)?,
            source: r.get(4)?,
            first_seen: r.get(5)?,
            component: match (r.get::<_, Option<String>>(6)?, r.get::<_, Option<u32>>(7)?) {
                (Some(c), Some(index)) => Some(ComponentMember { component: read_hash(c)?, index }),
                _ => None,
            },
            dependencies: Vec::new(),
        },
    })
}

fn def_ref_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<DefRef> {
    Ok(DefRef {
        hash: read_hash(r.get(0)?)?,
        kind: read_kind(r.get(1)?)?,
        names: read_names(r.get(2)?),
    })
}

fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HistoryEvent> {
    let action: String = r.get(2)?;
    Ok(HistoryEvent {
        seq: r.get(0)?,
        at: r.get(1)?,
        action: Action::parse(&action).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                2,
                rusqlite::types::Type::Text,
                format!("unknown history action `{action}`").into(),
            )
        })?,
        name: r.get(3)?,
        old_name: r.get(4)?,
        hash: read_hash(r.get(5)?)?,
        old_hash: r.get::<_, Option<String>>(6)?.map(read_hash).transpose()?,
        reason: r.get(7)?,
    })
}

fn id_of(conn: &Connection, hash: &CodeHash) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT id FROM definitions WHERE hash = ?1")?
        .query_row([to_text(hash)], |r| r.get(0))
        .optional()
}

fn hash_of(conn: &Connection, id: i64) -> rusqlite::Result<CodeHash> {
    conn.prepare_cached("SELECT hash FROM definitions WHERE id = ?1")?
        .query_row([id], |r| read_hash(r.get(0)?))
}

fn dependency_hashes(conn: &Connection, id: i64) -> rusqlite::Result<Vec<CodeHash>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.hash FROM dependencies x JOIN definitions d ON d.id = x.dependency
         WHERE x.dependent = ?1 ORDER BY d.hash",
    )?;
    stmt.query_map([id], |r| read_hash(r.get(0)?))?.collect()
}

fn load_row(
    conn: &Connection,
    where_sql: &str,
    param: &dyn rusqlite::ToSql,
) -> rusqlite::Result<Option<Row>> {
    let sql = format!("SELECT {DEF_COLUMNS} FROM definitions d {where_sql}");
    let Some(mut row) = conn.prepare_cached(&sql)?.query_row([param], def_row).optional()? else {
        return Ok(None);
    };
    row.def.dependencies = dependency_hashes(conn, row.id)?;
    Ok(Some(row))
}

fn def_refs(conn: &Connection, sql: &str, id: i64) -> rusqlite::Result<Vec<DefRef>> {
    conn.prepare_cached(sql)?.query_map([id], def_ref_row)?.collect()
}

impl Store {
    /// Opens the codebase at `path`, creating it (and its directory) if missing, and bringing
    /// an older format up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Self::open_with(path.as_ref(), true)
    }

    /// Opens an existing codebase; a missing file is [`Error::Missing`] (for read commands,
    /// which should not create files).
    pub fn open_existing(path: impl AsRef<Path>) -> Result<Store> {
        Self::open_with(path.as_ref(), false)
    }

    /// Opens the codebase for a command run in `cwd`: `TEL_CODEBASE`, or
    /// `.tel/codebase.sqlite` under the project root. `create` as in [`Store::open`].
    pub fn open_default(cwd: &Path, create: bool) -> Result<Store> {
        Self::open_with(&location::codebase_path(cwd)?, create)
    }

    fn open_with(path: &Path, create: bool) -> Result<Store> {
        let path = path.to_path_buf();
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => {
                return Err(Error::NotACodebase { path, detail: "a directory".into() });
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !create {
                    return Err(Error::Missing { path });
                }
                let dir = parent_dir(&path);
                if let Err(source) = std::fs::create_dir_all(&dir) {
                    return Err(if is_readonly(&source) {
                        // Name the directory that refused, not the one it could not create.
                        let place =
                            dir.ancestors().find(|d| d.exists()).unwrap_or(&dir).to_path_buf();
                        Error::ReadOnly { place, path }
                    } else {
                        Error::CreateDir { dir, source }
                    });
                }
            }
            Err(source) => return Err(Error::Io { path, source }),
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        if create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let mut conn = Connection::open_with_flags(&path, flags).at(&path)?;
        conn.busy_timeout(BUSY_TIMEOUT).at(&path)?;

        // Look before changing anything: someone else's database must stay untouched.
        match schema::inspect(&conn).at(&path)? {
            Found::Foreign(detail) => return Err(Error::NotACodebase { path, detail }),
            Found::Codebase(v) if v > schema::CURRENT_VERSION => {
                return Err(Error::NewerFormat {
                    path,
                    found: v,
                    supported: schema::CURRENT_VERSION,
                });
            }
            Found::Empty | Found::Codebase(_) => {}
        }
        // WAL: readers never block the writer nor each other, and a crash leaves either the
        // whole last transaction or none of it. FULL syncs each commit, so a committed add
        // survives power loss too. Triggers fire for REPLACE's implicit deletes.
        let mode = enable_wal(&conn).at(&path)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(match readonly_place(&path) {
                Some(place) => Error::ReadOnly { place, path },
                None => Error::Corrupt {
                    path,
                    detail: format!("cannot switch to WAL mode (still {mode})"),
                },
            });
        }
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA recursive_triggers = ON;",
        )
        .at(&path)?;

        let clock = Clock::System;
        let after = schema::migrate(&mut conn, schema::MIGRATIONS, now(clock)).at(&path)?;
        if let Found::Foreign(detail) = after {
            return Err(Error::NotACodebase { path, detail });
        }
        Ok(Store { conn, path, clock })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn set_clock(&mut self, clock: Clock) {
        self.clock = clock;
    }

    /// The library's own connection, for diagnostics and tests. Immutability does not depend
    /// on going through this API: the triggers refuse changes to stored definitions here too.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// The codebase's format version (the last migration applied).
    pub fn format_version(&self) -> Result<i64> {
        self.conn
            .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
            .at(&self.path)
    }

    // ---------------------------------------------------------------- writes

    /// Stores `defs` and points each name at its definition, in one transaction: either all of
    /// it happens or none. A definition already stored is left as it is (its first source
    /// text stays). Refuses the whole batch if a dependency is neither in the batch nor
    /// stored, or a name is given twice with different hashes.
    pub fn add_definitions(&mut self, defs: &[NewDefinition], reason: &str) -> Result<AddReport> {
        let mut batch_names: HashMap<&str, &CodeHash> = HashMap::new();
        for d in defs {
            validate_name(&d.name)?;
            if let Some(first) = batch_names.insert(&d.name, &d.hash)
                && *first != d.hash
            {
                return Err(Error::DuplicateName {
                    name: d.name.clone(),
                    first: *first,
                    second: d.hash,
                });
            }
        }
        let now = now(self.clock);
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).at(&path)?;
        let report = add_in(&tx, &path, defs, reason, now)?;
        tx.commit().at(&path)?;
        Ok(report)
    }

    /// Renames `old` to `new`: the name moves, the definition and every hash stay, and the
    /// history records the rename. Refuses (changing nothing) an unknown `old` or a `new`
    /// that already names something.
    pub fn rename(&mut self, old: &str, new: &str, reason: &str) -> Result<RenameReport> {
        validate_name(new)?;
        let now = now(self.clock);
        let path = self.path.clone();
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).at(&path)?;
        let current = |name: &str| -> Result<Option<i64>> {
            tx.prepare_cached("SELECT definition FROM names WHERE name = ?1")
                .and_then(|mut s| s.query_row([name], |r| r.get(0)).optional())
                .at(&path)
        };
        let Some(id) = current(old)? else {
            return Err(Error::NameNotFound { name: old.to_owned() });
        };
        if let Some(existing) = current(new)? {
            let existing = hash_of(&tx, existing).at(&path)?;
            return Err(Error::NameTaken { old: old.to_owned(), new: new.to_owned(), existing });
        }
        tx.execute(
            "UPDATE names SET name = ?1, since = ?2 WHERE name = ?3",
            params![new, now, old],
        )
        .at(&path)?;
        tx.execute(
            "INSERT INTO name_history (at, action, name, old_name, definition, reason)
             VALUES (?1, 'rename', ?2, ?3, ?4, ?5)",
            params![now, new, old, id, reason],
        )
        .at(&path)?;
        let hash = hash_of(&tx, id).at(&path)?;
        tx.commit().at(&path)?;
        Ok(RenameReport { old: old.to_owned(), new: new.to_owned(), hash })
    }

    // ---------------------------------------------------------------- reads

    /// `NAME` or `#PREFIX` to a hash.
    pub fn resolve(&self, query: &str) -> Result<CodeHash> {
        if query.starts_with('#') {
            return self.resolve_prefix(query);
        }
        let hash: Option<String> = self
            .conn
            .prepare_cached("SELECT d.hash FROM names n JOIN definitions d ON d.id = n.definition WHERE n.name = ?1")
            .and_then(|mut s| s.query_row([query], |r| r.get(0)).optional())
            .at(&self.path)?;
        match hash {
            Some(text) => read_hash(text).at(&self.path),
            None => Err(Error::NameNotFound { name: query.to_owned() }),
        }
    }

    /// A hash prefix (`#a7f3`, at least 4 characters) to the one hash it starts, or
    /// `#comp.i` to member `i` of the component whose hash starts so. An index range scan
    /// (`hash LIKE 'a7f3%'` on a NOCASE index).
    pub fn resolve_prefix(&self, text: &str) -> Result<CodeHash> {
        let prefix = HashPrefix::parse(text)?;
        let pattern = format!("{}%", prefix.digits());
        let tx = self.conn.unchecked_transaction().at(&self.path)?;
        let column = if prefix.member().is_some() { "component" } else { "hash" };
        let sql = format!(
            "SELECT DISTINCT {column} FROM definitions WHERE {column} LIKE ?1 ORDER BY {column} LIMIT ?2"
        );
        let found: Vec<String> = tx
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params![pattern, MAX_CANDIDATES as i64 + 1], |r| r.get(0))?.collect()
            })
            .at(&self.path)?;
        let hash = match found.len() {
            0 => return Err(Error::HashNotFound { prefix: prefix.to_string() }),
            1 => read_hash(found[0].clone()).at(&self.path)?,
            _ => {
                let count: i64 = tx
                    .query_row(
                        &format!("SELECT count(DISTINCT {column}) FROM definitions WHERE {column} LIKE ?1"),
                        [&pattern],
                        |r| r.get(0),
                    )
                    .at(&self.path)?;
                let mut candidates = Vec::new();
                for text in found.into_iter().take(MAX_CANDIDATES) {
                    let names: Vec<String> = tx
                        .prepare_cached(&format!(
                            "SELECT n.name FROM names n JOIN definitions d ON d.id = n.definition
                             WHERE d.{column} = ?1 ORDER BY n.name"
                        ))
                        .and_then(|mut s| s.query_map([&text], |r| r.get(0))?.collect())
                        .at(&self.path)?;
                    candidates.push(Candidate { hash: read_hash(text).at(&self.path)?, names });
                }
                return Err(Error::AmbiguousHash {
                    prefix: prefix.to_string(),
                    count: count as usize,
                    candidates,
                });
            }
        };
        let Some(index) = prefix.member() else { return Ok(hash) };
        let member: Option<String> = tx
            .query_row(
                "SELECT hash FROM definitions WHERE component = ?1 AND member = ?2",
                params![to_text(&hash), index],
                |r| r.get(0),
            )
            .optional()
            .at(&self.path)?;
        match member {
            Some(text) => read_hash(text).at(&self.path),
            None => {
                let size: u32 = tx
                    .query_row(
                        "SELECT count(*) FROM definitions WHERE component = ?1",
                        [to_text(&hash)],
                        |r| r.get(0),
                    )
                    .at(&self.path)?;
                Err(Error::NoSuchMember { component: hash, index, size })
            }
        }
    }

    pub fn get_by_hash(&self, hash: &CodeHash) -> Result<Option<StoredDefinition>> {
        let tx = self.conn.unchecked_transaction().at(&self.path)?;
        Ok(load_row(&tx, "WHERE d.hash = ?1", &to_text(hash)).at(&self.path)?.map(|r| r.def))
    }

    pub fn get_by_name(&self, name: &str) -> Result<Option<StoredDefinition>> {
        let tx = self.conn.unchecked_transaction().at(&self.path)?;
        let sql = "WHERE d.id = (SELECT definition FROM names WHERE name = ?1)";
        Ok(load_row(&tx, sql, &name).at(&self.path)?.map(|r| r.def))
    }

    /// Direct dependencies, sorted by hash; an unknown hash is an error.
    pub fn get_dependencies(&self, hash: &CodeHash) -> Result<Vec<CodeHash>> {
        let tx = self.conn.unchecked_transaction().at(&self.path)?;
        let id = self.require_id(&tx, hash)?;
        dependency_hashes(&tx, id).at(&self.path)
    }

    /// Everything that depends on `hash`, directly or not, sorted by hash: what a change to
    /// it reaches. One recursive query.
    pub fn transitive_dependents(&self, hash: &CodeHash) -> Result<Vec<CodeHash>> {
        let tx = self.conn.unchecked_transaction().at(&self.path)?;
        let id = self.require_id(&tx, hash)?;
        let sql = format!(
            "{TRANSITIVE_DEPENDENTS} SELECT d.hash FROM dependents JOIN definitions d ON d.id = dependents.id
             WHERE d.id != ?1"
        );
        let mut hashes: Vec<CodeHash> = tx
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_map([id], |r| read_hash(r.get(0)?))?.collect())
            .at(&self.path)?;
        // Sorting here (bytes order is text order) is several times faster than a NOCASE
        // ORDER BY in SQL, which dominated this query.
        hashes.sort_unstable();
        Ok(hashes)
    }

    /// `hash` with all its transitive dependencies, dependencies before dependents and `hash`
    /// last (the order to link or compile in; members of a dependency cycle in hash order).
    pub fn load_closure(&self, hash: &CodeHash) -> Result<Vec<StoredDefinition>> {
        let tx = self.conn.unchecked_transaction().at(&self.path)?;
        let root = self.require_id(&tx, hash)?;
        let sql = format!(
            "{TRANSITIVE_DEPENDENCIES} SELECT {DEF_COLUMNS} FROM closure JOIN definitions d ON d.id = closure.id"
        );
        let mut rows: Vec<Row> = tx
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_map([root], def_row)?.collect())
            .at(&self.path)?;
        for row in &mut rows {
            row.def.dependencies = dependency_hashes(&tx, row.id).at(&self.path)?;
        }
        Ok(dependencies_first(rows.into_iter().map(|r| r.def).collect(), hash))
    }

    /// `tel store list`: every current name, sorted.
    pub fn list(&self) -> Result<Names> {
        self.names_where("", &"")
    }

    /// `tel store find TEXT`: current names containing `text`, ignoring case.
    pub fn find(&self, text: &str) -> Result<Names> {
        self.names_where("WHERE instr(lower(n.name), lower(?1)) > 0", &text)
    }

    fn names_where(&self, where_sql: &str, param: &dyn rusqlite::ToSql) -> Result<Names> {
        let sql = format!(
            "SELECT n.name, d.hash, d.kind FROM names n JOIN definitions d ON d.id = n.definition
             {where_sql} ORDER BY n.name"
        );
        let params: &[&dyn rusqlite::ToSql] = if where_sql.is_empty() { &[] } else { &[param] };
        let names = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| {
                s.query_map(params, |r| {
                    Ok(NameEntry {
                        name: r.get(0)?,
                        hash: read_hash(r.get(1)?)?,
                        kind: read_kind(r.get(2)?)?,
                    })
                })?
                .collect()
            })
            .at(&self.path)?;
        Ok(Names { names })
    }

    /// `tel store view NAME|#PREFIX`.
    pub fn view(&self, query: &str) -> Result<DefinitionView> {
        let hash = self.resolve(query)?;
        let tx = self.conn.unchecked_transaction().at(&self.path)?;
        let row = load_row(&tx, "WHERE d.hash = ?1", &to_text(&hash))
            .at(&self.path)?
            .ok_or_else(|| Error::HashNotFound { prefix: format!("{hash:#}") })?;
        let names = self.def_ref(&tx, row.id)?.names;
        let dependencies = def_refs(
            &tx,
            &refs_sql("SELECT dependency AS id FROM dependencies WHERE dependent = ?1"),
            row.id,
        )
        .at(&self.path)?;
        Ok(DefinitionView {
            hash,
            component: row.def.component,
            kind: row.def.kind,
            names,
            first_seen: row.def.first_seen,
            canonical_bytes: row.def.canonical.len(),
            source: row.def.source,
            dependencies,
        })
    }

    /// `tel store deps NAME|#PREFIX`.
    pub fn deps(&self, query: &str) -> Result<DepsReport> {
        let hash = self.resolve(query)?;
        let tx = self.conn.unchecked_transaction().at(&self.path)?;
        let id = self.require_id(&tx, &hash)?;
        let dependencies = def_refs(
            &tx,
            &refs_sql("SELECT dependency AS id FROM dependencies WHERE dependent = ?1"),
            id,
        );
        let dependents = def_refs(
            &tx,
            &refs_sql("SELECT dependent AS id FROM dependencies WHERE dependency = ?1"),
            id,
        );
        let transitive = format!(
            "{TRANSITIVE_DEPENDENTS} SELECT d.hash, d.kind, {NAMES_OF} FROM dependents
             JOIN definitions d ON d.id = dependents.id WHERE d.id != ?1"
        );
        let mut transitive = def_refs(&tx, &transitive, id).at(&self.path)?;
        transitive.sort_unstable_by_key(|d| d.hash);
        Ok(DepsReport {
            definition: self.def_ref(&tx, id)?,
            dependencies: dependencies.at(&self.path)?,
            dependents: dependents.at(&self.path)?,
            transitive_dependents: transitive,
        })
    }

    /// `tel store history NAME`: newest first. Follows renames backwards: the history of a
    /// name includes what happened under its earlier names, up to its first binding. Events
    /// that moved this name away (renamed to something else) are included too.
    pub fn history(&self, name: &str) -> Result<History> {
        let tx = self.conn.unchecked_transaction().at(&self.path)?;
        let sql = format!(
            "{EVENT_SELECT} WHERE (h.name = ?1 OR h.old_name = ?1) AND h.seq < ?2 ORDER BY h.seq DESC"
        );
        let mut stmt = tx.prepare_cached(&sql).at(&self.path)?;
        let mut events = Vec::new();
        let mut current = name.to_owned();
        let mut before = i64::MAX;
        'lineage: loop {
            let batch: Vec<HistoryEvent> = stmt
                .query_map(params![current, before], event_row)
                .and_then(Iterator::collect)
                .at(&self.path)?;
            for event in batch {
                let renamed_into = event.action == Action::Rename && event.name == current;
                let seq = event.seq;
                let old = event.old_name.clone();
                events.push(event);
                if renamed_into && let Some(old) = old {
                    // Continue with the earlier name, strictly before this rename: `seq`
                    // decreases every round, so a cycle of renames still ends.
                    current = old;
                    before = seq;
                    continue 'lineage;
                }
            }
            break;
        }
        if events.is_empty() {
            return Err(Error::NameNotFound { name: name.to_owned() });
        }
        Ok(History { name: name.to_owned(), events })
    }

    /// `tel store log`: the `limit` most recent changes to names, newest first.
    pub fn log(&self, limit: usize) -> Result<Log> {
        let sql = format!("{EVENT_SELECT} ORDER BY h.seq DESC LIMIT ?1");
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let events = self
            .conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_map([limit], event_row)?.collect())
            .at(&self.path)?;
        Ok(Log { events })
    }

    /// `tel store stats`.
    pub fn stats(&self) -> Result<Stats> {
        let tx = self.conn.unchecked_transaction().at(&self.path)?;
        let one = |sql: &str| -> Result<i64> { tx.query_row(sql, [], |r| r.get(0)).at(&self.path) };
        Ok(Stats {
            path: self.path.clone(),
            format_version: one("SELECT max(version) FROM schema_version")?,
            definitions: one("SELECT count(*) FROM definitions")?,
            names: one("SELECT count(*) FROM names")?,
            history_events: one("SELECT count(*) FROM name_history")?,
            dependency_edges: one("SELECT count(*) FROM dependencies")?,
            canonical_bytes: one("SELECT coalesce(sum(length(canonical)), 0) FROM definitions")?,
            source_bytes: one(
                "SELECT coalesce(sum(length(CAST(source AS BLOB))), 0) FROM definitions",
            )?,
            file_bytes: one(
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            )?,
            compiled_functions: one("SELECT count(*) FROM compiled_functions")?,
            compiled_bytes: one("SELECT coalesce(sum(length(object)), 0) FROM compiled_functions")?,
        })
    }

    fn require_id(&self, conn: &Connection, hash: &CodeHash) -> Result<i64> {
        id_of(conn, hash)
            .at(&self.path)?
            .ok_or_else(|| Error::HashNotFound { prefix: format!("{hash:#}") })
    }

    fn def_ref(&self, conn: &Connection, id: i64) -> Result<DefRef> {
        let sql = format!("SELECT d.hash, d.kind, {NAMES_OF} FROM definitions d WHERE d.id = ?1");
        conn.prepare_cached(&sql).and_then(|mut s| s.query_row([id], def_ref_row)).at(&self.path)
    }
}

/// DefRefs for the ids an `ids_sql` query (parameter ?1) selects, sorted by hash.
fn refs_sql(ids_sql: &str) -> String {
    format!(
        "SELECT d.hash, d.kind, {NAMES_OF} FROM ({ids_sql}) ids JOIN definitions d ON d.id = ids.id ORDER BY d.hash"
    )
}

pub(crate) fn now(clock: Clock) -> i64 {
    match clock {
        Clock::Fixed(t) => t,
        Clock::System => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0),
    }
}

/// The body of [`Store::add_definitions`], inside its transaction.
fn add_in(
    tx: &Connection,
    path: &Path,
    defs: &[NewDefinition],
    reason: &str,
    now: i64,
) -> Result<AddReport> {
    verify_hashes(tx, path, defs)?;
    let mut ids: HashMap<CodeHash, i64> = HashMap::with_capacity(defs.len());
    let mut fresh: HashSet<CodeHash> = HashSet::new();

    // 1. Definitions: insert the ones not stored yet; a stored hash must carry the same content.
    {
        let mut find = tx
            .prepare_cached("SELECT id, kind, canonical FROM definitions WHERE hash = ?1")
            .at(path)?;
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO definitions (hash, kind, canonical, source, first_seen, component, member)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .at(path)?;
        let mut first_in_batch: HashMap<CodeHash, &NewDefinition> = HashMap::new();
        for d in defs {
            if let Some(first) = first_in_batch.get(&d.hash) {
                if first.kind != d.kind || first.canonical != d.canonical {
                    return Err(Error::HashConflict { name: d.name.clone(), hash: d.hash });
                }
                continue;
            }
            first_in_batch.insert(d.hash, d);
            let text = to_text(&d.hash);
            let existing: Option<(i64, String, Vec<u8>)> = find
                .query_row([&text], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
                .at(path)?;
            let id = match existing {
                Some((id, kind, canonical)) => {
                    if kind != d.kind.as_str() || canonical != d.canonical {
                        return Err(Error::HashConflict { name: d.name.clone(), hash: d.hash });
                    }
                    id
                }
                None => {
                    let (component, member) = match &d.component {
                        Some(m) => (Some(to_text(&m.component)), Some(m.index)),
                        None => (None, None),
                    };
                    insert
                        .execute(params![
                            text,
                            d.kind.as_str(),
                            d.canonical,
                            d.source,
                            now,
                            component,
                            member
                        ])
                        .at(path)?;
                    fresh.insert(d.hash);
                    tx.last_insert_rowid()
                }
            };
            ids.insert(d.hash, id);
        }
    }

    // 2. The dependency index, for definitions stored just now.
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO dependencies (dependent, dependency) VALUES (?1, ?2)",
            )
            .at(path)?;
        let mut done: HashSet<CodeHash> = HashSet::new();
        for d in defs {
            if !fresh.contains(&d.hash) || !done.insert(d.hash) {
                continue;
            }
            let dependent = ids[&d.hash];
            for dep in d.dependencies.iter().collect::<BTreeSet<_>>() {
                let dependency = match ids.get(dep) {
                    Some(id) => *id,
                    None => match id_of(tx, dep).at(path)? {
                        Some(id) => {
                            ids.insert(*dep, id);
                            id
                        }
                        None => {
                            return Err(Error::MissingDependency {
                                path: path.to_path_buf(),
                                name: d.name.clone(),
                                hash: d.hash,
                                dependency: *dep,
                            });
                        }
                    },
                };
                insert.execute([dependent, dependency]).at(path)?;
            }
            // A member's identity covers its siblings' bytes: it depends on each of them.
            // (Verified above: the whole component is stored by now.)
            if let Some(m) = &d.component {
                tx.prepare_cached(
                    "INSERT OR IGNORE INTO dependencies (dependent, dependency)
                     SELECT ?1, id FROM definitions WHERE component = ?2 AND id != ?1",
                )
                .and_then(|mut s| s.execute(params![dependent, to_text(&m.component)]))
                .at(path)?;
            }
        }
    }

    // 3. Names, with their history.
    let mut report =
        AddReport { new: 0, updated: 0, unchanged: 0, definitions: Vec::with_capacity(defs.len()) };
    let mut current = tx.prepare_cached("SELECT definition FROM names WHERE name = ?1").at(path)?;
    let mut bind = tx
        .prepare_cached("INSERT INTO names (name, definition, since) VALUES (?1, ?2, ?3)")
        .at(path)?;
    let mut repoint = tx
        .prepare_cached("UPDATE names SET definition = ?2, since = ?3 WHERE name = ?1")
        .at(path)?;
    let mut record = tx
        .prepare_cached(
            "INSERT INTO name_history (at, action, name, definition, old_definition, reason)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .at(path)?;
    let mut reported_stored: HashSet<CodeHash> = HashSet::new();
    for d in defs {
        let id = ids[&d.hash];
        let before: Option<i64> = current.query_row([&d.name], |r| r.get(0)).optional().at(path)?;
        let outcome = match before {
            None => {
                bind.execute(params![d.name, id, now]).at(path)?;
                record.execute(params![now, "bind", d.name, id, None::<i64>, reason]).at(path)?;
                report.new += 1;
                Outcome::New
            }
            Some(old) if old == id => {
                report.unchanged += 1;
                Outcome::Unchanged
            }
            Some(old) => {
                repoint.execute(params![d.name, id, now]).at(path)?;
                record.execute(params![now, "update", d.name, id, old, reason]).at(path)?;
                report.updated += 1;
                Outcome::Updated { old: hash_of(tx, old).at(path)? }
            }
        };
        report.definitions.push(Added {
            name: d.name.clone(),
            hash: d.hash,
            kind: d.kind,
            outcome,
            // A hash given twice in the batch was stored once: by its first entry.
            stored: fresh.contains(&d.hash) && reported_stored.insert(d.hash),
        });
    }
    Ok(report)
}

/// Checks every hash against its content before anything is written: a definition alone
/// hashes its bytes; a member's hash derives from its component's, and the component's hash
/// is recomputed from all its members (from this batch and the store) in index order.
fn verify_hashes(tx: &Connection, path: &Path, defs: &[NewDefinition]) -> Result<()> {
    let mut components: BTreeMap<CodeHash, (&NewDefinition, BTreeMap<u32, Vec<u8>>)> =
        BTreeMap::new();
    for d in defs {
        let actual = match &d.component {
            None => tel_hash::hash_bytes(&d.canonical),
            Some(m) => {
                let entry = components.entry(m.component).or_insert_with(|| (d, BTreeMap::new()));
                entry.1.insert(m.index, d.canonical.clone());
                tel_hash::member_hash(&m.component, m.index)
            }
        };
        if actual != d.hash {
            return Err(Error::HashMismatch { name: d.name.clone(), hash: d.hash, actual });
        }
    }
    for (component, (first, mut members)) in components {
        let mut stmt = tx
            .prepare_cached("SELECT member, canonical FROM definitions WHERE component = ?1")
            .at(path)?;
        let stored = stmt
            .query_map([to_text(&component)], |r| {
                Ok((r.get::<_, u32>(0)?, r.get::<_, Vec<u8>>(1)?))
            })
            .and_then(Iterator::collect::<rusqlite::Result<Vec<_>>>)
            .at(path)?;
        for (index, bytes) in stored {
            members.entry(index).or_insert(bytes);
        }
        let missing = (0..members.len() as u32).find(|i| !members.contains_key(i));
        let in_order: Vec<&Vec<u8>> = members.values().collect();
        if missing.is_some() || tel_hash::component_hash(&in_order) != component {
            return Err(Error::ComponentMismatch {
                path: path.to_path_buf(),
                name: first.name.clone(),
                component,
                missing,
            });
        }
    }
    Ok(())
}

/// Orders a closure so that every definition comes after its dependencies, `root` last.
/// Depth-first post-order from `root`, visiting dependencies in hash order; iterative, so a
/// long chain cannot overflow the stack.
fn dependencies_first(defs: Vec<StoredDefinition>, root: &CodeHash) -> Vec<StoredDefinition> {
    let index: HashMap<CodeHash, usize> =
        defs.iter().enumerate().map(|(i, d)| (d.hash, i)).collect();
    let mut visited = vec![false; defs.len()];
    let mut order = Vec::with_capacity(defs.len());
    let Some(&start) = index.get(root) else { return defs };
    // (node, next dependency to look at)
    let mut stack = vec![(start, 0usize)];
    visited[start] = true;
    while let Some((node, next)) = stack.last_mut() {
        let deps = &defs[*node].dependencies;
        if let Some(dep) = deps.get(*next) {
            *next += 1;
            if let Some(&i) = index.get(dep)
                && !visited[i]
            {
                visited[i] = true;
                stack.push((i, 0));
            }
        } else {
            order.push(*node);
            stack.pop();
        }
    }
    let mut slots: Vec<Option<StoredDefinition>> = defs.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}
