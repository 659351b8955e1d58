//! Server-sent events: reading a streamed answer chunk by chunk into a whole [`ChatResponse`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use noctune_core::llm::Timings;
use noctune_core::{ChatResponse, FinishReason, LlmError, LlmErrorKind, ToolCall, Usage};
use serde_json::Value;

use crate::observer::{StreamEvent, StreamObserver};
use crate::wire::{excerpt, finish_reason, str_of, timings, usage};

/// Which deltas are passed to the observer.
#[derive(Clone, Copy)]
pub(crate) struct Echo {
    pub(crate) content: bool,
    pub(crate) reasoning: bool,
}

/// Assembles chunks (`chat.completion.chunk`) into an answer.
#[derive(Default)]
pub(crate) struct Accumulator {
    content: String,
    reasoning: String,
    tool_calls: BTreeMap<u64, ToolCall>,
    finish_reason: Option<FinishReason>,
    usage: Option<Usage>,
    timings: Option<Timings>,
    model: Option<String>,
    done: bool,
}

impl Accumulator {
    /// Feeds one event's `data`. Returns `true` at `[DONE]`.
    pub(crate) fn push(
        &mut self,
        data: &str,
        observer: Option<&dyn StreamObserver>,
        echo: Echo,
    ) -> Result<bool, LlmError> {
        let data = data.trim();
        if data == "[DONE]" {
            self.done = true;
            return Ok(true);
        }
        if data.is_empty() {
            return Ok(false);
        }
        let chunk: Value = serde_json::from_str(data).map_err(|err| {
            LlmError::new(
                LlmErrorKind::Protocol,
                format!("a stream chunk is not JSON ({err}): {}", excerpt(data)),
            )
        })?;
        if let Some(error) = chunk.get("error") {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .map_or_else(|| error.to_string(), str::to_owned);
            return Err(LlmError::new(
                LlmErrorKind::Server { status: 500 },
                format!("the server sent an error mid-stream: {}", excerpt(&message)),
            ));
        }
        if self.model.is_none() {
            self.model = chunk
                .get("model")
                .and_then(Value::as_str)
                .map(str::to_owned);
        }
        if let Some(u) = chunk.get("usage").and_then(usage) {
            self.usage = Some(u);
        }
        if let Some(t) = chunk.get("timings").and_then(timings) {
            self.timings = Some(t);
        }
        let Some(choice) = chunk.get("choices").and_then(|c| c.get(0)) else {
            return Ok(false);
        };
        let delta = choice.get("delta").cloned().unwrap_or(Value::Null);
        if let Some(text) = delta.get("reasoning_content").and_then(Value::as_str)
            && !text.is_empty()
        {
            self.reasoning.push_str(text);
            if echo.reasoning
                && let Some(observer) = observer
            {
                observer.on_event(StreamEvent::Reasoning(text));
            }
        }
        if let Some(text) = delta.get("content").and_then(Value::as_str)
            && !text.is_empty()
        {
            self.content.push_str(text);
            if echo.content
                && let Some(observer) = observer
            {
                observer.on_event(StreamEvent::Content(text));
            }
        }
        if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
            for (position, call) in calls.iter().enumerate() {
                let index = call
                    .get("index")
                    .and_then(Value::as_u64)
                    .unwrap_or(position as u64);
                let entry = self.tool_calls.entry(index).or_insert_with(|| ToolCall {
                    id: String::new(),
                    name: String::new(),
                    arguments: String::new(),
                });
                if let Some(id) = call.get("id").and_then(Value::as_str) {
                    // An id comes whole: once, or repeated in every chunk. Keep the first.
                    if entry.id.is_empty() {
                        id.clone_into(&mut entry.id);
                    }
                }
                if let Some(function) = call.get("function") {
                    entry.name.push_str(&str_of(function.get("name")));
                    entry.arguments.push_str(&str_of(function.get("arguments")));
                }
            }
        }
        if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
            self.finish_reason = Some(finish_reason(reason));
        }
        Ok(false)
    }

    /// The whole answer, or an error when the stream ended without `[DONE]` or a
    /// `finish_reason` (a dropped connection must not pass for a short answer).
    pub(crate) fn finish(self) -> Result<ChatResponse, LlmError> {
        let finish_reason = match (self.finish_reason, self.done) {
            (Some(reason), _) => reason,
            (None, true) => FinishReason::Stop,
            (None, false) => {
                return Err(LlmError::new(
                    LlmErrorKind::IncompleteStream,
                    format!(
                        "the stream ended without `[DONE]` or a `finish_reason` after {} characters",
                        self.content.chars().count()
                    ),
                ));
            }
        };
        Ok(ChatResponse {
            content: self.content,
            reasoning: Some(self.reasoning).filter(|r| !r.is_empty()),
            tool_calls: self.tool_calls.into_values().collect(),
            finish_reason,
            usage: self.usage,
            timings: self.timings,
            model: self.model,
            endpoint: None,
        })
    }
}

