//! One task (one file) through its passes: the state machine that ties the stages together,
//! with resume from the artifacts.

use std::path::PathBuf;
use std::time::Instant;

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use super::apply::{ApplyOutcome, Change, apply_change, resolve_in_root};
use super::approve::{Applies, ApprovalRecord, approve};
use super::artifacts;
use super::check::check;
use super::control::{BudgetExceeded, Checkpoint, Control};
use super::draft::draft;
use super::edit::edit;
use super::fix::fix;
use super::permit::ApplyPermit;
use super::review::review;
use super::{PassKind, Pipeline, transcript};
use crate::answer::extract_python_block;
use crate::approval::Approval;
use crate::error::{Error, Result};
use crate::event::EventType;
use crate::ids::{ApprovalId, content_hash};
use crate::label::Label;
use crate::llm::structured::{PYTHON_BLOCK_GBNF, json_schema_format, parse_structured};
use crate::llm::{AnswerFormat, ChatMessage, ChatRequest, LlmError, LlmErrorKind};
use crate::policy::PolicyDecision;
use crate::stage::Stage;
use crate::store::{Run, RunStore};
use crate::task::{TaskStage, TaskState, TaskStatus};

/// The frequency penalty of a question asked again after an answer that repeated itself.
const REPEAT_PENALTY: f32 = 0.5;

/// Tokens the system message and the chat template add to every prompt (an upper bound).
pub const SYSTEM_OVERHEAD: u32 = 96;

const SYSTEM: &str = "You are Noctune, a careful Python engineer. You improve code without \
changing what it does. Answer exactly in the format asked for, with nothing else.";

/// The `kind` of an edit prompt for a window of a definition's lines.
pub const EXCERPT: &str = "excerpt";

/// What the edit prompt says about a symbol's decorators: to keep them, when it has some.
fn decorators(code: &str) -> &'static str {
    let decorated = code
        .lines()
        .map(str::trim_start)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .is_some_and(|l| l.starts_with('@'));
    if decorated {
        " (its decorators included)"
    } else {
        ""
    }
}

/// A code answer: the code when the answer had a usable block, and the raw text always.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeReply {
    /// The code of the one python block.
    pub code: Option<String>,
    /// The raw answer (for `edit_raw_p<N>.txt`).
    pub raw: String,
    /// Why there is no code, when there is none.
    pub problem: Option<String>,
}

/// The context of one task: the pipeline, the run, the task's state and file.
pub struct TaskCtx<'a> {
    /// Shared services and options.
    pub pipeline: &'a Pipeline,
    /// The run (artifacts, events).
    pub run: &'a Run,
    /// The task's state (as of the current pass).
    pub state: TaskState,
    /// The file, repo-relative.
    pub rel: PathBuf,
    /// Stop, pause and counters.
    pub control: &'a Control,
}

impl<'a> TaskCtx<'a> {
    /// The file as shown in prompts (`/` separators).
    pub fn rel_display(&self) -> String {
        self.rel.to_string_lossy().replace('\\', "/")
    }

    /// Reads one of the task's artifacts.
    pub fn read_artifact(&self, name: &str) -> Result<Option<Vec<u8>>> {
        self.run.read_artifact(&self.state.task_id, name)
    }

    /// Writes one of the task's artifacts.
    pub fn write_artifact(&self, name: &str, bytes: &[u8]) -> Result<()> {
        self.run.write_artifact(&self.state.task_id, name, bytes)?;
        Ok(())
    }

    /// Logs an event of this task.
    pub fn event(&self, event_type: EventType, payload: serde_json::Value) -> Result<()> {
        self.run
            .event(event_type, Some(&self.state.task_id), payload)?;
        Ok(())
    }

    /// Logs that a stage was skipped because its artifact exists.
    pub fn stage_reused(&self, stage: Stage, artifact: &str) -> Result<()> {
        self.event(
            EventType::StageReused,
            serde_json::json!({ "stage": stage, "artifact": artifact, "pass": self.state.pass }),
        )
    }

    /// Human guidance for the prompt, or nothing.
    pub fn guidance(&self) -> String {
        self.state
            .guidance
            .as_deref()
            .map(|g| format!("Guidance from the user for this file: {g}"))
            .unwrap_or_default()
    }

    /// The pack's guidance for a stage, or nothing.
    pub fn pack_guidance(&self, stage: Stage) -> String {
        self.pipeline.pack.guidance(stage).unwrap_or_default()
    }

