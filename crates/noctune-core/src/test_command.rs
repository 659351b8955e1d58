//! A policy pack's test command (`test_command`, run when `auto_approve.require_tests` is on)
//! and what one run of it reported: the `tests_p<N>.json` artifact.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The test command when a pack does not set `test_command`.
pub const DEFAULT_TEST_COMMAND: [&str; 5] = ["python", "-m", "pytest", "-x", "-q"];

/// Seconds the test command may run when a pack does not set `test_timeout_s`.
pub const DEFAULT_TEST_TIMEOUT_S: u64 = 300;

/// The most characters of the command's output kept in the record.
const TAIL_CHARS: usize = 4000;

/// How a pack's tests are run: an argument vector (no shell) and a timeout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TestCommand {
    /// The program and its arguments (`["python", "-m", "pytest", "-x", "-q"]`).
    pub argv: Vec<String>,
    /// How long it may run before it is killed.
    #[schemars(with = "u64")]
    #[serde(with = "seconds")]
    pub timeout: Duration,
}

impl Default for TestCommand {
    fn default() -> Self {
        Self {
            argv: DEFAULT_TEST_COMMAND
                .iter()
                .map(|a| (*a).to_owned())
                .collect(),
            timeout: Duration::from_secs(DEFAULT_TEST_TIMEOUT_S),
        }
    }
}

mod seconds {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(value.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_secs(u64::deserialize(deserializer)?))
    }
}

/// `tests_p<N>.json`: whether the pack's tests ran on a copy of the repository with the change
/// in place, and what they said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TestsRecord {
    /// The command, as configured.
    pub command: Vec<String>,
    /// Whether the command ran to its end.
    pub ran: bool,
    /// `Some(true)`: exit code 0; `Some(false)`: it ran and failed; `None`: no verdict (not run,
    /// not found, timed out).
    pub passed: Option<bool>,
    /// The exit code, when it exited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The failing tests, as the output names them (`tests/test_x.py::test_name`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failing: Vec<String>,
    /// The end of stdout and stderr.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub output_tail: String,
    /// Wall-clock milliseconds, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elapsed_ms: Option<u64>,
    /// One line for people: `passed`, `failed: tests/test_x.py::test_y`, `not run: ...`.
    pub summary: String,
}

impl TestsRecord {
    /// A record of tests that did not run, and why.
    pub fn not_run(command: &TestCommand, why: impl Into<String>) -> Self {
        Self {
            command: command.argv.clone(),
            ran: false,
            passed: None,
            exit_code: None,
            failing: Vec::new(),
            output_tail: String::new(),
            elapsed_ms: None,
            summary: format!("not run: {}", why.into()),
        }
    }

    /// The record of a finished run of the command.
    pub fn finished(
        command: &TestCommand,
        exit_code: Option<i32>,
        output: &str,
        elapsed: Duration,
    ) -> Self {
        let passed = exit_code == Some(0);
        let failing = if passed {
            Vec::new()
        } else {
            failing_tests(output)
        };
        let summary = if passed {
            "passed".to_owned()
        } else {
            let code = exit_code.map_or_else(|| "a signal".to_owned(), |c| format!("exit {c}"));
            if failing.is_empty() {
                let last = output.lines().rev().find(|l| !l.trim().is_empty());
                match last {
                    Some(line) => format!("failed ({code}): {}", line.trim()),
                    None => format!("failed ({code})"),
                }
            } else {
                format!("failed ({code}): {}", failing.join(", "))
            }
        };
        Self {
            command: command.argv.clone(),
            ran: true,
            passed: Some(passed),
            exit_code,
            failing,
            output_tail: tail(output),
            elapsed_ms: Some(u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)),
            summary,
        }
    }
}

/// The last [`TAIL_CHARS`] characters of `output`, cut at a line start.
fn tail(output: &str) -> String {
    let count = output.chars().count();
    if count <= TAIL_CHARS {
        return output.to_owned();
    }
    let cut: String = output.chars().skip(count - TAIL_CHARS).collect();
    match cut.find('\n') {
        Some(at) => cut[at + 1..].to_owned(),
        None => cut,
    }
}

/// The failing tests a test runner's output names: pytest's short summary lines
/// (`FAILED tests/test_x.py::test_y - assert ...`, `ERROR tests/test_x.py - ImportError`) and
/// unittest's headers (`FAIL: test_y (tests.test_x.TestX.test_y)`), in order, each once.
pub fn failing_tests(output: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for line in output.lines() {
        let line = line.trim_end();
        let name = if let Some(rest) = line
            .strip_prefix("FAILED ")
            .or_else(|| line.strip_prefix("ERROR "))
        {
            rest.split(" - ").next().unwrap_or(rest).trim()
        } else if let Some(rest) = line
            .strip_prefix("FAIL: ")
            .or_else(|| line.strip_prefix("ERROR: "))
        {
            match (rest.find('('), rest.rfind(')')) {
                (Some(open), Some(close)) if open < close => &rest[open + 1..close],
                _ => rest.trim(),
            }
        } else {
            continue;
        };
        if !name.is_empty() && !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn pytest_short_summary_names_the_failing_tests() {
        let output = "F.\n=========== short test summary info ===========\n\
                      FAILED tests/test_area.py::test_square - assert 6 == 4\n\
                      FAILED tests/test_area.py::TestArea::test_zero\n\
                      ERROR tests/test_io.py - ModuleNotFoundError: No module named 'x'\n\
                      1 failed, 1 passed in 0.02s\n";
        assert_eq!(
            failing_tests(output),
            vec![
                "tests/test_area.py::test_square",
                "tests/test_area.py::TestArea::test_zero",
                "tests/test_io.py",
            ]
        );
    }

    #[test]
    fn unittest_headers_name_the_failing_tests() {
        let output = "======\nFAIL: test_square (tests.test_area.TestArea.test_square)\n\
                      ------\nERROR: test_io (tests.test_io.TestIo.test_io)\n";
        assert_eq!(
            failing_tests(output),
            vec![
                "tests.test_area.TestArea.test_square",
                "tests.test_io.TestIo.test_io"
            ]
        );
    }

    #[test]
    fn a_failed_run_summarises_its_failures_or_its_last_line() {
        let command = TestCommand::default();
        let failed = TestsRecord::finished(
            &command,
            Some(1),
            "FAILED tests/test_a.py::test_b - x\n",
            Duration::from_millis(5),
        );
        assert_eq!(failed.passed, Some(false));
        assert_eq!(failed.summary, "failed (exit 1): tests/test_a.py::test_b");
        let nothing = TestsRecord::finished(
            &command,
            Some(5),
            "\nno tests ran in 0.01s\n\n",
            Duration::ZERO,
        );
        assert_eq!(nothing.summary, "failed (exit 5): no tests ran in 0.01s");
        let passed = TestsRecord::finished(&command, Some(0), "1 passed\n", Duration::ZERO);
        assert_eq!(
            (passed.passed, passed.summary.as_str()),
            (Some(true), "passed")
        );
    }

    #[test]
    fn the_tail_keeps_the_end_from_a_line_start() {
        let output = format!("{}\nlast line\n", "x".repeat(TAIL_CHARS + 10));
        assert_eq!(tail(&output), "last line\n");
        assert_eq!(tail("short\n"), "short\n");
    }
}
