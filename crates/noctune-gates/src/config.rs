//! Per-file tool configuration: which ruff configuration file applies to a file, the Python
//! version its syntax is judged against, and a hash of both for reports.
//!
//! Discovery follows ruff's: the closest directory (from the file's own up to the repository
//! root) holding `.ruff.toml`, `ruff.toml` or a `pyproject.toml` with a `[tool.ruff]` table, in
//! that order of precedence within a directory; `extend` is followed. The target version is
//! that configuration's `target-version`, else the lower bound of the closest
//! `[project] requires-python`, else the `python3` on `PATH`.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::target::{PythonVersion, Target, TargetSource};

/// The configuration that applies to one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileConfig {
    /// The closest ruff configuration file, when there is one.
    pub ruff_config: Option<PathBuf>,
    /// The Python version syntax is judged against.
    pub target: Target,
    /// A short hash of the ruff configuration chain's contents and the target version.
    pub config_hash: String,
}

/// Resolves [`FileConfig`]s for files of one repository, caching per directory.
#[derive(Debug)]
pub struct ProjectConfig {
    root: PathBuf,
    interpreter: Option<PythonVersion>,
    cache: Mutex<HashMap<PathBuf, Arc<FileConfig>>>,
}

/// One parsed configuration file.
struct ConfigFile {
    path: PathBuf,
    text: String,
    /// The ruff table: the whole file for `ruff.toml`, `[tool.ruff]` for `pyproject.toml`.
    ruff: Option<toml::Table>,
    /// `[project] requires-python`, for `pyproject.toml`.
    requires_python: Option<String>,
}

impl ProjectConfig {
    /// A resolver for the repository at `root`; `interpreter` is the `python3` version used
    /// when no configuration names one.
    pub fn new(root: impl Into<PathBuf>, interpreter: Option<PythonVersion>) -> Self {
        Self {
            root: root.into(),
            interpreter,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The repository root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The configuration that applies to `path` (relative to the root, or absolute).
    pub fn for_file(&self, path: &Path) -> Result<Arc<FileConfig>> {
        let absolute = if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.root.join(path)
        };
        let dir = absolute
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.root.clone());
        if let Ok(cache) = self.cache.lock()
            && let Some(found) = cache.get(&dir)
        {
            return Ok(found.clone());
        }
        let resolved = Arc::new(self.resolve_dir(&dir)?);
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(dir, resolved.clone());
        }
        Ok(resolved)
    }

    fn resolve_dir(&self, dir: &Path) -> Result<FileConfig> {
        let mut ruff_chain: Vec<ConfigFile> = Vec::new();
        let mut requires: Option<(PathBuf, String)> = None;
        for ancestor in self.ancestors(dir) {
            if ruff_chain.is_empty() {
                for name in [".ruff.toml", "ruff.toml", "pyproject.toml"] {
                    let candidate = ancestor.join(name);
                    if !candidate.is_file() {
                        continue;
                    }
                    let file = read_config(&candidate)?;
                    if file.ruff.is_some() {
                        ruff_chain.push(file);
                        break;
                    }
                }
            }
            if requires.is_none() {
                let pyproject = ancestor.join("pyproject.toml");
                if pyproject.is_file()
                    && let Some(spec) = read_config(&pyproject)?.requires_python
                {
                    requires = Some((pyproject, spec));
                }
            }
            if !ruff_chain.is_empty() && requires.is_some() {
                break;
            }
        }
        // Follow `extend` (relative to the file that names it), at most 8 deep.
        while ruff_chain.len() < 8 {
            let Some(last) = ruff_chain.last() else { break };
            let Some(extend) = last
                .ruff
                .as_ref()
                .and_then(|t| t.get("extend"))
                .and_then(|v| v.as_str())
            else {
                break;
            };
            let base = last.path.parent().unwrap_or(&self.root).join(extend);
            if !base.is_file() || ruff_chain.iter().any(|f| f.path == base) {
                break;
            }
            let file = read_config(&base)?;
            ruff_chain.push(file);
        }

        let from_ruff = ruff_chain.iter().find_map(|file| {
            let name = file.ruff.as_ref()?.get("target-version")?.as_str()?;
            Some((file.path.clone(), name.to_owned()))
        });
        let target = if let Some((path, name)) = from_ruff {
            let version = PythonVersion::from_ruff_name(&name).ok_or_else(|| Error::Config {
                path: path.clone(),
                message: format!("`target-version = \"{name}\"` is not a version like `py311`"),
            })?;
            Target {
                version,
                source: TargetSource::RuffConfig { path },
            }
        } else if let Some(version) = requires
            .as_ref()
            .and_then(|(_, spec)| PythonVersion::lower_bound_of(spec))
        {
            let path = requires.map(|(path, _)| path).unwrap_or_default();
            Target {
                version: version.max(PythonVersion::OLDEST_RUFF),
                source: TargetSource::RequiresPython { path },
            }
        } else if let Some(version) = self.interpreter {
            Target {
                version: version.max(PythonVersion::OLDEST_RUFF),
                source: TargetSource::Interpreter,
            }
        } else {
            Target {
                version: PythonVersion::py3(10),
                source: TargetSource::Default,
            }
        };

        let mut hasher = Sha256::new();
        for file in &ruff_chain {
            let rel = file.path.strip_prefix(&self.root).unwrap_or(&file.path);
            hasher.update(rel.to_string_lossy().as_bytes());
            hasher.update([0]);
            hasher.update(file.text.as_bytes());
            hasher.update([0]);
        }
        hasher.update(format!("target={}", target.version.ruff_name()).as_bytes());
        let digest = hasher.finalize();
        let config_hash = digest[..8].iter().map(|b| format!("{b:02x}")).collect();

        Ok(FileConfig {
            ruff_config: ruff_chain.first().map(|f| f.path.clone()),
            target,
            config_hash,
        })
    }

    /// `dir` and its ancestors up to and including the root (just `dir` when it is outside).
    fn ancestors(&self, dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut current = Some(normalize(dir));
        let root = normalize(&self.root);
        while let Some(path) = current {
            out.push(path.clone());
            if path == root || !path.starts_with(&root) {
                break;
            }
            current = path.parent().map(Path::to_path_buf);
        }
        out
    }
}

