//! Gates stage: the gates and repair ladder on the work copy → `gates_p<N>.json`, and on failure
//! `gate_parse_error.txt` / `gate_<gate>_error.json` and `proposed_full_file.py`.

use super::artifacts;
use super::services::CheckOutcome;
use super::task::TaskCtx;
use crate::error::Result;
use crate::event::EventType;
use crate::gate::GateOutcome;
use crate::stage::Stage;

/// Runs the checker on the work copy (against `before`, the text the pass read; `None` for
/// `noctune repair`), or reuses `gates_p<N>.json`.
pub async fn check(ctx: &TaskCtx<'_>, before: Option<&str>, work: &str) -> Result<CheckOutcome> {
    let pass = ctx.state.pass;
    let name = artifacts::gates(pass);
    if let Some(bytes) = ctx.read_artifact(&name)?
        && let Ok(outcome) = serde_json::from_slice::<CheckOutcome>(&bytes)
    {
        ctx.stage_reused(Stage::Repair, &name)?;
        return Ok(outcome);
    }
    let mut outcome = ctx.pipeline.checker.check(&ctx.rel, before, work).await?;
    if let Some(before) = before {
        outcome.text = keep_leading_blank_lines(before, &outcome.text);
    }
    // The failure artifacts and the outcome first, the event last: a kill in between
    // reuses the outcome on resume instead of running the repair calls again.
    if !outcome.passed {
        write_failure(ctx, &outcome)?;
    }
    ctx.write_artifact(
        &name,
        &serde_json::to_vec_pretty(&outcome).unwrap_or_default(),
    )?;
    if !outcome.passed {
        ctx.event(
            EventType::GateFailed,
            serde_json::json!({
                "pass": pass,
                "gates": outcome.reports.iter()
                    .filter(|r| r.outcome != GateOutcome::Pass)
                    .map(|r| serde_json::json!({"gate": r.gate, "summary": r.summary}))
                    .collect::<Vec<_>>(),
            }),
        )?;
    }
    Ok(outcome)
}

/// `after` without the blank lines at its start that `before` did not have (a removed import
/// leaves its separating blank line behind). Removing blank lines before the first statement
/// changes neither parsing nor behaviour.
pub(super) fn keep_leading_blank_lines(before: &str, after: &str) -> String {
    let blank_head = |text: &str| {
        text.split_inclusive('\n')
            .take_while(|line| line.trim().is_empty())
            .map(str::len)
            .sum::<usize>()
    };
    let (had, has) = (blank_head(before), blank_head(after));
    if has > had && has < after.len() {
        after[has..].to_owned()
    } else {
        after.to_owned()
    }
}

/// The failure artifacts SPEC §5 names.
fn write_failure(ctx: &TaskCtx<'_>, outcome: &CheckOutcome) -> Result<()> {
    for report in outcome
        .reports
        .iter()
        .filter(|r| r.outcome != GateOutcome::Pass)
    {
        if report.gate == "parse" {
            let mut text = format!("{}\n", report.summary);
            for d in &report.diagnostics {
                let at = d
                    .location
                    .map(|l| format!("{}:{}", l.line, l.column))
                    .unwrap_or_default();
                text.push_str(&format!("{}:{at}: {}\n", ctx.rel_display(), d.message));
            }
            ctx.write_artifact(artifacts::GATE_PARSE_ERROR, text.as_bytes())?;
        } else {
            ctx.write_artifact(
                &artifacts::gate_error(&report.gate),
                &serde_json::to_vec_pretty(report).unwrap_or_default(),
            )?;
        }
    }
    ctx.write_artifact(artifacts::PROPOSED, outcome.text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::keep_leading_blank_lines;

    #[test]
    fn blank_lines_a_change_left_at_the_top_are_dropped() {
        assert_eq!(
            keep_leading_blank_lines("import os\n\nx = 1\n", "\nx = 1\n"),
            "x = 1\n"
        );
        // Blank lines the file had are kept; so is a file that is only blank.
        assert_eq!(
            keep_leading_blank_lines("\nx = 1\n", "\ny = 1\n"),
            "\ny = 1\n"
        );
        assert_eq!(keep_leading_blank_lines("x = 1\n", "\n\n"), "\n\n");
        assert_eq!(keep_leading_blank_lines("x = 1\n", "x = 2\n"), "x = 2\n");
    }
}
