//! An in-process `LlmClient` that answers from a script, used with the built-in review prompt.
//! Run: `cargo run -p noctune-examples --example scripted_llm`.
#![allow(clippy::print_stdout)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use noctune_core::prompts::Prompts;
use noctune_core::{ChatRequest, ChatResponse, LlmClient, LlmError, LlmErrorKind, Stage};

/// Hands out scripted answers in order; an exhausted script is an error, not a made-up answer.
struct ScriptedClient {
    answers: Mutex<VecDeque<String>>,
}

#[async_trait]
impl LlmClient for ScriptedClient {
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let next = self
            .answers
            .lock()
            .map_err(|_| LlmError::new(LlmErrorKind::Protocol, "script lock poisoned"))?
            .pop_front();
        next.map(ChatResponse::text).ok_or_else(|| {
            LlmError::new(
                LlmErrorKind::ReplayMiss,
                format!("no scripted answer left for {:?}", request.purpose),
            )
        })
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client: Arc<dyn LlmClient> = Arc::new(ScriptedClient {
        answers: Mutex::new(VecDeque::from([
            r#"{"label": "P", "summary": "Fine, but untyped.", "checklist": ["add type hints to `area`"]}"#.to_owned(),
        ])),
    });
    let prompt = Prompts::new(".noctune_cache/overrides").load(Stage::Review)?;
    let text = prompt.render(&[
        ("path", "geometry.py"),
        ("source", "def area(w, h):\n    return w * h\n"),
        ("pack_guidance", ""),
        ("guidance", ""),
    ])?;
    let request = ChatRequest::user(text).with_purpose("review");
    let answer = client.chat(&request).await?;
    println!(
        "prompt tokens (estimate): {}",
        client.count_tokens(&request.prompt_text()).await?
    );
    println!("answer: {}", answer.content);
    let second = client.chat(&request).await;
    println!(
        "second call: {}",
        second.map(|a| a.content).unwrap_or_else(|e| e.to_string())
    );
    Ok(())
}
