//! Runs: list, start, detail, stop.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use super::{ApiJson, run_id};
use crate::audit::{AuditRow, StoredRun};
use crate::control::StartRequest;
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

pub use crate::control::{RunView, WorkerView};

/// Reads one run from the audit database (after ingesting it), or 404.
pub(crate) async fn load_run(
    state: &AppState,
    run_id: &noctune_core::RunId,
) -> Result<StoredRun, ApiError> {
    state.control().load_run(run_id).await
}

async fn list(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let runs = state.control().runs().await?;
    Ok(Json(serde_json::json!({ "runs": runs })))
}

async fn detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RunView>, ApiError> {
    let run_id = run_id(&id)?;
    Ok(Json(state.control().run(&run_id).await?))
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

async fn start(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<StartRun>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let request = StartRequest {
        pack: body.pack,
        files: body.files,
        profile: body.profile,
    };
    let pack = request.pack.trim().to_owned();
    let run_id = state.control().start_run(request).await?;
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
    state.control().stop_run(&run_id).await?;
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
