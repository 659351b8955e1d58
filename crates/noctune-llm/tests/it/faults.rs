//! Items 2 and 6: retries, loading, 4xx, stalls, disconnects, malformed chunks.

use std::time::Duration;

use noctune_core::config::LlmSettings;
use noctune_core::{ChatRequest, LlmClient, LlmErrorKind};
use noctune_llm::fake::{FakeServer, Part, Reply, chunk, sse_event};
use noctune_llm::{OpenAiClient, RetryPolicy};
use pretty_assertions::assert_eq;
use serde_json::json;

use crate::support::{Seen, client, client_with, settings};

/// A stream that sends `def f(`, then `then`.
fn partial_stream(then: Part) -> Reply {
    Reply::stream(vec![
        Part::Bytes(sse_event(
            &chunk(json!({"content": "def f("}), None).to_string(),
        )),
        // Let the headers and the first chunk reach the client before what follows.
        Part::Pause(Duration::from_millis(50)),
        then,
    ])
}

#[tokio::test]
async fn loading_503_is_waited_out() {
    let server = FakeServer::start([
        Reply::loading(),
        Reply::loading(),
        Reply::loading(),
        Reply::loading(),
        Reply::loading(),
        Reply::answer("ready"),
    ])
    .await;
    // More 503s than max_retries: loading does not use up retries.
    let client = OpenAiClient::builder(settings(&server, true))
        .retry(RetryPolicy::fast(1))
        .build()
        .unwrap();
    let answer = client.chat(&ChatRequest::user("q")).await.unwrap();
    assert_eq!(answer.content, "ready");
    assert_eq!(server.chat_requests().len(), 6);
}

#[tokio::test]
async fn loading_forever_gives_up_after_the_loading_wait() {
    let server = FakeServer::start((0..100).map(|_| Reply::loading())).await;
    let client = OpenAiClient::builder(settings(&server, false))
        .retry(RetryPolicy {
            loading_wait: Duration::from_millis(100),
            loading_poll: Duration::from_millis(20),
            ..RetryPolicy::fast(1)
        })
        .build()
        .unwrap();
    let err = client.chat(&ChatRequest::user("q")).await.unwrap_err();
    assert_eq!(err.kind, LlmErrorKind::Loading);
    assert!(err.is_retryable());
    assert!(err.message.contains("Loading model"), "{err}");
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let server = FakeServer::start([
        Reply::error(500, "boom"),
        Reply::error(502, "bad gateway"),
        Reply::answer("fine"),
    ])
    .await;
    let seen = Seen::default();
    let client = client(&server, true).with_observer(seen.observer());
    let answer = client.chat(&ChatRequest::user("q")).await.unwrap();
    assert_eq!(answer.content, "fine");
    assert_eq!(server.chat_requests().len(), 3);
    assert_eq!(seen.lines()[..2], ["retry:1", "retry:2"]);
}

#[tokio::test]
async fn server_errors_exhaust_the_retries() {
    let server = FakeServer::start((0..10).map(|_| Reply::error(500, "still broken"))).await;
    let err = client(&server, false)
        .chat(&ChatRequest::user("q"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, LlmErrorKind::Server { status: 500 });
    assert!(err.is_retryable());
    assert!(err.message.contains("still broken"), "{err}");
    assert!(err.message.contains("after 3 retries"), "{err}");
    // One attempt and three retries.
    assert_eq!(server.chat_requests().len(), 4);
}

#[tokio::test]
async fn client_errors_are_not_retried_and_keep_the_server_message() {
    let server =
        FakeServer::start([Reply::error(401, "invalid api key"), Reply::answer("never")]).await;
    let err = client(&server, true)
        .chat(&ChatRequest::user("q"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, LlmErrorKind::Rejected { status: 401 });
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "model call failed: request rejected (401): HTTP 401: invalid api key"
    );
    assert_eq!(server.chat_requests().len(), 1);
}

#[tokio::test]
async fn connection_refused_is_retryable() {
    let url = {
        let server = FakeServer::start([]).await;
        server.url()
    };
    // The server is dropped: nothing listens on the port any more.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let client = client_with(LlmSettings {
        base_url: url,
        ..LlmSettings::default()
    });
    let err = client.chat(&ChatRequest::user("q")).await.unwrap_err();
    assert_eq!(err.kind, LlmErrorKind::Connect);
    assert!(err.is_retryable());
    assert!(err.message.contains("after 3 retries"), "{err}");
}

