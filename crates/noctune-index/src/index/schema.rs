//! The index database: its schema, and opening it (rebuilt when its schema version differs or
//! when it is not a readable SQLite database).

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

use crate::error::{Error, Result};

/// Bumped whenever the schema or the meaning of a column changes: an index with another
/// version is dropped and rebuilt.
pub const SCHEMA_VERSION: i32 = 1;

const SCHEMA: &str = "
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    hash TEXT NOT NULL,
    status TEXT NOT NULL,
    has_syntax_errors INTEGER NOT NULL
);
CREATE TABLE symbols (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    short_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    start_byte INTEGER NOT NULL,
    end_byte INTEGER NOT NULL,
    start_line INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    signature TEXT,
    docstring TEXT
);
CREATE TABLE imports (
    file_id INTEGER NOT NULL,
    line INTEGER NOT NULL,
    module TEXT NOT NULL,
    names TEXT NOT NULL,
    text TEXT NOT NULL
);
";

/// The full-text table over symbol names. It is created and filled on the first search
/// ([`ensure_fts`]), not by a refresh: a cold build of a large repository does not pay for an
/// index that nothing may query. Once it exists, every refresh keeps it current.
const CREATE_FTS: &str =
    "CREATE VIRTUAL TABLE symbols_fts USING fts5(name, tokenize = \"unicode61 tokenchars '_'\");";

/// Whether the full-text table exists.
pub(crate) fn has_fts(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'symbols_fts')",
        [],
        |row| row.get(0),
    )
}

/// Creates and fills the full-text table unless it exists, in one write transaction (so two
/// processes searching at once fill it once).
pub(crate) fn ensure_fts(conn: &Connection) -> rusqlite::Result<()> {
    if has_fts(conn)? {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let filled = (|| {
        if !has_fts(conn)? {
            conn.execute_batch(CREATE_FTS)?;
            conn.execute_batch(FILL_FTS)?;
        }
        Ok(())
    })();
    match filled {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(err) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(err)
        }
    }
}

/// Fills an empty full-text table from `symbols`.
pub(crate) const FILL_FTS: &str =
    "INSERT INTO symbols_fts (rowid, name) SELECT id, name FROM symbols";

/// The page cache of a connection, in KiB (as SQLite's negative `cache_size`; its default).
pub(crate) const CACHE_KIB: i64 = -2000;

/// The indexes on `symbols` and `imports` (dropped during a first build, created after it).
pub(crate) const CREATE_SECONDARY_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS symbols_by_file ON symbols(file_id);
CREATE INDEX IF NOT EXISTS symbols_by_short_name ON symbols(short_name);
CREATE INDEX IF NOT EXISTS imports_by_file ON imports(file_id);
CREATE INDEX IF NOT EXISTS imports_by_module ON imports(module);
";

/// Drops [`CREATE_SECONDARY_INDEXES`].
pub(crate) const DROP_SECONDARY_INDEXES: &str = "
DROP INDEX IF EXISTS symbols_by_file;
DROP INDEX IF EXISTS symbols_by_short_name;
DROP INDEX IF EXISTS imports_by_file;
DROP INDEX IF EXISTS imports_by_module;
";

/// Opens (creating or rebuilding as needed) the index database at `path`.
pub(crate) fn open(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    }
    match try_open(path) {
        Ok(conn) => Ok(conn),
        Err(err) => {
            tracing::warn!(path = %path.display(), %err, "index database unusable; rebuilding it");
            remove(path)?;
            try_open(path).map_err(|source| Error::Database {
                path: path.to_path_buf(),
                source,
            })
        }
    }
}

fn try_open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "cache_size", CACHE_KIB)?;
    let version: i32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let has_tables: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'files')",
        [],
        |row| row.get(0),
    )?;
    if version == SCHEMA_VERSION && has_tables {
        return Ok(conn);
    }
    if has_tables || version != 0 {
        tracing::info!(
            found = version,
            expected = SCHEMA_VERSION,
            "index schema changed; rebuilding"
        );
        drop_everything(&conn)?;
    }
    let tx = conn.unchecked_transaction()?;
    tx.execute_batch(SCHEMA)?;
    tx.execute_batch(CREATE_SECONDARY_INDEXES)?;
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    tx.commit()?;
    Ok(conn)
}

fn drop_everything(conn: &Connection) -> rusqlite::Result<()> {
    let names: Vec<(String, String)> = {
        let mut stmt = conn.prepare(
            "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view') \
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts_%'",
        )?;
        stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    let tx = conn.unchecked_transaction()?;
    for (kind, name) in names {
        let kind = if kind == "view" { "VIEW" } else { "TABLE" };
        tx.execute_batch(&format!(
            "DROP {kind} IF EXISTS \"{}\"",
            name.replace('"', "\"\"")
        ))?;
    }
    tx.pragma_update(None, "user_version", 0)?;
    tx.commit()
}

/// Deletes the database and its WAL files.
fn remove(path: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", std::path::PathBuf::from(name), e)),
        }
    }
    Ok(())
}
