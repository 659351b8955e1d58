//! What `run.json` and the task states tell a user while and after a run: `starting` before
//! the file walk, the git branch and HEAD and the model profile, `stopping` while a stop is
//! under way, and no task left `running` by a run that failed or stopped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use noctune_llm::fake::{FakeServer, Reply};
use pretty_assertions::assert_eq;
use serde_json::Value;

use crate::fake_model::{code, pipeline_config, plan, review, verdict};
use crate::{noctune_async, noctune_with_env, text};

const AREA: &str = "def area(w, h):\n    return w * h\n";

fn write_repo(root: &Path) {
    std::fs::write(root.join("noctune.toml"), pipeline_config(1)).unwrap();
    std::fs::write(root.join("area.py"), AREA).unwrap();
}

fn git(root: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args([
            "-c",
            "user.name=Night",
            "-c",
            "user.email=night@example.com",
        ])
        .args(args)
        .current_dir(root)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

fn run_json_path(root: &Path, run_id: &str) -> PathBuf {
    root.join(format!(".noctune_cache/runs/{run_id}/state/run.json"))
}

fn read_run_json(root: &Path, run_id: &str) -> Value {
    serde_json::from_slice(&std::fs::read(run_json_path(root, run_id)).unwrap()).unwrap()
}

fn tasks(root: &Path, run_id: &str) -> Vec<Value> {
    let dir = root.join(format!(".noctune_cache/runs/{run_id}/state/tasks"));
    let mut tasks: Vec<Value> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap())
        .collect();
    tasks.sort_by_key(|t| t["file"].as_str().unwrap().to_owned());
    tasks
}

