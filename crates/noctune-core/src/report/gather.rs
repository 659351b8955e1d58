//! Collecting a run's report from the run store (task states, artifacts, events).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;

use super::pass_diffs::pass_diffs;
use crate::approval::{Decision, DecisionKind};
use crate::approver::RiskSignal;
use crate::error::Result;
use crate::event::EventType;
use crate::ids::RunId;
use crate::label::Label;
use crate::llm::Calibration;
use crate::pipeline::CheckOutcome;
use crate::pipeline::approve::ApprovalRecord;
use crate::pipeline::artifacts;
use crate::policy::PolicyDecision;
use crate::run::RunRecord;
use crate::store::{ApprovalEntry, RunStore, read_run_calibrations};
use crate::task::{TaskState, TaskStatus};

/// Time and tokens spent in one stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StageStats {
    /// Model calls.
    pub calls: u32,
    /// Wall-clock milliseconds in model calls.
    pub llm_ms: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Answer tokens.
    pub completion_tokens: u64,
}

/// One changed symbol, as a unified diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SymbolDiff {
    /// The symbol.
    pub symbol: String,
    /// The unified diff of its code.
    pub diff: String,
    /// The pass that made the change.
    pub pass: u32,
    /// Whether that pass's change reached the real file.
    pub applied: bool,
}

/// One file of the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileReport {
    /// The file.
    pub file: PathBuf,
    /// Its final status.
    pub status: TaskStatus,
    /// The last review label.
    pub label: Option<Label>,
    /// Passes made.
    pub passes: u32,
    /// Whether a change reached the real file.
    pub applied: bool,
    /// Why the latest change was not applied, or why the task failed.
    pub why: Option<String>,
    /// The approver's reason for the latest change.
    pub approver_reason: Option<String>,
    /// The latest change's risk.
    pub risk: Option<f32>,
    /// The latest change's risk signals.
    pub signals: Vec<RiskSignal>,
    /// Gate errors when the gates failed.
    pub gate_errors: Option<String>,
    /// The repair steps whose result was kept (`heuristics`, `ruff_fix`, `llm`).
    pub repaired_by: Vec<String>,
    /// The symbol diffs of every pass, pass 1 first.
    pub diffs: Vec<SymbolDiff>,
    /// Time and tokens per stage.
    pub stages: BTreeMap<String, StageStats>,
}

/// A whole run's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    /// `run.json`.
    pub run: RunRecord,
    /// Each file.
    pub files: Vec<FileReport>,
    /// The approval queue.
    #[serde(skip)]
    pub approvals: Vec<ApprovalEntry>,
    /// The approvals a human still has to decide.
    #[serde(skip)]
    pub waiting: Vec<ApprovalEntry>,
    /// Totals per stage.
    pub stages: BTreeMap<String, StageStats>,
    /// The calibration probe's records of the run's model, one per endpoint that answered at
    /// the start (`state/model.json`); empty when the run has none (`--llm replay:`).
    pub models: Vec<Calibration>,
    /// A task run's request: the plan, the attempts and how it ended (`noctune task`).
    pub task: Option<crate::request::TaskReport>,
    /// The model endpoints (several slots, or an endpoint lost).
    pub endpoints: Option<super::EndpointsReport>,
}

/// The diagnostics that block a change (the ones it introduced), one line each.
fn blocking(report: &crate::gate::GateReport) -> String {
    let mut text = format!("{}: {}\n", report.gate, report.summary);
    for d in report.diagnostics.iter().filter(|d| d.introduced) {
        let at = d
            .location
            .map(|l| format!("{}:{}", l.line, l.column))
            .unwrap_or_default();
        text.push_str(&format!(
            "  {at} {} {}{}\n",
            d.code.as_deref().unwrap_or("-"),
            d.message,
            d.symbol
                .as_ref()
                .map(|s| format!(" (in `{s}`)"))
                .unwrap_or_default()
        ));
    }
    text
}

/// The decision on the approval a queued task waits on, if a human made one.
fn decided<'a>(approvals: &'a [ApprovalEntry], task: &TaskState) -> Option<&'a Decision> {
    if !matches!(
        task.status,
        TaskStatus::Queued | TaskStatus::WaitingApproval
    ) {
        return None;
    }
    let id = task.approval_id.as_ref()?;
    approvals
        .iter()
        .find(|e| e.approval.approval_id == *id)?
        .decision
        .as_ref()
}

