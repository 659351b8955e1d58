//! Byte-level helpers for lines and the texts shown in an outline.

/// The start of the line holding `pos`.
pub(crate) fn line_start(source: &[u8], pos: usize) -> usize {
    source[..pos.min(source.len())]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |p| p + 1)
}

/// The end of the line holding the byte before `pos` (a node that ends with its line break
/// belongs to that line), line break excluded.
pub(crate) fn line_end(source: &[u8], pos: usize) -> usize {
    let mut pos = pos.min(source.len());
    if pos > 0 && source[pos - 1] == b'\n' {
        pos -= 1;
        if pos > 0 && source[pos - 1] == b'\r' {
            pos -= 1;
        }
        return pos;
    }
    let end = source[pos..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(source.len(), |p| pos + p);
    if end > pos && source[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

/// Joins a multi-line header into one line: every run of whitespace holding a line break
/// becomes one space (none right after an opening or before a closing bracket).
pub(crate) fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\n'
            || c == '\r'
            || (c.is_whitespace() && chars.peek().is_some_and(|n| *n == '\n' || *n == '\r'))
        {
            // Swallow the whole run, then decide on one space.
            let trailing: String = out
                .chars()
                .rev()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            out.truncate(out.len() - trailing.len());
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let after_open = out.ends_with(['(', '[', '{']);
            let before_close = chars.peek().is_some_and(|c| matches!(c, ')' | ']' | '}'));
            if !after_open && !before_close && !out.is_empty() {
                out.push(' ');
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// The first non-empty line of a string literal's text (prefix and quotes removed).
pub(crate) fn docstring_first_line(literal: &str) -> Option<String> {
    let text = literal.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let text = ["\"\"\"", "'''", "\"", "'"]
        .iter()
        .find_map(|q| text.strip_prefix(q))
        .unwrap_or(text);
    let text = ["\"\"\"", "'''", "\"", "'"]
        .iter()
        .find_map(|q| text.strip_suffix(q))
        .unwrap_or(text);
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let src = b"a\r\nbc\nd";
        assert_eq!(line_start(src, 4), 3);
        assert_eq!(line_end(src, 0), 1);
        assert_eq!(line_end(src, 3), 1);
        assert_eq!(line_end(src, 4), 5);
        assert_eq!(line_end(src, 6), 5);
        assert_eq!(line_end(src, 7), 7);
    }

    #[test]
    fn headers_and_docstrings() {
        assert_eq!(
            collapse_whitespace("def f(\n    a: int,\n    b=2,\n) -> None:"),
            "def f(a: int, b=2,) -> None:"
        );
        assert_eq!(
            docstring_first_line("r\"\"\"\n   First line.\n\n   More.\n   \"\"\""),
            Some("First line.".to_owned())
        );
        assert_eq!(docstring_first_line("''"), None);
    }
}
