//! Commit messages written by the model in two steps: the `analyze` stage reads the diff and
//! says what it does; the `format` stage turns that into a Conventional Commit subject
//! (at most 72 characters) and a short body. Each stage uses its own model profile when
//! `[stages]` names one.

use std::path::PathBuf;
use std::sync::Arc;

use noctune_core::llm::chat_structured;
use noctune_core::prompts::Prompts;
use noctune_core::{ChatRequest, LlmClient, Stage};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// The longest subject line.
pub const MAX_SUBJECT: usize = 72;

/// Conventional Commit types a subject may start with.
const TYPES: [&str; 10] = [
    "feat", "fix", "refactor", "docs", "test", "chore", "style", "perf", "build", "ci",
];

/// The `format` stage's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommitMessage {
    /// `type(scope): summary`, imperative, at most 72 characters.
    pub subject: String,
    /// One to five short lines: what changed and why.
    #[serde(default)]
    pub body: String,
}

impl CommitMessage {
    /// The message as `git commit -F -` reads it.
    pub fn text(&self) -> String {
        if self.body.trim().is_empty() {
            format!("{}\n", self.subject)
        } else {
            format!("{}\n\n{}\n", self.subject, self.body.trim())
        }
    }
}

/// The two model clients and the prompts.
#[derive(Clone)]
pub struct MessageWriter {
    /// The `analyze` stage's client.
    pub analyze: Arc<dyn LlmClient>,
    /// The `format` stage's client.
    pub format: Arc<dyn LlmClient>,
    /// The prompts (built in, or `.noctune_cache/overrides/{analyze,format}.md`).
    pub prompts: Prompts,
    /// The most characters of diff the `analyze` stage is shown.
    pub max_diff_chars: usize,
    /// The most tokens of each answer.
    pub max_tokens: u32,
}

impl std::fmt::Debug for MessageWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageWriter")
            .field("max_diff_chars", &self.max_diff_chars)
            .finish_non_exhaustive()
    }
}

impl MessageWriter {
    /// Asks the model for the message of `files` in repository `repo` with `diff`.
    pub async fn write(&self, repo: &str, files: &[PathBuf], diff: &str) -> Result<CommitMessage> {
        let list = files
            .iter()
            .map(|f| format!("- {}", f.display()))
            .collect::<Vec<_>>()
            .join("\n");
        let diff = clip(diff, self.max_diff_chars);
        let prompt = self.prompts.load(Stage::Analyze)?.render(&[
            ("repo", repo),
            ("files", &list),
            ("diff", &diff),
        ])?;
        let request = ChatRequest {
            max_tokens: Some(self.max_tokens),
            purpose: Some(Stage::Analyze.as_str().to_owned()),
            ..ChatRequest::user(prompt)
        };
        let analysis = self.analyze.chat(&request).await?.content;
        let prompt = self
            .prompts
            .load(Stage::Format)?
            .render(&[("files", &list), ("analysis", analysis.trim())])?;
        let request = ChatRequest {
            max_tokens: Some(self.max_tokens),
            purpose: Some(Stage::Format.as_str().to_owned()),
            ..ChatRequest::user(prompt)
        };
        let answer: CommitMessage = chat_structured(self.format.as_ref(), request).await?;
        Ok(CommitMessage {
            subject: conventional(&answer.subject),
            body: answer.body.trim().to_owned(),
        })
    }
}

/// The subject as a Conventional Commit subject line: the first line, trimmed, `chore: `
/// in front when it names no known type, no final period, at most 72 characters (cut at a
/// word).
pub fn conventional(subject: &str) -> String {
    let line = subject
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("update files");
    let mut line = line.trim().trim_end_matches('.').to_owned();
    let kind = line
        .split(':')
        .next()
        .unwrap_or_default()
        .split('(')
        .next()
        .unwrap_or_default()
        .trim_end_matches('!');
    if !line.contains(':') || !TYPES.contains(&kind) {
        line = format!("chore: {line}");
    }
    if line.chars().count() > MAX_SUBJECT {
        let cut: String = line.chars().take(MAX_SUBJECT).collect();
        line = match cut.rfind(' ') {
            Some(space) if space > MAX_SUBJECT / 2 => cut[..space].to_owned(),
            _ => cut,
        };
        // No dangling separator where the cut fell (`a.py, b.py,`).
        line = line.trim_end_matches([',', ';', ':', '-', ' ']).to_owned();
    }
    line
}

/// At most `max` characters of `text`, saying how much was left out.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max).collect();
    format!(
        "{kept}\n[... {} more characters of diff not shown]",
        text.chars().count() - max
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn subjects_become_conventional_and_short() {
        assert_eq!(
            conventional("feat(api): add a route."),
            "feat(api): add a route"
        );
        assert_eq!(conventional("Add a route\nmore"), "chore: Add a route");
        assert_eq!(conventional("fix!: drop py2"), "fix!: drop py2");
        let long = format!("refactor: {}", "word ".repeat(30));
        let short = conventional(&long);
        assert!(short.chars().count() <= MAX_SUBJECT, "{short}");
        assert!(short.starts_with("refactor: word"));
        let listed = format!("chore: Refactor {}", "pkg/module_name.py, ".repeat(5));
        let short = conventional(&listed);
        assert!(short.ends_with(".py"), "{short}");
    }
}
