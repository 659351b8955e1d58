//! The security layers: the Host/Origin guard over the whole app, the token check (with CSRF
//! and JSON-only bodies) over the protected router, and the response headers. See
//! `docs/security.md` for the model.

mod auth;
mod guard;
mod headers;

pub use auth::{Caller, SESSION_COOKIE, Who, require_auth, session_cookie};
pub use guard::guard;
pub use headers::{CachePolicy, security_headers};

use axum::http::Method;
use axum::response::{IntoResponse, Response};

use crate::audit::AuditRow;
use crate::error::ApiError;
use crate::state::AppState;

/// Whether a method changes state (everything but GET, HEAD and OPTIONS).
pub fn is_state_changing(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Answers a rejected request, after writing its audit row.
pub(crate) async fn reject(
    state: &AppState,
    who: &str,
    method: &Method,
    path: &str,
    origin: Option<String>,
    error: ApiError,
) -> Response {
    state
        .audit(AuditRow {
            at: jiff::Timestamp::now().to_string(),
            who: who.to_owned(),
            action: format!("rejected:{}", error.code()),
            method: method.to_string(),
            path: path.to_owned(),
            origin,
            status: error.status().as_u16(),
            detail: Some(error.to_string()),
        })
        .await;
    error.into_response()
}

/// Whether the request's session cookie carries the token.
pub fn auth_cookie_valid(state: &AppState, headers: &axum::http::HeaderMap) -> bool {
    session_cookie(headers).is_some_and(|token| state.token.verify(&token))
}
