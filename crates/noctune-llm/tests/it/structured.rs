//! Item 4: structured output and its fallbacks, through core's helpers.

use noctune_core::llm::{PYTHON_BLOCK_GBNF, chat_code, chat_structured};
use noctune_core::{ChatRequest, LlmClient, LlmErrorKind};
use noctune_llm::WireFormat;
use noctune_llm::fake::{FakeOptions, FakeServer, Reply};
use pretty_assertions::assert_eq;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::support::client;

#[derive(Debug, PartialEq, Deserialize, JsonSchema)]
struct Verdict {
    approve: bool,
    risk: f32,
    reason: String,
}

fn verdict() -> Verdict {
    Verdict {
        approve: true,
        risk: 0.25,
        reason: "safe".into(),
    }
}

const VERDICT_JSON: &str = r#"{"approve": true, "risk": 0.25, "reason": "safe"}"#;

#[tokio::test]
async fn json_schema_is_sent_and_the_answer_deserialises() {
    let server = FakeServer::start([Reply::answer(VERDICT_JSON)]).await;
    let client = client(&server, true);
    let value: Verdict = chat_structured(&client, ChatRequest::user("judge"))
        .await
        .unwrap();
    assert_eq!(value, verdict());
    let sent = &server.chat_requests()[0].body;
    assert_eq!(sent["response_format"]["type"], json!("json_schema"));
    assert_eq!(
        sent["response_format"]["json_schema"]["name"],
        json!("Verdict")
    );
    assert_eq!(
        sent["response_format"]["json_schema"]["schema"]["required"],
        json!(["approve", "risk", "reason"])
    );
    assert_eq!(
        client.answer_formats(),
        (WireFormat::JsonSchema, WireFormat::Grammar)
    );
}

#[tokio::test]
async fn a_400_on_json_schema_falls_back_to_json_object_and_is_remembered() {
    let server = FakeServer::start([
        Reply::error(
            400,
            "response_format type must be one of \"text\" or \"json_object\"",
        ),
        Reply::answer(VERDICT_JSON),
        Reply::answer(VERDICT_JSON),
    ])
    .await;
    let client = client(&server, false);
    let first: Verdict = chat_structured(&client, ChatRequest::user("a"))
        .await
        .unwrap();
    let second: Verdict = chat_structured(&client, ChatRequest::user("b"))
        .await
        .unwrap();
    assert_eq!((first, second), (verdict(), verdict()));
    let formats: Vec<_> = server
        .chat_requests()
        .iter()
        .map(|r| r.body["response_format"]["type"].clone())
        .collect();
    assert_eq!(
        formats,
        [
            json!("json_schema"),
            json!("json_object"),
            json!("json_object")
        ]
    );
    // The schema moved into the prompt.
    let messages = server.chat_requests()[1].body["messages"].clone();
    let last = messages.as_array().unwrap().last().unwrap();
    assert!(last["content"].as_str().unwrap().contains("\"approve\""));
    assert_eq!(client.answer_formats().0, WireFormat::JsonObject);
}

#[tokio::test]
async fn a_server_without_response_format_gets_text_parsed_leniently() {
    let server = FakeServer::start_with(
        FakeOptions {
            reject_response_format: true,
            ..FakeOptions::default()
        },
        [Reply::answer(
            "Here is my verdict:\n```json\n{'approve': True, 'risk': 0.25, 'reason': 'safe',}\n```\nBye.",
        )],
    )
    .await;
    let client = client(&server, true);
    let value: Verdict = chat_structured(&client, ChatRequest::user("judge"))
        .await
        .unwrap();
    assert_eq!(value, verdict());
    assert_eq!(server.chat_requests().len(), 3);
    assert!(
        server.chat_requests()[2]
            .body
            .get("response_format")
            .is_none()
    );
    assert_eq!(client.answer_formats().0, WireFormat::Text);
}

#[tokio::test]
async fn a_truncated_json_answer_is_repaired() {
    let server = FakeServer::start([Reply::answer_with(
        r#"{"approve": true, "risk": 0.25, "reason": "safe becau"#,
        None,
        "length",
    )])
    .await;
    let value: Verdict = chat_structured(&client(&server, false), ChatRequest::user("j"))
        .await
        .unwrap();
    assert_eq!(value.reason, "safe becau");
}

#[tokio::test]
async fn an_unusable_answer_says_so() {
    let server = FakeServer::start([Reply::answer("I cannot judge this.")]).await;
    let err = chat_structured::<Verdict>(&client(&server, false), ChatRequest::user("j"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, LlmErrorKind::Unusable);
}

#[tokio::test]
async fn code_is_asked_with_the_grammar() {
    let server = FakeServer::start([Reply::answer("```python\ndef f():\n    return 2\n```")]).await;
    let client = client(&server, true);
    let answer = chat_code(&client, ChatRequest::user("write f"))
        .await
        .unwrap();
    assert_eq!(answer.code, "def f():\n    return 2\n");
    assert_eq!(
        server.chat_requests()[0].body["grammar"],
        json!(PYTHON_BLOCK_GBNF)
    );
}

#[tokio::test]
async fn a_server_that_rejects_grammar_falls_back_to_text_and_remembers() {
    let server = FakeServer::start_with(
        FakeOptions {
            reject_grammar: true,
            ..FakeOptions::default()
        },
        [
            Reply::answer("Sure:\n```python\nx = 1\n```\n"),
            Reply::answer("```python\ny = 2\n```"),
        ],
    )
    .await;
    let client = client(&server, false);
    let first = chat_code(&client, ChatRequest::user("a")).await.unwrap();
    let second = chat_code(&client, ChatRequest::user("b")).await.unwrap();
    assert_eq!(
        (first.code.as_str(), second.code.as_str()),
        ("x = 1\n", "y = 2\n")
    );
    let grammar_sent: Vec<bool> = server
        .chat_requests()
        .iter()
        .map(|r| r.body.get("grammar").is_some())
        .collect();
    assert_eq!(grammar_sent, [true, false, false]);
    assert_eq!(client.answer_formats().1, WireFormat::Text);
}

#[tokio::test]
async fn a_400_that_is_not_about_the_format_is_not_remembered() {
    let server = FakeServer::start((0..3).map(|_| Reply::error(400, "bad request"))).await;
    let client = client(&server, false);
    let err = chat_structured::<Verdict>(&client, ChatRequest::user("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, LlmErrorKind::Rejected { status: 400 });
    assert_eq!(server.chat_requests().len(), 3);
    assert_eq!(client.answer_formats().0, WireFormat::JsonSchema);
    // A plain text request is never downgraded or retried.
    let server = FakeServer::start([Reply::error(400, "bad request")]).await;
    let err = crate::support::client(&server, false)
        .chat(&ChatRequest::user("x"))
        .await
        .unwrap_err();
    assert_eq!(err.kind, LlmErrorKind::Rejected { status: 400 });
    assert_eq!(server.chat_requests().len(), 1);
}
