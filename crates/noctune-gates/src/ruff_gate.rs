//! The ruff gate: `ruff check` with the repository's own configuration, blocking only on
//! diagnostics the change introduced (see [`crate::matching`]).

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use noctune_core::{Diagnostic, Gate, GateInput, GateOutcome, GateReport, SymbolEditor};

use crate::config::ProjectConfig;
use crate::error::Result;
use crate::matching::{assign_symbols, mark_introduced};
use crate::target::PythonVersion;
use crate::tools::{Ruff, RuffMode};

/// The gate's name in reports.
pub const RUFF_GATE: &str = "ruff";

/// Lint diagnostics of a text, syntax errors set apart.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LintResult {
    /// Every lint diagnostic, with its symbol when an editor is set.
    pub diagnostics: Vec<Diagnostic>,
    /// Whether ruff found syntax errors (those belong to the parse gate).
    pub syntax_errors: usize,
}

/// `ruff check --output-format json`, honouring the repository's ruff configuration.
pub struct RuffGate {
    ruff: Ruff,
    config: Arc<ProjectConfig>,
    editor: Option<Arc<dyn SymbolEditor>>,
}

impl std::fmt::Debug for RuffGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuffGate")
            .field("ruff", &self.ruff)
            .finish_non_exhaustive()
    }
}

impl RuffGate {
    /// A ruff gate; `config` gives each file's target version and config hash.
    pub fn new(ruff: Ruff, config: Arc<ProjectConfig>) -> Self {
        Self {
            ruff,
            config,
            editor: None,
        }
    }

    /// Maps diagnostics to symbols with this editor (without one, every diagnostic counts as
    /// module-level and matching is by rule alone).
    pub fn with_editor(mut self, editor: Arc<dyn SymbolEditor>) -> Self {
        self.editor = Some(editor);
        self
    }

    /// The ruff in use.
    pub fn ruff(&self) -> &Ruff {
        &self.ruff
    }

    /// Lints `text` as the file `path`.
    pub async fn lint(&self, path: &Path, text: &str, target: PythonVersion) -> Result<LintResult> {
        let found = self
            .ruff
            .check(self.config.root(), path, text, target, RuffMode::RepoConfig)
            .await?;
        let syntax_errors = found.iter().filter(|d| d.is_syntax_error()).count();
        let mut diagnostics: Vec<_> = found
            .iter()
            .filter(|d| !d.is_syntax_error())
            .map(|d| d.to_diagnostic())
            .collect();
        if let Some(editor) = &self.editor {
            assign_symbols(editor.as_ref(), text, &mut diagnostics);
        }
        Ok(LintResult {
            diagnostics,
            syntax_errors,
        })
    }

    async fn judge(&self, input: GateInput<'_>) -> Result<GateReport> {
        let file_config = self.config.for_file(input.path)?;
        let target = file_config.target.version;
        let (after, before) = match input.before {
            Some(before) => {
                let (after, before) = tokio::join!(
                    self.lint(input.path, input.after, target),
                    self.lint(input.path, before, target)
                );
                (after?, Some(before?))
            }
            None => (self.lint(input.path, input.after, target).await?, None),
        };
        let mut report = if after.syntax_errors > 0 {
            GateReport {
                gate: RUFF_GATE.to_owned(),
                outcome: GateOutcome::Undecided,
                diagnostics: Vec::new(),
                summary: format!(
                    "cannot lint: {} syntax error(s); the parse gate reports them",
                    after.syntax_errors
                ),
                tool: None,
                config_hash: None,
            }
        } else {
            let mut diagnostics = after.diagnostics;
            let before = before.map(|b| b.diagnostics).unwrap_or_default();
            mark_introduced(&before, &mut diagnostics);
            let introduced = diagnostics.iter().filter(|d| d.introduced).count();
            let existing = diagnostics.len() - introduced;
            let summary = match (introduced, existing) {
                (0, 0) => "no diagnostics".to_owned(),
                (0, existing) => format!("no new diagnostics ({existing} already there)"),
                (introduced, existing) => {
                    format!("{introduced} new diagnostic(s) ({existing} already there)")
                }
            };
            let outcome = if introduced == 0 {
                GateOutcome::Pass
            } else {
                GateOutcome::Fail
            };
            GateReport {
                gate: RUFF_GATE.to_owned(),
                outcome,
                diagnostics,
                summary,
                tool: None,
                config_hash: None,
            }
        };
        report.tool = Some(self.ruff.version().to_owned());
        report.config_hash = Some(file_config.config_hash.clone());
        Ok(report)
    }
}

#[async_trait]
impl Gate for RuffGate {
    fn name(&self) -> &str {
        RUFF_GATE
    }

    async fn check(&self, input: GateInput<'_>) -> noctune_core::Result<GateReport> {
        self.judge(input)
            .await
            .map_err(|err| crate::error::gate_error(RUFF_GATE, err))
    }
}
