//! Draft stage: plan 1–3 target symbols with what to change in each, then gather the evidence
//! of those targets (imports, callsites elsewhere) → `draft.json` and `impact.json`.
//!
//! The draft writes no code: the edit stage writes each target's code once. On a small local
//! model code generation is the most expensive part of a pass, and a draft's code that the edit
//! then rewrote cost it twice.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::artifacts;
use super::fixer::Finding;
use super::review::Review;
use super::task::TaskCtx;
use super::window::Window;
use crate::editor::Outline;
use crate::error::Result;
use crate::lines::classify;
use crate::llm::estimate_tokens;
use crate::stage::Stage;
use crate::symbol::{Symbol, SymbolKind};

/// The most targets one pass edits.
pub const MAX_TARGETS: usize = 3;

/// The model's plan, as asked for with a JSON Schema (no code in JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DraftPlan {
    /// 1–3 targets.
    pub targets: Vec<PlanTarget>,
}

/// One planned target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PlanTarget {
    /// A qualified name from the file's symbol list.
    pub symbol: String,
    /// What to change in it.
    pub edit_prompt: String,
}

/// `draft.json`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Draft {
    /// The targets to edit, in order.
    pub targets: Vec<DraftTarget>,
    /// Planned targets that were dropped, with why (unknown symbol, duplicate, over the limit).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<String>,
}

/// One target of `draft.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DraftTarget {
    /// The symbol's qualified name, as in the file.
    pub symbol: String,
    /// What to change.
    pub edit_prompt: String,
    /// Near-final code for the symbol, in drafts of earlier versions that wrote code (the edit
    /// starts from it when present); empty otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub draft_code: String,
    /// This target's evidence as prompt text (its callsites, importers and other definitions),
    /// for its edit.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub evidence: String,
    /// The plan asks for no annotation: those the answer adds to the target's signature are
    /// dropped before the edit is applied (`unasked_annotations`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_new_annotations: bool,
    /// For a definition too large to rewrite whole: the lines the edit rewrites instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
}

/// Matches a name the model wrote to a symbol of the file: exact, then a unique match of the
/// last part (`method` for `Class.method`), then a unique case-insensitive match.
pub fn resolve_symbol<'a>(outline: &'a Outline, name: &str) -> Option<&'a Symbol> {
    let name = name.trim().trim_matches('`').trim_end_matches("()");
    if let Some(symbol) = outline.symbol(name) {
        return Some(symbol);
    }
    let unique = |matches: Vec<&'a Symbol>| (matches.len() == 1).then(|| matches[0]);
    let short = name.rsplit('.').next().unwrap_or(name);
    unique(
        outline
            .symbols
            .iter()
            .filter(|s| s.short_name() == short)
            .collect(),
    )
    .or_else(|| {
        unique(
            outline
                .symbols
                .iter()
                .filter(|s| s.name.eq_ignore_ascii_case(name))
                .collect(),
        )
    })
}

/// The largest symbol (in estimated tokens) one edit can rewrite: its new code must fit the
/// answer (`max_tokens` for code), and the edit prompt shows it, with room for its evidence,
/// within the context.
pub fn max_symbol_tokens(options: &super::PipelineOptions) -> u32 {
    let context = options
        .context_tokens
        .saturating_sub(options.max_tokens_code)
        .saturating_sub(super::task::SYSTEM_OVERHEAD)
        .saturating_sub(EDIT_TEMPLATE_TOKENS)
        .saturating_sub(evidence_budget(options));
    context.min(options.max_tokens_code * 9 / 10)
}

/// A generous bound on the edit template's own tokens (without the code it shows).
const EDIT_TEMPLATE_TOKENS: u32 = 400;

/// The tokens of evidence an edit prompt shows: a thirty-second of the context (256 of 8,192),
/// a few callsites; the edit's own code is what a small model must read.
pub fn evidence_budget(options: &super::PipelineOptions) -> u32 {
    options.context_tokens / 32
}

/// The symbols an edit can rewrite within the budgets: the only ones a plan may name.
pub fn editable(outline: &Outline, source: &str, options: &super::PipelineOptions) -> Outline {
    let max = max_symbol_tokens(options);
    Outline {
        symbols: outline
            .symbols
            .iter()
            .filter(|s| estimate_tokens(&source[s.start_byte..s.end_byte]) <= max)
            .cloned()
            .collect(),
        imports: outline.imports.clone(),
        has_syntax_errors: outline.has_syntax_errors,
    }
}

