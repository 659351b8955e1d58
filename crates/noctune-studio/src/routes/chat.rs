//! The chat's API: sessions (create, list, read, export), a message streamed back as
//! server-sent events, stop, permission grants, and the edits' backups (list, restore).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use serde::Deserialize;
use serde_json::json;

use super::ApiJson;
use super::runs::audit;
use crate::chat::permissions::{self, Grant, Permission};
use crate::chat::session::check_id;
use crate::chat::{Chat, backups};
use crate::error::{ApiError, Error};
use crate::security::Caller;
use crate::state::AppState;

/// The routes of this group (under `/api`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/chat/settings", get(settings))
        .route("/chat/sessions", get(list).post(create))
        .route("/chat/sessions/{id}", get(detail))
        .route("/chat/sessions/{id}/export", get(export))
        .route("/chat/sessions/{id}/messages", post(message))
        .route("/chat/sessions/{id}/stop", post(stop))
        .route("/chat/sessions/{id}/permissions", post(allow))
        .route("/chat/backups", get(list_backups))
        .route("/chat/backups/{id}/restore", post(restore))
}

/// The longest message accepted, in characters.
const MAX_MESSAGE_CHARS: usize = 32 * 1024;

async fn settings(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let settings = state.chat.settings()?;
    let sandbox = state.chat.sandbox(&settings)?;
    let roots: Vec<String> = sandbox.roots().iter().map(|r| sandbox.shown(r)).collect();
    Ok(Json(json!({
        "profiles": settings.profiles.keys().collect::<Vec<_>>(),
        "model": settings.llm.model,
        "allowed_roots": roots,
        "always_allowed": permissions::always_allowed(&state.chat.root),
        "mcp_servers": settings.studio.mcp_servers.keys().collect::<Vec<_>>(),
    })))
}

/// `POST /api/chat/sessions`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSession {
    /// A model profile (`[llm.profiles.<name>]`); the default model when absent.
    #[serde(default)]
    pub profile: Option<String>,
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    // The body is optional; the auth layer has checked that a non-empty one is JSON.
    let body: CreateSession = if body.is_empty() {
        CreateSession::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|err| ApiError::bad_request("bad_json", err.to_string()))?
    };
    let profile = body
        .profile
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty());
    let settings = state.chat.settings()?;
    Chat::llm(&settings, profile.as_deref())?;
    let session = state.chat.sessions.create(profile)?;
    audit(
        &state,
        &caller,
        "chat_session",
        201,
        format!("session {}", session.id),
    )
    .await;
    Ok((StatusCode::CREATED, Json(json!(session))))
}

async fn list(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let sessions = state.chat.sessions.list()?;
    Ok(Json(json!({ "sessions": sessions })))
}

async fn detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let session = state.chat.sessions.get(&id)?;
    let mut value = json!(session);
    value["busy"] = json!(state.chat.is_busy(&session.id));
    Ok(Json(value))
}

async fn export(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let session = state.chat.sessions.get(&id)?;
    let body = serde_json::to_vec_pretty(&session)
        .map_err(|err| Error::Refused(format!("cannot encode the session: {err}")))?;
    let disposition = format!("attachment; filename=\"noctune-chat-{}.json\"", session.id);
    Ok((
        [
            (CONTENT_TYPE, "application/json".to_owned()),
            (CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// `POST /api/chat/sessions/{id}/messages`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// The user's message.
    pub content: String,
}

async fn message(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SendMessage>,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let id = check_id(&id)?.to_owned();
    let content = body.content.trim().to_owned();
    if content.is_empty() {
        return Err(ApiError::bad_request(
            "empty_message",
            "the message is empty",
        ));
    }
    if content.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ApiError::bad_request(
            "message_too_long",
            format!("a message has at most {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    let permit = state
        .tails
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::Unavailable("too many live streams are open".into()))?;
    let receiver = state
        .chat
        .send(state.control(), &id, content, state.shutdown.subscribe())?;
    audit(
        &state,
        &caller,
        "chat_message",
        200,
        format!("session {id}"),
    )
    .await;
    let events =
        futures_util::stream::unfold((receiver, permit), |(mut receiver, permit)| async move {
            let event = receiver.recv().await?;
            let sse = SseEvent::default()
                .event(event.name())
                .json_data(&event)
                .unwrap_or_default();
            Some((Ok(sse), (receiver, permit)))
        });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(5))))
}

async fn stop(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let session = state.chat.sessions.get(&id)?;
    if !state.chat.stop(&session.id) {
        return Err(ApiError::conflict(
            "not_busy",
            "this session has no message in flight",
        ));
    }
    audit(
        &state,
        &caller,
        "chat_stop",
        202,
        format!("session {}", session.id),
    )
    .await;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"session_id": session.id, "status": "stopping"})),
    ))
}

/// `POST /api/chat/sessions/{id}/permissions`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Allow {
    /// `write`, `run` or `mcp:<server>`.
    pub permission: Permission,
    /// `once`, `session` or `always`.
    pub grant: Grant,
}

async fn allow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Allow>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = check_id(&id)?.to_owned();
    if let Some(server) = body.permission.mcp_server() {
        let settings = state.chat.settings()?;
        if !settings.studio.mcp_servers.contains_key(server) {
            return Err(ApiError::bad_request(
                "unknown_mcp_server",
                format!(
                    "no MCP server `{server}` in `studio.mcp_servers` (configured: {})",
                    crate::chat::external::names(&settings.studio.mcp_servers)
                ),
            ));
        }
    }
    permissions::grant(
        &state.chat.root,
        &state.chat.sessions,
        &id,
        body.permission.clone(),
        body.grant,
    )?;
    audit(
        &state,
        &caller,
        "chat_allow",
        200,
        format!("session {id}: {} {:?}", body.permission, body.grant),
    )
    .await;
    Ok(Json(json!({
        "session_id": id,
        "permission": body.permission,
        "grant": body.grant,
        "always_allowed": permissions::always_allowed(&state.chat.root),
    })))
}

async fn list_backups(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let list = backups::list(&state.chat.root)?;
    Ok(Json(json!({ "backups": list })))
}

async fn restore(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let settings = state.chat.settings()?;
    let sandbox = state.chat.sandbox(&settings)?;
    let backup = backups::restore(&state.chat.root, &sandbox, &id)?;
    audit(
        &state,
        &caller,
        "chat_restore",
        200,
        format!("backup {} of {}", backup.backup_id, backup.path),
    )
    .await;
    Ok(Json(json!({ "restored": backup })))
}
