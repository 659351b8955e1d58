//! The update: each file the request changed, once every step passed, becomes a task of the run
//! at the approve stage; the pack decides on it with the verifiers' word, and it is applied (or
//! queued for a human) like any change. Applied changes leave lesson cards.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::lessons::{LessonCard, Lessons};
use super::plan::TaskPlan;
use super::step::kind_of;
use super::verify::{Changed, is_test_path};
use super::workspace::Workspace;
use super::{TaskOutcome, TaskReport, TaskRequest};
use crate::approver::{ApproverVerdict, Verdict};
use crate::error::{Error, Result};
use crate::event::EventType;
use crate::ids::content_hash;
use crate::pipeline::PassOutcome;
use crate::pipeline::apply::ABSENT;
use crate::pipeline::approve::decide_verified;
use crate::pipeline::task::{TaskCtx, apply};
use crate::policy::PolicyDecision;
use crate::store::{CacheLayout, RunStore};
use crate::task::{TaskStage, TaskState, TaskStatus};

/// The files a request changed in its copy, with what the real files held when it first
/// touched them (`None`: the file did not exist).
#[derive(Debug, Default)]
pub(super) struct Touched {
    files: BTreeMap<PathBuf, Option<String>>,
}

impl Touched {
    /// Remembers the real content of `rel` the first time the request touches it.
    pub fn note(&mut self, root: &Path, rel: &Path) -> Result<()> {
        if self.files.contains_key(rel) {
            return Ok(());
        }
        let path = root.join(rel);
        let before = match std::fs::read_to_string(&path) {
            Ok(text) => Some(text),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => return Err(Error::io("read", &path, err)),
        };
        self.files.insert(rel.to_path_buf(), before);
        Ok(())
    }

    /// Whether the request created `rel` (it did not exist when first touched).
    pub fn created(&self, rel: &Path) -> bool {
        matches!(self.files.get(rel), Some(None))
    }

    /// Every touched file, for the gates.
    pub fn changed(&self) -> Vec<Changed> {
        self.files
            .iter()
            .map(|(rel, before)| Changed {
                rel: rel.clone(),
                before: before.clone(),
            })
            .collect()
    }
}

/// One changed file on its way to the real tree.
struct FileChange<'a> {
    ctx: TaskCtx<'a>,
    before: Option<String>,
    after: String,
    record: crate::pipeline::approve::ApprovalRecord,
}

