//! Symbol extraction: every `def`, `async def` and `class` (nested ones too) with a qualified
//! name and exact ranges, the module-level chunks, and every import statement.
//!
//! Ranges are whole lines: a symbol starts at the beginning of its first line (its leading
//! comment block or first decorator, indentation included) and ends at the end of its last line
//! (line break excluded). Comments are tricky in tree-sitter (a comment above a method may be
//! attached to the end of the previous method's body), so ownership is decided by column:
//!
//! - the leading comment block of a definition is the run of comment lines right above it
//!   (no blank line between) at exactly its column;
//! - trailing comments at its column or left of it are not part of it (they introduce what
//!   follows); deeper ones are.
//!
//! The source is taken as bytes: a file that is not UTF-8 still gets its symbols (names are
//! decoded lossily). A UTF-8 byte-order mark is skipped, and offsets still count it.

mod chunks;
mod imports;
mod text;

use std::path::PathBuf;

use noctune_core::{Outline, Symbol, SymbolKind};
use tree_sitter::Node;

use crate::error::{Error, Result};
use crate::parser;
use text::{collapse_whitespace, docstring_first_line, line_end, line_start};

/// Node kinds whose children are statements of the same scope.
const STATEMENT_CONTAINERS: &[&str] = &[
    "module",
    "block",
    "if_statement",
    "elif_clause",
    "else_clause",
    "for_statement",
    "while_statement",
    "try_statement",
    "except_clause",
    "except_group_clause",
    "finally_clause",
    "with_statement",
    "match_statement",
    "case_clause",
    "ERROR",
];

/// Extracts the outline of a Python source text.
pub fn outline(source: &[u8]) -> Result<Outline> {
    outline_timed(source).map(|(outline, _)| outline)
}

/// Time spent in tree-sitter and in the walk over its tree.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Timing {
    pub(crate) parse: std::time::Duration,
    pub(crate) extract: std::time::Duration,
}

/// [`outline`], with the time spent parsing and extracting.
pub(crate) fn outline_timed(source: &[u8]) -> Result<(Outline, Timing)> {
    let started = std::time::Instant::now();
    let base = if source.starts_with(crate::style::BOM.as_bytes()) {
        crate::style::BOM.len()
    } else {
        0
    };
    let body = &source[base..];
    let tree = parser::parse(body).ok_or_else(|| Error::Parse {
        path: PathBuf::from("<source>"),
        message: "tree-sitter could not parse the text".to_owned(),
    })?;
    let parsed = std::time::Instant::now();
    let root = tree.root_node();
    let mut extractor = Extractor {
        source: body,
        base,
        root,
        symbols: Vec::new(),
        imports: Vec::new(),
    };
    extractor.scope(root, "", false);
    let chunks = chunks::module_chunks(&extractor);
    let mut symbols = extractor.symbols;
    symbols.extend(chunks);
    // Source order, a parent before what it contains.
    symbols.sort_by(|a, b| {
        a.start_byte
            .cmp(&b.start_byte)
            .then(b.end_byte.cmp(&a.end_byte))
    });
    let outline = Outline {
        symbols,
        imports: extractor.imports,
        has_syntax_errors: root.has_error(),
    };
    let timing = Timing {
        parse: parsed - started,
        extract: parsed.elapsed(),
    };
    Ok((outline, timing))
}

/// Walks the tree; offsets in `source` (after the BOM) are shifted by `base` in the results.
pub(crate) struct Extractor<'a> {
    pub(crate) source: &'a [u8],
    pub(crate) base: usize,
    pub(crate) root: Node<'a>,
    symbols: Vec<Symbol>,
    imports: Vec<noctune_core::Import>,
}

/// A statement's range as whole lines.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineRange {
    /// First byte (in `source`, before the BOM shift).
    pub(crate) start: usize,
    /// One past the last byte, line break excluded.
    pub(crate) end: usize,
    /// First line, 0-based.
    pub(crate) start_row: usize,
    /// Last line, 0-based.
    pub(crate) end_row: usize,
}

impl<'a> Extractor<'a> {
    pub(crate) fn text(&self, node: Node<'_>) -> String {
        String::from_utf8_lossy(&self.source[node.start_byte()..node.end_byte()]).into_owned()
    }

    /// Visits the statements under `node` (one scope), recording definitions and imports.
    fn scope(&mut self, node: Node<'a>, prefix: &str, in_class: bool) {
        let mut cursor = node.walk();
        if !cursor.goto_first_child() {
            return;
        }
        loop {
            let child = cursor.node();
            // Inside a module-level syntax error, an indented definition lost the class or
            // function it belongs to: find it from the indentation.
            let recovered =
                (node.kind() == "ERROR" && prefix.is_empty() && child.start_position().column > 0)
                    .then(|| self.enclosing_header(child))
                    .flatten();
            let (prefix, in_class) = match &recovered {
                Some((parent, is_class)) => (parent.as_str(), *is_class),
                None => (prefix, in_class),
            };
            match child.kind() {
                "function_definition" | "class_definition" => {
                    self.definition(child, child, prefix, in_class);
                }
                "decorated_definition" => {
                    if let Some(def) = child.child_by_field_name("definition") {
                        self.definition(def, child, prefix, in_class);
                    }
                }
                "import_statement" | "import_from_statement" | "future_import_statement" => {
                    imports::record(self, child);
                }
                kind if STATEMENT_CONTAINERS.contains(&kind) => {
                    self.scope(child, prefix, in_class);
                }
                _ => {}
            }
            if !cursor.goto_next_sibling() {
                break;
            }
        }
    }

