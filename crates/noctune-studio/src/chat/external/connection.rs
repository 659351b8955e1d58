//! One running external MCP server: a child process speaking MCP over its stdin and stdout
//! (no shell), with rmcp's client on our side. Its stderr is logged and its last lines kept
//! for error messages. The child is killed when the connection is dropped.

use std::collections::VecDeque;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, PoisonError};

use noctune_core::config::McpServerSettings;
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation, Tool};
use rmcp::service::{Peer, RunningService};
use rmcp::{RoleClient, ServiceExt};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStderr, Command};

/// The variables a server inherits from the daemon; everything else it gets from its `env`
/// (so the model's API key and the daemon's token do not leak to another program).
pub const INHERITED_ENV: &[&str] = &[
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TZ",
];

/// How many lines of a server's stderr are kept for error messages.
const STDERR_LINES: usize = 20;
/// The longest stderr line kept, in characters.
const STDERR_LINE_CHARS: usize = 400;

/// A started server and the tools it listed.
pub struct Connection {
    /// The settings it was started with (a change in the config restarts it).
    pub settings: McpServerSettings,
    /// Its tools, as listed once after the handshake.
    pub tools: Vec<Tool>,
    service: RunningService<RoleClient, ClientConfig>,
    child: Mutex<Child>,
    stderr: Arc<Mutex<VecDeque<String>>>,
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
    /// within the server's timeout; the error says why (with the end of its stderr).
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
        let (Some(stdout), Some(stdin)) = (child.stdout.take(), child.stdin.take()) else {
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
        let outcome = tokio::time::timeout(settings.timeout, handshake).await;
        let failed = |message: String, child: &mut Child| {
            let exited = child
                .try_wait()
                .ok()
                .flatten()
                .map(|status| format!(" ({})", describe_exit(status)))
                .unwrap_or_default();
            format!("{message}{exited}{}", tail_text(&stderr))
        };
        match outcome {
            Ok(Ok((service, tools))) => Ok(Self {
                settings: settings.clone(),
                tools,
                service,
                child: Mutex::new(child),
                stderr,
            }),
            Ok(Err(message)) => {
                // Give a dying server a moment to be reaped, so its exit status is known.
                let _ =
                    tokio::time::timeout(std::time::Duration::from_millis(200), child.wait()).await;
                Err(failed(message, &mut child))
            }
            Err(_) => Err(failed(
                format!(
                    "it did not answer the handshake within {}s (`timeout_s`)",
                    settings.timeout.as_secs()
                ),
                &mut child,
            )),
        }
    }

    /// The client's handle for requests.
    pub fn peer(&self) -> &Peer<RoleClient> {
        self.service.peer()
    }

    /// How the process ended, if it has.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .try_wait()
            .ok()
            .flatten()
    }

    /// Whether the process runs and the MCP session is open.
    pub fn is_alive(&self) -> bool {
        !self.service.is_closed() && self.exit_status().is_none()
    }

    /// Why it is gone, for an error message: its exit status and the end of its stderr.
    pub fn post_mortem(&self) -> String {
        let exited = self
            .exit_status()
            .map(|status| format!(" ({})", describe_exit(status)))
            .unwrap_or_default();
        format!("{exited}{}", tail_text(&self.stderr))
    }
}

/// `exited with code 3`, `killed by signal 9`.
fn describe_exit(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
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
