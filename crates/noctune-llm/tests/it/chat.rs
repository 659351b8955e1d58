//! Item 1: non-streaming and streaming answers, headers, reasoning, tool calls, usage, timings.

use std::collections::BTreeMap;

use noctune_core::config::LlmSettings;
use noctune_core::llm::Timings;
use noctune_core::{ChatRequest, ChatResponse, FinishReason, LlmClient, ToolCall, ToolSpec, Usage};
use noctune_llm::OpenAiClient;
use noctune_llm::fake::{FakeServer, Reply, chunk};
use pretty_assertions::assert_eq;
use serde_json::json;

use crate::support::{Seen, client, client_with, settings};

fn expected(content: &str) -> ChatResponse {
    ChatResponse {
        content: content.into(),
        reasoning: None,
        tool_calls: vec![],
        finish_reason: FinishReason::Stop,
        usage: Some(Usage {
            prompt_tokens: 12,
            completion_tokens: 5,
        }),
        timings: Some(Timings {
            prompt_n: Some(12),
            prompt_ms: 30.0,
            predicted_ms: 100.0,
            predicted_per_second: 50.0,
        }),
        model: Some("fake-model".into()),
        endpoint: None,
    }
}

#[tokio::test]
async fn non_streaming_answer() {
    let server = FakeServer::start([Reply::answer("label: W")]).await;
    let answer = client(&server, false)
        .chat(&ChatRequest::user("review"))
        .await
        .unwrap();
    assert_eq!(answer, expected("label: W"));
    let sent = &server.chat_requests()[0];
    assert_eq!(sent.body["stream"], json!(false));
    assert!(sent.body.get("stream_options").is_none());
    assert_eq!(
        sent.body["messages"],
        json!([{"role": "user", "content": "review"}])
    );
}

