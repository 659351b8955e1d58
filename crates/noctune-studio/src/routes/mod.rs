//! The router: public routes (the page, assets), the protected API (behind the token
//! check), and the layers over everything (Host/Origin guard, body limit, headers).

pub mod approvals;
pub mod assets;
pub mod chat;
pub mod events;
pub mod page;
pub mod patchsets;
pub mod report;
pub mod runs;
pub mod shutdown;
pub mod tasks;

use axum::Router;
use axum::http::Uri;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use tower_http::limit::RequestBodyLimitLayer;

use crate::error::ApiError;
use crate::security::{guard, require_auth, security_headers};
use crate::state::{AppState, BODY_LIMIT};

/// The whole application: used by `serve` and by every test.
pub fn build_app(state: AppState) -> Router {
    // Every route in here needs the token: a route added to these groups is protected.
    let protected = Router::new()
        .merge(runs::routes())
        .merge(tasks::routes())
        .merge(events::routes())
        .merge(approvals::routes())
        .merge(patchsets::routes())
        .merge(report::routes())
        .merge(shutdown::routes())
        .merge(chat::routes())
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), require_auth));
    Router::new()
        .merge(page::routes())
        .merge(assets::routes())
        .nest("/api", protected)
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(from_fn_with_state(state.clone(), guard))
        .layer(from_fn(security_headers))
        .with_state(state)
}

async fn api_not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!("no route `{}`", uri.path()))
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

async fn not_found(uri: Uri) -> Response {
    ApiError::NotFound(format!("no page `{}`", uri.path())).into_response()
}

/// Parses a run id from a path.
pub(crate) fn run_id(text: &str) -> Result<noctune_core::RunId, ApiError> {
    noctune_core::RunId::new(text)
        .map_err(|_| ApiError::bad_request("bad_run_id", format!("`{text}` is not a run id")))
}

/// A JSON body whose rejections are [`ApiError`]s (`{"error": ...}`), not axum's text.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType),
            Err(other) => Err(ApiError::bad_request("bad_json", other.body_text())),
        }
    }
}

/// A query string whose rejections are [`ApiError`]s.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::bad_request("bad_query", rejection.body_text())),
        }
    }
}
