//! What a policy pack keeps out of a run before any model call: files outside its
//! `allowed_globs` (a `policy_violation` event for each one the user named), and the tools its
//! `tools_allowed` does not list (a `tool_skipped` event each).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use noctune_core::pipeline::PassKind;
use noctune_core::store::Run;
use noctune_core::{EventType, PolicyPack, PolicyViolation, tool};
use noctune_gates::RuffFix;

use crate::args::RunFlags;

/// A run's files split by the pack.
#[derive(Debug, Clone, PartialEq)]
pub struct Scoped {
    /// The files the pack may change, in the order given.
    pub files: Vec<PathBuf>,
    /// Files the user named (PATHS or `--file-list`) that the pack refuses, with why.
    pub refused: Vec<(PathBuf, PolicyViolation)>,
}

/// Keeps the files `pack` may change. A refused file is reported only when the user named it;
/// files found by walking a directory or the repository are dropped quietly.
pub fn scope(
    pack: &dyn PolicyPack,
    root: &Path,
    flags: &RunFlags,
    files: Vec<PathBuf>,
) -> anyhow::Result<Scoped> {
    let named = named_files(root, flags)?;
    let mut scoped = Scoped {
        files: Vec::new(),
        refused: Vec::new(),
    };
    for file in files {
        match pack.check_path(&file) {
            Ok(()) => scoped.files.push(file),
            Err(violation) if named.contains(&file) => scoped.refused.push((file, violation)),
            Err(violation) => {
                tracing::debug!(file = %file.display(), %violation, "outside the pack");
            }
        }
    }
    Ok(scoped)
}

/// The repo-relative files the user named one by one: every `--file-list` line, and each PATH
/// that is a file (not a directory).
fn named_files(root: &Path, flags: &RunFlags) -> anyhow::Result<BTreeSet<PathBuf>> {
    let mut named = BTreeSet::new();
    if let Some(list) = &flags.file_list {
        let text = std::fs::read_to_string(list)?;
        named.extend(
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with('#'))
                .map(PathBuf::from),
        );
    } else {
        for path in &flags.paths {
            let absolute = if path.is_absolute() {
                path.clone()
            } else {
                root.join(path)
            };
            if absolute.is_file()
                && let Ok(rel) = absolute.strip_prefix(root)
            {
                named.insert(rel.to_path_buf());
            }
        }
    }
    Ok(named)
}

/// One tool the run will not run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedTool {
    /// The tool's name in `tools_allowed` (`ruff check`).
    pub tool: &'static str,
    /// Why, and what happens instead.
    pub why: String,
}

/// The tools this run would use that `pack` does not allow: `ruff check` and `ruff fix` for
/// passes that run the gates (`ruff fix` unless `--ruff-fix off`), `pytest` when the pack
/// requires tests.
pub fn skipped_tools(pack: &dyn PolicyPack, flags: &RunFlags, kind: PassKind) -> Vec<SkippedTool> {
    let gates = kind != PassKind::ReviewOnly;
    let wanted: [(&'static str, bool, &str); 3] = [
        (
            tool::RUFF_CHECK,
            gates,
            "no lint gate; the parse gate asks python3's ast.parse",
        ),
        (
            tool::RUFF_FIX,
            gates && flags.ruff_fix != RuffFix::Off,
            "the repair ladder skips its ruff fix step",
        ),
        (
            tool::PYTEST,
            kind == PassKind::Full && pack.required_tests().is_some(),
            "require_tests holds every change for a human",
        ),
    ];
    wanted
        .into_iter()
        .filter(|(name, used, _)| *used && !pack.allows_tool(name))
        .map(|(name, _, effect)| SkippedTool {
            tool: name,
            why: format!(
                "`{name}` is not in tools_allowed of pack `{}`: {effect}",
                pack.name()
            ),
        })
        .collect()
}

/// Logs a `tool_skipped` event per skipped tool and a `policy_violation` event per refused
/// file.
pub fn log(
    run: &Run,
    pack: &dyn PolicyPack,
    scoped: &Scoped,
    skipped: &[SkippedTool],
) -> anyhow::Result<()> {
    for skip in skipped {
        run.event(
            EventType::ToolSkipped,
            None,
            serde_json::json!({ "tool": skip.tool, "pack": pack.name(), "why": skip.why }),
        )?;
    }
    for (file, violation) in &scoped.refused {
        let mut payload = serde_json::to_value(violation).unwrap_or_default();
        payload["file"] = serde_json::Value::String(file.to_string_lossy().replace('\\', "/"));
        run.event(EventType::PolicyViolation, None, payload)?;
    }
    Ok(())
}
