//! [`CodeFacts`] from a syntax tree: calls, attribute assignments, exits, names read and bound.
//! The pipeline compares the facts of a symbol before and after an edit to raise risk signals.

use std::collections::BTreeSet;

use noctune_core::facts::CodeFacts;
use tree_sitter::Node;

use noctune_core::indent::dedent;

use crate::parser::parse;

fn text<'a>(node: Node<'_>, source: &'a [u8]) -> &'a str {
    node.utf8_text(source).unwrap_or_default()
}

fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join("")
}

struct Collector<'s> {
    source: &'s [u8],
    facts: CodeFacts,
    read: BTreeSet<String>,
    bound: BTreeSet<String>,
}

impl Collector<'_> {
    /// Records every identifier under a binding target (`a`, `a, b`, `[a, *b]`) as bound;
    /// attributes and subscripts in targets are reads of their object.
    fn bind_target(&mut self, node: Node<'_>) {
        match node.kind() {
            "identifier" => {
                self.bound.insert(text(node, self.source).to_owned());
            }
            "attribute" => {
                self.facts
                    .attribute_assignments
                    .push(squash(text(node, self.source)));
                if let Some(object) = node.child_by_field_name("object") {
                    self.visit(object);
                }
            }
            "subscript" => self.visit(node),
            _ => {
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    self.bind_target(child);
                }
            }
        }
    }

    fn params(&mut self, parameters: Node<'_>) {
        let mut cursor = parameters.walk();
        for param in parameters.named_children(&mut cursor) {
            let name_of = |node: Node<'_>| -> String {
                node.child_by_field_name("name")
                    .map(|n| text(n, self.source).to_owned())
                    .or_else(|| {
                        let mut c = node.walk();
                        node.named_children(&mut c)
                            .find(|n| n.kind() == "identifier")
                            .map(|n| text(n, self.source).to_owned())
                    })
                    .unwrap_or_default()
            };
            let shown = match param.kind() {
                "identifier" => text(param, self.source).to_owned(),
                "typed_parameter" => {
                    let mut c = param.walk();
                    let inner = param.named_children(&mut c).next();
                    match inner {
                        Some(n) if n.kind() == "list_splat_pattern" => {
                            format!("*{}", name_of(n))
                        }
                        Some(n) if n.kind() == "dictionary_splat_pattern" => {
                            format!("**{}", name_of(n))
                        }
                        Some(n) => text(n, self.source).to_owned(),
                        None => String::new(),
                    }
                }
                "default_parameter" | "typed_default_parameter" => {
                    let value = param
                        .child_by_field_name("value")
                        .map(|v| squash(text(v, self.source)))
                        .unwrap_or_default();
                    if let Some(v) = param.child_by_field_name("value") {
                        self.visit(v);
                    }
                    format!("{}={value}", name_of(param))
                }
                "list_splat_pattern" => format!("*{}", name_of(param)),
                "dictionary_splat_pattern" => format!("**{}", name_of(param)),
                "keyword_separator" => "*".to_owned(),
                "positional_separator" => "/".to_owned(),
                _ => squash(text(param, self.source)),
            };
            let bare = shown.trim_start_matches('*');
            let name = bare.split('=').next().unwrap_or(bare);
            if !name.is_empty() && name != "/" {
                self.bound.insert(name.to_owned());
            }
            self.facts.params.push(shown);
        }
    }

    fn visit(&mut self, node: Node<'_>) {
        match node.kind() {
            "identifier" => {
                self.read.insert(text(node, self.source).to_owned());
            }
            "call" => {
                if let Some(function) = node.child_by_field_name("function") {
                    self.facts.calls.push(squash(text(function, self.source)));
                }
                self.children(node);
            }
            "attribute" => {
                // `a.b`: only `a` is read; `b` is an attribute name.
                if let Some(object) = node.child_by_field_name("object") {
                    self.visit(object);
                }
            }
            "keyword_argument" => {
                if let Some(value) = node.child_by_field_name("value") {
                    self.visit(value);
                }
            }
            "assignment" | "augmented_assignment" => {
                if let Some(left) = node.child_by_field_name("left") {
                    self.bind_target(left);
                    if node.kind() == "augmented_assignment" {
                        self.visit(left);
                    }
                }
                if let Some(kind) = node.child_by_field_name("type") {
                    self.visit(kind);
                }
                if let Some(right) = node.child_by_field_name("right") {
                    self.visit(right);
                }
            }
            "for_statement" | "for_in_clause" => {
                if let Some(left) = node.child_by_field_name("left") {
                    self.bind_target(left);
                }
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    if Some(child) != node.child_by_field_name("left") {
                        self.visit(child);
                    }
                }
            }
            "as_pattern" => {
                // `with x as y`, `except E as e`
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    if child.kind() == "as_pattern_target" {
                        self.bind_target(child);
                    } else {
                        self.visit(child);
                    }
                }
            }
            "named_expression" => {
                if let Some(name) = node.child_by_field_name("name") {
                    self.bind_target(name);
                }
                if let Some(value) = node.child_by_field_name("value") {
                    self.visit(value);
                }
            }
            "function_definition" | "class_definition" => {
                if let Some(name) = node.child_by_field_name("name") {
                    self.bound.insert(text(name, self.source).to_owned());
                }
                if node.kind() == "function_definition"
                    && let Some(parameters) = node.child_by_field_name("parameters")
                {
                    self.params(parameters);
                }
                if let Some(superclasses) = node.child_by_field_name("superclasses") {
                    self.visit(superclasses);
                }
                if let Some(return_type) = node.child_by_field_name("return_type") {
                    self.visit(return_type);
                }
                if let Some(body) = node.child_by_field_name("body") {
                    self.visit(body);
                }
            }
            "lambda" => {
                if let Some(parameters) = node.child_by_field_name("parameters") {
                    let mut cursor = parameters.walk();
                    for p in parameters.named_children(&mut cursor) {
                        self.bind_target(p);
                    }
                }
                if let Some(body) = node.child_by_field_name("body") {
                    self.visit(body);
                }
            }
            "import_statement" | "import_from_statement" | "future_import_statement" => {
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    if Some(child) == node.child_by_field_name("module_name") {
                        continue;
                    }
                    match child.kind() {
                        "dotted_name" => {
                            if let Some(first) = text(child, self.source).split('.').next() {
                                self.bound.insert(first.to_owned());
                            }
                        }
                        "aliased_import" => {
                            if let Some(alias) = child.child_by_field_name("alias") {
                                self.bound.insert(text(alias, self.source).to_owned());
                            }
                        }
                        _ => {}
                    }
                }
            }
            "global_statement" | "nonlocal_statement" => {
                let mut cursor = node.walk();
                for child in node.named_children(&mut cursor) {
                    let name = text(child, self.source).to_owned();
                    self.facts.global_names.push(name.clone());
                    self.bound.insert(name);
                }
            }
            "return_statement" => {
                self.facts.returns += 1;
                self.children(node);
            }
            "raise_statement" => {
                self.facts.raises += 1;
                self.children(node);
            }
            "try_statement" => {
                self.facts.try_blocks += 1;
                self.children(node);
            }
            "decorator" | "comment" | "string" => {
                if node.kind() != "comment" {
                    self.children(node);
                }
            }
            _ => self.children(node),
        }
    }

    fn children(&mut self, node: Node<'_>) {
        let mut cursor = node.walk();
        for child in node.named_children(&mut cursor) {
            self.visit(child);
        }
    }
}

