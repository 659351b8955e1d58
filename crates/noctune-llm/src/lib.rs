//! The OpenAI-compatible [`LlmClient`](noctune_core::LlmClient) for Noctune.
//!
//! [`OpenAiClient`] talks to `POST {base_url}/chat/completions` on llama.cpp's `llama-server`,
//! vLLM, LM Studio and Ollama's OpenAI endpoint:
//!
//! - non-streaming and SSE streaming answers, with `reasoning_content`, tool-call deltas,
//!   `usage` and llama.cpp's `timings` (see [`StreamObserver`] for live output);
//! - retries with capped exponential backoff and jitter for connection failures and 5xx, a model
//!   that is still loading (HTTP 503) waited out, 4xx reported with the server's message
//!   ([`RetryPolicy`]);
//! - a context budget: a prompt that does not fit the window is refused, never silently
//!   truncated by the server;
//! - structured answers: `json_schema` → `json_object` → text, and a GBNF `grammar` → text,
//!   each fallback remembered for the client's lifetime ([`WireFormat`]);
//! - a calibration probe on first contact with a model ([`calibrate_cached`]): which answer
//!   formats work, prompt and answer tokens per second, the context size, cached under
//!   `.noctune_cache/models/` and given back to the client
//!   ([`OpenAiClientBuilder::calibration`]);
//! - a pool of endpoints serving one model, each with its slots ([`EndpointPool`]): calls go
//!   to a free slot, a failing endpoint is taken out and checked until it answers again;
//! - transcripts of every exchange ([`TranscriptSink`]) and a [`ReplayClient`] that serves them
//!   back offline.
//!
//! With the `test-support` feature, `noctune_llm::fake` is a scripted OpenAI-compatible HTTP server for
//! tests.

mod budget;
mod client;
mod fallback;
mod health;
mod observer;
mod pool;
mod probe;
mod replay;
mod retry;
mod stream;
mod transcript;
mod wire;

#[cfg(feature = "test-support")]
pub mod fake;

pub use client::{OpenAiClient, OpenAiClientBuilder};
pub use fallback::WireFormat;
pub use health::{EndpointFacts, check_endpoint};
pub use observer::{StreamEvent, StreamObserver};
pub use pool::{EndpointCheck, EndpointPool, PoolMember, PoolOptions};
pub use probe::{PROBE_SYSTEM, ProbeOutcome, calibrate_cached};
pub use replay::ReplayClient;
pub use retry::RetryPolicy;
pub use transcript::{Exchange, JsonlTranscript, TranscriptSink};
