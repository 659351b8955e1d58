//! The symbol index: a SQLite database under `.noctune_cache/index.db` with every `.py` file
//! (path, size, mtime, content hash, status), its symbols and imports, and an FTS5 table over
//! symbol names. See [`Index::refresh`] for how it stays current.

mod query;
mod refresh;
mod schema;

use std::path::{Path, PathBuf};

use noctune_core::config::IndexSettings;
use noctune_core::store::CacheLayout;
use rusqlite::Connection;
use serde::Serialize;

use crate::error::{Error, Result};

pub use query::{IndexStats, SymbolHit};
pub use refresh::{RefreshStats, Timings};
pub use schema::SCHEMA_VERSION;

/// How files are indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexOptions {
    /// Files larger than this are recorded but not parsed.
    pub max_file_bytes: u64,
    /// Extra gitignore-style excludes.
    pub exclude: Vec<String>,
    /// Worker threads for walking and parsing; 0 uses every core.
    pub threads: usize,
}

impl Default for IndexOptions {
    fn default() -> Self {
        Self::from(&IndexSettings::default())
    }
}

impl From<&IndexSettings> for IndexOptions {
    fn from(settings: &IndexSettings) -> Self {
        Self {
            max_file_bytes: settings.max_file_bytes,
            exclude: settings.exclude.clone(),
            threads: 0,
        }
    }
}

/// What became of a file in the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Parsed cleanly.
    Ok,
    /// Parsed with syntax errors: its symbols are what could be found.
    SyntaxErrors,
    /// Not valid UTF-8: parsed as bytes, names decoded lossily.
    NotUtf8,
    /// Over the size cap: recorded, not parsed.
    TooLarge,
}

impl FileStatus {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Ok => "ok",
            FileStatus::SyntaxErrors => "syntax_errors",
            FileStatus::NotUtf8 => "not_utf8",
            FileStatus::TooLarge => "too_large",
        }
    }
}

/// An open index of one repository.
#[derive(Debug)]
pub struct Index {
    root: PathBuf,
    db_path: PathBuf,
    conn: Connection,
    options: IndexOptions,
}

impl Index {
    /// Opens the index of the repository at `root` (`.noctune_cache/index.db`), creating it,
    /// or rebuilding it when its schema version differs or it is unreadable.
    pub fn open(root: &Path, options: IndexOptions) -> Result<Self> {
        let cache = CacheLayout::for_root(root);
        // Only its `.gitignore` can fail here; the database's own directory is created (and
        // its errors reported) when the database is opened.
        if let Err(err) = cache.ensure() {
            tracing::warn!(dir = %cache.dir().display(), "{err}");
        }
        let db_path = cache.index_db();
        Self::open_at(root, &db_path, options)
    }

    /// Opens an index of `root` stored at `db_path`.
    pub fn open_at(root: &Path, db_path: &Path, options: IndexOptions) -> Result<Self> {
        let root = std::path::absolute(root).map_err(|e| Error::io("resolve", root, e))?;
        let conn = schema::open(db_path)?;
        Ok(Self {
            root,
            db_path: db_path.to_path_buf(),
            conn,
            options,
        })
    }

    /// The repository root (absolute).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The database file.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// The options the index was opened with.
    pub fn options(&self) -> &IndexOptions {
        &self.options
    }

    fn db_err(&self) -> impl Fn(rusqlite::Error) -> Error + '_ {
        |source| Error::Database {
            path: self.db_path.clone(),
            source,
        }
    }
}

#[cfg(test)]
mod tests;
