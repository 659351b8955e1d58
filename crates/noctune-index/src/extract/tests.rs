use noctune_core::{Outline, SymbolKind};
use pretty_assertions::assert_eq;

use super::outline;

const SAMPLE: &str = include_str!("../../tests/fixtures/sample.py");

fn names(outline: &Outline) -> Vec<(String, SymbolKind, usize, usize)> {
    outline
        .symbols
        .iter()
        .map(|s| (s.name.clone(), s.kind, s.start_line, s.end_line))
        .collect()
}

fn own(
    name: &str,
    kind: SymbolKind,
    start: usize,
    end: usize,
) -> (String, SymbolKind, usize, usize) {
    (name.to_owned(), kind, start, end)
}

#[test]
fn sample_symbols_with_ranges() {
    let outline = outline(SAMPLE.as_bytes()).unwrap();
    use SymbolKind::*;
    assert_eq!(
        names(&outline),
        vec![
            own("<docstring>", ModuleCode, 1, 5),
            own("<imports>", ImportBlock, 6, 13),
            own("<assignments>", Assignments, 15, 16),
            own("helper", Function, 19, 22),
            own("fetch", AsyncFunction, 25, 33),
            own("fetch.inner", Function, 31, 32),
            own("Base", Class, 36, 56),
            own("Base.method", Method, 41, 47),
            own("Base.amethod", AsyncMethod, 49, 52),
            own("Base.amethod.Nested", Class, 51, 52),
            own("Base.amethod.Nested.deep", Method, 52, 52),
            own("Base.prop", Method, 54, 56),
            own("<module_code>", ModuleCode, 59, 64),
            own("platform_func", Function, 60, 61),
            own("platform_func", Function, 63, 64),
            own("<main>", MainBlock, 67, 68),
        ]
    );
    assert!(!outline.has_syntax_errors);
    let fetch = outline.symbol("fetch").unwrap();
    assert_eq!(
        fetch.signature.as_deref(),
        Some("async def fetch(url: str, timeout: float = 1.0) -> bytes:")
    );
    assert_eq!(
        outline.symbol("Base").unwrap().docstring.as_deref(),
        Some("Base class.")
    );
    assert_eq!(
        outline.symbol("helper").unwrap().docstring.as_deref(),
        Some("Return x.")
    );
    // The range is whole lines: from the leading comment to the end of the trailing comment.
    let helper = outline.symbol("helper").unwrap();
    assert_eq!(
        &SAMPLE[helper.start_byte..helper.end_byte],
        "# Helpers below.\ndef helper(x):\n    \"\"\"Return x.\"\"\"\n    return x  # trailing"
    );
    let method = outline.symbol("Base.method").unwrap();
    assert!(SAMPLE[method.start_byte..method.end_byte].ends_with("# deeper trailing comment"));
    assert!(SAMPLE[method.start_byte..method.end_byte].starts_with("    # Comment for method."));
}

#[test]
fn sample_imports() {
    let outline = outline(SAMPLE.as_bytes()).unwrap();
    let imports: Vec<_> = outline
        .imports
        .iter()
        .map(|i| (i.line, i.module.as_str(), i.names.join(",")))
        .collect();
    assert_eq!(
        imports,
        vec![
            (6, "__future__", "annotations".to_owned()),
            (8, "os", String::new()),
            (9, "sys", String::new()),
            (
                10,
                "collections",
                "OrderedDict,defaultdict as dd".to_owned()
            ),
            (29, "json", String::new()),
        ]
    );
}

#[test]
fn bom_crlf_tabs_empty_and_broken_files() {
    let empty = outline(b"").unwrap();
    assert_eq!(empty, Outline::default());

    let bom = "\u{feff}def f():\n    pass\n";
    let o = outline(bom.as_bytes()).unwrap();
    assert_eq!(names(&o), vec![own("f", SymbolKind::Function, 1, 2)]);
    assert_eq!(
        &bom[o.symbols[0].start_byte..o.symbols[0].end_byte],
        "def f():\n    pass"
    );

    let crlf = "class A:\r\n\tdef m(self):\r\n\t\treturn 1\r\n\r\nx = 1\r\n";
    let o = outline(crlf.as_bytes()).unwrap();
    let m = o.symbol("A.m").unwrap();
    assert_eq!(
        &crlf[m.start_byte..m.end_byte],
        "\tdef m(self):\r\n\t\treturn 1"
    );

    let latin1: &[u8] = b"# -*- coding: latin-1 -*-\ndef caf\xe9():\n    return '\xe9'\n";
    let o = outline(latin1).unwrap();
    assert_eq!(o.symbols.len(), 1);
    assert_eq!(o.symbols[0].kind, SymbolKind::Function);

    let broken = "def ok():\n    return 1\n\ndef broken(:\n    pass\n\nclass C:\n    def m(self):\n        pass\n";
    let o = outline(broken.as_bytes()).unwrap();
    assert!(o.has_syntax_errors);
    assert!(o.symbol("ok").is_some());
    assert!(o.symbol("C.m").is_some(), "{:#?}", o.symbols);
}

#[test]
fn methods_under_a_class_lost_in_a_syntax_error_are_recovered_by_indentation() {
    // Valid Python (`ast.parse` accepts it) that tree-sitter-python 0.25 cannot parse: the
    // dedented continuation lines (from CPython's test_compile.py) turn the module into one
    // ERROR node, with `class B` swallowed and B's methods left at its top level. Their
    // indentation says whose they are.
    let source = "class A:\n    def weird(self):\n        def f():\n            (bar.\n        baz)\n            (bar.\n        baz(\n        ))\n            files().setdefault(\n                0\n            ).setdefault(\n                0\n            )\n        return f\n\n\nclass B(Base):\n    # a comment\n    X = 1\n\n    def m(self):\n        pass\n\n    @property\n    def p(self):\n        return 2\n";
    let outline = outline(source.as_bytes()).unwrap();
    assert!(outline.has_syntax_errors);
    let kinds: Vec<(String, SymbolKind)> = outline
        .symbols
        .iter()
        .filter(|s| s.kind.is_definition())
        .map(|s| (s.name.clone(), s.kind))
        .collect();
    for expected in [
        ("B.m".to_owned(), SymbolKind::Method),
        ("B.p".to_owned(), SymbolKind::Method),
    ] {
        assert!(kinds.contains(&expected), "{expected:?} not in {kinds:?}");
    }
    assert!(
        !kinds.iter().any(|(n, _)| n == "m" || n == "p"),
        "methods reported as functions: {kinds:?}"
    );
}