/// The symbol list shown to the model: one line per symbol.
pub fn symbol_list(outline: &Outline) -> String {
    let mut text = String::new();
    for symbol in &outline.symbols {
        text.push_str(&format!(
            "- `{}` ({}, lines {}-{})\n",
            symbol.name, symbol.kind, symbol.start_line, symbol.end_line
        ));
    }
    text
}

/// The plan's JSON Schema, with `symbol` limited to the file's symbols: a server that
/// enforces schemas (llama.cpp compiles them to a grammar) cannot answer with a name the file
/// does not have.
pub fn plan_schema(outline: &Outline) -> serde_json::Value {
    let names: Vec<&str> = outline.symbols.iter().map(|s| s.name.as_str()).collect();
    let mut symbol = serde_json::json!({ "type": "string" });
    if !names.is_empty() {
        symbol["enum"] = serde_json::json!(names);
    }
    serde_json::json!({
        "type": "object",
        "properties": {
            "targets": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_TARGETS,
                "items": {
                    "type": "object",
                    "properties": {
                        "symbol": symbol,
                        "edit_prompt": { "type": "string" }
                    },
                    "required": ["symbol", "edit_prompt"]
                }
            }
        },
        "required": ["targets"]
    })
}

/// The symbols to list within `budget` tokens: `first` (by name) before the rest, each in file
/// order.
fn list_within(outline: &Outline, first: &[String], budget: u32) -> Outline {
    if estimate_tokens(&symbol_list(outline)) <= budget {
        return outline.clone();
    }
    let (named, rest): (Vec<_>, Vec<_>) = outline
        .symbols
        .iter()
        .partition(|s| first.contains(&s.name));
    let mut kept = Outline {
        symbols: Vec::new(),
        imports: outline.imports.clone(),
        has_syntax_errors: outline.has_syntax_errors,
    };
    let mut used = 0;
    for symbol in named.into_iter().chain(rest) {
        let line = estimate_tokens(&symbol_list(&Outline {
            symbols: vec![symbol.clone()],
            ..Outline::default()
        }));
        if used + line > budget {
            continue;
        }
        used += line;
        kept.symbols.push(symbol.clone());
    }
    kept.symbols.sort_by_key(|s| s.start_byte);
    kept
}

/// Definitions whose name the review mentions: listed first when the list must be cut.
fn mentioned(outline: &Outline, review: &str) -> Vec<String> {
    let words: std::collections::BTreeSet<&str> = review
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .filter(|w| !w.is_empty())
        .collect();
    outline
        .symbols
        .iter()
        .filter(|s| s.kind.is_definition())
        .filter(|s| words.contains(s.name.as_str()) || words.contains(s.short_name()))
        .map(|s| s.name.clone())
        .take(MAX_TARGETS * 2)
        .collect()
}

/// Rules whose findings are not given to the model to fix: unused imports (the fix step removes
/// the ones a proof allows; the others are kept on purpose) and layout (a formatter's job).
const NOT_FOR_THE_MODEL: [&str; 3] = ["F401", "E501", "W291"];

/// A generic example of the fix for rules whose fix a small model can write from a pattern,
/// and which keeps behaviour in the cases the proofs check (`pack_rewrite` in noctune-gates):
/// the edit prompt gives it beside the linter's message. Easiest first: a plan asks for these
/// first.
pub const FIX_SHAPES: [(&str, &str); 8] = [
    (
        "E711",
        "`if x == None:` becomes `if x is None:`, and `y != None` becomes `y is not None`",
    ),
    (
        "E721",
        "only the operator changes: `type(x) == int` becomes `type(x) is int`, and \
         `type(a) != type(b)` becomes `type(a) is not type(b)`; keep `type(...)` as it is",
    ),
    (
        "C408",
        "`d = dict()` becomes `d = {}`, and `dict(a=1)` becomes `{\"a\": 1}`",
    ),
    (
        "UP031",
        "`\"id=%s, %r!\" % (key, item)` becomes `f\"id={key}, {item!r}!\"`: the text stays, \
         each `%s` becomes `{value}` and each `%r` becomes `{value!r}`, the values in order",
    ),
    (
        "SIM103",
        "`if a > b:` / `return True` / `return False` becomes the one line `return a > b` (the \
         condition the message shows)",
    ),
    (
        "RET504",
        "`total = a + b` / `return total` becomes the one line `return a + b`",
    ),
    (
        "SIM108",
        "`if ok:` / `x = 1` / `else:` / `x = 2` becomes the one line `x = 1 if ok else 2`",
    ),
    (
        "SIM102",
        "`if a:` with only `if b:` inside becomes the one line `if a and b:`, its body \
         dedented once",
    ),
];

