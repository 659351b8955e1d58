//! External MCP servers in the chat: the servers of `[studio.mcp_servers.<name>]` are started
//! by the daemon when a chat message first needs them (one child process each, kept for
//! later messages), and their tools are offered to the model as `<name>__<tool>`, behind the
//! permission `mcp:<name>` (see [`permissions`](super::permissions)). A server that cannot
//! start, crashes or times out is an error naming it; the daemon stays up and the next use
//! starts the server again. Results are data ([`result`]).
//!
//! - [`connection`]: one running server (process, handshake, tool list, stderr);
//! - [`result`]: a result as the model reads it.

pub mod connection;
pub mod result;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use noctune_core::ToolSpec;
use noctune_core::config::McpServerSettings;
use rmcp::ServiceError;
use rmcp::model::{CallToolRequestParams, CallToolResult, JsonObject};
use serde_json::Value;

use connection::Connection;

/// Between a server's name and its tool's name in the names the model sees.
pub const SEPARATOR: &str = "__";

/// The longest tool name model APIs accept (OpenAI's limit).
pub const MAX_TOOL_NAME: usize = 64;

/// A tool of an external server, as offered to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalTool {
    /// The server's name.
    pub server: String,
    /// The tool's name on its server.
    pub tool: String,
    /// The spec the model sees: `<server>__<tool>`, the server's description, its input
    /// schema.
    pub spec: ToolSpec,
}

/// Why a server could not be used; `code` is what the model and the page read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ServerError {
    /// `mcp_server_down` (could not start), `mcp_server_failed` (died or broke the
    /// protocol during a call), `mcp_timeout` or `mcp_error` (the server refused the call).
    pub code: &'static str,
    /// For people and the model; names the server.
    pub message: String,
}

type Slot = Arc<tokio::sync::Mutex<Option<Arc<Connection>>>>;

/// The running servers of a repository, started on first use.
#[derive(Debug)]
pub struct McpServers {
    root: PathBuf,
    slots: Mutex<HashMap<String, Slot>>,
}

/// Splits `<server>__<tool>` at its first `__`.
pub fn split(name: &str) -> Option<(&str, &str)> {
    name.split_once(SEPARATOR)
        .filter(|(server, tool)| !server.is_empty() && !tool.is_empty())
}

