//! A minimal `SymbolEditor` for top-level functions only, found by `def ` at column 0. It shows
//! the contract (refuse with a reason, apply the rest, identity on own text); `noctune-index`
//! has the real, tree-sitter based editor.

use noctune_core::editor::OpOutcome;
use noctune_core::{
    ApplyReport, EditOp, EditResult, Outline, RefusalReason, Result, Symbol, SymbolEditor,
    SymbolKind,
};

/// Finds top-level `def`s by their first column and replaces them whole.
#[derive(Debug, Default)]
pub struct TopLevelDefs;

impl SymbolEditor for TopLevelDefs {
    fn outline(&self, source: &str) -> Result<Outline> {
        let mut symbols: Vec<Symbol> = Vec::new();
        let mut offset = 0;
        for (i, line) in source.split_inclusive('\n').enumerate() {
            let top_level = !line.starts_with([' ', '\t', '\n', '#']);
            if let Some(last) = symbols.last_mut()
                && top_level
                && last.end_byte == usize::MAX
            {
                last.end_byte = offset;
                last.end_line = i;
            }
            if let Some(rest) = line.strip_prefix("def ") {
                let name = rest.split('(').next().unwrap_or_default().trim().to_owned();
                symbols.push(Symbol {
                    name,
                    kind: SymbolKind::Function,
                    start_byte: offset,
                    end_byte: usize::MAX,
                    start_line: i + 1,
                    end_line: usize::MAX,
                    signature: Some(line.trim_end().to_owned()),
                    docstring: None,
                });
            }
            offset += line.len();
        }
        let lines = source.split_inclusive('\n').count();
        if let Some(last) = symbols.last_mut()
            && last.end_byte == usize::MAX
        {
            last.end_byte = source.len();
            last.end_line = lines;
        }
        Ok(Outline {
            symbols,
            imports: vec![],
            has_syntax_errors: false,
        })
    }

    fn apply(&self, source: &str, ops: &[EditOp]) -> Result<EditResult> {
        let mut text = source.to_owned();
        let mut report = ApplyReport::default();
        for (index, op) in ops.iter().enumerate() {
            let refused = match op {
                EditOp::ReplaceSymbol { symbol, code } => {
                    let outline = self.outline(&text)?;
                    match outline.symbol(symbol) {
                        Some(found) if code.starts_with(&format!("def {symbol}(")) => {
                            text.replace_range(found.start_byte..found.end_byte, code);
                            None
                        }
                        Some(_) => Some(RefusalReason::WrongShape {
                            expected: format!("function `{symbol}`"),
                            found: code.lines().next().unwrap_or_default().to_owned(),
                        }),
                        None => Some(RefusalReason::SymbolNotFound {
                            symbol: symbol.clone(),
                            closest: outline.symbols.iter().map(|s| s.name.clone()).collect(),
                        }),
                    }
                }
                other => Some(RefusalReason::WrongShape {
                    expected: "replace_symbol".into(),
                    found: format!("{other:?}"),
                }),
            };
            report.ops.push(OpOutcome {
                index,
                target: op.target().to_owned(),
                refused,
                notes: vec![],
            });
        }
        Ok(EditResult { text, report })
    }
}