    /// The edit prompt for one symbol: its code, what to change, and how it is used elsewhere
    /// (`evidence`); `start_from` is a draft's code when an earlier version wrote one (the
    /// symbol's code otherwise), for prompt overrides that still show `{{draft_code}}`.
    pub fn edit_prompt(
        &self,
        kind: &str,
        symbol: &str,
        code: &str,
        edit_prompt: &str,
        evidence: &str,
        start_from: &str,
    ) -> Result<String> {
        let path = self.rel_display();
        let mut what = edit_prompt.trim().to_owned();
        let guidance = self.guidance();
        if !guidance.is_empty() {
            what.push_str("\n\n");
            what.push_str(&guidance);
        }
        let evidence = if evidence.trim().is_empty() {
            "(none found)"
        } else {
            evidence.trim_end()
        };
        self.pipeline.prompts.load(Stage::Edit)?.render(&[
            ("path", &path),
            ("kind", kind),
            ("symbol", symbol),
            (
                "keep",
                if kind == EXCERPT {
                    "Only these lines, rewritten: no `def` line, nothing before or after them."
                } else {
                    "Keep its name and what it does."
                },
            ),
            ("code", code.trim_end()),
            ("edit_prompt", &what),
            ("evidence", evidence),
            ("draft_code", start_from.trim_end()),
            // Named only when there are some: a small model reads it as "add one".
            ("decorators", decorators(code)),
        ])
    }

    fn request(&self, stage: Stage, prompt: String, max_tokens: u32) -> ChatRequest {
        ChatRequest {
            messages: vec![ChatMessage::system(SYSTEM), ChatMessage::user(prompt)],
            max_tokens: Some(max_tokens),
            temperature: Some(self.pipeline.options.temperature),
            purpose: Some(format!("{stage}:{}", self.rel_display())),
            ..ChatRequest::default()
        }
    }

    async fn call(&self, stage: Stage, request: ChatRequest) -> Result<crate::ChatResponse> {
        let started = Instant::now();
        // A stop abandons the call: the run resumes from the last artifact.
        let result = tokio::select! {
            result = self.pipeline.llm_for(stage).chat(&request) => result,
            () = self.control.wait_stop() => return Err(stopped()),
        };
        transcript::record(
            self.run,
            &self.state.task_id,
            stage.as_str(),
            self.state.pass,
            &request,
            result.as_ref(),
        )?;
        let usage = result
            .as_ref()
            .ok()
            .and_then(|r| r.usage)
            .unwrap_or_default();
        let elapsed_ms = started.elapsed().as_millis() as u64;
        self.control.record_call(
            &self.rel,
            usage.prompt_tokens,
            usage.completion_tokens,
            elapsed_ms,
        );
        let mut payload = serde_json::json!({
            "stage": stage,
            "pass": self.state.pass,
            "elapsed_ms": elapsed_ms,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "ok": result.is_ok(),
        });
        if let Some(endpoint) = result.as_ref().ok().and_then(|r| r.endpoint.as_deref()) {
            payload["endpoint"] = endpoint.into();
        }
        self.event(EventType::LlmCall, payload)?;
        // An endpoint that went down or came back during the call is logged now.
        super::endpoints::log_endpoint_events(self.run, self.pipeline)?;
        Ok(result?)
    }

    /// Asks for a structured answer (JSON Schema from `T`), recording the exchange.
    pub async fn ask_structured<T>(&self, stage: Stage, prompt: String) -> Result<T>
    where
        T: JsonSchema + DeserializeOwned,
    {
        let request = self
            .request(stage, prompt, self.pipeline.options.max_tokens_structured)
            .with_answer(json_schema_format::<T>());
        let response = self.call(stage, request).await?;
        Ok(parse_structured(&response)?)
    }

    /// Like [`TaskCtx::ask_structured`] with a hand-made schema (for example one that limits a
    /// field to the file's symbol names, which llama.cpp turns into a grammar).
    pub async fn ask_structured_with<T>(
        &self,
        stage: Stage,
        prompt: String,
        name: &str,
        schema: serde_json::Value,
    ) -> Result<T>
    where
        T: DeserializeOwned,
    {
        self.ask_json(stage, prompt, name, schema, false).await
    }

    /// [`TaskCtx::ask_structured_with`] again after an answer that repeated itself: temperature
    /// 0 and a frequency penalty.
    pub async fn ask_structured_calmer<T>(
        &self,
        stage: Stage,
        prompt: String,
        name: &str,
        schema: serde_json::Value,
    ) -> Result<T>
    where
        T: DeserializeOwned,
    {
        self.ask_json(stage, prompt, name, schema, true).await
    }

