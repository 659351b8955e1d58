//! Studio chat with the real local model (Qwen2.5-Coder 0.5B on llama.cpp, started by
//! `scripts/test`): asked what a function of the demo repository (`examples/demo-repo`) does,
//! the model calls `read_file` (natively or in its text), the daemon runs it, and the answer
//! streams back. What a small model says varies; that it read the file and answered does not.

use std::path::PathBuf;
use std::time::Duration;

use noctune_studio::{ServeOptions, WorkerCommand};
use serde_json::Value;

/// Copies `examples/demo-repo` into `to`.
fn copy_demo(to: &std::path::Path) {
    let from = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/demo-repo");
    for entry in std::fs::read_dir(&from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_demo_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn copy_demo_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

fn model_url() -> String {
    std::env::var("NOCTUNE_TEST_LLM_URL").unwrap_or_else(|_| {
        panic!("NOCTUNE_TEST_LLM_URL is not set: run scripts/test (it starts the local model)")
    })
}

/// The events of an SSE body: (event name, data).
fn sse_events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter_map(|block| {
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event: ") {
                    name = Some(value.to_owned());
                } else if let Some(value) = line.strip_prefix("data: ") {
                    data.push_str(value);
                }
            }
            Some((name?, serde_json::from_str(&data).unwrap_or(Value::Null)))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_model_reads_a_file_to_answer_in_the_chat() {
    let url = model_url();
    let dir = tempfile::tempdir().unwrap();
    // A fixed name: the chat's prompt names the repository by it.
    let root = dir.path().join("demo-repo");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(
        root.join("noctune.toml"),
        format!(
            "[llm]\nbase_url = \"{url}\"\nmax_tokens = 160\ntemperature = 0.0\ntimeout_s = 300\nmax_retries = 1\n"
        ),
    )
    .unwrap();
    copy_demo(&root);
    let studio = noctune_studio::serve(ServeOptions {
        root: root.clone(),
        host: "127.0.0.1".parse().unwrap(),
        port: 0,
        worker: WorkerCommand {
            program: PathBuf::from(env!("CARGO_BIN_EXE_noctune")),
            env: Vec::new(),
        },
        stop_timeout: Duration::from_secs(10),
        max_tails: 8,
    })
    .await
    .unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let base = format!("http://127.0.0.1:{}", studio.local_addr().port());
    let token = studio.url().split("token=").nth(1).unwrap().to_owned();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let session: Value = http
        .post(format!("{base}/api/chat/sessions"))
        .bearer_auth(&token)
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = session["id"].as_str().unwrap();
    let response = http
        .post(format!("{base}/api/chat/sessions/{id}/messages"))
        .bearer_auth(&token)
        .json(&serde_json::json!({
            "content": "Read the whole file inventory/report.py with the read_file tool, then tell me in one sentence what the function parse_line does."
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body = response.text().await.unwrap();
    let events = sse_events(&body);
    let shown = || body.clone();

    // The model asked for the file, and the daemon read it.
    let read = events
        .iter()
        .find(|(name, data)| name == "tool_call" && data["name"] == "read_file")
        .unwrap_or_else(|| panic!("the model never called read_file:\n{}", shown()));
    assert!(
        read.1["arguments"]["path"]
            .as_str()
            .unwrap_or("")
            .ends_with("inventory/report.py"),
        "{}",
        shown()
    );
    let result = events
        .iter()
        .filter(|(name, data)| name == "entry" && data["entry"]["role"] == "tool")
        .map(|(_, data)| data["entry"]["content"].as_str().unwrap().to_owned())
        .find(|content| content.contains("def parse_line(line):"))
        .unwrap_or_else(|| panic!("no read_file result holds the file:\n{}", shown()));
    assert!(result.contains("raise ValueError"), "{result}");

    // Then it answered, streamed token by token.
    let tokens = events.iter().filter(|(name, _)| name == "token").count();
    assert!(tokens > 1, "the answer was not streamed:\n{}", shown());
    let answer = events
        .iter()
        .rev()
        .find(|(name, data)| {
            name == "entry"
                && data["entry"]["role"] == "assistant"
                && data["entry"]["tool_calls"]
                    .as_array()
                    .is_none_or(Vec::is_empty)
        })
        .map(|(_, data)| data["entry"]["content"].as_str().unwrap().trim().to_owned())
        .unwrap_or_default();
    assert!(!answer.is_empty(), "no final answer:\n{}", shown());
    assert!(
        !answer.starts_with('{') && !answer.contains("<tool_call>"),
        "the last answer is a tool call, not an answer: {answer}"
    );
    assert!(
        answer.to_lowercase().contains("line"),
        "the answer does not talk about the line it parses: {answer}"
    );
    assert_eq!(
        events.last().map(|(name, _)| name.as_str()),
        Some("done"),
        "{}",
        shown()
    );
    eprintln!("the model's answer: {answer}");
    studio.shutdown();
    tokio::time::timeout(Duration::from_secs(30), studio.wait())
        .await
        .unwrap();
}
