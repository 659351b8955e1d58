//! The chat's routes behind the same guards as the rest of the API: every attack is refused
//! with its status before the model is called or a permission, session or file changes, and
//! is audited.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use noctune_llm::fake::FakeServer;
use pretty_assertions::assert_eq;
use serde_json::json;

use crate::chat::{app_with_model, new_session};
use crate::common::{HOST, ORIGIN, TOKEN, TestApp};

/// The chat's state-changing routes with a valid body each.
fn posts(id: &str) -> Vec<(String, serde_json::Value)> {
    vec![
        ("/api/chat/sessions".to_owned(), json!({})),
        (
            format!("/api/chat/sessions/{id}/messages"),
            json!({"content": "hi"}),
        ),
        (format!("/api/chat/sessions/{id}/stop"), json!({})),
        (
            format!("/api/chat/sessions/{id}/permissions"),
            json!({"permission": "write", "grant": "always"}),
        ),
        (
            "/api/chat/backups/20260101-000000-abcdef/restore".to_owned(),
            json!({}),
        ),
    ]
}

async fn refused(
    app: &TestApp,
    server: &FakeServer,
    request: Request<Body>,
    status: StatusCode,
    code: &str,
) {
    let before = app.audit_rows().await.len();
    let path = request.uri().path().to_owned();
    let (got, body) = app.send(request).await;
    assert_eq!(
        (got, body["error"]["code"].as_str()),
        (status, Some(code)),
        "{path}: {body}"
    );
    let rows = app.audit_rows().await;
    assert_eq!(
        rows.len(),
        before + 1,
        "{path}: one audit row per rejection"
    );
    assert_eq!(rows.last().unwrap().action, format!("rejected:{code}"));
    assert!(
        server.chat_requests().is_empty(),
        "{path}: the model was called"
    );
    assert!(!app.root().join(".noctune_cache/studio_allow.json").exists());
}

fn post(path: &str) -> axum::http::request::Builder {
    Request::post(path).header("host", HOST)
}

#[tokio::test]
async fn chat_posts_refuse_foreign_origins_missing_tokens_csrf_and_non_json() {
    let server = FakeServer::start([]).await;
    let app = app_with_model(&server);
    let id = new_session(&app).await;
    let sessions_before = app.get("/api/chat/sessions").await.1["sessions"]
        .as_array()
        .unwrap()
        .len();
    let cookie = format!("noctune_studio={TOKEN}");
    for (path, body) in posts(&id) {
        let text = body.to_string();
        let foreign = post(&path)
            .header("origin", "http://evil.example")
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .body(Body::from(text.clone()))
            .unwrap();
        refused(&app, &server, foreign, StatusCode::FORBIDDEN, "bad_origin").await;
        let rebinding = Request::post(&path)
            .header("host", "evil.example:7331")
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .body(Body::from(text.clone()))
            .unwrap();
        refused(&app, &server, rebinding, StatusCode::FORBIDDEN, "bad_host").await;
        let anonymous = post(&path)
            .header("content-type", "application/json")
            .body(Body::from(text.clone()))
            .unwrap();
        refused(
            &app,
            &server,
            anonymous,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
        let no_csrf = post(&path)
            .header("origin", ORIGIN)
            .header("cookie", &cookie)
            .header("content-type", "application/json")
            .body(Body::from(text.clone()))
            .unwrap();
        refused(
            &app,
            &server,
            no_csrf,
            StatusCode::FORBIDDEN,
            "csrf_required",
        )
        .await;
        let csrf_no_origin = post(&path)
            .header("cookie", &cookie)
            .header("x-csrf-token", app.state.csrf.as_str())
            .header("content-type", "application/json")
            .body(Body::from(text.clone()))
            .unwrap();
        refused(
            &app,
            &server,
            csrf_no_origin,
            StatusCode::FORBIDDEN,
            "csrf_required",
        )
        .await;
        let plain = post(&path)
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "text/plain")
            .body(Body::from(text.clone()))
            .unwrap();
        refused(
            &app,
            &server,
            plain,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        )
        .await;
        let big = format!("{{\"content\":\"{}\"}}", "a".repeat(2 * 1024 * 1024));
        let oversized = post(&path)
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .header("content-length", big.len())
            .body(Body::from(big))
            .unwrap();
        refused(
            &app,
            &server,
            oversized,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        )
        .await;
        let by_get = Request::get(&path)
            .header("host", HOST)
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap();
        if path != "/api/chat/sessions" {
            refused(
                &app,
                &server,
                by_get,
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
            )
            .await;
        }
    }
    let sessions_after = app.get("/api/chat/sessions").await.1["sessions"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(sessions_after, sessions_before, "no session was created");
    let (_, session) = app.get(&format!("/api/chat/sessions/{id}")).await;
    assert_eq!(session["entries"], json!([]));
    assert_eq!(session["allowed"], json!([]));
}

#[tokio::test]
async fn reads_need_the_token_too() {
    let server = FakeServer::start([]).await;
    let app = app_with_model(&server);
    let id = new_session(&app).await;
    for path in [
        "/api/chat/settings".to_owned(),
        "/api/chat/sessions".to_owned(),
        format!("/api/chat/sessions/{id}"),
        format!("/api/chat/sessions/{id}/export"),
        "/api/chat/backups".to_owned(),
    ] {
        let request = Request::get(&path)
            .header("host", HOST)
            .body(Body::empty())
            .unwrap();
        refused(
            &app,
            &server,
            request,
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        )
        .await;
        let (status, _) = app.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn a_browser_with_its_csrf_token_and_origin_may_chat() {
    let server = FakeServer::start([noctune_llm::fake::Reply::answer("hello")]).await;
    let app = app_with_model(&server);
    let request = Request::post("/api/chat/sessions")
        .header("host", HOST)
        .header("origin", ORIGIN)
        .header("cookie", format!("noctune_studio={TOKEN}"))
        .header("x-csrf-token", app.state.csrf.as_str())
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    let (status, body) = app.send(request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let rows = app.audit_rows().await;
    let row = rows.last().unwrap();
    assert_eq!(
        (row.who.as_str(), row.action.as_str()),
        ("browser", "chat_session")
    );
}

#[tokio::test]
async fn the_chat_page_is_served_to_the_cookie_holder_only() {
    let app = TestApp::new();
    let anonymous = Request::get("/chat")
        .header("host", HOST)
        .body(Body::empty())
        .unwrap();
    let (status, body) = app.send(anonymous).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let page = body.as_str().unwrap();
    assert!(!page.contains(app.state.csrf.as_str()) && !page.contains("chat.js"));
    let signed_in = Request::get("/chat")
        .header("host", HOST)
        .header("cookie", format!("noctune_studio={TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let (status, body) = app.send(signed_in).await;
    assert_eq!(status, StatusCode::OK);
    let page = body.as_str().unwrap();
    assert!(
        page.contains(app.state.csrf.as_str()),
        "the page carries the CSRF token"
    );
    assert!(page.contains(&format!("/assets/{}/chat.js", app.state.asset_version)));
    let foreign = Request::get("/chat")
        .header("host", "evil.example:7331")
        .header("cookie", format!("noctune_studio={TOKEN}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(foreign).await.0, StatusCode::FORBIDDEN);
}
