//! [`OpenAiClient`]: `POST {base_url}/chat/completions` with retries, fallbacks, a context budget
//! and transcripts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use noctune_core::config::LlmSettings;
use noctune_core::llm::Calibration;
use noctune_core::{ChatRequest, ChatResponse, LlmClient, LlmError, LlmErrorKind};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

use crate::budget::{self, Budget};
use crate::fallback::{Fallbacks, WireFormat};
use crate::observer::{StreamEvent, StreamObserver};
use crate::retry::RetryPolicy;
use crate::stream::{self, Echo, StreamTrace};
use crate::transcript::{Exchange, TranscriptSink};
use crate::wire;

/// The longest wait for a TCP connection, whatever `timeout_s` says.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An [`LlmClient`] for servers that speak OpenAI's chat completions (llama.cpp, vLLM,
/// LM Studio, Ollama).
///
/// Cheap to clone and shareable across tasks: clones share the connection pool and what was
/// learned about the endpoint (accepted answer formats, the context window).
/// [`with_transcript_sink`](Self::with_transcript_sink) and
/// [`with_observer`](Self::with_observer) give a clone its own sink or observer, for example
/// one per task.
///
/// ```no_run
/// use noctune_core::{ChatRequest, LlmClient};
/// use noctune_core::config::LlmSettings;
/// use noctune_llm::OpenAiClient;
///
/// # async fn demo() -> Result<(), noctune_core::LlmError> {
/// let client = OpenAiClient::new(LlmSettings::default())?;
/// let answer = client.chat(&ChatRequest::user("Say hi").with_max_tokens(16)).await?;
/// println!("{}", answer.content);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct OpenAiClient {
    shared: Arc<Shared>,
    observer: Option<Arc<dyn StreamObserver>>,
    sink: Option<Arc<dyn TranscriptSink>>,
}

struct Shared {
    http: reqwest::Client,
    settings: LlmSettings,
    retry: RetryPolicy,
    chat_url: String,
    root_url: String,
    check_context: bool,
    fallbacks: Fallbacks,
    budget: Budget,
}

impl std::fmt::Debug for OpenAiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiClient")
            .field("endpoint", &redacted(&self.shared.settings.base_url))
            .field("model", &self.shared.settings.model)
            .field("retry", &self.shared.retry)
            .finish_non_exhaustive()
    }
}

/// Builds an [`OpenAiClient`].
#[must_use]
pub struct OpenAiClientBuilder {
    settings: LlmSettings,
    retry: Option<RetryPolicy>,
    observer: Option<Arc<dyn StreamObserver>>,
    sink: Option<Arc<dyn TranscriptSink>>,
    check_context: bool,
    calibration: Option<Calibration>,
}

impl OpenAiClientBuilder {
    /// Overrides the retry policy (default: [`RetryPolicy::from_settings`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Receives streamed deltas (for `-v`).
    pub fn observer(mut self, observer: Arc<dyn StreamObserver>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Receives every exchange.
    pub fn transcript_sink(mut self, sink: Arc<dyn TranscriptSink>) -> Self {
        self.sink = Some(sink);
        self
    }

    /// Whether prompts are checked against the context window before sending (default on).
    pub fn check_context(mut self, check: bool) -> Self {
        self.check_context = check;
        self
    }

    /// Starts from what the calibration probe found: the first answer formats that work (no
    /// refused request per call to find them) and the server's context window (no `/props`).
    pub fn calibration(mut self, calibration: &Calibration) -> Self {
        self.calibration = Some(calibration.clone());
        self
    }

    /// Builds the client. Fails only when a configured header is not a valid HTTP header.
    pub fn build(self) -> Result<OpenAiClient, LlmError> {
        // reqwest is built without a default TLS provider: use ring's (never aws-lc). Another
        // crate may have installed one already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();

        let settings = self.settings;
        let mut headers = HeaderMap::new();
        let bad = |name: &str, why: String| {
            LlmError::new(
                LlmErrorKind::Rejected { status: 0 },
                format!("llm header `{name}`: {why}"),
            )
        };
        for (name, value) in &settings.headers {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|err| bad(name, err.to_string()))?;
            let value = HeaderValue::from_str(value).map_err(|err| bad(name, err.to_string()))?;
            headers.insert(header, value);
        }
        if let Some(key) = &settings.api_key {
            let mut value = HeaderValue::from_str(&format!("Bearer {key}"))
                .map_err(|err| bad("Authorization", err.to_string()))?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let http = reqwest::Client::builder()
            .default_headers(headers)
            .connect_timeout(settings.timeout.min(MAX_CONNECT_TIMEOUT))
            .build()
            .map_err(|err| {
                LlmError::new(
                    LlmErrorKind::Connect,
                    format!("cannot build the HTTP client: {err}"),
                )
            })?;
        let base = settings.base_url.trim_end_matches('/').to_owned();
        let root_url = base.strip_suffix("/v1").unwrap_or(&base).to_owned();
        Ok(OpenAiClient {
            shared: Arc::new(Shared {
                http,
                retry: self
                    .retry
                    .unwrap_or_else(|| RetryPolicy::from_settings(&settings)),
                chat_url: format!("{base}/chat/completions"),
                root_url,
                check_context: self.check_context,
                fallbacks: self
                    .calibration
                    .as_ref()
                    .map_or_else(Fallbacks::default, Fallbacks::calibrated),
                budget: self.calibration.as_ref().map_or_else(Budget::default, |c| {
                    Budget::with_server_window(c.context_tokens)
                }),
                settings,
            }),
            observer: self.observer,
            sink: self.sink,
        })
    }
}

/// What one HTTP attempt left behind, for the transcript.
#[derive(Default)]
struct AttemptTrace {
    status: Option<u16>,
    raw: String,
    first_token_ms: Option<u64>,
}

impl OpenAiClient {
    /// A client with default retry policy, no observer and no transcript sink.
    pub fn new(settings: LlmSettings) -> Result<Self, LlmError> {
        Self::builder(settings).build()
    }

