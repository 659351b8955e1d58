//! Module-level chunks: the code between definitions, addressable like symbols.
//!
//! Consecutive top-level statements of one sort form one chunk: import statements
//! (`<imports>`), assignments (`<assignments>`), other statements (`<module_code>`). The module
//! docstring (`<docstring>`) and an `if __name__ == "__main__":` block (`<main>`) are chunks of
//! their own. Definitions end a chunk. The second chunk of a sort is `<imports#2>`, and so on.

use noctune_core::{Symbol, SymbolKind};
use tree_sitter::Node;

use super::{Extractor, LineRange};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    Definition,
    Imports,
    Assignments,
    Main,
    Docstring,
    Other,
}

impl Sort {
    fn name(self) -> &'static str {
        match self {
            Sort::Imports => "imports",
            Sort::Assignments => "assignments",
            Sort::Main => "main",
            Sort::Docstring => "docstring",
            Sort::Definition | Sort::Other => "module_code",
        }
    }

    fn kind(self) -> SymbolKind {
        match self {
            Sort::Imports => SymbolKind::ImportBlock,
            Sort::Assignments => SymbolKind::Assignments,
            Sort::Main => SymbolKind::MainBlock,
            Sort::Definition | Sort::Docstring | Sort::Other => SymbolKind::ModuleCode,
        }
    }

    /// Whether two statements of this sort in a row join one chunk.
    fn groups(self) -> bool {
        matches!(self, Sort::Imports | Sort::Assignments | Sort::Other)
    }
}

/// The module-level chunks of the tree under `extractor`.
pub(super) fn module_chunks(extractor: &Extractor<'_>) -> Vec<Symbol> {
    let root = extractor.root;
    let mut chunks = Vec::new();
    let mut counts = [0usize; 6];
    let mut current: Option<(Sort, LineRange)> = None;
    let mut first_statement = true;
    let mut cursor = root.walk();
    for node in root.named_children(&mut cursor) {
        if node.kind() == "comment" {
            continue;
        }
        let sort = sort_of(extractor, node, first_statement);
        first_statement = false;
        if sort == Sort::Definition {
            if let Some(done) = current.take() {
                chunks.push(done);
            }
            continue;
        }
        let range = extractor.line_range(node);
        current = match current.take() {
            Some((open, mut acc)) if open == sort && sort.groups() => {
                acc.end = range.end;
                acc.end_row = range.end_row;
                Some((open, acc))
            }
            Some(done) => {
                chunks.push(done);
                Some((sort, range))
            }
            None => Some((sort, range)),
        };
    }
    chunks.extend(current);
    chunks
        .into_iter()
        .map(|(sort, range)| {
            let slot = &mut counts[sort as usize];
            *slot += 1;
            let name = if *slot == 1 {
                format!("<{}>", sort.name())
            } else {
                format!("<{}#{}>", sort.name(), slot)
            };
            Symbol {
                name,
                kind: sort.kind(),
                start_byte: range.start + extractor.base,
                end_byte: range.end + extractor.base,
                start_line: range.start_row + 1,
                end_line: range.end_row + 1,
                signature: None,
                docstring: None,
            }
        })
        .collect()
}

fn sort_of(extractor: &Extractor<'_>, node: Node<'_>, first_statement: bool) -> Sort {
    match node.kind() {
        "function_definition" | "class_definition" | "decorated_definition" => Sort::Definition,
        "import_statement" | "import_from_statement" | "future_import_statement" => Sort::Imports,
        "type_alias_statement" => Sort::Assignments,
        "expression_statement" => match node.named_child(0).map(|c| c.kind()) {
            Some("assignment" | "augmented_assignment") => Sort::Assignments,
            Some("string" | "concatenated_string") if first_statement => Sort::Docstring,
            _ => Sort::Other,
        },
        "if_statement" => {
            let condition = node
                .child_by_field_name("condition")
                .map(|c| extractor.text(c))
                .unwrap_or_default();
            let condition: String = condition
                .chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| if c == '\'' { '"' } else { c })
                .collect();
            if condition == "__name__==\"__main__\"" || condition == "\"__main__\"==__name__" {
                Sort::Main
            } else {
                Sort::Other
            }
        }
        _ => Sort::Other,
    }
}
