//! The audit database `.noctune_cache/studio/audit.db`: runs, events, approvals and decisions
//! ingested from the run store, one row per state-changing API call (and per rejected
//! request), and `noctune commit`'s history. One connection, owned by one thread; async code sends it closures.

pub mod commits;
mod ingest;
pub mod query;
mod schema;

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use rusqlite::Connection;

pub use commits::{CommitHistoryRow, commit_history, record_commit_history};
pub use ingest::ingest_run;
pub use query::{AuditRow, StoredApproval, StoredRun};

use crate::error::{Error, Result};

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// `.noctune_cache/studio/audit.db` of the repository at `root`.
pub fn audit_db_path(root: &Path) -> PathBuf {
    crate::state::studio_dir(root).join("audit.db")
}

/// The handle to the audit database: cheap to clone, every call runs on the database thread.
#[derive(Debug, Clone)]
pub struct Db {
    jobs: mpsc::Sender<Job>,
    path: PathBuf,
}

impl Db {
    /// Opens (creating) the database at `path` in WAL mode with a busy timeout, creates the
    /// tables, and starts the thread that owns the connection.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|err| Error::io("create directory", dir, err))?;
        }
        let db_err = |source| Error::Db {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_err)?;
        schema::create(&conn).map_err(db_err)?;
        let (jobs, receiver) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("studio-audit-db".to_owned())
            .spawn(move || {
                let mut conn = conn;
                while let Ok(job) = receiver.recv() {
                    job(&mut conn);
                }
            })
            .map_err(|err| Error::io("start the database thread for", path, err))?;
        Ok(Self {
            jobs,
            path: path.to_path_buf(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the database thread and returns its result.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = reply.send(f(conn));
        });
        self.jobs.send(job).map_err(|_| Error::DbClosed)?;
        answer.await.map_err(|_| Error::DbClosed)?
    }

    /// A closure's SQLite error as this database's [`Error::Db`].
    pub fn error(path: &Path) -> impl Fn(rusqlite::Error) -> Error + '_ {
        move |source| Error::Db {
            path: path.to_path_buf(),
            source,
        }
    }
}
