//! Noctune Studio in a real browser (headless chromium over chromedriver), against the fake
//! OpenAI server and real `noctune run` workers: start a run in the browser, a risky edit is
//! queued, approve it in the browser and the run applies it; reject the other and its file
//! stays as it was; a task started with `POST /api/tasks` is applied by its `noctune task`
//! worker and its page shows the request and outcome. Screenshots go to
//! `target/studio-screenshots/`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use noctune_core::store::RunStore;
use noctune_core::{DecisionKind, RunId, RunStatus};
use noctune_llm::fake::{FakeServer, Reply};
use noctune_studio::{ServeOptions, WorkerCommand};
use pretty_assertions::assert_eq;

use crate::fake_model::{code, pipeline_config, plan_with, review, verdict_with};
use crate::webdriver::Browser;

const GREET: &str = "def greet(name):\n    return \"Hello, \" + name + \"!\"\n";
const GREET_NEW: &str = "def greet(name: str) -> str:\n    return f\"Hello, {name}!\"\n";
const TOTAL: &str = "def total(prices):\n    return sum(prices)\n";
const TOTAL_NEW: &str = "def total(prices: list[float]) -> float:\n    with open(\"prices.txt\") as f:\n        return sum(float(x) for x in f)\n";

fn script() -> Vec<Reply> {
    vec![
        review("P"),
        plan_with(&[("greet", "Use an f-string.")]),
        code(GREET_NEW),
        verdict_with("approve", "Same output with an f-string.", 0.6),
        review("P"),
        plan_with(&[("total", "Add type hints.")]),
        code(TOTAL_NEW),
        verdict_with(
            "approve",
            "Type hints, and it now reads prices from a file.",
            0.7,
        ),
    ]
}

fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/studio-screenshots")
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_studio_flow_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    std::fs::write(root.join("noctune.toml"), pipeline_config(1)).unwrap();
    std::fs::write(root.join("a_greet.py"), GREET).unwrap();
    std::fs::write(root.join("b_total.py"), TOTAL).unwrap();
    let server = FakeServer::start(script()).await;
    let studio = noctune_studio::serve(ServeOptions {
        root: root.clone(),
        host: "127.0.0.1".parse().unwrap(),
        port: 0,
        worker: WorkerCommand {
            program: PathBuf::from(env!("CARGO_BIN_EXE_noctune")),
            env: vec![("NOCTUNE_BASE_URL".into(), server.url().into())],
        },
        stop_timeout: Duration::from_secs(10),
        max_tails: 64,
    })
    .await
    .unwrap();
    let base = format!("http://127.0.0.1:{}", studio.local_addr().port());
    let shots = screenshots();
    let browser = Browser::start(1280, 800).await;

    // The printed URL signs in and drops the token from the address bar.
    browser.goto(studio.url()).await;
    browser.find(".empty-state").await;
    assert_eq!(browser.url().await, format!("{base}/"));

    // Start a run from the form.
    browser.click("#start-run").await;
    browser.fill("#pack", "lint_fix").await;
    browser.fill("#files", "a_greet.py\nb_total.py").await;
    browser.screenshot(&shots.join("new-run.png")).await;
    browser.click("#start").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let run_id = loop {
        let url = browser.url().await;
        if let Some(id) = url.split("#/runs/").nth(1) {
            break id.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "the form did not open the run: {url}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let run = RunId::new(run_id.as_str()).unwrap();
    let store = RunStore::new(&root);

    // Both edits are risky: the run completes with two changes waiting.
    browser.wait_text("#run-status", "completed").await;
    browser.wait_text("#events", "run_completed").await;
    browser.screenshot(&shots.join("run-detail.png")).await;
    let approvals = store.approvals(&run).unwrap();
    assert_eq!(approvals.len(), 2);
    assert_eq!(
        std::fs::read_to_string(root.join("a_greet.py")).unwrap(),
        GREET
    );

    browser.goto(&format!("{base}/#/")).await;
    browser.wait_text("#runs", &run_id).await;
    browser.screenshot(&shots.join("runs-list.png")).await;

    // The queue shows both; the first is a_greet.py with its reason and diff.
    browser
        .goto(&format!("{base}/#/runs/{run_id}/approvals"))
        .await;
    browser.wait_text("#queue", "b_total.py").await;
    browser.wait_text("#approval", "a_greet.py").await;
    browser
        .wait_text("#approver-reason", "Same output with an f-string.")
        .await;
    browser.find(".diff .ln.add").await;
    browser.screenshot(&shots.join("approval.png")).await;

    // `j` and `k` move through the queue; `a` approves; the daemon resumes the run, which
    // applies the change.
    browser.key("j").await;
    browser.wait_text("#approval h2", "b_total.py").await;
    browser.key("k").await;
    browser.wait_text("#approval h2", "a_greet.py").await;
    browser.key("a").await;
    wait_until("a_greet.py to be applied", || {
        std::fs::read_to_string(root.join("a_greet.py")).unwrap() == GREET_NEW
    })
    .await;

    // The next pending change is b_total.py: reject it with a reason.
    browser.wait_text("#approval", "b_total.py").await;
    browser.find(".signals li").await;
    browser
        .screenshot(&shots.join("approval-signals.png"))
        .await;
    let total_id = approvals
        .iter()
        .find(|a| a.approval.file == Path::new("b_total.py"))
        .unwrap()
        .approval
        .approval_id
        .clone();
    // `r` without a reason asks for one; Enter in the reason box rejects.
    browser.key("r").await;
    assert_eq!(
        browser.eval("return document.activeElement.id").await,
        "reason"
    );
    assert!(store.decision(&run, &total_id).unwrap().is_none());
    browser
        .fill("#reason", "It reads prices from a file now.")
        .await;
    browser.key("\u{E007}").await;
    wait_until("the rejection and the resumed run to finish", || {
        let decided = store.decision(&run, &total_id).unwrap();
        decided.is_some()
            && !studio.state().supervisor.is_live(&run)
            && store.read(&run).unwrap().status == RunStatus::Completed
    })
    .await;
    let decision = store.decision(&run, &total_id).unwrap().unwrap();
    assert_eq!(
        (
            decision.decision,
            decision.decided_by.as_str(),
            decision.reason.as_deref()
        ),
        (
            DecisionKind::Reject,
            "studio:browser",
            Some("It reads prices from a file now.")
        )
    );
    assert_eq!(
        std::fs::read_to_string(root.join("b_total.py")).unwrap(),
        TOTAL
    );
    assert_eq!(
        std::fs::read_to_string(root.join("a_greet.py")).unwrap(),
        GREET_NEW
    );
    assert_eq!(
        server.chat_requests().len(),
        8,
        "the resumes reused every artifact"
    );

    // The queue is empty now; the phone-sized layout and the report render.
    browser.goto(&format!("{base}/#/approvals")).await;
    browser.find("#queue-empty").await;
    browser
        .goto(&format!("{base}/#/runs/{run_id}/report"))
        .await;
    browser.wait_text("#report", "a_greet.py").await;
    browser.screenshot(&shots.join("report.png")).await;
    browser.resize(390, 844).await;
    browser
        .goto(&format!("{base}/#/runs/{run_id}/approvals"))
        .await;
    browser.wait_text("#approval", "greet").await;
    browser.screenshot(&shots.join("approval-phone.png")).await;
    browser.goto(&format!("{base}/#/")).await;
    browser.wait_text("#runs", &run_id).await;
    browser.screenshot(&shots.join("runs-list-phone.png")).await;
    browser.goto(&format!("{base}/#/runs/{run_id}")).await;
    browser.wait_text("#events", "run_completed").await;
    browser
        .screenshot(&shots.join("run-detail-phone.png"))
        .await;
    browser
        .goto(&format!("{base}/#/runs/{run_id}/approvals"))
        .await;
    browser.wait_text("#approval", "greet").await;
    browser.click("#theme").await;
    browser
        .screenshot(&shots.join("approval-phone-dark.png"))
        .await;
    browser.resize(1280, 800).await;
    browser.goto(&format!("{base}/#/runs/{run_id}")).await;
    browser.wait_text("#events", "run_completed").await;
    browser.screenshot(&shots.join("run-detail-dark.png")).await;

    browser.close().await;
    studio.shutdown();
    tokio::time::timeout(Duration::from_secs(30), studio.wait())
        .await
        .unwrap();
}

/// A Studio over `root` whose workers are the real `noctune` against `url`.
async fn studio_for(root: &Path, url: &str) -> noctune_studio::Studio {
    noctune_studio::serve(ServeOptions {
        root: root.to_path_buf(),
        host: "127.0.0.1".parse().unwrap(),
        port: 0,
        worker: WorkerCommand {
            program: PathBuf::from(env!("CARGO_BIN_EXE_noctune")),
            env: vec![("NOCTUNE_BASE_URL".into(), url.into())],
        },
        stop_timeout: Duration::from_secs(10),
        max_tails: 64,
    })
    .await
    .unwrap()
}

/// The API with the daemon's token.
struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    fn new(studio: &noctune_studio::Studio) -> Api {
        let _ = rustls::crypto::ring::default_provider().install_default();
        Api {
            http: reqwest::Client::new(),
            base: format!("http://127.0.0.1:{}", studio.local_addr().port()),
            token: studio.url().split("token=").nth(1).unwrap().to_owned(),
        }
    }

    async fn get(&self, path: &str) -> serde_json::Value {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn post(&self, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.json().await.unwrap())
    }

    /// Starts a run and waits until its worker has made a model call.
    async fn start_busy_run(&self) -> (String, u64) {
        let (status, body) = self
            .post("/api/runs", serde_json::json!({ "pack": "lint_fix" }))
            .await;
        assert_eq!(status, 201, "{body}");
        let run_id = body["run_id"].as_str().unwrap().to_owned();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let events = self.get(&format!("/api/runs/{run_id}/events")).await;
            let busy = events["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["type"] == "llm_call");
            let run = self.get(&format!("/api/runs/{run_id}")).await;
            if busy && run["status"] == "running" {
                return (run_id, run["worker"]["pid"].as_u64().unwrap());
            }
            assert!(
                Instant::now() < deadline,
                "the worker never got busy: {run}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn wait_status(&self, run_id: &str, want: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let run = self.get(&format!("/api/runs/{run_id}")).await;
            if run["status"] == want && run["worker"].is_null() {
                return run;
            }
            assert!(Instant::now() < deadline, "run never became {want}: {run}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn slow_script() -> Vec<Reply> {
    script()
        .into_iter()
        .map(|r| r.delayed(Duration::from_millis(300)))
        .collect()
}

fn write_two_files(root: &Path) {
    std::fs::write(root.join("noctune.toml"), pipeline_config(1)).unwrap();
    std::fs::write(root.join("a_greet.py"), GREET).unwrap();
    std::fs::write(root.join("b_total.py"), TOTAL).unwrap();
}

/// A real worker killed with SIGKILL: the daemon marks its run `failed` with the signal, and
/// `noctune status` reads the same record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_started_over_http_is_applied_and_its_page_shows_the_request_and_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    crate::task::repo(&root, true);
    let server = FakeServer::start([
        crate::task::plan("fib", true, "test_fib"),
        code(crate::task::TEST_FIB),
        code(crate::task::FIB),
    ])
    .await;
    let studio = noctune_studio::serve(ServeOptions {
        root: root.clone(),
        host: "127.0.0.1".parse().unwrap(),
        port: 0,
        worker: WorkerCommand {
            program: PathBuf::from(env!("CARGO_BIN_EXE_noctune")),
            env: vec![("NOCTUNE_BASE_URL".into(), server.url().into())],
        },
        stop_timeout: Duration::from_secs(10),
        max_tails: 64,
    })
    .await
    .unwrap();
    let base = format!("http://127.0.0.1:{}", studio.local_addr().port());
    let request = "add a function fib(n) with a test";
    let (status, started) = Api::new(&studio)
        .post("/api/tasks", serde_json::json!({ "request": request }))
        .await;
    assert_eq!(status, 201, "{started}");
    let run_id = started["run_id"].as_str().unwrap().to_owned();

    let browser = Browser::start(1280, 800).await;
    browser.goto(studio.url()).await;
    browser.goto(&format!("{base}/#/runs/{run_id}")).await;
    browser.wait_text("#task-request", request).await;
    browser.wait_text("#run-status", "completed").await;
    browser
        .wait_text(
            "#task-outcome",
            "applied: pkg/maths.py, tests/test_maths.py",
        )
        .await;
    browser
        .screenshot(&screenshots().join("task-detail.png"))
        .await;
    assert_eq!(
        std::fs::read_to_string(root.join("pkg/maths.py")).unwrap(),
        format!("{}\n\n{}", crate::task::MATHS, crate::task::FIB)
    );
    let record = RunStore::new(&root)
        .read(&RunId::new(run_id.as_str()).unwrap())
        .unwrap();
    assert_eq!(
        (record.command.as_deref(), record.status),
        (Some("task"), RunStatus::Completed)
    );
    browser.close().await;
    studio.shutdown();
}

/// A task whose changes wait for a human (the pack never auto-approves): once they are
/// approved in Studio, the daemon resumes the task and its changes are applied, asking the
/// model nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_waiting_for_a_human_is_applied_after_the_decisions_in_studio() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    crate::task::repo(&root, true);
    let config = std::fs::read_to_string(root.join("noctune.toml")).unwrap();
    std::fs::write(
        root.join("noctune.toml"),
        format!("{config}auto_approve = {{ enabled = false }}\n"),
    )
    .unwrap();
    let server = FakeServer::start([
        crate::task::plan("fib", true, "test_fib"),
        code(crate::task::TEST_FIB),
        code(crate::task::FIB),
    ])
    .await;
    let studio = studio_for(&root, &server.url()).await;
    let api = Api::new(&studio);
    let (status, started) = api
        .post("/api/tasks", serde_json::json!({ "request": "add fib(n)" }))
        .await;
    assert_eq!(status, 201, "{started}");
    let run_id = started["run_id"].as_str().unwrap().to_owned();
    let run = api.wait_status(&run_id, "completed").await;
    assert_eq!(run["pending_approvals"], 2, "{run}");
    assert_eq!(
        std::fs::read_to_string(root.join("pkg/maths.py")).unwrap(),
        crate::task::MATHS
    );
    let list = api.get(&format!("/api/runs/{run_id}/approvals")).await;
    for entry in list["approvals"].as_array().unwrap() {
        let id = entry["approval_id"].as_str().unwrap();
        let (status, body) = api
            .post(
                &format!("/api/runs/{run_id}/approvals/{id}"),
                serde_json::json!({ "decision": "approve" }),
            )
            .await;
        assert_eq!(status, 200, "{body}");
    }
    wait_until("the resumed task to apply both files", || {
        std::fs::read_to_string(root.join("tests/test_maths.py")).is_ok()
            && std::fs::read_to_string(root.join("pkg/maths.py")).unwrap()
                == format!("{}\n\n{}", crate::task::MATHS, crate::task::FIB)
    })
    .await;
    let run = api.wait_status(&run_id, "completed").await;
    assert_eq!(run["pending_approvals"], 0, "{run}");
    assert_eq!(server.chat_requests().len(), 3, "the resume asked no model");
    studio.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_worker_killed_with_sigkill_fails_its_run() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    write_two_files(&root);
    let server = FakeServer::start(slow_script()).await;
    let studio = studio_for(&root, &server.url()).await;
    let api = Api::new(&studio);
    let (run_id, pid) = api.start_busy_run().await;
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let run = api.wait_status(&run_id, "failed").await;
    let error = run["run"]["error"].as_str().unwrap();
    assert!(
        error.starts_with("the worker was killed by signal 9 (SIGKILL) (log: "),
        "{error}"
    );
    let status = crate::noctune(
        &root,
        &["status", "--run-id", &run_id, "--output-format", "json"],
    );
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["run"], run["run"]);
    assert_eq!(
        std::fs::read_to_string(root.join("a_greet.py")).unwrap(),
        GREET
    );
    studio.shutdown();
    studio.wait().await;
}

/// Stop asks the real worker to stop at a safe point: `stopping`, then `stopped` with its
/// `stopped` event, nothing applied, and the run resumable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_stops_a_real_worker_at_a_safe_point() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    write_two_files(&root);
    let server = FakeServer::start(slow_script()).await;
    let studio = studio_for(&root, &server.url()).await;
    let api = Api::new(&studio);
    let (run_id, _) = api.start_busy_run().await;
    let (status, body) = api
        .post(&format!("/api/runs/{run_id}/stop"), serde_json::json!({}))
        .await;
    assert_eq!(
        (status, body["status"].clone()),
        (202, serde_json::json!("stopping"))
    );
    let run = api.wait_status(&run_id, "stopped").await;
    assert_eq!(run["run"]["error"], serde_json::Value::Null);
    let events = api
        .get(&format!("/api/runs/{run_id}/events?limit=1000"))
        .await;
    let types: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"run_stopping"), "{types:?}");
    assert_eq!(types.last(), Some(&"stopped"), "{types:?}");
    // The daemon asked; the worker, which holds the run, wrote `stopping` into run.json.
    let stopping_by: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "run_stopping")
        .map(|e| e["payload"]["by"].as_str().unwrap())
        .collect();
    assert_eq!(stopping_by, ["studio", "interrupt"]);
    assert_eq!(
        std::fs::read_to_string(root.join("a_greet.py")).unwrap(),
        GREET
    );
    studio.shutdown();
    studio.wait().await;
}

