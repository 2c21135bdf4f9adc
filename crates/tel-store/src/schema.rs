//! The codebase's tables, and the ordered migrations that build them.
//!
//! A codebase records the migrations applied to it in `schema_version`; its format version is
//! the highest one. Opening applies the missing ones in order, each in its own transaction.
//! Adding a table later (issue 5's traces, snapshots and memo cache) is one more entry at the
//! end of [`MIGRATIONS`]; entries already released are never edited.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

/// Written into the SQLite header (`PRAGMA application_id`): "TELS". It tells our files from
/// other applications' SQLite databases.
pub const APPLICATION_ID: i32 = 0x5445_4C53;

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, in order; `version` is its 1-based position.
pub const MIGRATIONS: &[Migration] = &[
    Migration { version: 1, name: "code and names", sql: V1 },
    Migration { version: 2, name: "run traces and memo cache", sql: V2 },
    Migration { version: 3, name: "debug sessions, snapshots and program artifacts", sql: V3 },
    Migration { version: 4, name: "upgraded runs", sql: V4 },
    Migration { version: 5, name: "compiled RISC-V functions", sql: V5 },
];

/// The format version this library writes and reads.
pub const CURRENT_VERSION: i64 = MIGRATIONS.len() as i64;

const V1: &str = r#"
CREATE TABLE schema_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at INTEGER NOT NULL            -- unix seconds
);

-- One row per definition, keyed by content hash. Never updated, never deleted (triggers).
-- `hash` is the 52-character lowercase base32hex text; NOCASE lets `LIKE 'prefix%'` use the
-- unique index as a range scan.
CREATE TABLE definitions (
    id         INTEGER PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE COLLATE NOCASE
               CHECK (length(hash) = 52 AND NOT hash GLOB '*[^0-9a-v]*'),
    kind       TEXT NOT NULL CHECK (kind IN ('fn', 'type', 'enum', 'effect', 'schema')),
    canonical  BLOB NOT NULL,              -- tel-hash's canonical serialization
    source     TEXT NOT NULL,              -- metadata: the source text first seen
    first_seen INTEGER NOT NULL,           -- unix seconds
    -- For member `member` of a mutually recursive component: the component's hash.
    component  TEXT COLLATE NOCASE
               CHECK (component IS NULL OR (length(component) = 52 AND NOT component GLOB '*[^0-9a-v]*')),
    member     INTEGER CHECK ((component IS NULL) = (member IS NULL) AND (member IS NULL OR member >= 0))
);
CREATE UNIQUE INDEX definitions_by_component ON definitions(component, member);

-- The dependency index, both ways: the primary key answers "what does X use", the second
-- index "what uses X". Part of a definition, so as immutable as it. A component member
-- depends on each of its siblings (their bytes are in its identity).
CREATE TABLE dependencies (
    dependent  INTEGER NOT NULL REFERENCES definitions(id),
    dependency INTEGER NOT NULL REFERENCES definitions(id),
    PRIMARY KEY (dependent, dependency)
) WITHOUT ROWID;
CREATE INDEX dependencies_by_dependency ON dependencies(dependency, dependent);

-- Current names: pointers into `definitions`.
CREATE TABLE names (
    name       TEXT PRIMARY KEY,
    definition INTEGER NOT NULL REFERENCES definitions(id),
    since      INTEGER NOT NULL            -- unix seconds of the event that set this binding
) WITHOUT ROWID;
CREATE INDEX names_by_definition ON names(definition, name);

-- Every change to `names`, append-only. bind: a new name; update: the name now points at
-- another definition (old_definition); rename: old_name became name, same definition.
CREATE TABLE name_history (
    seq            INTEGER PRIMARY KEY AUTOINCREMENT,
    at             INTEGER NOT NULL,       -- unix seconds
    action         TEXT NOT NULL CHECK (action IN ('bind', 'update', 'rename')),
    name           TEXT NOT NULL,
    old_name       TEXT,
    definition     INTEGER NOT NULL REFERENCES definitions(id),
    old_definition INTEGER REFERENCES definitions(id),
    reason         TEXT NOT NULL,
    CHECK ((action = 'rename') = (old_name IS NOT NULL)),
    CHECK ((action = 'update') = (old_definition IS NOT NULL))
);
CREATE INDEX name_history_by_name ON name_history(name, seq);
CREATE INDEX name_history_by_old_name ON name_history(old_name, seq) WHERE old_name IS NOT NULL;