/// The facts of a piece of code (a symbol's text, indented or not, or a whole module).
/// `None` when it does not parse at all.
pub fn facts(code: &str) -> Option<CodeFacts> {
    let code = dedent(code);
    let tree = parse(code.as_bytes())?;
    let mut collector = Collector {
        source: code.as_bytes(),
        facts: CodeFacts::default(),
        read: BTreeSet::new(),
        bound: BTreeSet::new(),
    };
    let root = tree.root_node();
    // For a single definition, the parameters describe it; nested definitions add none.
    let mut cursor = root.walk();
    let top: Vec<Node<'_>> = root.named_children(&mut cursor).collect();
    for node in top {
        collector.visit(node);
    }
    let single_def = {
        let mut c = root.walk();
        let defs: Vec<_> = root
            .named_children(&mut c)
            .filter(|n| n.kind() != "comment")
            .collect();
        defs.len() == 1
            && matches!(
                defs[0].kind(),
                "function_definition" | "decorated_definition"
            )
    };
    if !single_def {
        collector.facts.params.clear();
    } else {
        // Keep only the outer function's parameters: they come first, before any nested
        // function's, and end where the first nested def's begin; re-collect them exactly.
        let mut outer = Collector {
            source: code.as_bytes(),
            facts: CodeFacts::default(),
            read: BTreeSet::new(),
            bound: BTreeSet::new(),
        };
        if let Some(node) = top_def(root)
            && let Some(parameters) = node.child_by_field_name("parameters")
        {
            outer.params(parameters);
        }
        collector.facts.params = outer.facts.params;
    }
    let mut facts = collector.facts;
    facts.names_read = collector.read.into_iter().collect();
    facts.names_bound = collector.bound.into_iter().collect();
    Some(facts)
}

fn top_def(root: Node<'_>) -> Option<Node<'_>> {
    let mut cursor = root.walk();
    let node = root
        .named_children(&mut cursor)
        .find(|n| n.kind() != "comment")?;
    match node.kind() {
        "function_definition" => Some(node),
        "decorated_definition" => node.child_by_field_name("definition"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn method_facts() {
        let code = "    def size(self, fp, *args, mode='r', **kw):\n        try:\n            self.n = os.fstat(fp.fileno()).st_size\n        except OSError as e:\n            raise ValueError(e)\n        return self.n + helper(x)\n";
        let f = facts(code).unwrap();
        assert_eq!(f.params, vec!["self", "fp", "*args", "mode='r'", "**kw"]);
        assert_eq!(
            f.calls,
            vec!["os.fstat", "fp.fileno", "ValueError", "helper"]
        );
        assert_eq!(f.attribute_assignments, vec!["self.n"]);
        assert_eq!((f.returns, f.raises, f.try_blocks), (1, 1, 1));
        assert!(f.names_read.contains(&"x".to_owned()), "{:?}", f.names_read);
        assert!(f.names_read.contains(&"helper".to_owned()));
        assert!(!f.names_read.contains(&"st_size".to_owned()));
        for bound in ["self", "fp", "args", "mode", "kw", "e"] {
            assert!(
                f.names_bound.contains(&bound.to_owned()),
                "{bound}: {:?}",
                f.names_bound
            );
        }
    }

    #[test]
    fn module_facts_bind_imports_and_globals() {
        let f = facts("import os.path\nfrom a import b as c\nX = 1\ndef g():\n    global X\n    X = c(os.sep)\n").unwrap();
        assert!(f.params.is_empty());
        for bound in ["os", "c", "X", "g"] {
            assert!(
                f.names_bound.contains(&bound.to_owned()),
                "{bound}: {:?}",
                f.names_bound
            );
        }
        assert_eq!(f.global_names, vec!["X"]);
    }
}
