//! `noctune patchset list|show|commit`: a run's applied changes as patchsets, and on request
//! as commits on `noctune/<run_id>` (see `noctune_git::patchset`).

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use noctune_core::morning::applied_changes;
use noctune_core::store::RunStore;
use noctune_core::test_command::TestCommand;
use noctune_core::{EnvOverrides, RunId, Settings, config};
use noctune_gates::PolicyPacks;
use noctune_git::patchset::{
    CommitOptions, Grouping, Patchset, PatchsetOutcome, ToolPlan, commit_patchsets, file_diffs,
    fit, group, per_change,
};
use owo_colors::OwoColorize;

use crate::args::{
    GlobalArgs, GroupArg, MessageArg, OutputFormat, PatchsetArgs, PatchsetCommand,
    PatchsetCommitArgs, PatchsetSelect,
};
use crate::commands::status::pick_run;
use crate::compose::message_writer;
use crate::exit::ExitStatus;
use crate::printer::print_json;

/// Runs `noctune patchset ...`.
pub fn run(global: &GlobalArgs, args: &PatchsetArgs) -> anyhow::Result<ExitStatus> {
    let settings = config::load(&global.root, &EnvOverrides::from_process())?;
    let store = RunStore::new(&settings.root);
    match &args.command {
        PatchsetCommand::List(select) => {
            let (run_id, _, patchsets) = patchsets(&settings, &store, select, false)?;
            list(global, &run_id, &patchsets, false)
        }
        PatchsetCommand::Show(show) => {
            let (run_id, _, mut patchsets) = patchsets(&settings, &store, &show.select, false)?;
            if let Some(id) = &show.patchset {
                patchsets.retain(|p| &p.id == id);
                if patchsets.is_empty() {
                    anyhow::bail!("run `{run_id}` has no patchset `{id}` with this grouping");
                }
            }
            list(global, &run_id, &patchsets, true)
        }
        PatchsetCommand::Commit(args) => commit(global, &settings, &store, args),
    }
}

/// The run's patchsets as `select` asks, fitted to `patchset_max_commits`; one per change when
/// committing with `commit_each_approval`.
fn patchsets(
    settings: &Settings,
    store: &RunStore,
    select: &PatchsetSelect,
    committing: bool,
) -> anyhow::Result<(RunId, String, Vec<Patchset>)> {
    let record = pick_run(store, select.run_id.as_deref())?;
    let run_id = record.run_id.clone();
    let pack = record.pack.clone().unwrap_or_else(|| settings.pack.clone());
    let changes = applied_changes(store, &run_id)?;
    if committing && settings.commit_each_approval {
        return Ok((run_id.clone(), pack, per_change(run_id.as_str(), &changes)));
    }
    let grouping = match select.group {
        GroupArg::File => Grouping::File,
        GroupArg::Module => Grouping::Module,
        GroupArg::Pack => Grouping::Pack,
        GroupArg::Single => Grouping::Single,
    };
    let grouped = group(
        run_id.as_str(),
        &pack,
        &changes,
        grouping,
        settings.patchset_module_depth as usize,
    );
    let fitted = fit(
        run_id.as_str(),
        grouped,
        settings.patchset_max_commits as usize,
    );
    Ok((run_id, pack, fitted))
}

