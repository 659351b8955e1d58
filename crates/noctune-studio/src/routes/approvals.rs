//! Approvals: the queue of a run, a decision, and one approval's before/after.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use noctune_core::ApprovalId;
use noctune_core::approval::DecisionKind;
use serde::Deserialize;

use super::runs::audit;
use super::{ApiJson, run_id};
use crate::error::ApiError;
use crate::security::Caller;
use crate::state::AppState;

pub use crate::control::ApprovalView;

/// The routes of this group (under `/api`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/runs/{run_id}/approvals", get(list))
        .route("/runs/{run_id}/approvals/{approval_id}", post(decide))
        .route("/runs/{run_id}/approvals/{approval_id}/diff", get(diff))
}

fn approval_id(text: &str) -> Result<ApprovalId, ApiError> {
    ApprovalId::new(text).map_err(|_| {
        ApiError::bad_request("bad_approval_id", format!("`{text}` is not an approval id"))
    })
}

async fn list(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let run_id = run_id(&id)?;
    let approvals = state.control().approvals(&run_id).await?;
    Ok(Json(serde_json::json!({ "approvals": approvals })))
}

async fn diff(
    State(state): State<AppState>,
    Path((id, aid)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let run_id = run_id(&id)?;
    let approval_id = approval_id(&aid)?;
    let stored = state.control().approval(&run_id, &approval_id).await?;
    let a = &stored.approval;
    Ok(Json(serde_json::json!({
        "approval_id": a.approval_id,
        "file": a.file,
        "changes": a.changes,
        "diff": stored.diff,
        "risk": a.risk,
        "signals": a.signals,
        "reason": a.reason,
    })))
}

/// `POST /api/runs/{id}/approvals/{approval_id}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecideBody {
    /// `approve` or `reject`.
    pub decision: DecisionKind,
    /// Why; required to reject.
    #[serde(default)]
    pub reason: Option<String>,
}

async fn decide(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, aid)): Path<(String, String)>,
    ApiJson(body): ApiJson<DecideBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let run_id = run_id(&id)?;
    let approval_id = approval_id(&aid)?;
    let decided = state
        .control()
        .decide(
            &run_id,
            &approval_id,
            body.decision,
            body.reason,
            format!("studio:{}", caller.who.as_str()),
        )
        .await?;
    let decision = &decided.decision;
    audit(
        &state,
        &caller,
        "decide",
        200,
        format!(
            "run {run_id} approval {approval_id}: {:?}",
            decision.decision
        ),
    )
    .await;
    Ok(Json(
        serde_json::json!({ "decision": decided.decision, "resumed": decided.resumed }),
    ))
}
