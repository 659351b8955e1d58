//! The [`Gate`] trait: an exact verdict on a file's text.

use std::path::Path;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// A position in a file: 1-based line and column (columns count characters).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub struct Location {
    /// Line, 1-based.
    pub line: usize,
    /// Column, 1-based.
    pub column: usize,
}

/// One finding of a gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Diagnostic {
    /// The rule code (`F401`, `invalid-syntax`), when the tool has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// What is wrong.
    pub message: String,
    /// Where it starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Where it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_location: Option<Location>,
    /// The qualified name of the symbol it falls in, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// Whether the change introduced it (as opposed to it being there before).
    #[serde(default)]
    pub introduced: bool,
    /// Whether the tool has a fix for it.
    #[serde(default)]
    pub fixable: bool,
}

/// A gate's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GateOutcome {
    /// Nothing blocks the change.
    Pass,
    /// Something blocks the change; the diagnostics say what.
    Fail,
    /// The gate cannot decide (for example no parser is available). Nothing may be applied on an
    /// undecided verdict.
    Undecided,
}

/// The full result of running a gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GateReport {
    /// The gate's name (`parse`, `ruff`).
    pub gate: String,
    /// The verdict.
    pub outcome: GateOutcome,
    /// Every finding; with [`Diagnostic::introduced`] telling new from old.
    #[serde(default)]
    pub diagnostics: Vec<Diagnostic>,
    /// A one-line summary for humans.
    pub summary: String,
    /// The tool and version that decided (`ruff 0.17.5`), when a tool did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// A hash of the tool configuration that applied, so a verdict can be reproduced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_hash: Option<String>,
}

impl GateReport {
    /// A passing report with a summary.
    pub fn pass(gate: impl Into<String>, summary: impl Into<String>) -> Self {
        Self {
            gate: gate.into(),
            outcome: GateOutcome::Pass,
            diagnostics: Vec::new(),
            summary: summary.into(),
            tool: None,
            config_hash: None,
        }
    }

    /// A failing report with its diagnostics.
    pub fn fail(
        gate: impl Into<String>,
        summary: impl Into<String>,
        diagnostics: Vec<Diagnostic>,
    ) -> Self {
        Self {
            gate: gate.into(),
            outcome: GateOutcome::Fail,
            diagnostics,
            summary: summary.into(),
            tool: None,
            config_hash: None,
        }
    }

    /// Whether the change may go on.
    pub fn passed(&self) -> bool {
        self.outcome == GateOutcome::Pass
    }
}

/// What a gate looks at: the file's text after the change and, when there is one, before it.
#[derive(Debug, Clone, Copy)]
pub struct GateInput<'a> {
    /// The file's path relative to the repository root (used for config lookup and messages;
    /// the gate must not read the file from disk: the text below is what counts).
    pub path: &'a Path,
    /// The text before the change; `None` for a new file or a plain `check`.
    pub before: Option<&'a str>,
    /// The text to judge.
    pub after: &'a str,
}

/// A check that a changed file must pass before it may be applied.
///
/// A verdict is data: a gate that finds problems returns `Ok` with
/// [`GateOutcome::Fail`]; `Err` means it could not run at all (its tool is missing or crashed).
/// A gate that compares with [`GateInput::before`] should block only on what the change
/// introduced, so a file that was already dirty can still be improved.
///
/// ```
/// use std::sync::Arc;
/// use async_trait::async_trait;
/// use noctune_core::{Diagnostic, Gate, GateInput, GateReport, Result};
///
/// /// Refuses any file that contains a `print(` call.
/// struct NoPrintGate;
///
/// #[async_trait]
/// impl Gate for NoPrintGate {
///     fn name(&self) -> &str {
///         "no-print"
///     }
///
///     async fn check(&self, input: GateInput<'_>) -> Result<GateReport> {
///         if input.after.contains("print(") {
///             let diagnostic = Diagnostic {
///                 code: Some("NP001".into()),
///                 message: "print() call".into(),
///                 location: None,
///                 end_location: None,
///                 symbol: None,
///                 introduced: !input.before.is_some_and(|b| b.contains("print(")),
///                 fixable: false,
///             };
///             return Ok(GateReport::fail(self.name(), "print() found", vec![diagnostic]));
///         }
///         Ok(GateReport::pass(self.name(), "no print() calls"))
///     }
/// }
///
/// let gate: Arc<dyn Gate> = Arc::new(NoPrintGate);
/// assert_eq!(gate.name(), "no-print");
/// ```
#[async_trait]
pub trait Gate: Send + Sync {
    /// The gate's name, as shown in reports (`parse`, `ruff`).
    fn name(&self) -> &str;

    /// Judges `input.after`.
    async fn check(&self, input: GateInput<'_>) -> Result<GateReport>;
}