fn list(
    global: &GlobalArgs,
    run_id: &RunId,
    patchsets: &[Patchset],
    with_diffs: bool,
) -> anyhow::Result<ExitStatus> {
    match global.output_format {
        OutputFormat::Json => {
            let items: Vec<serde_json::Value> = patchsets
                .iter()
                .map(|p| {
                    serde_json::json!({
                        "id": p.id,
                        "key": p.key,
                        "grouping": p.grouping,
                        "files": p.files,
                        "changes": p.changes,
                        "diffs": file_diffs(p)
                            .into_iter()
                            .map(|mut d| {
                                if !with_diffs {
                                    d.diff = None;
                                }
                                d
                            })
                            .collect::<Vec<_>>(),
                    })
                })
                .collect();
            print_json(&serde_json::json!({ "run_id": run_id, "patchsets": items }))?;
        }
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            if patchsets.is_empty() {
                writeln!(out, "run {run_id} applied no change")?;
            }
            let total = patchsets.len();
            for (n, patchset) in patchsets.iter().enumerate() {
                writeln!(
                    out,
                    "{} {}  {}  ({} change(s))",
                    format!("[{}/{total}]", n + 1).bold(),
                    patchset.id.cyan(),
                    patchset.key,
                    patchset.changes.len()
                )?;
                for diff in file_diffs(patchset) {
                    writeln!(
                        out,
                        "    {}  {} {}",
                        diff.file.display(),
                        format!("+{}", diff.added).green(),
                        format!("-{}", diff.removed).red()
                    )?;
                    if let Some(why) = &diff.withheld {
                        writeln!(out, "      {}: {why}", "diff withheld".yellow())?;
                    } else if with_diffs && let Some(text) = &diff.diff {
                        for line in text.lines() {
                            writeln!(out, "      {line}")?;
                        }
                    }
                }
            }
        }
    }
    Ok(ExitStatus::Success)
}

fn commit(
    global: &GlobalArgs,
    settings: &Settings,
    store: &RunStore,
    args: &PatchsetCommitArgs,
) -> anyhow::Result<ExitStatus> {
    let (run_id, pack, patchsets) = patchsets(settings, store, &args.select, true)?;
    let writer = match args.message {
        MessageArg::Template => None,
        MessageArg::Llm => Some(message_writer(settings, global.verbose)?),
    };
    if patchsets.is_empty() {
        let mut out = anstream::stdout().lock();
        writeln!(out, "run {run_id} applied no change: nothing to commit")?;
        return Ok(ExitStatus::Success);
    }
    let packs = PolicyPacks::from_settings(settings)?;
    let configured = packs
        .get_configured(&pack)
        .with_context(|| format!("the pack of run `{run_id}`"))?;
    let pack_settings = configured.settings();
    let options = CommitOptions {
        run_id: run_id.clone(),
        pack: pack.clone(),
        patchsets,
        tools: ToolPlan {
            pack,
            tools_allowed: pack_settings.tools_allowed.clone(),
            test_command: TestCommand {
                argv: pack_settings.test_command.clone(),
                timeout: Duration::from_secs(pack_settings.test_timeout_s),
            },
        },
        writer,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = runtime.block_on(commit_patchsets(store, &options))?;
    let incomplete = report.patchsets.iter().any(|line| {
        !line.left_out.is_empty() || matches!(line.outcome, PatchsetOutcome::Blocked { .. })
    });
    match global.output_format {
        OutputFormat::Json => print_json(&serde_json::to_value(&report)?)?,
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            for line in &report.patchsets {
                let head = format!("[{}/{}]", line.number, report.total);
                match &line.outcome {
                    PatchsetOutcome::Committed { sha } => writeln!(
                        out,
                        "{} {head} {}  {}  {}",
                        "committed".green().bold(),
                        line.patchset_id,
                        line.key,
                        &sha[..sha.len().min(12)]
                    )?,
                    PatchsetOutcome::Blocked { why } => writeln!(
                        out,
                        "{} {head} {}  {}\n    {why}",
                        "blocked".red().bold(),
                        line.patchset_id,
                        line.key
                    )?,
                }
                for left in &line.left_out {
                    writeln!(
                        out,
                        "    {} {}: {}",
                        "left out".yellow(),
                        left.file.display(),
                        left.why
                    )?;
                }
            }
            match &report.branch {
                Some(branch) => writeln!(
                    out,
                    "branch {branch} from {} (your working tree, index and branch are unchanged)",
                    &report.head_sha[..report.head_sha.len().min(12)]
                )?,
                None => writeln!(out, "no commit was made; no branch was created")?,
            }
        }
    }
    Ok(if incomplete {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}
