//! [`PythonEditor`]: the [`SymbolEditor`] for Python, on tree-sitter.
//!
//! Each op is applied to the text left by the ops before it (the file is outlined again between
//! ops). An op that cannot be applied is refused with a [`RefusalReason`]; the others still
//! apply. The new code is taken apart ([`snippet`]), checked at column 0 ([`shape`]) and put
//! back at the target's indentation, in the indent style and line endings of the code it
//! replaces (or of the file), so that a symbol replaced by its own text leaves the file
//! byte-identical.

mod closest;
mod imports;
mod shape;
mod snippet;

use std::cell::OnceCell;

use noctune_core::editor::OpOutcome;
use noctune_core::{
    ApplyReport, EditOp, EditResult, Outline, RefusalReason, Symbol, SymbolEditor, SymbolKind,
};

use crate::extract;
use crate::style::{IndentStyle, LineEnding, leading_whitespace};
use shape::{Expected, describe};
use snippet::Snippet;

/// How many close names a "symbol not found" refusal offers.
const CLOSEST_NAMES: usize = 5;

/// The Python [`SymbolEditor`]: outlines with tree-sitter-python and applies edit ops.
///
/// ```
/// use noctune_core::{EditOp, SymbolEditor};
/// use noctune_index::PythonEditor;
///
/// let editor = PythonEditor::default();
/// let source = "class A:\n    def f(self):\n        return 1\n";
/// let op = EditOp::ReplaceSymbol {
///     symbol: "A.f".into(),
///     code: "def f(self):\n    return 2\n".into(),
/// };
/// let result = editor.apply(source, &[op]).unwrap();
/// assert_eq!(result.text, "class A:\n    def f(self):\n        return 2\n");
/// assert_eq!(result.report.applied(), 1);
/// ```
#[derive(Debug, Clone, Default)]
pub struct PythonEditor {
    _private: (),
}

impl PythonEditor {
    /// A new editor (it holds no state; parsers are kept per thread).
    pub fn new() -> Self {
        Self::default()
    }
}

impl SymbolEditor for PythonEditor {
    fn outline(&self, source: &str) -> noctune_core::Result<Outline> {
        Ok(extract::outline(source.as_bytes())?)
    }

    fn apply(&self, source: &str, ops: &[EditOp]) -> noctune_core::Result<EditResult> {
        let outline = extract::outline(source.as_bytes())?;
        self.apply_outlined(source, &outline, ops)
    }

    fn apply_outlined(
        &self,
        source: &str,
        outline: &Outline,
        ops: &[EditOp],
    ) -> noctune_core::Result<EditResult> {
        // The inherent method: it reuses the outline.
        PythonEditor::apply_outlined(self, source, outline, ops)
    }

    fn facts(&self, code: &str) -> noctune_core::Result<Option<noctune_core::facts::CodeFacts>> {
        Ok(crate::facts::facts(code))
    }
}

