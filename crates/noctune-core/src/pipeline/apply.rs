//! Replacing the real file: backup, then an atomic replace, only if the file still has the
//! content the run read.

use std::fs;
use std::path::{Component, Path, PathBuf};

use super::permit::ApplyPermit;
use crate::error::{Error, Result};
use crate::ids::{TaskId, content_hash};
use crate::store::{Run, create_atomic, remove_stale_temps, write_atomic};

/// The read hash of a file that did not exist when the run read the repository: applying such a
/// change creates the file, and only if it still does not exist.
pub const ABSENT: &str = "absent";

/// What happened to the real file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// Replaced; the original is in the backup.
    Applied {
        /// Where the original was saved.
        backup: PathBuf,
    },
    /// The file already has the new content (a run killed after the replace, resumed).
    AlreadyApplied,
    /// The file changed since the run read it; it was left alone.
    Conflict {
        /// SHA-256 of what the run read.
        expected: String,
        /// SHA-256 of what is there now.
        found: String,
    },
}

/// The absolute path of a repo-relative file, refusing anything that leaves the root
/// (`..`, absolute paths, symlinks).
pub fn resolve_in_root(root: &Path, rel: &Path) -> Result<PathBuf> {
    let escapes = rel.components().any(|c| {
        matches!(
            c,
            Component::ParentDir | Component::RootDir | Component::Prefix(_)
        )
    });
    if escapes || rel.as_os_str().is_empty() {
        return Err(Error::Refused(format!(
            "`{}` is not a plain path inside the repository",
            rel.display()
        )));
    }
    let path = root.join(rel);
    let meta = fs::symlink_metadata(&path).map_err(|err| Error::io("read", &path, err))?;
    if meta.file_type().is_symlink() {
        return Err(Error::Refused(format!(
            "`{}` is a symlink; Noctune never writes through links",
            rel.display()
        )));
    }
    let canonical_root = root
        .canonicalize()
        .map_err(|err| Error::io("resolve", root, err))?;
    let canonical = path
        .canonicalize()
        .map_err(|err| Error::io("resolve", &path, err))?;
    if !canonical.starts_with(&canonical_root) {
        return Err(Error::Refused(format!(
            "`{}` resolves outside the repository",
            rel.display()
        )));
    }
    Ok(path)
}

/// One change to apply.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// The task (for the backup's place).
    pub task_id: &'a TaskId,
    /// The pass (for the backup's place).
    pub pass: u32,
    /// The repository root.
    pub root: &'a Path,
    /// The file, repo-relative.
    pub rel: &'a Path,
    /// SHA-256 of the content the run read ([`ABSENT`] for a file the change creates).
    pub read_hash: &'a str,
    /// The approved new content.
    pub new_text: &'a str,
}

/// Applies `change.new_text` to the real file, given a permit.
///
/// The real file is read again right before the replace: if its SHA-256 is not `read_hash`
/// (someone edited it meanwhile) nothing is written and the outcome is
/// [`ApplyOutcome::Conflict`]. The original is backed up first; the replace is atomic. Real
/// files of a run are replaced one at a time, whatever the number of files in flight: the
/// check, the backup and the replace happen under the run's apply lock.
pub fn apply_change(run: &Run, change: Change<'_>, permit: ApplyPermit) -> Result<ApplyOutcome> {
    let _one_at_a_time = run.apply_lock();
    let Change {
        task_id,
        pass,
        root,
        rel,
        read_hash,
        new_text,
    } = change;
    if !permit.allows(new_text) {
        return Err(Error::Refused(format!(
            "the permit for `{}` was given for another text",
            rel.display()
        )));
    }
    if read_hash == ABSENT {
        return create_file(run, change, permit);
    }
    let path = resolve_in_root(root, rel)?;
    let current = fs::read(&path).map_err(|err| Error::io("read", &path, err))?;
    let current_hash = content_hash(&current);
    if current_hash == content_hash(new_text.as_bytes()) {
        return Ok(ApplyOutcome::AlreadyApplied);
    }
    if current_hash != read_hash {
        return Ok(ApplyOutcome::Conflict {
            expected: read_hash.to_owned(),
            found: current_hash,
        });
    }
    let backup = run.backup(task_id, pass, rel, &current)?;
    // A run killed mid-write earlier may have left a temp file beside the user's file.
    let stale = remove_stale_temps(&path);
    if stale > 0 {
        tracing::info!(file = %rel.display(), stale, "removed temp files left by a killed write");
    }
    write_atomic(&path, new_text.as_bytes())?;
    tracing::info!(file = %rel.display(), route = ?permit.route(), "applied");
    Ok(ApplyOutcome::Applied { backup })
}

/// A change that creates `change.rel`: its directories are made inside the root, the file is
/// created only if it still does not exist (otherwise a conflict, or already applied when it
/// holds the very text), and a marker backup records that there was no file, so `noctune
/// restore` removes it.
fn create_file(run: &Run, change: Change<'_>, permit: ApplyPermit) -> Result<ApplyOutcome> {
    let Change {
        task_id,
        pass,
        root,
        rel,
        new_text,
        ..
    } = change;
    let escapes = rel.components().any(|c| !matches!(c, Component::Normal(_)));
    if escapes || rel.as_os_str().is_empty() {
        return Err(Error::Refused(format!(
            "`{}` is not a plain path inside the repository",
            rel.display()
        )));
    }
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|err| Error::io("create directory", parent, err))?;
        let canonical_root = root
            .canonicalize()
            .map_err(|err| Error::io("resolve", root, err))?;
        let canonical = parent
            .canonicalize()
            .map_err(|err| Error::io("resolve", parent, err))?;
        if !canonical.starts_with(&canonical_root) {
            return Err(Error::Refused(format!(
                "`{}` resolves outside the repository",
                rel.display()
            )));
        }
    }
    match fs::symlink_metadata(&path) {
        Ok(_) => {
            let current = fs::read(&path).map_err(|err| Error::io("read", &path, err))?;
            let found = content_hash(&current);
            return Ok(if found == content_hash(new_text.as_bytes()) {
                ApplyOutcome::AlreadyApplied
            } else {
                ApplyOutcome::Conflict {
                    expected: ABSENT.to_owned(),
                    found,
                }
            });
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(Error::io("read", &path, err)),
    }
    let backup = run.backup_absent(task_id, pass, rel)?;
    if !create_atomic(&path, new_text.as_bytes())? {
        return Ok(ApplyOutcome::Conflict {
            expected: ABSENT.to_owned(),
            found: "created meanwhile".to_owned(),
        });
    }
    tracing::info!(file = %rel.display(), route = ?permit.route(), "created");
    Ok(ApplyOutcome::Applied { backup })
}
