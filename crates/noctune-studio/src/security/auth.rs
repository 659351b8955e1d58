//! The token check over the protected router: `Authorization: Bearer T`, or the session
//! cookie set by `GET /?token=T`. A cookie-authenticated state change must also carry the
//! CSRF token and an allowed Origin. State changes take JSON bodies only, within the size
//! limit; every rejection happens before the handler runs.

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, ORIGIN};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;

use super::{is_state_changing, reject};
use crate::audit::AuditRow;
use crate::error::{ApiError, ErrorCode};
use crate::state::{AppState, BODY_LIMIT};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "noctune_studio";

/// How a request proved it holds the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// `Authorization: Bearer` (scripts, the CLI, MCP).
    Token,
    /// The session cookie (the web UI).
    Browser,
}

impl Who {
    /// The name written in audit rows and decisions.
    pub fn as_str(self) -> &'static str {
        match self {
            Who::Token => "token",
            Who::Browser => "browser",
        }
    }
}

/// Who called, from where: for audit rows. Only available behind [`require_auth`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// How the caller authenticated.
    pub who: Who,
    /// The Origin header, when sent.
    pub origin: Option<String>,
    /// The method.
    pub method: String,
    /// The path (never the query).
    pub path: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(ApiError::Unauthorized)
    }
}

/// The session cookie's value in a `Cookie` header, if any.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_owned())
}

fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// The middleware of the protected router.
pub async fn require_auth(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    // Nested under `/api`: the full path is in `OriginalUri`.
    let path = request
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(
            || request.uri().path().to_owned(),
            |uri| uri.0.path().to_owned(),
        );
    let headers = request.headers();
    let origin = headers
        .get(ORIGIN)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let who = if let Some(token) = bearer(headers) {
        state.token.verify(token).then_some(Who::Token)
    } else if headers.contains_key(AUTHORIZATION) {
        None
    } else {
        session_cookie(headers)
            .filter(|token| state.token.verify(token))
            .map(|_| Who::Browser)
    };
    let Some(who) = who else {
        return reject(
            &state,
            "anonymous",
            &method,
            &path,
            origin,
            ApiError::Unauthorized,
        )
        .await;
    };
    let changing = is_state_changing(&method);
    if changing && who == Who::Browser {
        let csrf_ok = headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| state.token.verify_csrf(v));
        if origin.is_none() || !csrf_ok {
            let err = ApiError::forbidden(
                "csrf_required",
                "a browser state change needs its page's Origin and CSRF token",
            );
            return reject(&state, who.as_str(), &method, &path, origin, err).await;
        }
    }
    let caller = Caller {
        who,
        origin: origin.clone(),
        method: method.to_string(),
        path: path.clone(),
    };
    if !changing {
        let mut request = request;
        request.extensions_mut().insert(caller.clone());
        let response = next.run(request).await;
        // A state change tried by GET is refused by the router (405): audit it too.
        if response.status() == axum::http::StatusCode::METHOD_NOT_ALLOWED {
            audit_refusal(&state, who, caller, refusal(&response)).await;
        }
        return response;
    }
    let has_body = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v != "0");
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        });
    match json {
        Some(false) => {
            let err = ApiError::UnsupportedMediaType;
            return reject(&state, who.as_str(), &method, &path, origin, err).await;
        }
        None if has_body && headers.contains_key(CONTENT_LENGTH) => {
            let err = ApiError::UnsupportedMediaType;
            return reject(&state, who.as_str(), &method, &path, origin, err).await;
        }
        _ => {}
    }
    // Read the whole body under the limit now, so an oversized (or endless chunked) body is
    // refused before any handler runs.
    let (mut parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => {
            let err = ApiError::PayloadTooLarge;
            return reject(&state, who.as_str(), &method, &path, origin, err).await;
        }
    };
    if !bytes.is_empty() && json != Some(true) {
        let err = ApiError::UnsupportedMediaType;
        return reject(&state, who.as_str(), &method, &path, origin, err).await;
    }
    parts.extensions.insert(caller.clone());
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    // A state change the handler refused is audited here; successes by the handler.
    if response.status().is_client_error() || response.status().is_server_error() {
        audit_refusal(&state, who, caller, refusal(&response)).await;
    }
    response
}

/// The error code and status of a refusing response.
fn refusal(response: &Response) -> (&'static str, u16) {
    let code = response
        .extensions()
        .get::<ErrorCode>()
        .map_or("error", |c| c.0);
    (code, response.status().as_u16())
}

async fn audit_refusal(
    state: &AppState,
    who: Who,
    caller: Caller,
    (code, status): (&'static str, u16),
) {
    state
        .audit(AuditRow {
            at: jiff::Timestamp::now().to_string(),
            who: who.as_str().to_owned(),
            action: format!("rejected:{code}"),
            method: caller.method,
            path: caller.path,
            origin: caller.origin,
            status,
            detail: None,
        })
        .await;
}