/// Removes `.` and resolves `..` lexically.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn read_config(path: &Path) -> Result<ConfigFile> {
    let text = std::fs::read_to_string(path).map_err(|err| Error::Config {
        path: path.to_path_buf(),
        message: format!("cannot read: {err}"),
    })?;
    let mut table: toml::Table = text.parse().map_err(|err: toml::de::Error| Error::Config {
        path: path.to_path_buf(),
        message: format!("invalid TOML: {}", err.to_string().trim_end()),
    })?;
    let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    if !is_pyproject {
        return Ok(ConfigFile {
            path: path.to_path_buf(),
            text,
            ruff: Some(table),
            requires_python: None,
        });
    }
    let requires_python = table
        .get("project")
        .and_then(|p| p.get("requires-python"))
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let ruff = match table.remove("tool") {
        Some(toml::Value::Table(mut tool)) => match tool.remove("ruff") {
            Some(toml::Value::Table(ruff)) => Some(ruff),
            _ => None,
        },
        _ => None,
    };
    Ok(ConfigFile {
        path: path.to_path_buf(),
        text,
        ruff,
        requires_python,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn target_comes_from_ruff_then_requires_python_then_interpreter() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            root,
            "pyproject.toml",
            "[project]\nname = \"x\"\nrequires-python = \">=3.9\"\n",
        );
        write(root, "svc/ruff.toml", "target-version = \"py312\"\n");
        write(root, "lib/sub/.ruff.toml", "extend = \"../base.toml\"\n");
        write(root, "lib/base.toml", "target-version = \"py38\"\n");
        let config = ProjectConfig::new(root, Some(PythonVersion::py3(11)));

        let top = config.for_file(Path::new("a.py")).unwrap();
        assert_eq!(
            top.target,
            Target {
                version: PythonVersion::py3(9),
                source: TargetSource::RequiresPython {
                    path: root.join("pyproject.toml")
                },
            }
        );
        assert_eq!(top.ruff_config, None);

        let svc = config.for_file(Path::new("svc/deep/b.py")).unwrap();
        assert_eq!(svc.target.version, PythonVersion::py3(12));
        assert_eq!(svc.ruff_config, Some(root.join("svc/ruff.toml")));

        let lib = config.for_file(Path::new("lib/sub/c.py")).unwrap();
        assert_eq!(lib.target.version, PythonVersion::py3(8));
        assert_eq!(lib.ruff_config, Some(root.join("lib/sub/.ruff.toml")));
        assert_ne!(lib.config_hash, svc.config_hash);

        let bare = tempfile::tempdir().unwrap();
        let config = ProjectConfig::new(bare.path(), Some(PythonVersion::py3(11)));
        let found = config.for_file(Path::new("x/y.py")).unwrap();
        assert_eq!(
            found.target,
            Target {
                version: PythonVersion::py3(11),
                source: TargetSource::Interpreter
            }
        );
    }

    #[test]
    fn pyproject_without_tool_ruff_is_not_a_ruff_config() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "pyproject.toml",
            "[tool.ruff]\ntarget-version = \"py310\"\n",
        );
        write(
            dir.path(),
            "pkg/pyproject.toml",
            "[project]\nname = \"pkg\"\n",
        );
        let config = ProjectConfig::new(dir.path(), None);
        let found = config.for_file(Path::new("pkg/m.py")).unwrap();
        assert_eq!(found.ruff_config, Some(dir.path().join("pyproject.toml")));
        assert_eq!(found.target.version, PythonVersion::py3(10));
    }

    #[test]
    fn a_bad_target_version_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ruff.toml", "target-version = \"3.11\"\n");
        let config = ProjectConfig::new(dir.path(), None);
        let err = config.for_file(Path::new("m.py")).unwrap_err().to_string();
        assert!(err.contains("ruff.toml"), "{err}");
        assert!(err.contains("py311"), "{err}");
    }
}
