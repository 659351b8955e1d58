//! One running external MCP server: a child process speaking MCP over its stdin and stdout
//! (no shell), with rmcp's client on our side. Its stderr is logged and its last lines kept
//! for error messages; its exit is watched, so a call fails as soon as the server dies (even
//! when a process it started still holds its stdout open). It runs in a process group of its
//! own, killed (with whatever the server started, such as the `node` under `npx`) when the
//! connection is dropped.

use std::collections::VecDeque;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use noctune_core::config::McpServerSettings;
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation, Tool};
use rmcp::service::{Peer, RunningService};
use rmcp::{RoleClient, ServiceExt};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{ChildStderr, Command};
use tokio::sync::watch;

/// The variables a server inherits from the daemon; everything else it gets from its `env`
/// (so the model's API key and the daemon's token do not leak to another program).
pub const INHERITED_ENV: &[&str] = &[
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ",
];

/// How many lines of a server's stderr are kept for error messages.
const STDERR_LINES: usize = 20;
/// The longest stderr line kept, in characters.
const STDERR_LINE_CHARS: usize = 400;
/// How long a dying server gets to be reaped and have its last stderr lines read, so an
/// error can say how it ended.
const SETTLE: Duration = Duration::from_millis(200);

/// A started server and the tools it listed.
pub struct Connection {
    /// The settings it was started with (a change in the config restarts it).
    pub settings: McpServerSettings,
    /// Its tools, as listed once after the handshake.
    pub tools: Vec<Tool>,
    service: RunningService<RoleClient, ClientConfig>,
    process: ServerProcess,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("settings", &self.settings)
            .field("tools", &self.tools.len())
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Starts server `name` in `root`, does the MCP handshake and lists its tools, all
    /// within the server's `start_timeout`; the error says why (with how it ended and the end of its
    /// stderr).
    pub async fn start(
        name: &str,
        root: &Path,
        settings: &McpServerSettings,
    ) -> Result<Self, String> {
        let mut command = Command::new(&settings.command);
        command
            .args(&settings.args)
            .current_dir(root)
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        for var in INHERITED_ENV {
            if let Some(value) = std::env::var_os(var) {
                command.env(var, value);
            }
        }
        command.envs(&settings.env);
        let program = settings.command.display().to_string();
        let mut child = command.spawn().map_err(|err| {
            if err.kind() == std::io::ErrorKind::NotFound {
                format!("`{program}` was not found (command of `studio.mcp_servers.{name}`)")
            } else {
                format!("cannot run `{program}`: {err}")
            }
        })?;
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        if let Some(pipe) = child.stderr.take() {
            tokio::spawn(keep_stderr(name.to_owned(), pipe, stderr.clone()));
        }
        let pipes = (child.stdout.take(), child.stdin.take());
        let process = ServerProcess::watch(child, stderr);
        let (Some(stdout), Some(stdin)) = pipes else {
            return Err(format!("cannot open the pipes of `{program}`"));
        };
        let info = ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("noctune-studio", env!("CARGO_PKG_VERSION")),
        );
        let handshake = async {
            let service = info
                .serve((stdout, stdin))
                .await
                .map_err(|err| format!("the MCP handshake failed: {err}"))?;
            let tools = service
                .peer()
                .list_all_tools()
                .await
                .map_err(|err| format!("listing its tools failed: {err}"))?;
            Ok::<_, String>((service, tools))
        };
        let outcome = tokio::select! {
            outcome = tokio::time::timeout(settings.start_timeout, handshake) => outcome,
            status = process.exited() => {
                // Its last stderr lines may still be in the pipe.
                tokio::time::sleep(Duration::from_millis(50)).await;
                return Err(format!(
                    "it {} before the MCP handshake{}",
                    describe_exit(status),
                    tail_text(&process.stderr)
                ));
            }
        };
        match outcome {
            Ok(Ok((service, tools))) => Ok(Self {
                settings: settings.clone(),
                tools,
                service,
                process,
            }),
            Ok(Err(message)) => Err(format!("{message}{}", process.post_mortem().await)),
            Err(_) => Err(format!(
                "it did not answer the handshake within {}s (`start_timeout_s`){}",
                settings.start_timeout.as_secs(),
                process.post_mortem().await
            )),
        }
    }

    /// The client's handle for requests.
    pub fn peer(&self) -> &Peer<RoleClient> {
        self.service.peer()
    }

    /// Whether the process runs and the MCP session is open.
    pub fn is_alive(&self) -> bool {
        !self.service.is_closed() && self.process.status().is_none()
    }

    /// Resolves when the process has exited, with its status.
    pub async fn exited(&self) -> ExitStatus {
        self.process.exited().await
    }

    /// Why it is gone, for an error message: how it ended and the end of its stderr (after
    /// a moment for a dying process to be reaped).
    pub async fn post_mortem(&self) -> String {
        self.process.post_mortem().await
    }
}

/// A server's process: its exit, watched by a task that owns the child; its stderr lines;
/// its process group, killed on drop.
struct ServerProcess {
    exit: watch::Receiver<Option<ExitStatus>>,
    group: Option<rustix::process::Pid>,
    stderr: Arc<Mutex<VecDeque<String>>>,
}

impl ServerProcess {
    fn watch(mut child: tokio::process::Child, stderr: Arc<Mutex<VecDeque<String>>>) -> Self {
        let group = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .and_then(rustix::process::Pid::from_raw);
        let (sender, exit) = watch::channel(None);
        tokio::spawn(async move {
            if let Ok(status) = child.wait().await {
                sender.send_replace(Some(status));
            }
        });
        Self {
            exit,
            group,
            stderr,
        }
    }

    fn status(&self) -> Option<ExitStatus> {
        *self.exit.borrow()
    }

    async fn exited(&self) -> ExitStatus {
        let mut exit = self.exit.clone();
        loop {
            if let Some(status) = *exit.borrow_and_update() {
                return status;
            }
            if exit.changed().await.is_err() {
                // The watcher could not wait for the child: never resolve.
                std::future::pending::<()>().await;
            }
        }
    }

    async fn post_mortem(&self) -> String {
        let status = tokio::time::timeout(SETTLE, self.exited()).await.ok();
        // The last lines may still be in the pipe when the exit is seen.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let ended = status
            .map(|status| format!(" (it {})", describe_exit(status)))
            .unwrap_or_default();
        format!("{ended}{}", tail_text(&self.stderr))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(group) = self.group {
            // ESRCH when the group is gone already: nothing to do.
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
    }
}

/// `exited with code 3`, `was killed by signal 9`.
fn describe_exit(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with code {code}"),
        None => "exited".to_owned(),
    }
}

/// `; stderr: ...` with the kept lines, or nothing.
fn tail_text(stderr: &Mutex<VecDeque<String>>) -> String {
    let lines = stderr.lock().unwrap_or_else(PoisonError::into_inner);
    if lines.is_empty() {
        String::new()
    } else {
        let joined: Vec<&str> = lines.iter().map(String::as_str).collect();
        format!("; stderr: {}", joined.join(" | "))
    }
}

/// Logs a server's stderr and keeps its last lines.
async fn keep_stderr(name: String, pipe: ChildStderr, kept: Arc<Mutex<VecDeque<String>>>) {
    let mut lines = BufReader::new(pipe).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::debug!(mcp_server = %name, "{line}");
        let line: String = line.chars().take(STDERR_LINE_CHARS).collect();
        let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
        if kept.len() == STDERR_LINES {
            kept.pop_front();
        }
        kept.push_back(line);
    }
}
