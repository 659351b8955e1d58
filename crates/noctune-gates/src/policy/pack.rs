//! One policy pack, completed (built-in defaults plus what the config file says) and compiled.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use noctune_core::test_command::TestCommand;
use noctune_core::{
    PolicyDecision, PolicyInput, PolicyPack, PolicyRule, PolicyViolation, Stage, Verdict,
};
use serde::{Deserialize, Serialize};

use super::paths::{RepoPath, resolve_in_repo};
use crate::error::{Error, Result};

/// Directories no pack may ever change, whatever its globs say.
const NEVER_CHANGED: [&str; 2] = [".git", ".noctune_cache"];

/// When a change may apply without a human.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoApprove {
    /// Whether auto-approve is on.
    pub enabled: bool,
    /// The highest approver risk (0..=1) that may auto-apply.
    pub max_risk: f32,
    /// The most changed lines that may auto-apply.
    pub max_lines: u32,
    /// Whether the pack's tests must have run and passed.
    pub require_tests: bool,
}

/// A pack's complete settings: every field has a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackSettings {
    /// The pack's name.
    pub name: String,
    /// Repo-relative globs of the files it may change.
    pub allowed_globs: Vec<String>,
    /// The most changed lines (added + removed) one file's change may have.
    pub max_diff_lines: u32,
    /// Tools that may run (names of [`noctune_core::tool`]; `ruff` allows every ruff command).
    pub tools_allowed: Vec<String>,
    /// The argument vector `auto_approve.require_tests` runs (no shell).
    pub test_command: Vec<String>,
    /// Seconds the test command may run before it is killed.
    pub test_timeout_s: u64,
    /// When a change may apply without a human.
    pub auto_approve: AutoApprove,
    /// Extra prompt instructions per stage.
    pub guidance: BTreeMap<Stage, String>,
}

/// A [`PolicyPack`] built from [`PackSettings`] for one repository.
#[derive(Debug, Clone)]
pub struct ConfiguredPack {
    settings: PackSettings,
    globs: GlobSet,
    root: PathBuf,
}

impl ConfiguredPack {
    /// Compiles the globs; a bad glob or an impossible limit is an error naming the pack and
    /// key.
    pub fn new(settings: PackSettings, root: impl Into<PathBuf>) -> Result<Self> {
        let error = |key: &str, message: String| Error::Pack {
            pack: settings.name.clone(),
            key: key.to_owned(),
            message,
        };
        if settings.max_diff_lines == 0 {
            return Err(error(
                "max_diff_lines",
                "expected at least 1, found 0".to_owned(),
            ));
        }
        if !(0.0..=1.0).contains(&settings.auto_approve.max_risk) {
            return Err(error(
                "auto_approve.max_risk",
                format!(
                    "expected a number from 0.0 to 1.0, found {}",
                    settings.auto_approve.max_risk
                ),
            ));
        }
        for tool in &settings.tools_allowed {
            if let Some(message) = noctune_core::tool::check_name(tool) {
                return Err(error("tools_allowed", message));
            }
        }
        if settings
            .test_command
            .first()
            .is_none_or(|program| program.trim().is_empty())
        {
            return Err(error(
                "test_command",
                "expected a program and its arguments, found an empty program".to_owned(),
            ));
        }
        if settings.test_timeout_s == 0 {
            return Err(error(
                "test_timeout_s",
                "expected at least 1, found 0".to_owned(),
            ));
        }
        let mut builder = GlobSetBuilder::new();
        for glob in &settings.allowed_globs {
            if glob.starts_with('/') || glob.split('/').any(|part| part == "..") {
                return Err(error(
                    "allowed_globs",
                    format!("`{glob}`: expected a repo-relative glob without `..`"),
                ));
            }
            let compiled: Glob = GlobBuilder::new(glob)
                .literal_separator(true)
                .build()
                .map_err(|err| error("allowed_globs", format!("`{glob}`: {err}")))?;
            builder.add(compiled);
        }
        let globs = builder
            .build()
            .map_err(|err| error("allowed_globs", err.to_string()))?;
        Ok(Self {
            settings,
            globs,
            root: root.into(),
        })
    }

    /// The complete settings.
    pub fn settings(&self) -> &PackSettings {
        &self.settings
    }

