//! Tasks: start one from a request. A task is a run (command `task`): the run routes show,
//! tail, stop and report it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use super::ApiJson;
use super::runs::audit;
use crate::control::TaskStartRequest;
use crate::error::ApiError;
use crate::security::Caller;
use crate::state::AppState;

/// The routes of this group (under `/api`).
pub fn routes() -> Router<AppState> {
    Router::new().route("/tasks", post(start))
}

/// `POST /api/tasks`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartTask {
    /// The request, in the user's words; not empty.
    pub request: String,
    /// The policy pack; the configuration's `[task] pack` when absent.
    #[serde(default)]
    pub pack: Option<String>,
    /// Repo-relative files or directories the plan should work in; the whole repository when
    /// absent.
    #[serde(default)]
    pub paths: Option<Vec<String>>,
}

async fn start(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<StartTask>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let (run_id, pack) = state
        .control()
        .start_task(TaskStartRequest {
            request: body.request,
            pack: body.pack,
            paths: body.paths,
        })
        .await?;
    audit(
        &state,
        &caller,
        "start_task",
        201,
        format!("task {run_id} pack {pack}"),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "run_id": run_id, "status": "queued", "pack": pack })),
    ))
}
