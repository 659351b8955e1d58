//! Item 5: the calibration probe against the fake server: formats marked by what the server
//! refuses, the client starting from the first format that works, the cache (a hit asks
//! nothing, a new server fingerprint or a damaged file probes again).

use noctune_core::llm::{ProbeFormat, SpeedSource, chat_code, chat_structured};
use noctune_core::store::ModelCache;
use noctune_core::{ChatRequest, LlmClient};
use noctune_llm::fake::{FakeOptions, FakeServer, Reply};
use noctune_llm::{OpenAiClient, RetryPolicy, WireFormat, calibrate_cached};
use pretty_assertions::assert_eq;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::support::{client, settings};

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
struct Verdict {
    approve: bool,
}

fn no_grammar() -> FakeOptions {
    FakeOptions {
        n_ctx: Some(2048),
        reject_grammar: true,
        ..FakeOptions::default()
    }
}

#[tokio::test]
async fn a_refused_grammar_is_marked_and_the_client_never_tries_it() {
    let server = FakeServer::start_with(
        no_grammar(),
        [
            Reply::answer("```python\nx = 2\n```"),
            Reply::answer(r#"{"approve": true}"#),
        ],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(dir.path().join("models"));
    let outcome = calibrate_cached(&client(&server, true), &cache, false)
        .await
        .unwrap();
    let probe = &outcome.calibration;
    assert!(outcome.fresh);
    assert_eq!(outcome.warning, None);
    assert_eq!(
        probe
            .formats
            .iter()
            .map(|c| (c.format, c.works))
            .collect::<Vec<_>>(),
        [
            (ProbeFormat::Grammar, false),
            (ProbeFormat::JsonSchema, true),
            (ProbeFormat::JsonObject, true),
            (ProbeFormat::Fenced, true),
        ]
    );
    let reason = probe.formats[0].reason.as_deref().unwrap();
    assert!(
        reason.contains("HTTP 400") && reason.contains("grammar"),
        "{reason}"
    );
    assert_eq!(probe.model, "fake-model");
    assert_eq!(probe.context_tokens, Some(2048));
    // The fake server's timings: 12 prompt tokens in 30 ms, 50 answer tokens a second.
    assert_eq!(probe.prompt_tokens_per_second, Some(400.0));
    assert_eq!(probe.answer_tokens_per_second, Some(50.0));
    assert_eq!(probe.speed_source, Some(SpeedSource::Timings));
    // Four format asks and the speed ask; the work's own script is untouched.
    assert_eq!(server.probe_requests().len(), 5);
    assert!(server.probe_requests()[0].has_grammar());
    assert_eq!(server.remaining(), 2);
    assert_eq!(outcome.path, cache.path(&probe.key));
    assert!(outcome.path.is_file());

    // The pipeline's client starts from the probe: code goes as text at once, JSON as schema.
    let calibrated = OpenAiClient::builder(settings(&server, true))
        .retry(RetryPolicy::fast(3))
        .calibration(probe)
        .build()
        .unwrap();
    assert_eq!(
        calibrated.answer_formats(),
        (WireFormat::JsonSchema, WireFormat::Text)
    );
    let code = chat_code(&calibrated, ChatRequest::user("write x"))
        .await
        .unwrap();
    assert_eq!(code.code, "x = 2\n");
    let verdict: Verdict = chat_structured(&calibrated, ChatRequest::user("judge"))
        .await
        .unwrap();
    assert_eq!(verdict, Verdict { approve: true });
    let work = server.chat_requests();
    assert_eq!(work.len(), 2, "no refused request before the work's own");
    assert!(!work[0].has_grammar());
    assert_eq!(work[1].schema_name(), Some("Verdict"));
    // The window came from the probe: no `/props` asked by the calibrated client.
    let props_before = props_requests(&server);
    assert_eq!(calibrated.context_window().await, Some(2048));
    assert_eq!(props_requests(&server), props_before);
}

fn props_requests(server: &FakeServer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.path == "/props")
        .count()
}

#[tokio::test]
async fn the_cache_answers_until_the_server_changes_or_the_file_is_damaged() {
    let server = FakeServer::start_with(no_grammar(), []).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(dir.path().join("models"));
    let client = client(&server, false);
    let first = calibrate_cached(&client, &cache, false).await.unwrap();
    assert_eq!(server.probe_requests().len(), 5);

    let hit = calibrate_cached(&client, &cache, false).await.unwrap();
    assert!(!hit.fresh);
    assert_eq!(hit.calibration, first.calibration);
    assert_eq!(
        server.probe_requests().len(),
        5,
        "a cache hit asks no model"
    );

    // Restarted with another build: the fingerprint differs, the same file is probed anew.
    server.set_props(&json!({"build_info": "b9999-other"}));
    let rebuilt = calibrate_cached(&client, &cache, false).await.unwrap();
    assert!(rebuilt.fresh);
    assert_eq!(rebuilt.path, first.path);
    assert_ne!(
        rebuilt.calibration.fingerprint,
        first.calibration.fingerprint
    );
    assert_eq!(server.probe_requests().len(), 10);

    std::fs::write(&first.path, "{\"key\": ").unwrap();
    let repaired = calibrate_cached(&client, &cache, false).await.unwrap();
    assert!(repaired.fresh);
    let warning = repaired.warning.unwrap();
    assert!(
        warning.contains(&first.path.display().to_string()),
        "{warning}"
    );
    assert_eq!(server.probe_requests().len(), 15);
    let stored: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&first.path).unwrap()).unwrap();
    assert_eq!(
        stored["fingerprint"],
        json!(rebuilt.calibration.fingerprint)
    );

    let forced = calibrate_cached(&client, &cache, true).await.unwrap();
    assert!(forced.fresh);
    assert_eq!(server.probe_requests().len(), 20);
}

/// A server without llama.cpp's `/props` reports no context size (the configured one applies);
/// the model id comes from `/v1/models`. (Speeds from the wall clock: `probe::tests`.)
#[tokio::test]
async fn without_props_there_is_no_context_size() {
    let server = FakeServer::start_responder(FakeOptions::default(), |_| Reply::answer("x")).await;
    let dir = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(dir.path().join("models"));
    let outcome = calibrate_cached(&client(&server, true), &cache, false)
        .await
        .unwrap();
    assert_eq!(outcome.calibration.context_tokens, None);
    assert_eq!(outcome.calibration.model, "fake-model");
    assert!(
        ProbeFormat::ALL
            .iter()
            .all(|f| outcome.calibration.works(*f))
    );
}

/// A server still loading its model (503 on `/props` and `/v1/models`) is asked again until it
/// answers, so a run started beside a starting server probes the loaded model.
#[tokio::test]
async fn a_loading_server_is_waited_for() {
    let server = FakeServer::start_with(
        FakeOptions {
            n_ctx: Some(2048),
            loading_side_requests: 2,
            ..FakeOptions::default()
        },
        [],
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let cache = ModelCache::new(dir.path().join("models"));
    let outcome = calibrate_cached(&client(&server, false), &cache, false)
        .await
        .unwrap();
    assert_eq!(outcome.calibration.context_tokens, Some(2048));
    assert_eq!(outcome.calibration.model, "fake-model");
    assert_eq!(props_requests(&server), 2);
}
