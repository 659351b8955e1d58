//! `noctune init`.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use noctune_core::init::{InitAction, init};
use noctune_core::{EnvOverrides, config};
use owo_colors::OwoColorize;

use crate::args::{GlobalArgs, InitArgs, OutputFormat};
use crate::exit::ExitStatus;
use crate::printer::print_json;

/// Writes the config file and prompt overrides, then checks that the configuration loads.
pub fn run(global: &GlobalArgs, args: &InitArgs) -> anyhow::Result<ExitStatus> {
    let report = init(&global.root, args.force)
        .with_context(|| format!("cannot initialise `{}`", global.root.display()))?;
    let rel = |path: &Path| {
        path.strip_prefix(&global.root)
            .unwrap_or(path)
            .display()
            .to_string()
    };
    match global.output_format {
        OutputFormat::Json => {
            let files: Vec<_> = report
                .files
                .iter()
                .map(|(path, action)| {
                    serde_json::json!({ "path": rel(path), "action": action_name(*action) })
                })
                .collect();
            print_json(&serde_json::json!({ "files": files }))?;
        }
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            for (path, action) in &report.files {
                let path = rel(path);
                match action {
                    InitAction::Created => writeln!(out, "{} {path}", "created".green())?,
                    InitAction::Overwritten => writeln!(out, "{} {path}", "overwrote".yellow())?,
                    InitAction::Unchanged => writeln!(out, "{} {path}", "unchanged".dimmed())?,
                    InitAction::KeptEdited => writeln!(
                        out,
                        "{} {path} (edited; `--force` overwrites it)",
                        "kept".yellow()
                    )?,
                    InitAction::SkippedPyproject => writeln!(
                        out,
                        "{} noctune.toml: the configuration is in {path} under [tool.noctune]",
                        "skipped".dimmed()
                    )?,
                }
            }
        }
    }
    // A kept, edited config file may be broken: say so now rather than at the first run.
    config::load(&global.root, &EnvOverrides::from_process())?;
    Ok(ExitStatus::Success)
}

fn action_name(action: InitAction) -> &'static str {
    match action {
        InitAction::Created => "created",
        InitAction::Unchanged => "unchanged",
        InitAction::KeptEdited => "kept_edited",
        InitAction::Overwritten => "overwritten",
        InitAction::SkippedPyproject => "skipped_pyproject",
    }
}
