//! Approve stage: BEFORE and AFTER of each changed symbol, deterministic risk signals, the
//! approver's verdict, then the policy pack's decision → `approval_p<N>.json`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::artifacts;
use super::edit::TargetOps;
use super::proven_part;
use super::risk;
use super::task::TaskCtx;
use super::tests_run;
use async_trait::async_trait;

use crate::approver::{
    ApproveInput, ApproveModel, ApproverVerdict, ChangeSet, RiskSignal, SymbolChange, Verdict,
};
use crate::editor::{Outline, SymbolEditor};
use crate::error::Result;
use crate::event::EventType;
use crate::policy::{PolicyDecision, PolicyInput};
use crate::stage::Stage;

/// `approval_p<N>.json`: everything the approve stage decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    /// What was judged.
    pub change: ChangeSet,
    /// The verdict (risk raised to the signals' combined score).
    pub verdict: ApproverVerdict,
    /// The combined score of the signals alone.
    pub signal_risk: f32,
    /// The policy pack's decision (after the high-risk rule).
    pub decision: PolicyDecision,
    /// Which text the decision is about: the whole change, or only the tools' proven fixes
    /// after the model's part was rejected.
    #[serde(default)]
    pub applies: Applies,
}

/// Which text of a pass an approval decision is about.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Applies {
    /// The whole change: the tools' fixes and the model's edits.
    #[default]
    Whole,
    /// Only the tools' fixes (proven); the model's part was rejected and dropped.
    ToolsOnly,
    /// The tools' fixes and the model's targets each proven on its own
    /// (`proven_part_p<N>.py`); the model's other edits were dropped.
    ProvenPart,
}

/// Counts changed lines (added + removed) between two texts.
pub fn diff_lines(before: &str, after: &str) -> u32 {
    let diff = similar::TextDiff::from_lines(before, after);
    let changed = diff
        .iter_all_changes()
        .filter(|c| c.tag() != similar::ChangeTag::Equal)
        .count();
    u32::try_from(changed).unwrap_or(u32::MAX)
}

fn texts<'a>(outline: &Outline, source: &'a str) -> BTreeMap<String, &'a str> {
    let mut map = BTreeMap::new();
    for symbol in &outline.symbols {
        map.entry(symbol.name.clone())
            .or_insert(&source[symbol.start_byte..symbol.end_byte]);
    }
    map
}

/// A symbol's text without the text of its members (a class's header, decorators and
/// class-level statements), `None` when the symbol is missing.
fn own_text(outline: &Outline, source: &str, name: &str) -> Option<String> {
    let symbol = outline.symbols.iter().find(|s| s.name == name)?;
    let prefix = format!("{name}.");
    let mut members: Vec<(usize, usize)> = outline
        .symbols
        .iter()
        .filter(|s| {
            s.name
                .strip_prefix(&prefix)
                .is_some_and(|rest| !rest.contains('.'))
        })
        .map(|s| (s.start_byte, s.end_byte))
        .collect();
    members.sort_unstable();
    let mut own = String::new();
    let mut at = symbol.start_byte;
    for (start, end) in members {
        if start >= at && end <= symbol.end_byte {
            own.push_str(&source[at..start]);
            at = end;
        }
    }
    own.push_str(&source[at..symbol.end_byte]);
    Some(own)
}

/// The changed symbols between two texts: the innermost ones whose code differs, plus added
/// and removed symbols.
pub fn changed_symbols(
    before: (&str, &Outline),
    after: (&str, &Outline),
) -> Result<Vec<SymbolChange>> {
    let before_map = texts(before.1, before.0);
    let after_map = texts(after.1, after.0);
    let mut names: Vec<&String> = before_map.keys().chain(after_map.keys()).collect();
    names.sort();
    names.dedup();
    let differs = |name: &str| before_map.get(name) != after_map.get(name);
    let changed: Vec<&String> = names.into_iter().filter(|n| differs(n)).collect();
    Ok(changed
        .iter()
        .filter(|name| {
            // Keep the innermost: drop a class when its changed members explain the change,
            // but keep it when its own header or body outside its members changed too.
            let prefix = format!("{name}.");
            !changed.iter().any(|other| other.starts_with(&prefix))
                || own_text(before.1, before.0, name) != own_text(after.1, after.0, name)
        })
        .map(|name| SymbolChange {
            symbol: (*name).clone(),
            before: before_map.get(*name).map(|t| (*t).to_owned()),
            after: after_map.get(*name).map(|t| (*t).to_owned()),
        })
        .collect())
}

