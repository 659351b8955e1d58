//! Token budgets pause work with state saved: a file over its budget is set aside (and taken
//! up again by a resume), a run over its budget stops (status `stopped`, resumable).

use noctune_llm::fake::{FakeServer, Reply};
use pretty_assertions::assert_eq;
use serde_json::json;

use crate::{noctune_with_env, text};

fn review(label: &str) -> Reply {
    Reply::answer(json!({"label": label, "summary": "Fine.", "checklist": []}).to_string())
}

fn empty_plan() -> Reply {
    Reply::answer(json!({"targets": []}).to_string())
}

async fn run(root: &std::path::Path, url: &str) -> std::process::Output {
    let (root, url) = (root.to_path_buf(), url.to_owned());
    tokio::task::spawn_blocking(move || {
        noctune_with_env(
            &root,
            &["run", "--run-id", "b", "--output-format", "json"],
            &[("NOCTUNE_BASE_URL", &url)],
        )
    })
    .await
    .unwrap()
}

fn write_repo(root: &std::path::Path, budgets: &str) {
    std::fs::write(
        root.join("noctune.toml"),
        format!("[llm]\nmax_retries = 0\n[budgets]\n{budgets}"),
    )
    .unwrap();
    std::fs::write(root.join("a.py"), "A = 1\n").unwrap();
    std::fs::write(root.join("b.py"), "B = 2\n").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_its_budget_is_set_aside_and_taken_up_on_resume() {
    let dir = tempfile::tempdir().unwrap();
    // Each fake answer reports 12 + 5 tokens: one call exhausts a 10-token file budget.
    write_repo(dir.path(), "file_tokens = 10\n");
    let server = FakeServer::start(vec![review("P"), review("P")]).await;
    let first = run(dir.path(), &server.url()).await;
    assert_eq!(first.status.code(), Some(1), "{:?}", text(&first));
    let json: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(json["status"], "completed");
    assert_eq!(json["summary"]["set_aside"], 2);
    assert_eq!(
        server.chat_requests().len(),
        2,
        "one call per file, then set aside"
    );

    // With a larger budget the resume reuses each review and goes on with the draft.
    write_repo(dir.path(), "file_tokens = 1000\n");
    server.push(vec![empty_plan(), empty_plan()]);
    let second = run(dir.path(), &server.url()).await;
    let json: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(second.status.code(), Some(0), "{:?}", text(&second));
    assert_eq!(json["summary"]["unchanged"], 2);
    assert_eq!(
        server.chat_requests().len(),
        4,
        "the reviews were not asked again"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_over_its_budget_stops_and_counts_earlier_sessions() {
    let dir = tempfile::tempdir().unwrap();
    write_repo(dir.path(), "run_tokens = 10\n");
    let server = FakeServer::start(vec![review("P")]).await;
    let first = run(dir.path(), &server.url()).await;
    assert_eq!(first.status.code(), Some(0), "{:?}", text(&first));
    let json: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(json["status"], "stopped");
    let record: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join(".noctune_cache/runs/b/state/run.json")).unwrap(),
    )
    .unwrap();
    assert!(
        record["error"]
            .as_str()
            .unwrap()
            .contains("run token budget: 17 >= 10"),
        "{record}"
    );
    // A resume counts the 17 tokens already spent: it stops again before asking anything.
    let second = run(dir.path(), &server.url()).await;
    let json: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(json["status"], "stopped", "{:?}", text(&second));
    assert_eq!(server.chat_requests().len(), 1);
}