    async fn ask_json<T>(
        &self,
        stage: Stage,
        prompt: String,
        name: &str,
        schema: serde_json::Value,
        calmer: bool,
    ) -> Result<T>
    where
        T: DeserializeOwned,
    {
        let mut request = self
            .request(stage, prompt, self.pipeline.options.max_tokens_structured)
            .with_answer(AnswerFormat::JsonSchema {
                name: name.to_owned(),
                schema,
            });
        if calmer {
            request.temperature = Some(0.0);
            request.frequency_penalty = Some(REPEAT_PENALTY);
        }
        let response = self.call(stage, request).await?;
        Ok(parse_structured(&response)?)
    }

    /// Asks for code as one fenced python block (grammar-forced where the server accepts it),
    /// recording the exchange. An answer without a usable block is a [`CodeReply`] without
    /// code, not an error.
    pub async fn ask_code(&self, stage: Stage, prompt: String) -> Result<CodeReply> {
        self.ask_code_within(stage, prompt, self.pipeline.options.max_tokens_code)
            .await
    }

    /// [`TaskCtx::ask_code`] with an answer of at most `max_tokens`.
    pub async fn ask_code_within(
        &self,
        stage: Stage,
        prompt: String,
        max_tokens: u32,
    ) -> Result<CodeReply> {
        let request = self
            .request(stage, prompt, max_tokens)
            .with_answer(AnswerFormat::Grammar {
                gbnf: PYTHON_BLOCK_GBNF.to_owned(),
            });
        let response = self.call(stage, request).await?;
        Ok(match extract_python_block(&response.content) {
            Ok(code) => CodeReply {
                code: Some(code),
                raw: response.content,
                problem: None,
            },
            Err(err) => CodeReply {
                code: None,
                problem: Some(if response.is_truncated() {
                    format!("{err} (cut by max_tokens)")
                } else {
                    err.to_string()
                }),
                raw: response.content,
            },
        })
    }

    /// Writes the task's state with a new status and stage.
    pub(crate) fn save_state(&mut self, status: TaskStatus, stage: TaskStage) -> Result<()> {
        self.state.status = status;
        self.state.stage = stage;
        self.state.updated_at = Timestamp::now();
        self.run.write_task(&self.state)?;
        if status == TaskStatus::Running {
            self.control
                .stage_entered(&self.rel, self.state.pass, stage);
        }
        Ok(())
    }
}

/// How a pass ended.
#[derive(Debug, Clone, PartialEq)]
pub enum PassOutcome {
    /// The review labelled the file `W`: nothing left to do.
    WellDone,
    /// The pass changed nothing (no usable edit).
    NoChange {
        /// Why.
        why: String,
    },
    /// The change replaced the real file.
    Applied,
    /// The change is kept as a proposal that cannot be applied (`proposed_full_file.py`).
    Proposed {
        /// Why it was not applied.
        why: String,
    },
    /// A human must decide; the file waits (a resume applies an approved change).
    WaitingApproval(ApprovalId),
    /// The change is queued for a human in a run that does not apply (`allow_apply = false`);
    /// `noctune apply` applies it once approved.
    Queued(ApprovalId),
    /// The approver, the pack or a human refused the change.
    Rejected {
        /// By whom and why.
        why: String,
    },
    /// The real file changed since the run read it.
    Conflict,
    /// The human skipped the file at a pause.
    Skipped,
    /// The file's budget ran out; a resume takes it up again.
    SetAside {
        /// Which budget.
        why: String,
    },
    /// `review` only: the review is written, nothing else was asked.
    Reviewed,
}

/// Runs (or resumes) the current pass of a task. Returns the outcome and the updated state,
/// which is also saved under `state/tasks/`.
pub async fn run_pass(
    pipeline: &Pipeline,
    run: &Run,
    store: &RunStore,
    state: TaskState,
    control: &Control,
) -> Result<(PassOutcome, TaskState)> {
    let rel = state.file.clone();
    let mut ctx = TaskCtx {
        pipeline,
        run,
        state,
        rel,
        control,
    };
    let outcome = pass(&mut ctx, store, control).await?;
    Ok((outcome, ctx.state))
}

fn stopped() -> Error {
    Error::Refused("stop requested".to_owned())
}

