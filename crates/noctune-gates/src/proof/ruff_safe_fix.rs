//! `ruff_safe_fix`: AFTER is exactly what ruff's safe fixes make of BEFORE.
//!
//! `ruff check` with the repository's configuration lists the rules BEFORE breaks where ruff
//! offers a safe fix; `ruff check --fix-only --no-unsafe-fixes --select <those rules>` (the
//! text on stdin as the file's path, so `per-file-ignores` apply) must then give AFTER byte for
//! byte. The proof trusts ruff's own
//! classification: a fix ruff marks safe keeps behaviour, one it marks unsafe is never applied.
//!
//! F401 (unused import) is left out: ruff calls removing `import readline` safe, and
//! [`unused_imports`](super::unused_imports) is stricter about such removals.

use std::collections::BTreeSet;
use std::path::Path;

use noctune_core::Proof;

use super::unused_imports::F401;
use crate::error::Result;
use crate::target::PythonVersion;
use crate::tools::{Ruff, RuffDiagnostic, RuffMode};

/// The class name.
pub const RUFF_SAFE_FIX: &str = "ruff_safe_fix";

/// Which rules ruff's fixes are taken from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixRules {
    /// The rules the repository's ruff configuration selects.
    Repo,
    /// Those and pyupgrade's `UP` rules for the file's target version (the `py_upgrade` pack).
    RepoAndUpgrade,
}

/// What ruff's safe fixes make of a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeFixes {
    /// The rules fixed (F401 never among them), sorted.
    pub rules: Vec<String>,
    /// The fixed text.
    pub text: String,
}

/// Ruff's safe fixes of `before` for the rules it reports there with a safe fix (F401 left
/// out); `None` when there are none or `before` has syntax errors.
pub async fn safe_fixes(
    ruff: &Ruff,
    root: &Path,
    path: &Path,
    before: &str,
    target: PythonVersion,
    rules: FixRules,
) -> Result<Option<SafeFixes>> {
    let mut diagnostics = ruff
        .check(root, path, before, target, RuffMode::RepoConfig)
        .await?;
    if rules == FixRules::RepoAndUpgrade {
        diagnostics.extend(
            ruff.check_selected(root, path, before, target, &["UP"])
                .await?,
        );
    }
    let Some(rules) = fixable_rules(&diagnostics) else {
        return Ok(None);
    };
    let text = ruff.fix_safe(root, path, before, target, &rules).await?;
    Ok(Some(SafeFixes { rules, text }))
}

/// The proof that a text is `fixes` of its BEFORE.
pub fn proof(ruff: &Ruff, fixes: &SafeFixes) -> Proof {
    Proof {
        class: RUFF_SAFE_FIX.to_owned(),
        argument: format!(
            "AFTER is exactly what `{} check --fix-only --no-unsafe-fixes --select {}` makes \
             of BEFORE with the repository's configuration; those are the rules ruff reports \
             on BEFORE with a fix it classifies as safe, and it applies no other fix",
            ruff.version(),
            fixes.rules.join(","),
        ),
    }
}

/// The rules BEFORE breaks where ruff offers a safe fix, sorted, F401 left out; `None` when there are none
/// or when BEFORE has syntax errors.
pub(crate) fn fixable_rules(diagnostics: &[RuffDiagnostic]) -> Option<Vec<String>> {
    if diagnostics.iter().any(RuffDiagnostic::is_syntax_error) {
        return None;
    }
    let rules: BTreeSet<String> = diagnostics
        .iter()
        .filter(|d| has_safe_fix(d))
        .filter_map(|d| d.code.clone())
        .filter(|code| code != F401)
        .collect();
    (!rules.is_empty()).then(|| rules.into_iter().collect())
}

/// Whether ruff offers a fix for the diagnostic that it classifies as safe.
pub(crate) fn has_safe_fix(diagnostic: &RuffDiagnostic) -> bool {
    diagnostic
        .fix
        .as_ref()
        .and_then(|fix| fix.get("applicability"))
        .and_then(serde_json::Value::as_str)
        == Some("safe")
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn diagnostic(code: &str, fix: Option<&str>) -> RuffDiagnostic {
        RuffDiagnostic {
            code: Some(code.to_owned()),
            message: String::new(),
            location: None,
            end_location: None,
            fix: fix.map(|applicability| serde_json::json!({ "applicability": applicability })),
        }
    }

    #[test]
    fn selects_the_rules_with_a_safe_fix_but_f401() {
        let found = [
            diagnostic("UP008", Some("safe")),
            diagnostic("E711", Some("unsafe")),
            diagnostic("UP004", Some("safe")),
            diagnostic("F401", Some("safe")),
            diagnostic("E501", None),
            diagnostic("UP004", Some("safe")),
        ];
        assert_eq!(
            fixable_rules(&found),
            Some(vec!["UP004".to_owned(), "UP008".to_owned()])
        );
        assert_eq!(fixable_rules(&found[3..5]), None);
        assert_eq!(fixable_rules(&found[1..2]), None);
        assert_eq!(
            fixable_rules(&[
                diagnostic("UP004", Some("safe")),
                diagnostic("invalid-syntax", None)
            ]),
            None
        );
    }
}
