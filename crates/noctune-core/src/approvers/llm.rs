//! [`LlmApprover`]: the model compares BEFORE and AFTER of each changed symbol, with the risk
//! signals shown to it.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::contradiction::contradiction;
use super::excerpt::render_changes_within;
use crate::approver::{ApproveInput, Approver, ApproverVerdict, RiskSignal, SymbolChange, Verdict};
use crate::error::{Error, Result};
use crate::llm::LlmErrorKind;

/// The model's verdict, as asked for with a JSON Schema. The fields come in the order a small
/// model should think them through (a grammar generates them in this order): the comparison
/// first, the decision last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApproveAnswer {
    /// What changed and whether it keeps behaviour, in one or two sentences.
    pub reason: String,
    /// Whether AFTER does exactly what BEFORE did, for every input.
    #[serde(default)]
    pub behaviour_kept: Option<bool>,
    /// 0.0 = certainly the same behaviour, 1.0 = certainly different.
    pub risk: f32,
    /// `approve` or `reject`.
    pub decision: ApproveDecision,
}

/// The two answers the model may give (a human, not the model, is the third way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApproveDecision {
    /// Keep the change.
    Approve,
    /// Drop it.
    Reject,
}

/// Asks the approve stage's model. A verdict that contradicts itself (its reason says the
/// behaviour is kept and its decision rejects, or the reverse, or the reason names code that
/// is not in the change) is no verdict: it becomes [`Verdict::Undecided`] with a note, and a
/// human decides. So does an answer the model could not shape, and a run without a model.
#[derive(Debug, Clone, Copy, Default)]
pub struct LlmApprover;

/// The changed symbols as the approve prompt shows them: BEFORE and AFTER, never a diff.
pub fn render_changes(changes: &[SymbolChange]) -> String {
    let mut text = String::new();
    for change in changes {
        text.push_str(&format!("### `{}`\n\nBEFORE:\n```python\n", change.symbol));
        text.push_str(change.before.as_deref().unwrap_or("# (new symbol)\n"));
        text.push_str("```\n\nAFTER:\n```python\n");
        text.push_str(change.after.as_deref().unwrap_or("# (removed)\n"));
        text.push_str("```\n\n");
    }
    text
}

/// The risk signals as the approve prompt lists them.
pub fn render_signals(signals: &[RiskSignal]) -> String {
    if signals.is_empty() {
        return "(none)".to_owned();
    }
    signals
        .iter()
        .map(|s| format!("- {:?} in `{}`: {}", s.kind, s.symbol, s.detail))
        .collect::<Vec<_>>()
        .join("\n")
}

impl LlmApprover {
    fn undecided(&self, reason: String) -> ApproverVerdict {
        ApproverVerdict {
            decision: Verdict::Undecided,
            reason,
            risk: 1.0,
            judged_by: self.name().to_owned(),
        }
    }
}

#[async_trait]
impl Approver for LlmApprover {
    fn name(&self) -> &str {
        "llm"
    }

