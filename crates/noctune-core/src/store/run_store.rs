//! Creating, opening and updating runs.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::atomic::write_atomic;
use super::events::{EventLog, read_events};
use super::layout::{CacheLayout, RunLayout};
use super::lock::RunLock;
use super::stop_marker::StopMarker;
use crate::error::{Error, Result};
use crate::event::{Event, EventType};
use crate::ids::{RunId, TaskId};
use crate::run::{ResumePolicy, RunRecord, RunStatus};
use crate::task::TaskState;

/// The runs of one repository.
#[derive(Debug, Clone)]
pub struct RunStore {
    root: PathBuf,
    cache: CacheLayout,
}

/// What a new run records about itself.
#[derive(Debug, Clone, Default)]
pub struct RunSpec {
    /// The id; generated from the time when `None`.
    pub run_id: Option<RunId>,
    /// The policy pack.
    pub pack: Option<String>,
    /// The model profile.
    pub profile: Option<String>,
    /// The git branch, when known.
    pub branch: Option<String>,
    /// The git HEAD, when known.
    pub head_sha: Option<String>,
    /// What a resume does.
    pub resume_policy: ResumePolicy,
    /// The command that creates the run (`review`, `edit`, `repair`, `run`).
    pub command: Option<String>,
    /// Whether the creating process drives the run at once: `run.json` is written `starting`
    /// rather than `queued` (which waits for a worker).
    pub starting: bool,
}

impl RunStore {
    /// The store of the repository at `root`.
    pub fn new(root: &Path) -> Self {
        let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
        Self {
            cache: CacheLayout::for_root(&root),
            root,
        }
    }

    /// The cache layout.
    pub fn cache(&self) -> &CacheLayout {
        &self.cache
    }

    /// Creates a run, writes `run.json` (status `queued`, or `starting` when the spec says so)
    /// and a `run_created` event, and takes its lock. Fails if a run with that id exists.
    pub fn create(&self, spec: RunSpec) -> Result<Run> {
        let run_id = spec.run_id.unwrap_or_else(RunId::generate);
        let layout = self.cache.run(&run_id);
        if layout.run_json().exists() {
            return Err(Error::Refused(format!(
                "run `{run_id}` exists already; resume it with `--run-id {run_id}` or pick another id"
            )));
        }
        self.cache.ensure()?;
        for dir in [layout.state(), layout.tasks(), layout.logs()] {
            fs::create_dir_all(&dir).map_err(|err| Error::io("create directory", &dir, err))?;
        }
        let lock = RunLock::acquire(&layout.lock(), run_id.as_str())?;
        let now = Timestamp::now();
        let record = RunRecord {
            run_id: run_id.clone(),
            status: if spec.starting {
                RunStatus::Starting
            } else {
                RunStatus::Queued
            },
            started_at: now,
            updated_at: now,
            ended_at: None,
            repo_root: self.root.clone(),
            pack: spec.pack,
            profile: spec.profile,
            branch: spec.branch,
            head_sha: spec.head_sha,
            error: None,
            resume_policy: spec.resume_policy,
            command: spec.command,
        };
        write_json(&layout.run_json(), &record)?;
        let events = EventLog::open(&layout.events())?;
        let repo_root = record.repo_root.clone();
        let run = Run::new(layout, record, events, lock);
        run.event(
            EventType::RunCreated,
            None,
            serde_json::json!({ "repo_root": repo_root }),
        )?;
        Ok(run)
    }

    /// Opens an existing run to drive it (resume), taking its lock. A lock left by a dead
    /// process is taken over and logged as `lock_recovered`.
    pub fn open(&self, run_id: &RunId) -> Result<Run> {
        let layout = self.cache.run(run_id);
        let record = self.read(run_id)?;
        let lock = RunLock::acquire(&layout.lock(), run_id.as_str())?;
        let events = EventLog::open(&layout.events())?;
        let run = Run::new(layout, record, events, lock);
        if let Some(previous) = run._lock.recovered_from() {
            run.event(
                EventType::LockRecovered,
                None,
                serde_json::json!({ "previous_holder": previous }),
            )?;
        }
        Ok(run)
    }

