//! The OpenAI chat-completions wire format: the request body, a whole (non-streamed) answer, and
//! errors from HTTP statuses.

use noctune_core::config::LlmSettings;
use noctune_core::llm::Timings;
use noctune_core::{
    AnswerFormat, ChatMessage, ChatRequest, ChatResponse, FinishReason, LlmError, LlmErrorKind,
    Role, ToolCall, Usage,
};
use serde_json::{Map, Value, json};

use crate::fallback::WireFormat;

/// The most characters of a server's error body kept in a message.
const MAX_MESSAGE_CHARS: usize = 500;

/// Builds the JSON body of `POST /chat/completions`.
pub(crate) fn request_body(
    settings: &LlmSettings,
    request: &ChatRequest,
    format: WireFormat,
    stream: bool,
) -> Value {
    let mut messages: Vec<Value> = request.messages.iter().map(message).collect();
    let mut body = Map::new();
    if let Some(model) = &settings.model {
        body.insert("model".into(), json!(model));
    }
    body.insert(
        "max_tokens".into(),
        json!(request.max_tokens.unwrap_or(settings.max_tokens)),
    );
    body.insert(
        "temperature".into(),
        json!(request.temperature.unwrap_or(settings.temperature)),
    );
    if let Some(penalty) = request.frequency_penalty {
        body.insert("frequency_penalty".into(), json!(penalty));
    }
    if !request.stop.is_empty() {
        body.insert("stop".into(), json!(request.stop));
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.parameters,
                    }
                })
            })
            .collect();
        body.insert("tools".into(), Value::Array(tools));
    }
    match (&request.answer, format) {
        (AnswerFormat::JsonSchema { name, schema }, WireFormat::JsonSchema) => {
            body.insert(
                "response_format".into(),
                json!({"type": "json_schema", "json_schema": {"name": name, "schema": schema}}),
            );
        }
        (AnswerFormat::JsonSchema { schema, .. }, WireFormat::JsonObject | WireFormat::Text) => {
            // The server does not enforce the schema: say it in the prompt instead.
            if format == WireFormat::JsonObject {
                body.insert("response_format".into(), json!({"type": "json_object"}));
            }
            messages.push(json!({
                "role": "system",
                "content": format!(
                    "Answer with one JSON object and nothing else. It must match this JSON Schema:\n{schema}"
                ),
            }));
        }
        (AnswerFormat::Grammar { gbnf }, WireFormat::Grammar) => {
            body.insert("grammar".into(), json!(gbnf));
        }
        _ => {}
    }
    body.insert("messages".into(), Value::Array(messages));
    if stream {
        body.insert("stream".into(), json!(true));
        body.insert("stream_options".into(), json!({"include_usage": true}));
    } else {
        body.insert("stream".into(), json!(false));
    }
    Value::Object(body)
}

fn message(message: &ChatMessage) -> Value {
    let role = match message.role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    };
    let mut out = Map::new();
    out.insert("role".into(), json!(role));
    out.insert("content".into(), json!(message.content));
    if !message.tool_calls.is_empty() {
        let calls: Vec<Value> = message
            .tool_calls
            .iter()
            .map(|call| {
                json!({
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                })
            })
            .collect();
        out.insert("tool_calls".into(), Value::Array(calls));
    }
    if let Some(id) = &message.tool_call_id {
        out.insert("tool_call_id".into(), json!(id));
    }
    Value::Object(out)
}

/// Parses a whole `chat.completion` object.
pub(crate) fn parse_completion(body: &str) -> Result<ChatResponse, LlmError> {
    let value: Value = serde_json::from_str(body).map_err(|err| {
        LlmError::new(
            LlmErrorKind::Protocol,
            format!("the answer is not JSON ({err}): {}", excerpt(body)),
        )
    })?;
    let choice = value.get("choices").and_then(|c| c.get(0)).ok_or_else(|| {
        LlmError::new(
            LlmErrorKind::Protocol,
            format!("the answer has no `choices[0]`: {}", excerpt(body)),
        )
    })?;
    let message = choice.get("message").cloned().unwrap_or(Value::Null);
    let mut tool_calls = Vec::new();
    if let Some(calls) = message.get("tool_calls").and_then(Value::as_array) {
        for call in calls {
            let function = call.get("function").cloned().unwrap_or(Value::Null);
            tool_calls.push(ToolCall {
                id: str_of(call.get("id")),
                name: str_of(function.get("name")),
                arguments: match function.get("arguments") {
                    Some(Value::String(text)) => text.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                },
            });
        }
    }
    let reasoning = message
        .get("reasoning_content")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
        .map(str::to_owned);
    let finish_reason = match choice.get("finish_reason").and_then(Value::as_str) {
        Some(reason) => finish_reason(reason),
        None => {
            return Err(LlmError::new(
                LlmErrorKind::Protocol,
                "the answer has no `finish_reason`",
            ));
        }
    };
    Ok(ChatResponse {
        content: str_of(message.get("content")),
        reasoning,
        tool_calls,
        finish_reason,
        usage: value.get("usage").and_then(usage),
        timings: value.get("timings").and_then(timings),
        model: value
            .get("model")
            .and_then(Value::as_str)
            .map(str::to_owned),
        endpoint: None,
    })
}

