//! Human approvals: a queued change and the decision on it.

use std::path::PathBuf;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::approver::{RiskSignal, SymbolChange};
use crate::ids::{ApprovalId, RunId, TaskId};

/// A change waiting for a human. The file waits; the run goes on with other files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Approval {
    /// Deterministic id (run, task, pass, proposed content).
    pub approval_id: ApprovalId,
    /// The run.
    pub run_id: RunId,
    /// The task (file).
    pub task_id: TaskId,
    /// The file, relative to the repository root.
    pub file: PathBuf,
    /// The changed symbols' names.
    pub symbols: Vec<String>,
    /// The risk score, 0..=1.
    pub risk: f32,
    /// Why a human is asked (the approver's reason and the pack's).
    pub reason: String,
    /// Before and after of each changed symbol.
    pub changes: Vec<SymbolChange>,
    /// Deterministic risk signals.
    #[serde(default)]
    pub signals: Vec<RiskSignal>,
    /// When it was queued.
    #[schemars(with = "String")]
    pub created_at: Timestamp,
    /// SHA-256 of the whole proposed file: a human's approval applies to exactly this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_hash: Option<String>,
    /// The pass that proposed the change (where its artifacts are).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<u32>,
    /// SHA-256 of the file the pass read: the change applies only on top of exactly that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_hash: Option<String>,
    /// The pack's reason when it would auto-approve the change: `noctune apply` may apply it
    /// without a human decision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_approve: Option<String>,
}

/// Approve or reject, by a human.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// Apply the change.
    Approve,
    /// Drop the change.
    Reject,
}

/// A human's decision on an [`Approval`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Decision {
    /// The approval decided.
    pub approval_id: ApprovalId,
    /// Approve or reject.
    pub decision: DecisionKind,
    /// When.
    #[schemars(with = "String")]
    pub decided_at: Timestamp,
    /// Who (`cli:$USER`, `studio`, `mcp`).
    pub decided_by: String,
    /// Why, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
