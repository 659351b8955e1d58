//! `noctune restore`: files put back from a run's backups, byte-exact.

use std::io::Write;

use noctune_core::RunId;
use noctune_core::morning::{RestoreOptions, RestoreVerdict, restore};
use noctune_core::store::RunStore;
use owo_colors::OwoColorize;

use super::apply::repo_files;
use crate::args::{GlobalArgs, OutputFormat, RestoreArgs};
use crate::exit::ExitStatus;
use crate::printer::print_json;

/// Restores the run's files; exit 1 when a file was refused.
pub fn run(global: &GlobalArgs, args: &RestoreArgs) -> anyhow::Result<ExitStatus> {
    let store = RunStore::new(&global.root);
    let run_id = RunId::new(args.run_id.as_str())?;
    let record = store.read(&run_id)?;
    let options = RestoreOptions {
        files: repo_files(&record.repo_root, &args.files)?,
        dry_run: args.dry_run,
        force: args.force,
    };
    let lines = restore(&store, &run_id, &options)?;
    let refused = lines.iter().any(|l| l.verdict.is_refusal());
    match global.output_format {
        OutputFormat::Json => print_json(&serde_json::json!({
            "run_id": run_id,
            "dry_run": args.dry_run,
            "files": lines,
        }))?,
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            if lines.is_empty() {
                writeln!(out, "run {run_id} changed no file: nothing to restore")?;
            }
            for line in &lines {
                let word = line.verdict.word();
                let word = if line.verdict.is_refusal() {
                    word.red().bold().to_string()
                } else {
                    word.green().to_string()
                };
                writeln!(out, "{word:<16} {}", line.file.display())?;
                match &line.verdict {
                    RestoreVerdict::Restored { from, saved } => {
                        writeln!(out, "    from {}", from.display())?;
                        if let Some(saved) = saved {
                            writeln!(
                                out,
                                "    your edited version is saved at {}",
                                saved.display()
                            )?;
                        }
                    }
                    RestoreVerdict::WouldRestore { from } => {
                        writeln!(out, "    from {}", from.display())?;
                    }
                    RestoreVerdict::ChangedSince { .. } => writeln!(
                        out,
                        "    edited after Noctune changed it; `--force` restores anyway (your version is saved first)"
                    )?,
                    RestoreVerdict::Refused { why } => writeln!(out, "    {why}")?,
                    RestoreVerdict::AlreadyOriginal => {}
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
