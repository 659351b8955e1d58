//! `GET /api/runs/{id}/report`: the morning report, as data and as markdown.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};

use super::run_id;
use crate::error::{ApiError, Error};
use crate::state::AppState;

/// The routes of this group (under `/api`).
pub fn routes() -> Router<AppState> {
    Router::new().route("/runs/{run_id}/report", get(report))
}

async fn report(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let run_id = run_id(&id)?;
    let store = state.store.clone();
    let report = tokio::task::spawn_blocking(move || noctune_core::report::gather(&store, &run_id))
        .await
        .map_err(|err| ApiError::Internal(Error::Refused(format!("task failed: {err}"))))??;
    let markdown = noctune_core::report::markdown::render(&report);
    Ok(Json(
        serde_json::json!({ "report": report, "markdown": markdown }),
    ))
}
