//! `pack_rewrite`: AFTER is exactly what ruff's fix of a rule makes of BEFORE, for a rule a pack
//! lists as an equivalent rewrite, with the argument why it keeps behaviour here.
//!
//! Ruff marks some fixes unsafe because they keep behaviour only under a condition it cannot
//! see. Where the condition can be checked in the repository, the rewrite is proven: the
//! change must be ruff's own fix (byte for byte, so the model wrote nothing else), and the
//! condition must hold.

use std::path::Path;

use noctune_core::Proof;

use crate::error::Result;
use crate::target::PythonVersion;
use crate::tools::Ruff;

/// The class name.
pub const PACK_REWRITE: &str = "pack_rewrite";

/// A rewrite a pack lists as keeping behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EquivalentRewrite {
    /// The ruff rule whose fix is the rewrite.
    pub rule: &'static str,
    /// Why the rewrite keeps behaviour, given the condition.
    pub argument: &'static str,
    /// The condition: no class in the repository defines `__eq__` or `__ne__`.
    pub needs_default_equality: bool,
}

/// `x == None` → `x is None`, `x != None` → `x is not None` (E711). `None` is a singleton that
/// equals only itself under the default `__eq__` and every builtin type's: the two spellings
/// differ only for an object whose class defines its own `__eq__`/`__ne__` answering `True`
/// for `None`. None of the repository's classes defines either.
pub const NONE_COMPARISON: EquivalentRewrite = EquivalentRewrite {
    rule: "E711",
    argument: "`== None`/`!= None` became `is None`/`is not None`: None equals only itself under \
               the default and the builtin types' `__eq__`, and no class in the repository \
               defines `__eq__` or `__ne__`",
    needs_default_equality: true,
};

/// Proves the change when it is exactly ruff's fix of the listed rules that BEFORE breaks, and
/// each rewrite's condition holds (`default_equality`: no class in the repository defines
/// `__eq__` or `__ne__`).
#[allow(clippy::too_many_arguments)]
pub async fn prove(
    ruff: &Ruff,
    root: &Path,
    path: &Path,
    before: &str,
    after: &str,
    target: PythonVersion,
    rewrites: &[EquivalentRewrite],
    default_equality: bool,
) -> Result<Option<Proof>> {
    let usable: Vec<&EquivalentRewrite> = rewrites
        .iter()
        .filter(|r| default_equality || !r.needs_default_equality)
        .collect();
    if usable.is_empty() || before == after {
        return Ok(None);
    }
    let rules: Vec<&str> = usable.iter().map(|r| r.rule).collect();
    let found = ruff
        .check_selected(root, path, before, target, &rules)
        .await?;
    if found.iter().any(|d| d.is_syntax_error()) {
        return Ok(None);
    }
    let mut broken: Vec<String> = found.iter().filter_map(|d| d.code.clone()).collect();
    broken.sort();
    broken.dedup();
    if broken.is_empty() {
        return Ok(None);
    }
    let fixed = ruff.fix_unsafe(root, path, before, target, &broken).await?;
    if fixed != after {
        return Ok(None);
    }
    let arguments: Vec<&str> = usable
        .iter()
        .filter(|r| broken.iter().any(|b| b == r.rule))
        .map(|r| r.argument)
        .collect();
    Ok(Some(Proof {
        class: PACK_REWRITE.to_owned(),
        argument: format!(
            "AFTER is exactly `{} check --fix-only --unsafe-fixes --select {}` of BEFORE; {}",
            ruff.version(),
            broken.join(","),
            arguments.join("; ")
        ),
    }))
}

/// Whether a class in the Python files under `root` defines `__eq__` or `__ne__` (hidden
/// directories, virtual environments and Noctune's cache are not looked at).
pub fn repository_defines_equality(root: &Path) -> bool {
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                let skip = name.starts_with('.')
                    || matches!(
                        name.as_ref(),
                        "venv" | "env" | "node_modules" | "__pycache__" | "target"
                    );
                if !skip {
                    stack.push(path);
                }
            } else if kind.is_file()
                && name.ends_with(".py")
                && std::fs::read_to_string(&path)
                    .is_ok_and(|text| text.contains("def __eq__") || text.contains("def __ne__"))
            {
                return true;
            }
        }
    }
    false
}
