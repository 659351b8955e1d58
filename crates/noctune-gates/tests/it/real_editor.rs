//! The gates with the real tree-sitter editor (`noctune_index::PythonEditor`) mapping
//! diagnostics to symbols.

use std::path::Path;
use std::sync::Arc;

use noctune_core::{Gate, GateInput, GateOutcome};
use noctune_gates::Gates;
use noctune_index::PythonEditor;
use pretty_assertions::assert_eq;

use crate::support::{tools, write};

const BEFORE: &str = "\
import os


class Store:
    def load(self, path):
        unused = 1
        return open(path).read()

    def save(self, path, data):
        with open(path, \"w\") as f:
            f.write(data)
";

#[tokio::test]
async fn methods_are_told_apart_and_moves_are_not_new() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ruff.toml", "[lint]\nselect = [\"F\"]\n");
    let gates = Gates::from_tools(
        dir.path(),
        tools().await,
        Some(Arc::new(PythonEditor::new())),
    );
    let ruff = gates.ruff_gate().unwrap();
    // A docstring moves everything down; `save` gains its own unused variable.
    let after = BEFORE
        .replace(
            "class Store:\n",
            "class Store:\n    \"\"\"Files on disk.\"\"\"\n\n",
        )
        .replace(
            "        with open(path, \"w\") as f:",
            "        unused = 2\n        with open(path, \"w\") as f:",
        );
    let report = ruff
        .check(GateInput {
            path: Path::new("store.py"),
            before: Some(BEFORE),
            after: &after,
        })
        .await
        .unwrap();
    assert_eq!(report.outcome, GateOutcome::Fail);
    let mut seen: Vec<_> = report
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.code.clone().unwrap(),
                d.symbol.clone().unwrap_or_default(),
                d.introduced,
            )
        })
        .collect();
    seen.sort();
    let import_symbol = report
        .diagnostics
        .iter()
        .find(|d| d.code.as_deref() == Some("F401"))
        .and_then(|d| d.symbol.clone())
        .unwrap_or_default();
    assert_eq!(
        seen,
        vec![
            ("F401".to_owned(), import_symbol, false),
            ("F841".to_owned(), "Store.load".to_owned(), false),
            ("F841".to_owned(), "Store.save".to_owned(), true),
        ]
    );
}
