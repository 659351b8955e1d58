//! Facts about a piece of Python code, read from its syntax tree: what it calls, assigns,
//! returns and raises. The approver's deterministic risk signals compare the facts of a symbol
//! before and after a change (see [`crate::pipeline::risk`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a symbol's code does, as far as its syntax tree tells.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct CodeFacts {
    /// The parameters as callers see them: `x`, `y=<default>`, `*args`, `**kwargs`, `*`, `/`
    /// (annotations left out; defaults as written).
    pub params: Vec<String>,
    /// Every call's callee as written (`os.fstat`, `self.load`, `print`), once per call site.
    pub calls: Vec<String>,
    /// Targets of attribute assignments (`self.path`, `cls.cache`), once per assignment.
    pub attribute_assignments: Vec<String>,
    /// How many `return` statements.
    pub returns: usize,
    /// How many `raise` statements.
    pub raises: usize,
    /// How many `try` statements.
    pub try_blocks: usize,
    /// Identifiers read (loads), deduplicated, sorted.
    pub names_read: Vec<String>,
    /// Identifiers bound inside the code (parameters, assignments, loop and `with` targets,
    /// imports, nested definitions, comprehension variables, `except ... as`), sorted.
    pub names_bound: Vec<String>,
    /// Names declared `global` or `nonlocal`.
    pub global_names: Vec<String>,
}
