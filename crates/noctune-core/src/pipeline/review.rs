//! Review stage: label the file N/P/W with a checklist → `review.md`.
//!
//! What the deterministic tools still report on the file is on the checklist before the model
//! is asked (the findings, with rule, line, symbol and message); the model adds at most
//! [`MAX_MODEL_ITEMS`] items of its own, each naming one of the file's symbols (the answer's
//! schema lists them). Duplicates are dropped; an answer that repeats itself is asked again
//! once, at temperature 0 with a frequency penalty. When the draft will plan without the model
//! (from the findings, or a typing pass's unannotated functions), the model is not asked: the
//! review is `P` with the findings as its checklist.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::artifacts;
use super::fit::fit_source;
use super::fixer::Finding;
use super::task::{SYSTEM_OVERHEAD, TaskCtx};
use crate::error::Result;
use crate::event::EventType;
use crate::label::Label;
use crate::llm::estimate_tokens;
use crate::stage::Stage;

/// The most checklist items the model may add to the findings.
pub const MAX_MODEL_ITEMS: usize = 5;

/// The model's review, as asked for with a JSON Schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReviewAnswer {
    /// `N` needs work, `P` passable, `W` well done.
    pub label: Label,
    /// One or two sentences.
    pub summary: String,
    /// Concrete changes that would take the file to `W`.
    #[serde(default)]
    pub checklist: Vec<ChecklistItem>,
}

/// One item of the model's checklist: a change to one symbol (a plain sentence is accepted
/// from servers that do not enforce the schema).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ChecklistItem {
    /// A change to a named symbol.
    Named {
        /// The symbol's qualified name.
        symbol: String,
        /// What to change.
        change: String,
    },
    /// A sentence.
    Text(String),
}

impl ChecklistItem {
    /// The item as one checklist line.
    pub fn line(&self) -> String {
        match self {
            ChecklistItem::Named { symbol, change } => format!("`{symbol}`: {}", change.trim()),
            ChecklistItem::Text(text) => text.trim().to_owned(),
        }
    }
}

/// The answer's schema: the label, a summary, and at most [`MAX_MODEL_ITEMS`] items, each
/// naming one of `symbols` (any name when the file has none).
pub fn review_schema(symbols: &[String]) -> serde_json::Value {
    let symbol = if symbols.is_empty() {
        serde_json::json!({ "type": "string" })
    } else {
        serde_json::json!({ "type": "string", "enum": symbols })
    };
    serde_json::json!({
        "type": "object",
        "properties": {
            "label": { "type": "string", "enum": ["N", "P", "W"] },
            "summary": { "type": "string" },
            "checklist": {
                "type": "array",
                "maxItems": MAX_MODEL_ITEMS,
                "items": {
                    "type": "object",
                    "properties": {
                        "symbol": symbol,
                        "change": { "type": "string" }
                    },
                    "required": ["symbol", "change"]
                }
            }
        },
        "required": ["label", "summary", "checklist"]
    })
}

/// Whether the model's answer repeated itself: items said again and again, or a summary that
/// is one word over and over.
pub fn is_degenerate(answer: &ReviewAnswer) -> bool {
    let lines: Vec<String> = answer
        .checklist
        .iter()
        .map(|i| i.line().to_lowercase())
        .collect();
    let mut unique = lines.clone();
    unique.sort();
    unique.dedup();
    let repeated_items = lines.len() >= 4 && unique.len() * 2 <= lines.len();
    let words: Vec<&str> = answer.summary.split_whitespace().collect();
    let mut distinct = words.clone();
    distinct.sort_unstable();
    distinct.dedup();
    let repeated_words = words.len() >= 20 && distinct.len() * 4 <= words.len();
    repeated_items || repeated_words
}

/// The checklist of `review.md`: the findings first, then the model's items without
/// duplicates, at most [`MAX_MODEL_ITEMS`] of them.
fn checklist(findings: &[Finding], answer: &ReviewAnswer) -> Vec<String> {
    let mut lines: Vec<String> = findings.iter().map(Finding::line_for_prompt).collect();
    let mut seen: Vec<String> = Vec::new();
    for item in &answer.checklist {
        let line = item.line();
        let key = line.to_lowercase();
        if line.is_empty() || seen.contains(&key) {
            continue;
        }
        if seen.len() == MAX_MODEL_ITEMS {
            break;
        }
        seen.push(key);
        lines.push(line);
    }
    lines
}

