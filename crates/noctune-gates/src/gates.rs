//! The gates in the order the pipeline runs them: parse, then ruff, then any gate an embedder
//! adds with [`Gates::with_gate`]. The repair ladder works over all of them.

use std::path::PathBuf;
use std::sync::Arc;

use noctune_core::tool;
use noctune_core::{
    Diagnostic, Gate, GateInput, GateOutcome, GateReport, PolicyPack, SymbolEditor,
};
use serde::{Deserialize, Serialize};

use crate::config::ProjectConfig;
use crate::error::Result;
use crate::parse_gate::{ParseBackend, ParseGate};
use crate::ruff_gate::{RUFF_GATE, RuffGate};
use crate::tools::{Ruff, Tools};

/// Which ruff commands the gates may run: a policy pack's `tools_allowed`, read once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuffCommands {
    /// `ruff check`: the lint gate, the parse gate through ruff's parser, the lint proofs.
    pub check: bool,
    /// `ruff fix`: the repair ladder's `ruff check --fix` step.
    pub fix: bool,
}

impl RuffCommands {
    /// Every ruff command.
    pub const ALL: Self = Self {
        check: true,
        fix: true,
    };

    /// What `pack` allows (`ruff` in `tools_allowed` allows both).
    pub fn allowed_by(pack: &dyn PolicyPack) -> Self {
        Self {
            check: pack.allows_tool(tool::RUFF_CHECK),
            fix: pack.allows_tool(tool::RUFF_FIX),
        }
    }
}

/// The parse gate, the ruff gate when ruff is available and allowed (sharing one
/// configuration), and the embedder's own gates, in order.
pub struct Gates {
    parse: ParseGate,
    ruff: Option<RuffGate>,
    ruff_fix: Option<Ruff>,
    ruff_check_allowed: bool,
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
            .field("ruff_fix", &self.ruff_fix)
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
        Self::detect_allowed(root, ruff_required, editor, RuffCommands::ALL).await
    }

    /// [`Gates::detect`] limited to the ruff commands a policy pack allows. Without `ruff
    /// check` there is no lint gate and the parse gate asks `python3`'s `ast.parse`; with no
    /// ruff command at all ruff is not even looked for (and `ruff_required` does not apply).
    pub async fn detect_allowed(
        root: impl Into<PathBuf>,
        ruff_required: bool,
        editor: Option<Arc<dyn SymbolEditor>>,
        allowed: RuffCommands,
    ) -> Result<Self> {
        let tools = if allowed.check || allowed.fix {
            Tools::detect(ruff_required).await?
        } else {
            Tools::detect_without_ruff().await
        };
        Ok(Self::from_tools_allowed(root, tools, editor, allowed))
    }

    /// Builds the gates from tools already found.
    pub fn from_tools(
        root: impl Into<PathBuf>,
        tools: Tools,
        editor: Option<Arc<dyn SymbolEditor>>,
    ) -> Self {
        Self::from_tools_allowed(root, tools, editor, RuffCommands::ALL)
    }

    /// [`Gates::from_tools`] limited to the ruff commands a policy pack allows.
    pub fn from_tools_allowed(
        root: impl Into<PathBuf>,
        tools: Tools,
        editor: Option<Arc<dyn SymbolEditor>>,
        allowed: RuffCommands,
    ) -> Self {
        let interpreter = tools.python.as_ref().map(|p| p.version());
        let config = Arc::new(ProjectConfig::new(root, interpreter));
        let checking = Tools {
            ruff: tools.ruff.clone().filter(|_| allowed.check),
            python: tools.python.clone(),
        };
        let mut parse = ParseGate::new(ParseBackend::from_tools(&checking), config.clone());
        let mut ruff = checking
            .ruff
            .map(|ruff| RuffGate::new(ruff, config.clone()));
        let ruff_fix = tools.ruff.clone().filter(|_| allowed.fix);
        if let Some(editor) = editor {
            parse = parse.with_editor(editor.clone());
            ruff = ruff.map(|gate| gate.with_editor(editor));
        }
        Self {
            parse,
            ruff,
            ruff_fix,
            ruff_check_allowed: allowed.check,
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

    /// The ruff gate, when ruff is available and `ruff check` allowed.
    pub fn ruff_gate(&self) -> Option<&RuffGate> {
        self.ruff.as_ref()
    }

    /// The ruff the repair ladder's fix step runs, when ruff is available and `ruff fix`
    /// allowed.
    pub fn ruff_for_fix(&self) -> Option<&Ruff> {
        self.ruff_fix.as_ref()
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
                // Not allowed by the pack: no report (the run logs a `tool_skipped` event).
                None if !self.ruff_check_allowed => {}
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
