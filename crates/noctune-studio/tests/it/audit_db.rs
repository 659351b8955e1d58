//! The audit database: idempotent ingest, and the API served from it when the run's files
//! are gone.

use axum::http::StatusCode;
use noctune_core::RunStatus;
use pretty_assertions::assert_eq;
use serde_json::json;

use crate::common::TestApp;

#[tokio::test]
async fn status_approvals_decisions_and_events_survive_losing_the_event_log() {
    let app = TestApp::new();
    let (run_id, approval_id) = app.seed_waiting_run(RunStatus::Completed);
    app.store()
        .decide(
            &run_id,
            &approval_id,
            noctune_core::DecisionKind::Approve,
            "cli:me",
            None,
        )
        .unwrap();
    let (_, run_before) = app.get("/api/runs/night-1").await;
    let (_, approvals_before) = app.get("/api/runs/night-1/approvals").await;
    let (_, events_before) = app.get("/api/runs/night-1/events?cursor=2").await;
    assert_eq!(events_before["events"].as_array().unwrap().len(), 3);
    assert_eq!(
        approvals_before["approvals"][0]["decision"]["decided_by"],
        json!("cli:me")
    );

    let layout = app.store().cache().run(&run_id);
    std::fs::remove_file(layout.events()).unwrap();
    assert_eq!(
        app.get("/api/runs/night-1").await,
        (StatusCode::OK, run_before.clone())
    );
    assert_eq!(
        app.get("/api/runs/night-1/approvals").await.1["approvals"][0]["decision"],
        approvals_before["approvals"][0]["decision"]
    );
    assert_eq!(
        app.get("/api/runs/night-1/events?cursor=2").await,
        (StatusCode::OK, events_before.clone())
    );

    // Even with the whole run directory gone, the database still answers.
    std::fs::remove_dir_all(layout.dir()).unwrap();
    let (status, run_after) = app.get("/api/runs/night-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(run_after["run"], run_before["run"]);
    assert_eq!(run_after["status"], json!("completed"));
    let (_, approvals_after) = app.get("/api/runs/night-1/approvals").await;
    assert_eq!(
        approvals_after["approvals"][0]["approval_id"],
        json!("ap-1")
    );
    assert_eq!(
        approvals_after["approvals"][0]["decision"],
        approvals_before["approvals"][0]["decision"]
    );
    assert_eq!(
        app.get("/api/runs/night-1/events?cursor=2").await.1,
        events_before
    );
}

#[tokio::test]
async fn ingest_is_idempotent_by_run_and_idx() {
    let app = TestApp::new();
    app.seed_waiting_run(RunStatus::Completed);
    for _ in 0..3 {
        app.state.ingest_all().await;
    }
    let path = app.state.db.path().to_path_buf();
    let counts = app
        .state
        .db
        .call(move |conn| {
            let count = |table: &str| -> i64 {
                conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                    .unwrap()
            };
            Ok((
                count("runs"),
                count("events"),
                count("approvals"),
                count("decisions"),
            ))
        })
        .await
        .unwrap();
    assert_eq!(counts, (1, 4, 1, 0));
    let mode: String = rusqlite::Connection::open(path)
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}