#[tokio::test]
async fn a_stall_before_the_answer_times_out_and_is_retried() {
    let server = FakeServer::start([
        Reply::answer("late").delayed(Duration::from_secs(10)),
        Reply::answer("on time"),
    ])
    .await;
    let settings = LlmSettings {
        timeout: Duration::from_millis(300),
        ..settings(&server, false)
    };
    let answer = client_with(settings)
        .chat(&ChatRequest::user("q"))
        .await
        .unwrap();
    assert_eq!(answer.content, "on time");
}

#[tokio::test]
async fn a_stall_mid_stream_times_out() {
    let server =
        FakeServer::start((0..4).map(|_| partial_stream(Part::Pause(Duration::from_secs(30)))))
            .await;
    let settings = LlmSettings {
        timeout: Duration::from_millis(200),
        ..settings(&server, true)
    };
    let err = client_with(settings)
        .chat(&ChatRequest::user("q"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, LlmErrorKind::Timeout);
    assert!(err.is_retryable());
    assert!(err.message.contains("6 characters received"), "{err}");
}

#[tokio::test]
async fn a_disconnect_mid_stream_is_an_error_then_retried() {
    let server =
        FakeServer::start([partial_stream(Part::Disconnect), Reply::answer("whole")]).await;
    let answer = client(&server, true)
        .chat(&ChatRequest::user("q"))
        .await
        .unwrap();
    assert_eq!(answer.content, "whole");
    assert_eq!(server.chat_requests().len(), 2);

    let server = FakeServer::start((0..4).map(|_| partial_stream(Part::Disconnect))).await;
    let err = client(&server, true)
        .chat(&ChatRequest::user("q"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, LlmErrorKind::IncompleteStream);
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_stream_that_ends_without_done_or_finish_reason_is_not_a_short_answer() {
    // The body ends cleanly, but the answer never finished.
    let server = FakeServer::start((0..4).map(|_| partial_stream(Part::Bytes(Vec::new())))).await;
    let err = client(&server, true)
        .chat(&ChatRequest::user("q"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, LlmErrorKind::IncompleteStream);
    assert!(err.message.contains("without `[DONE]`"), "{err}");
}

#[tokio::test]
async fn a_malformed_chunk_is_a_protocol_error() {
    let server = FakeServer::start([partial_stream(Part::Bytes(
        b"data: {\"choices\": [{\"delta\": \n\n".to_vec(),
    ))])
    .await;
    let err = client(&server, true)
        .chat(&ChatRequest::user("q"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, LlmErrorKind::Protocol);
    assert!(!err.is_retryable());
    assert!(err.message.contains("not JSON"), "{err}");
}

#[tokio::test]
async fn a_non_json_answer_is_a_protocol_error() {
    let server = FakeServer::start([Reply::raw(
        200,
        "text/html",
        vec![Part::Bytes(b"<html>proxy</html>".to_vec())],
    )])
    .await;
    let err = client(&server, false)
        .chat(&ChatRequest::user("q"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, LlmErrorKind::Protocol);
    assert!(err.message.contains("<html>proxy</html>"), "{err}");
}

#[tokio::test]
async fn an_error_event_mid_stream_is_reported() {
    let server = FakeServer::start((0..4).map(|_| {
        Reply::stream(vec![Part::Bytes(sse_event(
            &json!({"error": {"message": "slot crashed"}}).to_string(),
        ))])
    }))
    .await;
    let err = client(&server, true)
        .chat(&ChatRequest::user("q"))
        .await
        .unwrap_err();
    assert!(err.message.contains("slot crashed"), "{err}");
}
