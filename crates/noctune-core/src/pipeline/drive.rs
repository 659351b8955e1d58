//! A whole run from the caller's side: the run loop, then what an early end leaves behind.
//! Whatever stops the loop, `run.json` ends in a final status and no task stays `running`.

use std::path::PathBuf;
use std::sync::Arc;

use super::Pipeline;
use super::control::Control;
use super::run_loop::{Progress, RunSummary, drive_files};
use crate::error::Result;
use crate::run::RunStatus;
use crate::store::{Run, RunStore};
use crate::task::TaskStatus;

/// Drives `files` (repo-relative) through the pipeline, resuming each task from its state.
/// Stops at the next safe point once a stop is requested on `control` (status `stopped`,
/// resumable). A model server that stays unreachable, or any other error, fails the run
/// (status `failed` with the error, resumable). A task the run was in the middle of is left
/// `pending` when the run stopped and `failed` (with the run's error) when it failed.
pub async fn drive(
    pipeline: &Pipeline,
    run: &mut Run,
    store: &RunStore,
    files: &[PathBuf],
    control: &Arc<Control>,
    on_progress: &(dyn Fn(&Progress) + Send + Sync),
) -> Result<RunSummary> {
    let result = drive_files(pipeline, run, store, files, control, on_progress).await;
    match &result {
        Err(err) => {
            let message = match run.record() {
                record if record.status == RunStatus::Failed => {
                    record.error.unwrap_or_else(|| err.to_string())
                }
                _ => err.to_string(),
            };
            if !run.record().status.is_final() {
                run.set_status(RunStatus::Failed, Some(message.clone()))?;
            }
            // The run's error is the one to return; a task state that cannot be written now
            // is left for the resume, which takes up `running` tasks as it does `failed` ones.
            if let Err(settle) = run.settle_running_tasks(TaskStatus::Failed, Some(&message)) {
                tracing::warn!("cannot settle the tasks of the failed run: {settle}");
            }
        }
        Ok(_) if run.record().status == RunStatus::Stopped => {
            run.settle_running_tasks(TaskStatus::Pending, None)?;
        }
        Ok(_) => {}
    }
    result
}
