//! Patchsets: a run's applied changes grouped for review and for commits.
//!
//! - [`mod@group`]: the grouping (per file, per module, per pack, or one), deterministic ids, and
//!   fitting into at most `patchset_max_commits` patchsets.
//! - [`tools`]: the pack's allowed tools run on the worktree before each commit.
//! - [`commit`]: the commits on `noctune/<run_id>`, made in a separate `git worktree`.

pub mod commit;
pub mod diff;
pub mod group;
pub mod tools;

pub use commit::{CommitOptions, CommitReport, PatchsetOutcome, commit_patchsets};
pub use diff::{FileDiff, file_diffs};
pub use group::{Grouping, Patchset, fit, group, per_change};
pub use tools::{ToolPlan, ToolResult};
