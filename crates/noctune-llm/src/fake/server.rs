//! The fake server itself: axum on `127.0.0.1:0`.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body as HttpBody, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use serde_json::{Value, json};

use super::reply::{Body, Part, Reply, answer_parts};

/// What the fake server does besides replaying its script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeOptions {
    /// `GET /props` reports this `n_ctx`; `None` answers 404 (a server without `/props`).
    pub n_ctx: Option<u32>,
    /// `POST /tokenize` answers (one token per 4 bytes, rounded up); `false` answers 404.
    pub tokenize: bool,
    /// Requests with `response_format.type == "json_schema"` get a 400 without consuming the
    /// script (a server that does not support it).
    pub reject_json_schema: bool,
    /// Requests with any `response_format` get a 400 without consuming the script.
    pub reject_response_format: bool,
    /// Requests with a `grammar` field get a 400 without consuming the script.
    pub reject_grammar: bool,
    /// The first this many requests to `/props`, `/tokenize` and `/v1/models` get 503 "Loading
    /// model", as llama.cpp answers while it loads.
    pub loading_side_requests: usize,
    /// Chat requests answered at once, as llama.cpp's `--parallel`: `GET /props` reports it as
    /// `total_slots` and further requests wait for a free slot. `None`: no limit, and `/props`
    /// reports 1.
    pub total_slots: Option<u32>,
}

/// A request the server received.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// `GET`, `POST`.
    pub method: String,
    /// The path (`/v1/chat/completions`).
    pub path: String,
    /// Headers, names lowercased.
    pub headers: BTreeMap<String, String>,
    /// The body as JSON (`Value::Null` when empty or not JSON).
    pub body: Value,
}

/// Answers a chat request by its content (see [`FakeServer::start_responder`]).
pub type Responder = Box<dyn Fn(&RecordedRequest) -> Reply + Send + Sync>;

impl RecordedRequest {
    /// The `response_format.json_schema.name` of a structured chat request
    /// (`ReviewAnswer`, `DraftPlan`, ...).
    pub fn schema_name(&self) -> Option<&str> {
        self.body
            .pointer("/response_format/json_schema/name")
            .and_then(Value::as_str)
    }

    /// Whether the request is one of the calibration probe's (its system message is
    /// [`PROBE_SYSTEM`](crate::PROBE_SYSTEM)).
    pub fn is_probe(&self) -> bool {
        self.body
            .pointer("/messages/0/content")
            .and_then(Value::as_str)
            .is_some_and(|text| text == crate::PROBE_SYSTEM)
    }

    /// Whether the request carries a GBNF `grammar` (a code answer).
    pub fn has_grammar(&self) -> bool {
        self.body.get("grammar").is_some()
    }

