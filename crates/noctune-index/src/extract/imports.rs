//! Import statements.

use noctune_core::Import;
use tree_sitter::Node;

use super::Extractor;

/// Records one import statement: one [`Import`] per module for `import a, b`, one for a
/// `from` import with its names as written (`a as b`, `*`).
pub(super) fn record(extractor: &mut Extractor<'_>, node: Node<'_>) {
    let text = extractor.text(node);
    let line = node.start_position().row + 1;
    let mut cursor = node.walk();
    match node.kind() {
        "import_statement" => {
            for name in node.children_by_field_name("name", &mut cursor) {
                let module = match name.kind() {
                    "aliased_import" => name
                        .child_by_field_name("name")
                        .map(|n| extractor.text(n))
                        .unwrap_or_default(),
                    _ => extractor.text(name),
                };
                extractor.imports.push(Import {
                    text: text.clone(),
                    line,
                    module,
                    names: Vec::new(),
                });
            }
        }
        "import_from_statement" | "future_import_statement" => {
            let module = if node.kind() == "future_import_statement" {
                "__future__".to_owned()
            } else {
                node.child_by_field_name("module_name")
                    .map(|n| extractor.text(n))
                    .unwrap_or_default()
            };
            let mut names: Vec<String> = node
                .children_by_field_name("name", &mut cursor)
                .map(|n| extractor.text(n))
                .collect();
            let mut cursor = node.walk();
            if node
                .children(&mut cursor)
                .any(|c| c.kind() == "wildcard_import")
            {
                names.push("*".to_owned());
            }
            extractor.imports.push(Import {
                text,
                line,
                module,
                names,
            });
        }
        _ => {}
    }
}