    /// Reads a run's `run.json` without taking the lock (for `status`, the daemon, MCP).
    pub fn read(&self, run_id: &RunId) -> Result<RunRecord> {
        let path = self.cache.run(run_id).run_json();
        if !path.exists() {
            return Err(Error::RunNotFound {
                run_id: run_id.to_string(),
                dir: self.cache.runs(),
            });
        }
        read_json(&path)
    }

    /// Every run, newest first (by `started_at`). Directories without a readable `run.json`
    /// are skipped with a warning.
    pub fn list(&self) -> Result<Vec<RunRecord>> {
        let dir = self.cache.runs();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(Error::io("read directory", &dir, err)),
        };
        let mut runs = Vec::new();
        for entry in entries.flatten() {
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let Ok(run_id) = RunId::new(name) else {
                continue;
            };
            match self.read(&run_id) {
                Ok(record) => runs.push(record),
                Err(err) => tracing::warn!("skipping run `{run_id}`: {err}"),
            }
        }
        runs.sort_by(|a, b| {
            b.started_at
                .cmp(&a.started_at)
                .then_with(|| b.run_id.cmp(&a.run_id))
        });
        Ok(runs)
    }

    /// The newest run, if any.
    pub fn latest(&self) -> Result<Option<RunRecord>> {
        Ok(self.list()?.into_iter().next())
    }

    /// The task states of a run, sorted by file.
    pub fn tasks(&self, run_id: &RunId) -> Result<Vec<TaskState>> {
        let dir = self.cache.run(run_id).tasks();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(Error::io("read directory", &dir, err)),
        };
        let mut tasks: Vec<TaskState> = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|ext| ext == "json") {
                tasks.push(read_json(&path)?);
            }
        }
        tasks.sort_by(|a, b| a.file.cmp(&b.file));
        Ok(tasks)
    }

    /// Reads an artifact of a task without taking the run lock (reports, the daemon).
    pub fn artifact(
        &self,
        run_id: &RunId,
        task_id: &TaskId,
        name: &str,
    ) -> Result<Option<Vec<u8>>> {
        let path = self.cache.run(run_id).artifacts(task_id).join(name);
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(Error::io("read", path, err)),
        }
    }

    /// Events of a run after a cursor (for tails), without taking the lock.
    pub fn events(&self, run_id: &RunId, after: u64, limit: usize) -> Result<Vec<Event>> {
        read_events(&self.cache.run(run_id).events(), after, limit)
    }
}

/// A run being driven by this process. Holds the run's lock until dropped (with the handles
/// the run loop gives the files in flight, until the last of them is dropped).
#[derive(Debug)]
pub struct Run {
    run_id: RunId,
    layout: RunLayout,
    shared: Arc<Shared>,
    _lock: Arc<RunLock>,
}

/// What the process driving a run shares between the run loop and its [`StopMarker`]:
/// `run.json` is changed by one of them at a time.
#[derive(Debug)]
pub(super) struct Shared {
    run_json: PathBuf,
    record: Mutex<RunRecord>,
    events: EventLog,
    /// Set once a stop was marked in this process: a later `running` keeps `stopping`.
    stop_marked: AtomicBool,
    /// Held while a real file is replaced: one apply at a time, however many files are in
    /// flight.
    apply: Mutex<()>,
}

impl Shared {
    /// `run.json` as last written.
    pub(super) fn record(&self) -> RunRecord {
        self.lock().clone()
    }

    /// Changes `run.json` and writes it atomically (`updated_at` is set; `ended_at` too when
    /// the status becomes final), all under the record's lock.
    pub(super) fn update(&self, change: impl FnOnce(&mut RunRecord)) -> Result<()> {
        self.update_if(|record| {
            change(record);
            true
        })
        .map(|_| ())
    }

    /// Like [`Shared::update`], when `change` says it changed something; returns that.
    fn update_if(&self, change: impl FnOnce(&mut RunRecord) -> bool) -> Result<bool> {
        let mut guard = self.lock();
        let mut record = guard.clone();
        if !change(&mut record) {
            return Ok(false);
        }
        let now = Timestamp::now();
        record.updated_at = now;
        if record.status.is_final() && record.ended_at.is_none() {
            record.ended_at = Some(now);
        }
        if !record.status.is_final() {
            record.ended_at = None;
        }
        write_json(&self.run_json, &record)?;
        *guard = record;
        Ok(true)
    }

