//! Approvals: the queue of a run with each one's state, and deciding one.

use noctune_core::approval::{Decision, DecisionKind};
use noctune_core::{ApprovalId, RunId, TaskStatus};
use serde::Serialize;

use super::Control;
use crate::audit::query::approvals as stored_approvals;
use crate::audit::{Db, StoredApproval};
use crate::error::{ApiError, Error};

/// An approval as the API shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ApprovalView {
    /// The approval, its decision and its diff.
    #[serde(flatten)]
    pub stored: StoredApproval,
    /// `pending`, `approved`, `rejected`, or `stale` (undecided, but the run moved on or the
    /// file changed: deciding it is refused).
    pub state: String,
}

/// A decision made, and whether a worker was started to apply (or drop) it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Decided {
    /// The decision as the run store recorded it.
    pub decision: Decision,
    /// Whether a worker was started to resume the run.
    pub resumed: bool,
}

impl Control {
    async fn stored_approvals(&self, run_id: &RunId) -> Result<Vec<StoredApproval>, ApiError> {
        self.load_run(run_id).await?;
        let id = run_id.as_str().to_owned();
        let path = self.db.path().to_path_buf();
        Ok(self
            .db
            .call(move |conn| stored_approvals(conn, &id).map_err(Db::error(&path)))
            .await?)
    }

    /// Why an undecided approval can no longer be decided, if it cannot.
    fn staleness(&self, run_id: &RunId, stored: &StoredApproval) -> Option<String> {
        let approval = &stored.approval;
        let tasks = self.store.tasks(run_id).ok()?;
        let task = tasks.iter().find(|t| t.task_id == approval.task_id)?;
        if !matches!(
            task.status,
            TaskStatus::WaitingApproval | TaskStatus::Queued
        ) || task.approval_id.as_ref() != Some(&approval.approval_id)
        {
            return Some(format!(
                "the task of `{}` no longer waits on this approval (it is {:?})",
                approval.file.display(),
                task.status
            ));
        }
        let read_hash = task.read_hash.as_ref()?;
        let current = std::fs::read(self.root.join(&approval.file)).ok()?;
        (noctune_core::ids::content_hash(&current) != *read_hash).then(|| {
            format!(
                "`{}` changed since the run read it",
                approval.file.display()
            )
        })
    }

    fn approval_view(&self, run_id: &RunId, stored: StoredApproval) -> ApprovalView {
        let label = match stored.decision.as_ref().map(|d| d.decision) {
            Some(DecisionKind::Approve) => "approved",
            Some(DecisionKind::Reject) => "rejected",
            None if self.staleness(run_id, &stored).is_some() => "stale",
            None => "pending",
        };
        ApprovalView {
            stored,
            state: label.to_owned(),
        }
    }

    /// The approvals of a run, oldest first, with their states.
    pub async fn approvals(&self, run_id: &RunId) -> Result<Vec<ApprovalView>, ApiError> {
        Ok(self
            .stored_approvals(run_id)
            .await?
            .into_iter()
            .map(|a| self.approval_view(run_id, a))
            .collect())
    }

    /// One approval of a run (`NotFound` when it has none by that id).
    pub async fn approval(
        &self,
        run_id: &RunId,
        approval_id: &ApprovalId,
    ) -> Result<StoredApproval, ApiError> {
        self.stored_approvals(run_id)
            .await?
            .into_iter()
            .find(|a| &a.approval.approval_id == approval_id)
            .ok_or_else(|| {
                ApiError::NotFound(format!("run `{run_id}` has no approval `{approval_id}`"))
            })
    }

    /// Records a decision by `decided_by` (a rejection needs a reason; a decided or stale
    /// approval is a `Conflict`), then, when no worker drives the run, starts one to apply (or
    /// drop) it. The caller writes its audit row.
    pub async fn decide(
        &self,
        run_id: &RunId,
        approval_id: &ApprovalId,
        decision: DecisionKind,
        reason: Option<String>,
        decided_by: String,
    ) -> Result<Decided, ApiError> {
        let reason = reason
            .map(|r| r.trim().to_owned())
            .filter(|r| !r.is_empty());
        if decision == DecisionKind::Reject && reason.is_none() {
            return Err(ApiError::bad_request(
                "reason_required",
                "a rejection needs a reason",
            ));
        }
        let stored = self.approval(run_id, approval_id).await?;
        if let Some(existing) = &stored.decision {
            return Err(ApiError::conflict(
                "already_decided",
                format!(
                    "approval `{approval_id}` was already decided: {:?} by {} at {}",
                    existing.decision, existing.decided_by, existing.decided_at
                ),
            ));
        }
        if let Some(why) = self.staleness(run_id, &stored) {
            return Err(ApiError::conflict("stale_approval", why));
        }
        let store = self.store.clone();
        let (rid, aid) = (run_id.clone(), approval_id.clone());
        let decided = tokio::task::spawn_blocking(move || {
            store.decide(&rid, &aid, decision, &decided_by, reason)
        })
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
        self.ingest(run_id).await;
        let resumed = self.resume_if_idle(run_id).await;
        Ok(Decided { decision, resumed })
    }

    /// After a decision: when no worker drives the run, start one to apply (or drop) it.
    async fn resume_if_idle(&self, run_id: &RunId) -> bool {
        // A worker drives the run: it is resumed once that worker exits.
        if self.supervisor.note_decision(run_id)
            || !self.supervisor.has_decided_waiting(run_id).await
        {
            return false;
        }
        let Ok(record) = self.store.read(run_id) else {
            return false;
        };
        let Some(pack) = record.pack else {
            return false;
        };
        // A run's or a task's worker applies the decision; other commands resume from the CLI.
        if !self
            .supervisor
            .job(run_id)
            .is_ok_and(|job| job.resumes_decisions())
        {
            return false;
        }
        match self.supervisor.spawn(run_id, &pack) {
            Ok(()) => true,
            Err(err) => {
                tracing::warn!(run_id = %run_id, "cannot resume after a decision: {err}");
                false
            }
        }
    }
}