/// Reads everything the report shows.
pub fn gather(store: &RunStore, run_id: &RunId) -> Result<RunReport> {
    let run = store.read(run_id)?;
    let events = store.events(run_id, 0, usize::MAX)?;
    let mut per_task: BTreeMap<String, BTreeMap<String, StageStats>> = BTreeMap::new();
    let mut why: BTreeMap<String, String> = BTreeMap::new();
    let mut totals: BTreeMap<String, StageStats> = BTreeMap::new();
    for event in &events {
        let Some(task) = &event.task_id else { continue };
        match event.event_type {
            EventType::LlmCall => {
                let stage = event.payload["stage"]
                    .as_str()
                    .unwrap_or("other")
                    .to_owned();
                for map in [per_task.entry(task.to_string()).or_default(), &mut totals] {
                    let stats = map.entry(stage.clone()).or_default();
                    stats.calls += 1;
                    stats.llm_ms += event.payload["elapsed_ms"].as_u64().unwrap_or(0);
                    stats.prompt_tokens += event.payload["prompt_tokens"].as_u64().unwrap_or(0);
                    stats.completion_tokens +=
                        event.payload["completion_tokens"].as_u64().unwrap_or(0);
                }
            }
            EventType::Proposed | EventType::Rejected | EventType::TaskFinished => {
                if let Some(text) = event.payload["why"].as_str() {
                    why.insert(task.to_string(), text.to_owned());
                }
            }
            EventType::TaskFailed => {
                if let Some(text) = event.payload["error"].as_str() {
                    why.insert(task.to_string(), text.to_owned());
                }
            }
            _ => {}
        }
    }

    let approvals = store.approvals(run_id)?;
    let mut files = Vec::new();
    for task in store.tasks(run_id)? {
        // A request's own task is no file: it has its section (`RunReport::task`).
        if task.file == std::path::Path::new(crate::request::REQUEST_TASK) {
            continue;
        }
        let id = &task.task_id;
        let read = |name: &str| store.artifact(run_id, id, name);
        let record: Option<ApprovalRecord> = read(&artifacts::approval(task.pass))?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let gates: Option<CheckOutcome> = read(&artifacts::gates(task.pass))?
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        let mut gate_errors = None;
        if gates.as_ref().is_some_and(|g| !g.passed) {
            let mut text = String::new();
            if let Some(parse) = read(artifacts::GATE_PARSE_ERROR)? {
                text.push_str(&String::from_utf8_lossy(&parse));
            }
            if let Some(ruff) = read(artifacts::GATE_RUFF_ERROR)? {
                match serde_json::from_slice::<crate::gate::GateReport>(&ruff) {
                    Ok(report) => text.push_str(&blocking(&report)),
                    Err(_) => text.push_str(&String::from_utf8_lossy(&ruff)),
                }
            }
            gate_errors = Some(text);
        }
        let repaired_by = gates
            .as_ref()
            .and_then(|g| g.steps["steps"].as_array().cloned())
            .unwrap_or_default()
            .iter()
            .filter(|step| step["kept"] == true)
            .filter_map(|step| step["kind"].as_str().map(str::to_owned))
            .collect();
        let applied = store.cache().run(run_id).backups(id).exists();
        // Why the file ended where it did; an applied file needs no explanation.
        let task_why = if applied {
            None
        } else {
            task.error
                .clone()
                .or_else(|| why.get(id.as_str()).cloned())
                .or_else(|| match record.as_ref().map(|r| &r.decision) {
                    Some(PolicyDecision::Violation(v)) => Some(v.to_string()),
                    Some(PolicyDecision::NeedsHuman { why }) => Some(why.clone()),
                    _ => None,
                })
        };
        // A queued change a human decided on since the run ended says so.
        let (status, task_why) = match decided(&approvals, &task) {
            Some(d) if d.decision == DecisionKind::Reject => (
                TaskStatus::Rejected,
                Some(format!(
                    "rejected by {}{}",
                    d.decided_by,
                    d.reason
                        .as_ref()
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                )),
            ),
            Some(d) => (
                task.status,
                Some(if task.status == TaskStatus::Queued {
                    format!(
                        "approved by {}: `noctune apply --run-id {run_id}` applies it",
                        d.decided_by
                    )
                } else {
                    format!(
                        "approved by {}: `noctune run --run-id {run_id}` applies it",
                        d.decided_by
                    )
                }),
            ),
            None => (task.status, task_why),
        };
        files.push(FileReport {
            file: task.file.clone(),
            status,
            label: task.label,
            passes: task.pass,
            applied,
            why: task_why,
            approver_reason: record.as_ref().map(|r| r.verdict.reason.clone()),
            risk: record.as_ref().map(|r| r.verdict.risk),
            signals: record
                .as_ref()
                .map(|r| r.change.signals.clone())
                .unwrap_or_default(),
            gate_errors,
            repaired_by,
            diffs: pass_diffs(store, run_id, &task)?,
            stages: per_task.remove(id.as_str()).unwrap_or_default(),
        });
    }
    Ok(RunReport {
        run,
        files,
        endpoints: super::EndpointsReport::from_events(&events),
        approvals,
        waiting: store.waiting_approvals(run_id)?,
        stages: totals,
        task: crate::request::read_report(store, run_id).unwrap_or_else(|err| {
            tracing::warn!(%err, "the request's result is skipped");
            None
        }),
        // A damaged record costs the report its model lines, never the report.
        models: read_run_calibrations(&store.cache().run(run_id).model_calibration())
            .unwrap_or_else(|err| {
                tracing::warn!(%err, "the run's model record is skipped");
                Vec::new()
            }),
    })
}
