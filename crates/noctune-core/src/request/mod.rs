//! `noctune task "REQUEST"`: work from a user's request rather than an overnight pass.
//!
//! plan → tests first → act on a throw-away copy → verify → fix and retry → revert, or approve
//! and apply → lesson cards. A task is a run (command `task`): the same run store, events,
//! approvals, report and resume, so `status`, `report`, `approvals` and Studio show it as they
//! show any run. The request's own work (plan, tests, code, verifiers) is the task `<request>`
//! of the run; each file it changes becomes a task of its own at the approve stage, decided by
//! the pack and applied (or queued for a human) like any change.
//!
//! "LLMs propose, tools decide": the model writes the plan, the tests and the code; the gates,
//! the tests, the suite and the probe decide whether it works. The approvers are not asked:
//! they judge whether a change keeps behaviour, and a request changes behaviour on purpose.

pub mod act;
pub mod lessons;
pub mod plan;
mod repo;
mod step;
mod update;
pub mod verify;
pub mod workspace;

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use lessons::{LessonCard, Lessons};
pub use plan::{PlanStep, PlanTarget, PlanTest, TaskPlan};
pub use verify::VerifierResult;

use crate::error::Result;
use crate::event::EventType;
use crate::ids::TaskId;
use crate::pipeline::Pipeline;
use crate::pipeline::control::Control;
use crate::pipeline::task::TaskCtx;
use crate::run::RunStatus;
use crate::stage::Stage;
use crate::store::{Run, RunStore};
use crate::task::{TaskStage, TaskState, TaskStatus};

/// The name of the request's own task in its run (it is no file).
pub const REQUEST_TASK: &str = "<request>";

/// The request's artifacts.
mod names {
    /// The accepted plan.
    pub const PLAN: &str = "plan.json";
    /// How the request ended.
    pub const RESULT: &str = "task_result.json";
}

/// What the user asked for and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRequest {
    /// The request, in the user's words.
    pub request: String,
    /// Files or directories (repo-relative) the plan should work in; the whole repository when
    /// empty.
    pub paths: Vec<PathBuf>,
    /// Write each step's tests before its code, even when the plan names none.
    pub tests_first: bool,
    /// How often the model may fix its code after a verifier failed, per step.
    pub max_retries: u32,
    /// The runtime probe (`[task] probe`): a command run in the copy after the tests.
    pub probe: Vec<String>,
    /// How long the probe may run.
    pub probe_timeout: Duration,
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum TaskOutcome {
    /// Every changed file was applied.
    Applied {
        /// The files, repo-relative.
        files: Vec<PathBuf>,
        /// The lesson cards kept.
        lessons: Vec<String>,
    },
    /// The change passed its verifiers and waits for a human (`noctune approvals`).
    Queued {
        /// The files, repo-relative.
        files: Vec<PathBuf>,
        /// Why a human must decide.
        why: String,
    },
    /// The pack (or a human) refused the change.
    Rejected {
        /// By whom and why.
        why: String,
    },
    /// A verifier still failed after the last retry: nothing was written to the repository.
    Reverted {
        /// The verifier that failed last (`gates`, `tests`, `suite`, `probe`, or `implement`
        /// when the model gave no usable code).
        verifier: String,
        /// What it said.
        why: String,
        /// Attempts made on the failing step.
        attempts: u32,
    },
    /// The plan names what does not exist, or breaks a rule.
    PlanRefused {
        /// One reason a line.
        problems: Vec<String>,
    },
    /// The user did not accept the plan.
    PlanDeclined,
    /// A stop was asked for; a resume starts again from the accepted plan.
    Stopped,
}

impl TaskOutcome {
    /// The status of the task `<request>` once the request ended this way.
    pub fn task_status(&self) -> TaskStatus {
        match self {
            TaskOutcome::Applied { .. } => TaskStatus::Done,
            TaskOutcome::Queued { .. } => TaskStatus::Queued,
            TaskOutcome::Stopped => TaskStatus::Pending,
            TaskOutcome::Rejected { .. }
            | TaskOutcome::Reverted { .. }
            | TaskOutcome::PlanRefused { .. }
            | TaskOutcome::PlanDeclined => TaskStatus::Rejected,
        }
    }

    /// One line for people.
    pub fn describe(&self) -> String {
        let list = |files: &[PathBuf]| {
            files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self {
            TaskOutcome::Applied { files, .. } => format!("applied: {}", list(files)),
            TaskOutcome::Queued { files, why } => {
                format!("queued for a human ({why}): {}", list(files))
            }
            TaskOutcome::Rejected { why } => format!("rejected: {why}"),
            TaskOutcome::Reverted {
                verifier,
                why,
                attempts,
            } => format!(
                "reverted after {attempts} attempt(s): `{verifier}` failed: {why}; the repository is unchanged"
            ),
            TaskOutcome::PlanRefused { problems } => {
                format!("plan refused: {}", problems.join("; "))
            }
            TaskOutcome::PlanDeclined => "plan declined; nothing was done".to_owned(),
            TaskOutcome::Stopped => "stopped; resume with --run-id".to_owned(),
        }
    }
}

/// One attempt at one step: what each verifier said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// The step, from 1.
    pub step: usize,
    /// The attempt, from 1.
    pub attempt: u32,
    /// The verifiers, in the order they ran (they stop at the first failure).
    pub verifiers: Vec<VerifierResult>,
}

