//! `noctune search QUERY`: the code graph by words: symbols whose name matches a word of the
//! query or starts with it (FTS5 over the index's names), and the lines that use the query's
//! identifiers.

use std::io::Write;

use noctune_core::{EnvOverrides, config};
use noctune_index::{Callsite, CallsiteSearcher, Index, IndexOptions};
use owo_colors::OwoColorize;

use crate::args::{GlobalArgs, OutputFormat, SearchArgs};
use crate::exit::ExitStatus;
use crate::printer::print_json;

/// Prints the symbols and the text hits for the query; exit 1 when there is neither.
pub fn run(global: &GlobalArgs, args: &SearchArgs) -> anyhow::Result<ExitStatus> {
    let settings = config::load(&global.root, &EnvOverrides::from_process())?;
    let mut index = Index::open(&settings.root, IndexOptions::from(&settings.index))?;
    index.refresh()?;
    let symbols = index.search(&args.query, args.limit)?;
    let searcher = searcher(&settings)?;
    let mut hits: Vec<Callsite> = Vec::new();
    for term in args
        .query
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|t| noctune_index::callsites::is_identifier(t))
    {
        for hit in searcher.search(term)? {
            if hits.len() >= args.limit {
                break;
            }
            if !hits.contains(&hit) {
                hits.push(hit);
            }
        }
    }
    match global.output_format {
        OutputFormat::Json => print_json(&serde_json::json!({
            "query": args.query,
            "symbols": symbols,
            "text_hits": hits,
        }))?,
        OutputFormat::Text => {
            let mut out = anstream::stdout().lock();
            if symbols.is_empty() && hits.is_empty() {
                writeln!(out, "nothing matches `{}`", args.query)?;
            }
            if !symbols.is_empty() {
                writeln!(out, "{}", "symbols".bold())?;
            }
            for hit in &symbols {
                writeln!(
                    out,
                    "  {}:{}  {} {}",
                    hit.path,
                    hit.symbol.start_line,
                    hit.symbol.kind.as_str(),
                    hit.symbol.name.cyan()
                )?;
            }
            if !hits.is_empty() {
                writeln!(out, "{}", "text hits".bold())?;
            }
            for hit in &hits {
                writeln!(out, "  {}:{}  {}", hit.path, hit.line, hit.text.trim())?;
            }
        }
    }
    Ok(if symbols.is_empty() && hits.is_empty() {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// The identifier search over the repository, with ripgrep when it is on `PATH`.
pub fn searcher(settings: &config::Settings) -> anyhow::Result<CallsiteSearcher> {
    let mut searcher = CallsiteSearcher::new(
        &settings.root,
        &noctune_index::walk::WalkOptions {
            exclude: settings.index.exclude.clone(),
            threads: 0,
        },
        settings.index.max_file_bytes,
    )?;
    searcher.set_ripgrep(noctune_index::callsites::find_on_path("rg"));
    Ok(searcher)
}
