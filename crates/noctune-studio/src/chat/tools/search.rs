//! `search(query, glob?)`: a literal text search with ripgrep when it is installed, else a
//! search of the symbol index (SQLite FTS5 over symbol names).

use std::time::Duration;

use noctune_core::process::{ProcessBuilder, ProcessError};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ToolContext, ToolOutcome, args};
use crate::sandbox::Access;

/// The most matches one call returns.
const MAX_MATCHES: usize = 100;

/// Arguments of `search`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// The text to find (literal, case-sensitive).
    pub query: String,
    /// Only files matching this glob (such as `*.py`).
    #[serde(default)]
    pub glob: Option<String>,
}

pub(super) async fn run(ctx: &ToolContext, arguments: Value) -> Result<ToolOutcome, ToolOutcome> {
    let args: Args = args("search", arguments)?;
    if args.query.trim().is_empty() {
        return Err(ToolOutcome::error("bad_arguments", "`query` is empty"));
    }
    let mut rg = ProcessBuilder::new(&ctx.rg)
        .args([
            "--line-number",
            "--no-heading",
            "--color=never",
            "--fixed-strings",
            "--max-count=20",
            "--max-columns=300",
        ])
        .current_dir(ctx.repo_root())
        .timeout(Duration::from_secs(30));
    if let Some(glob) = &args.glob {
        rg = rg.arg("--glob").arg(glob);
    }
    rg = rg.arg("--regexp").arg(&args.query).arg("--");
    for root in ctx.sandbox.roots() {
        rg = rg.arg(root);
    }
    match rg.run().await {
        Ok(output) if output.success() || output.code == Some(1) => {
            let text = output.stdout_text();
            // A file the sandbox would not let `read_file` open (a secret, a symlink out)
            // is not searchable either.
            let mut matches: Vec<String> = text
                .lines()
                .filter_map(|line| {
                    let path_end = line.find(':')?;
                    let path = &line[..path_end];
                    ctx.sandbox.resolve(path, Access::Read).ok()?;
                    Some(format!(
                        "{}{}",
                        ctx.sandbox.shown(std::path::Path::new(path)),
                        &line[path_end..]
                    ))
                })
                .collect();
            let truncated = matches.len() > MAX_MATCHES;
            matches.truncate(MAX_MATCHES);
            Ok(ToolOutcome::ok(json!({
                "query": args.query,
                "engine": "ripgrep",
                "matches": matches,
                "truncated": truncated,
            })))
        }
        Ok(output) => Err(ToolOutcome::error(
            "search_failed",
            format!("ripgrep failed: {}", output.stderr_text().trim()),
        )),
        Err(ProcessError::NotFound { .. }) => index_search(ctx, args.query).await,
        Err(err) => Err(ToolOutcome::error("search_failed", err.to_string())),
    }
}

/// Without ripgrep: the symbol index's full-text search over symbol names.
async fn index_search(ctx: &ToolContext, query: String) -> Result<ToolOutcome, ToolOutcome> {
    let root = ctx.repo_root();
    let shown_query = query.clone();
    let hits = tokio::task::spawn_blocking(move || {
        let mut index = noctune_index::Index::open(&root, noctune_index::IndexOptions::default())?;
        index.refresh()?;
        index.search(&query, MAX_MATCHES)
    })
    .await
    .map_err(|err| ToolOutcome::error("internal", format!("search failed: {err}")))?
    .map_err(|err| ToolOutcome::error("search_failed", err.to_string()))?;
    let matches: Vec<String> = hits
        .iter()
        .map(|hit| {
            format!(
                "{}:{}: {}",
                hit.path,
                hit.symbol.start_line,
                hit.symbol.signature.as_deref().unwrap_or(&hit.symbol.name)
            )
        })
        .collect();
    Ok(ToolOutcome::ok(json!({
        "query": shown_query,
        "engine": "index",
        "matches": matches,
        "truncated": false,
    })))
}