/// A safe point: honours budgets, a stop or a pause (guidance is kept for the next prompts).
fn checkpoint(ctx: &mut TaskCtx<'_>, control: &Control) -> Result<Option<PassOutcome>> {
    match control.budget_exceeded(&ctx.pipeline.options.budgets, &ctx.rel) {
        Some(BudgetExceeded::Run(why)) => {
            ctx.event(
                EventType::BudgetExceeded,
                serde_json::json!({ "budget": why }),
            )?;
            control.stop_because(why);
            return Err(stopped());
        }
        Some(BudgetExceeded::File(why)) => {
            ctx.event(
                EventType::BudgetExceeded,
                serde_json::json!({ "budget": why }),
            )?;
            // Not final: the next resume takes the file up again where it stopped.
            ctx.save_state(TaskStatus::Pending, ctx.state.stage)?;
            return Ok(Some(PassOutcome::SetAside { why }));
        }
        None => {}
    }
    match control.checkpoint(&ctx.rel) {
        Checkpoint::Continue(None) => Ok(None),
        Checkpoint::Continue(Some(guidance)) => {
            ctx.state.guidance = Some(guidance.clone());
            ctx.run.write_task(&ctx.state)?;
            ctx.event(
                EventType::GuidanceAdded,
                serde_json::json!({ "guidance": guidance }),
            )?;
            Ok(None)
        }
        Checkpoint::Skip => {
            ctx.save_state(TaskStatus::Skipped, TaskStage::Done)?;
            Ok(Some(PassOutcome::Skipped))
        }
        Checkpoint::Stop => Err(stopped()),
    }
}