/// Risk signals for each changed symbol, from the editor's code facts.
pub fn risk_signals(
    editor: &dyn SymbolEditor,
    after_file: &str,
    outline: &Outline,
    changes: &[SymbolChange],
) -> Result<Vec<RiskSignal>> {
    let Some(module) = editor.facts(after_file)? else {
        return Ok(Vec::new());
    };
    let mut module_names = module.names_bound;
    module_names.extend(outline.symbols.iter().map(|s| s.short_name().to_owned()));
    for import in &outline.imports {
        module_names.extend(import.names.iter().cloned());
        if let Some(first) = import.module.split('.').next() {
            module_names.push(first.to_owned());
        }
    }
    let mut out = Vec::new();
    for change in changes {
        let (Some(before), Some(after)) = (&change.before, &change.after) else {
            continue;
        };
        let (Some(before), Some(after)) = (editor.facts(before)?, editor.facts(after)?) else {
            continue;
        };
        out.extend(risk::signals(
            &change.symbol,
            &before,
            &after,
            &module_names,
        ));
    }
    Ok(out)
}

/// The changed symbols, their risk signals and the diff size of one change.
pub(super) fn change_set(ctx: &TaskCtx<'_>, before: &str, after: &str) -> Result<(ChangeSet, f32)> {
    let editor = ctx.pipeline.editor.as_ref();
    // Each text is outlined once.
    let after_outline = editor.outline(after)?;
    let changes = changed_symbols((before, &editor.outline(before)?), (after, &after_outline))?;
    let signals = risk_signals(editor, after, &after_outline, &changes)?;
    let signal_risk = risk::combined(&signals);
    Ok((
        ChangeSet {
            file: ctx.rel.clone(),
            changes,
            signals,
            diff_lines: diff_lines(before, after),
            pack: Some(ctx.pipeline.pack.name().to_owned()),
        },
        signal_risk,
    ))
}

/// Runs the approve stage on the change from `before` to `after`, or reuses
/// `approval_p<N>.json`. `base` is the text after the deterministic tools' fixes: when it lies
/// between the two and its fixes are proven, the approver judges only the model's part (from
/// `base` to `after`), and a rejected model part leaves the proven fixes alone to decide on
/// ([`Applies::ToolsOnly`]). When the whole change is not auto-approved, the model's
/// `targets` each proven on their own go with the tools' fixes ([`Applies::ProvenPart`]).
pub async fn approve(
    ctx: &TaskCtx<'_>,
    before: &str,
    base: &str,
    after: &str,
    targets: &[TargetOps],
) -> Result<ApprovalRecord> {
    let pass = ctx.state.pass;
    let name = artifacts::approval(pass);
    if let Some(bytes) = ctx.read_artifact(&name)?
        && let Ok(record) = serde_json::from_slice::<ApprovalRecord>(&bytes)
    {
        ctx.stage_reused(Stage::Approve, &name)?;
        return Ok(record);
    }
    let mut tools = None;
    let record = if base != before && base != after {
        tools = proven_tools_part(ctx, before, base).await?;
        match &tools {
            Some(tools) => judge_on_top_of_tools(ctx, before, base, after, tools.clone()).await?,
            None => judge(ctx, before, after).await?,
        }
    } else {
        judge(ctx, before, after).await?
    };
    let whole_applies = record.applies == Applies::Whole
        && matches!(record.decision, PolicyDecision::AutoApprove { .. });
    // The tools' part must be proven (or absent) for the proven part to stand on it.
    let base_stands = base == before || tools.is_some();
    let record =
        if !whole_applies && base_stands && base != after && ctx.pipeline.options.allow_apply {
            match proven_part_record(ctx, before, base, targets, tools.as_ref(), &record).await? {
                Some(part) => part,
                None => record,
            }
        } else {
            record
        };
    keep(ctx, &record)?;
    Ok(record)
}

/// The decision on the tools' fixes and the model's targets each proven on its own, when the
/// pack auto-approves it; `None` otherwise (the decision on the whole change stands).
async fn proven_part_record(
    ctx: &TaskCtx<'_>,
    before: &str,
    base: &str,
    targets: &[TargetOps],
    tools: Option<&(ChangeSet, ApproverVerdict)>,
    whole: &ApprovalRecord,
) -> Result<Option<ApprovalRecord>> {
    let Some(part) = proven_part::proven_part(ctx, before, base, targets).await? else {
        return Ok(None);
    };
    let mut verdict = part.verdict(tools.map(|(_, v)| v));
    verdict.reason = format!(
        "{} (the whole change: {}: {})",
        verdict.reason, whole.verdict.judged_by, whole.verdict.reason
    );
    let (change, _) = change_set(ctx, before, &part.text)?;
    let mut record = decide(ctx, change, verdict, 0.0, &part.text).await?;
    if !matches!(record.decision, PolicyDecision::AutoApprove { .. }) {
        return Ok(None);
    }
    proven_part::keep(ctx, &part)?;
    record.applies = Applies::ProvenPart;
    Ok(Some(record))
}