impl PythonEditor {
    /// [`SymbolEditor::apply`] for a caller that already holds the outline of `source` (it
    /// must be `outline(source)`): saves parsing the file again. The text is outlined again
    /// only after an op changed it.
    pub fn apply_outlined(
        &self,
        source: &str,
        outline: &Outline,
        ops: &[EditOp],
    ) -> noctune_core::Result<EditResult> {
        let mut text = source.to_owned();
        let mut changed: Vec<String> = Vec::new();
        let mut outcomes = Vec::with_capacity(ops.len());
        let mut current: Option<Outline> = None;
        let mut layout = Layout::default();
        let mut stale = false;
        for (index, op) in ops.iter().enumerate() {
            if stale {
                current = Some(extract::outline(text.as_bytes())?);
                layout = Layout::default();
                stale = false;
            }
            let outline = current.as_ref().unwrap_or(outline);
            let result = match op {
                EditOp::ReplaceSymbol { symbol, code } => {
                    if let Some(done) = changed.iter().find(|c| overlaps(c, symbol)) {
                        Err(RefusalReason::Conflict {
                            symbol: done.clone(),
                        })
                    } else {
                        replace(&text, outline, &layout, symbol, code).inspect(|_| {
                            changed.push(symbol.clone());
                        })
                    }
                }
                EditOp::InsertAfter { after, code } => {
                    insert_after(&text, outline, &layout, after, code).map(|(edit, name)| {
                        changed.push(name);
                        edit
                    })
                }
                EditOp::AddImports { imports } => imports::add_imports(&text, outline, imports)
                    .map(|merged| Edit {
                        text: merged.text,
                        notes: merged.notes,
                    }),
            };
            let outcome = match result {
                Ok(edit) => {
                    text = edit.text;
                    stale = true;
                    OpOutcome {
                        index,
                        target: op.target().to_owned(),
                        refused: None,
                        notes: edit.notes,
                    }
                }
                Err(reason) => {
                    tracing::debug!(index, target = op.target(), %reason, "op refused");
                    OpOutcome {
                        index,
                        target: op.target().to_owned(),
                        refused: Some(reason),
                        notes: Vec::new(),
                    }
                }
            };
            outcomes.push(outcome);
        }
        Ok(EditResult {
            text,
            report: ApplyReport { ops: outcomes },
        })
    }
}

/// The file-wide indent style and line ending, worked out once per text and only when needed.
#[derive(Debug, Default)]
struct Layout {
    style: OnceCell<Option<IndentStyle>>,
    ending: OnceCell<Option<LineEnding>>,
}

impl Layout {
    fn style(&self, text: &str) -> Option<IndentStyle> {
        *self.style.get_or_init(|| IndentStyle::detect(text))
    }

    fn ending(&self, text: &str) -> Option<LineEnding> {
        *self.ending.get_or_init(|| LineEnding::detect(text))
    }
}

/// A successful op: the new text and what was adjusted.
struct Edit {
    text: String,
    notes: Vec<String>,
}

/// Whether an op on `target` touches code an earlier op on `done` already changed.
fn overlaps(done: &str, target: &str) -> bool {
    done == target
        || target
            .strip_prefix(done)
            .is_some_and(|rest| rest.starts_with('.'))
        || done
            .strip_prefix(target)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// The one symbol named `name`, or why not.
fn find<'a>(outline: &'a Outline, name: &str) -> Result<&'a Symbol, RefusalReason> {
    let mut matches = outline.symbols.iter().filter(|s| s.name == name);
    match (matches.next(), matches.count()) {
        (Some(symbol), 0) => Ok(symbol),
        (Some(_), more) => Err(RefusalReason::AmbiguousSymbol {
            symbol: name.to_owned(),
            count: more + 1,
        }),
        (None, _) => Err(RefusalReason::SymbolNotFound {
            symbol: name.to_owned(),
            closest: closest::closest(
                name,
                outline.symbols.iter().map(|s| s.name.as_str()),
                CLOSEST_NAMES,
            ),
        }),
    }
}

fn replace(
    text: &str,
    outline: &Outline,
    layout: &Layout,
    name: &str,
    code: &str,
) -> Result<Edit, RefusalReason> {
    let symbol = find(outline, name)?;
    let expected = if symbol.kind.is_definition() {
        Expected::Definition {
            kind: symbol.kind,
            name: symbol.short_name(),
        }
    } else {
        Expected::Chunk { kind: symbol.kind }
    };
    let snippet = Snippet::parse(code);
    if snippet.is_empty() {
        return Err(RefusalReason::WrongShape {
            expected: describe(symbol.kind, &symbol.name),
            found: "no code".to_owned(),
        });
    }
    shape::check(&snippet.dedented(), &expected)?;
    let original = &text[symbol.start_byte..symbol.end_byte];
    let reference = Snippet::parse(original);
    let target = reference.base.clone();
    let style = reference.style.or_else(|| layout.style(text));
    let ending = if original.contains('\n') {
        reference.ending
    } else {
        layout.ending(text)
    };
    let (new, notes) = place(&snippet, &target, style, ending);
    let mut out = String::with_capacity(text.len() + new.len());
    out.push_str(&text[..symbol.start_byte]);
    out.push_str(&new);
    out.push_str(&text[symbol.end_byte..]);
    Ok(Edit { text: out, notes })
}

