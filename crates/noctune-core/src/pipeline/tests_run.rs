//! The pack's tests (`auto_approve.require_tests`): the test command run on a throw-away copy of
//! the repository with the change in place → `tests_p<N>.json` and a `tests_run` event.
//!
//! Tests run only when they decide something: the pack requires them and the change would be
//! auto-approved if they passed. A change a human decides anyway (or that is refused) is not
//! worth minutes of tests; the record then says why no tests ran.

use std::path::Path;

use super::artifacts;
use super::task::TaskCtx;
use crate::error::Result;
use crate::event::EventType;
use crate::policy::{PolicyDecision, PolicyInput};
use crate::process::{ProcessBuilder, ProcessError};
use crate::test_command::{TestCommand, TestsRecord};
use crate::tool;

/// Directories never copied: version control, caches, virtual environments, build output.
pub(crate) const SKIPPED_DIRS: [&str; 14] = [
    ".git",
    ".hg",
    ".svn",
    ".noctune_cache",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".tox",
    ".nox",
    ".venv",
    "venv",
    "node_modules",
    "target",
];

/// Runs the pack's tests for a change when they decide its fate, or reuses `tests_p<N>.json`.
/// `None` when the pack requires no tests. `input.tests_passed` is ignored; `held_anyway` says
/// that a rule outside the pack (high signal risk) sends the change to a human whatever the
/// tests say.
pub(super) async fn for_change(
    ctx: &TaskCtx<'_>,
    input: PolicyInput<'_>,
    held_anyway: bool,
    after: &str,
) -> Result<Option<TestsRecord>> {
    let pack = ctx.pipeline.pack.as_ref();
    let Some(command) = pack.required_tests() else {
        return Ok(None);
    };
    let name = artifacts::tests(ctx.state.pass);
    if let Some(bytes) = ctx.read_artifact(&name)?
        && let Ok(record) = serde_json::from_slice::<TestsRecord>(&bytes)
    {
        return Ok(Some(record));
    }
    let would_pass = pack.decide(&PolicyInput {
        tests_passed: Some(true),
        ..input
    });
    let record = if held_anyway || !matches!(would_pass, PolicyDecision::AutoApprove { .. }) {
        TestsRecord::not_run(
            &command,
            "the change is not auto-approved whatever the tests say",
        )
    } else if !pack.allows_tool(tool::PYTEST) {
        let why = format!(
            "`{}` is not in tools_allowed of pack `{}`",
            tool::PYTEST,
            pack.name()
        );
        ctx.event(
            EventType::ToolSkipped,
            serde_json::json!({ "tool": tool::PYTEST, "pack": pack.name(), "why": why }),
        )?;
        TestsRecord::not_run(&command, why)
    } else {
        run_on_copy(&ctx.pipeline.root, &ctx.rel, after, &command).await
    };
    ctx.write_artifact(
        &name,
        &serde_json::to_vec_pretty(&record).unwrap_or_default(),
    )?;
    ctx.event(
        EventType::TestsRun,
        serde_json::json!({
            "artifact": name,
            "ran": record.ran,
            "passed": record.passed,
            "failing": record.failing,
            "summary": record.summary,
        }),
    )?;
    Ok(Some(record))
}

/// The pack's decision with what the tests said: a failing test makes any decision short of a
/// violation a rejection naming the failing tests; tests that did not run say why in the
/// reason a human reads.
pub fn explain(decision: PolicyDecision, tests: &TestsRecord) -> PolicyDecision {
    match (decision, tests.passed) {
        (PolicyDecision::Violation(violation), _) => PolicyDecision::Violation(violation),
        (_, Some(false)) => PolicyDecision::Rejected {
            why: format!("require_tests: the tests {}", tests.summary),
        },
        (PolicyDecision::NeedsHuman { why }, None) => {
            let reason = tests
                .summary
                .strip_prefix("not run: ")
                .unwrap_or(&tests.summary);
            PolicyDecision::NeedsHuman {
                why: why.replace(
                    "require_tests: no tests ran",
                    &format!("require_tests: no tests ran ({reason})"),
                ),
            }
        }
        (decision, _) => decision,
    }
}

