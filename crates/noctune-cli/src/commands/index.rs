//! `noctune index`: build or refresh the symbol index and print its statistics.

use std::io::Write;

use noctune_core::{EnvOverrides, config};
use noctune_index::{Index, IndexOptions};
use owo_colors::OwoColorize;

use crate::args::{GlobalArgs, IndexArgs, OutputFormat};
use crate::exit::ExitStatus;
use crate::printer::print_json;

/// Refreshes `.noctune_cache/index.db` under the root and prints what it holds.
pub fn run(global: &GlobalArgs, _args: &IndexArgs) -> anyhow::Result<ExitStatus> {
    let settings = config::load(&global.root, &EnvOverrides::from_process())?;
    let mut index = Index::open(&settings.root, IndexOptions::from(&settings.index))?;
    let refresh = index.refresh()?;
    let stats = index.stats()?;
    match global.output_format {
        OutputFormat::Json => print_json(&serde_json::json!({
            "root": settings.root.display().to_string(),
            "database": index.db_path().display().to_string(),
            "refresh": refresh,
            "index": stats,
        }))?,
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            writeln!(
                out,
                "{} {} files in {:.2} s ({} parsed, {} unchanged, {} removed)",
                "indexed".green().bold(),
                refresh.files,
                refresh.timings.total_ms / 1000.0,
                refresh.parsed,
                refresh.unchanged,
                refresh.removed,
            )?;
            let kinds: Vec<String> = stats
                .symbols_by_kind
                .iter()
                .map(|(kind, n)| format!("{kind} {n}"))
                .collect();
            writeln!(out, "symbols: {} ({})", stats.symbols, kinds.join(", "))?;
            let count = |status: &str| stats.files_by_status.get(status).copied().unwrap_or(0);
            writeln!(
                out,
                "files with syntax errors: {}, not UTF-8: {}, over the size cap: {}",
                count("syntax_errors"),
                count("not_utf8"),
                count("too_large"),
            )?;
        }
    }
    Ok(ExitStatus::Success)
}
