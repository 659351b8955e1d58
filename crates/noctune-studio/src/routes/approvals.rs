//! Approvals: the queue of a run, a decision, and one approval's before/after.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use noctune_core::approval::DecisionKind;
use noctune_core::{ApprovalId, RunId, TaskStatus};
use serde::{Deserialize, Serialize};

use super::runs::{audit, load_run};
use super::{ApiJson, run_id};
use crate::audit::query::approvals as stored_approvals;
use crate::audit::{Db, StoredApproval};
use crate::error::{ApiError, Error};
use crate::security::Caller;
use crate::state::AppState;

/// The routes of this group (under `/api`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/runs/{run_id}/approvals", get(list))
        .route("/runs/{run_id}/approvals/{approval_id}", post(decide))
        .route("/runs/{run_id}/approvals/{approval_id}/diff", get(diff))
}

/// An approval as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ApprovalView {
    /// The approval, its decision and its diff.
    #[serde(flatten)]
    pub stored: StoredApproval,
    /// `pending`, `approved`, `rejected`, or `stale` (undecided, but the run moved on or the
    /// file changed: deciding it is refused).
    pub state: &'static str,
}

fn approval_id(text: &str) -> Result<ApprovalId, ApiError> {
    ApprovalId::new(text).map_err(|_| {
        ApiError::bad_request("bad_approval_id", format!("`{text}` is not an approval id"))
    })
}

async fn load(state: &AppState, run_id: &RunId) -> Result<Vec<StoredApproval>, ApiError> {
    load_run(state, run_id).await?;
    let id = run_id.as_str().to_owned();
    let path = state.db.path().to_path_buf();
    Ok(state
        .db
        .call(move |conn| stored_approvals(conn, &id).map_err(Db::error(&path)))
        .await?)
}

/// Why an undecided approval can no longer be decided, if it cannot.
fn staleness(state: &AppState, run_id: &RunId, stored: &StoredApproval) -> Option<String> {
    let approval = &stored.approval;
    let tasks = state.store.tasks(run_id).ok()?;
    let task = tasks.iter().find(|t| t.task_id == approval.task_id)?;
    if task.status != TaskStatus::WaitingApproval
        || task.approval_id.as_ref() != Some(&approval.approval_id)
    {
        return Some(format!(
            "the task of `{}` no longer waits on this approval (it is {:?})",
            approval.file.display(),
            task.status
        ));
    }
    let read_hash = task.read_hash.as_ref()?;
    let current = std::fs::read(state.root.join(&approval.file)).ok()?;
    (noctune_core::ids::content_hash(&current) != *read_hash).then(|| {
        format!(
            "`{}` changed since the run read it",
            approval.file.display()
        )
    })
}

fn view(state: &AppState, run_id: &RunId, stored: StoredApproval) -> ApprovalView {
    let label = match stored.decision.as_ref().map(|d| d.decision) {
        Some(DecisionKind::Approve) => "approved",
        Some(DecisionKind::Reject) => "rejected",
        None if staleness(state, run_id, &stored).is_some() => "stale",
        None => "pending",
    };
    ApprovalView {
        stored,
        state: label,
    }
}

async fn list(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let run_id = run_id(&id)?;
    let approvals: Vec<ApprovalView> = load(&state, &run_id)
        .await?
        .into_iter()
        .map(|a| view(&state, &run_id, a))
        .collect();
    Ok(Json(serde_json::json!({ "approvals": approvals })))
}

async fn find(
    state: &AppState,
    run_id: &RunId,
    approval_id: &ApprovalId,
) -> Result<StoredApproval, ApiError> {
    load(state, run_id)
        .await?
        .into_iter()
        .find(|a| &a.approval.approval_id == approval_id)
        .ok_or_else(|| {
            ApiError::NotFound(format!("run `{run_id}` has no approval `{approval_id}`"))
        })
}

async fn diff(
    State(state): State<AppState>,
    Path((id, aid)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let run_id = run_id(&id)?;
    let approval_id = approval_id(&aid)?;
    let stored = find(&state, &run_id, &approval_id).await?;
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
    let reason = body
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if body.decision == DecisionKind::Reject && reason.is_none() {
        return Err(ApiError::bad_request(
            "reason_required",
            "a rejection needs a reason",
        ));
    }
    let stored = find(&state, &run_id, &approval_id).await?;
    if let Some(existing) = &stored.decision {
        return Err(ApiError::conflict(
            "already_decided",
            format!(
                "approval `{approval_id}` was already decided: {:?} by {} at {}",
                existing.decision, existing.decided_by, existing.decided_at
            ),
        ));
    }
    if let Some(why) = staleness(&state, &run_id, &stored) {
        return Err(ApiError::conflict("stale_approval", why));
    }
    let store = state.store.clone();
    let (rid, aid2, who, kind) = (
        run_id.clone(),
        approval_id.clone(),
        format!("studio:{}", caller.who.as_str()),
        body.decision,
    );
    let decided =
        tokio::task::spawn_blocking(move || store.decide(&rid, &aid2, kind, &who, reason))
            .await
            .map_err(|err| ApiError::Internal(Error::Refused(format!("task failed: {err}"))))?;
    let decision = match decided {
        Ok(decision) => decision,
        // Another decider won between our check and the publish.
        Err(noctune_core::Error::Refused(message)) => {
            return Err(ApiError::conflict("already_decided", message));
        }
        Err(err) => return Err(err.into()),
    };
    state.ingest(&run_id).await;
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
    let resumed = resume_if_idle(&state, &run_id).await;
    Ok(Json(
        serde_json::json!({ "decision": decision, "resumed": resumed }),
    ))
}

/// After a decision: when no worker drives the run, start one to apply (or drop) it.
async fn resume_if_idle(state: &AppState, run_id: &RunId) -> bool {
    if state.supervisor.is_live(run_id) || !state.supervisor.has_decided_waiting(run_id).await {
        return false;
    }
    let Ok(record) = state.store.read(run_id) else {
        return false;
    };
    let Some(pack) = record.pack else {
        return false;
    };
    if record.command.as_deref().is_some_and(|c| c != "run") {
        return false; // workers resume with `noctune run`; other commands resume from the CLI
    }
    match state.supervisor.spawn(run_id, &pack) {
        Ok(()) => true,
        Err(err) => {
            tracing::warn!(run_id = %run_id, "cannot resume after a decision: {err}");
            false
        }
    }
}
