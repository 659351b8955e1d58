//! `noctune approvals [list|approve|reject]`: the human approval queue.

use std::io::Write;

use anyhow::bail;
use noctune_core::store::{ApprovalEntry, RunStore};
use noctune_core::task::{TaskState, TaskStatus};
use noctune_core::{ApprovalId, DecisionKind, RunId, SymbolChange};
use owo_colors::OwoColorize;

use super::status::pick_run;
use crate::args::{ApprovalAction, ApprovalsArgs, DecideArgs, GlobalArgs, OutputFormat};
use crate::exit::ExitStatus;
use crate::printer::print_json;

/// Lists or decides approvals.
pub fn run(global: &GlobalArgs, args: &ApprovalsArgs) -> anyhow::Result<ExitStatus> {
    let store = RunStore::new(&global.root);
    match &args.action {
        None | Some(ApprovalAction::List) => list(global, &store, args.run_id.as_deref()),
        Some(ApprovalAction::Approve(decide)) => record(
            global,
            &store,
            args.run_id.as_deref(),
            decide,
            DecisionKind::Approve,
        ),
        Some(ApprovalAction::Reject(decide)) => record(
            global,
            &store,
            args.run_id.as_deref(),
            decide,
            DecisionKind::Reject,
        ),
    }
}

fn list(global: &GlobalArgs, store: &RunStore, run_id: Option<&str>) -> anyhow::Result<ExitStatus> {
    let run = pick_run(store, run_id)?;
    let entries = store.approvals(&run.run_id)?;
    let tasks = store.tasks(&run.run_id)?;
    let state_word = |entry: &ApprovalEntry| state_word(entry, &tasks);
    match global.output_format {
        OutputFormat::Json => {
            let items: Vec<_> = entries
                .iter()
                .map(|e| {
                    let diff: String = e
                        .approval
                        .changes
                        .iter()
                        .map(SymbolChange::unified_diff)
                        .collect();
                    serde_json::json!({
                        "approval": e.approval,
                        "decision": e.decision,
                        "state": state_word(e),
                        "diff": diff,
                    })
                })
                .collect();
            print_json(&serde_json::json!({ "run_id": run.run_id, "approvals": items }))?;
        }
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            if entries.is_empty() {
                writeln!(out, "no approvals in run {}", run.run_id)?;
            }
            for entry in &entries {
                let a = &entry.approval;
                let state = match &entry.decision {
                    None => state_word(entry).yellow().to_string(),
                    Some(d) => format!(
                        "{} by {}{}",
                        state_word(entry),
                        d.decided_by,
                        d.reason
                            .as_ref()
                            .map(|r| format!(": {r}"))
                            .unwrap_or_default()
                    ),
                };
                writeln!(
                    out,
                    "{}  {}  {}  risk {:.2}  [{state}]",
                    a.approval_id.as_str().bold(),
                    a.file.display(),
                    a.symbols.join(", "),
                    a.risk,
                )?;
                writeln!(out, "    {}", a.reason)?;
                if let Some(why) = &a.auto_approve
                    && state_word(entry) == "queued"
                {
                    writeln!(
                        out,
                        "    the pack would auto-approve it ({why}): `noctune apply` applies it unless you reject it"
                    )?;
                }
                for change in &a.changes {
                    for line in change.unified_diff().lines() {
                        let line = if line.starts_with('+') && !line.starts_with("+++") {
                            line.green().to_string()
                        } else if line.starts_with('-') && !line.starts_with("---") {
                            line.red().to_string()
                        } else {
                            line.to_owned()
                        };
                        writeln!(out, "    {line}")?;
                    }
                }
            }
        }
    }
    Ok(ExitStatus::Success)
}

/// `queued` (a human decides), `approved`, `rejected`, or for an undecided change its task no
/// longer waits on: `applied` (`noctune apply` applied it as the pack allowed), `restored`, or
/// `closed` (a later pass superseded it).
fn state_word(entry: &ApprovalEntry, tasks: &[TaskState]) -> &'static str {
    match entry.decision.as_ref().map(|d| d.decision) {
        Some(DecisionKind::Approve) => "approved",
        Some(DecisionKind::Reject) => "rejected",
        None => {
            let task = tasks
                .iter()
                .find(|t| t.approval_id.as_ref() == Some(&entry.approval.approval_id));
            match task.map(|t| t.status) {
                Some(TaskStatus::Queued | TaskStatus::WaitingApproval) => "queued",
                Some(TaskStatus::Done) => "applied",
                Some(TaskStatus::Restored) => "restored",
                _ => "closed",
            }
        }
    }
}

fn record(
    global: &GlobalArgs,
    store: &RunStore,
    run_id: Option<&str>,
    args: &DecideArgs,
    kind: DecisionKind,
) -> anyhow::Result<ExitStatus> {
    let approval_id = ApprovalId::new(args.approval_id.as_str())?;
    let run_id = match run_id {
        Some(id) => RunId::new(id)?,
        None => match store.find_approval(&approval_id)? {
            Some(id) => id,
            None => bail!("no run has an approval `{approval_id}`"),
        },
    };
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
    let decision = store.decide(
        &run_id,
        &approval_id,
        kind,
        &format!("cli:{user}"),
        args.reason.clone(),
    )?;
    match global.output_format {
        OutputFormat::Json => print_json(&serde_json::to_value(&decision)?)?,
        OutputFormat::Text => {
            // A run that applies resumes to apply; a run that does not is applied by `apply`.
            let entry = store.approval(&run_id, &approval_id)?;
            let queued_only = store
                .tasks(&run_id)?
                .iter()
                .any(|t| t.task_id == entry.approval.task_id && t.status == TaskStatus::Queued);
            let next = match kind {
                DecisionKind::Reject => "it will not be applied".to_owned(),
                DecisionKind::Approve if queued_only => {
                    format!("apply it with `noctune apply --run-id {run_id}`")
                }
                DecisionKind::Approve => {
                    format!("resume with `noctune run --run-id {run_id}` to apply it")
                }
            };
            let mut out = anstream::stdout().lock();
            writeln!(
                out,
                "{} {approval_id} in run {run_id}; {next}",
                match kind {
                    DecisionKind::Approve => "approved".green().to_string(),
                    DecisionKind::Reject => "rejected".red().to_string(),
                }
            )?;
        }
    }
    Ok(ExitStatus::Success)
}
