//! Item 5: transcripts and replay.

use std::sync::{Arc, Mutex};

use noctune_core::{ChatRequest, LlmClient, LlmErrorKind};
use noctune_llm::fake::{FakeServer, Reply};
use noctune_llm::{Exchange, JsonlTranscript, ReplayClient, WireFormat};
use pretty_assertions::assert_eq;

use crate::support::client;

#[tokio::test]
async fn every_attempt_is_recorded_with_the_raw_stream() {
    let server = FakeServer::start([Reply::error(500, "boom"), Reply::answer("hello")]).await;
    let recorded: Arc<Mutex<Vec<Exchange>>> = Arc::default();
    let sink = recorded.clone();
    let client = client(&server, true).with_transcript_sink(Arc::new(move |e: &Exchange| {
        sink.lock().unwrap().push(e.clone());
    }));
    let request = ChatRequest::user("hi").with_purpose("review");
    client.chat(&request).await.unwrap();
    let exchanges = recorded.lock().unwrap().clone();
    assert_eq!(exchanges.len(), 2);
    let (failed, ok) = (&exchanges[0], &exchanges[1]);
    assert_eq!((failed.attempt, failed.status), (0, Some(500)));
    assert_eq!(
        failed.error.as_ref().unwrap().kind,
        LlmErrorKind::Server { status: 500 }
    );
    assert!(failed.raw.contains("boom"));
    assert_eq!((ok.attempt, ok.status, ok.stream), (1, Some(200), true));
    assert_eq!(ok.purpose.as_deref(), Some("review"));
    assert_eq!(ok.format, WireFormat::Text);
    assert_eq!(ok.request, request);
    assert_eq!(ok.body["stream"], serde_json::json!(true));
    assert!(ok.raw.starts_with("data: {"), "{}", ok.raw);
    assert!(ok.raw.ends_with("data: [DONE]\n\n"));
    assert_eq!(ok.response.as_ref().unwrap().content, "hello");
    assert!(ok.first_token_ms.is_some());
}

#[tokio::test]
async fn a_jsonl_transcript_replays_offline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("task-1").join("llm.jsonl");
    let server = FakeServer::start([
        Reply::answer("first"),
        Reply::answer("second"),
        Reply::answer("other"),
    ])
    .await;
    let sink = Arc::new(JsonlTranscript::create(&path).unwrap());
    let client = client(&server, false).with_transcript_sink(sink);
    let same = ChatRequest::user("same question").with_purpose("edit");
    let other = ChatRequest::user("another");
    let live = [
        client.chat(&same).await.unwrap(),
        client.chat(&same).await.unwrap(),
        client.chat(&other).await.unwrap(),
    ];
    drop(server);

    // A directory works too: every *.jsonl under it.
    let replay = ReplayClient::open(dir.path()).unwrap();
    assert_eq!(replay.len(), 2);
    assert_eq!(replay.chat(&same).await.unwrap(), live[0]);
    assert_eq!(replay.chat(&same).await.unwrap(), live[1]);
    // Used up: the last answer repeats.
    assert_eq!(replay.chat(&same).await.unwrap(), live[1]);
    assert_eq!(replay.chat(&other).await.unwrap(), live[2]);
    let err = replay
        .chat(&ChatRequest::user("never asked").with_purpose("review"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, LlmErrorKind::ReplayMiss);
    assert!(err.message.contains("review"), "{err}");
    assert!(replay.endpoint().starts_with("replay:"));
}

#[tokio::test]
async fn a_broken_transcript_line_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.jsonl");
    std::fs::write(&path, "\n{not json}\n").unwrap();
    let err = ReplayClient::open(&path).unwrap_err();
    assert!(err.message.contains("line 2"), "{err}");
}
