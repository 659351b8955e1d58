//! `POST /api/shutdown`: stops the daemon gracefully (workers are asked to stop at a safe
//! point; runs keep their state). Used by `noctune studio stop`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};

use super::runs::audit;
use crate::security::Caller;
use crate::state::AppState;

/// The routes of this group (under `/api`).
pub fn routes() -> Router<AppState> {
    Router::new().route("/shutdown", post(shutdown))
}

async fn shutdown(
    State(state): State<AppState>,
    caller: Caller,
) -> (StatusCode, Json<serde_json::Value>) {
    audit(
        &state,
        &caller,
        "shutdown",
        202,
        "daemon shutdown".to_owned(),
    )
    .await;
    state.request_shutdown();
    (
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "status": "shutting_down" })),
    )
}