/// `task_result.json`: the plan, every attempt, and the outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskReport {
    /// The request.
    pub request: String,
    /// The plan, when there was one.
    pub plan: Option<TaskPlan>,
    /// Notes for people (tests that passed before the change, answers that were unusable).
    pub notes: Vec<String>,
    /// Every attempt.
    pub attempts: Vec<Attempt>,
    /// How it ended.
    pub outcome: TaskOutcome,
}

/// Reads how a task run's request ended (`task_result.json` of the task `<request>`) without
/// taking the run lock: `None` while it has not ended (or was stopped).
pub fn read_report(store: &RunStore, run_id: &crate::RunId) -> Result<Option<TaskReport>> {
    let task_id = TaskId::for_path(std::path::Path::new(REQUEST_TASK));
    let Some(bytes) = store.artifact(run_id, &task_id, names::RESULT)? else {
        return Ok(None);
    };
    let path = store
        .cache()
        .run(run_id)
        .artifacts(&task_id)
        .join(names::RESULT);
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|err| crate::error::Error::Corrupt {
            path,
            message: err.to_string(),
        })
}

/// What the user made of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanChoice {
    /// Carry it out.
    Accept,
    /// Carry out this plan instead (checked like the model's).
    Edited(TaskPlan),
    /// Do nothing.
    Decline,
}

impl TaskReport {
    /// The request for the morning report: what was asked, how it ended, the plan, every
    /// attempt's verifiers, the notes; one line each.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!("request: {}", self.request.trim()),
            format!("outcome: {}", self.outcome.describe()),
        ];
        if let Some(plan) = &self.plan {
            lines.push("plan:".to_owned());
            lines.extend(plan.render().lines().map(|l| format!("  {l}")));
        }
        for attempt in &self.attempts {
            let verifiers: Vec<String> = attempt
                .verifiers
                .iter()
                .map(|v| format!("{} {}", v.verifier, v.summary))
                .collect();
            lines.push(format!(
                "step {} attempt {}: {}",
                attempt.step,
                attempt.attempt,
                verifiers.join("; ")
            ));
        }
        lines.extend(self.notes.iter().map(|n| format!("note: {n}")));
        lines
    }
}

/// Asked once with the plan before anything is written.
pub type PlanReview<'a> = &'a (dyn Fn(&TaskPlan) -> PlanChoice + Send + Sync);

/// Carries out `request` in `run` and returns how it ended (also `task_result.json` of the
/// task `<request>`). A finished request is not done again: its result is returned. The run
/// ends `completed`, or `stopped` when a stop was asked for.
pub async fn run_request(
    pipeline: &Pipeline,
    run: &mut Run,
    store: &RunStore,
    request: &TaskRequest,
    control: &Control,
    review_plan: PlanReview<'_>,
    on_progress: &(dyn Fn(&str) + Send + Sync),
) -> Result<TaskReport> {
    run.set_status(RunStatus::Running, None)?;
    let task_id = TaskId::for_path(std::path::Path::new(REQUEST_TASK));
    let state = run
        .read_task(&task_id)?
        .unwrap_or_else(|| TaskState::new(PathBuf::from(REQUEST_TASK)));
    let mut ctx = TaskCtx {
        pipeline,
        run: &*run,
        state,
        rel: PathBuf::from(REQUEST_TASK),
        control,
    };
    if let Some(bytes) = ctx.read_artifact(names::RESULT)?
        && let Ok(mut report) = serde_json::from_slice::<TaskReport>(&bytes)
    {
        // Finished: only what a human decided since is left to do.
        if let Some(outcome) = update::settle_decided(&ctx, store, &report).await? {
            ctx.save_state(outcome.task_status(), TaskStage::Done)?;
            report.outcome = outcome;
            ctx.write_artifact(
                names::RESULT,
                &serde_json::to_vec_pretty(&report).unwrap_or_default(),
            )?;
        }
        drop(ctx);
        finish_run(run, &report)?;
        return Ok(report);
    }
    let mut report = TaskReport {
        request: request.request.clone(),
        plan: None,
        notes: Vec::new(),
        attempts: Vec::new(),
        outcome: TaskOutcome::Stopped,
    };
    let outcome = carry_out(
        &mut ctx,
        store,
        request,
        review_plan,
        on_progress,
        &mut report,
    )
    .await;
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(err) if control.stop_requested() => {
            tracing::info!("stopping: {err}");
            TaskOutcome::Stopped
        }
        Err(err) => {
            ctx.save_state(TaskStatus::Failed, TaskStage::Done)?;
            ctx.event(
                EventType::TaskFailed,
                serde_json::json!({ "error": err.to_string() }),
            )?;
            return Err(err);
        }
    };
    report.outcome = outcome;
    let status = report.outcome.task_status();
    if status == TaskStatus::Rejected {
        ctx.state.error = Some(report.outcome.describe());
    }
    ctx.save_state(status, TaskStage::Done)?;
    if report.outcome != TaskOutcome::Stopped {
        ctx.write_artifact(
            names::RESULT,
            &serde_json::to_vec_pretty(&report).unwrap_or_default(),
        )?;
        ctx.event(
            EventType::TaskFinished,
            serde_json::json!({ "status": status, "outcome": report.outcome }),
        )?;
    }
    drop(ctx);
    finish_run(run, &report)?;
    Ok(report)
}

