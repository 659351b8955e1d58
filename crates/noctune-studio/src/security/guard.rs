//! The outer guard, on every route: an exact Host allowlist (DNS rebinding), an exact Origin
//! allowlist when an Origin is sent (cross-site pages, CORS preflights).

use axum::extract::{Request, State};
use axum::http::header::{HOST, ORIGIN};
use axum::middleware::Next;
use axum::response::Response;

use super::reject;
use axum::http::StatusCode;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Rejects a missing Host (400), a Host not on the allowlist (403) and an Origin not on the
/// allowlist (403), before anything else runs.
pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let origin = request
        .headers()
        .get(ORIGIN)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let hosts: Vec<_> = request.headers().get_all(HOST).iter().collect();
    let host = match hosts.as_slice() {
        [] => {
            let err = ApiError::bad_request("missing_host", "the Host header is required");
            return reject(&state, "anonymous", &method, &path, origin, err).await;
        }
        [one] => one.to_str().unwrap_or(""),
        _ => {
            let err = ApiError::bad_request("missing_host", "exactly one Host header is required");
            return reject(&state, "anonymous", &method, &path, origin, err).await;
        }
    };
    if !state.hosts.iter().any(|allowed| allowed == host) {
        let err = ApiError::forbidden("bad_host", "this Host is not served here");
        return reject(&state, "anonymous", &method, &path, origin, err).await;
    }
    if let Some(origin_value) = &origin
        && !state.origins.iter().any(|allowed| allowed == origin_value)
    {
        let err = ApiError::forbidden("bad_origin", "requests from this origin are refused");
        return reject(&state, "anonymous", &method, &path, origin, err).await;
    }
    let response = next.run(request).await;
    // The body limit refuses a declared oversized body before any handler: answer it as a
    // JSON error, audited like every rejection.
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && response.extensions().get::<ErrorCode>().is_none()
    {
        return reject(
            &state,
            "anonymous",
            &method,
            &path,
            origin,
            ApiError::PayloadTooLarge,
        )
        .await;
    }
    response
}
