//! The [`Approver`] trait: a judge of BEFORE and AFTER.

use std::path::PathBuf;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// One changed symbol: its code before and after (not a diff).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SymbolChange {
    /// The symbol's qualified name.
    pub symbol: String,
    /// The code before; `None` for a new symbol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The code after; `None` for a removed symbol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
}

/// A deterministic sign that a change may alter behaviour, found by comparing the before and
/// after syntax trees of a symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskSignalKind {
    /// Parameters, their defaults or the return annotation changed in a way callers see.
    SignatureChanged,
    /// A call present before is gone.
    CallRemoved,
    /// A call now goes to a different function or object.
    CallRetargeted,
    /// A call to file, process, network or eval APIs was added.
    DangerousCallAdded,
    /// A `try`/`except` was removed.
    ErrorHandlingRemoved,
    /// A `return` or `raise` path was removed.
    ExitPathRemoved,
    /// An assignment to an attribute (`self.x = ...`) was dropped.
    AttributeAssignmentDropped,
    /// A name is read that is neither defined nor imported.
    UndefinedName,
    /// Module-level state (globals, module attributes) is touched.
    ModuleStateTouched,
}

/// One risk signal with what exactly triggered it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RiskSignal {
    /// The kind of signal.
    pub kind: RiskSignalKind,
    /// The symbol it was found in.
    pub symbol: String,
    /// What triggered it (`call to os.fstat removed`).
    pub detail: String,
    /// How much it adds to the risk score, 0..=1.
    pub weight: f32,
}

/// Everything the approver is shown for one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChangeSet {
    /// The file, relative to the repository root.
    pub file: PathBuf,
    /// The changed symbols.
    pub changes: Vec<SymbolChange>,
    /// Deterministic risk signals.
    #[serde(default)]
    pub signals: Vec<RiskSignal>,
    /// Lines added plus lines removed.
    pub diff_lines: u32,
    /// The policy pack in force.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<String>,
}

/// Approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The change keeps behaviour and improves the code.
    Approve,
    /// The change must not be applied.
    Reject,
}

/// The approver's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApproverVerdict {
    /// Approve or reject.
    pub decision: Verdict,
    /// Why, in a sentence or two.
    pub reason: String,
    /// Risk that the change alters behaviour, from 0 (none) to 1 (certain).
    pub risk: f32,
}

/// Judges a change set. The pipeline's approver asks a model and adds deterministic risk
/// signals; the policy pack then decides between auto-apply and the human queue.
///
/// ```
/// use std::sync::Arc;
/// use async_trait::async_trait;
/// use noctune_core::{Approver, ApproverVerdict, ChangeSet, Result, Verdict};
///
/// /// Rejects anything with a risk signal, approves the rest at the signals' total risk.
/// struct SignalsOnly;
///
/// #[async_trait]
/// impl Approver for SignalsOnly {
///     async fn judge(&self, change: &ChangeSet) -> Result<ApproverVerdict> {
///         let risk: f32 = change.signals.iter().map(|s| s.weight).sum::<f32>().min(1.0);
///         let decision = if change.signals.is_empty() { Verdict::Approve } else { Verdict::Reject };
///         Ok(ApproverVerdict { decision, reason: format!("{} signals", change.signals.len()), risk })
///     }
/// }
///
/// let approver: Arc<dyn Approver> = Arc::new(SignalsOnly);
/// # let _ = approver;
/// ```
#[async_trait]
pub trait Approver: Send + Sync {
    /// Judges one file's change set.
    async fn judge(&self, change: &ChangeSet) -> Result<ApproverVerdict>;
}
