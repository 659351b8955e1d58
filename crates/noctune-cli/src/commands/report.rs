//! `noctune report`: the morning report, markdown and HTML.

use std::io::Write;

use noctune_core::store::RunStore;

use super::status::pick_run;
use crate::args::{GlobalArgs, OutputFormat, StatusArgs};
use crate::exit::ExitStatus;
use crate::printer::print_json;

/// Writes `report.md` and `report.html` for the run and prints their paths.
pub fn run(global: &GlobalArgs, args: &StatusArgs) -> anyhow::Result<ExitStatus> {
    let store = RunStore::new(&global.root);
    let run = pick_run(&store, args.run_id.as_deref())?;
    let (md, html) = noctune_core::report::write(&store, &run.run_id)?;
    match global.output_format {
        OutputFormat::Json => print_json(&serde_json::json!({
            "run_id": run.run_id,
            "markdown": md,
            "html": html,
        }))?,
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            writeln!(out, "{}", html.display())?;
            writeln!(out, "{}", md.display())?;
        }
    }
    Ok(ExitStatus::Success)
}
