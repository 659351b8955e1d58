//! The tables of the audit database.

use rusqlite::Connection;

/// Creates the tables when missing.
pub fn create(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "
        CREATE TABLE IF NOT EXISTS runs (
            run_id      TEXT PRIMARY KEY,
            repo_root   TEXT NOT NULL,
            pack        TEXT,
            profile     TEXT,
            status      TEXT NOT NULL,
            started_at  TEXT NOT NULL,
            updated_at  TEXT NOT NULL,
            ended_at    TEXT,
            head_sha    TEXT,
            branch      TEXT,
            error       TEXT,
            tasks_json  TEXT NOT NULL DEFAULT '[]',
            payload_json TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS events (
            run_id      TEXT NOT NULL,
            idx         INTEGER NOT NULL,
            ts          TEXT NOT NULL,
            type        TEXT NOT NULL,
            task_id     TEXT,
            payload_json TEXT NOT NULL,
            PRIMARY KEY (run_id, idx)
        );
        CREATE TABLE IF NOT EXISTS approvals (
            run_id      TEXT NOT NULL,
            approval_id TEXT NOT NULL,
            created_at  TEXT NOT NULL,
            file_path   TEXT NOT NULL,
            symbol      TEXT NOT NULL,
            risk_score  REAL NOT NULL,
            reason      TEXT NOT NULL,
            diff        TEXT NOT NULL,
            payload_json TEXT NOT NULL,
            PRIMARY KEY (run_id, approval_id)
        );
        CREATE TABLE IF NOT EXISTS decisions (
            run_id      TEXT NOT NULL,
            approval_id TEXT NOT NULL,
            decision    TEXT NOT NULL,
            decided_at  TEXT NOT NULL,
            decided_by  TEXT NOT NULL,
            reason      TEXT,
            payload_json TEXT NOT NULL,
            PRIMARY KEY (run_id, approval_id)
        );
        CREATE TABLE IF NOT EXISTS commit_history (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            at          TEXT NOT NULL,
            cycle       TEXT NOT NULL,
            repo        TEXT NOT NULL,
            kind        TEXT NOT NULL,
            sha         TEXT,
            detail      TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS audit (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            at          TEXT NOT NULL,
            who         TEXT NOT NULL,
            action      TEXT NOT NULL,
            method      TEXT NOT NULL,
            path        TEXT NOT NULL,
            origin      TEXT,
            status      INTEGER NOT NULL,
            detail      TEXT
        );
        ",
    )
}