    async fn judge(&self, input: ApproveInput<'_>) -> Result<ApproverVerdict> {
        let Some(model) = input.model else {
            return Ok(self.undecided("no model to ask (offline run)".to_owned()));
        };
        let signals = render_signals(&input.change.signals);
        // Whole symbols when they fit; otherwise their changed regions (see `excerpt.rs`).
        let budget = model.room(&model.render_prompt(&[("changes", ""), ("signals", &signals)])?);
        let changes = render_changes_within(&input.change.changes, budget);
        let prompt = model.render_prompt(&[("changes", &changes), ("signals", &signals)])?;
        let schema = schemars::schema_for!(ApproveAnswer).to_value();
        let value = match model.ask_json(prompt, "ApproveAnswer", schema).await {
            Ok(value) => value,
            Err(Error::Llm(err)) if err.kind == LlmErrorKind::Unusable => {
                return Ok(
                    self.undecided(format!("the model's answer was unusable: {}", err.message))
                );
            }
            Err(err) => return Err(err),
        };
        let answer: ApproveAnswer = match serde_json::from_value(value) {
            Ok(answer) => answer,
            Err(err) => {
                return Ok(self.undecided(format!(
                    "the model's answer does not have the expected shape: {err}"
                )));
            }
        };
        let risk = if answer.risk.is_nan() {
            1.0
        } else {
            answer.risk.clamp(0.0, 1.0)
        };
        if let Some(why) = contradiction(&answer, input.change) {
            return Ok(ApproverVerdict {
                decision: Verdict::Undecided,
                reason: format!(
                    "the model's verdict is no verdict ({why}); it said: {}",
                    answer.reason
                ),
                risk,
                judged_by: self.name().to_owned(),
            });
        }
        Ok(ApproverVerdict {
            decision: match answer.decision {
                ApproveDecision::Approve => Verdict::Approve,
                ApproveDecision::Reject => Verdict::Reject,
            },
            reason: answer.reason,
            risk,
            judged_by: self.name().to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::sync::Mutex;

    use super::*;
    use crate::approver::{ApproveModel, ChangeSet};
    use crate::llm::estimate_tokens;

    const CONTEXT: u32 = 8192;
    const RESERVE: u32 = 512 + 96;

    /// A model that records the prompt it was asked and approves.
    #[derive(Default)]
    struct Recording(Mutex<Vec<String>>);

    #[async_trait]
    impl ApproveModel for Recording {
        fn render_prompt(&self, values: &[(&str, &str)]) -> Result<String> {
            Ok(values
                .iter()
                .map(|(_, v)| *v)
                .collect::<Vec<_>>()
                .join("\n"))
        }

        fn room(&self, prompt: &str) -> u32 {
            CONTEXT
                .saturating_sub(estimate_tokens(prompt))
                .saturating_sub(RESERVE)
        }

        async fn ask_json(
            &self,
            prompt: String,
            _: &str,
            _: serde_json::Value,
        ) -> Result<serde_json::Value> {
            self.0.lock().unwrap().push(prompt);
            Ok(serde_json::json!({
                "reason": "The limit and one lookup changed.",
                "behaviour_kept": false,
                "risk": 0.8,
                "decision": "reject",
            }))
        }
    }

    #[tokio::test]
    async fn the_prompt_for_a_3000_line_class_fits_the_context() {
        let class = |limit: u32, lookup: &str| {
            let mut text = format!("class Registry:\n    LIMIT = {limit}\n\n");
            for i in 0..760 {
                let body = if i == 0 {
                    lookup.to_owned()
                } else {
                    format!("self.items[{i}]")
                };
                text.push_str(&format!(
                    "    def get_{i}(self):\n        \"\"\"Item {i}.\"\"\"\n        return {body}\n\n"
                ));
            }
            text
        };
        let before = class(10, "self.items[0]");
        let after = class(20, "self.items.get(0)");
        assert!(before.lines().count() >= 3000);
        let change = ChangeSet {
            file: PathBuf::from("registry.py"),
            changes: vec![SymbolChange {
                symbol: "Registry".into(),
                before: Some(before.clone()),
                after: Some(after.clone()),
            }],
            signals: vec![],
            diff_lines: 4,
            pack: None,
        };
        let model = Recording::default();
        let verdict = LlmApprover
            .judge(ApproveInput {
                change: &change,
                before: &before,
                after: &after,
                model: Some(&model),
            })
            .await
            .unwrap();
        assert_eq!(verdict.decision, Verdict::Reject);
        let prompts = model.0.lock().unwrap();
        let prompt = &prompts[0];
        assert!(
            estimate_tokens(prompt) + RESERVE <= CONTEXT,
            "{}",
            estimate_tokens(prompt)
        );
        assert!(prompt.contains("LIMIT = 20") && prompt.contains("self.items.get(0)"));
    }
}
