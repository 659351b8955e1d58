//! Studio chat: a conversation with the configured model about the repository, with tools
//! to read, search and list files, edit them (permission `write`), and drive runs
//! (permission `run`). See `docs/studio.md` (routes) and `docs/security.md` (sandbox and
//! permissions).
//!
//! - [`session`]: sessions saved under `.noctune_cache/studio_chat/sessions/`;
//! - [`turn`]: one user message, streamed, with its tool-call rounds;
//! - [`tool_call_parse`]: tool calls written in the answer's text, and [`prefill`] to get
//!   them from small models;
//! - [`tools`]: the tools, behind the [sandbox](crate::sandbox) and [`permissions`];
//! - [`external`]: the tools of external MCP servers (permission `mcp:<server>`);
//! - [`backups`]: every edit's original bytes, restorable.

pub mod backups;
pub mod events;
pub mod external;
pub mod permissions;
pub mod prefill;
pub mod prompt;
pub mod session;
pub mod tool_call_parse;
pub mod tools;
pub mod turn;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use noctune_core::config::{EnvOverrides, LlmSettings, Settings};
use tokio::sync::{mpsc, watch};

use crate::control::Control;
use crate::error::ApiError;
use crate::sandbox::Sandbox;
use events::ChatEvent;
use external::McpServers;
use session::SessionStore;
use tools::ToolContext;
use turn::Turn;

/// The chat of one repository: its sessions and the messages in flight.
#[derive(Debug)]
pub struct Chat {
    /// The repository root (absolute).
    pub root: PathBuf,
    /// The sessions.
    pub sessions: SessionStore,
    /// The external MCP servers, started on first use.
    pub mcp: McpServers,
    /// The stop switch of each session with a message in flight.
    running: Mutex<HashMap<String, watch::Sender<bool>>>,
}

/// Removes a session from the in-flight set when its turn ends (however it ends).
struct InFlight {
    chat: Arc<Chat>,
    session_id: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.chat.lock().remove(&self.session_id);
    }
}

impl Chat {
    /// The chat of the repository at `root` (absolute).
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            sessions: SessionStore::new(root),
            mcp: McpServers::new(root),
            running: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, watch::Sender<bool>>> {
        self.running
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The configuration in force (read at each use, so edits apply without a restart).
    pub fn settings(&self) -> Result<Settings, ApiError> {
        noctune_core::config::load(&self.root, &EnvOverrides::from_process())
            .map_err(|err| ApiError::bad_request("config_error", err.to_string()))
    }

    /// The model settings of a profile (the default model for `None`).
    pub fn llm(settings: &Settings, profile: Option<&str>) -> Result<LlmSettings, ApiError> {
        match profile {
            None => Ok(settings.llm.clone()),
            Some(name) => settings.profiles.get(name).cloned().ok_or_else(|| {
                let known: Vec<&str> = settings.profiles.keys().map(String::as_str).collect();
                ApiError::bad_request(
                    "unknown_profile",
                    format!(
                        "no model profile `{name}` (defined: {})",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                )
            }),
        }
    }

    /// The sandbox of the allowed roots.
    pub fn sandbox(&self, settings: &Settings) -> Result<Sandbox, ApiError> {
        Sandbox::new(&self.root, &settings.studio.allowed_roots)
            .map_err(|err| ApiError::bad_request("config_error", err.message))
    }

    /// Starts a turn for `text` in session `session_id` and returns its events; `409 busy`
    /// while another message of the session is in flight.
    pub fn send(
        self: &Arc<Self>,
        control: Control,
        session_id: &str,
        text: String,
        shutdown: watch::Receiver<bool>,
    ) -> Result<mpsc::UnboundedReceiver<ChatEvent>, ApiError> {
        let session = self.sessions.get(session_id)?;
        let settings = self.settings()?;
        let llm = Self::llm(&settings, session.profile.as_deref())?;
        let sandbox = self.sandbox(&settings)?;
        let (stop_tx, stop) = watch::channel(false);
        {
            let mut running = self.lock();
            if running.contains_key(&session.id) {
                return Err(ApiError::conflict(
                    "busy",
                    "this session is answering a message; stop it or wait",
                ));
            }
            running.insert(session.id.clone(), stop_tx.clone());
        }
        let guard = InFlight {
            chat: self.clone(),
            session_id: session.id.clone(),
        };
        let (events, receiver) = mpsc::unbounded_channel();
        let turn = Turn {
            ctx: ToolContext {
                chat: self.clone(),
                control,
                session_id: session.id,
                sandbox,
                rg: "rg".into(),
            },
            llm,
            mcp_servers: settings.studio.mcp_servers,
            events,
            stop,
        };
        tokio::spawn(async move {
            // The stream ends when the last sender goes: keep one until the session is
            // marked free, so a client that saw the end finds it free.
            let keep_open = turn.events.clone();
            let mut shutdown = shutdown;
            let forward = tokio::spawn(async move {
                crate::worker::until_true(&mut shutdown).await;
                stop_tx.send_replace(true);
            });
            turn.run(text).await;
            forward.abort();
            drop(guard);
            drop(keep_open);
        });
        Ok(receiver)
    }

    /// Whether a message of the session is in flight.
    pub fn is_busy(&self, session_id: &str) -> bool {
        self.lock().contains_key(session_id)
    }

    /// Presses stop on a session's message in flight; `false` when none is.
    pub fn stop(&self, session_id: &str) -> bool {
        match self.lock().get(session_id) {
            Some(stop) => {
                stop.send_replace(true);
                true
            }
            None => false,
        }
    }
}
