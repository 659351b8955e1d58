//! The API through `oneshot`: runs, events, approvals, decisions, diff, report.

use axum::http::StatusCode;
use noctune_core::RunStatus;
use pretty_assertions::assert_eq;
use serde_json::json;

use crate::common::TestApp;

#[tokio::test]
async fn an_empty_root_lists_no_runs() {
    let app = TestApp::new();
    assert_eq!(
        app.get("/api/runs").await,
        (StatusCode::OK, json!({ "runs": [] }))
    );
}

#[tokio::test]
async fn an_unknown_run_is_a_json_404() {
    let app = TestApp::new();
    assert_eq!(
        app.get("/api/runs/zzz").await,
        (
            StatusCode::NOT_FOUND,
            json!({ "error": { "code": "not_found", "message": "no run `zzz`" } })
        )
    );
    assert_eq!(
        app.get("/api/nothing").await,
        (
            StatusCode::NOT_FOUND,
            json!({ "error": { "code": "not_found", "message": "no route `/nothing`" } })
        )
    );
}

#[tokio::test]
async fn run_detail_and_list_show_run_json() {
    let app = TestApp::new();
    let (run_id, _) = app.seed_waiting_run(RunStatus::Completed);
    let record = app.store().read(&run_id).unwrap();
    let (status, body) = app.get("/api/runs/night-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["run"], serde_json::to_value(&record).unwrap());
    assert_eq!(body["status"], json!("completed"));
    assert_eq!(body["pending_approvals"], json!(1));
    assert_eq!(body["worker"], json!(null));
    assert_eq!(body["tasks"][0]["status"], json!("waiting_approval"));
    let (status, list) = app.get("/api/runs").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["runs"].as_array().unwrap().len(), 1);
    assert_eq!(list["runs"][0], body);
}

#[tokio::test]
async fn events_page_by_cursor() {
    let app = TestApp::new();
    app.seed_waiting_run(RunStatus::Completed);
    let (status, body) = app.get("/api/runs/night-1/events").await;
    assert_eq!(status, StatusCode::OK);
    let types: Vec<_> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["idx"].as_u64().unwrap(),
                e["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        types,
        vec![
            (1, "run_created".to_owned()),
            (2, "run_started".to_owned()),
            (3, "approval_queued".to_owned()),
            (4, "run_completed".to_owned()),
        ]
    );
    assert_eq!(body["next_cursor"], json!(4));
    let (_, after) = app.get("/api/runs/night-1/events?cursor=2&limit=1").await;
    assert_eq!(after["events"].as_array().unwrap().len(), 1);
    assert_eq!(after["events"][0]["idx"], json!(3));
    assert_eq!(after["next_cursor"], json!(3));
    let (_, end) = app.get("/api/runs/night-1/events?cursor=4").await;
    assert_eq!(end, json!({ "events": [], "next_cursor": 4 }));
    let (status, bad) = app.get("/api/runs/night-1/events?cursor=x").await;
    assert_eq!(
        (status, bad["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("bad_query"))
    );
}

#[tokio::test]
async fn approvals_list_and_diff() {
    let app = TestApp::new();
    let (run_id, approval_id) = app.seed_waiting_run(RunStatus::Completed);
    let approval = app
        .store()
        .approval(&run_id, &approval_id)
        .unwrap()
        .approval;
    let (status, body) = app.get("/api/runs/night-1/approvals").await;
    assert_eq!(status, StatusCode::OK);
    let listed = &body["approvals"][0];
    assert_eq!(listed["state"], json!("pending"));
    assert_eq!(listed["decision"], json!(null));
    assert_eq!(listed["approval_id"], json!("ap-1"));
    let expected_diff = "--- a/a.py (f)\n+++ b/a.py (f)\n@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 2\n";
    assert_eq!(listed["diff"], json!(expected_diff));
    let (status, diff) = app.get("/api/runs/night-1/approvals/ap-1/diff").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        diff,
        json!({
            "approval_id": "ap-1",
            "file": "a.py",
            "changes": approval.changes,
            "diff": expected_diff,
            "risk": approval.risk,
            "signals": [],
            "reason": "removes a call",
        })
    );
}

#[tokio::test]
async fn deciding_needs_a_reason_to_reject_and_is_final() {
    let app = TestApp::new();
    let (run_id, approval_id) = app.seed_waiting_run(RunStatus::Running);
    // Keep the run "driven" so no resume worker is started by the decision.
    let _driver = app.store().open(&run_id).unwrap();
    let (status, body) = app
        .post(
            "/api/runs/night-1/approvals/ap-1",
            json!({ "decision": "reject" }),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            json!({ "error": { "code": "reason_required", "message": "a rejection needs a reason" } })
        )
    );
    let (status, body) = app
        .post(
            "/api/runs/night-1/approvals/ap-1",
            json!({ "decision": "reject", "reason": "changes the result" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["decision"]["decision"], json!("reject"));
    assert_eq!(body["decision"]["decided_by"], json!("studio:token"));
    assert_eq!(body["decision"]["reason"], json!("changes the result"));
    assert_eq!(body["resumed"], json!(false));
    let on_disk = app
        .store()
        .decision(&run_id, &approval_id)
        .unwrap()
        .unwrap();
    assert_eq!(body["decision"], serde_json::to_value(&on_disk).unwrap());
    let (status, body) = app
        .post(
            "/api/runs/night-1/approvals/ap-1",
            json!({ "decision": "approve" }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], json!("already_decided"));
    let (_, list) = app.get("/api/runs/night-1/approvals").await;
    assert_eq!(list["approvals"][0]["state"], json!("rejected"));
    let rows = app.audit_rows().await;
    let actions: Vec<_> = rows.iter().map(|r| (r.action.as_str(), r.status)).collect();
    assert_eq!(
        actions,
        vec![
            ("rejected:reason_required", 400),
            ("decide", 200),
            ("rejected:already_decided", 409)
        ]
    );
    assert_eq!(rows[0].who, "token");
    assert_eq!(rows[0].path, "/api/runs/night-1/approvals/ap-1");
}

#[tokio::test]
async fn a_stale_approval_is_a_409_and_nothing_is_decided() {
    let app = TestApp::new();
    let (run_id, approval_id) = app.seed_waiting_run(RunStatus::Completed);
    std::fs::write(app.root().join("a.py"), "def f():\n    return 3\n").unwrap();
    let (status, body) = app
        .post(
            "/api/runs/night-1/approvals/ap-1",
            json!({ "decision": "approve" }),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::CONFLICT,
            json!({ "error": { "code": "stale_approval", "message": "`a.py` changed since the run read it" } })
        )
    );
    assert_eq!(app.store().decision(&run_id, &approval_id).unwrap(), None);
    let (_, list) = app.get("/api/runs/night-1/approvals").await;
    assert_eq!(list["approvals"][0]["state"], json!("stale"));
}

#[tokio::test]
async fn the_report_is_served_as_data_and_markdown() {
    let app = TestApp::new();
    let (run_id, _) = app.seed_waiting_run(RunStatus::Completed);
    let report = noctune_core::report::gather(&app.store(), &run_id).unwrap();
    let (status, body) = app.get("/api/runs/night-1/report").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({
            "report": report,
            "markdown": noctune_core::report::markdown::render(&report),
        })
    );
}

