//! Runs: list, start, detail, stop.

use std::path::{Component, PathBuf};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{ApiJson, run_id};
use crate::audit::query::{get_run, list_runs};
use crate::audit::{AuditRow, Db, StoredRun};
use crate::error::ApiError;
use crate::security::Caller;
use crate::state::AppState;

/// The routes of this group (under `/api`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/runs", get(list).post(start))
        .route("/runs/{run_id}", get(detail))
        .route("/runs/{run_id}/stop", post(stop))
}

/// A run as the API shows it.
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
pub struct WorkerView {
    /// Its process id.
    pub pid: u32,
}

fn view(state: &AppState, stored: StoredRun) -> RunView {
    let id = &stored.run.run_id;
    let status = if state.supervisor.is_stopping(id) && !stored.run.status.is_final() {
        "stopping".to_owned()
    } else {
        stored.run.status.as_str().to_owned()
    };
    RunView {
        worker: state.supervisor.pid(id).map(|pid| WorkerView { pid }),
        status,
        stored,
    }
}

/// Reads one run from the audit database (after ingesting it), or 404.
pub(crate) async fn load_run(
    state: &AppState,
    run_id: &noctune_core::RunId,
) -> Result<StoredRun, ApiError> {
    state.ingest(run_id).await;
    let id = run_id.as_str().to_owned();
    let path = state.db.path().to_path_buf();
    state
        .db
        .call(move |conn| get_run(conn, &id).map_err(Db::error(&path)))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no run `{run_id}`")))
}

async fn list(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    state.ingest_all().await;
    let path = state.db.path().to_path_buf();
    let runs = state
        .db
        .call(move |conn| list_runs(conn).map_err(Db::error(&path)))
        .await?;
    let runs: Vec<RunView> = runs.into_iter().map(|r| view(&state, r)).collect();
    Ok(Json(serde_json::json!({ "runs": runs })))
}

async fn detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RunView>, ApiError> {
    let run_id = run_id(&id)?;
    let stored = load_run(&state, &run_id).await?;
    Ok(Json(view(&state, stored)))
}

/// `POST /api/runs`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    /// The policy pack.
    pub pack: String,
    /// Repo-relative `.py` files; all files when absent.
    #[serde(default)]
    pub files: Option<Vec<String>>,
    /// A model profile: not supported per run (the configuration picks profiles per stage).
    #[serde(default)]
    pub profile: Option<String>,
}

fn check_file(text: &str) -> Result<PathBuf, ApiError> {
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

async fn start(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<StartRun>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    if body.profile.is_some() {
        return Err(ApiError::bad_request(
            "unsupported",
            "`profile` cannot be chosen per run: the configuration picks the model profile of each stage",
        ));
    }
    let pack = body.pack.trim().to_owned();
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
    let files = match body.files {
        Some(files) if !files.is_empty() => Some(
            files
                .iter()
                .map(|f| check_file(f.trim()))
                .collect::<Result<Vec<_>, _>>()?,
        ),
        _ => None,
    };
    let run_id = state.supervisor.start(pack.clone(), files).await?;
    state.ingest(&run_id).await;
    audit(
        &state,
        &caller,
        "start_run",
        201,
        format!("run {run_id} pack {pack}"),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "run_id": run_id, "status": "queued" })),
    ))
}

async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let run_id = run_id(&id)?;
    let stored = load_run(&state, &run_id).await?;
    if stored.run.status.is_final() {
        return Err(ApiError::conflict(
            "run_final",
            format!("run `{run_id}` is {} already", stored.run.status),
        ));
    }
    state.supervisor.stop(&run_id)?;
    audit(&state, &caller, "stop_run", 202, format!("run {run_id}")).await;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "run_id": run_id, "status": "stopping" })),
    ))
}

/// Writes the audit row of a state change.
pub(crate) async fn audit(
    state: &AppState,
    caller: &Caller,
    action: &str,
    status: u16,
    detail: String,
) {
    state
        .audit(AuditRow {
            at: jiff::Timestamp::now().to_string(),
            who: caller.who.as_str().to_owned(),
            action: action.to_owned(),
            method: caller.method.clone(),
            path: caller.path.clone(),
            origin: caller.origin.clone(),
            status,
            detail: Some(detail),
        })
        .await;
}