/// Logs a policy violation and writes `approval_p<N>.json`.
fn keep(ctx: &TaskCtx<'_>, record: &ApprovalRecord) -> Result<()> {
    if let PolicyDecision::Violation(violation) = &record.decision {
        ctx.event(
            EventType::PolicyViolation,
            serde_json::to_value(violation).unwrap_or_default(),
        )?;
    }
    ctx.write_artifact(
        &artifacts::approval(ctx.state.pass),
        &serde_json::to_vec_pretty(record).unwrap_or_default(),
    )
}

/// A change a request made and its verifiers passed, decided by the pack with `verdict` (the
/// verifiers' word) in place of the approver's: the approvers judge whether behaviour is kept,
/// and a request changes behaviour on purpose. The pack's rules (paths, size, auto-approve) and
/// the high-risk rule apply as to any change; the record is `approval_p<N>.json`.
pub(crate) async fn decide_verified(
    ctx: &TaskCtx<'_>,
    before: &str,
    after: &str,
    verdict: ApproverVerdict,
) -> Result<ApprovalRecord> {
    let (change, signal_risk) = change_set(ctx, before, after)?;
    let record = decide(ctx, change, verdict, signal_risk, after).await?;
    keep(ctx, &record)?;
    Ok(record)
}

/// The whole change judged by the approver, then decided by the pack.
async fn judge(ctx: &TaskCtx<'_>, before: &str, after: &str) -> Result<ApprovalRecord> {
    let (change, signal_risk) = change_set(ctx, before, after)?;
    let model = StageModel { ctx };
    let verdict = ctx
        .pipeline
        .approver
        .judge(ApproveInput {
            change: &change,
            before,
            after,
            model: Some(&model),
        })
        .await?;
    decide(ctx, change, verdict, signal_risk, after).await
}

/// The tools' part (from `before` to `base`) judged without a model: its verdict when a proof
/// holds, `None` otherwise.
async fn proven_tools_part(
    ctx: &TaskCtx<'_>,
    before: &str,
    base: &str,
) -> Result<Option<(ChangeSet, ApproverVerdict)>> {
    let (change, _) = change_set(ctx, before, base)?;
    let verdict = ctx
        .pipeline
        .approver
        .judge(ApproveInput {
            change: &change,
            before,
            after: base,
            model: None,
        })
        .await?;
    Ok(verdict
        .judged_by
        .starts_with("proof:")
        .then_some((change, verdict)))
}

/// The model's part judged on top of the proven tools' part; when the approver rejects it, the
/// tools' part alone is decided on.
async fn judge_on_top_of_tools(
    ctx: &TaskCtx<'_>,
    before: &str,
    base: &str,
    after: &str,
    (tools_change, tools_verdict): (ChangeSet, ApproverVerdict),
) -> Result<ApprovalRecord> {
    let (model_part, model_risk) = change_set(ctx, base, after)?;
    let model = StageModel { ctx };
    let mut verdict = ctx
        .pipeline
        .approver
        .judge(ApproveInput {
            change: &model_part,
            before: base,
            after,
            model: Some(&model),
        })
        .await?;
    if verdict.decision == Verdict::Reject {
        let mut record = decide(ctx, tools_change, tools_verdict, 0.0, base).await?;
        record.verdict.reason = format!(
            "{} (the model's edits were dropped: {})",
            record.verdict.reason, verdict.reason
        );
        record.applies = Applies::ToolsOnly;
        return Ok(record);
    }
    let tools_only = (tools_change, tools_verdict.clone());
    // What a person sees is the whole change; what decides is the model's part, the tools'
    // part being proven.
    let (mut whole, _) = change_set(ctx, before, after)?;
    whole.signals = model_part.signals;
    verdict.reason = format!(
        "the tools' fixes are proven ({}); the model's edits: {}",
        tools_verdict.judged_by, verdict.reason
    );
    let mut record = decide(ctx, whole, verdict, model_risk, after).await?;
    record.change.diff_lines = diff_lines(before, after);
    // A run that applies does not let proven fixes wait on a human for the model's edits:
    // they go alone, and a later pass may try the model's part again.
    if ctx.pipeline.options.allow_apply
        && let PolicyDecision::NeedsHuman { why } = &record.decision
    {
        let (tools_change, tools_verdict) = tools_only;
        let mut alone = decide(ctx, tools_change, tools_verdict, 0.0, base).await?;
        if matches!(alone.decision, PolicyDecision::AutoApprove { .. }) {
            alone.verdict.reason = format!(
                "{} (the model's edits need a human and were left out: {why})",
                alone.verdict.reason
            );
            alone.applies = Applies::ToolsOnly;
            return Ok(alone);
        }
    }
    Ok(record)
}

