//! [`SignalsApprover`]: proofs and risk signals, no model.

use std::sync::Arc;

use async_trait::async_trait;

use crate::approver::{ApproveInput, Approver, ApproverVerdict, Verdict};
use crate::error::Result;
use crate::pipeline::risk;
use crate::prover::{ProofInput, Prover};

/// Approves what its [`Prover`] proves keeps behaviour (`judged_by = "proof:<class>"`, risk 0),
/// and leaves everything else undecided for the next approver or a human, with the risk
/// signals' combined score as the risk. It never rejects: a signal is a reason to look, not a
/// proof of harm.
pub struct SignalsApprover {
    prover: Option<Arc<dyn Prover>>,
    high_risk: f32,
}

impl SignalsApprover {
    /// Proofs from `prover` (none: nothing is ever proven); `high_risk` is the signal score
    /// from which the verdict says a human must look.
    pub fn new(prover: Option<Arc<dyn Prover>>, high_risk: f32) -> Self {
        Self { prover, high_risk }
    }
}

impl std::fmt::Debug for SignalsApprover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalsApprover")
            .field("prover", &self.prover.is_some())
            .field("high_risk", &self.high_risk)
            .finish()
    }
}

#[async_trait]
impl Approver for SignalsApprover {
    fn name(&self) -> &str {
        "signals"
    }

    async fn judge(&self, input: ApproveInput<'_>) -> Result<ApproverVerdict> {
        let signal_risk = risk::combined(&input.change.signals);
        let mut not_proven = "no prover configured".to_owned();
        if let Some(prover) = &self.prover {
            let proof = prover
                .prove(ProofInput {
                    path: &input.change.file,
                    before: input.before,
                    after: input.after,
                })
                .await;
            match proof {
                Ok(Some(proof)) => {
                    return Ok(ApproverVerdict {
                        decision: Verdict::Approve,
                        reason: format!("proven {}: {}", proof.class, proof.argument),
                        risk: 0.0,
                        judged_by: format!("proof:{}", proof.class),
                    });
                }
                Ok(None) => not_proven = "no proof that behaviour is kept".to_owned(),
                Err(err) => {
                    tracing::warn!(file = %input.change.file.display(), "prover failed: {err}");
                    not_proven = format!("the prover could not run: {err}");
                }
            }
        }
        let signals = &input.change.signals;
        let reason = if signals.is_empty() {
            format!("{not_proven}; no risk signals")
        } else {
            let listed: Vec<String> = signals
                .iter()
                .map(|s| format!("{:?} in `{}`: {}", s.kind, s.symbol, s.detail))
                .collect();
            let level = if signal_risk >= self.high_risk {
                "a human must look"
            } else {
                "low"
            };
            format!(
                "{not_proven}; risk signals ({level}, {signal_risk:.2}): {}",
                listed.join("; ")
            )
        };
        Ok(ApproverVerdict {
            decision: Verdict::Undecided,
            reason,
            risk: signal_risk,
            judged_by: self.name().to_owned(),
        })
    }
}
