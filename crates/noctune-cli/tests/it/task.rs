//! `noctune task "REQUEST"` end to end through a scripted OpenAI-compatible server, the real
//! ruff and the real pytest: plan → failing tests → code → verified → applied; a wrong answer
//! fixed on retry; a never-right one reverted with the repository byte-identical; a plan naming
//! a missing symbol refused; lesson cards feeding the next request; a queued request applied in
//! the morning and a created file removed by `noctune restore`.

use std::path::Path;

use noctune_llm::fake::{FakeServer, Reply};
use pretty_assertions::assert_eq;
use serde_json::json;

use crate::fake_model::{code, json};
use crate::{noctune, noctune_async, text, tool, tree_files as tree};

pub(crate) const MATHS: &str = "def add(a, b):\n    return a + b\n";
pub(crate) const FIB: &str =
    "def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n";
const FIB_WRONG: &str = "def fib(n):\n    return n\n";
pub(crate) const TEST_FIB: &str = "from pkg.maths import fib\n\n\ndef test_fib():\n    assert fib(0) == 0\n    assert fib(10) == 55\n";

/// A package with one function, a root `conftest.py` (so tests import `pkg`), and the
/// `feature` pack running the real pytest.
pub(crate) fn repo(root: &Path, allow_apply: bool) {
    std::fs::write(
        root.join("noctune.toml"),
        format!(
            "allow_apply = {allow_apply}\n\n[llm]\nmax_retries = 0\ntimeout_s = 30\n\n\
             [policy_packs.feature]\ntest_command = [\"{}\", \"-q\", \"-p\", \"no:cacheprovider\"]\n\
             test_timeout_s = 120\n",
            tool("pytest").display()
        ),
    )
    .unwrap();
    std::fs::write(root.join("conftest.py"), "").unwrap();
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(root.join("pkg/__init__.py"), "").unwrap();
    std::fs::write(root.join("pkg/maths.py"), MATHS).unwrap();
}

pub(crate) fn plan(target: &str, new: bool, test: &str) -> Reply {
    json(json!({
        "steps": [{
            "objective": format!("Add {target}(n)."),
            "targets": [{"file": "pkg/maths.py", "symbol": target, "new": new}],
            "acceptance": [format!("{target}(10) is right")],
            "tests": [{"file": "tests/test_maths.py", "name": test}],
        }],
        "risks": [],
    }))
}

/// The purposes of the model calls every run of `root` made, for failure messages.
fn calls(root: &Path) -> String {
    let mut out = String::new();
    let Ok(runs) = std::fs::read_dir(root.join(".noctune_cache/runs")) else {
        return out;
    };
    for run in runs.flatten() {
        let log = std::fs::read_to_string(run.path().join("logs/llm.jsonl")).unwrap_or_default();
        for line in log.lines() {
            let entry: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            out.push_str(&format!(
                "{}: {}\n",
                entry["purpose"].as_str().unwrap_or("?"),
                entry["request"]["messages"][1]["content"]
                    .as_str()
                    .unwrap_or("")
            ));
        }
    }
    out
}