/// The binary: `noctune studio serve` prints one line with the URL and the token from the
/// 0600 token file; `noctune studio stop` shuts it down and `serve` exits 0.
#[test]
fn studio_serve_prints_its_url_and_studio_stop_ends_it() {
    use std::io::BufRead;
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut serve = std::process::Command::new(env!("CARGO_BIN_EXE_noctune"))
        .args(["studio", "serve", "--root"])
        .arg(root)
        .args(["--port", "0"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(serve.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let token_file = root.join(".noctune_cache/studio/token");
    let token = std::fs::read_to_string(&token_file).unwrap();
    assert_eq!(
        std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let url = line
        .trim_end()
        .strip_prefix("Noctune Studio: http://127.0.0.1:")
        .unwrap();
    let (port, query) = url.split_once('/').unwrap();
    assert!(port.parse::<u16>().unwrap() > 0, "{line}");
    assert_eq!(query, format!("?token={token}"));
    let stop = crate::noctune(root, &["studio", "stop", "--root", root.to_str().unwrap()]);
    let (stdout, stderr) = crate::text(&stop);
    assert_eq!(stop.status.code(), Some(0), "{stdout}{stderr}");
    assert_eq!(
        stdout,
        format!("Noctune Studio (pid {}) stopped\n", serve.id())
    );
    assert!(serve.wait().unwrap().success());
    let again = crate::noctune(root, &["studio", "stop", "--root", root.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2), "nothing to stop");
}
