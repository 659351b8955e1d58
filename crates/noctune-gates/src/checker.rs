//! The repair ladder as the pipeline's [`Checker`]: gates on the work copy, the ladder when
//! they fail.

use std::path::Path;

use async_trait::async_trait;
use noctune_core::pipeline::{CheckOutcome, Checker};

use crate::repair::{RepairInput, RepairLadder};

#[async_trait]
impl Checker for RepairLadder {
    async fn check(
        &self,
        path: &Path,
        before: Option<&str>,
        after: &str,
    ) -> noctune_core::Result<CheckOutcome> {
        let report = self
            .repair(RepairInput {
                path,
                before,
                after,
            })
            .await
            .map_err(|err| noctune_core::Error::Gate {
                gate: "repair".to_owned(),
                message: err.to_string(),
            })?;
        let steps = serde_json::json!({
            "outcome": report.outcome,
            "steps": report.steps,
        });
        Ok(CheckOutcome {
            passed: report.passed(),
            reports: report.gates.reports,
            text: report.text,
            steps,
        })
    }
}

/// The gates alone, without the repair ladder, as a [`Checker`]: the text is judged as it is,
/// never changed (what `noctune apply` uses to check a stored proposal against today's file).
#[async_trait]
impl Checker for crate::Gates {
    async fn check(
        &self,
        path: &Path,
        before: Option<&str>,
        after: &str,
    ) -> noctune_core::Result<CheckOutcome> {
        let run = self
            .run(noctune_core::GateInput {
                path,
                before,
                after,
            })
            .await?;
        Ok(CheckOutcome {
            passed: run.passed(),
            text: after.to_owned(),
            reports: run.reports,
            steps: serde_json::Value::Null,
        })
    }
}
