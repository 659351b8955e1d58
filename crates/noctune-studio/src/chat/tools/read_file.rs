//! `read_file(path, start?, end?)`: a text file's lines, numbered, at most 400 at a time.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ToolContext, ToolOutcome, args};
use crate::sandbox::Access;

/// The most lines one call returns.
const MAX_LINES: usize = 400;
/// The largest file read.
const MAX_BYTES: u64 = 2 * 1024 * 1024;

/// Arguments of `read_file`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// The file, relative to the repository root.
    pub path: String,
    /// The first line to return (1-based; default 1).
    #[serde(default)]
    pub start: Option<usize>,
    /// The last line to return (inclusive; default start + 399).
    #[serde(default)]
    pub end: Option<usize>,
}

pub(super) async fn run(ctx: &ToolContext, arguments: Value) -> Result<ToolOutcome, ToolOutcome> {
    let args: Args = args("read_file", arguments)?;
    let resolved = ctx.resolve(&args.path, Access::Read)?;
    let meta = std::fs::metadata(&resolved.path).map_err(|err| {
        ToolOutcome::error(
            "read_failed",
            format!("cannot read `{}`: {err}", resolved.shown),
        )
    })?;
    if meta.is_dir() {
        return Err(ToolOutcome::error(
            "is_a_directory",
            format!("`{}` is a directory; use list_files", resolved.shown),
        ));
    }
    if meta.len() > MAX_BYTES {
        return Err(ToolOutcome::error(
            "too_large",
            format!(
                "`{}` has {} bytes, more than {MAX_BYTES}",
                resolved.shown,
                meta.len()
            ),
        ));
    }
    let bytes = std::fs::read(&resolved.path).map_err(|err| {
        ToolOutcome::error(
            "read_failed",
            format!("cannot read `{}`: {err}", resolved.shown),
        )
    })?;
    let Ok(text) = String::from_utf8(bytes) else {
        return Err(ToolOutcome::error(
            "not_text",
            format!("`{}` is not UTF-8 text", resolved.shown),
        ));
    };
    let lines: Vec<&str> = text.lines().collect();
    let total = lines.len();
    let start = args.start.unwrap_or(1).max(1);
    let end = args
        .end
        .unwrap_or(start + MAX_LINES - 1)
        .min(start + MAX_LINES - 1)
        .min(total);
    if total > 0 && start > total {
        return Err(ToolOutcome::error(
            "bad_range",
            format!(
                "`{}` has {total} lines; start {start} is past the end",
                resolved.shown
            ),
        ));
    }
    let mut numbered = String::new();
    for (i, line) in lines.iter().enumerate().take(end).skip(start - 1) {
        numbered.push_str(&format!("{:>5}  {line}\n", i + 1));
    }
    Ok(ToolOutcome::ok(json!({
        "path": resolved.shown,
        "start": start,
        "end": end,
        "total_lines": total,
        "content": numbered,
    })))
}
