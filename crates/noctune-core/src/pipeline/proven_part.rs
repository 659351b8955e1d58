//! The model's proven part: when the model's edits as a whole are not approved, the targets
//! whose edits are each proven to keep behaviour go on their own → `proven_part_p<N>.py`.
//!
//! A small model often fixes one finding exactly and mangles another in the same pass; judged
//! together, the mangled one sinks both. Each target's edit is added to the tools' fixes one at
//! a time and kept only when the gates pass with it and the approver proves it without a model
//! (`judged_by = "proof:<class>"`); every step keeps behaviour, so the chain does too.

use super::approve::change_set;
use super::artifacts;
use super::edit::TargetOps;
use super::task::TaskCtx;
use crate::approver::{ApproveInput, ApproverVerdict, Verdict};
use crate::error::Result;

/// What the proven part of the model's edits is.
#[derive(Debug, Clone, PartialEq)]
pub struct ProvenPart {
    /// The text: the tools' fixes and the kept targets' edits.
    pub text: String,
    /// The kept targets, in order, with the class of each one's proof.
    pub kept: Vec<(String, String)>,
    /// The targets left out, with why.
    pub left_out: Vec<String>,
}

impl ProvenPart {
    /// The verdict on the whole proven change: approved by proof, risk 0. `judged_by` names the
    /// classes of the steps (`proof:ruff_safe_fix+pack_rewrite`); `tools` is the tools' part's
    /// verdict when they changed the text.
    pub fn verdict(&self, tools: Option<&ApproverVerdict>) -> ApproverVerdict {
        let mut classes: Vec<&str> = tools
            .and_then(|t| t.judged_by.strip_prefix("proof:"))
            .into_iter()
            .chain(self.kept.iter().map(|(_, class)| class.as_str()))
            .collect();
        classes.dedup();
        let kept: Vec<String> = self
            .kept
            .iter()
            .map(|(symbol, class)| format!("`{symbol}` ({class})"))
            .collect();
        ApproverVerdict {
            decision: Verdict::Approve,
            reason: format!(
                "proven step by step: {}the model's edits of {}, each proven on its own; left \
                 out: {}",
                tools
                    .map(|t| format!("the tools' fixes ({}), then ", t.judged_by))
                    .unwrap_or_default(),
                kept.join(", "),
                if self.left_out.is_empty() {
                    "nothing".to_owned()
                } else {
                    self.left_out.join("; ")
                }
            ),
            risk: 0.0,
            judged_by: format!("proof:{}", classes.join("+")),
        }
    }
}

/// The targets' edits added to `base` one at a time, each kept only when the gates pass with it
/// and the approver proves it with no model; `None` when no target is kept. `source` is the
/// file as the run read it (the gates judge what the change introduced).
pub async fn proven_part(
    ctx: &TaskCtx<'_>,
    source: &str,
    base: &str,
    targets: &[TargetOps],
) -> Result<Option<ProvenPart>> {
    let editor = ctx.pipeline.editor.as_ref();
    let with_ops: Vec<&TargetOps> = targets.iter().filter(|t| !t.ops.is_empty()).collect();
    let mut current = base.to_owned();
    let mut kept = Vec::new();
    let mut left_out = Vec::new();
    for target in &with_ops {
        let outline = editor.outline(&current)?;
        let Ok(result) = editor.apply_outlined(&current, &outline, &target.ops) else {
            left_out.push(format!("`{}`: its edit no longer applies", target.symbol));
            continue;
        };
        if result.text == current {
            continue;
        }
        let checked = ctx
            .pipeline
            .checker
            .check(&ctx.rel, Some(source), &result.text)
            .await?;
        if !checked.passed {
            left_out.push(format!("`{}`: fails the gates", target.symbol));
            continue;
        }
        let (change, _) = change_set(ctx, &current, &checked.text)?;
        let verdict = ctx
            .pipeline
            .approver
            .judge(ApproveInput {
                change: &change,
                before: &current,
                after: &checked.text,
                model: None,
            })
            .await?;
        match verdict.judged_by.strip_prefix("proof:") {
            Some(class) if verdict.decision == Verdict::Approve => {
                kept.push((target.symbol.clone(), class.to_owned()));
                current = checked.text;
            }
            _ => left_out.push(format!("`{}`: not proven", target.symbol)),
        }
    }
    if kept.is_empty() {
        return Ok(None);
    }
    Ok(Some(ProvenPart {
        text: current,
        kept,
        left_out,
    }))
}

/// Keeps the proven part's text for the apply step (and a resume): `proven_part_p<N>.py`.
pub fn keep(ctx: &TaskCtx<'_>, part: &ProvenPart) -> Result<()> {
    ctx.write_artifact(
        &artifacts::proven_part(ctx.state.pass),
        part.text.as_bytes(),
    )
}

/// The proven part's text kept by [`keep`], if any.
pub fn kept_text(ctx: &TaskCtx<'_>) -> Result<Option<String>> {
    Ok(ctx
        .read_artifact(&artifacts::proven_part(ctx.state.pass))?
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
}
