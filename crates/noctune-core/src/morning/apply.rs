//! `noctune apply`: a finished run's approved proposals onto the real files, with no model
//! call. Each change applies only on top of exactly the file its pass read (a file edited since
//! is a `conflict`), only when the gates still pass on it, and only with a permit: a human's
//! approval of that very text, or the pack's auto-approve recorded when the change was queued.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{selected, unmatched};
use crate::approval::{Approval, DecisionKind};
use crate::error::{Error, Result};
use crate::event::EventType;
use crate::gate::GateOutcome;
use crate::ids::{RunId, content_hash};
use crate::pipeline::apply::{ABSENT, ApplyOutcome, Change, apply_change, resolve_in_root};
use crate::pipeline::permit::ApplyPermit;
use crate::pipeline::{CheckOutcome, Checker, artifacts};
use crate::policy::PolicyDecision;
use crate::store::{ApprovalEntry, Run, RunStore};
use crate::task::{TaskStage, TaskStatus};

/// What `noctune apply` is asked to do.
#[derive(Debug, Clone, Default)]
pub struct ApplyOptions {
    /// Only these files (repo-relative); every queued change when empty.
    pub files: Vec<PathBuf>,
    /// Check everything, write nothing.
    pub dry_run: bool,
    /// Who applies (`cli:$USER`), recorded in the `applied` events.
    pub applied_by: String,
}

/// What happened to one queued change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ApplyVerdict {
    /// Written to the real file; the original is in the backup.
    Applied {
        /// Where the original was saved.
        backup: PathBuf,
    },
    /// `--dry-run`: every check passed; nothing was written.
    WouldApply,
    /// The file already has the approved content.
    AlreadyApplied,
    /// Undecided, and the pack would not auto-approve it: a human decides first.
    Waiting,
    /// A human rejected it; it is never applied.
    Rejected {
        /// Who.
        by: String,
        /// Why, when given.
        reason: Option<String>,
    },
    /// Refused: the file changed since the run read it.
    Conflict {
        /// SHA-256 of what the run read.
        expected: String,
        /// SHA-256 of what is there now.
        found: String,
    },
    /// Refused: the gates fail on the change against today's file.
    GatesFail {
        /// What the gates said.
        summary: String,
    },
    /// Refused for another reason (the proposal's text is gone, the path is refused, no change
    /// queued for a named file).
    Refused {
        /// Why.
        why: String,
    },
}

impl ApplyVerdict {
    /// Whether the change was refused (`noctune apply` then exits 1).
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ApplyVerdict::Conflict { .. }
                | ApplyVerdict::GatesFail { .. }
                | ApplyVerdict::Refused { .. }
        )
    }

    /// A short word for the outcome, as the CLI prints it.
    pub fn word(&self) -> &'static str {
        match self {
            ApplyVerdict::Applied { .. } => "applied",
            ApplyVerdict::WouldApply => "would apply",
            ApplyVerdict::AlreadyApplied => "already applied",
            ApplyVerdict::Waiting => "queued",
            ApplyVerdict::Rejected { .. } => "rejected",
            ApplyVerdict::Conflict { .. } => "conflict",
            ApplyVerdict::GatesFail { .. } => "gates fail",
            ApplyVerdict::Refused { .. } => "refused",
        }
    }
}

/// One queued change and what happened to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApplyLine {
    /// The file, repo-relative.
    pub file: PathBuf,
    /// The approval, when the line is about one.
    pub approval_id: Option<String>,
    /// What allowed it: `human:<who>` or `auto:<the pack's reason>`.
    pub permit: Option<String>,
    /// What happened.
    #[serde(flatten)]
    pub verdict: ApplyVerdict,
}

