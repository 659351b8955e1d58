//! Settling runs whose worker is gone: the run store's lock is free once its holder died, so
//! the daemon takes it and writes the final status the worker could not.

use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;

use noctune_core::store::{RunSpec, RunStore};
use noctune_core::{RunId, RunStatus, TaskStatus};

use crate::error::Result;

/// How a worker ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitInfo {
    /// `exited with status 2`, `was killed by signal 9 (SIGKILL)`.
    pub exit: String,
    /// Whether a stop was asked for.
    pub stop_requested: bool,
    /// Whether the daemon killed it after the stop timeout.
    pub killed_by_us: bool,
    /// The worker's log.
    pub log: PathBuf,
}

/// Says how a process ended.
pub fn describe_exit(status: std::process::ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => {
            let name = match signal {
                2 => " (SIGINT)",
                6 => " (SIGABRT)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                15 => " (SIGTERM)",
                _ => "",
            };
            format!("was killed by signal {signal}{name}")
        }
        (None, None) => "ended".to_owned(),
    }
}

fn last_log_line(info: &ExitInfo) -> String {
    let text = std::fs::read_to_string(&info.log).unwrap_or_default();
    let line = text
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let mut line: String = line.chars().take(300).collect();
    if !line.is_empty() {
        line = format!(": {line}");
    }
    line
}

/// After a worker exited: when `run.json` is not final, marks the run `failed` with the exit
/// status or signal (`stopped` when the daemon killed it after a stop timed out). A run
/// another process locked meanwhile is left to it.
pub fn settle_exit(store: &RunStore, run_id: &RunId, info: &ExitInfo) -> Result<()> {
    let record = match store.read(run_id) {
        Ok(record) => record,
        Err(noctune_core::Error::RunNotFound { .. }) => {
            // The worker died before the run existed: record it, failed.
            let mut run = store.create(RunSpec {
                run_id: Some(run_id.clone()),
                command: Some("run".to_owned()),
                ..RunSpec::default()
            })?;
            run.set_status(
                RunStatus::Failed,
                Some(format!("the worker {}{}", info.exit, last_log_line(info))),
            )?;
            return Ok(());
        }
        Err(err) => return Err(err.into()),
    };
    if record.status.is_final() {
        return Ok(());
    }
    let mut run = match store.open(run_id) {
        Ok(run) => run,
        Err(noctune_core::Error::RunLocked { .. }) => return Ok(()),
        Err(err) => return Err(err.into()),
    };
    if run.record().status.is_final() {
        return Ok(());
    }
    if info.killed_by_us {
        run.set_status(
            RunStatus::Stopped,
            Some(format!(
                "the worker did not stop in time and {}",
                info.exit.replace("was killed", "was killed by the daemon")
            )),
        )?;
        run.settle_running_tasks(TaskStatus::Pending, None)?;
    } else {
        let error = format!(
            "the worker {} (log: {}){}",
            info.exit,
            info.log.display(),
            last_log_line(info)
        );
        run.set_status(RunStatus::Failed, Some(error.clone()))?;
        run.settle_running_tasks(TaskStatus::Failed, Some(&error))?;
    }
    Ok(())
}

/// A run marked starting, running or stopping that no worker of this daemon drives: when no
/// process holds its lock, its worker died; marks it `failed`. Returns whether it did.
pub fn settle_external(store: &RunStore, run_id: &RunId) -> Result<bool> {
    let mut run = match store.open(run_id) {
        Ok(run) => run,
        Err(noctune_core::Error::RunLocked { .. }) => return Ok(false),
        Err(err) => return Err(err.into()),
    };
    if !run.record().status.is_driven() {
        return Ok(false);
    }
    let error = "the worker died (no process holds the run lock)";
    run.set_status(RunStatus::Failed, Some(error.to_owned()))?;
    run.settle_running_tasks(TaskStatus::Failed, Some(error))?;
    Ok(true)
}

/// At daemon start: settles every run whose worker died while no daemon watched it.
pub fn reconcile(store: &RunStore) -> Result<Vec<RunId>> {
    let mut settled = Vec::new();
    for record in store.list()? {
        if record.status.is_driven() && settle_external(store, &record.run_id)? {
            settled.push(record.run_id);
        }
    }
    Ok(settled)
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn a_running_run_without_a_lock_holder_is_failed_at_reconcile() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let mut run = store.create(RunSpec::default()).unwrap();
        run.set_status(RunStatus::Running, None).unwrap();
        let id = run.id().clone();
        let held = store.create(RunSpec::default()).unwrap();
        let mut held = held;
        held.set_status(RunStatus::Running, None).unwrap();
        drop(run); // its "worker" died
        assert_eq!(reconcile(&store).unwrap(), vec![id.clone()]);
        let record = store.read(&id).unwrap();
        assert_eq!(record.status, RunStatus::Failed);
        assert_eq!(
            record.error.as_deref(),
            Some("the worker died (no process holds the run lock)")
        );
        // The run whose lock is held is left alone.
        assert_eq!(store.read(held.id()).unwrap().status, RunStatus::Running);
    }
}
