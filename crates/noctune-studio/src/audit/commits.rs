//! `noctune commit`'s history in the audit database: one row per thing a sweep did in a
//! repository (a commit, a skip, a file left out, a push, an error), grouped by cycle.

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use super::Db;
use crate::error::Result;

/// One row of `commit_history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitHistoryRow {
    /// When (RFC 3339).
    pub at: String,
    /// The sweep it belongs to (`<start time>#<n>`, the same for every row of one sweep).
    pub cycle: String,
    /// The repository.
    pub repo: String,
    /// `commit`, `skipped`, `synced`, `left_out`, `pushed` or `error`.
    pub kind: String,
    /// The commit, for `commit` rows.
    pub sha: Option<String>,
    /// The subject, the reason, the file and rule (never a secret).
    pub detail: String,
}

/// Appends `rows` in one transaction.
pub async fn record_commit_history(db: &Db, rows: Vec<CommitHistoryRow>) -> Result<()> {
    let path = db.path().to_path_buf();
    db.call(move |conn: &mut Connection| {
        let err = Db::error(&path);
        let tx = conn.transaction().map_err(&err)?;
        for row in &rows {
            tx.execute(
                "INSERT INTO commit_history (at, cycle, repo, kind, sha, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![row.at, row.cycle, row.repo, row.kind, row.sha, row.detail],
            )
            .map_err(&err)?;
        }
        tx.commit().map_err(&err)
    })
    .await
}

/// The newest `limit` rows, oldest first.
pub async fn commit_history(db: &Db, limit: usize) -> Result<Vec<CommitHistoryRow>> {
    let path = db.path().to_path_buf();
    db.call(move |conn: &mut Connection| {
        let err = Db::error(&path);
        let mut statement = conn
            .prepare(
                "SELECT at, cycle, repo, kind, sha, detail FROM
                 (SELECT * FROM commit_history ORDER BY id DESC LIMIT ?1) ORDER BY id",
            )
            .map_err(&err)?;
        let rows = statement
            .query_map(params![i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
                Ok(CommitHistoryRow {
                    at: row.get(0)?,
                    cycle: row.get(1)?,
                    repo: row.get(2)?,
                    kind: row.get(3)?,
                    sha: row.get(4)?,
                    detail: row.get(5)?,
                })
            })
            .map_err(&err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(&err)?;
        Ok(rows)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[tokio::test]
    async fn rows_round_trip_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("audit.db")).unwrap();
        let row = |kind: &str, sha: Option<&str>| CommitHistoryRow {
            at: "2026-12-02T05:00:00Z".to_owned(),
            cycle: "2026-12-02T05:00:00Z#1".to_owned(),
            repo: "/r".to_owned(),
            kind: kind.to_owned(),
            sha: sha.map(str::to_owned),
            detail: "d".to_owned(),
        };
        let rows = vec![row("commit", Some("abc")), row("pushed", None)];
        record_commit_history(&db, rows.clone()).await.unwrap();
        assert_eq!(commit_history(&db, 10).await.unwrap(), rows);
        assert_eq!(commit_history(&db, 1).await.unwrap(), rows[1..].to_vec());
    }
}
