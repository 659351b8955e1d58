//! `noctune studio mcp` driven by real MCP clients, as an external agent would: the official
//! Python SDK (pinned, in `.tools/mcp-venv`) over the initialize handshake and over the newest
//! protocol version it offers, and the MCP Inspector CLI (pinned, in `.tools/mcp-inspector`,
//! run with the machine's node), one server process per call. Each checks the tool list and
//! every schema, then: enqueue a run on a fixture repository against the fake OpenAI server ->
//! tail its events -> list approvals -> approve the queued change -> it is applied on disk ->
//! stop a second run -> `stopped`; bad arguments and unknown run ids are `isError` results.
//! A task goes the same way: `enqueue_task` on the `noctune task` fixture (a scripted plan,
//! test and code, the real pytest) -> tail -> `completed` with the change applied, and a
//! second task stopped while it works; or, where the configuration does not apply, queued ->
//! approved over MCP -> applied by `noctune apply`.
//!
//! `scripts/test` installs both clients (`ensure_mcp_python`, `ensure_mcp_inspector` in
//! `scripts/lib/tools.sh`); without them these tests fail, naming the command to run.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use noctune_core::store::RunStore;
use noctune_core::{DecisionKind, RunId, RunStatus};
use noctune_llm::fake::{FakeOptions, FakeServer, Reply};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

use crate::fake_model::{Stage, classify, code, pipeline_config, plan_with, review, verdict_with};

const GREET: &str = "def greet(name):\n    return \"Hello, \" + name + \"!\"\n";
const GREET_NEW: &str = "def greet(name: str) -> str:\n    return f\"Hello, {name}!\"\n";
const TOTAL: &str = "def total(prices):\n    return sum(prices)\n";
const TOTAL_NEW: &str = "def total(prices: list[float]) -> float:\n    return sum(prices)\n";

/// The pinned Python SDK's version (`MCP_PYTHON_VERSION` in `scripts/lib/tools.sh`).
const MCP_PYTHON_VERSION: &str = "2.3.0";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn client_scripts() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp")
}

fn missing(what: &str, path: &Path, ensure: &str) -> ! {
    panic!(
        "{what} is not installed at `{}`: run `scripts/test`, or `. scripts/lib/tools.sh; {ensure}`",
        path.display()
    )
}

fn python() -> PathBuf {
    let python = workspace().join(".tools/mcp-venv/bin/python");
    if !python.exists() {
        missing("the Python MCP SDK", &python, "ensure_mcp_python");
    }
    python
}

fn inspector() -> PathBuf {
    let entry = workspace().join(
        ".tools/mcp-inspector/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js",
    );
    if !entry.exists() {
        missing("the MCP Inspector CLI", &entry, "ensure_mcp_inspector");
    }
    entry
}

/// A fixture repository: `a_greet.py` gets a risky edit (queued: risk 0.6 over the pack's
/// 0.3), `b_total.py` talks to a slow model (so its run can be stopped while it works).
struct Fixture {
    dir: tempfile::TempDir,
    server: FakeServer,
}

