//! `list_files(glob)`: files under the allowed roots whose repository-relative path matches,
//! `.gitignore` honoured, hidden files left out, at most 500.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ToolContext, ToolOutcome, args};

/// The most paths one call returns.
const MAX_FILES: usize = 500;

/// Arguments of `list_files`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// A glob over repository-relative paths, such as `**/*.py` or `src/*` (default `**/*`).
    #[serde(default)]
    pub glob: Option<String>,
}

pub(super) async fn run(ctx: &ToolContext, arguments: Value) -> Result<ToolOutcome, ToolOutcome> {
    let args: Args = args("list_files", arguments)?;
    let pattern = args.glob.unwrap_or_else(|| "**/*".to_owned());
    let matcher = globset::GlobBuilder::new(&pattern)
        .literal_separator(false)
        .build()
        .map_err(|err| ToolOutcome::error("bad_glob", format!("bad glob `{pattern}`: {err}")))?
        .compile_matcher();
    let sandbox = ctx.sandbox.clone();
    let listed = tokio::task::spawn_blocking(move || {
        let mut files = Vec::new();
        let mut truncated = false;
        for root in sandbox.roots() {
            for entry in ignore::WalkBuilder::new(root).build().flatten() {
                if !entry.file_type().is_some_and(|t| t.is_file()) {
                    continue;
                }
                let shown = sandbox.shown(entry.path());
                if !matcher.is_match(&shown) {
                    continue;
                }
                if files.len() == MAX_FILES {
                    truncated = true;
                    break;
                }
                files.push(shown);
            }
        }
        files.sort();
        files.dedup();
        (files, truncated)
    })
    .await;
    let (files, truncated) =
        listed.map_err(|err| ToolOutcome::error("internal", format!("listing failed: {err}")))?;
    Ok(ToolOutcome::ok(json!({
        "glob": pattern,
        "files": files,
        "truncated": truncated,
    })))
}
