//! `noctune status`: a run's progress from `run.json` and its task states.

use std::io::Write;

use anyhow::bail;
use noctune_core::store::RunStore;
use noctune_core::{RunId, RunRecord, RunStatus, TaskStatus};
use owo_colors::OwoColorize;

use crate::args::{GlobalArgs, OutputFormat, StatusArgs};
use crate::exit::ExitStatus;
use crate::printer::print_json;

/// The run named by `--run-id`, else the latest.
pub fn pick_run(store: &RunStore, run_id: Option<&str>) -> anyhow::Result<RunRecord> {
    match run_id {
        Some(id) => Ok(store.read(&RunId::new(id)?)?),
        None => match store.latest()? {
            Some(run) => Ok(run),
            None => bail!("no runs yet under `{}`", store.cache().runs().display()),
        },
    }
}

/// A run marked starting, running or stopping whose lock is free: its worker died. Marks it
/// `failed` (never a silent "done") and returns the updated record.
pub fn settle_dead_worker(store: &RunStore, record: RunRecord) -> anyhow::Result<RunRecord> {
    if !record.status.is_driven() {
        return Ok(record);
    }
    match store.open(&record.run_id) {
        // The worker may have finished between the read and the lock: trust what it wrote.
        Ok(run) if !run.record().status.is_driven() => Ok(run.record()),
        Ok(mut run) => {
            let error = "the worker died (no process holds the run lock)";
            run.set_status(RunStatus::Failed, Some(error.to_owned()))?;
            run.settle_running_tasks(TaskStatus::Failed, Some(error))?;
            Ok(run.record())
        }
        // A live worker holds the lock: the status is true.
        Err(noctune_core::Error::RunLocked { .. }) => Ok(record),
        Err(err) => Err(err.into()),
    }
}

/// Prints a run's status and per-status task counts.
pub fn run(global: &GlobalArgs, args: &StatusArgs) -> anyhow::Result<ExitStatus> {
    let store = RunStore::new(&global.root);
    let record = pick_run(&store, args.run_id.as_deref())?;
    let record = settle_dead_worker(&store, record)?;
    let tasks = store.tasks(&record.run_id)?;
    let count = |status: TaskStatus| tasks.iter().filter(|t| t.status == status).count();
    let waiting = store.waiting_approvals(&record.run_id)?.len();
    match global.output_format {
        OutputFormat::Json => print_json(&serde_json::json!({
            "run": record,
            "tasks": tasks,
            "pending_approvals": waiting,
        }))?,
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            writeln!(
                out,
                "run {} {} (started {}, updated {})",
                record.run_id.bold(),
                record.status,
                record.started_at,
                record.updated_at
            )?;
            if let Some(origin) = origin_line(&record) {
                writeln!(out, "  {origin}")?;
            }
            if let Some(error) = &record.error {
                writeln!(out, "  error: {error}")?;
            }
            writeln!(
                out,
                "  {} files: {} done, {} queued, {} rejected, {} proposed (gates fail), {} restored, {} running, {} pending, {} conflict, {} skipped, {} failed",
                tasks.len(),
                count(TaskStatus::Done),
                count(TaskStatus::WaitingApproval) + count(TaskStatus::Queued),
                count(TaskStatus::Rejected),
                count(TaskStatus::Proposed),
                count(TaskStatus::Restored),
                count(TaskStatus::Running),
                count(TaskStatus::Pending),
                count(TaskStatus::Conflict),
                count(TaskStatus::Skipped),
                count(TaskStatus::Failed),
            )?;
            // The files in flight, where they are (several with a pool of model slots).
            let in_flight: Vec<String> = tasks
                .iter()
                .filter(|t| t.status == TaskStatus::Running)
                .map(|t| format!("{} ({}, pass {})", t.file.display(), t.stage, t.pass))
                .collect();
            if !in_flight.is_empty() {
                writeln!(out, "  in flight: {}", in_flight.join(", "))?;
            }
            if waiting > 0 {
                writeln!(
                    out,
                    "  {waiting} approval(s) queued: `noctune approvals list --run-id {}`",
                    record.run_id
                )?;
            }
        }
    }
    Ok(ExitStatus::Success)
}

/// `pack lint_fix, profile default, git main at 1a2b3c4d5e6f`: what the run works with, as far
/// as `run.json` knows it.
fn origin_line(record: &RunRecord) -> Option<String> {
    let mut parts = Vec::new();
    if let Some(pack) = &record.pack {
        parts.push(format!("pack {pack}"));
    }
    if let Some(profile) = &record.profile {
        parts.push(format!("profile {profile}"));
    }
    let short = |sha: &str| sha.chars().take(12).collect::<String>();
    match (&record.branch, &record.head_sha) {
        (Some(branch), Some(sha)) => parts.push(format!("git {branch} at {}", short(sha))),
        (None, Some(sha)) => parts.push(format!("git detached at {}", short(sha))),
        (Some(branch), None) => parts.push(format!("git {branch} (no commit yet)")),
        (None, None) => {}
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}
