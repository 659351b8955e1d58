//! Edit stage: rewrite each target symbol on the work copy → `edit_raw_p<N>.txt`,
//! `edit_ops_p<N>.json`, `apply_report_p<N>.json`, and the work copy `work_p<N>.py`.
//!
//! The model sees only the target symbol's code, the plan's instruction and how the symbol is
//! used elsewhere, never the whole file.

use serde::{Deserialize, Serialize};

use super::artifacts;
use super::draft::{Draft, resolve_symbol};
use super::edit_answer::{ParsedEdit, answer_to_ops};
use super::task::{EXCERPT, TaskCtx};
use super::unasked_annotations::drop_unasked_annotations;
use super::window::WindowText;
use crate::editor::{ApplyReport, EditOp};
use crate::error::Result;
use crate::stage::Stage;

/// One target's entry in `edit_ops_p<N>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetOps {
    /// The target symbol.
    pub symbol: String,
    /// The ops made from the answer.
    pub ops: Vec<EditOp>,
    /// Adjustments made while reading the answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Why the answer gave no ops, when it did not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl TargetOps {
    /// The entry of a target that gave no ops, with why.
    fn failed(symbol: &str, error: Option<String>) -> Self {
        Self {
            symbol: symbol.to_owned(),
            ops: vec![],
            notes: vec![],
            error,
        }
    }
}

/// One target's entry in `apply_report_p<N>.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TargetReport {
    /// The target symbol.
    pub symbol: String,
    /// What the editor applied and refused.
    pub report: ApplyReport,
}

/// The work copy after the edit stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditOutcome {
    /// The edited text.
    pub work: String,
    /// The ops of each target.
    pub ops: Vec<TargetOps>,
}

impl EditOutcome {
    /// Whether anything was applied.
    pub fn changed(&self, source: &str) -> bool {
        self.work != source
    }
}

/// Runs the edit stage for every draft target, or reuses the pass's artifacts.
pub async fn edit(ctx: &TaskCtx<'_>, source: &str, draft: &Draft) -> Result<EditOutcome> {
    let pass = ctx.state.pass;
    if let (Some(work), Some(ops)) = (
        ctx.read_artifact(&artifacts::work_copy(pass))?,
        ctx.read_artifact(&artifacts::edit_ops(pass))?,
    ) && let Ok(ops) = serde_json::from_slice::<Vec<TargetOps>>(&ops)
    {
        ctx.stage_reused(Stage::Edit, &artifacts::edit_ops(pass))?;
        return Ok(EditOutcome {
            work: String::from_utf8_lossy(&work).into_owned(),
            ops,
        });
    }

    let editor = ctx.pipeline.editor.as_ref();
    let mut work = source.to_owned();
    let mut raw_log = String::new();
    let mut all_ops = Vec::new();
    let mut reports = Vec::new();
    for target in &draft.targets {
        let outline = editor.outline(&work)?;
        let Some(symbol) = resolve_symbol(&outline, &target.symbol).cloned() else {
            all_ops.push(TargetOps::failed(
                &target.symbol,
                Some("the symbol is gone from the work copy".to_owned()),
            ));
            continue;
        };
        let code = work[symbol.start_byte..symbol.end_byte].to_owned();
        let window = match target.window {
            Some(window) => match WindowText::cut(&work, &symbol, window) {
                Some(text) => Some(text),
                None => {
                    all_ops.push(TargetOps::failed(
                        &symbol.name,
                        Some(format!(
                            "lines {}–{} are no longer inside `{}`",
                            window.first + 1,
                            window.last + 1,
                            symbol.name
                        )),
                    ));
                    continue;
                }
            },
            None => None,
        };
        let prompt = match &window {
            Some(text) => ctx.edit_prompt(
                EXCERPT,
                &text.name(&symbol),
                &text.shown,
                &target.edit_prompt,
                &target.evidence,
                &text.shown,
            )?,
            None => {
                let draft_code = if target.draft_code.trim().is_empty() {
                    code.clone()
                } else {
                    target.draft_code.clone()
                };
                ctx.edit_prompt(
                    symbol.kind.as_str(),
                    &symbol.name,
                    &code,
                    &target.edit_prompt,
                    &target.evidence,
                    &draft_code,
                )?
            }
        };
        let reply = ctx.ask_code(Stage::Edit, prompt).await?;
        raw_log.push_str(&format!("### {}\n{}\n", symbol.name, reply.raw));
        let Some(answer) = reply.code else {
            all_ops.push(TargetOps::failed(&symbol.name, reply.problem));
            continue;
        };
        let answer = match &window {
            // The lines back in their definition, unless the model answered with all of it.
            Some(text) if !text.is_whole_definition(&symbol, &answer) => text.put_back(&answer),
            _ => answer,
        };
        let parsed = match answer_to_ops(editor, &outline, &symbol, &answer)? {
            Ok(parsed) if target.no_new_annotations => without_new_annotations(parsed, &code),
            Ok(parsed) => parsed,
            Err(reason) => {
                all_ops.push(TargetOps::failed(&symbol.name, Some(reason)));
                continue;
            }
        };
        let result = editor.apply_outlined(&work, &outline, &parsed.ops)?;
        work = result.text;
        reports.push(TargetReport {
            symbol: symbol.name.clone(),
            report: result.report,
        });
        all_ops.push(TargetOps {
            symbol: symbol.name.clone(),
            ops: parsed.ops,
            notes: parsed.notes,
            error: None,
        });
    }
    ctx.write_artifact(&artifacts::edit_raw(pass), raw_log.as_bytes())?;
    ctx.write_artifact(
        &artifacts::apply_report(pass),
        &serde_json::to_vec_pretty(&reports).unwrap_or_default(),
    )?;
    ctx.write_artifact(&artifacts::work_copy(pass), work.as_bytes())?;
    // Written last: its presence marks the stage as done.
    ctx.write_artifact(
        &artifacts::edit_ops(pass),
        &serde_json::to_vec_pretty(&all_ops).unwrap_or_default(),
    )?;
    Ok(EditOutcome { work, ops: all_ops })
}

/// `parsed` with the annotations its rewrite of the target adds to `old`'s signature dropped,
/// and a note saying so (the plan asked for none).
fn without_new_annotations(mut parsed: ParsedEdit, old: &str) -> ParsedEdit {
    let mut dropped = false;
    for op in &mut parsed.ops {
        if let EditOp::ReplaceSymbol { code, .. } = op
            && let Some(stripped) = drop_unasked_annotations(old, code)
        {
            *code = stripped;
            dropped = true;
        }
    }
    if dropped {
        parsed.notes.push(
            "dropped the annotations the answer added to the signature (none was asked for)"
                .to_owned(),
        );
    }
    parsed
}