/// Applies the approved (and, where the pack allows, auto-approvable) queued changes of a run
/// that no worker drives. Takes the run's lock; records `applied` and `conflict` events;
/// rewrites the report when anything was applied. `checker` runs the gates again on each change
/// against today's file (it must not repair: a text it changes is refused).
pub async fn apply_approved(
    store: &RunStore,
    run_id: &RunId,
    checker: &dyn Checker,
    options: &ApplyOptions,
) -> Result<Vec<ApplyLine>> {
    let run = store.open(run_id)?;
    let root = run.record().repo_root.clone();
    let mut entries = store.approvals(run_id)?;
    entries.retain(|e| selected(&options.files, &e.approval.file));
    entries.sort_by_key(|e| (e.approval.file.clone(), e.approval.pass));
    let mut lines = Vec::new();
    for entry in &entries {
        let (permit, verdict) = one(store, &run, &root, entry, checker, options).await?;
        lines.push(ApplyLine {
            file: entry.approval.file.clone(),
            approval_id: Some(entry.approval.approval_id.to_string()),
            permit,
            verdict,
        });
    }
    let seen: Vec<&Path> = entries.iter().map(|e| e.approval.file.as_path()).collect();
    for file in unmatched(&options.files, &seen) {
        lines.push(ApplyLine {
            file: file.clone(),
            approval_id: None,
            permit: None,
            verdict: ApplyVerdict::Refused {
                why: format!("run `{run_id}` has no queued change for this file"),
            },
        });
    }
    let applied = lines
        .iter()
        .any(|l| matches!(l.verdict, ApplyVerdict::Applied { .. }));
    drop(run);
    if applied {
        crate::report::write(store, run_id)?;
    }
    Ok(lines)
}

/// The permit's description and the verdict for one queued change.
async fn one(
    store: &RunStore,
    run: &Run,
    root: &Path,
    entry: &ApprovalEntry,
    checker: &dyn Checker,
    options: &ApplyOptions,
) -> Result<(Option<String>, ApplyVerdict)> {
    let approval = &entry.approval;
    let refused = |why: String| Ok((None, ApplyVerdict::Refused { why }));
    let (route, auto) = match (&entry.decision, &approval.auto_approve) {
        (Some(d), _) if d.decision == DecisionKind::Reject => {
            return Ok((
                None,
                ApplyVerdict::Rejected {
                    by: d.decided_by.clone(),
                    reason: d.reason.clone(),
                },
            ));
        }
        (Some(d), _) => (format!("human:{}", d.decided_by), None),
        (None, Some(why)) => (format!("auto:{why}"), Some(why.clone())),
        (None, None) => return Ok((None, ApplyVerdict::Waiting)),
    };
    let Some(text) = proposal(run, approval)? else {
        return refused(format!(
            "the proposed text of approval `{}` is no longer in the run's artifacts",
            approval.approval_id
        ));
    };
    let Some(base) = base_hash(run, approval)? else {
        return refused(format!(
            "approval `{}` does not record which file content it applies to",
            approval.approval_id
        ));
    };
    // A change that creates its file (a request's new module or tests) finds no file today.
    let creates = base == ABSENT && !root.join(&approval.file).exists();
    let current = if creates {
        Vec::new()
    } else {
        let path = match resolve_in_root(root, &approval.file) {
            Ok(path) => path,
            Err(err) => return refused(err.to_string()),
        };
        std::fs::read(&path).map_err(|err| Error::io("read", &path, err))?
    };
    let current_hash = if creates {
        ABSENT.to_owned()
    } else {
        content_hash(&current)
    };
    let new_hash = content_hash(text.as_bytes());
    if current_hash == new_hash {
        return Ok((Some(route), ApplyVerdict::AlreadyApplied));
    }
    if current_hash != base {
        if !options.dry_run {
            run.event(
                EventType::Conflict,
                Some(&approval.task_id),
                serde_json::json!({
                    "approval_id": approval.approval_id,
                    "expected": base,
                    "found": current_hash,
                    "by": options.applied_by,
                }),
            )?;
        }
        return Ok((
            Some(route),
            ApplyVerdict::Conflict {
                expected: base,
                found: current_hash,
            },
        ));
    }
    // The gates again, on today's file: a tool or a config that changed since the night counts.
    let today = String::from_utf8_lossy(&current);
    let checked = checker
        .check(&approval.file, (!creates).then_some(&*today), &text)
        .await?;
    if !checked.passed || checked.text != text {
        return Ok((
            Some(route),
            ApplyVerdict::GatesFail {
                summary: gate_summary(&checked),
            },
        ));
    }
    if options.dry_run {
        return Ok((Some(route), ApplyVerdict::WouldApply));
    }
    let permit = match auto {
        Some(why) => ApplyPermit::from_policy(&PolicyDecision::AutoApprove { why }, &text)?,
        None => ApplyPermit::from_decision(store, approval, &text)?,
    };
    let pass = approval.pass.unwrap_or(1);
    let outcome = apply_change(
        run,
        Change {
            task_id: &approval.task_id,
            pass,
            root,
            rel: &approval.file,
            read_hash: &base,
            new_text: &text,
        },
        permit,
    )?;
    let verdict = match outcome {
        ApplyOutcome::Applied { backup } => ApplyVerdict::Applied { backup },
        ApplyOutcome::AlreadyApplied => ApplyVerdict::AlreadyApplied,
        ApplyOutcome::Conflict { expected, found } => {
            return Ok((Some(route), ApplyVerdict::Conflict { expected, found }));
        }
    };
    run.event(
        EventType::Applied,
        Some(&approval.task_id),
        serde_json::json!({
            "pass": pass,
            "backup": match &verdict { ApplyVerdict::Applied { backup } => Some(backup), _ => None },
            "hash": new_hash,
            "approval_id": approval.approval_id,
            "by": options.applied_by,
            "permit": route,
        }),
    )?;
    if let Some(mut state) = run.read_task(&approval.task_id)? {
        state.status = TaskStatus::Done;
        state.stage = TaskStage::Done;
        state.updated_at = jiff::Timestamp::now();
        run.write_task(&state)?;
    }
    Ok((Some(route), verdict))
}

