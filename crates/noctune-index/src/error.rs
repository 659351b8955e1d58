//! The index crate's error type.

use std::io;
use std::path::PathBuf;

/// Everything that can stop the index, the callsite search or the evidence builder, with the
/// path or symbol involved. A refused edit op is not an error (it is in the
/// [`ApplyReport`](noctune_core::ApplyReport)); neither is a file with syntax errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file system operation failed.
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        /// What was being done: "read", "stat", "create directory", ...
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The index database could not be opened, read or written.
    #[error("index database `{path}`: {source}")]
    Database {
        /// The database file.
        path: PathBuf,
        /// The SQLite error.
        #[source]
        source: rusqlite::Error,
    },

    /// tree-sitter could not parse a file at all (it was cancelled or has no language).
    #[error("cannot parse `{path}`: {message}")]
    Parse {
        /// The file (or `<source>` for an in-memory text).
        path: PathBuf,
        /// What went wrong.
        message: String,
    },

    /// Walking the repository failed.
    #[error("cannot walk `{root}`: {message}")]
    Walk {
        /// The repository root.
        root: PathBuf,
        /// What went wrong.
        message: String,
    },

    /// The identifier to search for is not a Python identifier.
    #[error("`{identifier}` is not an identifier")]
    InvalidIdentifier {
        /// The offending text.
        identifier: String,
    },

    /// The callsite search could not run (ripgrep failed, the pattern is invalid).
    #[error("callsite search for `{identifier}`: {message}")]
    Search {
        /// The identifier searched for.
        identifier: String,
        /// What went wrong.
        message: String,
    },

    /// A symbol named in a request does not exist in the file.
    #[error("no symbol `{symbol}` in `{path}`")]
    SymbolNotFound {
        /// The file.
        path: PathBuf,
        /// The requested qualified name.
        symbol: String,
    },
}

impl Error {
    /// Shorthand for [`Error::Io`].
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// Whether trying again later may succeed: a database busy with another writer, an
    /// interrupted read. Everything else needs a change first.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Database { source, .. } => matches!(
                source.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
            ),
            Error::Io { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            _ => false,
        }
    }
}

impl From<Error> for noctune_core::Error {
    fn from(err: Error) -> Self {
        noctune_core::Error::Editor {
            message: err.to_string(),
        }
    }
}

/// The index crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
