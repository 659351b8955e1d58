//! Review stage: label the file N/P/W with a checklist → `review.md`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::artifacts;
use super::fit::fit_source;
use super::task::{SYSTEM_OVERHEAD, TaskCtx};
use crate::error::Result;
use crate::event::EventType;
use crate::label::Label;
use crate::llm::estimate_tokens;
use crate::stage::Stage;

/// The model's review, as asked for with a JSON Schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReviewAnswer {
    /// `N` needs work, `P` passable, `W` well done.
    pub label: Label,
    /// One or two sentences.
    pub summary: String,
    /// Concrete changes that would take the file to `W`.
    #[serde(default)]
    pub checklist: Vec<String>,
}

/// A review read back from `review.md`.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    /// The label.
    pub label: Label,
    /// The whole `review.md`.
    pub text: String,
}

/// Renders `review.md`: a first line `label: X` that [`parse_review`] reads back.
pub fn render_review(path: &str, answer: &ReviewAnswer) -> String {
    let mut text = format!(
        "label: {}\n\n# Review of `{path}`\n\n{}\n",
        answer.label,
        answer.summary.trim()
    );
    if !answer.checklist.is_empty() {
        text.push_str("\n## Checklist\n\n");
        for item in &answer.checklist {
            text.push_str(&format!("- [ ] {}\n", item.trim()));
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

/// Runs the review stage, or reuses `review.md` when it exists.
pub async fn review(ctx: &TaskCtx<'_>, source: &str) -> Result<Review> {
    if let Some(bytes) = ctx.read_artifact(artifacts::REVIEW)?
        && let Some(review) = parse_review(&String::from_utf8_lossy(&bytes))
    {
        ctx.stage_reused(Stage::Review, artifacts::REVIEW)?;
        return Ok(review);
    }
    let path = ctx.rel_display();
    let guidance = ctx.guidance();
    let pack_guidance = ctx.pack_guidance(Stage::Review);
    let template = ctx.pipeline.prompts.load(Stage::Review)?;
    let values = |source: &'_ str| {
        [
            ("path", path.clone()),
            ("source", source.trim_end().to_owned()),
            ("pack_guidance", pack_guidance.clone()),
            ("guidance", guidance.clone()),
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
    let (shown, cut) = if estimate_tokens(source) <= room {
        (source.to_owned(), false)
    } else {
        fit_source(source, &ctx.pipeline.editor.outline(source)?, room)
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
    let answer: ReviewAnswer = ctx.ask_structured(Stage::Review, prompt).await?;
    let text = render_review(&path, &answer);
    ctx.write_artifact(artifacts::REVIEW, text.as_bytes())?;
    Ok(Review {
        label: answer.label,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn review_md_round_trips_the_label() {
        let answer = ReviewAnswer {
            label: Label::P,
            summary: "Untyped.".into(),
            checklist: vec!["add hints to `area`".into()],
        };
        let text = render_review("geo.py", &answer);
        assert!(text.starts_with("label: P\n"));
        assert!(text.contains("- [ ] add hints to `area`"));
        assert_eq!(parse_review(&text).unwrap().label, Label::P);
        assert_eq!(parse_review("no label here"), None);
    }
}
