//! Permissions of the chat's tools. Read tools are free; `write_file` and `replace_lines`
//! need `write`, `start_run`, `stop_run` and `decide_approval` need `run`, and the tools of
//! an external MCP server `<name>` need `mcp:<name>` (one permission per server). The user
//! allows a permission once (the next gated call), for the session, or always: "always" is
//! kept in `.noctune_cache/studio_allow.json` (written atomically) and survives a restart of
//! the daemon and of the browser. Writes under `.noctune_cache/` need no permission.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use noctune_core::config::is_mcp_server_name;
use noctune_core::store::{CACHE_DIR, write_atomic};
use serde::{Deserialize, Serialize};

use super::session::SessionStore;
use crate::error::{ApiError, Error};

/// What a gated tool needs. On the wire: `write`, `run` or `mcp:<server>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Permission {
    /// Change files (`write_file`, `replace_lines`).
    Write,
    /// Start and stop runs, decide approvals.
    Run,
    /// Call the tools of the external MCP server of this name.
    Mcp(String),
}

impl Permission {
    /// The error code of a refused call: `write_not_allowed`, `run_not_allowed` or
    /// `mcp_not_allowed`.
    pub fn refusal_code(&self) -> &'static str {
        match self {
            Permission::Write => "write_not_allowed",
            Permission::Run => "run_not_allowed",
            Permission::Mcp(_) => "mcp_not_allowed",
        }
    }

    /// The MCP server this permission is for, if it is one.
    pub fn mcp_server(&self) -> Option<&str> {
        match self {
            Permission::Mcp(server) => Some(server),
            Permission::Write | Permission::Run => None,
        }
    }
}

/// The name users see: `write`, `run` or `mcp:<server>`.
impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Permission::Write => f.write_str("write"),
            Permission::Run => f.write_str("run"),
            Permission::Mcp(server) => write!(f, "mcp:{server}"),
        }
    }
}

impl From<Permission> for String {
    fn from(permission: Permission) -> String {
        permission.to_string()
    }
}

impl TryFrom<String> for Permission {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        match text.as_str() {
            "write" => Ok(Permission::Write),
            "run" => Ok(Permission::Run),
            other => match other.strip_prefix("mcp:") {
                Some(server) if is_mcp_server_name(server) => {
                    Ok(Permission::Mcp(server.to_owned()))
                }
                _ => Err(format!(
                    "unknown permission `{}`: expected `write`, `run` or `mcp:<server>`",
                    other.escape_debug()
                )),
            },
        }
    }
}

/// How long a permission is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// For the next gated call of this session.
    Once,
    /// For the rest of this session.
    Session,
    /// For every session, from now on (persisted).
    Always,
}

/// What is always allowed: the contents of `studio_allow.json`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AlwaysAllowed {
    /// Writes are always allowed.
    #[serde(default)]
    pub write: bool,
    /// Runs are always allowed.
    #[serde(default)]
    pub run: bool,
    /// The external MCP servers whose tools are always allowed (left out when none).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub mcp: BTreeSet<String>,
}

impl AlwaysAllowed {
    /// Whether `permission` is always allowed.
    pub fn has(&self, permission: &Permission) -> bool {
        match permission {
            Permission::Write => self.write,
            Permission::Run => self.run,
            Permission::Mcp(server) => self.mcp.contains(server),
        }
    }

    /// Allows `permission` always.
    pub fn add(&mut self, permission: Permission) {
        match permission {
            Permission::Write => self.write = true,
            Permission::Run => self.run = true,
            Permission::Mcp(server) => {
                self.mcp.insert(server);
            }
        }
    }
}

/// `.noctune_cache/studio_allow.json` under a root.
pub fn allow_file(root: &Path) -> PathBuf {
    root.join(CACHE_DIR).join("studio_allow.json")
}

/// Reads the "always" file; a missing file allows nothing, an unreadable one too (with a
/// warning: it fails closed).
pub fn always_allowed(root: &Path) -> AlwaysAllowed {
    let path = allow_file(root);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|err| {
            tracing::warn!(file = %path.display(), "unreadable permission file, nothing is always allowed: {err}");
            AlwaysAllowed::default()
        }),
        Err(_) => AlwaysAllowed::default(),
    }
}

/// Records a grant: in the session (once, session) or in the "always" file.
pub fn grant(
    root: &Path,
    sessions: &SessionStore,
    session_id: &str,
    permission: Permission,
    grant: Grant,
) -> Result<(), ApiError> {
    // The session must exist whatever the grant, so a stray id is a 404.
    sessions.get(session_id)?;
    match grant {
        Grant::Once => sessions.update(session_id, |s| {
            if !s.allowed_once.contains(&permission) {
                s.allowed_once.push(permission.clone());
            }
        }),
        Grant::Session => sessions.update(session_id, |s| {
            if !s.allowed.contains(&permission) {
                s.allowed.push(permission.clone());
            }
        }),
        Grant::Always => {
            let mut always = always_allowed(root);
            always.add(permission);
            let path = allow_file(root);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|err| Error::io("create directory", dir, err))?;
            }
            let bytes = serde_json::to_vec_pretty(&always)
                .map_err(|err| Error::Refused(format!("cannot encode permissions: {err}")))?;
            write_atomic(&path, &bytes).map_err(Error::Store)?;
            Ok(())
        }
    }
}

/// Whether a gated call may go ahead now; a "once" grant is used up by it.
pub fn take(
    root: &Path,
    sessions: &SessionStore,
    session_id: &str,
    permission: &Permission,
) -> Result<bool, ApiError> {
    if always_allowed(root).has(permission) {
        return Ok(true);
    }
    sessions.update(session_id, |s| {
        if s.allowed.contains(permission) {
            return true;
        }
        if let Some(i) = s.allowed_once.iter().position(|p| p == permission) {
            s.allowed_once.remove(i);
            return true;
        }
        false
    })
}
