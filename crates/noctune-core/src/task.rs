//! Per-task (per-file) state, kept under `state/tasks/<task_id>.json`.

use std::path::PathBuf;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{ApprovalId, TaskId};
use crate::label::Label;

/// Where a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Not started.
    Pending,
    /// A worker is on it.
    Running,
    /// A change waits for a human decision; a resume of the run applies it once approved
    /// (`allow_apply = true`).
    WaitingApproval,
    /// A change is in the approvals queue of a run that does not apply (`allow_apply = false`):
    /// `noctune apply` applies it once approved (or when the pack would auto-approve it). The
    /// task is over for the run.
    Queued,
    /// The change was refused: by the approver, by the pack's rules (a policy violation) or by
    /// a human. The real file is untouched; the proposal is kept.
    Rejected,
    /// `noctune restore` put the file back as it was before the run.
    Restored,
    /// Done: label `W`, or `max_passes` reached.
    Done,
    /// The pass produced a proposal that cannot be applied (the gates still fail after the
    /// repair ladder); the task is over.
    Proposed,
    /// Skipped by the user or by policy.
    Skipped,
    /// The real file changed since the run read it; nothing was applied.
    Conflict,
    /// A stage failed; `error` says why.
    Failed,
}

/// The next step of a task within its current pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStage {
    /// Review the file (`review.md`).
    #[default]
    Review,
    /// Plan targets and draft code (`draft.json`, `impact.json`).
    Draft,
    /// Edit the targets on the work copy (`edit_*_p<N>`).
    Edit,
    /// Run the gates and the repair ladder on the work copy.
    Gates,
    /// Ask the approver and the policy pack.
    Approve,
    /// Replace the real file (or keep the proposal).
    Apply,
    /// The pass is over.
    Done,
}

impl TaskStage {
    /// The stage as written in task states and shown in progress lines.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStage::Review => "review",
            TaskStage::Draft => "draft",
            TaskStage::Edit => "edit",
            TaskStage::Gates => "gates",
            TaskStage::Approve => "approve",
            TaskStage::Apply => "apply",
            TaskStage::Done => "done",
        }
    }
}

impl std::fmt::Display for TaskStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of one task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskState {
    /// The task's id.
    pub task_id: TaskId,
    /// The file, relative to the repository root.
    pub file: PathBuf,
    /// Where the task is.
    pub status: TaskStatus,
    /// The current pass, from 1.
    pub pass: u32,
    /// The next step within the pass.
    #[serde(default)]
    pub stage: TaskStage,
    /// The latest review label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<Label>,
    /// SHA-256 of the file content the current pass read (the apply precondition).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_hash: Option<String>,
    /// The approval the task waits on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<ApprovalId>,
    /// Human guidance for the next prompt (given at a Ctrl+C pause).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidance: Option<String>,
    /// Why the task failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When the state last changed.
    #[schemars(with = "String")]
    pub updated_at: Timestamp,
}

impl TaskState {
    /// A new, pending task for a file.
    pub fn new(file: PathBuf) -> Self {
        Self {
            task_id: TaskId::for_path(&file),
            file,
            status: TaskStatus::Pending,
            pass: 1,
            stage: TaskStage::Review,
            label: None,
            read_hash: None,
            approval_id: None,
            guidance: None,
            error: None,
            updated_at: Timestamp::now(),
        }
    }
}
