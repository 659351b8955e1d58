//! The only way to get permission to replace a real file.
//!
//! [`ApplyPermit`] can be made in two ways: from a policy decision that auto-approves, or from a
//! human's *approve* decision on the very approval that was queued. An undecided or rejected
//! approval cannot produce one, and the apply step takes nothing else, so applying a change whose
//! required approval is undecided is an error in the code path, not a convention.

use crate::approval::{Approval, DecisionKind};
use crate::error::{Error, Result};
use crate::ids::ApprovalId;
use crate::policy::PolicyDecision;
use crate::store::RunStore;

/// Permission to apply one change. Not `Clone`: one permit, one apply.
#[derive(Debug)]
pub struct ApplyPermit {
    route: PermitRoute,
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
    /// A permit from a policy decision; only [`PolicyDecision::AutoApprove`] grants one.
    pub fn from_policy(decision: &PolicyDecision) -> Result<Self> {
        match decision {
            PolicyDecision::AutoApprove { why } => Ok(Self {
                route: PermitRoute::Auto { why: why.clone() },
            }),
            other => Err(Error::Refused(format!(
                "the policy did not auto-approve this change ({other:?})"
            ))),
        }
    }

    /// A permit from the human decision on `approval`, read from the run store. Fails while
    /// the approval is undecided, and when it was rejected.
    pub fn from_decision(store: &RunStore, approval: &Approval) -> Result<Self> {
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
        }
    }

    #[test]
    fn no_permit_without_auto_approve_or_a_human_yes() {
        for decision in [
            PolicyDecision::NeedsHuman { why: "risk".into() },
            PolicyDecision::Rejected { why: "no".into() },
        ] {
            let err = ApplyPermit::from_policy(&decision).unwrap_err();
            assert!(err.to_string().contains("did not auto-approve"), "{err}");
        }
        assert!(
            ApplyPermit::from_policy(&PolicyDecision::AutoApprove { why: "ok".into() }).is_ok()
        );
    }

    #[test]
    fn an_undecided_or_rejected_approval_gives_no_permit() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let run = store.create(RunSpec::default()).unwrap();
        let queued = approval(run.id());
        run.queue_approval(&queued).unwrap();

        let err = ApplyPermit::from_decision(&store, &queued).unwrap_err();
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
        let err = ApplyPermit::from_decision(&store, &queued).unwrap_err();
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
        let permit = ApplyPermit::from_decision(&store, &other).unwrap();
        assert_eq!(
            permit.route(),
            &PermitRoute::Human {
                approval_id: other.approval_id.clone(),
                decided_by: "test".into(),
            }
        );
    }
}
