//! A model's code snippet, taken apart so that it can be checked at column 0 and put back at the
//! target's indentation, in the file's indent style and line endings.
//!
//! Lines that start inside a multi-line string are never touched, and neither are lines that do
//! not start with the snippet's base indentation (a comment at column 0 inside a method, a
//! continuation line inside brackets). So a symbol's own text, put back at its own level, is
//! byte-identical.

use crate::style::{IndentStyle, LineEnding, leading_whitespace};
use noctune_core::lines::{LineKind, classify};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    /// Whitespace only, kept as it is.
    Blank(String),
    /// Kept exactly (inside a string, or not under the base indentation).
    Verbatim(String),
    /// Under the base indentation: the whitespace past the base, and the rest.
    Indented {
        rel: String,
        content: String,
        /// Inside a string's continuation, brackets or not: levels may be converted.
        convertible: bool,
    },
}

/// A snippet, dedented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snippet {
    lines: Vec<(Line, bool)>,
    /// The indentation the snippet came with (of its first code line).
    pub(crate) base: String,
    /// The snippet's own indent style, when it shows one.
    pub(crate) style: Option<IndentStyle>,
    /// `Some` when every line break of the snippet is the same.
    pub(crate) ending: Option<LineEnding>,
}

impl Snippet {
    /// Takes `code` apart: leading and trailing blank lines dropped, the base indentation (that of
    /// the first line of code) removed from every line that starts with it.
    pub(crate) fn parse(code: &str) -> Self {
        let ending = if LineEnding::CrLf.is_uniform_in(code) && code.contains('\n') {
            Some(LineEnding::CrLf)
        } else if LineEnding::Lf.is_uniform_in(code) {
            Some(LineEnding::Lf)
        } else {
            None
        };
        let normalized = code.replace("\r\n", "\n");
        let kinds = classify(&normalized);
        // Each line with whether it ended with "\r\n" in the original.
        let mut raw: Vec<(&str, bool, LineKind)> = Vec::new();
        let mut rest = code;
        let mut kinds = kinds.into_iter();
        loop {
            let kind = kinds.next().unwrap_or(LineKind::Code);
            match rest.find('\n') {
                Some(pos) => {
                    let line = &rest[..pos];
                    let (line, cr) = match line.strip_suffix('\r') {
                        Some(l) => (l, true),
                        None => (line, false),
                    };
                    raw.push((line, cr, kind));
                    rest = &rest[pos + 1..];
                }
                None => {
                    raw.push((rest, false, kind));
                    break;
                }
            }
        }
        // Drop blank lines at both ends (a string's content is never blank here: the first line
        // of a snippet cannot start inside a string).
        while raw
            .last()
            .is_some_and(|(l, _, k)| *k != LineKind::InString && l.trim().is_empty())
        {
            raw.pop();
        }
        let skip = raw
            .iter()
            .take_while(|(l, _, k)| *k != LineKind::InString && l.trim().is_empty())
            .count();
        raw.drain(..skip);
        let base = raw
            .iter()
            .find(|(_, _, k)| *k == LineKind::Code)
            .or_else(|| raw.iter().find(|(l, _, _)| !l.trim().is_empty()))
            .map(|(l, _, _)| leading_whitespace(l).to_owned())
            .unwrap_or_default();
        let last = raw.len().saturating_sub(1);
        let lines: Vec<(Line, bool)> = raw
            .iter()
            .enumerate()
            .map(|(i, (line, cr, kind))| {
                // The last line's break is not part of the snippet.
                let cr = *cr && i != last;
                let line = match kind {
                    LineKind::InString => Line::Verbatim((*line).to_owned()),
                    LineKind::Blank => Line::Blank((*line).to_owned()),
                    _ => match line.strip_prefix(base.as_str()) {
                        Some(rest) => {
                            let rel = leading_whitespace(rest);
                            Line::Indented {
                                rel: rel.to_owned(),
                                content: rest[rel.len()..].to_owned(),
                                convertible: *kind != LineKind::Continuation,
                            }
                        }
                        None => Line::Verbatim((*line).to_owned()),
                    },
                };
                (line, cr)
            })
            .collect();
        let style = IndentStyle::detect_lines(lines.iter().filter_map(|(line, _)| match line {
            Line::Indented {
                rel,
                convertible: true,
                content,
            } if !content.starts_with('#') => Some(rel.as_str()),
            _ => None,
        }));
        Self {
            lines,
            base,
            style,
            ending,
        }
    }

    /// Whether the snippet spans more than one line.
    pub(crate) fn is_multiline(&self) -> bool {
        self.lines.len() > 1
    }

    /// Whether the snippet has no code at all.
    pub(crate) fn is_empty(&self) -> bool {
        self.lines.iter().all(|(l, _)| matches!(l, Line::Blank(_)))
    }

    /// The snippet at column 0, lines joined with `\n` (for parsing).
    pub(crate) fn dedented(&self) -> String {
        let mut out = String::new();
        for (i, (line, _)) in self.lines.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            match line {
                Line::Blank(text) | Line::Verbatim(text) => out.push_str(text),
                Line::Indented { rel, content, .. } => {
                    out.push_str(rel);
                    out.push_str(content);
                }
            }
        }
        out
    }

    /// The snippet at `target` indentation, in `style` (when both it and the snippet's own style
    /// are known and differ), with `ending` line breaks (`None`: as in the snippet).
    pub(crate) fn indent(
        &self,
        target: &str,
        style: Option<IndentStyle>,
        ending: Option<LineEnding>,
    ) -> String {
        let convert = match (self.style, style) {
            (Some(from), Some(to)) if from != to => Some((from, to)),
            _ => None,
        };
        let mut out = String::new();
        let count = self.lines.len();
        for (i, (line, cr)) in self.lines.iter().enumerate() {
            match line {
                Line::Blank(text) | Line::Verbatim(text) => out.push_str(text),
                Line::Indented {
                    rel,
                    content,
                    convertible,
                } => {
                    out.push_str(target);
                    match convert {
                        Some((from, to)) if *convertible => out.push_str(&from.convert(rel, to)),
                        _ => out.push_str(rel),
                    }
                    out.push_str(content);
                }
            }
            if i + 1 < count {
                match ending {
                    Some(ending) => out.push_str(ending.as_str()),
                    None if *cr => out.push_str("\r\n"),
                    None => out.push('\n'),
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn own_text_round_trips() {
        let text = "    # lead\n    def m(self):\n        x = '''\nraw\n  '''\n# col0\n        y = f(\n1)\n  \n        return x";
        let snippet = Snippet::parse(text);
        assert_eq!(snippet.base, "    ");
        assert_eq!(
            snippet.indent("    ", Some(IndentStyle::Spaces(4)), None),
            text
        );
        assert!(
            snippet
                .dedented()
                .starts_with("# lead\ndef m(self):\n    x = '''\nraw\n")
        );
    }

    #[test]
    fn reindents_and_converts() {
        let snippet = Snippet::parse("\n\ndef f():\n\tif x:\n\t\treturn '''\n\tkeep'''\n\n");
        assert_eq!(snippet.style, Some(IndentStyle::Tabs));
        assert_eq!(
            snippet.indent("    ", Some(IndentStyle::Spaces(4)), Some(LineEnding::CrLf)),
            "    def f():\r\n        if x:\r\n            return '''\r\n\tkeep'''"
        );
    }

    #[test]
    fn mixed_endings_are_kept() {
        let text = "def f():\r\n    a = 1\n    return a";
        let snippet = Snippet::parse(text);
        assert_eq!(snippet.ending, None);
        assert_eq!(snippet.indent("", None, None), text);
    }
}
