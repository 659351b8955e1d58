//! What a run did, read back from its run store: model answers, changes and who judged them,
//! applied changes and tokens.

use std::path::Path;

use noctune_core::pipeline::CheckOutcome;
use noctune_core::pipeline::approve::{Applies, ApprovalRecord};
use noctune_core::pipeline::edit::TargetOps;
use noctune_core::pipeline::fix::FixRecord;
use noctune_core::policy::PolicyDecision;
use noctune_core::store::{CacheLayout, RunStore};
use noctune_core::{EventType, RunId, Verdict};
use serde::Serialize;

/// The counts of one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunCounts {
    /// Model answers received.
    pub answers: usize,
    /// Answers the pipeline could use (answers less edits without usable code, unreadable
    /// verdicts and answers that failed their task).
    pub usable: usize,
    /// Changes that reached the approver.
    pub proposed: usize,
    /// Approved by a proof (no model).
    pub proven: usize,
    /// Approved by the model.
    pub model_approved: usize,
    /// Left to a human.
    pub queued: usize,
    /// Rejected (by the approver or a policy rule).
    pub rejected: usize,
    /// Changes applied to the files.
    pub applied: usize,
    /// Applied changes with edits the model wrote (beyond the tools' fixes), whoever approved
    /// them (a proof of a listed rewrite, or the model).
    pub model_written_applied: usize,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Answer tokens.
    pub completion_tokens: u64,
}

/// Reads the counts of `run_id` in the repository at `root`.
pub fn counts(root: &Path, run_id: &RunId) -> anyhow::Result<RunCounts> {
    let store = RunStore::new(root);
    let mut counts = RunCounts::default();
    let mut unusable = 0usize;
    // The hash of the text each pass applied: (task, pass) → hash.
    let mut applied_hashes: Vec<(String, u64, String)> = Vec::new();
    for event in store.events(run_id, 0, usize::MAX)? {
        match event.event_type {
            EventType::LlmCall => {
                if event.payload["ok"].as_bool() == Some(true) {
                    counts.answers += 1;
                }
                counts.prompt_tokens += event.payload["prompt_tokens"].as_u64().unwrap_or(0);
                counts.completion_tokens +=
                    event.payload["completion_tokens"].as_u64().unwrap_or(0);
            }
            EventType::Applied => {
                counts.applied += 1;
                if let (Some(task), Some(pass), Some(hash)) = (
                    &event.task_id,
                    event.payload["pass"].as_u64(),
                    event.payload["hash"].as_str(),
                ) {
                    applied_hashes.push((task.as_str().to_owned(), pass, hash.to_owned()));
                }
            }
            EventType::TaskFailed => {
                let error = event.payload["error"].as_str().unwrap_or("");
                if error.contains("nusable") || error.contains("not have the expected shape") {
                    unusable += 1;
                }
            }
            _ => {}
        }
    }
    let layout = CacheLayout::for_root(root).run(run_id);
    for task in store.tasks(run_id)? {
        let dir = layout.artifacts(&task.task_id);
        for pass in 1..=task.pass.max(1) {
            if let Some(ops) = read::<Vec<TargetOps>>(&dir.join(format!("edit_ops_p{pass}.json"))) {
                unusable += ops.iter().filter(|t| t.error.is_some()).count();
            }
            let Some(record) = read::<ApprovalRecord>(&dir.join(format!("approval_p{pass}.json")))
            else {
                continue;
            };
            counts.proposed += 1;
            let judged = record.verdict.judged_by.as_str();
            if judged.starts_with("proof:") {
                counts.proven += 1;
            } else if judged == "llm" && record.verdict.decision == Verdict::Approve {
                counts.model_approved += 1;
            }
            if record.verdict.reason.starts_with("the model's answer") {
                unusable += 1;
            }
            match record.decision {
                PolicyDecision::NeedsHuman { .. } => counts.queued += 1,
                PolicyDecision::Rejected { .. } | PolicyDecision::Violation(_) => {
                    counts.rejected += 1;
                }
                PolicyDecision::AutoApprove { .. } => {
                    let applied = applied_hashes
                        .iter()
                        .find(|(t, p, _)| t == task.task_id.as_str() && *p == u64::from(pass))
                        .map(|(_, _, hash)| hash.as_str());
                    if model_wrote(&dir, pass, &record, applied) {
                        counts.model_written_applied += 1;
                    }
                }
            }
        }
    }
    counts.usable = counts.answers.saturating_sub(unusable);
    // A change auto-approved but not applied (a conflict) is not counted as written-and-applied.
    counts.model_written_applied = counts.model_written_applied.min(counts.applied);
    Ok(counts)
}

/// Whether the change a pass decided on holds edits the model wrote: the whole change (not the
/// tools' fixes alone) and a text other than the fix step's. `applied` is the hash of the text
/// the pass applied (its `applied` event), which says it exactly (the targets that passed the
/// gates when the edits together did not); without it, the checked text of `gates_p<N>.json`.
fn model_wrote(dir: &Path, pass: u32, record: &ApprovalRecord, applied: Option<&str>) -> bool {
    match record.applies {
        Applies::ToolsOnly => return false,
        // Targets the model wrote, each proven on its own.
        Applies::ProvenPart => return true,
        Applies::Whole => {}
    }
    let fixed = read::<FixRecord>(&dir.join(format!("fix_p{pass}.json"))).map(|f| f.text);
    if let Some(hash) = applied {
        return match &fixed {
            Some(fixed) => noctune_core::ids::content_hash(fixed.as_bytes()) != hash,
            None => true,
        };
    }
    // A failed gates outcome was not what was applied (the tools' fixes went alone, or the
    // targets that passed): counted as not the model's, a conservative count.
    let checked = read::<CheckOutcome>(&dir.join(format!("gates_p{pass}.json")))
        .filter(|c| c.passed)
        .map(|c| c.text);
    match (fixed, checked) {
        (Some(fixed), Some(checked)) => fixed != checked,
        // No fix step: every change is the model's.
        (None, Some(_)) => true,
        _ => false,
    }
}

fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}
