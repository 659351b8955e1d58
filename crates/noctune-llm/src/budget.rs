//! The context budget: the window (config, or llama.cpp's `GET /props`), token counts
//! (`POST /tokenize`, else an estimate) and the refusal of a prompt that does not fit.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use noctune_core::llm::estimate_tokens;
use noctune_core::{ChatRequest, LlmError, LlmErrorKind};
use serde_json::{Value, json};

/// Tokens a chat template adds around each message (role markers), counted generously.
const TOKENS_PER_MESSAGE: u32 = 8;
/// How long the side endpoints (`/props`, `/tokenize`) may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

// 0: not asked yet.
const AVAILABLE: u8 = 1;
const UNAVAILABLE: u8 = 2;

/// What the client learned about the server's window and tokenizer.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    /// `Some(answer)` once the server gave a definitive answer (`None` inside: no `/props`).
    server_window: Mutex<Option<Option<u32>>>,
    tokenize: AtomicU8,
}

/// What asking a side endpoint gave.
enum Probe<T> {
    /// The server answered: this is what it has (or `None`: it does not have the endpoint).
    Known(Option<T>),
    /// No definitive answer (unreachable, still loading, 5xx): ask again next time.
    Unknown,
}

impl Budget {
    /// A budget whose server window is already known (from the calibration probe): `/props`
    /// is not asked again.
    pub(crate) fn with_server_window(window: Option<u32>) -> Self {
        Self {
            server_window: Mutex::new(Some(window)),
            tokenize: AtomicU8::new(0),
        }
    }

    /// The server's own window (`n_ctx` from `GET /props`), remembered once the server answered.
    pub(crate) async fn server_window(&self, http: &reqwest::Client, root: &str) -> Option<u32> {
        if let Some(known) = *lock(&self.server_window) {
            return known;
        }
        match fetch_window(http, root).await {
            Probe::Known(window) => {
                match window {
                    Some(n) => tracing::debug!(n_ctx = n, "server reports its context window"),
                    None => tracing::debug!("no `GET /props`; using the configured context_tokens"),
                }
                *lock(&self.server_window) = Some(window);
                window
            }
            Probe::Unknown => None,
        }
    }

    /// Tokens of `text` by the server's tokenizer, or `None` when it has none (or did not
    /// answer this time).
    pub(crate) async fn tokenize(
        &self,
        http: &reqwest::Client,
        root: &str,
        text: &str,
    ) -> Option<u32> {
        if self.tokenize.load(Ordering::Relaxed) == UNAVAILABLE {
            return None;
        }
        match fetch_count(http, root, text).await {
            Probe::Known(Some(count)) => {
                self.tokenize.store(AVAILABLE, Ordering::Relaxed);
                Some(count)
            }
            Probe::Known(None) => {
                self.tokenize.store(UNAVAILABLE, Ordering::Relaxed);
                None
            }
            Probe::Unknown => None,
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// Sends a side request: a 2xx JSON body is `Known(Some)`, 404/405/501 (no such endpoint) is
/// `Known(None)`, anything else `Unknown`.
async fn probe(request: reqwest::RequestBuilder) -> Probe<Value> {
    let Ok(response) = request.timeout(PROBE_TIMEOUT).send().await else {
        return Probe::Unknown;
    };
    let status = response.status().as_u16();
    if matches!(status, 404 | 405 | 501) {
        return Probe::Known(None);
    }
    if !response.status().is_success() {
        return Probe::Unknown;
    }
    match response.json::<Value>().await {
        Ok(value) => Probe::Known(Some(value)),
        // A 200 that is not JSON: not llama.cpp's endpoint.
        Err(_) => Probe::Known(None),
    }
}

async fn fetch_window(http: &reqwest::Client, root: &str) -> Probe<u32> {
    match probe(http.get(format!("{root}/props"))).await {
        Probe::Known(Some(props)) => Probe::Known(window_of(&props)),
        Probe::Known(None) => Probe::Known(None),
        Probe::Unknown => Probe::Unknown,
    }
}

/// The context window in a llama.cpp `/props` body: `default_generation_settings.n_ctx`, else
/// `n_ctx`.
pub(crate) fn window_of(props: &Value) -> Option<u32> {
    props
        .pointer("/default_generation_settings/n_ctx")
        .or_else(|| props.get("n_ctx"))
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .filter(|n| *n > 0)
}

/// A side endpoint's JSON body (`GET /props`, `GET /v1/models`): `Ok(None)` when the server
/// has no such endpoint, `Err(())` when it gave no definitive answer.
pub(crate) async fn side_json(request: reqwest::RequestBuilder) -> Result<Option<Value>, ()> {
    match probe(request).await {
        Probe::Known(value) => Ok(value),
        Probe::Unknown => Err(()),
    }
}

async fn fetch_count(http: &reqwest::Client, root: &str, text: &str) -> Probe<u32> {
    match probe(
        http.post(format!("{root}/tokenize"))
            .json(&json!({"content": text})),
    )
    .await
    {
        Probe::Known(Some(body)) => Probe::Known(
            body.get("tokens")
                .and_then(Value::as_array)
                .and_then(|tokens| u32::try_from(tokens.len()).ok()),
        ),
        Probe::Known(None) => Probe::Known(None),
        Probe::Unknown => Probe::Unknown,
    }
}

/// The tokens a request's messages take, by `count` (the server's tokenizer or an estimate).
pub(crate) fn message_overhead(request: &ChatRequest) -> u32 {
    let messages = u32::try_from(request.messages.len()).unwrap_or(u32::MAX);
    messages
        .saturating_add(1)
        .saturating_mul(TOKENS_PER_MESSAGE)
}

/// The estimate for a whole request's prompt.
pub(crate) fn estimate_prompt(request: &ChatRequest) -> u32 {
    estimate_tokens(&request.prompt_text()).saturating_add(message_overhead(request))
}

/// Refuses a prompt that, with the tokens reserved for the answer, does not fit the window.
pub(crate) fn check(prompt: u32, answer: u32, window: u32) -> Result<(), LlmError> {
    let needed = prompt.saturating_add(answer);
    if needed > window {
        return Err(LlmError::new(
            LlmErrorKind::ContextOverflow { needed, window },
            format!(
                "the prompt takes {prompt} tokens and {answer} are reserved for the answer; trim the evidence or lower max_tokens"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_refuses_what_does_not_fit() {
        assert!(check(100, 100, 200).is_ok());
        let err = check(150, 100, 200).unwrap_err();
        assert_eq!(
            err.kind,
            LlmErrorKind::ContextOverflow {
                needed: 250,
                window: 200
            }
        );
        assert!(!err.is_retryable());
    }

    #[test]
    fn estimate_counts_messages() {
        let request = ChatRequest::system_user("abcdefg", "abcdefg");
        // 16 characters with newlines -> 5 tokens, 3 * 8 for the template.
        assert_eq!(estimate_prompt(&request), 5 + 24);
    }
}
