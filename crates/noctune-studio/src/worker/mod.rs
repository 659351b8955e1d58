//! Run workers: each run is a child process (`noctune run --run-id ID`, or `noctune task
//! --run-id ID -- REQUEST` for a task) that the daemon starts and supervises. `run.json` stays the truth: the worker writes it while it lives;
//! when a worker dies without writing a final status, the daemon takes the run's lock (free
//! once its holder is gone) and marks the run `failed` with the exit status or signal.
//!
//! Stop is layered: SIGINT asks the worker to stop at its next safe point (its Ctrl+C
//! handling, with no terminal: status `stopped`); after the stop timeout a second SIGINT
//! abandons a model call in flight; after another timeout SIGKILL, and the daemon marks the
//! run `stopped` with the reason.

mod command;
mod settle;

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use noctune_core::event::EventType;
use noctune_core::store::{EventLog, RunSpec, RunStore};
use noctune_core::{EnvOverrides, RunId, RunStatus, TaskStatus};

pub use command::{
    WorkerArgs, WorkerCommand, WorkerJob, file_list_path, read_job, request_path, write_job_files,
};
pub use settle::{ExitInfo, reconcile, settle_exit, settle_external};

use crate::audit::{Db, ingest_run};
use crate::error::{ApiError, Error, Result};

/// A live worker.
#[derive(Debug)]
struct Worker {
    pid: u32,
    /// 0: running; 1: SIGINT sent; 2: second SIGINT sent; 3: SIGKILL sent.
    stop_stage: AtomicU8,
    exited: tokio::sync::watch::Receiver<bool>,
    /// A decision arrived while it ran: once it exits, a new worker resumes the run to apply
    /// it. A worker started for a decision that fails to settle it is not started again.
    decided_while_live: AtomicBool,
}

/// Starts, stops and watches the run workers of one repository.
#[derive(Debug)]
pub struct Supervisor {
    root: PathBuf,
    store: RunStore,
    studio_dir: PathBuf,
    command: WorkerCommand,
    db: Db,
    stop_timeout: Duration,
    workers: Mutex<HashMap<RunId, Arc<Worker>>>,
    closing: AtomicBool,
}

impl Supervisor {
    /// A supervisor for the repository at `root`.
    pub fn new(
        root: &Path,
        studio_dir: &Path,
        command: WorkerCommand,
        db: Db,
        stop_timeout: Duration,
    ) -> Self {
        Self {
            root: root.to_path_buf(),
            store: RunStore::new(root),
            studio_dir: studio_dir.to_path_buf(),
            command,
            db,
            stop_timeout,
            workers: Mutex::new(HashMap::new()),
            closing: AtomicBool::new(false),
        }
    }

