//! Deterministic first: the tools a pack allows fix what they can before any model is asked,
//! and what they still report is what the model is asked about.
//!
//! A [`Fixer`] (`noctune-gates` implements one with ruff) makes the tools' fixes of a whole file
//! and lists the findings left. The pipeline proposes the fixes as the pass's base change (a
//! prover shows they keep behaviour), seeds the review's checklist with the findings, and has
//! the model edit on top of the fixed text.

use std::path::Path;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// What the tools made of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolFix {
    /// The fixed text (the input itself when the tools changed nothing).
    pub text: String,
    /// The commands that ran, as a user would type them (`ruff check --fix-only ...`).
    pub tools: Vec<String>,
}

/// A finding a tool still reports on a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// The rule (`E711`).
    pub rule: String,
    /// The line, 1-based.
    pub line: usize,
    /// The innermost symbol around the line (qualified name), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// The tool's message.
    pub message: String,
}

impl Finding {
    /// One line for a prompt: `E711 line 12 in `check`: Comparison to None ...`.
    pub fn line_for_prompt(&self) -> String {
        match &self.symbol {
            Some(symbol) => format!(
                "{} line {} in `{symbol}`: {}",
                self.rule, self.line, self.message
            ),
            None => format!("{} line {}: {}", self.rule, self.line, self.message),
        }
    }
}

/// The deterministic tools of a run, for one file at a time.
///
/// ```
/// use std::path::Path;
/// use async_trait::async_trait;
/// use noctune_core::pipeline::{Finding, Fixer, ToolFix};
/// use noctune_core::Result;
///
/// /// Strips trailing whitespace, and reports tabs.
/// struct Tidy;
///
/// #[async_trait]
/// impl Fixer for Tidy {
///     async fn fix(&self, _path: &Path, text: &str) -> Result<ToolFix> {
///         let text: String = text.lines().map(|l| format!("{}\n", l.trim_end())).collect();
///         Ok(ToolFix { text, tools: vec!["tidy".into()] })
///     }
///     async fn findings(&self, _path: &Path, text: &str) -> Result<Vec<Finding>> {
///         Ok(text.lines().enumerate().filter(|(_, l)| l.contains('\t')).map(|(n, _)| Finding {
///             rule: "W191".into(), line: n + 1, symbol: None, message: "tab".into(),
///         }).collect())
///     }
/// }
/// ```
#[async_trait]
pub trait Fixer: Send + Sync {
    /// The tools' fixes of `text` (the file `path`, repo-relative). Only fixes the tools
    /// classify as keeping behaviour; the pipeline still has them proven before they count.
    async fn fix(&self, path: &Path, text: &str) -> Result<ToolFix>;

    /// What the tools still report on `text` (symbols are filled in by the pipeline).
    async fn findings(&self, path: &Path, text: &str) -> Result<Vec<Finding>>;
}
