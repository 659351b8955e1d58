//! End to end against the real local model (Qwen2.5-Coder-0.5B-Instruct on llama.cpp), started by
//! `scripts/test` through `scripts/llm-server`, which exports `NOCTUNE_TEST_LLM_URL`.
//!
//! Small prompts, `max_tokens` ≤ 200, temperature 0: a few seconds on two CPU cores (the
//! calibration probe, five tiny asks, about ten on one thread).

use std::time::Duration;

use noctune_core::config::LlmSettings;
use noctune_core::llm::{chat_code, chat_structured};
use noctune_core::{ChatRequest, FinishReason, LlmClient};
use noctune_llm::{OpenAiClient, RetryPolicy, WireFormat};
use schemars::JsonSchema;
use serde::Deserialize;

/// The real model's base URL. Fails (never skips) when the test command did not start it.
fn model_url() -> String {
    match std::env::var("NOCTUNE_TEST_LLM_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "NOCTUNE_TEST_LLM_URL is not set: run scripts/test (it starts the local model), or \
             start it with `scripts/llm-server --background` and export \
             NOCTUNE_TEST_LLM_URL=http://127.0.0.1:18080/v1"
        ),
    }
}

fn real_client(stream: bool) -> OpenAiClient {
    let settings = LlmSettings {
        base_url: model_url(),
        stream,
        temperature: 0.0,
        max_tokens: 200,
        timeout: Duration::from_secs(300),
        context_tokens: 4096,
        ..LlmSettings::default()
    };
    OpenAiClient::builder(settings)
        .retry(RetryPolicy::from_settings(&LlmSettings::default()))
        .build()
        .unwrap()
}

#[derive(Debug, Deserialize, JsonSchema)]
struct Answer {
    /// The capital city asked for.
    city: String,
    /// The country it is the capital of.
    country: String,
}

/// One test so that the calls run one after the other on the single server slot.
#[tokio::test]
async fn real_model_streamed_plain_structured_and_code() {
    let streamed = real_client(true);
    let plain = real_client(false);

    // The server's window and tokenizer.
    assert_eq!(streamed.context_window().await, Some(4096));
    let tokens = streamed
        .count_tokens("def add(a, b):\n    return a + b\n")
        .await
        .unwrap();
    assert!((5..30).contains(&tokens), "{tokens} tokens");

    let request = ChatRequest::user("Reply with the single word: hello")
        .with_max_tokens(16)
        .with_purpose("e2e");
    let answer = streamed.chat(&request).await.unwrap();
    assert!(
        answer.content.to_lowercase().contains("hello"),
        "{answer:?}"
    );
    assert_ne!(answer.finish_reason, FinishReason::Other(String::new()));
    assert!(
        answer.usage.is_some_and(|u| u.completion_tokens > 0),
        "{answer:?}"
    );
    assert!(answer.timings.is_some(), "{answer:?}");

    let answer = plain.chat(&request).await.unwrap();
    assert!(
        answer.content.to_lowercase().contains("hello"),
        "{answer:?}"
    );
    assert!(
        answer.usage.is_some_and(|u| u.prompt_tokens > 0),
        "{answer:?}"
    );

    let capital: Answer = chat_structured(
        &plain,
        ChatRequest::user("What is the capital of France? Answer in JSON with city and country.")
            .with_max_tokens(60),
    )
    .await
    .unwrap();
    assert_eq!(capital.city.to_lowercase(), "paris", "{capital:?}");
    assert!(
        capital.country.to_lowercase().contains("france"),
        "{capital:?}"
    );
    assert_eq!(plain.answer_formats().0, WireFormat::JsonSchema);

    let code = chat_code(
        &streamed,
        ChatRequest::user("Write a python function add(a, b) that returns a + b. No docstring.")
            .with_max_tokens(80),
    )
    .await
    .unwrap();
    assert!(code.code.contains("def add"), "{code:?}");
    assert_eq!(streamed.answer_formats().1, WireFormat::Grammar);

    calibration_probe().await;
}

/// The calibration probe against the real 0.5B: a working format for each kind of answer, the
/// server's context size, both speeds. Five tiny asks: seconds.
async fn calibration_probe() {
    use noctune_core::llm::{ProbeFormat, SpeedSource};
    use noctune_core::store::ModelCache;

    let dir = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(dir.path().join("models"));
    let outcome = noctune_llm::calibrate_cached(&real_client(true), &cache, false)
        .await
        .unwrap();
    let probe = outcome.calibration;
    assert!(outcome.fresh);
    assert!(probe.works(ProbeFormat::JsonSchema), "{probe:?}");
    assert!(probe.works(ProbeFormat::Grammar), "{probe:?}");
    assert_eq!(probe.context_tokens, Some(4096), "{probe:?}");
    assert_eq!(probe.speed_source, Some(SpeedSource::Timings), "{probe:?}");
    assert!(
        probe.prompt_tokens_per_second.unwrap() > 0.0
            && probe.answer_tokens_per_second.unwrap() > 0.0,
        "{probe:?}"
    );
}
