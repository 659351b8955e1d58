//! The [`SymbolEditor`] trait and the edit ops it applies.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::symbol::{Import, Symbol};

/// One edit, addressed by symbol name. Models never send diffs: they send code for a symbol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "op")]
pub enum EditOp {
    /// Replace a symbol (decorators and leading comments included) with new code.
    ReplaceSymbol {
        /// The qualified name of the symbol to replace.
        symbol: String,
        /// The new code: one definition of the same kind and name.
        code: String,
    },
    /// Insert a new symbol right after an existing one, at the same level.
    InsertAfter {
        /// The qualified name of the existing symbol.
        after: String,
        /// The new code: one definition.
        code: String,
    },
    /// Add import statements to the module's import block.
    AddImports {
        /// Whole import statements (`from typing import Any`).
        imports: Vec<String>,
    },
}

impl EditOp {
    /// The symbol the op addresses (`<imports>` for [`EditOp::AddImports`]).
    pub fn target(&self) -> &str {
        match self {
            EditOp::ReplaceSymbol { symbol, .. } => symbol,
            EditOp::InsertAfter { after, .. } => after,
            EditOp::AddImports { .. } => "<imports>",
        }
    }
}

/// Why an op was refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum RefusalReason {
    /// No symbol has that name.
    SymbolNotFound {
        /// The requested name.
        symbol: String,
        /// The closest existing names, best first.
        closest: Vec<String>,
    },
    /// More than one symbol has that name (for example a redefined function).
    AmbiguousSymbol {
        /// The requested name.
        symbol: String,
        /// How many symbols have it.
        count: usize,
    },
    /// The new code is not one definition of the expected kind and name.
    WrongShape {
        /// What was expected (`method \`A.b\``).
        expected: String,
        /// What the code is.
        found: String,
    },
    /// The new code does not parse.
    DoesNotParse {
        /// The parser's message.
        message: String,
    },
    /// An import line is not an import statement.
    NotAnImport {
        /// The offending line.
        line: String,
    },
    /// Another op of the same batch already changed this symbol.
    Conflict {
        /// The symbol.
        symbol: String,
    },
}

impl std::fmt::Display for RefusalReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefusalReason::SymbolNotFound { symbol, closest } if closest.is_empty() => {
                write!(f, "no symbol `{symbol}`")
            }
            RefusalReason::SymbolNotFound { symbol, closest } => {
                write!(f, "no symbol `{symbol}`; closest: {}", closest.join(", "))
            }
            RefusalReason::AmbiguousSymbol { symbol, count } => {
                write!(f, "{count} symbols are named `{symbol}`")
            }
            RefusalReason::WrongShape { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            RefusalReason::DoesNotParse { message } => write!(f, "code does not parse: {message}"),
            RefusalReason::NotAnImport { line } => write!(f, "not an import statement: `{line}`"),
            RefusalReason::Conflict { symbol } => {
                write!(f, "`{symbol}` was already changed by an earlier op")
            }
        }
    }
}

/// What happened to one op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OpOutcome {
    /// The op's position in the batch.
    pub index: usize,
    /// The symbol it addressed.
    pub target: String,
    /// `None` when applied, else why it was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<RefusalReason>,
    /// Notes on adjustments made while applying (re-indented, `\r\n` restored).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What was applied and what was refused (`apply_report_p<N>.json`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ApplyReport {
    /// One outcome per op, in order.
    pub ops: Vec<OpOutcome>,
}

impl ApplyReport {
    /// How many ops were applied.
    pub fn applied(&self) -> usize {
        self.ops.iter().filter(|o| o.refused.is_none()).count()
    }

    /// The refused ops.
    pub fn refused(&self) -> impl Iterator<Item = &OpOutcome> {
        self.ops.iter().filter(|o| o.refused.is_some())
    }
}

/// The new text and the report of an [`SymbolEditor::apply`] call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditResult {
    /// The source with every applied op.
    pub text: String,
    /// What was applied and refused.
    pub report: ApplyReport,
}

/// A file's symbols and imports.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Outline {
    /// Every symbol, in source order (nested ones after their parent).
    pub symbols: Vec<Symbol>,
    /// Every import statement.
    pub imports: Vec<Import>,
    /// Whether the parser hit syntax errors (the symbols are what could be found).
    pub has_syntax_errors: bool,
}

impl Outline {
    /// The symbol with this qualified name, when exactly one has it.
    pub fn symbol(&self, name: &str) -> Option<&Symbol> {
        let mut found = self.symbols.iter().filter(|s| s.name == name);
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }

    /// The innermost definition containing `line` (1-based).
    pub fn symbol_at_line(&self, line: usize) -> Option<&Symbol> {
        self.symbols
            .iter()
            .filter(|s| s.contains_line(line))
            .min_by_key(|s| s.end_line - s.start_line)
    }
}

/// Finds symbols in Python source and applies [`EditOp`]s to it.
///
/// `apply` never fails because of one bad op: it refuses that op (with a [`RefusalReason`]) and
/// applies the rest. Replacing a symbol with its own text must give a byte-identical file.
///
/// ```
/// use std::sync::Arc;
/// use noctune_core::{ApplyReport, EditOp, EditResult, Outline, Result, SymbolEditor};
/// use noctune_core::editor::OpOutcome;
///
/// /// An editor that knows no symbols and refuses every op (a stand-in).
/// struct Nothing;
///
/// impl SymbolEditor for Nothing {
///     fn outline(&self, _source: &str) -> Result<Outline> {
///         Ok(Outline::default())
///     }
///
///     fn apply(&self, source: &str, ops: &[EditOp]) -> Result<EditResult> {
///         let ops = ops.iter().enumerate().map(|(index, op)| OpOutcome {
///             index,
///             target: op.target().to_owned(),
///             refused: Some(noctune_core::RefusalReason::SymbolNotFound {
///                 symbol: op.target().to_owned(),
///                 closest: vec![],
///             }),
///             notes: vec![],
///         });
///         Ok(EditResult { text: source.to_owned(), report: ApplyReport { ops: ops.collect() } })
///     }
/// }
///
/// let editor: Arc<dyn SymbolEditor> = Arc::new(Nothing);
/// let op = EditOp::ReplaceSymbol { symbol: "f".into(), code: "def f(): ...".into() };
/// let result = editor.apply("x = 1\n", &[op]).unwrap();
/// assert_eq!(result.text, "x = 1\n");
/// assert_eq!(result.report.applied(), 0);
/// ```
pub trait SymbolEditor: Send + Sync {
    /// The symbols and imports of `source`.
    fn outline(&self, source: &str) -> Result<Outline>;

    /// Applies `ops` in order to `source`.
    fn apply(&self, source: &str, ops: &[EditOp]) -> Result<EditResult>;

    /// [`SymbolEditor::apply`] for a caller that already holds `outline` (which must be
    /// `self.outline(source)`): an editor may skip parsing `source` again.
    fn apply_outlined(
        &self,
        source: &str,
        outline: &Outline,
        ops: &[EditOp],
    ) -> Result<EditResult> {
        let _ = outline;
        self.apply(source, ops)
    }

    /// Facts about a piece of code (one symbol or a whole module), for risk signals. `None`
    /// when the editor cannot tell; the approver then relies on the model alone.
    fn facts(&self, code: &str) -> Result<Option<crate::facts::CodeFacts>> {
        let _ = code;
        Ok(None)
    }
}
