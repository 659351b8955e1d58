//! Chat tools: the sandbox refuses every traversal with nothing read or written; gated tools
//! answer `write_not_allowed` / `run_not_allowed` until the user allows once, for the
//! session or always (persisted); every edit is backed up and restorable; the run tools use
//! the daemon's run control.

use std::path::Path;

use axum::http::StatusCode;
use noctune_llm::fake::{FakeServer, Reply};
use noctune_studio::chat::Chat;
use noctune_studio::chat::permissions::{self, Grant, Permission};
use noctune_studio::chat::tools::ToolContext;
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::chat::{app_with_model, new_session, say};
use crate::common::TestApp;

fn context(app: &TestApp, session_id: &str) -> ToolContext {
    let chat = app.state.chat.clone();
    let settings = chat.settings().unwrap();
    ToolContext {
        sandbox: chat.sandbox(&settings).unwrap(),
        chat,
        control: app.state.control(),
        session_id: session_id.to_owned(),
        rg: "rg".into(),
    }
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = walk(dir)
        .into_iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read(&p).unwrap_or_default(),
            )
        })
        .collect();
    files.sort();
    files
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn every_traversal_is_refused_with_nothing_read_or_written() {
    let server = FakeServer::start([]).await;
    let app = app_with_model(&server);
    let root = app.root();
    let outside = app.dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "outside secret\n").unwrap();
    let sibling = app.dir.path().join("repo-evil");
    std::fs::create_dir_all(&sibling).unwrap();
    std::fs::write(sibling.join("x.py"), "evil = 1\n").unwrap();
    std::os::unix::fs::symlink(&outside, root.join("link_out")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), root.join("file_link")).unwrap();
    std::fs::create_dir_all(root.join(".git/hooks")).unwrap();
    std::fs::write(root.join(".git/config"), "[core]\n").unwrap();
    std::fs::write(root.join(".env"), "KEY=1\n").unwrap();
    std::fs::create_dir_all(root.join("certs")).unwrap();
    std::fs::write(root.join("certs/server.pem"), "pem\n").unwrap();
    std::fs::create_dir_all(root.join(".noctune_cache/studio")).unwrap();
    std::fs::write(root.join(".noctune_cache/studio/token"), "t0k3n\n").unwrap();
    // Writes are always allowed here, so every refusal below is the sandbox's.
    let id = new_session(&app).await;
    permissions::grant(
        &root,
        &app.state.chat.sessions,
        &id,
        Permission::Write,
        Grant::Always,
    )
    .unwrap();
    let ctx = context(&app, &id);
    let before_outside = snapshot(app.dir.path().join("outside").as_path());
    let before_root = snapshot(&root);
    let outside_abs = outside.join("secret.txt").display().to_string();
    let sibling_abs = sibling.join("x.py").display().to_string();
    let sibling_new = sibling.join("new.py").display().to_string();
    let reads = [
        "../outside/secret.txt",
        "sub/../../outside/secret.txt",
        outside_abs.as_str(),
        sibling_abs.as_str(),
        "/etc/passwd",
        "%2e%2e/outside/secret.txt",
        "%252e%252e/outside/secret.txt",
        "..%2Foutside%2Fsecret.txt",
        "calc.py\0",
        "calc.py\0/../../outside/secret.txt",
        "..\\outside\\secret.txt",
        "link_out/secret.txt",
        "file_link",
        ".env",
        "certs/server.pem",
        ".noctune_cache/studio/token",
        "",
    ];
    for path in reads {
        let outcome = ctx.execute("read_file", json!({ "path": path })).await;
        assert_eq!(
            outcome.result["error"], "path_refused",
            "read {path:?}: {}",
            outcome.result
        );
        let text = outcome.result.to_string();
        assert!(
            !text.contains("outside secret") && !text.contains("t0k3n") && !text.contains("KEY=1"),
            "{text}"
        );
    }
    let writes = [
        "../outside/secret.txt",
        "../outside/new.py",
        outside_abs.as_str(),
        sibling_new.as_str(),
        "%2e%2e/outside/new.py",
        "%252e%252e/outside/new.py",
        "new.py\0",
        "link_out/secret.txt",
        "link_out/new.py",
        "link_out/deeper/new.py",
        "file_link",
        ".git/config",
        ".git/hooks/pre-commit",
        ".env",
        ".env.local",
        "certs/server.pem",
        "keys/id_rsa",
        ".noctune_cache/studio_allow.json",
        ".noctune_cache/studio/token",
        ".noctune_cache/studio_edits/backups/x/original",
        ".noctune_cache/runs/night-1/state/decisions/ap-1.json",
        ".noctune_cache/overrides/review.md",
        ".",
    ];
    for path in writes {
        for (tool, args) in [
            ("write_file", json!({ "path": path, "content": "pwned\n" })),
            (
                "replace_lines",
                json!({ "path": path, "start": 1, "end": 1, "text": "pwned" }),
            ),
        ] {
            let outcome = ctx.execute(tool, args).await;
            assert_eq!(
                outcome.result["error"], "path_refused",
                "{tool} {path:?}: {}",
                outcome.result
            );
        }
    }
    for query in ["pem", "outside secret", "KEY=1", "t0k3n"] {
        let found = ctx.execute("search", json!({ "query": query })).await;
        assert_eq!(
            found.result["matches"],
            json!([]),
            "search {query}: {}",
            found.result
        );
    }
    let listed = ctx.execute("list_files", json!({"glob": "**/*"})).await;
    assert_eq!(
        listed.result["files"],
        json!(["calc.py", "certs/server.pem", "noctune.toml"]),
        "names only: no symlink followed out, hidden files left out; {}",
        listed.result
    );
    assert_eq!(
        snapshot(&outside),
        before_outside,
        "nothing written outside"
    );
    let mut after_root = snapshot(&root);
    // Only the always-allow file (written before the snapshot) may differ: nothing else.
    after_root.retain(|(p, _)| !p.contains("studio_chat"));
    let mut expected = before_root;
    expected.retain(|(p, _)| !p.contains("studio_chat"));
    assert_eq!(after_root, expected, "nothing written in the root");
    assert!(
        !root.join(".noctune_cache/studio_edits").exists(),
        "no backup taken"
    );
}

