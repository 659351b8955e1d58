//! Runs: the view of one, starting one, stopping one.

use std::path::{Component, PathBuf};

use noctune_core::RunId;
use serde::Serialize;

use super::Control;
use crate::audit::StoredRun;
use crate::error::ApiError;

/// A run as the API shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RunView {
    /// `run.json` (as ingested), with `status` = `stopping` while a stop is under way.
    #[serde(flatten)]
    pub stored: StoredRun,
    /// The status to show: `run.json`'s, or `stopping` while this daemon stops its worker.
    pub status: String,
    /// The worker of this daemon driving the run, if any.
    pub worker: Option<WorkerView>,
}

/// A live worker.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct WorkerView {
    /// Its process id.
    pub pid: u32,
}

/// What starting a run takes, as a caller received it (checked by [`Control::start_run`]).
#[derive(Debug, Clone, Default)]
pub struct StartRequest {
    /// The policy pack.
    pub pack: String,
    /// Repo-relative `.py` files; all files when absent or empty.
    pub files: Option<Vec<String>>,
    /// A model profile: refused (the configuration picks the profile of each stage).
    pub profile: Option<String>,
}

/// Checks a repo-relative `.py` path.
pub fn check_file(text: &str) -> Result<PathBuf, ApiError> {
    let path = PathBuf::from(text);
    let relative = !text.is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !relative || !text.ends_with(".py") {
        return Err(ApiError::bad_request(
            "bad_file",
            format!("`{text}` is not a repository-relative `.py` path"),
        ));
    }
    Ok(path)
}

/// Checks a pack name (letters, digits, `_`, `-`, `.`), trimmed.
pub fn check_pack(text: &str) -> Result<String, ApiError> {
    let pack = text.trim().to_owned();
    if pack.is_empty()
        || !pack
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(ApiError::bad_request(
            "bad_pack",
            format!("`{pack}` is not a pack name"),
        ));
    }
    Ok(pack)
}

impl Control {
    /// The view of a stored run: `stopping` while this process stops its worker.
    pub fn view(&self, stored: StoredRun) -> RunView {
        let id = &stored.run.run_id;
        let status = if self.supervisor.is_stopping(id) && !stored.run.status.is_final() {
            "stopping".to_owned()
        } else {
            stored.run.status.as_str().to_owned()
        };
        RunView {
            worker: self.supervisor.pid(id).map(|pid| WorkerView { pid }),
            status,
            stored,
        }
    }

    /// Checks the request, creates the run (`queued`) and starts its worker.
    pub async fn start_run(&self, request: StartRequest) -> Result<RunId, ApiError> {
        if request.profile.is_some() {
            return Err(ApiError::bad_request(
                "unsupported",
                "`profile` cannot be chosen per run: the configuration picks the model profile of each stage",
            ));
        }
        let pack = check_pack(&request.pack)?;
        let files = match request.files {
            Some(files) if !files.is_empty() => Some(
                files
                    .iter()
                    .map(|f| check_file(f.trim()))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            _ => None,
        };
        let run_id = self.supervisor.start(pack, files).await?;
        self.ingest(&run_id).await;
        Ok(run_id)
    }

    /// Asks the run's worker to stop at its next safe point (`Conflict` when the run is
    /// final already or no worker of this process drives it).
    pub async fn stop_run(&self, run_id: &RunId) -> Result<(), ApiError> {
        let stored = self.load_run(run_id).await?;
        if stored.run.status.is_final() {
            return Err(ApiError::conflict(
                "run_final",
                format!("run `{run_id}` is {} already", stored.run.status),
            ));
        }
        self.supervisor.stop(run_id)
    }
}
