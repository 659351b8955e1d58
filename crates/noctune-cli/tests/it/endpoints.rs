//! Many files in flight: a run over two model endpoints with two slots each, one of them killed
//! mid-run, ends with every file exactly as the same run one file at a time leaves it.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use noctune_core::TaskId;
use noctune_core::event::{Event, EventType};
use noctune_llm::fake::{FakeOptions, FakeServer, RecordedRequest, Reply};
use pretty_assertions::assert_eq;

use crate::fake_model::{classify, code, pipeline_config, plan, review, verdict};
use crate::{noctune_with_env, text};

const FILES: usize = 10;
const MODEL_DELAY: Duration = Duration::from_millis(60);

fn name(i: usize) -> String {
    format!("m{i}.py")
}

fn original(i: usize) -> String {
    format!("def f{i}(x):\n    return x * {i}\n")
}

/// What the model does with file `i`: every third is well done already, every fourth gets an
/// edit that fails the lint gate (an undefined name), the rest get type hints.
fn edit(i: usize) -> String {
    if i % 4 == 3 {
        format!("def f{i}(x: int) -> int:\n    return x * factor\n")
    } else {
        format!("def f{i}(x: int) -> int:\n    return x * {i}\n")
    }
}

fn names() -> Vec<String> {
    (0..FILES).map(name).collect()
}

/// Deterministic per request, whatever the order and the endpoint.
fn respond(request: &RecordedRequest) -> Reply {
    let names = names();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let Some(asked) = classify(request, &refs) else {
        return Reply::error(400, "the pool test's model does not know this request");
    };
    let i: usize = asked.file[1..asked.file.len() - 3].parse().unwrap();
    let symbol = format!("f{i}");
    let reply = match asked.what {
        // Pass 2 sees the applied text: nothing left to do.
        "review" if i % 3 == 2 || asked.prompt.contains("x: int") => review("W"),
        "review" => review("P"),
        "plan" => plan(&[&symbol]),
        "code" | "repair" => code(&edit(i)),
        "approve" => verdict("approve", 0.1),
        _ => Reply::error(400, "unknown request"),
    };
    reply.delayed(MODEL_DELAY)
}

async fn model(slots: Option<u32>) -> FakeServer {
    FakeServer::start_responder(
        FakeOptions {
            total_slots: slots,
            ..FakeOptions::default()
        },
        respond,
    )
    .await
}

fn repo(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("noctune.toml"), config).unwrap();
    for i in 0..FILES {
        std::fs::write(dir.path().join(name(i)), original(i)).unwrap();
    }
    dir
}

