//! `AddImports`: new import statements merged into the module's import block.
//!
//! Each statement is parsed; what the module already imports at top level is dropped (for a
//! `from` import, name by name); `from __future__` imports go after the docstring and any
//! existing future imports, before everything else; the others go at the end of the first
//! import block, or after the docstring and future imports when there is none.

use std::collections::BTreeSet;

use noctune_core::{Outline, RefusalReason, SymbolKind};

use crate::extract;
use crate::style::LineEnding;

/// One binding an import statement makes: `import a.b as c` or `from m import a as b`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Binding {
    Module(String),
    From { module: String, name: String },
}

impl Binding {
    fn statement(&self) -> String {
        match self {
            Binding::Module(module) => format!("import {module}"),
            Binding::From { module, name } => format!("from {module} import {name}"),
        }
    }
}

/// The bindings made by the import statements of `outline` that start at column 0.
fn bindings(source: &str, outline: &Outline, top_level_only: bool) -> Vec<Binding> {
    let lines: Vec<&str> = source.split('\n').collect();
    let mut out = Vec::new();
    for import in &outline.imports {
        if top_level_only {
            let line = lines.get(import.line - 1).copied().unwrap_or("");
            let line = line.strip_prefix(crate::style::BOM).unwrap_or(line);
            if line.starts_with(|c: char| c.is_whitespace()) {
                continue;
            }
        }
        if import.names.is_empty() {
            // `import a.b as c`: the alias is in the text; rebuild it from there.
            let alias = alias_of(&import.text, &import.module);
            let module = match alias {
                Some(alias) => format!("{} as {alias}", import.module),
                None => import.module.clone(),
            };
            out.push(Binding::Module(module));
        } else {
            for name in &import.names {
                out.push(Binding::From {
                    module: import.module.clone(),
                    name: normalize(name),
                });
            }
        }
    }
    out
}

fn alias_of(text: &str, module: &str) -> Option<String> {
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(3)
        .find(|w| w[0] == module && w[1] == "as")
        .map(|w| w[2].to_owned())
}

