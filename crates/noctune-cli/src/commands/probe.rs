//! `noctune probe [--force]`: the calibration probe of the configured model (of each of its
//! servers, with `endpoints`), from the cache or run now.

use std::io::Write;

use anyhow::Context;
use noctune_core::llm::{Calibration, SpeedSource};
use noctune_core::{EnvOverrides, config};
use owo_colors::OwoColorize;

use crate::args::{GlobalArgs, OutputFormat, ProbeArgs};
use crate::exit::ExitStatus;
use crate::printer::print_json;
use crate::{compose, eval};

/// Shows the model's calibration, probing it when the cache has none for this server (or with
/// `--force`).
pub fn run(global: &GlobalArgs, args: &ProbeArgs) -> anyhow::Result<ExitStatus> {
    let settings = config::load(&global.root, &EnvOverrides::from_process())?;
    let llm = eval::llm_for(&settings, args.profile.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    // Every server of the model (`endpoints`), each with its own record.
    let endpoints = llm
        .each_endpoint()
        .map_err(|why| anyhow::anyhow!("{why}; nothing was probed"))?;
    let mut outcomes = Vec::new();
    for (endpoint, _) in &endpoints {
        outcomes.push(runtime.block_on(compose::calibrate(
            &settings.root,
            endpoint,
            args.force,
        ))?);
    }
    let record = |outcome: &noctune_llm::ProbeOutcome| {
        serde_json::json!({
            "path": outcome.path.display().to_string(),
            "fresh": outcome.fresh,
            "calibration": outcome.calibration,
        })
    };
    match global.output_format {
        OutputFormat::Json => {
            let mut json = record(&outcomes[0]);
            if outcomes.len() > 1 {
                json["endpoints"] = outcomes.iter().map(record).collect();
            }
            print_json(&json)?;
        }
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            for outcome in &outcomes {
                let calibration = &outcome.calibration;
                let how = if outcome.fresh {
                    format!("probed in {:.1} s", calibration.probe_seconds)
                } else {
                    format!("cached, probed at {}", calibration.probed_at)
                };
                writeln!(
                    out,
                    "{} {} at {} ({how})",
                    "model".green().bold(),
                    calibration.model,
                    calibration.base_url
                )?;
                write!(out, "{}", details(calibration))?;
                writeln!(out, "record: {}", outcome.path.display())?;
            }
        }
    }
    Ok(ExitStatus::Success)
}

/// The record for people, a line per format and per figure.
fn details(calibration: &Calibration) -> String {
    let mut text = String::new();
    for check in &calibration.formats {
        let verdict = if check.works { "works" } else { "fails" };
        text.push_str(&format!("  {:<12} {verdict}", check.format.as_str()));
        if let Some(reason) = &check.reason {
            text.push_str(&format!(": {reason}"));
        }
        text.push('\n');
    }
    text.push_str(&format!(
        "  answers as   {} (structured), {} (code)\n",
        calibration.json_format(),
        calibration.code_format()
    ));
    let speed =
        |s: Option<f64>| s.map_or_else(|| "not measured".to_owned(), |s| format!("{s:.1} tok/s"));
    let source = match calibration.speed_source {
        Some(SpeedSource::Timings) => " (the server's timings)",
        Some(SpeedSource::WallClock) => " (wall clock)",
        None => "",
    };
    text.push_str(&format!(
        "  prompt       {}{source}\n  answer       {}{source}\n",
        speed(calibration.prompt_tokens_per_second),
        speed(calibration.answer_tokens_per_second)
    ));
    text.push_str(&format!(
        "  context      {}\n",
        calibration.context_tokens.map_or_else(
            || "not reported (the configured context_tokens applies)".to_owned(),
            |n| format!("{n} tokens")
        )
    ));
    text
}
