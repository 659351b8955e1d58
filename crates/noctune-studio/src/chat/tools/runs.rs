//! The run tools: `start_run`, `stop_run`, `decide_approval` (need `run`), `run_events` and
//! `list_approvals` (free). They call the same [`Control`](crate::control::Control)
//! operations as the HTTP API and the MCP server, and audit each state change
//! (`who = chat:<session>`).

use noctune_core::approval::DecisionKind;
use noctune_core::{ApprovalId, RunId};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ToolContext, ToolOutcome, args};
use crate::chat::permissions::Permission;
use crate::control::StartRequest;
use crate::error::ApiError;

/// Arguments of `start_run`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct StartArgs {
    /// The policy pack: `lint_fix`, `typing_pass`, `py_upgrade`, `deps_bump` or one the
    /// configuration defines.
    pub pack: String,
    /// Repository-relative `.py` files; all files when absent.
    #[serde(default)]
    pub files: Option<Vec<String>>,
}

/// Arguments naming a run.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct RunArgs {
    /// The run's id.
    pub run_id: String,
}

/// Arguments of `run_events`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct EventsArgs {
    /// The run's id.
    pub run_id: String,
    /// Events after this `idx` (0 for the first).
    #[serde(default)]
    pub cursor: u64,
}

/// Arguments of `decide_approval`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct DecideArgs {
    /// The run's id.
    pub run_id: String,
    /// The approval's id (from `list_approvals`).
    pub approval_id: String,
    /// `approve` or `reject`.
    pub decision: String,
    /// Why (required to reject).
    #[serde(default)]
    pub reason: Option<String>,
}

fn api_error(err: &ApiError) -> ToolOutcome {
    ToolOutcome::error(err.code(), err.to_string())
}

fn run_id(text: &str) -> Result<RunId, ToolOutcome> {
    RunId::new(text.trim())
        .map_err(|_| ToolOutcome::error("bad_run_id", format!("`{text}` is not a run id")))
}

pub(super) async fn start(ctx: &ToolContext, arguments: Value) -> Result<ToolOutcome, ToolOutcome> {
    let args: StartArgs = args("start_run", arguments)?;
    ctx.permit(Permission::Run, "start_run")?;
    let pack = args.pack.trim().to_owned();
    let run_id = ctx
        .control
        .start_run(StartRequest {
            pack: args.pack,
            files: args.files,
            profile: None,
        })
        .await
        .map_err(|err| api_error(&err))?;
    ctx.audit("start_run", format!("run {run_id} pack {pack}"))
        .await;
    Ok(ToolOutcome::ok(
        json!({"run_id": run_id, "status": "queued"}),
    ))
}

pub(super) async fn stop(ctx: &ToolContext, arguments: Value) -> Result<ToolOutcome, ToolOutcome> {
    let args: RunArgs = args("stop_run", arguments)?;
    let run_id = run_id(&args.run_id)?;
    ctx.permit(Permission::Run, "stop_run")?;
    ctx.control
        .stop_run(&run_id)
        .await
        .map_err(|err| api_error(&err))?;
    ctx.audit("stop_run", format!("run {run_id}")).await;
    Ok(ToolOutcome::ok(
        json!({"run_id": run_id, "status": "stopping"}),
    ))
}

pub(super) async fn events(
    ctx: &ToolContext,
    arguments: Value,
) -> Result<ToolOutcome, ToolOutcome> {
    let args: EventsArgs = args("run_events", arguments)?;
    let run_id = run_id(&args.run_id)?;
    let page = ctx
        .control
        .events(&run_id, args.cursor, 50)
        .await
        .map_err(|err| api_error(&err))?;
    let run = ctx
        .control
        .run(&run_id)
        .await
        .map_err(|err| api_error(&err))?;
    Ok(ToolOutcome::ok(json!({
        "run_id": run_id,
        "status": run.status,
        "events": page.events,
        "next_cursor": page.next_cursor,
    })))
}

pub(super) async fn approvals(
    ctx: &ToolContext,
    arguments: Value,
) -> Result<ToolOutcome, ToolOutcome> {
    let args: RunArgs = args("list_approvals", arguments)?;
    let run_id = run_id(&args.run_id)?;
    let approvals = ctx
        .control
        .approvals(&run_id)
        .await
        .map_err(|err| api_error(&err))?;
    let shown: Vec<Value> = approvals
        .iter()
        .map(|view| {
            let a = &view.stored.approval;
            json!({
                "approval_id": a.approval_id,
                "file": a.file,
                "symbols": a.symbols,
                "risk": a.risk,
                "reason": a.reason,
                "state": view.state,
                "diff": view.stored.diff.chars().take(4000).collect::<String>(),
            })
        })
        .collect();
    Ok(ToolOutcome::ok(
        json!({"run_id": run_id, "approvals": shown}),
    ))
}

pub(super) async fn decide(
    ctx: &ToolContext,
    arguments: Value,
) -> Result<ToolOutcome, ToolOutcome> {
    let args: DecideArgs = args("decide_approval", arguments)?;
    let run_id = run_id(&args.run_id)?;
    let approval_id = ApprovalId::new(args.approval_id.trim()).map_err(|_| {
        ToolOutcome::error(
            "bad_approval_id",
            format!("`{}` is not an approval id", args.approval_id),
        )
    })?;
    let decision = match args.decision.trim() {
        "approve" => DecisionKind::Approve,
        "reject" => DecisionKind::Reject,
        other => {
            return Err(ToolOutcome::error(
                "bad_decision",
                format!("`decision` is `approve` or `reject`, not `{other}`"),
            ));
        }
    };
    ctx.permit(Permission::Run, "decide_approval")?;
    let decided = ctx
        .control
        .decide(
            &run_id,
            &approval_id,
            decision,
            args.reason,
            format!("studio:chat:{}", ctx.session_id),
        )
        .await
        .map_err(|err| api_error(&err))?;
    ctx.audit(
        "decide",
        format!("run {run_id} approval {approval_id} {decision:?}"),
    )
    .await;
    Ok(ToolOutcome::ok(json!({
        "decision": decided.decision,
        "resumed": decided.resumed,
    })))
}
