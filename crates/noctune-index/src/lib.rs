//! Python symbols (tree-sitter-python), the SQLite symbol index, evidence, and the
//! [`SymbolEditor`](noctune_core::SymbolEditor) implementation. Built by the noctune-index issue.