fn events(root: &Path) -> Vec<Event> {
    let Ok(text) =
        std::fs::read_to_string(root.join(".noctune_cache/runs/pool-1/logs/events.jsonl"))
    else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// Each file's final text and task status.
fn outcome(root: &Path) -> BTreeMap<String, (String, String)> {
    (0..FILES)
        .map(|i| {
            let task = TaskId::for_path(Path::new(&name(i)));
            let state: serde_json::Value = serde_json::from_slice(
                &std::fs::read(root.join(format!(
                    ".noctune_cache/runs/pool-1/state/tasks/{task}.json"
                )))
                .unwrap(),
            )
            .unwrap();
            (
                name(i),
                (
                    std::fs::read_to_string(root.join(name(i))).unwrap(),
                    state["status"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect()
}

const RUN: [&str; 4] = ["run", "--yes", "--run-id", "pool-1"];

/// The run one file at a time (one endpoint without `/props`: one slot): its repository and
/// each file's outcome.
async fn sequential_run() -> (tempfile::TempDir, BTreeMap<String, (String, String)>) {
    let single = model(None).await;
    let sequential = repo(&pipeline_config(2));
    let (output, stderr) = run_in(sequential.path(), &[("NOCTUNE_BASE_URL", &single.url())]).await;
    assert_eq!(
        output.status.code(),
        Some(1),
        "a proposal is left: {stderr}"
    );
    let expected = outcome(sequential.path());
    // The fixture's outcomes are varied: applied, well done, and proposals.
    let statuses: Vec<&str> = expected.values().map(|(_, s)| s.as_str()).collect();
    assert!(
        statuses.contains(&"done") && statuses.contains(&"proposed"),
        "{statuses:?}"
    );
    (sequential, expected)
}

/// `noctune run` in `root` with `env`, off the async runtime: its output and stderr.
async fn run_in(root: &Path, env: &[(&str, &str)]) -> (std::process::Output, String) {
    let root = root.to_path_buf();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let output = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        noctune_with_env(&root, &RUN, &env)
    })
    .await
    .unwrap();
    let stderr = text(&output).1;
    (output, stderr)
}

/// The config of a run over `urls`.
fn pooled_config(urls: &[String]) -> String {
    let endpoints: Vec<String> = urls
        .iter()
        .map(|url| format!("{{ base_url = \"{url}\" }}"))
        .collect();
    pipeline_config(2).replace(
        "[llm]\n",
        &format!("[llm]\nendpoints = [{}]\n", endpoints.join(", ")),
    )
}

/// Waits until the run at `root` has logged `calls` model calls (of `endpoint`, when given).
fn wait_for_calls(root: &Path, calls: usize, endpoint: Option<&str>) {
    let started = Instant::now();
    loop {
        let served = events(root)
            .iter()
            .filter(|e| {
                e.event_type == EventType::LlmCall
                    && endpoint.is_none_or(|url| e.payload["endpoint"] == url)
            })
            .count();
        if served >= calls {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run never made {calls} calls"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn spawn_run(root: &Path) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_noctune"))
        .args(RUN)
        .current_dir(root)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .env_remove("NOCTUNE_BASE_URL")
        .env_remove("NOCTUNE_LOG")
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_over_two_endpoints_survives_one_killed_and_matches_the_sequential_run() {
    let (sequential, expected) = sequential_run().await;

    // Two endpoints with two slots each; the first is killed mid-run.
    let a = Arc::new(model(Some(2)).await);
    let b = model(Some(2)).await;
    let pooled = repo(&pooled_config(&[a.url(), b.url()]));
    let root = pooled.path().to_path_buf();
    let killer = a.clone();
    let a_url = a.url();
    let output = tokio::task::spawn_blocking(move || {
        let child = spawn_run(&root);
        // Kill `a` once it has answered a few calls: the run is well under way.
        wait_for_calls(&root, 3, Some(&a_url));
        killer.kill();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(outcome(pooled.path()), expected, "{stderr}");

    let log = events(pooled.path());
    for pair in log.windows(2) {
        assert!(pair[0].idx < pair[1].idx, "idx not strictly increasing");
    }
    assert!(
        log.iter().any(|e| e.event_type == EventType::EndpointDown
            && e.payload["endpoint"] == a.url().as_str()),
        "no endpoint_down for the killed endpoint:\n{stderr}"
    );
    // Files were in flight together: some file's calls interleave with another's.
    let files: Vec<String> = log
        .iter()
        .filter(|e| e.event_type == EventType::LlmCall)
        .filter_map(|e| e.task_id.as_ref().map(ToString::to_string))
        .collect();
    let interleaved = files.windows(3).any(|w| w[0] == w[2] && w[0] != w[1]);
    assert!(interleaved, "the files went one at a time: {files:?}");
    // Both endpoints answered, and the session's loads say so.
    let loads = log
        .iter()
        .rfind(|e| e.event_type == EventType::EndpointLoads)
        .expect("an endpoint_loads event");
    let endpoints = loads.payload["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 2);
    assert!(endpoints.iter().all(|e| e["calls"].as_u64().unwrap() > 0));
    assert_eq!(endpoints[0]["up"], false);
    assert_eq!(endpoints[0]["slots"], 2);
    let utilisation = loads.payload["utilisation"].as_f64().unwrap();
    assert!(utilisation > 0.0 && utilisation <= 1.0, "{utilisation}");
    assert!(
        endpoints
            .iter()
            .any(|e| e["peak_in_flight"].as_u64().unwrap() == 2)
    );

    // The morning report shows the endpoints, their speed, the pool's use and the loss.
    let report =
        std::fs::read_to_string(pooled.path().join(".noctune_cache/runs/pool-1/report.md"))
            .unwrap();
    let section = report
        .split("## Model endpoints")
        .nth(1)
        .expect("a Model endpoints section")
        .split("\n## ")
        .next()
        .unwrap();
    assert!(
        section.contains(&format!("| {} | 2 |", a.url())),
        "{section}"
    );
    assert!(
        section.contains(&format!("| {} | 2 |", b.url())),
        "{section}"
    );
    assert!(
        section.contains("| down |") && section.contains("| up |"),
        "{section}"
    );
    assert!(section.contains("pool utilisation"), "{section}");
    assert!(section.contains(&format!("down: {}", a.url())), "{section}");
    // Its header has each endpoint's calibration, not the first one's only.
    for url in [a.url(), b.url()] {
        assert!(
            report.contains(&format!("- model: `fake-model` at {url}: formats ")),
            "{report}"
        );
    }
    // The sequential run has one slot and lost nothing: no such section.
    let plain = std::fs::read_to_string(
        sequential
            .path()
            .join(".noctune_cache/runs/pool-1/report.md"),
    )
    .unwrap();
    assert!(!plain.contains("## Model endpoints"), "{plain}");
}

/// Each endpoint gets its own key from the variable `api_key_env` names (the others `api_key`);
/// a variable that is not set stops the run before anything is written, naming the key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_endpoint_sends_its_own_key_and_a_missing_key_variable_is_named() {
    let a = model(Some(1)).await;
    let b = model(Some(1)).await;
    let config = pipeline_config(1).replace(
        "[llm]\n",
        &format!(
            "[llm]\napi_key = \"shared\"\nendpoints = [{{ base_url = \"{}\", api_key_env = \"NOCTUNE_TEST_KEY_A\" }}, {{ base_url = \"{}\" }}]\n",
            a.url(),
            b.url()
        ),
    );
    let dir = repo(&config);
    let (output, stderr) = run_in(dir.path(), &[("NOCTUNE_TEST_KEY_A", "secret-a")]).await;
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let auth = |server: &FakeServer| -> Vec<String> {
        server
            .chat_requests()
            .iter()
            .filter_map(|r| r.headers.get("authorization").cloned())
            .collect()
    };
    let (from_a, from_b) = (auth(&a), auth(&b));
    assert!(!from_a.is_empty() && !from_b.is_empty());
    assert!(from_a.iter().all(|h| h == "Bearer secret-a"), "{from_a:?}");
    assert!(from_b.iter().all(|h| h == "Bearer shared"), "{from_b:?}");

    let fresh = repo(&config);
    let (output, stderr) = run_in(fresh.path(), &[]).await;
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("llm.endpoints[0].api_key_env")
            && stderr.contains("`NOCTUNE_TEST_KEY_A` is not set"),
        "{stderr}"
    );
    assert!(
        !fresh.path().join(".noctune_cache").exists(),
        "nothing is written"
    );
    assert_eq!(
        std::fs::read_to_string(fresh.path().join(name(0))).unwrap(),
        original(0)
    );
}

/// Ctrl+C with several files in flight: each reaches its next safe point, the run is `stopped`
/// with no task left `running`, and `--run-id` resumes it to the sequential run's outcome.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_with_files_in_flight_stops_them_all_and_the_run_resumes() {
    let (_sequential, expected) = sequential_run().await;
    let a = model(Some(2)).await;
    let b = model(Some(2)).await;
    let pooled = repo(&pooled_config(&[a.url(), b.url()]));
    let root = pooled.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || {
        let child = spawn_run(&root);
        wait_for_calls(&root, 5, None);
        // `noctune status` names the files in flight, with their stage.
        let status = noctune_with_env(&root, &["status", "--run-id", "pool-1"], &[]);
        let shown = text(&status).0;
        let line = shown
            .lines()
            .find(|l| l.trim_start().starts_with("in flight: "))
            .unwrap_or_else(|| panic!("no files in flight in:\n{shown}"));
        assert!(line.matches(", pass ").count() >= 2, "{line}");
        let status = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let (_, stderr) = text(&output);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let run: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            pooled
                .path()
                .join(".noctune_cache/runs/pool-1/state/run.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(run["status"], "stopped", "{stderr}");
    let tasks = pooled.path().join(".noctune_cache/runs/pool-1/state/tasks");
    let mut unfinished = 0;
    for entry in std::fs::read_dir(&tasks).unwrap() {
        let state: serde_json::Value =
            serde_json::from_slice(&std::fs::read(entry.unwrap().path()).unwrap()).unwrap();
        assert_ne!(state["status"], "running", "{state}");
        unfinished += usize::from(state["status"] == "pending");
    }
    assert!(
        unfinished >= 2,
        "the stop came with several files in flight"
    );
    for i in 0..FILES {
        let text = std::fs::read_to_string(pooled.path().join(name(i))).unwrap();
        assert!(
            text == original(i) || text == edit(i),
            "{}: {text}",
            name(i)
        );
    }

    let (output, stderr) = run_in(pooled.path(), &[]).await;
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(outcome(pooled.path()), expected, "{stderr}");
}

/// An endpoint that is down when the run starts is named on stderr and in the events, and the
/// run goes on with the other one to the sequential run's outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_down_at_the_start_is_reported_and_skipped() {
    let (_sequential, expected) = sequential_run().await;
    let a = model(Some(2)).await;
    a.kill();
    let b = model(Some(2)).await;
    let pooled = repo(&pooled_config(&[a.url(), b.url()]));
    let (output, stderr) = run_in(pooled.path(), &[]).await;
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("no model server answers at {}", a.url()))
            && stderr.contains("the run goes on with the other endpoints"),
        "{stderr}"
    );
    assert_eq!(outcome(pooled.path()), expected, "{stderr}");
    let log = events(pooled.path());
    let down = log
        .iter()
        .position(|e| e.event_type == EventType::EndpointDown)
        .expect("an endpoint_down event");
    assert_eq!(log[down].payload["endpoint"], a.url().as_str());
    let first_call = log
        .iter()
        .position(|e| e.event_type == EventType::LlmCall)
        .unwrap();
    assert!(down < first_call, "reported at the start");
    assert!(a.chat_requests().is_empty());
}
