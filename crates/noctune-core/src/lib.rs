//! Noctune's core: the domain types, the extension traits, configuration, prompts and the run
//! store that every other Noctune crate builds on.
//!
//! Embedders depend on this crate alone. It pulls in nothing heavy: no tree-sitter, no SQLite,
//! no HTTP client, no CLI parser. The traits are the public extension points:
//!
//! | trait | what it does | implemented in |
//! | --- | --- | --- |
//! | [`LlmClient`] | one chat completion, streamed or not | `noctune-llm` |
//! | [`Gate`] | a verdict on a file's text (parse, lint, your own) | `noctune-gates` |
//! | [`SymbolEditor`] | find symbols and apply edit ops to a source text | `noctune-index` |
//! | [`Approver`] | approve or reject a before/after change set | [`approvers`]: proofs and signals, the model, a chain |
//! | [`PolicyPack`] | which paths, sizes and tools a run may touch | `noctune-gates` |
//! | [`Prover`] | a deterministic proof that a change keeps behaviour | `noctune-gates` |
//!
//! Each is object safe and `Send + Sync`, so it can be shared as `Arc<dyn Trait>`.

pub mod answer;
pub mod approval;
pub mod approver;
pub mod approvers;
pub mod config;
pub mod editor;
pub mod error;
pub mod event;
pub mod facts;
pub mod gate;
pub mod ids;
pub mod indent;
pub mod init;
pub mod label;
pub mod lines;
pub mod llm;
pub mod morning;
pub mod pipeline;
pub mod policy;
pub mod process;
pub mod prompts;
pub mod prover;
pub mod report;
pub mod request;
pub mod run;
pub mod run_origin;
pub mod stage;
pub mod store;
pub mod symbol;
pub mod task;
pub mod test_command;
pub mod tool;

pub use approval::{Approval, Decision, DecisionKind};
pub use approver::{
    ApproveInput, ApproveModel, Approver, ApproverVerdict, ChangeSet, RiskSignal, RiskSignalKind,
    SymbolChange, Verdict,
};
pub use config::{ConfigError, EnvOverrides, Settings};
pub use editor::{ApplyReport, EditOp, EditResult, Outline, RefusalReason, SymbolEditor};
pub use error::{Error, Result};
pub use event::{Event, EventType};
pub use gate::{Diagnostic, Gate, GateInput, GateOutcome, GateReport, Location};
pub use ids::{ApprovalId, RunId, TaskId};
pub use label::Label;
pub use llm::{
    AnswerFormat, ChatMessage, ChatRequest, ChatResponse, FinishReason, LlmClient, LlmError,
    LlmErrorKind, Role, ToolCall, ToolSpec, Usage,
};
pub use policy::{PolicyDecision, PolicyInput, PolicyPack, PolicyRule, PolicyViolation};
pub use prover::{Proof, ProofInput, Prover};
pub use run::{ResumePolicy, RunRecord, RunStatus};
pub use stage::Stage;
pub use symbol::{Import, Symbol, SymbolKind};
pub use task::{TaskStage, TaskState, TaskStatus};
