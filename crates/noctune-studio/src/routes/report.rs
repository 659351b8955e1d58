//! `GET /api/runs/{id}/report`: the morning report, as data and as markdown.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};

use super::run_id;
use crate::error::ApiError;
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
    let (report, markdown) = state.control().report(&run_id).await?;
    Ok(Json(
        serde_json::json!({ "report": report, "markdown": markdown }),
    ))
}
