//! The per-file pipeline: review → draft → edit → gates → approve → apply, resumable.
//!
//! Each stage is one file and writes the artifacts SPEC §5 names; a stage whose artifact exists
//! is reused, so a resumed task continues where it stopped. The pipeline talks to the rest of
//! Noctune only through traits: [`LlmClient`], [`SymbolEditor`], [`Checker`],
//! [`EvidenceSource`], [`Approver`] and [`PolicyPack`].

pub mod apply;
pub mod approve;
pub mod artifacts;
pub mod check;
pub mod control;
pub mod draft;
mod drive;
mod edge_whitespace;
pub mod edit;
pub mod edit_answer;
mod endpoints;
pub mod fit;
pub mod fix;
pub mod fixer;
pub mod permit;
pub mod proven_part;
pub mod review;
pub mod risk;
pub mod run_loop;
mod services;
pub mod task;
pub mod tests_run;
mod transcript;
pub mod unasked_annotations;
pub mod window;

use std::path::PathBuf;
use std::sync::Arc;

pub use control::{BudgetExceeded, Checkpoint, Control, PauseAction, PauseHandler, StageObserver};
pub use drive::drive;
pub use edge_whitespace::is_edge_whitespace_only;
pub use fixer::{Finding, Fixer, ToolFix};
pub use run_loop::{Progress, RunSummary};
pub use services::{CheckOutcome, Checker, EvidenceReport, EvidenceSource};
pub use task::{PassOutcome, run_pass};

use crate::approver::Approver;
use crate::editor::SymbolEditor;
use crate::llm::LlmClient;
use crate::policy::PolicyPack;
use crate::prompts::Prompts;
use crate::stage::Stage;

/// Asked before the first real file of a run is replaced; `true` allows applying.
pub type Consent = Arc<dyn Fn(&std::path::Path) -> bool + Send + Sync>;

/// Everything a task needs, shared by all tasks of a run.
#[derive(Clone)]
pub struct Pipeline {
    /// The repository root (absolute).
    pub root: PathBuf,
    /// The model, per stage (stages without an entry use `llm`).
    pub llm: Arc<dyn LlmClient>,
    /// Stage-specific models (profiles).
    pub stage_llm: Vec<(Stage, Arc<dyn LlmClient>)>,
    /// Finds and edits symbols.
    pub editor: Arc<dyn SymbolEditor>,
    /// Gates and repair ladder.
    pub checker: Arc<dyn Checker>,
    /// The deterministic tools the pack allows, run before any model (`None`: the model does
    /// everything).
    pub fixer: Option<Arc<dyn Fixer>>,
    /// Evidence for the draft stage.
    pub evidence: Arc<dyn EvidenceSource>,
    /// Judges each change before the policy pack decides (see [`crate::approvers`]: proofs and
    /// signals, the model, or a chain of both; or an embedder's own).
    pub approver: Arc<dyn Approver>,
    /// Asked once before the first real file of the run is replaced (the interactive
    /// confirmation); `None` means no confirmation is needed (`--yes`).
    pub consent: Option<Consent>,
    /// The policy pack in force.
    pub pack: Arc<dyn PolicyPack>,
    /// Stage prompts.
    pub prompts: Prompts,
    /// Options.
    pub options: PipelineOptions,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("root", &self.root)
            .field("pack", &self.pack.name())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// What one pass of a task does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PassKind {
    /// Review, draft, edit, gates, approve, apply (`edit`, `run`).
    #[default]
    Full,
    /// The review only (`noctune review`).
    ReviewOnly,
    /// The file as it is through the gates and the repair ladder, then approve and apply
    /// (`noctune repair`).
    RepairOnly,
}

/// Knobs of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineOptions {
    /// Whether approved changes may replace real files.
    pub allow_apply: bool,
    /// The most review → apply passes per file.
    pub max_passes: u32,
    /// The context budget, in tokens.
    pub context_tokens: u32,
    /// `max_tokens` for structured answers (review, draft plan, approve).
    pub max_tokens_structured: u32,
    /// `max_tokens` for code answers.
    pub max_tokens_code: u32,
    /// Temperature of every call.
    pub temperature: f32,
    /// Combined risk-signal score at and above which a change always goes to a human.
    pub high_risk: f32,
    /// What one pass does.
    pub pass_kind: PassKind,
    /// Token and wall-clock budgets.
    pub budgets: crate::config::Budgets,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        Self {
            allow_apply: false,
            max_passes: 3,
            context_tokens: 8192,
            max_tokens_structured: 512,
            max_tokens_code: 1024,
            temperature: 0.2,
            high_risk: 0.5,
            pass_kind: PassKind::Full,
            budgets: crate::config::Budgets::default(),
        }
    }
}

impl Pipeline {
    /// The model a stage uses.
    pub fn llm_for(&self, stage: Stage) -> &dyn LlmClient {
        self.stage_llm
            .iter()
            .find(|(s, _)| *s == stage)
            .map(|(_, client)| client.as_ref())
            .unwrap_or(self.llm.as_ref())
    }
}
