//! `noctune runs`: every run, newest first.

use std::io::Write;

use noctune_core::store::RunStore;

use crate::args::{GlobalArgs, OutputFormat, RunsArgs};
use crate::exit::ExitStatus;
use crate::printer::print_json;

/// Lists the runs.
pub fn run(global: &GlobalArgs, _args: &RunsArgs) -> anyhow::Result<ExitStatus> {
    let store = RunStore::new(&global.root);
    let runs = store.list()?;
    match global.output_format {
        OutputFormat::Json => print_json(&serde_json::to_value(&runs)?)?,
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            if runs.is_empty() {
                writeln!(out, "no runs yet")?;
            }
            for run in runs {
                writeln!(
                    out,
                    "{:<28} {:<10} started {}  updated {}  pack {}",
                    run.run_id.as_str(),
                    run.status.as_str(),
                    run.started_at,
                    run.updated_at,
                    run.pack.as_deref().unwrap_or("-")
                )?;
            }
        }
    }
    Ok(ExitStatus::Success)
}
