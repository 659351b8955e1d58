//! Errors of the git layer and the patchset commands.

use std::path::PathBuf;

/// What went wrong, naming the repository, command or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The git layer refused an invocation (a subcommand or flag outside its allowlist).
    #[error("refused `git {command}`: {why}")]
    Refused {
        /// The command line after `git`.
        command: String,
        /// Which rule it broke.
        why: String,
    },
    /// git ran and failed.
    #[error("`git {command}` failed in `{repo}`: {stderr}")]
    Git {
        /// The directory it ran in.
        repo: PathBuf,
        /// The command line after `git`.
        command: String,
        /// What git wrote to stderr.
        stderr: String,
    },
    /// A program (git, ruff, the test command) could not run.
    #[error("in `{dir}`: {source}")]
    Process {
        /// The directory it was to run in.
        dir: PathBuf,
        /// Why it could not run.
        #[source]
        source: noctune_core::process::ProcessError,
    },
    /// Reading or writing a file failed.
    #[error("cannot {action} `{path}`: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The model could not write a commit message.
    #[error("the model could not write the commit message: {0}")]
    Llm(#[from] noctune_core::LlmError),
    /// The run store could not be read or written.
    #[error(transparent)]
    Core(#[from] noctune_core::Error),
    /// The request cannot be carried out as asked (no head_sha, the branch exists, ...).
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// An I/O error on `path`.
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;
