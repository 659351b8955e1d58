//! The tree-sitter-python parser, one per thread.

use std::cell::RefCell;

use tree_sitter::{Parser, Tree};

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parses `source` as Python. `None` only when tree-sitter cannot run at all (no language,
/// cancelled); a file with syntax errors still gives a tree with `ERROR` nodes.
pub(crate) fn parse(source: &[u8]) -> Option<Tree> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut parser = Parser::new();
            if let Err(err) = parser.set_language(&tree_sitter_python::LANGUAGE.into()) {
                tracing::error!(%err, "tree-sitter-python is not compatible with tree-sitter");
                return None;
            }
            *slot = Some(parser);
        }
        slot.as_mut().and_then(|parser| parser.parse(source, None))
    })
}
