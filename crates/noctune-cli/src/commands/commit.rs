//! `noctune commit`: dirty working trees committed in groups with model-written messages
//! (see `noctune_git::autocommit`), once or every `--every` until Ctrl+C.

use std::io::Write;

use anyhow::Context;
use noctune_core::store::CacheLayout;
use noctune_core::{EnvOverrides, config};
use noctune_git::autocommit::{RepoReport, SweepOptions, discover, sweep_repo};
use noctune_studio::audit::{CommitHistoryRow, Db, audit_db_path, record_commit_history};
use owo_colors::OwoColorize;

use crate::args::{CommitArgs, GlobalArgs, OutputFormat};
use crate::compose::message_writer;
use crate::exit::ExitStatus;
use crate::printer::print_json;

/// Sweeps the repositories; exit 1 when a file was left out or something was refused.
pub fn run(global: &GlobalArgs, args: &CommitArgs) -> anyhow::Result<ExitStatus> {
    let settings = config::load(&global.root, &EnvOverrides::from_process())?;
    let options = SweepOptions {
        push: args.push,
        module_depth: settings.patchset_module_depth as usize,
        writer: message_writer(&settings, global.verbose)?,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    if !args.recursive {
        let probe = noctune_git::Git::new(&settings.root);
        let inside = runtime.block_on(probe.run(&["rev-parse", "--show-toplevel"]))?;
        if !inside.success() {
            anyhow::bail!(
                "`{}` is not inside a git repository (`--recursive` sweeps the repositories under it)",
                settings.root.display()
            );
        }
    }
    // The history goes to the audit database; the cache's `.gitignore` keeps it out of commits.
    CacheLayout::for_root(&settings.root).ensure()?;
    let history_path = audit_db_path(&settings.root);
    let history = Db::open(&history_path).with_context(|| {
        format!(
            "cannot open the audit database `{}`",
            history_path.display()
        )
    })?;
    let started = jiff::Timestamp::now();
    runtime.block_on(async {
        let mut incomplete = false;
        let mut cycle = 0u64;
        loop {
            cycle += 1;
            let mut reports = Vec::new();
            for repo in discover(&settings.root, args.recursive) {
                reports.push(sweep_repo(&repo, &options).await);
            }
            incomplete |= reports.iter().any(RepoReport::incomplete);
            print(global, &reports)?;
            record_commit_history(
                &history,
                history_rows(&format!("{started}#{cycle}"), &reports),
            )
            .await
            .with_context(|| format!("cannot record the sweep in `{}`", history_path.display()))?;
            let Some(every) = args.every else { break };
            let commits: usize = reports.iter().map(|r| r.commits.len()).sum();
            let skipped = reports.iter().filter(|r| r.skipped.is_some()).count();
            let errors: usize = reports.iter().map(|r| r.errors.len()).sum();
            eprintln_cycle(&format!(
                "cycle {cycle}: {} repositories, {commits} commit(s), {skipped} skipped, \
                 {errors} error(s); next sweep in {}s (Ctrl+C stops)",
                reports.len(),
                every.as_secs()
            ))?;
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                () = tokio::time::sleep(every) => {}
            }
        }
        anyhow::Ok(if incomplete {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        })
    })
}

/// The audit database's rows for one sweep.
fn history_rows(cycle: &str, reports: &[RepoReport]) -> Vec<CommitHistoryRow> {
    let at = jiff::Timestamp::now().to_string();
    let mut rows = Vec::new();
    for report in reports {
        let mut row = |kind: &str, sha: Option<String>, detail: String| {
            rows.push(CommitHistoryRow {
                at: at.clone(),
                cycle: cycle.to_owned(),
                repo: report.repo.display().to_string(),
                kind: kind.to_owned(),
                sha,
                detail,
            });
        };
        if let Some(why) = &report.skipped {
            row("skipped", None, why.clone());
        }
        if let Some(synced) = &report.synced {
            row("synced", None, synced.clone());
        }
        for commit in &report.commits {
            row("commit", Some(commit.sha.clone()), commit.subject.clone());
        }
        for left in &report.left_out {
            row(
                "left_out",
                None,
                format!("{}: {}", left.file.display(), left.why),
            );
        }
        if let Some(pushed) = &report.pushed {
            row("pushed", None, pushed.clone());
        }
        for error in &report.errors {
            row("error", None, error.clone());
        }
    }
    rows
}

fn eprintln_cycle(line: &str) -> anyhow::Result<()> {
    let mut err = anstream::stderr().lock();
    writeln!(err, "{line}")?;
    Ok(())
}

fn print(global: &GlobalArgs, reports: &[RepoReport]) -> anyhow::Result<()> {
    if global.output_format == OutputFormat::Json {
        return print_json(&serde_json::json!({ "repositories": reports }));
    }
    let mut out = anstream::stdout().lock();
    for report in reports {
        let repo = report.repo.display();
        if let Some(why) = &report.skipped {
            writeln!(out, "{} {repo}: {why}", "skipped".yellow())?;
            continue;
        }
        if let Some(synced) = &report.synced {
            writeln!(out, "{} {repo}: {synced}", "synced".cyan())?;
        }
        for commit in &report.commits {
            writeln!(
                out,
                "{} {repo}: {} {}",
                "committed".green().bold(),
                &commit.sha[..commit.sha.len().min(12)],
                commit.subject
            )?;
        }
        for left in &report.left_out {
            writeln!(
                out,
                "{} {repo}: {} ({})",
                "left out".yellow(),
                left.file.display(),
                left.why
            )?;
        }
        if let Some(pushed) = &report.pushed {
            writeln!(out, "{} {repo}: {pushed}", "pushed".green())?;
        }
        for error in &report.errors {
            writeln!(out, "{} {repo}: {error}", "refused".red().bold())?;
        }
        if report.commits.is_empty()
            && report.left_out.is_empty()
            && report.errors.is_empty()
            && report.synced.is_none()
        {
            writeln!(out, "clean {repo}: nothing to commit")?;
        }
    }
    Ok(())
}
