//! A test app over a temp repository, and request helpers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use noctune_core::approval::Approval;
use noctune_core::approver::SymbolChange;
use noctune_core::store::{RunSpec, RunStore};
use noctune_core::{ApprovalId, RunId, RunStatus, TaskId, TaskState, TaskStatus};
use noctune_studio::{AppState, StateOptions, WorkerCommand, build_app};
use tower::ServiceExt;

pub const TOKEN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
pub const PORT: u16 = 7331;
pub const HOST: &str = "127.0.0.1:7331";
pub const ORIGIN: &str = "http://127.0.0.1:7331";

pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub state: AppState,
    pub app: Router,
}

pub fn worker_script(dir: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("fake-worker.sh");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

impl TestApp {
    pub fn new() -> Self {
        Self::with_worker("exit 0", 4)
    }

    pub fn with_worker(script: &str, max_tails: usize) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let tools = dir.path().join("tools");
        std::fs::create_dir_all(&tools).unwrap();
        let program = worker_script(&tools, script);
        let root = dir.path().join("repo");
        std::fs::create_dir_all(&root).unwrap();
        let state = AppState::new(StateOptions {
            root: root.clone(),
            host: "127.0.0.1".parse().unwrap(),
            port: PORT,
            token: TOKEN.to_owned(),
            worker: WorkerCommand {
                program,
                env: Vec::new(),
            },
            stop_timeout: Duration::from_millis(500),
            max_tails,
        })
        .unwrap();
        let app = build_app(state.clone());
        Self { dir, state, app }
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    pub fn store(&self) -> RunStore {
        RunStore::new(&self.root())
    }

    pub async fn send(&self, request: Request<Body>) -> (StatusCode, serde_json::Value) {
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, json)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, serde_json::Value) {
        self.send(authed(Request::get(path)).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> (StatusCode, serde_json::Value) {
        self.send(
            authed(Request::post(path))
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    pub async fn audit_rows(&self) -> Vec<noctune_studio::audit::AuditRow> {
        let path = self.state.db.path().to_path_buf();
        self.state
            .db
            .call(move |conn| {
                noctune_studio::audit::query::audit_rows(conn)
                    .map_err(noctune_studio::audit::Db::error(&path))
            })
            .await
            .unwrap()
    }

    /// A run with one file waiting on one approval; returns (run id, approval id).
    pub fn seed_waiting_run(&self, status: RunStatus) -> (RunId, ApprovalId) {
        let root = self.root();
        std::fs::write(root.join("a.py"), "def f():\n    return 1\n").unwrap();
        let store = self.store();
        let mut run = store
            .create(RunSpec {
                run_id: Some(RunId::new("night-1").unwrap()),
                pack: Some("lint_fix".into()),
                command: Some("run".into()),
                ..RunSpec::default()
            })
            .unwrap();
        run.set_status(RunStatus::Running, None).unwrap();
        let task_id = TaskId::for_path(Path::new("a.py"));
        let approval_id = ApprovalId::new("ap-1").unwrap();
        let approval = Approval {
            approval_id: approval_id.clone(),
            run_id: run.id().clone(),
            task_id: task_id.clone(),
            file: PathBuf::from("a.py"),
            symbols: vec!["f".into()],
            risk: 0.7,
            reason: "removes a call".into(),
            changes: vec![SymbolChange {
                symbol: "f".into(),
                before: Some("def f():\n    return 1\n".into()),
                after: Some("def f():\n    return 2\n".into()),
            }],
            signals: Vec::new(),
            created_at: jiff::Timestamp::now(),
            content_hash: None,
            pass: None,
            base_hash: None,
            auto_approve: None,
        };
        run.queue_approval(&approval).unwrap();
        let mut task = TaskState::new(PathBuf::from("a.py"));
        task.status = TaskStatus::WaitingApproval;
        task.approval_id = Some(approval_id.clone());
        task.read_hash = Some(noctune_core::ids::content_hash(
            &std::fs::read(root.join("a.py")).unwrap(),
        ));
        run.write_task(&task).unwrap();
        if status != RunStatus::Running {
            run.set_status(status, None).unwrap();
        }
        let id = run.id().clone();
        drop(run);
        (id, approval_id)
    }
}

pub fn authed(builder: axum::http::request::Builder) -> axum::http::request::Builder {
    builder
        .header("host", HOST)
        .header("authorization", format!("Bearer {TOKEN}"))
}
