//! The [`LlmClient`] trait and the wire-neutral request and response types.
//!
//! `noctune-llm` implements the trait for servers that speak OpenAI's
//! `POST /v1/chat/completions` (llama.cpp, vLLM, LM Studio, Ollama). Tests and embedders may
//! implement it in-process.

pub mod calibration;
mod error;
pub mod pool;
mod request;
mod response;
pub mod structured;

pub use calibration::{Calibration, FormatCheck, ProbeFormat, SpeedSource};
pub use error::{LlmError, LlmErrorKind};
pub use pool::{EndpointLoad, PoolEvent};
pub use request::{AnswerFormat, ChatMessage, ChatRequest, Role, ToolSpec};
pub use response::{ChatResponse, FinishReason, Timings, ToolCall, Usage};
pub use structured::{CodeAnswer, PYTHON_BLOCK_GBNF, Structured, chat_code, chat_structured};

use async_trait::async_trait;

/// A chat-completion endpoint.
///
/// Implementations retry what is worth retrying (a dropped connection, a model that is still
/// loading) before they return an error, and never return a truncated answer as if it were
/// whole: a stream that ends early is an [`LlmError`], an answer cut by `max_tokens` has
/// [`FinishReason::Length`].
///
/// ```
/// use std::sync::Arc;
/// use async_trait::async_trait;
/// use noctune_core::{ChatRequest, ChatResponse, LlmClient, LlmError};
///
/// /// Answers every request with the same text.
/// struct Parrot(String);
///
/// #[async_trait]
/// impl LlmClient for Parrot {
///     async fn chat(&self, _request: &ChatRequest) -> Result<ChatResponse, LlmError> {
///         Ok(ChatResponse::text(self.0.clone()))
///     }
/// }
///
/// # tokio_test_block(async {
/// let client: Arc<dyn LlmClient> = Arc::new(Parrot("label: W".into()));
/// let answer = client.chat(&ChatRequest::user("review this")).await.unwrap();
/// assert_eq!(answer.content, "label: W");
/// # });
/// # fn tokio_test_block(f: impl std::future::Future<Output = ()>) {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
#[async_trait]
pub trait LlmClient: Send + Sync {
    /// Sends one request and returns the whole answer.
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError>;

    /// The model's context window in tokens, when the server says (llama.cpp's `GET /props`).
    /// `None` means "use the configured `context_tokens`".
    async fn context_window(&self) -> Option<u32> {
        None
    }

    /// Counts the tokens of `text` with the server's tokenizer when it has one, else estimates
    /// (about 3.5 characters a token for code, rounded up: an estimate errs on the large side).
    async fn count_tokens(&self, text: &str) -> Result<u32, LlmError> {
        Ok(estimate_tokens(text))
    }

    /// A short description of the endpoint for logs and reports (`http://127.0.0.1:8080/v1`).
    fn endpoint(&self) -> String {
        "in-process".to_owned()
    }

    /// How many requests the client serves at once: the run loop keeps this many files in
    /// flight. One for a single endpoint; a pool's healthy slots.
    fn slots(&self) -> usize {
        1
    }

    /// The load of each endpoint behind the client (empty for a single endpoint that keeps
    /// no counts).
    fn loads(&self) -> Vec<EndpointLoad> {
        Vec::new()
    }

    /// Endpoint changes since the last call (an endpoint down, back up, a call retried
    /// elsewhere), oldest first; the run loop logs them as events.
    fn take_events(&self) -> Vec<PoolEvent> {
        Vec::new()
    }
}

/// A conservative token estimate for when no tokenizer is at hand: characters / 3.5, rounded up.
pub fn estimate_tokens(text: &str) -> u32 {
    let chars = text.chars().count() as u64;
    u32::try_from((chars * 2).div_ceil(7)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_rounds_up() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("a"), 1);
        assert_eq!(estimate_tokens("abcdefg"), 2);
    }
}
