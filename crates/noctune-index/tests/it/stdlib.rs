//! Extraction and the editor on a deterministic sample of the real standard library: symbol
//! counts against Python's own `ast`, and round-trip identity of every symbol. The whole corpus
//! is checked by `noctune-index-bench roundtrip` and `count` (see docs/benchmarks.md).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use noctune_core::{EditOp, SymbolEditor, SymbolKind};
use noctune_index::PythonEditor;
use pretty_assertions::assert_eq;

use crate::corpus::stdlib_sample;

const AST_COUNT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ast_count.py");

/// Counts per kind name, summed over files, from Python's `ast` (files it cannot parse are
/// left out of both sides).
fn ast_counts(files: &[PathBuf]) -> BTreeMap<PathBuf, Option<BTreeMap<String, usize>>> {
    let mut child = Command::new("python3")
        .arg(AST_COUNT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 must be on PATH");
    let list: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn symbol_counts_match_python_ast_within_half_a_percent() {
    let files = stdlib_sample(12);
    let reference = ast_counts(&files);
    let mut ours: BTreeMap<String, usize> = BTreeMap::new();
    let mut theirs: BTreeMap<String, usize> = BTreeMap::new();
    for file in &files {
        let Some(Some(counts)) = reference.get(file) else {
            continue;
        };
        for (kind, n) in counts {
            *theirs.entry(kind.clone()).or_default() += n;
        }
        let source = std::fs::read(file).unwrap();
        let outline = noctune_index::outline(&source).unwrap();
        for symbol in outline.symbols.iter().filter(|s| s.kind.is_definition()) {
            *ours.entry(symbol.kind.as_str().to_owned()).or_default() += 1;
        }
    }
    let total: usize = theirs.values().sum();
    assert!(total > 2000, "sample too small: {total}");
    for (kind, expected) in &theirs {
        let found = ours.get(kind).copied().unwrap_or(0);
        let diff = found.abs_diff(*expected) as f64;
        assert!(
            diff <= (*expected as f64 * 0.005).max(1.0),
            "{kind}: ours {found}, ast {expected}\nours: {ours:?}\nast:  {theirs:?}"
        );
    }
}

#[test]
fn every_symbol_of_the_sample_round_trips_byte_identically() {
    let editor = PythonEditor::default();
    let mut checked = 0;
    let mut failures = Vec::new();
    for file in stdlib_sample(12) {
        let Ok(source) = std::fs::read_to_string(&file) else {
            continue; // not UTF-8: the editor works on text
        };
        let outline = editor.outline(&source).unwrap();
        for symbol in &outline.symbols {
            if outline.symbol(&symbol.name).is_none() {
                continue; // ambiguous names are refused, by design
            }
            let own = &source[symbol.start_byte..symbol.end_byte];
            let op = EditOp::ReplaceSymbol {
                symbol: symbol.name.clone(),
                code: own.to_owned(),
            };
            let result = editor
                .apply_outlined(&source, &outline, std::slice::from_ref(&op))
                .unwrap();
            checked += 1;
            let refused = &result.report.ops[0].refused;
            let syntax_ok = !outline.has_syntax_errors;
            if result.text != source || (refused.is_some() && syntax_ok) {
                failures.push(format!("{}: {} {refused:?}", file.display(), symbol.name));
            }
        }
    }
    assert!(checked > 3000, "sample too small: {checked}");
    assert_eq!(failures, Vec::<String>::new());
    let _ = SymbolKind::Function;
}
