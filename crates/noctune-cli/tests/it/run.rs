//! `noctune run` end to end through a scripted OpenAI-compatible server (real HTTP, SSE), the
//! real ruff, real files: one file applied, one rejected, one queued then approved and applied
//! on resume, one whose edit failed the lint gate and was repaired by `ruff --fix`.

use std::path::Path;

use noctune_llm::fake::{FakeServer, Reply};
use pretty_assertions::assert_eq;
use serde_json::json;

use crate::fake_model::{code, pipeline_config, plan_with, review, verdict_with};
use crate::{noctune_async, noctune_with_env, text};

const A: &str = "def area(w, h):\n    return w * h\n";
const B: &str = "def total(prices):\n    return sum(prices)\n";
const C: &str = "def greet(name):\n    return \"Hello, \" + name + \"!\"\n";
const D: &str = "def double(x):\n    return x * 2\n";

/// The model's side of the four files, in the order the run asks (files sorted by path;
/// per file: review, plan, edit code, approve).
fn script() -> Vec<Reply> {
    let a = "def area(w: float, h: float) -> float:\n    return w * h\n";
    let b = "def total(prices: list[float]) -> float:\n    with open(\"prices.txt\") as f:\n        return sum(float(x) for x in f)\n";
    let c = "def greet(name: str) -> str:\n    return f\"Hello, {name}!\"\n";
    let d = "import os\n\ndef double(x: int) -> int:\n    return x * 2\n";
    vec![
        review("P"),
        plan_with(&[("area", "Add type hints.")]),
        code(a),
        verdict_with("approve", "Type hints only.", 0.1),
        review("P"),
        plan_with(&[("total", "Add type hints.")]),
        code(b),
        verdict_with("reject", "It now reads prices from a file.", 0.9),
        review("P"),
        plan_with(&[("greet", "Use an f-string.")]),
        code(c),
        verdict_with("approve", "Same output with an f-string.", 0.6),
        review("P"),
        plan_with(&[("double", "Add type hints.")]),
        code(d),
        verdict_with("approve", "Type hints only.", 0.1),
    ]
}

fn write_repo(root: &Path) {
    std::fs::write(root.join("noctune.toml"), pipeline_config(1)).unwrap();
    for (name, text) in [
        ("a_applied.py", A),
        ("b_rejected.py", B),
        ("c_queued.py", C),
        ("d_repaired.py", D),
    ] {
        std::fs::write(root.join(name), text).unwrap();
    }
}

fn read(root: &Path, name: &str) -> String {
    std::fs::read_to_string(root.join(name)).unwrap()
}

fn run_json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|err| panic!("{err}: {:?}", text(output)))
}

