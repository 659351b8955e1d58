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
    let outcome = ctx.pipeline.checker.check(&ctx.rel, before, work).await?;
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
