use noctune_core::editor::OpOutcome;
use noctune_core::{EditOp, RefusalReason, SymbolEditor};
use pretty_assertions::assert_eq;

use super::PythonEditor;

const SAMPLE: &str = include_str!("../../tests/fixtures/sample.py");

fn replace(symbol: &str, code: &str) -> EditOp {
    EditOp::ReplaceSymbol {
        symbol: symbol.into(),
        code: code.into(),
    }
}

fn refusal(source: &str, op: EditOp) -> RefusalReason {
    let result = PythonEditor::default().apply(source, &[op]).unwrap();
    assert_eq!(result.text, source, "a refused op changes nothing");
    result.report.ops[0].refused.clone().unwrap()
}

#[test]
fn every_symbol_replaced_by_its_own_text_is_identical() {
    let editor = PythonEditor::default();
    let outline = editor.outline(SAMPLE).unwrap();
    for symbol in outline
        .symbols
        .iter()
        .filter(|s| outline.symbol(&s.name).is_some())
    {
        let own = &SAMPLE[symbol.start_byte..symbol.end_byte];
        let result = editor.apply(SAMPLE, &[replace(&symbol.name, own)]).unwrap();
        assert_eq!(result.report.ops[0].refused, None, "{}", symbol.name);
        assert_eq!(result.text, SAMPLE, "{}", symbol.name);
        assert_eq!(result.report.ops[0].notes, Vec::<String>::new());
    }
}

#[test]
fn method_code_is_reindented_to_the_class_level() {
    let source = "class A:\n    def f(self):\n        return 1\n\n    def g(self):\n        pass\n";
    let code = "```\ndef f(self):\n    if self:\n        return '''\nx'''\n    return 2\n";
    let code = code.trim_start_matches("```\n");
    let result = PythonEditor::default()
        .apply(source, &[replace("A.f", code)])
        .unwrap();
    assert_eq!(
        result.text,
        "class A:\n    def f(self):\n        if self:\n            return '''\nx'''\n        return 2\n\n    def g(self):\n        pass\n"
    );
    assert_eq!(
        result.report.ops[0].notes,
        vec!["re-indented from 0 to 4 columns".to_owned()]
    );
}

#[test]
fn tabs_and_crlf_of_the_file_are_kept() {
    let source = "class A:\r\n\tdef f(self):\r\n\t\treturn 1\r\n";
    let result = PythonEditor::default()
        .apply(
            source,
            &[replace(
                "A.f",
                "    def f(self):\n        x = 2\n        return x\n",
            )],
        )
        .unwrap();
    assert_eq!(
        result.text,
        "class A:\r\n\tdef f(self):\r\n\t\tx = 2\r\n\t\treturn x\r\n"
    );
    assert_eq!(
        result.report.ops[0].notes,
        vec![
            "re-indented from 4 to 8 columns".to_owned(),
            "indentation converted from 4 spaces to tabs".to_owned(),
            "line endings converted to \\r\\n".to_owned(),
        ]
    );
}

#[test]
fn refuses_a_missing_symbol_with_the_closest_names() {
    assert_eq!(
        refusal(SAMPLE, replace("Base.methd", "def methd(self): pass")),
        RefusalReason::SymbolNotFound {
            symbol: "Base.methd".into(),
            closest: vec!["Base.method".into(), "Base.amethod".into()],
        }
    );
    assert_eq!(
        refusal(SAMPLE, replace("prop", "def prop(self): pass")),
        RefusalReason::SymbolNotFound {
            symbol: "prop".into(),
            closest: vec!["Base.prop".into()],
        }
    );
}

#[test]
fn refuses_an_ambiguous_symbol() {
    assert_eq!(
        refusal(
            SAMPLE,
            replace("platform_func", "def platform_func(): pass")
        ),
        RefusalReason::AmbiguousSymbol {
            symbol: "platform_func".into(),
            count: 2,
        }
    );
}

#[test]
fn refuses_the_wrong_kind_or_name() {
    assert_eq!(
        refusal(SAMPLE, replace("helper", "class helper:\n    pass\n")),
        RefusalReason::WrongShape {
            expected: "function `helper`".into(),
            found: "class `helper`".into(),
        }
    );
    assert_eq!(
        refusal(SAMPLE, replace("helper", "def helper2(x):\n    return x\n")),
        RefusalReason::WrongShape {
            expected: "function `helper`".into(),
            found: "function `helper2`".into(),
        }
    );
    assert_eq!(
        refusal(
            SAMPLE,
            replace("fetch", "def fetch(url):\n    return b''\n")
        ),
        RefusalReason::WrongShape {
            expected: "async function `fetch`".into(),
            found: "function `fetch`".into(),
        }
    );
    assert_eq!(
        refusal(
            SAMPLE,
            replace(
                "helper",
                "def helper(x):\n    return x\n\ndef extra():\n    pass\n"
            )
        ),
        RefusalReason::WrongShape {
            expected: "one `def` or `class`".into(),
            found: "2 top-level statements (`def helper(x):`, `def extra():`)".into(),
        }
    );
    assert_eq!(
        refusal(SAMPLE, replace("helper", "x = 1\n")),
        RefusalReason::WrongShape {
            expected: "one `def` or `class`".into(),
            found: "`x = 1`".into(),
        }
    );
    assert_eq!(
        refusal(SAMPLE, replace("helper", "\n\n")),
        RefusalReason::WrongShape {
            expected: "function `helper`".into(),
            found: "no code".into(),
        }
    );
    assert_eq!(
        refusal(SAMPLE, replace("<imports>", "import os\nprint(os)\n")),
        RefusalReason::WrongShape {
            expected: "statements for import block".into(),
            found: "`print(os)`".into(),
        }
    );
}

