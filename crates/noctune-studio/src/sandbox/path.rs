//! Where the chat's file tools may read and write: under the allowed roots
//! (`[studio] allowed_roots`, the repository root by default).
//!
//! A path is refused before anything is read or written when it is empty, holds a NUL or
//! another control character, a backslash or a percent-encoded byte (`%2e%2e`, and so
//! `%252e` too), or a `..` component; it is then taken relative to the repository root (or as
//! given when absolute), canonicalised (every symlink resolved; for a new file, its deepest
//! existing parent) and compared with the canonical allowed roots component by component.
//! Writes are also refused into `.git/`, `.env` (and `.env.*`), `*.pem`, `id_rsa*` and what
//! Noctune keeps under `.noctune_cache/` (the daemon's token, the chat's sessions, backups and
//! permission file, the runs, prompt overrides, the index), even inside a root; reads of
//! secrets and of those files are refused too.

use std::path::{Component, Path, PathBuf};

use noctune_core::store::CACHE_DIR;

/// What the caller means to do with a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Read an existing file or directory.
    Read,
    /// Create or replace a file.
    Write,
}

/// A path refused by the sandbox, with a message for the model and the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SandboxError {
    /// For people (and the model): which path and why.
    pub message: String,
}

impl SandboxError {
    fn new(text: &str, why: impl std::fmt::Display) -> Self {
        Self {
            message: format!("path `{}` refused: {why}", text.escape_debug()),
        }
    }
}

/// A path the sandbox let through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The canonical path (for a new file: its canonical parent joined with the new names).
    pub path: PathBuf,
    /// How to show it: relative to the repository root when inside it, else absolute.
    pub shown: String,
    /// Whether it lies under the repository's `.noctune_cache/` (writes there need no
    /// permission).
    pub in_cache: bool,
}

/// The canonical repository root and allowed roots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sandbox {
    repo_root: PathBuf,
    roots: Vec<PathBuf>,
}

/// Names under `.noctune_cache/` that Noctune itself keeps: the daemon's files (its token, the
/// chat's sessions, backups and permission file), the runs (state, approvals, decisions),
/// prompt overrides and the index. Never written by the chat (writing elsewhere under
/// `.noctune_cache/` needs no permission, so these must not be reachable), nor read.
const DAEMON_FILES: &[&str] = &[
    ".gitignore",
    "index.db",
    "index.db-shm",
    "index.db-wal",
    "overrides",
    "runs",
    "studio",
    "studio_allow.json",
    "studio_chat",
    "studio_edits",
];

impl Sandbox {
    /// Canonicalises the repository root and the allowed roots; a root that does not exist
    /// is left out (with a warning). Fails when the repository root cannot be resolved or no
    /// allowed root exists.
    pub fn new(repo_root: &Path, allowed_roots: &[PathBuf]) -> Result<Self, SandboxError> {
        let repo = repo_root.canonicalize().map_err(|err| {
            SandboxError::new(
                &repo_root.display().to_string(),
                format!("cannot resolve the repository root: {err}"),
            )
        })?;
        let mut roots = Vec::new();
        for root in allowed_roots {
            match root.canonicalize() {
                Ok(path) if path.is_dir() => roots.push(path),
                Ok(path) => {
                    tracing::warn!(root = %path.display(), "allowed root is not a directory; left out")
                }
                Err(err) => {
                    tracing::warn!(root = %root.display(), "allowed root cannot be resolved ({err}); left out")
                }
            }
        }
        if roots.is_empty() {
            return Err(SandboxError {
                message: "no allowed root exists: check `[studio] allowed_roots`".to_owned(),
            });
        }
        Ok(Self {
            repo_root: repo,
            roots,
        })
    }

    /// The canonical allowed roots.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// The canonical repository root.
    pub fn repo_root(&self) -> &Path {
        &self.repo_root
    }

