//! One case of an evaluation corpus: `<corpus>/<case>/case.toml` with the code and its tests.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

/// `case.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// What the case is about.
    pub description: String,
    /// The policy pack the run uses.
    pub pack: String,
    /// The argv that runs the case's own tests from the case's directory (exit 0 = pass).
    pub test_command: Vec<String>,
}

/// A case found in a corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The directory name (`01-config-loader`).
    pub name: String,
    /// The case's directory.
    pub dir: PathBuf,
    /// Its `case.toml`.
    pub file: CaseFile,
}

/// Every case of `corpus` (directories with a `case.toml`), sorted by name.
pub fn discover(corpus: &Path) -> anyhow::Result<Vec<Case>> {
    let entries = std::fs::read_dir(corpus)
        .with_context(|| format!("cannot read the corpus `{}`", corpus.display()))?;
    let mut cases = Vec::new();
    for entry in entries {
        let dir = entry?.path();
        let toml = dir.join("case.toml");
        if !toml.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&toml)
            .with_context(|| format!("cannot read `{}`", toml.display()))?;
        let file: CaseFile =
            toml::from_str(&text).with_context(|| format!("`{}` is not valid", toml.display()))?;
        if file.test_command.is_empty() {
            bail!("`{}`: test_command is empty", toml.display());
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        cases.push(Case { name, dir, file });
    }
    if cases.is_empty() {
        bail!(
            "no case in `{}` (a case is a directory with a case.toml)",
            corpus.display()
        );
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(cases)
}

/// Copies `from` to `to` (created), every file, skipping caches (`__pycache__`, `.noctune_cache`,
/// `.pytest_cache`, `.ruff_cache`).
pub fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create `{}`", to.display()))?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        if matches!(
            name.to_str(),
            Some("__pycache__" | ".noctune_cache" | ".pytest_cache" | ".ruff_cache")
        ) {
            continue;
        }
        let source = entry.path();
        let target = to.join(&name);
        if entry.file_type()?.is_dir() {
            copy_tree(&source, &target)?;
        } else {
            std::fs::copy(&source, &target).with_context(|| {
                format!(
                    "cannot copy `{}` to `{}`",
                    source.display(),
                    target.display()
                )
            })?;
        }
    }
    Ok(())
}

/// The case's code files (repo-relative, sorted): every `.py` file outside `tests/`.
pub fn code_files(dir: &Path) -> anyhow::Result<Vec<String>> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> anyhow::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let first = rel.components().next().map(|c| c.as_os_str().to_owned());
            if first.as_deref() == Some(std::ffi::OsStr::new("tests"))
                || path
                    .file_name()
                    .is_some_and(|n| n == "__pycache__" || n == ".noctune_cache")
            {
                continue;
            }
            if path.is_dir() {
                walk(root, &path, out)?;
            } else if path.extension().is_some_and(|e| e == "py") {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}