#[test]
fn refuses_code_that_does_not_parse() {
    assert_eq!(
        refusal(SAMPLE, replace("helper", "def helper(x:\n    return x\n")),
        RefusalReason::DoesNotParse {
            message: "line 1, column 1: unexpected `def helper(x:`".into(),
        }
    );
}

#[test]
fn refuses_a_second_op_on_a_changed_symbol() {
    let ops = [
        replace("Base.method", "def method(self):\n    return 1\n"),
        replace("Base", "class Base:\n    pass\n"),
        replace("Base.method", "def method(self):\n    return 2\n"),
    ];
    let result = PythonEditor::default().apply(SAMPLE, &ops).unwrap();
    let refused: Vec<_> = result
        .report
        .ops
        .iter()
        .map(|o| o.refused.clone())
        .collect();
    assert_eq!(
        refused,
        vec![
            None,
            Some(RefusalReason::Conflict {
                symbol: "Base.method".into()
            }),
            Some(RefusalReason::Conflict {
                symbol: "Base.method".into()
            }),
        ]
    );
    assert!(
        result
            .text
            .contains("    def method(self):\n        return 1\n\n    # leading")
    );
}

#[test]
fn refuses_a_non_import_line() {
    let op = EditOp::AddImports {
        imports: vec!["import re".into(), "re.compile('x')".into()],
    };
    assert_eq!(
        refusal(SAMPLE, op),
        RefusalReason::NotAnImport {
            line: "re.compile('x')".into()
        }
    );
}

#[test]
fn insert_after_places_a_new_definition() {
    let source = "class A:\n    def f(self):\n        return 1\n\n\ndef g():\n    pass\n";
    let ops = [
        EditOp::InsertAfter {
            after: "A.f".into(),
            code: "def h(self):\n    return 3".into(),
        },
        EditOp::InsertAfter {
            after: "g".into(),
            code: "async def k():\n    pass\n".into(),
        },
        EditOp::InsertAfter {
            after: "g".into(),
            code: "def g():\n    pass\n".into(),
        },
    ];
    let result = PythonEditor::default().apply(source, &ops).unwrap();
    assert_eq!(
        result.text,
        "class A:\n    def f(self):\n        return 1\n\n    def h(self):\n        return 3\n\n\ndef g():\n    pass\n\n\nasync def k():\n    pass\n"
    );
    assert_eq!(
        result.report.ops[2].refused,
        Some(RefusalReason::WrongShape {
            expected: "a definition with a new name".into(),
            found: "function `g` (it already exists)".into(),
        })
    );
}

#[test]
fn add_imports_merges_dedups_and_keeps_future_first() {
    let source =
        "\"\"\"Doc.\"\"\"\nimport os\nfrom typing import Any\n\n\ndef f():\n    import json\n";
    let op = EditOp::AddImports {
        imports: vec![
            "import os".into(),
            "from typing import Any, Optional".into(),
            "import json".into(),
            "from __future__ import annotations".into(),
        ],
    };
    let result = PythonEditor::default().apply(source, &[op]).unwrap();
    assert_eq!(
        result.text,
        "\"\"\"Doc.\"\"\"\n\nfrom __future__ import annotations\nimport os\nfrom typing import Any\nimport json\nfrom typing import Optional\n\n\ndef f():\n    import json\n"
    );
    assert_eq!(
        result.report.ops,
        vec![OpOutcome {
            index: 0,
            target: "<imports>".into(),
            refused: None,
            notes: vec![
                "already imported: `import os`".into(),
                "already imported: `from typing import Any`".into(),
                "added: import json; from typing import Optional".into(),
                "added: from __future__ import annotations".into(),
            ],
        }]
    );
}

#[test]
fn add_imports_without_an_import_block() {
    let source = "#!/usr/bin/env python\n# License.\nX = 1\n";
    let op = EditOp::AddImports {
        imports: vec!["import sys".into()],
    };
    let result = PythonEditor::default().apply(source, &[op]).unwrap();
    assert_eq!(
        result.text,
        "#!/usr/bin/env python\n# License.\nimport sys\n\nX = 1\n"
    );
}
