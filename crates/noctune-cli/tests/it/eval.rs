//! `noctune eval` on the project's corpus (`eval/corpus`, 26 legacy cases with their own tests).
//! With the echo model (answers in shape, never changes code) the whole table is exact: what
//! ruff's findings are before and after one `ruff check --fix`, that the run keeps every case's
//! behaviour and breaks nothing, and what it cost in calls. With the real local model: three
//! small cases, nothing broken, behaviour kept, and the model's answers were used.

use std::path::Path;

use noctune_llm::fake::{FakeOptions, FakeServer, echo_model};

use crate::{noctune_with_env, text};

fn corpus() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../eval/corpus")
}

/// The report without what changes from run to run (times, the server's port, and the probe's
/// key, which names the port's URL).
fn stable(mut report: serde_json::Value) -> serde_json::Value {
    report["model"] = "[MODEL]".into();
    for field in ["key", "base_url", "probed_at"] {
        report["probe"][field] = format!("[{}]", field.to_uppercase()).into();
    }
    report["probe"]["probe_seconds"] = 0.into();
    report["totals"]["seconds_per_file"] = 0.into();
    for case in report["cases"].as_array_mut().unwrap() {
        case["seconds"] = 0.into();
    }
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_corpus_with_the_echo_model() {
    let server = FakeServer::start_responder(FakeOptions::default(), echo_model).await;
    let root = tempfile::tempdir().unwrap();
    let url = server.url();
    let corpus = corpus();
    let output = tokio::task::spawn_blocking(move || {
        noctune_with_env(
            root.path(),
            &[
                "eval",
                "--corpus",
                corpus.to_str().unwrap(),
                "--output-format",
                "json",
            ],
            &[("NOCTUNE_BASE_URL", &url)],
        )
    })
    .await
    .unwrap();
    let (stdout, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // Probed once by the eval; every case's run started from that record.
    assert_eq!(server.probe_requests().len(), 5);
    insta::assert_json_snapshot!("eval_echo_model", stable(report));
}

#[test]
fn a_missing_case_is_named() {
    let root = tempfile::tempdir().unwrap();
    let output = noctune_with_env(
        root.path(),
        &[
            "eval",
            "--corpus",
            corpus().to_str().unwrap(),
            "--case",
            "99-nope",
        ],
        &[("NOCTUNE_BASE_URL", "http://127.0.0.1:9/v1")],
    );
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("no case `99-nope`"), "{stderr}");
    assert!(stderr.contains("01-config-loader"), "{stderr}");
}
