//! Attacks from issue 10, item 8, through `oneshot`: each is rejected with the status given,
//! before any side effect, and writes an audit row.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use pretty_assertions::assert_eq;
use serde_json::json;
use tower::ServiceExt;

use crate::common::{HOST, ORIGIN, TOKEN, TestApp};

fn start_run(builder: axum::http::request::Builder) -> Request<Body> {
    builder
        .method("POST")
        .uri("/api/runs")
        .header("content-type", "application/json")
        .body(Body::from(json!({ "pack": "lint_fix" }).to_string()))
        .unwrap()
}

/// Sends the request; asserts the status and error code, that no run was created, and that
/// an audit row names the rejection.
async fn refused(app: &TestApp, request: Request<Body>, status: StatusCode, code: &str) {
    let before = app.audit_rows().await.len();
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
    let rows = app.audit_rows().await;
    assert_eq!(rows.len(), before + 1, "one audit row per rejection");
    let row = rows.last().unwrap();
    assert_eq!(
        (row.action.as_str(), row.status),
        (format!("rejected:{code}").as_str(), status.as_u16())
    );
}

#[tokio::test]
async fn cross_origin_posts_are_refused_with_and_without_the_token() {
    let app = TestApp::new();
    for origin in [
        "http://evil.example",
        "null",
        "http://127.0.0.1:7332",
        "http://127.0.0.1:7331.evil.com",
        "https://127.0.0.1:7331",
    ] {
        let with_token = Request::builder()
            .header("host", HOST)
            .header("origin", origin)
            .header("authorization", format!("Bearer {TOKEN}"));
        refused(
            &app,
            start_run(with_token),
            StatusCode::FORBIDDEN,
            "bad_origin",
        )
        .await;
        let without = Request::builder()
            .header("host", HOST)
            .header("origin", origin);
        refused(
            &app,
            start_run(without),
            StatusCode::FORBIDDEN,
            "bad_origin",
        )
        .await;
    }
}

#[tokio::test]
async fn a_foreign_cors_preflight_is_refused_and_nothing_allows_other_origins() {
    let app = TestApp::new();
    let preflight = Request::builder()
        .method("OPTIONS")
        .uri("/api/runs")
        .header("host", HOST)
        .header("origin", "http://evil.example")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .body(Body::empty())
        .unwrap();
    let response = app.app.clone().oneshot(preflight).await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
    let ok = Request::get("/api/runs")
        .header("host", HOST)
        .header("origin", ORIGIN)
        .header("authorization", format!("Bearer {TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let response = app.app.clone().oneshot(ok).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        !response
            .headers()
            .contains_key("access-control-allow-origin")
    );
}

#[tokio::test]
async fn foreign_and_missing_hosts_are_refused() {
    let app = TestApp::new();
    for host in [
        "evil.example:7331",
        "localhost.evil.example:7331",
        ":7331",
        "127.0.0.1:80",
        "127.0.0.1",
    ] {
        let request = Request::builder()
            .header("host", host)
            .header("authorization", format!("Bearer {TOKEN}"));
        refused(&app, start_run(request), StatusCode::FORBIDDEN, "bad_host").await;
    }
    let request = Request::builder().header("authorization", format!("Bearer {TOKEN}"));
    refused(
        &app,
        start_run(request),
        StatusCode::BAD_REQUEST,
        "missing_host",
    )
    .await;
    // Every allowed name works.
    for host in ["127.0.0.1:7331", "localhost:7331", "[::1]:7331"] {
        let request = Request::get("/api/runs")
            .header("host", host)
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.send(request).await.0, StatusCode::OK, "{host}");
    }
}

