//! Deterministic first, with ruff: [`RuffFixer`] makes ruff's safe fixes of a whole file (the
//! repository's rules, and pyupgrade's `UP` rules for `py_upgrade`), removes the imports ruff
//! reports unused only where a proof shows nothing depends on them (not a re-export, not in
//! `__all__`, no side effects), and lists the findings left for the model.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use noctune_core::pipeline::{Finding, Fixer, ToolFix};

use crate::config::ProjectConfig;
use crate::error::gate_error;
use crate::gates::Gates;
use crate::proof::has_safe_fix;
use crate::proof::{AstProver, F401, FixRules, safe_fixes};
use crate::tools::{Ruff, RuffMode, apply_fixes};

/// The name errors of the fixer carry.
pub const FIXER: &str = "fix";

/// Ruff's fixes and findings, for the pipeline's deterministic step.
#[derive(Debug, Clone)]
pub struct RuffFixer {
    ruff: Ruff,
    prover: AstProver,
    config: Arc<ProjectConfig>,
    rules: FixRules,
}

impl RuffFixer {
    /// The fixer for what [`Gates`] found (its ruff, python3 and configuration), taking fixes
    /// and findings from `rules`. `None` without ruff or python3.
    pub fn from_gates(gates: &Gates, rules: FixRules) -> Option<Self> {
        let ruff = gates.tools().ruff.clone()?;
        let prover = AstProver::from_gates(gates)?;
        Some(Self {
            ruff,
            prover,
            config: gates.config().clone(),
            rules,
        })
    }

    async fn fix_text(&self, path: &Path, text: &str) -> crate::Result<ToolFix> {
        let target = self.config.for_file(path)?.target.version;
        let root = self.config.root();
        let mut tools = Vec::new();
        let mut fixed = text.to_owned();
        if let Some(fixes) = safe_fixes(&self.ruff, root, path, text, target, self.rules).await? {
            tools.push(format!(
                "ruff check --fix-only --no-unsafe-fixes --select {}",
                fixes.rules.join(",")
            ));
            fixed = fixes.text;
        }
        // Unused imports go one at a time, each only when the proof holds: ruff calls removing
        // `import readline` or a package's re-export safe.
        let mut kept: BTreeSet<String> = BTreeSet::new();
        let mut removed = Vec::new();
        loop {
            let unused = self
                .ruff
                .check_selected(root, path, &fixed, target, &[F401])
                .await?;
            let Some(next) = unused
                .iter()
                .find(|d| !kept.contains(&d.message) && has_safe_fix(d))
            else {
                break;
            };
            let proven = match apply_fixes(&fixed, &[next]) {
                Some(candidate) if candidate != fixed => self
                    .prover
                    .unused_imports_only(path, &fixed, &candidate)
                    .await?
                    .map(|_| candidate),
                _ => None,
            };
            match proven {
                Some(candidate) => {
                    removed.push(next.message.clone());
                    fixed = candidate;
                }
                None => {
                    kept.insert(next.message.clone());
                }
            }
        }
        if !removed.is_empty() {
            tools.push(format!(
                "ruff's {F401} fix, one import at a time, each proven unused (no re-export, no side effect): {}",
                removed.join("; ")
            ));
        }
        Ok(ToolFix { text: fixed, tools })
    }

    async fn findings_of(&self, path: &Path, text: &str) -> crate::Result<Vec<Finding>> {
        let target = self.config.for_file(path)?.target.version;
        let root = self.config.root();
        let mut found = self
            .ruff
            .check(root, path, text, target, RuffMode::RepoConfig)
            .await?;
        if self.rules == FixRules::RepoAndUpgrade {
            found.extend(
                self.ruff
                    .check_selected(root, path, text, target, &["UP"])
                    .await?,
            );
        }
        let mut findings: Vec<Finding> = found
            .into_iter()
            .filter(|d| !d.is_syntax_error())
            .filter_map(|d| {
                Some(Finding {
                    rule: d.code?,
                    line: d.location.map_or(1, |l| l.row),
                    symbol: None,
                    message: d.message,
                })
            })
            .collect();
        findings.sort_by(|a, b| (a.line, &a.rule).cmp(&(b.line, &b.rule)));
        findings.dedup();
        Ok(findings)
    }
}

#[async_trait]
impl Fixer for RuffFixer {
    async fn fix(&self, path: &Path, text: &str) -> noctune_core::Result<ToolFix> {
        self.fix_text(path, text)
            .await
            .map_err(|err| gate_error(FIXER, err))
    }

    async fn findings(&self, path: &Path, text: &str) -> noctune_core::Result<Vec<Finding>> {
        self.findings_of(path, text)
            .await
            .map_err(|err| gate_error(FIXER, err))
    }
}
