//! The only way to get permission to replace a real file.
//!
//! [`ApplyPermit`] is made only inside the pipeline, in two ways: from a policy decision that
//! auto-approves, or from a human's *approve* decision on the very approval that was queued. An
//! undecided or rejected approval cannot produce one; a permit is bound to the exact text it
//! allows (its SHA-256); and the apply step takes nothing else. Applying a change whose required
//! approval is undecided is an error in the code path, not a convention.

use crate::approval::{Approval, DecisionKind};
use crate::error::{Error, Result};
use crate::ids::{ApprovalId, content_hash};
use crate::policy::PolicyDecision;
use crate::store::RunStore;

/// Permission to apply one change: bound to the exact text it allows (its SHA-256), made only
/// inside the pipeline. Not `Clone`: one permit, one apply.
#[derive(Debug)]
pub struct ApplyPermit {
    route: PermitRoute,
    content_hash: String,
}

/// How a permit was granted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PermitRoute {
    /// The policy pack auto-approved the change.
    Auto {
        /// The pack's reason.
        why: String,
    },
    /// A human approved the queued approval.
    Human {
        /// The approval.
        approval_id: ApprovalId,
        /// Who decided.
        decided_by: String,
    },
}

impl ApplyPermit {
    /// A permit for `text` from a policy decision; only [`PolicyDecision::AutoApprove`]
    /// grants one.
    pub(crate) fn from_policy(decision: &PolicyDecision, text: &str) -> Result<Self> {
        match decision {
            PolicyDecision::AutoApprove { why } => Ok(Self {
                route: PermitRoute::Auto { why: why.clone() },
                content_hash: content_hash(text.as_bytes()),
            }),
            other => Err(Error::Refused(format!(
                "the policy did not auto-approve this change ({other:?})"
            ))),
        }
    }

    /// A permit for `text` from the human decision on `approval`, read from the run store.
    /// Fails while the approval is undecided, when it was rejected, and when `text` is not the
    /// text that was approved.
    pub(crate) fn from_decision(store: &RunStore, approval: &Approval, text: &str) -> Result<Self> {
        let hash = content_hash(text.as_bytes());
        if approval.content_hash.as_ref().is_some_and(|h| *h != hash) {
            return Err(Error::Refused(format!(
                "approval `{}` was given for another text of `{}`",
                approval.approval_id,
                approval.file.display()
            )));
        }
        let decision = store
            .decision(&approval.run_id, &approval.approval_id)?
            .ok_or_else(|| {
                Error::Refused(format!(
                    "approval `{}` is undecided: `noctune approvals approve {}` first",
                    approval.approval_id, approval.approval_id
                ))
            })?;
        match decision.decision {
            DecisionKind::Approve => Ok(Self {
                route: PermitRoute::Human {
                    approval_id: approval.approval_id.clone(),
                    decided_by: decision.decided_by,
                },
                content_hash: hash,
            }),
            DecisionKind::Reject => Err(Error::Refused(format!(
                "approval `{}` was rejected by {}",
                approval.approval_id, decision.decided_by
            ))),
        }
    }

    /// How the permit was granted.
    pub fn route(&self) -> &PermitRoute {
        &self.route
    }

    /// Whether the permit allows exactly `text`.
    pub fn allows(&self, text: &str) -> bool {
        self.content_hash == content_hash(text.as_bytes())
    }

    /// Whether a human granted it (no further confirmation is asked for).
    pub fn is_human(&self) -> bool {
        matches!(self.route, PermitRoute::Human { .. })
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::ids::{RunId, TaskId};
    use crate::store::RunSpec;

    fn approval(run_id: &RunId) -> Approval {
        let task_id = TaskId::for_path(std::path::Path::new("a.py"));
        Approval {
            approval_id: ApprovalId::derive(run_id, &task_id, 1, "x = 2\n"),
            run_id: run_id.clone(),
            task_id,
            file: PathBuf::from("a.py"),
            symbols: vec!["x".into()],
            risk: 0.6,
            reason: "risk".into(),
            changes: vec![],
            signals: vec![],
            created_at: jiff::Timestamp::now(),
            content_hash: Some(content_hash(b"x = 2\n")),
            pass: None,
            base_hash: None,
            auto_approve: None,
        }
    }

    #[test]
    fn no_permit_without_auto_approve_or_a_human_yes() {
        for decision in [
            PolicyDecision::NeedsHuman { why: "risk".into() },
            PolicyDecision::Rejected { why: "no".into() },
        ] {
            let err = ApplyPermit::from_policy(&decision, "x = 2\n").unwrap_err();
            assert!(err.to_string().contains("did not auto-approve"), "{err}");
        }
        let permit =
            ApplyPermit::from_policy(&PolicyDecision::AutoApprove { why: "ok".into() }, "x = 2\n")
                .unwrap();
        assert!(permit.allows("x = 2\n"));
        assert!(!permit.allows("x = 3\n"));
    }

    #[test]
    fn an_undecided_or_rejected_approval_gives_no_permit() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let run = store.create(RunSpec::default()).unwrap();
        let queued = approval(run.id());
        run.queue_approval(&queued).unwrap();

        let err = ApplyPermit::from_decision(&store, &queued, "x = 2\n").unwrap_err();
        assert!(err.to_string().contains("is undecided"), "{err}");

        store
            .decide(
                run.id(),
                &queued.approval_id,
                DecisionKind::Reject,
                "test",
                None,
            )
            .unwrap();
        let err = ApplyPermit::from_decision(&store, &queued, "x = 2\n").unwrap_err();
        assert!(err.to_string().contains("was rejected"), "{err}");

        // A second queued change, approved by a human.
        let mut other = approval(run.id());
        other.approval_id = ApprovalId::derive(run.id(), &other.task_id, 2, "x = 3\n");
        run.queue_approval(&other).unwrap();
        store
            .decide(
                run.id(),
                &other.approval_id,
                DecisionKind::Approve,
                "test",
                None,
            )
            .unwrap();
        let err = ApplyPermit::from_decision(&store, &other, "x = 999\n").unwrap_err();
        assert!(err.to_string().contains("another text"), "{err}");
        let permit = ApplyPermit::from_decision(&store, &other, "x = 2\n").unwrap();
        assert_eq!(
            permit.route(),
            &PermitRoute::Human {
                approval_id: other.approval_id.clone(),
                decided_by: "test".into(),
            }
        );
    }
}
