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

impl SymbolChange {
    /// The change as a unified diff of the symbol's code (3 lines of context), headed
    /// `<symbol> (before)` / `<symbol> (after)`: how people read it (the approver reads the
    /// whole before and after instead).
    pub fn unified_diff(&self) -> String {
        // Symbol texts end without their last newline; compare them as whole lines.
        let line = |text: Option<&str>| {
            let text = text.unwrap_or("");
            if text.is_empty() || text.ends_with('\n') {
                text.to_owned()
            } else {
                format!("{text}\n")
            }
        };
        let (before, after) = (line(self.before.as_deref()), line(self.after.as_deref()));
        similar::TextDiff::from_lines(&before, &after)
            .unified_diff()
            .context_radius(3)
            .header(
                &format!("{} (before)", self.symbol),
                &format!("{} (after)", self.symbol),
            )
            .to_string()
    }
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

/// Approve, reject, or leave it to a human.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The change keeps behaviour and improves the code.
    Approve,
    /// The change must not be applied.
    Reject,
    /// The approver cannot tell (nothing proven, or the model's answer contradicts itself): a
    /// human decides. Never applied and never dropped on its own.
    Undecided,
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
    /// Who judged: `proof:<class>`, `signals`, `llm`, or a custom approver's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub judged_by: String,
}

/// What an approver may use besides the change: the approve stage's model, each exchange
/// recorded in the task's transcript, events and token counts.
#[async_trait]
pub trait ApproveModel: Send + Sync {
    /// The `approve` prompt (built in or overridden) rendered with these placeholders, the
    /// pack's guidance (`pack_guidance`) and the file (`path`) filled in.
    fn render_prompt(&self, values: &[(&str, &str)]) -> Result<String>;

    /// The tokens `prompt` leaves free in the context once the answer's reserve and the system
    /// message are counted (0 when it does not fit).
    fn room(&self, prompt: &str) -> u32;

    /// Asks the model for a JSON answer constrained by `schema` (named `name`).
    async fn ask_json(
        &self,
        prompt: String,
        name: &str,
        schema: serde_json::Value,
    ) -> Result<serde_json::Value>;
}

/// One change to judge.
#[derive(Clone, Copy)]
pub struct ApproveInput<'a> {
    /// The changed symbols, signals and size.
    pub change: &'a ChangeSet,
    /// The whole file before the change.
    pub before: &'a str,
    /// The whole file after the change.
    pub after: &'a str,
    /// The approve stage's model, when the run has one (`None` offline).
    pub model: Option<&'a dyn ApproveModel>,
}

impl std::fmt::Debug for ApproveInput<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApproveInput")
            .field("change", &self.change)
            .field("model", &self.model.is_some())
            .finish_non_exhaustive()
    }
}

/// Judges a change set. Noctune ships three (`noctune_core::approvers`): proofs and risk
/// signals without a model, the model's verdict, and a chain of both; the policy pack then
/// decides between auto-apply and the human queue. Lean cautious: when in doubt, answer
/// [`Verdict::Undecided`] and let a human look.
///
/// ```
/// use std::sync::Arc;
/// use async_trait::async_trait;
/// use noctune_core::{ApproveInput, Approver, ApproverVerdict, Result, Verdict};
///
/// /// Leaves anything with a risk signal to a human, approves the rest.
/// struct NoSignals;
///
/// #[async_trait]
/// impl Approver for NoSignals {
///     fn name(&self) -> &str {
///         "no-signals"
///     }
///
///     async fn judge(&self, input: ApproveInput<'_>) -> Result<ApproverVerdict> {
///         let signals = &input.change.signals;
///         let risk: f32 = signals.iter().map(|s| s.weight).sum::<f32>().min(1.0);
///         let decision = if signals.is_empty() { Verdict::Approve } else { Verdict::Undecided };
///         Ok(ApproverVerdict {
///             decision,
///             reason: format!("{} signals", signals.len()),
///             risk,
///             judged_by: self.name().to_owned(),
///         })
///     }
/// }
///
/// let approver: Arc<dyn Approver> = Arc::new(NoSignals);
/// # let _ = approver;
/// ```
#[async_trait]
pub trait Approver: Send + Sync {
    /// The approver's name, recorded as [`ApproverVerdict::judged_by`] (`llm`, `signals`).
    fn name(&self) -> &str;

    /// Judges one file's change set.
    async fn judge(&self, input: ApproveInput<'_>) -> Result<ApproverVerdict>;
}
