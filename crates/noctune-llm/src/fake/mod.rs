//! A scripted OpenAI-compatible HTTP server for tests (feature `test-support`).
//!
//! A real server on `127.0.0.1:0` that speaks `POST /v1/chat/completions` (plain JSON and SSE),
//! llama.cpp's `GET /props`, `POST /tokenize` and `GET /health`. Each chat request takes the next
//! [`Reply`] of the script, or the one a responder function picks from the request's content
//! ([`FakeServer::start_responder`]); replies control the bytes on the wire, chunk by chunk, so
//! tests can produce awkward chunking and faults (a loading model, 5xx, a stall, a disconnect
//! mid-stream, a malformed chunk). Every request received is recorded for assertions.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use noctune_core::{ChatRequest, LlmClient};
//! use noctune_core::config::LlmSettings;
//! use noctune_llm::OpenAiClient;
//! use noctune_llm::fake::{FakeServer, Reply};
//!
//! let server = FakeServer::start([Reply::answer("label: W")]).await;
//! let settings = LlmSettings { base_url: server.url(), ..LlmSettings::default() };
//! let client = OpenAiClient::new(settings).unwrap();
//! let answer = client.chat(&ChatRequest::user("review")).await.unwrap();
//! assert_eq!(answer.content, "label: W");
//! assert_eq!(server.chat_requests().len(), 1);
//! # });
//! ```

mod echo;
mod reply;
mod server;

pub use echo::{asked_code, echo_model};

pub use reply::{Part, Reply, chunk, sse_event};
pub use server::{FakeOptions, FakeServer, RecordedRequest, Responder};
