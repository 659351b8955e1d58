//! `noctune apply`: a finished run's approved proposals onto the real files, with no model call.

use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use noctune_core::morning::{ApplyOptions, ApplyVerdict, apply_approved};
use noctune_core::store::RunStore;
use noctune_core::{EnvOverrides, RunId, SymbolEditor, config};
use noctune_gates::Gates;
use noctune_index::PythonEditor;
use owo_colors::OwoColorize;

use crate::args::{ApplyArgs, GlobalArgs, OutputFormat};
use crate::exit::ExitStatus;
use crate::printer::print_json;

/// Applies the run's approved queue; exit 1 when a change was refused.
pub fn run(global: &GlobalArgs, args: &ApplyArgs) -> anyhow::Result<ExitStatus> {
    let settings = config::load(&global.root, &EnvOverrides::from_process())?;
    let root = settings.root.clone();
    let store = RunStore::new(&root);
    let run_id = RunId::new(args.run_id.as_str())?;
    store.read(&run_id)?;
    let options = ApplyOptions {
        files: repo_files(&root, &args.files)?,
        dry_run: args.dry_run,
        applied_by: format!(
            "cli:{}",
            std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned())
        ),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let lines = runtime.block_on(async {
        let editor: Arc<dyn SymbolEditor> = Arc::new(PythonEditor::default());
        let gates = Gates::detect(&root, settings.ruff_required, Some(editor))
            .await
            .context("cannot set up the gates")?;
        anyhow::Ok(apply_approved(&store, &run_id, &gates, &options).await?)
    })?;
    let refused = lines.iter().any(|l| l.verdict.is_refusal());
    match global.output_format {
        OutputFormat::Json => print_json(&serde_json::json!({
            "run_id": run_id,
            "dry_run": args.dry_run,
            "changes": lines,
        }))?,
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            if lines.is_empty() {
                writeln!(out, "run {run_id} has no queued change")?;
            }
            for line in &lines {
                let word = line.verdict.word();
                let word = if line.verdict.is_refusal() {
                    word.red().bold().to_string()
                } else if matches!(
                    line.verdict,
                    ApplyVerdict::Applied { .. } | ApplyVerdict::WouldApply
                ) {
                    word.green().bold().to_string()
                } else {
                    word.yellow().to_string()
                };
                write!(out, "{word:<16} {}", line.file.display())?;
                if let Some(id) = &line.approval_id {
                    write!(out, "  {id}")?;
                }
                writeln!(out)?;
                match &line.verdict {
                    ApplyVerdict::Applied { backup } => {
                        writeln!(out, "    backup: {}", backup.display())?;
                    }
                    ApplyVerdict::Waiting => writeln!(
                        out,
                        "    undecided: `noctune approvals approve {}` or `reject` first",
                        line.approval_id.as_deref().unwrap_or("ID")
                    )?,
                    ApplyVerdict::Rejected { by, reason } => writeln!(
                        out,
                        "    by {by}{}",
                        reason
                            .as_ref()
                            .map(|r| format!(": {r}"))
                            .unwrap_or_default()
                    )?,
                    ApplyVerdict::Conflict { .. } => writeln!(
                        out,
                        "    the file changed since the run read it; nothing was written"
                    )?,
                    ApplyVerdict::GatesFail { summary } => {
                        for text in summary.lines() {
                            writeln!(out, "    {text}")?;
                        }
                    }
                    ApplyVerdict::Refused { why } => writeln!(out, "    {why}")?,
                    ApplyVerdict::WouldApply | ApplyVerdict::AlreadyApplied => {}
                }
            }
        }
    }
    Ok(if refused {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// `--file` arguments as repo-relative paths: relative ones are taken as given (from the
/// root), absolute ones must lie under the root.
pub(crate) fn repo_files(root: &Path, files: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let root = std::path::absolute(root).unwrap_or_else(|_| root.to_path_buf());
    files
        .iter()
        .map(|file| {
            let rel = if file.is_absolute() {
                file.strip_prefix(&root)
                    .with_context(|| {
                        format!(
                            "`{}` is outside the repository `{}`",
                            file.display(),
                            root.display()
                        )
                    })?
                    .to_path_buf()
            } else {
                file.clone()
            };
            let clean: PathBuf = rel
                .components()
                .filter(|c| !matches!(c, Component::CurDir))
                .collect();
            if clean
                .components()
                .any(|c| !matches!(c, Component::Normal(_)))
            {
                bail!("`{}` is not a path inside the repository", file.display());
            }
            Ok(clean)
        })
        .collect()
}
