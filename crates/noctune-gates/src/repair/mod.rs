//! The repair ladder: bring a changed file through the gates, in order, stopping as soon as
//! they pass: (a) deterministic heuristics, (b) `ruff check --fix` with safe fixes only,
//! (c) a micro-LLM repair of the changed symbols. A step that makes things worse is undone;
//! the same set of blocking diagnostics seen twice stops the ladder (oscillation); the LLM step
//! runs at most [`RepairConfig::llm_attempts`] times. Every step is recorded.

mod fence;
pub mod heuristics;
pub mod llm;
pub mod ruff_fix;

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use noctune_core::prompts::Prompts;
use noctune_core::{Diagnostic, GateInput, LlmClient, SymbolEditor};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::gates::{GateRun, Gates};

/// `--ruff-fix safe|off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuffFix {
    /// `ruff check --fix` with safe fixes only (never `--unsafe-fixes`).
    #[default]
    Safe,
    /// Skip step (b).
    Off,
}

impl FromStr for RuffFix {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "safe" => Ok(Self::Safe),
            "off" => Ok(Self::Off),
            other => Err(format!("expected `safe` or `off`, found `{other}`")),
        }
    }
}

/// How the ladder runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairConfig {
    /// Step (b) on or off.
    pub ruff_fix: RuffFix,
    /// How many times step (c) may run (0: never).
    pub llm_attempts: u32,
    /// The context budget every step (c) prompt must fit, in tokens.
    pub context_tokens: u32,
    /// `max_tokens` of a step (c) answer: the whole repaired symbol must fit in it.
    pub max_tokens: u32,
}

impl Default for RepairConfig {
    fn default() -> Self {
        Self {
            ruff_fix: RuffFix::Safe,
            llm_attempts: 2,
            context_tokens: 8192,
            max_tokens: 1024,
        }
    }
}

/// A rung of the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// (a) Deterministic clean-up.
    Heuristics,
    /// (b) `ruff check --fix`, safe fixes only.
    RuffFix,
    /// (c) Micro-LLM repair of changed symbols.
    Llm,
}

/// What happened at one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairStep {
    /// The rung.
    pub kind: StepKind,
    /// What it changed, or why it changed nothing or was skipped.
    pub notes: Vec<String>,
    /// Whether its result was kept.
    pub kept: bool,
    /// The blocking diagnostics after the step (empty when the gates pass).
    pub remaining: Vec<Diagnostic>,
}

/// How the ladder ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairOutcome {
    /// The text passed the gates before any step.
    AlreadyPassing,
    /// A step made the gates pass.
    Repaired,
    /// The same blocking diagnostics came back: stopped instead of looping.
    Oscillation,
    /// Every step was tried and the gates still fail.
    Exhausted,
}

/// The ladder's record (written as the repair artifact by the pipeline).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepairReport {
    /// How it ended.
    pub outcome: RepairOutcome,
    /// Each step in order.
    pub steps: Vec<RepairStep>,
    /// The gates' verdict on the final text.
    pub gates: GateRun,
    /// The final text (repaired, or the best attempt when not).
    pub text: String,
}

impl RepairReport {
    /// Whether the final text passes the gates.
    pub fn passed(&self) -> bool {
        self.gates.passed()
    }
}

/// What to repair.
#[derive(Debug, Clone, Copy)]
pub struct RepairInput<'a> {
    /// The file, relative to the repository root.
    pub path: &'a Path,
    /// The text before the change (`None`: repair the file as it is).
    pub before: Option<&'a str>,
    /// The changed text that fails the gates.
    pub after: &'a str,
}

/// The repair ladder over a set of gates.
pub struct RepairLadder {
    gates: Arc<Gates>,
    editor: Arc<dyn SymbolEditor>,
    llm: Option<(Arc<dyn LlmClient>, Prompts)>,
    config: RepairConfig,
}