/// The run's final status: `stopped` after a stop, `completed` otherwise.
fn finish_run(run: &mut Run, report: &TaskReport) -> Result<()> {
    if report.outcome == TaskOutcome::Stopped {
        run.set_status(RunStatus::Stopped, Some("stopped on request".to_owned()))?;
        run.settle_running_tasks(TaskStatus::Pending, None)?;
        return Ok(());
    }
    if run.record().status != RunStatus::Completed {
        run.update(|r| r.status = RunStatus::Completed)?;
        run.event(
            EventType::RunCompleted,
            None,
            serde_json::json!({ "task": report.outcome }),
        )?;
    }
    Ok(())
}

/// Plan, then each step on the work copy, then the update.
async fn carry_out(
    ctx: &mut TaskCtx<'_>,
    store: &RunStore,
    request: &TaskRequest,
    review_plan: PlanReview<'_>,
    on_progress: &(dyn Fn(&str) + Send + Sync),
    report: &mut TaskReport,
) -> Result<TaskOutcome> {
    ctx.save_state(TaskStatus::Running, TaskStage::Draft)?;
    on_progress("reading the repository");
    let repo = repo::Repo::read(ctx.pipeline, &request.paths)?;
    on_progress("planning");
    let plan = match ctx.read_artifact(names::PLAN)? {
        Some(bytes) => match serde_json::from_slice::<TaskPlan>(&bytes) {
            Ok(plan) => {
                ctx.stage_reused(Stage::Plan, names::PLAN)?;
                plan
            }
            Err(_) => ask_plan(ctx, request, &repo).await?,
        },
        None => ask_plan(ctx, request, &repo).await?,
    };
    let (plan, notes) = plan.normalised();
    report.notes.extend(notes);
    report.plan = Some(plan.clone());
    let problems = plan.problems(&repo.symbols);
    if !problems.is_empty() {
        ctx.event(
            EventType::Rejected,
            serde_json::json!({ "stage": Stage::Plan, "problems": problems }),
        )?;
        return Ok(TaskOutcome::PlanRefused { problems });
    }
    let plan = match review_plan(&plan) {
        PlanChoice::Accept => plan,
        PlanChoice::Decline => return Ok(TaskOutcome::PlanDeclined),
        PlanChoice::Edited(edited) => {
            let (edited, notes) = edited.normalised();
            report.notes.extend(notes);
            report
                .notes
                .push("the plan was edited by the user".to_owned());
            report.plan = Some(edited.clone());
            let problems = edited.problems(&repo.symbols);
            if !problems.is_empty() {
                return Ok(TaskOutcome::PlanRefused { problems });
            }
            edited
        }
    };
    ctx.write_artifact(
        names::PLAN,
        &serde_json::to_vec_pretty(&plan).unwrap_or_default(),
    )?;

    let workspace = workspace::Workspace::copy_of(&ctx.pipeline.root)?;
    let mut touched = update::Touched::default();
    for (n, plan_step) in plan.steps.iter().enumerate() {
        if ctx.control.stop_requested() {
            return Ok(TaskOutcome::Stopped);
        }
        on_progress(&format!(
            "step {}/{}: {}",
            n + 1,
            plan.steps.len(),
            plan_step.objective
        ));
        let done = step::Step {
            ctx,
            request,
            workspace: &workspace,
            number: n + 1,
            plan: plan_step,
            touched: &mut touched,
            report,
        }
        .carry_out()
        .await?;
        if let Some(outcome) = done {
            return Ok(outcome);
        }
    }
    on_progress("approving");
    update::update(ctx, store, request, &plan, &workspace, &touched, report).await
}

/// Asks the model for a plan.
async fn ask_plan(ctx: &TaskCtx<'_>, request: &TaskRequest, repo: &repo::Repo) -> Result<TaskPlan> {
    let options = &ctx.pipeline.options;
    let budget = options
        .context_tokens
        .saturating_sub(options.max_tokens_structured)
        .saturating_sub(crate::pipeline::task::SYSTEM_OVERHEAD + 400);
    let listing = repo.listing(budget);
    let prompt = ctx.pipeline.prompts.load(Stage::Plan)?.render(&[
        ("request", request.request.trim()),
        ("files", &listing),
        ("guidance", &ctx.pack_guidance(Stage::Plan)),
    ])?;
    ctx.ask_structured_with::<TaskPlan>(Stage::Plan, prompt, "TaskPlan", plan::plan_schema())
        .await
}
