//! Events: one JSON object per line in `logs/events.jsonl`, `idx` increasing.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::TaskId;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// `run.json` was created.
    RunCreated,
    /// A worker started (or resumed) driving the run.
    RunStarted,
    /// A stop was asked for.
    RunStopping,
    /// The run stopped on request.
    Stopped,
    /// Every task finished.
    RunCompleted,
    /// The run failed.
    RunFailed,
    /// A stale lock from a dead process was taken over.
    LockRecovered,
    /// A task started a pass.
    TaskStarted,
    /// A stage started.
    StageStarted,
    /// A stage finished and wrote its artifact.
    StageFinished,
    /// A stage was skipped because its artifact exists.
    StageReused,
    /// A gate failed.
    GateFailed,
    /// A repair step ran.
    RepairStep,
    /// A change broke a policy rule and was refused.
    PolicyViolation,
    /// A tool not in `tools_allowed` was skipped.
    ToolSkipped,
    /// The pack's tests ran on a copy with a change in place (or the record says why not).
    TestsRun,
    /// A change was queued for a human.
    ApprovalQueued,
    /// A human decided.
    ApprovalDecided,
    /// A change was applied to the real file.
    Applied,
    /// A change was kept as a proposal that cannot be applied (the gates still fail).
    Proposed,
    /// A change was refused (by the approver, the pack's rules or a human); `why` says by whom.
    Rejected,
    /// `noctune restore` put a file back from the run's backup.
    Restored,
    /// The real file changed since the run read it.
    Conflict,
    /// A task finished.
    TaskFinished,
    /// A task failed.
    TaskFailed,
    /// Human guidance was added for a task.
    GuidanceAdded,
    /// A model call finished.
    LlmCall,
    /// A token or time budget ran out.
    BudgetExceeded,
    /// A model endpoint was taken out of the pool (down at the start, or failing calls).
    EndpointDown,
    /// A model endpoint's health check passed: it is back in the pool.
    EndpointUp,
    /// A model call that failed on one endpoint was sent to another.
    EndpointRetried,
    /// The load of each model endpoint over this session of the run: slots, calls, tokens,
    /// busy time, and the pool's utilisation.
    EndpointLoads,
    /// `noctune patchset commit` committed a patchset on the run's branch.
    PatchsetCommitted,
    /// `noctune patchset commit` made no commit for a patchset (a tool failed, a secret was
    /// found, nothing was left to commit); `why` says which.
    PatchsetBlocked,
}

/// One event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    /// Position in the log, from 1, strictly increasing across restarts.
    pub idx: u64,
    /// When it happened.
    #[schemars(with = "String")]
    pub ts: Timestamp,
    /// What happened.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// The task, for task events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<TaskId>,
    /// Details.
    #[serde(default)]
    pub payload: serde_json::Value,
}