-- Immutability lives in the file, so it holds for every connection, not just this library.
-- The insert guard also stops INSERT OR REPLACE, which would otherwise delete the old row.
CREATE TRIGGER definitions_no_replace BEFORE INSERT ON definitions
WHEN EXISTS (SELECT 1 FROM definitions WHERE hash = NEW.hash)
BEGIN SELECT RAISE(ABORT, 'tel-store: definitions are immutable: this hash is already stored'); END;
CREATE TRIGGER definitions_no_update BEFORE UPDATE ON definitions
BEGIN SELECT RAISE(ABORT, 'tel-store: definitions are immutable: a stored definition is never changed'); END;
CREATE TRIGGER definitions_no_delete BEFORE DELETE ON definitions
BEGIN SELECT RAISE(ABORT, 'tel-store: definitions are immutable: a stored definition is never deleted'); END;
CREATE TRIGGER dependencies_no_update BEFORE UPDATE ON dependencies
BEGIN SELECT RAISE(ABORT, 'tel-store: dependencies are part of an immutable definition'); END;
CREATE TRIGGER dependencies_no_delete BEFORE DELETE ON dependencies
BEGIN SELECT RAISE(ABORT, 'tel-store: dependencies are part of an immutable definition'); END;
CREATE TRIGGER name_history_no_update BEFORE UPDATE ON name_history
BEGIN SELECT RAISE(ABORT, 'tel-store: name history is append-only'); END;
CREATE TRIGGER name_history_no_delete BEFORE DELETE ON name_history
BEGIN SELECT RAISE(ABORT, 'tel-store: name history is append-only'); END;
"#;

// Run traces (`tel run`, `tel replay`) and the persisted memo cache (`tel run --memo`).
// Neither refers to `definitions`: a run's code need not have been added to the codebase,
// and a trace carries the code it ran (crates/tel-store/src/traces.rs).
const V2: &str = r#"
-- One row per recorded run, keyed by its run id: the start of the base32hex text of the
-- trace's head hash, so the id is the run's content address and a second identical run
-- finds its trace already stored. `bytes` is the self-contained trace file (compressed),
-- exactly what `tel trace export` writes. Never updated (trigger); deleting is allowed.
CREATE TABLE traces (
    id         TEXT PRIMARY KEY COLLATE NOCASE
               CHECK (length(id) BETWEEN 8 AND 52 AND NOT id GLOB '*[^0-9a-v]*'),
    entry      TEXT NOT NULL COLLATE NOCASE
               CHECK (length(entry) = 52 AND NOT entry GLOB '*[^0-9a-v]*'),
    entry_name TEXT,                       -- metadata: the entry point's name when known
    created    INTEGER NOT NULL,           -- unix seconds
    events     INTEGER NOT NULL CHECK (events >= 0),
    outcome    TEXT NOT NULL CHECK (outcome IN ('value', 'error')),
    bytes      BLOB NOT NULL CHECK (length(bytes) > 0)
);
CREATE INDEX traces_by_entry ON traces(entry, created);
CREATE INDEX traces_by_created ON traces(created, id);
CREATE TRIGGER traces_no_update BEFORE UPDATE ON traces
BEGIN SELECT RAISE(ABORT, 'tel-store: a stored trace never changes'); END;

-- Results of pure calls, by (function hash, hash of the arguments). A cache: rows are
-- evicted least recently used first when it outgrows its bound, but a stored result never
-- changes (trigger), since the same pure call always gives the same result.
CREATE TABLE memo (
    function   TEXT NOT NULL COLLATE NOCASE
               CHECK (length(function) = 52 AND NOT function GLOB '*[^0-9a-v]*'),
    args       BLOB NOT NULL CHECK (length(args) BETWEEN 8 AND 64), -- a hash of the arguments
    result     BLOB NOT NULL,              -- tel-vm's encoding of the result value
    created    INTEGER NOT NULL,           -- unix seconds
    used       INTEGER NOT NULL,           -- a counter: higher is more recently used
    hits       INTEGER NOT NULL DEFAULT 0 CHECK (hits >= 0),
    PRIMARY KEY (function, args)
) WITHOUT ROWID;
CREATE INDEX memo_by_use ON memo(used);
CREATE TRIGGER memo_results_never_change BEFORE UPDATE OF function, args, result ON memo
BEGIN SELECT RAISE(ABORT, 'tel-store: a memoized result never changes'); END;
"#;