#[tokio::test]
async fn allowed_roots_limit_reads_and_writes_to_their_directories() {
    let server = FakeServer::start([]).await;
    let app = app_with_model(&server);
    let root = app.root();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/inside.py"), "x = 1\n").unwrap();
    std::fs::write(
        root.join("noctune.toml"),
        format!(
            "[llm]\nbase_url = \"{}\"\n[studio]\nallowed_roots = [\"src\"]\n",
            server.url()
        ),
    )
    .unwrap();
    let id = new_session(&app).await;
    permissions::grant(
        &root,
        &app.state.chat.sessions,
        &id,
        Permission::Write,
        Grant::Session,
    )
    .unwrap();
    let ctx = context(&app, &id);
    let read = ctx
        .execute("read_file", json!({"path": "src/inside.py"}))
        .await;
    assert_eq!(read.result["path"], "src/inside.py");
    let refused = ctx.execute("read_file", json!({"path": "calc.py"})).await;
    assert_eq!(refused.result["error"], "path_refused");
    let write = ctx
        .execute(
            "write_file",
            json!({"path": "src/pkg/new.py", "content": "y = 2\n"}),
        )
        .await;
    assert_eq!(write.result["path"], "src/pkg/new.py", "{}", write.result);
    assert_eq!(
        std::fs::read_to_string(root.join("src/pkg/new.py")).unwrap(),
        "y = 2\n"
    );
    let outside = ctx
        .execute("write_file", json!({"path": "top.py", "content": ""}))
        .await;
    assert_eq!(outside.result["error"], "path_refused");
    assert!(!root.join("top.py").exists());
}

fn write_call(path: &str, content: &str) -> Reply {
    Reply::answer(format!(
        "<tool_call>{}</tool_call>",
        json!({"name": "write_file", "arguments": {"path": path, "content": content}})
    ))
}

fn tool_result(events: &[(String, Value)]) -> Value {
    let entry = events
        .iter()
        .find(|(n, e)| n == "entry" && e["entry"]["role"] == "tool")
        .expect("a tool result");
    serde_json::from_str(entry.1["entry"]["content"].as_str().unwrap()).unwrap()
}

