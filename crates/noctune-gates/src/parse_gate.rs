//! The parse gate: is the file valid Python for the repository's target version?
//!
//! The authority is ruff's parser (its `invalid-syntax` diagnostics), which agrees with
//! CPython's `ast.parse` where tree-sitter does not (tree-sitter accepts most indentation
//! errors). Without ruff it is `ast.parse` through `python3`; with neither the gate answers
//! [`GateOutcome::Undecided`] and nothing may be applied.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use noctune_core::{Diagnostic, Gate, GateInput, GateOutcome, GateReport, Location, SymbolEditor};

use crate::config::ProjectConfig;
use crate::error::Result;
use crate::matching::{assign_symbols, mark_introduced};
use crate::target::Target;
use crate::tools::{Python3, Ruff, RuffMode, Tools};

/// The gate's name in reports.
pub const PARSE_GATE: &str = "parse";

/// Who decides whether a text parses.
#[derive(Debug, Clone)]
pub enum ParseBackend {
    /// ruff's parser (`invalid-syntax`).
    Ruff(Ruff),
    /// CPython's `ast.parse`.
    Python(Python3),
    /// Nothing: every verdict is [`GateOutcome::Undecided`].
    Unavailable,
}

impl ParseBackend {
    /// ruff when there is one, else python3, else nothing.
    pub fn from_tools(tools: &Tools) -> Self {
        match (&tools.ruff, &tools.python) {
            (Some(ruff), _) => Self::Ruff(ruff.clone()),
            (None, Some(python)) => Self::Python(python.clone()),
            (None, None) => Self::Unavailable,
        }
    }

    /// The tool and version, for reports (`ruff 0.17.5`, `Python 3.11.7 ast.parse`).
    pub fn tool(&self) -> Option<String> {
        match self {
            Self::Ruff(ruff) => Some(ruff.version().to_owned()),
            Self::Python(python) => Some(format!("{} ast.parse", python.banner())),
            Self::Unavailable => None,
        }
    }
}

/// The exact syntax verdict on a whole file held in memory.
pub struct ParseGate {
    backend: ParseBackend,
    config: Arc<ProjectConfig>,
    editor: Option<Arc<dyn SymbolEditor>>,
}

impl std::fmt::Debug for ParseGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParseGate")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl ParseGate {
    /// A parse gate deciding with `backend`, reading the target version from `config`.
    pub fn new(backend: ParseBackend, config: Arc<ProjectConfig>) -> Self {
        Self {
            backend,
            config,
            editor: None,
        }
    }

    /// Names the symbol each syntax error falls in.
    pub fn with_editor(mut self, editor: Arc<dyn SymbolEditor>) -> Self {
        self.editor = Some(editor);
        self
    }

    /// Who decides.
    pub fn backend(&self) -> &ParseBackend {
        &self.backend
    }

    /// The syntax errors of `text` as the file `path`: empty when it parses, `None` when no
    /// parser is available.
    pub async fn syntax_errors(
        &self,
        path: &Path,
        text: &str,
        target: &Target,
    ) -> Result<Option<Vec<Diagnostic>>> {
        let errors = match &self.backend {
            ParseBackend::Ruff(ruff) => ruff
                .check(
                    self.config.root(),
                    path,
                    text,
                    target.version,
                    RuffMode::SyntaxOnly,
                )
                .await?
                .into_iter()
                .filter(|d| d.is_syntax_error())
                .map(|d| d.to_diagnostic())
                .collect(),
            ParseBackend::Python(python) => python
                .parse(text, target.version, path)
                .await?
                .map(|err| Diagnostic {
                    code: Some("syntax-error".to_owned()),
                    message: err.message,
                    location: err.line.map(|line| Location {
                        line,
                        column: err.column.unwrap_or(1).max(1),
                    }),
                    end_location: None,
                    symbol: None,
                    introduced: false,
                    fixable: false,
                })
                .into_iter()
                .collect(),
            ParseBackend::Unavailable => return Ok(None),
        };
        Ok(Some(errors))
    }

    async fn judge(&self, input: GateInput<'_>) -> Result<GateReport> {
        let file_config = self.config.for_file(input.path)?;
        let target = &file_config.target;
        let tool = self.backend.tool();
        let Some(mut errors) = self.syntax_errors(input.path, input.after, target).await? else {
            return Ok(GateReport {
                gate: PARSE_GATE.to_owned(),
                outcome: GateOutcome::Undecided,
                diagnostics: Vec::new(),
                summary: "cannot decide: neither ruff nor python3 is on PATH".to_owned(),
                tool: None,
                config_hash: None,
            });
        };
        if errors.is_empty() {
            let mut report = GateReport::pass(
                PARSE_GATE,
                format!("valid Python {} ({})", target.version, target.source),
            );
            report.tool = tool;
            return Ok(report);
        }
        if let Some(editor) = &self.editor {
            assign_symbols(editor.as_ref(), input.after, &mut errors);
        }
        let before_errors = match input.before {
            Some(before) => {
                let mut found = self
                    .syntax_errors(input.path, before, target)
                    .await?
                    .unwrap_or_default();
                if let Some(editor) = &self.editor {
                    assign_symbols(editor.as_ref(), before, &mut found);
                }
                found
            }
            None => Vec::new(),
        };
        mark_introduced(&before_errors, &mut errors);
        let first = &errors[0];
        let at = first
            .location
            .map(|l| format!(" at {}:{}", l.line, l.column))
            .unwrap_or_default();
        let summary = format!(
            "invalid Python {} syntax{at}: {}{}",
            target.version,
            first.message,
            if errors.len() > 1 {
                format!(" (and {} more)", errors.len() - 1)
            } else {
                String::new()
            }
        );
        let mut report = GateReport::fail(PARSE_GATE, summary, errors);
        report.tool = tool;
        Ok(report)
    }
}

#[async_trait]
impl Gate for ParseGate {
    fn name(&self) -> &str {
        PARSE_GATE
    }

    async fn check(&self, input: GateInput<'_>) -> noctune_core::Result<GateReport> {
        self.judge(input)
            .await
            .map_err(|err| crate::error::gate_error(PARSE_GATE, err))
    }
}
