//! The changes a run applied to real files, in the order it applied them, each with the whole
//! text before and after: what patchsets group and commit (`noctune patchset`).
//!
//! Read from the run store alone (events, task states, artifacts, backups), never from the
//! real files' current state unless the run's own records say it is the applied text: a file
//! edited after the run does not leak into a patchset.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::event::EventType;
use crate::ids::{RunId, TaskId, content_hash};
use crate::pipeline::{CheckOutcome, artifacts};
use crate::store::RunStore;

/// One change the run applied to one real file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppliedChange {
    /// The `applied` event's `idx`: the order the changes were applied in.
    pub idx: u64,
    /// The task (one per file).
    pub task_id: TaskId,
    /// The repo-relative file.
    pub file: PathBuf,
    /// The pass that made the change.
    pub pass: u32,
    /// The approval it was applied from, when a human or `noctune apply` decided it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    /// The whole file before the change.
    #[serde(skip)]
    pub before: String,
    /// The whole file the change wrote.
    #[serde(skip)]
    pub after: String,
}

/// Every change the run applied and did not undo (`noctune restore` undoes a file's changes),
/// in the order applied. A change whose text the run store no longer holds is an error naming
/// the file and the pass.
pub fn applied_changes(store: &RunStore, run_id: &RunId) -> Result<Vec<AppliedChange>> {
    let layout = store.cache().run(run_id);
    let files: BTreeMap<TaskId, PathBuf> = store
        .tasks(run_id)?
        .into_iter()
        .map(|state| (state.task_id, state.file))
        .collect();
    let mut changes: Vec<AppliedChange> = Vec::new();
    for event in store.events(run_id, 0, usize::MAX)? {
        let Some(task_id) = event.task_id else {
            continue;
        };
        match event.event_type {
            EventType::Restored => changes.retain(|c| c.task_id != task_id),
            EventType::Applied => {
                let Some(file) = files.get(&task_id) else {
                    continue;
                };
                let pass = event.payload["pass"]
                    .as_u64()
                    .and_then(|p| u32::try_from(p).ok())
                    .unwrap_or(1);
                let hash = event.payload["hash"].as_str().unwrap_or_default();
                let previous = changes.iter().rev().find(|c| c.task_id == task_id);
                if previous.is_some_and(|p| content_hash(p.after.as_bytes()) == hash) {
                    // A recovered event for a change already counted.
                    continue;
                }
                let after = applied_text(store, run_id, &task_id, file, pass, hash)?;
                let backup = layout
                    .backups(&task_id)
                    .join(format!("p{pass}"))
                    .join(file.file_name().unwrap_or_default());
                let before = match std::fs::read(&backup) {
                    Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    Err(_) => match previous {
                        Some(previous) => previous.after.clone(),
                        None => {
                            return Err(Error::Refused(format!(
                                "the content of `{}` before pass {pass} of run `{run_id}` is gone \
                                 (no backup at `{}`)",
                                file.display(),
                                backup.display()
                            )));
                        }
                    },
                };
                changes.push(AppliedChange {
                    idx: event.idx,
                    task_id,
                    file: file.clone(),
                    pass,
                    approval_id: event.payload["approval_id"].as_str().map(str::to_owned),
                    before,
                    after,
                });
            }
            _ => {}
        }
    }
    Ok(changes)
}

/// The text with SHA-256 `hash` that pass `pass` wrote to `file`: the checked text of the pass,
/// the kept proposal, or the real file while it still holds it.
fn applied_text(
    store: &RunStore,
    run_id: &RunId,
    task_id: &TaskId,
    file: &Path,
    pass: u32,
    hash: &str,
) -> Result<String> {
    if let Some(bytes) = store.artifact(run_id, task_id, &artifacts::gates(pass))?
        && let Ok(outcome) = serde_json::from_slice::<CheckOutcome>(&bytes)
        && content_hash(outcome.text.as_bytes()) == hash
    {
        return Ok(outcome.text);
    }
    if let Some(bytes) = store.artifact(run_id, task_id, artifacts::PROPOSED)?
        && content_hash(&bytes) == hash
    {
        return Ok(String::from_utf8_lossy(&bytes).into_owned());
    }
    let record = store.read(run_id)?;
    if let Ok(bytes) = std::fs::read(record.repo_root.join(file))
        && content_hash(&bytes) == hash
    {
        return Ok(String::from_utf8_lossy(&bytes).into_owned());
    }
    Err(Error::Refused(format!(
        "the text run `{run_id}` applied to `{}` in pass {pass} is gone (no artifact with hash {hash})",
        file.display()
    )))
}
