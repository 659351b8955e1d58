//! `noctune task "REQUEST"`: a request-driven run (see `noctune_core::request`).
#![allow(clippy::print_stderr)] // the plan and its question go to the terminal on stderr

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use anyhow::Context;
use noctune_core::pipeline::{Control, PassKind};
use noctune_core::request::{PlanChoice, TaskOutcome, TaskPlan, TaskRequest, run_request};
use noctune_core::run_origin::RunOrigin;
use noctune_core::store::RunStore;
use noctune_core::{EnvOverrides, RunId, RunStatus, config};
use owo_colors::OwoColorize;

use crate::args::{GlobalArgs, LlmMode, OutputFormat, RunFlags, TaskArgs};
use crate::compose;
use crate::exit::ExitStatus;
use crate::printer::print_json;
use crate::start_run::{RunFor, start_run};

/// The command's name in `run.json`: a resume must be a task too.
const COMMAND: &str = "task";

/// Carries out the request; exit 0 when its change was applied, 1 otherwise.
pub fn run(global: &GlobalArgs, args: &TaskArgs) -> anyhow::Result<ExitStatus> {
    if args.request.trim().is_empty() {
        anyhow::bail!(
            "the request is empty: say what to do, e.g. `noctune task \"add fib(n) with a test\"`"
        );
    }
    let settings = config::load(&global.root, &EnvOverrides::from_process())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(drive(global, args, &settings))
}

async fn drive(
    global: &GlobalArgs,
    args: &TaskArgs,
    settings: &config::Settings,
) -> anyhow::Result<ExitStatus> {
    let root = settings.root.clone();
    let store = RunStore::new(&root);
    let run_id = match &args.run_id {
        Some(id) => RunId::new(id.as_str())?,
        None => RunId::generate(),
    };
    let flags = RunFlags {
        paths: Vec::new(),
        file_list: None,
        run_id: Some(run_id.to_string()),
        max_files: None,
        ruff_fix: noctune_gates::RuffFix::Safe,
        llm: LlmMode::On,
        pack: Some(
            args.pack
                .clone()
                .unwrap_or_else(|| settings.task.pack.clone()),
        ),
        // `--yes` accepts the plan; it applies without asking only where applying is allowed.
        yes: args.yes && settings.allow_apply,
    };
    let transcript = store.cache().run(&run_id).logs().join("llm.jsonl");
    let compose::Composed {
        pipeline,
        calibrations,
    } = compose::pipeline(
        &root,
        settings,
        &flags,
        global.verbose,
        PassKind::Full,
        Some(&transcript),
    )
    .await?;
    let origin = RunOrigin::detect(&root, settings).await;
    let mut run = start_run(
        &store,
        run_id.clone(),
        origin,
        RunFor {
            command: COMMAND,
            pack: pipeline.pack.name(),
            calibrations: &calibrations,
        },
    )?;
    let control = Arc::new(Control::default());
    {
        let control = control.clone();
        let marker = run.stop_marker();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "\n{} at the next safe point; resume with --run-id",
                    "stopping".yellow()
                );
                control.request_stop();
                if let Err(err) = marker.mark("interrupt") {
                    eprintln!("cannot mark the run `stopping`: {err}");
                }
            }
        });
    }
    let request = TaskRequest {
        request: args.request.clone(),
        paths: args.paths.clone(),
        tests_first: args.tests_first,
        max_retries: args.max_retries.unwrap_or(settings.task.max_retries),
        probe: settings.task.probe.clone(),
        probe_timeout: settings.task.probe_timeout,
    };
    let text = global.output_format == OutputFormat::Text;
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let yes = args.yes;
    let review_plan = move |plan: &TaskPlan| -> PlanChoice {
        if text || !yes {
            eprintln!("{}\n{}", "plan".bold(), plan.render());
        }
        if yes {
            return PlanChoice::Accept;
        }
        if !interactive {
            eprintln!("no terminal to ask: accept the plan with --yes");
            return PlanChoice::Decline;
        }
        loop {
            eprint!("Carry out this plan? [y]es, [n]o, [e]dit it: ");
            let _ = std::io::stderr().flush();
            let mut line = String::new();
            if std::io::stdin().read_line(&mut line).is_err() {
                return PlanChoice::Decline;
            }
            match line.trim() {
                "y" | "Y" | "yes" => return PlanChoice::Accept,
                "e" | "edit" => match edit_plan(plan, &editor()) {
                    Ok(edited) => return PlanChoice::Edited(edited),
                    Err(err) => eprintln!("{}: {err:#}", "the plan was not changed".yellow()),
                },
                _ => return PlanChoice::Decline,
            }
        }
    };
    let on_progress = move |what: &str| {
        if text {
            eprintln!("{} {what}", "task".cyan());
        }
    };
    let result = run_request(
        &pipeline,
        &mut run,
        &store,
        &request,
        &control,
        &review_plan,
        &on_progress,
    )
    .await;
    if let Err(err) = &result
        && !run.record().status.is_final()
    {
        run.set_status(RunStatus::Failed, Some(err.to_string()))?;
    }
    let status = run.record().status;
    drop(run);
    let (md, html) = noctune_core::report::write(&store, &run_id)?;
    let report = result?;
    match global.output_format {
        OutputFormat::Json => print_json(&serde_json::json!({
            "run_id": run_id,
            "status": status,
            "task": report,
            "report": { "markdown": md, "html": html },
        }))?,
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            for note in &report.notes {
                writeln!(out, "{} {note}", "note".yellow())?;
            }
            let word = match report.outcome {
                TaskOutcome::Applied { .. } => "done".green().bold().to_string(),
                TaskOutcome::Queued { .. } => "queued".yellow().bold().to_string(),
                TaskOutcome::Stopped => "stopped".yellow().bold().to_string(),
                _ => "not done".red().bold().to_string(),
            };
            writeln!(out, "{word} task {run_id}: {}", report.outcome.describe())?;
            if let TaskOutcome::Queued { .. } = report.outcome {
                writeln!(
                    out,
                    "review it with `noctune approvals list --run-id {run_id}`, then `noctune apply --run-id {run_id}`"
                )?;
            }
            writeln!(out, "report: {}", html.display())?;
        }
    }
    Ok(match report.outcome {
        TaskOutcome::Applied { .. } | TaskOutcome::Stopped => ExitStatus::Success,
        _ => ExitStatus::Failure,
    })
}

