//! Editing a window of lines of a definition too large to rewrite whole.
//!
//! A small model answers within `max_tokens`: a 95-line function cannot come back whole, so a
//! `== None` inside it could never be fixed. The plan gives such a definition a [`Window`]
//! around its findings; the edit shows the model only those lines (dedented), and puts its
//! answer back in their place (at their indentation) to make the new definition, which then
//! goes through the same ops, gates and proofs as any other edit.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::indent::dedent;
use crate::lines::LineKind;
use crate::symbol::Symbol;

/// Lines of a definition, as 0-based offsets from its first line (decorators included),
/// inclusive: what an edit rewrites of a definition too large to rewrite whole. Offsets stay
/// true while other definitions are edited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Window {
    /// The first line rewritten.
    pub first: usize,
    /// The last line rewritten.
    pub last: usize,
}

/// The most lines a window holds around its findings: enough for a few findings close
/// together, few enough for a small model to copy the rest exactly. A statement the last
/// finding starts is taken whole beyond it.
pub const MAX_WINDOW_LINES: usize = 8;

impl Window {
    /// The window of `def` around the findings on `finding_lines` (1-based, of the file whose
    /// `lines` and line `kinds` are given): from the first finding's line through the last one
    /// within [`MAX_WINDOW_LINES`], then on to the end of the statement there, and one line
    /// more after a block's header (shown alone, a small model writes it a body).
    pub fn around(
        def: &Symbol,
        lines: &[&str],
        kinds: &[LineKind],
        finding_lines: &[usize],
    ) -> Window {
        let first = finding_lines
            .iter()
            .copied()
            .min()
            .unwrap_or(def.start_line);
        let mut last = finding_lines
            .iter()
            .copied()
            .filter(|&l| l < first + MAX_WINDOW_LINES)
            .max()
            .unwrap_or(first);
        let continues = |line: usize| {
            matches!(
                kinds.get(line - 1),
                Some(LineKind::Continuation | LineKind::InString)
            )
        };
        let header = |line: usize| {
            lines
                .get(line - 1)
                .is_some_and(|l| l.split('#').next().unwrap_or("").trim_end().ends_with(':'))
        };
        while last < def.end_line && continues(last + 1) {
            last += 1;
        }
        if last < def.end_line && header(last) {
            last += 1;
        }
        Window {
            first: first.saturating_sub(def.start_line),
            last: last.saturating_sub(def.start_line),
        }
    }
}

/// A definition cut around a window: what the model is shown, and what goes around its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowText {
    /// The window's lines, dedented: what the model is shown and rewrites.
    pub shown: String,
    /// The definition's lines before the window (from the start of its first line).
    before: String,
    /// The definition's lines after the window.
    after: String,
    /// The window's common indentation, given back to the answer's lines.
    indent: String,
    /// The window's first and last line in the file, 1-based.
    lines: (usize, usize),
}

impl WindowText {
    /// Cuts `symbol` of `work` around `window`; `None` when the window is not inside it.
    pub fn cut(work: &str, symbol: &Symbol, window: Window) -> Option<Self> {
        let first = symbol.start_line + window.first;
        let last = symbol.start_line + window.last;
        if window.first > window.last || last > symbol.end_line {
            return None;
        }
        let lines: Vec<&str> = work.split_inclusive('\n').collect();
        let slice = |from: usize, to: usize| -> String { lines[from - 1..to].concat() };
        if symbol.end_line > lines.len() {
            return None;
        }
        let mut inside = slice(first, last);
        if !inside.ends_with('\n') {
            inside.push('\n');
        }
        let shown = dedent(&inside);
        let indent = inside
            .lines()
            .zip(shown.lines())
            .find(|(_, dedented)| !dedented.trim().is_empty())
            .map(|(line, dedented)| line[..line.len() - dedented.len()].to_owned())
            .unwrap_or_default();
        Some(Self {
            shown,
            before: slice(symbol.start_line, first - 1),
            after: slice(last + 1, symbol.end_line),
            indent,
            lines: (first, last),
        })
    }

    /// How the prompt names the window: `lines 54–63 of build_report`.
    pub fn name(&self, symbol: &Symbol) -> String {
        format!("lines {}–{} of {}", self.lines.0, self.lines.1, symbol.name)
    }

    /// Whether the model answered with the whole definition instead of the window (then the
    /// answer is taken as any other rewrite of the definition).
    pub fn is_whole_definition(&self, symbol: &Symbol, answer: &str) -> bool {
        let short = symbol.short_name();
        dedent(answer).lines().any(|line| {
            let line = line.trim_start();
            line.starts_with(&format!("def {short}("))
                || line.starts_with(&format!("async def {short}("))
        })
    }

    /// The definition with `answer` in the window's place, at the window's indentation,
    /// dedented as a whole (a top-level definition, as a model's rewrite of it would be).
    pub fn put_back(&self, answer: &str) -> String {
        let mut text = self.before.clone();
        for line in dedent(answer.trim_end_matches('\n')).lines() {
            if !line.trim().is_empty() {
                text.push_str(&self.indent);
                text.push_str(line);
            }
            text.push('\n');
        }
        text.push_str(&self.after);
        dedent(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbol::SymbolKind;

    const FILE: &str = "class Report:\n    def build(self, rows):\n        total = 0\n        for row in rows:\n            if row == None:\n                continue\n            total += row\n        return total\n";

    fn build() -> Symbol {
        let start = FILE.find("    def build").unwrap();
        Symbol {
            name: "Report.build".into(),
            kind: SymbolKind::Method,
            start_byte: start + 4,
            end_byte: FILE.len() - 1,
            start_line: 2,
            end_line: 8,
            signature: None,
            docstring: None,
        }
    }

    #[test]
    fn the_window_is_shown_dedented_and_the_answer_goes_back_at_its_indentation() {
        let text = WindowText::cut(FILE, &build(), Window { first: 3, last: 4 }).unwrap();
        assert_eq!(text.shown, "if row == None:\n    continue\n");
        assert_eq!(text.name(&build()), "lines 5–6 of Report.build");
        assert_eq!(
            text.put_back("if row is None:\n    continue\n"),
            "def build(self, rows):\n    total = 0\n    for row in rows:\n        if row is None:\n            continue\n        total += row\n    return total\n"
        );
        assert!(!text.is_whole_definition(&build(), "if row is None:\n    continue"));
        assert!(text.is_whole_definition(&build(), "def build(self, rows):\n    return 0"));
    }

    #[test]
    fn a_window_outside_the_definition_is_refused() {
        assert_eq!(
            WindowText::cut(FILE, &build(), Window { first: 5, last: 7 }),
            None
        );
        assert_eq!(
            WindowText::cut(FILE, &build(), Window { first: 4, last: 3 }),
            None
        );
    }
}