/// Replaces what changes from run to run (ids, times, paths, durations) for snapshots.
fn stable(text: &str, root: &Path, run_id: &str) -> String {
    let mut out = text.replace(root.to_str().unwrap(), "[ROOT]");
    out = out.replace(run_id, "[RUN_ID]");
    let mut lines = Vec::new();
    for line in out.lines() {
        let line = if line.starts_with("- started: ") {
            "- started: [TIME]".to_owned()
        } else if let Some(rest) = line.strip_prefix("- model: `fake-model` at http://127.0.0.1:") {
            // The fake server's port.
            let (_, summary) = rest.split_once(": ").unwrap();
            format!("- model: `fake-model` at [URL]: {summary}")
        } else if line.starts_with('|') && !line.contains("---") && !line.contains("stage") {
            // | stage | calls | seconds | prompt tokens | answer tokens |
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            format!(
                "| {} | {} | [SECONDS] | {} | {} |",
                cells[1], cells[2], cells[4], cells[5]
            )
        } else {
            line.to_owned()
        };
        lines.push(line);
    }
    lines.join("\n") + "\n"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_run_through_the_fake_server() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_repo(root);
    let server = FakeServer::start(script()).await;

    let first = noctune_async(
        root,
        &[
            "run",
            "--yes",
            "--output-format",
            "json",
            "--run-id",
            "night-1",
        ],
        &server.url(),
    )
    .await;
    let (stdout, stderr) = text(&first);
    assert_eq!(
        first.status.code(),
        Some(1),
        "waiting approval is not success\n{stdout}\n{stderr}"
    );
    let json = run_json(&first);
    assert_eq!(
        json["summary"],
        json!({"applied": 2, "queued": 1, "rejected": 1, "proposed": 0, "unchanged": 0, "conflicts": 0, "failed": 0, "set_aside": 0})
    );
    assert_eq!(server.remaining(), 0, "every scripted answer was used");
    assert_eq!(server.chat_requests().len(), 16);

    // Applied: the approved text, atomically; the original is backed up.
    assert_eq!(
        read(root, "a_applied.py"),
        "def area(w: float, h: float) -> float:\n    return w * h\n"
    );
    // Rejected: untouched, the proposal kept.
    assert_eq!(read(root, "b_rejected.py"), B);
    // Queued: untouched until a human decides.
    assert_eq!(read(root, "c_queued.py"), C);
    // Repaired: ruff --fix removed the unused import the edit introduced, and the blank line
    // that separated it from the code went with it.
    assert_eq!(
        read(root, "d_repaired.py"),
        "def double(x: int) -> int:\n    return x * 2\n"
    );

    let runs = root.join(".noctune_cache/runs/night-1");
    let artifacts = |file: &str| {
        let task = noctune_core::TaskId::for_path(Path::new(file));
        runs.join("artifacts").join(task.as_str())
    };
    for name in [
        "review.md",
        "draft.json",
        "impact.json",
        "edit_raw_p1.txt",
        "edit_ops_p1.json",
        "apply_report_p1.json",
        "gates_p1.json",
        "approval_p1.json",
        "llm_review_p1.jsonl",
        "llm_edit_p1.jsonl",
    ] {
        assert!(
            artifacts("a_applied.py").join(name).is_file(),
            "missing {name}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(artifacts("b_rejected.py").join("proposed_full_file.py")).unwrap(),
        "def total(prices: list[float]) -> float:\n    with open(\"prices.txt\") as f:\n        return sum(float(x) for x in f)\n"
    );
    let b_approval: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(artifacts("b_rejected.py").join("approval_p1.json")).unwrap(),
    )
    .unwrap();
    let kinds: Vec<&str> = b_approval["change"]["signals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"dangerous_call_added"), "{kinds:?}");
    let d_gates: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(artifacts("d_repaired.py").join("gates_p1.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(d_gates["steps"]["outcome"], "repaired");
    assert!(
        runs.join(format!(
            "backups/{}/p1/a_applied.py",
            noctune_core::TaskId::for_path(Path::new("a_applied.py"))
        ))
        .is_file()
    );

    // The queued change: list it, approve it, resume; no model call is needed any more.
    let list = noctune_with_env(root, &["approvals", "list", "--output-format", "json"], &[]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let approvals = list["approvals"].as_array().unwrap();
    assert_eq!(approvals.len(), 1);
    assert_eq!(approvals[0]["approval"]["file"], "c_queued.py");
    assert_eq!(approvals[0]["decision"], serde_json::Value::Null);
    let id = approvals[0]["approval"]["approval_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let decided = noctune_with_env(
        root,
        &["approvals", "approve", &id, "--reason", "fine"],
        &[],
    );
    assert_eq!(decided.status.code(), Some(0), "{:?}", text(&decided));
    let again = noctune_with_env(root, &["approvals", "approve", &id], &[]);
    assert_eq!(again.status.code(), Some(2), "a decision is final");

    // Resumed without a terminal and without `--yes` (cron): the human's approval of this
    // very change is the consent, so it applies.
    let resumed = noctune_async(
        root,
        &["run", "--output-format", "json", "--run-id", "night-1"],
        &server.url(),
    )
    .await;
    assert_eq!(resumed.status.code(), Some(1), "{:?}", text(&resumed));
    assert_eq!(
        run_json(&resumed)["summary"],
        json!({"applied": 3, "queued": 0, "rejected": 1, "proposed": 0, "unchanged": 0, "conflicts": 0, "failed": 0, "set_aside": 0})
    );
    assert_eq!(
        server.chat_requests().len(),
        16,
        "resume reused every artifact"
    );
    assert_eq!(
        read(root, "c_queued.py"),
        "def greet(name: str) -> str:\n    return f\"Hello, {name}!\"\n"
    );

    let report = std::fs::read_to_string(runs.join("report.md")).unwrap();
    insta::assert_snapshot!("run_report", stable(&report, root, "night-1"));
    let html = std::fs::read_to_string(runs.join("report.html")).unwrap();
    assert!(html.starts_with("<!doctype html>") && html.contains("a_applied.py"));
    let draft = std::fs::read_to_string(artifacts("a_applied.py").join("draft.json")).unwrap();
    insta::assert_snapshot!("a_draft_json", draft);
    let ops = std::fs::read_to_string(artifacts("d_repaired.py").join("edit_ops_p1.json")).unwrap();
    insta::assert_snapshot!("d_edit_ops_json", ops);
}

/// A run records every exchange (`logs/llm.jsonl`); `--llm replay:` drives the same run
/// offline from it, with the same result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_run_replays_offline() {
    let recorded = tempfile::tempdir().unwrap();
    write_repo(recorded.path());
    let server = FakeServer::start(script()).await;
    let first = noctune_async(
        recorded.path(),
        &["run", "--yes", "--output-format", "json", "--run-id", "rec"],
        &server.url(),
    )
    .await;
    assert_eq!(first.status.code(), Some(1), "{:?}", text(&first));
    let transcript = recorded
        .path()
        .join(".noctune_cache/runs/rec/logs/llm.jsonl");
    assert_eq!(
        std::fs::read_to_string(&transcript)
            .unwrap()
            .lines()
            .count(),
        16,
        "one exchange per model call"
    );

    let replayed = tempfile::tempdir().unwrap();
    write_repo(replayed.path());
    let mode = format!("--llm=replay:{}", transcript.display());
    // No server: NOCTUNE_BASE_URL points nowhere; the replay answers everything.
    let second = noctune_async(
        replayed.path(),
        &[
            "run",
            "--yes",
            "--output-format",
            "json",
            "--run-id",
            "rec",
            &mode,
        ],
        "http://127.0.0.1:9/v1",
    )
    .await;
    assert_eq!(second.status.code(), Some(1), "{:?}", text(&second));
    assert_eq!(run_json(&second)["summary"], run_json(&first)["summary"]);
    for name in [
        "a_applied.py",
        "b_rejected.py",
        "c_queued.py",
        "d_repaired.py",
    ] {
        assert_eq!(
            read(replayed.path(), name),
            read(recorded.path(), name),
            "{name}"
        );
    }
}

/// Starts `noctune run --yes --run-id ID` against a slow scripted model (150 ms an answer) and
/// returns the running process once it has made its first model call.
#[cfg(unix)]
fn start_slow_run(root: &Path, run_id: &str, url: &str) -> std::process::Child {
    use std::time::{Duration, Instant};

    let child = std::process::Command::new(env!("CARGO_BIN_EXE_noctune"))
        .args([
            "run",
            "--yes",
            "--output-format",
            "json",
            "--run-id",
            run_id,
        ])
        .current_dir(root)
        .env("NOCTUNE_BASE_URL", url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let log = root.join(format!(".noctune_cache/runs/{run_id}/logs/events.jsonl"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("\"llm_call\"")
    {
        assert!(Instant::now() < deadline, "no model call within 30 s");
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

/// A scripted model answering each call after 150 ms.
#[cfg(unix)]
async fn slow_model() -> FakeServer {
    let slow: Vec<Reply> = script()
        .into_iter()
        .map(|r| r.delayed(std::time::Duration::from_millis(150)))
        .collect();
    FakeServer::start(slow).await
}

/// Without a terminal to ask, Ctrl+C (SIGINT) stops the run at the next safe point: status
/// `stopped`, nothing half-written, and `--run-id` resumes it to the end.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_at_a_safe_point_and_the_run_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    write_repo(&root);
    let server = slow_model().await;
    let url = server.url();
    let (stopped, events) = tokio::task::spawn_blocking(move || {
        let child = start_slow_run(&root, "int", &url);
        let status = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
        let log = root.join(".noctune_cache/runs/int/logs/events.jsonl");
        (run_json(&output), std::fs::read_to_string(&log).unwrap())
    })
    .await
    .unwrap();
    assert_eq!(stopped["status"], "stopped");
    assert!(events.contains("\"type\":\"stopped\""), "{events}");
    assert_eq!(
        read(dir.path(), "a_applied.py"),
        A,
        "stopped before any apply"
    );

    let resumed = noctune_async(
        dir.path(),
        &["run", "--yes", "--output-format", "json", "--run-id", "int"],
        &server.url(),
    )
    .await;
    assert_eq!(
        run_json(&resumed)["status"],
        "completed",
        "{:?}",
        text(&resumed)
    );
    assert_eq!(server.remaining(), 0, "the resume asked only what was left");
    assert_eq!(
        read(dir.path(), "a_applied.py"),
        "def area(w: float, h: float) -> float:\n    return w * h\n"
    );
}

/// A worker killed mid-run leaves `running` in run.json; `noctune status` sees that no process
/// holds the run and records `failed` with the reason (never a silent "done"); a resume then
/// completes the run.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_marks_a_dead_worker_failed_and_resume_completes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    write_repo(&root);
    let server = slow_model().await;
    let url = server.url();
    let killed_root = root.clone();
    tokio::task::spawn_blocking(move || {
        let mut child = start_slow_run(&killed_root, "dead", &url);
        child.kill().unwrap();
        child.wait().unwrap();
    })
    .await
    .unwrap();

    let status = noctune_with_env(&root, &["status", "--output-format", "json"], &[]);
    assert_eq!(status.status.code(), Some(0), "{:?}", text(&status));
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(json["run"]["status"], "failed");
    assert!(
        json["run"]["error"]
            .as_str()
            .unwrap()
            .contains("the worker died"),
        "{json}"
    );

    let resumed = noctune_async(
        &root,
        &[
            "run",
            "--yes",
            "--output-format",
            "json",
            "--run-id",
            "dead",
        ],
        &server.url(),
    )
    .await;
    assert_eq!(
        run_json(&resumed)["status"],
        "completed",
        "{:?}",
        text(&resumed)
    );
}

/// A resume does the same kind of work with the same pack as the run it resumes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_with_another_command_or_pack_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    write_repo(dir.path());
    let server = FakeServer::start((0..4).map(|_| review("P"))).await;
    let reviewed = noctune_async(dir.path(), &["review", "--run-id", "r"], &server.url()).await;
    assert_eq!(reviewed.status.code(), Some(0), "{:?}", text(&reviewed));
    assert_eq!(server.remaining(), 0);

    let edit = noctune_async(dir.path(), &["edit", "--run-id", "r"], &server.url()).await;
    assert_eq!(edit.status.code(), Some(2));
    assert!(
        text(&edit).1.contains("was started by `noctune review`"),
        "{:?}",
        text(&edit)
    );
    let pack = noctune_async(
        dir.path(),
        &["review", "--run-id", "r", "--pack", "typing_pass"],
        &server.url(),
    )
    .await;
    assert_eq!(pack.status.code(), Some(2));
    assert!(
        text(&pack).1.contains("uses pack `lint_fix`"),
        "{:?}",
        text(&pack)
    );
}

/// A plan may name a module chunk (the docstring, the imports): it has no callers, so no
/// evidence is searched for it, and the task goes on (a chunk's name is not an identifier to
/// search for).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plan_naming_a_module_chunk_needs_no_evidence() {
    use noctune_llm::fake::{FakeOptions, echo_model};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("noctune.toml"), pipeline_config(1)).unwrap();
    std::fs::write(
        root.join("tool.py"),
        "\"\"\"A tool.\"\"\"\nimport json\n\nDATA = json.dumps({})\n",
    )
    .unwrap();
    // The file has no definition (and nothing for ruff to fix): the echo model plans the first
    // chunk, `<docstring>`.
    let server = FakeServer::start_responder(FakeOptions::default(), echo_model).await;
    let output = noctune_async(
        root,
        &[
            "edit",
            "tool.py",
            "--output-format",
            "json",
            "--run-id",
            "chunk",
        ],
        &server.url(),
    )
    .await;
    let json = run_json(&output);
    assert_eq!(json["summary"]["failed"], 0, "{:?}", text(&output));
    assert_eq!(json["summary"]["unchanged"], 1, "{:?}", text(&output));
}

/// First contact: with no model server at the URL, a run stops at once (no retries on every
/// file), names the URL and how to start a model, and writes nothing.
#[test]
fn a_run_without_a_model_stops_before_touching_anything() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.py"), A).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/v1");
    let started = std::time::Instant::now();
    let output = noctune_with_env(dir.path(), &["run"], &[("NOCTUNE_BASE_URL", &url)]);
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("no model server answers at {url}")),
        "{stderr}"
    );
    assert!(stderr.contains("scripts/llm-server start"), "{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert!(
        !dir.path().join(".noctune_cache").exists(),
        "nothing is written"
    );
    assert_eq!(read(dir.path(), "a.py"), A);
}

/// A path that does not exist names where Noctune looked: the root it is taken from and the
/// current directory.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_path_says_where_it_looked() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("noctune.toml"), pipeline_config(1)).unwrap();
    let server = FakeServer::start(vec![]).await;
    let output = noctune_async(root, &["edit", "nope/missing.py"], &server.url()).await;
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let looked = root.join("nope/missing.py");
    assert!(
        stderr.contains(&format!("looked for `{}`", looked.display())),
        "{stderr}"
    );
    assert!(stderr.contains("current directory"), "{stderr}");
    assert_eq!(server.chat_requests().len(), 0);
}