/// The pack's decision on a judged change to `text`, with the tests the pack requires and the
/// high-risk rule.
async fn decide(
    ctx: &TaskCtx<'_>,
    change: ChangeSet,
    mut verdict: ApproverVerdict,
    signal_risk: f32,
    text: &str,
) -> Result<ApprovalRecord> {
    // A proof outranks the heuristics: risk signals raise every other verdict's risk.
    let proven = verdict.judged_by.starts_with("proof:");
    if !proven {
        verdict.risk = verdict.risk.max(signal_risk);
    }
    let input = PolicyInput {
        path: Path::new(&ctx.rel),
        diff_lines: change.diff_lines,
        verdict: &verdict,
        tests_passed: None,
    };
    let high_risk = !proven && signal_risk >= ctx.pipeline.options.high_risk;
    let tests = tests_run::for_change(ctx, input, high_risk, text).await?;
    let mut decision = ctx.pipeline.pack.decide(&PolicyInput {
        tests_passed: tests.as_ref().and_then(|t| t.passed),
        ..input
    });
    if let Some(tests) = &tests {
        decision = tests_run::explain(decision, tests);
    }
    if matches!(decision, PolicyDecision::AutoApprove { .. }) && high_risk {
        decision = PolicyDecision::NeedsHuman {
            why: format!(
                "risk signals score {signal_risk:.2} >= {:.2}: never auto-approved",
                ctx.pipeline.options.high_risk
            ),
        };
    }
    Ok(ApprovalRecord {
        change,
        verdict,
        signal_risk,
        decision,
        applies: Applies::Whole,
    })
}

/// The approve stage's model as an approver sees it: the `approve` prompt with the file and
/// the pack's guidance, each exchange recorded like every other stage's.
struct StageModel<'c, 'a> {
    ctx: &'c TaskCtx<'a>,
}

#[async_trait]
impl ApproveModel for StageModel<'_, '_> {
    fn render_prompt(&self, values: &[(&str, &str)]) -> Result<String> {
        let path = self.ctx.rel_display();
        let guidance = self.ctx.pack_guidance(Stage::Approve);
        let mut all: Vec<(&str, &str)> = vec![("path", &path), ("pack_guidance", &guidance)];
        all.extend_from_slice(values);
        self.ctx.pipeline.prompts.load(Stage::Approve)?.render(&all)
    }

    fn room(&self, prompt: &str) -> u32 {
        let options = &self.ctx.pipeline.options;
        options
            .context_tokens
            .saturating_sub(crate::llm::estimate_tokens(prompt))
            .saturating_sub(options.max_tokens_structured)
            .saturating_sub(super::task::SYSTEM_OVERHEAD)
    }

    async fn ask_json(
        &self,
        prompt: String,
        name: &str,
        schema: serde_json::Value,
    ) -> Result<serde_json::Value> {
        self.ctx
            .ask_structured_with(Stage::Approve, prompt, name, schema)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbol::{Symbol, SymbolKind};

    fn symbol(name: &str, kind: SymbolKind, text: &str, part: &str) -> Symbol {
        let start = text.find(part).unwrap();
        Symbol {
            name: name.into(),
            kind,
            start_byte: start,
            end_byte: start + part.len(),
            start_line: 1,
            end_line: 1,
            signature: None,
            docstring: None,
        }
    }

    fn outline(text: &str, class: &str, method: &str) -> Outline {
        Outline {
            symbols: vec![
                symbol("Limits", SymbolKind::Class, text, class),
                symbol("Limits.check", SymbolKind::Method, text, method),
            ],
            ..Outline::default()
        }
    }

    #[test]
    fn a_class_body_change_is_shown_with_its_changed_method() {
        let method = "    def check(self, n):\n        return n < self.MAX\n";
        let typed = "    def check(self, n: int) -> bool:\n        return n < self.MAX\n";
        let before = format!("class Limits:\n    MAX = 10\n\n{method}");
        let after = format!("class Limits:\n    MAX = 10_000_000\n\n{typed}");
        let only_method = format!("class Limits:\n    MAX = 10\n\n{typed}");
        let names = |after: &str, typed: &str| -> Vec<String> {
            changed_symbols(
                (&before, &outline(&before, &before, method)),
                (after, &outline(after, after, typed)),
            )
            .unwrap()
            .into_iter()
            .map(|c| c.symbol)
            .collect()
        };
        assert_eq!(names(&only_method, typed), vec!["Limits.check"]);
        assert_eq!(names(&after, typed), vec!["Limits", "Limits.check"]);
    }
}