/// `noctune run --output-format json ARGS` as a child process, stdout and stderr piped.
fn spawn_run(root: &Path, args: &[&str], url: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_noctune"))
        .args(["run", "--output-format", "json"])
        .args(args)
        .current_dir(root)
        .env("NOCTUNE_BASE_URL", url)
        .env_remove("NOCTUNE_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `check` holds, or fails naming `what`.
fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn status_of(root: &Path, run_id: &str) -> Option<String> {
    let bytes = std::fs::read(run_json_path(root, run_id)).ok()?;
    let record: Value = serde_json::from_slice(&bytes).ok()?;
    record["status"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_json_records_the_git_branch_head_and_profile() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_repo(root);
    git(root, &["init", "-q", "-b", "night"]);
    git(root, &["add", "area.py", "noctune.toml"]);
    git(root, &["commit", "-q", "-m", "start"]);
    let head = git(root, &["rev-parse", "HEAD"]);
    let server = FakeServer::start([review("W")]).await;

    let output = noctune_async(
        root,
        &["run", "--output-format", "json", "--run-id", "git-1"],
        &server.url(),
    )
    .await;
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let record = read_run_json(root, "git-1");
    assert_eq!(
        (
            &record["status"],
            &record["branch"],
            &record["head_sha"],
            &record["profile"]
        ),
        (
            &Value::from("completed"),
            &Value::from("night"),
            &Value::from(head.as_str()),
            &Value::from("default")
        )
    );
    let status = noctune_with_env(root, &["status", "--run-id", "git-1"], &[]);
    let (stdout, _) = text(&status);
    let short: String = head.chars().take(12).collect();
    assert!(
        stdout.contains(&format!(
            "  pack lint_fix, profile default, git night at {short}\n"
        )),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outside_git_the_branch_and_head_are_null_and_git_says_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_repo(root);
    let server = FakeServer::start([review("W")]).await;

    let output = noctune_async(
        root,
        &["run", "--output-format", "json", "--run-id", "plain"],
        &server.url(),
    )
    .await;
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.contains("git") && !stderr.contains("fatal"),
        "{stderr}"
    );
    let record = read_run_json(root, "plain");
    assert_eq!(
        (&record["branch"], &record["head_sha"], &record["profile"]),
        (&Value::Null, &Value::Null, &Value::from("default"))
    );
}

/// `--file-list` is a named pipe the test writes only once it has seen `run.json`: the run
/// must say `starting` while it waits for its file list, before any file is walked.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_json_says_starting_before_the_file_walk() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    write_repo(&root);
    let fifo = root.join("files.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let server = FakeServer::start([review("W")]).await;
    let url = server.url();
    let (seen, output) = tokio::task::spawn_blocking(move || {
        let child = spawn_run(
            &root,
            &["--run-id", "early", "--file-list", fifo.to_str().unwrap()],
            &url,
        );
        wait_for("run.json", || status_of(&root, "early").is_some());
        let seen = read_run_json(&root, "early");
        std::fs::write(&fifo, "area.py\n").unwrap();
        (seen, child.wait_with_output().unwrap())
    })
    .await
    .unwrap();
    assert_eq!(seen["status"], "starting", "{seen}");
    assert_eq!(seen["profile"], "default", "{seen}");
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    assert_eq!(read_run_json(dir.path(), "early")["status"], "completed");
    assert_eq!(server.remaining(), 0);
}

/// A run killed with SIGKILL while `starting` holds no lock: `noctune status` records it
/// `failed` with the reason, and `--run-id` resumes it to the end.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_killed_while_starting_is_failed_by_status_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    write_repo(&root);
    let fifo = root.join("files.fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let server = FakeServer::start([review("W")]).await;
    let url = server.url();
    let killed_root = root.clone();
    tokio::task::spawn_blocking(move || {
        let mut child = spawn_run(
            &killed_root,
            &["--run-id", "cut", "--file-list", fifo.to_str().unwrap()],
            &url,
        );
        wait_for("starting", || {
            status_of(&killed_root, "cut").as_deref() == Some("starting")
        });
        child.kill().unwrap();
        child.wait().unwrap();
    })
    .await
    .unwrap();

    let status = noctune_with_env(&root, &["status", "--output-format", "json"], &[]);
    assert_eq!(status.status.code(), Some(0), "{:?}", text(&status));
    let json: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(
        (&json["run"]["status"], &json["run"]["error"]),
        (
            &Value::from("failed"),
            &Value::from("the worker died (no process holds the run lock)")
        )
    );

    let resumed = noctune_async(
        &root,
        &["run", "--output-format", "json", "--run-id", "cut"],
        &server.url(),
    )
    .await;
    assert_eq!(resumed.status.code(), Some(0), "{:?}", text(&resumed));
    let record = read_run_json(&root, "cut");
    assert_eq!(
        (&record["status"], &record["error"]),
        (&Value::from("completed"), &Value::Null)
    );
    assert_eq!(server.remaining(), 0);
}

/// SIGINT (what Studio sends to stop a worker) makes the worker write `stopping` into its
/// `run.json` at once, while the model is still answering; at the next safe point the run is
/// `stopped`, and the task it was on is `pending`, not `running`.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_marks_the_run_stopping_until_it_stops() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    write_repo(&root);
    let server = FakeServer::start([review("P").delayed(Duration::from_secs(3))]).await;
    let url = server.url();
    let (stopping, output) = tokio::task::spawn_blocking(move || {
        let child = spawn_run(&root, &["--run-id", "halt"], &url);
        let events = root.join(".noctune_cache/runs/halt/logs/events.jsonl");
        wait_for("the first task", || {
            std::fs::read_to_string(&events)
                .unwrap_or_default()
                .contains("\"task_started\"")
        });
        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        wait_for("stopping", || {
            status_of(&root, "halt").as_deref() != Some("running")
        });
        let stopping = read_run_json(&root, "halt");
        (stopping, child.wait_with_output().unwrap())
    })
    .await
    .unwrap();
    assert_eq!(stopping["status"], "stopping", "{stopping}");
    assert_eq!(output.status.code(), Some(0), "{:?}", text(&output));
    let root = dir.path();
    assert_eq!(read_run_json(root, "halt")["status"], "stopped");
    let events =
        std::fs::read_to_string(root.join(".noctune_cache/runs/halt/logs/events.jsonl")).unwrap();
    let types: Vec<String> = events
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["type"].to_string())
        .filter(|t| t.starts_with("\"run_") || t == "\"stopped\"")
        .collect();
    assert_eq!(
        types,
        [
            "\"run_created\"",
            "\"run_started\"",
            "\"run_stopping\"",
            "\"stopped\""
        ]
    );
    let tasks = tasks(root, "halt");
    assert_eq!(
        (&tasks[0]["status"], &tasks[0]["stage"]),
        (&Value::from("pending"), &Value::from("review"))
    );
}

/// The model server fails in the middle of a file: the run is `failed` with the reason, and
/// the file it was on says `failed` with the same reason, not `running`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_run_leaves_no_task_running() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_repo(root);
    let server =
        FakeServer::start([review("P"), Reply::error(500, "the GPU fell off the bus")]).await;

    let output = noctune_async(
        root,
        &["run", "--output-format", "json", "--run-id", "down"],
        &server.url(),
    )
    .await;
    assert_eq!(output.status.code(), Some(2), "{:?}", text(&output));
    let record = read_run_json(root, "down");
    assert_eq!(record["status"], "failed");
    let error = record["error"].as_str().unwrap();
    assert!(
        error.contains("model unreachable while on `area.py`"),
        "{error}"
    );
    let tasks = tasks(root, "down");
    assert_eq!(
        (&tasks[0]["status"], &tasks[0]["stage"], &tasks[0]["error"]),
        (
            &Value::from("failed"),
            &Value::from("draft"),
            &Value::from(error)
        )
    );
}

/// Without a terminal, the progress lines on stderr name each stage a file enters, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_progress_lines_name_each_stage() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write_repo(root);
    let server = FakeServer::start([
        review("P"),
        plan(&["area"]),
        code("def area(w: float, h: float) -> float:\n    return w * h\n"),
        verdict("approve", 0.1),
    ])
    .await;

    let output = noctune_async(root, &["run", "--yes", "--run-id", "steps"], &server.url()).await;
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let stages: Vec<&str> = stderr
        .lines()
        .filter_map(|line| line.split_once("area.py pass 1: "))
        .filter_map(|(_, rest)| rest.split_whitespace().next())
        .collect();
    assert_eq!(
        stages,
        ["review", "draft", "edit", "gates", "approve", "apply"],
        "{stderr}"
    );
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with("[0/1] area.py pass 1: review ")),
        "{stderr}"
    );
}
