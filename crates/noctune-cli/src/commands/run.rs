//! `noctune review`, `noctune edit`, `noctune repair` and `noctune run`: drive files through the
//! pipeline.
#![allow(clippy::print_stderr)] // the terminal UX of a long run: progress and prompts on stderr

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::{Arc, Weak};

use anyhow::Context;
use noctune_core::pipeline::{Control, PassKind, PauseAction, Progress, drive};
use noctune_core::run_origin::RunOrigin;
use noctune_core::store::RunStore;
use noctune_core::{EnvOverrides, RunId, RunStatus, config};
use owo_colors::OwoColorize;

use crate::args::{GlobalArgs, IndexArgs, LlmMode, OutputFormat, RunFlags};
use crate::exit::ExitStatus;
use crate::printer::print_json;
use crate::progress::ProgressLine;
use crate::start_run::{RunFor, start_run};
use crate::{compose, pack_scope};

/// Which command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Review only.
    Review,
    /// One pass.
    Edit,
    /// Passes until `W` or `max_passes`.
    Run,
    /// The gates and the repair ladder on files as they are.
    Repair,
}

impl Mode {
    /// The command's name.
    fn name(self) -> &'static str {
        match self {
            Mode::Review => "review",
            Mode::Edit => "edit",
            Mode::Run => "run",
            Mode::Repair => "repair",
        }
    }

    fn pass_kind(self) -> PassKind {
        match self {
            Mode::Review => PassKind::ReviewOnly,
            Mode::Repair => PassKind::RepairOnly,
            Mode::Edit | Mode::Run => PassKind::Full,
        }
    }
}

/// Runs the pipeline over the selected files; prints a summary and the report paths.
pub fn run(global: &GlobalArgs, flags: &RunFlags, mode: Mode) -> anyhow::Result<ExitStatus> {
    if flags.llm == LlmMode::Off {
        // The deterministic scan: the symbol index, no model calls.
        return super::index::run(global, &IndexArgs {});
    }
    let mut settings = config::load(&global.root, &EnvOverrides::from_process())?;
    if mode != Mode::Run {
        settings.max_passes = 1;
    }
    let root = settings.root.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(drive_run(global, flags, mode, &settings, &root))
}

fn pause_prompt(file: &Path) -> PauseAction {
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "\nPaused on {}. Type guidance for this file and Enter, or `s` to skip it, `q` to stop, \
         Enter alone to go on: ",
        file.display()
    );
    let _ = err.flush();
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).is_err() {
        return PauseAction::Stop;
    }
    match line.trim() {
        "" => PauseAction::Continue,
        "s" | "skip" => PauseAction::Skip,
        "q" | "stop" => PauseAction::Stop,
        text => PauseAction::Guidance(text.to_owned()),
    }
}

