//! [`ChainApprover`]: approvers in order; the first that can decide, decides.

use std::sync::Arc;

use async_trait::async_trait;

use crate::approver::{ApproveInput, Approver, ApproverVerdict, Verdict};
use crate::error::Result;

/// Asks its approvers in order. A verdict that approves or rejects ends the chain; so does an
/// undecided verdict at or above `high_risk` (no later approver could make it auto-apply, so a
/// human decides without a model call). Otherwise the next approver is asked; when none can
/// decide, the last verdict stands (undecided: a human decides).
pub struct ChainApprover {
    approvers: Vec<Arc<dyn Approver>>,
    high_risk: f32,
}

impl ChainApprover {
    /// A chain of `approvers`, asked in order.
    pub fn new(approvers: Vec<Arc<dyn Approver>>, high_risk: f32) -> Self {
        Self {
            approvers,
            high_risk,
        }
    }
}

impl std::fmt::Debug for ChainApprover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.approvers.iter().map(|a| a.name()).collect();
        f.debug_struct("ChainApprover")
            .field("approvers", &names)
            .field("high_risk", &self.high_risk)
            .finish()
    }
}

#[async_trait]
impl Approver for ChainApprover {
    fn name(&self) -> &str {
        "chain"
    }

    async fn judge(&self, input: ApproveInput<'_>) -> Result<ApproverVerdict> {
        let mut notes: Vec<String> = Vec::new();
        let mut last = None;
        for approver in &self.approvers {
            let verdict = approver.judge(input).await?;
            let ends = verdict.decision != Verdict::Undecided || verdict.risk >= self.high_risk;
            if ends {
                let mut verdict = verdict;
                if !notes.is_empty() && verdict.decision == Verdict::Undecided {
                    verdict.reason = format!("{} ({})", verdict.reason, notes.join("; "));
                }
                return Ok(verdict);
            }
            notes.push(format!("{}: {}", verdict.judged_by, verdict.reason));
            last = Some(verdict);
        }
        Ok(last.unwrap_or_else(|| ApproverVerdict {
            decision: Verdict::Undecided,
            reason: "no approver in the chain".to_owned(),
            risk: 1.0,
            judged_by: self.name().to_owned(),
        }))
    }
}
