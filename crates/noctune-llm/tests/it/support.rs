//! Shared helpers: settings and clients pointed at a fake server.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use noctune_core::config::LlmSettings;
use noctune_llm::fake::FakeServer;
use noctune_llm::{OpenAiClient, RetryPolicy, StreamEvent};

/// Settings for `server`, streaming or not, with short timeouts.
pub fn settings(server: &FakeServer, stream: bool) -> LlmSettings {
    LlmSettings {
        base_url: server.url(),
        stream,
        timeout: Duration::from_secs(5),
        max_tokens: 64,
        ..LlmSettings::default()
    }
}

/// A client with fast retries (3).
pub fn client(server: &FakeServer, stream: bool) -> OpenAiClient {
    client_with(settings(server, stream))
}

/// A client for `settings` with fast retries (3).
pub fn client_with(settings: LlmSettings) -> OpenAiClient {
    OpenAiClient::builder(settings)
        .retry(RetryPolicy::fast(3))
        .build()
        .unwrap()
}

/// Everything an observer saw, as `content:`/`reasoning:`/`retry:` lines.
#[derive(Clone, Default)]
pub struct Seen(pub Arc<Mutex<Vec<String>>>);

impl Seen {
    pub fn observer(&self) -> Arc<dyn noctune_llm::StreamObserver> {
        let seen = self.0.clone();
        Arc::new(move |event: StreamEvent<'_>| {
            let line = match event {
                StreamEvent::Content(text) => format!("content:{text}"),
                StreamEvent::Reasoning(text) => format!("reasoning:{text}"),
                StreamEvent::Retry { attempt, .. } => format!("retry:{attempt}"),
            };
            seen.lock().unwrap().push(line);
        })
    }

    pub fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}
