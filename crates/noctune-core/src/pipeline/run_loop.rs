//! A whole run: every file through its passes, with the run's status kept in `run.json`.

use std::path::PathBuf;

use serde::Serialize;

use super::Pipeline;
use super::control::Control;
use super::task::{PassOutcome, next_pass, run_pass, stops_the_run};
use crate::error::{Error, Result};
use crate::event::EventType;
use crate::ids::TaskId;
use crate::run::{ResumePolicy, RunStatus};
use crate::store::{Run, RunStore};
use crate::task::{TaskStage, TaskState, TaskStatus};

/// Progress of a run, for terminals and the daemon.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Progress {
    /// Files finished (any final status) so far.
    pub done: usize,
    /// Files in the run.
    pub total: usize,
    /// The file being worked on.
    pub file: Option<String>,
    /// What just happened to it.
    pub what: String,
}

/// How each file ended, for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// Files with at least one change applied.
    pub applied: usize,
    /// Files left with a proposal that cannot be applied (the gates still fail).
    pub proposed: usize,
    /// Files whose change is queued for a human (`noctune approvals`).
    pub queued: usize,
    /// Files whose change was refused (by the approver, the pack or a human).
    pub rejected: usize,
    /// Files with nothing to do (`W`, or no usable change).
    pub unchanged: usize,
    /// Files whose real file changed meanwhile.
    pub conflicts: usize,
    /// Files that failed.
    pub failed: usize,
    /// Files set aside because their budget ran out (a resume takes them up again).
    pub set_aside: usize,
}

fn is_final(state: &TaskState, policy: ResumePolicy) -> bool {
    match state.status {
        TaskStatus::Done
        | TaskStatus::Proposed
        | TaskStatus::Queued
        | TaskStatus::Rejected
        | TaskStatus::Restored
        | TaskStatus::Conflict
        | TaskStatus::Skipped => true,
        TaskStatus::Failed => policy == ResumePolicy::ReuseArtifacts,
        TaskStatus::Pending | TaskStatus::Running | TaskStatus::WaitingApproval => false,
    }
}