/// Linter messages that offer a second fix a proof cannot keep, as the model is shown them:
/// E721's "or `isinstance()`" (which accepts subclasses, `bool` for `int`) made the 0.5B write
/// `isinstance` every time.
const ASKED_MESSAGES: [(&str, &str); 1] = [("E721", "Use `is` instead of `==` to compare types")];

/// A finding's message as the edit prompt shows it.
fn asked_message(finding: &Finding) -> &str {
    ASKED_MESSAGES
        .iter()
        .find(|(rule, _)| *rule == finding.rule)
        .map_or(finding.message.as_str(), |(_, message)| message)
}

/// Where a rule stands in [`FIX_SHAPES`] (easiest first: a token to replace before a
/// statement to restructure), if it has a shape.
fn shape_rank(rule: &str) -> Option<usize> {
    FIX_SHAPES.iter().position(|(code, _)| *code == rule)
}

/// The fix shape of a rule, if it has one.
pub fn fix_shape(rule: &str) -> Option<&'static str> {
    FIX_SHAPES
        .iter()
        .find(|(code, _)| *code == rule)
        .map(|(_, shape)| *shape)
}

/// Whether a line's `%` formatting is one a proof can keep once rewritten (`pack_rewrite`'s
/// UP031 in noctune-gates checks it exactly): its conversions are only `%s`, `%r`, `%a` and
/// `%%`, and the right operand is a parenthesized tuple, a call, or a class's name
/// (`self.__class__.__name__`); never a bare name, which `%` unpacks when it holds a tuple. A
/// `%` formatting the model would rewrite to no avail is not asked for.
fn plain_printf(line: &str) -> bool {
    let Some((format, operand)) = line.split_once("\" % ").or_else(|| line.split_once("' % "))
    else {
        return false;
    };
    let mut conversions = format.split('%').skip(1);
    let mut plain = true;
    while let Some(after) = conversions.next() {
        match after.chars().next() {
            Some('s' | 'r' | 'a') => {}
            // `%%`: the split left an empty piece; the next piece is literal text.
            None => {
                conversions.next();
            }
            _ => plain = false,
        }
    }
    let operand = operand.trim_start();
    let called = operand.split_once('(').is_some_and(|(name, _)| {
        !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')
    });
    let dotted: String = operand
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
        .collect();
    let class_name =
        dotted.ends_with(".__class__.__name__") || dotted.ends_with(".__class__.__qualname__");
    plain && (operand.starts_with('(') || called || class_name)
}

/// Whether fixing a finding of `rule` may add or change annotations (flake8-annotations,
/// pyupgrade's typing rules, future-annotations, implicit `Optional`, stub rules).
fn about_annotations(rule: &str) -> bool {
    ["ANN", "FA", "PYI", "TC"]
        .iter()
        .any(|p| rule.starts_with(p))
        || matches!(
            rule,
            "UP006" | "UP007" | "UP037" | "UP040" | "UP045" | "RUF013"
        )
}

