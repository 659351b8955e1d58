//! The MCP server in process, over `tokio::io::duplex`, with rmcp's client: the tool list and
//! its schemas, deciding a queued approval (recorded as `mcp:<client name>`, audited, the run
//! resumed), and the errors a client gets as `isError` results.

use std::time::{Duration, Instant};

use noctune_core::{DecisionKind, RunStatus};
use noctune_studio::mcp::{McpOptions, NoctuneMcp};
use noctune_studio::{WorkerCommand, audit};
use pretty_assertions::assert_eq;
use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientCapabilities, ClientConfig, Implementation,
};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::common::{TestApp, worker_script};

type Client = RunningService<RoleClient, ClientConfig>;

/// A server over the test app's repository (workers are the app's shell script) and a client
/// named `duplex-test` connected to it.
async fn connect(app: &TestApp, worker: &str) -> Client {
    let program = worker_script(&app.dir.path().join("tools"), worker);
    let server = NoctuneMcp::new(McpOptions {
        root: app.root(),
        worker: WorkerCommand {
            program,
            env: Vec::new(),
        },
        stop_timeout: Duration::from_millis(500),
    })
    .await
    .unwrap();
    let (server_io, client_io) = tokio::io::duplex(64 * 1024);
    tokio::spawn(noctune_studio::mcp::serve(server, server_io));
    ClientConfig::new(
        ClientCapabilities::default(),
        Implementation::new("duplex-test", "1.0"),
    )
    .serve(client_io)
    .await
    .unwrap()
}

async fn call(client: &Client, tool: &'static str, args: Value) -> CallToolResult {
    let Value::Object(args) = args else {
        panic!("arguments must be an object")
    };
    client
        .call_tool(CallToolRequestParams::new(tool).with_arguments(args))
        .await
        .unwrap()
}

