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
use super::unasked_annotations::{Added, drop_added_annotations};
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
        if let Some((text, class)) = proven_step(ctx, source, &current, &result.text).await? {
            kept.push((target.symbol.clone(), class));
            current = text;
            continue;
        }
        // Not as a whole: the parts of the edit (groups of changed lines) proven one by one.
        let mut parts = Vec::new();
        let mut tries = 0;
        'parts: while tries < MAX_PART_TRIES {
            for part in hunks(&current, &result.text) {
                tries += 1;
                if let Some((text, class)) = proven_step(ctx, source, &current, &part).await? {
                    parts.push(class);
                    current = text;
                    continue 'parts;
                }
                if tries >= MAX_PART_TRIES {
                    break;
                }
            }
            break;
        }
        if parts.is_empty() {
            left_out.push(format!("`{}`: not proven", target.symbol));
        } else {
            parts.dedup();
            kept.push((format!("{} (in part)", target.symbol), parts.join("+")));
            left_out.push(format!(
                "`{}`: the rest of its edit, not proven",
                target.symbol
            ));
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

/// The proof class of a change of layout alone (equal ASTs), never kept as a proven part.
const LAYOUT_ONLY: &str = "formatting";

/// The most parts of one target's edit tried on their own.
const MAX_PART_TRIES: usize = 8;

/// `after` checked by the gates and proven from `current` with no model: the checked text and
/// the proof's class (not for a change of layout alone).
async fn proven_step(
    ctx: &TaskCtx<'_>,
    source: &str,
    current: &str,
    after: &str,
) -> Result<Option<(String, String)>> {
    let checked = ctx
        .pipeline
        .checker
        .check(&ctx.rel, Some(source), after)
        .await?;
    if !checked.passed || checked.text == current {
        return Ok(None);
    }
    let (change, _) = change_set(ctx, current, &checked.text)?;
    let verdict = ctx
        .pipeline
        .approver
        .judge(ApproveInput {
            change: &change,
            before: current,
            after: &checked.text,
            model: None,
        })
        .await?;
    Ok(match verdict.judged_by.strip_prefix("proof:") {
        // Layout alone is not what a model is asked for: kept, it would be noise counted as
        // the model's work.
        Some(LAYOUT_ONLY) => None,
        Some(class) if verdict.decision == Verdict::Approve => {
            Some((checked.text, class.to_owned()))
        }
        _ => None,
    })
}

/// `before` with one group of changed lines of `after` each: the parts of an edit. A group that
/// adds annotations to a `def` header is followed by itself without the return annotation it
/// adds, then without the parameters' ones: an annotation that contradicts the code (`-> str` on
/// a function that can return None, `x: int = None`) is never proven, and the right ones beside
/// it can still be kept.
fn hunks(before: &str, after: &str) -> Vec<String> {
    let diff = similar::TextDiff::from_lines(before, after);
    // The same lines the diff compares (each with its line ending).
    let old: Vec<&str> = before.split_inclusive('\n').collect();
    let new: Vec<&str> = after.split_inclusive('\n').collect();
    let mut parts = Vec::new();
    for op in diff.ops() {
        let (from, to) = (op.old_range(), op.new_range());
        if op.tag() == similar::DiffTag::Equal || from.end > old.len() || to.end > new.len() {
            continue;
        }
        let (head, tail) = (old[..from.start].concat(), old[from.end..].concat());
        let (removed, added) = (old[from].concat(), new[to].concat());
        parts.push(format!("{head}{added}{tail}"));
        for which in [Added::Return, Added::Parameters] {
            if let Some(fewer) = drop_added_annotations(&removed, &added, which) {
                parts.push(format!("{head}{fewer}{tail}"));
            }
        }
    }
    parts
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_part_of_an_edit_is_the_text_with_that_group_of_lines_changed_only() {
        let before = "a\nb\nc\nd\n";
        let after = "a\nB\nc\nD\nE\n";
        assert_eq!(
            hunks(before, after),
            vec!["a\nB\nc\nd\n".to_owned(), "a\nb\nc\nD\nE\n".to_owned()]
        );
        assert!(hunks(before, before).is_empty());
    }

    #[test]
    fn a_group_that_annotates_a_def_is_also_tried_without_its_return_then_its_parameters() {
        let before = "def f(unit, n=None):\n    return None\n";
        let after = "def f(unit: str, n: int = None) -> str:\n    return None\n";
        assert_eq!(
            hunks(before, after),
            vec![
                after.to_owned(),
                "def f(unit: str, n: int = None):\n    return None\n".to_owned(),
                "def f(unit, n=None) -> str:\n    return None\n".to_owned(),
            ]
        );
    }
}
