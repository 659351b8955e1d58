//! The pack's allowed tools, run on the worktree with a patchset in place before it is
//! committed: `ruff check` (no diagnostic the patchset introduced) and the pack's test command
//! (`pytest`). A tool the pack does not allow is skipped, and the result says so.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use noctune_core::process::{ProcessBuilder, ProcessError};
use noctune_core::test_command::{TestCommand, TestsRecord};
use noctune_core::tool;
use serde::Serialize;

/// What may run before a commit: the pack's `tools_allowed` and test command.
#[derive(Debug, Clone)]
pub struct ToolPlan {
    /// The pack's name, for messages.
    pub pack: String,
    /// The pack's `tools_allowed`.
    pub tools_allowed: Vec<String>,
    /// The pack's test command (run when `pytest` is allowed).
    pub test_command: TestCommand,
}

/// How one tool went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolOutcome {
    /// It ran and found nothing against the patchset.
    Passed,
    /// It ran and failed (or could not run): the patchset is not committed.
    Failed,
    /// The pack does not allow it.
    Skipped,
}

/// One tool's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ToolResult {
    /// `ruff check` or `pytest`.
    pub tool: String,
    /// How it went.
    pub outcome: ToolOutcome,
    /// One line for people.
    pub summary: String,
}

/// `ruff check` diagnostics counted by (file, rule), taken before a patchset is written.
#[derive(Debug, Clone, Default)]
pub struct RuffBaseline(Option<BTreeMap<(String, String), usize>>);

impl ToolPlan {
    fn allows(&self, name: &str) -> bool {
        tool::is_allowed(&self.tools_allowed, name)
    }

    fn skipped(&self, name: &str) -> ToolResult {
        ToolResult {
            tool: name.to_owned(),
            outcome: ToolOutcome::Skipped,
            summary: format!("`{name}` is not in tools_allowed of pack `{}`", self.pack),
        }
    }

    /// The ruff diagnostics of `files` in `worktree` as they are now (before the patchset), when
    /// ruff is allowed.
    pub async fn ruff_baseline(&self, worktree: &Path, files: &[PathBuf]) -> RuffBaseline {
        if !self.allows(tool::RUFF_CHECK) {
            return RuffBaseline(None);
        }
        let present: Vec<PathBuf> = files
            .iter()
            .filter(|f| worktree.join(f).is_file())
            .cloned()
            .collect();
        RuffBaseline(Some(
            ruff_counts(worktree, &present).await.unwrap_or_default(),
        ))
    }

    /// Runs the allowed tools on `worktree` with the patchset's `files` written.
    pub async fn check(
        &self,
        worktree: &Path,
        files: &[PathBuf],
        baseline: &RuffBaseline,
    ) -> Vec<ToolResult> {
        let ruff = match &baseline.0 {
            None => self.skipped(tool::RUFF_CHECK),
            Some(before) => ruff_result(worktree, files, before).await,
        };
        let tests = if self.allows(tool::PYTEST) {
            tests_result(worktree, &self.test_command).await
        } else {
            self.skipped(tool::PYTEST)
        };
        vec![ruff, tests]
    }
}

async fn ruff_result(
    worktree: &Path,
    files: &[PathBuf],
    before: &BTreeMap<(String, String), usize>,
) -> ToolResult {
    let result = |outcome, summary| ToolResult {
        tool: tool::RUFF_CHECK.to_owned(),
        outcome,
        summary,
    };
    let after = match ruff_counts(worktree, files).await {
        Ok(counts) => counts,
        Err(why) => return result(ToolOutcome::Failed, why),
    };
    let introduced: Vec<String> = after
        .iter()
        .filter(|(key, n)| before.get(*key).copied().unwrap_or(0) < **n)
        .map(|((file, code), _)| format!("{file}: {code}"))
        .collect();
    if introduced.is_empty() {
        result(ToolOutcome::Passed, "no diagnostic introduced".to_owned())
    } else {
        result(
            ToolOutcome::Failed,
            format!("introduced {}", introduced.join(", ")),
        )
    }
}

/// `ruff check` on `files` in `dir`: diagnostics counted by (repo-relative file, rule).
async fn ruff_counts(
    dir: &Path,
    files: &[PathBuf],
) -> Result<BTreeMap<(String, String), usize>, String> {
    let mut counts = BTreeMap::new();
    if files.is_empty() {
        return Ok(counts);
    }
    let output = ProcessBuilder::new("ruff")
        .args([
            "check",
            "--no-cache",
            "--exit-zero",
            "--output-format",
            "json",
            "--",
        ])
        .args(files)
        .current_dir(dir)
        .run()
        .await
        .map_err(|err| format!("cannot run ruff: {err}"))?;
    if !output.success() {
        return Err(format!("ruff failed: {}", output.stderr_text()));
    }
    let diagnostics: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout)
        .map_err(|err| format!("ruff's JSON output is not readable: {err}"))?;
    let root = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    for diagnostic in diagnostics {
        let file = diagnostic["filename"].as_str().unwrap_or_default();
        let file = Path::new(file)
            .strip_prefix(&root)
            .or_else(|_| Path::new(file).strip_prefix(dir))
            .map(|p| p.display().to_string())
            .unwrap_or_else(|_| file.to_owned());
        let code = diagnostic["code"]
            .as_str()
            .unwrap_or("syntax-error")
            .to_owned();
        *counts.entry((file, code)).or_insert(0) += 1;
    }
    Ok(counts)
}

async fn tests_result(worktree: &Path, command: &TestCommand) -> ToolResult {
    let result = |outcome, summary| ToolResult {
        tool: tool::PYTEST.to_owned(),
        outcome,
        summary,
    };
    let Some((program, args)) = command.argv.split_first() else {
        return result(ToolOutcome::Failed, "the test command is empty".to_owned());
    };
    let output = ProcessBuilder::new(program)
        .args(args)
        .current_dir(worktree)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .timeout(command.timeout)
        .run()
        .await;
    match output {
        // pytest's "no tests were collected": nothing to fail.
        Ok(output)
            if output.code == Some(5) && command.argv.iter().any(|a| a.contains("pytest")) =>
        {
            result(ToolOutcome::Passed, "no tests collected".to_owned())
        }
        Ok(output) => {
            let text = format!("{}\n{}", output.stdout_text(), output.stderr_text());
            let record = TestsRecord::finished(command, output.code, &text, output.elapsed);
            let outcome = if record.passed == Some(true) {
                ToolOutcome::Passed
            } else {
                ToolOutcome::Failed
            };
            result(outcome, record.summary)
        }
        Err(ProcessError::Timeout { timeout, .. }) => result(
            ToolOutcome::Failed,
            format!(
                "the tests did not finish within {} s (test_timeout_s)",
                timeout.as_secs()
            ),
        ),
        Err(err) => result(ToolOutcome::Failed, format!("cannot run the tests: {err}")),
    }
}