/// Copies the repository at `root` to a temporary directory, writes `after` as `rel` there, and
/// runs `command` in the copy. The copy is removed afterwards.
pub async fn run_on_copy(
    root: &Path,
    rel: &Path,
    after: &str,
    command: &TestCommand,
) -> TestsRecord {
    let copy = match tempfile::Builder::new().prefix("noctune-tests-").tempdir() {
        Ok(dir) => dir,
        Err(err) => {
            return TestsRecord::not_run(command, format!("cannot create a temporary copy: {err}"));
        }
    };
    if let Err(err) = copy_tree(root, copy.path()) {
        return TestsRecord::not_run(command, format!("cannot copy the repository: {err}"));
    }
    let target = copy.path().join(rel);
    let written = target
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&target, after));
    if let Err(err) = written {
        return TestsRecord::not_run(
            command,
            format!("cannot write the change into the copy: {err}"),
        );
    }
    run_in(copy.path(), command).await
}

/// Runs `command` in `dir` (no shell, its timeout) and records what it said. `dir` goes first
/// on `PYTHONPATH`, as `python -m pytest` puts it on `sys.path`: the repository's packages
/// import from its root whichever way the command starts pytest.
pub(crate) async fn run_in(dir: &Path, command: &TestCommand) -> TestsRecord {
    let Some((program, args)) = command.argv.split_first() else {
        return TestsRecord::not_run(command, "the test command is empty");
    };
    let mut python_path = std::ffi::OsString::from(dir);
    if let Some(existing) = std::env::var_os("PYTHONPATH").filter(|p| !p.is_empty()) {
        python_path.push(":");
        python_path.push(existing);
    }
    let output = ProcessBuilder::new(program)
        .args(args)
        .current_dir(dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("PYTHONPATH", python_path)
        .timeout(command.timeout)
        .run()
        .await;
    match output {
        Ok(output) => {
            let mut text = output.stdout_text();
            let stderr = output.stderr_text();
            if !stderr.is_empty() {
                if !text.is_empty() && !text.ends_with('\n') {
                    text.push('\n');
                }
                text.push_str(&stderr);
                text.push('\n');
            }
            TestsRecord::finished(command, output.code, &text, output.elapsed)
        }
        Err(ProcessError::Timeout { timeout, .. }) => TestsRecord::not_run(
            command,
            format!(
                "the tests did not finish within {} s (test_timeout_s) and were killed",
                timeout.as_secs()
            ),
        ),
        Err(err) => TestsRecord::not_run(command, err.to_string()),
    }
}

/// Copies the regular files under `from` to `to`, skipping [`SKIPPED_DIRS`], virtual
/// environments (a directory holding `pyvenv.cfg`) and symbolic links.
pub(crate) fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let kind = entry.file_type()?;
        let source = entry.path();
        if kind.is_dir() {
            if name.to_str().is_some_and(|n| SKIPPED_DIRS.contains(&n))
                || source.join("pyvenv.cfg").is_file()
            {
                continue;
            }
            copy_tree(&source, &to.join(&name))?;
        } else if kind.is_file() {
            std::fs::copy(&source, to.join(&name))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use pretty_assertions::assert_eq;

    fn python(code: &str) -> TestCommand {
        TestCommand {
            argv: vec!["python3".into(), "-c".into(), code.into()],
            timeout: Duration::from_secs(30),
        }
    }

    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
        std::fs::write(dir.path().join("pkg/a.py"), "X = 1\n").unwrap();
        std::fs::create_dir_all(dir.path().join(".noctune_cache/runs")).unwrap();
        std::fs::write(dir.path().join(".noctune_cache/big"), "cache").unwrap();
        std::fs::create_dir_all(dir.path().join("env")).unwrap();
        std::fs::write(dir.path().join("env/pyvenv.cfg"), "home = /usr\n").unwrap();
        dir
    }

    #[tokio::test]
    async fn the_command_sees_the_change_in_a_copy_without_caches_or_venvs() {
        let dir = repo();
        let check = "import os, sys\n\
                     sys.path.insert(0, '.')\n\
                     import pkg.a\n\
                     assert pkg.a.X == 2, pkg.a.X\n\
                     assert not os.path.exists('.noctune_cache'), 'cache copied'\n\
                     assert not os.path.exists('env'), 'venv copied'\n";
        let record =
            run_on_copy(dir.path(), Path::new("pkg/a.py"), "X = 2\n", &python(check)).await;
        assert_eq!(record.passed, Some(true), "{record:?}");
        // The real file is untouched.
        assert_eq!(
            std::fs::read_to_string(dir.path().join("pkg/a.py")).unwrap(),
            "X = 1\n"
        );
    }

    #[tokio::test]
    async fn a_failing_command_is_a_failure_with_its_output() {
        let dir = repo();
        let record = run_on_copy(
            dir.path(),
            Path::new("pkg/a.py"),
            "X = 2\n",
            &python("print('FAILED tests/test_a.py::test_x - boom'); raise SystemExit(1)"),
        )
        .await;
        assert_eq!(record.passed, Some(false));
        assert_eq!(record.failing, vec!["tests/test_a.py::test_x"]);
        assert!(record.output_tail.contains("boom"), "{record:?}");
    }

    #[test]
    fn failing_tests_reject_and_untested_changes_say_why_they_wait() {
        let command = TestCommand::default();
        let failed = TestsRecord::finished(
            &command,
            Some(1),
            "FAILED tests/test_a.py::test_b - assert\n",
            Duration::ZERO,
        );
        let auto = PolicyDecision::AutoApprove { why: "ok".into() };
        assert_eq!(
            explain(auto.clone(), &failed),
            PolicyDecision::Rejected {
                why: "require_tests: the tests failed (exit 1): tests/test_a.py::test_b".into()
            }
        );
        let violation = PolicyDecision::Violation(crate::PolicyViolation {
            pack: "p".into(),
            rule: crate::PolicyRule::AllowedGlobs,
            detail: "d".into(),
        });
        assert_eq!(explain(violation.clone(), &failed), violation);
        let skipped = TestsRecord::not_run(&command, "`pytest` is not in tools_allowed");
        assert_eq!(
            explain(
                PolicyDecision::NeedsHuman {
                    why: "require_tests: no tests ran".into()
                },
                &skipped
            ),
            PolicyDecision::NeedsHuman {
                why: "require_tests: no tests ran (`pytest` is not in tools_allowed)".into()
            }
        );
        let passed = TestsRecord::finished(&command, Some(0), "", Duration::ZERO);
        assert_eq!(explain(auto.clone(), &passed), auto);
    }

    #[tokio::test]
    async fn a_missing_program_or_a_timeout_gives_no_verdict() {
        let dir = repo();
        let missing = TestCommand {
            argv: vec!["noctune-no-such-test-runner".into()],
            timeout: Duration::from_secs(5),
        };
        let record = run_on_copy(dir.path(), Path::new("pkg/a.py"), "X = 2\n", &missing).await;
        assert_eq!((record.ran, record.passed), (false, None));
        assert!(record.summary.contains("not found"), "{record:?}");

        let mut slow = python("import time; time.sleep(10)");
        slow.timeout = Duration::from_millis(300);
        let record = run_on_copy(dir.path(), Path::new("pkg/a.py"), "X = 2\n", &slow).await;
        assert_eq!((record.ran, record.passed), (false, None));
        assert!(record.summary.contains("did not finish"), "{record:?}");
    }
}
