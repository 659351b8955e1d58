//! `write_file(path, content)`: creates or replaces a file, after a backup (needs `write`,
//! except under `.noctune_cache/`).

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ToolContext, ToolOutcome, args};
use crate::chat::permissions::Permission;
use crate::sandbox::{Access, Resolved};

/// The largest content written.
const MAX_BYTES: usize = 512 * 1024;

/// Arguments of `write_file`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Args {
    /// The file, relative to the repository root.
    pub path: String,
    /// Its whole new content.
    pub content: String,
}

pub(super) async fn run(ctx: &ToolContext, arguments: Value) -> Result<ToolOutcome, ToolOutcome> {
    let args: Args = args("write_file", arguments)?;
    if args.content.len() > MAX_BYTES {
        return Err(ToolOutcome::error(
            "too_large",
            format!(
                "the content has {} bytes, more than {MAX_BYTES}",
                args.content.len()
            ),
        ));
    }
    let target = ctx.resolve(&args.path, Access::Write)?;
    if !target.in_cache {
        ctx.permit(Permission::Write, "write_file")?;
    }
    let backup_id = write_with_backup(ctx, &target, "write_file", args.content.as_bytes())?;
    Ok(ToolOutcome::ok(json!({
        "path": target.shown,
        "bytes": args.content.len(),
        "backup_id": backup_id,
    })))
}

/// Backs the file up, creates missing parent directories, writes atomically; returns the
/// backup's id.
pub(super) fn write_with_backup(
    ctx: &ToolContext,
    target: &Resolved,
    tool: &str,
    bytes: &[u8],
) -> Result<String, ToolOutcome> {
    let failed = |err: String| ToolOutcome::error("write_failed", err);
    let backup = crate::chat::backups::take(&ctx.chat.root, target, tool, &ctx.session_id)
        .map_err(|err| {
            failed(format!(
                "no backup could be taken, nothing was written: {err}"
            ))
        })?;
    if let Some(parent) = target.path.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|err| failed(format!("cannot create `{}`: {err}", parent.display())))?;
    }
    noctune_core::store::write_atomic(&target.path, bytes)
        .map_err(|err| failed(format!("cannot write `{}`: {err}", target.shown)))?;
    tracing::info!(path = %target.shown, backup = %backup.backup_id, "chat: {tool}");
    Ok(backup.backup_id)
}
