//! The parse gate: target version, error location, fallbacks.

use std::path::Path;
use std::sync::Arc;

use noctune_core::{Diagnostic, Gate, GateInput, GateOutcome, Location};
use noctune_gates::{ParseBackend, ParseGate, ProjectConfig, PythonVersion, Tools};
use pretty_assertions::assert_eq;

use crate::support::{editor, tools, write};

const NEWLINE_IN_FSTRING: &str = "def f(lines):\n    return f\"{'\\n'.join(lines)}\"\n";

async fn outcome(gate: &ParseGate, path: &str, text: &str) -> GateOutcome {
    gate.check(GateInput {
        path: Path::new(path),
        before: None,
        after: text,
    })
    .await
    .unwrap()
    .outcome
}

#[tokio::test]
async fn syntax_is_judged_against_the_repository_target_version() {
    let tools = tools().await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "new/ruff.toml", "target-version = \"py312\"\n");
    write(
        dir.path(),
        "pyproject.toml",
        "[project]\nname = \"x\"\nrequires-python = \">=3.11\"\n",
    );
    let config = Arc::new(ProjectConfig::new(dir.path(), Some(PythonVersion::py3(13))));
    for backend in [ParseBackend::Ruff(tools.ruff.clone().unwrap())] {
        let gate = ParseGate::new(backend, config.clone());
        // requires-python >= 3.11: the PEP 701 f-string is a syntax error there...
        assert_eq!(
            outcome(&gate, "old/m.py", NEWLINE_IN_FSTRING).await,
            GateOutcome::Fail
        );
        // ...and fine where ruff.toml says py312.
        assert_eq!(
            outcome(&gate, "new/m.py", NEWLINE_IN_FSTRING).await,
            GateOutcome::Pass
        );
    }
}

#[tokio::test]
async fn a_failure_names_line_column_message_symbol_and_whether_it_is_new() {
    let tools = tools().await;
    let dir = tempfile::tempdir().unwrap();
    let config = Arc::new(ProjectConfig::new(dir.path(), Some(PythonVersion::py3(11))));
    let gate = ParseGate::new(ParseBackend::Ruff(tools.ruff.clone().unwrap()), config)
        .with_editor(editor());
    let before = "import os\n\n\ndef f(x):\n    return x\n\n\ndef g():\n    pass\n";
    let after = "import os\n\n\ndef f(x):\n    return x\n\n\ndef g()\n    pass\n";
    let report = gate
        .check(GateInput {
            path: Path::new("m.py"),
            before: Some(before),
            after,
        })
        .await
        .unwrap();
    assert_eq!(report.outcome, GateOutcome::Fail);
    assert_eq!(
        report.diagnostics,
        vec![Diagnostic {
            code: Some("invalid-syntax".to_owned()),
            message: "Expected `:`, found newline".to_owned(),
            location: Some(Location { line: 8, column: 8 }),
            end_location: Some(Location { line: 9, column: 1 }),
            symbol: Some("g".to_owned()),
            introduced: true,
            fixable: false,
        }]
    );
    assert_eq!(
        report.summary,
        "invalid Python 3.11 syntax at 8:8: Expected `:`, found newline"
    );
    assert_eq!(report.tool.as_deref(), Some("ruff 0.17.5"));
}

#[tokio::test]
async fn without_ruff_python3_decides_and_without_either_nobody_does() {
    let tools = tools().await;
    let dir = tempfile::tempdir().unwrap();
    let python = tools.python.clone().unwrap();
    let config = Arc::new(ProjectConfig::new(dir.path(), Some(python.version())));
    let gate = ParseGate::new(ParseBackend::Python(python.clone()), config.clone());
    assert_eq!(
        outcome(&gate, "m.py", "def f():\n    return 1\n").await,
        GateOutcome::Pass
    );
    let report = gate
        .check(GateInput {
            path: Path::new("m.py"),
            before: None,
            after: "def f():\nreturn 1\n",
        })
        .await
        .unwrap();
    assert_eq!(report.outcome, GateOutcome::Fail);
    assert_eq!(report.diagnostics[0].location.map(|l| l.line), Some(2));
    assert!(
        report.diagnostics[0].message.contains("indented block"),
        "{:?}",
        report.diagnostics
    );
    assert!(report.tool.unwrap().ends_with("ast.parse"));

    let nobody = ParseGate::new(ParseBackend::Unavailable, config);
    let report = nobody
        .check(GateInput {
            path: Path::new("m.py"),
            before: None,
            after: "x = 1\n",
        })
        .await
        .unwrap();
    assert_eq!(report.outcome, GateOutcome::Undecided);
    assert!(!report.passed());
}

#[tokio::test]
async fn a_missing_ruff_is_one_clear_error_when_required() {
    let empty = tempfile::tempdir().unwrap();
    let err = Tools::detect_in(empty.path().as_os_str(), true)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("`ruff` was not found on PATH"),
        "{err}"
    );
    assert!(err.to_string().contains("ruff_required"), "{err}");
    let tools = Tools::detect_in(empty.path().as_os_str(), false)
        .await
        .unwrap();
    assert!(tools.ruff.is_none() && tools.python.is_none());
}
