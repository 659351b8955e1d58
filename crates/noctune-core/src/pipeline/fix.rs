//! Fix stage: the deterministic tools' fixes of the file before any model is asked, and the
//! findings they leave for the review → `fix_p<N>.json`.

use serde::{Deserialize, Serialize};

use super::artifacts;
use super::fixer::Finding;
use super::task::TaskCtx;
use crate::error::Result;
use crate::stage::Stage;

/// `fix_p<N>.json`: what the tools made of the file the pass read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixRecord {
    /// The text after the tools' fixes: the base the model edits (the pass's text itself when
    /// the tools changed nothing or none ran).
    pub text: String,
    /// The commands that ran.
    pub tools: Vec<String>,
    /// What the tools still report on [`FixRecord::text`], with the symbol around each line.
    pub findings: Vec<Finding>,
}

/// Runs the pipeline's fixer on `source`, or reuses `fix_p<N>.json`. Without a fixer the text
/// is `source` and there are no findings. A fixed text that no longer parses is not used.
pub async fn fix(ctx: &TaskCtx<'_>, source: &str) -> Result<FixRecord> {
    let Some(fixer) = &ctx.pipeline.fixer else {
        return Ok(FixRecord {
            text: source.to_owned(),
            tools: Vec::new(),
            findings: Vec::new(),
        });
    };
    let name = artifacts::fix(ctx.state.pass);
    if let Some(bytes) = ctx.read_artifact(&name)?
        && let Ok(record) = serde_json::from_slice::<FixRecord>(&bytes)
    {
        ctx.stage_reused(Stage::Review, &name)?;
        return Ok(record);
    }
    let mut fixed = fixer.fix(&ctx.rel, source).await?;
    // A removed first import leaves its blank lines behind; the gates stage drops them too.
    fixed.text = super::check::keep_leading_blank_lines(source, &fixed.text);
    let editor = ctx.pipeline.editor.as_ref();
    let outline = match editor.outline(&fixed.text) {
        Ok(outline) if !outline.has_syntax_errors => outline,
        _ => {
            tracing::warn!(file = %ctx.rel.display(), "the tools' fixes do not parse: not used");
            fixed.text = source.to_owned();
            fixed.tools.clear();
            editor.outline(source)?
        }
    };
    let mut findings = fixer.findings(&ctx.rel, &fixed.text).await?;
    for finding in &mut findings {
        finding.symbol = outline.symbol_at_line(finding.line).map(|s| s.name.clone());
    }
    let record = FixRecord {
        text: fixed.text,
        tools: fixed.tools,
        findings,
    };
    ctx.write_artifact(
        &name,
        &serde_json::to_vec_pretty(&record).unwrap_or_default(),
    )?;
    Ok(record)
}
