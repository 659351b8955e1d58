//! The daemon's shared state: `State<AppState>` in every handler, `Arc` fields, cheap to clone.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use noctune_core::RunId;
use noctune_core::store::{CACHE_DIR, RunStore};
use tokio::sync::{Semaphore, watch};

use crate::audit::{AuditRow, Db};
use crate::control::Control;
use crate::error::Result;
use crate::token::{TokenDigest, csrf_token};
use crate::worker::{Supervisor, WorkerCommand};

/// The largest request body accepted on any route.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// What the state is built from.
#[derive(Debug, Clone)]
pub struct StateOptions {
    /// The repository root (absolute).
    pub root: PathBuf,
    /// The address the daemon is bound to.
    pub host: IpAddr,
    /// The port the daemon listens on (part of the Host and Origin allowlists).
    pub port: u16,
    /// The access token (kept here only as a digest).
    pub token: String,
    /// How workers are started.
    pub worker: WorkerCommand,
    /// How long a worker gets at each step of a stop before the next escalates.
    pub stop_timeout: Duration,
    /// How many live event tails (SSE) may be open at once.
    pub max_tails: usize,
}

/// Shared state of the daemon.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The repository root.
    pub root: Arc<PathBuf>,
    /// The run store (the same module the CLI uses).
    pub store: RunStore,
    /// The token's digest.
    pub token: Arc<TokenDigest>,
    /// The CSRF token the web page sends with state changes.
    pub csrf: Arc<String>,
    /// Accepted `Host` header values.
    pub hosts: Arc<Vec<String>>,
    /// Accepted `Origin` header values.
    pub origins: Arc<Vec<String>>,
    /// The audit database.
    pub db: Db,
    /// The run workers.
    pub supervisor: Arc<Supervisor>,
    /// Permits for live tails.
    pub tails: Arc<Semaphore>,
    /// Set to `true` to shut the daemon down.
    pub shutdown: Arc<watch::Sender<bool>>,
    /// The content version of the embedded assets (their URL prefix).
    pub asset_version: Arc<String>,
    /// The chat: its sessions and messages in flight.
    pub chat: Arc<crate::chat::Chat>,
}

/// `.noctune_cache/studio` under a root.
pub fn studio_dir(root: &Path) -> PathBuf {
    root.join(CACHE_DIR).join("studio")
}

impl AppState {
    /// Opens the audit database and builds the state.
    pub fn new(options: StateOptions) -> Result<Self> {
        let control = Control::open(&options.root, options.worker, options.stop_timeout)?;
        let port = options.port;
        let mut names = vec![
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("[::1]:{port}"),
        ];
        let bound = match options.host {
            IpAddr::V4(ip) => format!("{ip}:{port}"),
            IpAddr::V6(ip) => format!("[{ip}]:{port}"),
        };
        if !options.host.is_unspecified() && !names.contains(&bound) {
            names.push(bound);
        }
        let origins = names.iter().map(|h| format!("http://{h}")).collect();
        let (shutdown, _) = watch::channel(false);
        Ok(Self {
            store: control.store,
            root: control.root,
            token: Arc::new(TokenDigest::of(&options.token)),
            csrf: Arc::new(csrf_token(&options.token)),
            hosts: Arc::new(names),
            origins: Arc::new(origins),
            db: control.db,
            supervisor: control.supervisor,
            tails: Arc::new(Semaphore::new(options.max_tails)),
            shutdown: Arc::new(shutdown),
            asset_version: Arc::new(crate::routes::assets::version()),
            chat: Arc::new(crate::chat::Chat::new(&options.root)),
        })
    }

    /// The run operations over this state's store, database and workers.
    pub fn control(&self) -> Control {
        Control {
            root: self.root.clone(),
            store: self.store.clone(),
            db: self.db.clone(),
            supervisor: self.supervisor.clone(),
        }
    }

    /// Ingests one run into the audit database.
    pub async fn ingest(&self, run_id: &RunId) {
        self.supervisor.ingest(run_id).await;
    }

    /// Ingests every run of the store.
    pub async fn ingest_all(&self) {
        self.control().ingest_all().await;
    }

    /// Writes an audit row (failures are logged, never fatal to the request).
    pub async fn audit(&self, row: AuditRow) {
        self.control().audit(row).await;
    }

    /// Asks the daemon to shut down.
    pub fn request_shutdown(&self) {
        self.shutdown.send_replace(true);
    }
}