/// Decides on and applies (or queues) every changed file; the code before the tests, so a
/// test never lands without its code. When any file needs a human, they all wait for one: a
/// request's files go in together.
pub(super) async fn update(
    ctx: &TaskCtx<'_>,
    store: &RunStore,
    request: &TaskRequest,
    plan: &TaskPlan,
    workspace: &Workspace,
    touched: &Touched,
    report: &TaskReport,
) -> Result<TaskOutcome> {
    let verified: Vec<String> = report
        .attempts
        .iter()
        .filter(|a| a.verifiers.iter().all(|v| v.passed != Some(false)))
        .flat_map(|a| a.verifiers.iter())
        .map(|v| format!("{} {}", v.verifier, v.summary))
        .collect();
    let mut order: Vec<(&PathBuf, &Option<String>)> = touched.files.iter().collect();
    order.sort_by_key(|(rel, _)| is_test_path(rel));
    let mut changes: Vec<FileChange<'_>> = Vec::new();
    for (rel, before) in order {
        let Some(after) = workspace.read(rel)? else {
            continue;
        };
        if before.as_deref() == Some(after.as_str()) {
            continue;
        }
        let mut state = TaskState::new(rel.clone());
        state.read_hash = Some(match before {
            Some(text) => content_hash(text.as_bytes()),
            None => ABSENT.to_owned(),
        });
        let mut file_ctx = TaskCtx {
            pipeline: ctx.pipeline,
            run: ctx.run,
            state,
            rel: rel.clone(),
            control: ctx.control,
        };
        file_ctx.save_state(TaskStatus::Running, TaskStage::Approve)?;
        file_ctx.event(
            EventType::TaskStarted,
            serde_json::json!({ "request": request.request, "created": before.is_none() }),
        )?;
        let verdict = ApproverVerdict {
            decision: Verdict::Approve,
            reason: format!(
                "the request's verifiers passed on a copy ({})",
                verified.join("; ")
            ),
            risk: 0.0,
            judged_by: "verify".to_owned(),
        };
        let record =
            decide_verified(&file_ctx, before.as_deref().unwrap_or(""), &after, verdict).await?;
        changes.push(FileChange {
            ctx: file_ctx,
            before: before.clone(),
            after,
            record,
        });
    }
    if changes.is_empty() {
        return Ok(TaskOutcome::Rejected {
            why: "the steps passed but changed no file".to_owned(),
        });
    }
    // One file that must wait holds back the others.
    let waits = changes
        .iter()
        .find(|c| !matches!(c.record.decision, PolicyDecision::AutoApprove { .. }))
        .map(|c| {
            let why = match &c.record.decision {
                PolicyDecision::NeedsHuman { why } | PolicyDecision::Rejected { why } => {
                    why.clone()
                }
                PolicyDecision::Violation(violation) => violation.to_string(),
                PolicyDecision::AutoApprove { why } => why.clone(),
            };
            format!("`{}`: {why}", c.ctx.rel.display())
        });
    if let Some(why) = &waits {
        for change in &mut changes {
            if matches!(change.record.decision, PolicyDecision::AutoApprove { .. }) {
                change.record.decision = PolicyDecision::NeedsHuman {
                    why: format!("another file of the request needs a human ({why})"),
                };
            }
        }
    }

    let mut applied = Vec::new();
    let mut queued = Vec::new();
    let mut refused = Vec::new();
    for change in &mut changes {
        let outcome = apply(&mut change.ctx, store, &change.record, &change.after).await?;
        let file = change.ctx.rel.clone();
        match outcome {
            PassOutcome::Applied => {
                change.ctx.save_state(TaskStatus::Done, TaskStage::Done)?;
                applied.push(file);
            }
            PassOutcome::Queued(_) | PassOutcome::WaitingApproval(_) => queued.push(file),
            PassOutcome::SetAside { why } => {
                queued.push(file);
                refused.push(why);
            }
            PassOutcome::Rejected { why } | PassOutcome::Proposed { why } => {
                refused.push(format!("`{}`: {why}", file.display()));
            }
            PassOutcome::Conflict => refused.push(format!(
                "`{}` changed while the request ran: left alone",
                file.display()
            )),
            other => refused.push(format!("`{}`: {other:?}", file.display())),
        }
        change.ctx.event(
            EventType::TaskFinished,
            serde_json::json!({ "status": change.ctx.state.status }),
        )?;
    }
    if applied.len() == changes.len() {
        let lessons = keep_lessons(ctx, request, plan, report, &changes)?;
        return Ok(TaskOutcome::Applied {
            files: applied,
            lessons,
        });
    }
    if !refused.is_empty() && queued.is_empty() {
        return Ok(TaskOutcome::Rejected {
            why: refused.join("; "),
        });
    }
    Ok(TaskOutcome::Queued {
        files: queued,
        why: waits
            .or_else(|| refused.first().cloned())
            .unwrap_or_else(|| "the run does not apply (allow_apply = false)".to_owned()),
    })
}

