//! The run lock: one process drives a run at a time.
//!
//! An OS file lock (`flock` on Unix) on `state/run.lock`. The OS releases it when the holder
//! dies, however it dies, so a lock left by a killed process is simply taken over; the pid the
//! dead holder wrote into the file is reported as recovered.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// A held run lock. Dropping it empties the file and releases the lock.
#[derive(Debug)]
pub struct RunLock {
    file: File,
    path: PathBuf,
    recovered_from: Option<String>,
}

impl RunLock {
    /// Takes the lock at `path` for run `run_id`, or fails with [`Error::RunLocked`] naming the
    /// live holder.
    pub fn acquire(path: &Path, run_id: &str) -> Result<Self> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|err| Error::io("open", path, err))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                return Err(Error::RunLocked {
                    run_id: run_id.to_owned(),
                    holder: describe(&holder),
                    path: path.to_path_buf(),
                });
            }
            Err(TryLockError::Error(err)) => return Err(Error::io("lock", path, err)),
        }
        let mut previous = String::new();
        let _ = file.read_to_string(&mut previous);
        let recovered_from = (!previous.trim().is_empty()).then(|| describe(&previous));
        if let Some(previous) = &recovered_from {
            tracing::warn!(lock = %path.display(), "recovered a stale run lock left by {previous}");
        }
        let stamp = format!(
            "pid={} started_at={}\n",
            std::process::id(),
            jiff::Timestamp::now()
        );
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(stamp.as_bytes()))
            .and_then(|()| file.sync_data())
            .map_err(|err| Error::io("write", path, err))?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
            recovered_from,
        })
    }

    /// When the lock was left behind by a process that died holding it: what that process
    /// wrote (`pid=123 started_at=...`).
    pub fn recovered_from(&self) -> Option<&str> {
        self.recovered_from.as_deref()
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunLock {
    fn drop(&mut self) {
        // Empty, not delete: deleting would let two processes lock two different files.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

fn describe(holder: &str) -> String {
    let holder = holder.trim();
    if holder.is_empty() {
        "unknown holder".to_owned()
    } else {
        holder.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_acquire_fails_while_held_and_succeeds_after_release() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.lock");
        let lock = RunLock::acquire(&path, "r1").unwrap();
        assert_eq!(lock.recovered_from(), None);
        let err = RunLock::acquire(&path, "r1").unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains(&format!("pid={}", std::process::id())),
            "{text}"
        );
        assert!(matches!(err, Error::RunLocked { .. }));
        drop(lock);
        let again = RunLock::acquire(&path, "r1").unwrap();
        assert_eq!(
            again.recovered_from(),
            None,
            "a clean release is not a recovery"
        );
    }

    /// A real process takes the lock with `flock(1)` and is killed with SIGKILL; the lock is
    /// then recovered, and what the dead holder left in the file is reported.
    #[cfg(target_os = "linux")]
    #[test]
    fn lock_of_a_killed_process_is_recovered() {
        use std::process::{Command, Stdio};
        use std::time::{Duration, Instant};

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.lock");
        std::fs::write(&path, "pid=999999 started_at=2026-01-01T00:00:00Z\n").unwrap();
        // `--no-fork`: flock execs `sleep` itself, so one process holds the lock.
        let mut holder = Command::new("flock")
            .arg("--no-fork")
            .arg(&path)
            .args(["sleep", "60"])
            .stdin(Stdio::null())
            .spawn()
            .expect("flock(1) from util-linux is needed for this test");
        // Wait until the child holds the lock.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match RunLock::acquire(&path, "r1") {
                Err(Error::RunLocked { .. }) => break,
                Ok(lock) => {
                    drop(lock);
                    std::fs::write(&path, "pid=999999 started_at=2026-01-01T00:00:00Z\n").unwrap();
                    assert!(Instant::now() < deadline, "flock never took the lock");
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(other) => panic!("{other}"),
            }
        }
        holder.kill().unwrap();
        holder.wait().unwrap();
        let lock = RunLock::acquire(&path, "r1").unwrap();
        assert_eq!(
            lock.recovered_from(),
            Some("pid=999999 started_at=2026-01-01T00:00:00Z")
        );
    }
}
