//! The morning after a night run with `allow_apply = false`, through the real binary: the queue
//! is listed with its diffs, a human approves one change and rejects another, `noctune apply`
//! applies exactly the approved one without asking the model anything, refuses one whose file
//! was edited meanwhile, and `noctune restore` puts the original bytes back — but not over an
//! edit made since, unless forced.

use std::path::Path;

use noctune_llm::fake::{FakeServer, Reply};
use pretty_assertions::assert_eq;
use serde_json::Value;

use crate::fake_model::{code, pipeline_config, plan_with, review, verdict_with};
use crate::{noctune, noctune_async, text};

const A: &str = "def area(w, h):\n    return w * h\n";
const B: &str = "def total(prices):\n    return sum(prices)\n";
const C: &str = "def greet(name):\n    return \"Hello, \" + name + \"!\"\n";
const D: &str = "def double(x):\n    return x * 2\n";
const A_NEW: &str = "def area(w: float, h: float) -> float:\n    return w * h\n";
const B_NEW: &str = "def total(prices: list[float]) -> float:\n    return sum(prices)\n";
const C_NEW: &str = "def greet(name: str) -> str:\n    return f\"Hello, {name}!\"\n";
const D_NEW: &str = "def double(x: int) -> int:\n    return x * 2\n";

/// Per file (sorted by path): review, plan, the edit's code, the approver's verdict. Every
/// risk is above the pack's auto-approve limit (0.3): each change needs a human.
fn script() -> Vec<Reply> {
    let mut replies = Vec::new();
    for (symbol, new) in [
        ("area", A_NEW),
        ("total", B_NEW),
        ("greet", C_NEW),
        ("double", D_NEW),
    ] {
        replies.extend([
            review("P"),
            plan_with(&[(symbol, "Add type hints.")]),
            code(new),
            verdict_with("approve", "Type hints only.", 0.6),
        ]);
    }
    replies
}

fn night_config() -> String {
    pipeline_config(1).replace("allow_apply = true", "allow_apply = false")
}

fn read(root: &Path, name: &str) -> String {
    std::fs::read_to_string(root.join(name)).unwrap()
}

fn json_of(output: &std::process::Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| panic!("{err}: {:?}", text(output)))
}