/// Targets planned from the linter's findings, with no model call: the definitions that hold
/// findings, each asked to fix exactly those findings, quoting the lines, with the fix's shape
/// where the rule has one ([`FIX_SHAPES`]). A small model fixes one precise finding far more
/// often than it plans well. Definitions with shaped findings come first (only those findings
/// asked for: a proof can keep them, a rewrite of the others would sink them), then the most
/// findings first; at most [`MAX_TARGETS`].
pub fn plan_from_findings(
    all: &Outline,
    outline: &Outline,
    source: &str,
    findings: &[Finding],
) -> Vec<DraftTarget> {
    let lines: Vec<&str> = source.lines().collect();
    let kinds = classify(source);
    let mut by_symbol: Vec<(String, Vec<&Finding>)> = Vec::new();
    for finding in findings {
        if NOT_FOR_THE_MODEL.contains(&finding.rule.as_str()) {
            continue;
        }
        let line = lines.get(finding.line.saturating_sub(1)).copied();
        if finding.rule == "UP031" && !line.is_some_and(plain_printf) {
            continue;
        }
        let Some(symbol) = finding
            .symbol
            .as_deref()
            .and_then(|name| all.symbol(name))
            .filter(|s| s.kind.is_definition())
        else {
            continue;
        };
        // Too large to rewrite whole: only a shaped finding, in a window of lines.
        if outline.symbol(&symbol.name).is_none() && shape_rank(&finding.rule).is_none() {
            continue;
        }
        match by_symbol.iter_mut().find(|(name, _)| *name == symbol.name) {
            Some((_, list)) => list.push(finding),
            None => by_symbol.push((symbol.name.clone(), vec![finding])),
        }
    }
    // In a definition with shaped findings, only those of its easiest shaped rule (one kind of
    // change at a time: a small model mixing two rewrites gets both wrong).
    for (_, list) in &mut by_symbol {
        if let Some(easiest) = list.iter().filter_map(|f| shape_rank(&f.rule)).min() {
            list.retain(|f| shape_rank(&f.rule) == Some(easiest));
        }
    }
    // The easiest shaped rule first, then the most findings; file order among equals.
    by_symbol.sort_by_key(|(_, list)| {
        (
            shape_rank(&list[0].rule).unwrap_or(usize::MAX),
            std::cmp::Reverse(list.len()),
        )
    });
    by_symbol
        .into_iter()
        .take(MAX_TARGETS)
        .map(|(symbol, mut list)| {
            // A definition too large to rewrite whole: a window. (Not for a definition one edit
            // can rewrite: shown one line, the 0.5B copied the fix shape's example into it, and
            // over the 26 cases fewer changes were kept than shown the whole definition.)
            let window = match all.symbol(&symbol) {
                Some(def) if outline.symbol(&symbol).is_none() => {
                    let at: Vec<usize> = list.iter().map(|f| f.line).collect();
                    let window = Window::around(def, &lines, &kinds, &at);
                    list.retain(|f| {
                        (def.start_line + window.first..=def.start_line + window.last)
                            .contains(&f.line)
                    });
                    Some(window)
                }
                _ => None,
            };
            let no_new_annotations = !list.iter().any(|f| about_annotations(&f.rule));
            let mut prompt = String::from(
                "Fix exactly what the linter reports here, and change nothing else:\n",
            );
            for finding in list {
                let quoted = lines
                    .get(finding.line.saturating_sub(1))
                    .map(|l| l.trim())
                    .unwrap_or_default();
                prompt.push_str(&format!(
                    "- `{quoted}`: {} {}\n",
                    finding.rule,
                    asked_message(finding)
                ));
                if let Some(shape) = fix_shape(&finding.rule) {
                    prompt.push_str(&format!("  For example: {shape}.\n"));
                }
            }
            DraftTarget {
                symbol,
                edit_prompt: prompt.trim_end().to_owned(),
                draft_code: String::new(),
                evidence: String::new(),
                no_new_annotations,
                window,
            }
        })
        .collect()
}

/// The pack whose plan is the definitions that lack annotations, not the linter's findings.
const TYPING_PASS: &str = "typing_pass";

/// What a typing pass asks of each function: annotations only, in builtin types a proof can
/// evaluate without an import.
const ANNOTATE: &str = "Add type annotations to its parameters (not `self` or `cls`) and its \
return, and change nothing else: not a default value, not a statement of the body, not a name. \
Use builtin types only (`int`, `float`, `str`, `bool`, `list[str]`, `dict[str, int]`, `tuple[int, \
int]`, `X | None`) and add no import.\n  For example: `def area(w, h):` becomes `def area(w: \
float, h: float) -> float:`.";

/// Targets for a typing pass, with no model call: the functions and methods whose header has
/// no return annotation, the shortest first (a small model rewrites a short one faithfully), at
/// most [`MAX_TARGETS`], each asked to add annotations only.
pub fn plan_annotations(outline: &Outline) -> Vec<DraftTarget> {
    let mut bare: Vec<&Symbol> = outline
        .symbols
        .iter()
        .filter(|s| s.kind.is_definition() && s.kind != SymbolKind::Class)
        .filter(|s| {
            s.signature
                .as_deref()
                .is_some_and(|sig| !sig.contains("->"))
        })
        .collect();
    bare.sort_by_key(|s| (s.end_byte - s.start_byte, s.start_byte));
    bare.truncate(MAX_TARGETS);
    bare.sort_by_key(|s| s.start_byte);
    bare.into_iter()
        .map(|s| DraftTarget {
            symbol: s.name.clone(),
            edit_prompt: ANNOTATE.to_owned(),
            draft_code: String::new(),
            evidence: String::new(),
            no_new_annotations: false,
            window: None,
        })
        .collect()
}