#[tokio::test]
async fn streaming_answer_asks_for_usage() {
    let server = FakeServer::start([Reply::answer("def f():\n    return 1\n")]).await;
    let answer = client(&server, true)
        .chat(&ChatRequest::user("code"))
        .await
        .unwrap();
    assert_eq!(answer, expected("def f():\n    return 1\n"));
    let sent = &server.chat_requests()[0];
    assert_eq!(sent.body["stream"], json!(true));
    assert_eq!(sent.body["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn bearer_extra_headers_model_and_limits() {
    let server = FakeServer::start([Reply::answer("ok")]).await;
    let settings = LlmSettings {
        api_key: Some("sk-local".into()),
        model: Some("qwen".into()),
        headers: BTreeMap::from([("X-Team".to_owned(), "ml".to_owned())]),
        temperature: 0.0,
        ..settings(&server, false)
    };
    let request = ChatRequest {
        stop: vec!["```\n".into()],
        ..ChatRequest::system_user("sys", "hi").with_max_tokens(33)
    };
    client_with(settings).chat(&request).await.unwrap();
    let sent = &server.chat_requests()[0];
    assert_eq!(sent.headers["authorization"], "Bearer sk-local");
    assert_eq!(sent.headers["x-team"], "ml");
    assert_eq!(sent.body["model"], json!("qwen"));
    assert_eq!(sent.body["max_tokens"], json!(33));
    assert_eq!(sent.body["temperature"], json!(0.0));
    assert_eq!(sent.body["stop"], json!(["```\n"]));
}

#[tokio::test]
async fn no_model_no_key_sends_neither() {
    let server = FakeServer::start([Reply::answer("ok")]).await;
    client(&server, false)
        .chat(&ChatRequest::user("x"))
        .await
        .unwrap();
    let sent = &server.chat_requests()[0];
    assert!(sent.body.get("model").is_none());
    assert!(!sent.headers.contains_key("authorization"));
    assert_eq!(sent.body["max_tokens"], json!(64));
}

#[tokio::test]
async fn reasoning_is_collected_and_echoed_only_when_configured() {
    let script = || [Reply::answer_with("answer", Some("thinking..."), "stop")];
    for (verbose, print_reasoning, want) in [
        (
            true,
            true,
            vec![
                "reasoning:thinking...",
                "content:an",
                "content:sw",
                "content:er",
            ],
        ),
        (true, false, vec!["content:an", "content:sw", "content:er"]),
        (false, true, vec![]),
    ] {
        let server = FakeServer::start(script()).await;
        let seen = Seen::default();
        let settings = LlmSettings {
            verbose_stream: verbose,
            stream_print_reasoning: print_reasoning,
            ..settings(&server, true)
        };
        let client = OpenAiClient::builder(settings)
            .observer(seen.observer())
            .build()
            .unwrap();
        let answer = client.chat(&ChatRequest::user("q")).await.unwrap();
        assert_eq!(answer.content, "answer");
        assert_eq!(answer.reasoning.as_deref(), Some("thinking..."));
        assert_eq!(
            seen.lines(),
            want,
            "verbose={verbose} reasoning={print_reasoning}"
        );
    }
}

#[tokio::test]
async fn non_streamed_reasoning() {
    let server = FakeServer::start([Reply::answer_with("a", Some("r"), "stop")]).await;
    let answer = client(&server, false)
        .chat(&ChatRequest::user("q"))
        .await
        .unwrap();
    assert_eq!(answer.reasoning.as_deref(), Some("r"));
}

#[tokio::test]
async fn tool_call_deltas_are_assembled() {
    let server = FakeServer::start([Reply::sse([
        chunk(json!({"role": "assistant", "content": null}), None),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "read_file", "arguments": ""}}]}),
            None,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"path\": \"a"}}]}),
            None,
        ),
        chunk(
            json!({"tool_calls": [{"index": 1, "id": "call_2", "function": {"name": "search", "arguments": "{\"q\":1}"}}]}),
            None,
        ),
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": ".py\"}"}}]}),
            None,
        ),
        chunk(json!({}), Some("tool_calls")),
    ])])
    .await;
    let request = ChatRequest {
        tools: vec![ToolSpec {
            name: "read_file".into(),
            description: "Reads a file".into(),
            parameters: json!({"type": "object"}),
        }],
        ..ChatRequest::user("read a.py")
    };
    let answer = client(&server, true).chat(&request).await.unwrap();
    assert_eq!(answer.finish_reason, FinishReason::ToolCalls);
    assert_eq!(
        answer.tool_calls,
        vec![
            ToolCall {
                id: "call_1".into(),
                name: "read_file".into(),
                arguments: "{\"path\": \"a.py\"}".into()
            },
            ToolCall {
                id: "call_2".into(),
                name: "search".into(),
                arguments: "{\"q\":1}".into()
            },
        ]
    );
    let sent = &server.chat_requests()[0];
    assert_eq!(
        sent.body["tools"],
        json!([{"type": "function", "function": {"name": "read_file", "description": "Reads a file", "parameters": {"type": "object"}}}])
    );
}

#[tokio::test]
async fn non_streamed_tool_calls() {
    let server = FakeServer::start([Reply::json(
        200,
        &json!({"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "search", "arguments": "{}"}}]}}]}),
    )])
    .await;
    let answer = client(&server, false)
        .chat(&ChatRequest::user("q"))
        .await
        .unwrap();
    assert_eq!(
        answer.tool_calls,
        vec![ToolCall {
            id: "c".into(),
            name: "search".into(),
            arguments: "{}".into()
        }]
    );
    assert_eq!(answer.content, "");
}

#[tokio::test]
async fn finish_reason_length_is_reported_as_truncated() {
    for stream in [false, true] {
        let server = FakeServer::start([Reply::answer_with("def f(", None, "length")]).await;
        let answer = client(&server, stream)
            .chat(&ChatRequest::user("q"))
            .await
            .unwrap();
        assert!(answer.is_truncated(), "stream={stream}");
        assert_eq!(answer.content, "def f(");
    }
}

#[tokio::test]
async fn a_server_that_ignores_stream_true_still_works() {
    let server = FakeServer::start([Reply::json(
        200,
        &json!({"choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "plain"}}]}),
    )])
    .await;
    let answer = client(&server, true)
        .chat(&ChatRequest::user("q"))
        .await
        .unwrap();
    assert_eq!(answer.content, "plain");
}