    /// Resolves `path` and checks it against the globs: the repo-relative path on success.
    pub fn resolve_path(&self, path: &Path) -> Result<RepoPath, PolicyViolation> {
        let violation = |detail: String| PolicyViolation {
            pack: self.settings.name.clone(),
            rule: PolicyRule::AllowedGlobs,
            detail,
        };
        let resolved = resolve_in_repo(&self.root, path).map_err(violation)?;
        let first = resolved.relative.split('/').next().unwrap_or_default();
        if NEVER_CHANGED.contains(&first) {
            return Err(violation(format!(
                "`{}` is inside `{first}/`, which Noctune never changes",
                resolved.relative
            )));
        }
        if !self.globs.is_match(&resolved.relative) {
            return Err(violation(format!(
                "`{}` matches no allowed glob ({})",
                resolved.relative,
                self.settings.allowed_globs.join(", ")
            )));
        }
        Ok(resolved)
    }

    /// [`PolicyPack::allows_tool`] as a violation for logs (`policy_violation` events).
    pub fn check_tool(&self, tool: &str) -> Result<(), PolicyViolation> {
        if self.allows_tool(tool) {
            return Ok(());
        }
        Err(PolicyViolation {
            pack: self.settings.name.clone(),
            rule: PolicyRule::ToolsAllowed,
            detail: format!(
                "`{tool}` is not in tools_allowed ({})",
                if self.settings.tools_allowed.is_empty() {
                    "empty".to_owned()
                } else {
                    self.settings.tools_allowed.join(", ")
                }
            ),
        })
    }

    /// `max_diff_lines` alone.
    pub fn check_diff_lines(&self, diff_lines: u32) -> Result<(), PolicyViolation> {
        let max = self.settings.max_diff_lines;
        if diff_lines <= max {
            return Ok(());
        }
        Err(PolicyViolation {
            pack: self.settings.name.clone(),
            rule: PolicyRule::MaxDiffLines,
            detail: format!("{diff_lines} changed lines > max_diff_lines {max}"),
        })
    }
}

impl PolicyPack for ConfiguredPack {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn guidance(&self, stage: Stage) -> Option<String> {
        self.settings.guidance.get(&stage).cloned()
    }

    fn check_path(&self, path: &Path) -> Result<(), PolicyViolation> {
        self.resolve_path(path).map(|_| ())
    }

    fn allows_tool(&self, tool: &str) -> bool {
        noctune_core::tool::is_allowed(&self.settings.tools_allowed, tool)
    }

    fn required_tests(&self) -> Option<TestCommand> {
        self.settings
            .auto_approve
            .require_tests
            .then(|| self.test_command())
    }

    fn test_command(&self) -> TestCommand {
        TestCommand {
            argv: self.settings.test_command.clone(),
            timeout: Duration::from_secs(self.settings.test_timeout_s),
        }
    }

    fn decide(&self, input: &PolicyInput<'_>) -> PolicyDecision {
        if let Err(violation) = self.check_path(input.path) {
            return PolicyDecision::Violation(violation);
        }
        if let Err(violation) = self.check_diff_lines(input.diff_lines) {
            return PolicyDecision::Violation(violation);
        }
        match input.verdict.decision {
            Verdict::Reject => {
                return PolicyDecision::Rejected {
                    why: input.verdict.reason.clone(),
                };
            }
            // The verdict's reason already says why; the queue shows it beside this.
            Verdict::Undecided => {
                return PolicyDecision::NeedsHuman {
                    why: "the approver could not decide: a human does".to_owned(),
                };
            }
            Verdict::Approve => {}
        }
        let auto = &self.settings.auto_approve;
        if !auto.enabled {
            return PolicyDecision::NeedsHuman {
                why: format!("auto_approve is off in pack `{}`", self.settings.name),
            };
        }
        let mut held = Vec::new();
        let mut checked = Vec::new();
        let risk = input.verdict.risk;
        if risk.is_nan() || risk > auto.max_risk {
            held.push(format!("risk {risk:.2} > max_risk {:.2}", auto.max_risk));
        } else {
            checked.push(format!("risk {risk:.2} <= max_risk {:.2}", auto.max_risk));
        }
        if input.diff_lines > auto.max_lines {
            held.push(format!(
                "{} changed lines > auto_approve.max_lines {}",
                input.diff_lines, auto.max_lines
            ));
        } else {
            checked.push(format!(
                "{} changed lines <= max_lines {}",
                input.diff_lines, auto.max_lines
            ));
        }
        if auto.require_tests {
            match input.tests_passed {
                Some(true) => checked.push("tests passed".to_owned()),
                Some(false) => {
                    return PolicyDecision::Rejected {
                        why: "require_tests: the tests failed".to_owned(),
                    };
                }
                None => held.push("require_tests: no tests ran".to_owned()),
            }
        } else {
            checked.push("tests not required".to_owned());
        }
        if held.is_empty() {
            PolicyDecision::AutoApprove {
                why: checked.join(", "),
            }
        } else {
            PolicyDecision::NeedsHuman {
                why: held.join("; "),
            }
        }
    }
}
