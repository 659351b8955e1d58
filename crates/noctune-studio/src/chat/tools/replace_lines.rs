//! `replace_lines(path, start, end, text)`: replaces lines `start..=end` (1-based) of an
//! existing file, after a backup (needs `write`, except under `.noctune_cache/`).
//! `end = start - 1` inserts before `start`.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::write_file::write_with_backup;
use super::{ToolContext, ToolOutcome, args};
use crate::chat::permissions::Permission;
use crate::sandbox::Access;

/// Arguments of `replace_lines`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// The file, relative to the repository root.
    pub path: String,
    /// The first line replaced (1-based).
    pub start: usize,
    /// The last line replaced (inclusive); `start - 1` inserts before `start`.
    pub end: usize,
    /// The new lines (empty deletes the range).
    pub text: String,
}

pub(super) async fn run(ctx: &ToolContext, arguments: Value) -> Result<ToolOutcome, ToolOutcome> {
    let args: Args = args("replace_lines", arguments)?;
    let target = ctx.resolve(&args.path, Access::Write)?;
    let old = std::fs::read_to_string(&target.path).map_err(|err| {
        ToolOutcome::error(
            "read_failed",
            format!("cannot read `{}` as text: {err}", target.shown),
        )
    })?;
    let lines: Vec<&str> = old.lines().collect();
    let total = lines.len();
    if args.start == 0 || args.start > total + 1 || args.end + 1 < args.start || args.end > total {
        return Err(ToolOutcome::error(
            "bad_range",
            format!(
                "`{}` has {total} lines; lines {}..={} cannot be replaced (start is 1-based, end at least start - 1)",
                target.shown, args.start, args.end
            ),
        ));
    }
    if !target.in_cache {
        ctx.permit(Permission::Write, "replace_lines")?;
    }
    let mut new: Vec<&str> = lines[..args.start - 1].to_vec();
    new.extend(args.text.lines());
    new.extend(&lines[args.end..]);
    let mut content = new.join("\n");
    if !new.is_empty() && (old.ends_with('\n') || old.is_empty()) {
        content.push('\n');
    }
    let backup_id = write_with_backup(ctx, &target, "replace_lines", content.as_bytes())?;
    Ok(ToolOutcome::ok(json!({
        "path": target.shown,
        "lines_before": total,
        "lines_after": new.len(),
        "backup_id": backup_id,
    })))
}
