//! `GET /` and `GET /chat`: the web UI's pages. `/?token=T` with the right token sets the
//! session cookie (HttpOnly, SameSite=Strict) and redirects to `/` without the token; `/` and
//! `/chat` with the cookie serve their page; anything else gets a page saying how to open the
//! UI.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_TYPE, LOCATION, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::error::ApiError;
use crate::security::{SESSION_COOKIE, reject};
use crate::state::AppState;

/// The routes of this group.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/chat", get(chat_page))
}

/// The query of `GET /`.
#[derive(Debug, Deserialize)]
pub struct PageQuery {
    /// The token, once, from the URL the daemon printed.
    token: Option<String>,
}

const SIGN_IN: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Noctune Studio</title></head><body><h1>Noctune Studio</h1>\
<p>Open the URL that <code>noctune studio serve</code> printed (it carries the access token).</p>\
</body></html>";

async fn page(
    State(state): State<AppState>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = query.token {
        if !state.token.verify(&token) {
            return reject(
                &state,
                "anonymous",
                &axum::http::Method::GET,
                "/",
                None,
                ApiError::Unauthorized,
            )
            .await;
        }
        let cookie = format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
        let mut response = StatusCode::FOUND.into_response();
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(SET_COOKIE, value);
        }
        response
            .headers_mut()
            .insert(LOCATION, HeaderValue::from_static("/"));
        return response;
    }
    serve_page(&state, &headers, "index.html")
}

async fn chat_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    serve_page(&state, &headers, "chat.html")
}

/// A page template with the asset version and the CSRF token filled in, for the holder of
/// the session cookie.
fn serve_page(state: &AppState, headers: &HeaderMap, template: &str) -> Response {
    let signed_in = crate::security::auth_cookie_valid(state, headers);
    if !signed_in {
        let mut response = (StatusCode::UNAUTHORIZED, SIGN_IN).into_response();
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        return response;
    }
    let template = crate::routes::assets::file(template)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default();
    let html = template
        .replace("{{ASSET_VERSION}}", &state.asset_version)
        .replace("{{CSRF_TOKEN}}", &state.csrf);
    let mut response = html.into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}
