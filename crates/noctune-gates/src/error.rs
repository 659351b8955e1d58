//! The gates crate's error type.

use std::path::PathBuf;

use noctune_core::process::ProcessError;

/// Everything that stops a gate, the repair ladder or a policy pack from working at all.
///
/// A verdict is never an error: a file with syntax errors gives a failing
/// [`GateReport`](noctune_core::GateReport), a path outside `allowed_globs` a
/// [`PolicyViolation`](noctune_core::PolicyViolation). `Err` means the work could not be done.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// `ruff` is not on `PATH` and the configuration requires it (`ruff_required = true`).
    #[error(
        "`ruff` was not found on PATH, and `ruff_required = true`: install ruff (`pip install ruff`) or set `ruff_required = false` to run the parse gate with python3 and skip the lint gate"
    )]
    RuffMissing,

    /// Neither `ruff` nor `python3` can judge syntax.
    #[error("no parser available: neither `ruff` nor `python3` was found on PATH")]
    NoParser,

    /// A tool (ruff, python3) could not run, or answered something unreadable.
    #[error("`{tool}` failed: {message}")]
    Tool {
        /// The tool.
        tool: String,
        /// What went wrong, stderr included.
        message: String,
    },

    /// A subprocess could not be run to completion.
    #[error(transparent)]
    Process(#[from] ProcessError),

    /// A configuration file (ruff.toml, pyproject.toml) could not be read or parsed.
    #[error("`{path}`: {message}")]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },

    /// A policy pack is configured wrongly (a bad glob, an impossible limit).
    #[error("policy pack `{pack}`: key `{key}`: {message}")]
    Pack {
        /// The pack.
        pack: String,
        /// The key at fault (`allowed_globs`).
        key: String,
        /// What is wrong.
        message: String,
    },

    /// No pack has this name.
    #[error("unknown policy pack `{name}`; known packs: {}", known.join(", "))]
    UnknownPack {
        /// The requested name.
        name: String,
        /// The names that exist.
        known: Vec<String>,
    },

    /// A core operation (symbol editor, prompt, model call) failed.
    #[error(transparent)]
    Core(#[from] noctune_core::Error),
}

impl Error {
    /// Whether trying again later may succeed (a tool that timed out, a model that was busy).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Process(ProcessError::Timeout { .. }) => true,
            Error::Core(err) => err.is_retryable(),
            _ => false,
        }
    }
}

impl From<Error> for noctune_core::Error {
    fn from(err: Error) -> Self {
        match err {
            Error::Core(err) => err,
            other => noctune_core::Error::Gate {
                gate: "gates".to_owned(),
                message: other.to_string(),
            },
        }
    }
}

/// The gates crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Wraps an error as a core [`noctune_core::Error::Gate`] naming the gate.
pub(crate) fn gate_error(gate: &str, err: Error) -> noctune_core::Error {
    match err {
        Error::Core(err) => err,
        other => noctune_core::Error::Gate {
            gate: gate.to_owned(),
            message: other.to_string(),
        },
    }
}