/// The first text block (the short line for people on success, the message on error).
fn first_text(result: &CallToolResult) -> String {
    result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

fn structured(result: &CallToolResult) -> Value {
    assert_eq!(result.is_error, Some(false), "{}", first_text(result));
    result.structured_content.clone().unwrap()
}

fn error(result: &CallToolResult) -> String {
    assert_eq!(result.is_error, Some(true), "{result:?}");
    first_text(result)
}

#[tokio::test]
async fn the_server_names_itself_and_lists_nine_tools_with_schemas() {
    let app = TestApp::new();
    let client = connect(&app, "exit 0").await;
    let info = client.peer_info().unwrap();
    let server = info.server_info.clone().unwrap();
    assert_eq!(
        (server.name.as_str(), server.version.as_str()),
        ("noctune", env!("CARGO_PKG_VERSION"))
    );
    let tools = client.list_all_tools().await.unwrap();
    let mut table: Vec<(String, Vec<String>, Vec<String>)> = tools
        .iter()
        .map(|tool| {
            let input = Value::Object((*tool.input_schema).clone());
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
            assert_eq!(input["type"], "object", "{}", tool.name);
            let output = Value::Object((**tool.output_schema.as_ref().unwrap()).clone());
            assert_eq!(output["type"], "object", "{}", tool.name);
            assert!(
                tool.description.as_deref().is_some_and(|d| d.len() > 20),
                "{} needs a description",
                tool.name
            );
            // Every argument is documented.
            for (name, schema) in input["properties"].as_object().into_iter().flatten() {
                assert!(
                    schema.get("description").is_some(),
                    "{}.{name} has no description",
                    tool.name
                );
            }
            (tool.name.to_string(), properties, required)
        })
        .collect();
    table.sort();
    let s = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        table,
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
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn an_approval_decided_over_mcp_is_recorded_audited_and_resumes_the_run() {
    let app = TestApp::new();
    let (run_id, approval_id) = app.seed_waiting_run(RunStatus::Completed);
    let client = connect(&app, "echo \"worker $*\"\nexit 0").await;

    let runs = structured(&call(&client, "list_runs", json!({})).await);
    assert_eq!(runs["runs"][0]["run"]["run_id"], run_id.as_str());
    let status = call(&client, "get_status", json!({ "run_id": run_id.as_str() })).await;
    assert_eq!(
        first_text(&status),
        "Run night-1 is completed; 1 approval(s) pending."
    );
    let listed = structured(&call(&client, "list_approvals", json!({ "run_id": "night-1" })).await);
    assert_eq!(listed["approvals"][0]["approval_id"], approval_id.as_str());
    assert_eq!(listed["approvals"][0]["state"], "pending");
    assert!(
        listed["approvals"][0]["diff"]
            .as_str()
            .unwrap()
            .contains("+    return 2")
    );

    let decided = call(
        &client,
        "decide_approval",
        json!({ "run_id": "night-1", "approval_id": "ap-1", "decision": "approve", "reason": "fine" }),
    )
    .await;
    let body = structured(&decided);
    assert_eq!(body["decision"]["decided_by"], "mcp:duplex-test");
    assert_eq!(body["resumed"], true);
    let decision = app
        .store()
        .decision(&run_id, &approval_id)
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            decision.decision,
            decision.decided_by.as_str(),
            decision.reason.as_deref()
        ),
        (DecisionKind::Approve, "mcp:duplex-test", Some("fine"))
    );
    // The resumed worker is `noctune run --run-id night-1` (the shell script echoes it).
    let log = app.store().cache().run(&run_id).logs().join("worker.log");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("worker run --root")
    {
        assert!(Instant::now() < deadline, "the run was not resumed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rows: Vec<(String, String, String, String)> = app
        .audit_rows()
        .await
        .into_iter()
        .map(|r: audit::AuditRow| (r.who, r.action, r.method, r.path))
        .collect();
    assert_eq!(
        rows,
        vec![(
            "mcp:duplex-test".to_owned(),
            "decide".to_owned(),
            "tools/call".to_owned(),
            "decide_approval".to_owned()
        )]
    );
    // Deciding again is an error result, not a protocol error.
    let again = call(
        &client,
        "decide_approval",
        json!({ "run_id": "night-1", "approval_id": "ap-1", "decision": "reject", "reason": "no" }),
    )
    .await;
    assert!(error(&again).starts_with("already_decided: "), "{again:?}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn bad_arguments_and_unknown_runs_are_error_results_naming_the_argument() {
    let app = TestApp::new();
    app.seed_waiting_run(RunStatus::Completed);
    let outside = app.dir.path().join("tools");
    let client = connect(&app, "exit 0").await;
    let cases: Vec<(&'static str, Value, &str)> = vec![
        (
            "get_status",
            json!({ "run_id": "nope" }),
            "unknown `run_id`: no run `nope`",
        ),
        (
            "get_status",
            json!({ "run_id": "../x" }),
            "bad argument `run_id`",
        ),
        ("get_status", json!({}), "missing field `run_id`"),
        (
            "tail_events",
            json!({ "run_id": "nope", "cursor": 0 }),
            "unknown `run_id`",
        ),
        (
            "list_approvals",
            json!({ "run_id": "nope" }),
            "unknown `run_id`",
        ),
        ("stop_run", json!({ "run_id": "nope" }), "unknown `run_id`"),
        (
            "get_report",
            json!({ "run_id": "nope" }),
            "unknown `run_id`",
        ),
        (
            "enqueue_run",
            json!({ "repo_root": "..", "pack": "lint_fix" }),
            "bad argument `repo_root`",
        ),
        (
            "enqueue_run",
            json!({ "repo_root": outside.to_str().unwrap(), "pack": "lint_fix" }),
            "bad argument `repo_root`",
        ),
        (
            "enqueue_run",
            json!({ "repo_root": ".", "pack": "lint fix" }),
            "bad argument `pack`",
        ),
        (
            "enqueue_run",
            json!({ "repo_root": ".", "pack": "lint_fix", "files": ["/etc/passwd.py"] }),
            "bad argument `files`",
        ),
        (
            "enqueue_run",
            json!({ "repo_root": ".", "pack": "lint_fix", "profile": "big" }),
            "bad argument `profile`",
        ),
        (
            "enqueue_run",
            json!({ "repo_root": ".", "pack": "lint_fix", "bogus": 1 }),
            "unknown field `bogus`",
        ),
        (
            "enqueue_task",
            json!({ "repo_root": ".", "request": " \n " }),
            "bad argument `request`: the request is empty",
        ),
        (
            "enqueue_task",
            json!({ "repo_root": ".", "request": "x".repeat(16 * 1024 + 1) }),
            "bad argument `request`: the request is 16385 bytes long",
        ),
        (
            "enqueue_task",
            json!({ "repo_root": "." }),
            "missing field `request`",
        ),
        (
            "enqueue_task",
            json!({ "repo_root": "..", "request": "add fib" }),
            "bad argument `repo_root`",
        ),
        (
            "enqueue_task",
            json!({ "repo_root": ".", "request": "add fib", "pack": "no pack" }),
            "bad argument `pack`",
        ),
        (
            "enqueue_task",
            json!({ "repo_root": ".", "request": "add fib", "paths": ["/etc"] }),
            "bad argument `paths`",
        ),
        (
            "enqueue_task",
            json!({ "repo_root": ".", "request": "add fib", "paths": ["pkg/../../x"] }),
            "bad argument `paths`",
        ),
        (
            "decide_approval",
            json!({ "run_id": "night-1", "approval_id": "ap-1", "decision": "reject" }),
            "bad argument `reason`",
        ),
        (
            "decide_approval",
            json!({ "run_id": "night-1", "approval_id": "ap-1", "decision": "maybe" }),
            "unknown variant `maybe`",
        ),
        (
            "decide_approval",
            json!({ "run_id": "night-1", "approval_id": "nope", "decision": "approve" }),
            "not found: run `night-1` has no approval `nope`",
        ),
        (
            "stop_run",
            json!({ "run_id": "night-1" }),
            "run_final: run `night-1` is completed already",
        ),
    ];
    for (tool, args, want) in cases {
        let result = call(&client, tool, args.clone()).await;
        let message = error(&result);
        assert!(message.contains(want), "{tool} {args}: {message}");
    }
    // Nothing was decided or started.
    assert_eq!(app.store().list().unwrap().len(), 1);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn enqueue_run_starts_a_worker_in_a_repository_inside_the_root() {
    let app = TestApp::new();
    std::fs::create_dir_all(app.root().join("sub")).unwrap();
    let client = connect(&app, "echo \"worker $*\"\nexit 0").await;
    let queued = call(
        &client,
        "enqueue_run",
        json!({ "repo_root": "sub", "pack": "lint_fix", "files": ["a.py"] }),
    )
    .await;
    let body = structured(&queued);
    let run_id = body["run_id"].as_str().unwrap().to_owned();
    let sub = app.root().canonicalize().unwrap().join("sub");
    assert_eq!(body["repo_root"], sub.to_str().unwrap());
    assert_eq!(body["status"], "queued");
    assert_eq!(
        first_text(&queued),
        format!("Run {run_id} queued on {}.", sub.display())
    );
    // The run lives in the sub-repository's store; the other tools find it there.
    let store = noctune_core::store::RunStore::new(&sub);
    let id = noctune_core::RunId::new(run_id.as_str()).unwrap();
    assert_eq!(store.read(&id).unwrap().pack.as_deref(), Some("lint_fix"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = structured(
            &call(
                &client,
                "tail_events",
                json!({ "run_id": run_id, "cursor": 0 }),
            )
            .await,
        );
        if page["done"] == true {
            // The script worker never wrote a final status: the supervisor failed the run.
            assert_eq!(page["status"], "failed");
            break;
        }
        assert!(Instant::now() < deadline, "the worker never ended: {page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log = std::fs::read_to_string(store.cache().run(&id).logs().join("worker.log")).unwrap();
    assert!(
        log.contains(&format!("--run-id {run_id} --pack lint_fix --file-list")),
        "{log}"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn enqueue_task_starts_a_task_worker_with_the_request_as_one_argument() {
    let app = TestApp::new();
    // The worker prints each argument on its own line.
    let client = connect(&app, "printf 'arg:%s\\n' \"$@\"\nexit 0").await;
    let request = "--yes; rm -rf / # add fib(n)\nwith a test";
    let queued = call(
        &client,
        "enqueue_task",
        json!({ "repo_root": ".", "request": request, "paths": ["pkg", "tests/test_x.py"] }),
    )
    .await;
    let body = structured(&queued);
    let run_id = body["run_id"].as_str().unwrap().to_owned();
    let root = app.root().canonicalize().unwrap();
    assert_eq!(
        first_text(&queued),
        format!("Task {run_id} queued on {}.", root.display())
    );
    let id = noctune_core::RunId::new(run_id.as_str()).unwrap();
    let record = app.store().read(&id).unwrap();
    // No configuration: the `[task] pack` default.
    assert_eq!(
        (record.command.as_deref(), record.pack.as_deref()),
        (Some("task"), Some("feature"))
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = structured(&call(&client, "get_status", json!({ "run_id": run_id })).await);
        if status["worker"].is_null() && status["status"] == "failed" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the worker never ended: {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log =
        std::fs::read_to_string(app.store().cache().run(&id).logs().join("worker.log")).unwrap();
    let args: Vec<&str> = log
        .split("arg:")
        .skip(1)
        .map(|a| a.strip_suffix('\n').unwrap_or(a))
        .collect();
    let root_text = root.to_str().unwrap();
    assert_eq!(
        args,
        vec![
            "task",
            "--root",
            root_text,
            "--run-id",
            run_id.as_str(),
            "--pack",
            "feature",
            "--yes",
            "--",
            request,
            "pkg",
            "tests/test_x.py",
        ]
    );
    let rows: Vec<(String, String, String)> = app
        .audit_rows()
        .await
        .into_iter()
        .map(|r| (r.who, r.action, r.path))
        .collect();
    assert_eq!(
        rows,
        vec![(
            "mcp:duplex-test".to_owned(),
            "start_task".to_owned(),
            "enqueue_task".to_owned()
        )]
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_run_whose_worker_died_unwatched_reads_as_failed() {
    let app = TestApp::new();
    let client = connect(&app, "exit 0").await;
    // A run left `running` by a worker that died after the server started (its lock is free).
    let (run_id, _) = app.seed_waiting_run(RunStatus::Running);
    let status =
        structured(&call(&client, "get_status", json!({ "run_id": run_id.as_str() })).await);
    assert_eq!(status["status"], "failed");
    assert_eq!(
        status["run"]["error"],
        "the worker died (no process holds the run lock)"
    );
    client.cancel().await.unwrap();
}
