//! `GET /api/runs/{id}/patchsets` (the run's patchsets) and `POST
//! /api/runs/{id}/patchsets/commit` (commit them on `noctune/<run_id>`).

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};

use super::run_id;
use super::runs::audit;
use crate::error::ApiError;
use crate::security::Caller;
use crate::state::AppState;

/// The routes of this group (under `/api`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/runs/{run_id}/patchsets", get(list))
        .route("/runs/{run_id}/patchsets/commit", post(commit))
}

async fn list(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let run_id = run_id(&id)?;
    Ok(Json(state.control().patchsets(&run_id).await?))
}

async fn commit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let run_id = run_id(&id)?;
    let result = state.control().commit_patchsets(&run_id).await;
    let (status, detail) = match &result {
        Ok(report) => (
            200,
            format!(
                "run {run_id}: branch {}",
                report["branch"].as_str().unwrap_or("none")
            ),
        ),
        Err(err) => (err.status().as_u16(), format!("run {run_id}: {err}")),
    };
    audit(&state, &caller, "commit_patchsets", status, detail).await;
    Ok(Json(result?))
}
