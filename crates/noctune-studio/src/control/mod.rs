//! What the daemon's HTTP API and the MCP server both do to runs: start one (a worker child
//! process, `noctune run` or `noctune task`), show runs, tail events, list approvals, decide one (and resume the run to apply
//! it), stop a run, read its report. Callers check their own arguments' shapes, say who is
//! asking, and write their own audit rows; the rules live here once.

mod approvals;
mod patchsets;
mod runs;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use noctune_core::RunId;
use noctune_core::store::RunStore;

pub use approvals::{ApprovalView, Decided};
pub use runs::{
    MAX_REQUEST_BYTES, RunView, StartRequest, TaskStartRequest, TaskView, WorkerView, check_file,
    check_pack, check_path, check_request,
};

use crate::audit::query::{events_after, get_run, list_runs};
use crate::audit::{AuditRow, Db, StoredRun, ingest_run};
use crate::error::{ApiError, Error, Result};
use crate::state::studio_dir;
use crate::worker::{Supervisor, WorkerCommand};

/// One repository's run store, audit database and workers: cheap to clone.
#[derive(Debug, Clone)]
pub struct Control {
    /// The repository root (absolute).
    pub root: Arc<PathBuf>,
    /// The run store.
    pub store: RunStore,
    /// The audit database.
    pub db: Db,
    /// The run workers.
    pub supervisor: Arc<Supervisor>,
}

/// A page of events after a cursor.
#[derive(Debug, Clone, PartialEq, serde::Serialize, schemars::JsonSchema)]
pub struct EventPage {
    /// The events with `idx` greater than the cursor, oldest first.
    pub events: Vec<noctune_core::Event>,
    /// The cursor for the next page: the last event's `idx` (the given cursor when none).
    pub next_cursor: u64,
}

impl Control {
    /// Opens the audit database of the repository at `root` (absolute) and builds the
    /// supervisor of its workers.
    pub fn open(root: &Path, worker: WorkerCommand, stop_timeout: Duration) -> Result<Self> {
        let dir = studio_dir(root);
        let db = Db::open(&crate::audit::audit_db_path(root))?;
        let supervisor = Arc::new(Supervisor::new(
            root,
            &dir,
            worker,
            db.clone(),
            stop_timeout,
        ));
        Ok(Self {
            root: Arc::new(root.to_path_buf()),
            store: RunStore::new(root),
            db,
            supervisor,
        })
    }

    /// Ingests one run into the audit database.
    pub async fn ingest(&self, run_id: &RunId) {
        self.supervisor.ingest(run_id).await;
    }

    /// Ingests every run of the store.
    pub async fn ingest_all(&self) {
        let store = self.store.clone();
        let path = self.db.path().to_path_buf();
        let result = self
            .db
            .call(move |conn| {
                for run in store.list()? {
                    ingest_run(conn, &store, &run.run_id).map_err(Db::error(&path))?;
                }
                Ok(())
            })
            .await;
        if let Err(err) = result {
            tracing::warn!("ingest failed: {err}");
        }
    }

    /// Writes an audit row (failures are logged, never fatal to the request).
    pub async fn audit(&self, row: AuditRow) {
        let path = self.db.path().to_path_buf();
        let result = self
            .db
            .call(move |conn| {
                crate::audit::query::insert_audit(conn, &row).map_err(Db::error(&path))
            })
            .await;
        if let Err(err) = result {
            tracing::error!("cannot write an audit row: {err}");
        }
    }

    /// Reads one run from the audit database (after ingesting it), or `NotFound`.
    pub async fn load_run(&self, run_id: &RunId) -> Result<StoredRun, ApiError> {
        self.ingest(run_id).await;
        let id = run_id.as_str().to_owned();
        let path = self.db.path().to_path_buf();
        self.db
            .call(move |conn| get_run(conn, &id).map_err(Db::error(&path)))
            .await?
            .ok_or_else(|| ApiError::NotFound(format!("no run `{run_id}`")))
    }

    /// One run as the API shows it (with a task run's request and outcome).
    pub async fn run(&self, run_id: &RunId) -> Result<RunView, ApiError> {
        let stored = self.load_run(run_id).await?;
        let task = self.task_view(&stored).await?;
        Ok(RunView {
            task,
            ..self.view(stored)
        })
    }

    /// Every run, newest first.
    pub async fn runs(&self) -> Result<Vec<RunView>, ApiError> {
        self.ingest_all().await;
        let path = self.db.path().to_path_buf();
        let runs = self
            .db
            .call(move |conn| list_runs(conn).map_err(Db::error(&path)))
            .await?;
        Ok(runs.into_iter().map(|r| self.view(r)).collect())
    }

    /// Events of a known run with `idx > cursor`, at most `limit`.
    pub async fn events_after(
        &self,
        run_id: &RunId,
        cursor: u64,
        limit: u64,
    ) -> Result<Vec<noctune_core::Event>, ApiError> {
        let id = run_id.as_str().to_owned();
        let path = self.db.path().to_path_buf();
        Ok(self
            .db
            .call(move |conn| events_after(conn, &id, cursor, limit).map_err(Db::error(&path)))
            .await?)
    }

    /// A page of a run's events after `cursor` (`NotFound` for an unknown run).
    pub async fn events(
        &self,
        run_id: &RunId,
        cursor: u64,
        limit: u64,
    ) -> Result<EventPage, ApiError> {
        self.load_run(run_id).await?;
        let events = self.events_after(run_id, cursor, limit).await?;
        let next_cursor = events.last().map_or(cursor, |e| e.idx);
        Ok(EventPage {
            events,
            next_cursor,
        })
    }

    /// The run's morning report, as data and as markdown.
    pub async fn report(
        &self,
        run_id: &RunId,
    ) -> Result<(noctune_core::report::RunReport, String), ApiError> {
        let store = self.store.clone();
        let id = run_id.clone();
        let report = tokio::task::spawn_blocking(move || noctune_core::report::gather(&store, &id))
            .await
            .map_err(|err| ApiError::Internal(Error::Refused(format!("task failed: {err}"))))??;
        let markdown = noctune_core::report::markdown::render(&report);
        Ok((report, markdown))
    }
}
