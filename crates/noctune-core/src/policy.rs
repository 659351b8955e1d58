//! The [`PolicyPack`] trait: what a run may touch, and when a human must decide.

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::approver::ApproverVerdict;
use crate::stage::Stage;
use crate::test_command::TestCommand;

/// The rule a change broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PolicyRule {
    /// The path is outside `allowed_globs` (or escapes the repository).
    AllowedGlobs,
    /// The change is larger than `max_diff_lines`.
    MaxDiffLines,
    /// A tool not in `tools_allowed` was asked for.
    ToolsAllowed,
}

/// A broken rule, with the numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, thiserror::Error)]
#[error("policy `{pack}` refuses this ({rule:?}): {detail}")]
pub struct PolicyViolation {
    /// The pack.
    pub pack: String,
    /// The rule.
    pub rule: PolicyRule,
    /// What exactly (`84 changed lines > max_diff_lines 80`, `docs/x.py matches no allowed glob`).
    pub detail: String,
}

/// What a pack judges.
#[derive(Debug, Clone, Copy)]
pub struct PolicyInput<'a> {
    /// The file, as the run names it (relative to the repository root).
    pub path: &'a Path,
    /// Lines added plus lines removed.
    pub diff_lines: u32,
    /// The approver's verdict.
    pub verdict: &'a ApproverVerdict,
    /// Whether the pack's tests ran and passed (`None`: no tests ran). `Some(false)` is a
    /// rejection.
    pub tests_passed: Option<bool>,
}

/// A pack's decision on a change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "route")]
pub enum PolicyDecision {
    /// A rule is broken: the change can never be applied.
    Violation(PolicyViolation),
    /// Every rule passes and auto-approve applies: apply without asking.
    AutoApprove {
        /// Why (which limits were checked).
        why: String,
    },
    /// A human must decide (auto-approve is off, a limit is exceeded, or the approver rejected).
    NeedsHuman {
        /// Why.
        why: String,
    },
    /// The approver rejected the change; nothing is queued.
    Rejected {
        /// The approver's reason.
        why: String,
    },
}

/// A policy pack: which paths a run may change, how big a change may be, which tools may run,
/// and when a change may be applied without a human.
///
/// The defaults lean cautious: no tool is allowed and nothing is auto-approved unless an
/// implementation says so.
///
/// ```
/// use std::path::Path;
/// use std::sync::Arc;
/// use noctune_core::{PolicyDecision, PolicyInput, PolicyPack, PolicyRule, PolicyViolation};
///
/// /// Allows changes under `src/` only and always asks a human.
/// struct SrcOnly;
///
/// impl PolicyPack for SrcOnly {
///     fn name(&self) -> &str {
///         "src_only"
///     }
///
///     fn check_path(&self, path: &Path) -> Result<(), PolicyViolation> {
///         if path.starts_with("src") {
///             return Ok(());
///         }
///         Err(PolicyViolation {
///             pack: self.name().into(),
///             rule: PolicyRule::AllowedGlobs,
///             detail: format!("{} is outside src/", path.display()),
///         })
///     }
///
///     fn decide(&self, input: &PolicyInput<'_>) -> PolicyDecision {
///         match self.check_path(input.path) {
///             Err(violation) => PolicyDecision::Violation(violation),
///             Ok(()) => PolicyDecision::NeedsHuman { why: "src_only always asks".into() },
///         }
///     }
/// }
///
/// let pack: Arc<dyn PolicyPack> = Arc::new(SrcOnly);
/// assert!(pack.check_path(Path::new("docs/conf.py")).is_err());
/// assert!(!pack.allows_tool("pytest"));
/// ```
pub trait PolicyPack: Send + Sync {
    /// The pack's name (`lint_fix`).
    fn name(&self) -> &str;

    /// Extra instructions for a stage's prompt (what this pack wants reviewed or drafted).
    fn guidance(&self, stage: Stage) -> Option<String> {
        let _ = stage;
        None
    }

    /// Whether the run may change this file at all.
    fn check_path(&self, path: &Path) -> Result<(), PolicyViolation>;

    /// Whether a tool may run (a name of [`crate::tool`]: `ruff check`, `ruff fix`, `pytest`).
    /// Defaults to no.
    fn allows_tool(&self, tool: &str) -> bool {
        let _ = tool;
        false
    }

    /// The test command a change must pass before it may be auto-approved
    /// (`auto_approve.require_tests`), or `None` when the pack requires no tests (the default).
    /// The command runs only where [`PolicyPack::allows_tool`] allows `pytest`.
    fn required_tests(&self) -> Option<TestCommand> {
        None
    }

    /// The pack's test command whether or not it requires tests: what `noctune task` runs to
    /// verify a request's change (where `pytest` is allowed). Defaults to
    /// [`PolicyPack::required_tests`], else `python -m pytest -x -q`.
    fn test_command(&self) -> TestCommand {
        self.required_tests().unwrap_or_default()
    }

    /// Decides what happens to an approved-or-rejected change.
    fn decide(&self, input: &PolicyInput<'_>) -> PolicyDecision;
}

/// `[tool.noctune.policy_packs.<name>]` as written in the config; every field optional, so a
/// table may tweak one limit of a built-in pack.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyPackOptions {
    /// Repo-relative globs of files the pack may change (`src/**/*.py`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_globs: Option<Vec<String>>,
    /// The most changed lines (added + removed) one file's change may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_diff_lines: Option<u32>,
    /// Tools that may run (names of [`crate::tool`]: `ruff`, `ruff check`, `ruff fix`,
    /// `pytest`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools_allowed: Option<Vec<String>>,
    /// The argument vector `auto_approve.require_tests` runs (no shell), from a copy of the
    /// repository with the change in place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_command: Option<Vec<String>>,
    /// Seconds the test command may run before it is killed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_timeout_s: Option<u64>,
    /// When a change may apply without a human.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_approve: Option<AutoApproveOptions>,
    /// Extra instructions per stage (`review = "..."`), appended to the stage's prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidance: Option<BTreeMap<Stage, String>>,
}

/// `auto_approve = { enabled, max_risk, max_lines, require_tests }`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoApproveOptions {
    /// Whether auto-approve is on at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The highest risk (0..=1) that may auto-apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_risk: Option<f32>,
    /// The most changed lines that may auto-apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lines: Option<u32>,
    /// Whether the pack's tests must have run and passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_tests: Option<bool>,
}