/// A review read back from `review.md`.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// The label.
    pub label: Label,
    /// The whole `review.md`.
    pub text: String,
}

/// Renders `review.md`: a first line `label: X` that [`parse_review`] reads back, then the
/// summary and the checklist (the tools' findings first).
pub fn render_review(path: &str, answer: &ReviewAnswer, findings: &[Finding]) -> String {
    // The linter disagrees with "well done" while it still reports something.
    let label = if answer.label == Label::W && !findings.is_empty() {
        Label::P
    } else {
        answer.label
    };
    let mut text = format!(
        "label: {label}\n\n# Review of `{path}`\n\n{}\n",
        answer.summary.trim()
    );
    let items = checklist(findings, answer);
    if !items.is_empty() {
        text.push_str("\n## Checklist\n\n");
        for item in items {
            text.push_str(&format!("- [ ] {item}\n"));
        }
    }
    text
}

/// Reads the label back from `review.md`.
pub fn parse_review(text: &str) -> Option<Review> {
    let first = text.lines().next()?.trim();
    let label = match first.strip_prefix("label:")?.trim() {
        "N" => Label::N,
        "P" => Label::P,
        "W" => Label::W,
        _ => return None,
    };
    Some(Review {
        label,
        text: text.to_owned(),
    })
}

/// The review written without a model when the plan needs none: `P`, the findings as the
/// checklist.
fn without_model() -> ReviewAnswer {
    ReviewAnswer {
        label: Label::P,
        summary: "Not reviewed by the model: the plan is made without it (the linter's \
                  findings, or a typing pass's functions without annotations)."
            .to_owned(),
        checklist: Vec::new(),
    }
}

