//! One step of a plan on the work copy: its tests first, then its code, verified, fixed and
//! tried again up to the retry limit.

use std::path::{Path, PathBuf};

use super::act::{merge_definitions, rewrite_symbol};
use super::lessons::Lessons;
use super::plan::{PlanStep, PlanTarget, is_test_file};
use super::update::Touched;
use super::verify::{self, VerifierResult};
use super::workspace::Workspace;
use super::{Attempt, TaskOutcome, TaskReport, TaskRequest};
use crate::error::Result;
use crate::event::EventType;
use crate::llm::estimate_tokens;
use crate::pipeline::task::{SYSTEM_OVERHEAD, TaskCtx};
use crate::stage::Stage;

/// The most lesson cards shown as examples in one prompt.
const MAX_EXAMPLES: usize = 2;

/// The most `assert` lines of a step's tests shown with the code's prompt.
const MAX_CHECKS: usize = 6;

/// The longest answer asked for one target's code or one file's tests, in tokens: a small
/// model that goes on repeating itself is cut here, and the complete lines before the cut are
/// kept (see [`complete_lines`]).
const MAX_ANSWER_TOKENS: u32 = 512;

/// One step being carried out.
pub(super) struct Step<'s, 'a> {
    /// The request's task (model calls, events, artifacts).
    pub ctx: &'s mut TaskCtx<'a>,
    /// What the user asked.
    pub request: &'s TaskRequest,
    /// The throw-away copy.
    pub workspace: &'s Workspace,
    /// The step's number, from 1.
    pub number: usize,
    /// The step.
    pub plan: &'s PlanStep,
    /// Every file the request changed so far.
    pub touched: &'s mut Touched,
    /// Notes and attempts.
    pub report: &'s mut TaskReport,
}

impl Step<'_, '_> {
    /// Tests, then code until the verifiers pass or the retries run out: `None` when the step
    /// passed, the outcome that ends the request otherwise.
    pub async fn carry_out(mut self) -> Result<Option<TaskOutcome>> {
        let test_files = self.write_tests().await?;
        let attempts = self.request.max_retries + 1;
        let mut failure: Option<VerifierResult> = None;
        for attempt in 1..=attempts {
            if self.ctx.control.stop_requested() {
                return Ok(Some(TaskOutcome::Stopped));
            }
            let verifiers = match self.implement(failure.as_ref()).await? {
                Err(unusable) => vec![unusable],
                Ok(()) => self.verify(&test_files).await?,
            };
            let failed = verifiers.iter().find(|v| v.passed == Some(false)).cloned();
            self.ctx.event(
                EventType::StageFinished,
                serde_json::json!({
                    "stage": "verify",
                    "step": self.number,
                    "attempt": attempt,
                    "passed": failed.is_none(),
                    "verifiers": verifiers,
                }),
            )?;
            self.report.attempts.push(Attempt {
                step: self.number,
                attempt,
                verifiers,
            });
            match failed {
                None => return Ok(None),
                Some(result) => failure = Some(result),
            }
        }
        let last = failure.unwrap_or_else(|| VerifierResult {
            verifier: "implement".to_owned(),
            passed: Some(false),
            summary: "no attempt was made".to_owned(),
            output: String::new(),
        });
        self.ctx.event(
            EventType::Rejected,
            serde_json::json!({
                "stage": "verify",
                "step": self.number,
                "reverted": true,
                "verifier": last.verifier,
                "why": last.summary,
            }),
        )?;
        Ok(Some(TaskOutcome::Reverted {
            verifier: last.verifier,
            why: last.summary,
            attempts,
        }))
    }

