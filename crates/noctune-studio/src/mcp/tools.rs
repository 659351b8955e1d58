//! The tools. Each checks its arguments (errors name the argument), finds the run's
//! repository, and calls the same [`crate::control::Control`] operation the HTTP API calls.
//! Tool errors are `Err(String)`: the client sees a result with `isError: true`.

use noctune_core::ApprovalId;
use rmcp::handler::server::wrapper::{Json, Parameters};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};

use super::NoctuneMcp;
use super::types::{
    ApprovalList, DecideApprovalArgs, DecisionMade, EnqueueRunArgs, EnqueueTaskArgs, EnqueuedRun,
    EventsPage, Report, RunArgs, RunList, StopRequested, TailEventsArgs,
};
use crate::audit::AuditRow;
use crate::control::{Control, RunView, StartRequest, TaskStartRequest};
use crate::error::ApiError;
use crate::sandbox::resolve_repo_root;

/// A tool error's text: the argument it is about, when it is about one, and the message.
fn failed(err: ApiError) -> String {
    match &err {
        ApiError::BadRequest { code, message } => match *code {
            "bad_file" => format!("bad argument `files`: {message}"),
            "bad_pack" => format!("bad argument `pack`: {message}"),
            "bad_path" => format!("bad argument `paths`: {message}"),
            "bad_request_text" => format!("bad argument `request`: {message}"),
            "unsupported" => format!("bad argument `profile`: {message}"),
            "reason_required" => format!("bad argument `reason`: {message}"),
            _ => format!("{code}: {message}"),
        },
        ApiError::NotFound(message) => format!("not found: {message}"),
        other => format!("{}: {other}", other.code()),
    }
}