async fn drive_run(
    global: &GlobalArgs,
    flags: &RunFlags,
    mode: Mode,
    settings: &config::Settings,
    root: &Path,
) -> anyhow::Result<ExitStatus> {
    let store = RunStore::new(root);
    let run_id = match &flags.run_id {
        Some(id) => RunId::new(id.as_str())?,
        None => RunId::generate(),
    };
    // Every exchange with the model, in the format `--llm replay:` reads.
    let transcript = store.cache().run(&run_id).logs().join("llm.jsonl");
    let compose::Composed {
        pipeline,
        calibrations,
    } = compose::pipeline(
        root,
        settings,
        flags,
        global.verbose,
        mode.pass_kind(),
        Some(&transcript),
    )
    .await?;
    let origin = RunOrigin::detect(root, settings).await;
    let mut run = start_run(
        &store,
        run_id,
        origin,
        RunFor {
            command: mode.name(),
            pack: pipeline.pack.name(),
            calibrations: &calibrations,
        },
    )?;
    // The run is `starting` from here, before the file walk and the index.
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    let progress = Arc::new(
        ProgressLine::new(
            interactive && global.output_format == OutputFormat::Text,
            calibrations.first().and_then(|c| {
                c.seconds_for(
                    u64::from(pipeline.options.context_tokens / 2),
                    u64::from(pipeline.options.max_tokens_structured),
                )
            }),
        )
        .with_model(pipeline.llm.clone()),
    );
    let control = Arc::new_cyclic(|this: &Weak<Control>| {
        let control = if interactive {
            Control::with_pause_handler(Arc::new(pause_prompt))
        } else {
            Control::default()
        };
        let (this, progress) = (this.clone(), progress.clone());
        control.with_stage_observer(Arc::new(move |file, pass, stage| {
            let tokens_per_second = this.upgrade().map_or(0.0, |c| c.tokens_per_second());
            progress.stage(file, pass, stage, tokens_per_second);
        }))
    });
    {
        let control = control.clone();
        // The run's status says `stopping` from the moment a stop is asked for.
        let marker = run.stop_marker();
        let mark_stopping = move || {
            if let Err(err) = marker.mark("interrupt") {
                eprintln!("cannot mark the run `stopping`: {err}");
            }
        };
        tokio::spawn(async move {
            let mut presses = 0;
            while tokio::signal::ctrl_c().await.is_ok() {
                presses += 1;
                if presses == 1 {
                    // Without a terminal to ask, a pause is a stop at the next safe point.
                    let (what, again) = if interactive {
                        ("pausing", "stop the run")
                    } else {
                        ("stopping", "stop now")
                    };
                    eprintln!(
                        "\n{} at the next safe point (Ctrl+C again to {again})",
                        what.yellow()
                    );
                    control.request_pause();
                    if !interactive {
                        mark_stopping();
                    }
                } else if presses == 2 {
                    eprintln!(
                        "\n{} now (a model call in flight is abandoned); resume with --run-id; \
                         Ctrl+C again quits at once",
                        "stopping".yellow()
                    );
                    control.request_stop();
                    mark_stopping();
                } else {
                    // Like a kill: every write is atomic, a resume continues from the artifacts.
                    std::process::exit(130);
                }
            }
        });
    }

    // Files outside the pack's allowed_globs never reach the model.
    let scoped = match compose::select_files(root, settings, flags)
        .and_then(|files| pack_scope::scope(pipeline.pack.as_ref(), root, flags, files))
    {
        Ok(scoped) => scoped,
        Err(err) => {
            // Never leave `starting` behind.
            run.set_status(RunStatus::Failed, Some(format!("{err:#}")))?;
            return Err(err);
        }
    };
    let files = scoped.files.clone();
    pack_scope::log(
        &run,
        pipeline.pack.as_ref(),
        &scoped,
        &pack_scope::skipped_tools(pipeline.pack.as_ref(), flags, mode.pass_kind()),
    )?;
    let progress_control = control.clone();
    let on_progress =
        move |p: &Progress| progress.progress(p, progress_control.tokens_per_second());
    // On any error `drive` leaves the run `failed` and says why (resumable).
    let result = drive(&pipeline, &mut run, &store, &files, &control, &on_progress).await;
    let run_id = run.id().clone();
    let status = run.record().status;
    drop(run);
    let (md, html) = noctune_core::report::write(&store, &run_id)?;
    let summary = result?;
    match global.output_format {
        OutputFormat::Json => print_json(&serde_json::json!({
            "run_id": run_id,
            "status": status,
            "summary": summary,
            "report": { "markdown": md, "html": html },
        }))?,
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            writeln!(
                out,
                "{} run {} ({status}): {} files — {} applied, {} queued, {} rejected, {} proposed (gates fail), {} unchanged, {} conflicts, {} failed, {} set aside",
                "done".green().bold(),
                run_id,
                files.len(),
                summary.applied,
                summary.queued,
                summary.rejected,
                summary.proposed,
                summary.unchanged,
                summary.conflicts,
                summary.failed,
                summary.set_aside
            )?;
            writeln!(out, "report: {}", html.display())?;
            writeln!(out, "        {}", md.display())?;
            if summary.queued > 0 {
                let then = if settings.allow_apply {
                    format!("resume with `noctune run --run-id {run_id}` to apply")
                } else {
                    format!("`noctune apply --run-id {run_id}` applies the approved ones")
                };
                writeln!(
                    out,
                    "review the queue with `noctune approvals list --run-id {run_id}`, approve or reject, then {then}"
                )?;
            }
        }
    }
    // 0: every file ended applied or unchanged (or the run was stopped on request);
    // 1: something needs a look (rejected, queued, conflict, failed).
    let needs_look = summary.proposed
        + summary.queued
        + summary.rejected
        + summary.conflicts
        + summary.failed
        + summary.set_aside;
    Ok(match status {
        RunStatus::Stopped => ExitStatus::Success,
        RunStatus::Completed if needs_look == 0 => ExitStatus::Success,
        _ => ExitStatus::Failure,
    })
}
