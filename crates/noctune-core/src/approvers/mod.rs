//! The approvers Noctune ships, each an [`Approver`]: [`SignalsApprover`] (proofs and risk
//! signals, no model), [`LlmApprover`] (the model compares BEFORE and AFTER) and
//! [`ChainApprover`] (the first that can decide, decides). `[approve] mode` picks one; an
//! embedder passes its own.

mod chain;
mod contradiction;
mod excerpt;
mod llm;
mod signals;

use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use chain::ChainApprover;
pub use contradiction::contradiction;
pub use excerpt::render_changes_within;
pub use llm::{ApproveAnswer, LlmApprover, render_changes, render_signals};
pub use signals::SignalsApprover;

use crate::approver::Approver;
use crate::prover::Prover;

/// `[approve] mode`: which approver a run uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApproveMode {
    /// The model judges every change (risk signals shown to it).
    Llm,
    /// No model: proven changes are approved, everything else goes to a human.
    Signals,
    /// Proofs and signals first; the model only for what they cannot decide.
    #[default]
    Chain,
}

impl ApproveMode {
    /// The mode's name as written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Llm => "llm",
            Self::Signals => "signals",
            Self::Chain => "chain",
        }
    }
}

impl FromStr for ApproveMode {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "llm" => Ok(Self::Llm),
            "signals" => Ok(Self::Signals),
            "chain" => Ok(Self::Chain),
            other => Err(format!(
                "expected `llm`, `signals` or `chain`, found `{other}`"
            )),
        }
    }
}

/// The approver for a mode. `prover` proves safe changes for the signals approver (none: no
/// proofs); `high_risk` is the risk-signal score from which a change always goes to a human.
pub fn for_mode(
    mode: ApproveMode,
    prover: Option<Arc<dyn Prover>>,
    high_risk: f32,
) -> Arc<dyn Approver> {
    match mode {
        ApproveMode::Llm => Arc::new(LlmApprover),
        ApproveMode::Signals => Arc::new(SignalsApprover::new(prover, high_risk)),
        ApproveMode::Chain => Arc::new(ChainApprover::new(
            vec![
                Arc::new(SignalsApprover::new(prover, high_risk)),
                Arc::new(LlmApprover),
            ],
            high_risk,
        )),
    }
}