fn normalize(name: &str) -> String {
    name.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The outcome of merging imports into a source text.
pub(crate) struct Merged {
    pub(crate) text: String,
    pub(crate) notes: Vec<String>,
}

/// Adds `imports` to `source` (whose outline is `outline`).
pub(crate) fn add_imports(
    source: &str,
    outline: &Outline,
    imports: &[String],
) -> Result<Merged, RefusalReason> {
    let mut wanted: Vec<Binding> = Vec::new();
    for entry in imports {
        let entry_text = entry.trim();
        let parsed =
            extract::outline(entry_text.as_bytes()).map_err(|_| RefusalReason::NotAnImport {
                line: entry_text.to_owned(),
            })?;
        let is_import = !entry_text.is_empty()
            && !parsed.has_syntax_errors
            && !parsed.imports.is_empty()
            && parsed
                .symbols
                .iter()
                .all(|s| s.kind == SymbolKind::ImportBlock);
        if !is_import {
            return Err(RefusalReason::NotAnImport {
                line: entry_text.to_owned(),
            });
        }
        for binding in bindings(entry_text, &parsed, false) {
            if !wanted.contains(&binding) {
                wanted.push(binding);
            }
        }
    }
    let existing: BTreeSet<Binding> = bindings(source, outline, true).into_iter().collect();
    let mut notes = Vec::new();
    let (dropped, new): (Vec<Binding>, Vec<Binding>) =
        wanted.into_iter().partition(|b| existing.contains(b));
    for binding in &dropped {
        notes.push(format!("already imported: `{}`", binding.statement()));
    }
    let (future, others): (Vec<Binding>, Vec<Binding>) = new
        .into_iter()
        .partition(|b| matches!(b, Binding::From { module, .. } if module == "__future__"));
    let ending = LineEnding::detect(source)
        .unwrap_or(LineEnding::Lf)
        .as_str();
    let mut text = source.to_owned();
    // Others first (they go further down), so the future position computed below stays valid.
    if !others.is_empty() {
        let lines = statements(&others);
        let block = outline
            .symbols
            .iter()
            .find(|s| s.kind == SymbolKind::ImportBlock);
        match block {
            Some(block) => {
                let insert = lines
                    .iter()
                    .map(|l| format!("{ending}{l}"))
                    .collect::<String>();
                text.insert_str(block.end_byte, &insert);
            }
            None => {
                let at = head_end(source, outline);
                insert_block(&mut text, at, &lines, ending);
            }
        }
        notes.push(format!("added: {}", lines.join("; ")));
    }
    if !future.is_empty() {
        let lines = statements(&future);
        let last_future = outline
            .imports
            .iter()
            .filter(|i| i.module == "__future__")
            .map(|i| i.line)
            .max();
        match last_future {
            Some(line) => {
                let at = end_of_line(source, line);
                let insert = lines
                    .iter()
                    .map(|l| format!("{ending}{l}"))
                    .collect::<String>();
                text.insert_str(at, &insert);
            }
            None => {
                let at = head_end(source, outline);
                insert_block(&mut text, at, &lines, ending);
            }
        }
        notes.push(format!("added: {}", lines.join("; ")));
    }
    Ok(Merged { text, notes })
}

/// One statement per module for plain imports; one `from` statement per module with its
/// names joined.
fn statements(bindings: &[Binding]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut from: Vec<(String, Vec<String>)> = Vec::new();
    for binding in bindings {
        match binding {
            Binding::Module(module) => out.push(format!("import {module}")),
            Binding::From { module, name } => match from.iter_mut().find(|(m, _)| m == module) {
                Some((_, names)) => names.push(name.clone()),
                None => from.push((module.clone(), vec![name.clone()])),
            },
        }
    }
    out.extend(
        from.into_iter()
            .map(|(module, names)| format!("from {module} import {}", names.join(", "))),
    );
    out
}

/// Inserts `lines` as a block of their own at `at` (a line start, or the end of the docstring
/// line), separated from what follows by a blank line.
fn insert_block(text: &mut String, at: usize, lines: &[String], ending: &str) {
    let body: String = lines.iter().map(|l| format!("{l}{ending}")).collect();
    if at > 0 && text.as_bytes().get(at - 1) != Some(&b'\n') {
        // Right after the docstring's last line.
        text.insert_str(
            at,
            &format!("{ending}{ending}{}", body.trim_end_matches(ending)),
        );
    } else {
        let rest_is_blank = text[at..].starts_with(ending) || text.len() == at;
        let separator = if rest_is_blank { "" } else { ending };
        text.insert_str(at, &format!("{body}{separator}"));
    }
}

/// Where the module's head ends: after the docstring, or else at the start of the first
/// statement (after the shebang, encoding line and license comments).
fn head_end(source: &str, outline: &Outline) -> usize {
    if let Some(doc) = outline.symbols.iter().find(|s| s.name == "<docstring>") {
        return doc.end_byte;
    }
    let first = outline.symbols.iter().min_by_key(|s| s.start_byte);
    match first {
        // The statement's own first line (its leading comments stay above the imports).
        Some(symbol) => source[symbol.start_byte..symbol.end_byte]
            .split_inclusive('\n')
            .scan(symbol.start_byte, |pos, line| {
                let start = *pos;
                *pos += line.len();
                Some((start, line))
            })
            .find(|(_, line)| !line.trim_start().starts_with('#'))
            .map_or(symbol.start_byte, |(start, _)| start),
        None => source.len(),
    }
}

/// The byte offset of the end of line `line` (1-based), line break excluded.
fn end_of_line(source: &str, line: usize) -> usize {
    let mut start = 0;
    for _ in 1..line {
        match source[start..].find('\n') {
            Some(p) => start += p + 1,
            None => return source.len(),
        }
    }
    let end = source[start..]
        .find('\n')
        .map_or(source.len(), |p| start + p);
    if end > start && source.as_bytes()[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}