impl Fixture {
    /// The `noctune task` fixture (`pkg/maths.py`, the `feature` pack running the real
    /// pytest) with a model that answers one request: a plan adding `fib`, its test, its code;
    /// then, slowly (so that task can be stopped while it works), a second request's plan.
    async fn task(allow_apply: bool) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        crate::task::repo(dir.path(), allow_apply);
        let server = FakeServer::start([
            crate::task::plan("fib", true, "test_fib"),
            code(crate::task::TEST_FIB),
            code(crate::task::FIB),
            crate::task::plan("lucas", true, "test_lucas").delayed(Duration::from_secs(4)),
        ])
        .await;
        Fixture { dir, server }
    }

    /// After a task's flow: run.json says `task`, completed; the change is on disk (applied,
    /// and a second task stopped with nothing written) or the tree is untouched with both
    /// files approved by `decided_by` (queued; then `noctune apply` applies them).
    fn assert_task(&self, summary: &Value, decided_by: Option<&str>) {
        let run_id = summary["run_id"].as_str().unwrap();
        let store = self.store();
        let run_id = RunId::new(run_id).unwrap();
        let record = store.read(&run_id).unwrap();
        assert_eq!(
            (
                record.command.as_deref(),
                record.status,
                record.pack.as_deref()
            ),
            (Some("task"), RunStatus::Completed, Some("feature"))
        );
        // The request the worker was given is kept for a resume.
        assert_eq!(
            std::fs::read_to_string(
                self.root()
                    .join(".noctune_cache/studio/requests")
                    .join(format!("{run_id}.txt"))
            )
            .unwrap(),
            "add a function fib(n) with a test"
        );
        let maths = std::fs::read_to_string(self.root().join("pkg/maths.py")).unwrap();
        let test = std::fs::read_to_string(self.root().join("tests/test_maths.py")).ok();
        let approvals = store.approvals(&run_id).unwrap();
        match decided_by {
            None => {
                let stopped = RunId::new(summary["stopped"].as_str().unwrap()).unwrap();
                let record = store.read(&stopped).unwrap();
                assert_eq!(
                    (record.command.as_deref(), record.status),
                    (Some("task"), RunStatus::Stopped)
                );
                assert_eq!(
                    maths,
                    format!("{}\n\n{}", crate::task::MATHS, crate::task::FIB)
                );
                assert_eq!(test.as_deref(), Some(crate::task::TEST_FIB));
            }
            Some(who) => {
                assert_eq!((maths.as_str(), test), (crate::task::MATHS, None));
                let decisions: Vec<(DecisionKind, String)> = approvals
                    .iter()
                    .map(|a| {
                        let d = a.decision.clone().unwrap();
                        (d.decision, d.decided_by)
                    })
                    .collect();
                assert_eq!(decisions, vec![(DecisionKind::Approve, who.to_owned()); 2]);
                // A queued task (`allow_apply = false`) is applied by `noctune apply`.
                let applied = crate::noctune(self.root(), &["apply", "--run-id", run_id.as_str()]);
                assert_eq!(
                    applied.status.code(),
                    Some(0),
                    "{:?}",
                    crate::text(&applied)
                );
                assert_eq!(
                    std::fs::read_to_string(self.root().join("pkg/maths.py")).unwrap(),
                    format!("{}\n\n{}", crate::task::MATHS, crate::task::FIB)
                );
            }
        }
    }

    async fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("noctune.toml"), pipeline_config(1)).unwrap();
        std::fs::write(root.join("a_greet.py"), GREET).unwrap();
        std::fs::write(root.join("b_total.py"), TOTAL).unwrap();
        let server = FakeServer::start_responder(FakeOptions::default(), |request| {
            let Some(asked) = classify(request, &["a_greet.py", "b_total.py"]) else {
                return Reply::error(500, "unexpected request");
            };
            let greet = asked.file == "a_greet.py";
            let reply = match (asked.stage, greet) {
                (Stage::Review, _) => review("P"),
                (Stage::Draft, true) => plan_with(&[("greet", "Use an f-string.")]),
                (Stage::Draft, false) => plan_with(&[("total", "Add type hints.")]),
                (Stage::Edit, true) => code(GREET_NEW),
                (Stage::Edit, false) => code(TOTAL_NEW),
                (Stage::Approve, _) => verdict_with("approve", "Same output, typed.", 0.6),
                (Stage::Repair, _) => Reply::error(500, "no repairs in this script"),
            };
            if greet {
                reply
            } else {
                reply.delayed(Duration::from_millis(1500))
            }
        })
        .await;
        Fixture { dir, server }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn store(&self) -> RunStore {
        RunStore::new(self.root())
    }

    fn path_env() -> String {
        let tools = workspace().join(".tools/bin");
        format!(
            "{}:{}",
            tools.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// After a client's flow: the first run's change is applied (approved over MCP by
    /// `decided_by`), the second run is stopped with its file untouched.
    fn assert_flow(&self, first: &str, second: &str, decided_by: &str) {
        let store = self.store();
        let first = RunId::new(first).unwrap();
        let second = RunId::new(second).unwrap();
        assert_eq!(
            std::fs::read_to_string(self.root().join("a_greet.py")).unwrap(),
            GREET_NEW
        );
        assert_eq!(
            std::fs::read_to_string(self.root().join("b_total.py")).unwrap(),
            TOTAL
        );
        let approvals = store.approvals(&first).unwrap();
        assert_eq!(approvals.len(), 1);
        let decision = approvals[0].decision.clone().unwrap();
        assert_eq!(
            (decision.decision, decision.decided_by.as_str()),
            (DecisionKind::Approve, decided_by)
        );
        assert_eq!(store.read(&first).unwrap().status, RunStatus::Completed);
        assert_eq!(store.read(&second).unwrap().status, RunStatus::Stopped);
    }
}

/// Runs the Python client; returns its JSON summary.
async fn python_client(fixture: &Fixture, mode: &str, check: &str) -> Value {
    let mut command = Command::new(python());
    command
        .arg(client_scripts().join("python_client.py"))
        .args(["--noctune", env!("CARGO_BIN_EXE_noctune")])
        .arg("--root")
        .arg(fixture.root())
        .args(["--base-url", &fixture.server.url()])
        .args(["--mode", mode, "--check", check])
        .env("PATH", Fixture::path_env())
        .stdin(Stdio::null());
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let (stdout, stderr) = crate::text(&output);
    assert!(
        output.status.success(),
        "the Python client failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
}

fn sdk_version() -> String {
    let output = Command::new(python())
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('mcp'))",
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_drives_a_run_over_the_initialize_handshake() {
    assert_eq!(sdk_version(), MCP_PYTHON_VERSION, "the pinned SDK");
    let fixture = Fixture::new().await;
    let summary = python_client(&fixture, "legacy", "flow").await;
    assert_eq!(summary["protocol_version"], "2025-11-25");
    assert_eq!(
        summary["server"],
        json!({ "name": "noctune", "version": env!("CARGO_PKG_VERSION") })
    );
    fixture.assert_flow(
        summary["flow"]["first"].as_str().unwrap(),
        summary["flow"]["second"].as_str().unwrap(),
        "mcp:noctune-contract-python",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_drives_a_run_over_the_newest_protocol_version() {
    let fixture = Fixture::new().await;
    // `auto` discovers the server and adopts the newest version both sides speak.
    let summary = python_client(&fixture, "auto", "flow").await;
    assert_eq!(summary["protocol_version"], "2026-07-28");
    assert_eq!(summary["server"]["name"], "noctune");
    fixture.assert_flow(
        summary["flow"]["first"].as_str().unwrap(),
        summary["flow"]["second"].as_str().unwrap(),
        "mcp:noctune-contract-python",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_drives_a_task_to_an_applied_change_and_stops_another() {
    let fixture = Fixture::task(true).await;
    let summary = python_client(&fixture, "auto", "task").await;
    fixture.assert_task(&summary["task"], None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_approves_a_queued_task_over_the_initialize_handshake() {
    let fixture = Fixture::task(false).await;
    let summary = python_client(&fixture, "legacy", "task-queued").await;
    fixture.assert_task(&summary["task"], Some("mcp:noctune-contract-python"));
}

/// One Inspector CLI call (a fresh server process each time): exit status and JSON output.
async fn inspector_call(
    fixture: &Fixture,
    method: &str,
    tool: Option<(&str, &[String])>,
) -> (i32, Value) {
    let mut command = Command::new("node");
    command
        .arg(inspector())
        .arg("--cli")
        .args(["-e", &format!("NOCTUNE_BASE_URL={}", fixture.server.url())])
        .args(["-e", &format!("PATH={}", Fixture::path_env())])
        .arg(env!("CARGO_BIN_EXE_noctune"))
        .args(["studio", "mcp", "--root"])
        .arg(fixture.root())
        .args(["--method", method])
        .env(
            "MCP_CATALOG_PATH",
            fixture.root().join(".inspector-catalog.json"),
        )
        .stdin(Stdio::null());
    if let Some((name, args)) = tool {
        command.args(["--tool-name", name]);
        if !args.is_empty() {
            command.arg("--tool-arg").args(args);
        }
    }
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    let (stdout, stderr) = crate::text(&output);
    // The result is the first JSON document on stdout (an error summary may follow).
    let mut stream = serde_json::Deserializer::from_str(&stdout).into_iter::<Value>();
    let value = match stream.next() {
        Some(Ok(value)) => value,
        _ => panic!("the Inspector printed no JSON for {method} {tool:?}:\n{stdout}\n{stderr}"),
    };
    (output.status.code().unwrap_or(-1), value)
}

async fn inspector_tool(fixture: &Fixture, name: &str, args: &[String]) -> Value {
    let (code, value) = inspector_call(fixture, "tools/call", Some((name, args))).await;
    assert_eq!(
        (code, &value["isError"]),
        (0, &json!(false)),
        "{name} {args:?}: {value}"
    );
    value["structuredContent"].clone()
}

async fn inspector_error(fixture: &Fixture, name: &str, args: &[String], want: &str) {
    let (code, value) = inspector_call(fixture, "tools/call", Some((name, args))).await;
    assert_ne!(code, 0, "{value}");
    assert_eq!(value["isError"], true, "{name} {args:?}: {value}");
    let text = value["content"][0]["text"].as_str().unwrap_or_default();
    assert!(text.contains(want), "{name} {args:?}: {text}");
}

async fn wait_for(what: &str, mut probe: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while !probe().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn args(pairs: &[(&str, &str)]) -> Vec<String> {
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inspector_cli_drives_a_run_one_server_process_per_call() {
    let fixture = Fixture::new().await;
    let f = &fixture;

    // The tool list and every input schema.
    let (code, listed) = inspector_call(f, "tools/list", None).await;
    assert_eq!(code, 0, "{listed}");
    let mut tools: Vec<(String, Vec<String>, Vec<String>)> = listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tool| {
            let input = &tool["inputSchema"];
            assert_eq!(input["type"], "object", "{tool}");
            assert_eq!(tool["outputSchema"]["type"], "object", "{tool}");
            let mut properties: Vec<String> = input["properties"]
                .as_object()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default();
            properties.sort();
            let mut required: Vec<String> = input["required"]
                .as_array()
                .map(|r| r.iter().map(|v| v.as_str().unwrap().to_owned()).collect())
                .unwrap_or_default();
            required.sort();
            (
                tool["name"].as_str().unwrap().to_owned(),
                properties,
                required,
            )
        })
        .collect();
    tools.sort();
    let s = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        tools,
        vec![
            (
                "decide_approval".into(),
                s(&["approval_id", "decision", "reason", "run_id"]),
                s(&["approval_id", "decision", "run_id"])
            ),
            (
                "enqueue_run".into(),
                s(&["files", "pack", "profile", "repo_root"]),
                s(&["pack", "repo_root"])
            ),
            (
                "enqueue_task".into(),
                s(&["pack", "paths", "repo_root", "request"]),
                s(&["repo_root", "request"])
            ),
            ("get_report".into(), s(&["run_id"]), s(&["run_id"])),
            ("get_status".into(), s(&["run_id"]), s(&["run_id"])),
            ("list_approvals".into(), s(&["run_id"]), s(&["run_id"])),
            ("list_runs".into(), s(&[]), s(&[])),
            ("stop_run".into(), s(&["run_id"]), s(&["run_id"])),
            (
                "tail_events".into(),
                s(&["cursor", "limit", "run_id"]),
                s(&["run_id"])
            ),
        ]
    );

    // Enqueue, then tail by cursor until the run is over: its edit waits for approval.
    let queued = inspector_tool(
        f,
        "enqueue_run",
        &args(&[
            ("repo_root", "."),
            ("pack", "lint_fix"),
            ("files", "[\"a_greet.py\"]"),
        ]),
    )
    .await;
    let first = queued["run_id"].as_str().unwrap().to_owned();
    let mut cursor = 0u64;
    let mut types: Vec<String> = Vec::new();
    wait_for("the first run to finish", async || {
        let page = inspector_tool(
            f,
            "tail_events",
            &args(&[("run_id", &first), ("cursor", &cursor.to_string())]),
        )
        .await;
        for event in page["events"].as_array().unwrap() {
            types.push(event["type"].as_str().unwrap().to_owned());
        }
        cursor = page["next_cursor"].as_u64().unwrap();
        page["done"] == true
    })
    .await;
    assert!(types.iter().any(|t| t == "approval_queued"), "{types:?}");
    assert_eq!(types.last().map(String::as_str), Some("run_completed"));

    let approvals = inspector_tool(f, "list_approvals", &args(&[("run_id", &first)])).await;
    let approval = &approvals["approvals"][0];
    assert_eq!(
        (approval["file"].as_str(), approval["state"].as_str()),
        (Some("a_greet.py"), Some("pending"))
    );
    let approval_id = approval["approval_id"].as_str().unwrap().to_owned();
    let decided = inspector_tool(
        f,
        "decide_approval",
        &args(&[
            ("run_id", &first),
            ("approval_id", &approval_id),
            ("decision", "approve"),
            ("reason", "reviewed in the inspector"),
        ]),
    )
    .await;
    assert_eq!(decided["resumed"], true, "{decided}");
    let decided_by = decided["decision"]["decided_by"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        decided_by.starts_with("mcp:") && decided_by != "mcp:unknown",
        "{decided_by}"
    );
    // The worker the call started outlives that call's server process and applies the change.
    wait_for("the approved change to be applied", async || {
        let status = inspector_tool(f, "get_status", &args(&[("run_id", &first)])).await;
        status["status"] == "completed"
            && std::fs::read_to_string(f.root().join("a_greet.py")).unwrap() == GREET_NEW
    })
    .await;

    // A second run, stopped by a later call (through its run lock's pid).
    let second = inspector_tool(
        f,
        "enqueue_run",
        &args(&[
            ("repo_root", "."),
            ("pack", "lint_fix"),
            ("files", "[\"b_total.py\"]"),
        ]),
    )
    .await["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for("the second run to call the model", async || {
        let page = inspector_tool(
            f,
            "tail_events",
            &args(&[("run_id", &second), ("cursor", "0")]),
        )
        .await;
        page["status"] == "running"
            && page["events"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["type"] == "llm_call")
    })
    .await;
    let stopping = inspector_tool(f, "stop_run", &args(&[("run_id", &second)])).await;
    assert_eq!(stopping["status"], "stopping");
    wait_for("the second run to stop", async || {
        inspector_tool(f, "get_status", &args(&[("run_id", &second)])).await["status"] == "stopped"
    })
    .await;

    // Errors are results with isError, naming the argument.
    inspector_error(
        f,
        "get_status",
        &args(&[("run_id", "no-such-run")]),
        "unknown `run_id`",
    )
    .await;
    inspector_error(
        f,
        "enqueue_run",
        &args(&[("repo_root", "../elsewhere"), ("pack", "lint_fix")]),
        "bad argument `repo_root`",
    )
    .await;
    inspector_error(
        f,
        "enqueue_run",
        &args(&[("repo_root", ".")]),
        "missing field `pack`",
    )
    .await;
    inspector_error(
        f,
        "enqueue_task",
        &args(&[("repo_root", "."), ("request", " ")]),
        "bad argument `request`",
    )
    .await;

    fixture.assert_flow(&first, &second, &decided_by);
}
