//! Finding the repositories `noctune commit` sweeps.

use std::path::{Path, PathBuf};

/// Directories never searched for repositories.
const SKIPPED: [&str; 8] = [
    ".noctune_cache",
    "node_modules",
    ".venv",
    "venv",
    "target",
    "__pycache__",
    ".tox",
    ".mypy_cache",
];

/// `root` itself, or with `recursive` every directory under it that holds a `.git` (a
/// directory, or a file as in worktrees and submodules), sorted. Symbolic links are not
/// followed.
pub fn discover(root: &Path, recursive: bool) -> Vec<PathBuf> {
    if !recursive {
        return vec![root.to_path_buf()];
    }
    let mut found = Vec::new();
    walk(root, &mut found);
    found.sort();
    found
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    if dir.join(".git").exists() {
        found.push(dir.to_path_buf());
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if kind.is_dir() && name != ".git" && !SKIPPED.contains(&name.as_ref()) {
            walk(&entry.path(), found);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn nested_repositories_are_found_and_caches_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for repo in ["a", "b/c", "node_modules/x", "a/inner"] {
            std::fs::create_dir_all(root.join(repo).join(".git")).unwrap();
        }
        assert_eq!(
            discover(root, true),
            vec![root.join("a"), root.join("a/inner"), root.join("b/c")]
        );
        assert_eq!(discover(root, false), vec![root.to_path_buf()]);
    }
}