fn task_json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| panic!("{err}: {:?}", text(output)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_planned_tested_written_verified_applied_and_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    repo(root, true);
    let server =
        FakeServer::start([plan("fib", true, "test_fib"), code(TEST_FIB), code(FIB)]).await;
    let args = [
        "task",
        "add a function fib(n) with a test",
        "--yes",
        "--run-id",
        "task-fib",
        "--output-format",
        "json",
    ];
    let output = noctune_async(root, &args, &server.url()).await;
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{stderr}\n{}",
        calls(root)
    );
    let result = task_json(&output);
    assert_eq!(
        result["task"]["outcome"]["outcome"], "applied",
        "{result:#}"
    );
    assert_eq!(server.remaining(), 0);
    assert_eq!(server.chat_requests().len(), 3);

    // The code, and the new test file, are in the real tree; the suite passes there.
    assert_eq!(
        std::fs::read_to_string(root.join("pkg/maths.py")).unwrap(),
        format!("{MATHS}\n\n{FIB}")
    );
    assert_eq!(
        std::fs::read_to_string(root.join("tests/test_maths.py")).unwrap(),
        TEST_FIB
    );
    let pytest = std::process::Command::new(tool("pytest"))
        .args(["-q", "-p", "no:cacheprovider"])
        .current_dir(root)
        .output()
        .unwrap();
    assert!(pytest.status.success(), "{pytest:?}");

    // The tests were run before the code existed, and failed.
    let events =
        std::fs::read_to_string(root.join(".noctune_cache/runs/task-fib/logs/events.jsonl"))
            .unwrap();
    let before: Vec<serde_json::Value> = events
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["type"] == "stage_finished" && e["payload"]["stage"] == "tests")
        .collect();
    assert_eq!(before.len(), 1, "{events}");
    assert_eq!(before[0]["payload"]["before_the_change"]["passed"], false);

    // The morning report tells the request's story; `<request>` is no file of it.
    let report =
        std::fs::read_to_string(root.join(".noctune_cache/runs/task-fib/report.md")).unwrap();
    assert!(report.contains("## Request"), "{report}");
    assert!(
        report.contains("request: add a function fib(n) with a test"),
        "{report}"
    );
    assert!(report.contains("step 1 attempt 1: gates"), "{report}");
    assert!(!report.contains("### `<request>`"), "{report}");
    assert!(report.contains("- files: 2 — 2 applied"), "{report}");

    // Two lesson cards: the function and its test.
    let lessons = noctune(root, &["lessons", "list", "--output-format", "json"]);
    let lessons: serde_json::Value = serde_json::from_slice(&lessons.stdout).unwrap();
    let kinds: Vec<&str> = lessons["lessons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.len(), 2, "{lessons:#}");
    assert!(
        kinds.contains(&"function") && kinds.contains(&"test"),
        "{kinds:?}"
    );

    // The next similar request shows the card to the model.
    const LUCAS: &str = "def lucas(n):\n    a, b = 2, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n";
    const TEST_LUCAS: &str = "from pkg.maths import lucas\n\n\ndef test_lucas():\n    assert lucas(0) == 2\n    assert lucas(5) == 11\n";
    let next = FakeServer::start([
        plan("lucas", true, "test_lucas"),
        code(TEST_LUCAS),
        code(LUCAS),
    ])
    .await;
    let output = noctune_async(
        root,
        &[
            "task",
            "add a function lucas(n) with a test",
            "--yes",
            "--run-id",
            "task-lucas",
        ],
        &next.url(),
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let implement = next.chat_requests()[2].prompt_text();
    assert!(
        implement.contains("Earlier changes of this kind") && implement.contains("def fib(n):"),
        "{implement}"
    );

    // `noctune restore` puts the module back and removes the test file the request created.
    let restored = noctune(root, &["restore", "--run-id", "task-lucas"]);
    assert_eq!(restored.status.code(), Some(0), "{:?}", text(&restored));
    assert_eq!(
        std::fs::read_to_string(root.join("pkg/maths.py")).unwrap(),
        format!("{MATHS}\n\n{FIB}")
    );
    let restored = noctune(root, &["restore", "--run-id", "task-fib"]);
    assert_eq!(restored.status.code(), Some(0), "{:?}", text(&restored));
    assert_eq!(
        std::fs::read_to_string(root.join("pkg/maths.py")).unwrap(),
        MATHS
    );
    assert!(!root.join("tests/test_maths.py").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_implementation_is_fixed_on_retry_with_the_failure_shown() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    repo(root, true);
    let server = FakeServer::start([
        plan("fib", true, "test_fib"),
        code(TEST_FIB),
        code(FIB_WRONG),
        code(FIB_WRONG),
        code(FIB),
    ])
    .await;
    let output = noctune_async(
        root,
        &["task", "add fib(n)", "--yes", "--output-format", "json"],
        &server.url(),
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let result = task_json(&output);
    let attempts = result["task"]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 3, "{result:#}");
    let failed: Vec<&str> = attempts[..2]
        .iter()
        .map(|a| {
            a["verifiers"].as_array().unwrap().last().unwrap()["verifier"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(failed, ["tests", "tests"]);
    let asked = server.chat_requests();
    let retry = asked[3].prompt_text();
    assert!(
        retry.contains("Your previous code failed `tests`"),
        "{retry}"
    );
    assert!(
        retry.contains("assert"),
        "the pytest output is shown: {retry}"
    );
    assert!(
        std::fs::read_to_string(root.join("pkg/maths.py"))
            .unwrap()
            .contains("a, b = b, a + b")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_never_right_implementation_is_reverted_and_the_repository_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    repo(root, true);
    let before = tree(root);
    let server = FakeServer::start([
        plan("fib", true, "test_fib"),
        code(TEST_FIB),
        code(FIB_WRONG),
        code(FIB_WRONG),
    ])
    .await;
    let output = noctune_async(
        root,
        &["task", "add fib(n)", "--yes", "--max-retries", "1"],
        &server.url(),
    )
    .await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("reverted after 2 attempt(s): `tests` failed"),
        "{stdout}"
    );
    assert_eq!(server.remaining(), 0);
    assert_eq!(tree(root), before, "the repository is byte-identical");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_naming_a_missing_symbol_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    repo(root, true);
    let before = tree(root);
    let server = FakeServer::start([plan("mul", false, "test_mul")]).await;
    let output = noctune_async(root, &["task", "make mul faster", "--yes"], &server.url()).await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "plan refused: step 1: `pkg/maths.py` has no symbol `mul` and it is not marked new"
        ),
        "{stdout}"
    );
    assert_eq!(
        server.chat_requests().len(),
        1,
        "no model call after the plan"
    );
    assert_eq!(tree(root), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_in_a_run_that_does_not_apply_is_queued_and_applied_in_the_morning() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    repo(root, false);
    let server =
        FakeServer::start([plan("fib", true, "test_fib"), code(TEST_FIB), code(FIB)]).await;
    let output = noctune_async(
        root,
        &["task", "add fib(n)", "--yes", "--run-id", "night-task"],
        &server.url(),
    )
    .await;
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("queued"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(root.join("pkg/maths.py")).unwrap(),
        MATHS
    );
    assert!(!root.join("tests/test_maths.py").exists());

    let list = noctune(
        root,
        &[
            "approvals",
            "list",
            "--run-id",
            "night-task",
            "--output-format",
            "json",
        ],
    );
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let files: Vec<&str> = list["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["approval"]["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["pkg/maths.py", "tests/test_maths.py"]);

    let applied = noctune(root, &["apply", "--run-id", "night-task"]);
    assert_eq!(applied.status.code(), Some(0), "{:?}", text(&applied));
    assert_eq!(
        std::fs::read_to_string(root.join("pkg/maths.py")).unwrap(),
        format!("{MATHS}\n\n{FIB}")
    );
    assert_eq!(
        std::fs::read_to_string(root.join("tests/test_maths.py")).unwrap(),
        TEST_FIB
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_waiting_for_a_human_is_applied_when_resumed_after_the_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    repo(root, true);
    // The pack never auto-approves: a human must look at every file.
    let config = std::fs::read_to_string(root.join("noctune.toml")).unwrap();
    std::fs::write(
        root.join("noctune.toml"),
        format!("{config}auto_approve = {{ enabled = false }}\n"),
    )
    .unwrap();
    let server =
        FakeServer::start([plan("fib", true, "test_fib"), code(TEST_FIB), code(FIB)]).await;
    let args = ["task", "add fib(n)", "--yes", "--run-id", "waits"];
    let output = noctune_async(root, &args, &server.url()).await;
    assert_eq!(output.status.code(), Some(1), "{:?}", text(&output));
    assert!(
        text(&output).0.contains("queued for a human"),
        "{:?}",
        text(&output)
    );
    assert_eq!(
        std::fs::read_to_string(root.join("pkg/maths.py")).unwrap(),
        MATHS
    );

    let list = noctune(
        root,
        &[
            "approvals",
            "list",
            "--run-id",
            "waits",
            "--output-format",
            "json",
        ],
    );
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    for entry in list["approvals"].as_array().unwrap() {
        let id = entry["approval"]["approval_id"].as_str().unwrap();
        let decided = noctune(root, &["approvals", "approve", id]);
        assert_eq!(decided.status.code(), Some(0), "{:?}", text(&decided));
    }
    // The resume asks no model: the plan, tests and code are the finished request's.
    let output = noctune_async(root, &args, &server.url()).await;
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    assert!(
        text(&output)
            .0
            .contains("applied: pkg/maths.py, tests/test_maths.py")
    );
    assert_eq!(server.chat_requests().len(), 3);
    assert_eq!(
        std::fs::read_to_string(root.join("pkg/maths.py")).unwrap(),
        format!("{MATHS}\n\n{FIB}")
    );
    assert_eq!(
        std::fs::read_to_string(root.join("tests/test_maths.py")).unwrap(),
        TEST_FIB
    );
}