/// The plan made with no model call, from the editable `outline`: a typing pass's functions
/// without annotations (the `annotations` proof keeps harmless ones; the linter's findings are
/// not its plan), otherwise the linter's findings. Empty when there is none: the model plans.
pub fn plan_without_model(
    ctx: &TaskCtx<'_>,
    all: &Outline,
    outline: &Outline,
    source: &str,
    findings: &[Finding],
) -> Vec<DraftTarget> {
    if ctx.pipeline.pack.name() == TYPING_PASS {
        plan_annotations(outline)
    } else {
        plan_from_findings(all, outline, source, findings)
    }
}

/// Whether the draft of `source` will be made with no model call ([`plan_without_model`]):
/// then the review's checklist is not what the plan follows, and the review need not ask.
pub fn plans_without_model(ctx: &TaskCtx<'_>, source: &str, findings: &[Finding]) -> Result<bool> {
    let all = ctx.pipeline.editor.outline(source)?;
    let outline = editable(&all, source, &ctx.pipeline.options);
    Ok(!plan_without_model(ctx, &all, &outline, source, findings).is_empty())
}

/// Runs the draft stage, or reuses `draft.json` when it exists. When the linter's `findings`
/// fall in editable definitions, those are the plan (no model call); otherwise the model plans
/// from the review.
pub async fn draft(
    ctx: &TaskCtx<'_>,
    source: &str,
    review: &Review,
    findings: &[Finding],
) -> Result<Draft> {
    if let Some(bytes) = ctx.read_artifact(artifacts::DRAFT)?
        && let Ok(draft) = serde_json::from_slice::<Draft>(&bytes)
    {
        ctx.stage_reused(Stage::Draft, artifacts::DRAFT)?;
        return Ok(draft);
    }
    let all = ctx.pipeline.editor.outline(source)?;
    // Only symbols an edit can rewrite within the budgets may be planned.
    let outline = editable(&all, source, &ctx.pipeline.options);
    let from_findings = plan_without_model(ctx, &all, &outline, source, findings);
    if outline.symbols.is_empty() && from_findings.is_empty() {
        let draft = Draft {
            targets: Vec::new(),
            dropped: vec![if all.symbols.is_empty() {
                "the file has no symbols to edit".to_owned()
            } else {
                format!(
                    "every symbol is larger than {} tokens, the most one edit can rewrite \
                     (raise llm.max_tokens to allow larger ones)",
                    max_symbol_tokens(&ctx.pipeline.options)
                )
            }],
        };
        ctx.write_artifact(
            artifacts::DRAFT,
            &serde_json::to_vec_pretty(&draft).unwrap_or_default(),
        )?;
        return Ok(draft);
    }
    if !from_findings.is_empty() {
        // A local fix needs no callers: a small model copies what it is shown.
        let draft = Draft {
            targets: from_findings,
            dropped: Vec::new(),
        };
        ctx.write_artifact(
            artifacts::DRAFT,
            &serde_json::to_vec_pretty(&draft).unwrap_or_default(),
        )?;
        return Ok(draft);
    }
    let path = ctx.rel_display();
    let guidance = ctx.guidance();
    let pack_guidance = ctx.pack_guidance(Stage::Draft);
    let template = ctx.pipeline.prompts.load(Stage::Draft)?;
    let options = &ctx.pipeline.options;

    // The symbol list gets at most half of what the prompt leaves: the symbols the review
    // names first, then the others in file order.
    let without = template.render(&[
        ("path", &path),
        ("review", &review.text),
        ("symbols", ""),
        ("evidence", ""),
        ("pack_guidance", &pack_guidance),
        ("guidance", &guidance),
    ])?;
    let room = options
        .context_tokens
        .saturating_sub(estimate_tokens(&without))
        .saturating_sub(options.max_tokens_structured)
        .saturating_sub(super::task::SYSTEM_OVERHEAD)
        / 2;
    let outline = list_within(&outline, &mentioned(&outline, &review.text), room);
    let symbols = symbol_list(&outline);

    let prompt = template.render(&[
        ("path", &path),
        ("review", &review.text),
        ("symbols", &symbols),
        ("evidence", ""),
        ("pack_guidance", &pack_guidance),
        ("guidance", &guidance),
    ])?;
    let plan: DraftPlan = ctx
        .ask_structured_with(Stage::Draft, prompt, "DraftPlan", plan_schema(&outline))
        .await?;

    let mut draft = Draft::default();
    for target in plan.targets {
        let Some(symbol) = resolve_symbol(&outline, &target.symbol) else {
            draft
                .dropped
                .push(format!("`{}`: no such symbol in the file", target.symbol));
            continue;
        };
        if draft.targets.iter().any(|t| t.symbol == symbol.name) {
            draft
                .dropped
                .push(format!("`{}`: named twice", target.symbol));
            continue;
        }
        if draft.targets.len() == MAX_TARGETS {
            draft.dropped.push(format!(
                "`{}`: over the limit of {MAX_TARGETS} targets",
                target.symbol
            ));
            continue;
        }
        draft.targets.push(DraftTarget {
            symbol: symbol.name.clone(),
            edit_prompt: target.edit_prompt,
            draft_code: String::new(),
            evidence: String::new(),
            no_new_annotations: false,
            window: None,
        });
    }

    add_evidence(ctx, source, &outline, &mut draft)?;
    let json = serde_json::to_vec_pretty(&draft).unwrap_or_default();
    ctx.write_artifact(artifacts::DRAFT, &json)?;
    Ok(draft)
}

