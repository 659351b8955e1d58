//! `noctune symbols FILE`: a file's symbols with qualified names, kinds and ranges.

use std::io::Write;

use anyhow::Context;
use noctune_core::{EnvOverrides, config};
use owo_colors::OwoColorize;

use crate::args::{GlobalArgs, OutputFormat, SymbolsArgs};
use crate::exit::ExitStatus;
use crate::printer::print_json;

/// Parses the file (as it is now, not from the index) and lists its symbols.
pub fn run(global: &GlobalArgs, args: &SymbolsArgs) -> anyhow::Result<ExitStatus> {
    config::load(&global.root, &EnvOverrides::from_process())?;
    let path = if args.file.exists() || args.file.is_absolute() {
        args.file.clone()
    } else {
        global.root.join(&args.file)
    };
    let bytes =
        std::fs::read(&path).with_context(|| format!("cannot read `{}`", path.display()))?;
    let outline = noctune_index::outline(&bytes)
        .with_context(|| format!("cannot parse `{}`", path.display()))?;
    match global.output_format {
        OutputFormat::Json => print_json(&serde_json::json!({
            "file": path.display().to_string(),
            "has_syntax_errors": outline.has_syntax_errors,
            "symbols": outline.symbols,
            "imports": outline.imports,
        }))?,
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            let width = outline
                .symbols
                .iter()
                .map(|s| format!("{}-{}", s.start_line, s.end_line).len())
                .max()
                .unwrap_or(0);
            for symbol in &outline.symbols {
                let lines = format!("{}-{}", symbol.start_line, symbol.end_line);
                let depth = symbol.name.matches('.').count();
                writeln!(
                    out,
                    "{:>width$}  {:<14} {}{}",
                    lines.dimmed(),
                    symbol.kind.as_str().cyan(),
                    "  ".repeat(depth),
                    symbol.name.bold(),
                )?;
            }
            if outline.has_syntax_errors {
                writeln!(
                    out,
                    "{}: the file has syntax errors; these are the symbols that could be found",
                    "warning".yellow().bold()
                )?;
            }
        }
    }
    Ok(ExitStatus::Success)
}