    fn workers(&self) -> std::sync::MutexGuard<'_, HashMap<RunId, Arc<Worker>>> {
        self.workers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes that a decision arrived for a run a worker of this daemon drives, so that the
    /// run is resumed once that worker exits. Returns whether a worker drives it.
    pub fn note_decision(&self, run_id: &RunId) -> bool {
        match self.workers().get(run_id) {
            Some(worker) => {
                worker.decided_while_live.store(true, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Whether a worker of this daemon drives the run.
    pub fn is_live(&self, run_id: &RunId) -> bool {
        self.workers().contains_key(run_id)
    }

    /// Whether a stop was asked for a run whose worker still lives.
    pub fn is_stopping(&self, run_id: &RunId) -> bool {
        self.workers()
            .get(run_id)
            .is_some_and(|w| w.stop_stage.load(Ordering::SeqCst) > 0)
    }

    /// The pid of the run's worker, while it lives.
    pub fn pid(&self, run_id: &RunId) -> Option<u32> {
        self.workers().get(run_id).map(|w| w.pid)
    }

    /// The runs driven by this daemon's workers.
    pub fn live_runs(&self) -> Vec<RunId> {
        self.workers().keys().cloned().collect()
    }

    /// Creates a run (`run.json` with the job's command, status `queued`), keeps what its
    /// workers need (the file list, a task's request) and starts its worker.
    pub async fn start(
        self: &Arc<Self>,
        job: WorkerJob,
        pack: String,
        files: Option<Vec<PathBuf>>,
    ) -> Result<RunId, ApiError> {
        if self.closing.load(Ordering::SeqCst) {
            return Err(ApiError::Unavailable("the daemon is shutting down".into()));
        }
        let store = self.store.clone();
        let studio_dir = self.studio_dir.clone();
        let pack_name = pack.clone();
        let run_id = tokio::task::spawn_blocking(move || -> Result<RunId> {
            let run = store.create(RunSpec {
                pack: Some(pack_name),
                command: Some(job.command().to_owned()),
                ..RunSpec::default()
            })?;
            let run_id = run.id().clone();
            drop(run);
            write_job_files(&studio_dir, &run_id, &job, files.as_deref())?;
            Ok(run_id)
        })
        .await
        .map_err(|err| ApiError::Internal(Error::Refused(format!("task failed: {err}"))))??;
        if let Err(err) = self.spawn(&run_id, &pack) {
            // Never leave a queued run nobody will drive: it failed, and says why.
            let store = self.store.clone();
            let id = run_id.clone();
            let message = format!("the worker could not be started: {err}");
            let _ = tokio::task::spawn_blocking(move || {
                store
                    .open(&id)
                    .and_then(|mut run| run.set_status(RunStatus::Failed, Some(message)))
            })
            .await;
            return Err(err);
        }
        Ok(run_id)
    }

    /// The job of a stored run (`run.json`'s command, a task's kept request); a `Conflict`
    /// for a command workers do not run.
    pub fn job(&self, run_id: &RunId) -> Result<WorkerJob, ApiError> {
        let record = self.store.read(run_id)?;
        read_job(&self.studio_dir, run_id, record.command.as_deref())?.ok_or_else(|| {
            ApiError::conflict(
                "not_resumable",
                format!(
                    "run `{run_id}` was started by `noctune {}`: it resumes from the CLI",
                    record.command.as_deref().unwrap_or_default()
                ),
            )
        })
    }

    /// Starts a worker that resumes the run (same command, pack, file list and request).
    pub fn spawn(self: &Arc<Self>, run_id: &RunId, pack: &str) -> Result<(), ApiError> {
        if self.is_live(run_id) {
            return Err(ApiError::conflict(
                "run_active",
                format!("run `{run_id}` already has a worker"),
            ));
        }
        let job = self.job(run_id)?;
        let layout = self.store.cache().run(run_id);
        let logs = layout.logs();
        fs::create_dir_all(&logs).map_err(|err| Error::io("create directory", &logs, err))?;
        let log_path = logs.join("worker.log");
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|err| Error::io("open", &log_path, err))?;
        let log_err = log
            .try_clone()
            .map_err(|err| Error::io("open", &log_path, err))?;
        let list = file_list_path(&self.studio_dir, run_id);
        // A task always accepts its plan (a worker has no terminal to ask) and applies only
        // where the configuration allows; a run's `--yes` is the configuration's word.
        let yes = matches!(job, WorkerJob::Task { .. })
            || noctune_core::config::load(&self.root, &EnvOverrides::default())
                .map(|settings| settings.allow_apply)
                .unwrap_or(false);
        let resumes_decisions = job.resumes_decisions();
        let args = WorkerArgs {
            root: self.root.clone(),
            run_id: run_id.clone(),
            pack: pack.to_owned(),
            job,
            file_list: list.exists().then_some(list),
            yes,
        };
        let mut command = tokio::process::Command::new(&self.command.program);
        command
            .args(args.to_args()?)
            .envs(self.command.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            // Its own process group: a Ctrl+C on the daemon's terminal is the daemon's to
            // handle; the daemon stops its workers itself.
            .process_group(0)
            .kill_on_drop(false);
        let mut child = command
            .spawn()
            .map_err(|err| Error::io("start the worker", &self.command.program, err))?;
        let pid = child.id().unwrap_or(0);
        let (exited_tx, exited) = tokio::sync::watch::channel(false);
        let worker = Arc::new(Worker {
            pid,
            stop_stage: AtomicU8::new(0),
            exited,
            decided_while_live: AtomicBool::new(false),
        });
        self.workers().insert(run_id.clone(), worker.clone());
        tracing::info!(run_id = %run_id, pid, "worker started");
        let this = self.clone();
        let run_id = run_id.clone();
        let pack = pack.to_owned();
        tokio::spawn(async move {
            let status = child.wait().await;
            let info = ExitInfo {
                exit: match status {
                    Ok(status) => settle::describe_exit(status),
                    Err(err) => format!("could not be waited for: {err}"),
                },
                stop_requested: worker.stop_stage.load(Ordering::SeqCst) > 0,
                killed_by_us: worker.stop_stage.load(Ordering::SeqCst) >= 3,
                log: log_path,
            };
            tracing::info!(run_id = %run_id, "worker {}", info.exit);
            let store = this.store.clone();
            let id = run_id.clone();
            let settled =
                tokio::task::spawn_blocking(move || settle_exit(&store, &id, &info)).await;
            if let Ok(Err(err)) = settled {
                tracing::error!(run_id = %run_id, "cannot settle the run after its worker exited: {err}");
            }
            this.workers().remove(&run_id);
            let _ = exited_tx.send(true);
            this.ingest(&run_id).await;
            // Only for decisions that came while it ran: a worker started for a decision that
            // it could not settle (the model is down, say) is not started again in a loop.
            if resumes_decisions
                && worker.decided_while_live.load(Ordering::SeqCst)
                && !this.closing.load(Ordering::SeqCst)
                && this.has_decided_waiting(&run_id).await
            {
                tracing::info!(run_id = %run_id, "resuming: decisions arrived while the worker ran");
                if let Err(err) = this.spawn(&run_id, &pack) {
                    tracing::warn!(run_id = %run_id, "cannot resume: {err}");
                }
            }
        });
        Ok(())
    }

    /// Ingests one run into the audit database.
    pub async fn ingest(&self, run_id: &RunId) {
        let store = self.store.clone();
        let id = run_id.clone();
        let path = self.db.path().to_path_buf();
        let result = self
            .db
            .call(move |conn| ingest_run(conn, &store, &id).map_err(Db::error(&path)))
            .await;
        if let Err(err) = result {
            tracing::warn!(run_id = %run_id, "ingest failed: {err}");
        }
    }

    /// Whether a task of the run waits on an approval that has a decision: a worker must
    /// resume the run to apply (or drop) it.
    pub async fn has_decided_waiting(&self, run_id: &RunId) -> bool {
        let store = self.store.clone();
        let id = run_id.clone();
        tokio::task::spawn_blocking(move || {
            let Ok(record) = store.read(&id) else {
                return false;
            };
            if !record.status.is_final() {
                return false;
            }
            let Ok(tasks) = store.tasks(&id) else {
                return false;
            };
            tasks.iter().any(|task| {
                task.status == TaskStatus::WaitingApproval
                    && task
                        .approval_id
                        .as_ref()
                        .is_some_and(|a| matches!(store.decision(&id, a), Ok(Some(_))))
            })
        })
        .await
        .unwrap_or(false)
    }

    /// Asks the run's worker to stop at its next safe point, escalating after the stop
    /// timeout. Logs `run_stopping`.
    pub fn stop(self: &Arc<Self>, run_id: &RunId) -> Result<(), ApiError> {
        let Some(worker) = self.workers().get(run_id).cloned() else {
            return Err(ApiError::conflict(
                "no_worker",
                format!("no worker of this daemon drives run `{run_id}`"),
            ));
        };
        if worker
            .stop_stage
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Ok(()); // a stop is under way
        }
        let events = self.store.cache().run(run_id).events();
        if let Err(err) = EventLog::open(&events).and_then(|log| {
            log.append(
                EventType::RunStopping,
                None,
                serde_json::json!({ "by": "studio" }),
            )
        }) {
            tracing::warn!(run_id = %run_id, "cannot log run_stopping: {err}");
        }
        signal(worker.pid, rustix::process::Signal::INT);
        let timeout = self.stop_timeout;
        let run_id = run_id.clone();
        tokio::spawn(async move {
            let mut exited = worker.exited.clone();
            for (stage, sig) in [
                (2u8, rustix::process::Signal::INT),
                (3u8, rustix::process::Signal::KILL),
            ] {
                if tokio::time::timeout(timeout, until_true(&mut exited))
                    .await
                    .is_ok()
                {
                    return;
                }
                tracing::warn!(run_id = %run_id, "worker did not stop in time; escalating");
                worker.stop_stage.store(stage, Ordering::SeqCst);
                signal(worker.pid, sig);
            }
        });
        Ok(())
    }

    /// Asks a worker that another process started (an earlier MCP session, `noctune run`) to
    /// stop at its next safe point: SIGINT to the pid the run's lock names, only while the
    /// lock is held (so the pid is the live holder's). Logs `run_stopping`. Returns the pid.
    /// No escalation: this process cannot watch a worker it did not start.
    pub fn stop_external(&self, run_id: &RunId, by: &str) -> Result<u32, ApiError> {
        let holder = match self.store.open(run_id) {
            Ok(run) => {
                drop(run);
                return Err(ApiError::conflict(
                    "no_worker",
                    format!("no process drives run `{run_id}`"),
                ));
            }
            Err(noctune_core::Error::RunLocked { holder, .. }) => holder,
            Err(err) => return Err(err.into()),
        };
        let pid = holder
            .split_whitespace()
            .find_map(|part| part.strip_prefix("pid="))
            .and_then(|pid| pid.parse::<u32>().ok())
            .filter(|pid| *pid > 1 && *pid != std::process::id())
            .ok_or_else(|| {
                ApiError::conflict(
                    "no_worker",
                    format!("the lock of run `{run_id}` names no worker pid ({holder})"),
                )
            })?;
        let events = self.store.cache().run(run_id).events();
        if let Err(err) = EventLog::open(&events).and_then(|log| {
            log.append(
                EventType::RunStopping,
                None,
                serde_json::json!({ "by": by }),
            )
        }) {
            tracing::warn!(run_id = %run_id, "cannot log run_stopping: {err}");
        }
        signal(pid, rustix::process::Signal::INT);
        Ok(pid)
    }

    /// Stops every worker (safely, with escalation) and waits for them: runs keep their
    /// state and are resumable.
    pub async fn shutdown(self: &Arc<Self>) {
        self.closing.store(true, Ordering::SeqCst);
        let live: Vec<(RunId, Arc<Worker>)> = self
            .workers()
            .iter()
            .map(|(id, w)| (id.clone(), w.clone()))
            .collect();
        for (run_id, worker) in &live {
            let _ = self.stop(run_id);
            let mut exited = worker.exited.clone();
            let _ = tokio::time::timeout(
                self.stop_timeout * 3 + Duration::from_secs(2),
                until_true(&mut exited),
            )
            .await;
        }
        // Let the exit tasks settle the runs.
        for _ in 0..50 {
            if self.workers().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The program (and environment) workers run; `noctune patchset` runs with it too.
    pub fn command(&self) -> &WorkerCommand {
        &self.command
    }

    /// The run store.
    pub fn store(&self) -> &RunStore {
        &self.store
    }

    /// Runs marked starting, running or stopping that no worker of this daemon drives: settles those
    /// whose process died (lock free), leaves those another process still drives.
    pub async fn settle_others(&self) {
        let live = self.live_runs();
        let store = self.store.clone();
        let result = tokio::task::spawn_blocking(move || -> Result<Vec<RunId>> {
            let mut settled = Vec::new();
            for record in store.list()? {
                if live.contains(&record.run_id) || !record.status.is_driven() {
                    continue;
                }
                if settle_external(&store, &record.run_id)? {
                    settled.push(record.run_id);
                }
            }
            Ok(settled)
        })
        .await;
        match result {
            Ok(Ok(settled)) => {
                for run_id in settled {
                    tracing::warn!(run_id = %run_id, "marked failed: its worker died");
                }
            }
            Ok(Err(err)) => tracing::warn!("cannot settle runs: {err}"),
            Err(err) => tracing::warn!("cannot settle runs: {err}"),
        }
    }
}

fn signal(pid: u32, sig: rustix::process::Signal) {
    let Some(pid) = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
    else {
        return;
    };
    if let Err(err) = rustix::process::kill_process(pid, sig) {
        tracing::warn!(
            pid = pid.as_raw_nonzero().get(),
            "cannot signal the worker: {err}"
        );
    }
}

/// Resolves once the watched flag is `true` (or its sender is gone).
pub async fn until_true(flag: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = flag.wait_for(|value| *value).await;
}
