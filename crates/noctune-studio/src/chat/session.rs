//! Chat sessions: one JSON file each under `.noctune_cache/studio_chat/sessions/`, written
//! atomically after every change, so a session reloads after a daemon restart and exports as
//! it is stored.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use noctune_core::store::{CACHE_DIR, write_atomic};
use noctune_core::{Role, ToolCall};
use serde::{Deserialize, Serialize};

use super::permissions::Permission;
use crate::error::{ApiError, Error};

/// One message of a session as stored and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatEntry {
    /// `user`, `assistant` or `tool`.
    pub role: Role,
    /// The text (for a tool: its JSON result).
    pub content: String,
    /// For an assistant message: the tool calls it made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// Whether the calls (of an assistant message) or the call answered (of a tool message)
    /// were written in the text (`<tool_call>{...}</tool_call>`) rather than sent natively.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub in_text: bool,
    /// For a tool message: the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// For a tool message: the tool's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    /// Whether the answer was cut short by the stop button.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stopped: bool,
    /// When it was added (RFC 3339).
    pub at: String,
}

impl ChatEntry {
    /// A message with text only.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            tool_calls: Vec::new(),
            in_text: false,
            tool_call_id: None,
            tool_name: None,
            stopped: false,
            at: jiff::Timestamp::now().to_string(),
        }
    }
}

/// A conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatSession {
    /// `YYYYMMDD-HHMMSS-xxxxxx`.
    pub id: String,
    /// The first words of the first message.
    pub title: String,
    /// The model profile (`[llm.profiles.<name>]`); the default model when `None`.
    pub profile: Option<String>,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it last changed (RFC 3339).
    pub updated_at: String,
    /// Permissions allowed for the rest of this session.
    #[serde(default)]
    pub allowed: Vec<Permission>,
    /// Permissions allowed for the next gated call only.
    #[serde(default)]
    pub allowed_once: Vec<Permission>,
    /// The messages, oldest first.
    #[serde(default)]
    pub entries: Vec<ChatEntry>,
}

/// A session in the list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionSummary {
    /// The session's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its model profile.
    pub profile: Option<String>,
    /// When it was created.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// How many messages it holds.
    pub messages: usize,
}

impl ChatSession {
    /// The list view.
    pub fn summary(&self) -> SessionSummary {
        SessionSummary {
            id: self.id.clone(),
            title: self.title.clone(),
            profile: self.profile.clone(),
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
            messages: self.entries.len(),
        }
    }
}

/// `.noctune_cache/studio_chat/sessions` under a root.
pub fn sessions_dir(root: &Path) -> PathBuf {
    root.join(CACHE_DIR).join("studio_chat").join("sessions")
}

/// Checks a session id from a path: letters, digits and `-`, at most 64.
pub fn check_id(text: &str) -> Result<&str, ApiError> {
    if text.is_empty()
        || text.len() > 64
        || !text.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(ApiError::bad_request(
            "bad_session_id",
            format!("`{}` is not a chat session id", text.escape_debug()),
        ));
    }
    Ok(text)
}

/// The sessions of one repository, cached in memory and written through to disk.
#[derive(Debug)]
pub struct SessionStore {
    dir: PathBuf,
    cache: Mutex<HashMap<String, ChatSession>>,
}

impl SessionStore {
    /// The store of the repository at `root`.
    pub fn new(root: &Path) -> Self {
        Self {
            dir: sessions_dir(root),
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn file(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    fn write(&self, session: &ChatSession) -> Result<(), ApiError> {
        std::fs::create_dir_all(&self.dir)
            .map_err(|err| Error::io("create directory", &self.dir, err))?;
        let bytes = serde_json::to_vec_pretty(session)
            .map_err(|err| Error::Refused(format!("cannot encode a chat session: {err}")))?;
        write_atomic(&self.file(&session.id), &bytes).map_err(Error::Store)?;
        Ok(())
    }

    fn read(&self, id: &str) -> Result<ChatSession, ApiError> {
        let path = self.file(id);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(ApiError::NotFound(format!("no chat session `{id}`")));
            }
            Err(err) => return Err(Error::io("read", &path, err).into()),
        };
        serde_json::from_slice(&bytes).map_err(|err| {
            ApiError::Internal(Error::Refused(format!(
                "chat session `{}` is unreadable: {err}",
                path.display()
            )))
        })
    }

    /// Creates and saves a new session.
    pub fn create(&self, profile: Option<String>) -> Result<ChatSession, ApiError> {
        let now = jiff::Timestamp::now();
        let mut random = [0u8; 3];
        getrandom::fill(&mut random).map_err(|err| Error::Random(err.to_string()))?;
        let id = format!(
            "{}-{}",
            now.strftime("%Y%m%d-%H%M%S"),
            crate::token::hex(&random)
        );
        let session = ChatSession {
            id: id.clone(),
            title: "New chat".to_owned(),
            profile,
            created_at: now.to_string(),
            updated_at: now.to_string(),
            allowed: Vec::new(),
            allowed_once: Vec::new(),
            entries: Vec::new(),
        };
        self.write(&session)?;
        self.lock().insert(id, session.clone());
        Ok(session)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ChatSession>> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One session (`NotFound` when there is none by that id).
    pub fn get(&self, id: &str) -> Result<ChatSession, ApiError> {
        let id = check_id(id)?;
        if let Some(session) = self.lock().get(id) {
            return Ok(session.clone());
        }
        let session = self.read(id)?;
        self.lock().insert(id.to_owned(), session.clone());
        Ok(session)
    }

    /// Changes a session and saves it; returns what `change` returned.
    pub fn update<T>(
        &self,
        id: &str,
        change: impl FnOnce(&mut ChatSession) -> T,
    ) -> Result<T, ApiError> {
        let id = check_id(id)?;
        let mut cache = self.lock();
        let mut session = match cache.get(id) {
            Some(session) => session.clone(),
            None => self.read(id)?,
        };
        let out = change(&mut session);
        session.updated_at = jiff::Timestamp::now().to_string();
        self.write(&session)?;
        cache.insert(id.to_owned(), session);
        Ok(out)
    }

    /// Every session, most recently changed first (unreadable files are skipped with a
    /// warning).
    pub fn list(&self) -> Result<Vec<SessionSummary>, ApiError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(Error::io("list", &self.dir, err).into()),
        };
        let mut sessions = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(id) = name.strip_suffix(".json") else {
                continue;
            };
            match self.get(id) {
                Ok(session) => sessions.push(session.summary()),
                Err(err) => {
                    tracing::warn!(file = %entry.path().display(), "skipping a chat session: {err}")
                }
            }
        }
        sessions.sort_by(|a, b| b.updated_at.cmp(&a.updated_at));
        Ok(sessions)
    }
}
