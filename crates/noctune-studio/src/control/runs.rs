//! Runs: the view of one, starting one (a pass of a pack, or a task from a request), stopping
//! one.

use std::path::{Component, PathBuf};

use noctune_core::RunId;
use serde::Serialize;

use super::Control;
use crate::audit::StoredRun;
use crate::error::ApiError;
use crate::worker::WorkerJob;

/// The longest request a task takes, in bytes (it travels as one argument of the worker).
pub const MAX_REQUEST_BYTES: usize = 16 * 1024;

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
    /// A task run's request and how it ended (in the view of one run; absent for other
    /// commands and in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskView>,
}

/// A task run's request and outcome (`task_result.json` of its `<request>` task).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct TaskView {
    /// The request, in the user's words (from its result, or the request Studio kept).
    pub request: Option<String>,
    /// How it ended (`{"outcome": "applied", "files": [...], ...}`), once it has.
    pub outcome: Option<serde_json::Value>,
    /// The outcome in one line for people, once it has ended.
    pub summary: Option<String>,
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

/// What starting a task takes, as a caller received it (checked by [`Control::start_task`]).
#[derive(Debug, Clone, Default)]
pub struct TaskStartRequest {
    /// The request, in the user's words.
    pub request: String,
    /// The policy pack; the configuration's `[task] pack` when absent.
    pub pack: Option<String>,
    /// Repo-relative files or directories the plan should work in; the whole repository when
    /// absent or empty.
    pub paths: Option<Vec<String>>,
}

/// Whether `text` is a relative path that stays inside the repository.
fn is_repo_relative(text: &str) -> bool {
    !text.is_empty()
        && PathBuf::from(text)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

/// Checks a repo-relative `.py` path.
pub fn check_file(text: &str) -> Result<PathBuf, ApiError> {
    if !is_repo_relative(text) || !text.ends_with(".py") {
        return Err(ApiError::bad_request(
            "bad_file",
            format!("`{text}` is not a repository-relative `.py` path"),
        ));
    }
    Ok(PathBuf::from(text))
}

/// Checks a repo-relative file or directory path (a task's `paths`).
pub fn check_path(text: &str) -> Result<PathBuf, ApiError> {
    if !is_repo_relative(text) {
        return Err(ApiError::bad_request(
            "bad_path",
            format!("`{text}` is not a repository-relative path"),
        ));
    }
    Ok(PathBuf::from(text))
}

/// Checks a task's request: not blank, no NUL, at most [`MAX_REQUEST_BYTES`]; trimmed.
pub fn check_request(text: &str) -> Result<String, ApiError> {
    let request = text.trim();
    let problem = if request.is_empty() {
        "the request is empty: say what to do, e.g. \"add fib(n) with a test\"".to_owned()
    } else if request.contains('\0') {
        "the request contains a NUL character".to_owned()
    } else if request.len() > MAX_REQUEST_BYTES {
        format!(
            "the request is {} bytes long; at most {MAX_REQUEST_BYTES}",
            request.len()
        )
    } else {
        return Ok(request.to_owned());
    };
    Err(ApiError::bad_request("bad_request_text", problem))
}

/// A blocking task that panicked or was cancelled.
fn joined(err: tokio::task::JoinError) -> ApiError {
    ApiError::Internal(crate::error::Error::Refused(format!("task failed: {err}")))
}

/// Checks a list of items with `check`; `None` when absent or empty.
fn check_all(
    items: Option<Vec<String>>,
    check: fn(&str) -> Result<PathBuf, ApiError>,
) -> Result<Option<Vec<PathBuf>>, ApiError> {
    match items {
        Some(items) if !items.is_empty() => Ok(Some(
            items
                .iter()
                .map(|item| check(item.trim()))
                .collect::<Result<Vec<_>, _>>()?,
        )),
        _ => Ok(None),
    }
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
            task: None,
        }
    }

    /// A task run's request and outcome; `None` for other runs.
    pub(super) async fn task_view(&self, stored: &StoredRun) -> Result<Option<TaskView>, ApiError> {
        if stored.run.command.as_deref() != Some("task") {
            return Ok(None);
        }
        let store = self.store.clone();
        let run_id = stored.run.run_id.clone();
        let supervisor = self.supervisor.clone();
        let view = tokio::task::spawn_blocking(move || -> Result<TaskView, ApiError> {
            let report = noctune_core::request::read_report(&store, &run_id)?;
            let request = match &report {
                Some(report) => Some(report.request.clone()),
                None => match supervisor.job(&run_id) {
                    Ok(WorkerJob::Task { request }) => Some(request),
                    _ => None,
                },
            };
            Ok(TaskView {
                request,
                summary: report.as_ref().map(|r| r.outcome.describe()),
                outcome: report
                    .map(|r| serde_json::to_value(r.outcome))
                    .transpose()
                    .map_err(|err| {
                        ApiError::Internal(crate::error::Error::Refused(format!(
                            "cannot encode the task's outcome: {err}"
                        )))
                    })?,
            })
        })
        .await
        .map_err(joined)??;
        Ok(Some(view))
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
        let files = check_all(request.files, check_file)?;
        let run_id = self.supervisor.start(WorkerJob::Run, pack, files).await?;
        self.ingest(&run_id).await;
        Ok(run_id)
    }

    /// Checks the request, creates the task's run (`queued`, command `task`) and starts its
    /// worker (`noctune task --yes`: the plan is accepted, changes applied only where the
    /// configuration allows). Returns the run's id and its pack.
    pub async fn start_task(&self, request: TaskStartRequest) -> Result<(RunId, String), ApiError> {
        let text = check_request(&request.request)?;
        let paths = check_all(request.paths, check_path)?;
        let pack = match &request.pack {
            Some(pack) => check_pack(pack)?,
            None => {
                let root = self.root.as_path().to_path_buf();
                tokio::task::spawn_blocking(move || {
                    noctune_core::config::load(&root, &noctune_core::EnvOverrides::default())
                })
                .await
                .map_err(joined)?
                // The repository's configuration is broken: no worker could start either.
                .map_err(|err| ApiError::conflict("bad_config", err.to_string()))?
                .task
                .pack
            }
        };
        let run_id = self
            .supervisor
            .start(WorkerJob::Task { request: text }, pack.clone(), paths)
            .await?;
        self.ingest(&run_id).await;
        Ok((run_id, pack))
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
