//! `noctune studio mcp`: a stdio MCP server (rmcp) over the same run operations as the
//! daemon ([`crate::control`]): start a run (a `noctune run --run-id ID` worker) or a task
//! from a request (a `noctune task --run-id ID` worker), read its status, tail its events, list and decide its approvals, stop it, list runs, read a report.
//!
//! Stdout carries protocol messages and nothing else: logs go to stderr through `tracing`.
//! Decisions are audited like the daemon's, `decided_by = "mcp:<client name>"`. Workers
//! outlive the session that started them (an overnight run must not end because the agent's
//! client restarted); a later session reads their runs from the store and can stop them
//! through the run lock's pid.
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod summary;
mod tools;
pub mod types;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use noctune_core::RunId;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolRequestParams, CallToolResponse, ContentBlock};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt, tool_handler};

pub use crate::sandbox::resolve_repo_root;

use crate::control::Control;
use crate::error::{Error, Result};
use crate::worker::{WorkerCommand, reconcile};

/// What the MCP server serves.
#[derive(Debug, Clone)]
pub struct McpOptions {
    /// The served root: every `repo_root` must be inside it.
    pub root: PathBuf,
    /// How workers are started (the server's own executable by default).
    pub worker: WorkerCommand,
    /// How long a worker gets at each step of a stop.
    pub stop_timeout: Duration,
}

impl McpOptions {
    /// The current executable as worker, a 10 s stop timeout.
    pub fn new(root: &Path) -> Result<Self> {
        Ok(Self {
            root: root.to_path_buf(),
            worker: WorkerCommand::current_exe()
                .map_err(|err| Error::io("find the current executable", "noctune", err))?,
            stop_timeout: Duration::from_secs(10),
        })
    }
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    worker: WorkerCommand,
    stop_timeout: Duration,
    /// The served root's first, then each repository enqueued on, in order.
    repos: Mutex<Vec<Control>>,
}

/// The MCP server: cheap to clone (one per session shares the repositories' workers).
#[derive(Debug, Clone)]
pub struct NoctuneMcp {
    inner: Arc<Inner>,
    tool_router: ToolRouter<Self>,
}

impl NoctuneMcp {
    /// Canonicalises the served root, opens its audit database and settles runs whose worker
    /// died while nobody watched.
    pub async fn new(options: McpOptions) -> Result<Self> {
        let root = options
            .root
            .canonicalize()
            .map_err(|err| Error::io("resolve", &options.root, err))?;
        let server = Self {
            inner: Arc::new(Inner {
                root,
                worker: options.worker,
                stop_timeout: options.stop_timeout,
                repos: Mutex::new(Vec::new()),
            }),
            tool_router: Self::tool_router(),
        };
        let root = server.inner.root.clone();
        server.control_for(&root).await?;
        Ok(server)
    }

    /// The served root (canonical).
    pub fn root(&self) -> &Path {
        &self.inner.root
    }

    fn repos(&self) -> Vec<Control> {
        self.inner
            .repos
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The run operations of a repository (canonical, inside the root), opened on first use.
    async fn control_for(&self, repo: &Path) -> Result<Control> {
        if let Some(control) = self.repos().into_iter().find(|c| c.root.as_path() == repo) {
            return Ok(control);
        }
        let control = Control::open(repo, self.inner.worker.clone(), self.inner.stop_timeout)?;
        let store = control.store.clone();
        let settled = tokio::task::spawn_blocking(move || reconcile(&store))
            .await
            .map_err(|err| Error::Refused(format!("reconcile failed: {err}")))??;
        for run_id in settled {
            tracing::warn!(run_id = %run_id, "marked failed: its worker died");
        }
        let mut repos = self
            .inner
            .repos
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(existing) = repos.iter().find(|c| c.root.as_path() == repo) {
            return Ok(existing.clone());
        }
        repos.push(control.clone());
        Ok(control)
    }

    /// The repository that has the run; the message names the argument.
    fn find_run(&self, run_id: &str) -> Result<(Control, RunId), String> {
        let id = RunId::new(run_id.trim())
            .map_err(|_| format!("bad argument `run_id`: `{run_id}` is not a run id"))?;
        self.repos()
            .into_iter()
            .find(|c| c.store.read(&id).is_ok())
            .map(|c| (c, id.clone()))
            .ok_or_else(|| {
                format!(
                    "unknown `run_id`: no run `{run_id}` under `{}`",
                    self.inner.root.display()
                )
            })
    }

    /// Stops every worker this server started (at a safe point, with escalation) and waits
    /// for them (for embedders and tests; a session's end leaves them running).
    pub async fn shutdown(&self) {
        for control in self.repos() {
            control.supervisor.shutdown().await;
        }
    }
}

#[tool_handler(router = self.tool_router, name = "noctune")]
impl ServerHandler for NoctuneMcp {
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> std::result::Result<CallToolResponse, ErrorData> {
        let tool = request.name.clone();
        let context = rmcp::handler::server::tool::ToolCallContext::new(self, request, context);
        let mut response = self.tool_router.call(context).await?;
        // Structured content plus its JSON as text (what the spec asks); a short line for
        // people goes first.
        if let CallToolResponse::Complete(result) = &mut response
            && result.is_error != Some(true)
            && let Some(value) = &result.structured_content
            && let Some(line) = summary::summarize(&tool, value)
        {
            result.content.insert(0, ContentBlock::text(line));
        }
        Ok(response)
    }
}

/// Serves one MCP session over `transport` until the client goes away. Workers it started
/// keep running.
pub async fn serve<T, E, A>(server: NoctuneMcp, transport: T) -> Result<()>
where
    T: rmcp::transport::IntoTransport<RoleServer, E, A>,
    E: std::error::Error + Send + Sync + 'static,
{
    let running = server
        .clone()
        .serve(transport)
        .await
        .map_err(|err| Error::Refused(format!("the MCP session did not start: {err}")))?;
    let quit = running.waiting().await;
    tracing::info!("MCP session ended: {quit:?}");
    Ok(())
}

/// `noctune studio mcp`: serves MCP on stdin/stdout.
pub async fn serve_stdio(options: McpOptions) -> Result<()> {
    let server = NoctuneMcp::new(options).await?;
    tracing::info!(root = %server.root().display(), "Noctune MCP server on stdio");
    serve(server, rmcp::transport::stdio()).await
}