/// What a file holds, as far as the format is concerned.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// No tables at all (a new or empty file): ours to initialize.
    Empty,
    /// One of ours, at this format version.
    Codebase(i64),
    /// Someone else's SQLite database; the text says how we know.
    Foreign(String),
}

/// Reads what the file holds. The first statement that touches the file: a non-SQLite file
/// fails here with `NotADatabase`.
pub fn inspect(conn: &Connection) -> rusqlite::Result<Found> {
    // One statement, so one snapshot: a migration committing in between cannot show us its
    // tables without its application id.
    let (app_id, tables, has_versions): (i32, i64, bool) = conn.query_row(
        "SELECT (SELECT application_id FROM pragma_application_id()),
                (SELECT count(*) FROM sqlite_schema WHERE type = 'table'),
                EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'schema_version')",
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    if app_id != APPLICATION_ID {
        return Ok(match (app_id, tables) {
            (0, 0) => Found::Empty,
            (0, _) => Found::Foreign("an SQLite database without TEL tables".into()),
            (other, _) => Found::Foreign(format!(
                "an SQLite database of another application, application_id {other:#010x}"
            )),
        });
    }
    if !has_versions {
        return Ok(Found::Foreign(
            "marked as a TEL codebase, but without its schema_version table".into(),
        ));
    }
    // Versions only grow, so reading this after the snapshot above is safe.
    let version: Option<i64> = conn
        .query_row("SELECT max(version) FROM schema_version", [], |r| r.get(0))
        .optional()?
        .flatten();
    Ok(Found::Codebase(version.unwrap_or(0)))
}

/// Applies `migrations` past the file's version, each in one immediate transaction that
/// first re-reads the version, so two processes opening a new file at once apply each
/// migration exactly once. Returns what the file held before.
pub fn migrate(
    conn: &mut Connection,
    migrations: &[Migration],
    now: i64,
) -> rusqlite::Result<Found> {
    let before = inspect(conn)?;
    let mut applied = match before {
        Found::Codebase(v) => v,
        Found::Empty => 0,
        Found::Foreign(_) => return Ok(before),
    };
    let latest = migrations.len() as i64;
    while applied < latest {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let found = inspect(&tx)?;
        applied = match found {
            Found::Codebase(v) => v,
            Found::Empty => 0,
            Found::Foreign(_) => return Ok(found),
        };
        if applied >= latest {
            break;
        }
        let m = &migrations[applied as usize];
        debug_assert_eq!(m.version, applied + 1, "MIGRATIONS out of order");
        tx.execute_batch(m.sql)?;
        tx.execute(
            "INSERT INTO schema_version (version, name, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![m.version, m.name, now],
        )?;
        if applied == 0 {
            tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        }
        tx.commit()?;
        applied += 1;
    }
    Ok(before)
}

const V3: &str = r#"
-- A debug session that can be paused in one process and resumed in another: what it ran
-- (`setup`, tel-vm's encoding of the program, arguments, host and limits) and where it
-- stands. `position` (the global step index) is the only column that changes.
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY COLLATE NOCASE
               CHECK (length(id) BETWEEN 8 AND 52 AND NOT id GLOB '*[^0-9a-v]*'),
    entry      TEXT NOT NULL COLLATE NOCASE
               CHECK (length(entry) = 52 AND NOT entry GLOB '*[^0-9a-v]*'),
    entry_name TEXT,                       -- metadata: the entry point's name when known
    created    INTEGER NOT NULL,           -- unix seconds
    position   INTEGER NOT NULL CHECK (position >= 0),
    setup      BLOB NOT NULL CHECK (length(setup) > 0)
);
CREATE TRIGGER sessions_setup_never_changes BEFORE UPDATE OF id, entry, created, setup ON sessions
BEGIN SELECT RAISE(ABORT, 'tel-store: a session''s setup never changes'); END;

