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

/// Keeps the files `pack` may change, at most `--max-files` of them. A refused file is
/// reported only when the user named it; files found by walking a directory or the repository
/// are dropped quietly.
pub fn scope(
    pack: &dyn PolicyPack,
    root: &Path,
    flags: &RunFlags,
    files: Vec<PathBuf>,
) -> anyhow::Result<Scoped> {
    let named = named_files(root, flags, &files);
    let mut scoped = Scoped {
        files: Vec::new(),
        refused: Vec::new(),
    };
    let max = flags.max_files.unwrap_or(usize::MAX);
    for file in files {
        match pack.check_path(&file) {
            Ok(()) if scoped.files.len() < max => scoped.files.push(file),
            Ok(()) => {}
            Err(violation) if named.contains(&file) => scoped.refused.push((file, violation)),
            Err(violation) => {
                tracing::debug!(file = %file.display(), %violation, "outside the pack");
            }
        }
    }
    Ok(scoped)
}

/// The repo-relative files the user named one by one: every file of a `--file-list` (`files`
/// were read from it; the list is not read twice, it may be a pipe), and each PATH that is a
/// file (not a directory).
fn named_files(root: &Path, flags: &RunFlags, files: &[PathBuf]) -> BTreeSet<PathBuf> {
    let mut named = BTreeSet::new();
    if flags.file_list.is_some() {
        named.extend(files.iter().cloned());
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
    named
}

/// One tool the run will not run, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedTool {
    /// The tool's name in `tools_allowed` (`ruff check`).
    pub tool: &'static str,
    /// Why, and what happens instead.
    pub why: String,
}

/// The tools this run would use that `pack` does not allow, for passes that run the gates and
/// the approve stage (not `review`): `ruff check`, `ruff fix` (unless `--ruff-fix off`), and
/// `pytest` when the pack requires tests.
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
            gates && pack.required_tests().is_some(),
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use noctune_core::policy::{AutoApproveOptions, PolicyPackOptions};
    use noctune_gates::PolicyPacks;
    use pretty_assertions::assert_eq;

    use super::*;
    use crate::args::LlmMode;

    fn flags(paths: &[&str], max_files: Option<usize>) -> RunFlags {
        RunFlags {
            paths: paths.iter().map(PathBuf::from).collect(),
            file_list: None,
            run_id: None,
            max_files,
            ruff_fix: RuffFix::Safe,
            llm: LlmMode::On,
            pack: None,
            yes: false,
        }
    }

    fn pack(root: &Path, options: PolicyPackOptions) -> std::sync::Arc<dyn PolicyPack> {
        let options = BTreeMap::from([("p".to_owned(), options)]);
        PolicyPacks::new(root, &options, "p")
            .unwrap()
            .get("p")
            .unwrap()
    }

    #[test]
    fn only_named_files_outside_the_globs_are_reported_and_max_files_counts_kept_ones() {
        let dir = tempfile::tempdir().unwrap();
        for file in ["src/a.py", "src/b.py", "docs/c.py", "docs/d.py"] {
            std::fs::create_dir_all(dir.path().join(file).parent().unwrap()).unwrap();
            std::fs::write(dir.path().join(file), "x = 1\n").unwrap();
        }
        let pack = pack(
            dir.path(),
            PolicyPackOptions {
                allowed_globs: Some(vec!["src/*.py".to_owned()]),
                ..PolicyPackOptions::default()
            },
        );
        let files: Vec<PathBuf> = ["docs/c.py", "docs/d.py", "src/a.py", "src/b.py"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let scoped = scope(
            pack.as_ref(),
            dir.path(),
            &flags(&["docs/c.py", "src"], Some(1)),
            files,
        )
        .unwrap();
        assert_eq!(scoped.files, vec![PathBuf::from("src/a.py")]);
        let refused: Vec<&Path> = scoped.refused.iter().map(|(f, _)| f.as_path()).collect();
        assert_eq!(refused, vec![Path::new("docs/c.py")]);
    }

    #[test]
    fn skipped_tools_are_the_ones_the_pass_would_run() {
        let dir = tempfile::tempdir().unwrap();
        let strict = pack(
            dir.path(),
            PolicyPackOptions {
                tools_allowed: Some(vec!["ruff check".to_owned()]),
                auto_approve: Some(AutoApproveOptions {
                    require_tests: Some(true),
                    ..AutoApproveOptions::default()
                }),
                ..PolicyPackOptions::default()
            },
        );
        let names = |flags: &RunFlags, kind: PassKind| -> Vec<&'static str> {
            skipped_tools(strict.as_ref(), flags, kind)
                .into_iter()
                .map(|s| s.tool)
                .collect()
        };
        let safe = flags(&[], None);
        assert_eq!(names(&safe, PassKind::Full), vec!["ruff fix", "pytest"]);
        assert_eq!(
            names(&safe, PassKind::RepairOnly),
            vec!["ruff fix", "pytest"]
        );
        assert!(names(&safe, PassKind::ReviewOnly).is_empty());
        let off = RunFlags {
            ruff_fix: RuffFix::Off,
            ..flags(&[], None)
        };
        assert_eq!(names(&off, PassKind::Full), vec!["pytest"]);
    }
}