    /// The `content` of every message, joined by blank lines.
    pub fn prompt_text(&self) -> String {
        self.body
            .get("messages")
            .and_then(Value::as_array)
            .map(|messages| {
                messages
                    .iter()
                    .filter_map(|m| m.get("content").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("\n\n")
            })
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct ServerState {
    options: FakeOptions,
    script: Mutex<VecDeque<Reply>>,
    responder: Option<Responder>,
    requests: Mutex<Vec<RecordedRequest>>,
    side_requests: AtomicUsize,
    props_extra: Mutex<serde_json::Map<String, Value>>,
    /// The slots of [`FakeOptions::total_slots`].
    slots: Option<tokio::sync::Semaphore>,
    /// Set by [`FakeServer::kill`]: every request in flight or still arriving is cut.
    killed: AtomicBool,
    killing: tokio::sync::Notify,
}

/// A running fake server; stops when dropped.
pub struct FakeServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    task: Mutex<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for FakeServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl FakeServer {
    /// Starts a server that answers chat requests with `script`, in order.
    ///
    /// # Panics
    ///
    /// When no port on 127.0.0.1 can be bound (a test setup failure).
    pub async fn start(script: impl IntoIterator<Item = Reply>) -> Self {
        Self::start_with(FakeOptions::default(), script).await
    }

    /// Starts a server with `options`.
    ///
    /// # Panics
    ///
    /// When no port on 127.0.0.1 can be bound (a test setup failure).
    pub async fn start_with(options: FakeOptions, script: impl IntoIterator<Item = Reply>) -> Self {
        Self::serve(ServerState {
            options,
            script: Mutex::new(script.into_iter().collect()),
            ..ServerState::default()
        })
        .await
    }

    /// Starts a server that answers every chat request with `responder(request)`, for tests
    /// where the number and order of calls is not known in advance (a run resumed after a
    /// crash asks only for what is missing). The request is recorded before the responder
    /// sees it; the fault options of [`FakeOptions`] apply first, as with a script.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use noctune_core::{ChatRequest, LlmClient};
    /// use noctune_core::config::LlmSettings;
    /// use noctune_llm::OpenAiClient;
    /// use noctune_llm::fake::{FakeOptions, FakeServer, Reply};
    ///
    /// let server = FakeServer::start_responder(FakeOptions::default(), |request| {
    ///     let asked = request.body["messages"][0]["content"].as_str().unwrap_or("");
    ///     Reply::answer(format!("you said: {asked}"))
    /// })
    /// .await;
    /// let settings = LlmSettings { base_url: server.url(), ..LlmSettings::default() };
    /// let client = OpenAiClient::new(settings).unwrap();
    /// let answer = client.chat(&ChatRequest::user("hi")).await.unwrap();
    /// assert_eq!(answer.content, "you said: hi");
    /// # });
    /// ```
    ///
    /// # Panics
    ///
    /// When no port on 127.0.0.1 can be bound (a test setup failure).
    pub async fn start_responder(
        options: FakeOptions,
        responder: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::serve(ServerState {
            options,
            responder: Some(Box::new(responder)),
            ..ServerState::default()
        })
        .await
    }

    #[allow(clippy::expect_used)]
    async fn serve(mut state: ServerState) -> Self {
        state.slots = state
            .options
            .total_slots
            .map(|n| tokio::sync::Semaphore::new(n.max(1) as usize));
        let state = Arc::new(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0 for the fake LLM server");
        let addr = listener
            .local_addr()
            .expect("local address of the fake LLM server");
        let task = Mutex::new(Self::spawn(listener, state.clone()));
        Self { addr, state, task }
    }

    fn spawn(
        listener: tokio::net::TcpListener,
        state: Arc<ServerState>,
    ) -> tokio::task::JoinHandle<()> {
        let app = Router::new().fallback(handle).with_state(state);
        tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::warn!(%err, "fake LLM server stopped");
            }
        })
    }

    /// Kills the server as a crashed process dies: it stops listening (connections are
    /// refused) and every request in flight or on an open connection is cut mid-answer.
    pub fn kill(&self) {
        self.state.killed.store(true, Ordering::SeqCst);
        self.state.killing.notify_waiters();
        lock(&self.task).abort();
    }

    /// Starts a killed server again on the same port, with its script, responder and record.
    ///
    /// # Panics
    ///
    /// When the port cannot be bound again (a test setup failure).
    #[allow(clippy::expect_used)]
    pub async fn revive(&self) {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("bind the fake LLM server's port again");
        self.state.killed.store(false, Ordering::SeqCst);
        *lock(&self.task) = Self::spawn(listener, self.state.clone());
    }

    /// The base URL to configure: `http://127.0.0.1:<port>/v1`.
    pub fn url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Appends replies to the script.
    pub fn push(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.state.script).extend(replies);
    }

    /// How many scripted replies are left.
    pub fn remaining(&self) -> usize {
        lock(&self.state.script).len()
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// The chat-completion requests received, in order, without the calibration probe's
    /// (see [`probe_requests`](Self::probe_requests)): the asks of the work itself.
    pub fn chat_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/chat/completions") && !r.is_probe())
            .collect()
    }

