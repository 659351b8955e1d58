//! `POST /api/tasks` through `oneshot`: behind the same token, Host/Origin, CSRF and JSON
//! rules as `POST /api/runs` (each refusal audited, nothing started); a good request creates
//! a run with command `task` and starts `noctune task ... -- REQUEST` as its worker.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use noctune_core::RunId;
use pretty_assertions::assert_eq;
use serde_json::json;

use crate::common::{HOST, ORIGIN, TOKEN, TestApp};

fn start_task(builder: axum::http::request::Builder, body: &serde_json::Value) -> Request<Body> {
    builder
        .method("POST")
        .uri("/api/tasks")
        .header("host", HOST)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Asserts the status and error code, and that no run was created (the audit rows are
/// checked together at the end).
async fn refused(app: &TestApp, request: Request<Body>, status: StatusCode, code: &str) {
    let (got, body) = app.send(request).await;
    assert_eq!(
        (got, body["error"]["code"].as_str()),
        (status, Some(code)),
        "{body}"
    );
    assert!(
        !app.root().join(".noctune_cache/runs").exists(),
        "a refused request created a run"
    );
}

#[tokio::test]
async fn starting_a_task_needs_the_token_an_allowed_origin_and_csrf_for_cookies() {
    let app = TestApp::new();
    let body = json!({ "request": "add fib(n) with a test" });
    let bearer = format!("Bearer {TOKEN}");
    let cookie = format!("noctune_studio={TOKEN}");
    // No token.
    refused(
        &app,
        start_task(Request::builder(), &body),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    // A wrong token.
    refused(
        &app,
        start_task(
            Request::builder().header("authorization", "Bearer nope"),
            &body,
        ),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    // The token, from a foreign page.
    refused(
        &app,
        start_task(
            Request::builder()
                .header("authorization", &bearer)
                .header("origin", "http://evil.example"),
            &body,
        ),
        StatusCode::FORBIDDEN,
        "bad_origin",
    )
    .await;
    // The token, through a rebound name.
    refused(
        &app,
        Request::post("/api/tasks")
            .header("host", "evil.example:7331")
            .header("authorization", &bearer)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
        StatusCode::FORBIDDEN,
        "bad_host",
    )
    .await;
    // The session cookie without the CSRF token, and with a wrong one.
    refused(
        &app,
        start_task(
            Request::builder()
                .header("origin", ORIGIN)
                .header("cookie", &cookie),
            &body,
        ),
        StatusCode::FORBIDDEN,
        "csrf_required",
    )
    .await;
    refused(
        &app,
        start_task(
            Request::builder()
                .header("origin", ORIGIN)
                .header("cookie", &cookie)
                .header("x-csrf-token", TOKEN),
            &body,
        ),
        StatusCode::FORBIDDEN,
        "csrf_required",
    )
    .await;
    // A form post (no JSON) and a GET.
    refused(
        &app,
        Request::post("/api/tasks")
            .header("host", HOST)
            .header("authorization", &bearer)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("request=add+fib"))
            .unwrap(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    refused(
        &app,
        Request::get("/api/tasks")
            .header("host", HOST)
            .header("authorization", &bearer)
            .body(Body::empty())
            .unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await;
    let rejected: Vec<String> = app
        .audit_rows()
        .await
        .into_iter()
        .map(|row| row.action)
        .collect();
    assert_eq!(
        rejected,
        vec![
            "rejected:unauthorized",
            "rejected:unauthorized",
            "rejected:bad_origin",
            "rejected:bad_host",
            "rejected:csrf_required",
            "rejected:csrf_required",
            "rejected:unsupported_media_type",
            "rejected:method_not_allowed",
        ]
    );
}

#[tokio::test]
async fn a_task_body_is_checked_before_anything_starts() {
    let app = TestApp::new();
    let cases = [
        (json!({ "request": "  " }), "bad_request_text"),
        (json!({}), "bad_json"),
        (json!({ "request": "add fib", "pack": "a b" }), "bad_pack"),
        (
            json!({ "request": "add fib", "paths": ["../x"] }),
            "bad_path",
        ),
        (json!({ "request": "add fib", "bogus": true }), "bad_json"),
    ];
    for (body, code) in cases {
        let (status, answer) = app.post("/api/tasks", body.clone()).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (StatusCode::BAD_REQUEST, Some(code)),
            "{body}: {answer}"
        );
    }
    assert!(!app.root().join(".noctune_cache/runs").exists());
}

#[tokio::test]
async fn a_browser_session_starts_a_task_whose_worker_gets_the_request() {
    let app = TestApp::with_worker("printf 'arg:%s\\n' \"$@\"\nexit 0", 4);
    let request = "add fib(n) with a test";
    let good = Request::post("/api/tasks")
        .header("host", HOST)
        .header("origin", ORIGIN)
        .header("cookie", format!("noctune_studio={TOKEN}"))
        .header("x-csrf-token", app.state.csrf.as_str())
        .header("content-type", "application/json")
        .body(Body::from(
            json!({ "request": request, "pack": "feature" }).to_string(),
        ))
        .unwrap();
    let (status, body) = app.send(good).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        (body["status"].as_str(), body["pack"].as_str()),
        (Some("queued"), Some("feature"))
    );
    let run_id = RunId::new(body["run_id"].as_str().unwrap()).unwrap();
    assert_eq!(
        app.store().read(&run_id).unwrap().command.as_deref(),
        Some("task")
    );
    // The run routes show it like any run.
    let (status, detail) = app.get(&format!("/api/runs/{run_id}")).await;
    assert_eq!(
        (
            status,
            detail["run"]["command"].as_str(),
            detail["task"]["request"].as_str()
        ),
        (StatusCode::OK, Some("task"), Some(request))
    );
    let log = app.store().cache().run(&run_id).logs().join("worker.log");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains(&format!("arg:{request}\n"))
    {
        assert!(Instant::now() < deadline, "the task worker did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = std::fs::read_to_string(&log).unwrap();
    assert!(log.starts_with("arg:task\narg:--root\n"), "{log}");
    assert!(log.contains("arg:--yes\narg:--\narg:add fib"), "{log}");
    let rows: Vec<(String, String, String)> = app
        .audit_rows()
        .await
        .into_iter()
        .map(|row| (row.who, row.action, row.path))
        .collect();
    assert_eq!(
        rows,
        vec![(
            "browser".to_owned(),
            "start_task".to_owned(),
            "/api/tasks".to_owned()
        )]
    );
}

#[tokio::test]
async fn the_run_detail_shows_a_task_runs_request_and_outcome() {
    use noctune_core::request::{REQUEST_TASK, TaskOutcome, TaskReport};
    use noctune_core::store::RunSpec;

    let app = TestApp::new();
    let store = app.store();
    let run = store
        .create(RunSpec {
            run_id: Some(RunId::new("task-1").unwrap()),
            pack: Some("feature".into()),
            command: Some("task".into()),
            ..RunSpec::default()
        })
        .unwrap();
    let task_id = noctune_core::TaskId::for_path(std::path::Path::new(REQUEST_TASK));
    let (status, detail) = app.get("/api/runs/task-1").await;
    // Started by `noctune task` (no request kept by Studio) and not ended: nothing to show yet.
    assert_eq!(
        (status, detail["task"].clone()),
        (
            StatusCode::OK,
            json!({ "request": null, "outcome": null, "summary": null })
        )
    );
    let report = TaskReport {
        request: "add fib(n) with a test".into(),
        plan: None,
        notes: Vec::new(),
        attempts: Vec::new(),
        outcome: TaskOutcome::Reverted {
            verifier: "tests".into(),
            why: "1 failed".into(),
            attempts: 4,
        },
    };
    run.write_artifact(
        &task_id,
        "task_result.json",
        &serde_json::to_vec(&report).unwrap(),
    )
    .unwrap();
    drop(run);
    let (_, detail) = app.get("/api/runs/task-1").await;
    assert_eq!(
        detail["task"],
        json!({
            "request": "add fib(n) with a test",
            "outcome": { "outcome": "reverted", "verifier": "tests", "why": "1 failed", "attempts": 4 },
            "summary": report.outcome.describe(),
        })
    );
    // Other runs have no `task`; lists leave it out.
    let (_, list) = app.get("/api/runs").await;
    assert!(list["runs"][0].get("task").is_none(), "{list}");
}
