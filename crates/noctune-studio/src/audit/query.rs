//! Reading the audit database back: what the API serves.

use noctune_core::approval::{Approval, Decision};
use noctune_core::{Event, RunRecord};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// A run as the database has it.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StoredRun {
    /// `run.json` as last ingested.
    pub run: RunRecord,
    /// The task states as last ingested.
    pub tasks: Vec<noctune_core::TaskState>,
    /// Approvals without a decision.
    pub pending_approvals: u64,
}

/// An approval with its decision, as the database has them.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct StoredApproval {
    /// The queued change.
    #[serde(flatten)]
    pub approval: Approval,
    /// The decision, once made.
    pub decision: Option<Decision>,
    /// The changes as one unified diff.
    pub diff: String,
}

/// One row of the audit table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    /// When (RFC 3339).
    pub at: String,
    /// Who: `token`, `browser`, `anonymous`.
    pub who: String,
    /// What: `start_run`, `stop_run`, `decide`, `shutdown`, `rejected:<code>`.
    pub action: String,
    /// The HTTP method.
    pub method: String,
    /// The request path (never the query: it may carry the token).
    pub path: String,
    /// The request's Origin header, when sent.
    pub origin: Option<String>,
    /// The HTTP status answered.
    pub status: u16,
    /// Details (the run, the approval, the reason).
    pub detail: Option<String>,
}

fn run_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, i64)> {
    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
}

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|err| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(err))
    })
}

const RUN_SELECT: &str = "SELECT r.payload_json, r.tasks_json,
        (SELECT COUNT(*) FROM approvals a WHERE a.run_id = r.run_id
           AND NOT EXISTS (SELECT 1 FROM decisions d
                           WHERE d.run_id = a.run_id AND d.approval_id = a.approval_id))
     FROM runs r";

fn to_stored((payload, tasks, pending): (String, String, i64)) -> rusqlite::Result<StoredRun> {
    Ok(StoredRun {
        run: decode(&payload)?,
        tasks: decode(&tasks)?,
        pending_approvals: u64::try_from(pending).unwrap_or(0),
    })
}

/// Every run, newest first.
pub fn list_runs(conn: &Connection) -> rusqlite::Result<Vec<StoredRun>> {
    let mut stmt = conn.prepare(&format!(
        "{RUN_SELECT} ORDER BY r.started_at DESC, r.run_id DESC"
    ))?;
    let rows = stmt.query_map([], run_from_row)?;
    rows.map(|row| row.and_then(to_stored)).collect()
}

/// One run.
pub fn get_run(conn: &Connection, run_id: &str) -> rusqlite::Result<Option<StoredRun>> {
    conn.query_row(
        &format!("{RUN_SELECT} WHERE r.run_id = ?1"),
        [run_id],
        run_from_row,
    )
    .optional()?
    .map(to_stored)
    .transpose()
}

/// Events with `idx > cursor`, at most `limit`, in order.
pub fn events_after(
    conn: &Connection,
    run_id: &str,
    cursor: u64,
    limit: u64,
) -> rusqlite::Result<Vec<Event>> {
    let mut stmt = conn.prepare_cached(
        "SELECT idx, ts, type, task_id, payload_json FROM events
         WHERE run_id = ?1 AND idx > ?2 ORDER BY idx LIMIT ?3",
    )?;
    let rows = stmt.query_map(
        params![
            run_id,
            i64::try_from(cursor).unwrap_or(i64::MAX),
            i64::try_from(limit).unwrap_or(i64::MAX)
        ],
        |row| {
            let idx: i64 = row.get(0)?;
            let ts: String = row.get(1)?;
            let kind: String = row.get(2)?;
            let task_id: Option<String> = row.get(3)?;
            let payload: String = row.get(4)?;
            Ok((idx, ts, kind, task_id, payload))
        },
    )?;
    let mut out = Vec::new();
    for row in rows {
        let (idx, ts, kind, task_id, payload) = row?;
        let value = serde_json::json!({
            "idx": idx,
            "ts": ts,
            "type": kind,
            "task_id": task_id,
            "payload": decode::<serde_json::Value>(&payload)?,
        });
        out.push(decode(&value.to_string())?);
    }
    Ok(out)
}

/// The approvals of a run with their decisions, oldest first.
pub fn approvals(conn: &Connection, run_id: &str) -> rusqlite::Result<Vec<StoredApproval>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.payload_json, d.payload_json, a.diff FROM approvals a
         LEFT JOIN decisions d ON d.run_id = a.run_id AND d.approval_id = a.approval_id
         WHERE a.run_id = ?1 ORDER BY a.created_at, a.approval_id",
    )?;
    let rows = stmt.query_map([run_id], |row| {
        let approval: String = row.get(0)?;
        let decision: Option<String> = row.get(1)?;
        let diff: String = row.get(2)?;
        Ok((approval, decision, diff))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (approval, decision, diff) = row?;
        out.push(StoredApproval {
            approval: decode(&approval)?,
            decision: decision.as_deref().map(decode).transpose()?,
            diff,
        });
    }
    Ok(out)
}

/// Writes one audit row.
pub fn insert_audit(conn: &Connection, row: &AuditRow) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO audit (at, who, action, method, path, origin, status, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            row.at, row.who, row.action, row.method, row.path, row.origin, row.status, row.detail
        ],
    )?;
    Ok(())
}

/// Every audit row, oldest first.
pub fn audit_rows(conn: &Connection) -> rusqlite::Result<Vec<AuditRow>> {
    let mut stmt = conn.prepare(
        "SELECT at, who, action, method, path, origin, status, detail FROM audit ORDER BY id",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(AuditRow {
            at: row.get(0)?,
            who: row.get(1)?,
            action: row.get(2)?,
            method: row.get(3)?,
            path: row.get(4)?,
            origin: row.get(5)?,
            status: row.get(6)?,
            detail: row.get(7)?,
        })
    })?;
    rows.collect()
}
