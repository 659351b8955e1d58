//! The deterministic step with the real `python3` and the pinned ruff: ruff's safe fixes, unused
//! imports removed only where proven, the findings left for the model, and the whole change
//! proven by the prover.

use std::path::Path;

use noctune_core::pipeline::Fixer;
use noctune_core::{ProofInput, Prover};
use noctune_gates::{AstProver, FixRules, RuffFixer};
use pretty_assertions::assert_eq;

use crate::support::{gates, write};

const LEGACY: &str = "\
import os
import readline
import sys


def show(value):
    if value == None:
        return f\"none\"
    print(\"value: %s\" % (value,))
    return sys.argv
";

async fn fixer_in(dir: &Path, rules: FixRules) -> (RuffFixer, AstProver) {
    write(
        dir,
        "ruff.toml",
        "target-version = \"py311\"\n[lint]\nselect = [\"F\", \"E711\"]\n",
    );
    let gates = gates(dir).await;
    (
        RuffFixer::from_gates(&gates, rules).unwrap(),
        AstProver::from_gates(&gates).unwrap(),
    )
}

#[tokio::test]
async fn safe_fixes_and_proven_unused_imports_go_and_the_rest_is_left_for_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let (fixer, prover) = fixer_in(dir.path(), FixRules::Repo).await;
    let path = Path::new("app/show.py");
    let fixed = fixer.fix(path, LEGACY).await.unwrap();
    // F541 (f-string without placeholders) is a safe fix; `os` is unused and goes; `readline`
    // is unused too but importing it has side effects, so it stays. E711's fix is unsafe.
    assert_eq!(
        fixed.text,
        "\
import readline
import sys


def show(value):
    if value == None:
        return \"none\"
    print(\"value: %s\" % (value,))
    return sys.argv
"
    );
    assert_eq!(fixed.tools.len(), 2, "{:?}", fixed.tools);
    assert!(
        fixed.tools[0].contains("--select F541"),
        "{:?}",
        fixed.tools
    );

    let left: Vec<(String, usize)> = fixer
        .findings(path, &fixed.text)
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.rule, f.line))
        .collect();
    assert_eq!(left, vec![("F401".to_owned(), 1), ("E711".to_owned(), 6)]);

    // The whole change is proven: ruff's safe fixes, then imports proven unused.
    let proof = prover
        .prove(ProofInput {
            path,
            before: LEGACY,
            after: &fixed.text,
        })
        .await
        .unwrap()
        .expect("proven");
    assert_eq!(proof.class, "ruff_safe_fix");
    assert!(proof.argument.contains("F541"), "{}", proof.argument);
}

#[tokio::test]
async fn a_package_re_export_is_never_removed() {
    let dir = tempfile::tempdir().unwrap();
    let (fixer, _) = fixer_in(dir.path(), FixRules::Repo).await;
    let init = "from .core import Engine\nimport os\n";
    let fixed = fixer.fix(Path::new("pkg/__init__.py"), init).await.unwrap();
    assert_eq!(fixed.text, init, "{:?}", fixed.tools);
}

#[tokio::test]
async fn py_upgrade_takes_pyupgrade_fixes_for_the_target_version() {
    let dir = tempfile::tempdir().unwrap();
    let (fixer, prover) = fixer_in(dir.path(), FixRules::RepoAndUpgrade).await;
    let before = "class Point(object):\n    pass\n";
    let fixed = fixer.fix(Path::new("geo.py"), before).await.unwrap();
    assert_eq!(fixed.text, "class Point:\n    pass\n");
    let proof = prover
        .prove(ProofInput {
            path: Path::new("geo.py"),
            before,
            after: &fixed.text,
        })
        .await
        .unwrap();
    assert_eq!(proof.map(|p| p.class).as_deref(), Some("ruff_safe_fix"));
    // Nothing is changed with the repository's rules alone (UP is not selected).
    let (repo_only, _) = fixer_in(dir.path(), FixRules::Repo).await;
    assert_eq!(
        repo_only
            .fix(Path::new("geo.py"), before)
            .await
            .unwrap()
            .text,
        before
    );
}
