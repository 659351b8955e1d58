//! `serve`: bind, write the token, reconcile runs, then accept connections in a hyper-util
//! loop (so the header-read timeout is armed) until a shutdown is asked for.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::daemon_file::{DaemonInfo, read_daemon_file, remove_daemon_file, write_daemon_file};
use crate::error::{Error, Result};
use crate::routes::build_app;
use crate::state::{AppState, StateOptions, studio_dir};
use crate::token;
use crate::worker::{WorkerCommand, reconcile};

/// How long a client gets to send a request's headers.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(5);

/// What `serve` is asked for.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The repository root.
    pub root: PathBuf,
    /// The address to bind (loopback unless asked otherwise).
    pub host: IpAddr,
    /// The port; 0 picks a free one.
    pub port: u16,
    /// How workers are started (the daemon's own executable by default).
    pub worker: WorkerCommand,
    /// How long a worker gets at each step of a stop.
    pub stop_timeout: Duration,
    /// How many live event tails may be open at once.
    pub max_tails: usize,
}

impl ServeOptions {
    /// Loopback, port 7331, the current executable as worker.
    pub fn new(root: &Path) -> Result<Self> {
        Ok(Self {
            root: root.to_path_buf(),
            host: IpAddr::from([127, 0, 0, 1]),
            port: 7331,
            worker: WorkerCommand::current_exe()
                .map_err(|err| Error::io("find the current executable", "noctune", err))?,
            stop_timeout: Duration::from_secs(10),
            max_tails: 64,
        })
    }
}

/// A running daemon.
#[derive(Debug)]
pub struct Studio {
    url: String,
    addr: SocketAddr,
    state: AppState,
    task: tokio::task::JoinHandle<()>,
}

impl Studio {
    /// The URL to open in a browser: `http://127.0.0.1:P/?token=T`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The shared state (for tests and embedders).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Asks the daemon to shut down (as `POST /api/shutdown` does).
    pub fn shutdown(&self) {
        self.state.request_shutdown();
    }

    /// Waits until the daemon has shut down: connections drained, workers stopped, the
    /// daemon file removed.
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Starts the daemon: binds, writes the token file (0600) and `daemon.json`, reconciles runs
/// whose workers died, and serves until [`Studio::shutdown`] or `POST /api/shutdown`.
pub async fn serve(options: ServeOptions) -> Result<Studio> {
    let root = std::path::absolute(&options.root)
        .map_err(|err| Error::io("resolve", &options.root, err))?;
    if !options.host.is_loopback() {
        tracing::warn!(
            host = %options.host,
            "Studio listens on a non-loopback address: anyone who can reach it still needs the token"
        );
    }
    let dir = studio_dir(&root);
    std::fs::create_dir_all(&dir).map_err(|err| Error::io("create directory", &dir, err))?;
    refuse_a_second_daemon(&root, &dir)?;
    let bind = SocketAddr::new(options.host, options.port);
    let listener = TcpListener::bind(bind)
        .await
        .map_err(|err| Error::io("listen on", bind.to_string(), err))?;
    let addr = listener
        .local_addr()
        .map_err(|err| Error::io("read the address of", bind.to_string(), err))?;
    let token = token::generate()?;
    token::write_token_file(&dir.join("token"), &token)?;
    let state = AppState::new(StateOptions {
        root: root.clone(),
        host: options.host,
        port: addr.port(),
        token: token.clone(),
        worker: options.worker,
        stop_timeout: options.stop_timeout,
        max_tails: options.max_tails,
    })?;
    let store = state.store.clone();
    let settled = tokio::task::spawn_blocking(move || reconcile(&store))
        .await
        .map_err(|err| Error::Refused(format!("reconcile failed: {err}")))??;
    for run_id in settled {
        tracing::warn!(run_id = %run_id, "marked failed at start: its worker died");
    }
    state.ingest_all().await;
    let host = match options.host {
        IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".to_owned(),
        IpAddr::V4(ip) => ip.to_string(),
        IpAddr::V6(ip) if ip.is_unspecified() => "[::1]".to_owned(),
        IpAddr::V6(ip) => format!("[{ip}]"),
    };
    let base = format!("http://{host}:{}", addr.port());
    write_daemon_file(
        &dir,
        &DaemonInfo {
            pid: std::process::id(),
            host: host.clone(),
            port: addr.port(),
            url: format!("{base}/"),
        },
    )?;
    let task = tokio::spawn(run(listener, state.clone(), dir));
    Ok(Studio {
        url: format!("{base}/?token={token}"),
        addr,
        state,
        task,
    })
}

async fn run(listener: TcpListener, state: AppState, dir: PathBuf) {
    let app = build_app(state.clone());
    let graceful = GracefulShutdown::new();
    let mut shutdown = state.shutdown.subscribe();
    let ingest = tokio::spawn(crate::ingest_loop::run(state.clone()));
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(pair) => pair,
                    Err(err) => {
                        tracing::warn!("accept failed: {err}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let service = TowerToHyperService::new(app.clone());
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(HEADER_READ_TIMEOUT)
                    .max_buf_size(64 * 1024)
                    .serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(err) = conn.await {
                        tracing::debug!("connection ended: {err}");
                    }
                });
            }
            () = crate::worker::until_true(&mut shutdown) => break,
        }
    }
    drop(listener);
    tracing::info!("shutting down: stopping workers");
    state.supervisor.shutdown().await;
    ingest.abort();
    state.ingest_all().await;
    if tokio::time::timeout(Duration::from_secs(5), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after 5 s; closing");
    }
    remove_daemon_file(&dir);
}

/// One daemon per root: when `daemon.json` names a daemon that still answers on its port,
/// starting another (which would replace its token) is refused.
fn refuse_a_second_daemon(root: &Path, dir: &Path) -> Result<()> {
    let Some(info) = read_daemon_file(dir)? else {
        return Ok(());
    };
    let authority = format!("{}:{}", info.host, info.port);
    let alive = std::net::ToSocketAddrs::to_socket_addrs(&authority)
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| {
            std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
        });
    if alive {
        return Err(Error::Refused(format!(
            "a Studio daemon already runs for `{}` at {} (pid {}); stop it with \
             `noctune studio stop --root {}`",
            root.display(),
            info.url,
            info.pid,
            root.display()
        )));
    }
    Ok(())
}