#[tokio::test]
async fn writes_need_permission_once_session_or_always_and_are_backed_up() {
    let server = FakeServer::start([
        write_call("calc.py", "def add(a, b):\n    return b + a\n"),
        Reply::answer("May I edit calc.py? Please allow writes."),
        write_call("calc.py", "def add(a, b):\n    return b + a\n"),
        Reply::answer("Done."),
        write_call("calc.py", "broken\n"),
        Reply::answer("Not allowed again."),
    ])
    .await;
    let app = app_with_model(&server);
    let root = app.root();
    let original = std::fs::read_to_string(root.join("calc.py")).unwrap();
    let id = new_session(&app).await;

    // Without permission: refused, the page is asked, nothing written.
    let events = say(&app, &id, "swap the operands in add").await;
    assert_eq!(tool_result(&events)["error"], "write_not_allowed");
    let asked: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| n == "permission_needed")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(asked[0]["permission"], "write");
    assert_eq!(asked[0]["tool"], "write_file");
    assert_eq!(
        std::fs::read_to_string(root.join("calc.py")).unwrap(),
        original
    );

    // Allow once: the next write lands, with a backup of the original.
    let (status, body) = app
        .post(
            &format!("/api/chat/sessions/{id}/permissions"),
            json!({"permission": "write", "grant": "once"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let events = say(&app, &id, "allowed once, go on").await;
    let result = tool_result(&events);
    assert_eq!(result["path"], "calc.py", "{result}");
    assert_eq!(
        std::fs::read_to_string(root.join("calc.py")).unwrap(),
        "def add(a, b):\n    return b + a\n"
    );
    let backup_id = result["backup_id"].as_str().unwrap();
    let backup_dir = root
        .join(".noctune_cache/studio_edits/backups")
        .join(backup_id);
    assert_eq!(
        std::fs::read_to_string(backup_dir.join("original")).unwrap(),
        original
    );
    let (_, listed) = app.get("/api/chat/backups").await;
    assert_eq!(listed["backups"][0]["path"], "calc.py");
    assert_eq!(listed["backups"][0]["existed"], true);

    // "Once" was used up.
    let events = say(&app, &id, "again").await;
    assert_eq!(tool_result(&events)["error"], "write_not_allowed");

    // Restore from the backup.
    let (status, body) = app
        .post(&format!("/api/chat/backups/{backup_id}/restore"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        std::fs::read_to_string(root.join("calc.py")).unwrap(),
        original
    );
    let (status, _) = app
        .post("/api/chat/backups/..%2F..%2Fx/restore", json!({}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Writes under .noctune_cache/ need no permission.
    let ctx = context(&app, &id);
    let note = ctx
        .execute(
            "write_file",
            json!({"path": ".noctune_cache/notes.md", "content": "n\n"}),
        )
        .await;
    assert_eq!(
        note.result["path"], ".noctune_cache/notes.md",
        "{}",
        note.result
    );

    // Session: every call of this session; another session still has to ask.
    permissions::grant(
        &root,
        &app.state.chat.sessions,
        &id,
        Permission::Write,
        Grant::Session,
    )
    .unwrap();
    for n in 0..2 {
        let ok = ctx
            .execute(
                "write_file",
                json!({"path": "made.py", "content": format!("n = {n}\n")}),
            )
            .await;
        assert_eq!(ok.result["path"], "made.py", "{}", ok.result);
    }
    let other = new_session(&app).await;
    let refused = context(&app, &other)
        .execute("write_file", json!({"path": "made.py", "content": ""}))
        .await;
    assert_eq!(refused.result["error"], "write_not_allowed");

    // Always: persisted, and a new daemon over the same root still allows it.
    let (status, body) = app
        .post(
            &format!("/api/chat/sessions/{other}/permissions"),
            json!({"permission": "write", "grant": "always"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["always_allowed"], json!({"write": true, "run": false}));
    let stored: Value = serde_json::from_slice(
        &std::fs::read(root.join(".noctune_cache/studio_allow.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(stored, json!({"write": true, "run": false}));
    let restarted = Chat::new(&root);
    let fresh = restarted.sessions.create(None).unwrap();
    assert!(permissions::take(&root, &restarted.sessions, &fresh.id, &Permission::Write).unwrap());
    assert!(!permissions::take(&root, &restarted.sessions, &fresh.id, &Permission::Run).unwrap());

    // A bad grant is refused before anything changes.
    let (status, _) = app
        .post(
            &format!("/api/chat/sessions/{other}/permissions"),
            json!({"permission": "root", "grant": "always"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn replace_lines_edits_a_range_after_a_backup() {
    let server = FakeServer::start([]).await;
    let app = app_with_model(&server);
    let root = app.root();
    let id = new_session(&app).await;
    permissions::grant(
        &root,
        &app.state.chat.sessions,
        &id,
        Permission::Write,
        Grant::Once,
    )
    .unwrap();
    let ctx = context(&app, &id);
    let bad = ctx
        .execute(
            "replace_lines",
            json!({"path": "calc.py", "start": 5, "end": 9, "text": "x"}),
        )
        .await;
    assert_eq!(bad.result["error"], "bad_range");
    let ok = ctx
        .execute("replace_lines", json!({"path": "calc.py", "start": 2, "end": 2, "text": "    \"\"\"Add.\"\"\"\n    return a + b"}))
        .await;
    assert_eq!(ok.result["lines_after"], 3, "{}", ok.result);
    assert_eq!(
        std::fs::read_to_string(root.join("calc.py")).unwrap(),
        "def add(a, b):\n    \"\"\"Add.\"\"\"\n    return a + b\n"
    );
    let again = ctx
        .execute(
            "replace_lines",
            json!({"path": "calc.py", "start": 1, "end": 1, "text": "x"}),
        )
        .await;
    assert_eq!(
        again.result["error"], "write_not_allowed",
        "the once grant was used"
    );
}

#[tokio::test]
async fn run_tools_need_run_permission_and_use_the_run_control() {
    let server = FakeServer::start([]).await;
    let app = app_with_model(&server);
    let root = app.root();
    let id = new_session(&app).await;
    let ctx = context(&app, &id);
    let refused = ctx.execute("start_run", json!({"pack": "lint_fix"})).await;
    assert_eq!(refused.result["error"], "run_not_allowed");
    assert_eq!(refused.needs, Some(Permission::Run));
    assert!(
        !root.join(".noctune_cache/runs").exists(),
        "no run was created"
    );
    let (run_id, approval_id) = app.seed_waiting_run(noctune_core::RunStatus::Running);
    let refused = ctx
        .execute("decide_approval", json!({"run_id": run_id.as_str(), "approval_id": approval_id.as_str(), "decision": "approve"}))
        .await;
    assert_eq!(refused.result["error"], "run_not_allowed");
    // Reads are free.
    let approvals = ctx
        .execute("list_approvals", json!({"run_id": run_id.as_str()}))
        .await;
    assert_eq!(
        approvals.result["approvals"][0]["state"], "pending",
        "{}",
        approvals.result
    );
    let events = ctx
        .execute(
            "run_events",
            json!({"run_id": run_id.as_str(), "cursor": 0}),
        )
        .await;
    assert!(
        events.result["events"].as_array().is_some(),
        "{}",
        events.result
    );

    permissions::grant(
        &root,
        &app.state.chat.sessions,
        &id,
        Permission::Run,
        Grant::Session,
    )
    .unwrap();
    let decided = ctx
        .execute("decide_approval", json!({"run_id": run_id.as_str(), "approval_id": approval_id.as_str(), "decision": "reject", "reason": "not now"}))
        .await;
    assert_eq!(
        decided.result["decision"]["decision"], "reject",
        "{}",
        decided.result
    );
    assert_eq!(
        decided.result["decision"]["decided_by"],
        format!("studio:chat:{id}")
    );
    let started = ctx
        .execute(
            "start_run",
            json!({"pack": "lint_fix", "files": ["calc.py"]}),
        )
        .await;
    let new_run = started.result["run_id"]
        .as_str()
        .expect("a run id")
        .to_owned();
    let events = ctx
        .execute("run_events", json!({"run_id": new_run, "cursor": 0}))
        .await;
    assert_eq!(events.result["run_id"], json!(new_run), "{}", events.result);
    let bad = ctx
        .execute(
            "start_run",
            json!({"pack": "lint_fix", "files": ["../x.py"]}),
        )
        .await;
    assert_eq!(bad.result["error"], "bad_file");
    let rows = app.audit_rows().await;
    let actions: Vec<&str> = rows
        .iter()
        .filter(|r| r.who.starts_with("chat:"))
        .map(|r| r.action.as_str())
        .collect();
    assert_eq!(actions, ["decide", "start_run"]);
}

#[tokio::test]
async fn search_uses_ripgrep_and_the_index_without_it() {
    let server = FakeServer::start([]).await;
    let app = app_with_model(&server);
    let root = app.root();
    std::fs::create_dir_all(root.join("pkg")).unwrap();
    std::fs::write(
        root.join("pkg/util.py"),
        "def helper():\n    return add(1, 2)\n",
    )
    .unwrap();
    let id = new_session(&app).await;
    let ctx = context(&app, &id);
    let found = ctx.execute("search", json!({"query": "add("})).await;
    assert_eq!(found.result["engine"], "ripgrep", "{}", found.result);
    let mut matches: Vec<String> = found.result["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_owned())
        .collect();
    matches.sort();
    assert_eq!(
        matches,
        [
            "calc.py:1:def add(a, b):",
            "pkg/util.py:2:    return add(1, 2)"
        ]
    );
    let globbed = ctx
        .execute("search", json!({"query": "add(", "glob": "pkg/*.py"}))
        .await;
    assert_eq!(
        globbed.result["matches"],
        json!(["pkg/util.py:2:    return add(1, 2)"])
    );
    let empty = ctx.execute("search", json!({"query": "  "})).await;
    assert_eq!(empty.result["error"], "bad_arguments");

    // Without ripgrep: the symbol index's full-text search.
    let without = ToolContext {
        rg: app.dir.path().join("no-such-rg").into_os_string(),
        ..ctx
    };
    let indexed = without.execute("search", json!({"query": "helper"})).await;
    assert_eq!(indexed.result["engine"], "index", "{}", indexed.result);
    assert_eq!(
        indexed.result["matches"],
        json!(["pkg/util.py:1: def helper():"])
    );
}

#[tokio::test]
async fn chat_streams_share_the_cap_on_live_streams_and_a_session_answers_one_at_a_time() {
    use noctune_llm::fake::{Part, chunk, sse_event};
    let stalled = || {
        Reply::stream(vec![
            Part::Bytes(sse_event(
                &chunk(json!({"role": "assistant", "content": "slow"}), None).to_string(),
            )),
            Part::Pause(std::time::Duration::from_secs(30)),
        ])
    };
    let server = FakeServer::start([stalled(), stalled()]).await;
    let app = TestApp::with_worker("exit 0", 2);
    std::fs::write(
        app.root().join("noctune.toml"),
        format!("[llm]\nbase_url = \"{}\"\nmax_retries = 0\n", server.url()),
    )
    .unwrap();
    let sessions = [
        new_session(&app).await,
        new_session(&app).await,
        new_session(&app).await,
    ];
    let open = |id: &str| {
        app.app.clone().oneshot(
            crate::common::authed(axum::http::Request::post(format!(
                "/api/chat/sessions/{id}/messages"
            )))
            .header("content-type", "application/json")
            .body(axum::body::Body::from(json!({"content": "hi"}).to_string()))
            .unwrap(),
        )
    };
    let first = open(&sessions[0]).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let (status, body) = app
        .post(
            &format!("/api/chat/sessions/{}/messages", sessions[0]),
            json!({"content": "again"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("busy"))
    );
    let second = open(&sessions[1]).await.unwrap();
    assert_eq!(second.status(), StatusCode::OK);
    let (status, body) = app
        .post(
            &format!("/api/chat/sessions/{}/messages", sessions[2]),
            json!({"content": "hi"}),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable"))
    );
    for id in &sessions[..2] {
        let (status, _) = app
            .post(&format!("/api/chat/sessions/{id}/stop"), json!({}))
            .await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    drop((first, second));
}
