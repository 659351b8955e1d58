//! Noctune's gates: the exact parse gate, the ruff gate that blocks only on what a change
//! introduced, the repair ladder, and the policy packs.
//!
//! - [`ParseGate`]: is the text valid Python for the repository's target version? ruff's
//!   parser decides (it agrees with CPython's `ast.parse`; tree-sitter does not), `ast.parse`
//!   through `python3` when ruff is absent, and nobody otherwise ([`GateOutcome::Undecided`]).
//! - [`RuffGate`]: `ruff check` with the repository's configuration; diagnostics are mapped to
//!   symbols and compared with the text before the change by rule and symbol.
//! - [`RepairLadder`]: heuristics, `ruff check --fix` (safe fixes only), then a micro-LLM
//!   repair of the changed symbols, stopping as soon as the gates pass.
//! - [`AstProver`]: proves a change keeps behaviour (formatting, docstrings, annotations,
//!   unused imports, ruff's safe fixes) with CPython's `ast` and ruff, no model involved.
//! - [`PolicyPacks`]: the built-in packs and `[tool.noctune.policy_packs.<name>]`, as
//!   [`PolicyPack`](noctune_core::PolicyPack) values.
//!
//! Every tool runs through [`noctune_core::process::ProcessBuilder`]: an argument vector, no
//! shell, text piped on stdin (never a temp file in the repository), a timeout.
//!
//! [`GateOutcome::Undecided`]: noctune_core::GateOutcome::Undecided

mod checker;
pub mod config;
mod error;
pub mod fixer;
pub mod gates;
pub mod matching;
pub mod parse_gate;
pub mod policy;
pub mod proof;
pub mod repair;
pub mod ruff_gate;
pub mod target;
pub mod tools;

pub use config::{FileConfig, ProjectConfig};
pub use error::{Error, Result};
pub use fixer::RuffFixer;
pub use gates::{GateRun, Gates, RuffCommands};
pub use parse_gate::{PARSE_GATE, ParseBackend, ParseGate};
pub use policy::{ConfiguredPack, PackSettings, PolicyPacks, count_diff_lines};
pub use proof::{
    AstProver, COLLAPSIBLE_IF, Condition, EMPTY_COLLECTION_CALL, EquivalentRewrite, FORMAT_CALL,
    FixRules, IF_ELSE_ASSIGNMENT, NONE_COMPARISON, PRINTF_FORMAT, RETURN_CONDITION,
    RETURN_OF_ASSIGNMENT, RepositoryFacts,
};
pub use repair::{
    RepairConfig, RepairInput, RepairLadder, RepairOutcome, RepairReport, RepairStep, RuffFix,
    StepKind,
};
pub use ruff_gate::{RUFF_GATE, RuffGate};
pub use target::{PythonVersion, Target, TargetSource};
pub use tools::{Python3, Ruff, Tools};
