//! The chat's tools: their specs for the model (JSON Schemas from the argument types) and
//! their execution. Every result is a JSON value; a failure is `{"error": code, "message":
//! ...}` the model can read and correct, never a crash. Gated tools check their permission
//! after their arguments and paths, and answer `write_not_allowed` / `run_not_allowed` /
//! `mcp_not_allowed` without acting when it is missing. Names with `__` are the tools of
//! external MCP servers (`mcp.rs`, through [`super::external`]).

mod list_files;
mod mcp;
mod read_file;
mod replace_lines;
mod runs;
mod search;
mod write_file;

use std::path::PathBuf;
use std::sync::Arc;

use noctune_core::ToolSpec;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::Chat;
use super::external;
use super::permissions::{self, Permission};
use crate::audit::AuditRow;
use crate::control::Control;
use crate::sandbox::{Access, Resolved, Sandbox};

/// What a tool runs against.
#[derive(Clone)]
pub struct ToolContext {
    /// The chat (sessions, backups).
    pub chat: Arc<Chat>,
    /// The run operations shared with the HTTP API and MCP.
    pub control: Control,
    /// The session the call belongs to.
    pub session_id: String,
    /// The allowed roots.
    pub sandbox: Sandbox,
    /// The ripgrep program `search` runs (`rg`, looked up on `PATH`); when it cannot be
    /// found, `search` uses the index.
    pub rg: std::ffi::OsString,
}

impl std::fmt::Debug for ToolContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolContext")
            .field("session_id", &self.session_id)
            .field("sandbox", &self.sandbox)
            .finish_non_exhaustive()
    }
}

/// A tool's answer, and the permission it lacked (for the UI to ask), if any.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutcome {
    /// The JSON result the model reads.
    pub result: Value,
    /// Set when the call was refused for want of this permission.
    pub needs: Option<Permission>,
}

impl ToolOutcome {
    /// A successful result.
    pub fn ok(result: Value) -> Self {
        Self {
            result,
            needs: None,
        }
    }

    /// A failed call: `{"error": code, "message": message}`.
    pub fn error(code: &str, message: impl Into<String>) -> Self {
        Self::ok(json!({"error": code, "message": message.into()}))
    }

    /// A call refused for want of `permission`.
    pub fn not_allowed(permission: Permission, tool: &str) -> Self {
        Self {
            result: json!({
                "error": permission.refusal_code(),
                "message": format!(
                    "`{tool}` needs the `{permission}` permission, which the user has not given. Ask the user to allow it (the page shows allow once / allow this session / always allow), then call the tool again."
                ),
            }),
            needs: Some(permission),
        }
    }
}

/// Each tool with its arguments (`?` optional), for the system prompt: a model whose calls
/// are read from its text sees no JSON Schemas.
pub const TOOL_SIGNATURES: &[&str] = &[
    "read_file(path, start?, end?)",
    "search(query, glob?)",
    "list_files(glob)",
    "write_file(path, content)",
    "replace_lines(path, start, end, text)",
    "start_run(pack, files?)",
    "stop_run(run_id)",
    "run_events(run_id, cursor)",
    "list_approvals(run_id)",
    "decide_approval(run_id, approval_id, decision, reason)",
];

/// The tool names, in the order they are offered.
pub const TOOL_NAMES: &[&str] = &[
    "read_file",
    "search",
    "list_files",
    "write_file",
    "replace_lines",
    "start_run",
    "stop_run",
    "run_events",
    "list_approvals",
    "decide_approval",
];

fn spec<T: JsonSchema>(name: &str, description: &str) -> ToolSpec {
    let mut parameters = serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut parameters {
        map.remove("$schema");
        map.remove("title");
    }
    ToolSpec {
        name: name.to_owned(),
        description: description.to_owned(),
        parameters,
    }
}

