//! Item 6: SSE with awkward chunking, byte by byte.

use noctune_core::{ChatRequest, FinishReason, LlmClient};
use noctune_llm::fake::{FakeServer, Part, Reply, chunk};
use pretty_assertions::assert_eq;
use serde_json::json;

use crate::support::client;

fn content_chunk(text: &str) -> String {
    chunk(json!({"content": text}), None).to_string()
}

fn stop_chunk() -> String {
    chunk(json!({}), Some("stop")).to_string()
}

async fn content_of(parts: Vec<Part>) -> String {
    let server = FakeServer::start([Reply::stream(parts)]).await;
    client(&server, true)
        .chat(&ChatRequest::user("q"))
        .await
        .unwrap()
        .content
}

#[tokio::test]
async fn a_utf8_character_split_across_chunks() {
    let event = format!("data: {}\n\n", content_chunk("naïve → ok"));
    let bytes = event.as_bytes();
    // Cut inside the two-byte `ï` and inside the three-byte `→`.
    let i = event.find('ï').unwrap() + 1;
    let arrow = event.find('→').unwrap() + 2;
    let parts = vec![
        Part::Bytes(bytes[..i].to_vec()),
        Part::Bytes(bytes[i..arrow].to_vec()),
        Part::Bytes(bytes[arrow..].to_vec()),
        Part::Bytes(format!("data: {}\n\ndata: [DONE]\n\n", stop_chunk()).into_bytes()),
    ];
    assert_eq!(content_of(parts).await, "naïve → ok");
}

#[tokio::test]
async fn data_without_a_space_comments_and_keep_alives() {
    let parts = vec![
        Part::Bytes(b": keep-alive\n\n".to_vec()),
        Part::Bytes(format!("data:{}\n\n", content_chunk("a")).into_bytes()),
        Part::Bytes(b":ping\n\n".to_vec()),
        Part::Bytes(format!("event: message\ndata: {}\n\n", content_chunk("b")).into_bytes()),
        Part::Bytes(format!("data:{}\n\ndata:[DONE]\n\n", stop_chunk()).into_bytes()),
    ];
    assert_eq!(content_of(parts).await, "ab");
}

#[tokio::test]
async fn crlf_line_endings() {
    let body = format!(
        "data: {}\r\n\r\ndata: {}\r\n\r\ndata: {}\r\n\r\ndata: [DONE]\r\n\r\n",
        content_chunk("x"),
        content_chunk("y"),
        stop_chunk()
    );
    assert_eq!(content_of(vec![Part::Bytes(body.into_bytes())]).await, "xy");
}

#[tokio::test]
async fn one_byte_at_a_time() {
    let body = format!(
        "data: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
        content_chunk("héllo wörld"),
        stop_chunk()
    );
    let parts = body.bytes().map(|b| Part::Bytes(vec![b])).collect();
    assert_eq!(content_of(parts).await, "héllo wörld");
}

#[tokio::test]
async fn many_events_in_one_chunk_and_finish_without_done() {
    let body = format!(
        "data: {}\n\ndata: {}\n\ndata: {}\n\n",
        content_chunk("1"),
        content_chunk("2"),
        stop_chunk()
    );
    let server = FakeServer::start([Reply::stream(vec![Part::Bytes(body.into_bytes())])]).await;
    let answer = client(&server, true)
        .chat(&ChatRequest::user("q"))
        .await
        .unwrap();
    assert_eq!(answer.content, "12");
    assert_eq!(answer.finish_reason, FinishReason::Stop);
}