#[tokio::test]
async fn starting_a_run_validates_its_body() {
    let app = TestApp::new();
    for (body, code) in [
        (
            json!({ "pack": "lint_fix", "profile": "big" }),
            "unsupported",
        ),
        (json!({ "pack": "../x" }), "bad_pack"),
        (
            json!({ "pack": "lint_fix", "files": ["../etc/x.py"] }),
            "bad_file",
        ),
        (
            json!({ "pack": "lint_fix", "files": ["/abs.py"] }),
            "bad_file",
        ),
        (
            json!({ "pack": "lint_fix", "files": ["notes.txt"] }),
            "bad_file",
        ),
    ] {
        let (status, answer) = app.post("/api/runs", body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["error"]["code"], json!(code), "{body}");
    }
    assert!(!app.root().join(".noctune_cache/runs").exists());
}

#[tokio::test]
async fn the_live_tail_sends_every_event_then_ends_for_a_finished_run() {
    let app = TestApp::new();
    let (run_id, _) = app.seed_waiting_run(RunStatus::Completed);
    let (status, body) = app.get("/api/runs/night-1/events/stream?cursor=2").await;
    assert_eq!(status, StatusCode::OK);
    let events = app.store().events(&run_id, 2, 100).unwrap();
    let mut expected = String::new();
    for event in &events {
        expected.push_str(&format!(
            "id: {}\nevent: event\ndata: {}\n\n",
            event.idx,
            serde_json::to_string(event).unwrap()
        ));
    }
    expected.push_str("event: end\ndata: {}\n\n");
    assert_eq!(body, json!(expected));
    // Last-Event-ID resumes after that event.
    let request =
        crate::common::authed(axum::http::Request::get("/api/runs/night-1/events/stream"))
            .header("last-event-id", "3")
            .body(axum::body::Body::empty())
            .unwrap();
    let (_, body) = app.send(request).await;
    assert!(body.as_str().unwrap().starts_with("id: 4\n"), "{body}");
}