/// Drives `files` (repo-relative) through the pipeline, resuming each task from its state.
/// Stops at the next safe point once a stop is requested on `control` (status `stopped`, resumable). A model
/// server that stays unreachable fails the run (status `failed`, resumable). [`super::drive`]
/// wraps it and settles what an early end leaves behind.
pub(super) async fn drive_files(
    pipeline: &Pipeline,
    run: &mut Run,
    store: &RunStore,
    files: &[PathBuf],
    control: &Control,
    on_progress: &(dyn Fn(&Progress) + Send + Sync),
) -> Result<RunSummary> {
    run.set_status(RunStatus::Running, None)?;
    // The run's token budget counts what earlier sessions of this run used.
    let prior: u64 = store
        .events(run.id(), 0, usize::MAX)?
        .iter()
        .filter(|e| e.event_type == EventType::LlmCall)
        .map(|e| {
            e.payload["prompt_tokens"].as_u64().unwrap_or(0)
                + e.payload["completion_tokens"].as_u64().unwrap_or(0)
        })
        .sum();
    control.add_prior_tokens(prior);
    let policy = run.record().resume_policy;
    let total = files.len();
    // The evidence's index is brought up to date now that run.json says `running`.
    pipeline.evidence.prepare(&|what: &str| {
        on_progress(&Progress {
            done: 0,
            total,
            file: None,
            what: what.to_owned(),
        });
    })?;
    let mut summary = RunSummary::default();
    let mut done = 0;

    for file in files {
        if control.stop_requested() {
            break;
        }
        let task_id = TaskId::for_path(file);
        let mut state = match run.read_task(&task_id) {
            Ok(Some(state)) => state,
            Ok(None) => {
                let state = TaskState::new(file.clone());
                run.write_task(&state)?;
                state
            }
            // A damaged state file fails its task, not the run: the file starts over (its
            // artifacts are reused) on the next resume.
            Err(err) => {
                tracing::warn!("task state of `{}` unreadable: {err}", file.display());
                let mut state = TaskState::new(file.clone());
                state.status = TaskStatus::Failed;
                state.error = Some(format!("the task state was unreadable: {err}"));
                run.write_task(&state)?;
                run.event(
                    EventType::TaskFailed,
                    Some(&task_id),
                    serde_json::json!({ "error": state.error }),
                )?;
                state
            }
        };
        if state.status == TaskStatus::Failed && policy == ResumePolicy::RetryFailed {
            state.status = TaskStatus::Pending;
            state.error = None;
        }
        let display = file.to_string_lossy().into_owned();
        control.begin_file();
        loop {
            if is_final(&state, policy) {
                break;
            }
            if control.stop_requested() {
                break;
            }
            on_progress(&Progress {
                done,
                total,
                file: Some(display.clone()),
                what: format!("pass {}", state.pass),
            });
            let result = run_pass(pipeline, run, store, state.clone(), control).await;
            let (outcome, new_state) = match result {
                Ok(pair) => pair,
                Err(err) if control.stop_requested() => {
                    tracing::info!("stopping: {err}");
                    break;
                }
                Err(err) if stops_the_run(&err) => {
                    let message = format!("model unreachable while on `{display}`: {err}");
                    run.set_status(RunStatus::Failed, Some(message.clone()))?;
                    return Err(Error::Refused(message));
                }
                Err(err) => {
                    let mut failed = run.read_task(&task_id)?.unwrap_or(state.clone());
                    failed.status = TaskStatus::Failed;
                    failed.error = Some(err.to_string());
                    run.write_task(&failed)?;
                    run.event(
                        EventType::TaskFailed,
                        Some(&task_id),
                        serde_json::json!({ "error": err.to_string() }),
                    )?;
                    state = failed;
                    break;
                }
            };
            state = new_state;
            match outcome {
                PassOutcome::Applied => {
                    if state.pass < pipeline.options.max_passes {
                        next_pass(run, &mut state)?;
                    } else {
                        state.status = TaskStatus::Done;
                        state.stage = TaskStage::Done;
                        run.write_task(&state)?;
                    }
                }
                PassOutcome::WellDone
                | PassOutcome::NoChange { .. }
                | PassOutcome::Skipped
                | PassOutcome::Reviewed => {
                    if let PassOutcome::NoChange { why } = &outcome {
                        run.event(
                            EventType::TaskFinished,
                            Some(&task_id),
                            serde_json::json!({ "outcome": "no_change", "why": why }),
                        )?;
                    }
                    break;
                }
                PassOutcome::Proposed { .. }
                | PassOutcome::Rejected { .. }
                | PassOutcome::Queued(_)
                | PassOutcome::Conflict => break,
                PassOutcome::SetAside { .. } => {
                    summary.set_aside += 1;
                    break;
                }
                PassOutcome::WaitingApproval(_) => break,
            }
        }
        if is_final(&state, policy) {
            done += 1;
            run.event(
                EventType::TaskFinished,
                Some(&task_id),
                serde_json::json!({ "status": state.status, "label": state.label }),
            )?;
        }
        match state.status {
            TaskStatus::Done if run.layout().backups(&task_id).exists() => summary.applied += 1,
            TaskStatus::Done | TaskStatus::Skipped | TaskStatus::Restored => summary.unchanged += 1,
            TaskStatus::Proposed => summary.proposed += 1,
            TaskStatus::WaitingApproval | TaskStatus::Queued => summary.queued += 1,
            TaskStatus::Rejected => summary.rejected += 1,
            TaskStatus::Conflict => summary.conflicts += 1,
            TaskStatus::Failed => summary.failed += 1,
            TaskStatus::Pending | TaskStatus::Running => {}
        }
        on_progress(&Progress {
            done,
            total,
            file: Some(display),
            what: format!("{:?}", state.status).to_lowercase(),
        });
    }

    if control.stop_requested() {
        run.set_status(RunStatus::Stopped, control.stop_reason())?;
    } else {
        run.update(|r| r.status = RunStatus::Completed)?;
        run.event(
            EventType::RunCompleted,
            None,
            serde_json::to_value(&summary).unwrap_or_default(),
        )?;
    }
    Ok(summary)
}
