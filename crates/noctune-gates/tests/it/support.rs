//! Shared helpers: the real tools (a missing ruff fails the test, never skips it) and a tiny
//! symbol editor for outlines.

use std::path::Path;
use std::sync::Arc;

use noctune_core::editor::OpOutcome;
use noctune_core::{
    ApplyReport, EditOp, EditResult, Outline, RefusalReason, Symbol, SymbolEditor, SymbolKind,
};
use noctune_gates::{Gates, Tools};

/// The real tools; panics with instructions when ruff is missing.
pub async fn tools() -> Tools {
    match Tools::detect(true).await {
        Ok(tools) => {
            assert!(
                tools.python.is_some(),
                "python3 must be on PATH for these tests"
            );
            tools
        }
        Err(err) => panic!(
            "these tests need the pinned ruff: run scripts/test, or put it first on PATH \
             (PATH=/work/main/.tools/bin:$PATH): {err}"
        ),
    }
}

/// Gates over `root` with the test editor.
pub async fn gates(root: &Path) -> Gates {
    Gates::from_tools(root, tools().await, Some(editor()))
}

/// The test editor as a trait object.
pub fn editor() -> Arc<dyn SymbolEditor> {
    Arc::new(IndentEditor)
}

/// Writes `text` to `root/rel`, creating directories.
pub fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Outlines by indentation: top-level `def`/`class` (with decorators) and `def`s indented by
/// four spaces inside a class, plus `<imports>` for the leading import lines. Enough for
/// tests; the real editor is tree-sitter based (noctune-index).
#[derive(Debug, Default)]
pub struct IndentEditor;

impl IndentEditor {
    fn symbols(source: &str) -> Vec<Symbol> {
        let lines: Vec<&str> = source.lines().collect();
        let mut symbols = Vec::new();
        let header = |line: &str, indent: usize| -> Option<(String, bool)> {
            let rest = line.strip_prefix(&" ".repeat(indent))?;
            if rest.starts_with(' ') {
                return None;
            }
            let rest = rest.strip_prefix("async ").unwrap_or(rest);
            let (is_class, rest) = if let Some(r) = rest.strip_prefix("class ") {
                (true, r)
            } else {
                (false, rest.strip_prefix("def ")?)
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            Some((name, is_class))
        };
        let block_end = |start: usize, indent: usize| -> usize {
            let mut end = start;
            for (i, line) in lines.iter().enumerate().skip(start + 1) {
                let trimmed = line.trim_start();
                if trimmed.is_empty() {
                    continue;
                }
                if line.len() - trimmed.len() <= indent {
                    break;
                }
                end = i;
            }
            end
        };
        let import_end = lines
            .iter()
            .take_while(|l| l.starts_with("import ") || l.starts_with("from ") || l.is_empty())
            .count();
        if lines
            .iter()
            .take(import_end)
            .any(|l| l.starts_with("import ") || l.starts_with("from "))
        {
            let last = lines[..import_end]
                .iter()
                .rposition(|l| !l.is_empty())
                .unwrap_or(0);
            symbols.push(symbol("<imports>", SymbolKind::ImportBlock, 0, last));
        }
        for (i, line) in lines.iter().enumerate() {
            if let Some((name, is_class)) = header(line, 0) {
                let end = block_end(i, 0);
                let kind = if is_class {
                    SymbolKind::Class
                } else {
                    SymbolKind::Function
                };
                symbols.push(symbol(&name, kind, i, end));
                if is_class {
                    for (j, inner) in lines.iter().enumerate().take(end + 1).skip(i + 1) {
                        if let Some((method, false)) = header(inner, 4) {
                            let method_end = block_end(j, 4);
                            symbols.push(symbol(
                                &format!("{name}.{method}"),
                                SymbolKind::Method,
                                j,
                                method_end,
                            ));
                        }
                    }
                }
            }
        }
        symbols
    }
}

fn symbol(name: &str, kind: SymbolKind, start: usize, end: usize) -> Symbol {
    Symbol {
        name: name.to_owned(),
        kind,
        start_byte: 0,
        end_byte: 0,
        start_line: start + 1,
        end_line: end + 1,
        signature: None,
        docstring: None,
    }
}

impl SymbolEditor for IndentEditor {
    fn outline(&self, source: &str) -> noctune_core::Result<Outline> {
        Ok(Outline {
            symbols: Self::symbols(source),
            imports: Vec::new(),
            has_syntax_errors: false,
        })
    }

    fn apply(&self, source: &str, ops: &[EditOp]) -> noctune_core::Result<EditResult> {
        let mut text = source.to_owned();
        let mut report = ApplyReport::default();
        for (index, op) in ops.iter().enumerate() {
            let refused = match op {
                EditOp::ReplaceSymbol { symbol, code } => {
                    match Self::symbols(&text).into_iter().find(|s| &s.name == symbol) {
                        Some(found) => {
                            let lines: Vec<&str> = text.lines().collect();
                            let indent: String = lines[found.start_line - 1]
                                .chars()
                                .take_while(|c| *c == ' ')
                                .collect();
                            let mut out: Vec<String> = lines[..found.start_line - 1]
                                .iter()
                                .map(|l| (*l).to_owned())
                                .collect();
                            for line in code.lines() {
                                if line.is_empty() {
                                    out.push(String::new());
                                } else {
                                    out.push(format!("{indent}{line}"));
                                }
                            }
                            out.extend(lines[found.end_line..].iter().map(|l| (*l).to_owned()));
                            text = out.join("\n") + "\n";
                            None
                        }
                        None => Some(RefusalReason::SymbolNotFound {
                            symbol: symbol.clone(),
                            closest: Vec::new(),
                        }),
                    }
                }
                other => Some(RefusalReason::SymbolNotFound {
                    symbol: other.target().to_owned(),
                    closest: Vec::new(),
                }),
            };
            report.ops.push(OpOutcome {
                index,
                target: op.target().to_owned(),
                refused,
                notes: Vec::new(),
            });
        }
        Ok(EditResult { text, report })
    }
}
