//! `.noctune_cache/studio/daemon.json`: where a running daemon listens, for
//! `noctune studio stop`. Removed when the daemon shuts down.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What a running daemon records about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonInfo {
    /// Its process id.
    pub pid: u32,
    /// The host of its URL (`127.0.0.1`, `[::1]`, ...).
    pub host: String,
    /// Its port.
    pub port: u16,
    /// Its URL, without the token.
    pub url: String,
}

/// The file's name in the studio directory.
pub const DAEMON_FILE: &str = "daemon.json";

/// Writes `daemon.json` atomically.
pub fn write_daemon_file(dir: &Path, info: &DaemonInfo) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(info)
        .map_err(|err| Error::Refused(format!("cannot encode daemon.json: {err}")))?;
    bytes.push(b'\n');
    noctune_core::store::write_atomic(&dir.join(DAEMON_FILE), &bytes)?;
    Ok(())
}

/// Reads `daemon.json`; `None` when no daemon wrote one.
pub fn read_daemon_file(dir: &Path) -> Result<Option<DaemonInfo>> {
    let path = dir.join(DAEMON_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|err| Error::Refused(format!("`{}` is damaged: {err}", path.display()))),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(Error::io("read", path, err)),
    }
}

/// Removes `daemon.json` (at shutdown).
pub fn remove_daemon_file(dir: &Path) {
    let path = dir.join(DAEMON_FILE);
    if let Err(err) = std::fs::remove_file(&path)
        && err.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!("cannot remove `{}`: {err}", path.display());
    }
}