    /// Marks a stop in progress: `stopping` when the run is `starting` or `running`.
    /// Returns whether the status changed.
    pub(super) fn mark_stopping(&self) -> Result<bool> {
        let changed = self.update_if(|record| {
            let live = matches!(record.status, RunStatus::Starting | RunStatus::Running);
            if live {
                record.status = RunStatus::Stopping;
            }
            live
        })?;
        if changed {
            self.stop_marked.store(true, Ordering::SeqCst);
        }
        Ok(changed)
    }

    /// Appends an event.
    pub(super) fn event(
        &self,
        event_type: EventType,
        task_id: Option<&TaskId>,
        payload: serde_json::Value,
    ) -> Result<Event> {
        self.events.append(event_type, task_id, payload)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RunRecord> {
        self.record
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Run {
    fn new(layout: RunLayout, record: RunRecord, events: EventLog, lock: RunLock) -> Self {
        Self {
            run_id: record.run_id.clone(),
            shared: Arc::new(Shared {
                run_json: layout.run_json(),
                record: Mutex::new(record),
                events,
                stop_marked: AtomicBool::new(false),
                apply: Mutex::new(()),
            }),
            layout,
            _lock: Arc::new(lock),
        }
    }

    /// Another handle on the same run, for a file in flight on its own task: the same
    /// `run.json`, event log and apply lock.
    pub(crate) fn handle(&self) -> Self {
        Self {
            run_id: self.run_id.clone(),
            layout: self.layout.clone(),
            shared: self.shared.clone(),
            _lock: self._lock.clone(),
        }
    }

    /// The run's id.
    pub fn id(&self) -> &RunId {
        &self.run_id
    }

    /// `run.json` as last written (by the run loop or by the [`StopMarker`]).
    pub fn record(&self) -> RunRecord {
        self.shared.record()
    }

    /// A handle that marks the run `stopping` from outside the run loop (a signal handler),
    /// while the loop goes on to its next safe point.
    pub fn stop_marker(&self) -> StopMarker {
        StopMarker::new(self.shared.clone())
    }

    /// The run's apply lock: real files are replaced one at a time while it is held (see
    /// [`apply_change`](crate::pipeline::apply::apply_change)).
    pub fn apply_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.shared
            .apply
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The run's paths.
    pub fn layout(&self) -> &RunLayout {
        &self.layout
    }

    /// Changes `run.json` and writes it atomically (`updated_at` is set; `ended_at` too when
    /// the status becomes final).
    pub fn update(&mut self, change: impl FnOnce(&mut RunRecord)) -> Result<()> {
        self.shared.update(change)
    }

    /// Sets the status (and the error, for `failed`) and logs the matching event. A stop
    /// marked in this process is not undone: `running` then keeps `stopping`.
    pub fn set_status(&mut self, status: RunStatus, error: Option<String>) -> Result<()> {
        let keep_stopping =
            status == RunStatus::Running && self.shared.stop_marked.load(Ordering::SeqCst);
        self.update(|record| {
            if !(keep_stopping && record.status == RunStatus::Stopping) {
                record.status = status;
            }
            record.error = error.clone();
        })?;
        let event_type = match status {
            RunStatus::Queued | RunStatus::Starting => return Ok(()),
            RunStatus::Running => EventType::RunStarted,
            RunStatus::Stopping => EventType::RunStopping,
            RunStatus::Stopped => EventType::Stopped,
            RunStatus::Completed => EventType::RunCompleted,
            RunStatus::Failed => EventType::RunFailed,
        };
        let payload = match error {
            Some(error) => serde_json::json!({ "error": error }),
            None => serde_json::json!({}),
        };
        self.event(event_type, None, payload)?;
        Ok(())
    }

    /// Appends an event.
    pub fn event(
        &self,
        event_type: EventType,
        task_id: Option<&TaskId>,
        payload: serde_json::Value,
    ) -> Result<Event> {
        self.shared.event(event_type, task_id, payload)
    }

    /// Writes a task's state.
    pub fn write_task(&self, state: &TaskState) -> Result<()> {
        write_json(&self.layout.task_state(&state.task_id), state)
    }

    /// Reads a task's state, `None` when the task has none yet.
    pub fn read_task(&self, task_id: &TaskId) -> Result<Option<TaskState>> {
        let path = self.layout.task_state(task_id);
        if !path.exists() {
            return Ok(None);
        }
        read_json(&path).map(Some)
    }

    /// Writes an artifact of a task (atomically, creating the directory).
    pub fn write_artifact(&self, task_id: &TaskId, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        let path = self.artifact_path(task_id, name)?;
        write_atomic(&path, bytes)?;
        Ok(path)
    }

    /// Appends to a log-like artifact (a transcript): one write, no rewrite of what is there.
    /// Unlike [`Run::write_artifact`] it is not atomic: a kill may leave a torn last line,
    /// which readers of JSONL logs skip.
    pub fn append_artifact(&self, task_id: &TaskId, name: &str, bytes: &[u8]) -> Result<PathBuf> {
        use std::io::Write as _;
        let path = self.artifact_path(task_id, name)?;
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|err| Error::io("open", &path, err))?;
        file.write_all(bytes)
            .map_err(|err| Error::io("append to", &path, err))?;
        Ok(path)
    }

    /// Reads an artifact, `None` when it does not exist (the stage has not run).
    pub fn read_artifact(&self, task_id: &TaskId, name: &str) -> Result<Option<Vec<u8>>> {
        let path = self.artifact_path(task_id, name)?;
        match fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(Error::io("read", path, err)),
        }
    }

    /// Saves the original content of a file before it is replaced, under
    /// `backups/<task_id>/<pass>/<file name>`; returns the backup's path.
    pub fn backup(
        &self,
        task_id: &TaskId,
        pass: u32,
        file: &Path,
        bytes: &[u8],
    ) -> Result<PathBuf> {
        let name = file.file_name().ok_or_else(|| {
            Error::Refused(format!("cannot back up `{}`: no file name", file.display()))
        })?;
        let dir = self.layout.backups(task_id).join(format!("p{pass}"));
        fs::create_dir_all(&dir).map_err(|err| Error::io("create directory", &dir, err))?;
        let path = dir.join(name);
        write_atomic(&path, bytes)?;
        Ok(path)
    }

    /// Records, in place of a backup, that `file` did not exist before pass `pass` created it:
    /// an empty `backups/<task>/p<N>/<name>.absent`, which `noctune restore` reads as "remove
    /// the file".
    pub fn backup_absent(&self, task_id: &TaskId, pass: u32, file: &Path) -> Result<PathBuf> {
        let name = file.file_name().ok_or_else(|| {
            Error::Refused(format!("cannot back up `{}`: no file name", file.display()))
        })?;
        let dir = self.layout.backups(task_id).join(format!("p{pass}"));
        fs::create_dir_all(&dir).map_err(|err| Error::io("create directory", &dir, err))?;
        let mut marker = name.to_os_string();
        marker.push(".absent");
        let path = dir.join(marker);
        write_atomic(&path, b"")?;
        Ok(path)
    }

    fn artifact_path(&self, task_id: &TaskId, name: &str) -> Result<PathBuf> {
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            return Err(Error::Refused(format!("invalid artifact name `{name}`")));
        }
        let dir = self.layout.artifacts(task_id);
        fs::create_dir_all(&dir).map_err(|err| Error::io("create directory", &dir, err))?;
        Ok(dir.join(name))
    }
}

