//! Turning a model's code answer for one symbol into edit ops.
//!
//! Measured on real small models, answers come with extra `import` lines (even
//! `from typing import *`), the surrounding class re-declared around the target method,
//! `def Class.method(self)` headers, and bodies indented at another level than their `def`.
//! This module takes the target by name from the answer, turns new imports into an import op,
//! drops (and records) unrelated re-declarations, fixes qualified `def` headers, and leaves
//! re-indentation to the editor and validity to the gates. Tested with the real editor in
//! `tests/it/edit_answer.rs`.

use serde::{Deserialize, Serialize};

use crate::editor::{EditOp, Outline, SymbolEditor};
use crate::error::Result;
pub use crate::indent::dedent;
use crate::symbol::{Symbol, SymbolKind};

/// The ops made from an answer, with notes on every adjustment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ParsedEdit {
    /// The ops, in the order they should be applied.
    pub ops: Vec<EditOp>,
    /// What was adjusted or dropped, for `edit_ops_p<N>.json`.
    pub notes: Vec<String>,
}

/// `def A.b(` → `def b(` (and `async def`), for the target's qualified name.
fn fix_qualified_header(code: &str, target: &Symbol, notes: &mut Vec<String>) -> String {
    if !target.name.contains('.') {
        return code.to_owned();
    }
    let short = target.short_name();
    let mut fixed = code.to_owned();
    for keyword in ["def", "class"] {
        let bad = format!("{keyword} {}(", target.name);
        if fixed.contains(&bad) {
            fixed = fixed.replace(&bad, &format!("{keyword} {short}("));
            notes.push(format!("fixed `{keyword} {}` header", target.name));
        }
    }
    fixed
}

/// Normalises an import statement for comparison (whitespace folded).
fn import_key(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `kind` may replace a symbol of kind `target` (a method may come back as a top-level
/// `def`: the editor re-indents it).
fn compatible(target: SymbolKind, found: SymbolKind) -> bool {
    use SymbolKind::*;
    let def = |k| matches!(k, Function | AsyncFunction | Method | AsyncMethod);
    (def(target) && def(found)) || target == found
}

/// Builds the ops for an answer that rewrites `target` of a file whose outline is `file`.
/// Fails (with a reason for the artifacts) when the answer holds no usable `target`.
pub fn answer_to_ops(
    editor: &dyn SymbolEditor,
    file: &Outline,
    target: &Symbol,
    answer: &str,
) -> Result<std::result::Result<ParsedEdit, String>> {
    let mut parsed = ParsedEdit::default();
    let code = dedent(answer);
    let code = fix_qualified_header(&code, target, &mut parsed.notes);

    if !target.kind.is_definition() {
        // A module-level chunk (imports, constants): the whole answer replaces it.
        parsed.ops.push(EditOp::ReplaceSymbol {
            symbol: target.name.clone(),
            code,
        });
        return Ok(Ok(parsed));
    }

    let outline = editor.outline(&code)?;
    let short = target.short_name();
    let found = outline
        .symbols
        .iter()
        .filter(|s| s.kind.is_definition() && compatible(target.kind, s.kind))
        .find(|s| s.name == target.name)
        .or_else(|| {
            outline
                .symbols
                .iter()
                .filter(|s| s.kind.is_definition() && compatible(target.kind, s.kind))
                .filter(|s| s.short_name() == short)
                .min_by_key(|s| s.name.matches('.').count())
        });
    let Some(found) = found else {
        let names: Vec<&str> = outline.symbols.iter().map(|s| s.name.as_str()).collect();
        return Ok(Err(format!(
            "the answer has no {} `{short}` (it defines: {})",
            target.kind,
            if names.is_empty() {
                "nothing parseable".to_owned()
            } else {
                names.join(", ")
            }
        )));
    };
    if found.name != short {
        let parent = found.name.rsplit_once('.').map_or("", |(p, _)| p);
        parsed.notes.push(format!(
            "took `{}` out of a re-declared `{parent}`; dropped the rest of `{parent}`",
            found.name
        ));
    }
    parsed.ops.push(EditOp::ReplaceSymbol {
        symbol: target.name.clone(),
        code: dedent(&code[found.start_byte..found.end_byte]),
    });

    // Other top-level definitions: new ones are inserted after the target's top-level
    // ancestor; ones the file already has are unrelated re-declarations and dropped.
    let found_top = found.name.split('.').next().unwrap_or(&found.name);
    let anchor = target
        .name
        .split('.')
        .next()
        .unwrap_or(&target.name)
        .to_owned();
    for other in outline
        .symbols
        .iter()
        .filter(|s| s.kind.is_definition() && !s.name.contains('.'))
        .filter(|s| s.name != found_top)
    {
        if file.symbols.iter().any(|s| s.name == other.name) {
            parsed.notes.push(format!(
                "dropped a re-declaration of `{}` (already in the file)",
                other.name
            ));
        } else {
            parsed.notes.push(format!(
                "new symbol `{}` inserted after `{anchor}`",
                other.name
            ));
            parsed.ops.push(EditOp::InsertAfter {
                after: anchor.clone(),
                code: code[other.start_byte..other.end_byte].to_owned(),
            });
        }
    }

    // Imports the answer added.
    let existing: std::collections::BTreeSet<String> =
        file.imports.iter().map(|i| import_key(&i.text)).collect();
    let mut imports = Vec::new();
    let defined: std::collections::BTreeSet<&str> = file
        .symbols
        .iter()
        .filter(|s| s.kind.is_definition() && !s.name.contains('.'))
        .map(|s| s.name.as_str())
        .collect();
    for import in &outline.imports {
        let key = import_key(&import.text);
        // The names the import binds: `as` aliases, else the imported names, else the
        // module's first segment.
        let binds: Vec<&str> = if import.names.is_empty() {
            let alias = key.rsplit_once(" as ").map(|(_, a)| a);
            vec![alias.unwrap_or_else(|| import.module.split('.').next().unwrap_or(""))]
        } else {
            import
                .names
                .iter()
                .map(|n| n.rsplit_once(" as ").map_or(n.as_str(), |(_, a)| a).trim())
                .collect()
        };
        if import.names.iter().any(|n| n == "*") {
            parsed.notes.push(format!("dropped star import `{key}`"));
        } else if let Some(name) = binds.iter().find(|b| defined.contains(**b)) {
            parsed.notes.push(format!(
                "dropped `{key}`: it would shadow `{name}`, which the file defines"
            ));
        } else if !existing.contains(&key) && !imports.contains(&key) {
            imports.push(key);
        }
    }
    if !imports.is_empty() {
        parsed
            .notes
            .push(format!("{} new import(s)", imports.len()));
        parsed.ops.push(EditOp::AddImports { imports });
    }
    Ok(Ok(parsed))
}