async fn pass(ctx: &mut TaskCtx<'_>, store: &RunStore, control: &Control) -> Result<PassOutcome> {
    if let Some(outcome) = checkpoint(ctx, control)? {
        return Ok(outcome);
    }
    let root = ctx.pipeline.root.clone();
    let path = resolve_in_root(&root, &ctx.rel)?;
    let bytes = std::fs::read(&path).map_err(|err| Error::io("read", &path, err))?;
    let current_hash = content_hash(&bytes);
    let source = match &ctx.state.read_hash {
        None => {
            ctx.state.read_hash = Some(current_hash.clone());
            String::from_utf8(bytes)
                .map_err(|_| Error::Refused(format!("`{}` is not UTF-8", ctx.rel.display())))?
        }
        Some(read) if *read == current_hash => String::from_utf8_lossy(&bytes).into_owned(),
        Some(_) => {
            // The file changed since this pass read it: applied by us before a crash, or
            // edited by someone.
            if let Some(gated) = ctx.read_artifact(&artifacts::gates(ctx.state.pass))?
                && let Ok(outcome) = serde_json::from_slice::<super::CheckOutcome>(&gated)
                && content_hash(outcome.text.as_bytes()) == current_hash
            {
                // Killed after the replace, before the state said so.
                ctx.event(
                    EventType::Applied,
                    serde_json::json!({
                        "pass": ctx.state.pass,
                        "recovered": true,
                        "hash": current_hash,
                    }),
                )?;
                ctx.save_state(TaskStatus::Running, TaskStage::Done)?;
                return Ok(PassOutcome::Applied);
            }
            ctx.save_state(TaskStatus::Conflict, ctx.state.stage)?;
            ctx.event(
                EventType::Conflict,
                serde_json::json!({"pass": ctx.state.pass}),
            )?;
            return Ok(PassOutcome::Conflict);
        }
    };
    ctx.save_state(TaskStatus::Running, ctx.state.stage)?;
    ctx.event(
        EventType::TaskStarted,
        serde_json::json!({ "file": ctx.rel_display(), "pass": ctx.state.pass }),
    )?;

    if ctx.pipeline.options.pass_kind == PassKind::RepairOnly {
        return repair_pass(ctx, store, control, &source).await;
    }

    // Deterministic first: the tools' fixes are the base the model works on.
    let fixed = fix(ctx, &source).await?;
    let base = fixed.text.as_str();

    // Review.
    let started = Instant::now();
    let review = review(ctx, base, &fixed.findings).await?;
    ctx.state.label = Some(review.label);
    finished(ctx, Stage::Review, started)?;
    if ctx.pipeline.options.pass_kind == PassKind::ReviewOnly {
        ctx.save_state(TaskStatus::Done, TaskStage::Done)?;
        return Ok(PassOutcome::Reviewed);
    }
    let work = if review.label == Label::W {
        None
    } else {
        if let Some(outcome) = checkpoint(ctx, control)? {
            return Ok(outcome);
        }
        Some(model_edits(ctx, control, base, &review, &fixed.findings).await?)
    };
    let mut targets_ops = Vec::new();
    let work = match work {
        Some(ModelEdits::Work(edited)) => {
            targets_ops = edited.ops;
            edited.work
        }
        Some(ModelEdits::Stop(outcome)) => return Ok(outcome),
        // The model changed nothing: the tools' fixes are the pass's change, if any.
        Some(ModelEdits::Nothing(why)) if base == source => {
            ctx.save_state(TaskStatus::Done, TaskStage::Done)?;
            return Ok(PassOutcome::NoChange { why });
        }
        None if base == source => {
            ctx.save_state(TaskStatus::Done, TaskStage::Done)?;
            return Ok(PassOutcome::WellDone);
        }
        Some(ModelEdits::Nothing(_)) | None => base.to_owned(),
    };
    if let Some(outcome) = checkpoint(ctx, control)? {
        return Ok(outcome);
    }

    // Gates and repair.
    ctx.save_state(TaskStatus::Running, TaskStage::Gates)?;
    let started = Instant::now();
    let mut checked = check(ctx, Some(&source), &work).await?;
    finished(ctx, Stage::Repair, started)?;
    if !checked.passed && targets_ops.iter().filter(|t| !t.ops.is_empty()).count() > 1 {
        // One target's edit failing the gates does not sink the others.
        if let Some(salvaged) = salvage(ctx, &source, base, &targets_ops).await? {
            checked = salvaged;
        }
    }
    if !checked.passed && base != source && work != base {
        // The model's edits fail the gates; the tools' fixes alone may still go.
        let alone = ctx
            .pipeline
            .checker
            .check(&ctx.rel, Some(&source), base)
            .await?;
        if alone.passed && alone.text == base {
            ctx.event(
                EventType::StageFinished,
                serde_json::json!({
                    "stage": Stage::Repair,
                    "pass": ctx.state.pass,
                    "note": "the model's edits fail the gates (see gates_p<N>.json): the tools' fixes go alone",
                }),
            )?;
            checked = alone;
        }
    }
    if !checked.passed {
        return proposed(ctx, "the gates still fail after repair".to_owned());
    }
    if checked.text == source {
        ctx.save_state(TaskStatus::Done, TaskStage::Done)?;
        return Ok(PassOutcome::NoChange {
            why: "the repaired text equals the original".to_owned(),
        });
    }
    // Blank lines and whitespace at the file's edges are not worth anybody's approval.
    if super::is_edge_whitespace_only(&source, &checked.text) {
        ctx.save_state(TaskStatus::Done, TaskStage::Done)?;
        return Ok(PassOutcome::NoChange {
            why: "the change was only blank lines or whitespace at the file's edges: dropped"
                .to_owned(),
        });
    }
    if let Some(outcome) = checkpoint(ctx, control)? {
        return Ok(outcome);
    }

    // Approve.
    ctx.save_state(TaskStatus::Running, TaskStage::Approve)?;
    let started = Instant::now();
    let record = approve(ctx, &source, base, &checked.text, &targets_ops).await?;
    finished(ctx, Stage::Approve, started)?;
    let text = match record.applies {
        Applies::Whole => checked.text.clone(),
        // The tools' fixes and the model's targets proven one by one (gated when kept).
        Applies::ProvenPart => match super::proven_part::kept_text(ctx)? {
            Some(text) => text,
            None => {
                return rejected(ctx, "the proven part's text is missing".to_owned());
            }
        },
        // The model's part was rejected: the tools' proven fixes alone, if they pass the gates.
        Applies::ToolsOnly => {
            let gated = ctx
                .pipeline
                .checker
                .check(&ctx.rel, Some(&source), base)
                .await?;
            if !gated.passed || gated.text != base {
                return rejected(
                    ctx,
                    format!(
                        "rejected by the approver ({}): {}; the tools' fixes alone do not pass the gates",
                        record.verdict.judged_by, record.verdict.reason
                    ),
                );
            }
            base.to_owned()
        }
    };

    // Apply.
    ctx.save_state(TaskStatus::Running, TaskStage::Apply)?;
    apply(ctx, store, &record, &text).await
}

/// The targets' edits added to `base` one at a time, each kept only when the gates pass with
/// it: the checked text when at least one was kept.
async fn salvage(
    ctx: &TaskCtx<'_>,
    source: &str,
    base: &str,
    targets: &[super::edit::TargetOps],
) -> Result<Option<super::CheckOutcome>> {
    let editor = ctx.pipeline.editor.as_ref();
    let mut kept: Option<super::CheckOutcome> = None;
    let mut dropped = Vec::new();
    for target in targets.iter().filter(|t| !t.ops.is_empty()) {
        let current = kept.as_ref().map_or(base, |k| k.text.as_str());
        let outline = editor.outline(current)?;
        let Ok(result) = editor.apply_outlined(current, &outline, &target.ops) else {
            dropped.push(target.symbol.clone());
            continue;
        };
        if result.text == current {
            continue;
        }
        let checked = ctx
            .pipeline
            .checker
            .check(&ctx.rel, Some(source), &result.text)
            .await?;
        if checked.passed {
            kept = Some(checked);
        } else {
            dropped.push(target.symbol.clone());
        }
    }
    if kept.is_some() {
        ctx.event(
            EventType::StageFinished,
            serde_json::json!({
                "stage": Stage::Repair,
                "pass": ctx.state.pass,
                "note": "the edits together fail the gates: kept the targets that pass",
                "dropped": dropped,
            }),
        )?;
    }
    Ok(kept)
}