/// Runs the review stage on `source` (the text after the tools' fixes), with the `findings`
/// the tools still report, or reuses `review.md` when it exists.
pub async fn review(ctx: &TaskCtx<'_>, source: &str, findings: &[Finding]) -> Result<Review> {
    if let Some(bytes) = ctx.read_artifact(artifacts::REVIEW)?
        && let Some(review) = parse_review(&String::from_utf8_lossy(&bytes))
    {
        ctx.stage_reused(Stage::Review, artifacts::REVIEW)?;
        return Ok(review);
    }
    let path = ctx.rel_display();
    // `noctune review` asks for the model's review itself.
    if ctx.pipeline.options.pass_kind != super::PassKind::ReviewOnly
        && super::draft::plans_without_model(ctx, source, findings)?
    {
        // The plan follows the findings (or a typing pass's unannotated functions), not a
        // checklist: a model review would cost the most tokens of the pass for nothing.
        let text = render_review(&path, &without_model(), findings);
        ctx.write_artifact(artifacts::REVIEW, text.as_bytes())?;
        return Ok(Review {
            label: Label::P,
            text,
        });
    }
    let guidance = ctx.guidance();
    let pack_guidance = ctx.pack_guidance(Stage::Review);
    let findings_text = if findings.is_empty() {
        String::new()
    } else {
        let mut text = String::from(
            "The linter still reports these; they are on the checklist already, do not repeat \
             them:\n",
        );
        for finding in findings {
            text.push_str(&format!("- {}\n", finding.line_for_prompt()));
        }
        text
    };
    let template = ctx.pipeline.prompts.load(Stage::Review)?;
    let values = |source: &'_ str| {
        [
            ("path", path.clone()),
            ("source", source.trim_end().to_owned()),
            ("pack_guidance", pack_guidance.clone()),
            ("guidance", guidance.clone()),
            ("findings", findings_text.clone()),
        ]
    };
    let render = |source: &str| {
        let values = values(source);
        let borrowed: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        template.render(&borrowed)
    };
    // A file too large for the context is reviewed from its skeleton.
    let options = &ctx.pipeline.options;
    let room = options
        .context_tokens
        .saturating_sub(options.max_tokens_structured)
        .saturating_sub(estimate_tokens(&render("")?))
        .saturating_sub(SYSTEM_OVERHEAD);
    let outline = ctx.pipeline.editor.outline(source)?;
    let (shown, cut) = if estimate_tokens(source) <= room {
        (source.to_owned(), false)
    } else {
        fit_source(source, &outline, room)
    };
    if cut {
        ctx.event(
            EventType::StageStarted,
            serde_json::json!({
                "stage": Stage::Review,
                "note": "the file does not fit the context: the review sees its skeleton",
            }),
        )?;
    }
    let prompt = render(&shown)?;
    let mut symbols: Vec<String> = outline.symbols.iter().map(|s| s.name.clone()).collect();
    symbols.dedup();
    let schema = review_schema(&symbols);
    let mut answer: ReviewAnswer = ctx
        .ask_structured_with(
            Stage::Review,
            prompt.clone(),
            "ReviewAnswer",
            schema.clone(),
        )
        .await?;
    if is_degenerate(&answer) {
        ctx.event(
            EventType::StageStarted,
            serde_json::json!({
                "stage": Stage::Review,
                "note": "the answer repeated itself: asked again at temperature 0 with a frequency penalty",
            }),
        )?;
        answer = ctx
            .ask_structured_calmer(Stage::Review, prompt, "ReviewAnswer", schema)
            .await?;
    }
    let text = render_review(&path, &answer, findings);
    ctx.write_artifact(artifacts::REVIEW, text.as_bytes())?;
    Ok(parse_review(&text).unwrap_or(Review {
        label: answer.label,
        text,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_md_round_trips_the_label() {
        let answer = ReviewAnswer {
            label: Label::P,
            summary: "Untyped.".into(),
            checklist: vec![ChecklistItem::Text("add hints to `area`".into())],
        };
        let text = render_review("geo.py", &answer, &[]);
        assert!(text.starts_with("label: P\n"));
        assert!(text.contains("- [ ] add hints to `area`"));
        assert_eq!(parse_review(&text).unwrap().label, Label::P);
        assert_eq!(parse_review("no label here"), None);
    }

    fn finding() -> Finding {
        Finding {
            rule: "E711".into(),
            line: 6,
            symbol: Some("show".into()),
            message: "Comparison to `None` should be `cond is None`".into(),
        }
    }

    #[test]
    fn findings_come_first_duplicates_go_and_w_with_findings_left_is_p() {
        let named = |symbol: &str, change: &str| ChecklistItem::Named {
            symbol: symbol.into(),
            change: change.into(),
        };
        let answer = ReviewAnswer {
            label: Label::W,
            summary: "Fine.".into(),
            checklist: vec![
                named("show", "Add type hints."),
                named("show", "add type hints."),
                named("area", "Use an f-string."),
            ],
        };
        let text = render_review("a.py", &answer, &[finding()]);
        assert_eq!(
            text,
            "label: P\n\n# Review of `a.py`\n\nFine.\n\n## Checklist\n\n\
             - [ ] E711 line 6 in `show`: Comparison to `None` should be `cond is None`\n\
             - [ ] `show`: Add type hints.\n\
             - [ ] `area`: Use an f-string.\n"
        );
        assert!(render_review("a.py", &answer, &[]).starts_with("label: W\n"));
    }

    #[test]
    fn an_answer_that_repeats_itself_is_degenerate() {
        let same = ChecklistItem::Named {
            symbol: "show".into(),
            change: "Check `show`.".into(),
        };
        let mut answer = ReviewAnswer {
            label: Label::P,
            summary: "Fine.".into(),
            checklist: vec![same.clone(); 6],
        };
        assert!(is_degenerate(&answer));
        answer.checklist.truncate(1);
        assert!(!is_degenerate(&answer));
        answer.summary = "show ".repeat(25);
        assert!(is_degenerate(&answer));
    }

    #[test]
    fn the_schema_names_the_symbols_and_caps_the_items() {
        let schema = review_schema(&["show".into(), "Point.area".into()]);
        let item = &schema["properties"]["checklist"];
        assert_eq!(item["maxItems"], MAX_MODEL_ITEMS);
        assert_eq!(
            item["items"]["properties"]["symbol"]["enum"],
            serde_json::json!(["show", "Point.area"])
        );
    }
}
