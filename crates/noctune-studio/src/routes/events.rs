//! Events: a page after a cursor (`GET /api/runs/{id}/events?cursor=N`) and a live tail as
//! server-sent events (`GET /api/runs/{id}/events/stream?cursor=N`), both from the audit
//! database. Live tails are capped; past the cap a tail gets 503 at once.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::Stream;
use noctune_core::{Event, RunId};
use serde::Deserialize;

use super::runs::load_run;
use super::{ApiQuery, run_id};
use crate::audit::Db;
use crate::audit::query::get_run;
use crate::error::ApiError;
use crate::state::AppState;

/// The routes of this group (under `/api`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/runs/{run_id}/events", get(page))
        .route("/runs/{run_id}/events/stream", get(stream))
}

/// The query of both routes.
#[derive(Debug, Deserialize)]
pub struct Cursor {
    /// Events with `idx` greater than this; 0 for all.
    #[serde(default)]
    pub cursor: u64,
    /// At most this many (default 200, at most 1000).
    #[serde(default)]
    pub limit: Option<u64>,
}

async fn fetch(
    state: &AppState,
    run_id: &RunId,
    cursor: u64,
    limit: u64,
) -> Result<Vec<Event>, ApiError> {
    state.control().events_after(run_id, cursor, limit).await
}

async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<Cursor>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let run_id = run_id(&id)?;
    let limit = query.limit.unwrap_or(200).clamp(1, 1000);
    let page = state.control().events(&run_id, query.cursor, limit).await?;
    Ok(Json(serde_json::json!(page)))
}

struct Tail {
    state: AppState,
    run_id: RunId,
    cursor: u64,
    buffer: VecDeque<Event>,
    done: bool,
    shutdown: tokio::sync::watch::Receiver<bool>,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

/// How often a live tail polls the database.
const POLL: Duration = Duration::from_millis(400);

async fn stream(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<Cursor>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let run_id = run_id(&id)?;
    let permit = state
        .tails
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::Unavailable("too many live tails are open".into()))?;
    load_run(&state, &run_id).await?;
    let cursor = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(query.cursor);
    let tail = Tail {
        shutdown: state.shutdown.subscribe(),
        state,
        run_id,
        cursor,
        buffer: VecDeque::new(),
        done: false,
        _permit: permit,
    };
    let events = futures_util::stream::unfold(tail, |mut tail| async move {
        loop {
            if let Some(event) = tail.buffer.pop_front() {
                tail.cursor = event.idx;
                let sse = SseEvent::default()
                    .id(event.idx.to_string())
                    .event("event")
                    .json_data(&event)
                    .unwrap_or_default();
                return Some((Ok(sse), tail));
            }
            if tail.done || *tail.shutdown.borrow() {
                return None;
            }
            match fetch(&tail.state, &tail.run_id, tail.cursor, 100).await {
                Ok(events) if !events.is_empty() => {
                    tail.buffer.extend(events);
                    continue;
                }
                Ok(_) => {}
                Err(_) => return None,
            }
            if run_is_over(&tail).await {
                tail.done = true;
                return Some((Ok(SseEvent::default().event("end").data("{}")), tail));
            }
            let mut shutdown = tail.shutdown.clone();
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                () = crate::worker::until_true(&mut shutdown) => return None,
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(5))))
}

async fn run_is_over(tail: &Tail) -> bool {
    if tail.state.supervisor.is_live(&tail.run_id) {
        return false;
    }
    let id = tail.run_id.as_str().to_owned();
    let path = tail.state.db.path().to_path_buf();
    match tail
        .state
        .db
        .call(move |conn| get_run(conn, &id).map_err(Db::error(&path)))
        .await
    {
        Ok(Some(run)) => run.run.status.is_final(),
        _ => true,
    }
}