    /// Writes the step's tests into the copy; returns the test files. A test that already
    /// passes before the code is written pins nothing, and is noted.
    async fn write_tests(&mut self) -> Result<Vec<String>> {
        let mut wanted: Vec<(String, Vec<String>)> = Vec::new();
        for test in &self.plan.tests {
            match wanted.iter_mut().find(|(file, _)| *file == test.file) {
                Some((_, names)) => names.push(test.name.clone()),
                None => wanted.push((test.file.clone(), vec![test.name.clone()])),
            }
        }
        if wanted.is_empty()
            && self.request.tests_first
            && let Some(target) = self.plan.targets.first()
        {
            let stem = Path::new(&target.file)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("module");
            let name = target.symbol.replace('.', "_").to_lowercase();
            wanted.push((
                format!("tests/test_{stem}.py"),
                vec![format!("test_{name}")],
            ));
        }
        let Some(target) = self.plan.targets.first() else {
            return Ok(Vec::new());
        };
        let mut written = Vec::new();
        for (file, names) in wanted {
            if !is_test_file(&file) {
                continue;
            }
            let rel = PathBuf::from(&file);
            let prompt = self.tests_prompt(target, &file, &names)?;
            let reply = self
                .ctx
                .ask_code_within(Stage::Tests, prompt, self.answer_tokens())
                .await?;
            let Some(code) = reply.code.or_else(|| complete_lines(&reply.raw)) else {
                self.note(format!(
                    "step {}: the tests for `{file}` were unusable ({}); the step is verified without them",
                    self.number,
                    reply.problem.unwrap_or_default()
                ));
                continue;
            };
            let current = self.workspace.read(&rel)?;
            let text = match merge_definitions(
                self.ctx.pipeline.editor.as_ref(),
                current.as_deref(),
                &code,
                &|name: &str| names.iter().any(|n| n == name),
            )? {
                Ok(text) => text,
                Err(why) => {
                    self.note(format!(
                        "step {}: the tests for `{file}` were unusable ({why}); the step is verified without them",
                        self.number
                    ));
                    continue;
                }
            };
            self.touched.note(&self.ctx.pipeline.root, &rel)?;
            let text = self.tidy_new_file(&rel, text).await?;
            self.workspace.write(&rel, &text)?;
            let before = verify::tests(
                self.ctx.pipeline,
                self.workspace,
                &self.test_command(),
                std::slice::from_ref(&file),
            )
            .await;
            if before.passed == Some(true) {
                self.note(format!(
                    "step {}: the tests in `{file}` pass before the change: they pin nothing",
                    self.number
                ));
            }
            self.ctx.event(
                EventType::StageFinished,
                serde_json::json!({
                    "stage": Stage::Tests,
                    "step": self.number,
                    "file": file,
                    "before_the_change": before,
                }),
            )?;
            written.push(file);
        }
        Ok(written)
    }

    /// Writes every target's code into the copy; `Err` with a failed `implement` verifier when
    /// an answer could not be used.
    async fn implement(
        &mut self,
        failure: Option<&VerifierResult>,
    ) -> Result<std::result::Result<(), VerifierResult>> {
        for target in &self.plan.targets {
            let rel = PathBuf::from(&target.file);
            let current = self.workspace.read(&rel)?;
            let existing = current.as_deref().and_then(|text| {
                let outline = self.ctx.pipeline.editor.outline(text).ok()?;
                let symbol = outline.symbol(&target.symbol)?;
                Some(text[symbol.start_byte..symbol.end_byte].to_owned())
            });
            let prompt =
                self.implement_prompt(target, current.as_deref(), existing.as_deref(), failure)?;
            let reply = self
                .ctx
                .ask_code_within(Stage::Implement, prompt, self.answer_tokens())
                .await?;
            let unusable = |why: String| VerifierResult {
                verifier: "implement".to_owned(),
                passed: Some(false),
                summary: format!("`{}`: {why}", target.symbol),
                output: String::new(),
            };
            let Some(code) = reply.code.or_else(|| complete_lines(&reply.raw)) else {
                return Ok(Err(unusable(reply.problem.unwrap_or_default())));
            };
            let editor = self.ctx.pipeline.editor.as_ref();
            let placed = match (&current, &existing) {
                (Some(text), Some(_)) => rewrite_symbol(editor, text, &target.symbol, &code)?,
                _ => merge_definitions(editor, current.as_deref(), &code, &|name: &str| {
                    name == target.symbol
                })?,
            };
            let text = match placed {
                Ok(text) => text,
                Err(why) => return Ok(Err(unusable(why))),
            };
            self.touched.note(&self.ctx.pipeline.root, &rel)?;
            let text = self.tidy_new_file(&rel, text).await?;
            self.workspace.write(&rel, &text)?;
        }
        Ok(Ok(()))
    }

    /// The verifiers, in order, up to the first that fails: the gates, the step's tests, the
    /// whole suite, the probe.
    async fn verify(&self, test_files: &[String]) -> Result<Vec<VerifierResult>> {
        let pipeline = self.ctx.pipeline;
        let failed = |r: &[VerifierResult]| r.last().is_some_and(|v| v.passed == Some(false));
        let command = self.test_command();
        let mut results =
            vec![verify::gates(pipeline, self.workspace, &self.touched.changed()).await?];
        if !failed(&results) && !test_files.is_empty() {
            results.push(verify::tests(pipeline, self.workspace, &command, test_files).await);
        }
        if !failed(&results) {
            results.push(verify::tests(pipeline, self.workspace, &command, &[]).await);
        }
        if !failed(&results) {
            results.push(
                verify::probe(
                    self.workspace,
                    &self.request.probe,
                    self.request.probe_timeout,
                )
                .await,
            );
        }
        Ok(results)
    }

