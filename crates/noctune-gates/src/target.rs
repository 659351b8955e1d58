//! The Python version syntax is judged against, and where it came from.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A Python language version (`3.11`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct PythonVersion {
    /// Major version (3).
    pub major: u8,
    /// Minor version (11).
    pub minor: u8,
}

impl PythonVersion {
    /// `3.minor`.
    pub const fn py3(minor: u8) -> Self {
        Self { major: 3, minor }
    }

    /// The oldest version ruff accepts as `--target-version`.
    pub const OLDEST_RUFF: Self = Self::py3(7);

    /// ruff's name for it: `py311`.
    pub fn ruff_name(self) -> String {
        format!("py{}{}", self.major, self.minor)
    }

    /// Parses ruff's name (`py311`).
    pub fn from_ruff_name(name: &str) -> Option<Self> {
        let digits = name.trim().strip_prefix("py")?;
        let major = digits.get(..1)?.parse().ok()?;
        let minor = digits.get(1..)?.parse().ok()?;
        Some(Self { major, minor })
    }

    /// The lower bound of a `requires-python` specifier (`>=3.9,<4` → 3.9, `~=3.10` → 3.10,
    /// `==3.11.*` → 3.11). `None` when no clause gives a lower bound.
    pub fn lower_bound_of(requires_python: &str) -> Option<Self> {
        requires_python
            .split(',')
            .filter_map(|clause| {
                let clause = clause.trim();
                let rest = [">=", "~=", "==", ">"]
                    .iter()
                    .find_map(|op| clause.strip_prefix(op))?;
                rest.trim().parse::<Self>().ok()
            })
            .max()
    }

    /// Parses the output of `python3 --version` (`Python 3.11.7`).
    pub fn from_interpreter_banner(banner: &str) -> Option<Self> {
        banner
            .trim()
            .strip_prefix("Python ")
            .and_then(|v| v.parse().ok())
    }
}

impl FromStr for PythonVersion {
    type Err = String;

    /// Parses `3.11`, `3.11.7` or `3.11.*`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut parts = text.trim().split('.');
        let parse = |part: Option<&str>| -> Option<u8> {
            part.map(|p| p.trim_end_matches('*'))
                .filter(|p| !p.is_empty())
                .and_then(|p| p.parse().ok())
        };
        let major = parse(parts.next()).ok_or_else(|| format!("not a version: `{text}`"))?;
        let minor = parse(parts.next()).unwrap_or(0);
        Ok(Self { major, minor })
    }
}

impl fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Where the target version came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "from")]
pub enum TargetSource {
    /// `target-version` in a ruff configuration file.
    RuffConfig {
        /// The file.
        path: PathBuf,
    },
    /// The lower bound of `[project] requires-python`.
    RequiresPython {
        /// The `pyproject.toml`.
        path: PathBuf,
    },
    /// The `python3` on `PATH`.
    Interpreter,
    /// Nothing said: ruff's own default.
    Default,
}

impl fmt::Display for TargetSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TargetSource::RuffConfig { path } => write!(f, "target-version in {}", path.display()),
            TargetSource::RequiresPython { path } => {
                write!(f, "requires-python in {}", path.display())
            }
            TargetSource::Interpreter => f.write_str("the python3 on PATH"),
            TargetSource::Default => f.write_str("ruff's default"),
        }
    }
}

/// The resolved target: the version and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The version.
    pub version: PythonVersion,
    /// Where it came from.
    pub source: TargetSource,
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn parses_versions_and_specifiers() {
        assert_eq!(
            PythonVersion::from_ruff_name("py311"),
            Some(PythonVersion::py3(11))
        );
        assert_eq!(
            PythonVersion::from_ruff_name("py37"),
            Some(PythonVersion::py3(7))
        );
        assert_eq!(PythonVersion::from_ruff_name("3.11"), None);
        assert_eq!(PythonVersion::py3(12).ruff_name(), "py312");
        let cases = [
            (">=3.9", Some(PythonVersion::py3(9))),
            (">=3.8, <4", Some(PythonVersion::py3(8))),
            ("~=3.10", Some(PythonVersion::py3(10))),
            ("==3.11.*", Some(PythonVersion::py3(11))),
            (">3.9", Some(PythonVersion::py3(9))),
            ("<3.13", None),
            ("", None),
        ];
        for (spec, expected) in cases {
            assert_eq!(PythonVersion::lower_bound_of(spec), expected, "{spec}");
        }
        assert_eq!(
            PythonVersion::from_interpreter_banner("Python 3.11.7\n"),
            Some(PythonVersion::py3(11))
        );
    }
}
