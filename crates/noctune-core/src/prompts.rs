//! Stage prompts: defaults compiled into the binary, overridden per repository by
//! `.noctune_cache/overrides/<stage>.md`, which is re-read at every use (edit it during a run and
//! the next call uses it).
//!
//! Templates use `{{name}}` placeholders; rendering fails, naming the prompt and the
//! placeholder, when a template asks for a value the stage does not provide.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::stage::Stage;

/// The built-in prompt of a stage.
pub fn default_prompt(stage: Stage) -> &'static str {
    match stage {
        Stage::Review => include_str!("../prompts/review.md"),
        Stage::Draft => include_str!("../prompts/draft.md"),
        Stage::Edit => include_str!("../prompts/edit.md"),
        Stage::Repair => include_str!("../prompts/repair.md"),
        Stage::Approve => include_str!("../prompts/approve.md"),
        Stage::Plan => include_str!("../prompts/plan.md"),
        Stage::Tests => include_str!("../prompts/tests.md"),
        Stage::Implement => include_str!("../prompts/implement.md"),
        Stage::Analyze => include_str!("../prompts/analyze.md"),
        Stage::Format => include_str!("../prompts/format.md"),
    }
}

/// Where a prompt came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptSource {
    /// Compiled into the binary.
    Builtin(Stage),
    /// An override file.
    Override(PathBuf),
}

impl std::fmt::Display for PromptSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PromptSource::Builtin(stage) => write!(f, "built-in {stage} prompt"),
            PromptSource::Override(path) => write!(f, "{}", path.display()),
        }
    }
}

/// A prompt template, ready to render.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    /// The template text.
    pub template: String,
    /// Where it came from.
    pub source: PromptSource,
}

impl Prompt {
    /// Replaces every `{{name}}` with its value. A placeholder without a value is an error
    /// naming both; values the template does not use are fine.
    pub fn render(&self, values: &[(&str, &str)]) -> Result<String> {
        let mut out = String::with_capacity(self.template.len() * 2);
        let mut rest = self.template.as_str();
        while let Some(start) = rest.find("{{") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                return Err(Error::Prompt {
                    source_name: self.source.to_string(),
                    message: "`{{` without a closing `}}`".to_owned(),
                });
            };
            let name = after[..end].trim();
            let value = values
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| *value)
                .ok_or_else(|| {
                    let known: Vec<_> = values.iter().map(|(key, _)| *key).collect();
                    Error::Prompt {
                        source_name: self.source.to_string(),
                        message: format!(
                            "placeholder `{{{{{name}}}}}` has no value; this stage provides: {}",
                            known.join(", ")
                        ),
                    }
                })?;
            out.push_str(value);
            rest = &after[end + 2..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// Loads stage prompts for one repository.
#[derive(Debug, Clone)]
pub struct Prompts {
    overrides_dir: PathBuf,
}

impl Prompts {
    /// Prompts whose overrides live in `overrides_dir` (`.noctune_cache/overrides`).
    pub fn new(overrides_dir: impl Into<PathBuf>) -> Self {
        Self {
            overrides_dir: overrides_dir.into(),
        }
    }

    /// The override file of a stage.
    pub fn override_path(&self, stage: Stage) -> PathBuf {
        override_path(&self.overrides_dir, stage)
    }

    /// The stage's prompt: the override when the file exists, else the built-in one. Reads the
    /// file at each call.
    pub fn load(&self, stage: Stage) -> Result<Prompt> {
        let path = self.override_path(stage);
        match std::fs::read_to_string(&path) {
            Ok(template) => Ok(Prompt {
                template,
                source: PromptSource::Override(path),
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(Prompt {
                template: default_prompt(stage).to_owned(),
                source: PromptSource::Builtin(stage),
            }),
            Err(err) => Err(Error::io("read", path, err)),
        }
    }
}

/// `<overrides_dir>/<stage>.md`.
pub fn override_path(overrides_dir: &Path, stage: Stage) -> PathBuf {
    overrides_dir.join(format!("{stage}.md"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_wins_and_is_reread_at_each_use() {
        let dir = tempfile::tempdir().unwrap();
        let prompts = Prompts::new(dir.path());
        let builtin = prompts.load(Stage::Review).unwrap();
        assert_eq!(builtin.source, PromptSource::Builtin(Stage::Review));
        assert_eq!(builtin.template, default_prompt(Stage::Review));

        std::fs::write(dir.path().join("review.md"), "first {{path}}").unwrap();
        let first = prompts.load(Stage::Review).unwrap();
        assert_eq!(first.render(&[("path", "a.py")]).unwrap(), "first a.py");

        std::fs::write(dir.path().join("review.md"), "second {{path}}").unwrap();
        let second = prompts.load(Stage::Review).unwrap();
        assert_eq!(second.render(&[("path", "a.py")]).unwrap(), "second a.py");
        assert!(matches!(second.source, PromptSource::Override(_)));
    }

    #[test]
    fn missing_placeholder_names_prompt_and_placeholder() {
        let prompt = Prompt {
            template: "x {{ nope }} y".into(),
            source: PromptSource::Override("o/review.md".into()),
        };
        let err = prompt.render(&[("path", "a")]).unwrap_err().to_string();
        assert!(err.contains("o/review.md"), "{err}");
        assert!(err.contains("{{nope}}"), "{err}");
        assert!(err.contains("provides: path"), "{err}");
    }

    #[test]
    fn unclosed_placeholder_is_an_error() {
        let prompt = Prompt {
            template: "x {{ path".into(),
            source: PromptSource::Builtin(Stage::Edit),
        };
        assert!(prompt.render(&[("path", "a")]).is_err());
    }

    #[test]
    fn builtin_prompts_render_with_their_stage_values() {
        let cases: [(Stage, &[&str]); 7] = [
            (
                Stage::Review,
                &["path", "source", "pack_guidance", "guidance", "findings"],
            ),
            (
                Stage::Draft,
                &[
                    "path",
                    "review",
                    "symbols",
                    "evidence",
                    "pack_guidance",
                    "guidance",
                ],
            ),
            (
                Stage::Edit,
                &[
                    "path",
                    "kind",
                    "symbol",
                    "code",
                    "edit_prompt",
                    "evidence",
                    "draft_code",
                    "decorators",
                    "keep",
                ],
            ),
            (Stage::Repair, &["path", "kind", "symbol", "code", "errors"]),
            (
                Stage::Approve,
                &["path", "changes", "signals", "pack_guidance"],
            ),
            (Stage::Analyze, &["repo", "files", "diff"]),
            (Stage::Format, &["files", "analysis"]),
        ];
        for (stage, keys) in cases {
            let values: Vec<(&str, &str)> = keys.iter().map(|k| (*k, "VALUE")).collect();
            let prompt = Prompts::new("/nonexistent").load(stage).unwrap();
            let text = prompt.render(&values).unwrap();
            assert!(!text.contains("{{"), "{stage}: {text}");
        }
    }
}
