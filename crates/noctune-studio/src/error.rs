//! Errors: the crate's [`Error`] and the API's [`ApiError`], which answers
//! `{"error": {"code", "message"}}` with the status its variant names.

use std::path::PathBuf;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// What can go wrong starting, running or stopping the daemon.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or socket operation failed.
    #[error("cannot {action} `{}`: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file or address involved.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The run store refused or failed.
    #[error(transparent)]
    Store(#[from] noctune_core::Error),
    /// The audit database failed.
    #[error("audit database `{}`: {source}", path.display())]
    Db {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// The database thread is gone (the daemon is shutting down).
    #[error("the audit database is closed")]
    DbClosed,
    /// No random bytes for the token.
    #[error("no random bytes for the token: {0}")]
    Random(String),
    /// A request the daemon cannot serve (bad options, no daemon to stop, ...).
    #[error("{0}")]
    Refused(String),
}

impl Error {
    /// Shorthand for [`Error::Io`].
    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// The crate's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An API error: a status and a machine-readable code, decided by the variant, never by text.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request is malformed (a bad id, a missing field, a missing Host).
    #[error("{message}")]
    BadRequest {
        /// Machine-readable code.
        code: &'static str,
        /// For people.
        message: String,
    },
    /// 401: no valid token.
    #[error("a valid token is required")]
    Unauthorized,
    /// 403: a foreign Host or Origin, or a missing CSRF token.
    #[error("{message}")]
    Forbidden {
        /// Machine-readable code.
        code: &'static str,
        /// For people.
        message: String,
    },
    /// 404: no such run, approval or route.
    #[error("{0}")]
    NotFound(String),
    /// 405: the route exists, not with this method (state changes are POST only).
    #[error("this route does not take this method")]
    MethodNotAllowed,
    /// 409: the approval was decided already or is stale; the run is not in a state for this.
    #[error("{message}")]
    Conflict {
        /// Machine-readable code.
        code: &'static str,
        /// For people.
        message: String,
    },
    /// 413: a body over the limit (or one that could not be read within it).
    #[error(
        "the request body is over the limit of {} bytes",
        crate::state::BODY_LIMIT
    )]
    PayloadTooLarge,
    /// 415: a body that is not JSON.
    #[error("request bodies must be `application/json`")]
    UnsupportedMediaType,
    /// 503: too many live tails, or the daemon is shutting down.
    #[error("{0}")]
    Unavailable(String),
    /// 500: something failed inside the daemon.
    #[error(transparent)]
    Internal(#[from] Error),
}

impl ApiError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden { .. } => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The machine-readable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest { code, .. }
            | ApiError::Forbidden { code, .. }
            | ApiError::Conflict { code, .. } => code,
            ApiError::Unauthorized => "unauthorized",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::PayloadTooLarge => "payload_too_large",
            ApiError::UnsupportedMediaType => "unsupported_media_type",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// Shorthand for a 400.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    /// Shorthand for a 403.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Forbidden {
            code,
            message: message.into(),
        }
    }

    /// Shorthand for a 409.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Conflict {
            code,
            message: message.into(),
        }
    }
}

impl From<noctune_core::Error> for ApiError {
    fn from(err: noctune_core::Error) -> Self {
        match err {
            noctune_core::Error::RunNotFound { run_id, .. } => {
                ApiError::NotFound(format!("no run `{run_id}`"))
            }
            other => ApiError::Internal(Error::Store(other)),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = self.code(), "{self}");
        } else {
            tracing::warn!(code = self.code(), "{self}");
        }
        let body = serde_json::json!({
            "error": { "code": self.code(), "message": self.to_string() }
        });
        let mut response = (status, Json(body)).into_response();
        response.extensions_mut().insert(ErrorCode(self.code()));
        response
    }
}

/// The code of an [`ApiError`] response, for the layers that audit rejections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode(pub &'static str);
