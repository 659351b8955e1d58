//! A run's patchsets for the API: `noctune patchset list|commit --output-format json` run as a
//! child process (the daemon's own executable, as run workers are), so the grouping, the tools
//! before each commit, the worktree and the secrets prefilter live once, in the CLI and
//! `noctune-git`.

use std::time::Duration;

use noctune_core::RunId;
use noctune_core::process::ProcessBuilder;

use super::Control;
use crate::error::{ApiError, Error};

/// How long `noctune patchset commit` may take (it runs the pack's tests per patchset).
const COMMIT_TIMEOUT: Duration = Duration::from_secs(1800);

impl Control {
    /// The run's patchsets as `noctune patchset list` groups them (by module).
    pub async fn patchsets(&self, run_id: &RunId) -> Result<serde_json::Value, ApiError> {
        self.load_run(run_id).await?;
        self.patchset_command(run_id, "list", ProcessBuilder::DEFAULT_TIMEOUT)
            .await
    }

    /// Commits the run's patchsets on `noctune/<run_id>` (`noctune patchset commit`): the
    /// report with the branch and each patchset's commit or reason. Refused while a worker
    /// drives the run.
    pub async fn commit_patchsets(&self, run_id: &RunId) -> Result<serde_json::Value, ApiError> {
        self.load_run(run_id).await?;
        if self.supervisor.is_live(run_id) {
            return Err(ApiError::Conflict {
                code: "run_busy",
                message: format!("run `{run_id}` is running; commit its patchsets when it ends"),
            });
        }
        let report = self
            .patchset_command(run_id, "commit", COMMIT_TIMEOUT)
            .await?;
        self.ingest(run_id).await;
        Ok(report)
    }

    /// `noctune patchset <verb> --root R --run-id ID --output-format json`: its JSON on exit 0
    /// or 1; its error (409) on exit 2.
    async fn patchset_command(
        &self,
        run_id: &RunId,
        verb: &str,
        timeout: Duration,
    ) -> Result<serde_json::Value, ApiError> {
        let command = self.supervisor.command();
        let mut builder = ProcessBuilder::new(&command.program)
            .args(["patchset", verb, "--root"])
            .arg(self.root.as_path())
            .args(["--run-id", run_id.as_str(), "--output-format", "json"])
            .timeout(timeout);
        for (key, value) in &command.env {
            builder = builder.env(key, value);
        }
        let output = builder.run().await.map_err(|err| {
            ApiError::Internal(Error::Refused(format!(
                "cannot run `noctune patchset {verb}`: {err}"
            )))
        })?;
        match output.code {
            Some(0 | 1) => serde_json::from_slice(&output.stdout).map_err(|err| {
                ApiError::Internal(Error::Refused(format!(
                    "`noctune patchset {verb}` printed no JSON: {err}"
                )))
            }),
            _ => Err(ApiError::Conflict {
                code: "patchset_refused",
                message: output
                    .stderr_text()
                    .lines()
                    .map(|line| line.trim_start_matches("error: "))
                    .collect::<Vec<_>>()
                    .join("\n"),
            }),
        }
    }
}