/// Inserts a new definition after `after`; returns the edit and the new qualified name.
fn insert_after(
    text: &str,
    outline: &Outline,
    layout: &Layout,
    after: &str,
    code: &str,
) -> Result<(Edit, String), RefusalReason> {
    let anchor = find(outline, after)?;
    let parent = if anchor.kind.is_definition() {
        anchor.name.rsplit_once('.').map(|(parent, _)| parent)
    } else {
        None
    };
    let in_class = parent
        .and_then(|p| outline.symbol(p))
        .is_some_and(|p| p.kind == SymbolKind::Class);
    let snippet = Snippet::parse(code);
    if snippet.is_empty() {
        return Err(RefusalReason::WrongShape {
            expected: "one `def` or `class`".to_owned(),
            found: "no code".to_owned(),
        });
    }
    let found = shape::check(&snippet.dedented(), &Expected::AnyDefinition { in_class })?
        .ok_or_else(|| RefusalReason::WrongShape {
            expected: "one `def` or `class`".to_owned(),
            found: "no definition".to_owned(),
        })?;
    let qualified = match parent {
        Some(parent) => format!("{parent}.{}", found.name),
        None => found.name.clone(),
    };
    if outline.symbols.iter().any(|s| s.name == qualified) {
        return Err(RefusalReason::WrongShape {
            expected: "a definition with a new name".to_owned(),
            found: format!("{} (it already exists)", describe(found.kind, &qualified)),
        });
    }
    let original = &text[anchor.start_byte..anchor.end_byte];
    let target = if anchor.kind.is_definition() {
        leading_whitespace(original).to_owned()
    } else {
        String::new()
    };
    let style = layout.style(text);
    let ending = layout.ending(text);
    let (new, notes) = place(&snippet, &target, style, ending);
    let line_break = ending.unwrap_or(LineEnding::Lf).as_str();
    let blank_lines = if target.is_empty() { 2 } else { 1 };
    let mut out = String::with_capacity(text.len() + new.len() + 8);
    out.push_str(&text[..anchor.end_byte]);
    for _ in 0..=blank_lines {
        out.push_str(line_break);
    }
    out.push_str(&new);
    out.push_str(&text[anchor.end_byte..]);
    Ok((Edit { text: out, notes }, qualified))
}

/// Puts a checked snippet at `target` indentation in `style` and `ending`; says what changed.
fn place(
    snippet: &Snippet,
    target: &str,
    style: Option<IndentStyle>,
    ending: Option<LineEnding>,
) -> (String, Vec<String>) {
    let mut notes = Vec::new();
    if snippet.base != target {
        notes.push(format!(
            "re-indented from {} to {} columns",
            width(&snippet.base),
            width(target)
        ));
    }
    if let (Some(from), Some(to)) = (snippet.style, style)
        && from != to
    {
        notes.push(format!(
            "indentation converted from {} to {}",
            style_name(from),
            style_name(to)
        ));
    }
    let force = match (snippet.ending, ending) {
        (Some(from), Some(to)) if from != to && snippet.is_multiline() => {
            notes.push(format!(
                "line endings converted to {}",
                if to == LineEnding::CrLf {
                    "\\r\\n"
                } else {
                    "\\n"
                }
            ));
            Some(to)
        }
        _ => None,
    };
    (snippet.indent(target, style, force), notes)
}

fn width(ws: &str) -> usize {
    ws.chars().map(|c| if c == '\t' { 8 } else { 1 }).sum()
}

fn style_name(style: IndentStyle) -> String {
    match style {
        IndentStyle::Tabs => "tabs".to_owned(),
        IndentStyle::Spaces(n) => format!("{n} spaces"),
    }
}

#[cfg(test)]
mod tests;