    /// A file the request creates, through the pack's deterministic fixes (an unused import
    /// the model left, the import order): in a new file every finding blocks the gates, and
    /// these are the tools' to fix, not the model's. A file that existed is left to the gates,
    /// which count only what the change introduced.
    async fn tidy_new_file(&self, rel: &Path, text: String) -> Result<String> {
        let created = self.touched.created(rel);
        match &self.ctx.pipeline.fixer {
            Some(fixer) if created => Ok(fixer.fix(rel, &text).await?.text),
            _ => Ok(text),
        }
    }

    fn answer_tokens(&self) -> u32 {
        self.ctx
            .pipeline
            .options
            .max_tokens_code
            .min(MAX_ANSWER_TOKENS)
    }

    fn test_command(&self) -> crate::test_command::TestCommand {
        self.ctx.pipeline.pack.test_command()
    }

    fn note(&mut self, note: String) {
        tracing::info!("{note}");
        self.report.notes.push(note);
    }

    /// Tokens a prompt's optional parts may fill: the context less the answer, the system
    /// message and the template.
    fn room(&self, stage: Stage, max_tokens: u32) -> Result<u32> {
        let options = &self.ctx.pipeline.options;
        let template = estimate_tokens(&self.ctx.pipeline.prompts.load(stage)?.template);
        Ok(options
            .context_tokens
            .saturating_sub(max_tokens)
            .saturating_sub(SYSTEM_OVERHEAD)
            .saturating_sub(template)
            .saturating_sub(estimate_tokens(&self.request.request) + 200))
    }

