//! What a message's stream tells the page, as server-sent events: the event name is the
//! `type`, the data the rest.

use serde::Serialize;
use serde_json::Value;

use super::permissions::Permission;
use super::session::ChatEntry;

/// One event of a message's stream.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatEvent {
    /// A piece of the answer, as the model writes it.
    Token {
        /// The text.
        text: String,
    },
    /// The model's call failed and is retried: what was shown of this answer is sent again.
    Retry {
        /// Why.
        message: String,
    },
    /// An entry was added to the session (the user's message, an answer, a tool result).
    Entry {
        /// The entry as stored.
        entry: ChatEntry,
    },
    /// A tool is about to run.
    ToolCall {
        /// The call's id.
        id: String,
        /// The tool.
        name: String,
        /// Its arguments.
        arguments: Value,
    },
    /// A tool was refused for want of a permission: the page asks the user.
    PermissionNeeded {
        /// `write` or `run`.
        permission: Permission,
        /// The tool refused.
        tool: String,
    },
    /// Something failed (the model, the configuration, the tool-call cap).
    Error {
        /// Machine-readable code.
        code: String,
        /// For people.
        message: String,
    },
    /// The message is over.
    Done {
        /// Whether the stop button (or a shutdown) ended it.
        stopped: bool,
    },
}

impl ChatEvent {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            ChatEvent::Token { .. } => "token",
            ChatEvent::Retry { .. } => "retry",
            ChatEvent::Entry { .. } => "entry",
            ChatEvent::ToolCall { .. } => "tool_call",
            ChatEvent::PermissionNeeded { .. } => "permission_needed",
            ChatEvent::Error { .. } => "error",
            ChatEvent::Done { .. } => "done",
        }
    }
}