/// Who is calling, for `decided_by` and the audit: `mcp:<client name>`.
fn caller(context: &RequestContext<RoleServer>) -> String {
    let name = context
        .client_info()
        .map(|info| info.name)
        .filter(|name| !name.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    format!("mcp:{name}")
}

/// Marks `failed` the runs whose worker died while no process of ours watched it (its lock is
/// free, its status still running): what the daemon's ingest loop does every two seconds.
async fn settle(control: &Control) {
    control.supervisor.settle_others().await;
}

async fn audit(control: &Control, who: &str, tool: &str, detail: String) {
    control
        .audit(AuditRow {
            at: jiff::Timestamp::now().to_string(),
            who: who.to_owned(),
            action: match tool {
                "enqueue_run" => "start_run",
                "enqueue_task" => "start_task",
                "decide_approval" => "decide",
                other => other,
            }
            .to_owned(),
            method: "tools/call".to_owned(),
            path: tool.to_owned(),
            origin: None,
            status: 200,
            detail: Some(detail),
        })
        .await;
}

impl NoctuneMcp {
    /// The repository `repo_root` names (inside the served root) and its run control.
    async fn repo_control(&self, repo_root: &str) -> Result<(std::path::PathBuf, Control), String> {
        let repo = resolve_repo_root(self.root(), repo_root)?;
        let control = self
            .control_for(&repo)
            .await
            .map_err(|err| format!("cannot open `{}`: {err}", repo.display()))?;
        Ok((repo, control))
    }
}

#[tool_router(router = tool_router, vis = "pub(super)")]
impl NoctuneMcp {
    /// Start a run of a policy pack on a repository inside the served root. The run's worker
    /// (`noctune run --run-id ID`) starts at once; follow it with `get_status` and
    /// `tail_events`. Risky changes wait in `list_approvals`.
    #[tool(name = "enqueue_run")]
    async fn enqueue_run(
        &self,
        Parameters(args): Parameters<EnqueueRunArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<EnqueuedRun>, String> {
        let (repo, control) = self.repo_control(&args.repo_root).await?;
        let run_id = control
            .start_run(StartRequest {
                pack: args.pack.clone(),
                files: args.files,
                profile: args.profile,
            })
            .await
            .map_err(failed)?;
        audit(
            &control,
            &caller(&context),
            "enqueue_run",
            format!("run {run_id} pack {}", args.pack.trim()),
        )
        .await;
        Ok(Json(EnqueuedRun {
            run_id: run_id.as_str().to_owned(),
            status: "queued".to_owned(),
            repo_root: repo.display().to_string(),
        }))
    }

    /// Start a task: a request ("add a function fib(n) with a test") planned, tested first
    /// where the plan asks, written and verified on a copy of a repository inside the served
    /// root, then applied (or queued for approval) by the pack. A task is a run: its worker
    /// (`noctune task --run-id ID --yes`) starts at once; follow it with `get_status` and
    /// `tail_events`; its outcome is in `get_report`.
    #[tool(name = "enqueue_task")]
    async fn enqueue_task(
        &self,
        Parameters(args): Parameters<EnqueueTaskArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<EnqueuedRun>, String> {
        let (repo, control) = self.repo_control(&args.repo_root).await?;
        let (run_id, pack) = control
            .start_task(TaskStartRequest {
                request: args.request,
                pack: args.pack,
                paths: args.paths,
            })
            .await
            .map_err(failed)?;
        audit(
            &control,
            &caller(&context),
            "enqueue_task",
            format!("task {run_id} pack {pack}"),
        )
        .await;
        Ok(Json(EnqueuedRun {
            run_id: run_id.as_str().to_owned(),
            status: "queued".to_owned(),
            repo_root: repo.display().to_string(),
        }))
    }

    /// A run's status (`queued`, `starting`, `running`, `stopping`, `completed`, `failed`,
    /// `stopped`), its record, task states, pending approvals and worker.
    #[tool(name = "get_status")]
    async fn get_status(
        &self,
        Parameters(args): Parameters<RunArgs>,
    ) -> Result<Json<RunView>, String> {
        let (control, run_id) = self.find_run(&args.run_id)?;
        settle(&control).await;
        control.run(&run_id).await.map(Json).map_err(failed)
    }

    /// A run's events after a cursor (0 for the start), oldest first, with the cursor for the
    /// next call and whether the run is over.
    #[tool(name = "tail_events")]
    async fn tail_events(
        &self,
        Parameters(args): Parameters<TailEventsArgs>,
    ) -> Result<Json<EventsPage>, String> {
        let (control, run_id) = self.find_run(&args.run_id)?;
        settle(&control).await;
        let limit = args.limit.unwrap_or(200).clamp(1, 1000);
        let page = control
            .events(&run_id, args.cursor, limit)
            .await
            .map_err(failed)?;
        let run = control.run(&run_id).await.map_err(failed)?;
        let done = run.worker.is_none() && run.stored.run.status.is_final();
        Ok(Json(EventsPage {
            events: page.events,
            next_cursor: page.next_cursor,
            status: run.status,
            done,
        }))
    }

    /// A run's approvals (queued changes) with their state (`pending`, `approved`,
    /// `rejected`, `stale`), risk, reason, decision and unified diff.
    #[tool(name = "list_approvals")]
    async fn list_approvals(
        &self,
        Parameters(args): Parameters<RunArgs>,
    ) -> Result<Json<ApprovalList>, String> {
        let (control, run_id) = self.find_run(&args.run_id)?;
        let approvals = control.approvals(&run_id).await.map_err(failed)?;
        Ok(Json(ApprovalList {
            run_id: run_id.as_str().to_owned(),
            approvals,
        }))
    }

    /// Approve or reject a pending approval (a rejection needs a reason). The decision is
    /// recorded as `mcp:<client name>` and audited; when no worker drives the run, one starts
    /// to apply (or drop) the change.
    #[tool(name = "decide_approval")]
    async fn decide_approval(
        &self,
        Parameters(args): Parameters<DecideApprovalArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<DecisionMade>, String> {
        let (control, run_id) = self.find_run(&args.run_id)?;
        let approval_id = ApprovalId::new(args.approval_id.trim()).map_err(|_| {
            format!(
                "bad argument `approval_id`: `{}` is not an approval id",
                args.approval_id
            )
        })?;
        let who = caller(&context);
        let decided = control
            .decide(
                &run_id,
                &approval_id,
                args.decision,
                args.reason,
                who.clone(),
            )
            .await
            .map_err(failed)?;
        audit(
            &control,
            &who,
            "decide_approval",
            format!(
                "run {run_id} approval {approval_id}: {:?}",
                decided.decision.decision
            ),
        )
        .await;
        Ok(Json(DecisionMade {
            decision: decided.decision,
            resumed: decided.resumed,
        }))
    }

    /// Ask a run's worker to stop at its next safe point (the run is resumable). The status
    /// is `stopping`, then `stopped`.
    #[tool(name = "stop_run")]
    async fn stop_run(
        &self,
        Parameters(args): Parameters<RunArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<StopRequested>, String> {
        let (control, run_id) = self.find_run(&args.run_id)?;
        match control.stop_run(&run_id).await {
            Ok(()) => {}
            // A worker of an earlier session (or a `noctune run`) drives it: signal it.
            Err(ApiError::Conflict {
                code: "no_worker", ..
            }) => {
                control
                    .supervisor
                    .stop_external(&run_id, "mcp")
                    .map_err(failed)?;
            }
            Err(err) => return Err(failed(err)),
        }
        audit(
            &control,
            &caller(&context),
            "stop_run",
            format!("run {run_id}"),
        )
        .await;
        Ok(Json(StopRequested {
            run_id: run_id.as_str().to_owned(),
            status: "stopping".to_owned(),
        }))
    }

    /// Every run of the served root (and of repositories enqueued on in this session), newest
    /// first.
    #[tool(name = "list_runs")]
    async fn list_runs(&self) -> Result<Json<RunList>, String> {
        let mut runs = Vec::new();
        for control in self.repos() {
            settle(&control).await;
            runs.extend(control.runs().await.map_err(failed)?);
        }
        Ok(Json(RunList { runs }))
    }

    /// A run's morning report: what was applied, queued, rejected and failed, as markdown
    /// and as data.
    #[tool(name = "get_report")]
    async fn get_report(
        &self,
        Parameters(args): Parameters<RunArgs>,
    ) -> Result<Json<Report>, String> {
        let (control, run_id) = self.find_run(&args.run_id)?;
        let (report, markdown) = control.report(&run_id).await.map_err(failed)?;
        let report = serde_json::to_value(&report)
            .map_err(|err| format!("internal: cannot encode the report: {err}"))?;
        Ok(Json(Report {
            run_id: run_id.as_str().to_owned(),
            markdown,
            report,
        }))
    }
}