impl std::fmt::Debug for RepairLadder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RepairLadder")
            .field("gates", &self.gates)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl RepairLadder {
    /// A ladder without the LLM step.
    pub fn new(gates: Arc<Gates>, editor: Arc<dyn SymbolEditor>, config: RepairConfig) -> Self {
        Self {
            gates,
            editor,
            llm: None,
            config,
        }
    }

    /// Enables step (c) with this model and these prompts.
    pub fn with_llm(mut self, llm: Arc<dyn LlmClient>, prompts: Prompts) -> Self {
        self.llm = Some((llm, prompts));
        self
    }

    async fn gate(&self, input: &RepairInput<'_>, text: &str) -> Result<GateRun> {
        Ok(self
            .gates
            .run(GateInput {
                path: input.path,
                before: input.before,
                after: text,
            })
            .await?)
    }

    /// Runs the ladder.
    pub async fn repair(&self, input: RepairInput<'_>) -> Result<RepairReport> {
        let mut run = self.gate(&input, input.after).await?;
        let mut text = input.after.to_owned();
        let mut steps = Vec::new();
        if run.passed() {
            return Ok(RepairReport {
                outcome: RepairOutcome::AlreadyPassing,
                steps,
                gates: run,
                text,
            });
        }
        let mut seen: HashSet<Vec<String>> = HashSet::from([run.fingerprint()]);
        let changed = self.changed_symbols(input.before, input.after);

        let mut plan = vec![StepKind::Heuristics, StepKind::RuffFix];
        plan.extend(std::iter::repeat_n(
            StepKind::Llm,
            self.config.llm_attempts as usize,
        ));
        for kind in plan {
            let (candidate, mut notes) =
                match self.step(kind, &input, &text, &run, &changed).await? {
                    Some(found) => found,
                    None => continue,
                };
            if candidate == text {
                if notes.is_empty() {
                    notes.push("nothing to change".to_owned());
                }
                steps.push(RepairStep {
                    kind,
                    notes,
                    kept: false,
                    remaining: owned(run.blocking()),
                });
                continue;
            }
            let next = self.gate(&input, &candidate).await?;
            if next.passed() {
                steps.push(RepairStep {
                    kind,
                    notes,
                    kept: true,
                    remaining: Vec::new(),
                });
                return Ok(RepairReport {
                    outcome: RepairOutcome::Repaired,
                    steps,
                    gates: next,
                    text: candidate,
                });
            }
            let worse = worse_than(&next, &run);
            let fingerprint = next.fingerprint();
            let repeated = !seen.insert(fingerprint);
            if worse {
                notes.push("undone: it made the gates' verdict worse".to_owned());
            }
            steps.push(RepairStep {
                kind,
                notes,
                kept: !worse,
                remaining: owned(next.blocking()),
            });
            if !worse {
                text = candidate;
                run = next;
            }
            if repeated {
                return Ok(RepairReport {
                    outcome: RepairOutcome::Oscillation,
                    steps,
                    gates: run,
                    text,
                });
            }
        }
        Ok(RepairReport {
            outcome: RepairOutcome::Exhausted,
            steps,
            gates: run,
            text,
        })
    }

    /// Runs one step; `None` when the step is not configured at all (no LLM).
    async fn step(
        &self,
        kind: StepKind,
        input: &RepairInput<'_>,
        text: &str,
        run: &GateRun,
        changed: &Option<Vec<String>>,
    ) -> Result<Option<(String, Vec<String>)>> {
        match kind {
            StepKind::Heuristics => {
                let cleaned = heuristics::clean(input.before, text);
                Ok(Some((cleaned.text, cleaned.notes)))
            }
            StepKind::RuffFix => {
                if self.config.ruff_fix == RuffFix::Off {
                    return Ok(Some((
                        text.to_owned(),
                        vec!["skipped: --ruff-fix off".into()],
                    )));
                }
                let Some(ruff) = self.gates.ruff_for_fix() else {
                    let why = if self.gates.tools().ruff.is_some() {
                        "skipped: `ruff fix` is not in tools_allowed"
                    } else {
                        "skipped: no ruff"
                    };
                    return Ok(Some((text.to_owned(), vec![why.into()])));
                };
                if !run
                    .reports
                    .iter()
                    .all(|r| r.gate != crate::PARSE_GATE || r.passed())
                {
                    return Ok(Some((
                        text.to_owned(),
                        vec!["skipped: ruff fixes nothing in a file that does not parse".into()],
                    )));
                }
                let target = self.gates.config().for_file(input.path)?.target.version;
                // Only ruff's own diagnostics: another gate's codes mean nothing to ruff.
                let blocking = owned(run.blocking_of(crate::ruff_gate::RUFF_GATE));
                let outcome = ruff_fix::fix(
                    ruff,
                    self.gates.config().root(),
                    input.path,
                    text,
                    target,
                    &blocking,
                    self.editor.as_ref(),
                )
                .await?;
                Ok(Some((outcome.text, outcome.notes)))
            }
            StepKind::Llm => {
                let Some((llm, prompts)) = &self.llm else {
                    return Ok(None);
                };
                let step = llm::LlmRepair {
                    llm: llm.as_ref(),
                    prompts,
                    editor: self.editor.as_ref(),
                    path: input.path,
                    changed: changed.as_deref(),
                    context_tokens: self.config.context_tokens,
                    max_tokens: self.config.max_tokens,
                };
                let outcome = step.run(text, &owned(run.blocking())).await?;
                Ok(Some((outcome.text, outcome.notes)))
            }
        }
    }

    /// The symbols whose text differs between `before` and `after` (or are new); `None`
    /// without a `before` (every symbol may be repaired).
    fn changed_symbols(&self, before: Option<&str>, after: &str) -> Option<Vec<String>> {
        let before = before?;
        let slice = |text: &str, start: usize, end: usize| -> String {
            text.lines()
                .skip(start.saturating_sub(1))
                .take(end + 1 - start.max(1))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let old = self.editor.outline(before).ok()?;
        let new = self.editor.outline(after).ok()?;
        Some(
            new.symbols
                .iter()
                .filter(|s| {
                    old.symbol(&s.name).is_none_or(|o| {
                        slice(before, o.start_line, o.end_line)
                            != slice(after, s.start_line, s.end_line)
                    })
                })
                .map(|s| s.name.clone())
                .collect(),
        )
    }
}

fn owned(diagnostics: Vec<&Diagnostic>) -> Vec<Diagnostic> {
    diagnostics.into_iter().cloned().collect()
}

/// Worse: it stopped parsing, or has more blocking diagnostics.
fn worse_than(next: &GateRun, current: &GateRun) -> bool {
    let parses = |run: &GateRun| {
        run.reports
            .iter()
            .find(|r| r.gate == crate::PARSE_GATE)
            .is_some_and(|r| r.passed())
    };
    (parses(current) && !parses(next)) || next.blocking().len() > current.blocking().len()
}
