//! The core crate's error type.

use std::io;
use std::path::PathBuf;

use crate::config::ConfigError;
use crate::llm::LlmError;

/// Everything that can go wrong inside `noctune-core`, with the file, run or key involved.
///
/// A verdict is never an error: a gate that finds problems returns a failing
/// [`GateReport`](crate::GateReport), an editor that refuses an op says so in its
/// [`ApplyReport`](crate::ApplyReport). `Err` means the work could not be done at all.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration (a file or an environment variable) is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),

    /// A file system operation failed.
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        /// What was being done: "read", "write", "create directory", ...
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A state file holds something that is not what Noctune wrote there.
    #[error("`{path}` is not valid: {message}")]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },

    /// Another live process drives this run.
    #[error("run `{run_id}` is in use by another process ({holder}); lock file `{path}`")]
    RunLocked {
        /// The run.
        run_id: String,
        /// What the lock file says about its holder (pid, start time).
        holder: String,
        /// The lock file.
        path: PathBuf,
    },

    /// No run with this id exists in the run store.
    #[error("no run `{run_id}` under `{dir}`")]
    RunNotFound {
        /// The requested run id.
        run_id: String,
        /// The runs directory searched.
        dir: PathBuf,
    },

    /// A run id, task id or approval id is not well formed.
    #[error("invalid {what} `{value}`: {reason}")]
    InvalidId {
        /// Which id ("run id", ...).
        what: &'static str,
        /// The offending value.
        value: String,
        /// Why it is rejected.
        reason: String,
    },

    /// A prompt template could not be used.
    #[error("prompt `{source_name}`: {message}")]
    Prompt {
        /// The built-in prompt name or the override file's path.
        source_name: String,
        /// What is wrong.
        message: String,
    },

    /// A call to the model failed.
    #[error(transparent)]
    Llm(#[from] LlmError),

    /// A gate could not run (its tool is missing, crashed or timed out).
    #[error("gate `{gate}` could not run: {message}")]
    Gate {
        /// The gate's name.
        gate: String,
        /// What went wrong.
        message: String,
    },

    /// The symbol editor could not work on a source text at all (as opposed to refusing one op).
    #[error("symbol editor: {message}")]
    Editor {
        /// What went wrong.
        message: String,
    },

    /// An operation that must never happen was attempted (for example applying a change whose
    /// required approval is still undecided).
    #[error("refused: {0}")]
    Refused(String),
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

    /// Whether trying the same thing again later may succeed (a model that was loading, a
    /// dropped connection). Configuration and state errors are never retryable.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Llm(err) => err.is_retryable(),
            Error::Io { source, .. } => matches!(
                source.kind(),
                io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ),
            Error::RunLocked { .. } => true,
            _ => false,
        }
    }
}

/// The core crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
