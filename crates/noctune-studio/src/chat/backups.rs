//! Backups of the chat's edits: before a tool changes a file, its bytes (or the fact that it
//! did not exist) go to `.noctune_cache/studio_edits/backups/<id>/`, with `backup.json`
//! saying which file it was. Restoring puts the bytes back (or removes a file the edit
//! created), through the sandbox again.

use std::path::{Path, PathBuf};

use noctune_core::store::{CACHE_DIR, write_atomic};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, Error};
use crate::sandbox::{Access, Resolved, Sandbox};

/// One backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backup {
    /// `YYYYMMDD-HHMMSS-xxxxxx`.
    pub backup_id: String,
    /// The file, as the sandbox shows it (repository-relative when inside the repository).
    pub path: String,
    /// Whether the file existed before the edit (when not, restoring removes it).
    pub existed: bool,
    /// The tool that made the edit.
    pub tool: String,
    /// The chat session of the edit.
    pub session_id: String,
    /// When it was taken (RFC 3339).
    pub created_at: String,
}

/// `.noctune_cache/studio_edits/backups` under a root.
pub fn backups_dir(root: &Path) -> PathBuf {
    root.join(CACHE_DIR).join("studio_edits").join("backups")
}

const META: &str = "backup.json";
const ORIGINAL: &str = "original";

/// Saves the current bytes of `target` before `tool` changes it.
pub fn take(root: &Path, target: &Resolved, tool: &str, session_id: &str) -> Result<Backup, Error> {
    let now = jiff::Timestamp::now();
    let mut random = [0u8; 3];
    getrandom::fill(&mut random).map_err(|err| Error::Random(err.to_string()))?;
    let backup_id = format!(
        "{}-{}",
        now.strftime("%Y%m%d-%H%M%S"),
        crate::token::hex(&random)
    );
    let dir = backups_dir(root).join(&backup_id);
    std::fs::create_dir_all(&dir).map_err(|err| Error::io("create directory", &dir, err))?;
    let existed = match std::fs::read(&target.path) {
        Ok(bytes) => {
            write_atomic(&dir.join(ORIGINAL), &bytes)?;
            true
        }
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => false,
        Err(err) => return Err(Error::io("read", &target.path, err)),
    };
    let backup = Backup {
        backup_id,
        path: target.shown.clone(),
        existed,
        tool: tool.to_owned(),
        session_id: session_id.to_owned(),
        created_at: now.to_string(),
    };
    let meta = serde_json::to_vec_pretty(&backup)
        .map_err(|err| Error::Refused(format!("cannot encode a backup: {err}")))?;
    write_atomic(&dir.join(META), &meta)?;
    Ok(backup)
}

/// Every backup, newest first.
pub fn list(root: &Path) -> Result<Vec<Backup>, Error> {
    let dir = backups_dir(root);
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(Error::io("list", &dir, err)),
    };
    let mut backups: Vec<Backup> = entries
        .flatten()
        .filter_map(|entry| std::fs::read(entry.path().join(META)).ok())
        .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
        .collect();
    backups.sort_by(|a, b| b.backup_id.cmp(&a.backup_id));
    Ok(backups)
}

/// Puts a backup back: the original bytes, or no file when the edit created it.
pub fn restore(root: &Path, sandbox: &Sandbox, backup_id: &str) -> Result<Backup, ApiError> {
    if backup_id.is_empty()
        || !backup_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(ApiError::bad_request(
            "bad_backup_id",
            format!("`{}` is not a backup id", backup_id.escape_debug()),
        ));
    }
    let dir = backups_dir(root).join(backup_id);
    let meta = std::fs::read(dir.join(META))
        .map_err(|_| ApiError::NotFound(format!("no backup `{backup_id}`")))?;
    let backup: Backup = serde_json::from_slice(&meta).map_err(|err| {
        ApiError::Internal(Error::Refused(format!(
            "backup `{backup_id}` is unreadable: {err}"
        )))
    })?;
    let target = sandbox
        .resolve(&backup.path, Access::Write)
        .map_err(|err| ApiError::forbidden("path_refused", err.message))?;
    if backup.existed {
        let original = dir.join(ORIGINAL);
        let bytes = std::fs::read(&original).map_err(|err| Error::io("read", &original, err))?;
        write_atomic(&target.path, &bytes).map_err(Error::Store)?;
    } else {
        match std::fs::remove_file(&target.path) {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(Error::io("remove", &target.path, err).into()),
        }
    }
    Ok(backup)
}
