//! A whole run: every file through its passes, with the run's status kept in `run.json`.
//!
//! Several files are in flight at once when the model client serves several requests at once
//! (a pool of endpoints and their slots, [`LlmClient::slots`](crate::LlmClient::slots)): each
//! file runs on its own tokio task, with its own state, artifacts and transcript as when they go one by one, the event log
//! numbers concurrent writers' events strictly in order, and real files are replaced one at a
//! time ([`apply_change`](super::apply::apply_change) holds the run's apply lock).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;
use tokio::task::JoinSet;

use super::Pipeline;
use super::control::Control;
use super::endpoints::{log_endpoint_events, log_loads};
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
    /// The files in flight right now (several when the model serves several requests at
    /// once; the model client's [`LlmClient::loads`](crate::LlmClient::loads) says where).
    pub in_flight: Vec<String>,
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

/// Drives `files` (repo-relative) through the pipeline, resuming each task from its state,
/// with up to [`LlmClient::slots`](crate::LlmClient::slots) files in flight, each on its own
/// tokio task. Stops at the next safe point once a stop is requested on `control` (status
/// `stopped`, resumable): files in flight each reach their next safe point, no new one starts.
/// A model server that stays unreachable fails the run (status `failed`, resumable) once the
/// files in flight have ended. [`super::drive`] wraps it and settles what an early end leaves
/// behind.
pub(super) async fn drive_files(
    pipeline: &Pipeline,
    run: &mut Run,
    store: &RunStore,
    files: &[PathBuf],
    control: &Arc<Control>,
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
    let started = Instant::now();
    let (reports, mut reported) = tokio::sync::mpsc::unbounded_channel();
    let board = Arc::new(Board {
        total: files.len(),
        done: AtomicUsize::new(0),
        in_flight: Mutex::new(BTreeSet::new()),
        reports,
    });
    let show = |file: Option<String>, what: String| {
        on_progress(&Progress {
            done: board.done.load(Ordering::SeqCst),
            total: board.total,
            file,
            what,
            in_flight: board.lock().iter().cloned().collect(),
        });
    };
    // Endpoints found down when the client was built are logged now that the run exists.
    log_endpoint_events(run, pipeline)?;
    // The evidence's index is brought up to date now that run.json says `running`.
    pipeline
        .evidence
        .prepare(&|what: &str| show(None, what.to_owned()))?;

    let shared = Arc::new(pipeline.clone());
    let mut summary = RunSummary::default();
    let mut fatal: Option<Error> = None;
    let mut queue = files.iter();
    let mut running: JoinSet<Result<FileEnd>> = JoinSet::new();
    loop {
        // As many files in flight as the model serves at once (fewer while an endpoint is out
        // of the pool); none new once a stop or a fatal error came.
        let slots = pipeline.llm.slots().max(1);
        while fatal.is_none() && !control.stop_requested() && running.len() < slots {
            let Some(file) = queue.next() else { break };
            let (pipeline, run, store, control, board, file) = (
                shared.clone(),
                run.handle(),
                store.clone(),
                control.clone(),
                board.clone(),
                file.clone(),
            );
            running.spawn(async move {
                drive_file(&pipeline, &run, &store, &file, &control, &board).await
            });
        }
        if running.is_empty() {
            break;
        }
        tokio::select! {
            Some((file, what)) = reported.recv() => show(file, what),
            Some(ended) = running.join_next() => {
                log_endpoint_events(run, pipeline)?;
                match ended {
                    Ok(Ok(end)) => {
                        if end.set_aside {
                            summary.set_aside += 1;
                        }
                        count(&mut summary, &end.state, run);
                    }
                    // The first such error is the run's; the others in flight end on their
                    // own (the same server is unreachable for them too).
                    Ok(Err(err)) => {
                        fatal.get_or_insert(err);
                    }
                    Err(panicked) => {
                        fatal.get_or_insert(Error::Refused(format!(
                            "a file's task ended abnormally: {panicked}"
                        )));
                    }
                }
            }
        }
    }
    while let Ok((file, what)) = reported.try_recv() {
        show(file, what);
    }
    log_endpoint_events(run, pipeline)?;
    log_loads(run, pipeline, started.elapsed().as_millis() as u64)?;

    if let Some(err) = fatal {
        let message = match err {
            Error::Refused(message) => message,
            other => other.to_string(),
        };
        run.set_status(RunStatus::Failed, Some(message.clone()))?;
        return Err(Error::Refused(message));
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

/// What the files in flight share: the counts for progress, and the channel on which they
/// tell the run loop what happened (the loop shows it).
struct Board {
    total: usize,
    done: AtomicUsize,
    in_flight: Mutex<BTreeSet<String>>,
    reports: tokio::sync::mpsc::UnboundedSender<(Option<String>, String)>,
}

impl Board {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn report(&self, file: Option<&str>, what: String) {
        // The run loop holds the receiver until every file has ended.
        let _ = self.reports.send((file.map(str::to_owned), what));
    }
}

/// How one file ended in this session.
struct FileEnd {
    state: TaskState,
    set_aside: bool,
}

/// Adds a file's end to the summary.
fn count(summary: &mut RunSummary, state: &TaskState, run: &Run) {
    match state.status {
        TaskStatus::Done if run.layout().backups(&state.task_id).exists() => summary.applied += 1,
        TaskStatus::Done | TaskStatus::Skipped | TaskStatus::Restored => summary.unchanged += 1,
        TaskStatus::Proposed => summary.proposed += 1,
        TaskStatus::WaitingApproval | TaskStatus::Queued => summary.queued += 1,
        TaskStatus::Rejected => summary.rejected += 1,
        TaskStatus::Conflict => summary.conflicts += 1,
        TaskStatus::Failed => summary.failed += 1,
        TaskStatus::Pending | TaskStatus::Running => {}
    }
}

/// The task state of `file`: as saved, new, or failed when its state file is damaged.
fn task_state(run: &Run, file: &std::path::Path, policy: ResumePolicy) -> Result<TaskState> {
    let task_id = TaskId::for_path(file);
    let mut state = match run.read_task(&task_id) {
        Ok(Some(state)) => state,
        Ok(None) => {
            let state = TaskState::new(file.to_path_buf());
            run.write_task(&state)?;
            state
        }
        // A damaged state file fails its task, not the run: the file starts over (its
        // artifacts are reused) on the next resume.
        Err(err) => {
            tracing::warn!("task state of `{}` unreadable: {err}", file.display());
            let mut state = TaskState::new(file.to_path_buf());
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
    Ok(state)
}

/// One file through its passes, until it is final, set aside, waits for a human, or a stop
/// comes. An error is one that fails the run (the model is unreachable).
async fn drive_file(
    pipeline: &Pipeline,
    run: &Run,
    store: &RunStore,
    file: &std::path::Path,
    control: &Control,
    board: &Board,
) -> Result<FileEnd> {
    let policy = run.record().resume_policy;
    let task_id = TaskId::for_path(file);
    let mut state = task_state(run, file, policy)?;
    let display = file.to_string_lossy().into_owned();
    board.lock().insert(display.clone());
    control.begin_file(file);
    let ended = passes(pipeline, run, store, &mut state, control, board, &display).await;
    control.end_file(file);
    board.lock().remove(&display);
    let set_aside = match ended {
        Ok(set_aside) => set_aside,
        Err(err) => return Err(err),
    };
    if is_final(&state, policy) {
        board.done.fetch_add(1, Ordering::SeqCst);
        run.event(
            EventType::TaskFinished,
            Some(&task_id),
            serde_json::json!({ "status": state.status, "label": state.label }),
        )?;
    }
    board.report(Some(&display), format!("{:?}", state.status).to_lowercase());
    Ok(FileEnd { state, set_aside })
}

/// The passes of one file; returns whether its budget set it aside.
async fn passes(
    pipeline: &Pipeline,
    run: &Run,
    store: &RunStore,
    state: &mut TaskState,
    control: &Control,
    board: &Board,
    display: &str,
) -> Result<bool> {
    let policy = run.record().resume_policy;
    let task_id = state.task_id.clone();
    loop {
        if is_final(state, policy) || control.stop_requested() {
            return Ok(false);
        }
        board.report(Some(display), format!("pass {}", state.pass));
        let (outcome, new_state) =
            match run_pass(pipeline, run, store, state.clone(), control).await {
                Ok(pair) => pair,
                Err(err) if control.stop_requested() => {
                    tracing::info!("stopping: {err}");
                    return Ok(false);
                }
                Err(err) if stops_the_run(&err) => {
                    return Err(Error::Refused(format!(
                        "model unreachable while on `{display}`: {err}"
                    )));
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
                    *state = failed;
                    return Ok(false);
                }
            };
        *state = new_state;
        match outcome {
            PassOutcome::Applied => {
                if state.pass < pipeline.options.max_passes {
                    next_pass(run, state)?;
                } else {
                    state.status = TaskStatus::Done;
                    state.stage = TaskStage::Done;
                    run.write_task(state)?;
                }
            }
            PassOutcome::NoChange { why } => {
                run.event(
                    EventType::TaskFinished,
                    Some(&task_id),
                    serde_json::json!({ "outcome": "no_change", "why": why }),
                )?;
                return Ok(false);
            }
            PassOutcome::WellDone | PassOutcome::Skipped | PassOutcome::Reviewed => {
                return Ok(false);
            }
            PassOutcome::Proposed { .. }
            | PassOutcome::Rejected { .. }
            | PassOutcome::Queued(_)
            | PassOutcome::Conflict
            | PassOutcome::WaitingApproval(_) => return Ok(false),
            PassOutcome::SetAside { .. } => return Ok(true),
        }
    }
}
