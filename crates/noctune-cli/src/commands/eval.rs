//! `noctune eval --corpus DIR`: score the configured model and the prompts on a corpus of cases
//! with their own tests, beside what one `ruff check --fix` achieves alone.

use std::io::Write;

use anyhow::Context;
use noctune_core::{EnvOverrides, config};

use crate::args::{EvalArgs, GlobalArgs, OutputFormat};
use crate::compose;
use crate::eval::{self, EvalOptions};
use crate::exit::ExitStatus;
use crate::printer::print_json;

/// Runs the evaluation; exit 1 when a file was broken or a case's tests fail after the run.
pub fn run(global: &GlobalArgs, args: &EvalArgs) -> anyhow::Result<ExitStatus> {
    let settings = config::load(&global.root, &EnvOverrides::from_process())?;
    let ruff = noctune_index::callsites::find_on_path("ruff").context(
        "`ruff` was not found on PATH: the evaluation counts ruff's findings (pip install ruff)",
    )?;
    let llm = eval::llm_for(&settings, args.profile.as_deref())?;
    let options = EvalOptions {
        corpus: args.corpus.clone(),
        cases: args.case.clone(),
        llm,
        profile: args.profile.clone(),
        approve_mode: settings.approve_mode,
        max_passes: args.max_passes,
        max_files: args.max_files,
        keep: args.keep.clone(),
        ruff,
    };
    // The model is probed once, under the eval's root; every case's run starts with the record.
    let probe = || -> anyhow::Result<noctune_core::llm::Calibration> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        Ok(runtime
            .block_on(compose::calibrate(&settings.root, &options.llm, false))?
            .calibration)
    };
    let report = eval::run(&options, &probe, &|line| {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    })?;
    match global.output_format {
        OutputFormat::Json => print_json(&serde_json::to_value(&report)?)?,
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            write!(out, "{}", eval::render(&report))?;
        }
    }
    Ok(if report.kept_everything() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
