//! Python symbols (tree-sitter-python), the SQLite symbol index, callsites, evidence, and the
//! [`SymbolEditor`](noctune_core::SymbolEditor) implementation, [`PythonEditor`].
//!
//! - [`outline`] extracts a file's symbols, module-level chunks and imports with exact ranges.
//! - [`PythonEditor`] applies edit ops (replace a symbol, insert after one, add imports).
//! - [`CallsiteSearcher`] finds every use of an identifier (ripgrep, in-process, or in memory).
//! - [`EvidenceBuilder`] gathers imports and ranked callsites for `impact.json`.
//! - [`Index`] keeps a SQLite index of a repository's symbols, refreshed incrementally.

pub mod callsites;
mod editor;
mod error;
pub mod evidence;
mod extract;
mod facts;
pub mod index;
mod parser;
mod repo_evidence;
pub mod style;
pub mod walk;

pub use callsites::{Backend, Callsite, CallsiteSearcher};
pub use editor::PythonEditor;
pub use error::{Error, Result};
pub use evidence::{Evidence, EvidenceBuilder};
pub use extract::outline;
pub use facts::facts;
pub use index::{Index, IndexOptions, IndexStats, RefreshStats};
pub use repo_evidence::{RepoEvidence, render as render_evidence};