/// Evidence for the plan's targets, within what an edit prompt can spare (`impact.json`, and
/// each target's part on the target). Module chunks (imports, a docstring, assignments) have
/// no callers to show.
fn add_evidence(
    ctx: &TaskCtx<'_>,
    source: &str,
    outline: &Outline,
    draft: &mut Draft,
) -> Result<()> {
    let targets: Vec<String> = draft
        .targets
        .iter()
        .filter(|t| {
            outline
                .symbol(&t.symbol)
                .is_some_and(|s| s.kind.is_definition())
        })
        .map(|t| t.symbol.clone())
        .collect();
    if targets.is_empty() {
        return Ok(());
    }
    // One search for every target (impact.json); each edit prompt shows its target's part.
    let evidence = ctx.pipeline.evidence.evidence(
        &ctx.rel,
        source,
        &targets,
        evidence_budget(&ctx.pipeline.options) * targets.len() as u32,
    )?;
    let impact = serde_json::to_vec_pretty(&evidence.json).unwrap_or_default();
    ctx.write_artifact(artifacts::IMPACT, &impact)?;
    for target in draft
        .targets
        .iter_mut()
        .filter(|t| targets.contains(&t.symbol))
    {
        target.evidence = evidence
            .targets
            .get(&target.symbol)
            .unwrap_or(&evidence.text)
            .clone();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbol::SymbolKind;

    fn symbol(name: &str, start_byte: usize, end_byte: usize) -> Symbol {
        Symbol {
            name: name.into(),
            kind: SymbolKind::Function,
            start_byte,
            end_byte,
            start_line: 1,
            end_line: 1,
            signature: None,
            docstring: None,
        }
    }

    #[test]
    fn the_list_keeps_named_symbols_first_within_the_budget() {
        let outline = Outline {
            symbols: (0..50)
                .map(|i| symbol(&format!("function_number_{i}"), i, i + 1))
                .collect(),
            ..Outline::default()
        };
        let full = estimate_tokens(&symbol_list(&outline));
        assert_eq!(list_within(&outline, &[], full), outline);
        let named = vec!["function_number_42".to_owned()];
        let kept = list_within(&outline, &named, full / 5);
        assert!(estimate_tokens(&symbol_list(&kept)) <= full / 5);
        assert!(kept.symbols.iter().any(|s| s.name == "function_number_42"));
        assert!(kept.symbols.len() < 50);
        assert!(
            kept.symbols
                .windows(2)
                .all(|w| w[0].start_byte < w[1].start_byte)
        );
    }

    #[test]
    fn symbols_too_large_for_one_edit_cannot_be_planned() {
        let options = super::super::PipelineOptions {
            max_tokens_code: 100,
            ..Default::default()
        };
        assert_eq!(max_symbol_tokens(&options), 90);
        let source = format!("{}{}", "a".repeat(100), "b".repeat(1000));
        let outline = Outline {
            symbols: vec![symbol("small", 0, 100), symbol("big", 100, 1100)],
            ..Outline::default()
        };
        let names: Vec<String> = editable(&outline, &source, &options)
            .symbols
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, vec!["small"]);
        assert_eq!(
            plan_schema(&editable(&outline, &source, &options))["properties"]["targets"]["items"]["properties"]
                ["symbol"]["enum"],
            serde_json::json!(["small"])
        );
    }
}