/// A lesson card for each target and test of the plan that landed.
fn keep_lessons(
    ctx: &TaskCtx<'_>,
    request: &TaskRequest,
    plan: &TaskPlan,
    report: &TaskReport,
    changes: &[FileChange<'_>],
) -> Result<Vec<String>> {
    let lessons = Lessons::new(CacheLayout::for_root(&ctx.pipeline.root).dir());
    let editor = ctx.pipeline.editor.as_ref();
    let symbol_text = |text: &str, name: &str| -> Option<String> {
        let outline = editor.outline(text).ok()?;
        let symbol = outline.symbol(name)?;
        Some(text[symbol.start_byte..symbol.end_byte].to_owned())
    };
    let mut kept = Vec::new();
    for (n, step) in plan.steps.iter().enumerate() {
        // The verifiers the step's last (passing) attempt ran.
        let verifiers: Vec<String> = report
            .attempts
            .iter()
            .rfind(|a| a.step == n + 1)
            .map(|a| {
                a.verifiers
                    .iter()
                    .filter(|v| v.passed == Some(true))
                    .map(|v| v.verifier.clone())
                    .collect()
            })
            .unwrap_or_default();
        let items = step
            .targets
            .iter()
            .map(|t| (t.file.as_str(), t.symbol.as_str(), Some(t)))
            .chain(
                step.tests
                    .iter()
                    .map(|t| (t.file.as_str(), t.name.as_str(), None)),
            );
        for (file, symbol, target) in items {
            let Some(change) = changes.iter().find(|c| c.ctx.rel == Path::new(file)) else {
                continue;
            };
            let Some(after) = symbol_text(&change.after, symbol) else {
                continue;
            };
            let before = change
                .before
                .as_deref()
                .and_then(|text| symbol_text(text, symbol));
            let kind = match target {
                Some(target) => kind_of(target, before.as_deref().or(Some(after.as_str()))),
                None => "test",
            };
            let card = lessons.keep(LessonCard {
                id: String::new(),
                request: request.request.clone(),
                objective: step.objective.clone(),
                file: file.to_owned(),
                symbol: symbol.to_owned(),
                kind: kind.to_owned(),
                before,
                after,
                verifiers: verifiers.clone(),
                run_id: ctx.run.id().to_string(),
                created_at: Timestamp::now(),
            })?;
            kept.push(card.id);
        }
    }
    Ok(kept)
}

/// A finished request whose files waited for a human (`allow_apply = true`): resumed, the
/// decided ones are applied (or refused), as a resumed run applies its decided approvals. The
/// new outcome, or `None` when the request did not wait or the run does not apply.
pub(super) async fn settle_decided(
    ctx: &TaskCtx<'_>,
    store: &RunStore,
    report: &TaskReport,
) -> Result<Option<TaskOutcome>> {
    let TaskOutcome::Queued { files, why } = &report.outcome else {
        return Ok(None);
    };
    if !ctx.pipeline.options.allow_apply {
        return Ok(None);
    }
    let (mut applied, mut waiting, mut refused) = (Vec::new(), Vec::new(), Vec::new());
    for file in files {
        let task_id = crate::ids::TaskId::for_path(file);
        let Some(state) = ctx.run.read_task(&task_id)? else {
            continue;
        };
        match state.status {
            TaskStatus::Done => {
                applied.push(file.clone());
                continue;
            }
            TaskStatus::WaitingApproval => {}
            _ => {
                let status = format!("{:?}", state.status).to_lowercase();
                refused.push(format!("`{}`: {status}", file.display()));
                continue;
            }
        }
        let record = ctx
            .run
            .read_artifact(&task_id, &crate::pipeline::artifacts::approval(state.pass))?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let text = ctx
            .run
            .read_artifact(&task_id, crate::pipeline::artifacts::PROPOSED)?
            .and_then(|bytes| String::from_utf8(bytes).ok());
        let (Some(record), Some(text)) = (record, text) else {
            refused.push(format!(
                "`{}`: its proposal is no longer in the run's artifacts",
                file.display()
            ));
            continue;
        };
        let mut file_ctx = TaskCtx {
            pipeline: ctx.pipeline,
            run: ctx.run,
            state,
            rel: file.clone(),
            control: ctx.control,
        };
        match apply(&mut file_ctx, store, &record, &text).await? {
            PassOutcome::Applied => {
                file_ctx.save_state(TaskStatus::Done, TaskStage::Done)?;
                applied.push(file.clone());
            }
            PassOutcome::WaitingApproval(_) | PassOutcome::Queued(_) => waiting.push(file.clone()),
            PassOutcome::Rejected { why } => refused.push(format!("`{}`: {why}", file.display())),
            other => refused.push(format!("`{}`: {other:?}", file.display())),
        }
    }
    Ok(Some(if !refused.is_empty() {
        TaskOutcome::Rejected {
            why: refused.join("; "),
        }
    } else if waiting.is_empty() {
        TaskOutcome::Applied {
            files: applied,
            lessons: Vec::new(),
        }
    } else {
        TaskOutcome::Queued {
            files: files.clone(),
            why: why.clone(),
        }
    }))
}
