//! Exit codes that scripts can rely on.

use std::process::ExitCode;

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything went as asked: 0.
    Success,
    /// The command ran and found problems or rejected changes: 1.
    #[allow(dead_code)] // used by `check` and the run commands
    Failure,
    /// The command could not run: bad usage, bad configuration, an I/O error: 2.
    Error,
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        match status {
            ExitStatus::Success => ExitCode::from(0),
            ExitStatus::Failure => ExitCode::from(1),
            ExitStatus::Error => ExitCode::from(2),
        }
    }
}
