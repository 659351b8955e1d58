//! The evaluation as a table for people.

use std::fmt::Write as _;

use super::{CaseResult, EvalReport};

/// The report as text: one line per case (`written`: applied changes holding edits the model
/// wrote), the totals, and the baseline beside Noctune's figure.
pub fn render(report: &EvalReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "model: {}", report.model);
    match &report.probe {
        Some(probe) => {
            let _ = writeln!(out, "probe: {}\n", probe.summary());
        }
        None => out.push('\n'),
    }
    let _ = writeln!(
        out,
        "{:<26} {:>5} {:>8} {:>8} {:>8} {:>6} {:>6} {:>9} {:>8} {:>6} {:>6} {:>6} {:>6} {:>7} {:>7} {:>8} {:>6}",
        "case",
        "files",
        "findings",
        "ruff-fix",
        "noctune",
        "tests",
        "broken",
        "usable",
        "proposed",
        "proven",
        "model",
        "queued",
        "reject",
        "applied",
        "written",
        "tokens",
        "s/file"
    );
    for case in &report.cases {
        let _ = writeln!(out, "{}", line(case));
    }
    let t = &report.totals;
    let _ = writeln!(
        out,
        "\n{} cases: findings {} before, {} after `ruff check --fix` alone, {} after noctune",
        t.cases, t.findings_before, t.findings_ruff_fix, t.findings_after
    );
    let _ = writeln!(
        out,
        "behaviour kept in {}/{} cases; broken files: {}",
        t.tests_kept, t.cases, t.broken
    );
    let _ = writeln!(
        out,
        "model answers: {} usable of {}; changes: {} proposed, {} proven safe, {} approved by the \
         model, {} queued, {} rejected, {} applied ({} model-written, in {} cases)",
        t.run.usable,
        t.run.answers,
        t.run.proposed,
        t.run.proven,
        t.run.model_approved,
        t.run.queued,
        t.run.rejected,
        t.run.applied,
        t.run.model_written_applied,
        t.cases_with_model_changes
    );
    let _ = writeln!(
        out,
        "tokens: {} prompt + {} answer; per applied change: {}; {:.1} s per file",
        t.run.prompt_tokens,
        t.run.completion_tokens,
        t.tokens_per_applied_change
            .map_or_else(|| "- (nothing applied)".to_owned(), |n| n.to_string()),
        t.seconds_per_file
    );
    if report
        .cases
        .iter()
        .any(|c| c.error.is_none() && !c.ruff_fix_tests_pass)
    {
        let _ = writeln!(
            out,
            "* `ruff check --fix` alone broke this case's tests (its figure is not a safe one)"
        );
    }
    for case in report
        .cases
        .iter()
        .filter(|c| c.error.is_some() || !c.tests_pass)
    {
        let _ = writeln!(
            out,
            "\n{}: {}",
            case.case,
            case.error
                .as_deref()
                .or(case.tests_output.as_deref())
                .unwrap_or("the tests fail")
        );
    }
    out
}

fn line(case: &CaseResult) -> String {
    let per_file = if case.files > 0 {
        case.seconds / case.files as f64
    } else {
        0.0
    };
    let tests = if case.error.is_some() {
        "error"
    } else if case.tests_pass {
        "kept"
    } else {
        "LOST"
    };
    format!(
        "{:<26} {:>5} {:>8} {:>8} {:>8} {:>6} {:>6} {:>9} {:>8} {:>6} {:>6} {:>6} {:>6} {:>7} {:>7} {:>8} {:>6.1}",
        case.case,
        case.files,
        case.findings_before,
        if case.ruff_fix_tests_pass || case.error.is_some() {
            case.findings_ruff_fix.to_string()
        } else {
            format!("{}*", case.findings_ruff_fix)
        },
        case.findings_after,
        tests,
        case.broken.len(),
        format!("{}/{}", case.run.usable, case.run.answers),
        case.run.proposed,
        case.run.proven,
        case.run.model_approved,
        case.run.queued,
        case.run.rejected,
        case.run.applied,
        case.run.model_written_applied,
        case.run.prompt_tokens + case.run.completion_tokens,
        per_file
    )
}