/// Writes a value as pretty JSON, atomically.
pub(crate) fn write_json(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|err| Error::Corrupt {
        path: path.to_path_buf(),
        message: format!("cannot encode: {err}"),
    })?;
    bytes.push(b'\n');
    write_atomic(path, &bytes)
}

/// Reads a JSON file into a value, naming the file on error.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let bytes = fs::read(path).map_err(|err| Error::io("read", path, err))?;
    serde_json::from_slice(&bytes).map_err(|err| Error::Corrupt {
        path: path.to_path_buf(),
        message: err.to_string(),
    })
}

/// Reads a JSON file into a value, or `None` when there is no such file.
pub(crate) fn read_json_if_present<T: DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    match read_json(path) {
        Ok(value) => Ok(Some(value)),
        Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn run_json_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let mut run = store
            .create(RunSpec {
                run_id: Some(RunId::new("night-1").unwrap()),
                pack: Some("lint_fix".into()),
                branch: Some("main".into()),
                ..RunSpec::default()
            })
            .unwrap();
        run.set_status(RunStatus::Running, None).unwrap();
        run.set_status(RunStatus::Failed, Some("worker died".into()))
            .unwrap();
        let read = store.read(run.id()).unwrap();
        assert_eq!(read, run.record());
        assert_eq!(read.status, RunStatus::Failed);
        assert_eq!(read.error.as_deref(), Some("worker died"));
        assert!(read.ended_at.is_some());
        let text = fs::read_to_string(run.layout().run_json()).unwrap();
        for key in [
            "run_id",
            "status",
            "started_at",
            "updated_at",
            "ended_at",
            "repo_root",
            "pack",
            "profile",
            "branch",
            "head_sha",
            "error",
            "resume_policy",
        ] {
            assert!(
                text.contains(&format!("\"{key}\"")),
                "{key} missing: {text}"
            );
        }
    }

    #[test]
    fn a_run_is_driven_by_one_process_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let run = store.create(RunSpec::default()).unwrap();
        let id = run.id().clone();
        assert!(matches!(store.open(&id), Err(Error::RunLocked { .. })));
        drop(run);
        let reopened = store.open(&id).unwrap();
        assert_eq!(reopened.record().status, RunStatus::Queued);
    }

    #[test]
    fn events_continue_across_reopen_and_status_changes_are_logged() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let mut run = store.create(RunSpec::default()).unwrap();
        run.set_status(RunStatus::Running, None).unwrap();
        let id = run.id().clone();
        drop(run);
        let mut run = store.open(&id).unwrap();
        run.set_status(RunStatus::Stopped, None).unwrap();
        let events = store.events(&id, 0, 100).unwrap();
        let types: Vec<_> = events.iter().map(|e| (e.idx, e.event_type)).collect();
        assert_eq!(
            types,
            vec![
                (1, EventType::RunCreated),
                (2, EventType::RunStarted),
                (3, EventType::Stopped),
            ]
        );
    }

    #[test]
    fn list_is_newest_first_and_missing_runs_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        assert!(store.list().unwrap().is_empty());
        let a = store
            .create(RunSpec {
                run_id: Some(RunId::new("a").unwrap()),
                ..RunSpec::default()
            })
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(5));
        let b = store
            .create(RunSpec {
                run_id: Some(RunId::new("b").unwrap()),
                ..RunSpec::default()
            })
            .unwrap();
        let ids: Vec<_> = store
            .list()
            .unwrap()
            .into_iter()
            .map(|r| r.run_id)
            .collect();
        assert_eq!(ids, vec![b.id().clone(), a.id().clone()]);
        let err = store
            .read(&RunId::new("zzz").unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no run `zzz`"), "{err}");
        assert!(
            store
                .create(RunSpec {
                    run_id: Some(RunId::new("a").unwrap()),
                    ..RunSpec::default()
                })
                .is_err()
        );
    }

    #[test]
    fn artifacts_tasks_and_backups() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let run = store.create(RunSpec::default()).unwrap();
        let state = TaskState::new(PathBuf::from("pkg/a.py"));
        let task = state.task_id.clone();
        assert_eq!(run.read_task(&task).unwrap(), None);
        run.write_task(&state).unwrap();
        assert_eq!(run.read_task(&task).unwrap(), Some(state));
        assert_eq!(run.read_artifact(&task, "review.md").unwrap(), None);
        run.write_artifact(&task, "review.md", b"label: W").unwrap();
        assert_eq!(
            run.read_artifact(&task, "review.md").unwrap().as_deref(),
            Some(&b"label: W"[..])
        );
        assert!(run.write_artifact(&task, "../escape", b"x").is_err());
        let backup = run.backup(&task, 1, Path::new("pkg/a.py"), b"old").unwrap();
        assert!(backup.ends_with(format!("backups/{task}/p1/a.py")));
        assert_eq!(fs::read(backup).unwrap(), b"old");
    }

    #[test]
    fn corrupt_run_json_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = RunStore::new(dir.path());
        let run = store.create(RunSpec::default()).unwrap();
        fs::write(run.layout().run_json(), "{").unwrap();
        let err = store.read(run.id()).unwrap_err().to_string();
        assert!(err.contains("run.json"), "{err}");
    }
}
