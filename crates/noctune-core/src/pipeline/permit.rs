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