/// What the model's stages made of the base text.
enum ModelEdits {
    /// The edited work copy, with each target's ops.
    Work(super::edit::EditOutcome),
    /// No usable change, and why.
    Nothing(String),
    /// The pass ends here (a stop, a skip, a budget).
    Stop(PassOutcome),
}

/// Draft and edit on `base`: the model's work copy, or why there is none.
async fn model_edits(
    ctx: &mut TaskCtx<'_>,
    control: &Control,
    base: &str,
    review: &super::review::Review,
    findings: &[super::fixer::Finding],
) -> Result<ModelEdits> {
    // Draft.
    ctx.save_state(TaskStatus::Running, TaskStage::Draft)?;
    let started = Instant::now();
    let draft = draft(ctx, base, review, findings).await?;
    finished(ctx, Stage::Draft, started)?;
    if draft.targets.is_empty() {
        return Ok(ModelEdits::Nothing(if draft.dropped.is_empty() {
            "the plan named no target".to_owned()
        } else {
            format!("no usable target ({})", draft.dropped.join("; "))
        }));
    }
    if let Some(outcome) = checkpoint(ctx, control)? {
        return Ok(ModelEdits::Stop(outcome));
    }

    // Edit.
    ctx.save_state(TaskStatus::Running, TaskStage::Edit)?;
    let started = Instant::now();
    let edited = edit(ctx, base, &draft).await?;
    finished(ctx, Stage::Edit, started)?;
    if !edited.changed(base) {
        let why: Vec<String> = edited
            .ops
            .iter()
            .filter_map(|t| t.error.as_ref().map(|e| format!("`{}`: {e}", t.symbol)))
            .collect();
        return Ok(ModelEdits::Nothing(if why.is_empty() {
            "the edits changed nothing".to_owned()
        } else {
            why.join("; ")
        }));
    }
    Ok(ModelEdits::Work(edited))
}

/// `noctune repair`: the file as it is through the gates and the repair ladder (every finding
/// blocks), then the usual approve and apply.
async fn repair_pass(
    ctx: &mut TaskCtx<'_>,
    store: &RunStore,
    control: &Control,
    source: &str,
) -> Result<PassOutcome> {
    ctx.save_state(TaskStatus::Running, TaskStage::Gates)?;
    let started = Instant::now();
    let checked = check(ctx, None, source).await?;
    finished(ctx, Stage::Repair, started)?;
    if checked.text == source {
        ctx.save_state(TaskStatus::Done, TaskStage::Done)?;
        return Ok(PassOutcome::NoChange {
            why: if checked.passed {
                "the file passes the gates".to_owned()
            } else {
                "the repair ladder found no fix".to_owned()
            },
        });
    }
    if !checked.passed {
        return proposed(ctx, "the gates still fail after repair".to_owned());
    }
    if let Some(outcome) = checkpoint(ctx, control)? {
        return Ok(outcome);
    }
    ctx.save_state(TaskStatus::Running, TaskStage::Approve)?;
    let started = Instant::now();
    let record = approve(ctx, source, source, &checked.text, &[]).await?;
    finished(ctx, Stage::Approve, started)?;
    ctx.save_state(TaskStatus::Running, TaskStage::Apply)?;
    apply(ctx, store, &record, &checked.text).await
}

fn finished(ctx: &TaskCtx<'_>, stage: Stage, started: Instant) -> Result<()> {
    ctx.event(
        EventType::StageFinished,
        serde_json::json!({
            "stage": stage,
            "pass": ctx.state.pass,
            "elapsed_ms": started.elapsed().as_millis() as u64,
        }),
    )
}

fn proposed(ctx: &mut TaskCtx<'_>, why: String) -> Result<PassOutcome> {
    ctx.save_state(TaskStatus::Proposed, TaskStage::Done)?;
    ctx.event(
        EventType::Proposed,
        serde_json::json!({ "pass": ctx.state.pass, "why": why }),
    )?;
    Ok(PassOutcome::Proposed { why })
}

