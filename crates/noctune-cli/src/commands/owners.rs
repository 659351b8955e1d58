//! `noctune owners SYMBOL`: who a symbol belongs to and who depends on it: its definitions,
//! the imports of it, and the lines that use it elsewhere.

use std::io::Write;

use noctune_core::{EnvOverrides, config};
use noctune_index::{Index, IndexOptions};
use owo_colors::OwoColorize;
use serde::Serialize;

use super::search::searcher;
use crate::args::{GlobalArgs, OutputFormat, OwnersArgs};
use crate::exit::ExitStatus;
use crate::printer::print_json;

/// A line of a file.
#[derive(Debug, Serialize)]
struct Line {
    path: String,
    line: usize,
    text: String,
}

/// One definition of the symbol and what depends on it.
#[derive(Debug, Serialize)]
struct Owner {
    path: String,
    symbol: noctune_core::Symbol,
    importers: Vec<Line>,
    callers: Vec<Line>,
}

/// Prints each definition with its importers and callers; exit 1 when the symbol is not
/// defined anywhere.
pub fn run(global: &GlobalArgs, args: &OwnersArgs) -> anyhow::Result<ExitStatus> {
    let settings = config::load(&global.root, &EnvOverrides::from_process())?;
    let mut index = Index::open(&settings.root, IndexOptions::from(&settings.index))?;
    index.refresh()?;
    let definitions = index.find(&args.symbol)?;
    let short = args.symbol.rsplit('.').next().unwrap_or(&args.symbol);
    let uses = if definitions.is_empty() {
        Vec::new()
    } else {
        searcher(&settings)?.search(short)?
    };
    let mut owners = Vec::new();
    for definition in definitions {
        // What a module imports is its top-level name (`Class` for `Class.method`).
        let top = definition
            .symbol
            .name
            .split('.')
            .next()
            .unwrap_or(&definition.symbol.name);
        let importers: Vec<Line> = index
            .importers(&definition.path, top, args.limit)?
            .into_iter()
            .map(|(path, line, text)| Line { path, line, text })
            .collect();
        let callers = uses
            .iter()
            .filter(|hit| {
                let inside = hit.path == definition.path
                    && (definition.symbol.start_line..=definition.symbol.end_line)
                        .contains(&hit.line);
                let import = importers
                    .iter()
                    .any(|i| i.path == hit.path && i.line == hit.line);
                !inside && !import
            })
            .take(args.limit)
            .map(|hit| Line {
                path: hit.path.clone(),
                line: hit.line,
                text: hit.text.trim().to_owned(),
            })
            .collect();
        owners.push(Owner {
            path: definition.path,
            symbol: definition.symbol,
            importers,
            callers,
        });
    }
    match global.output_format {
        OutputFormat::Json => print_json(&serde_json::json!({
            "symbol": args.symbol,
            "definitions": owners,
        }))?,
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            if owners.is_empty() {
                writeln!(
                    out,
                    "`{}` is defined nowhere in the index (`noctune search {}` looks wider)",
                    args.symbol, short
                )?;
            }
            for owner in &owners {
                writeln!(
                    out,
                    "{} {} {}:{}-{}",
                    owner.symbol.kind.as_str(),
                    owner.symbol.name.cyan().bold(),
                    owner.path,
                    owner.symbol.start_line,
                    owner.symbol.end_line
                )?;
                writeln!(out, "  imported by {}", owner.importers.len())?;
                for line in &owner.importers {
                    writeln!(out, "    {}:{}  {}", line.path, line.line, line.text)?;
                }
                writeln!(out, "  used at {}", owner.callers.len())?;
                for line in &owner.callers {
                    writeln!(out, "    {}:{}  {}", line.path, line.line, line.text)?;
                }
            }
        }
    }
    Ok(if owners.is_empty() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}
