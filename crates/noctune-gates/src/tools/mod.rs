//! The external programs the gates use: `ruff` and `python3`, found on `PATH` once, at start.

mod python;
mod ruff;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

pub use python::{Python3, PythonSyntaxError};
pub use ruff::{Ruff, RuffDiagnostic, RuffLocation, RuffMode, apply_fixes};

use crate::error::{Error, Result};

/// The tools found on `PATH`.
#[derive(Debug, Clone)]
pub struct Tools {
    /// `ruff`, when found.
    pub ruff: Option<Ruff>,
    /// `python3`, when found.
    pub python: Option<Python3>,
}

impl Tools {
    /// Finds `ruff` and `python3` on the process's `PATH` and asks each for its version.
    ///
    /// A missing ruff with `ruff_required` is one clear error ([`Error::RuffMissing`]), so a
    /// run stops at start rather than failing every file.
    pub async fn detect(ruff_required: bool) -> Result<Self> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        Self::detect_in(&path, ruff_required).await
    }

    /// Finds `python3` alone: for a pack that allows no ruff command, so not even
    /// `ruff --version` runs.
    pub async fn detect_without_ruff() -> Self {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let python = match find_program("python3", &path) {
            Some(program) => Python3::from_program(program).await.ok(),
            None => None,
        };
        Self { ruff: None, python }
    }

    /// [`Tools::detect`] with an explicit `PATH` value.
    pub async fn detect_in(path_var: &OsStr, ruff_required: bool) -> Result<Self> {
        let ruff = match find_program("ruff", path_var) {
            Some(program) => Some(Ruff::from_program(program).await?),
            None if ruff_required => return Err(Error::RuffMissing),
            None => {
                tracing::warn!("ruff not found on PATH; the lint gate is skipped");
                None
            }
        };
        let python = match find_program("python3", path_var) {
            Some(program) => Python3::from_program(program).await.ok(),
            None => None,
        };
        Ok(Self { ruff, python })
    }
}

/// The first executable file named `name` in the directories of `path_var`.
pub fn find_program(name: &str, path_var: &OsStr) -> Option<PathBuf> {
    std::env::split_paths(path_var)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file() || path.with_extension("exe").is_file()
}