/// The configured servers' names for a message: `a, b`, or `none`.
pub fn names(servers: &BTreeMap<String, McpServerSettings>) -> String {
    if servers.is_empty() {
        "none".to_owned()
    } else {
        servers.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

/// A tool's signature for the system prompt (`docs__lookup(topic, limit?)`), from the
/// `properties` and `required` of its schema.
pub fn signature(spec: &ToolSpec) -> String {
    let required: Vec<&str> = spec.parameters["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let args: Vec<String> = spec.parameters["properties"]
        .as_object()
        .map(|props| {
            props
                .keys()
                .map(|key| {
                    if required.contains(&key.as_str()) {
                        key.clone()
                    } else {
                        format!("{key}?")
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    format!("{}({})", spec.name, args.join(", "))
}

impl McpServers {
    /// The servers of the repository at `root` (their working directory); none is started yet.
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, name: &str) -> Slot {
        self.slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(name.to_owned())
            .or_default()
            .clone()
    }

    /// The running server `name`, started (again) when it is not running or its settings
    /// changed.
    async fn connection(
        &self,
        name: &str,
        settings: &McpServerSettings,
    ) -> Result<Arc<Connection>, ServerError> {
        let slot = self.slot(name);
        let mut held = slot.lock().await;
        if let Some(connection) = held.as_ref() {
            if connection.settings == *settings && connection.is_alive() {
                return Ok(connection.clone());
            }
            if connection.settings == *settings {
                let why = connection.post_mortem().await;
                tracing::warn!(mcp_server = %name, "the MCP server has stopped{why}; starting it again");
            }
        }
        // Drop (and so kill) the old process before a new one starts.
        *held = None;
        tracing::info!(mcp_server = %name, command = %settings.command.display(), "starting the MCP server");
        let connection = Connection::start(name, &self.root, settings)
            .await
            .map_err(|reason| ServerError {
                code: "mcp_server_down",
                message: format!("MCP server `{name}` could not start: {reason}"),
            })?;
        let connection = Arc::new(connection);
        *held = Some(connection.clone());
        Ok(connection)
    }

    /// Forgets `connection` of server `name` (if still the current one), which stops it
    /// once its last call ends: the next use starts it again.
    async fn forget(&self, name: &str, connection: &Arc<Connection>) {
        let slot = self.slot(name);
        let mut held = slot.lock().await;
        if held.as_ref().is_some_and(|c| Arc::ptr_eq(c, connection)) {
            *held = None;
        }
    }

    /// Starts the configured servers that are not running (all at once) and gives their
    /// tools, and an error for each server that could not start.
    pub async fn tools(
        &self,
        servers: &BTreeMap<String, McpServerSettings>,
    ) -> (Vec<ExternalTool>, Vec<ServerError>) {
        let started =
            futures_util::future::join_all(servers.iter().map(|(name, settings)| async move {
                (name, self.connection(name, settings).await)
            }))
            .await;
        let mut tools = Vec::new();
        let mut errors = Vec::new();
        for (name, connection) in started {
            match connection {
                Ok(connection) => tools.extend(offered(name, &connection)),
                Err(err) => errors.push(err),
            }
        }
        (tools, errors)
    }

    /// Calls `tool` of server `name` (starting it if needed) within its timeout. A server
    /// that dies, breaks the protocol or times out is stopped and started again at its next
    /// use.
    pub async fn call(
        &self,
        name: &str,
        settings: &McpServerSettings,
        tool: &str,
        arguments: JsonObject,
    ) -> Result<CallToolResult, ServerError> {
        let connection = self.connection(name, settings).await?;
        let request = CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments);
        // A server that dies fails the call at once, even when a process it started still
        // holds its stdout open (so the transport never closes).
        let called = tokio::select! {
            called = tokio::time::timeout(settings.timeout, connection.peer().call_tool(request)) => called,
            _ = connection.exited() => Ok(Err(ServiceError::TransportClosed)),
        };
        let failure = match called {
            Ok(Ok(result)) => return Ok(result),
            Ok(Err(ServiceError::McpError(error))) => {
                return Err(ServerError {
                    code: "mcp_error",
                    message: format!(
                        "MCP server `{name}` refused `{tool}`: {} (code {})",
                        error.message, error.code.0
                    ),
                });
            }
            Ok(Err(error)) => ServerError {
                code: "mcp_server_failed",
                message: format!(
                    "MCP server `{name}` failed during `{tool}`: {error}{}; it starts again at the next call",
                    connection.post_mortem().await
                ),
            },
            Err(_) => ServerError {
                code: "mcp_timeout",
                message: format!(
                    "MCP server `{name}` did not answer `{tool}` within {}s (`timeout_s`); it was stopped and starts again at the next call",
                    settings.timeout.as_secs()
                ),
            },
        };
        self.forget(name, &connection).await;
        Err(failure)
    }
}

/// The tools of a server as the model sees them; a tool whose full name would be too long
/// or use characters model APIs refuse is left out (with a warning).
fn offered(server: &str, connection: &Connection) -> Vec<ExternalTool> {
    let mut tools = Vec::new();
    for tool in &connection.tools {
        let full = format!("{server}{SEPARATOR}{}", tool.name);
        let fits = full.len() <= MAX_TOOL_NAME
            && tool
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !fits {
            tracing::warn!(mcp_server = %server, tool = %tool.name, "tool left out: `{full}` is not a name model APIs accept (at most {MAX_TOOL_NAME} letters, digits, `_` and `-`)");
            continue;
        }
        let description = tool.description.as_deref().unwrap_or("");
        let mut parameters = Value::Object((*tool.input_schema).clone());
        if let Value::Object(map) = &mut parameters {
            map.remove("$schema");
        }
        tools.push(ExternalTool {
            server: server.to_owned(),
            tool: tool.name.to_string(),
            spec: ToolSpec {
                name: full,
                description: format!(
                    "[external MCP server `{server}`, needs the user's `mcp:{server}` permission] {description}"
                ),
                parameters,
            },
        });
    }
    tools
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;
    use serde_json::json;

    use super::*;

    #[test]
    fn names_split_at_the_first_separator() {
        assert_eq!(split("docs__lookup"), Some(("docs", "lookup")));
        assert_eq!(split("docs__get__all"), Some(("docs", "get__all")));
        assert_eq!(split("read_file"), None);
        assert_eq!(split("__x"), None);
        assert_eq!(split("docs__"), None);
    }

    #[test]
    fn a_signature_marks_optional_arguments() {
        let spec = ToolSpec {
            name: "docs__lookup".into(),
            description: String::new(),
            parameters: json!({"type": "object", "properties": {"topic": {}, "limit": {}}, "required": ["topic"]}),
        };
        assert_eq!(signature(&spec), "docs__lookup(limit?, topic)");
    }
}