    fn tests_prompt(&self, target: &PlanTarget, file: &str, names: &[String]) -> Result<String> {
        let room = self.room(Stage::Tests, self.answer_tokens())?;
        let current = match self.current_code(target)? {
            Some(code) => format!(
                "Its current code:\n```python\n{}\n```",
                cut(&code, room / 2).trim_end()
            ),
            None => "It does not exist yet: the tests must fail until it is written.".to_owned(),
        };
        let import = target.symbol.split('.').next().unwrap_or(&target.symbol);
        self.ctx.pipeline.prompts.load(Stage::Tests)?.render(&[
            ("request", self.request.request.trim()),
            ("objective", self.plan.objective.trim()),
            ("acceptance", &bullets(&self.plan.acceptance)),
            ("symbol", import),
            ("path", &target.file),
            ("module", &module_of(&target.file)),
            ("current", &current),
            (
                "names",
                &names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ("test_path", file),
        ])
    }

    fn implement_prompt(
        &self,
        target: &PlanTarget,
        file_text: Option<&str>,
        existing: Option<&str>,
        failure: Option<&VerifierResult>,
    ) -> Result<String> {
        let room = self.room(Stage::Implement, self.answer_tokens())?;
        let kind = kind_of(target, existing);
        let current = match existing {
            Some(code) => format!(
                "Its current code:\n```python\n{}\n```",
                cut(code, room / 4).trim_end()
            ),
            None => {
                let defined = file_text
                    .and_then(|text| self.ctx.pipeline.editor.outline(text).ok())
                    .map(|o| {
                        o.symbols
                            .iter()
                            .filter(|s| s.kind.is_definition() && !s.name.contains('.'))
                            .map(|s| format!("`{}`", s.name))
                            .collect::<Vec<_>>()
                    })
                    .unwrap_or_default();
                if defined.is_empty() {
                    "It is new.".to_owned()
                } else {
                    format!(
                        "It is new; it goes at the end of the file, which defines {}.",
                        defined.join(", ")
                    )
                }
            }
        };
        // The checks the tests make, not the tests themselves: a small model shown a test file
        // writes the tests again instead of the code.
        let short = target.symbol.rsplit('.').next().unwrap_or(&target.symbol);
        let mut checks = Vec::new();
        for file in self.plan.tests.iter().map(|t| &t.file) {
            if let Some(text) = self.workspace.read(Path::new(file))? {
                checks.extend(
                    text.lines()
                        .map(str::trim)
                        .filter(|l| l.starts_with("assert ") && l.contains(short))
                        .map(|l| l.split(", \"").next().unwrap_or(l).to_owned()),
                );
            }
        }
        checks.dedup();
        checks.truncate(MAX_CHECKS);
        let tests = if checks.is_empty() {
            String::new()
        } else {
            format!(
                "It must pass these checks:\n```python\n{}\n```",
                cut(&checks.join("\n"), room / 4).trim_end()
            )
        };
        let cards =
            Lessons::new(crate::store::CacheLayout::for_root(&self.ctx.pipeline.root).dir())
                .closest(&self.request.request, kind, MAX_EXAMPLES)?;
        let examples = if cards.is_empty() {
            String::new()
        } else {
            let shown: Vec<String> = cards.iter().map(|c| c.as_example()).collect();
            format!(
                "Earlier changes of this kind that passed their tests:\n{}",
                cut(&shown.join("\n"), room / 4)
            )
        };
        let failure = match failure {
            Some(result) => format!(
                "Your previous code failed `{}`: {}\n```\n{}\n```\nFix the code so it passes.",
                result.verifier,
                result.summary,
                cut(&result.output, room / 4).trim_end()
            ),
            None => String::new(),
        };
        self.ctx.pipeline.prompts.load(Stage::Implement)?.render(&[
            ("kind", kind),
            ("symbol", &target.symbol),
            ("path", &target.file),
            ("request", self.request.request.trim()),
            ("objective", self.plan.objective.trim()),
            ("acceptance", &bullets(&self.plan.acceptance)),
            ("current", &current),
            ("tests", &tests),
            ("examples", &examples),
            ("failure", &failure),
        ])
    }

    /// The target's code in the copy, when it exists.
    fn current_code(&self, target: &PlanTarget) -> Result<Option<String>> {
        let Some(text) = self.workspace.read(Path::new(&target.file))? else {
            return Ok(None);
        };
        let outline = self.ctx.pipeline.editor.outline(&text)?;
        Ok(outline
            .symbol(&target.symbol)
            .map(|s| text[s.start_byte..s.end_byte].to_owned()))
    }
}

/// The complete lines of a code block cut off by `max_tokens` (a test with its first asserts
/// is still a test): the text after the opening fence up to the last line break, when some
/// remains.
fn complete_lines(raw: &str) -> Option<String> {
    let start = raw.find("```python")? + "```python".len();
    let body = &raw[start..];
    let end = body.rfind('\n')?;
    let kept = body[..end].trim_matches('\n');
    (!kept.trim().is_empty()).then(|| format!("{kept}\n"))
}

/// `function`, `method` or `class`, as prompts and lesson cards say it.
pub(super) fn kind_of(target: &PlanTarget, existing: Option<&str>) -> &'static str {
    let code = existing.unwrap_or_default().trim_start();
    if code.starts_with("class ")
        || (existing.is_none()
            && target
                .symbol
                .rsplit('.')
                .next()
                .is_some_and(|s| s.starts_with(|c: char| c.is_uppercase())))
    {
        "class"
    } else if target.symbol.contains('.') {
        "method"
    } else {
        "function"
    }
}

/// `pkg/sub/mod.py` → `pkg.sub.mod` (`pkg/__init__.py` → `pkg`).
fn module_of(file: &str) -> String {
    let trimmed = file.trim_end_matches(".py").trim_end_matches("/__init__");
    trimmed.replace('/', ".")
}

fn bullets(items: &[String]) -> String {
    if items.is_empty() {
        return "- (none given)".to_owned();
    }
    items
        .iter()
        .map(|i| format!("- {}", i.trim()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `text` cut to about `tokens` tokens, keeping its start; the cut is marked.
fn cut(text: &str, tokens: u32) -> String {
    if estimate_tokens(text) <= tokens {
        return text.to_owned();
    }
    let chars = (tokens as usize * 7) / 2;
    let kept: String = text.chars().take(chars).collect();
    format!("{kept}\n… (cut)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_and_kinds_are_named_as_python_does() {
        assert_eq!(module_of("pkg/sub/mod.py"), "pkg.sub.mod");
        assert_eq!(module_of("pkg/__init__.py"), "pkg");
        let target = |symbol: &str| PlanTarget {
            file: "a.py".into(),
            symbol: symbol.into(),
            new: true,
        };
        assert_eq!(kind_of(&target("fib"), None), "function");
        assert_eq!(kind_of(&target("Retry"), None), "class");
        assert_eq!(
            kind_of(&target("Client.get"), Some("def get(self): ...")),
            "method"
        );
        assert_eq!(
            kind_of(&target("client"), Some("class client: ...")),
            "class"
        );
    }
}
