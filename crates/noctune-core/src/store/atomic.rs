//! Atomic file replacement.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Replaces `path` with `bytes` atomically: readers (and a crash) see the old content or the
/// new, never a mix. The parent directory must exist. An existing file keeps its permissions.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, bytes, |_| Ok(()))
}

/// [`write_atomic`] with a hook that runs after the temp file is written and synced and before
/// the rename. If the hook fails, the temp file is removed and `path` is untouched; tests use it
/// to simulate a crash at the worst moment.
pub fn write_atomic_with(
    path: &Path,
    bytes: &[u8],
    before_rename: impl FnOnce(&Path) -> io::Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let tmp = temp_path(path);
    let result = (|| {
        // Keep the user's mode bits (an executable script stays executable).
        let permissions = fs::metadata(path).ok().map(|meta| meta.permissions());
        write_synced(&tmp, bytes, permissions)?;
        before_rename(&tmp).map_err(|err| Error::io("write", path, err))?;
        fs::rename(&tmp, path).map_err(|err| Error::io("replace", path, err))?;
        sync_dir(dir);
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `path` atomically only if it does not exist yet; `Ok(false)` when it does (another
/// writer got there first). The content is complete and durable before the name appears (a
/// hard link of a synced temp file), so readers never see a partial file and two writers
/// can never both succeed.
pub fn create_atomic(path: &Path, bytes: &[u8]) -> Result<bool> {
    let tmp = temp_path(path);
    let result = (|| {
        write_synced(&tmp, bytes, None)?;
        match fs::hard_link(&tmp, path) {
            Ok(()) => {
                if let Some(dir) = path.parent() {
                    sync_dir(dir);
                }
                Ok(true)
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(err) => Err(Error::io("create", path, err)),
        }
    })();
    let _ = fs::remove_file(&tmp);
    result
}

/// Removes temp files that an earlier, killed `write_atomic` of `path` left beside it
/// (`.<name>.noctune-tmp-*` written by another process). Returns how many were removed.
/// Best effort: a file that cannot be listed or removed is left.
pub fn remove_stale_temps(path: &Path) -> usize {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return 0;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!(".{}.noctune-tmp-", name.to_string_lossy());
    let own = format!("{prefix}{}-", std::process::id());
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with(&prefix)
            && !file_name.starts_with(&own)
            && fs::remove_file(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// Writes a new file (`tmp` must not exist) and syncs it to disk.
fn write_synced(tmp: &Path, bytes: &[u8], permissions: Option<fs::Permissions>) -> Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(tmp)
        .map_err(|err| Error::io("create", tmp, err))?;
    if let Some(permissions) = permissions {
        let _ = file.set_permissions(permissions);
    }
    file.write_all(bytes)
        .map_err(|err| Error::io("write", tmp, err))?;
    file.sync_all().map_err(|err| Error::io("sync", tmp, err))
}

/// `.<name>.noctune-tmp-<pid>-<n>` beside `path`.
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.noctune-tmp-{}-{n}", std::process::id()))
}

/// Makes a rename durable. Best effort: some file systems do not support syncing directories.
fn sync_dir(dir: &Path) {
    if let Ok(handle) = File::open(dir) {
        let _ = handle.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn crash_between_write_and_rename_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        fs::write(&path, b"old").unwrap();
        let mut seen_tmp = None;
        let err = write_atomic_with(&path, b"new content", |tmp| {
            // At this point the new content is fully on disk, beside the old file.
            assert_eq!(fs::read(tmp).unwrap(), b"new content");
            seen_tmp = Some(tmp.to_path_buf());
            Err(io::Error::other("simulated crash"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("simulated crash"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert!(!seen_tmp.unwrap().exists());
    }

    #[cfg(unix)]
    #[test]
    fn keeps_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("script.py");
        fs::write(&path, b"#!/usr/bin/env python3\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
        write_atomic(&path, b"#!/usr/bin/env python3\nprint(1)\n").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o755);
    }

    #[test]
    fn create_atomic_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("decision.json");
        assert!(create_atomic(&path, b"first").unwrap());
        assert!(!create_atomic(&path, b"second").unwrap());
        assert_eq!(fs::read(&path).unwrap(), b"first");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }

    #[test]
    fn stale_temps_of_other_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.py");
        fs::write(&path, b"x").unwrap();
        fs::write(dir.path().join(".a.py.noctune-tmp-999999-0"), b"torn").unwrap();
        fs::write(dir.path().join(".b.py.noctune-tmp-999999-0"), b"other file").unwrap();
        assert_eq!(remove_stale_temps(&path), 1);
        assert!(dir.path().join(".b.py.noctune-tmp-999999-0").exists());
        assert_eq!(fs::read(&path).unwrap(), b"x");
    }

    #[test]
    fn missing_directory_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no/such/dir/file");
        let err = write_atomic(&path, b"x").unwrap_err().to_string();
        assert!(err.contains("cannot create"), "{err}");
    }
}
