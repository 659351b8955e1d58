//! Errors of a model call.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of failure a model call hit. The kind decides whether it is retryable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LlmErrorKind {
    /// The server could not be reached (refused, reset, DNS). Retryable.
    Connect,
    /// No answer (or no next chunk) within the configured timeout. Retryable.
    Timeout,
    /// The server answered 503 while loading the model and did not finish in time. Retryable.
    Loading,
    /// The server answered 5xx. Retryable.
    Server {
        /// The HTTP status.
        status: u16,
    },
    /// The server rejected the request (4xx). Not retryable: the same request fails again.
    Rejected {
        /// The HTTP status.
        status: u16,
    },
    /// The stream ended without `[DONE]` or a `finish_reason`. Retryable.
    IncompleteStream,
    /// The server sent something that is not the protocol (a malformed chunk, not JSON).
    Protocol,
    /// The prompt does not fit the context window; the caller must trim it.
    ContextOverflow {
        /// Tokens the prompt needs (prompt + reserved answer).
        needed: u32,
        /// The window.
        window: u32,
    },
    /// The answer could not be turned into what was asked (no JSON, no code block).
    Unusable,
    /// A replayed transcript has no answer for this request.
    ReplayMiss,
}

/// A failed model call: the kind, the server's message, and whether a retry may help.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct LlmError {
    /// What kind of failure.
    pub kind: LlmErrorKind,
    /// A human-readable message, with the server's own words when it gave any.
    pub message: String,
}

impl LlmError {
    /// Creates an error.
    pub fn new(kind: LlmErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// Whether the same request may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self.kind,
            LlmErrorKind::Connect
                | LlmErrorKind::Timeout
                | LlmErrorKind::Loading
                | LlmErrorKind::Server { .. }
                | LlmErrorKind::IncompleteStream
        )
    }
}

impl fmt::Display for LlmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            LlmErrorKind::Connect => "cannot connect".to_owned(),
            LlmErrorKind::Timeout => "timed out".to_owned(),
            LlmErrorKind::Loading => "model still loading".to_owned(),
            LlmErrorKind::Server { status } => format!("server error {status}"),
            LlmErrorKind::Rejected { status } => format!("request rejected ({status})"),
            LlmErrorKind::IncompleteStream => "stream ended early".to_owned(),
            LlmErrorKind::Protocol => "protocol error".to_owned(),
            LlmErrorKind::ContextOverflow { needed, window } => {
                format!("prompt needs {needed} tokens, the context window is {window}")
            }
            LlmErrorKind::Unusable => "unusable answer".to_owned(),
            LlmErrorKind::ReplayMiss => "no recorded answer".to_owned(),
        };
        let retry = if self.is_retryable() {
            " (retryable)"
        } else {
            ""
        };
        write!(f, "model call failed: {kind}{retry}: {}", self.message)
    }
}
