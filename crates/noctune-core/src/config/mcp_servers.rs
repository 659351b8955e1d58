//! `[studio.mcp_servers.<name>]`: the external MCP servers the Studio chat may use, checked
//! and resolved. A server's name becomes the prefix of its tools (`<name>__<tool>`) and its
//! permission (`mcp:<name>`), so it is kept to characters every model API accepts in a tool
//! name, and the first `__` of a tool name always ends the server's name.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::ConfigError;
use super::options::McpServerOptions;

/// The default of `timeout_s` (how long a call may take) and of `start_timeout_s` (how long
/// the handshake and the tool list may take).
pub const DEFAULT_MCP_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest server name.
pub const MAX_MCP_SERVER_NAME: usize = 32;

/// One external MCP server, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpServerSettings {
    /// The program: a bare name (looked up on `PATH`) or an absolute path (a relative path
    /// with a `/` was made absolute against the repository root).
    pub command: PathBuf,
    /// Its arguments.
    pub args: Vec<String>,
    /// Environment variables set for it.
    pub env: BTreeMap<String, String>,
    /// How long one tool call may take.
    pub timeout: Duration,
    /// How long the start (handshake and tool list) may take.
    pub start_timeout: Duration,
}

/// Whether `name` can name an MCP server: 1 to [`MAX_MCP_SERVER_NAME`] ASCII letters,
/// digits, `-` and `_`, without `__` and not ending in `_` (so `<name>__<tool>` splits at its
/// first `__`).
pub fn is_mcp_server_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_MCP_SERVER_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !name.contains("__")
        && !name.ends_with('_')
}

/// Resolves `[studio.mcp_servers]`; `err` names keys relative to the config's prefix.
pub(super) fn resolve_mcp_servers(
    root: &Path,
    given: BTreeMap<String, McpServerOptions>,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<BTreeMap<String, McpServerSettings>, ConfigError> {
    let mut servers = BTreeMap::new();
    for (name, options) in given {
        let key = format!("studio.mcp_servers.{name}");
        if !is_mcp_server_name(&name) {
            return Err(err(
                &key,
                format!(
                    "expected a server name of 1 to {MAX_MCP_SERVER_NAME} letters, digits, `-` and `_` (without `__`, not ending in `_`), found `{}`",
                    name.escape_debug()
                ),
            ));
        }
        let command = match options.command.as_deref().map(str::trim) {
            None => {
                return Err(err(
                    &format!("{key}.command"),
                    "missing: expected the program that runs the server, such as `npx` or `/usr/bin/python3`".to_owned(),
                ));
            }
            Some(text) if text.is_empty() || text.contains('\0') => {
                return Err(err(
                    &format!("{key}.command"),
                    format!(
                        "expected a program name or path, found `{}`",
                        text.escape_debug()
                    ),
                ));
            }
            Some(text) => {
                let path = Path::new(text);
                if path.is_absolute() || !text.contains('/') {
                    path.to_path_buf()
                } else {
                    root.join(path)
                }
            }
        };
        let args = options.args.unwrap_or_default();
        if let Some(i) = args.iter().position(|a| a.contains('\0')) {
            return Err(err(
                &format!("{key}.args[{i}]"),
                "expected text without NUL characters".to_owned(),
            ));
        }
        let env = options.env.unwrap_or_default();
        for (var, value) in &env {
            if var.is_empty() || var.contains(['=', '\0']) || value.contains('\0') {
                return Err(err(
                    &format!("{key}.env"),
                    format!(
                        "expected variable names without `=` or NUL and values without NUL, found `{}`",
                        var.escape_debug()
                    ),
                ));
            }
        }
        let seconds = |field: &str, given: Option<u64>| match given {
            None => Ok(DEFAULT_MCP_TIMEOUT),
            Some(seconds @ 1..=3600) => Ok(Duration::from_secs(seconds)),
            Some(seconds) => Err(err(
                &format!("{key}.{field}"),
                format!("expected a number of seconds from 1 to 3600, found {seconds}"),
            )),
        };
        let timeout = seconds("timeout_s", options.timeout_s)?;
        let start_timeout = seconds("start_timeout_s", options.start_timeout_s)?;
        servers.insert(
            name,
            McpServerSettings {
                command,
                args,
                env,
                timeout,
                start_timeout,
            },
        );
    }
    Ok(servers)
}