fn rejected(ctx: &mut TaskCtx<'_>, why: String) -> Result<PassOutcome> {
    ctx.save_state(TaskStatus::Rejected, TaskStage::Done)?;
    ctx.event(
        EventType::Rejected,
        serde_json::json!({ "pass": ctx.state.pass, "why": why }),
    )?;
    Ok(PassOutcome::Rejected { why })
}

/// The queued approval for the change `text` of this pass.
fn approval_for(ctx: &TaskCtx<'_>, record: &ApprovalRecord, text: &str, why: &str) -> Approval {
    Approval {
        approval_id: ApprovalId::derive(ctx.run.id(), &ctx.state.task_id, ctx.state.pass, text),
        run_id: ctx.run.id().clone(),
        task_id: ctx.state.task_id.clone(),
        file: ctx.rel.clone(),
        symbols: record
            .change
            .changes
            .iter()
            .map(|c| c.symbol.clone())
            .collect(),
        risk: record.verdict.risk,
        reason: format!("{} — {why}", record.verdict.reason),
        changes: record.change.changes.clone(),
        signals: record.change.signals.clone(),
        created_at: Timestamp::now(),
        content_hash: Some(content_hash(text.as_bytes())),
        pass: Some(ctx.state.pass),
        base_hash: ctx.state.read_hash.clone(),
        auto_approve: match &record.decision {
            PolicyDecision::AutoApprove { why } => Some(why.clone()),
            _ => None,
        },
    }
}

/// The pack's decision on `text` carried out: rejected, queued for a human, or applied to the
/// real file with a permit.
pub(crate) async fn apply(
    ctx: &mut TaskCtx<'_>,
    store: &RunStore,
    record: &ApprovalRecord,
    text: &str,
) -> Result<PassOutcome> {
    let keep = |ctx: &TaskCtx<'_>| ctx.write_artifact(artifacts::PROPOSED, text.as_bytes());
    let allow_apply = ctx.pipeline.options.allow_apply;
    let permit = match &record.decision {
        PolicyDecision::Violation(violation) => {
            keep(ctx)?;
            return rejected(ctx, format!("policy violation: {violation}"));
        }
        PolicyDecision::Rejected { why } => {
            keep(ctx)?;
            let by = if record.verdict.decision == crate::Verdict::Reject {
                format!("the approver ({})", record.verdict.judged_by)
            } else {
                format!("the pack `{}`", ctx.pipeline.pack.name())
            };
            return rejected(ctx, format!("rejected by {by}: {why}"));
        }
        PolicyDecision::AutoApprove { .. } if allow_apply => {
            ApplyPermit::from_policy(&record.decision, text)?
        }
        // A change that needs a human, or any change of a run that does not apply: the queue.
        PolicyDecision::AutoApprove { why } | PolicyDecision::NeedsHuman { why } => {
            let approval = approval_for(ctx, record, text, why);
            ctx.run.queue_approval(&approval)?;
            ctx.state.approval_id = Some(approval.approval_id.clone());
            keep(ctx)?;
            match store.decision(ctx.run.id(), &approval.approval_id)? {
                Some(decision) if decision.decision == crate::DecisionKind::Reject => {
                    return rejected(
                        ctx,
                        format!(
                            "rejected by {}{}",
                            decision.decided_by,
                            decision
                                .reason
                                .map(|r| format!(": {r}"))
                                .unwrap_or_default()
                        ),
                    );
                }
                // The run never touches real files: `noctune apply` does, in the morning.
                _ if !allow_apply => {
                    ctx.save_state(TaskStatus::Queued, TaskStage::Done)?;
                    return Ok(PassOutcome::Queued(approval.approval_id));
                }
                None => {
                    ctx.save_state(TaskStatus::WaitingApproval, TaskStage::Apply)?;
                    return Ok(PassOutcome::WaitingApproval(approval.approval_id));
                }
                Some(_) => ApplyPermit::from_decision(store, &approval, text)?,
            }
        }
    };
    // A human's approval of this very change is consent; an auto-approved change asks once.
    if !permit.is_human()
        && let Some(consent) = &ctx.pipeline.consent
        && !consent(&ctx.rel)
    {
        keep(ctx)?;
        // Not final: a resume with `--yes` (or a yes at the prompt) applies it.
        ctx.save_state(TaskStatus::Pending, TaskStage::Apply)?;
        return Ok(PassOutcome::SetAside {
            why: "not confirmed (no terminal to ask and no --yes): resume with --yes to apply"
                .to_owned(),
        });
    }
    let read_hash = ctx
        .state
        .read_hash
        .clone()
        .ok_or_else(|| Error::Refused("no read hash recorded for this pass".to_owned()))?;
    let outcome = apply_change(
        ctx.run,
        Change {
            task_id: &ctx.state.task_id,
            pass: ctx.state.pass,
            root: &ctx.pipeline.root,
            rel: &ctx.rel,
            read_hash: &read_hash,
            new_text: text,
        },
        permit,
    )?;
    match outcome {
        ApplyOutcome::Applied { backup } => {
            ctx.event(
                EventType::Applied,
                serde_json::json!({
                    "pass": ctx.state.pass,
                    "backup": backup,
                    "hash": content_hash(text.as_bytes()),
                }),
            )?;
            // The next pass (and the other files' evidence) sees the file as it is now.
            if let Err(err) = ctx.pipeline.evidence.file_changed(&ctx.rel) {
                tracing::warn!(file = %ctx.rel.display(), "evidence not refreshed: {err}");
            }
        }
        ApplyOutcome::AlreadyApplied => {
            // Killed after the replace, before the `applied` event.
            ctx.event(
                EventType::Applied,
                serde_json::json!({
                    "pass": ctx.state.pass,
                    "recovered": true,
                    "hash": content_hash(text.as_bytes()),
                }),
            )?;
        }
        ApplyOutcome::Conflict { expected, found } => {
            keep(ctx)?;
            ctx.save_state(TaskStatus::Conflict, TaskStage::Done)?;
            ctx.event(
                EventType::Conflict,
                serde_json::json!({ "expected": expected, "found": found }),
            )?;
            return Ok(PassOutcome::Conflict);
        }
    }
    ctx.save_state(TaskStatus::Running, TaskStage::Done)?;
    Ok(PassOutcome::Applied)
}

