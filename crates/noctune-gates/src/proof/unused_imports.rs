//! `unused_imports`: the only difference is imported names that ruff reports unused (F401) in
//! BEFORE, and removing them cannot change what the program does.
//!
//! `prove.py` compares the files with one statement per imported name (`import os, sys` is
//! `import os` and `import sys`): AFTER must be BEFORE with some of those statements removed
//! and nothing else changed. Each removed name must then:
//!
//! - have an F401 diagnostic of ruff, with the repository's configuration (its
//!   `per-file-ignores` and `allowed-unused-imports` apply), at that name in BEFORE;
//! - not be in a package's `__init__.py`, where an unused import is usually a re-export;
//! - not be listed in `__all__`, and the file must not call `globals`, `locals`, `vars`,
//!   `eval`, `exec` or `__import__` (lookups by name that ruff cannot see);
//! - not be a `__future__` import or a star import;
//! - import a module whose import has no side effects: one of Python's own
//!   (`sys.stdlib_module_names`) outside a short denylist (`readline`, `rlcompleter`,
//!   `antigravity`, `this`, `site`, ...), or a module that AFTER still imports elsewhere.
//!
//! Not checked: another module of the repository importing the name from this one
//! (`from app.util import os`); the pipeline's callsite evidence is the place for that.

use std::path::Path;

use noctune_core::Proof;

use super::analysis::{Analysis, RemovedImport};
use crate::tools::RuffDiagnostic;

/// The class name.
pub const UNUSED_IMPORTS: &str = "unused_imports";

/// The ruff rule for an unused import.
pub const F401: &str = "F401";

/// The removed imports to show ruff, when the change removes imports and nothing else and
/// no removal is refused on its face; `None` otherwise.
pub fn candidates<'a>(analysis: &'a Analysis, path: &Path) -> Option<&'a [RemovedImport]> {
    let imports = &analysis.imports;
    if !imports.only_removed || imports.removed.is_empty() {
        return None;
    }
    if is_package_init(path) {
        tracing::debug!(path = %path.display(), "unused_imports: not proven in a package's __init__");
        return None;
    }
    if let Some(refused) = imports.removed.iter().find(|r| r.refusal.is_some()) {
        tracing::debug!(statement = %refused.statement, refusal = ?refused.refusal, "unused_imports: not proven");
        return None;
    }
    Some(&imports.removed)
}

/// Proves the removal when ruff reported every removed name as F401 in BEFORE.
pub fn prove(removed: &[RemovedImport], diagnostics: &[RuffDiagnostic]) -> Option<Proof> {
    if removed.is_empty() {
        return None;
    }
    if let Some(unreported) = removed.iter().find(|r| !reported(r, diagnostics)) {
        tracing::debug!(statement = %unreported.statement, "unused_imports: ruff does not report it unused");
        return None;
    }
    let statements: Vec<String> = removed
        .iter()
        .map(|r| format!("`{}`", r.statement))
        .collect();
    Some(Proof {
        class: UNUSED_IMPORTS.to_owned(),
        argument: format!(
            "only imports were removed ({}); ruff reports each unused (F401) in BEFORE; none is \
             in `__all__` or in a package's `__init__.py`, and each imports a standard-library \
             module without import side effects or one that stays imported",
            statements.join(", ")
        ),
    })
}

/// Whether ruff has an F401 at this imported name (its range starts inside the name's).
fn reported(removed: &RemovedImport, diagnostics: &[RuffDiagnostic]) -> bool {
    let start = (removed.line, removed.column);
    let end = (removed.end_line, removed.end_column);
    diagnostics.iter().any(|d| {
        d.code.as_deref() == Some(F401)
            && d.location
                .is_some_and(|l| (start..end).contains(&(l.row, l.column)))
    })
}

/// `__init__.py` (or a stub's `__init__.pyi`): its imports are the package's interface.
fn is_package_init(path: &Path) -> bool {
    path.file_stem().is_some_and(|stem| stem == "__init__")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proof::analysis::ImportsAnalysis;
    use crate::tools::RuffLocation;
    use pretty_assertions::assert_eq;

    fn removed(statement: &str, line: usize, column: usize, end_column: usize) -> RemovedImport {
        RemovedImport {
            statement: statement.to_owned(),
            binding: statement.rsplit(' ').next().unwrap_or_default().to_owned(),
            line,
            column,
            end_line: line,
            end_column,
            refusal: None,
        }
    }

    fn f401(row: usize, column: usize) -> RuffDiagnostic {
        RuffDiagnostic {
            code: Some(F401.to_owned()),
            message: "imported but unused".to_owned(),
            location: Some(RuffLocation { row, column }),
            end_location: None,
            fix: None,
        }
    }

    #[test]
    fn every_removed_name_needs_its_own_f401() {
        // `from x import a as b, c`: ruff points at the bound name `b` (column 20).
        let names = [
            removed("from x import a as b", 2, 15, 21),
            removed("import sys", 1, 12, 15),
        ];
        let proof = prove(&names, &[f401(1, 12), f401(2, 20)]).unwrap();
        assert_eq!(proof.class, "unused_imports");
        assert!(
            proof
                .argument
                .contains("(`from x import a as b`, `import sys`)")
        );
        // An F401 on another name of the same line does not count.
        assert_eq!(prove(&names, &[f401(1, 12), f401(2, 23)]), None);
        assert_eq!(prove(&names, &[f401(1, 12)]), None);
    }

    #[test]
    fn a_package_init_or_a_refused_name_is_no_candidate() {
        let analysis = Analysis {
            imports: ImportsAnalysis {
                only_removed: true,
                removed: vec![removed("import os", 1, 8, 10)],
            },
            ..Analysis::default()
        };
        assert!(candidates(&analysis, Path::new("pkg/util.py")).is_some());
        assert_eq!(candidates(&analysis, Path::new("pkg/__init__.py")), None);
        assert_eq!(candidates(&analysis, Path::new("__init__.pyi")), None);
        let mut refused = analysis.clone();
        refused.imports.removed[0].refusal = Some("side effects".to_owned());
        assert_eq!(candidates(&refused, Path::new("pkg/util.py")), None);
        let mut more = analysis;
        more.imports.only_removed = false;
        assert_eq!(candidates(&more, Path::new("pkg/util.py")), None);
    }
}