#[cfg(test)]
mod findings_plan_tests {
    use super::*;
    use crate::symbol::SymbolKind;

    fn function(name: &str, source: &str, part: &str, lines: (usize, usize)) -> Symbol {
        let start = source.find(part).unwrap();
        Symbol {
            name: name.into(),
            kind: SymbolKind::Function,
            start_byte: start,
            end_byte: start + part.len(),
            start_line: lines.0,
            end_line: lines.1,
            signature: None,
            docstring: None,
        }
    }

    fn finding(rule: &str, line: usize, symbol: Option<&str>) -> Finding {
        Finding {
            rule: rule.into(),
            line,
            symbol: symbol.map(str::to_owned),
            message: format!("{rule} message"),
        }
    }

    #[test]
    fn the_definitions_with_the_most_findings_are_planned_quoting_their_lines() {
        let show = "def show(v):\n    if v == None:\n        return 1\n    try:\n        return 2\n    except:\n        return 3\n";
        let other = "def other(x):\n    return x == True\n";
        let source = format!("import os\n\n{show}\n{other}");
        let outline = Outline {
            symbols: vec![
                function("show", &source, show, (3, 9)),
                function("other", &source, other, (11, 12)),
            ],
            ..Outline::default()
        };
        let findings = [
            finding("F401", 1, None),
            finding("E711", 4, Some("show")),
            finding("E722", 8, Some("show")),
            finding("E712", 12, Some("other")),
            finding("E501", 12, Some("other")),
        ];
        let targets = plan_from_findings(&outline, &outline, &source, &findings);
        let planned: Vec<&str> = targets.iter().map(|t| t.symbol.as_str()).collect();
        assert_eq!(planned, vec!["show", "other"]);
        // A definition with a finding whose fix has a shape is asked for that one only.
        assert_eq!(
            targets[0].edit_prompt,
            format!(
                "Fix exactly what the linter reports here, and change nothing else:\n\
                 - `if v == None:`: E711 E711 message\n  For example: {}.",
                fix_shape("E711").unwrap()
            )
        );
        assert_eq!(
            targets[1].edit_prompt,
            "Fix exactly what the linter reports here, and change nothing else:\n\
             - `return x == True`: E712 E712 message"
        );
        assert!(plan_from_findings(&outline, &outline, &source, &findings[..1]).is_empty());
    }

    #[test]
    fn a_typing_pass_plans_the_shortest_functions_without_a_return_annotation() {
        let long = "def long(a, b):\n    c = a + b\n    d = c * 2\n    return d\n";
        let short = "def short(a):\n    return a\n";
        let typed = "def typed(a: int) -> int:\n    return a\n";
        let source = format!("{long}\n{short}\n{typed}");
        let with_signature = |name: &str, part: &str, sig: &str| Symbol {
            signature: Some(sig.to_owned()),
            ..function(name, &source, part, (1, 1))
        };
        let outline = Outline {
            symbols: vec![
                with_signature("long", long, "def long(a, b):"),
                with_signature("short", short, "def short(a):"),
                with_signature("typed", typed, "def typed(a: int) -> int:"),
            ],
            ..Outline::default()
        };
        let targets = plan_annotations(&outline);
        let planned: Vec<&str> = targets.iter().map(|t| t.symbol.as_str()).collect();
        assert_eq!(planned, vec!["long", "short"]);
        assert_eq!(targets[0].edit_prompt, ANNOTATE);
    }

    #[test]
    fn the_easiest_shaped_rule_comes_first_alone_in_its_definition() {
        let pick =
            "def pick(a, b):\n    if a:\n        x = 1\n    else:\n        x = 2\n    return x\n";
        let both = "def both(v):\n    if v != None:\n        return True\n    return False\n";
        let source = format!("{pick}\n{both}");
        let outline = Outline {
            symbols: vec![
                function("pick", &source, pick, (1, 6)),
                function("both", &source, both, (8, 11)),
            ],
            ..Outline::default()
        };
        let findings = [
            finding("SIM108", 2, Some("pick")),
            finding("RET504", 6, Some("pick")),
            finding("SIM103", 9, Some("both")),
            finding("E711", 9, Some("both")),
        ];
        let targets = plan_from_findings(&outline, &outline, &source, &findings);
        let planned: Vec<&str> = targets.iter().map(|t| t.symbol.as_str()).collect();
        assert_eq!(planned, vec!["both", "pick"]);
        assert!(targets[0].edit_prompt.contains("E711"));
        assert!(!targets[0].edit_prompt.contains("SIM103"));
        assert!(targets[1].edit_prompt.contains("RET504"));
        assert!(!targets[1].edit_prompt.contains("SIM108"));
        // Neither fix is about annotations: any the answer adds are dropped.
        assert!(targets.iter().all(|t| t.no_new_annotations));
        let annotate = [finding("ANN201", 8, Some("both"))];
        let targets = plan_from_findings(&outline, &outline, &source, &annotate);
        assert!(!targets[0].no_new_annotations);
    }