/// What reading a stream produced besides the answer: the raw bytes and the first-token time.
#[derive(Default)]
pub(crate) struct StreamTrace {
    /// Every byte received, for the transcript.
    pub(crate) raw: Arc<Mutex<Vec<u8>>>,
    /// When the first content or reasoning delta arrived.
    pub(crate) first_token: Option<Instant>,
}

/// Reads an SSE response to the end. Each chunk must arrive within `idle`.
pub(crate) async fn read(
    response: reqwest::Response,
    idle: Duration,
    observer: Option<&dyn StreamObserver>,
    echo: Echo,
    trace: &mut StreamTrace,
) -> Result<ChatResponse, LlmError> {
    let raw = trace.raw.clone();
    let bytes = response.bytes_stream().map(move |chunk| {
        if let Ok(bytes) = &chunk
            && let Ok(mut raw) = raw.lock()
        {
            raw.extend_from_slice(bytes);
        }
        chunk
    });
    let mut events = bytes.eventsource();
    let mut accumulator = Accumulator::default();
    loop {
        let next = match tokio::time::timeout(idle, events.next()).await {
            Ok(next) => next,
            Err(_) => {
                return Err(LlmError::new(
                    LlmErrorKind::Timeout,
                    format!(
                        "no stream chunk for {} s (timeout_s); {} characters received",
                        idle.as_secs_f64(),
                        accumulator.content.chars().count()
                    ),
                ));
            }
        };
        let Some(event) = next else {
            return accumulator.finish();
        };
        let event = event.map_err(|err| {
            LlmError::new(
                LlmErrorKind::IncompleteStream,
                format!(
                    "the stream broke after {} characters: {err}",
                    accumulator.content.chars().count()
                ),
            )
        })?;
        let before = accumulator.content.len() + accumulator.reasoning.len();
        let done = accumulator.push(&event.data, observer, echo)?;
        if trace.first_token.is_none()
            && accumulator.content.len() + accumulator.reasoning.len() > before
        {
            trace.first_token = Some(Instant::now());
        }
        if done {
            return accumulator.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    const ECHO: Echo = Echo {
        content: true,
        reasoning: false,
    };

    #[test]
    fn assembles_content_reasoning_tools_usage() {
        let seen = Mutex::new(Vec::new());
        let observer = |event: StreamEvent<'_>| {
            if let StreamEvent::Content(text) = event {
                seen.lock().unwrap().push(text.to_owned());
            }
        };
        let mut acc = Accumulator::default();
        for data in [
            r#"{"model":"m","choices":[{"delta":{"role":"assistant","content":null}}]}"#,
            r#"{"choices":[{"delta":{"reasoning_content":"think"}}]}"#,
            r#"{"choices":[{"delta":{"content":"Hel"}}]}"#,
            r#"{"choices":[{"delta":{"content":"lo"}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"read_","arguments":"{\"pa"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c1","function":{"name":"file","arguments":"th\":1}"}}]}}]}"#,
            r#"{"choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4},"timings":{"prompt_ms":1.5,"predicted_ms":2.5,"predicted_per_second":40.0}}"#,
        ] {
            assert!(!acc.push(data, Some(&observer), ECHO).unwrap());
        }
        assert!(acc.push("[DONE]", Some(&observer), ECHO).unwrap());
        let response = acc.finish().unwrap();
        assert_eq!(
            response,
            ChatResponse {
                content: "Hello".into(),
                reasoning: Some("think".into()),
                tool_calls: vec![ToolCall {
                    id: "c1".into(),
                    name: "read_file".into(),
                    arguments: "{\"path\":1}".into()
                }],
                finish_reason: FinishReason::ToolCalls,
                usage: Some(Usage {
                    prompt_tokens: 3,
                    completion_tokens: 4
                }),
                timings: Some(Timings {
                    prompt_n: None,
                    prompt_ms: 1.5,
                    predicted_ms: 2.5,
                    predicted_per_second: 40.0
                }),
                model: Some("m".into()),
                endpoint: None,
            }
        );
        assert_eq!(*seen.lock().unwrap(), vec!["Hel", "lo"]);
    }

    #[test]
    fn ending_without_done_or_finish_reason_is_an_error() {
        let mut acc = Accumulator::default();
        acc.push(
            r#"{"choices":[{"delta":{"content":"def f("}}]}"#,
            None,
            ECHO,
        )
        .unwrap();
        let err = acc.finish().unwrap_err();
        assert_eq!(err.kind, LlmErrorKind::IncompleteStream);
        assert!(err.is_retryable());
    }

    #[test]
    fn finish_reason_without_done_is_whole() {
        let mut acc = Accumulator::default();
        acc.push(
            r#"{"choices":[{"delta":{"content":"x"},"finish_reason":"length"}]}"#,
            None,
            ECHO,
        )
        .unwrap();
        let response = acc.finish().unwrap();
        assert!(response.is_truncated());
    }

    #[test]
    fn malformed_chunk_is_a_protocol_error() {
        let mut acc = Accumulator::default();
        let err = acc.push("{\"choices\": [", None, ECHO).unwrap_err();
        assert_eq!(err.kind, LlmErrorKind::Protocol);
    }
}
