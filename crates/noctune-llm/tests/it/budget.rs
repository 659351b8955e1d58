//! Item 3: the context budget.

use noctune_core::config::LlmSettings;
use noctune_core::{ChatRequest, LlmClient, LlmErrorKind};
use noctune_llm::fake::{FakeOptions, FakeServer, Reply};
use pretty_assertions::assert_eq;

use crate::support::{client, client_with, settings};

#[tokio::test]
async fn the_window_comes_from_props_and_never_exceeds_the_config() {
    let options = FakeOptions {
        n_ctx: Some(2048),
        ..FakeOptions::default()
    };
    let server = FakeServer::start_with(options.clone(), []).await;
    assert_eq!(client(&server, false).context_window().await, Some(2048));
    let server = FakeServer::start_with(options, []).await;
    let small = LlmSettings {
        context_tokens: 1024,
        ..settings(&server, false)
    };
    assert_eq!(client_with(small).context_window().await, Some(1024));
}

#[tokio::test]
async fn without_props_the_configured_window_is_used() {
    let server = FakeServer::start([]).await;
    assert_eq!(client(&server, false).context_window().await, Some(8192));
}

#[tokio::test]
async fn props_is_asked_once() {
    let server = FakeServer::start_with(
        FakeOptions {
            n_ctx: Some(4096),
            ..FakeOptions::default()
        },
        [Reply::answer("a"), Reply::answer("b")],
    )
    .await;
    let client = client(&server, false);
    client.chat(&ChatRequest::user("one")).await.unwrap();
    client.chat(&ChatRequest::user("two")).await.unwrap();
    let props = server
        .requests()
        .iter()
        .filter(|r| r.path == "/props")
        .count();
    assert_eq!(props, 1);
}

#[tokio::test]
async fn a_prompt_that_does_not_fit_is_refused_before_sending() {
    let server = FakeServer::start_with(
        FakeOptions {
            n_ctx: Some(600),
            tokenize: true,
            ..FakeOptions::default()
        },
        [Reply::answer("never")],
    )
    .await;
    // 4000 bytes and a newline: 1001 tokens by the fake tokenizer, 16 for the template.
    let request = ChatRequest::user("word ".repeat(800)).with_max_tokens(100);
    let err = client(&server, false).chat(&request).await.unwrap_err();
    assert_eq!(
        err.kind,
        LlmErrorKind::ContextOverflow {
            needed: 1001 + 16 + 100,
            window: 600
        }
    );
    assert!(!err.is_retryable());
    assert!(server.chat_requests().is_empty());
    assert!(server.requests().iter().any(|r| r.path == "/tokenize"));
}

#[tokio::test]
async fn the_tokenizer_decides_when_the_estimate_is_too_pessimistic() {
    // The estimate (chars / 3.5) says 1144 tokens; the server's tokenizer says 1001.
    let server = FakeServer::start_with(
        FakeOptions {
            n_ctx: Some(1100),
            tokenize: true,
            ..FakeOptions::default()
        },
        [Reply::answer("fits")],
    )
    .await;
    let request = ChatRequest::user("word ".repeat(800)).with_max_tokens(50);
    let answer = client(&server, false).chat(&request).await.unwrap();
    assert_eq!(answer.content, "fits");
}

#[tokio::test]
async fn without_a_tokenizer_the_estimate_is_used() {
    let server = FakeServer::start_with(
        FakeOptions {
            n_ctx: Some(1100),
            ..FakeOptions::default()
        },
        [Reply::answer("never")],
    )
    .await;
    let request = ChatRequest::user("word ".repeat(800)).with_max_tokens(50);
    let err = client(&server, false).chat(&request).await.unwrap_err();
    assert_eq!(
        err.kind,
        LlmErrorKind::ContextOverflow {
            needed: 1144 + 16 + 50,
            window: 1100
        }
    );
}

#[tokio::test]
async fn count_tokens_uses_the_server_then_the_estimate() {
    let server = FakeServer::start_with(
        FakeOptions {
            tokenize: true,
            ..FakeOptions::default()
        },
        [],
    )
    .await;
    assert_eq!(
        client(&server, false)
            .count_tokens("abcdefgh")
            .await
            .unwrap(),
        2
    );
    let server = FakeServer::start([]).await;
    assert_eq!(
        client(&server, false)
            .count_tokens("abcdefg")
            .await
            .unwrap(),
        2
    );
}

#[tokio::test]
async fn a_loading_server_is_asked_again_for_its_window() {
    let server = FakeServer::start_with(
        FakeOptions {
            n_ctx: Some(2048),
            tokenize: true,
            loading_side_requests: 2,
            ..FakeOptions::default()
        },
        [],
    )
    .await;
    let client = client(&server, false);
    // 503 while loading: the configured window, and not remembered.
    assert_eq!(client.context_window().await, Some(8192));
    assert_eq!(client.count_tokens("abcdefgh").await.unwrap(), 3);
    assert_eq!(client.context_window().await, Some(2048));
    assert_eq!(client.count_tokens("abcdefgh").await.unwrap(), 2);
}