    /// The `class` or `def` header a definition at `node` is indented under, read from the
    /// source lines above it: the first less-indented code line. `(name, is_class)`, or `None`
    /// when that line is no header (an `if` at module level, say).
    fn enclosing_header(&self, node: Node<'_>) -> Option<(String, bool)> {
        let column = node.start_position().column;
        let before = std::str::from_utf8(&self.source[..node.start_byte()]).ok()?;
        for line in before.lines().rev().skip(1) {
            let code = line.trim_start();
            if code.is_empty() || code.starts_with('#') {
                continue;
            }
            if line.len() - code.len() >= column {
                continue;
            }
            let (rest, is_class) = if let Some(rest) = code.strip_prefix("class ") {
                (rest, true)
            } else if let Some(rest) = code
                .strip_prefix("def ")
                .or_else(|| code.strip_prefix("async def "))
            {
                (rest, false)
            } else {
                return None;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            return (!name.is_empty()).then_some((name, is_class));
        }
        None
    }

    fn definition(&mut self, def: Node<'a>, outer: Node<'a>, prefix: &str, in_class: bool) {
        let Some(name_node) = def.child_by_field_name("name") else {
            return;
        };
        let name = self.text(name_node);
        let qualified = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}.{name}")
        };
        let is_async = def.child(0).is_some_and(|c| c.kind() == "async");
        let kind = match (def.kind(), in_class, is_async) {
            ("class_definition", _, _) => SymbolKind::Class,
            (_, true, false) => SymbolKind::Method,
            (_, true, true) => SymbolKind::AsyncMethod,
            (_, false, false) => SymbolKind::Function,
            (_, false, true) => SymbolKind::AsyncFunction,
        };
        let body = def.child_by_field_name("body");
        let range = self.line_range(outer);
        let header_end = body.map_or(def.end_byte(), |b| b.start_byte());
        let header = String::from_utf8_lossy(&self.source[def.start_byte()..header_end]);
        let signature = collapse_whitespace(header.trim_end());
        let docstring = body.and_then(|b| self.docstring(b));
        self.symbols.push(Symbol {
            name: qualified.clone(),
            kind,
            start_byte: range.start + self.base,
            end_byte: range.end + self.base,
            start_line: range.start_row + 1,
            end_line: range.end_row + 1,
            signature: Some(signature),
            docstring,
        });
        if let Some(body) = body {
            self.scope(body, &qualified, kind == SymbolKind::Class);
        }
    }

    fn docstring(&self, body: Node<'_>) -> Option<String> {
        let mut cursor = body.walk();
        let first = body
            .named_children(&mut cursor)
            .find(|c| c.kind() != "comment")?;
        if first.kind() != "expression_statement" {
            return None;
        }
        let string = first.named_child(0)?;
        if string.kind() != "string" && string.kind() != "concatenated_string" {
            return None;
        }
        // Borrowed when the literal is UTF-8: only its first line is copied.
        let literal = String::from_utf8_lossy(&self.source[string.start_byte()..string.end_byte()]);
        docstring_first_line(&literal)
    }

    /// The whole-line range of a statement: its leading comment block, itself, and its trailing
    /// comments deeper than its column.
    pub(crate) fn line_range(&self, node: Node<'_>) -> LineRange {
        let column = node.start_position().column;
        let mut start = line_start(self.source, node.start_byte());
        let mut start_row = node.start_position().row;
        // The leading comment block: comment lines right above, at the same column.
        while start_row > 0 {
            let prev_end = start - 1; // the '\n' ending the previous line
            let prev_start = line_start(self.source, prev_end);
            let line = &self.source[prev_start..prev_end];
            let indent = line
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\t' | b'\x0c'))
                .count();
            if indent != column || line.get(indent) != Some(&b'#') {
                break;
            }
            let hash = prev_start + indent;
            let is_comment = self
                .root
                .descendant_for_byte_range(hash, hash + 1)
                .is_some_and(|n| n.kind() == "comment");
            if !is_comment {
                break;
            }
            start = prev_start;
            start_row -= 1;
        }
        let (end_byte, end_row) = effective_end(node, column);
        LineRange {
            start,
            end: line_end(self.source, end_byte),
            start_row,
            end_row,
        }
    }
}

/// Where a statement really ends: its last token, or its last trailing comment deeper than
/// `column`. Returns the byte and the 0-based row.
fn effective_end(node: Node<'_>, column: usize) -> (usize, usize) {
    let mut node = node;
    loop {
        let count = node.child_count();
        let mut chosen = None;
        for i in (0..count).rev() {
            let Some(child) = node.child(i) else { continue };
            if child.end_byte() == child.start_byte() {
                continue; // a MISSING token or an empty node
            }
            if child.kind() == "comment" && child.start_position().column <= column {
                continue;
            }
            chosen = Some(child);
            break;
        }
        match chosen {
            Some(child) if child.child_count() > 0 => node = child,
            Some(child) => return end_of(child),
            None => return end_of(node),
        }
    }
}

fn end_of(node: Node<'_>) -> (usize, usize) {
    let end = node.end_position();
    let row = if end.column == 0 && end.row > node.start_position().row {
        end.row - 1
    } else {
        end.row
    };
    (node.end_byte(), row)
}

#[cfg(test)]
mod tests;