/// The approval id of `file` in `noctune approvals list --output-format json`.
fn approval_of(list: &Value, file: &str) -> String {
    list["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["approval"]["file"] == file)
        .unwrap_or_else(|| panic!("no approval for {file} in {list:#}"))["approval"]["approval_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn outcome_of<'a>(report: &'a Value, key: &str, file: &str) -> &'a str {
    report[key]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["file"] == file)
        .unwrap_or_else(|| panic!("no line for {file} in {report:#}"))["outcome"]
        .as_str()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_morning_queue_decide_apply_restore() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("noctune.toml"), night_config()).unwrap();
    for (name, body) in [("a.py", A), ("b.py", B), ("c.py", C), ("d.py", D)] {
        std::fs::write(root.join(name), body).unwrap();
    }
    let server = FakeServer::start(script()).await;
    let url = server.url();

    // The night: nothing touches a real file; every change ends in the queue.
    let night = noctune_async(
        root,
        &["run", "--run-id", "night", "--output-format", "json"],
        &url,
    )
    .await;
    let summary = &json_of(&night)["summary"];
    assert_eq!(summary["queued"], 4, "{summary:#}");
    assert_eq!(summary["applied"], 0, "{summary:#}");
    assert_eq!(
        [read(root, "a.py"), read(root, "b.py"), read(root, "d.py")],
        [A, B, D]
    );
    let asked = server.chat_requests().len();
    assert_eq!(asked, 16);

    // The queue, with its diffs.
    let list = json_of(&noctune(
        root,
        &[
            "approvals",
            "list",
            "--run-id",
            "night",
            "--output-format",
            "json",
        ],
    ));
    assert_eq!(list["approvals"].as_array().unwrap().len(), 4, "{list:#}");
    let a_entry = &list["approvals"][0];
    assert_eq!(a_entry["state"], "queued");
    assert!(
        a_entry["diff"]
            .as_str()
            .unwrap()
            .contains("+def area(w: float, h: float) -> float:"),
        "{a_entry:#}"
    );
    let shown = text(&noctune(root, &["approvals", "list", "--run-id", "night"])).0;
    assert!(shown.contains("-def total(prices):"), "{shown}");
    assert!(shown.contains("[queued]"), "{shown}");

    // The human decides: approve a and d, reject b, leave c.
    let decide = |verb: &str, file: &str, extra: &[&str]| {
        let id = approval_of(&list, file);
        let mut args = vec!["approvals", verb, id.as_str()];
        args.extend_from_slice(extra);
        let out = noctune(root, &args);
        assert_eq!(out.status.code(), Some(0), "{:?}", text(&out));
        text(&out).0
    };
    let said = decide("approve", "a.py", &[]);
    assert!(said.contains("noctune apply --run-id night"), "{said}");
    decide("reject", "b.py", &["--reason", "not now"]);
    decide("approve", "d.py", &[]);
    // Someone edits d.py before the morning's apply.
    std::fs::write(root.join("d.py"), "def double(x):\n    return x + x\n").unwrap();

    // A dry run writes nothing.
    let dry = noctune_async(
        root,
        &[
            "apply",
            "--run-id",
            "night",
            "--dry-run",
            "--output-format",
            "json",
        ],
        &url,
    )
    .await;
    assert_eq!(outcome_of(&json_of(&dry), "changes", "a.py"), "would_apply");
    assert_eq!(read(root, "a.py"), A);

    // Apply: exactly the approved a; b stays rejected, c queued, d refused as a conflict.
    let applied = noctune_async(
        root,
        &["apply", "--run-id", "night", "--output-format", "json"],
        &url,
    )
    .await;
    assert_eq!(applied.status.code(), Some(1), "{:?}", text(&applied));
    let report = json_of(&applied);
    assert_eq!(outcome_of(&report, "changes", "a.py"), "applied");
    assert_eq!(outcome_of(&report, "changes", "b.py"), "rejected");
    assert_eq!(outcome_of(&report, "changes", "c.py"), "waiting");
    assert_eq!(outcome_of(&report, "changes", "d.py"), "conflict");
    assert_eq!(read(root, "a.py"), A_NEW);
    assert_eq!(read(root, "b.py"), B);
    assert_eq!(read(root, "c.py"), C);
    assert_eq!(read(root, "d.py"), "def double(x):\n    return x + x\n");
    assert_eq!(
        server.chat_requests().len(),
        asked,
        "apply asked the model something"
    );

    // The report and the status say the same words.
    let md = std::fs::read_to_string(root.join(".noctune_cache/runs/night/report.md")).unwrap();
    assert!(md.contains("### `a.py` — applied"), "{md}");
    assert!(md.contains("### `b.py` — rejected"), "{md}");
    assert!(md.contains("### `c.py` — queued"), "{md}");
    let events =
        std::fs::read_to_string(root.join(".noctune_cache/runs/night/logs/events.jsonl")).unwrap();
    assert!(
        events
            .lines()
            .any(|l| l.contains("\"type\":\"applied\"") && l.contains("\"by\":\"cli:")),
        "{events}"
    );

    // Restore: a comes back byte-exact.
    let restored = noctune(
        root,
        &["restore", "--run-id", "night", "--output-format", "json"],
    );
    assert_eq!(restored.status.code(), Some(0), "{:?}", text(&restored));
    assert_eq!(outcome_of(&json_of(&restored), "files", "a.py"), "restored");
    assert_eq!(std::fs::read(root.join("a.py")).unwrap(), A.as_bytes());

    // Apply it again, then edit it by hand: restore refuses, `--force` restores and keeps the
    // edit in the run's backups.
    let again = noctune_async(
        root,
        &["apply", "--run-id", "night", "--file", "a.py"],
        &url,
    )
    .await;
    assert_eq!(again.status.code(), Some(0), "{:?}", text(&again));
    assert_eq!(read(root, "a.py"), A_NEW);
    let edited = format!("{A_NEW}\n\nUNIT = 1\n");
    std::fs::write(root.join("a.py"), &edited).unwrap();
    let refused = noctune(root, &["restore", "--run-id", "night"]);
    assert_eq!(refused.status.code(), Some(1), "{:?}", text(&refused));
    assert!(
        text(&refused).0.contains("changed since"),
        "{:?}",
        text(&refused)
    );
    assert_eq!(read(root, "a.py"), edited);
    let forced = noctune(
        root,
        &[
            "restore",
            "--run-id",
            "night",
            "--force",
            "--output-format",
            "json",
        ],
    );
    assert_eq!(forced.status.code(), Some(0), "{:?}", text(&forced));
    assert_eq!(read(root, "a.py"), A);
    let saved = json_of(&forced)["files"][0]["saved"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(std::fs::read_to_string(saved).unwrap(), edited);
    assert_eq!(server.chat_requests().len(), asked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_the_pack_would_auto_approve_is_applied_without_a_decision() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("noctune.toml"), night_config()).unwrap();
    std::fs::write(root.join("a.py"), A).unwrap();
    let server = FakeServer::start(vec![
        review("P"),
        plan_with(&[("area", "Add type hints.")]),
        code(A_NEW),
        verdict_with("approve", "Type hints only.", 0.1),
    ])
    .await;
    let night = noctune_async(root, &["run", "--run-id", "n"], &server.url()).await;
    assert_eq!(read(root, "a.py"), A, "{:?}", text(&night));
    let shown = text(&noctune(root, &["approvals", "list", "--run-id", "n"])).0;
    assert!(shown.contains("would auto-approve"), "{shown}");
    let applied = noctune(root, &["apply", "--run-id", "n", "--output-format", "json"]);
    assert_eq!(applied.status.code(), Some(0), "{:?}", text(&applied));
    let report = json_of(&applied);
    assert_eq!(outcome_of(&report, "changes", "a.py"), "applied");
    assert!(
        report["changes"][0]["permit"]
            .as_str()
            .unwrap()
            .starts_with("auto:"),
        "{report:#}"
    );
    assert_eq!(read(root, "a.py"), A_NEW);
    // Applied: no longer waiting for anyone.
    let shown = text(&noctune(root, &["approvals", "list", "--run-id", "n"])).0;
    assert!(shown.contains("[applied]"), "{shown}");
    assert!(!shown.contains("would auto-approve"), "{shown}");
    let md = std::fs::read_to_string(root.join(".noctune_cache/runs/n/report.md")).unwrap();
    assert!(!md.contains("## Waiting for you"), "{md}");
}

#[test]
fn apply_names_the_run_it_cannot_find() {
    let dir = tempfile::tempdir().unwrap();
    let out = noctune(dir.path(), &["apply", "--run-id", "nope"]);
    assert_eq!(out.status.code(), Some(2), "{:?}", text(&out));
    assert!(text(&out).1.contains("nope"), "{:?}", text(&out));
}