    /// A builder for a client.
    pub fn builder(settings: LlmSettings) -> OpenAiClientBuilder {
        OpenAiClientBuilder {
            settings,
            retry: None,
            observer: None,
            sink: None,
            check_context: true,
            calibration: None,
        }
    }

    /// A clone that records its exchanges into `sink` (sharing everything else).
    #[must_use]
    pub fn with_transcript_sink(&self, sink: Arc<dyn TranscriptSink>) -> Self {
        Self {
            sink: Some(sink),
            ..self.clone()
        }
    }

    /// A clone that reports streamed deltas to `observer` (sharing everything else).
    #[must_use]
    pub fn with_observer(&self, observer: Arc<dyn StreamObserver>) -> Self {
        Self {
            observer: Some(observer),
            ..self.clone()
        }
    }

    /// The settings the client was built with.
    pub fn settings(&self) -> &LlmSettings {
        &self.shared.settings
    }

    /// First contact: whether anything answers HTTP at the configured base URL, within 10
    /// seconds (`GET <base_url>/models`; any HTTP status counts, since servers differ in what
    /// they serve there). A connection refused, a DNS failure or a timeout is
    /// [`LlmErrorKind::Connect`] / [`LlmErrorKind::Timeout`], with the URL in the message; no
    /// retries, so a run with no model stops at once instead of retrying on every file.
    pub async fn reachable(&self) -> Result<(), LlmError> {
        let url = format!(
            "{}/models",
            self.shared.settings.base_url.trim_end_matches('/')
        );
        let shown = redacted(&self.shared.settings.base_url);
        match self
            .shared
            .http
            .get(&url)
            .timeout(std::time::Duration::from_secs(10))
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) if err.is_timeout() => Err(LlmError::new(
                LlmErrorKind::Timeout,
                format!("no answer from the model server at {shown} within 10 s"),
            )),
            Err(err) => Err(LlmError::new(
                LlmErrorKind::Connect,
                format!("no model server answers at {shown}: {}", root_cause(&err)),
            )),
        }
    }

    /// The formats this endpoint currently gets: (JSON answers, grammar answers). They start
    /// at [`WireFormat::JsonSchema`] and [`WireFormat::Grammar`] and fall back when the server
    /// refuses them.
    pub fn answer_formats(&self) -> (WireFormat, WireFormat) {
        self.shared.fallbacks.current()
    }

    /// The retry policy (the calibration probe waits out a loading model by it).
    pub(crate) fn retry_policy(&self) -> &RetryPolicy {
        &self.shared.retry
    }

    /// The HTTP client (for the calibration probe's side requests).
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.shared.http
    }

    /// The server's root URL: the base URL without `/v1` (llama.cpp's `/props` lives there).
    pub(crate) fn root_url(&self) -> &str {
        &self.shared.root_url
    }

    /// One request in exactly `format`: no fallback, no budget check, retries only for a
    /// loading model and transient failures. The calibration probe asks this way.
    pub(crate) async fn chat_in(
        &self,
        request: &ChatRequest,
        format: WireFormat,
    ) -> Result<ChatResponse, LlmError> {
        self.chat_with_retries(request, format).await
    }

    /// Refuses a request whose prompt plus reserved answer does not fit the window.
    async fn check_budget(&self, request: &ChatRequest) -> Result<(), LlmError> {
        let window = self
            .context_window()
            .await
            .unwrap_or(self.shared.settings.context_tokens);
        let answer = request
            .max_tokens
            .unwrap_or(self.shared.settings.max_tokens);
        let estimate = budget::estimate_prompt(request);
        // The estimate errs on the large side: when it fits, the real count does too.
        if estimate.saturating_add(answer) <= window {
            return Ok(());
        }
        let counted = self
            .shared
            .budget
            .tokenize(
                &self.shared.http,
                &self.shared.root_url,
                &request.prompt_text(),
            )
            .await
            .map(|tokens| tokens.saturating_add(budget::message_overhead(request)));
        budget::check(counted.unwrap_or(estimate), answer, window)
    }

    /// Tries the formats of the fallback chain until the server accepts one.
    async fn chat_with_fallbacks(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let chain = self.shared.fallbacks.chain(&request.answer);
        let mut index = 0;
        loop {
            let format = chain[index];
            match self.chat_with_retries(request, format).await {
                Ok(response) => {
                    if index > 0 {
                        tracing::warn!(
                            endpoint = %redacted(&self.shared.settings.base_url),
                            ?format,
                            "the server refused the preferred answer format; using {format:?} for this endpoint from now on"
                        );
                    }
                    self.shared.fallbacks.remember(&request.answer, format);
                    return Ok(response);
                }
                Err(err)
                    if index + 1 < chain.len()
                        && matches!(err.kind, LlmErrorKind::Rejected { status: 400 | 422 }) =>
                {
                    tracing::info!(?format, error = %err, "answer format refused; falling back");
                    index += 1;
                }
                Err(err) => return Err(err),
            }
        }
    }

    /// One format, with retries for retryable failures and a wait for a loading model.
    async fn chat_with_retries(
        &self,
        request: &ChatRequest,
        format: WireFormat,
    ) -> Result<ChatResponse, LlmError> {
        let retry = &self.shared.retry;
        let stream = self.shared.settings.stream;
        let body = wire::request_body(&self.shared.settings, request, format, stream);
        let mut retries = 0u32;
        let mut attempt = 0u32;
        let loading_since = Instant::now();
        loop {
            let result = self.attempt(request, &body, format, stream, attempt).await;
            attempt += 1;
            let err = match result {
                Ok(response) => {
                    if response.is_truncated() {
                        tracing::warn!(
                            purpose = request.purpose.as_deref().unwrap_or(""),
                            "the answer was cut by max_tokens (finish_reason = length)"
                        );
                    }
                    return Ok(response);
                }
                Err(err) => err,
            };
            let delay = if err.kind == LlmErrorKind::Loading {
                if loading_since.elapsed() >= retry.loading_wait {
                    return Err(LlmError::new(
                        LlmErrorKind::Loading,
                        format!(
                            "the model was still loading after {} s: {}",
                            retry.loading_wait.as_secs(),
                            err.message
                        ),
                    ));
                }
                tracing::info!("the server is loading the model; waiting");
                retry.loading_poll
            } else if err.is_retryable() && retries < retry.max_retries {
                let delay = retry.delay(retries);
                retries += 1;
                tracing::warn!(error = %err, retry = retries, ?delay, "retrying the model call");
                delay
            } else {
                if err.is_retryable() && retries > 0 {
                    return Err(LlmError::new(
                        err.kind,
                        format!("{} (after {retries} retries)", err.message),
                    ));
                }
                return Err(err);
            };
            if let Some(observer) = &self.observer {
                observer.on_event(StreamEvent::Retry {
                    error: &err,
                    attempt,
                    delay,
                });
            }
            tokio::time::sleep(delay).await;
        }
    }

    /// One HTTP exchange, recorded to the transcript sink.
    async fn attempt(
        &self,
        request: &ChatRequest,
        body: &Value,
        format: WireFormat,
        stream: bool,
        attempt: u32,
    ) -> Result<ChatResponse, LlmError> {
        let started_at = jiff::Timestamp::now().to_string();
        let started = Instant::now();
        let mut trace = AttemptTrace::default();
        let result = self.send(body, stream, started, &mut trace).await;
        if let Some(sink) = &self.sink {
            let (response, error) = match &result {
                Ok(response) => (Some(response.clone()), None),
                Err(err) => (None, Some(err.clone())),
            };
            sink.record(&Exchange {
                started_at,
                endpoint: redacted(&self.shared.settings.base_url),
                purpose: request.purpose.clone(),
                attempt,
                format,
                stream,
                request: request.clone(),
                body: body.clone(),
                status: trace.status,
                raw: trace.raw,
                response,
                error,
                elapsed_ms: millis(started.elapsed()),
                first_token_ms: trace.first_token_ms,
            });
        }
        result
    }

    async fn send(
        &self,
        body: &Value,
        stream: bool,
        started: Instant,
        trace: &mut AttemptTrace,
    ) -> Result<ChatResponse, LlmError> {
        let timeout = self.shared.settings.timeout;
        let send = self
            .shared
            .http
            .post(&self.shared.chat_url)
            .json(body)
            .send();
        let response = match tokio::time::timeout(timeout, send).await {
            Ok(Ok(response)) => response,
            Ok(Err(err)) => return Err(request_error(&err, &self.shared.chat_url)),
            Err(_) => return Err(timeout_error(timeout, "for the server to answer")),
        };
        let status = response.status().as_u16();
        trace.status = Some(status);
        if !response.status().is_success() {
            let text = tokio::time::timeout(timeout, response.text())
                .await
                .ok()
                .and_then(Result::ok)
                .unwrap_or_default();
            trace.raw.clone_from(&text);
            return Err(wire::status_error(status, &text));
        }
        let is_sse = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if stream && is_sse {
            let settings = &self.shared.settings;
            let echo = Echo {
                content: settings.verbose_stream,
                reasoning: settings.verbose_stream && settings.stream_print_reasoning,
            };
            let mut stream_trace = StreamTrace::default();
            let result = stream::read(
                response,
                timeout,
                self.observer.as_deref(),
                echo,
                &mut stream_trace,
            )
            .await;
            if let Ok(raw) = stream_trace.raw.lock() {
                trace.raw = String::from_utf8_lossy(&raw).into_owned();
            }
            trace.first_token_ms = stream_trace
                .first_token
                .map(|at| millis(at.duration_since(started)));
            return result;
        }
        // Not streamed (asked so, or the server ignored `stream: true`).
        let text = match tokio::time::timeout(timeout, response.text()).await {
            Ok(Ok(text)) => text,
            Ok(Err(err)) => {
                return Err(LlmError::new(
                    LlmErrorKind::IncompleteStream,
                    format!("the answer broke off: {err}"),
                ));
            }
            Err(_) => return Err(timeout_error(timeout, "for the answer body")),
        };
        trace.raw.clone_from(&text);
        wire::parse_completion(&text)
    }
}

