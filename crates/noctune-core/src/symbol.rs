//! Symbols: the units Noctune reads and edits.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What kind of code a symbol is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SymbolKind {
    /// A module-level or nested `def`.
    Function,
    /// A module-level or nested `async def`.
    AsyncFunction,
    /// A `class`.
    Class,
    /// A `def` directly inside a class body.
    Method,
    /// An `async def` directly inside a class body.
    AsyncMethod,
    /// The module's block of import statements.
    ImportBlock,
    /// A run of module-level assignments (constants, `__all__`, type aliases).
    Assignments,
    /// The `if __name__ == "__main__":` block.
    MainBlock,
    /// Other module-level statements.
    ModuleCode,
}

impl SymbolKind {
    /// The kind's name as shown to users.
    pub fn as_str(self) -> &'static str {
        match self {
            SymbolKind::Function => "function",
            SymbolKind::AsyncFunction => "async_function",
            SymbolKind::Class => "class",
            SymbolKind::Method => "method",
            SymbolKind::AsyncMethod => "async_method",
            SymbolKind::ImportBlock => "import_block",
            SymbolKind::Assignments => "assignments",
            SymbolKind::MainBlock => "main_block",
            SymbolKind::ModuleCode => "module_code",
        }
    }

    /// Whether this kind is a `def` or `class` (as opposed to a module-level chunk).
    pub fn is_definition(self) -> bool {
        matches!(
            self,
            SymbolKind::Function
                | SymbolKind::AsyncFunction
                | SymbolKind::Class
                | SymbolKind::Method
                | SymbolKind::AsyncMethod
        )
    }
}

impl fmt::Display for SymbolKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One symbol of a Python file, with exact ranges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Symbol {
    /// Qualified name: `Class.method`, `outer.inner`, or a chunk name such as `<imports>`.
    pub name: String,
    /// What kind of code it is.
    pub kind: SymbolKind,
    /// Byte offset of the first byte, decorators and the leading comment block included.
    pub start_byte: usize,
    /// Byte offset one past the last byte.
    pub end_byte: usize,
    /// First line, 1-based, decorators and leading comments included.
    pub start_line: usize,
    /// Last line, 1-based, inclusive.
    pub end_line: usize,
    /// The `def`/`class` header line, without the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The first line of the docstring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub docstring: Option<String>,
}

impl Symbol {
    /// The last part of the qualified name (`method` for `Class.method`).
    pub fn short_name(&self) -> &str {
        self.name.rsplit('.').next().unwrap_or(&self.name)
    }

    /// Whether `line` (1-based) falls inside the symbol.
    pub fn contains_line(&self, line: usize) -> bool {
        (self.start_line..=self.end_line).contains(&line)
    }
}

/// One import statement of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Import {
    /// The statement as written (continuation lines joined as in the source).
    pub text: String,
    /// Line of the statement, 1-based.
    pub line: usize,
    /// The module: `os.path` for `import os.path` and `from os.path import join`;
    /// `.` prefixes kept for relative imports.
    pub module: String,
    /// The imported names for `from` imports (`*` included as written), empty for `import x`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}
