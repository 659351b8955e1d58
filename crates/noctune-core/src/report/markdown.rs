//! The report as markdown.

use std::fmt::Write as _;

use super::gather::{FileReport, RunReport, StageStats};
use super::pass_diffs::pass_heading;
use crate::task::TaskStatus;

/// A short word for a file's outcome.
pub fn outcome(file: &FileReport) -> &'static str {
    match file.status {
        TaskStatus::Restored => "restored",
        TaskStatus::WaitingApproval | TaskStatus::Queued => "queued",
        _ if file.applied => "applied",
        TaskStatus::Rejected => "rejected",
        TaskStatus::Proposed => "proposed",
        TaskStatus::Conflict => "conflict",
        TaskStatus::Failed => "failed",
        TaskStatus::Done | TaskStatus::Skipped => "unchanged",
        TaskStatus::Pending | TaskStatus::Running => "pending",
    }
}

fn stats_row(out: &mut String, name: &str, stats: &StageStats) {
    let _ = writeln!(
        out,
        "| {name} | {} | {:.1} | {} | {} |",
        stats.calls,
        stats.llm_ms as f64 / 1000.0,
        stats.prompt_tokens,
        stats.completion_tokens
    );
}

/// Renders the report.
pub fn render(report: &RunReport) -> String {
    let run = &report.run;
    let mut out = String::new();
    let _ = writeln!(out, "# Noctune run `{}`\n", run.run_id);
    let _ = writeln!(
        out,
        "- status: **{}**{}",
        run.status,
        run.error
            .as_ref()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default()
    );
    let _ = writeln!(out, "- repository: `{}`", run.repo_root.display());
    let _ = writeln!(out, "- pack: {}", run.pack.as_deref().unwrap_or("-"));
    for model in &report.models {
        let _ = writeln!(
            out,
            "- model: `{}` at {}: {}",
            model.model,
            model.base_url,
            model.summary()
        );
    }
    let _ = writeln!(
        out,
        "- started: {}, ended: {}",
        run.started_at,
        run.ended_at
            .map(|t| t.to_string())
            .unwrap_or_else(|| "-".to_owned())
    );
    let count = |word: &str| report.files.iter().filter(|f| outcome(f) == word).count();
    let _ = writeln!(
        out,
        "- files: {} — {} applied, {} queued, {} rejected, {} proposed (gates fail), {} unchanged, {} restored, {} conflict, {} failed\n",
        report.files.len(),
        count("applied"),
        count("queued"),
        count("rejected"),
        count("proposed"),
        count("unchanged"),
        count("restored"),
        count("conflict"),
        count("failed")
    );

    if let Some(task) = &report.task {
        out.push_str("## Request\n\n```text\n");
        for line in task.lines() {
            let _ = writeln!(out, "{line}");
        }
        out.push_str("```\n\n");
    }

    if !report.stages.is_empty() {
        out.push_str("## Model time and tokens\n\n| stage | calls | seconds | prompt tokens | answer tokens |\n| --- | --- | --- | --- | --- |\n");
        for (stage, stats) in &report.stages {
            stats_row(&mut out, stage, stats);
        }
        out.push('\n');
    }

    if let Some(endpoints) = &report.endpoints {
        out.push_str("## Model endpoints\n\n");
        let _ = writeln!(out, "| {} |", super::EndpointsReport::HEADER.join(" | "));
        let _ = writeln!(
            out,
            "|{}",
            " --- |".repeat(super::EndpointsReport::HEADER.len())
        );
        for row in endpoints.rows() {
            let _ = writeln!(out, "| {} |", row.join(" | "));
        }
        let _ = writeln!(out, "\n{}\n", endpoints.summary());
        for change in &endpoints.changes {
            let _ = writeln!(out, "- {change}");
        }
        if !endpoints.changes.is_empty() {
            out.push('\n');
        }
    }

    let pending: Vec<_> = report.waiting.iter().collect();
    if !pending.is_empty() {
        out.push_str("## Waiting for you\n\n");
        for entry in pending {
            let a = &entry.approval;
            let _ = writeln!(
                out,
                "- `{}` `{}` ({}), risk {:.2}: {} — `noctune approvals approve {}` or `reject`",
                a.approval_id,
                a.file.display(),
                a.symbols.join(", "),
                a.risk,
                a.reason,
                a.approval_id
            );
        }
        out.push('\n');
    }

    out.push_str("## Files\n\n");
    for file in &report.files {
        let _ = writeln!(
            out,
            "### `{}` — {}{}\n",
            file.file.display(),
            outcome(file),
            file.label
                .map(|l| format!(" (label {l})"))
                .unwrap_or_default()
        );
        if let Some(why) = &file.why {
            let _ = writeln!(out, "- why: {why}");
        }
        if let Some(reason) = &file.approver_reason {
            let _ = writeln!(
                out,
                "- approver: {reason} (risk {:.2})",
                file.risk.unwrap_or(0.0)
            );
        }
        for signal in &file.signals {
            let _ = writeln!(
                out,
                "- signal {:?} in `{}`: {}",
                signal.kind, signal.symbol, signal.detail
            );
        }
        if !file.repaired_by.is_empty() {
            let _ = writeln!(out, "- repaired by: {}", file.repaired_by.join(", "));
        }
        if let Some(errors) = &file.gate_errors {
            let _ = writeln!(out, "\nGate errors:\n\n```text\n{}\n```", errors.trim_end());
        }
        for (index, diff) in file.diffs.iter().enumerate() {
            if let Some(heading) = pass_heading(file, index) {
                let _ = writeln!(out, "\n{heading}:");
            }
            let _ = writeln!(out, "\n```diff\n{}```", diff.diff);
        }
        if !file.stages.is_empty() {
            out.push_str("\n| stage | calls | seconds | prompt tokens | answer tokens |\n| --- | --- | --- | --- | --- |\n");
            for (stage, stats) in &file.stages {
                stats_row(&mut out, stage, stats);
            }
        }
        out.push('\n');
    }
    out
}
