//! What the plan is shown of the repository and checked against: each Python file's symbols.

use std::path::{Path, PathBuf};

use super::plan::RepoSymbols;
use crate::error::{Error, Result};
use crate::llm::estimate_tokens;
use crate::pipeline::Pipeline;
use crate::pipeline::tests_run::SKIPPED_DIRS;

/// The most Python files read for a plan.
const MAX_FILES: usize = 5000;

/// The repository's Python files and their symbols, and which of them the request is about.
pub(super) struct Repo {
    /// Every file's symbols (qualified names), for the plan check.
    pub symbols: RepoSymbols,
    /// The files the listing shows (those under the request's paths, or all).
    shown: Vec<String>,
}

impl Repo {
    /// Reads the repository at the pipeline's root; `paths` (repo-relative) narrow what the
    /// plan is shown, and must exist.
    pub fn read(pipeline: &Pipeline, paths: &[PathBuf]) -> Result<Self> {
        let root = &pipeline.root;
        for path in paths {
            if !root.join(path).exists() {
                return Err(Error::Refused(format!(
                    "`{}` does not exist under {}",
                    path.display(),
                    root.display()
                )));
            }
        }
        let mut files = Vec::new();
        walk(root, Path::new(""), &mut files)?;
        files.sort();
        let mut symbols = RepoSymbols::new();
        for rel in &files {
            let path = root.join(rel);
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let outline = pipeline.editor.outline(&text)?;
            let names = outline
                .symbols
                .iter()
                .filter(|s| s.kind.is_definition())
                .map(|s| s.name.clone())
                .collect();
            symbols.insert(rel.to_string_lossy().replace('\\', "/"), names);
        }
        let shown = symbols
            .keys()
            .filter(|file| {
                paths.is_empty()
                    || paths
                        .iter()
                        .any(|p| Path::new(file.as_str()).starts_with(p))
            })
            .cloned()
            .collect();
        Ok(Self { symbols, shown })
    }

    /// `path: symbol, symbol` lines for the plan prompt (top-level symbols and methods), cut to
    /// `budget` tokens; the cut is said.
    pub fn listing(&self, budget: u32) -> String {
        let mut out = String::new();
        for (n, file) in self.shown.iter().enumerate() {
            let names = &self.symbols[file];
            let line = if names.is_empty() {
                format!("{file}: (no functions or classes)\n")
            } else {
                format!("{file}: {}\n", names.join(", "))
            };
            if estimate_tokens(&out) + estimate_tokens(&line) > budget {
                out.push_str(&format!(
                    "({} more files not shown)\n",
                    self.shown.len() - n
                ));
                break;
            }
            out.push_str(&line);
        }
        if out.is_empty() {
            out.push_str("(no Python files yet)\n");
        }
        out
    }
}

/// Collects the `.py` files under `root/rel`, skipping caches, `.git` and virtual
/// environments.
fn walk(root: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let dir = root.join(rel);
    let entries = std::fs::read_dir(&dir).map_err(|err| Error::io("read directory", &dir, err))?;
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        if out.len() >= MAX_FILES {
            return Ok(());
        }
        let name = entry.file_name();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let child = rel.join(&name);
        if kind.is_dir() {
            let skipped = name.to_str().is_none_or(|n| SKIPPED_DIRS.contains(&n))
                || entry.path().join("pyvenv.cfg").is_file();
            if !skipped {
                walk(root, &child, out)?;
            }
        } else if kind.is_file() && child.extension().is_some_and(|e| e == "py") {
            out.push(child);
        }
    }
    Ok(())
}
