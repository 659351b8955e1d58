//! Scripted replies, down to the bytes and pauses of a stream.

use std::time::Duration;

use serde_json::{Value, json};

/// One piece of a reply body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Bytes sent as one write (one HTTP chunk).
    Bytes(Vec<u8>),
    /// A pause before the next part.
    Pause(Duration),
    /// The connection is cut here, without ending the body properly.
    Disconnect,
}

/// What the server answers to one chat request.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    pub(crate) delay: Duration,
    pub(crate) body: Body,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    /// Exactly these parts.
    Parts(Vec<Part>),
    /// A whole answer, streamed or not as the request asks.
    Answer {
        content: String,
        reasoning: Option<String>,
        finish_reason: String,
    },
}

impl Reply {
    /// A finished answer `content`: a `chat.completion` object, or an SSE stream in a few pieces
    /// when the request has `stream: true`. Includes `usage` and llama.cpp `timings`.
    pub fn answer(content: impl Into<String>) -> Self {
        Self::answer_with(content, None, "stop")
    }

    /// Like [`Reply::answer`], with reasoning (`reasoning_content`) and a `finish_reason`.
    pub fn answer_with(
        content: impl Into<String>,
        reasoning: Option<&str>,
        finish_reason: &str,
    ) -> Self {
        Self {
            status: 200,
            content_type: "application/json".into(),
            delay: Duration::ZERO,
            body: Body::Answer {
                content: content.into(),
                reasoning: reasoning.map(str::to_owned),
                finish_reason: finish_reason.to_owned(),
            },
        }
    }

    /// A JSON body with `status`.
    pub fn json(status: u16, body: &Value) -> Self {
        Self::raw(
            status,
            "application/json",
            vec![Part::Bytes(body.to_string().into_bytes())],
        )
    }

    /// An OpenAI-style error: `{"error": {"code", "message", "type"}}`.
    pub fn error(status: u16, message: &str) -> Self {
        let kind = if status >= 500 {
            "server_error"
        } else {
            "invalid_request_error"
        };
        Self::json(
            status,
            &json!({"error": {"code": status, "message": message, "type": kind}}),
        )
    }

    /// llama.cpp's answer while it loads the model: 503 "Loading model".
    pub fn loading() -> Self {
        Self::json(
            503,
            &json!({"error": {"code": 503, "message": "Loading model", "type": "unavailable_error"}}),
        )
    }

    /// An SSE stream of these events' `data`, each as `data: <json>\n\n`, then `data: [DONE]`.
    pub fn sse(events: impl IntoIterator<Item = Value>) -> Self {
        let mut parts: Vec<Part> = events
            .into_iter()
            .map(|event| Part::Bytes(sse_event(&event.to_string())))
            .collect();
        parts.push(Part::Bytes(sse_event("[DONE]")));
        Self::stream(parts)
    }

    /// An SSE stream of exactly these parts (`text/event-stream`, status 200).
    pub fn stream(parts: Vec<Part>) -> Self {
        Self::raw(200, "text/event-stream", parts)
    }

    /// Any status, content type and body parts.
    pub fn raw(status: u16, content_type: &str, parts: Vec<Part>) -> Self {
        Self {
            status,
            content_type: content_type.to_owned(),
            delay: Duration::ZERO,
            body: Body::Parts(parts),
        }
    }

    /// The server waits `delay` before it sends the status line and headers.
    #[must_use]
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// `data: <data>\n\n`.
pub fn sse_event(data: &str) -> Vec<u8> {
    format!("data: {data}\n\n").into_bytes()
}

/// A `chat.completion.chunk` with this `delta` (and `finish_reason`, when given).
pub fn chunk(delta: Value, finish_reason: Option<&str>) -> Value {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "model": "fake-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    })
}

pub(crate) fn usage() -> Value {
    json!({"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17})
}

pub(crate) fn timings() -> Value {
    json!({"prompt_n": 12, "prompt_ms": 30.0, "predicted_n": 5, "predicted_ms": 100.0, "predicted_per_second": 50.0})
}

/// The body of an [`Body::Answer`] for a request that did (`stream`) or did not stream.
pub(crate) fn answer_parts(
    content: &str,
    reasoning: Option<&str>,
    finish_reason: &str,
    stream: bool,
) -> (String, Vec<Part>) {
    if !stream {
        let mut message = json!({"role": "assistant", "content": content});
        if let Some(reasoning) = reasoning {
            message["reasoning_content"] = json!(reasoning);
        }
        let body = json!({
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "model": "fake-model",
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
            "usage": usage(),
            "timings": timings(),
        });
        return (
            "application/json".into(),
            vec![Part::Bytes(body.to_string().into_bytes())],
        );
    }
    let mut events = vec![chunk(json!({"role": "assistant", "content": null}), None)];
    if let Some(reasoning) = reasoning {
        events.push(chunk(json!({"reasoning_content": reasoning}), None));
    }
    for piece in pieces(content) {
        events.push(chunk(json!({"content": piece}), None));
    }
    events.push(chunk(json!({}), Some(finish_reason)));
    let mut last = json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": "fake-model", "choices": []});
    last["usage"] = usage();
    last["timings"] = timings();
    events.push(last);
    let mut parts: Vec<Part> = events
        .iter()
        .map(|event| Part::Bytes(sse_event(&event.to_string())))
        .collect();
    parts.push(Part::Bytes(sse_event("[DONE]")));
    ("text/event-stream".into(), parts)
}

/// `text` in up to four pieces, split on character boundaries.
fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return Vec::new();
    }
    let size = chars.len().div_ceil(4);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}