/// Starts the next pass of a task: moves the per-pass artifacts (review, draft, impact) into
/// `p<N>/` and resets the pass state.
pub fn next_pass(run: &Run, state: &mut TaskState) -> Result<()> {
    let dir = run.layout().artifacts(&state.task_id);
    let archive = dir.join(format!("p{}", state.pass));
    for name in artifacts::PER_PASS {
        let from = dir.join(name);
        if from.exists() {
            std::fs::create_dir_all(&archive)
                .map_err(|err| Error::io("create directory", &archive, err))?;
            std::fs::rename(&from, archive.join(name))
                .map_err(|err| Error::io("move", &from, err))?;
        }
    }
    state.pass += 1;
    state.stage = TaskStage::Review;
    state.read_hash = None;
    state.approval_id = None;
    state.updated_at = Timestamp::now();
    run.write_task(state)
}

/// Whether a model error should stop the whole run (the server is gone) rather than only fail
/// this task.
pub fn stops_the_run(err: &Error) -> bool {
    match err {
        // The server is gone, or it refuses every request (a wrong key, a wrong URL or model):
        // every other file would fail the same way.
        Error::Llm(LlmError { kind, .. }) => matches!(
            kind,
            LlmErrorKind::Connect
                | LlmErrorKind::Timeout
                | LlmErrorKind::Loading
                | LlmErrorKind::Server { .. }
                | LlmErrorKind::IncompleteStream
                | LlmErrorKind::Rejected {
                    status: 401 | 403 | 404 | 407
                }
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn llm(kind: LlmErrorKind) -> Error {
        Error::Llm(LlmError::new(kind, "x"))
    }

    #[test]
    fn an_unreachable_or_refusing_server_stops_the_run_a_bad_answer_fails_the_task() {
        for kind in [
            LlmErrorKind::Connect,
            LlmErrorKind::Timeout,
            LlmErrorKind::Loading,
            LlmErrorKind::Server { status: 502 },
            LlmErrorKind::IncompleteStream,
            LlmErrorKind::Rejected { status: 401 },
            LlmErrorKind::Rejected { status: 404 },
        ] {
            assert!(stops_the_run(&llm(kind.clone())), "{kind:?}");
        }
        for kind in [
            LlmErrorKind::Unusable,
            LlmErrorKind::Protocol,
            LlmErrorKind::Rejected { status: 400 },
            LlmErrorKind::ContextOverflow {
                needed: 9000,
                window: 8192,
            },
            LlmErrorKind::ReplayMiss,
        ] {
            assert!(!stops_the_run(&llm(kind.clone())), "{kind:?}");
        }
        assert!(!stops_the_run(&Error::Refused("no".into())));
    }
}