#[async_trait]
impl LlmClient for OpenAiClient {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        if self.shared.check_context {
            self.check_budget(request).await?;
        }
        self.chat_with_fallbacks(request).await
    }

    async fn context_window(&self) -> Option<u32> {
        let configured = self.shared.settings.context_tokens;
        let server = self
            .shared
            .budget
            .server_window(&self.shared.http, &self.shared.root_url)
            .await;
        Some(server.map_or(configured, |n| n.min(configured)))
    }

    async fn count_tokens(&self, text: &str) -> Result<u32, LlmError> {
        Ok(self
            .shared
            .budget
            .tokenize(&self.shared.http, &self.shared.root_url, text)
            .await
            .unwrap_or_else(|| noctune_core::llm::estimate_tokens(text)))
    }

    fn endpoint(&self) -> String {
        redacted(&self.shared.settings.base_url)
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn timeout_error(timeout: Duration, waiting: &str) -> LlmError {
    LlmError::new(
        LlmErrorKind::Timeout,
        format!("waited {} s (timeout_s) {waiting}", timeout.as_secs_f64()),
    )
}

/// Maps a reqwest failure before any answer arrived.
fn request_error(err: &reqwest::Error, url: &str) -> LlmError {
    // reqwest's own message names the full URL; ours names the redacted one.
    let bare = format!("{err}");
    let bare = match err.url() {
        Some(full) => bare
            .replace(&format!(" ({full})"), "")
            .replace(full.as_str(), "<url>"),
        None => bare,
    };
    let mut message = format!("POST {}: {bare}", redacted(url));
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    let kind = if err.is_timeout() {
        LlmErrorKind::Timeout
    } else {
        LlmErrorKind::Connect
    };
    LlmError::new(kind, message)
}

/// A URL as it may be written to logs, transcripts and errors: without user info
/// (`user:key@`) and without a query string (`?api-key=...`), where secrets hide.
pub fn redacted(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let (host, path) = rest.split_once('/').map_or((rest, ""), |(h, p)| (h, p));
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let mut out = String::new();
    if !scheme.is_empty() {
        out.push_str(scheme);
        out.push_str("://");
    }
    out.push_str(host);
    if !path.is_empty() || rest.contains('/') {
        out.push('/');
        out.push_str(path);
    }
    out
}

/// The innermost cause of a transport error (`Connection refused (os error 111)`).
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

#[cfg(test)]
mod redaction_tests {
    use super::redacted;

    #[test]
    fn user_info_and_queries_never_reach_logs() {
        assert_eq!(
            redacted("http://127.0.0.1:8080/v1"),
            "http://127.0.0.1:8080/v1"
        );
        assert_eq!(
            redacted("https://user:s3cret@gpu.example/v1?api-key=s3cret#x"),
            "https://gpu.example/v1"
        );
        assert_eq!(redacted("http://host"), "http://host");
    }
}
