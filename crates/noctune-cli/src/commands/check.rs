//! `noctune check PATHS…`: the gates on files as they are. Deterministic: no LLM, no writes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use futures_util::StreamExt;
use noctune_core::{EnvOverrides, GateInput, GateOutcome, SymbolEditor, config};
use noctune_gates::{GateRun, Gates};
use noctune_index::PythonEditor;
use owo_colors::OwoColorize;

use crate::args::{CheckArgs, GlobalArgs, OutputFormat};
use crate::exit::ExitStatus;
use crate::printer::print_json;

/// One checked file.
struct Checked {
    /// As shown: relative to the root when inside it.
    shown: String,
    run: GateRun,
}

/// Runs the gates on every `.py` file under `args.paths`; exit 1 when one fails.
pub fn run(global: &GlobalArgs, args: &CheckArgs) -> anyhow::Result<ExitStatus> {
    let settings = config::load(&global.root, &EnvOverrides::from_process())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(check(global, args, &settings.root, settings.ruff_required))
}

async fn check(
    global: &GlobalArgs,
    args: &CheckArgs,
    root: &Path,
    ruff_required: bool,
) -> anyhow::Result<ExitStatus> {
    let editor: Arc<dyn SymbolEditor> = Arc::new(PythonEditor::new());
    let gates = Gates::detect(root, ruff_required, Some(editor)).await?;
    if gates.tools().ruff.is_none() {
        tracing::warn!("ruff is not on PATH and ruff_required = false: the lint gate is skipped");
    }
    let paths = if args.paths.is_empty() {
        vec![root.to_path_buf()]
    } else {
        args.paths.clone()
    };
    let files = collect_files(&paths)?;
    let checked: Vec<anyhow::Result<Checked>> = futures_util::stream::iter(files)
        .map(|file| {
            let gates = &gates;
            async move {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read `{}` as UTF-8 text", file.display()))?;
                let absolute = std::path::absolute(&file).unwrap_or_else(|_| file.clone());
                let relative = absolute.strip_prefix(root).unwrap_or(&absolute);
                let run = gates
                    .run(GateInput {
                        path: relative,
                        before: None,
                        after: &text,
                    })
                    .await
                    .with_context(|| format!("cannot check `{}`", file.display()))?;
                Ok(Checked {
                    shown: relative.display().to_string(),
                    run,
                })
            }
        })
        .buffered(4)
        .collect()
        .await;
    let checked = checked.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    let failed = checked.iter().filter(|c| !c.run.passed()).count();
    let diagnostics: usize = checked.iter().map(|c| c.run.blocking().len()).sum();

    match global.output_format {
        OutputFormat::Json => {
            let files: Vec<_> = checked
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "path": c.shown,
                        "passed": c.run.passed(),
                        "reports": c.run.reports,
                    })
                })
                .collect();
            print_json(&serde_json::json!({
                "ruff": gates.tools().ruff.as_ref().map(|r| r.version()),
                "python3": gates.tools().python.as_ref().map(|p| p.banner()),
                "files": files,
                "summary": {
                    "files": checked.len(),
                    "failed": failed,
                    "diagnostics": diagnostics,
                },
            }))?;
        }
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            for file in &checked {
                for report in file.run.reports.iter().filter(|r| !r.passed()) {
                    if report.outcome == GateOutcome::Undecided || report.diagnostics.is_empty() {
                        writeln!(
                            out,
                            "{}: {} {}",
                            file.shown.bold(),
                            report.gate.red().bold(),
                            report.summary
                        )?;
                        continue;
                    }
                    for d in report.diagnostics.iter().filter(|d| d.introduced) {
                        let (line, column) =
                            d.location.map(|l| (l.line, l.column)).unwrap_or((1, 1));
                        writeln!(
                            out,
                            "{}:{line}:{column}: {} {}",
                            file.shown.bold(),
                            d.code.as_deref().unwrap_or(&report.gate).red().bold(),
                            d.message
                        )?;
                    }
                }
            }
            if failed == 0 {
                writeln!(
                    out,
                    "All checks passed! ({} file{})",
                    checked.len(),
                    if checked.len() == 1 { "" } else { "s" }
                )?;
            } else {
                writeln!(
                    out,
                    "Found {diagnostics} error{} in {failed} of {} file{}.",
                    if diagnostics == 1 { "" } else { "s" },
                    checked.len(),
                    if checked.len() == 1 { "" } else { "s" }
                )?;
            }
        }
    }
    Ok(if failed == 0 {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

/// The `.py` files named or found under the given paths, sorted, each once. Directories are
/// walked honouring `.gitignore` and skipping hidden entries; a named file is always checked.
fn collect_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_file() {
            files.push(path.clone());
            continue;
        }
        if !path.is_dir() {
            anyhow::bail!("`{}`: no such file or directory", path.display());
        }
        for entry in ignore::WalkBuilder::new(path).require_git(false).build() {
            let entry = entry.with_context(|| format!("cannot walk `{}`", path.display()))?;
            let is_py = entry.path().extension().is_some_and(|e| e == "py");
            if is_py && entry.file_type().is_some_and(|t| t.is_file()) {
                files.push(entry.into_path());
            }
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}
