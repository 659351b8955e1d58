//! A file's layout conventions: byte-order mark, line endings, indentation style.

use noctune_core::lines::{LineKind, classify};

/// The UTF-8 byte-order mark.
pub const BOM: &str = "\u{feff}";

/// How lines end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    /// `\n`.
    Lf,
    /// `\r\n`.
    CrLf,
}

impl LineEnding {
    /// The dominant line ending of `text`: `None` when it has no line break, and when `\n` and
    /// `\r\n` are mixed the more frequent one.
    pub fn detect(text: &str) -> Option<Self> {
        let lf = text.matches('\n').count();
        if lf == 0 {
            return None;
        }
        let crlf = text.matches("\r\n").count();
        Some(if crlf * 2 > lf {
            LineEnding::CrLf
        } else {
            LineEnding::Lf
        })
    }

    /// Whether every line break of `text` is this one (vacuously true without breaks).
    pub fn is_uniform_in(self, text: &str) -> bool {
        let lf = text.matches('\n').count();
        let crlf = text.matches("\r\n").count();
        match self {
            LineEnding::Lf => crlf == 0,
            LineEnding::CrLf => crlf == lf,
        }
    }

    /// The bytes of the line break.
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
        }
    }
}

/// How code is indented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndentStyle {
    /// One tab per level.
    Tabs,
    /// This many spaces per level.
    Spaces(usize),
}

impl IndentStyle {
    /// The style of `text`, from the indentation steps between consecutive logical lines:
    /// `None` when no line is indented deeper than the one before it.
    pub fn detect(text: &str) -> Option<Self> {
        let kinds = classify(text);
        Self::detect_lines(
            text.split('\n')
                .zip(kinds)
                .filter(|(_, kind)| *kind == LineKind::Code)
                .map(|(line, _)| leading_whitespace(line)),
        )
    }

    /// The style shown by the leading whitespace of consecutive logical lines of code.
    pub(crate) fn detect_lines<'a>(indents: impl Iterator<Item = &'a str>) -> Option<Self> {
        let mut tabs = 0usize;
        let mut space_steps: Vec<(usize, usize)> = Vec::new();
        let mut previous: Option<usize> = None;
        for ws in indents {
            if ws.starts_with('\t') {
                tabs += 1;
                previous = None;
                continue;
            }
            let width = ws.len();
            if let Some(prev) = previous
                && width > prev
            {
                let step = width - prev;
                match space_steps.iter_mut().find(|(s, _)| *s == step) {
                    Some((_, count)) => *count += 1,
                    None => space_steps.push((step, 1)),
                }
            }
            previous = Some(width);
        }
        let spaces: usize = space_steps.iter().map(|(_, c)| c).sum();
        if tabs > 0 && tabs >= spaces {
            return Some(IndentStyle::Tabs);
        }
        space_steps
            .iter()
            .max_by_key(|(step, count)| (*count, std::cmp::Reverse(*step)))
            .map(|(step, _)| IndentStyle::Spaces(*step))
    }

    /// Rewrites the leading whitespace `ws` (written in `self`) in style `to`: whole levels are
    /// converted, leftover spaces kept.
    pub fn convert(self, ws: &str, to: IndentStyle) -> String {
        if self == to {
            return ws.to_owned();
        }
        let (levels, rest) = match self {
            IndentStyle::Tabs => {
                let tabs = ws.chars().take_while(|c| *c == '\t').count();
                (tabs, ws.len() - tabs)
            }
            IndentStyle::Spaces(width) => {
                let width = width.max(1);
                let tabs = ws.chars().filter(|c| *c == '\t').count();
                let spaces = ws.len() - tabs;
                (tabs + spaces / width, spaces % width)
            }
        };
        match to {
            IndentStyle::Tabs => format!("{}{}", "\t".repeat(levels), " ".repeat(rest)),
            IndentStyle::Spaces(width) => " ".repeat(levels * width + rest),
        }
    }
}

/// The leading spaces, tabs and form feeds of `line`.
pub fn leading_whitespace(line: &str) -> &str {
    let end = line
        .find(|c: char| !matches!(c, ' ' | '\t' | '\x0c'))
        .unwrap_or(line.len());
    &line[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_endings() {
        assert_eq!(LineEnding::detect("a"), None);
        assert_eq!(LineEnding::detect("a\r\nb\r\nc\n"), Some(LineEnding::CrLf));
        assert_eq!(LineEnding::detect("a\nb\r\n"), Some(LineEnding::Lf));
        assert!(LineEnding::Lf.is_uniform_in("a\nb"));
        assert!(!LineEnding::CrLf.is_uniform_in("a\r\nb\n"));
    }

    #[test]
    fn indent_styles() {
        assert_eq!(IndentStyle::detect("x = 1\n"), None);
        assert_eq!(
            IndentStyle::detect("def f():\n  if x:\n    y = '''\n        z'''\n"),
            Some(IndentStyle::Spaces(2))
        );
        assert_eq!(
            IndentStyle::detect("def f():\n\treturn 1\n"),
            Some(IndentStyle::Tabs)
        );
        let four = IndentStyle::Spaces(4);
        assert_eq!(IndentStyle::Tabs.convert("\t\t  ", four), "          ");
        assert_eq!(four.convert("         ", IndentStyle::Tabs), "\t\t ");
        assert_eq!(four.convert("        ", IndentStyle::Spaces(2)), "    ");
    }
}
