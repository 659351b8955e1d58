//! Turning a model's code answer into edit ops, with the real tree-sitter editor: every
//! adjustment the measured small-model answers need.

use noctune_core::SymbolEditor;
use noctune_core::editor::EditOp;
use noctune_core::pipeline::edit_answer::answer_to_ops;
use noctune_index::PythonEditor;
use pretty_assertions::assert_eq;

const FILE: &str = "import os\n\n\nclass Shape:\n    def area(self):\n        return 0\n\n\ndef helper():\n    return os.sep\n";

fn ops(target: &str, answer: &str) -> Result<(Vec<EditOp>, Vec<String>), String> {
    let editor = PythonEditor::default();
    let outline = editor.outline(FILE).unwrap();
    let symbol = outline.symbol(target).unwrap().clone();
    answer_to_ops(&editor, &outline, &symbol, answer)
        .unwrap()
        .map(|parsed| (parsed.ops, parsed.notes))
}

fn replace(symbol: &str, code: &str) -> EditOp {
    EditOp::ReplaceSymbol {
        symbol: symbol.into(),
        code: code.into(),
    }
}

#[test]
fn a_plain_answer_becomes_one_replace() {
    let (ops, notes) = ops("helper", "def helper():\n    return os.sep * 2\n").unwrap();
    assert_eq!(
        ops,
        vec![replace("helper", "def helper():\n    return os.sep * 2")]
    );
    assert!(notes.is_empty(), "{notes:?}");
}

#[test]
fn qualified_headers_redeclared_classes_and_imports_are_absorbed() {
    let answer = "from typing import *\nimport math\nfrom shapes import helper\n\nclass Shape:\n    def Shape.area(self) -> float:\n        return math.pi\n";
    let (ops, notes) = ops("Shape.area", answer).unwrap();
    assert_eq!(
        ops,
        vec![
            replace("Shape.area", "def area(self) -> float:\n    return math.pi"),
            EditOp::AddImports {
                imports: vec!["import math".into()]
            },
        ]
    );
    let notes = notes.join("\n");
    for expected in [
        "fixed `def Shape.area` header",
        "took `Shape.area` out of a re-declared `Shape`",
        "dropped star import `from typing import *`",
        "dropped `from shapes import helper`: it would shadow `helper`",
    ] {
        assert!(
            notes.contains(expected),
            "missing `{expected}` in:\n{notes}"
        );
    }
}

#[test]
fn new_helpers_are_inserted_and_known_ones_dropped() {
    let answer = "def _twice(x):\n    return 2 * x\n\ndef helper():\n    return _twice(os.sep)\n\ndef area():\n    return 1\n";
    let (ops, notes) = ops("helper", answer).unwrap();
    assert_eq!(
        ops,
        vec![
            replace("helper", "def helper():\n    return _twice(os.sep)"),
            EditOp::InsertAfter {
                after: "helper".into(),
                code: "def _twice(x):\n    return 2 * x".into(),
            },
            // The file's `area` is a method (`Shape.area`): a top-level `area` is new too.
            EditOp::InsertAfter {
                after: "helper".into(),
                code: "def area():\n    return 1".into(),
            },
        ]
    );
    assert!(
        notes.iter().any(|n| n.contains("new symbol `_twice`")),
        "{notes:?}"
    );
}

#[test]
fn an_answer_without_the_target_is_refused_with_what_it_defines() {
    let err = ops("helper", "def other():\n    pass\n").unwrap_err();
    assert_eq!(
        err,
        "the answer has no function `helper` (it defines: other)"
    );
    let err = ops("helper", "x = (\n").unwrap_err();
    assert!(
        err.starts_with("the answer has no function `helper`"),
        "{err}"
    );
}

#[test]
fn the_whole_answer_replaces_a_module_chunk() {
    let editor = PythonEditor::default();
    let outline = editor.outline(FILE).unwrap();
    let chunk = outline
        .symbols
        .iter()
        .find(|s| !s.kind.is_definition())
        .unwrap()
        .clone();
    let parsed = answer_to_ops(&editor, &outline, &chunk, "import os\nimport sys\n")
        .unwrap()
        .unwrap();
    assert_eq!(
        parsed.ops,
        vec![replace(&chunk.name, "import os\nimport sys\n")]
    );
}
