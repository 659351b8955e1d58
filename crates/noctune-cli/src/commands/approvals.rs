//! `noctune approvals [list|approve|reject]`: the human approval queue.

use std::io::Write;

use anyhow::bail;
use noctune_core::store::RunStore;
use noctune_core::{ApprovalId, DecisionKind, RunId};
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
    match global.output_format {
        OutputFormat::Json => {
            let items: Vec<_> = entries
                .iter()
                .map(|e| serde_json::json!({ "approval": e.approval, "decision": e.decision }))
                .collect();
            print_json(&serde_json::json!({ "run_id": run.run_id, "approvals": items }))?;
        }
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            if entries.is_empty() {
                writeln!(out, "no approvals in run {}", run.run_id)?;
            }
            for entry in entries {
                let a = &entry.approval;
                let state = match &entry.decision {
                    None => "pending".yellow().to_string(),
                    Some(d) => format!("{:?} by {}", d.decision, d.decided_by).to_lowercase(),
                };
                writeln!(
                    out,
                    "{}  {}  {}  risk {:.2}  [{state}]\n    {}",
                    a.approval_id.as_str().bold(),
                    a.file.display(),
                    a.symbols.join(", "),
                    a.risk,
                    a.reason
                )?;
                for change in &a.changes {
                    writeln!(out, "    --- {} BEFORE", change.symbol)?;
                    for line in change.before.as_deref().unwrap_or("(new)").lines() {
                        writeln!(out, "    {}", line.red())?;
                    }
                    writeln!(out, "    +++ {} AFTER", change.symbol)?;
                    for line in change.after.as_deref().unwrap_or("(removed)").lines() {
                        writeln!(out, "    {}", line.green())?;
                    }
                }
            }
        }
    }
    Ok(ExitStatus::Success)
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
            let mut out = anstream::stdout().lock();
            writeln!(
                out,
                "{} {approval_id} in run {run_id}; resume with `noctune run --run-id {run_id}`",
                match kind {
                    DecisionKind::Approve => "approved".green().to_string(),
                    DecisionKind::Reject => "rejected".red().to_string(),
                }
            )?;
        }
    }
    Ok(ExitStatus::Success)
}