pub(crate) fn str_of(value: Option<&Value>) -> String {
    value.and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// Maps an OpenAI `finish_reason`.
pub(crate) fn finish_reason(reason: &str) -> FinishReason {
    match reason {
        "stop" | "eos" => FinishReason::Stop,
        "length" => FinishReason::Length,
        "tool_calls" | "function_call" => FinishReason::ToolCalls,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// Reads a `usage` object.
pub(crate) fn usage(value: &Value) -> Option<Usage> {
    let get = |key: &str| {
        value
            .get(key)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
    };
    Some(Usage {
        prompt_tokens: get("prompt_tokens")?,
        completion_tokens: get("completion_tokens").unwrap_or(0),
    })
}

/// Reads llama.cpp's `timings` object.
pub(crate) fn timings(value: &Value) -> Option<Timings> {
    let get = |key: &str| value.get(key).and_then(Value::as_f64);
    Some(Timings {
        prompt_n: value
            .get("prompt_n")
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        prompt_ms: get("prompt_ms").unwrap_or(0.0),
        predicted_ms: get("predicted_ms")?,
        predicted_per_second: get("predicted_per_second").unwrap_or(0.0),
    })
}

/// The error for a non-2xx answer, with the server's own message.
pub(crate) fn status_error(status: u16, body: &str) -> LlmError {
    let message = server_message(body);
    let kind = if status == 503 && message.to_ascii_lowercase().contains("loading") {
        LlmErrorKind::Loading
    } else if status >= 500 || status == 429 || status == 408 {
        LlmErrorKind::Server { status }
    } else {
        LlmErrorKind::Rejected { status }
    };
    LlmError::new(kind, format!("HTTP {status}: {message}"))
}

/// `error.message` of an OpenAI error body, else the body itself, shortened.
fn server_message(body: &str) -> String {
    if let Ok(value) = serde_json::from_str::<Value>(body) {
        let error = value.get("error").unwrap_or(&value);
        if let Some(message) = error.get("message").and_then(Value::as_str) {
            return excerpt(message);
        }
        if let Some(message) = error.as_str() {
            return excerpt(message);
        }
    }
    if body.trim().is_empty() {
        "(empty body)".to_owned()
    } else {
        excerpt(body)
    }
}

/// At most [`MAX_MESSAGE_CHARS`] characters of `text`, trimmed.
pub(crate) fn excerpt(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= MAX_MESSAGE_CHARS {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(MAX_MESSAGE_CHARS).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn body_has_model_limits_and_stream_options() {
        let settings = LlmSettings {
            model: Some("qwen".into()),
            ..LlmSettings::default()
        };
        let request = ChatRequest::user("hi").with_max_tokens(7);
        let body = request_body(&settings, &request, WireFormat::Text, true);
        assert_eq!(
            body,
            json!({
                "model": "qwen",
                "max_tokens": 7,
                "temperature": settings.temperature,
                "messages": [{"role": "user", "content": "hi"}],
                "stream": true,
                "stream_options": {"include_usage": true},
            })
        );
    }

    #[test]
    fn json_fallbacks_describe_the_schema() {
        let request = ChatRequest::user("x").with_answer(AnswerFormat::JsonSchema {
            name: "Review".into(),
            schema: json!({"type": "object"}),
        });
        let settings = LlmSettings::default();
        let schema = request_body(&settings, &request, WireFormat::JsonSchema, false);
        assert_eq!(
            schema["response_format"],
            json!({"type": "json_schema", "json_schema": {"name": "Review", "schema": {"type": "object"}}})
        );
        let object = request_body(&settings, &request, WireFormat::JsonObject, false);
        assert_eq!(object["response_format"], json!({"type": "json_object"}));
        assert!(
            object["messages"][1]["content"]
                .as_str()
                .unwrap()
                .contains("JSON Schema")
        );
        let text = request_body(&settings, &request, WireFormat::Text, false);
        assert!(text.get("response_format").is_none());
    }

    #[test]
    fn statuses() {
        let loading = status_error(
            503,
            r#"{"error":{"code":503,"message":"Loading model","type":"unavailable_error"}}"#,
        );
        assert_eq!(loading.kind, LlmErrorKind::Loading);
        assert_eq!(loading.message, "HTTP 503: Loading model");
        assert_eq!(
            status_error(500, "boom").kind,
            LlmErrorKind::Server { status: 500 }
        );
        let rejected = status_error(400, r#"{"error":{"message":"bad grammar"}}"#);
        assert_eq!(rejected.kind, LlmErrorKind::Rejected { status: 400 });
        assert!(!rejected.is_retryable());
        assert!(rejected.to_string().contains("bad grammar"));
    }
}
