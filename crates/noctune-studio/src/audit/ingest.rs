//! Ingest from the run store: idempotent by `(run_id, idx)` for events and by
//! `(run_id, approval_id)` for approvals and decisions; `runs` follows `run.json`.

use noctune_core::approval::Approval;
use noctune_core::store::RunStore;
use noctune_core::{RunId, RunRecord, TaskState};
use rusqlite::{Connection, params};

/// Copies what is new in one run's store into the database: `run.json` and the task states
/// (replacing the row), events after the last ingested `idx`, approvals and decisions not seen
/// yet. A part missing on disk leaves what the database has.
pub fn ingest_run(conn: &mut Connection, store: &RunStore, run_id: &RunId) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    match store.read(run_id) {
        Ok(record) => {
            let tasks = store.tasks(run_id).unwrap_or_default();
            upsert_run(&tx, &record, &tasks)?;
        }
        Err(noctune_core::Error::RunNotFound { .. }) => {}
        Err(err) => tracing::warn!("cannot read run `{run_id}` for the audit database: {err}"),
    }
    let last: i64 = tx.query_row(
        "SELECT COALESCE(MAX(idx), 0) FROM events WHERE run_id = ?1",
        [run_id.as_str()],
        |row| row.get(0),
    )?;
    let after = u64::try_from(last).unwrap_or(0);
    match store.events(run_id, after, usize::MAX) {
        Ok(events) => {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO events (run_id, idx, ts, type, task_id, payload_json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for event in events {
                let kind = serde_json::to_value(event.event_type)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                insert.execute(params![
                    run_id.as_str(),
                    i64::try_from(event.idx).unwrap_or(i64::MAX),
                    event.ts.to_string(),
                    kind,
                    event.task_id.as_ref().map(|t| t.as_str().to_owned()),
                    event.payload.to_string(),
                ])?;
            }
        }
        Err(err) => tracing::warn!("cannot read the events of run `{run_id}`: {err}"),
    }
    match store.approvals(run_id) {
        Ok(entries) => {
            for entry in entries {
                insert_approval(&tx, &entry.approval)?;
                if let Some(decision) = entry.decision {
                    tx.execute(
                        "INSERT OR IGNORE INTO decisions
                         (run_id, approval_id, decision, decided_at, decided_by, reason, payload_json)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                        params![
                            run_id.as_str(),
                            decision.approval_id.as_str(),
                            match decision.decision {
                                noctune_core::DecisionKind::Approve => "approve",
                                noctune_core::DecisionKind::Reject => "reject",
                            },
                            decision.decided_at.to_string(),
                            decision.decided_by,
                            decision.reason,
                            serde_json::to_string(&decision).unwrap_or_default(),
                        ],
                    )?;
                }
            }
        }
        Err(err) => tracing::warn!("cannot read the approvals of run `{run_id}`: {err}"),
    }
    tx.commit()
}

fn upsert_run(conn: &Connection, record: &RunRecord, tasks: &[TaskState]) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO runs (run_id, repo_root, pack, profile, status, started_at, updated_at,
                           ended_at, head_sha, branch, error, tasks_json, payload_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT(run_id) DO UPDATE SET
           repo_root = excluded.repo_root, pack = excluded.pack, profile = excluded.profile,
           status = excluded.status, started_at = excluded.started_at,
           updated_at = excluded.updated_at, ended_at = excluded.ended_at,
           head_sha = excluded.head_sha, branch = excluded.branch, error = excluded.error,
           tasks_json = excluded.tasks_json, payload_json = excluded.payload_json",
        params![
            record.run_id.as_str(),
            record.repo_root.to_string_lossy(),
            record.pack,
            record.profile,
            record.status.as_str(),
            record.started_at.to_string(),
            record.updated_at.to_string(),
            record.ended_at.map(|t| t.to_string()),
            record.head_sha,
            record.branch,
            record.error,
            serde_json::to_string(tasks).unwrap_or_else(|_| "[]".to_owned()),
            serde_json::to_string(record).unwrap_or_default(),
        ],
    )?;
    Ok(())
}

fn insert_approval(conn: &Connection, approval: &Approval) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR IGNORE INTO approvals
         (run_id, approval_id, created_at, file_path, symbol, risk_score, reason, diff, payload_json)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            approval.run_id.as_str(),
            approval.approval_id.as_str(),
            approval.created_at.to_string(),
            approval.file.to_string_lossy(),
            approval.symbols.join(", "),
            f64::from(approval.risk),
            approval.reason,
            unified_diff(approval),
            serde_json::to_string(approval).unwrap_or_default(),
        ],
    )?;
    Ok(())
}

/// The approval's changes as one unified diff, symbol by symbol.
pub fn unified_diff(approval: &Approval) -> String {
    let mut out = String::new();
    for change in &approval.changes {
        let before = change.before.as_deref().unwrap_or("");
        let after = change.after.as_deref().unwrap_or("");
        let diff = similar::TextDiff::from_lines(before, after);
        let file = approval.file.to_string_lossy();
        out.push_str(
            &diff
                .unified_diff()
                .header(
                    &format!("a/{file} ({})", change.symbol),
                    &format!("b/{file} ({})", change.symbol),
                )
                .to_string(),
        );
    }
    out
}
