//! The gates in the order the pipeline runs them: parse, then ruff, then any gate an embedder
//! adds with [`Gates::with_gate`]. The repair ladder works over all of them.

use std::path::PathBuf;
use std::sync::Arc;

use noctune_core::{Diagnostic, Gate, GateInput, GateOutcome, GateReport, SymbolEditor};
use serde::{Deserialize, Serialize};

use crate::config::ProjectConfig;
use crate::error::Result;
use crate::parse_gate::{ParseBackend, ParseGate};
use crate::ruff_gate::{RUFF_GATE, RuffGate};
use crate::tools::Tools;

/// The parse gate, the ruff gate when ruff is available (sharing one configuration), and the
/// embedder's own gates, in order.
pub struct Gates {
    parse: ParseGate,
    ruff: Option<RuffGate>,
    extra: Vec<Arc<dyn Gate>>,
    tools: Tools,
    config: Arc<ProjectConfig>,
}

impl std::fmt::Debug for Gates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let extra: Vec<&str> = self.extra.iter().map(|g| g.name()).collect();
        f.debug_struct("Gates")
            .field("parse", &self.parse)
            .field("ruff", &self.ruff)
            .field("extra", &extra)
            .field("tools", &self.tools)
            .finish_non_exhaustive()
    }
}

/// What the gates said about one text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateRun {
    /// One report per gate that ran, in order. The ruff gate does not run on a text that
    /// does not parse.
    pub reports: Vec<GateReport>,
}

impl GateRun {
    /// Whether every gate passed.
    pub fn passed(&self) -> bool {
        self.reports.iter().all(GateReport::passed)
    }

    /// The diagnostics that block: the introduced ones of the gates that did not pass.
    pub fn blocking(&self) -> Vec<&Diagnostic> {
        self.reports
            .iter()
            .filter(|r| !r.passed())
            .flat_map(|r| r.diagnostics.iter().filter(|d| d.introduced))
            .collect()
    }

    /// The blocking diagnostics of one gate.
    pub fn blocking_of(&self, gate: &str) -> Vec<&Diagnostic> {
        self.reports
            .iter()
            .filter(|r| r.gate == gate && !r.passed())
            .flat_map(|r| r.diagnostics.iter().filter(|d| d.introduced))
            .collect()
    }

    /// The set of blocking diagnostics as comparable keys (rule, symbol, message), sorted: the
    /// repair ladder stops when it sees the same set twice.
    pub fn fingerprint(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .reports
            .iter()
            .filter(|r| r.outcome == GateOutcome::Undecided)
            .map(|r| format!("{}: undecided", r.gate))
            .chain(self.blocking().into_iter().map(|d| {
                format!(
                    "{}|{}|{}",
                    d.code.as_deref().unwrap_or(""),
                    d.symbol.as_deref().unwrap_or(""),
                    d.message
                )
            }))
            .collect();
        keys.sort();
        keys
    }

    /// The one-line summaries of the gates that did not pass.
    pub fn failure_summary(&self) -> String {
        self.reports
            .iter()
            .filter(|r| !r.passed())
            .map(|r| format!("{}: {}", r.gate, r.summary))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl Gates {
    /// Finds the tools (a missing ruff with `ruff_required` is [`Error::RuffMissing`]) and
    /// builds the gates for the repository at `root`.
    ///
    /// [`Error::RuffMissing`]: crate::Error::RuffMissing
    pub async fn detect(
        root: impl Into<PathBuf>,
        ruff_required: bool,
        editor: Option<Arc<dyn SymbolEditor>>,
    ) -> Result<Self> {
        let tools = Tools::detect(ruff_required).await?;
        Ok(Self::from_tools(root, tools, editor))
    }

    /// Builds the gates from tools already found.
    pub fn from_tools(
        root: impl Into<PathBuf>,
        tools: Tools,
        editor: Option<Arc<dyn SymbolEditor>>,
    ) -> Self {
        let interpreter = tools.python.as_ref().map(|p| p.version());
        let config = Arc::new(ProjectConfig::new(root, interpreter));
        let mut parse = ParseGate::new(ParseBackend::from_tools(&tools), config.clone());
        let mut ruff = tools
            .ruff
            .clone()
            .map(|ruff| RuffGate::new(ruff, config.clone()));
        if let Some(editor) = editor {
            parse = parse.with_editor(editor.clone());
            ruff = ruff.map(|gate| gate.with_editor(editor));
        }
        Self {
            parse,
            ruff,
            extra: Vec::new(),
            tools,
            config,
        }
    }

    /// Adds a gate after parse and ruff (and after the gates added before it). It runs only on
    /// a text that parses; its failing verdict blocks the change like theirs, and its
    /// introduced diagnostics reach the repair ladder's model step.
    #[must_use]
    pub fn with_gate(mut self, gate: Arc<dyn Gate>) -> Self {
        self.extra.push(gate);
        self
    }

    /// The tools in use.
    pub fn tools(&self) -> &Tools {
        &self.tools
    }

    /// The per-file configuration resolver.
    pub fn config(&self) -> &Arc<ProjectConfig> {
        &self.config
    }

    /// The parse gate.
    pub fn parse_gate(&self) -> &ParseGate {
        &self.parse
    }

    /// The ruff gate, when ruff is available.
    pub fn ruff_gate(&self) -> Option<&RuffGate> {
        self.ruff.as_ref()
    }

    /// Runs the parse gate, then (when the text parses) the ruff gate and the added gates, in
    /// order. Every gate that runs reports, so one repair step sees every failure at once.
    pub async fn run(&self, input: GateInput<'_>) -> noctune_core::Result<GateRun> {
        let parse = self.parse.check(input).await?;
        let parsed = parse.passed();
        let mut reports = vec![parse];
        if parsed {
            match &self.ruff {
                Some(ruff) => reports.push(ruff.check(input).await?),
                None => reports.push(GateReport::pass(
                    RUFF_GATE,
                    "skipped: ruff is not on PATH and ruff_required = false",
                )),
            }
            for gate in &self.extra {
                reports.push(gate.check(input).await?);
            }
        }
        Ok(GateRun { reports })
    }
}