/// The user's editor: `$VISUAL`, `$EDITOR`, or `vi`.
fn editor() -> String {
    std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".to_owned())
}

/// Opens the plan as JSON in `editor` (a program and its arguments, no shell: `code --wait`)
/// and reads back what the user saved.
fn edit_plan(plan: &TaskPlan, editor: &str) -> anyhow::Result<TaskPlan> {
    let file = tempfile::Builder::new()
        .prefix("noctune-plan-")
        .suffix(".json")
        .tempfile()
        .context("cannot create a file to edit the plan in")?;
    std::fs::write(file.path(), serde_json::to_vec_pretty(plan)?)
        .context("cannot write the plan to edit")?;
    let mut words = editor.split_whitespace();
    let program = words.next().unwrap_or("vi");
    let status = std::process::Command::new(program)
        .args(words)
        .arg(file.path())
        .status()
        .with_context(|| format!("cannot start the editor `{editor}`"))?;
    anyhow::ensure!(
        status.success(),
        "the editor `{editor}` exited with {status}"
    );
    let text = std::fs::read_to_string(file.path()).context("cannot read the edited plan")?;
    serde_json::from_str(&text)
        .context("the edited plan is not a plan (steps with objective, targets, acceptance, tests)")
}

#[cfg(test)]
mod tests {
    use noctune_core::request::{PlanStep, PlanTarget};

    use super::*;

    fn plan() -> TaskPlan {
        TaskPlan {
            steps: vec![PlanStep {
                objective: "Add fib.".into(),
                targets: vec![PlanTarget {
                    file: "pkg/maths.py".into(),
                    symbol: "fib".into(),
                    new: true,
                }],
                acceptance: vec!["fib(10) is 55".into()],
                tests: vec![],
            }],
            risks: vec![],
        }
    }

    #[test]
    fn an_edited_plan_is_read_back_and_a_broken_one_is_refused() {
        let edited = edit_plan(&plan(), "sed -i s/fib/lucas/g").unwrap();
        assert_eq!(edited.steps[0].targets[0].symbol, "lucas");
        let err = edit_plan(&plan(), "sed -i s/steps/stairs/").unwrap_err();
        assert!(
            format!("{err:#}").contains("the edited plan is not a plan"),
            "{err:#}"
        );
        let err = edit_plan(&plan(), "false").unwrap_err();
        assert!(
            format!("{err:#}").contains("the editor `false` exited"),
            "{err:#}"
        );
    }
}
