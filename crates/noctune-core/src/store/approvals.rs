//! The human approval queue of a run: `state/approvals/<id>.json` and
//! `state/decisions/<id>.json`.
//!
//! Deciding does not need the run lock: a decision is its own file, written once, atomically,
//! so the CLI, the daemon and MCP can decide while a worker drives the run. The worker reads
//! decisions when it comes back to a waiting task.

use std::fs;

use jiff::Timestamp;

use super::atomic::create_atomic;
use super::run_store::{Run, RunStore, read_json, write_json};
use crate::approval::{Approval, Decision, DecisionKind};
use crate::error::{Error, Result};
use crate::event::EventType;
use crate::ids::{ApprovalId, RunId};

/// A queued approval with its decision, if any.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalEntry {
    /// The queued change.
    pub approval: Approval,
    /// The human decision, once made.
    pub decision: Option<Decision>,
}

impl Run {
    /// Queues an approval (idempotent: the same id is written once) and logs
    /// `approval_queued`.
    pub fn queue_approval(&self, approval: &Approval) -> Result<()> {
        let dir = self.layout().approvals();
        fs::create_dir_all(&dir).map_err(|err| Error::io("create directory", &dir, err))?;
        let path = dir.join(format!("{}.json", approval.approval_id));
        if path.exists() {
            return Ok(());
        }
        write_json(&path, approval)?;
        self.event(
            EventType::ApprovalQueued,
            Some(&approval.task_id),
            serde_json::json!({
                "approval_id": approval.approval_id,
                "file": approval.file,
                "symbols": approval.symbols,
                "risk": approval.risk,
                "reason": approval.reason,
            }),
        )?;
        Ok(())
    }
}

impl RunStore {
    /// The approvals of a run, oldest first, each with its decision.
    pub fn approvals(&self, run_id: &RunId) -> Result<Vec<ApprovalEntry>> {
        let layout = self.cache().run(run_id);
        let dir = layout.approvals();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(Error::io("read directory", &dir, err)),
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|ext| ext != "json") {
                continue;
            }
            let approval: Approval = read_json(&path)?;
            let decision = self.decision(run_id, &approval.approval_id)?;
            out.push(ApprovalEntry { approval, decision });
        }
        out.sort_by(|a, b| {
            a.approval
                .created_at
                .cmp(&b.approval.created_at)
                .then_with(|| a.approval.approval_id.cmp(&b.approval.approval_id))
        });
        Ok(out)
    }

    /// The approvals a human still has to decide: undecided, and their task still waits on
    /// them (not applied by `noctune apply` as the pack allowed, not superseded by a later
    /// pass).
    pub fn waiting_approvals(&self, run_id: &RunId) -> Result<Vec<ApprovalEntry>> {
        let tasks = self.tasks(run_id)?;
        let waits = |entry: &ApprovalEntry| {
            tasks.iter().any(|task| {
                task.approval_id.as_ref() == Some(&entry.approval.approval_id)
                    && matches!(
                        task.status,
                        crate::task::TaskStatus::Queued | crate::task::TaskStatus::WaitingApproval
                    )
            })
        };
        Ok(self
            .approvals(run_id)?
            .into_iter()
            .filter(|e| e.decision.is_none() && waits(e))
            .collect())
    }

    /// One approval with its decision.
    pub fn approval(&self, run_id: &RunId, approval_id: &ApprovalId) -> Result<ApprovalEntry> {
        let path = self
            .cache()
            .run(run_id)
            .approvals()
            .join(format!("{approval_id}.json"));
        if !path.exists() {
            return Err(Error::Refused(format!(
                "run `{run_id}` has no approval `{approval_id}`"
            )));
        }
        let approval: Approval = read_json(&path)?;
        let decision = self.decision(run_id, approval_id)?;
        Ok(ApprovalEntry { approval, decision })
    }

    /// The decision on an approval, `None` while undecided.
    pub fn decision(&self, run_id: &RunId, approval_id: &ApprovalId) -> Result<Option<Decision>> {
        let path = self
            .cache()
            .run(run_id)
            .decisions()
            .join(format!("{approval_id}.json"));
        if !path.exists() {
            return Ok(None);
        }
        read_json(&path).map(Some)
    }

    /// Records a human decision. A decision is final: deciding again is an error that names
    /// the earlier decision. Logs `approval_decided` (appending to the log is safe while a
    /// worker runs: appends are whole lines).
    pub fn decide(
        &self,
        run_id: &RunId,
        approval_id: &ApprovalId,
        kind: DecisionKind,
        decided_by: &str,
        reason: Option<String>,
    ) -> Result<Decision> {
        let entry = self.approval(run_id, approval_id)?;
        if let Some(existing) = entry.decision {
            return Err(Error::Refused(format!(
                "approval `{approval_id}` was already decided: {:?} by {} at {}",
                existing.decision, existing.decided_by, existing.decided_at
            )));
        }
        let decision = Decision {
            approval_id: approval_id.clone(),
            decision: kind,
            decided_at: Timestamp::now(),
            decided_by: decided_by.to_owned(),
            reason,
        };
        let layout = self.cache().run(run_id);
        let dir = layout.decisions();
        fs::create_dir_all(&dir).map_err(|err| Error::io("create directory", &dir, err))?;
        let mut bytes = serde_json::to_vec_pretty(&decision).map_err(|err| Error::Corrupt {
            path: dir.clone(),
            message: format!("cannot encode the decision: {err}"),
        })?;
        bytes.push(b'\n');
        // Published only if no decision exists: two deciders can never both win.
        if !create_atomic(&dir.join(format!("{approval_id}.json")), &bytes)? {
            let existing = self.decision(run_id, approval_id)?;
            return Err(Error::Refused(format!(
                "approval `{approval_id}` was already decided{}",
                existing
                    .map(|d| format!(": {:?} by {} at {}", d.decision, d.decided_by, d.decided_at))
                    .unwrap_or_default()
            )));
        }
        let log = super::EventLog::open(&layout.events())?;
        log.append(
            EventType::ApprovalDecided,
            Some(&entry.approval.task_id),
            serde_json::json!({
                "approval_id": approval_id,
                "decision": decision.decision,
                "decided_by": decision.decided_by,
                "reason": decision.reason,
            }),
        )?;
        Ok(decision)
    }

    /// Finds which run holds an approval id (newest run first).
    pub fn find_approval(&self, approval_id: &ApprovalId) -> Result<Option<RunId>> {
        for run in self.list()? {
            let path = self
                .cache()
                .run(&run.run_id)
                .approvals()
                .join(format!("{approval_id}.json"));
            if path.exists() {
                return Ok(Some(run.run_id));
            }
        }
        Ok(None)
    }
}