/// The specs sent to the model.
pub fn specs() -> Vec<ToolSpec> {
    vec![
        spec::<read_file::Args>(
            "read_file",
            "Read a text file of the repository, with line numbers. Paths are relative to the repository root.",
        ),
        spec::<search::Args>(
            "search",
            "Search the repository's files for a literal text; returns `path:line: text` matches.",
        ),
        spec::<list_files::Args>(
            "list_files",
            "List the repository's files whose path matches a glob such as `**/*.py`.",
        ),
        spec::<write_file::Args>(
            "write_file",
            "Create or replace a file with the given content (needs the user's `write` permission).",
        ),
        spec::<replace_lines::Args>(
            "replace_lines",
            "Replace lines start..=end (1-based, as read_file numbers them) of a file with text (needs `write`).",
        ),
        spec::<runs::StartArgs>(
            "start_run",
            "Start a Noctune run with a policy pack (lint_fix, typing_pass, py_upgrade, deps_bump) on some or all files (needs `run`).",
        ),
        spec::<runs::RunArgs>(
            "stop_run",
            "Stop a run at its next safe point (needs `run`).",
        ),
        spec::<runs::EventsArgs>(
            "run_events",
            "A run's events after a cursor (0 for the first); pass back `next_cursor` to continue.",
        ),
        spec::<runs::RunArgs>(
            "list_approvals",
            "The approvals of a run: each proposed change with its diff, risk and state.",
        ),
        spec::<runs::DecideArgs>(
            "decide_approval",
            "Approve or reject a pending approval of a run; a rejection needs a reason (needs `run`).",
        ),
    ]
}

/// Parses a tool's arguments, or the error the model reads. Unknown keys are ignored (small
/// models copy schema words such as `required` into their arguments); missing or mistyped
/// ones are errors.
fn args<T: DeserializeOwned>(tool: &str, arguments: Value) -> Result<T, ToolOutcome> {
    serde_json::from_value(arguments).map_err(|err| {
        ToolOutcome::error(
            "bad_arguments",
            format!("bad arguments for `{tool}`: {err}"),
        )
    })
}

impl ToolContext {
    /// Runs one call.
    pub async fn execute(&self, name: &str, arguments: Value) -> ToolOutcome {
        let outcome = match name {
            "read_file" => read_file::run(self, arguments).await,
            "search" => search::run(self, arguments).await,
            "list_files" => list_files::run(self, arguments).await,
            "write_file" => write_file::run(self, arguments).await,
            "replace_lines" => replace_lines::run(self, arguments).await,
            "start_run" => runs::start(self, arguments).await,
            "stop_run" => runs::stop(self, arguments).await,
            "run_events" => runs::events(self, arguments).await,
            "list_approvals" => runs::approvals(self, arguments).await,
            "decide_approval" => runs::decide(self, arguments).await,
            other => match external::split(other) {
                Some((server, tool)) => mcp::run(self, other, server, tool, arguments).await,
                None => Err(ToolOutcome::error(
                    "unknown_tool",
                    format!(
                        "there is no tool `{other}`; the tools are: {}",
                        TOOL_NAMES.join(", ")
                    ),
                )),
            },
        };
        outcome.unwrap_or_else(|refusal| refusal)
    }

    /// Checks a path against the sandbox.
    fn resolve(&self, path: &str, access: Access) -> Result<Resolved, ToolOutcome> {
        self.sandbox
            .resolve(path, access)
            .map_err(|err| ToolOutcome::error("path_refused", err.message))
    }

    /// Records a state change (or an external call) in the audit table, as
    /// `chat:<session>`.
    async fn audit(&self, action: &str, detail: String) {
        self.control
            .audit(AuditRow {
                at: jiff::Timestamp::now().to_string(),
                who: format!("chat:{}", self.session_id),
                action: action.to_owned(),
                method: "chat".to_owned(),
                path: format!("/api/chat/sessions/{}/messages", self.session_id),
                origin: None,
                status: 200,
                detail: Some(detail),
            })
            .await;
    }

    /// Checks (and, for "once", uses up) a permission.
    fn permit(&self, permission: Permission, tool: &str) -> Result<(), ToolOutcome> {
        match permissions::take(
            &self.chat.root,
            &self.chat.sessions,
            &self.session_id,
            &permission,
        ) {
            Ok(true) => Ok(()),
            Ok(false) => Err(ToolOutcome::not_allowed(permission, tool)),
            Err(err) => Err(ToolOutcome::error("internal", err.to_string())),
        }
    }

    /// The repository root (canonical).
    fn repo_root(&self) -> PathBuf {
        self.sandbox.repo_root().to_path_buf()
    }
}