#[tokio::test]
async fn missing_or_wrong_tokens_are_401() {
    let app = TestApp::new();
    let none = Request::builder().header("host", HOST);
    refused(
        &app,
        start_run(none),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let wrong = Request::builder()
        .header("host", HOST)
        .header("authorization", format!("Bearer {}", "f".repeat(64)));
    refused(
        &app,
        start_run(wrong),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let cookie = Request::builder()
        .header("host", HOST)
        .header("cookie", "noctune_studio=nope");
    refused(
        &app,
        start_run(cookie),
        StatusCode::UNAUTHORIZED,
        "unauthorized",
    )
    .await;
    let get = Request::get("/api/runs")
        .header("host", HOST)
        .body(Body::empty())
        .unwrap();
    refused(&app, get, StatusCode::UNAUTHORIZED, "unauthorized").await;
}

#[tokio::test]
async fn bodies_must_be_json() {
    let app = TestApp::new();
    let request = Request::post("/api/runs")
        .header("host", HOST)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "text/plain")
        .body(Body::from(json!({ "pack": "lint_fix" }).to_string()))
        .unwrap();
    refused(
        &app,
        request,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    let form = Request::post("/api/runs/x/stop")
        .header("host", HOST)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("a=b"))
        .unwrap();
    refused(
        &app,
        form,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
}

#[tokio::test]
async fn state_changes_by_get_are_405() {
    let app = TestApp::new();
    for path in [
        "/api/runs/night-1/stop",
        "/api/shutdown",
        "/api/runs/night-1/approvals/ap-1",
    ] {
        let request = Request::get(path)
            .header("host", HOST)
            .header("authorization", format!("Bearer {TOKEN}"))
            .body(Body::empty())
            .unwrap();
        refused(
            &app,
            request,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        )
        .await;
    }
    assert!(!*app.state.shutdown.borrow());
}

#[tokio::test]
async fn oversized_bodies_are_413_with_a_length_and_chunked() {
    let app = TestApp::new();
    let big = format!("{{\"pack\":\"{}\"}}", "a".repeat(3 * 1024 * 1024));
    let request = Request::post("/api/runs")
        .header("host", HOST)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .header("content-length", big.len())
        .body(Body::from(big))
        .unwrap();
    refused(
        &app,
        request,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
    // A streamed body with no length, longer than the limit.
    let chunks =
        futures_util::stream::iter((0..64).map(|_| Ok::<_, std::io::Error>(bytes_of(64 * 1024))));
    let request = Request::post("/api/runs")
        .header("host", HOST)
        .header("authorization", format!("Bearer {TOKEN}"))
        .header("content-type", "application/json")
        .body(Body::from_stream(chunks))
        .unwrap();
    refused(
        &app,
        request,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
}

fn bytes_of(n: usize) -> Vec<u8> {
    vec![b' '; n]
}

#[tokio::test]
async fn the_token_in_the_url_becomes_a_strict_cookie_once() {
    let app = TestApp::new();
    let request = Request::get(format!("/?token={TOKEN}"))
        .header("host", HOST)
        .body(Body::empty())
        .unwrap();
    let response = app.app.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    assert_eq!(response.headers()["location"], "/");
    assert_eq!(
        response.headers()["set-cookie"],
        format!("noctune_studio={TOKEN}; Path=/; HttpOnly; SameSite=Strict").as_str()
    );
    let wrong = Request::get("/?token=nope")
        .header("host", HOST)
        .body(Body::empty())
        .unwrap();
    let response = app.app.clone().oneshot(wrong).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(!response.headers().contains_key("set-cookie"));
    let page = Request::get("/")
        .header("host", HOST)
        .header("cookie", format!("noctune_studio={TOKEN}"))
        .body(Body::empty())
        .unwrap();
    let response = app.app.clone().oneshot(page).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let html = String::from_utf8(html.to_vec()).unwrap();
    assert!(html.contains(app.state.csrf.as_str()));
    assert!(!html.contains(TOKEN));
}

#[tokio::test]
async fn a_cookie_post_needs_the_csrf_token_and_its_origin() {
    let app = TestApp::new();
    let cookie = format!("noctune_studio={TOKEN}");
    let no_csrf = Request::builder()
        .header("host", HOST)
        .header("origin", ORIGIN)
        .header("cookie", &cookie);
    refused(
        &app,
        start_run(no_csrf),
        StatusCode::FORBIDDEN,
        "csrf_required",
    )
    .await;
    let no_origin = Request::builder()
        .header("host", HOST)
        .header("cookie", &cookie)
        .header("x-csrf-token", app.state.csrf.as_str());
    refused(
        &app,
        start_run(no_origin),
        StatusCode::FORBIDDEN,
        "csrf_required",
    )
    .await;
    let wrong = Request::builder()
        .header("host", HOST)
        .header("origin", ORIGIN)
        .header("cookie", &cookie)
        .header("x-csrf-token", TOKEN);
    refused(
        &app,
        start_run(wrong),
        StatusCode::FORBIDDEN,
        "csrf_required",
    )
    .await;
    // With both, the request reaches the handler (which refuses the bad pack, after auth).
    let good = Request::post("/api/runs")
        .header("host", HOST)
        .header("origin", ORIGIN)
        .header("cookie", &cookie)
        .header("x-csrf-token", app.state.csrf.as_str())
        .header("content-type", "application/json")
        .body(Body::from(json!({ "pack": "" }).to_string()))
        .unwrap();
    let (status, body) = app.send(good).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::BAD_REQUEST, json!("bad_pack"))
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::new();
    for request in [
        Request::get("/api/runs")
            .header("host", HOST)
            .body(Body::empty())
            .unwrap(),
        Request::get("/")
            .header("host", "evil.example")
            .body(Body::empty())
            .unwrap(),
        Request::get("/nothing")
            .header("host", HOST)
            .body(Body::empty())
            .unwrap(),
    ] {
        let response = app.app.clone().oneshot(request).await.unwrap();
        let headers = response.headers();
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("frame-ancestors 'none'")
        );
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["cache-control"], "no-store");
        assert!(!headers.contains_key("access-control-allow-origin"));
    }
}
