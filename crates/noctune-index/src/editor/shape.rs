//! Checks that a snippet is what an op expects: one definition of the right kind and name, or
//! statements of the right sort for a module-level chunk.

use noctune_core::{RefusalReason, SymbolKind};
use tree_sitter::Node;

use crate::parser;

/// What the new code must be.
#[derive(Debug, Clone)]
pub(crate) enum Expected<'a> {
    /// Exactly one definition of this kind with this (short) name.
    Definition { kind: SymbolKind, name: &'a str },
    /// Exactly one definition of any name; `in_class` says whether a `def` is a method.
    AnyDefinition { in_class: bool },
    /// Statements fit for a module-level chunk of this kind.
    Chunk { kind: SymbolKind },
}

/// A definition found in a snippet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) kind: SymbolKind,
    pub(crate) name: String,
}

/// Describes a symbol for messages: ``method `A.b` ``.
pub(crate) fn describe(kind: SymbolKind, name: &str) -> String {
    let kind = kind.as_str().replace('_', " ");
    format!("{kind} `{name}`")
}

/// Checks `code` (dedented) against `expected`; returns the definition found, if any.
pub(crate) fn check(code: &str, expected: &Expected<'_>) -> Result<Option<Found>, RefusalReason> {
    let tree = parser::parse(code.as_bytes()).ok_or_else(|| RefusalReason::DoesNotParse {
        message: "tree-sitter could not parse the code".to_owned(),
    })?;
    let root = tree.root_node();
    if root.has_error() {
        return Err(RefusalReason::DoesNotParse {
            message: first_error(root, code),
        });
    }
    let mut cursor = root.walk();
    let statements: Vec<Node<'_>> = root
        .named_children(&mut cursor)
        .filter(|n| n.kind() != "comment")
        .collect();
    let text = |node: Node<'_>| code[node.start_byte()..node.end_byte()].to_owned();
    match expected {
        Expected::Definition { kind, name } => {
            let in_class = matches!(kind, SymbolKind::Method | SymbolKind::AsyncMethod);
            let found = one_definition(&statements, in_class, &text)?;
            if found.kind != *kind || found.name != *name {
                return Err(RefusalReason::WrongShape {
                    expected: describe(*kind, name),
                    found: describe(found.kind, &found.name),
                });
            }
            Ok(Some(found))
        }
        Expected::AnyDefinition { in_class } => {
            one_definition(&statements, *in_class, &text).map(Some)
        }
        Expected::Chunk { kind } => {
            let fits = |node: &Node<'_>| match kind {
                SymbolKind::ImportBlock => matches!(
                    node.kind(),
                    "import_statement" | "import_from_statement" | "future_import_statement"
                ),
                SymbolKind::Assignments => {
                    node.kind() == "type_alias_statement"
                        || (node.kind() == "expression_statement"
                            && node.named_child(0).is_some_and(|c| {
                                matches!(c.kind(), "assignment" | "augmented_assignment")
                            }))
                }
                SymbolKind::MainBlock => {
                    node.kind() == "if_statement" && text(*node).contains("__main__")
                }
                _ => true,
            };
            if statements.is_empty() {
                return Err(RefusalReason::WrongShape {
                    expected: format!("statements for {}", kind.as_str().replace('_', " ")),
                    found: "no code".to_owned(),
                });
            }
            if let Some(bad) = statements.iter().find(|n| !fits(n)) {
                return Err(RefusalReason::WrongShape {
                    expected: format!("statements for {}", kind.as_str().replace('_', " ")),
                    found: format!("`{}`", first_line(&text(*bad))),
                });
            }
            if *kind == SymbolKind::MainBlock && statements.len() != 1 {
                return Err(RefusalReason::WrongShape {
                    expected: "one `if __name__ == \"__main__\":` block".to_owned(),
                    found: format!("{} statements", statements.len()),
                });
            }
            Ok(None)
        }
    }
}

fn one_definition(
    statements: &[Node<'_>],
    in_class: bool,
    text: &dyn Fn(Node<'_>) -> String,
) -> Result<Found, RefusalReason> {
    let expected = "one `def` or `class`".to_owned();
    match statements {
        [] => Err(RefusalReason::WrongShape {
            expected,
            found: "no code".to_owned(),
        }),
        [node] => {
            let def = if node.kind() == "decorated_definition" {
                node.child_by_field_name("definition")
            } else {
                Some(*node)
            };
            let def =
                def.filter(|d| matches!(d.kind(), "function_definition" | "class_definition"));
            let Some(def) = def else {
                return Err(RefusalReason::WrongShape {
                    expected,
                    found: format!("`{}`", first_line(&text(*node))),
                });
            };
            let name = def
                .child_by_field_name("name")
                .map(text)
                .unwrap_or_default();
            let is_async = def.child(0).is_some_and(|c| c.kind() == "async");
            let kind = match (def.kind(), in_class, is_async) {
                ("class_definition", _, _) => SymbolKind::Class,
                (_, true, false) => SymbolKind::Method,
                (_, true, true) => SymbolKind::AsyncMethod,
                (_, false, false) => SymbolKind::Function,
                (_, false, true) => SymbolKind::AsyncFunction,
            };
            Ok(Found { kind, name })
        }
        many => Err(RefusalReason::WrongShape {
            expected,
            found: format!(
                "{} top-level statements (`{}`, `{}`{})",
                many.len(),
                first_line(&text(many[0])),
                first_line(&text(many[1])),
                if many.len() > 2 { ", ..." } else { "" }
            ),
        }),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

/// A parser message for the first error in the tree: where, and what.
fn first_error(root: Node<'_>, code: &str) -> String {
    let mut stack = vec![root];
    while let Some(node) = stack.pop() {
        if node.is_missing() {
            let at = node.start_position();
            return format!(
                "line {}, column {}: missing `{}`",
                at.row + 1,
                at.column + 1,
                node.kind()
            );
        }
        if node.is_error() {
            let at = node.start_position();
            let snippet = first_line(&code[node.start_byte()..node.end_byte()]);
            let snippet: String = snippet.chars().take(40).collect();
            return format!(
                "line {}, column {}: unexpected `{snippet}`",
                at.row + 1,
                at.column + 1
            );
        }
        if node.has_error() {
            let mut cursor = node.walk();
            let children: Vec<_> = node.children(&mut cursor).collect();
            stack.extend(children.into_iter().rev());
        }
    }
    "syntax error".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions() {
        let expected = Expected::Definition {
            kind: SymbolKind::Method,
            name: "m",
        };
        assert!(check("@d\ndef m(self):\n    pass", &expected).is_ok());
        assert_eq!(
            check("async def m(self):\n    pass", &expected),
            Err(RefusalReason::WrongShape {
                expected: "method `m`".into(),
                found: "async method `m`".into()
            })
        );
        assert!(matches!(
            check("def m(self:\n    pass", &expected),
            Err(RefusalReason::DoesNotParse { .. })
        ));
        assert!(matches!(
            check("def m(self):\n    pass\nx = 1", &expected),
            Err(RefusalReason::WrongShape { .. })
        ));
    }

    #[test]
    fn chunks() {
        let imports = Expected::Chunk {
            kind: SymbolKind::ImportBlock,
        };
        assert!(check("import os\n# c\nfrom a import b", &imports).is_ok());
        assert!(check("import os\nx = 1", &imports).is_err());
    }
}
