//! Verifying a step on the work copy: the gates on every changed file, the step's own tests,
//! the whole suite, and the optional runtime probe, each as the pack allows. The first that
//! fails is what the model sees when it is asked to fix its code.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::workspace::Workspace;
use crate::error::Result;
use crate::gate::GateOutcome;
use crate::pipeline::Pipeline;
use crate::pipeline::tests_run::run_in;
use crate::test_command::{TestCommand, TestsRecord};
use crate::tool::PYTEST;

/// The most characters of a verifier's output kept (what the model sees is cut further to the
/// context budget).
const OUTPUT_CHARS: usize = 3000;

/// What one verifier said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifierResult {
    /// Which verifier: `gates`, `tests`, `suite`, `probe`.
    pub verifier: String,
    /// `Some(true)` passed, `Some(false)` failed, `None` not run (the pack does not allow it,
    /// or nothing to run).
    pub passed: Option<bool>,
    /// One line for people.
    pub summary: String,
    /// The end of what it printed (for the model's fix and the report).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub output: String,
}

impl VerifierResult {
    fn skipped(verifier: &str, why: impl Into<String>) -> Self {
        Self {
            verifier: verifier.to_owned(),
            passed: None,
            summary: format!("not run: {}", why.into()),
            output: String::new(),
        }
    }

    /// What a test run said; `pytest` says whether exit code 5 (nothing collected) is pytest's
    /// "nothing to fail" or, for any other program, a failure.
    fn from_tests(verifier: &str, record: &TestsRecord, pytest: bool) -> Self {
        let nothing = pytest && record.exit_code == Some(5);
        Self {
            verifier: verifier.to_owned(),
            passed: if nothing { Some(true) } else { record.passed },
            summary: if nothing {
                "no tests collected".to_owned()
            } else {
                record.summary.clone()
            },
            output: tail(&record.output_tail),
        }
    }
}

/// A changed file of the work copy: its path and what it was before the request (`None` for a
/// new file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// Repo-relative.
    pub rel: PathBuf,
    /// The real file's content when the request started.
    pub before: Option<String>,
}

/// The gates on each changed file of the copy (only what the change introduced blocks; every
/// finding blocks in a new file). A file the repair ladder fixed is written back to the copy.
pub async fn gates(
    pipeline: &Pipeline,
    workspace: &Workspace,
    changed: &[Changed],
) -> Result<VerifierResult> {
    let mut failures = Vec::new();
    for file in changed {
        let Some(after) = workspace.read(&file.rel)? else {
            continue;
        };
        let outcome = pipeline
            .checker
            .check(&file.rel, file.before.as_deref(), &after)
            .await?;
        if outcome.passed {
            if outcome.text != after {
                workspace.write(&file.rel, &outcome.text)?;
            }
            continue;
        }
        for report in outcome
            .reports
            .iter()
            .filter(|r| r.outcome != GateOutcome::Pass)
        {
            let mut lines = vec![format!(
                "{}: {} gate: {}",
                file.rel.display(),
                report.gate,
                report.summary
            )];
            for d in report.diagnostics.iter().filter(|d| d.introduced).take(10) {
                let at = d
                    .location
                    .as_ref()
                    .map(|l| format!(":{}:{}", l.line, l.column))
                    .unwrap_or_default();
                lines.push(format!(
                    "{}{at}: {} {}",
                    file.rel.display(),
                    d.code.as_deref().unwrap_or(""),
                    d.message
                ));
            }
            failures.push(lines.join("\n"));
        }
    }
    Ok(if failures.is_empty() {
        VerifierResult {
            verifier: "gates".to_owned(),
            passed: Some(true),
            summary: format!("{} file(s) pass", changed.len()),
            output: String::new(),
        }
    } else {
        VerifierResult {
            verifier: "gates".to_owned(),
            passed: Some(false),
            summary: failures
                .first()
                .and_then(|f| f.lines().next())
                .unwrap_or("the gates fail")
                .to_owned(),
            output: tail(&failures.join("\n")),
        }
    })
}

/// The pack's test command on the copy, limited to `files` when some are given (the step's own
/// tests), the whole suite otherwise.
pub async fn tests(
    pipeline: &Pipeline,
    workspace: &Workspace,
    command: &TestCommand,
    files: &[String],
) -> VerifierResult {
    let verifier = if files.is_empty() { "suite" } else { "tests" };
    if !pipeline.pack.allows_tool(PYTEST) {
        return VerifierResult::skipped(
            verifier,
            format!(
                "`pytest` is not in tools_allowed of pack `{}`",
                pipeline.pack.name()
            ),
        );
    }
    let mut command = command.clone();
    command.argv.extend(files.iter().cloned());
    VerifierResult::from_tests(verifier, &run_in(workspace.path(), &command).await, true)
}

/// The runtime probe (`[task] probe`), run in the copy; exit code 0 passes.
pub async fn probe(workspace: &Workspace, argv: &[String], timeout: Duration) -> VerifierResult {
    if argv.is_empty() {
        return VerifierResult::skipped("probe", "no probe configured ([task] probe)");
    }
    let command = TestCommand {
        argv: argv.to_vec(),
        timeout,
    };
    VerifierResult::from_tests("probe", &run_in(workspace.path(), &command).await, false)
}

/// The end of `text`, at most [`OUTPUT_CHARS`] characters.
fn tail(text: &str) -> String {
    let count = text.chars().count();
    if count <= OUTPUT_CHARS {
        return text.to_owned();
    }
    let skip = count - OUTPUT_CHARS;
    format!("…{}", text.chars().skip(skip).collect::<String>())
}

/// Whether `rel` is a test file the pack's test command would collect.
pub fn is_test_path(rel: &Path) -> bool {
    super::plan::is_test_file(&rel.to_string_lossy())
}