-- VM snapshots of a session, by global step index. A snapshot is either whole (`base` NULL)
-- or the difference against the snapshot at position `base` of the same session, so only
-- what changed is stored. Rows never change; they go with their session.
CREATE TABLE snapshots (
    session    TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL CHECK (position >= 0),
    base       INTEGER CHECK (base IS NULL OR base < position),
    bytes      BLOB NOT NULL CHECK (length(bytes) > 0),
    PRIMARY KEY (session, position)
) WITHOUT ROWID;
CREATE TRIGGER snapshots_never_change BEFORE UPDATE ON snapshots
BEGIN SELECT RAISE(ABORT, 'tel-store: a snapshot never changes'); END;

-- Compiled program artifacts (`tel build`), keyed by the hash of their manifest: the
-- program's entry hashes, dependency hashes, effect dependency DAG, schema hash, evolution
-- rules and compatible versions, as canonical JSON. Never updated, never deleted.
CREATE TABLE artifacts (
    hash       TEXT PRIMARY KEY COLLATE NOCASE
               CHECK (length(hash) = 52 AND NOT hash GLOB '*[^0-9a-v]*'),
    program    TEXT NOT NULL,              -- the program's name from tel.toml
    version    TEXT,                       -- its version from tel.toml, when given
    created    INTEGER NOT NULL,           -- unix seconds
    manifest   TEXT NOT NULL CHECK (json_valid(manifest))
);
CREATE INDEX artifacts_by_program ON artifacts(program, created);
CREATE TRIGGER artifacts_never_change BEFORE UPDATE ON artifacts
BEGIN SELECT RAISE(ABORT, 'tel-store: a stored artifact never changes'); END;
CREATE TRIGGER artifacts_never_deleted BEFORE DELETE ON artifacts
BEGIN SELECT RAISE(ABORT, 'tel-store: a stored artifact is never deleted'); END;
"#;

// A run stopped at a position and upgraded to a new schema version (`tel schema upgrade`)
// is kept like any run, with the outcome `upgraded`. SQLite cannot change a CHECK in place:
// the table is rebuilt as its documented procedure does (new table, copy, drop, rename),
// indexes and trigger included. Nothing refers to `traces`.
const V4: &str = r#"
CREATE TABLE traces_v4 (
    id         TEXT PRIMARY KEY COLLATE NOCASE
               CHECK (length(id) BETWEEN 8 AND 52 AND NOT id GLOB '*[^0-9a-v]*'),
    entry      TEXT NOT NULL COLLATE NOCASE
               CHECK (length(entry) = 52 AND NOT entry GLOB '*[^0-9a-v]*'),
    entry_name TEXT,
    created    INTEGER NOT NULL,
    events     INTEGER NOT NULL CHECK (events >= 0),
    outcome    TEXT NOT NULL CHECK (outcome IN ('value', 'error', 'upgraded')),
    bytes      BLOB NOT NULL CHECK (length(bytes) > 0)
);
INSERT INTO traces_v4 (id, entry, entry_name, created, events, outcome, bytes)
    SELECT id, entry, entry_name, created, events, outcome, bytes FROM traces;
DROP TABLE traces;
ALTER TABLE traces_v4 RENAME TO traces;
CREATE INDEX traces_by_entry ON traces(entry, created);
CREATE INDEX traces_by_created ON traces(created, id);
CREATE TRIGGER traces_no_update BEFORE UPDATE ON traces
BEGIN SELECT RAISE(ABORT, 'tel-store: a stored trace never changes'); END;
"#;

// Compiled RISC-V functions (crates/tel-store/src/compiled.rs), by definition hash and the
// identity of the code generator that made them (tel_riscv::CODEGEN): compiled code depends
// on both. Like `memo`, a cache: it does not refer to `definitions` (a run's code need not
// have been added with `tel store add`), and rows may be replaced or deleted. Not
// WITHOUT ROWID: an object is kilobytes, larger than such tables suit.
const V5: &str = r#"
CREATE TABLE compiled_functions (
    def_hash   TEXT NOT NULL COLLATE NOCASE
               CHECK (length(def_hash) = 52 AND NOT def_hash GLOB '*[^0-9a-v]*'),
    codegen    BLOB NOT NULL CHECK (length(codegen) = 32),
    object     BLOB NOT NULL CHECK (length(object) > 0), -- tel-riscv's byte form
    created    INTEGER NOT NULL,           -- unix seconds
    PRIMARY KEY (def_hash, codegen)
);
"#;
