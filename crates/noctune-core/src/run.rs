//! `run.json`: the single source of truth for a run's status.

use std::path::PathBuf;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::RunId;

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Created, not started yet.
    Queued,
    /// A process has taken the run and prepares it (the gates, the file list, the index); no
    /// file has been worked on yet.
    Starting,
    /// A worker drives it.
    Running,
    /// A stop was asked for; the worker stops at the next safe point.
    Stopping,
    /// Stopped on request; resumable.
    Stopped,
    /// Every task finished.
    Completed,
    /// The worker died or hit an error it could not go on from (`error` says which).
    Failed,
}

impl RunStatus {
    /// The status as written in `run.json`.
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Queued => "queued",
            RunStatus::Starting => "starting",
            RunStatus::Running => "running",
            RunStatus::Stopping => "stopping",
            RunStatus::Stopped => "stopped",
            RunStatus::Completed => "completed",
            RunStatus::Failed => "failed",
        }
    }

    /// Whether a process should be driving the run (`starting`, `running`, `stopping`): when
    /// no process holds the run's lock, that process died.
    pub fn is_driven(self) -> bool {
        matches!(
            self,
            RunStatus::Starting | RunStatus::Running | RunStatus::Stopping
        )
    }

    /// Whether no worker drives the run any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            RunStatus::Stopped | RunStatus::Completed | RunStatus::Failed
        )
    }
}

impl std::fmt::Display for RunStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a resume does with the artifacts of earlier attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResumePolicy {
    /// Reuse every stage artifact that exists and continue from the next stage; tasks that
    /// failed stay failed.
    ReuseArtifacts,
    /// Like `reuse_artifacts`, but tasks that failed (a server error, an unusable answer) are
    /// tried again from their last artifact. The default: a resume after fixing the cause
    /// should not need a new run.
    #[default]
    RetryFailed,
}

/// The content of `run.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRecord {
    /// The run's id.
    pub run_id: RunId,
    /// Its status.
    pub status: RunStatus,
    /// When it was created.
    #[schemars(with = "String")]
    pub started_at: Timestamp,
    /// When `run.json` last changed.
    #[schemars(with = "String")]
    pub updated_at: Timestamp,
    /// When it reached a final status.
    #[schemars(with = "Option<String>")]
    pub ended_at: Option<Timestamp>,
    /// The repository root it works on (absolute).
    pub repo_root: PathBuf,
    /// The policy pack in force.
    pub pack: Option<String>,
    /// The model profile of the run.
    pub profile: Option<String>,
    /// The git branch at start, when the root is a git checkout.
    pub branch: Option<String>,
    /// The git HEAD at start, when the root is a git checkout.
    pub head_sha: Option<String>,
    /// Why the run failed.
    pub error: Option<String>,
    /// What a resume does.
    pub resume_policy: ResumePolicy,
    /// The command that created the run (`review`, `edit`, `repair`, `run`): a resume must be
    /// the same kind of work, or its stored artifacts and decisions would not fit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
}