    #[test]
    fn only_percent_formats_a_proof_can_keep_are_asked_for() {
        let label = "def label(name, value, n):\n    a = \"%s: %r\" % (name, value)\n    b = \"%s%%\" % int(n)\n    c = \"%d items\" % (n,)\n    d = \"Hi %s\" % name\n    e = \"a %s\" % n.__class__.__name__\n    f = \"a %s\" % n.__name__\n    return a + b + c + d + e + f\n";
        let outline = Outline {
            symbols: vec![function("label", label, label, (1, 8))],
            ..Outline::default()
        };
        let findings = [
            finding("UP031", 2, Some("label")),
            finding("UP031", 3, Some("label")),
            finding("UP031", 4, Some("label")),
            finding("UP031", 5, Some("label")),
            finding("UP031", 6, Some("label")),
            finding("UP031", 7, Some("label")),
        ];
        let targets = plan_from_findings(&outline, &outline, label, &findings);
        assert_eq!(targets.len(), 1);
        let prompt = &targets[0].edit_prompt;
        assert!(
            prompt.contains(r#"a = "%s: %r" % (name, value)"#),
            "{prompt}"
        );
        assert!(prompt.contains(r#"b = "%s%%" % int(n)"#), "{prompt}");
        // `%d` formats a float differently from `{}`, and a bare name may hold a tuple.
        assert!(!prompt.contains("%d items"), "{prompt}");
        assert!(!prompt.contains("Hi %s"), "{prompt}");
        // A class's name is a string; any other `__name__` may be anything.
        assert!(prompt.contains("n.__class__.__name__"), "{prompt}");
        assert!(!prompt.contains("% n.__name__"), "{prompt}");
        assert!(
            prompt.contains("{item!r}"),
            "the fix shape is given: {prompt}"
        );
    }

    #[test]
    fn a_definition_too_large_to_rewrite_gets_a_window_around_its_shaped_findings() {
        let mut body = String::from("def report(rows, out):\n");
        for i in 0..30 {
            body.push_str(&format!("    a{i} = rows.get({i})\n"));
        }
        body.push_str("    if a3 == None:\n        out.write(\n            \"none\"\n        )\n");
        body.push_str("    if a4 != None:\n        pass\n    try:\n        return 1\n    except:\n        return 2\n");
        let all = Outline {
            symbols: vec![function("report", &body, &body, (1, 41))],
            ..Outline::default()
        };
        // Not editable whole: only its shaped findings, in a window (a block's header with its
        // first line); the bare `except` is not asked for.
        let findings = [
            finding("E711", 32, Some("report")),
            finding("E711", 36, Some("report")),
            finding("E722", 40, Some("report")),
        ];
        let targets = plan_from_findings(&all, &Outline::default(), &body, &findings);
        assert_eq!(targets.len(), 1);
        assert_eq!(
            targets[0].window,
            Some(Window {
                first: 31,
                last: 36
            })
        );
        assert!(targets[0].edit_prompt.contains("a4 != None"));
        assert!(!targets[0].edit_prompt.contains("E722"));
        // A finding far from the first is left for another night; an open bracket extends the
        // window to the statement's end.
        let far = [
            finding("E711", 32, Some("report")),
            finding("E711", 5, Some("report")),
        ];
        let targets = plan_from_findings(&all, &Outline::default(), &body, &far);
        assert_eq!(targets[0].window, Some(Window { first: 4, last: 4 }));
        let open = [finding("E711", 33, Some("report"))];
        let targets = plan_from_findings(&all, &Outline::default(), &body, &open);
        assert_eq!(
            targets[0].window,
            Some(Window {
                first: 32,
                last: 34
            })
        );
        // Only unshaped findings: nothing to plan.
        assert!(plan_from_findings(&all, &Outline::default(), &body, &findings[2..]).is_empty());
    }
}