/// The whole proposed text of an approval, from the artifacts of its pass, checked against the
/// hash the approval was given for. `None` when it is gone.
fn proposal(run: &Run, approval: &Approval) -> Result<Option<String>> {
    let matches = |text: &str| {
        approval
            .content_hash
            .as_ref()
            .is_none_or(|h| *h == content_hash(text.as_bytes()))
    };
    if let Some(pass) = approval.pass
        && let Some(bytes) = run.read_artifact(&approval.task_id, &artifacts::gates(pass))?
        && let Ok(outcome) = serde_json::from_slice::<CheckOutcome>(&bytes)
        && matches(&outcome.text)
    {
        return Ok(Some(outcome.text));
    }
    if let Some(bytes) = run.read_artifact(&approval.task_id, artifacts::PROPOSED)?
        && let Ok(text) = String::from_utf8(bytes)
        && approval.content_hash.is_some()
        && matches(&text)
    {
        return Ok(Some(text));
    }
    Ok(None)
}

/// SHA-256 of the file the approval's pass read: recorded on the approval, or (for approvals
/// queued before it was) the waiting task's read hash.
fn base_hash(run: &Run, approval: &Approval) -> Result<Option<String>> {
    if let Some(hash) = &approval.base_hash {
        return Ok(Some(hash.clone()));
    }
    Ok(run
        .read_task(&approval.task_id)?
        .filter(|t| t.approval_id.as_ref() == Some(&approval.approval_id))
        .and_then(|t| t.read_hash))
}

/// The failing gates, one line each with their blocking diagnostics.
fn gate_summary(checked: &CheckOutcome) -> String {
    let mut out = Vec::new();
    for report in checked
        .reports
        .iter()
        .filter(|r| r.outcome != GateOutcome::Pass)
    {
        let mut line = format!("{}: {}", report.gate, report.summary);
        for d in report.diagnostics.iter().filter(|d| d.introduced).take(5) {
            line.push_str(&format!(
                "; {} {}",
                d.code.as_deref().unwrap_or("-"),
                d.message
            ));
        }
        out.push(line);
    }
    if out.is_empty() {
        "the gates changed the text (a repair was needed)".to_owned()
    } else {
        out.join("\n")
    }
}