    /// The calibration probe's chat requests, in order. The server answers them itself (a
    /// python block, `{"answer": 5}`, a count) without using the script or the responder;
    /// the fault options of [`FakeOptions`] apply to them as to any request.
    pub fn probe_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/chat/completions") && r.is_probe())
            .collect()
    }

    /// Adds (or replaces) fields of the `GET /props` answer, as a server restarted with another
    /// build or model would (`{"build_info": "b2"}`).
    pub fn set_props(&self, fields: &Value) {
        if let Some(fields) = fields.as_object() {
            lock(&self.state.props_extra).extend(fields.clone());
        }
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        lock(&self.task).abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

async fn handle(State(state): State<Arc<ServerState>>, request: Request) -> Response {
    let method = request.method().to_string();
    let path = request.uri().path().to_owned();
    let headers = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let bytes = axum::body::to_bytes(request.into_body(), 64 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let recorded = RecordedRequest {
        method: method.clone(),
        path: path.clone(),
        headers,
        body: body.clone(),
    };
    if state.killed.load(Ordering::SeqCst) {
        return cut();
    }
    lock(&state.requests).push(recorded.clone());
    let options = &state.options;
    if matches!(
        path.as_str(),
        "/props" | "/tokenize" | "/v1/models" | "/models"
    ) && state.side_requests.fetch_add(1, Ordering::SeqCst) < options.loading_side_requests
    {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(json!({"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}})),
        )
            .into_response();
    }
    match (method.as_str(), path.as_str()) {
        ("GET", "/health") => (StatusCode::OK, axum::Json(json!({"status": "ok"}))).into_response(),
        ("GET", "/props") if options.n_ctx.is_some() || options.total_slots.is_some() => {
            let mut props = json!({
                "total_slots": options.total_slots.unwrap_or(1),
                "model_path": "/models/fake-model.gguf",
                "build_info": "fake",
            });
            if let Some(n_ctx) = options.n_ctx {
                props["default_generation_settings"] = json!({"n_ctx": n_ctx});
            }
            if let Some(fields) = props.as_object_mut() {
                fields.extend(lock(&state.props_extra).clone());
            }
            axum::Json(props).into_response()
        }
        ("GET", "/props") => StatusCode::NOT_FOUND.into_response(),
        ("GET", "/v1/models" | "/models") => axum::Json(json!({
            "object": "list",
            "data": [{"id": "fake-model", "object": "model", "owned_by": "noctune-fake"}],
        }))
        .into_response(),
        ("POST", "/tokenize") if options.tokenize => {
            let content = body.get("content").and_then(Value::as_str).unwrap_or("");
            let tokens = vec![0; content.len().div_ceil(4)];
            axum::Json(json!({"tokens": tokens})).into_response()
        }
        ("POST", "/v1/chat/completions" | "/chat/completions") => chat(&state, &recorded).await,
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn chat(state: &ServerState, request: &RecordedRequest) -> Response {
    let body = &request.body;
    let options = &state.options;
    let format = body
        .pointer("/response_format/type")
        .and_then(Value::as_str);
    if options.reject_response_format && format.is_some() {
        return rejection("response_format is not supported");
    }
    if options.reject_json_schema && format == Some("json_schema") {
        return rejection("response_format type must be one of \"text\" or \"json_object\"");
    }
    if options.reject_grammar && body.get("grammar").is_some() {
        return rejection("Unrecognized request argument supplied: grammar");
    }
    let next = if request.is_probe() {
        Some(probe_reply(request))
    } else {
        match &state.responder {
            Some(responder) => Some(responder(request)),
            None => lock(&state.script).pop_front(),
        }
    };
    let Some(reply) = next else {
        return rejection("fake server: the script has no reply left");
    };
    // A slot for the answer (as llama.cpp's `--parallel`), held until the answer is written
    // out; a kill cuts the wait and the answer.
    let killed = state.killing.notified();
    if state.killed.load(Ordering::SeqCst) {
        return cut();
    }
    let answered = async {
        let _slot = match &state.slots {
            Some(slots) => Some(slots.acquire().await),
            None => None,
        };
        if !reply.delay.is_zero() {
            tokio::time::sleep(reply.delay).await;
        }
        respond(reply, body)
    };
    tokio::select! {
        response = answered => response,
        () = killed => cut(),
    }
}

/// What a killed server leaves: a response whose body breaks off at once.
fn cut() -> Response {
    let body = stream::once(async {
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "fake server: killed",
        ))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(HttpBody::from_stream(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// The reply as an HTTP response, streamed part by part.
fn respond(reply: Reply, body: &Value) -> Response {
    let streaming = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    let (content_type, parts) = match reply.body {
        Body::Parts(parts) => (reply.content_type, parts),
        Body::Answer {
            content,
            reasoning,
            finish_reason,
        } => answer_parts(&content, reasoning.as_deref(), &finish_reason, streaming),
    };
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body_stream = stream::unfold(parts.into_iter(), |mut parts| async move {
        loop {
            match parts.next()? {
                Part::Bytes(bytes) => return Some((Ok(Bytes::from(bytes)), parts)),
                Part::Pause(duration) => tokio::time::sleep(duration).await,
                Part::Disconnect => {
                    return Some((
                        Err(std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            "fake server: disconnect",
                        )),
                        Vec::new().into_iter(),
                    ));
                }
            }
        }
    });
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-cache")
        .body(HttpBody::from_stream(body_stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// What a well-behaved model answers to the calibration probe's asks.
fn probe_reply(request: &RecordedRequest) -> Reply {
    let body = &request.body;
    if body.get("response_format").is_some() || request.prompt_text().contains("\"answer\"") {
        Reply::answer("{\"answer\": 5}")
    } else if body.get("grammar").is_some() || request.prompt_text().contains("python block") {
        Reply::answer("```python\nx = 1\n```")
    } else {
        Reply::answer("1 2 3 4 5")
    }
}

fn rejection(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(
            json!({"error": {"code": 400, "message": message, "type": "invalid_request_error"}}),
        ),
    )
        .into_response()
}
