//! Supervised workers with a real child process (a shell script standing in for
//! `noctune run`; the real command is driven in noctune-cli's studio tests).

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use noctune_core::{RunId, RunStatus};
use pretty_assertions::assert_eq;
use serde_json::json;

use crate::common::TestApp;

async fn wait_for_status(
    app: &TestApp,
    run_id: &RunId,
    want: RunStatus,
) -> noctune_core::RunRecord {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let record = app.store().read(run_id).unwrap();
        if record.status == want && !app.state.supervisor.is_live(run_id) {
            return record;
        }
        assert!(Instant::now() < deadline, "run stayed {}", record.status);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_worker_killed_with_sigkill_marks_its_run_failed() {
    let app = TestApp::with_worker("echo \"worker $*\"\nexec sleep 30", 4);
    let (status, body) = app
        .post(
            "/api/runs",
            json!({ "pack": "lint_fix", "files": ["a.py"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let run_id = RunId::new(body["run_id"].as_str().unwrap()).unwrap();
    let (_, detail) = app.get(&format!("/api/runs/{run_id}")).await;
    assert_eq!(detail["status"], json!("queued"));
    let pid = detail["worker"]["pid"].as_u64().unwrap();
    // The file list is handed to the worker.
    let list = app
        .root()
        .join(format!(".noctune_cache/studio/file-lists/{run_id}.txt"));
    assert_eq!(std::fs::read_to_string(&list).unwrap(), "a.py\n");
    // Once the worker has written its first line (so the log's last line is known).
    let log = app.store().cache().run(&run_id).logs().join("worker.log");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("worker run")
    {
        assert!(Instant::now() < deadline, "the worker wrote nothing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let record = wait_for_status(&app, &run_id, RunStatus::Failed).await;
    let expected = format!(
        "the worker was killed by signal 9 (SIGKILL) (log: {}): worker run --root {} --run-id {run_id} --pack lint_fix --file-list {}",
        log.display(),
        app.root().display(),
        list.display()
    );
    assert_eq!(record.error.as_deref(), Some(expected.as_str()));
    let (_, detail) = app.get(&format!("/api/runs/{run_id}")).await;
    assert_eq!(detail["status"], json!("failed"));
    assert_eq!(detail["worker"], json!(null));
    let rows = app.audit_rows().await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].action.as_str(), rows[0].status),
        ("start_run", 201)
    );
}

#[tokio::test]
async fn a_worker_that_ignores_stop_is_escalated_and_the_run_is_stopped() {
    let app = TestApp::with_worker("trap '' INT\necho ready\nsleep 3 &\nwait", 4);
    let (status, body) = app.post("/api/runs", json!({ "pack": "lint_fix" })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let run_id = RunId::new(body["run_id"].as_str().unwrap()).unwrap();
    let log = app.store().cache().run(&run_id).logs().join("worker.log");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("ready")
    {
        assert!(Instant::now() < deadline, "the worker never got ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, body) = app
        .post(&format!("/api/runs/{run_id}/stop"), json!({}))
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::ACCEPTED,
            json!({ "run_id": run_id, "status": "stopping" })
        )
    );
    let (_, detail) = app.get(&format!("/api/runs/{run_id}")).await;
    assert_eq!(detail["status"], json!("stopping"));
    let record = wait_for_status(&app, &run_id, RunStatus::Stopped).await;
    assert_eq!(
        record.error.as_deref(),
        Some("the worker did not stop in time and was killed by the daemon by signal 9 (SIGKILL)")
    );
    let events: Vec<_> = app
        .store()
        .events(&run_id, 0, 100)
        .unwrap()
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    use noctune_core::EventType::*;
    assert_eq!(events, vec![RunCreated, RunStopping, Stopped]);
    // Stopping a stopped run is a conflict.
    let (status, body) = app
        .post(&format!("/api/runs/{run_id}/stop"), json!({}))
        .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::CONFLICT, json!("run_final"))
    );
}

#[tokio::test]
async fn a_worker_that_fails_before_starting_leaves_a_failed_run_with_its_reason() {
    let app = TestApp::with_worker("echo 'error: unknown pack `nope`' >&2\nexit 2", 4);
    let (status, body) = app.post("/api/runs", json!({ "pack": "nope" })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let run_id = RunId::new(body["run_id"].as_str().unwrap()).unwrap();
    let record = wait_for_status(&app, &run_id, RunStatus::Failed).await;
    let log = app.store().cache().run(&run_id).logs().join("worker.log");
    assert_eq!(
        record.error,
        Some(format!(
            "the worker exited with status 2 (log: {}): error: unknown pack `nope`",
            log.display()
        ))
    );
}

#[tokio::test]
async fn a_worker_that_cannot_start_fails_its_run_at_once() {
    let app = TestApp::new();
    std::fs::remove_file(app.dir.path().join("tools/fake-worker.sh")).unwrap();
    let (status, body) = app.post("/api/runs", json!({ "pack": "lint_fix" })).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::INTERNAL_SERVER_ERROR, json!("internal"))
    );
    let runs = app.store().list().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, RunStatus::Failed);
    let error = runs[0].error.clone().unwrap();
    assert!(
        error.starts_with("the worker could not be started: cannot start the worker `"),
        "{error}"
    );
}

/// How many workers the run's `worker.log` says were started (the script echoes each).
fn started(log: &std::path::Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .matches("worker run")
        .count()
}

/// A worker resumed after a decision that fails (the model server is down: `noctune run`
/// exits 2 before touching the run) is not started again and again: the decision waits for the
/// next resume, one worker was started.
#[tokio::test]
async fn a_resume_that_fails_is_not_repeated_in_a_loop() {
    let app = TestApp::with_worker("echo \"worker $*\"\nexit 2", 4);
    let (run_id, _) = app.seed_waiting_run(RunStatus::Completed);
    let (status, body) = app
        .post(
            "/api/runs/night-1/approvals/ap-1",
            json!({ "decision": "approve" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["resumed"], json!(true));
    let log = app.store().cache().run(&run_id).logs().join("worker.log");
    let deadline = Instant::now() + Duration::from_secs(10);
    while started(&log) == 0 {
        assert!(Instant::now() < deadline, "no worker was started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(started(&log), 1, "the failing resume was repeated");
    assert!(!app.state.supervisor.is_live(&run_id));
}

/// A decision that arrives while a worker drives the run is applied by a worker started once
/// that one exits, and only once.
#[tokio::test]
async fn a_decision_made_while_a_worker_runs_resumes_the_run_once_it_exits() {
    let app = TestApp::with_worker("echo \"worker $*\"\nsleep 1\nexit 0", 4);
    let (run_id, _) = app.seed_waiting_run(RunStatus::Completed);
    app.state.supervisor.spawn(&run_id, "lint_fix").unwrap();
    assert!(app.state.supervisor.is_live(&run_id));
    let (status, body) = app
        .post(
            "/api/runs/night-1/approvals/ap-1",
            json!({ "decision": "approve" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["resumed"], json!(false), "a worker drives the run");
    let log = app.store().cache().run(&run_id).logs().join("worker.log");
    let deadline = Instant::now() + Duration::from_secs(15);
    while started(&log) < 2 {
        assert!(
            Instant::now() < deadline,
            "the run was not resumed after its worker exited"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The resumed worker (a script: it settles nothing) is not followed by another.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(started(&log), 2);
}