    /// How a canonical path is shown: relative to the repository root when inside it.
    pub fn shown(&self, path: &Path) -> String {
        match path.strip_prefix(&self.repo_root) {
            Ok(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
            Ok(rel) => rel.display().to_string(),
            Err(_) => path.display().to_string(),
        }
    }

    /// Checks `text` for `access`; nothing is read or written here.
    pub fn resolve(&self, text: &str, access: Access) -> Result<Resolved, SandboxError> {
        let given = check_text(text)?;
        let joined = if given.is_absolute() {
            given.to_path_buf()
        } else {
            self.repo_root.join(given)
        };
        let path = match access {
            Access::Read => joined
                .canonicalize()
                .map_err(|err| SandboxError::new(text, format!("cannot open it: {err}")))?,
            Access::Write => canonical_for_write(text, &joined)?,
        };
        let Some(root) = self.roots.iter().find(|root| path.starts_with(root)) else {
            return Err(SandboxError::new(
                text,
                format!(
                    "it resolves to `{}`, outside the allowed roots ({})",
                    path.display(),
                    self.roots
                        .iter()
                        .map(|r| format!("`{}`", r.display()))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        };
        let in_repo = path.strip_prefix(&self.repo_root).ok();
        let in_cache = in_repo.is_some_and(|rel| rel.starts_with(CACHE_DIR));
        // Names are checked relative to the repository root and to the allowed root, so a
        // root inside `.git` or a symlink to `.env` is caught as well as a plain path.
        for rel in [in_repo, path.strip_prefix(root).ok()]
            .into_iter()
            .flatten()
        {
            if let Some(why) = refused_name(rel, access) {
                return Err(SandboxError::new(text, why));
            }
        }
        if access == Access::Write && path.is_dir() {
            return Err(SandboxError::new(text, "it is a directory"));
        }
        Ok(Resolved {
            shown: self.shown(&path),
            path,
            in_cache,
        })
    }
}

/// The text-level checks: nothing encoded, nothing climbing.
fn check_text(text: &str) -> Result<&Path, SandboxError> {
    if text.trim().is_empty() {
        return Err(SandboxError::new(text, "it is empty"));
    }
    if text.chars().any(char::is_control) {
        return Err(SandboxError::new(
            text,
            "it contains a NUL or another control character",
        ));
    }
    if text.contains('\\') {
        return Err(SandboxError::new(
            text,
            "it contains a backslash; use `/` between names",
        ));
    }
    if has_percent_escape(text) {
        return Err(SandboxError::new(
            text,
            "it contains a percent-encoded byte; write the path plainly",
        ));
    }
    let given = Path::new(text);
    if given
        .components()
        .any(|c| matches!(c, Component::ParentDir))
    {
        return Err(SandboxError::new(
            text,
            "it contains `..`; give a path inside the allowed roots",
        ));
    }
    Ok(given)
}

/// Whether `text` holds `%` followed by two hex digits.
fn has_percent_escape(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes
        .windows(3)
        .any(|w| w[0] == b'%' && w[1].is_ascii_hexdigit() && w[2].is_ascii_hexdigit())
}

/// The canonical form of a path that may not exist yet: an existing file is canonicalised
/// (a symlink resolves to its target); for a new one, the deepest existing ancestor is
/// canonicalised (a symlinked parent resolves) and the missing names are appended.
fn canonical_for_write(text: &str, joined: &Path) -> Result<PathBuf, SandboxError> {
    if std::fs::symlink_metadata(joined).is_ok() {
        return joined
            .canonicalize()
            .map_err(|err| SandboxError::new(text, format!("cannot resolve it: {err}")));
    }
    let mut missing = Vec::new();
    let mut existing = joined;
    while std::fs::symlink_metadata(existing).is_err() {
        let (Some(parent), Some(name)) = (existing.parent(), existing.file_name()) else {
            return Err(SandboxError::new(text, "no part of it exists"));
        };
        missing.push(name.to_owned());
        existing = parent;
    }
    let mut path = existing
        .canonicalize()
        .map_err(|err| SandboxError::new(text, format!("cannot resolve its parent: {err}")))?;
    if !path.is_dir() {
        return Err(SandboxError::new(
            text,
            format!("`{}` is not a directory", path.display()),
        ));
    }
    for name in missing.iter().rev() {
        path.push(name);
    }
    Ok(path)
}

/// Why a path (relative to a root) may not be used, if it may not.
fn refused_name(rel: &Path, access: Access) -> Option<String> {
    let names: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(name) => Some(name.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    if names.first().map(String::as_str) == Some(CACHE_DIR)
        && let Some(second) = names.get(1)
        && DAEMON_FILES.contains(&second.as_str())
    {
        return Some(format!("`{CACHE_DIR}/{second}` is kept by Noctune itself"));
    }
    let secret = names.iter().find(|name| {
        name.as_str() == ".env"
            || name.starts_with(".env.")
            || name.ends_with(".pem")
            || name.starts_with("id_rsa")
    });
    if let Some(name) = secret {
        return Some(format!("`{name}` may hold secrets"));
    }
    if access == Access::Write && names.iter().any(|name| name == ".git") {
        return Some("writes into `.git/` are refused".to_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_escapes_are_found() {
        assert!(has_percent_escape("%2e%2e/etc"));
        assert!(has_percent_escape("a/%252e"));
        assert!(!has_percent_escape("100%"));
        assert!(!has_percent_escape("a%zz"));
    }

    #[test]
    fn daemon_files_and_secrets_are_refused_by_name() {
        for (rel, access) in [
            (".noctune_cache/studio/token", Access::Read),
            (".noctune_cache/studio_allow.json", Access::Write),
            (".noctune_cache/studio_edits/backups/x", Access::Write),
            (
                ".noctune_cache/runs/r1/state/decisions/a.json",
                Access::Write,
            ),
            (".noctune_cache/overrides/review.md", Access::Write),
            (".noctune_cache/index.db", Access::Write),
            ("app/.env", Access::Read),
            ("app/.env.local", Access::Write),
            ("certs/server.pem", Access::Write),
            ("home/id_rsa.pub", Access::Write),
            (".git/config", Access::Write),
        ] {
            assert!(refused_name(Path::new(rel), access).is_some(), "{rel}");
        }
        for (rel, access) in [
            (".git/config", Access::Read),
            (".noctune_cache/notes.md", Access::Write),
            ("app/environment.py", Access::Write),
        ] {
            assert!(refused_name(Path::new(rel), access).is_none(), "{rel}");
        }
    }
}
